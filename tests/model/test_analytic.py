"""The need process against its analytical solution.

Without detection, a child's need is a continuous-time Markov chain on the levels: escalation one
level up and recovery one level down at the rates of its age group and step (the hazard budgets of
``Model.life``); a child who recovers fully leaves. Its level distribution after t days is therefore
p(t) = p(0) expm(Q t). Simulating thousands of children and comparing their levels with that
distribution checks the competing clocks, including the re-planning when a measure changes the
rates part-way (the interrupt path).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from sim.config import plan
from sim.model import Model
from sim.common.units import DAYS_PER_YEAR
from sim.model.params import compile_config
from sim.model.streams import replication_streams

from tests.conftest import QUICK

NO_DETECTION = [f"detection.rate_per_year.{lv}=0" for lv in ("mild", "moderate", "serious", "severe")]
N_CHILDREN = 4000


def _model(seed: int):
    p = plan(QUICK + ["compare=[]", f"run.seed={seed}"] + NO_DETECTION)
    cfg = p.arms[p.reference]
    P = compile_config(p.warmup)
    return Model(P, compile_config(cfg), cfg.run.warmup_years, cfg.run.horizon_years,
                 replication_streams(cfg.run.seed, 0)), P


def _generator(P, group: int, step: int) -> np.ndarray:
    """Q for need levels; level 0 (recovered) is absorbing."""
    n = P.n_levels
    Q = np.zeros((n, n))
    for L in range(1, n):
        esc = P.escalation_rate_per_day[L] * P.age_multipliers_escalation[group] * P.escalation_multiplier[L][step] if L < n - 1 else 0.0
        rec = P.recovery_rate_per_day[L] * P.age_multipliers_recovery[group] * P.recovery_multiplier[L][step]
        if L < n - 1:
            Q[L, L + 1] = esc
        Q[L, L - 1] = rec
        Q[L, L] = -(esc + rec)
    return Q


def _levels(children, n_levels) -> np.ndarray:
    return np.bincount([c.level for c in children], minlength=n_levels) / len(children)


def _assert_close(sim: np.ndarray, expected: np.ndarray, n: int) -> None:
    # per level: within 4 binomial standard errors (fixed seed; the test is stable, not flaky)
    se = np.sqrt(np.maximum(expected * (1 - expected), 1e-4) / n)
    assert np.all(np.abs(sim - expected) < 4 * se + 1e-9), (sim.round(4), expected.round(4))
    assert abs(sim.sum() - 1) < 1e-12


@pytest.mark.parametrize("level,age_years,days", [(1, 2.0, 365.0), (2, 7.0, 730.0), (3, 14.0, 365.0)])
def test_need_levels_follow_the_markov_chain(level, age_years, days):
    m, P = _model(seed=11 + level)
    group = next(g for g, (lo, hi) in enumerate(P.age_groups_days) if lo <= age_years * DAYS_PER_YEAR < hi)
    assert (age_years * DAYS_PER_YEAR + days) < P.age_groups_days[group][1], "stay within one age group"
    children = [m.new_child(age_years * DAYS_PER_YEAR, level) for _ in range(N_CHILDREN)]
    for c in children:
        m.start(c)
    m.env.run(until=days)
    p0 = np.eye(P.n_levels)[level]
    expected = p0 @ expm(_generator(P, group, P.ground_step) * days)
    sim = _levels(children, P.n_levels)
    _assert_close(sim, expected, N_CHILDREN)
    # and the chain moved: not everyone is still where they started
    assert sim[level] < 0.9


def test_a_measure_part_way_changes_the_rates_from_that_moment():
    """Half-way, every child still in need starts a home-based measure (its multipliers apply from then)."""
    m, P = _model(seed=5)
    home = P.step_names.index("home_based")
    level, age_years, t1, t2 = 2, 7.0, 90.0, 170.0
    assert t2 < P.followup_interval_days[home], "no follow-up (and re-matching) before the end"
    group = next(g for g, (lo, hi) in enumerate(P.age_groups_days) if lo <= age_years * DAYS_PER_YEAR < hi)
    children = [m.new_child(age_years * DAYS_PER_YEAR, level) for _ in range(N_CHILDREN)]
    for c in children:
        m.start(c)
    m.env.run(until=t1)
    for c in children:
        if not c.exited:
            m.move(c, home)
    m.env.run(until=t1 + t2)
    p0 = np.eye(P.n_levels)[level]
    expected = p0 @ expm(_generator(P, group, P.ground_step) * t1) @ expm(_generator(P, group, home) * t2)
    sim = _levels(children, P.n_levels)
    _assert_close(sim, expected, N_CHILDREN)
    # the test has power: had the rates not changed at t1 (a lost interrupt), the result would be far off
    untreated = p0 @ expm(_generator(P, group, P.ground_step) * (t1 + t2))
    se = np.sqrt(np.maximum(untreated * (1 - untreated), 1e-4) / N_CHILDREN)
    assert np.max(np.abs(sim - untreated) / se) > 8, (sim.round(4), untreated.round(4))


def _erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load a = lambda/mu (< c)."""
    from math import factorial
    top = a ** c / factorial(c) * c / (c - a)
    return top / (sum(a ** k / factorial(k) for k in range(c)) + top)


def test_the_caseworker_queue_matches_the_mm_c_priority_formula():
    """The team (sim.model.Team) as a queue: Poisson arrivals of two classes, exponential work, c caseworkers,
    non-preemptive priority. Mean waits per class must match Cobham's formula for M/M/c,
    W_k = C(c, a) / (c mu) / ((1 - s_{k-1}) (1 - s_k)), s_k = sum of the loads of classes <= k."""
    import simpy

    from sim.model import Team

    c, mu, lam = 3, 1.0, (0.8, 1.4)                  # load 0.73 per caseworker
    horizon, warmup = 40_000.0, 2_000.0              # both classes arrive over the same time span
    rng = np.random.default_rng(2026)
    env = simpy.Environment()
    team = Team(env, c)
    waits = ([], [])

    def customer(k, work):
        t0 = env.now
        yield team.request(k)
        if t0 >= warmup:                             # skip the start-up from an empty queue
            waits[k].append(env.now - t0)
        yield env.timeout(work)
        team.put(1)

    def arrivals(k):
        while env.now < horizon:
            for gap, work in zip(rng.exponential(1 / lam[k], 1000), rng.exponential(1 / mu, 1000)):
                yield env.timeout(gap)
                env.process(customer(k, work))

    for k in (0, 1):
        env.process(arrivals(k))
    env.run()
    pw = _erlang_c(c, sum(lam) / mu)
    s = np.cumsum([0.0] + [x / (c * mu) for x in lam])
    for k in (0, 1):
        expected = pw / (c * mu) / ((1 - s[k]) * (1 - s[k + 1]))
        got = np.mean(waits[k])
        assert abs(got - expected) < 0.06 * expected, (k, got, expected)
    # and priority matters: the urgent class waits far less than it would in one queue
    fifo = pw / (c * mu - sum(lam))
    assert np.mean(waits[0]) < 0.5 * fifo < np.mean(waits[1])
