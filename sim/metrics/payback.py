"""Payback and investment headroom: cumulative paired cost differences by horizon year."""
from __future__ import annotations

import pandas as pd

from .stats import cached_table, t_interval


def cumulative_paired(res, kpi: str) -> dict[str, pd.DataFrame]:
    """Per scenario (not the reference): the paired difference in a yearly KPI from the reference,
    cumulated over the horizon years (rows: replications, columns: years)."""
    k = res.kpis
    k = k[(k.period == "year") & (k.kpi == kpi)]
    ref = k[k.scenario == res.reference].set_index(["replication", "year"])["value"]
    out = {}
    for sc in res.arms:
        if sc != res.reference:
            arm = k[k.scenario == sc].set_index(["replication", "year"])["value"]
            out[sc] = (arm - ref).dropna().unstack("year").sort_index(axis=1).cumsum(axis=1)
    return out


def payback(res) -> pd.DataFrame:
    """Cumulative paired cost difference (scenario - reference) by horizon year, investments included.

    A negative cumulative difference means the scenario has paid back its extra spending by then. Computed once
    per Results; callers get a copy.
    """
    return cached_table(res, "_payback", res.kpis, _payback)


def _payback(res) -> pd.DataFrame:
    rows = []
    for sc, d in cumulative_paired(res, "cost_total_dkk").items():
        for year in d.columns:
            m, lo, hi, n = t_interval(d[year].to_numpy(dtype=float))
            rows.append((sc, int(year), m, lo, hi, n))
    return pd.DataFrame(rows, columns=["scenario", "year", "cum_cost_diff_dkk", "ci_low", "ci_high", "n"])


def payback_years(res) -> pd.DataFrame:
    """Per scenario: the first horizon year by which it has paid back (with 95 % confidence, and in the mean), and
    its cumulative difference at the end of the horizon."""
    p = payback(res)
    out = []
    for sc, g in p.groupby("scenario", sort=False):
        g = g.sort_values("year")
        sure = g[g.ci_high < 0]
        likely = g[g.cum_cost_diff_dkk < 0]
        out.append((sc, int(sure.year.iloc[0]) if len(sure) else None, int(likely.year.iloc[0]) if len(likely) else None,
                    float(g.cum_cost_diff_dkk.iloc[-1])))
    df = pd.DataFrame(out, columns=["scenario", "paid_back_by_year_95pct", "paid_back_by_year_mean", "cum_cost_diff_end_dkk"])
    for col in ("paid_back_by_year_95pct", "paid_back_by_year_mean"):
        df[col] = df[col].astype("Int64")       # whole years; <NA> = not within the horizon
    return df


def headroom(res) -> pd.DataFrame:
    """Investment headroom by horizon year: what each scenario's operating saving has accumulated - its
    paired cost difference from the reference with scenario investments (cost_investment_dkk) left out,
    sign turned so that a saving is positive. It is the most the scenario's investments could total by then
    for it still to have paid back; ``investment_dkk`` is what its files plan by then, and
    ``margin_dkk`` = headroom - investment is minus the cumulative difference of ``payback``. The model
    treats investments as cost only (they do not change what happens to children), so the arithmetic holds
    for any amount; what an investment buys is in the scenario's parameters. Computed once per Results; callers
    get a copy."""
    return cached_table(res, "_headroom", res.kpis, _headroom)


def _headroom(res) -> pd.DataFrame:
    total = cumulative_paired(res, "cost_total_dkk")
    invest = cumulative_paired(res, "cost_investment_dkk")
    rows = []
    for sc, d in total.items():
        saving = invest[sc] - d                   # operating saving = -(total difference - investment difference)
        for year in saving.columns:
            m, lo, hi, n = t_interval(saving[year].to_numpy(dtype=float))
            inv = float(invest[sc][year].mean())
            rows.append((sc, int(year), m, lo, hi, inv, m - inv, n))
    return pd.DataFrame(rows, columns=["scenario", "year", "headroom_dkk", "ci_low", "ci_high", "investment_dkk",
                                       "margin_dkk", "n"])
