"""The model's policy rules as pure functions: no SimPy, no Model, no random draws of their own.

Each reads one practice's compiled parameters (``P``, a :class:`~sim.model.params.Compiled`) and the values
it is given, and changes nothing: the age group of an age, a weighted choice, the matching rule, the
follow-up interval, the work share of an overloaded team, the bound of a course, and the race of a child's
competing clocks. The model's processes (sim/model/model.py) draw the uniforms and apply the results.
"""
from __future__ import annotations

from ..common.units import DAYS_PER_YEAR, INF
from .child import Child
from .params import Compiled

# time tolerance (days) when comparing a wake-up time with a scheduled time (float round-off)
TIME_EPS = 1e-9

# what wakes a child's life (next_clock's kind): need escalation, recovery, detection, placement
# breakdown, a follow-up due, the end of a bounded stay, an age boundary (or a change of the breakdown
# rate), the end of aftercare; POKED = an interrupt (its rates changed)
ESC, REC, DET, BRK, FU, DUR, AGE, ACX, POKED = range(9)


def age_group(edges: list, age: float) -> int:
    """Index of the age group (need.age_groups, in order; ``edges`` = Compiled.age_groups_days) that a child of
    ``age`` days belongs to; the last group takes every age beyond its start."""
    g, last = 0, len(edges) - 1
    while g < last and age + TIME_EPS >= edges[g][1]:
        g += 1
    return g


def pick(options: list, total: float, u: float):
    """The option chosen by the uniform ``u`` from ``options``, a list of (option, weight > 0) whose weights
    sum to ``total``: the first whose cumulative weight reaches u x total."""
    x = u * total
    for s, w in options:
        if x <= w:
            return s
        x -= w
    return options[-1][0]


def match(P: Compiled, level: int, step: int, waiting_for: int, age: float, u: float, mode: str, exclude: int,
          has_room, available=None) -> tuple[int, int]:
    """The matching rule: the step for a child with a need (``level`` > 0) on ``step`` (waiting for step
    ``waiting_for``, -1 = none) at ``age`` days, with the decision draw ``u``. Returns (target, wait_for):
    (step, -1) to move to or stay on a step; (-1, step) to wait for a full step; (-1, -1) to stay as is.

    ``mode``: "rematch" keeps a measure that still matches the need, "step_down" looks only below the current
    step; ``exclude`` is a step not to choose (-1 = none); ``has_room(step)`` says whether a step has room for
    the child; ``available(step)`` (None: every step) whether it can be had at all for this child now (a network
    search that found no family makes kinship care unavailable, not full: nobody waits for it). Tiers are tried in order; within the first tier with an eligible step that has room, a step is
    picked by weight. Without room anywhere, when_full decides: the nearest step with room above or below
    the one picked ignoring room, or waiting for it."""
    edges = P.age_groups_days
    g, last = 0, len(edges) - 1              # age_group(edges, age), inline: a decision is made at most events
    while g < last and age + TIME_EPS >= edges[g][1]:
        g += 1
    if mode == "rematch" and exclude < 0 and step in P.matching_candidates[g][level] and waiting_for < 0 \
            and P.min_age_days[step] <= age < P.max_age_days[step]:
        return step, -1      # the measure still matches the need: continue it [001]
    n_steps = len(P.step_names)
    limit = step if mode == "step_down" else n_steps
    first = -1
    for tier in P.matching_options[g][level]:           # the tiers' steps with weight > 0 and capacity > 0
        elig = []
        tw = 0.0
        for s, w, lo, hi in tier:
            if s != exclude and s < limit and lo <= age < hi and (available is None or available(s)):
                elig.append((s, w))
                tw += w
        if not elig:
            continue
        room = [(s, w) for s, w in elig if has_room(s)]
        if first < 0:
            first = pick(elig, tw, u)
        if room:
            return pick(room, sum(w for _, w in room), u), -1
    if mode == "step_down":
        for s in range(limit - 1, P.ground_step, -1):
            if (P.capacity[s] > 0 and P.min_age_days[s] <= age < P.max_age_days[s] and has_room(s)
                    and (available is None or available(s))):
                return s, -1
        return P.ground_step, -1
    if first < 0:
        return -1, -1          # no eligible step: stay where the child is
    if P.when_full == "next_up":
        rng = range(first + 1, n_steps)
    elif P.when_full == "next_down":
        rng = range(first - 1, P.ground_step, -1)
    else:
        rng = ()
    for s in rng:
        if (s != exclude and P.capacity[s] > 0 and P.min_age_days[s] <= age < P.max_age_days[s] and has_room(s)
                and (available is None or available(s))):
            return s, -1
    return -1, first


def followup_interval(P: Compiled, step: int, now: float, placement_start: float) -> float:
    """Days to the next follow-up of a case on ``step``: the step's interval, or the first-year interval of a
    placement (placement_first_year_interval_days) if shorter, in the placement's first year."""
    iv = P.followup_interval_days[step]
    if P.placement[step] and now - placement_start < DAYS_PER_YEAR:
        iv = min(iv, P.placement_first_year_interval_days)
    return iv


def work_share(P: Compiled, queue_length: int, team_size: int) -> float:
    """Share of its nominal hours a follow-up or review gets when it starts, with ``queue_length`` tasks waiting
    for a team of ``team_size``.

    Up to backlog_per_caseworker_start waiting tasks per caseworker the team keeps its standard and tasks wait
    (follow-ups slip); beyond it the share falls linearly to min_work_share at backlog_per_caseworker_at_min:
    a heavily overloaded team works thinner rather than letting every task wait. Assessments keep their hours."""
    backlog = queue_length / max(team_size, 1)
    start = P.backlog_per_caseworker_start
    if backlog <= start:
        return 1.0
    x = (backlog - start) / (P.backlog_per_caseworker_at_min - start)
    return 1.0 - (1.0 - P.min_work_share) * min(1.0, x)


def extra_effort(P: Compiled, queue_length: int, team_size: int) -> float:
    """Factor (>= 1) by which a loaded team speeds up every task that starts now: 1 + max_extra_effort x the
    backlog (waiting tasks per caseworker) relative to backlog_per_caseworker_full_effort, at most 1 +
    max_extra_effort - extra hours (flex, overtime) with a ceiling, before work gets thinner."""
    backlog = queue_length / max(team_size, 1)
    return 1.0 + P.max_extra_effort * min(1.0, backlog / P.backlog_per_caseworker_full_effort)


def followup_priority(P: Compiled, step: int, level: int, now: float, step_start: float) -> int:
    """Queue priority of a follow-up: a case at risk - on a placement step, with a need level in
    casework.triage.risk_levels, or on a measure younger than triage_new_measure_days - gets
    task_priority_followup_at_risk; a stable case task_priority_followup, or task_priority_followup_low_need
    if its need level is in casework.triage.low_levels (it is postponed first)."""
    if P.placement[step] or P.triage_risk_level[level] or now - step_start < P.triage_new_measure_days:
        return P.task_priority_followup_at_risk
    if P.triage_low_level[level]:
        return P.task_priority_followup_low_need
    return P.task_priority_followup


def course_bound(P: Compiled, s: int, age: float):
    """The (min, max) days a stay on step s that starts at ``age`` days is bounded to, or None: the step has no
    bound, or the age is outside the ages it applies to (max_duration_ages)."""
    dur = P.max_duration_days[s]
    if dur is None:
        return None
    ages = P.max_duration_ages_days[s]
    if ages is not None and not ages[0] <= age < ages[1]:
        return None
    return dur


def next_clock(P: Compiled, c: Child, now: float) -> tuple:
    """The race of the child's competing clocks from ``now``: (time, kind, esc, rec, det, brk, acx) - the time
    and kind (ESC .. ACX) of the earliest, and the rates per day at which the hazard budgets are spent until
    then. Age boundaries (an age group's end, adulthood, the end of aftercare) and the moment an unfollowed
    placement's breakdown rate rises change the rates and wake the child as AGE; a follow-up due or the end
    of a bounded stay counts only while no casework task is under way."""
    # (this runs at every wake-up of every child: fields are read once into locals, the rates from one table)
    L, s, birth, adult, step_end = c.level, c.step, c.birth, c.adult, c.step_end
    ends = P.age_group_ends_days
    last_g = len(ends) - 1
    age = now - birth
    g = 0                                   # age_group(P.age_groups_days, age), inline
    while g < last_g and age + TIME_EPS >= ends[g]:
        g += 1
    esc, rec, rec_bounded, det, brk, placed = P.clock_table[g][L][s]
    if step_end < INF:
        rec = rec_bounded                   # a bounded (intensive) stay
    task = c.task
    if det and (c.in_process or task or c.waiting_for >= 0):
        det = 0.0                           # detected only while nothing is under way, below the level's band
    # the next age boundary (group edge, adulthood, end of aftercare) and the moment the breakdown rate rises
    t = birth + (P.aftercare_to_age_days if adult else P.aftercare_from_age_days)
    if g < last_g:
        te = birth + ends[g]
        if te < t:
            t = te
    kind = AGE
    if placed:
        t_close = c.last_fu + P.close_followup_days
        if now + TIME_EPS >= t_close:
            brk *= P.unfollowed_breakdown_multiplier
        elif t_close < t:
            t = t_close
    else:
        brk = 0.0
    acx = P.aftercare_exit_rate_per_day if adult else 0.0
    # earliest clock
    if esc > 0:
        te = now + c.b_esc / esc
        if te < t:
            t, kind = te, ESC
    if rec > 0:
        te = now + c.b_rec / rec
        if te < t:
            t, kind = te, REC
    if det > 0:
        te = now + c.b_det / det
        if te < t:
            t, kind = te, DET
    if brk > 0:
        te = now + c.b_brk / brk
        if te < t:
            t, kind = te, BRK
    if acx > 0:
        te = now + c.b_acx / acx
        if te < t:
            t, kind = te, ACX
    if not task:
        if c.fu_due < t:
            t, kind = c.fu_due, FU
        if step_end < t:
            t, kind = step_end, DUR
    if t < now:
        t = now
    return t, kind, esc, rec, det, brk, acx
