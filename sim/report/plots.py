"""Seaborn figures of a run. Every figure shows the mean over replications with a 95 % band.

Each function takes the Results and an optional path: with a path the figure is saved (PNG)
and closed; without one the matplotlib Figure is returned, to show inline in a notebook.
The backend is left to matplotlib (headless machines fall back to Agg; the CLI sets Agg).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..metrics.budget import budget_difference as _budget_difference

HEADLINE = ["placed_per_1000_0_22", "new_placements", "cost_total_dkk", "open_cases",
            "cases_per_caseworker", "followup_on_time_share", "breakdowns", "assessment_wait_days"]
CI = ("se", 1.96)


def _order(res) -> list[str]:
    return list(res.arms)


def _dodge(res) -> float | bool:
    """Side-by-side offset of the arms' points (seaborn cannot dodge a single arm)."""
    return 0.4 if len(res.arms) > 1 else False


def save_figure(fig, path: Path | None):
    """Save a figure as PNG at path and close it (returns the path), or return the figure when path is None."""
    if path is None:
        return fig
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def occupancy_by_step(res, path: Path | None = None):
    """Children on each step (ground step left out) at month end over the horizon, one panel per arm."""
    ts = res.timeseries
    d = ts[(ts.metric == "occupancy") & (ts.month >= 0)].copy()
    steps = res.plan.arms[res.reference].staircase.steps
    d = d[d.step != res.plan.arms[res.reference].staircase.ground_step]
    d["year"] = d["month"] / 12
    order = sorted(steps, key=lambda s: steps[s].order)
    order = [s for s in order if s in set(d.step)]
    g = sns.relplot(data=d, x="year", y="value", hue="step", hue_order=order, col="scenario",
                    col_order=_order(res), col_wrap=min(4, len(res.arms)), kind="line", errorbar=CI,
                    height=2.6, aspect=1.3, palette="viridis")
    g.set_axis_labels("years into the horizon", "children on the step")
    g.set_titles("{col_name}")
    g.figure.suptitle("Children on each step of the staircase (month end, mean and 95 % band)", y=1.02)
    return save_figure(g.figure, path)


def placements_per_1000(res, path: Path | None = None):
    """Placed per 1,000 aged 0-17 and 0-22 by horizon year and arm (95 % CI), the 0-22 key figure dashed."""
    k = res.kpis
    d = k[(k.period == "year") & k.kpi.isin(["placed_per_1000_0_17", "placed_per_1000_0_22"])]
    g = sns.catplot(data=d, x="year", y="value", hue="scenario", hue_order=_order(res), col="kpi", kind="point",
                    errorbar=("ci", 95), dodge=_dodge(res), height=3.2, aspect=1.4, sharey=False)
    g.set_axis_labels("horizon year", "placed per 1,000")
    g.set_titles("{col_name}")
    target = res.plan.arms[res.reference].municipality.targets.placed_per_1000_0_22
    g.axes.flat[-1].axhline(target, color="grey", ls="--", lw=1)
    g.axes.flat[-1].annotate("key figure [003]", (0, target), xytext=(2, 3), textcoords="offset points", fontsize=8, color="grey")
    g.figure.suptitle("Placements per 1,000 (time-averaged stock, 95 % CI over replications)", y=1.03)
    return save_figure(g.figure, path)


def cost_by_step(res, path: Path | None = None):
    """Cost by horizon year stacked by step, caseworkers and investment (million DKK per year, mean over
    replications), one panel per arm."""
    k = res.kpis
    d = k[(k.period == "year") & (k.kpi.str.startswith("cost_dkk__") | k.kpi.isin(["cost_caseworkers_dkk", "cost_investment_dkk"]))]
    d = d.groupby(["scenario", "year", "kpi"], as_index=False)["value"].mean()
    d["component"] = d["kpi"].str.replace("cost_dkk__", "", regex=False).str.replace("_dkk", "", regex=False)
    d["value"] = d["value"] / 1e6
    comps = [c for c in d.groupby("component")["value"].sum().sort_values(ascending=False).index
             if d[d.component == c]["value"].abs().sum() > 0]
    arms = _order(res)
    n = len(arms)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows), sharey=True, squeeze=False)
    palette = dict(zip(comps, sns.color_palette("tab10", len(comps))))
    for ax, arm in zip(axes.flat, arms):
        w = d[d.scenario == arm].pivot(index="year", columns="component", values="value").reindex(columns=comps).fillna(0)
        bottom = np.zeros(len(w))
        for c in comps:
            ax.bar(w.index, w[c], bottom=bottom, color=palette[c], label=c)
            bottom += w[c].to_numpy()
        ax.set_title(arm, fontsize=9)
        ax.set_xlabel("horizon year")
    for ax in axes.flat[n:]:
        ax.axis("off")
    axes[0, 0].set_ylabel("M DKK per year")
    handles = [plt.Rectangle((0, 0), 1, 1, color=palette[c]) for c in comps]
    fig.legend(handles, comps, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.suptitle(f"Cost by step and year (mean over replications, DKK {res.plan.arms[res.reference].costs.price_year} prices)")
    fig.tight_layout()
    return save_figure(fig, path)


def caseload(res, path: Path | None = None):
    """Open cases per caseworker by month; follow-ups on time, wait for assessment (days) and follow-ups'
    share of their standard hours by horizon year; one line per arm."""
    ts = res.timeseries
    d = ts[(ts.metric == "cases_per_caseworker") & (ts.month >= 0)].copy()
    d["year"] = d["month"] / 12
    k = res.kpis
    f = k[(k.period == "year") & (k.kpi == "followup_on_time_share")]
    w = k[(k.period == "year") & (k.kpi == "assessment_wait_days")]
    ws = k[(k.period == "year") & (k.kpi == "followup_work_share")]
    fig, axes = plt.subplots(1, 4, figsize=(19, 3.6))
    sns.lineplot(data=d, x="year", y="value", hue="scenario", hue_order=_order(res), errorbar=CI, ax=axes[0])
    axes[0].set(title="Open cases per caseworker (month end)", xlabel="years into the horizon", ylabel="cases per FTE")
    sns.pointplot(data=f, x="year", y="value", hue="scenario", hue_order=_order(res), errorbar=("ci", 95), dodge=_dodge(res), ax=axes[1], legend=False)
    axes[1].set(title="Follow-ups on time", xlabel="horizon year", ylabel="share on time", ylim=(0, 1.05))
    sns.pointplot(data=w, x="year", y="value", hue="scenario", hue_order=_order(res), errorbar=("ci", 95), dodge=_dodge(res), ax=axes[2], legend=False)
    axes[2].set(title="Wait from notification to assessment", xlabel="horizon year", ylabel="days")
    sns.pointplot(data=ws, x="year", y="value", hue="scenario", hue_order=_order(res), errorbar=("ci", 95), dodge=_dodge(res), ax=axes[3], legend=False)
    axes[3].set(title="Follow-ups: share of their standard hours", xlabel="horizon year", ylabel="share (1 = full)", ylim=(0, 1.05))
    axes[0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.2), ncol=3)
    fig.tight_layout()
    return save_figure(fig, path)


def forest(res, path: Path | None = None, kpis: list[str] | None = None):
    """Paired difference from the reference over the horizon in % of the reference mean (95 % CI), one panel
    per KPI (default HEADLINE); None when no scenario is compared."""
    c = res.comparison
    if c.empty:
        return
    kpis = kpis or HEADLINE
    d = c[(c.period == "horizon") & c.kpi.isin(kpis)].copy()
    d["pct"] = 100 * d["diff_mean"] / d["reference_mean"].abs()
    d["lo"] = 100 * d["diff_ci_low"] / d["reference_mean"].abs()
    d["hi"] = 100 * d["diff_ci_high"] / d["reference_mean"].abs()
    arms = [a for a in _order(res) if a != res.reference]
    kpis = [k for k in kpis if k in set(d.kpi)]
    cols = 4
    rows = int(np.ceil(len(kpis) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 0.35 * len(arms) * rows + 1.6 * rows), squeeze=False, sharey=True)
    y = np.arange(len(arms))
    for ax, kpi in zip(axes.flat, kpis):
        e = d[d.kpi == kpi].set_index("scenario").reindex(arms)
        ax.errorbar(e["pct"], y, xerr=[e["pct"] - e["lo"], e["hi"] - e["pct"]], fmt="o", color="tab:blue", capsize=3)
        ax.axvline(0, color="grey", lw=1)
        ax.set_title(kpi, fontsize=9)
        ax.set_yticks(y, arms, fontsize=8)
        ax.set_xlabel("% vs " + res.reference, fontsize=8)
    axes.flat[0].invert_yaxis()          # first scenario on top; the y axis is shared
    for ax in axes.flat[len(kpis):]:
        ax.axis("off")
    fig.suptitle("Paired difference from the reference over the horizon (mean and 95 % CI, common random numbers)")
    fig.tight_layout()
    return save_figure(fig, path)


def warmup(res, path: Path | None = None):
    """The reference arm's open cases and placed children (all ages) by month through warm-up and horizon
    (year 0 = end of warm-up): stocks should be level before year 0."""
    ts = res.timeseries
    d = ts[(ts.scenario == res.reference) & ts.metric.isin(["open_cases"])].copy()
    occ = ts[(ts.scenario == res.reference) & (ts.metric == "occupancy")].copy()
    steps = res.plan.arms[res.reference].staircase.steps
    placed = [s for s, v in steps.items() if v.placement]
    p = occ[occ.step.isin(placed)].groupby(["replication", "month"], as_index=False)["value"].sum()
    p["metric"] = "placed (all ages)"
    d = pd.concat([d[["replication", "month", "metric", "value"]], p], ignore_index=True)
    d["year"] = d["month"] / 12
    g = sns.relplot(data=d, x="year", y="value", col="metric", kind="line", errorbar=CI, height=3, aspect=1.5,
                    facet_kws={"sharey": False})
    for ax in g.axes.flat:
        ax.axvline(0, color="grey", ls="--", lw=1)
    g.set_titles("{col_name}")
    g.set_axis_labels("years (0 = end of warm-up)", "count")
    g.figure.suptitle(f"Warm-up check for {res.reference}: stocks should be level before year 0", y=1.04)
    return save_figure(g.figure, path)


def budget_difference(res, path: Path | None = None):
    """Where each scenario's cost difference comes from: paired difference by budget item over the horizon
    (mean and 95 % interval, million DKK), one panel per scenario."""

    d = _budget_difference(res)
    if d.empty:
        return
    d = d[d.year == 0]
    arms = [a for a in _order(res) if a != res.reference]
    labels = list(dict.fromkeys(d["label"]))
    cols = min(3, len(arms))
    rows = int(np.ceil(len(arms) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 0.32 * len(labels) * rows + 1.3 * rows),
                             squeeze=False, sharey=True)
    y = np.arange(len(labels))
    for ax, arm in zip(axes.flat, arms):
        e = d[d.scenario == arm].set_index("label").reindex(labels)
        mean, lo, hi = (e[c].to_numpy() / 1e6 for c in ("cost_dkk", "cost_ci_low", "cost_ci_high"))
        ax.barh(y, mean, color=np.where(mean < 0, "tab:green", "tab:red"), alpha=0.7)
        ax.errorbar(mean, y, xerr=[np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)], fmt="none", color="black",
                    capsize=2, lw=0.8)
        ax.axvline(0, color="grey", lw=1)
        ax.set_title(f"{arm}: total {np.nansum(mean):+,.1f}M", fontsize=9)
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_xlabel(f"M DKK vs {res.reference}", fontsize=8)
    axes.flat[0].invert_yaxis()
    for ax in axes.flat[len(arms):]:
        ax.axis("off")
    fig.suptitle("Where the difference comes from: paired cost difference by budget item over the horizon "
                 "(green = saving; 95 % intervals)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


FIGURES = {
    "occupancy_by_step.png": occupancy_by_step,
    "placements_per_1000.png": placements_per_1000,
    "cost_by_step.png": cost_by_step,
    "caseload_and_followup.png": caseload,
    "forest_differences.png": forest,
    "budget_difference.png": budget_difference,
    "warmup_check.png": warmup,
}


def make_figures(res, folder: Path) -> list[Path]:
    """Draw every figure of FIGURES into folder as PNG (the difference figures only when scenarios are
    compared); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, fn in FIGURES.items():
        if name in ("forest_differences.png", "budget_difference.png") and res.comparison.empty:
            continue
        fn(res, folder / name)
        out.append(folder / name)
    return out
