"""Compile a validated Config into flat per-step / per-level arrays the model reads quickly.

Units inside the model: time in days, rates per day, money in DKK.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..common.units import DAYS_PER_YEAR, INF
from ..config import Config, blend


@dataclass
class Compiled:
    # steps, in staircase order (index = rank)
    step_names: list
    ground: int
    placement: list
    requires_case: list
    cost_per_day: list
    fixed_cost_per_day: list
    capacity: list               # INF = unlimited
    min_age_days: list
    max_age_days: list
    breakdown_per_day: list
    duration: list               # None or (lo, hi) days
    duration_ages: list          # None (every age) or (from, to) days of age at which the bound applies
    on_max: list
    fu_interval: list            # days
    first_year_interval: float   # days or INF
    # need
    levels: list
    n_levels: int
    esc_per_day: list            # by level (0 at none and top)
    rec_per_day: list            # by level (0 at none)
    det_per_day: list            # by level (0 at none)
    onset_levels_cum: list       # cumulative probs over levels 1..
    group_edges_days: list       # [(lo, hi)] per group, in days
    group_names: list
    onset_per_day: list          # per child per day, by group
    esc_age: list
    rec_age: list
    # matching
    tiers: list                  # by age group, then level: list of (steps list, weights list)
    candidates: list             # by age group, then level: set of steps with weight > 0 in any tier
    band_lo: list                # by level: lowest matching step index (INF-like for none)
    band_hi: list
    esc_factor: list             # [level][step]
    rec_factor: list             # [level][step]
    unit_route: list             # by level: True if first usable tier needs no case
    esc_tab: list                # [group][level][step] escalation per day: esc_per_day * esc_age * esc_factor
    rec_tab: list                # [group][level][step] recovery per day: rec_per_day * rec_age * rec_factor
    when_full: str
    # casework
    team_size: int
    staffing_norm: float | None    # open cases per FTE the team is sized to; None = a fixed team
    staffing_review: int           # months between staffing reviews
    staffing_lag: int              # months from a review to the new team size
    staffing_max: float            # most FTE a review staffs to (INF = no ceiling)
    cost_per_hire: float           # DKK per FTE added by a review
    hours_per_day: float         # productive hours per calendar day per FTE
    assessment_days: float       # calendar days a caseworker is busy with an assessment
    followup_days: float
    priority_assessment: int     # queue priority of tasks for a caseworker (lower first)
    priority_review: int
    priority_followup: int
    min_work_share: float        # work compression under a backlog (see Model.work_share)
    backlog_start: float         # waiting tasks per caseworker at which compression starts
    backlog_at_min: float        # waiting tasks per caseworker at which min_work_share is reached
    case_days_per_month: float
    grace: float
    decision_delay: float
    triage: float
    close_fu: float
    unfollowed_mult: float
    brk_escalate: float
    aftercare_p: float
    adult_age_days: float
    aftercare_end_days: float
    aftercare_exit_per_day: float
    # costs
    caseworker_cost_per_day: float
    assessment_cost: float
    discount_rate: float
    investment_one_off: float
    investment_per_day: float
    start_month: int               # month of the horizon from which these parameters replace the warm-up's
    # population
    children_0_17: int
    young_18_22: int
    growth_per_day: float          # continuous growth rate of the population (0 = stationary)
    initial_prevalence: list     # by level
    ramp: tuple = ()               # stages on the way to these parameters, one a month from start_month (compile_arm)


def compile_arm(current: Config, c: Config) -> Compiled:
    """An arm's parameters with the stages of its implementation.ramp_months: in the k-th month from the
    start month (k = 1 .. ramp_months - 1) the practice is k / ramp_months of the way from current practice
    (``current``, the warm-up's configuration) to the arm's, which holds from month ramp_months on."""
    arm = compile_config(c)
    r = c.implementation.ramp_months
    if r <= 1:
        return arm
    return replace(arm, ramp=tuple(compile_config(blend(current, c, k / r)) for k in range(1, r)))


def compile_config(c: Config) -> Compiled:
    steps = sorted(c.staircase.steps.items(), key=lambda kv: kv[1].order)
    names = [k for k, _ in steps]
    idx = {k: i for i, k in enumerate(names)}
    S = [s for _, s in steps]
    levels = list(c.need.levels)
    L = len(levels)
    cw = c.casework
    hours_per_day = cw.productive_hours_per_year / DAYS_PER_YEAR

    esc = [0.0] * L
    rec = [0.0] * L
    det = [0.0] * L
    for i, lv in enumerate(levels[1:], start=1):
        esc[i] = c.need.escalation_rate_per_year.get(lv, 0.0) / DAYS_PER_YEAR
        rec[i] = c.need.recovery_rate_per_year[lv] / DAYS_PER_YEAR
        det[i] = c.detection.rate_per_year[lv] / DAYS_PER_YEAR
    cum, acc = [], 0.0
    for lv in levels[1:]:
        acc += c.need.onset_level_probs[lv]
        cum.append(acc)
    cum[-1] = 1.0

    groups = sorted(c.need.age_groups.items(), key=lambda kv: kv[1][0])
    group_names = [g for g, _ in groups]

    age_f = [(c.staircase.matching_age_factors or {}).get(g, {}) for g in group_names]
    tiers_g = [[[] for _ in range(L)] for _ in group_names]
    band_lo = [len(names)] * L
    band_hi = [-1] * L
    for i, lv in enumerate(levels[1:], start=1):
        for _, weights in c.staircase.matching[lv].items():
            st = [idx[s] for s in weights]
            # the municipality's lean within a tier: weight x exp(tilt x order above the tier's lowest step)
            base = min(S[s].order for s in st)
            ws = [float(w) * math.exp(c.staircase.matching_tilt * (S[s].order - base))
                  for s, w in zip(st, weights.values())]
            # and for each age group, times its factors (matching_age_factors; 1 where none is given)
            for g, f in enumerate(age_f):
                tiers_g[g][i].append((st, [w * f.get(names[s], 1.0) for s, w in zip(st, ws)]))
            band_lo[i] = min(band_lo[i], min(st))
            band_hi[i] = max(band_hi[i], max(st))
    lo_eff, hi_eff = c.staircase.mismatch.too_low_efficacy, c.staircase.mismatch.too_high_efficacy
    ground = idx[c.staircase.ground_step]
    esc_f = [[1.0] * len(names) for _ in range(L)]
    rec_f = [[1.0] * len(names) for _ in range(L)]
    for lv in range(1, L):
        for s, st in enumerate(S):
            if s == ground:
                continue
            if band_lo[lv] <= s <= band_hi[lv]:
                eff = 1.0
            elif s < band_lo[lv]:
                eff = lo_eff
            else:
                eff = hi_eff
            esc_f[lv][s] = 1.0 + (st.escalation_multiplier - 1.0) * eff
            rec_f[lv][s] = 1.0 + (st.recovery_multiplier - 1.0) * eff
    # A level is routed to a no-case unit when its first tier has only no-case steps.
    unit_route = [False] * L
    for lv in range(1, L):
        first = tiers_g[0][lv][0][0]          # the same steps in every age group
        unit_route[lv] = all(not S[s].requires_case for s in first)

    esc_age = [c.need.age_multipliers[g].escalation for g in group_names]
    rec_age = [c.need.age_multipliers[g].recovery for g in group_names]
    # the rates a child's life process reads at every wake-up, multiplied out once (in the same order as
    # the product above, so each entry is bit-for-bit that product)
    n_steps = len(names)
    esc_tab = [[[esc[lv] * esc_age[g] * esc_f[lv][s] for s in range(n_steps)] for lv in range(L)]
               for g in range(len(group_names))]
    rec_tab = [[[rec[lv] * rec_age[g] * rec_f[lv][s] for s in range(n_steps)] for lv in range(L)]
               for g in range(len(group_names))]

    invest_one = sum(i.investment.one_off_dkk for i in c.scenario_info.values())
    invest_year = sum(i.investment.yearly_dkk for i in c.scenario_info.values())
    ac = cw.aftercare
    return Compiled(
        step_names=names,
        ground=ground,
        placement=[s.placement for s in S],
        requires_case=[s.requires_case for s in S],
        cost_per_day=[s.cost_per_year_dkk / DAYS_PER_YEAR for s in S],
        fixed_cost_per_day=[s.fixed_cost_per_year_dkk / DAYS_PER_YEAR for s in S],
        capacity=[INF if s.capacity is None else s.capacity for s in S],
        min_age_days=[s.min_age * DAYS_PER_YEAR for s in S],
        max_age_days=[s.max_age * DAYS_PER_YEAR for s in S],
        breakdown_per_day=[s.breakdown_rate_per_year / DAYS_PER_YEAR for s in S],
        duration=[tuple(s.max_duration_days) if s.max_duration_days else None for s in S],
        duration_ages=[None if s.max_duration_ages is None else tuple(a * DAYS_PER_YEAR for a in s.max_duration_ages)
                       for s in S],
        on_max=[s.on_max_duration for s in S],
        fu_interval=[s.followup_interval_days or cw.followup_interval_days for s in S],
        first_year_interval=cw.placement_first_year_interval_days or INF,
        levels=levels,
        n_levels=L,
        esc_per_day=esc,
        rec_per_day=rec,
        det_per_day=det,
        onset_levels_cum=cum,
        group_edges_days=[(lo * DAYS_PER_YEAR, hi * DAYS_PER_YEAR) for _, (lo, hi) in groups],
        group_names=group_names,
        onset_per_day=[c.need.onset_rate_per_year[g] * c.need.onset_scale / DAYS_PER_YEAR for g in group_names],
        esc_age=esc_age,
        rec_age=rec_age,
        tiers=tiers_g,
        candidates=[[{st for steps, ws in t for st, w in zip(steps, ws) if w > 0} for t in tg] for tg in tiers_g],
        band_lo=band_lo,
        band_hi=band_hi,
        esc_factor=esc_f,
        rec_factor=rec_f,
        unit_route=unit_route,
        esc_tab=esc_tab,
        rec_tab=rec_tab,
        when_full=c.staircase.when_full,
        team_size=cw.caseworkers + cw.hire_caseworkers,
        staffing_norm=cw.staffing.cases_per_caseworker,
        staffing_review=cw.staffing.review_months,
        staffing_lag=cw.staffing.hiring_lag_months,
        staffing_max=INF if cw.staffing.max_caseworkers is None else cw.staffing.max_caseworkers,
        cost_per_hire=cw.staffing.cost_per_hire_dkk,
        hours_per_day=hours_per_day,
        assessment_days=cw.assessment_hours / hours_per_day,
        followup_days=cw.followup_hours / hours_per_day,
        priority_assessment=cw.task_priority.assessment,
        priority_review=cw.task_priority.review,
        priority_followup=cw.task_priority.followup,
        min_work_share=cw.overload.min_work_share,
        backlog_start=cw.overload.backlog_per_caseworker_start,
        backlog_at_min=cw.overload.backlog_per_caseworker_at_min,
        case_days_per_month=cw.case_hours_per_month / hours_per_day,
        grace=cw.on_time_grace_days,
        decision_delay=cw.decision_delay_days,
        triage=c.detection.triage_days,
        close_fu=cw.close_followup_days,
        unfollowed_mult=cw.unfollowed_breakdown_multiplier,
        brk_escalate=c.need.breakdown_escalation_prob,
        aftercare_p=ac.probability,
        adult_age_days=ac.from_age * DAYS_PER_YEAR,
        aftercare_end_days=ac.to_age * DAYS_PER_YEAR,
        aftercare_exit_per_day=ac.exit_rate_per_year / DAYS_PER_YEAR,
        caseworker_cost_per_day=c.costs.caseworker_cost_per_year_dkk / DAYS_PER_YEAR,
        assessment_cost=c.costs.assessment_cost_dkk,
        discount_rate=c.costs.discount_rate_per_year,
        investment_one_off=invest_one,
        investment_per_day=invest_year / DAYS_PER_YEAR,
        start_month=c.implementation.start_month,
        children_0_17=c.municipality.children_0_17,
        young_18_22=c.municipality.young_18_22,
        growth_per_day=math.log1p(c.municipality.population_growth_per_year) / DAYS_PER_YEAR,
        initial_prevalence=[0.0] + [c.need.initial_prevalence[lv] for lv in levels[1:]],
    )
