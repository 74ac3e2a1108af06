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
    "cost_per_child_0_22_dkk": ("DKK per 0-22-year-old per year", "mean", "cost_total_dkk per inhabitant aged 0-22 per year: the whole modelled cost, caseworkers included; NOT comparable with the key figure of [003 Table 1.1] (see spending_per_child_0_22_dkk)."),
    "spending_per_child_0_22_dkk": ("DKK per 0-22-year-old per year", "mean", "Spending comparable with the key figure 'spending per 0-22-year-old' of [003 Table 1.1]: per-child and fixed step costs and assessments, per inhabitant aged 0-22 per year, plus costs.other_spending_per_child_0_22_dkk (special day care and disability benefits, outside the model). Not in it: caseworkers' salaries (administration, main account 6) and scenario investments."),
    "cost_placements_dkk": ("DKK", "sum", "Costs of placement steps (per-child and fixed)."),
    "placement_cost_share": ("share", "pooled", "cost_placements_dkk / cost_total_dkk."),
    "placement_spending_share": ("share", "pooled", "cost_placements_dkk / the spending of spending_per_child_0_22_dkk (over the same population-years): placements' share of the key figure's spending."),
    "cost_caseworkers_dkk": ("DKK", "sum", "Caseworker team (FTE x cost per year)."),
    "cost_investment_dkk": ("DKK", "sum", "Scenario investments (one-off at the horizon start, yearly from implementation.start_month) and recruitment of caseworkers added under a caseload norm."),
    "open_cases": ("cases", "mean", "Open cases (time-averaged)."),
    "cases_per_caseworker": ("cases per FTE", "mean", "open_cases / caseworkers (FTE)."),
    "followup_on_time_share": ("share", "pooled", "Follow-ups due in the period that started within casework.on_time_grace_days of the due date; follow-ups still waiting at the end count as late."),
    "followup_slip_days": ("days", "pooled", "Mean days from a follow-up's due date to its start."),
    "followup_work_share": ("share", "pooled", "Mean share of its standard hours a follow-up got: 1 unless the team was heavily backlogged (casework.overload); a thinner follow-up catches a change of need only with that probability."),
    "assessment_wait_days": ("days", "pooled", "Mean days from notification to the start of the assessment (triage included)."),
    "assessment_overdue_share": ("share", "pooled", "Assessments completed more than casework.assessment_deadline_days (4 months, Service Act s. 50(7)) after the notification."),
    "caseworker_utilisation": ("ratio", "pooled", "Work done, in standard hours (assessments, follow-ups and reviews, after compression), / the team's standard productive hours; a team putting in extra effort (casework.overload.max_extra_effort) exceeds 1."),
    "notifications": ("notifications", "sum", "Detections by universal services (new cases and reviews of open cases)."),
    "assessments": ("assessments", "sum", "Child-professional assessments (s. 50) completed."),
    "step_ups": ("moves", "sum", "Moves of a child already on a measure to a higher step."),
    "step_downs": ("moves", "sum", "Moves of a child on a measure to a lower step, including ending the measure."),
    "breakdowns": ("breakdowns", "sum", "Placement breakdowns."),
    "returns_home": ("moves", "sum", "Moves from a placement step to a non-placement step."),
    "caseworkers": ("FTE", "mean", "Caseworker team size."),
    # outcomes for the children: the burden of need, its match with the step, the stability of placements
    "need_days": ("child-days", "sum", "Days children (and young people in aftercare) lived with a need (a level above none)."),
    "need_days_weighted": ("weighted need-days", "sum", "need_days, each day weighted by its level's need.outcome_weights (default mild 1, moderate 2, serious 4, severe 8 [assumption]): the burden of need, severity-weighted."),
    "need_days_weighted_per_1000_0_17": ("weighted need-days per 1,000 children 0-17 per year", "mean", "need_days_weighted per 1,000 children aged 0-17 per year: comparable across municipalities; its denominator is the population, so it does not move with the scenario."),
    "unmet_need_days": ("child-days", "sum", "Days with a need above the child's step: the step is below the lowest step any matching tier names for the level (its matching band) - before detection, during triage, assessment and decision, or on a lower step while waiting for a full one."),
    "unmet_need_share": ("share", "pooled", "unmet_need_days / need_days."),
    "placement_moves": ("moves", "sum", "Moves from one placement to another: to another placement step, or to a new family or place of the same type after a breakdown (so at least breakdowns)."),
    "new_placements_mean_age": ("years", "pooled", "Mean age of the children at their new placements (new_placements)."),
}
STEP_KPIS = {
    "cost_dkk__": ("DKK", "sum", "Cost of the step (per-child and fixed)."),
    "child_days__": ("child-days", "sum", "Days children spent on the step."),
}
# per age group: prefix + a name of need.age_groups (its last group includes the young people of 18-22 in aftercare)
AGE_GROUP_KPIS = {
    "new_placements__": ("children", "sum", "New placements of children in the age group at the move (they add up to new_placements)."),
    "placed_stock__": ("children", "mean", "Children and young people of the age group on placement steps, aftercare included (time-averaged stock; they add up to the placed stock of placed_per_1000_0_22)."),
}

def non_negative(kpi: str) -> bool:
    """Whether a KPI's value is never negative: every KPI of KPI_DEFS and their breakdowns by step or age group
    ('cost_dkk__foster_care', 'new_placements__age_0_5') are counts, amounts, shares, rates, durations or ages
    (tests/model/test_invariants.py checks every value of runs with any valid parameters); the summary cuts the
    lower end of such a mean's interval at 0."""
    return kpi in KPI_DEFS or "__" in kpi

# KPIs with a key figure in municipality.targets: KPI name -> target field
TARGET_KPIS = {
    "placed_per_1000_0_22": "placed_per_1000_0_22",
    "spending_per_child_0_22_dkk": "spending_per_child_0_22_dkk",
    "placement_spending_share": "placement_share_of_spending",
    "caseworker_utilisation": "caseworker_utilisation",
}

# the KPIs a person reads first (printed tables, the report)
HEADLINE = ["placed_per_1000_0_17", "placed_per_1000_0_22", "new_placements", "cost_total_dkk",
            "cost_total_discounted_dkk", "cost_per_child_0_22_dkk", "spending_per_child_0_22_dkk", "placement_spending_share",
            "open_cases",
            "cases_per_caseworker", "followup_on_time_share", "followup_work_share", "assessment_wait_days", "step_ups", "step_downs",
            "breakdowns", "returns_home", "need_days_weighted", "unmet_need_share", "placement_moves"]
