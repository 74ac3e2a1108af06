"""The budget by measure, for finance staff: counts x unit costs, with inflow and outflow, per year.

Finance staff in the municipalities build budgets as *counts x average unit costs* per measure type,
with forecasts of expected inflow and outflow [003 ch. 5]. This module turns a run's monthly time
series into exactly that, for every arm and horizon year (year 0 = the whole horizon):

* one row per step of the staircase (except the ground step): ``count`` = child-years on the step
  (the average number of children on it over the year), ``entries`` and ``exits`` (children arriving
  on and leaving the step), ``unit_cost_dkk`` = the step's price per child-year (in a period in which the
  price changed - a later implementation.start_month, a ramp - the average price booked), ``fixed_cost_dkk``
  = its fixed cost for the period, and ``cost_dkk`` = count x unit cost + fixed cost;
* ``caseworkers``: FTE-years x cost per FTE-year; ``assessments``: assessments x cost per
  assessment (beyond caseworker time); ``investment``: the scenario's investment;

each a mean over replications, cost with its 95 % interval. The rows add up to ``cost_total_dkk``.
:func:`budget_difference` gives each arm minus the reference arm, paired by replication (common random
numbers), row by row: where a scenario's saving or extra cost comes from.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.units import DAYS_PER_YEAR, MONTHS_PER_YEAR
from .stats import cached_table, groups, t_interval

MEASURES = ["count", "entries", "exits", "fixed_cost_dkk", "cost_dkk"]
TEAM_ITEMS = {   # item: (count metric, cost metric, count unit, label)
    "caseworkers": ("caseworkers", "cost_caseworkers_dkk", "FTE-years", "Caseworkers (salary and overhead)"),
    "assessments": ("assessments", "cost_assessments_dkk", "assessments", "Assessments, beyond caseworker time"),
    "investment": (None, "cost_investment_dkk", "", "Scenario investment (one-off, yearly, recruitment under a caseload norm)"),
}
KEYS = ["scenario", "replication", "year", "item"]


def budget_replications(res) -> pd.DataFrame:
    """Per replication: scenario, replication, year (0 = horizon), item, count, entries, exits, cost_dkk.
    Computed once per Results (the tables below, the report and the run folder all use it)."""
    cached = getattr(res, "_budget_replications", None)
    if cached is not None and cached[0] is res.timeseries:
        return cached[1]
    out = _budget_replications(res)
    res._budget_replications = (res.timeseries, out)
    return out


def step_totals(res, h: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sums of the step metrics (child_days, entries, exits, cost_dkk, fixed_cost_dkk) of the time-series rows
    ``h``, by ``by`` and step (as ``item``), every step but the arm's ground step."""
    ground = {name: cfg.staircase.ground_step for name, cfg in res.plan.arms.items()}
    steps = h[(h["step"] != "all") & h["metric"].isin(["child_days", "entries", "exits", "cost_dkk", "fixed_cost_dkk"])]
    steps = steps[steps["step"] != steps["scenario"].map(ground)]
    return (steps.pivot_table(index=[*by, "step"], columns="metric", values="value", aggfunc="sum", sort=False)
            .reset_index().rename(columns={"step": "item"}))


def _budget_replications(res) -> pd.DataFrame:
    ts = res.timeseries
    h = ts[ts["month"] >= 0].assign(year=lambda d: d["month"] // MONTHS_PER_YEAR + 1)
    s = step_totals(res, h, ["scenario", "replication", "year"])
    s["count"] = s.pop("child_days") / DAYS_PER_YEAR
    frames = [s[KEYS + MEASURES]]
    team = h[h["step"] == "all"]
    for item, (count_metric, cost_metric, _, _) in TEAM_ITEMS.items():
        t = team[team["metric"].isin([m for m in (count_metric, cost_metric) if m])]
        w = t.pivot_table(index=["scenario", "replication", "year"], columns="metric", values="value",
                          aggfunc="sum", sort=False).reset_index()
        if item == "caseworkers":              # FTE at each month end, summed over months -> FTE-years
            w["count"] = w[count_metric] / MONTHS_PER_YEAR
        else:
            w["count"] = w[count_metric] if count_metric else np.nan
        w = w.assign(item=item, entries=np.nan, exits=np.nan, cost_dkk=w[cost_metric], fixed_cost_dkk=0.0)
        frames.append(w[KEYS + MEASURES])
    by_year = pd.concat(frames, ignore_index=True)
    horizon = (by_year.groupby(["scenario", "replication", "item"], sort=False)[MEASURES]
               .sum(min_count=1).reset_index().assign(year=0))
    out = pd.concat([by_year, horizon[KEYS + MEASURES]], ignore_index=True)
    order = {name: i for i, name in enumerate(res.arms)}
    return out.sort_values(["scenario", "year", "replication"], key=lambda c: c.map(order) if c.name == "scenario" else c,
                           kind="stable").reset_index(drop=True)


def prices(res, scenario: str, item: str, years: float) -> tuple[str, str, float, float]:
    """(label, count unit, unit cost, fixed cost for the period) from the arm's configuration."""
    cfg = res.plan.arms[scenario]
    if item in TEAM_ITEMS:
        _, _, unit, label = TEAM_ITEMS[item]
        price = {"caseworkers": cfg.costs.caseworker_cost_per_year_dkk,
                 "assessments": cfg.costs.assessment_cost_dkk}.get(item, np.nan)
        return label, unit, price, 0.0
    st = cfg.staircase.steps[item]
    return st.label_en, "child-years", st.cost_per_year_dkk, st.fixed_cost_per_year_dkk * years


def booked_unit_cost(b: pd.DataFrame, configured: np.ndarray) -> np.ndarray:
    """The unit cost of each budget row such that count x unit cost + fixed cost = cost: the configured price
    where that is what was booked over the period, else what was booked per unit on average - a period in which
    the price changed (an implementation.start_month or ramp_months: the warm-up's prices before the arm's, or
    a ramp's stages) has the average of the prices in force, weighted by the units booked at each."""
    count = b["count"].to_numpy(dtype=float)
    variable = b["cost_dkk"].to_numpy(dtype=float) - b["fixed_cost_dkk"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        booked = np.where(count > 0, variable / count, np.nan)
    same = ~np.isfinite(booked) | np.isclose(booked, configured, rtol=1e-9, atol=1e-6)
    return np.where(same, configured, booked)


def prices_change(res) -> bool:
    """Whether a price can change within a budget year: an arm whose practice starts after the horizon start or
    ramps up (its unit costs of those years are then averages of the prices booked, see booked_unit_cost)."""
    return any(a.implementation.start_month > 0 or a.implementation.ramp_months > 1 for a in res.plan.arms.values())


def _intervals(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    rows = []
    values = {m: df[m].to_numpy(dtype=float) for m in MEASURES}
    keys, positions = groups(df, by)
    for key, pos in zip(keys, positions):
        rec = dict(zip(by, key))
        for m in MEASURES:
            mean, lo, hi, n = t_interval(values[m][pos])
            rec[m] = mean
            if m == "cost_dkk":
                rec["cost_ci_low"], rec["cost_ci_high"], rec["n"] = lo, hi, n
        rows.append(rec)
    return pd.DataFrame(rows)


def budget(res) -> pd.DataFrame:
    """Mean over replications of every budget row, with the prices it rests on (see the module docstring).
    Computed once per Results; callers get a copy."""
    return cached_table(res, "_budget", res.timeseries, _budget)


def _budget(res) -> pd.DataFrame:
    b = _intervals(budget_replications(res), ["scenario", "year", "item"])
    b["cost_ci_low"] = b["cost_ci_low"].clip(lower=0)    # a cost is never negative, nor is its mean
    horizon_years = res.plan.arms[res.reference].run.horizon_years
    info = [prices(res, sc, it, horizon_years if y == 0 else 1.0) for sc, it, y in zip(b.scenario, b["item"], b.year)]
    b.insert(3, "label", [i[0] for i in info])
    b.insert(4, "count_unit", [i[1] for i in info])
    b["unit_cost_dkk"] = booked_unit_cost(b, np.array([i[2] for i in info], dtype=float))
    # fixed_cost_dkk is what was booked (the step's fixed cost, per 1,000 children included, and the recruitment
    # of families for a family pool), the mean over replications
    return b[["scenario", "year", "item", "label", "count_unit", "count", "entries", "exits", "unit_cost_dkk",
              "fixed_cost_dkk", "cost_dkk", "cost_ci_low", "cost_ci_high", "n"]]


def budget_difference(res) -> pd.DataFrame:
    """Each arm minus the reference, paired by replication, for every budget row: mean and 95 % interval.
    Computed once per Results (the report asks for it once per scenario); callers get a copy."""
    return cached_table(res, "_budget_difference", res.timeseries, _budget_difference)


def _budget_difference(res) -> pd.DataFrame:
    per = budget_replications(res)
    ref = per[per["scenario"] == res.reference].drop(columns="scenario")
    others = per[per["scenario"] != res.reference]
    if others.empty:
        return pd.DataFrame(columns=["scenario", "year", "item", "label", *MEASURES, "cost_ci_low", "cost_ci_high", "n"])
    j = others.merge(ref, on=["replication", "year", "item"], suffixes=("", "_ref"))
    for m in MEASURES:
        j[m] = j[m] - j[m + "_ref"]
    d = _intervals(j[["scenario", "replication", "year", "item", *MEASURES]], ["scenario", "year", "item"])
    d.insert(3, "label", [prices(res, sc, it, 1.0)[0] for sc, it in zip(d.scenario, d["item"])])
    return d
