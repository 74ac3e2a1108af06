"""The bulk population as pure functions: onset rates by age group, the wait between onsets in a growing
population, the age and level of a new need, the share of the initial population already known, and
the population's size by month. No SimPy, no Model: the model draws the uniforms and passes them in.
"""
from __future__ import annotations

import math

import numpy as np

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


def population_factor(growth: float, months: int, horizon_start: float) -> np.ndarray:
    """Mean population of each of ``months`` months relative to the horizon start (day ``horizon_start``)."""
    r, M, w = growth, months, horizon_start
    x = r * DAYS_PER_MONTH
    if x == 0:
        return np.ones(M)
    a = np.arange(M) * DAYS_PER_MONTH - w
    return np.exp(r * a) * (math.expm1(x) / x)      # expm1: exact for a tiny growth rate too
