"""The reference arm against the municipality's key figures (the calibration check)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.kpi_catalog import TARGET_KPIS

TARGET_LABELS = {"placed_per_1000_0_22": "placed per 1,000 aged 0-22",
                 "cost_per_child_0_22_dkk": "spending per 0-22-year-old per year (DKK)",
                 "placement_cost_share": "placements' share of spending",
                 "caseworker_utilisation": "caseworker utilisation (work / standard hours)"}


def calibration(res) -> pd.DataFrame:
    """The reference arm against the municipality's key figures (the calibration targets)."""
    cfg = res.plan.arms[res.reference]
    t = cfg.municipality.targets
    s = res.summary
    base = s[(s.scenario == res.reference) & (s.period == "horizon")].set_index("kpi")
    rows = []
    for kpi, field in TARGET_KPIS.items():
        label, target = TARGET_LABELS[kpi], getattr(t, field)
        r = base.loc[kpi]
        rows.append((label, kpi, target, r["mean"], r["ci_low"], r["ci_high"], (r["mean"] - target) / target if target else np.nan))
    return pd.DataFrame(rows, columns=["figure", "kpi", "target", "simulated", "ci_low", "ci_high", "relative_gap"])
