"""The bulk population as pure functions: onset rates by age group, the wait between onsets in a growing
population, the age and level of a new need, the initial population (its expected size by level, and the
share already known), and the population's size by month. No SimPy, no Model: the model draws the uniforms
and passes them in.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy.linalg import expm

from ..common.units import DAYS_PER_MONTH, INF
from .params import Compiled

# numerics, not a parameter: below this |y|, log1p(y)/r is computed from its series (a tiny growth rate
# would otherwise give a zero wait between onsets)
SERIES_BELOW = 1e-8


def onset_rates(P: Compiled, cohort_per_day_age: float) -> tuple[list, float]:
    """Onsets per day by age group at the horizon start, and their total: each group's children (its width in
    days of age below adulthood x ``cohort_per_day_age``) x its onset rate."""
    adult = P.aftercare_from_age_days
    sizes = []
    for lo, hi in P.age_groups_days:
        width = max(0.0, min(hi, adult) - lo)
        sizes.append(width * cohort_per_day_age)
    rates = [n * r for n, r in zip(sizes, P.onset_rate_per_day)]
    return rates, sum(rates)


def onset_wait(e: float, total: float, growth: float, since_start: float) -> float:
    """Time until the cumulative onset hazard reaches ``e`` (an Exp(1) draw), ``since_start`` days after the
    horizon start, when the population - and so the hazard, ``total`` per day at the horizon start - grows
    exponentially at ``growth`` per day."""
    r = growth
    if r == 0:
        return e / total
    level = total * math.exp(r * since_start)
    y = e * r / level
    if abs(y) < SERIES_BELOW:               # log1p(y) / r to second order, exact where r is tiny
        return e / level * (1 - y / 2)
    return math.log1p(y) / r if y > -1 else INF    # a shrinking population may never produce another onset


def onset_child(P: Compiled, rates: list, total: float, u_group: float, u_age: float, u_level: float) -> tuple:
    """(age in days, level) of a new need from three uniforms: the age group by its share of the onset rate,
    the age uniform within the group (below adulthood), the level by need.onset_level_probs."""
    x = u_group * total
    g = 0
    while g < len(rates) - 1 and x > rates[g]:
        x -= rates[g]
        g += 1
    lo, hi = P.age_groups_days[g]
    age = lo + u_age * (min(hi, P.aftercare_from_age_days) - lo)
    level = 1
    for i, cp in enumerate(P.onset_level_probs_cum):
        if u_level <= cp:
            level = i + 1
            break
    return age, level


def known_share(P: Compiled, level: int) -> float:
    """Share of the initial children with need ``level`` who are already known (have a measure or case): the
    chance that detection comes before a change of the need."""
    det, esc, rec = P.detection_rate_per_day[level], P.escalation_rate_per_day[level], P.recovery_rate_per_day[level]
    return det / (det + esc + rec) if det > 0 else 0.0


# the fields of Compiled (and of Compiled.initial_reference) that describe the need process without measures
NEED_PROCESS = ("onset_rate_per_day", "onset_level_probs_cum", "escalation_rate_per_day", "recovery_rate_per_day",
                "age_multipliers_escalation", "age_multipliers_recovery")


def need_process(P: Compiled) -> dict:
    """The need process of ``P`` (its NEED_PROCESS fields), in the form of ``Compiled.initial_reference``."""
    return {k: getattr(P, k) for k in NEED_PROCESS}


# stationary_stock's results by the repr of its arguments (exact for floats): every replication of a run
# starts from the same parameters, and the matrix exponentials cost as much as thousands of events
_STOCK_CACHE: dict = {}
_STOCK_CACHE_SIZE = 64


def stationary_stock(rates: Mapping, age_groups_days: list, adult: float) -> np.ndarray:
    """``_stationary_stock`` (below), remembered for the last parameter sets seen in this process."""
    key = repr((sorted(rates.items()), age_groups_days, adult))
    hit = _STOCK_CACHE.get(key)
    if hit is None:
        if len(_STOCK_CACHE) >= _STOCK_CACHE_SIZE:
            _STOCK_CACHE.clear()
        hit = _STOCK_CACHE[key] = _stationary_stock(rates, age_groups_days, adult)
    return hit.copy()


def _stationary_stock(rates: Mapping, age_groups_days: list, adult: float) -> np.ndarray:
    """Expected children at each need level (index = level, 0 at none) aged under ``adult`` days in the
    stationary state of the need process without measures, per child per day of age of the population.

    A need begins at the onset rate of the child's age group, at a level drawn by the onset probabilities;
    it then escalates and recovers at the level's rates times the age group's multipliers, and ends at
    recovery from the lowest level or at ``adult``. In the stationary state the expected number of children
    per day of age at each level, m(a), solves dm/da = onset(a) + Q(a)' m(a) with m(0) = 0 (age and time
    advance together), Q being the rates between the levels; the rates are constant within an age group, so
    m and its integral over the group follow from one matrix exponential each (exact, also where a rate is 0).
    """
    n = len(rates["escalation_rate_per_day"]) - 1            # the need levels 1 .. n
    cum = [0.0] + list(rates["onset_level_probs_cum"])
    p = np.diff(cum)
    m = np.zeros(n)
    total = np.zeros(n)
    for g, (lo, hi) in enumerate(age_groups_days):
        width = min(hi, adult) - lo
        if width <= 0:
            continue
        q = np.zeros((n, n))                                  # q[to, from]: the transpose of the generator
        for i in range(n):
            esc = rates["escalation_rate_per_day"][i + 1] * rates["age_multipliers_escalation"][g]
            rec = rates["recovery_rate_per_day"][i + 1] * rates["age_multipliers_recovery"][g]
            q[i, i] -= esc + rec
            if i + 1 < n:
                q[i + 1, i] += esc
            if i > 0:
                q[i - 1, i] += rec
        # the state (m, 1, integral of m) moves linearly: d/da (m, c, J) = (q m + onset c, 0, m)
        block = np.zeros((2 * n + 1, 2 * n + 1))
        block[:n, :n] = q
        block[:n, n] = rates["onset_rate_per_day"][g] * p
        block[n + 1:, :n] = np.eye(n)
        state = expm(block * width) @ np.concatenate([m, [1.0], np.zeros(n)])
        m, total = state[:n], total + state[n + 1:]
    return np.concatenate([[0.0], total])


def initial_means(P: Compiled) -> list:
    """Expected children at each need level (index = level, 0 at none) at the start of the warm-up, before the
    population's growth up to the horizon start is taken back: ``need.initial_prevalence`` x children 0-17, and
    with ``need.initial_state`` scaled, times each level's ratio of the stationary stock of the need process
    without measures (``stationary_stock``) under these parameters to that under ``need.initial_reference``
    (the process under which the prevalences were set; a level the reference never reaches keeps its
    prevalence)."""
    means = [prev * P.children_0_17 for prev in P.initial_prevalence]
    if P.initial_state == "configured":
        return means
    adult = P.aftercare_from_age_days
    own = stationary_stock(need_process(P), P.age_groups_days, adult)
    ref = stationary_stock(P.initial_reference, P.age_groups_days, adult)
    return [mean * (float(o / r) if r > 0 else 1.0) for mean, o, r in zip(means, own, ref)]


def population_factor(growth: float, months: int, horizon_start: float) -> np.ndarray:
    """Mean population of each of ``months`` months relative to the horizon start (day ``horizon_start``)."""
    r, M, w = growth, months, horizon_start
    x = r * DAYS_PER_MONTH
    if x == 0:
        return np.ones(M)
    a = np.arange(M) * DAYS_PER_MONTH - w
    return np.exp(r * a) * (math.expm1(x) / x)      # expm1: exact for a tiny growth rate too


def level_given_step(P: Compiled, means: list, group: int, step: int) -> list:
    """Cumulative probabilities of the need levels 1.. of a known child of age group ``group`` on ``step`` whose
    level is not given: each level's expected number of children (``means``) x the weight the step has in the
    first tier of that level's matching that names it (as a share of the tier's weights) - the levels the rule
    would have placed there, in proportion to how many such children there are. If no level's matching names
    the step, the levels in proportion to ``means`` alone."""
    w = []
    for level in range(1, P.n_levels):
        share = 0.0
        for steps, weights in P.matching_tiers[group][level]:
            if step in steps:
                share = weights[steps.index(step)] / sum(weights)
                break
        w.append(means[level] * share)
    if sum(w) <= 0:
        w = list(means[1:])
    total = sum(w)
    return list(np.cumsum(w) / total) if total > 0 else [1.0] * (P.n_levels - 1)
