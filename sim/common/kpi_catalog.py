"""The KPI catalogue: every KPI's unit, how it aggregates over the horizon, and its definition.

Pure data, shared by the configuration (which KPIs a calibration or an analysis may name), the
metrics (which compute them) and the report (which prints them).
"""
from __future__ import annotations

# name: (unit, horizon aggregation, description). "sum" = total over the horizon years,
# "mean" = mean of the yearly values, "pooled" = recomputed from the horizon's pooled counts.
KPI_DEFS: dict[str, tuple[str, str, str]] = {
    "placed_per_1000_0_17": ("per 1,000 children 0-17", "mean", "Children aged 0-17 in a placement step (time-averaged stock) per 1,000 children aged 0-17."),
    "placed_per_1000_0_22": ("per 1,000 aged 0-22", "mean", "Children and young people aged 0-22 in a placement step, incl. aftercare (time-averaged) per 1,000 aged 0-22; comparable with the key figure of [003 Table 1.1]."),
    "new_placements": ("children", "sum", "Moves from a non-placement step into a placement step."),
    "cost_total_dkk": ("DKK", "sum", "All costs: per-child step costs, fixed step costs, caseworkers, assessments and scenario investments."),
    "cost_total_discounted_dkk": ("DKK (discounted to the horizon start)", "sum", "cost_total_dkk discounted monthly at costs.discount_rate_per_year."),
    "cost_per_child_0_22_dkk": ("DKK per 0-22-year-old per year", "mean", "cost_total_dkk per inhabitant aged 0-22; comparable with spending per 0-22-year-old [003 Table 1.1]."),
    "cost_placements_dkk": ("DKK", "sum", "Costs of placement steps (per-child and fixed)."),
    "placement_cost_share": ("share", "pooled", "cost_placements_dkk / cost_total_dkk."),
    "cost_caseworkers_dkk": ("DKK", "sum", "Caseworker team (FTE x cost per year)."),
    "cost_investment_dkk": ("DKK", "sum", "Scenario investments (one-off at the horizon start, yearly from implementation.start_month) and recruitment of caseworkers added under a caseload norm."),
    "open_cases": ("cases", "mean", "Open cases (time-averaged)."),
    "cases_per_caseworker": ("cases per FTE", "mean", "open_cases / caseworkers (FTE)."),
    "followup_on_time_share": ("share", "pooled", "Follow-ups due in the period that started within casework.on_time_grace_days of the due date; follow-ups still waiting at the end count as late."),
    "followup_slip_days": ("days", "pooled", "Mean days from a follow-up's due date to its start."),
    "followup_work_share": ("share", "pooled", "Mean share of its standard hours a follow-up got: 1 unless the team was heavily backlogged (casework.overload); a thinner follow-up catches a change of need only with that probability."),
    "assessment_wait_days": ("days", "pooled", "Mean days from notification to the start of the assessment (triage included)."),
    "notifications": ("notifications", "sum", "Detections by universal services (new cases and reviews of open cases)."),
    "assessments": ("assessments", "sum", "Child-professional assessments (s. 50) completed."),
    "step_ups": ("moves", "sum", "Moves of a child already on a measure to a higher step."),
    "step_downs": ("moves", "sum", "Moves of a child on a measure to a lower step, including ending the measure."),
    "breakdowns": ("breakdowns", "sum", "Placement breakdowns."),
    "returns_home": ("moves", "sum", "Moves from a placement step to a non-placement step."),
    "caseworkers": ("FTE", "mean", "Caseworker team size."),
}
STEP_KPIS = {
    "cost_dkk__": ("DKK", "sum", "Cost of the step (per-child and fixed)."),
    "child_days__": ("child-days", "sum", "Days children spent on the step."),
}

# KPIs with a key figure in municipality.targets: KPI name -> target field
TARGET_KPIS = {
    "placed_per_1000_0_22": "placed_per_1000_0_22",
    "cost_per_child_0_22_dkk": "spending_per_child_0_22_dkk",
    "placement_cost_share": "placement_share_of_spending",
}

# the KPIs a person reads first (printed tables, the report)
HEADLINE = ["placed_per_1000_0_17", "placed_per_1000_0_22", "new_placements", "cost_total_dkk",
            "cost_total_discounted_dkk", "cost_per_child_0_22_dkk", "placement_cost_share", "open_cases",
            "cases_per_caseworker", "followup_on_time_share", "followup_work_share", "assessment_wait_days", "step_ups", "step_downs",
            "breakdowns", "returns_home"]
