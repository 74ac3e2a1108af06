"""Sweeps (``python -m sim -m key=a,b``): one run per job, then one summary across the jobs.

Each job is an ordinary run (its own folder and catalog entry, tagged with the sweep's id in
``runs.sweep_id``). When every job has finished, the sweep gets its own folder
``results/sweeps/<sweep id>/`` - the jobs and their swept values, the horizon summary and
paired comparison of every job in one table each, a text summary and a figure of the headline
KPIs against the swept values - written through a staging folder and registered in the
catalog's ``sweeps`` table. A sweep that stops part-way keeps the runs it completed (each is
whole) but gets no sweep folder or entry.

The national view: when ``municipality`` is among the swept keys (e.g. ``municipality=glob(*)``), the
sweep folder also gets ``national.csv``, ``national.txt`` and ``national.png`` - per municipality (and
the values of any other swept key) and scenario, the paired differences of the national headline KPIs
from the job's reference over the horizon, with 95 % intervals, the cost difference also per 1,000
children aged 0-17 (so that municipalities of different size compare), and the payback year.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..metrics.payback import payback
from ..metrics.plausible import team_check, team_warnings
from ..report.format import cell
from ..runner import Results
from ..store import ensure_catalog, new_id, write_atomic, write_row

SWEEP_DIR = "sweeps"
# headline KPIs of a sweep (horizon values): the table and the figure show these
SWEEP_KPIS = ["placed_per_1000_0_22", "new_placements", "cost_total_dkk", "cases_per_caseworker",
              "followup_on_time_share", "assessment_wait_days"]
MUNICIPALITY = "municipality"     # the swept key that gives a sweep its national view
# the national view's KPIs (paired differences over the horizon); cost also per 1,000 children aged 0-17
NATIONAL_KPIS = ["cost_total_dkk", "placed_per_1000_0_22", "new_placements", "cases_per_caseworker",
                 "followup_on_time_share"]
COST_PER_1000 = "cost_total_dkk_per_1000_children"
PER_1000 = 1000
PAYBACK = ["paid_back_by_year_95pct", "paid_back_by_year_mean"]

def swept_keys(jobs: list[list[str]]) -> list[str]:
    """Keys whose value differs between jobs (jobs are lists of 'key=value', same keys in the same order)."""
    keys = []
    for i, first in enumerate(jobs[0]):
        if len({job[i] for job in jobs}) > 1:
            keys.append(first.split("=", 1)[0])
    return keys


def new_sweep_id(jobs: list[list[str]]) -> str:
    """A new id for a sweep of these jobs: '<yyyymmdd-hhmmss>-sweep-<6 hex>'."""
    return new_id("sweep", jobs, _dt.datetime.now())


def _job_facts(res) -> tuple[dict, pd.DataFrame]:
    """What the national view needs of a finished job: its municipality's label and children aged 0-17 and its
    horizon (from its plan, else from its run folder's config.yaml), and its cumulative paired cost difference by
    horizon year (sim.metrics.payback, else its run folder's payback.parquet; empty without compared scenarios)."""
    plan, folder = getattr(res, "plan", None), getattr(res, "run_dir", None)
    folder = None if folder is None else Path(folder)
    if plan is not None:
        cfg = plan.arms[res.reference]
        facts = {"municipality_label": cfg.municipality.label, "children_0_17": cfg.municipality.children_0_17,
                 "horizon_years": cfg.run.horizon_years}
    else:
        tree = yaml.safe_load((folder / "config.yaml").read_text()) if folder and (folder / "config.yaml").is_file() else {}
        m = tree.get("municipality", {})
        facts = {"municipality_label": m.get("label"), "children_0_17": m.get("children_0_17", np.nan),
                 "horizon_years": tree.get("run", {}).get("horizon_years", np.nan)}
    if hasattr(res, "kpis"):
        paid = payback(res)
    elif folder is not None and (folder / "payback.parquet").is_file():
        paid = pd.read_parquet(folder / "payback.parquet")
    else:
        paid = pd.DataFrame(columns=["scenario", "year", "cum_cost_diff_dkk", "ci_low", "ci_high"])
    return facts, paid


def paid_back_by(paid: pd.DataFrame) -> pd.DataFrame:
    """From a payback table (sim.metrics.payback, with a ``job`` column): per job and scenario, the first horizon
    year by which the cumulative cost difference is below 0 with 95 % confidence (its interval's high end) and
    in the mean, as ``sim.metrics.payback.payback_years`` reads it (<NA> = not within the horizon)."""
    rows = []
    for (job, sc), g in paid.sort_values("year").groupby(["job", "scenario"], sort=False):
        sure, likely = g[g.ci_high < 0], g[g.cum_cost_diff_dkk < 0]
        rows.append((job, sc, int(sure.year.iloc[0]) if len(sure) else pd.NA,
                     int(likely.year.iloc[0]) if len(likely) else pd.NA))
    return pd.DataFrame(rows, columns=["job", "scenario"] + PAYBACK).astype({c: "Int64" for c in PAYBACK})


@dataclass
class Sweep:
    """The jobs of a sweep as they finish, and the tables across them."""

    sweep_id: str
    keys: list[str]
    rows: list = field(default_factory=list)          # one dict per job
    summaries: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)
    paybacks: list = field(default_factory=list)      # the national view: each job's payback table
    sizes: list = field(default_factory=list)         # the national view: each job's municipality and horizon
    teams: list = field(default_factory=list)         # each job's team check (sim.metrics.plausible)

    def add(self, job: list[str], res: Results) -> None:
        """Record a finished job (its overrides and run): a row of ``jobs``, and its horizon summary and
        comparison tagged with the job number and swept values."""
        n = len(self.rows) + 1
        values = dict(o.split("=", 1) for o in job if "=" in o)
        row = {"job": n, "label": ", ".join(f"{k}={values[k]}" for k in self.keys) or f"job {n}",
               **{k: values[k] for k in self.keys}, "run_id": res.run_id,
               "run_dir": None if res.run_dir is None else str(res.run_dir), "overrides": " ".join(job)}
        self.rows.append(row)
        tag = {"job": n, **{k: values[k] for k in self.keys}}
        self.summaries.append(res.summary[res.summary.period == "horizon"].assign(**tag))
        self.teams.append(team_check(res).assign(**tag))
        if not res.comparison.empty:
            self.comparisons.append(res.comparison[res.comparison.period == "horizon"].assign(**tag))
        if MUNICIPALITY in self.keys:
            facts, paid = _job_facts(res)
            self.sizes.append({"job": n, **facts})
            self.paybacks.append(paid.assign(job=n))

    @property
    def jobs(self) -> pd.DataFrame:
        """One row per job: number, label, swept values, run id and folder, overrides."""
        return pd.DataFrame(self.rows)

    @property
    def summary(self) -> pd.DataFrame:
        """The horizon summary of every job, tagged with the job and its swept values (empty before any job)."""
        return pd.concat(self.summaries, ignore_index=True) if self.summaries else pd.DataFrame()

    @property
    def team(self) -> pd.DataFrame:
        """The team check of every job (team_check.csv), tagged likewise (empty before any job)."""
        return pd.concat(self.teams, ignore_index=True) if self.teams else pd.DataFrame()

    def team_lines(self) -> list[str]:
        """A warning per job whose team does not fit its municipality, naming the job by its swept values."""
        labels = {r["job"]: r["label"] for r in self.rows}
        return [f"{labels[job]}: {line}" for job, check in self.team.groupby("job", sort=True)
                for line in team_warnings(check)] if self.teams else []

    @property
    def comparison(self) -> pd.DataFrame:
        """The horizon paired comparison of every job that compared scenarios, tagged likewise (else empty)."""
        return pd.concat(self.comparisons, ignore_index=True) if self.comparisons else pd.DataFrame()


def _headline(sw: Sweep, df: pd.DataFrame) -> pd.DataFrame:
    """Rows of the sweep's headline KPIs, labelled with their job."""
    return df[df.kpi.isin(SWEEP_KPIS)].merge(sw.jobs[["job", "label"]], on="job")


def _by_job(sw: Sweep, df: pd.DataFrame, mean: str, lo: str, hi: str) -> str:
    """Text table: one row per (job, scenario), one column per headline KPI, 'mean [lo, hi]'."""
    d = _headline(sw, df)
    cells = [cell(m, a, b) for m, a, b in zip(d[mean], d[lo], d[hi])]      # the ends on the mean's scale
    t = d.assign(cell=cells).pivot(index=["job", "label", "scenario"], columns="kpi", values="cell")
    return t.reindex(columns=[k for k in SWEEP_KPIS if k in t.columns]).droplevel("job").to_string()


def sweep_text(sw: Sweep) -> str:
    """The sweep's text summary (summary.txt): the headline KPIs by job and scenario, mean [95 % interval]
    over the horizon, the paired differences when scenarios were compared, and the national view when
    ``municipality`` is swept."""
    lines = [f"Sweep {sw.sweep_id}: {len(sw.rows)} jobs over {', '.join(sw.keys) or '(no key varies)'}",
             "Mean [95 % interval] over the horizon, by job and scenario",
             _by_job(sw, sw.summary, "mean", "ci_low", "ci_high")]
    lines += sw.team_lines()                    # jobs whose team does not fit the municipality
    if not sw.comparison.empty:
        lines += ["", "Paired difference from each job's reference, over the horizon",
                  _by_job(sw, sw.comparison, "diff_mean", "diff_ci_low", "diff_ci_high")]
    if MUNICIPALITY in sw.keys:
        lines += ["", national_text(sw).rstrip("\n")]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the national view

def national_columns(keys: list[str]) -> list[str]:
    """The columns of ``national.csv`` for a sweep over ``keys`` (municipality first)."""
    others = [k for k in keys if k != MUNICIPALITY]
    diffs = [f"{k}_diff{s}" for k in [COST_PER_1000] + NATIONAL_KPIS for s in ("", "_ci_low", "_ci_high")]
    return ([MUNICIPALITY] + others + ["municipality_label", "scenario", "reference", "children_0_17", "horizon_years",
                                       "n"] + diffs + PAYBACK + ["job", "run_id"])


def _national_row(sw: Sweep, job: int, scenario: str, g: pd.DataFrame, size: dict, paid: dict) -> dict:
    """One row of the national view: a job's comparison of one scenario (``g``: its rows by KPI)."""
    row = {k: sw.rows[job - 1][k] for k in sw.keys}
    row.update({"municipality_label": size["municipality_label"], "scenario": scenario,
                "reference": g["reference"].iloc[0], "children_0_17": size["children_0_17"],
                "horizon_years": size["horizon_years"], "n": int(g["n"].max())})
    for kpi in NATIONAL_KPIS:
        d = g.loc[kpi] if kpi in g.index else {}
        for s, col in (("", "diff_mean"), ("_ci_low", "diff_ci_low"), ("_ci_high", "diff_ci_high")):
            row[f"{kpi}_diff{s}"] = float(d[col]) if col in d else np.nan
    per = PER_1000 / size["children_0_17"]          # the cost difference per 1,000 children aged 0-17
    for s in ("", "_ci_low", "_ci_high"):
        row[f"{COST_PER_1000}_diff{s}"] = row[f"cost_total_dkk_diff{s}"] * per
    row.update({c: paid.get(c, pd.NA) for c in PAYBACK})
    row.update({"job": job, "run_id": sw.rows[job - 1]["run_id"]})
    return row


def national_table(sw: Sweep) -> pd.DataFrame:
    """The national view (``national.csv``): one row per municipality (and value of every other swept key) and
    compared scenario - the paired differences from the job's reference over the horizon (mean, 95 % interval)
    of NATIONAL_KPIS, the cost difference per 1,000 children aged 0-17 (the municipality's children at the
    horizon start), and the first horizon year by which the scenario has paid back (95 %, mean; <NA> = not
    within the horizon). Empty (with its columns) unless ``municipality`` is swept and scenarios were compared."""
    cols = national_columns(sw.keys)
    if MUNICIPALITY not in sw.keys or sw.comparison.empty:
        return pd.DataFrame(columns=cols)
    sizes = {s["job"]: s for s in sw.sizes}
    paid = paid_back_by(pd.concat(sw.paybacks, ignore_index=True)).set_index(["job", "scenario"])
    rows = []
    c = sw.comparison[sw.comparison.kpi.isin(NATIONAL_KPIS)]
    for (job, scenario), g in c.groupby(["job", "scenario"], sort=False):
        p = paid.loc[(job, scenario)].to_dict() if (job, scenario) in paid.index else {}
        rows.append(_national_row(sw, int(job), scenario, g.set_index("kpi"), sizes[job], p))
    df = pd.DataFrame(rows, columns=cols)
    for col in PAYBACK:
        df[col] = df[col].astype("Int64")       # whole years; <NA> = not within the horizon
    return df.sort_values(MUNICIPALITY, kind="stable").reset_index(drop=True)


def _cells(t: pd.DataFrame, kpi: str) -> list[str]:
    """'mean [low, high]' of a KPI's difference in every row of the national table."""
    return [cell(m, a, b) for m, a, b in                 # the ends on the mean's scale: -0.98M [-2.2M, 0.3M]
            zip(t[f"{kpi}_diff"], t[f"{kpi}_diff_ci_low"], t[f"{kpi}_diff_ci_high"])]


def national_text(sw: Sweep, t: pd.DataFrame | None = None) -> str:
    """The national view as text (``national.txt``): a table of the cost differences (total, per 1,000 children
    aged 0-17, payback year) and one of the other KPIs, by municipality (and other swept key) and scenario."""
    t = national_table(sw) if t is None else t
    if t.empty:
        return (f"National view of sweep {sw.sweep_id}: no scenario was compared with the reference (compare=[]), "
                f"so there are no paired differences\n")
    others = [k for k in sw.keys if k != MUNICIPALITY]
    index = [MUNICIPALITY] + others + ["scenario"]
    years = sorted({int(y) for y in t.horizon_years.dropna()})
    over = f"the {years[0]}-year horizon" if len(years) == 1 else "the horizon"
    paid = [f"{'-' if pd.isna(a) else int(a)} ({'-' if pd.isna(b) else int(b)})"
            for a, b in zip(t[PAYBACK[0]], t[PAYBACK[1]])]
    cost = t[index].assign(**{"cost per 1,000 children 0-17 (DKK)": _cells(t, COST_PER_1000),
                              "cost (DKK)": _cells(t, "cost_total_dkk"), "paid back by year, 95 % (mean)": paid})
    rest = t[index].assign(**{k: _cells(t, k) for k in NATIONAL_KPIS[1:]})
    refs = ", ".join(dict.fromkeys(t.reference))
    lines = [f"National view of sweep {sw.sweep_id}: {t[MUNICIPALITY].nunique()} municipalities x "
             f"{t.scenario.nunique()} scenario(s)" + (f", by {', '.join(others)} too" if others else ""),
             f"Paired difference from the reference ({refs}) over {over}, mean [95 % interval]; scenario - reference",
             "", "Cost over the horizon; per 1,000 children aged 0-17 at the horizon start; paid back by year: the "
             "first horizon year by which the cumulative cost difference is below 0 with 95 % confidence (in the "
             "mean), - = not within the horizon",
             cost.set_index(index).to_string(), "", "Children and casework",
             rest.set_index(index).to_string()]
    return "\n".join(lines) + "\n"


def plot_national(sw: Sweep, t: pd.DataFrame | None = None, path: Path | None = None):
    """The national view as one figure: one row per municipality (and other swept key), one colour per scenario;
    dot and 95 % interval of the cost difference per 1,000 children aged 0-17 over the horizon (left) and of
    the difference in placed per 1,000 aged 0-22 (right)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from ..report.plots import save_figure      # matplotlib: imported only when a figure is drawn

    t = national_table(sw) if t is None else t
    others = [k for k in sw.keys if k != MUNICIPALITY]
    group = [MUNICIPALITY] + others
    names = list(dict.fromkeys(tuple(r) for r in t[group].astype(str).itertuples(index=False)))
    scenarios = list(dict.fromkeys(t.scenario))
    label = dict(zip(t[MUNICIPALITY].astype(str), t.municipality_label.fillna(t[MUNICIPALITY]).astype(str)))
    ticks = [label[g[0]] + "".join(f", {k}={v}" for k, v in zip(others, g[1:])) for g in names]
    height = 1.6 + 0.22 * len(names) * max(2, len(scenarios))
    fig, axes = plt.subplots(1, 2, figsize=(11, height), sharey=True)
    step = 0.8 / max(1, len(scenarios))
    for ax, kpi, title in ((axes[0], COST_PER_1000, "cost per 1,000 children aged 0-17 (DKK)"),
                           (axes[1], "placed_per_1000_0_22", "placed per 1,000 aged 0-22")):
        for i, sc in enumerate(scenarios):
            d = t[t.scenario == sc]
            y = [names.index(tuple(r)) + (i - (len(scenarios) - 1) / 2) * step
                 for r in d[group].astype(str).itertuples(index=False)]
            m = d[f"{kpi}_diff"].to_numpy(dtype=float)
            err = [m - d[f"{kpi}_diff_ci_low"].to_numpy(dtype=float), d[f"{kpi}_diff_ci_high"].to_numpy(dtype=float) - m]
            ax.errorbar(m, y, xerr=np.nan_to_num(err), fmt="o", ms=4, capsize=2, lw=1.2, label=sc)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].xaxis.set_major_formatter(FuncFormatter(
        lambda v, _: f"{v / 1e6:,.3g}M" if abs(v) >= 1e6 else f"{v / 1e3:,.3g}k" if abs(v) >= 1e3 else f"{v:,.0f}"))
    axes[0].set_yticks(range(len(names)), ticks, fontsize=8)
    axes[0].invert_yaxis()
    axes[1].legend(fontsize=7, loc="best")
    years = sorted({int(y) for y in t.horizon_years.dropna()})
    over = f"the {years[0]}-year horizon" if len(years) == 1 else "the horizon"
    fig.suptitle(f"Scenario - reference ({', '.join(dict.fromkeys(t.reference))}) by municipality over {over}: "
                 f"mean and 95 % interval", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_sweep(sw: Sweep, path: Path | None = None):
    """Headline KPIs (mean and 95 % interval) against the swept value(s), one line per scenario."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from ..report.plots import interval_bars, save_figure      # matplotlib: imported only when a figure is drawn

    s = _headline(sw, sw.summary)
    numeric = None
    if len(sw.keys) == 1:
        x = pd.to_numeric(s[sw.keys[0]], errors="coerce")
        numeric = x if x.notna().all() else None
    s = s.assign(x=numeric if numeric is not None else s["job"])
    kpis = [k for k in SWEEP_KPIS if k in set(s.kpi)]
    ncol = 3
    nrow = (len(kpis) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    scenarios = list(dict.fromkeys(s.scenario))
    for ax, kpi in zip(axes.flat, kpis):
        d = s[s.kpi == kpi]
        for i, sc in enumerate(scenarios):
            e = d[d.scenario == sc].sort_values("x")
            offset = 0.0 if numeric is not None else (i - (len(scenarios) - 1) / 2) * 0.06
            ax.errorbar(e["x"] + offset, e["mean"], yerr=interval_bars(e["mean"], e["ci_low"], e["ci_high"]),
                        marker="o", ms=4, capsize=2, lw=1.2, label=sc)
        ax.set_title(kpi, fontsize=10)
        if kpi.endswith("_dkk"):
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:,.4g}M"))
        if numeric is None:
            labels = sw.jobs.set_index("job")["label"]
            ax.set_xticks(list(labels.index), list(labels.values), rotation=30, ha="right", fontsize=8)
        else:
            ax.set_xlabel(sw.keys[0])
    for ax in list(axes.flat)[len(kpis):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Sweep over {', '.join(sw.keys) or 'jobs'}: horizon mean and 95 % interval", y=1.01)
    fig.tight_layout()
    return save_figure(fig, path)


def write_national(sw: Sweep, d: Path, figures: bool = True) -> None:
    """The national view into folder ``d``: national.csv, national.txt and (with figures, when scenarios were
    compared) national.png."""
    t = national_table(sw)
    t.to_csv(d / "national.csv", index=False)
    (d / "national.txt").write_text(national_text(sw, t))
    if figures and not t.empty:
        plot_national(sw, t, d / "national.png")


def write_sweep(sw: Sweep, base: Path, figures: bool = True) -> Path:
    """Write results/sweeps/<sweep id>/ through a staging folder, with its catalog row (sweep.json); the
    rename registers it; a sweep over ``municipality`` also gets the national view. Returns the folder."""
    row = {"sweep_id": sw.sweep_id, "created_at": _dt.datetime.now(), "swept_keys": ",".join(sw.keys),
           "n_jobs": len(sw.rows), "run_ids": ",".join(str(r["run_id"]) for r in sw.rows),
           "sweep_dir": str(base / SWEEP_DIR / sw.sweep_id), "overrides": json.dumps([r["overrides"] for r in sw.rows])}

    def fill(d: Path) -> None:
        sw.jobs.to_csv(d / "jobs.csv", index=False)
        sw.summary.to_parquet(d / "summary.parquet", index=False)
        sw.comparison.to_parquet(d / "comparison.parquet", index=False)
        sw.team.to_csv(d / "team_check.csv", index=False)
        (d / "summary.txt").write_text(sweep_text(sw))
        if figures:
            plot_sweep(sw, d / "sweep.png")
        if MUNICIPALITY in sw.keys:
            write_national(sw, d, figures)
        write_row(d, "sweeps", row)

    final = write_atomic(base / SWEEP_DIR, sw.sweep_id, fill)
    ensure_catalog(base)
    return final
