"""Numbers for people: formatting, and the summary, comparison, payback and headroom tables as text cells.

Every table function takes ``language``: None (the default) keeps the machine view - KPI ids, scenario names,
English numbers (12.3M, 4,567) - that ``summary.txt`` and notebooks print; "da" or "en" gives the view for
people of the HTML report: KPI names and scenario titles in the language, Danish numbers with a decimal
comma and a thousands point (12,3 mio., 4.567) and intervals written [low; high].
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.i18n import danish_separators, denoised, fmt_da, kpi_label, scenario_title, t, unit_label
from ..common.kpi_catalog import HEADLINE
from ..metrics.budget import budget, budget_difference
from ..metrics.payback import headroom, payback, payback_years
from ..metrics.targets import calibration
from .danish import item_label, step_labels


def fmt(v: float) -> str:
    """A number as a person reads it: 12.3M, 4,567, 45.6, 0.12; '-' for a missing one."""
    if v is None or not np.isfinite(v):
        return "-"
    v = denoised(v)
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:,.1f}M"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:,.1f}"
    return f"{v:,.2f}"


def num(v: float, language: str | None = None) -> str:
    """A number for people in a language: fmt's 12.3M / 4,567 (None, "en"), fmt_da's 12,3 mio. / 4.567 ("da")."""
    return fmt_da(v) if language == "da" else fmt(v)


def on_scale(v: float, like: float, language: str | None = None) -> str:
    """``v`` written on the scale :func:`num` writes ``like`` on, so that an interval's ends read as its mean
    does: in millions ('-12.2M', '-0.1M') when the mean is in millions, else never in millions ('-12,200,000')."""
    v = denoised(v)
    if v is None or not np.isfinite(v) or v == 0 or like is None or not np.isfinite(like):
        return num(v, language)
    da, a = language == "da", abs(like)
    if a >= 1e9 and da:
        return danish_separators(f"{v / 1e9:,.1f}") + " mia."
    if a >= 1e6:
        return danish_separators(f"{v / 1e6:,.1f}") + " mio." if da else f"{v / 1e6:,.1f}M"
    if abs(v) >= 1e6:
        text = f"{v:,.0f}"
        return danish_separators(text) if da else text
    return num(v, language)


def cell(mean: float, lo: float, hi: float, language: str | None = None) -> str:
    """'mean [low, high]' (Danish: 'mean [low; high]', the comma being the decimal sign); the ends on the mean's
    scale (:func:`on_scale`): '-6.2M [-12.2M, -0.1M]', not '-6.2M [-12.2M, -73,967]'."""
    sep = ";" if language == "da" else ","
    return f"{num(mean, language)} [{on_scale(lo, mean, language)}{sep} {on_scale(hi, mean, language)}]"


def money(v: float, language: str | None = "en", signed: bool = False) -> str:
    """An amount of money in words: '12,3 mio. kr.' (da), 'DKK 12.3M' (en); with ``signed`` a leading + or
    a minus sign (U+2212) - the amount's absolute value otherwise, the sign being said in words."""
    if v is None or not np.isfinite(v):
        return "-"
    v = denoised(v)
    text = fmt_da(abs(v), money=True) if language == "da" else f"DKK {fmt(abs(v))}"
    if not signed or v == 0:
        return text
    return ("+" if v > 0 else "\u2212") + text


def percent(share: float, language: str | None = "en", digits: int = 0) -> str:
    """A share as a percentage: 0.123 -> '12 %' ('12,3 %' in Danish with digits=1)."""
    if share is None or not np.isfinite(share):
        return "-"
    text = f"{100 * denoised(share):,.{digits}f}"
    return (text.replace(".", ",") if language == "da" else text) + " %"


def arm_names(res, language: str | None) -> dict[str, str]:
    """Column names of the arms: their names (language None), else their titles in the language."""
    return {a: a if language is None else scenario_title(a, language) for a in res.arms}


def _rows(kpis: list[str], res, language: str | None) -> dict[str, str]:
    labels = step_labels(res, language) if language else {}
    return {k: k if language is None else kpi_label(k, language, labels) for k in kpis}


def format_summary(res, period: str = "horizon", kpis: list[str] | None = None,
                   language: str | None = None) -> pd.DataFrame:
    """Mean [95 % interval] per KPI (rows) and scenario (columns); see the module docstring for language."""
    s = res.summary
    kpis = kpis or HEADLINE
    s = s[(s.period == period) & s.kpi.isin(kpis)]
    if period == "year":
        s = s.assign(scenario=s.scenario + " y" + s.year.astype(str))
    cells = [cell(m, lo, hi, language) for m, lo, hi in zip(s["mean"], s["ci_low"], s["ci_high"])]
    w = s.assign(cell=cells).pivot(index="kpi", columns="scenario", values="cell")
    cols = [a for a in res.arms if a in w.columns] if period != "year" else list(w.columns)
    w = w.reindex(index=[k for k in kpis if k in w.index], columns=cols)
    if language is not None:
        w = w.rename(index=_rows(list(w.index), res, language), columns=arm_names(res, language))
        w.index.name, w.columns.name = t("kpi", language), None
    return w


def format_comparison(res, period: str = "horizon", kpis: list[str] | None = None,
                      language: str | None = None) -> pd.DataFrame:
    """Paired difference from the reference, mean [95 % interval], per KPI (rows) and scenario (columns)."""
    c = res.comparison
    if c.empty:
        return pd.DataFrame()
    kpis = kpis or HEADLINE
    c = c[(c.period == period) & c.kpi.isin(kpis)]
    cells = [cell(m, lo, hi, language) for m, lo, hi in zip(c["diff_mean"], c["diff_ci_low"], c["diff_ci_high"])]
    w = c.assign(cell=cells).pivot(index="kpi", columns="scenario", values="cell")
    cols = [a for a in res.arms if a in w.columns]
    w = w.reindex(index=[k for k in kpis if k in w.index], columns=cols)
    if language is not None:
        w = w.rename(index=_rows(list(w.index), res, language), columns=arm_names(res, language))
        w.index.name, w.columns.name = t("kpi", language), None
    return w


def headroom_display(res, language: str | None = None) -> pd.DataFrame:
    """headroom for people: by scenario, 'mean [95 % interval]' per horizon year, then what is planned."""
    h = headroom(res)
    cells = [cell(m, a, b, language) for m, a, b in zip(h.headroom_dkk, h.ci_low, h.ci_high)]
    out = h.assign(cell=cells).pivot(index="scenario", columns="year", values="cell")
    by = "ved udgangen af år" if language == "da" else "by year"
    out.columns = [f"{by} {y}" for y in out.columns]
    last = h[h.year == h.year.max()].set_index("scenario")
    planned = ("planlagt investering, hele perioden" if language == "da" else "planned investment, whole horizon")
    out[planned] = last["investment_dkk"].map(lambda v: num(v, language))
    out = out.loc[[a for a in res.arms if a in out.index]]
    if language is not None:
        out = out.rename(index=arm_names(res, language))
        out.index.name = t("scenario", language)
    return out


def payback_display(res, language: str | None = None) -> pd.DataFrame:
    """payback_years for people: whole years or '-' (not within the horizon), money as 12.3M (12,3 mio.)."""
    py = payback_years(res)
    for col in ("paid_back_by_year_95pct", "paid_back_by_year_mean"):
        py[col] = [("-" if pd.isna(v) else str(int(v))) for v in py[col]]
    py["cum_cost_diff_end_dkk"] = py["cum_cost_diff_end_dkk"].map(lambda v: num(v, language))
    if language is None:
        return py
    py["scenario"] = py["scenario"].map(arm_names(res, language))
    kr = "kr." if language == "da" else "DKK"
    return py.rename(columns={"scenario": t("scenario", language), "paid_back_by_year_95pct": t("paid_back_95", language),
                              "paid_back_by_year_mean": t("paid_back_mean", language),
                              "cum_cost_diff_end_dkk": f"{t('cum_diff_end', language)} ({kr})"})


def _flatten(d, prefix=""):
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = d
    return out


def parameter_changes(res, arm: str) -> list[tuple[str, object, object]]:
    """(key, current practice, the arm's) for every configuration value the arm changes."""
    ref = _flatten({k: v for k, v in res.plan.warmup.model_dump(mode="json").items() if k != "scenario_info"})
    new = _flatten({k: v for k, v in res.plan.arms[arm].model_dump(mode="json").items() if k != "scenario_info"})
    return [(k, ref.get(k), new.get(k)) for k in sorted(set(ref) | set(new)) if ref.get(k) != new.get(k)]


def config_value(v, language: str = "en") -> str:
    """A configuration value for people, as the configuration means it: true/false as yes/no (ja/nej), null as
    '-', a list or pair as 'a; b', numbers with every digit they have (no rounding: 0.0125 stays 0.0125), whole
    ones without '.0', thousands separated; in Danish with a decimal comma and a thousands point."""
    da = language == "da"
    if v is None:
        return "-"
    if isinstance(v, bool):
        return ("ja" if v else "nej") if da else ("yes" if v else "no")
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
        if not np.isfinite(x):
            return "-"
        if x.is_integer() and abs(x) < 1e15:
            text = f"{int(x):,}"
        else:
            text = repr(abs(x))
            if "e" not in text:
                whole, frac = text.split(".")
                text = f"{int(whole):,}.{frac}"
            text = ("-" if x < 0 else "") + text
        return danish_separators(text) if da else text
    if isinstance(v, (list, tuple)):
        return "[" + "; ".join(config_value(x, language) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {config_value(x, language)}" for k, x in v.items()) + "}"
    return str(v)


# ------------------------------------------------------------------------ the report's tables, in a language
def _kr(language: str) -> str:
    return "kr." if language == "da" else "DKK"


def calibration_display(res, language: str = "en") -> pd.DataFrame:
    """The calibration check for people: key figure, its target, the reference's simulated value [95 %
    interval] and the gap in %."""
    cal = calibration(res)
    da = language == "da"
    sim_col = (f"simuleret ({scenario_title(res.reference, language).lower()}), 95 %-interval" if da else
               f"simulated ({scenario_title(res.reference, language).lower()}), 95 % interval")
    return pd.DataFrame({
        t("kpi", language): [kpi_label(k, language) for k in cal["kpi"]],
        "nøgletal (mål)" if da else "key figure (target)": [num(v, language) for v in cal["target"]],
        sim_col: [cell(a, b, c, language) for a, b, c in zip(cal["simulated"], cal["ci_low"], cal["ci_high"])],
        "afvigelse" if da else "gap": [percent(v, language, 1).replace("-", "\u2212") if np.isfinite(v) else "-"
                                       for v in cal["relative_gap"]]})


def budget_display(res, language: str = "en", year: int = 0) -> pd.DataFrame:
    """The reference arm's budget by measure for people: item (steps by their label in the language), count
    with its unit, in, out, unit cost, fixed cost and cost [95 % interval], and the total."""
    b = budget(res)
    b = b[(b.scenario == res.reference) & (b.year == year)].reset_index(drop=True)
    n = lambda v: "" if pd.isna(v) else num(v, language)    # noqa: E731
    kr = _kr(language)
    out = pd.DataFrame({
        t("item", language): [item_label(res, it, language) for it in b["item"]],
        t("count", language): [f"{num(c, language)} {unit_label(u, language)}" if pd.notna(c) else ""
                               for c, u in zip(b["count"], b["count_unit"])],
        t("entries", language): b["entries"].map(n), t("exits", language): b["exits"].map(n),
        f"{t('unit_cost', language)} ({kr})": b["unit_cost_dkk"].map(n),
        f"{t('fixed_cost', language)} ({kr})": b["fixed_cost_dkk"].map(lambda v: num(v, language) if v else ""),
        f"{t('cost', language)} ({kr}) [95 %]": [cell(c, lo, hi, language) if pd.notna(lo) else num(c, language)
                                               for c, lo, hi in zip(b["cost_dkk"], b["cost_ci_low"], b["cost_ci_high"])],
    })
    out.loc[len(out)] = [t("total", language), "", "", "", "", "", num(b["cost_dkk"].sum(), language)]
    return out


def budget_by_year_display(res, language: str = "en", scenario: str | None = None) -> pd.DataFrame:
    """One arm's cost by budget item (rows, in words) and horizon year (columns), with the whole horizon."""
    scenario = scenario or res.reference
    b = budget(res)
    b = b[b.scenario == scenario].assign(label=lambda d: [item_label(res, i, language, scenario) for i in d["item"]])
    wide = b.pivot_table(index="label", columns="year", values="cost_dkk", sort=False)
    wide = wide[[y for y in sorted(wide.columns) if y > 0] + [0]]
    wide.loc[t("total", language)] = wide.sum()
    wide.columns = [f"{t('year_word', language)} {y}" if y else t("whole_horizon", language) for y in wide.columns]
    wide.index.name = t("item", language)
    return wide.map(lambda v: num(v, language))


def budget_difference_display(res, language: str = "en") -> pd.DataFrame:
    """Each scenario's paired cost difference from the reference by budget item over the horizon, mean [95 %
    interval], items in words (rows) by scenario title (columns); empty without scenarios."""
    d = budget_difference(res)
    d = d[d.year == 0]
    if d.empty:
        return pd.DataFrame()
    d = d.assign(cell=[cell(c, lo, hi, language) for c, lo, hi in zip(d.cost_dkk, d.cost_ci_low, d.cost_ci_high)],
                 label=[item_label(res, i, language, s) for s, i in zip(d.scenario, d["item"])])
    wide = d.pivot(index="label", columns="scenario", values="cell")
    wide = wide.loc[list(dict.fromkeys(d["label"])), [a for a in res.arms if a in wide.columns]]
    wide = wide.rename(columns=arm_names(res, language))
    wide.index.name, wide.columns.name = t("item", language), None
    return wide


def payback_by_year_display(res, language: str = "en") -> pd.DataFrame:
    """The cumulative paired cost difference by horizon year, mean [95 % interval], scenario titles (rows)."""
    pb = payback(res)
    cells = [cell(m, lo, hi, language) for m, lo, hi in zip(pb.cum_cost_diff_dkk, pb.ci_low, pb.ci_high)]
    w = pb.assign(cell=cells).pivot(index="scenario", columns="year", values="cell")
    w = w.loc[[a for a in res.arms if a in w.index]].rename(index=arm_names(res, language))
    w.columns = [f"{t('year_word', language)} {y}" for y in w.columns]
    w.index.name = t("scenario", language)
    return w
