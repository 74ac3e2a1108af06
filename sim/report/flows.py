"""The staircase in numbers for the flow picture: per arm and step, children on the step, in and out.

The model records, per step and month, the children arriving on the step (``entries``) and leaving it
(``exits``) and the child-days spent on it, but not where each child came from or went to: origin ->
destination pairs cannot be rebuilt from the time series, and the per-child ledger (``res.children``) has
only the steps a child moved onto in the horizon (``served__<step>``, no order) and its step at the end. So
the flow picture is honest about what exists: per step, the average number of children on it over the
horizon (the stock), and the children arriving and leaving per year (the flows), the reference beside each
scenario. The ground step (no measure) is left out, as in the budget.

Drawn by :func:`sim.report.plots.staircase_flows`; the numbers are the budget's
(:func:`sim.metrics.budget.budget_replications`: ``count`` = child-years on the step), averaged over the
replications.
"""
from __future__ import annotations

import pandas as pd

from ..metrics.budget import budget_replications
from .danish import step_labels


def step_flows(res, language: str = "en") -> pd.DataFrame:
    """Per arm (in the run's order) and step above the ground step (least intrusive first): ``label`` (in the
    language), ``placement``, ``stock`` (children on the step, time-averaged over the horizon), and
    ``entries_per_year`` / ``exits_per_year`` (children arriving on / leaving the step per horizon year) -
    means over the replications."""
    years = res.plan.arms[res.reference].run.horizon_years
    b = budget_replications(res)
    rows = []
    for arm in res.arms:
        sc = res.plan.arms[arm].staircase
        labels = step_labels(res, language, arm)
        steps = sorted((s for s in sc.steps if s != sc.ground_step), key=lambda s: sc.steps[s].order)
        d = b[(b.scenario == arm) & (b.year == 0) & b["item"].isin(steps)]
        mean = d.groupby("item")[["count", "entries", "exits"]].mean()
        for s in steps:
            if s not in mean.index:
                continue
            rows.append((arm, s, sc.steps[s].order, labels[s], sc.steps[s].placement, mean.loc[s, "count"] / years,
                         mean.loc[s, "entries"] / years, mean.loc[s, "exits"] / years))
    return pd.DataFrame(rows, columns=["scenario", "step", "order", "label", "placement", "stock", "entries_per_year",
                                       "exits_per_year"])
