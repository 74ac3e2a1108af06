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
    """One practice's parameters, flat and in model units. Each field is named after its key in conf/ (its
    YAML path's last part, or the group and key where that alone is ambiguous), with the unit suffix changed
    where the value is converted (per year -> per day, years -> days, hours -> days, names -> indices)."""

    # staircase.steps, in staircase order (index = rank); lists by step
    step_names: list
    ground_step: int                       # index of staircase.ground_step
    placement: list                        # bool
    requires_case: list                    # bool
    cost_per_day_dkk: list                 # DKK per child-day (cost_per_year_dkk / days per year)
    fixed_cost_per_day_dkk: list           # DKK per day (fixed_cost_per_year_dkk + _per_1000_children x children / 1,000, / days per year)
    capacity: list                         # children (capacity, or capacity_per_1000_children x children / 1,000 rounded); INF = unlimited
    min_age_days: list                     # days of age (min_age years)
    max_age_days: list                     # days of age (max_age years)
    breakdown_rate_table: list             # per day [level][step]: breakdown_rate_per_year x level_factors' breakdown
    network_search_success: list           # probability a network search finds a family (None = always available)
    family_pool: list                      # None, or the step's FamilyPool (approved families; config units)
    max_duration_days: list                # None or (lo, hi) days
    max_duration_ages_days: list           # None (every age) or [from, to) days of age at which the bound applies
    on_max_duration: list                  # "rematch" | "step_down" | "end"
    followup_interval_days: list           # days (the step's own, else casework.followup_interval_days)
    placement_first_year_interval_days: float   # days; INF = none
    # need, detection (lists by level)
    levels: list                           # need.levels (names)
    n_levels: int                          # len(levels)
    escalation_rate_per_day: list          # per day (0 at none and top)
    recovery_rate_per_day: list            # per day (0 at none)
    detection_rate_per_day: list           # per day (detection.rate_per_year; 0 at none)
    onset_level_probs_cum: list            # cumulative probabilities over levels 1..
    age_groups_days: list                  # [(lo, hi)] days of age, by age group in order
    age_group_names: list                  # names of need.age_groups, in order
    onset_rate_per_day: list               # per child per day (x onset_scale), by age group
    age_multipliers_escalation: list       # factor, by age group
    age_multipliers_recovery: list         # factor, by age group
    outcome_weights: list                  # weight of a need-day, by level (0 at none; need.outcome_weights)
    # staircase.matching
    matching_tiers: list                   # [age group][level]: list of (steps list, weights list)
    matching_candidates: list              # [age group][level]: set of steps with weight > 0 in any tier
    matching_options: tuple                # [age group][level]: the tiers' steps a child can be matched to at all
                                           # (weight > 0, capacity > 0), each tier a tuple of (step, weight, min age
                                           # days, max age days) in tier order - derived from the fields above
    matching_band_lo: list                 # by level: lowest matching step index (n steps at none)
    matching_band_hi: list                 # by level: highest matching step index (-1 at none)
    escalation_multiplier: list            # factor [level][step]: the step's, scaled by the mismatch efficacy
    recovery_multiplier: list              # factor [level][step]: the step's, scaled by the mismatch efficacy
    unit_route: list                       # by level: True if the first tier has only no-case steps
    escalation_rate_table: list            # per day [age group][level][step]: rate x age multiplier x step multiplier
    recovery_rate_table: list              # per day [age group][level][step]: rate x age multiplier x step multiplier
    bounded_recovery_rate_table: object    # the same during a bounded stay (bounded_recovery_multiplier); None = same
    when_full: str                         # "wait" | "next_up" | "next_down"
    clock_table: tuple                     # [age group][level][step]: (escalation, recovery, recovery in a bounded
                                           # stay, detection below the level's band else 0, breakdown, placement) -
                                           # the rate tables above, gathered for rules.next_clock (derived)
    age_group_ends_days: tuple             # days of age at which each age group ends (age_groups_days' ends; derived)
    # casework
    caseworkers: int                       # FTE: casework.caseworkers + hire_caseworkers (or hire_caseworkers_share x caseworkers, rounded)
    cases_per_caseworker: float | None     # open cases per FTE the team is sized to (staffing); None = a fixed team
    review_months: int                     # months between staffing reviews
    hiring_lag_months: int                 # months from a review to the new team size
    max_caseworkers: float                 # FTE; most a review staffs to (INF = no ceiling)
    cost_per_hire_dkk: float               # DKK per FTE added by a review
    productive_hours_per_day: float        # hours per calendar day per FTE (productive_hours_per_year / days)
    assessment_days: float                 # calendar days a caseworker is busy with an assessment (assessment_hours)
    followup_days: float                   # calendar days of a follow-up's fixed work (followup_hours)
    task_priority_assessment: int          # queue priority of tasks for a caseworker (lower first)
    task_priority_review: int
    task_priority_followup: int            # follow-ups of stable cases
    task_priority_followup_at_risk: int    # follow-ups of cases at risk (triage)
    triage_risk_level: list                # by need level: its follow-ups go first (casework.triage.risk_levels)
    task_priority_followup_low_need: int   # follow-ups of stable cases with a low need (triage)
    triage_low_level: list                 # by need level: a stable case's follow-up waits longest (.low_levels)
    triage_new_measure_days: float         # days; a measure younger than this is followed first
    assessment_deadline_days: float        # days from notification to a completed assessment (overdue beyond)
    max_extra_effort: float                # share of extra hours at most when tasks wait (rules.extra_effort)
    backlog_per_caseworker_full_effort: float   # waiting tasks per caseworker at which the extra effort is full
    min_work_share: float                  # share; work compression under a backlog (see rules.work_share)
    backlog_per_caseworker_start: float    # waiting tasks per caseworker at which compression starts
    backlog_per_caseworker_at_min: float   # waiting tasks per caseworker at which min_work_share is reached
    case_days_per_month: float             # calendar days of casework per open-case month (case_hours_per_month)
    on_time_grace_days: float              # days
    decision_delay_days: float             # days
    triage_days: float                     # days (detection.triage_days)
    close_followup_days: float             # days
    unfollowed_breakdown_multiplier: float  # factor
    breakdown_escalation_prob: float       # probability (need.breakdown_escalation_prob)
    aftercare_probability: float           # probability (casework.aftercare.probability)
    aftercare_from_age_days: float         # days of age (aftercare.from_age): adulthood, the end of child measures
    aftercare_to_age_days: float           # days of age (aftercare.to_age)
    aftercare_exit_rate_per_day: float     # per day (aftercare.exit_rate_per_year)
    # costs
    caseworker_cost_per_day_dkk: float     # DKK per FTE-day
    assessment_cost_dkk: float             # DKK per assessment
    discount_rate_per_year: float          # per year
    other_spending_per_child_0_22_dkk: float   # DKK per 0-22-year-old per year outside the staircase (KPIs only)
    investment_one_off_dkk: float          # DKK, sum over the scenarios (investment.one_off_dkk + one_off_dkk_per_1000_children x children / 1,000)
    investment_per_day_dkk: float          # DKK per day (the same sum of yearly_dkk and yearly_dkk_per_1000_children, / days per year)
    start_month: int                       # month of the horizon from which these parameters replace the warm-up's
    # municipality
    children_0_17: int                     # children
    young_18_22: int                       # young adults
    population_growth_per_day: float       # continuous rate per day (log1p of population_growth_per_year / days)
    initial_prevalence: list               # share of children, by level (0 at none)
    initial_state: str                     # need.initial_state: "configured" | "scaled" (population.initial_means)
    initial_reference: dict | None         # need.initial_reference in model units: the need-process fields above
                                           # (population.NEED_PROCESS) under which initial_prevalence was set
    ramp: tuple = ()                       # stages on the way to these parameters, one a month from start_month (compile_arm)


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
    """The flat parameters (see Compiled) of one validated configuration."""
    steps = sorted(c.staircase.steps.items(), key=lambda kv: kv[1].order)
    names = [k for k, _ in steps]
    S = [s for _, s in steps]
    need = _need_fields(c)
    steps_ = _step_fields(c, S)
    matching = _matching_fields(c, names, S, need)
    return Compiled(
        **steps_,
        step_names=names,
        **need,
        **matching,
        matching_options=_options(matching["matching_tiers"], steps_),
        clock_table=_clock_table(matching, need, steps_),
        age_group_ends_days=tuple(hi for _, hi in need["age_groups_days"]),
        **_casework_fields(c),
        **_cost_fields(c),
        start_month=c.implementation.start_month,
        children_0_17=c.municipality.children_0_17,
        young_18_22=c.municipality.young_18_22,
        population_growth_per_day=math.log1p(c.municipality.population_growth_per_year) / DAYS_PER_YEAR,
    )


def _step_fields(c: Config, S: list) -> dict:
    """The fields by step (staircase.steps in order); sizes per 1,000 children resolved for the municipality."""
    cw = c.casework
    children = c.municipality.children_0_17
    return dict(
        placement=[s.placement for s in S],
        requires_case=[s.requires_case for s in S],
        cost_per_day_dkk=[s.cost_per_year_dkk / DAYS_PER_YEAR for s in S],
        fixed_cost_per_day_dkk=[s.fixed_cost_per_year(children) / DAYS_PER_YEAR for s in S],
        capacity=[INF if places is None else places for places in (s.places(children) for s in S)],
        min_age_days=[s.min_age * DAYS_PER_YEAR for s in S],
        max_age_days=[s.max_age * DAYS_PER_YEAR for s in S],
        breakdown_rate_table=[[s.breakdown_rate_per_year / DAYS_PER_YEAR
                               * (s.level_factors[lv].breakdown if lv in s.level_factors else 1.0) for s in S]
                              for lv in c.need.levels],
        network_search_success=[s.network_search_success for s in S],
        family_pool=[s.family_pool for s in S],
        max_duration_days=[tuple(s.max_duration_days) if s.max_duration_days else None for s in S],
        max_duration_ages_days=[None if s.max_duration_ages is None
                                else tuple(a * DAYS_PER_YEAR for a in s.max_duration_ages) for s in S],
        on_max_duration=[s.on_max_duration for s in S],
        followup_interval_days=[s.followup_interval_days or cw.followup_interval_days for s in S],
        placement_first_year_interval_days=cw.placement_first_year_interval_days or INF,
    )


def _need_fields(c: Config) -> dict:
    """The fields of need and detection: rates by level, the age groups and their onset rates."""
    levels = list(c.need.levels)
    L = len(levels)
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
    return dict(
        levels=levels,
        n_levels=L,
        escalation_rate_per_day=esc,
        recovery_rate_per_day=rec,
        detection_rate_per_day=det,
        onset_level_probs_cum=cum,
        age_groups_days=[(lo * DAYS_PER_YEAR, hi * DAYS_PER_YEAR) for _, (lo, hi) in groups],
        age_group_names=group_names,
        onset_rate_per_day=[c.need.onset_rate_per_year[g] * c.need.onset_scale / DAYS_PER_YEAR for g in group_names],
        age_multipliers_escalation=[c.need.age_multipliers[g].escalation for g in group_names],
        age_multipliers_recovery=[c.need.age_multipliers[g].recovery for g in group_names],
        initial_prevalence=[0.0] + [c.need.initial_prevalence[lv] for lv in levels[1:]],
        initial_state=c.need.initial_state,
        initial_reference=_initial_reference(c),
        outcome_weights=[0.0] + [c.need.outcome_weights[lv] for lv in levels[1:]],
    )


# the need-process fields of _need_fields (population.NEED_PROCESS): what need.initial_reference compiles to
_PROCESS_FIELDS = ("onset_rate_per_day", "onset_level_probs_cum", "escalation_rate_per_day", "recovery_rate_per_day",
                   "age_multipliers_escalation", "age_multipliers_recovery")


def _initial_reference(c: Config) -> dict | None:
    """need.initial_reference compiled as _need_fields compiles need's own process (None if there is none)."""
    ref = c.need.initial_reference
    if ref is None:
        return None
    need = c.need.model_copy(update={**{k: getattr(ref, k) for k in type(ref).model_fields}, "initial_reference": None})
    compiled = _need_fields(c.model_copy(update={"need": need}))
    return {k: compiled[k] for k in _PROCESS_FIELDS}


def _matching_fields(c: Config, names: list, S: list, need: dict) -> dict:
    """The fields of staircase.matching: tiers and bands, the mismatch-scaled multipliers and the rate tables."""
    L = need["n_levels"]
    group_names = need["age_group_names"]
    tiers_g, band_lo, band_hi = _tiers(c, names, S, need["levels"], group_names)
    ground = names.index(c.staircase.ground_step)
    esc_f, rec_f = _step_multipliers(c, S, ground, band_lo, band_hi, L)
    # A level is routed to a no-case unit when its first tier has only no-case steps.
    unit_route = [False] * L
    for lv in range(1, L):
        first = tiers_g[0][lv][0][0]          # the same steps in every age group
        unit_route[lv] = all(not S[s].requires_case for s in first)
    esc, rec = need["escalation_rate_per_day"], need["recovery_rate_per_day"]
    esc_age, rec_age = need["age_multipliers_escalation"], need["age_multipliers_recovery"]
    # the rates a child's life reads at every wake-up, multiplied out once (in the same order as
    # the product above, so each entry is bit-for-bit that product)
    n_steps = len(names)
    esc_tab = [[[esc[lv] * esc_age[g] * esc_f[lv][s] for s in range(n_steps)] for lv in range(L)]
               for g in range(len(group_names))]
    rec_tab = [[[rec[lv] * rec_age[g] * rec_f[lv][s] for s in range(n_steps)] for lv in range(L)]
               for g in range(len(group_names))]
    bounded_tab = None
    if any(st.bounded_recovery_multiplier is not None and st.bounded_recovery_multiplier != st.recovery_multiplier
           for st in S):
        _, rec_b = _step_multipliers(c, S, ground, band_lo, band_hi, L, bounded=True)
        bounded_tab = [[[rec[lv] * rec_age[g] * rec_b[lv][s] for s in range(n_steps)] for lv in range(L)]
                       for g in range(len(group_names))]
    return dict(
        ground_step=ground,
        matching_tiers=tiers_g,
        matching_candidates=[[{st for steps, ws in t for st, w in zip(steps, ws) if w > 0} for t in tg]
                             for tg in tiers_g],
        matching_band_lo=band_lo,
        matching_band_hi=band_hi,
        escalation_multiplier=esc_f,
        recovery_multiplier=rec_f,
        unit_route=unit_route,
        escalation_rate_table=esc_tab,
        recovery_rate_table=rec_tab,
        bounded_recovery_rate_table=bounded_tab,
        when_full=c.staircase.when_full,
    )


def _options(tiers_g: list, steps: dict) -> tuple:
    """matching_options: each tier of ``tiers_g`` ([age group][level] of (steps, weights)) with only the steps a
    child can be matched to at all (weight > 0 and capacity > 0), as (step, weight, min age, max age) tuples in
    their order - what rules.match reads, so that a decision need not look the step's fields up again."""
    cap, lo, hi = steps["capacity"], steps["min_age_days"], steps["max_age_days"]
    return tuple(tuple(tuple(tuple((s, w, lo[s], hi[s]) for s, w in zip(st, ws) if w > 0 and cap[s] > 0)
                             for st, ws in tiers) for tiers in tg) for tg in tiers_g)


def _clock_table(matching: dict, need: dict, steps: dict) -> tuple:
    """clock_table: for each age group, level and step, the rates rules.next_clock reads at every wake-up of a
    child, gathered in one tuple (the same numbers as the tables they come from)."""
    esc, rec = matching["escalation_rate_table"], matching["recovery_rate_table"]
    rec_b = matching["bounded_recovery_rate_table"] or rec
    det, band_lo = need["detection_rate_per_day"], matching["matching_band_lo"]
    brk, placed = steps["breakdown_rate_table"], steps["placement"]
    return tuple(tuple(tuple((esc[g][lv][s], rec[g][lv][s], rec_b[g][lv][s], det[lv] if s < band_lo[lv] else 0.0,
                              brk[lv][s], placed[s]) for s in range(len(placed)))
                       for lv in range(len(det))) for g in range(len(esc)))


def _tiers(c: Config, names: list, S: list, levels: list, group_names: list) -> tuple:
    """The matching tiers by age group and level, as (steps, weights) with the tilt and the age factors applied,
    and each level's band: its lowest and highest matching step."""
    idx = {k: i for i, k in enumerate(names)}
    L = len(levels)
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
    return tiers_g, band_lo, band_hi


def _step_multipliers(c: Config, S: list, ground: int, band_lo: list, band_hi: list, L: int,
                      bounded: bool = False) -> tuple:
    """Escalation and recovery factors [level][step]: a step's multipliers, scaled by the mismatch efficacy
    where the step is below or above the level's band (1 on the ground step and at level 0); with ``bounded``,
    recovery during a bounded stay (bounded_recovery_multiplier where a step sets one)."""
    lo_eff, hi_eff = c.staircase.mismatch.too_low_efficacy, c.staircase.mismatch.too_high_efficacy
    esc_f = [[1.0] * len(S) for _ in range(L)]
    rec_f = [[1.0] * len(S) for _ in range(L)]
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
            mult = st.recovery_multiplier
            if bounded and st.bounded_recovery_multiplier is not None:
                mult = st.bounded_recovery_multiplier
            lf = st.level_factors.get(c.need.levels[lv])      # the step's efficacy for this level
            if lf is not None:
                mult *= lf.recovery
            rec_f[lv][s] = 1.0 + (mult - 1.0) * eff
    return esc_f, rec_f


def _casework_fields(c: Config) -> dict:
    """The fields of casework: the team, its staffing rule, task times and priorities, aftercare."""
    cw = c.casework
    hours_per_day = cw.productive_hours_per_year / DAYS_PER_YEAR
    ac = cw.aftercare
    return dict(
        caseworkers=cw.caseworkers + cw.hired(),
        cases_per_caseworker=cw.staffing.cases_per_caseworker,
        review_months=cw.staffing.review_months,
        hiring_lag_months=cw.staffing.hiring_lag_months,
        max_caseworkers=INF if cw.staffing.max_caseworkers is None else cw.staffing.max_caseworkers,
        cost_per_hire_dkk=cw.staffing.cost_per_hire_dkk,
        productive_hours_per_day=hours_per_day,
        assessment_days=cw.assessment_hours / hours_per_day,
        followup_days=cw.followup_hours / hours_per_day,
        task_priority_assessment=cw.task_priority.assessment,
        task_priority_review=cw.task_priority.review,
        task_priority_followup=cw.task_priority.followup,
        task_priority_followup_at_risk=cw.task_priority.followup_at_risk,
        task_priority_followup_low_need=cw.task_priority.followup_low_need,
        triage_risk_level=[lv in cw.triage.risk_levels for lv in c.need.levels],
        triage_low_level=[lv in cw.triage.low_levels for lv in c.need.levels],
        triage_new_measure_days=cw.triage.new_measure_days,
        assessment_deadline_days=cw.assessment_deadline_days,
        max_extra_effort=cw.overload.max_extra_effort,
        backlog_per_caseworker_full_effort=cw.overload.backlog_per_caseworker_full_effort,
        min_work_share=cw.overload.min_work_share,
        backlog_per_caseworker_start=cw.overload.backlog_per_caseworker_start,
        backlog_per_caseworker_at_min=cw.overload.backlog_per_caseworker_at_min,
        case_days_per_month=cw.case_hours_per_month / hours_per_day,
        on_time_grace_days=cw.on_time_grace_days,
        decision_delay_days=cw.decision_delay_days,
        triage_days=c.detection.triage_days,
        close_followup_days=cw.close_followup_days,
        unfollowed_breakdown_multiplier=cw.unfollowed_breakdown_multiplier,
        breakdown_escalation_prob=c.need.breakdown_escalation_prob,
        aftercare_probability=ac.probability,
        aftercare_from_age_days=ac.from_age * DAYS_PER_YEAR,
        aftercare_to_age_days=ac.to_age * DAYS_PER_YEAR,
        aftercare_exit_rate_per_day=ac.exit_rate_per_year / DAYS_PER_YEAR,
    )


def _cost_fields(c: Config) -> dict:
    """The fields of costs and of the scenarios' investments."""
    children = c.municipality.children_0_17
    invest_one = sum(i.investment.one_off(children) for i in c.scenario_info.values())
    invest_year = sum(i.investment.yearly(children) for i in c.scenario_info.values())
    return dict(
        caseworker_cost_per_day_dkk=c.costs.caseworker_cost_per_year_dkk / DAYS_PER_YEAR,
        assessment_cost_dkk=c.costs.assessment_cost_dkk,
        discount_rate_per_year=c.costs.discount_rate_per_year,
        other_spending_per_child_0_22_dkk=c.costs.other_spending_per_child_0_22_dkk,
        investment_one_off_dkk=invest_one,
        investment_per_day_dkk=invest_year / DAYS_PER_YEAR,
    )
