"""The budget by measure as tables for people (the numbers are in ``sim.metrics.budget``)."""
from __future__ import annotations

import pandas as pd

from ..metrics.budget import budget, budget_difference
from .format import fmt

def budget_tables(res, year: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For people: the reference arm's budget for a year (0 = horizon), and each arm's paired cost
    difference by item (empty without other arms)."""
    b = budget(res)
    b = b[(b.scenario == res.reference) & (b.year == year)].reset_index(drop=True)
    num = lambda v: "" if pd.isna(v) else fmt(v)   # noqa: E731
    show = pd.DataFrame({
        "item": b["label"],
        "count": [f"{fmt(c)} {u}" if pd.notna(c) else "" for c, u in zip(b["count"], b["count_unit"])],
        "in": b["entries"].map(num),
        "out": b["exits"].map(num),
        "unit cost": b["unit_cost_dkk"].map(num),
        "fixed": b["fixed_cost_dkk"].map(lambda v: fmt(v) if v else ""),
        "cost [95 % interval]": [f"{fmt(c)} [{fmt(lo)}, {fmt(hi)}]" if pd.notna(lo) else fmt(c)
                                 for c, lo, hi in zip(b["cost_dkk"], b["cost_ci_low"], b["cost_ci_high"])],
    })
    show.loc[len(show)] = ["Total", "", "", "", "", "", fmt(b["cost_dkk"].sum())]
    d = budget_difference(res)
    d = d[d.year == year]
    wide = pd.DataFrame()
    if not d.empty:
        d = d.assign(cell=[f"{fmt(c)} [{fmt(lo)}, {fmt(hi)}]" for c, lo, hi in zip(d.cost_dkk, d.cost_ci_low, d.cost_ci_high)])
        wide = d.pivot(index="label", columns="scenario", values="cell")
        wide = wide.loc[list(dict.fromkeys(d["label"])), [a for a in res.arms if a in wide.columns]]
        wide.index.name, wide.columns.name = "item", None
    return show, wide


def budget_by_year(res, scenario: str | None = None) -> pd.DataFrame:
    """For people: one arm's cost by item (rows) and horizon year (columns), with the horizon total."""
    scenario = scenario or res.reference
    b = budget(res)
    b = b[b.scenario == scenario]
    wide = b.pivot_table(index="label", columns="year", values="cost_dkk", sort=False)
    wide = wide[[y for y in sorted(wide.columns) if y > 0] + [0]]
    wide.loc["Total"] = wide.sum()
    wide.columns = [f"year {y}" if y else "horizon" for y in wide.columns]
    wide.index.name = "item"
    return wide.map(fmt)


def budget_text(res, year: int = 0) -> str:
    """budget_tables as text."""
    show, wide = budget_tables(res, year)
    period = "over the horizon" if year == 0 else f"in horizon year {year}"
    lines = [f"Budget of {res.reference} {period}: count x unit cost + fixed = cost (mean of the replications; "
             f"in/out = children arriving on / leaving the step)",
             show.to_string(index=False)]
    if not wide.empty:
        lines += ["", f"Cost difference from {res.reference} by item {period}, paired mean [95 % interval], DKK",
                  wide.to_string()]
    return "\n".join(lines) + "\n"
