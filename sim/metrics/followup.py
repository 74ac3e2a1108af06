"""The year-end forecast from today's caseload, and the budget follow-up: volume and price [003 ch. 5].

Finance staff follow a budget of *counts x unit prices* per measure through the year and explain each
deviation by *volume* (more or fewer children) and *price* (a dearer or cheaper average measure) [003].

* :func:`forecast_period` - the days from the day after the caseload date (the horizon's start) to the end of
  its budget year (31 December; a caseload with less than half a month left of its year forecasts the next
  whole year, 1 January - 31 December); without a caseload, the first horizon year. The run's monthly series
  are taken pro rata for a month the period covers in part (the share of its days), so the period is the one
  its label names, to the day; a horizon shorter than the period ends it, and the label says so.
* :func:`forecast` - per arm and measure over that period: children on the measure on average, entries,
  exits, the per-child cost and the fixed cost, mean over replications with the 95 % interval of the cost.
* :func:`budget_followup` - the budget (``inputs.Budget``: counts x unit prices for the whole budget year, in
  its own prices) pro rata for the period, against the reference arm's forecast (in the same prices: the
  caller passes the price factor), measure by measure:

      budget    = b_n x b_p x f            forecast = F_n x F_p x f     (f = the period's days / 365.25)
      volume    = (F_n - b_n) x b_p x f    price    = (F_p - b_p) x F_n x f
      deviation = forecast - budget = volume + price                          (exactly)

  where n is children on average and p the price per child-year. In the model a measure's price per
  child-year is its configured price (one price per step), so the price part shows how the budget's price
  differs from the price list the run uses; with the municipality's own price list in conf/, the split is
  about volume. A measure the budget has no line for (``in_budget`` false) has no budget price: its whole
  forecast is volume (children the budget did not plan for), its price part 0, and its budget price empty.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..common.units import DAYS_PER_MONTH, DAYS_PER_YEAR, budget_year
from .budget import step_totals
from .stats import t_interval

FORECAST_COLUMNS = ["scenario", "item", "months", "count", "entries", "exits", "unit_cost_dkk", "cost_dkk",
                    "fixed_cost_dkk", "cost_ci_low", "cost_ci_high", "n"]
FORECAST_MONEY = ["unit_cost_dkk", "cost_dkk", "fixed_cost_dkk", "cost_ci_low", "cost_ci_high"]
FIRST_YEAR = {"en": "year 1", "da": "år 1"}      # the period without a caseload: the first horizon year


@dataclass(frozen=True)
class ForecastPeriod:
    """The forecast period: from ``start`` to ``end`` days after the horizon's start (the caseload date), its
    label (the dates it covers, or the first horizon year) and its budget year (None without a caseload)."""
    start: float
    end: float
    label: str
    year: int | None
    cut: bool = False           # the horizon ends before the budget year does

    @property
    def days(self) -> float:
        """The period's length in days."""
        return self.end - self.start

    @property
    def months(self) -> float:
        """The period's length in (average) months."""
        return self.days / DAYS_PER_MONTH

    @property
    def share_of_year(self) -> float:
        """The share of a year the period is: a yearly budget pro rata (f in the module docstring)."""
        return self.days / DAYS_PER_YEAR

    def month_weights(self, n_months: int) -> np.ndarray:
        """The share of each horizon month (0 .. n_months - 1) that lies in the period."""
        lo = np.arange(n_months) * DAYS_PER_MONTH
        return np.clip((np.minimum(lo + DAYS_PER_MONTH, self.end) - np.maximum(lo, self.start)) / DAYS_PER_MONTH, 0, 1)


def forecast_period(plan, language: str = "en") -> ForecastPeriod:
    """The forecast period: from the day after the caseload date to the end of its budget year, or the first
    horizon year (budget year None; 'year 1', in ``language``) without a caseload (see the module docstring)."""
    horizon = plan.arms[plan.reference].run.horizon_years * DAYS_PER_YEAR
    if plan.caseload is None:
        return ForecastPeriod(0.0, min(DAYS_PER_YEAR, horizon), FIRST_YEAR.get(language, FIRST_YEAR["en"]), None)
    d = plan.caseload.date
    year, start = budget_year(d)                    # (almost) no year left: the next budget year
    first = d + dt.timedelta(days=start + 1)
    last = dt.date(year, 12, 31)
    end = start + (last - first).days + 1
    cut = end > horizon
    if cut:                                         # the run ends before the budget year does
        end = horizon
        last = d + dt.timedelta(days=int(horizon))
    return ForecastPeriod(float(start), float(end), f"{first.isoformat()} - {last.isoformat()}", year, cut)


def _per_replication(res, period: ForecastPeriod) -> pd.DataFrame:
    ts = res.timeseries
    h = ts[ts["month"] >= 0]
    weight = period.month_weights(int(h["month"].max()) + 1 if len(h) else 0)
    h = h[weight[h["month"].to_numpy()] > 0]
    h = h.assign(value=h["value"] * weight[h["month"].to_numpy()])    # a month the period covers in part: pro rata
    w = step_totals(res, h, ["scenario", "replication"])
    w["count"] = w.pop("child_days") / period.days          # children on the measure on average over the period
    w["cost_dkk"] = w["cost_dkk"] - w["fixed_cost_dkk"]    # the per-child part: count x price
    return w


def forecast(res, factor: float = 1.0) -> pd.DataFrame:
    """Per arm and measure over the forecast period (forecast_period): see the module docstring. Money in
    ``costs.price_year`` prices x ``factor`` (the caller's price year: sim.report.followup.followup_prices)."""
    period = forecast_period(res.plan)
    w = _per_replication(res, period)
    rows = []
    for (sc, item), g in w.groupby(["scenario", "item"], sort=False):
        mean, lo, hi, n = t_interval(g["cost_dkk"].to_numpy(dtype=float))
        count = float(g["count"].mean())
        child_years = count * period.share_of_year
        rows.append({"scenario": sc, "item": item, "months": round(period.months, 2), "count": count,
                     "entries": float(g["entries"].mean()), "exits": float(g["exits"].mean()),
                     "unit_cost_dkk": mean / child_years if child_years > 0 else np.nan, "cost_dkk": mean,
                     "fixed_cost_dkk": float(g["fixed_cost_dkk"].mean()), "cost_ci_low": max(lo, 0.0) if n > 1 else lo,
                     "cost_ci_high": hi, "n": n})
    out = pd.DataFrame(rows, columns=FORECAST_COLUMNS)
    out[FORECAST_MONEY] = out[FORECAST_MONEY] * factor
    order = {name: i for i, name in enumerate(res.arms)}
    steps = {name: i for i, name in enumerate(res.plan.arms[res.reference].staircase.steps)}
    return (out.assign(_a=out.scenario.map(order), _s=out["item"].map(steps)).sort_values(["_a", "_s"])
            .drop(columns=["_a", "_s"]).reset_index(drop=True))


def budget_followup(res, factor: float = 1.0, budget_factor: float = 1.0) -> pd.DataFrame:
    """The budget against the reference arm's forecast, measure by measure, with the deviation split into
    volume and price (module docstring), all money in one year's prices: the forecast's x ``factor``, the
    budget's x ``budget_factor`` (1 when that year is the budget's own); the last row ('total') sums them. Empty without a budget. ``in_budget``: whether the budget has a line for the
    measure (module docstring: a measure it has none for is all volume)."""
    b = res.plan.budget
    cols = ["item", "months", "budget_count", "budget_unit_price_dkk", "budget_dkk", "forecast_count",
            "forecast_unit_price_dkk", "forecast_dkk", "deviation_dkk", "volume_dkk", "price_dkk", "in_budget"]
    if b is None:
        return pd.DataFrame(columns=cols)
    period = forecast_period(res.plan)
    months, f = round(period.months, 2), period.share_of_year
    fc = forecast(res)
    fc = fc[fc.scenario == res.reference].set_index("item")
    lines = {ln.step: ln for ln in b.lines}
    items = list(dict.fromkeys([*lines, *fc.index]))
    steps = {name: i for i, name in enumerate(res.plan.arms[res.reference].staircase.steps)}
    rows = []
    for item in sorted(items, key=steps.get):
        fn = float(fc.at[item, "count"]) if item in fc.index else 0.0
        fcost = float(fc.at[item, "cost_dkk"]) * factor if item in fc.index else 0.0
        fp = fcost / (fn * f) if fn > 0 else np.nan     # no child on the measure: no price (as the forecast's)
        if item in lines:
            bn, bp = lines[item].count, lines[item].unit_price_dkk * budget_factor
            budget_dkk = bn * bp * f
            volume = (fn - bn) * bp * f
        else:                        # no budget line: no budget price; the children are all unplanned volume
            bn, bp, budget_dkk, volume = 0.0, np.nan, 0.0, fcost
        rows.append([item, months, bn, bp, budget_dkk, fn, fp, fcost, fcost - budget_dkk, volume,
                     fcost - budget_dkk - volume, item in lines])
    out = pd.DataFrame(rows, columns=cols)
    total = out[["budget_count", "budget_dkk", "forecast_count", "forecast_dkk", "deviation_dkk", "volume_dkk",
                 "price_dkk"]].sum()
    out.loc[len(out)] = {"item": "total", "months": months, **total.to_dict(),
                         "budget_unit_price_dkk": np.nan, "forecast_unit_price_dkk": np.nan,
                         "in_budget": bool(out["in_budget"].all())}
    out["in_budget"] = out["in_budget"].astype(bool)
    return out


def unbudgeted(followup: pd.DataFrame) -> pd.DataFrame:
    """The rows of a budget follow-up (budget_followup) for measures with a forecast the budget has no line for."""
    rows = followup[(followup["item"] != "total") & ~followup["in_budget"].astype(bool)]
    return rows[rows["forecast_dkk"] != 0]
