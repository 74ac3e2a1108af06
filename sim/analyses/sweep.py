"""Sweeps (``python -m sim -m key=a,b``): one run per job, then one summary across the jobs.

Each job is an ordinary run (its own folder and catalog entry, tagged with the sweep's id in
``runs.sweep_id``). When every job has finished, the sweep gets its own folder
``results/sweeps/<sweep id>/`` - the jobs and their swept values, the horizon summary and
paired comparison of every job in one table each, a text summary and a figure of the headline
KPIs against the swept values - written through a staging folder and registered in the
catalog's ``sweeps`` table. A sweep that stops part-way keeps the runs it completed (each is
whole) but gets no sweep folder or entry.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..report.format import fmt
from ..runner import Results
from ..store import ensure_catalog, new_id, write_atomic, write_row

SWEEP_DIR = "sweeps"
# headline KPIs of a sweep (horizon values): the table and the figure show these
SWEEP_KPIS = ["placed_per_1000_0_22", "new_placements", "cost_total_dkk", "cases_per_caseworker",
              "followup_on_time_share", "assessment_wait_days"]

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


@dataclass
class Sweep:
    """The jobs of a sweep as they finish, and the tables across them."""

    sweep_id: str
    keys: list[str]
    rows: list = field(default_factory=list)          # one dict per job
    summaries: list = field(default_factory=list)
    comparisons: list = field(default_factory=list)

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
        if not res.comparison.empty:
            self.comparisons.append(res.comparison[res.comparison.period == "horizon"].assign(**tag))

    @property
    def jobs(self) -> pd.DataFrame:
        """One row per job: number, label, swept values, run id and folder, overrides."""
        return pd.DataFrame(self.rows)

    @property
    def summary(self) -> pd.DataFrame:
        """The horizon summary of every job, tagged with the job and its swept values (empty before any job)."""
        return pd.concat(self.summaries, ignore_index=True) if self.summaries else pd.DataFrame()

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
    cell = [f"{fmt(m)} [{fmt(a)}, {fmt(b)}]" for m, a, b in zip(d[mean], d[lo], d[hi])]
    t = d.assign(cell=cell).pivot(index=["job", "label", "scenario"], columns="kpi", values="cell")
    return t.reindex(columns=[k for k in SWEEP_KPIS if k in t.columns]).droplevel("job").to_string()


def sweep_text(sw: Sweep) -> str:
    """The sweep's text summary (summary.txt): the headline KPIs by job and scenario, mean [95 % interval]
    over the horizon, and the paired differences when scenarios were compared."""
    lines = [f"Sweep {sw.sweep_id}: {len(sw.rows)} jobs over {', '.join(sw.keys) or '(no key varies)'}",
             "Mean [95 % interval] over the horizon, by job and scenario",
             _by_job(sw, sw.summary, "mean", "ci_low", "ci_high")]
    if not sw.comparison.empty:
        lines += ["", "Paired difference from each job's reference, over the horizon",
                  _by_job(sw, sw.comparison, "diff_mean", "diff_ci_low", "diff_ci_high")]
    return "\n".join(lines) + "\n"


def plot_sweep(sw: Sweep, path: Path | None = None):
    """Headline KPIs (mean and 95 % interval) against the swept value(s), one line per scenario."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from ..report.plots import save_figure      # matplotlib: imported only when a figure is drawn

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
            ax.errorbar(e["x"] + offset, e["mean"], yerr=[e["mean"] - e["ci_low"], e["ci_high"] - e["mean"]],
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


def write_sweep(sw: Sweep, base: Path, figures: bool = True) -> Path:
    """Write results/sweeps/<sweep id>/ through a staging folder, with its catalog row (sweep.json); the
    rename registers it. Returns the folder."""
    row = {"sweep_id": sw.sweep_id, "created_at": _dt.datetime.now(), "swept_keys": ",".join(sw.keys),
           "n_jobs": len(sw.rows), "run_ids": ",".join(str(r["run_id"]) for r in sw.rows),
           "sweep_dir": str(base / SWEEP_DIR / sw.sweep_id), "overrides": json.dumps([r["overrides"] for r in sw.rows])}

    def fill(d: Path) -> None:
        sw.jobs.to_csv(d / "jobs.csv", index=False)
        sw.summary.to_parquet(d / "summary.parquet", index=False)
        sw.comparison.to_parquet(d / "comparison.parquet", index=False)
        (d / "summary.txt").write_text(sweep_text(sw))
        if figures:
            plot_sweep(sw, d / "sweep.png")
        write_row(d, "sweeps", row)

    final = write_atomic(base / SWEEP_DIR, sw.sweep_id, fill)
    ensure_catalog(base)
    return final
