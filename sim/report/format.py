"""Numbers for people: formatting, and the summary, comparison, payback and headroom tables as text cells."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.kpi_catalog import HEADLINE
from ..metrics.payback import headroom, payback_years


def fmt(v: float) -> str:
    """A number as a person reads it: 12.3M, 4,567, 45.6, 0.12; '-' for a missing one."""
    if v is None or not np.isfinite(v):
        return "-"
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


def format_summary(res, period: str = "horizon", kpis: list[str] | None = None) -> pd.DataFrame:
    """Mean [95 % interval] per KPI (rows) and scenario (columns)."""
    s = res.summary
    kpis = kpis or HEADLINE
    s = s[(s.period == period) & s.kpi.isin(kpis)]
    if period == "year":
        s = s.assign(scenario=s.scenario + " y" + s.year.astype(str))
    cell = s.apply(lambda r: f"{fmt(r['mean'])} [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]", axis=1)
    t = s.assign(cell=cell).pivot(index="kpi", columns="scenario", values="cell")
    cols = [a for a in res.arms if a in t.columns] if period != "year" else list(t.columns)
    return t.reindex(index=[k for k in kpis if k in t.index], columns=cols)


def format_comparison(res, period: str = "horizon", kpis: list[str] | None = None) -> pd.DataFrame:
    """Paired difference from the reference, mean [95 % interval], per KPI (rows) and scenario (columns)."""
    c = res.comparison
    if c.empty:
        return pd.DataFrame()
    kpis = kpis or HEADLINE
    c = c[(c.period == period) & c.kpi.isin(kpis)]
    cell = c.apply(lambda r: f"{fmt(r['diff_mean'])} [{fmt(r['diff_ci_low'])}, {fmt(r['diff_ci_high'])}]", axis=1)
    t = c.assign(cell=cell).pivot(index="kpi", columns="scenario", values="cell")
    cols = [a for a in res.arms if a in t.columns]
    return t.reindex(index=[k for k in kpis if k in t.index], columns=cols)


def headroom_display(res) -> pd.DataFrame:
    """headroom for people: by scenario, 'mean [95 % interval]' per horizon year, then what is planned."""
    h = headroom(res)
    cell = [f"{fmt(m)} [{fmt(a)}, {fmt(b)}]" for m, a, b in zip(h.headroom_dkk, h.ci_low, h.ci_high)]
    out = h.assign(cell=cell).pivot(index="scenario", columns="year", values="cell")
    out.columns = [f"by year {y}" for y in out.columns]
    last = h[h.year == h.year.max()].set_index("scenario")
    out["planned investment, whole horizon"] = last["investment_dkk"].map(fmt)
    return out.loc[[a for a in res.arms if a in out.index]]


def payback_display(res) -> pd.DataFrame:
    """payback_years for people: whole years or '-' (not within the horizon), money as 12.3M."""
    py = payback_years(res)
    for col in ("paid_back_by_year_95pct", "paid_back_by_year_mean"):
        py[col] = [("-" if pd.isna(v) else str(int(v))) for v in py[col]]
    py["cum_cost_diff_end_dkk"] = py["cum_cost_diff_end_dkk"].map(fmt)
    return py


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
