"""Seaborn figures of a run. Every figure shows the mean over replications with a 95 % band.

Each function takes the Results and an optional path: with a path the figure is saved (PNG)
and closed; without one the matplotlib Figure is returned, to show inline in a notebook.
The backend is left to matplotlib (headless machines fall back to Agg; the CLI sets Agg).

Words follow ``language`` (default: the reference arm's ``output.language``): Danish or English titles and
axes, scenarios by their titles, steps by their labels, KPIs by their names, Danish tick labels with a
decimal comma. Colours come from seaborn's colour-blind-safe palette. ``staircase_flows`` and
``break_even`` are the report's own pictures (the flow of children on the staircase, the break-even chart).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter

from ..common.i18n import danish_separators, kpi_label, months_text, scenario_title
from ..common.signals import children_ignore_ctrl_c, unblock_ctrl_c
from ..metrics.budget import budget_difference as _budget_difference
from ..metrics.payback_monthly import payback_months
from ..metrics.stats import t_interval
from .danish import item_label, step_labels
from .flows import step_flows
from .summary import cumulative_difference

HEADLINE = ["placed_per_1000_0_22", "new_placements", "cost_total_dkk", "open_cases",
            "cases_per_caseworker", "followup_on_time_share", "breakdowns", "assessment_wait_days"]
CI = ("se", 1.96)


def t_errorbar(values) -> tuple[float, float]:
    """Error bars of a mean over replications: its 95 % Student-t interval, as in every table of the run
    (sim.metrics.stats.t_interval). Seaborn's own ("ci", 95) would bootstrap with an unseeded random
    generator: a figure that changes from run to run of the same seed, and slow."""
    _, lo, hi, _ = t_interval(np.asarray(values, dtype=float))
    return lo, hi

def interval_bars(mean, low, high) -> list:
    """``xerr``/``yerr`` of matplotlib's errorbar for 95 % intervals: the distances below and above the mean, 0
    where the interval is undefined (one replication, a KPI with nothing to measure) - NaN there made matplotlib
    print a RuntimeWarning on the console; the point itself is drawn where it is defined."""
    mean, low, high = (np.asarray(v, dtype=float) for v in (mean, low, high))
    with np.errstate(invalid="ignore"):             # inf - inf where a relative difference has no base
        below, above = mean - low, high - mean
    return [np.where(np.isfinite(below), below, 0.0), np.where(np.isfinite(above), above, 0.0)]


PALETTE = "colorblind"      # seaborn's colour-blind-safe palette (Okabe-Ito-like) for every categorical colour


# English -> Danish for the figures' words (titles, axes, legends); other text stays as it is
DA: dict[str, str] = {
    "years into the horizon": "år inde i perioden",
    "children on the step": "børn på trinnet",
    "Children on each step of the staircase (month end, mean and 95 % band)":
        "Børn på hvert trin af trappen (månedens udgang, middel og 95 %-bånd)",
    "horizon year": "år i perioden",
    "placed per 1,000": "anbragte pr. 1.000",
    "key figure [003]": "nøgletal [003]",
    "Placements per 1,000 (time-averaged stock, 95 % CI over replications)":
        "Anbragte pr. 1.000 (gennemsnitlig bestand, 95 %-interval over replikationerne)",
    "M DKK per year": "mio. kr. pr. år",
    "Cost by step and year (mean over replications, DKK {y} prices)":
        "Udgifter pr. trin og år (middel over replikationerne, kr. i {y}-priser)",
    "Open cases per caseworker (month end)": "Åbne sager pr. sagsbehandler (månedens udgang)",
    "cases per FTE": "sager pr. årsværk",
    "Follow-ups on time": "Opfølgninger til tiden",
    "share on time": "andel til tiden",
    "Wait from notification to assessment": "Ventetid fra underretning til undersøgelse",
    "days": "dage",
    "Follow-ups: share of their standard hours": "Opfølgninger: andel af normeret tid",
    "share (1 = full)": "andel (1 = fuld)",
    "% vs {ref}": "% i forhold til {ref}",
    "Paired difference from the reference over the horizon (mean and 95 % CI, common random numbers)":
        "Parret forskel fra referencen over perioden (middel og 95 %-interval, fælles tilfældige tal)",
    "open cases": "åbne sager",
    "placed (all ages)": "anbragte (alle aldre)",
    "years (0 = end of warm-up)": "år (0 = indkøringens slut)",
    "count": "antal",
    "Warm-up check for {ref}: stocks should be level before year 0":
        "Tjek af indkøringen for {ref}: bestandene bør være stabile før år 0",
    "{arm}: total {v}": "{arm}: i alt {v}",
    "M DKK vs {ref}": "mio. kr. i forhold til {ref}",
    "Where the difference comes from: paired cost difference by budget item over the horizon "
    "(blue = saving, orange = extra cost; 95 % intervals)":
        "Hvor forskellen kommer fra: parret forskel i udgifter pr. budgetpost over perioden "
        "(blå = besparelse, orange = merudgift; 95 %-intervaller)",
}


def _tr(text: str, language: str, **kw) -> str:
    """A figure's words in the language (DA for Danish), with {fields} filled in."""
    return (DA.get(text, text) if language == "da" else text).format(**kw)


def _language(res, language: str | None) -> str:
    """The figures' language: the one asked for, else the reference arm's output.language."""
    return language or res.plan.arms[res.reference].output.language


def _order(res, language: str | None = None) -> list[str]:
    """The arms in the run's order, by their titles in the language (by name without one)."""
    return list(res.arms) if language is None else [scenario_title(a, language) for a in res.arms]


def _people(res, d: pd.DataFrame, language: str) -> pd.DataFrame:
    """A figure's data with scenarios by their titles, steps by their labels and KPIs by their names."""
    d = d.copy()
    if "scenario" in d:
        d["scenario"] = d["scenario"].map(lambda a: scenario_title(a, language))
    if "step" in d:
        labels = step_labels(res, language)
        d["step"] = d["step"].map(lambda s: labels.get(s, s))
    if "kpi" in d:
        d["kpi"] = d["kpi"].map(lambda k: kpi_label(k, language))
    return d


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


def occupancy_by_step(res, path: Path | None = None, language: str | None = None):
    """Children on each step (ground step left out) at month end over the horizon, one panel per arm."""
    L = _language(res, language)
    ts = res.timeseries
    d = ts[(ts.metric == "occupancy") & (ts.month >= 0)]
    ref_cfg = res.plan.arms[res.reference]
    steps = ref_cfg.staircase.steps
    d = d[d.step != ref_cfg.staircase.ground_step]
    present = set(d.step)
    order = [s for s in sorted(steps, key=lambda s: steps[s].order) if s in present]
    labels = step_labels(res, L)
    # mean and 95 % band (mean +- 1.96 standard errors) per arm, step and month, in one pass; drawn with
    # matplotlib directly (seaborn's relplot laid the figure out three times: most of this figure's time)
    m = d.groupby(["scenario", "step", "month"], sort=False)["value"].agg(["mean", "sem"])
    colours = dict(zip(order, sns.color_palette(PALETTE, len(order))))
    arms = list(res.arms)
    n = len(arms)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.38 * cols, 2.6 * rows), sharex=True, sharey=True, squeeze=False)
    for i, (ax, arm) in enumerate(zip(axes.flat, arms)):
        for step in order:
            if (arm, step) not in m.index.droplevel("month"):
                continue
            b = m.loc[(arm, step)]
            x = b.index.to_numpy() / 12
            ax.plot(x, b["mean"], color=colours[step], lw=1.5, label=labels.get(step, step))
            ax.fill_between(x, b["mean"] - CI[1] * b["sem"], b["mean"] + CI[1] * b["sem"], color=colours[step],
                            alpha=0.2, lw=0)
        ax.set_title(scenario_title(arm, L), fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        if i % cols == 0:
            ax.set_ylabel(_tr("children on the step", L))
        if i + cols >= n:                          # the lowest panel of its column: its years
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel(_tr("years into the horizon", L))
        _axis_numbers(ax, L)
        _axis_numbers(ax, L, "x")
    for ax in axes.flat[n:]:
        ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle(_tr("Children on each step of the staircase (month end, mean and 95 % band)", L), y=1.02)
    fig.tight_layout()
    return save_figure(fig, path)


def placements_per_1000(res, path: Path | None = None, language: str | None = None):
    """Placed per 1,000 aged 0-17 and 0-22 by horizon year and arm (95 % CI), the 0-22 key figure dashed."""
    L = _language(res, language)
    k = res.kpis
    d = k[(k.period == "year") & k.kpi.isin(["placed_per_1000_0_17", "placed_per_1000_0_22"])]
    g = sns.catplot(data=_people(res, d, L), x="year", y="value", hue="scenario", hue_order=_order(res, L), col="kpi",
                    col_order=[kpi_label(x, L) for x in ("placed_per_1000_0_17", "placed_per_1000_0_22")],
                    kind="point", errorbar=t_errorbar, dodge=_dodge(res), height=3.2, aspect=1.4, sharey=False,
                    palette=PALETTE)
    g.set_axis_labels(_tr("horizon year", L), _tr("placed per 1,000", L))
    g.set_titles("{col_name}")
    g.legend.set_title("")
    target = res.plan.arms[res.reference].municipality.targets.placed_per_1000_0_22
    g.axes.flat[-1].axhline(target, color="grey", ls="--", lw=1)
    g.axes.flat[-1].annotate(_tr("key figure [003]", L), (0, target), xytext=(2, 3), textcoords="offset points",
                             fontsize=8, color="grey")
    for ax in g.axes.flat:
        _axis_numbers(ax, L)
    g.figure.suptitle(_tr("Placements per 1,000 (time-averaged stock, 95 % CI over replications)", L), y=1.03)
    return save_figure(g.figure, path)


def cost_by_step(res, path: Path | None = None, language: str | None = None):
    """Cost by horizon year stacked by step, caseworkers and investment (million DKK per year, mean over
    replications), one panel per arm."""
    L = _language(res, language)
    k = res.kpis
    d = k[(k.period == "year") & (k.kpi.str.startswith("cost_dkk__") | k.kpi.isin(["cost_caseworkers_dkk", "cost_investment_dkk"]))]
    d = d.groupby(["scenario", "year", "kpi"], as_index=False)["value"].mean()
    d["component"] = d["kpi"].str.replace("cost_dkk__", "", regex=False).str.replace("_dkk", "", regex=False)
    d["value"] = d["value"] / 1e6
    comps = [c for c in d.groupby("component")["value"].sum().sort_values(ascending=False).index
             if d[d.component == c]["value"].abs().sum() > 0]
    arms = list(res.arms)
    n = len(arms)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows), sharey=True, squeeze=False)
    palette = dict(zip(comps, sns.color_palette(PALETTE, len(comps))))
    for ax, arm in zip(axes.flat, arms):
        w = d[d.scenario == arm].pivot(index="year", columns="component", values="value").reindex(columns=comps).fillna(0)
        bottom = np.zeros(len(w))
        for c in comps:
            ax.bar(w.index, w[c], bottom=bottom, color=palette[c], label=c)
            bottom += w[c].to_numpy()
        ax.set_title(textwrap.fill(scenario_title(arm, L), 34), fontsize=9)
        ax.set_xlabel(_tr("horizon year", L))
        ax.set_xticks(sorted(set(d["year"])))
        _axis_numbers(ax, L)
    for ax in axes.flat[n:]:
        ax.axis("off")
    axes[0, 0].set_ylabel(_tr("M DKK per year", L))
    handles = [plt.Rectangle((0, 0), 1, 1, color=palette[c]) for c in comps]
    names = [item_label(res, c.replace("cost_", ""), L) for c in comps]
    fig.legend(handles, [textwrap.fill(x, 30) for x in names], loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.suptitle(_tr("Cost by step and year (mean over replications, DKK {y} prices)", L,
                     y=res.plan.arms[res.reference].costs.price_year))
    fig.tight_layout()
    return save_figure(fig, path)


def caseload(res, path: Path | None = None, language: str | None = None):
    """Open cases per caseworker by month; follow-ups on time, wait for assessment (days) and follow-ups'
    share of their standard hours by horizon year; one line per arm."""
    L = _language(res, language)
    ts = res.timeseries
    d = ts[(ts.metric == "cases_per_caseworker") & (ts.month >= 0)]
    k = _people(res, res.kpis[res.kpis.period == "year"], L)
    panels = [(kpi_label("followup_on_time_share", L), "Follow-ups on time", "share on time", (0, 1.05)),
              (kpi_label("assessment_wait_days", L), "Wait from notification to assessment", "days", None),
              (kpi_label("followup_work_share", L), "Follow-ups: share of their standard hours", "share (1 = full)",
               (0, 1.05))]
    fig, axes = plt.subplots(1, 4, figsize=(19, 3.6))
    # mean and 95 % band (as errorbar=CI) per arm and month in one pass, drawn directly (seaborn's lineplot
    # aggregated point by point: half of this figure's time); colours as the point plots' (hue order)
    m = d.groupby(["scenario", "month"], sort=False)["value"].agg(["mean", "sem"])
    present = set(m.index.get_level_values("scenario"))
    for arm, colour in zip(res.arms, sns.color_palette(PALETTE, len(res.arms))):
        if arm not in present:
            continue
        b = m.loc[arm]
        x = b.index.to_numpy() / 12
        axes[0].plot(x, b["mean"], color=colour, label=scenario_title(arm, L))
        axes[0].fill_between(x, b["mean"] - CI[1] * b["sem"], b["mean"] + CI[1] * b["sem"], color=colour,
                             alpha=0.2, lw=0)
    axes[0].set(title=_tr("Open cases per caseworker (month end)", L), xlabel=_tr("years into the horizon", L),
                ylabel=_tr("cases per FTE", L))
    for ax, (kpi, title, ylabel, ylim) in zip(axes[1:], panels):
        sns.pointplot(data=k[k.kpi == kpi], x="year", y="value", hue="scenario", hue_order=_order(res, L),
                      errorbar=t_errorbar, dodge=_dodge(res), ax=ax, legend=False, palette=PALETTE)
        ax.set(title=_tr(title, L), xlabel=_tr("horizon year", L), ylabel=_tr(ylabel, L))
        if ylim:
            ax.set_ylim(*ylim)
    for ax in axes:
        _axis_numbers(ax, L)
    axes[0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.2), ncol=3)
    fig.tight_layout()
    return save_figure(fig, path)


def forest(res, path: Path | None = None, kpis: list[str] | None = None, language: str | None = None):
    """Paired difference from the reference over the horizon in % of the reference mean (95 % CI), one panel
    per KPI (default HEADLINE); None when no scenario is compared."""
    c = res.comparison
    if c.empty:
        return
    L = _language(res, language)
    kpis = kpis or HEADLINE
    d = c[(c.period == "horizon") & c.kpi.isin(kpis)].copy()
    base = d["reference_mean"].abs().replace(0, np.nan)     # no reference level: no relative difference
    d["pct"] = 100 * d["diff_mean"] / base
    d["lo"] = 100 * d["diff_ci_low"] / base
    d["hi"] = 100 * d["diff_ci_high"] / base
    arms = [a for a in res.arms if a != res.reference]
    kpis = [k for k in kpis if k in set(d.kpi)]
    cols = 4
    rows = int(np.ceil(len(kpis) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 0.35 * len(arms) * rows + 1.9 * rows), squeeze=False, sharey=True)
    y = np.arange(len(arms))
    colour = sns.color_palette(PALETTE)[0]
    for ax, kpi in zip(axes.flat, kpis):
        e = d[d.kpi == kpi].set_index("scenario").reindex(arms)
        ax.errorbar(e["pct"], y, xerr=interval_bars(e["pct"], e["lo"], e["hi"]), fmt="o", color=colour, capsize=3)
        ax.axvline(0, color="grey", lw=1)
        ax.set_title(textwrap.fill(kpi_label(kpi, L), 34), fontsize=9)
        ax.set_yticks(y, [textwrap.fill(scenario_title(a, L), 24) for a in arms], fontsize=8)
        ax.set_xlabel(_tr("% vs {ref}", L, ref=scenario_title(res.reference, L).lower()), fontsize=8)
        _axis_numbers(ax, L, "x")
    axes.flat[0].invert_yaxis()          # first scenario on top; the y axis is shared
    for ax in axes.flat[len(kpis):]:
        ax.axis("off")
    fig.suptitle(_tr("Paired difference from the reference over the horizon (mean and 95 % CI, common random numbers)", L))
    fig.tight_layout()
    return save_figure(fig, path)


def warmup(res, path: Path | None = None, language: str | None = None):
    """The reference arm's open cases and placed children (all ages) by month through warm-up and horizon
    (year 0 = end of warm-up): stocks should be level before year 0."""
    L = _language(res, language)
    ts = res.timeseries
    d = ts[(ts.scenario == res.reference) & ts.metric.isin(["open_cases"])].copy()
    d["metric"] = _tr("open cases", L)
    occ = ts[(ts.scenario == res.reference) & (ts.metric == "occupancy")].copy()
    steps = res.plan.arms[res.reference].staircase.steps
    placed = [s for s, v in steps.items() if v.placement]
    p = occ[occ.step.isin(placed)].groupby(["replication", "month"], as_index=False)["value"].sum()
    p["metric"] = _tr("placed (all ages)", L)
    d = pd.concat([d[["replication", "month", "metric", "value"]], p], ignore_index=True)
    d["year"] = d["month"] / 12
    g = sns.relplot(data=d, x="year", y="value", col="metric", kind="line", errorbar=CI, height=3, aspect=1.5,
                    facet_kws={"sharey": False}, color=sns.color_palette(PALETTE)[0])
    for ax in g.axes.flat:
        ax.axvline(0, color="grey", ls="--", lw=1)
        _axis_numbers(ax, L)
        _axis_numbers(ax, L, "x")
    g.set_titles("{col_name}")
    g.set_axis_labels(_tr("years (0 = end of warm-up)", L), _tr("count", L))
    g.figure.suptitle(_tr("Warm-up check for {ref}: stocks should be level before year 0", L,
                          ref=scenario_title(res.reference, L).lower()), y=1.04)
    return save_figure(g.figure, path)


def budget_difference(res, path: Path | None = None, language: str | None = None):
    """Where each scenario's cost difference comes from: paired difference by budget item over the horizon
    (mean and 95 % interval, million DKK), one panel per scenario."""
    d = _budget_difference(res)
    if d.empty:
        return
    L = _language(res, language)
    d = d[d.year == 0].copy()
    d["label"] = [item_label(res, i, L, s) for s, i in zip(d["scenario"], d["item"])]
    arms = [a for a in res.arms if a != res.reference]
    labels = list(dict.fromkeys(d["label"]))
    cols = min(3, len(arms))
    rows = int(np.ceil(len(arms) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 0.32 * len(labels) * rows + 1.3 * rows),
                             squeeze=False, sharey=True)
    y = np.arange(len(labels))
    cb = sns.color_palette(PALETTE)
    for ax, arm in zip(axes.flat, arms):
        e = d[d.scenario == arm].set_index("label").reindex(labels)
        mean, lo, hi = (e[c].to_numpy() / 1e6 for c in ("cost_dkk", "cost_ci_low", "cost_ci_high"))
        ax.barh(y, mean, color=[cb[0] if v < 0 else cb[1] for v in np.nan_to_num(mean)], alpha=0.85)
        ax.errorbar(mean, y, xerr=interval_bars(mean, lo, hi), fmt="none", color="black",
                    capsize=2, lw=0.8)
        ax.axvline(0, color="grey", lw=1)
        total = f"{np.nansum(mean):+,.1f}"      # the unit after the separators: its dot is no decimal point
        total = danish_separators(total) + " mio. kr." if L == "da" else total + "M DKK"
        ax.set_title(textwrap.fill(_tr("{arm}: total {v}", L, arm=scenario_title(arm, L), v=total), 40), fontsize=9)
        ax.set_yticks(y, [textwrap.fill(x, 30) for x in labels], fontsize=7)
        ax.set_xlabel(_tr("M DKK vs {ref}", L, ref=scenario_title(res.reference, L).lower()), fontsize=8)
        _axis_numbers(ax, L, "x")
    axes.flat[0].invert_yaxis()
    for ax in axes.flat[len(arms):]:
        ax.axis("off")
    fig.suptitle(_tr("Where the difference comes from: paired cost difference by budget item over the horizon "
                     "(blue = saving, orange = extra cost; 95 % intervals)", L), fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


# ------------------------------------------------------------------ the report's own pictures (either language)
def _rows_of_panels(res) -> list[list[str]]:
    """The flow picture's rows: the reference first in every row, then up to two scenarios beside it."""
    others = [a for a in res.arms if a != res.reference]
    if not others:
        return [[res.reference]]
    return [[res.reference] + others[i:i + 2] for i in range(0, len(others), 2)]


FLOW_WORDS = {  # key -> (da, en)
    "stock": ("børn på trinnet (gennemsnit over perioden)", "children on the step (average over the horizon)"),
    "in": ("ind pr. år", "in per year"), "out": ("ud pr. år", "out per year"),
    "placements": ("anbringelser", "placements"),
    "title": ("Trappen: børn på hvert trin og strømme ind og ud pr. år (middel over replikationerne)",
              "The staircase: children on each step, and flows in and out per year (mean over replications)"),
}


def _n(v: float, language: str, signed: bool = False) -> str:
    """A whole number on a figure: 1,234 (en), 1.234 (da); signed with + or a minus sign, ±0 for zero."""
    text = f"{abs(v):,.0f}".replace(",", "." if language == "da" else ",")
    if not signed:
        return ("\u2212" if round(v) < 0 else "") + text
    return "\u00b10" if round(v) == 0 else ("+" if v > 0 else "\u2212") + text


def _axis_numbers(ax, language: str, axis: str = "y") -> None:
    """Danish tick labels (decimal comma, thousands point) on an axis of a figure in Danish."""
    if language != "da":
        return
    def tick(v, _):
        text = f"{abs(v):,.0f}" if float(v).is_integer() else f"{abs(v):,.1f}"
        return ("\u2212" if v < 0 else "") + danish_separators(text)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(tick))


def _w(key: str, language: str) -> str:
    da, en = FLOW_WORDS[key]
    return da if language == "da" else en


def _flow_panel(ax, f: pd.DataFrame, ref: pd.DataFrame | None, colour, scale: dict, language: str) -> None:
    """One arm's staircase: a bar per step (children on it), an arrow in (above) and out (below) on its left,
    their width by the flow; with ``ref`` the stock's difference from the reference in brackets."""
    cb = sns.color_palette(PALETTE)
    y = np.arange(len(f))
    L, top = scale["arrow"], scale["flow"]
    ax.barh(y, f["stock"], height=0.56, color=colour, alpha=0.9, zorder=2)
    for i, r in enumerate(f.itertuples()):
        for dy, val, start, end, col, sign in ((0.2, r.entries_per_year, -L, -0.04 * L, cb[2], "+"),
                                               (-0.2, r.exits_per_year, -0.04 * L, -L, cb[3], "\u2212")):
            if val > 0:
                ax.annotate("", xy=(end, i + dy), xytext=(start, i + dy),
                            arrowprops=dict(arrowstyle="-|>", color=col, lw=0.8 + 4.5 * val / top, mutation_scale=10))
            ax.text(-1.08 * L, i + dy, sign + _n(val, language), ha="right", va="center", fontsize=7, color=col)
        text = _n(r.stock, language)
        if ref is not None:
            text += f" ({_n(r.stock - ref.iloc[i]['stock'], language, signed=True)})"
        ax.text(r.stock + 0.02 * scale["stock"], i, text, va="center", fontsize=7.5)
    placed = np.flatnonzero(f["placement"].to_numpy())
    if len(placed) and placed[0] > 0:
        ax.axhline(placed[0] - 0.5, color="grey", ls=":", lw=1)
        ax.text(scale["stock"] * 1.3, placed[0] - 0.45, _w("placements", language) + " \u2191", ha="right",
                va="bottom", fontsize=7, color="grey")
    ax.set_xlim(-1.75 * L, scale["stock"] * 1.32)
    ax.set_xticks([v for v in ax.get_xticks() if 0 <= v <= scale["stock"] * 1.32])
    ax.set_xlabel(_w("stock", language), fontsize=8)
    _axis_numbers(ax, language, "x")
    ax.set_yticks(y, [textwrap.fill(x, 24) for x in f["label"]], fontsize=8)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def staircase_flows(res, path: Path | None = None, language: str | None = None):
    """The staircase flow picture: per step (ground step left out, least intrusive at the bottom) the children
    on it over the horizon (bars) and those arriving and leaving per year (arrows in and out, widths by the
    flow), each scenario beside the reference (which starts every row); labels in the report's language."""
    language = _language(res, language)
    flows = step_flows(res, language)
    rows = _rows_of_panels(res)
    ncols = max(len(r) for r in rows)
    nsteps = flows.groupby("scenario").size().max()
    top_stock = max(float(flows["stock"].max()), 1.0)
    scale = {"stock": top_stock, "arrow": 0.32 * top_stock,
             "flow": max(float(flows[["entries_per_year", "exits_per_year"]].max().max()), 1.0)}
    fig, axes = plt.subplots(len(rows), ncols, figsize=(4.3 * ncols, (0.5 * nsteps + 1.3) * len(rows)),
                             squeeze=False, sharey=True)
    cb = sns.color_palette(PALETTE)
    ref = flows[flows.scenario == res.reference].reset_index(drop=True)
    for r, arms in enumerate(rows):
        for c in range(ncols):
            ax = axes[r, c]
            if c >= len(arms):
                ax.axis("off")
                continue
            f = flows[flows.scenario == arms[c]].reset_index(drop=True)
            _flow_panel(ax, f, None if c == 0 else ref, cb[7] if c == 0 else cb[c - 1 + 0], scale, language)
            ax.set_title(textwrap.fill(scenario_title(arms[c], language), 40), fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=cb[7]), plt.Line2D([], [], color=cb[2], marker=">", lw=2),
               plt.Line2D([], [], color=cb[3], marker="<", lw=2)]
    fig.legend(handles, [_w("stock", language), _w("in", language), _w("out", language)], loc="lower center",
               ncol=3, fontsize=8, bbox_to_anchor=(0.5, -0.04), frameon=False)
    fig.suptitle(_w("title", language), fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def break_even(res, path: Path | None = None, language: str | None = None):
    """The break-even chart: per scenario the cumulative paired cost difference from the reference month by
    month, investments included (mean and 95 % band, million DKK), the zero line, and the month it pays back
    (on average); None without scenarios to compare."""
    if res.comparison.empty:
        return None
    language = _language(res, language)
    da = language == "da"
    d = cumulative_difference(res)
    pm = payback_months(res).set_index("scenario")["paid_back_month"]
    arms = [a for a in res.arms if a != res.reference]
    cols = min(3, len(arms))
    rows = int(np.ceil(len(arms) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.0 * rows), squeeze=False, sharey=True)
    cb = sns.color_palette(PALETTE)
    for ax, arm in zip(axes.flat, arms):
        e = d[d.scenario == arm]
        ax.fill_between(e["month"], e["ci_low"] / 1e6, e["ci_high"] / 1e6, color=cb[0], alpha=0.25, lw=0)
        ax.plot(e["month"], e["cum_diff_dkk"] / 1e6, color=cb[0], lw=1.8)
        ax.axhline(0, color="black", lw=0.9)
        m = pm.get(arm, pd.NA)
        if not pd.isna(m):
            ax.axvline(int(m), color=cb[1], ls="--", lw=1.2)
            ax.annotate(("tjent hjem: " if da else "paid back: ") + months_text(int(m), language), (int(m), 0),
                        xytext=(4, 6), textcoords="offset points", fontsize=7.5, color=cb[1])
        ax.set_title(textwrap.fill(scenario_title(arm, language), 38), fontsize=9)
        ax.set_xlabel("måned i perioden" if da else "horizon month", fontsize=8)
        ax.set_xticks(range(0, int(e["month"].max()) + 1, 6))
        _axis_numbers(ax, language)
        for yr in range(12, int(e["month"].max()), 12):
            ax.axvline(yr, color="grey", lw=0.5, alpha=0.5)
    for ax in axes.flat[len(arms):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("mio. kr." if da else "million DKK", fontsize=8)
    fig.suptitle("Akkumuleret forskel i udgifter fra referencen, investeringer medregnet (middel og 95 %-bånd; "
                 "under nul = tjent hjem)" if da else "Cumulative cost difference from the reference, investments "
                 "included (mean and 95 % band; below zero = paid back)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


FIGURES = {
    "staircase_flows.png": staircase_flows,
    "break_even.png": break_even,
    "occupancy_by_step.png": occupancy_by_step,
    "placements_per_1000.png": placements_per_1000,
    "cost_by_step.png": cost_by_step,
    "caseload_and_followup.png": caseload,
    "forest_differences.png": forest,
    "budget_difference.png": budget_difference,
    "warmup_check.png": warmup,
}

COMPARISON_ONLY = ("forest_differences.png", "budget_difference.png", "break_even.png")   # need scenarios to compare


# the slowest figures (about 1-2 s each in the main job; the others under 1 s), started first so that the
# drawing processes end together
DRAW_FIRST = ("staircase_flows.png", "occupancy_by_step.png", "cost_by_step.png")


def figure_names(res) -> list[str]:
    """The figures a run draws (the difference figures only when scenarios are compared), slowest first."""
    names = [n for n in FIGURES if not (n in COMPARISON_ONLY and res.comparison.empty)]
    return sorted(names, key=lambda n: DRAW_FIRST.index(n) if n in DRAW_FIRST else len(DRAW_FIRST))


def make_figures(res, folder: Path, language: str | None = None) -> list[Path]:
    """Draw every figure of FIGURES into folder as PNG (the difference figures only when scenarios are
    compared), in ``language`` (default: the reference arm's output.language); returns their paths."""
    with start_figures(res, folder, language, jobs=1) as drawing:
        return drawing.wait()


# --- drawing in parallel: the figures of a run are drawn in forked processes while the main process writes the
# tables and the workbook (the figures take most of the time a run folder takes to write). A fork sees the run's
# results as they are, without copying them through a pipe; where fork does not exist (Windows), or with one job,
# the figures are drawn here when waited for. The files are the same either way.
#
# The drawing processes are plain forks, not a multiprocessing pool: they share no lock with this process (a
# pool's worker killed by a signal sent to the whole process group - SIGTERM from a scheduler, a terminal's
# Ctrl-C - can leave its task queue locked, and the pool's clean-up then waits for ever). They take the figures
# one at a time from a pipe filled beforehand (fixed-size records: a read takes one whole record), so the slow
# figures, listed first, spread over the processes; each sends back the figures it drew, or its error.
_TO_DRAW: tuple = ()           # (res, folder, language) for the forked drawing processes
_RECORD = 128                  # bytes per figure name in the pipe of work (names are far shorter)


def _draw(name: str) -> Path:
    res, folder, language = _TO_DRAW
    FIGURES[name](res, folder / name, language=language)
    return folder / name


def _drawing_process(work: int, out: int) -> None:
    """A forked drawing process: leaves Ctrl-C to the main process (which ends it), draws the figures it reads
    from the pipe ``work`` until it is empty, sends the list of their names (or its error) to ``out``; never
    returns."""
    import os
    import pickle
    import signal
    import traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)         # (already so from the fork: children_ignore_ctrl_c)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    unblock_ctrl_c()
    code = 0
    try:
        drawn = []
        while True:
            record = os.read(work, _RECORD)
            if not record:
                break
            name = record.rstrip(b"\0").decode()
            _draw(name)
            drawn.append(name)
        payload = ("ok", drawn)
    except BaseException as err:                      # the main process raises it when it waits
        code = 1
        payload = ("error", f"{type(err).__name__}: {err}\n{''.join(traceback.format_exception(err))}")
    try:
        with os.fdopen(out, "wb") as f:
            f.write(pickle.dumps(payload))
    finally:
        os._exit(code)


class start_figures:
    """``with start_figures(res, folder, language, jobs) as drawing: ...; paths = drawing.wait()``: the figures
    are drawn by ``jobs`` forked processes from the start of the block (here, in wait, with one job or without
    fork); leaving the block early (an error, Ctrl-C, SIGTERM) kills them."""

    def __init__(self, res, folder: Path, language: str | None = None, jobs: int = 1):
        import os
        self.names = figure_names(res)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.args = (res, self.folder, language)
        self.jobs = min(jobs, len(self.names)) if hasattr(os, "fork") else 1
        self.children: dict[int, int] = {}          # pid -> the pipe its result comes through

    def __enter__(self):
        global _TO_DRAW
        if self.jobs > 1:
            import os
            work_r, work_w = os.pipe()
            try:
                for name in self.names:               # all of it fits in the pipe's buffer before anyone reads
                    os.write(work_w, name.encode().ljust(_RECORD, b"\0"))
            finally:
                os.close(work_w)
            _TO_DRAW = self.args
            try:
                with children_ignore_ctrl_c():
                    for _ in range(self.jobs):
                        r, w = os.pipe()
                        pid = os.fork()
                        if pid == 0:                  # the drawing process
                            os.close(r)
                            _drawing_process(work_r, w)
                        os.close(w)
                        self.children[pid] = r
            except BaseException:
                self._stop()
                raise
            finally:
                _TO_DRAW = ()
                os.close(work_r)
        return self

    def wait(self) -> list[Path]:
        """The paths of the figures, once all are drawn (in FIGURES' order); a figure's error is raised here."""
        global _TO_DRAW
        if not self.children:
            _TO_DRAW = self.args
            try:
                done = [_draw(n) for n in self.names]
            finally:
                _TO_DRAW = ()
        else:
            drawn = []
            for pid in list(self.children):
                drawn += self._result(pid)
            missing = [n for n in self.names if n not in drawn]
            if missing:
                raise RuntimeError(f"the drawing processes did not draw {', '.join(missing)}")
            done = [self.folder / n for n in drawn]
        return [p for n in FIGURES for p in done if p.name == n]

    def _result(self, pid: int) -> list[str]:
        """The names drawn by the drawing process ``pid``, once it has ended; its error, raised here."""
        import os
        import pickle
        with os.fdopen(self.children[pid], "rb") as f:
            data = f.read()
        del self.children[pid]
        _, status = os.waitpid(pid, 0)
        if not data:
            raise RuntimeError(f"a drawing process ended without a result (exit status "
                               f"{os.waitstatus_to_exitcode(status)})")
        kind, value = pickle.loads(data)
        if kind == "error":
            raise RuntimeError(f"drawing a figure failed: {value}")
        return value

    def _stop(self) -> None:
        """Kill the drawing processes still running and reap them."""
        import os
        import signal
        for pid, fd in list(self.children.items()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass
            try:
                os.close(fd)
            except OSError:
                pass
        self.children.clear()

    def __exit__(self, kind, value, tb):
        self._stop()
        return False
