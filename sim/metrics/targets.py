"""The reference arm against the municipality's key figures (the calibration check), and the closed-form
spending outside the staircase that meets the municipality's spending figure."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.kpi_catalog import TARGET_KPIS

TARGET_LABELS = {"placed_per_1000_0_22": "placed per 1,000 aged 0-22",
                 "spending_per_child_0_22_dkk": "spending per 0-22-year-old per year (DKK; caseworkers not included)",
                 "placement_spending_share": "placements' share of spending",
                 "caseworker_utilisation": "caseworker utilisation (work / standard hours)"}


def _reference_horizon(res) -> pd.DataFrame:
    """The summary of the reference arm over the whole horizon, indexed by KPI."""
    s = res.summary
    return s[(s.scenario == res.reference) & (s.period == "horizon")].set_index("kpi")


def calibration(res) -> pd.DataFrame:
    """The reference arm against the municipality's key figures (the calibration targets)."""
    cfg = res.plan.arms[res.reference]
    t = cfg.municipality.targets
    base = _reference_horizon(res)
    rows = []
    for kpi, field in TARGET_KPIS.items():
        label, target = TARGET_LABELS[kpi], getattr(t, field)
        r = base.loc[kpi]
        rows.append((label, kpi, target, r["mean"], r["ci_low"], r["ci_high"], (r["mean"] - target) / target if target else np.nan))
    return pd.DataFrame(rows, columns=["figure", "kpi", "target", "simulated", "ci_low", "ci_high", "relative_gap"])


def other_spending_meeting_target(res) -> tuple[float, float, float]:
    """costs.other_spending_per_child_0_22_dkk (DKK per 0-22-year-old per year) that makes the reference arm's
    spending_per_child_0_22_dkk equal municipality.targets.spending_per_child_0_22_dkk, with the interval the
    simulated spending's 95 % interval gives: (value, low, high). Closed form - the KPI is the staircase's
    spending plus exactly this amount - so it needs no further run; negative means the staircase alone
    already spends more than the key figure at the configured prices."""
    cfg = res.plan.arms[res.reference]
    target = cfg.municipality.targets.spending_per_child_0_22_dkk
    now = cfg.costs.other_spending_per_child_0_22_dkk
    r = _reference_horizon(res).loc["spending_per_child_0_22_dkk"]
    return (target - (float(r["mean"]) - now), target - (float(r["ci_high"]) - now),
            target - (float(r["ci_low"]) - now))
