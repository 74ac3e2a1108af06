"""One-at-a-time sensitivity of a scenario comparison (``python -m sim --sensitivity``).

The intervals of an ordinary run show simulation noise only; most parameters are assumptions. This
module answers the planner's next question: *does the conclusion hold if an assumption is wrong?*

The ``sensitivity`` group of the configuration lists parameters with a low and a high value and the
KPI to analyse (default ``cost_total_dkk``). The comparison (reference arm and the arms in
``compare``) is run once at the defaults and then once per parameter and side, with that parameter
set in every arm and in the warm-up; every run uses the same seed, so the differences between runs
are the parameter's effect, not noise (common random numbers across runs as well as across arms).
For each compared scenario it reports the paired difference of the KPI from the reference arm at the
defaults, at each low and each high value (mean and 95 % interval), the swing (high minus low) and
whether the sign of the mean difference - saving or extra cost - changes anywhere in the range.

A parameter that a scenario sets itself (e.g. the residential price under ``short_intensive_stays``,
whose intensive stays cost more) is not overwritten in that arm, which would erase the scenario's
lever: the arm gets its own value times the same factor (low / default, high / default), so "residential
care 1.0 M instead of 1.2 M" also makes the intensive stay 1/6 cheaper. The table's ``scaled_in`` says
where this happened.

Output: ``results/sensitivity/<id>/`` with ``sensitivity.csv`` (one row per scenario, parameter and
side), ``summary.txt`` and ``tornado.png``, written atomically and registered in the catalog's
``sensitivity_analyses`` table. The runs themselves are kept in memory only.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import ConfigError, plan
from ..report.format import fmt
from ..runner import execute
from ..store import ensure_catalog, new_id, write_atomic, write_row
from .perturb import applicable, arm_values, comparison_plan, fmt_value, range_value, scaled_in_arms
from ..common.i18n import replications_text

SENSITIVITY_DIR = "sensitivity"
DEFAULTS = "(defaults)"


@dataclass
class SensitivityResult:
    """The outcome of a sensitivity analysis: the paired difference of the KPI from the reference per
    scenario, parameter and side (``table``), and, once written, its id and folder."""
    overrides: list[str]
    municipality: str
    reference: str
    kpi: str
    replications: int
    table: pd.DataFrame          # scenario, parameter, side, value, diff_mean, diff_ci_low, diff_ci_high, n, scaled_in
    sensitivity_id: str | None = None
    sensitivity_dir: Path | None = None

    def tornado(self) -> pd.DataFrame:
        """Per scenario and parameter: the difference at the defaults, low and high, the swing, whether
        the sign of the mean difference changes within the range, and whether a 95 % interval (at the
        defaults, low or high) includes 0; largest swing first."""
        t = self.table
        base = t[t.parameter == DEFAULTS].set_index("scenario")
        p = t[t.parameter != DEFAULTS]
        w = p.pivot_table(index=["scenario", "parameter"], columns="side",
                          values=["value", "diff_mean", "diff_ci_low", "diff_ci_high"], sort=False)
        w.columns = [f"{a}_{b}" for a, b in w.columns]
        w = w.reset_index()
        w["at_defaults"] = w["scenario"].map(base["diff_mean"])
        spans = [(w["scenario"].map(base["diff_ci_low"]), w["scenario"].map(base["diff_ci_high"]))] + \
            [(w[f"diff_ci_low_{side}"], w[f"diff_ci_high_{side}"]) for side in ("low", "high")]
        w["interval_includes_0"] = np.logical_or.reduce([(lo <= 0) & (hi >= 0) for lo, hi in spans])
        w["swing"] = w["diff_mean_high"] - w["diff_mean_low"]
        # a cost every arm pays alike cancels in the difference up to float round-off: call that 0
        scale = w[["at_defaults", "diff_mean_low", "diff_mean_high"]].abs().max(axis=1)
        w.loc[w["swing"].abs() <= 1e-9 * scale, "swing"] = 0.0
        signs = np.sign(w[["at_defaults", "diff_mean_low", "diff_mean_high"]].to_numpy())
        w["sign_changes"] = (signs != signs[:, :1]).any(axis=1)
        order = {s: i for i, s in enumerate(dict.fromkeys(t.scenario))}
        w = w.assign(_o=w.scenario.map(order), _s=-w.swing.abs()).sort_values(["_o", "_s"]).drop(columns=["_o", "_s"])
        return w[["scenario", "parameter", "value_low", "value_high", "at_defaults", "diff_mean_low",
                  "diff_mean_high", "swing", "sign_changes", "interval_includes_0"]].reset_index(drop=True)


def _jobs(overrides: list[str]):
    """(parameter, side, value, scaled, plan) for the run at the defaults and each parameter's low and
    high, all validated before anything runs. ``scaled`` names the arms that set the parameter
    themselves and got their own value times low/default (or high/default) instead."""
    p0, cfg = comparison_plan(overrides, "a sensitivity analysis")
    sens = cfg.sensitivity
    reps = [f"run.replications={sens.replications}"] if sens.replications else []
    jobs = [(DEFAULTS, "", np.nan, "", plan(overrides + reps) if reps else p0)]
    for i, prm in enumerate(applicable(cfg, "sensitivity", sens.parameters)):
        ref_value, own = arm_values(p0, prm.key, f"sensitivity.parameters[{i}].key", prm.offset)
        for side, x in (("low", prm.low), ("high", prm.high)):
            v = range_value(prm, x, ref_value)
            per_arm, scaled = scaled_in_arms(prm.key, v, ref_value, own, prm.offset)
            try:
                jobs.append((prm.key, side, v, scaled, plan(overrides + reps + [f"{prm.key}={v!r}"], per_arm)))
            except ConfigError as err:
                raise ConfigError(f"sensitivity.parameters[{i}].{side} = {v!r}: not allowed for {prm.key} ({err})") from None
    return cfg, jobs


def sensitivity(overrides: list[str] | tuple[str, ...] = (), progress: bool | None = None,
                echo=print) -> SensitivityResult:
    """Run the analysis described in the module docstring; ConfigError (one line) for bad input."""
    overrides = list(overrides)
    cfg, jobs = _jobs(overrides)
    kpi = cfg.sensitivity.kpi
    rows = []
    for i, (param, side, value, scaled, p) in enumerate(jobs):
        echo(f"[{i + 1}/{len(jobs)}] {param}" + (f" {side} = {value:g}" if side else ""))
        res = execute(p, progress=progress)
        c = res.comparison
        sel = c[(c.period == "horizon") & (c.kpi == kpi)]
        for r in sel.itertuples():
            rows.append((r.scenario, param, side, value, r.diff_mean, r.diff_ci_low, r.diff_ci_high, r.n, scaled))
    table = pd.DataFrame(rows, columns=["scenario", "parameter", "side", "value", "diff_mean", "diff_ci_low",
                                        "diff_ci_high", "n", "scaled_in"])
    ref_plan = jobs[0][4]
    return SensitivityResult(overrides=overrides, municipality=cfg.municipality.name, reference=ref_plan.reference,
                             kpi=kpi, replications=ref_plan.arms[ref_plan.reference].run.replications, table=table)


# --------------------------------------------------------------------------- output

def sensitivity_text(s: SensitivityResult) -> str:
    """The text summary (summary.txt): per scenario the difference at the defaults and at each parameter's
    low and high value, the parameters scaled in an arm, sign changes and intervals that include 0."""
    t = s.tornado()
    base = s.table[s.table.parameter == DEFAULTS].set_index("scenario")
    lines = [f"Sensitivity of the paired difference in {s.kpi} from {s.reference} ({s.municipality}, "
             f"{replications_text(s.replications)} per run, one parameter at a time, "
             "common random numbers)"]
    for sc, g in t.groupby("scenario", sort=False):
        b = base.loc[sc]
        lines += ["", f"{sc}: {fmt(b.diff_mean)} [{fmt(b.diff_ci_low)}, {fmt(b.diff_ci_high)}] at the defaults"]
        show = pd.DataFrame({
            "parameter": g["parameter"],
            "low -> high": [f"{fmt_value(a)} -> {fmt_value(b)}" for a, b in zip(g.value_low, g.value_high)],
            "difference at low": g["diff_mean_low"].map(fmt),
            "at high": g["diff_mean_high"].map(fmt),
            "swing": g["swing"].map(fmt),
            "sign changes": g["sign_changes"].map({True: "YES", False: ""}),
            "interval incl. 0": g["interval_includes_0"].map({True: "yes", False: ""}),
        })
        lines.append(show.to_string(index=False))
    scaled = s.table[s.table.scaled_in != ""].drop_duplicates("parameter")
    if len(scaled):
        lines += ["", "Set by a scenario itself, so scaled there by the same factor (values at low):"]
        lines += [f"  {r.parameter}: {r.scaled_in}" for r in scaled.itertuples()]
    flips = t[t.sign_changes]
    lines += ["", "Conclusions that depend on an assumption (the sign of the mean difference changes within its range): "
              + ("; ".join(f"{r.scenario} on {r.parameter}" for r in flips.itertuples()) if len(flips) else "none")]
    unclear = list(dict.fromkeys(t[t.interval_includes_0].scenario))
    lines.append("Differences not distinguishable from 0 at the defaults or somewhere in a range (a 95 % interval "
                 "includes 0; more replications narrow it): " + (", ".join(unclear) if unclear else "none"))
    return "\n".join(lines) + "\n"


def plot_tornado(s: SensitivityResult, path: Path | None = None):
    """One panel per scenario: bars from the difference at the defaults to the difference at each
    parameter's low and high value, largest swing on top; 0 marked."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from ..report.plots import save_figure      # matplotlib: imported only when a figure is drawn

    t = s.tornado()
    scenarios = list(dict.fromkeys(t.scenario))
    ncol = min(3, len(scenarios))
    nrow = (len(scenarios) + ncol - 1) // ncol
    n_par = t.parameter.nunique()
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 0.45 * n_par * nrow + 1.2 * nrow), squeeze=False)
    money = s.kpi.endswith("_dkk")
    for ax, sc in zip(axes.flat, scenarios):
        g = t[t.scenario == sc].iloc[::-1]
        y = np.arange(len(g))
        base = g["at_defaults"].iloc[0]
        b = s.table[(s.table.parameter == DEFAULTS) & (s.table.scenario == sc)].iloc[0]
        ax.axvspan(b.diff_ci_low, b.diff_ci_high, color="grey", alpha=0.15, lw=0, label="95 % interval at the defaults")
        ax.barh(y, g["diff_mean_low"] - base, left=base, color="tab:blue", alpha=0.8, label="low value")
        ax.barh(y, g["diff_mean_high"] - base, left=base, color="tab:orange", alpha=0.8, label="high value")
        ax.axvline(base, color="black", lw=1)
        ax.axvline(0, color="tab:red", lw=1, ls="--")
        ax.set_yticks(y, [p.split(".", 1)[-1] if len(p) > 40 else p for p in g["parameter"]], fontsize=7)
        ax.set_title(sc, fontsize=10)
        if money:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:,.4g}M"))
    for ax in list(axes.flat)[len(scenarios):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Paired difference in {s.kpi} from {s.reference}: at the defaults (black, grey = its 95 % interval) and "
                 f"at each parameter's low and high value; red dashed = no difference", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))      # room for the title
    return save_figure(fig, path)


def write_sensitivity(s: SensitivityResult, base: Path, figures: bool = True) -> Path:
    """Write base/sensitivity/<id>/ (tables, summary, tornado figure, and its row of the catalog's
    ``sensitivity_analyses`` table as sensitivity.json) through a staging folder; returns the folder."""
    now = _dt.datetime.now()
    sid = new_id(s.municipality, s.overrides, now)
    params = [p for p in dict.fromkeys(s.table.parameter) if p != DEFAULTS]
    row = {"sensitivity_id": sid, "created_at": now, "municipality": s.municipality, "kpi": s.kpi,
           "reference": s.reference, "scenarios": ",".join(dict.fromkeys(s.table.scenario)),
           "parameters": ",".join(params), "runs": 1 + 2 * len(params), "replications": s.replications,
           "sensitivity_dir": str(base / SENSITIVITY_DIR / sid), "overrides": " ".join(s.overrides)}

    def fill(d: Path) -> None:
        s.table.to_csv(d / "sensitivity.csv", index=False)
        s.tornado().to_csv(d / "tornado.csv", index=False)
        (d / "summary.txt").write_text(sensitivity_text(s))
        if figures:
            plot_tornado(s, d / "tornado.png")
        write_row(d, "sensitivity_analyses", row)

    final = write_atomic(base / SENSITIVITY_DIR, sid, fill)
    ensure_catalog(base)
    s.sensitivity_id, s.sensitivity_dir = sid, final
    return final
