"""Payback to the month: the cumulative paired cost difference month by month, undiscounted and discounted.

:mod:`sim.metrics.payback` works on the yearly KPIs and so can say only *by which horizon year* a scenario
has paid back. Here the monthly cost series of the run (``res.timeseries``: ``cost_dkk`` of every step,
and ``cost_caseworkers_dkk``, ``cost_assessments_dkk``, ``cost_investment_dkk`` of the team, step
``all``) - the same money as ``cost_total_dkk`` - are summed per (scenario, replication, horizon month),
paired with the reference by replication, averaged over replications and cumulated. Discounting is as in
:mod:`sim.metrics.kpis`: month m (0 = the first horizon month) counts with (1 + r) ** -((m + 0.5) / 12), r
the arm's ``costs.discount_rate_per_year``, so the discounted sum of a year equals the paired difference of
``cost_total_discounted_dkk``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.units import MONTHS_PER_YEAR
from .stats import cached_table

TEAM_COSTS = ["cost_caseworkers_dkk", "cost_assessments_dkk", "cost_investment_dkk"]


def monthly_cost(res) -> pd.DataFrame:
    """Total cost per (scenario, replication, horizon month), rows: (scenario, replication), columns:
    month (0 = the first horizon month); the discounted total in a second frame. Returns (total, discounted)."""
    ts = res.timeseries
    h = ts[ts["month"] >= 0]
    sel = h[((h["step"] != "all") & (h["metric"] == "cost_dkk")) | ((h["step"] == "all") & h["metric"].isin(TEAM_COSTS))]
    total = sel.pivot_table(index=["scenario", "replication"], columns="month", values="value", aggfunc="sum")
    total = total.sort_index(axis=1)
    months = total.columns.to_numpy(dtype=float)
    rate = total.index.get_level_values("scenario").map(
        lambda sc: res.plan.arms[sc].costs.discount_rate_per_year).to_numpy(dtype=float)
    factor = (1 + rate[:, None]) ** (-(months[None, :] + 0.5) / MONTHS_PER_YEAR)
    return total, total * factor


def monthly_payback(res) -> pd.DataFrame:
    """Per scenario (not the reference) and horizon month (1 = the first): the paired cost difference from the
    reference, mean over replications, and its running sum - undiscounted and discounted."""
    total, disc = monthly_cost(res)
    rows = []
    for sc in res.arms:
        if sc == res.reference:
            continue
        parts = {}
        for name, frame in (("diff_dkk", total), ("diff_discounted_dkk", disc)):
            d = (frame.loc[sc] - frame.loc[res.reference]).dropna(how="all")
            parts[name] = d.mean(axis=0).to_numpy(dtype=float)
        month = total.columns.to_numpy(dtype=int) + 1
        rows.append(pd.DataFrame({"scenario": sc, "month": month, "diff_dkk": parts["diff_dkk"],
                                  "cum_diff_dkk": np.cumsum(parts["diff_dkk"]),
                                  "diff_discounted_dkk": parts["diff_discounted_dkk"],
                                  "cum_diff_discounted_dkk": np.cumsum(parts["diff_discounted_dkk"])}))
    cols = ["scenario", "month", "diff_dkk", "cum_diff_dkk", "diff_discounted_dkk", "cum_diff_discounted_dkk"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def _first_negative(cum: np.ndarray, month: np.ndarray) -> int | None:
    below = np.flatnonzero(cum < 0)
    return int(month[below[0]]) if len(below) else None


def payback_months(res) -> pd.DataFrame:
    """Per scenario: the first horizon month (1 = the first) by whose end the mean cumulative paired cost
    difference, investments included, is below zero - undiscounted and discounted (<NA>: not within the
    horizon) - and both cumulative differences at the horizon's end. The monthly counterpart of
    ``payback_years``' mean column. (Computed once per run: the workbook, the report, the summary and the
    break-even figure all ask for it.)"""
    return cached_table(res, "_payback_months", res.timeseries, _payback_months)


def _payback_months(res) -> pd.DataFrame:
    m = monthly_payback(res)
    out = []
    for sc, g in m.groupby("scenario", sort=False):
        month = g["month"].to_numpy()
        out.append((sc, _first_negative(g["cum_diff_dkk"].to_numpy(), month),
                    _first_negative(g["cum_diff_discounted_dkk"].to_numpy(), month),
                    float(g["cum_diff_dkk"].iloc[-1]), float(g["cum_diff_discounted_dkk"].iloc[-1])))
    df = pd.DataFrame(out, columns=["scenario", "paid_back_month", "paid_back_month_discounted",
                                    "cum_cost_diff_end_dkk", "cum_cost_diff_discounted_end_dkk"])
    for col in ("paid_back_month", "paid_back_month_discounted"):
        df[col] = df[col].astype("Int64")
    return df
