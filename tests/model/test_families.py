"""Family-based care that can run out: network searches for kinship care, a finite pool of foster families
that is used up and recruited (with a lag and a cost), and intensive treatment that belongs to the bounded
stay. Small runs over two seeds."""
from __future__ import annotations

import pytest

from sim.config import ConfigError, plan
from sim.model.params import compile_config
from sim.model.rules import next_clock
from tests.conftest import QUICK, horizon, one_model, run_inline

SEEDS = [2, 9]
SHORT = ["run.warmup_years=2", "run.horizon_years=2"]


def _days(res, step, scenario=None):
    return horizon(res, f"child_days__{step}", scenario).sum()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_network_search_that_never_finds_a_family_leaves_kinship_care_empty(seed):
    none = run_inline(SHORT + [f"run.seed={seed}", "staircase.steps.kinship_care.network_search_success=0"])
    some = run_inline(SHORT + [f"run.seed={seed}"])
    always = run_inline(SHORT + [f"run.seed={seed}", "staircase.steps.kinship_care.network_search_success=1"])
    assert _days(none, "kinship_care") == 0
    assert 0 < _days(some, "kinship_care") < _days(always, "kinship_care")


def test_a_pool_without_recruitment_is_used_up():
    """Every family stops after one placement and none is recruited: no more children enter foster care than
    the pool had families (breakdowns off, so every family serves one child)."""
    pool = ["staircase.steps.foster_care.family_pool.recruited_per_year_per_1000_children=0",
            "staircase.steps.foster_care.family_pool.leave_after_placement_prob=1",
            "staircase.steps.foster_care.family_pool.free_leave_per_year=0",
            "staircase.steps.foster_care.breakdown_rate_per_year=0"]
    m, r = one_model(SHORT + pool)
    s = r.step_names.index("foster_care")
    families = round(7.5 * m.practice.children_0_17 / 1000)          # conf/staircase: families_per_1000_children
    assert r.step_entries[s].sum() <= families
    assert m.pool[s] <= families - r.step_entries[s].sum() + r.occupancy_end[s, -1]
    m2, r2 = one_model(SHORT)                                        # with recruitment, more children get a family
    assert r2.step_entries[s].sum() > r.step_entries[s].sum()


def test_recruitment_is_costed_per_family_on_the_step():
    base = ["staircase.steps.foster_care.family_pool.leave_after_placement_prob=0",
            "staircase.steps.foster_care.family_pool.free_leave_per_year=0"]
    free = run_inline(SHORT + base + ["staircase.steps.foster_care.family_pool.cost_per_recruited_family_dkk=0"])
    paid = run_inline(SHORT + base + ["staircase.steps.foster_care.family_pool.cost_per_recruited_family_dkk=50000"])
    diff = _days(paid, "foster_care") - _days(free, "foster_care")
    assert diff == 0                                                 # costing changes nothing children meet
    extra = horizon(paid, "cost_dkk__foster_care") - horizon(free, "cost_dkk__foster_care")
    # 1.4 families per 1,000 children a year for 2 years: ~35 families x 50,000 DKK
    families = extra / 50000
    assert (abs(families - families.round()) < 1e-6).all()
    assert (abs(families - 1.4 * 12600 / 1000 * 2) <= 2).all()


def test_a_scenario_recruits_more_only_after_the_recruitment_lag():
    """Recruitment is deterministic (rates, not draws): kinship_first's extra families arrive from the lag on."""
    lag = ["staircase.steps.foster_care.family_pool.recruitment_lag_months=12"]
    mb, _ = one_model(SHORT + lag)
    ms, _ = one_model(SHORT + lag + ["scenario=kinship_first"])
    s = mb.practice.step_names.index("foster_care")
    h0 = mb.warm_months
    base, arm = mb.recorder.recruitment[s], ms.recorder.recruitment[s]
    assert (arm[:h0 + 12] == base[:h0 + 12]).all()          # before the lag: what current practice recruits
    assert arm[h0 + 13:].sum() > 1.3 * base[h0 + 13:].sum()  # then +50 % (scenarios/kinship_first.yaml)


def test_intensive_treatment_belongs_to_the_bounded_stay():
    p = plan(QUICK + ["compare=[]", "scenario=short_intensive_stays"])
    P = compile_config(p.arms[p.reference])
    r = P.step_names.index("residential")
    m, _ = one_model(SHORT + ["scenario=short_intensive_stays"])
    c = m.registry[0]
    assert P.bounded_recovery_rate_table is not None
    g, lv = 2, P.levels.index("serious")
    assert P.bounded_recovery_rate_table[g][lv][r] > P.recovery_rate_table[g][lv][r]
    for s in range(len(P.step_names)):
        if s != r:
            assert P.bounded_recovery_rate_table[g][lv][s] == P.recovery_rate_table[g][lv][s]
    c.level, c.step, c.step_end = lv, r, float("inf")
    open_rate = next_clock(P, c, c.birth + 14 * 365.25)[3]
    c.step_end = c.birth + 15 * 365.25
    bounded_rate = next_clock(P, c, c.birth + 14 * 365.25)[3]
    assert bounded_rate > open_rate > 0
    # current practice has no intensive stay: one table
    assert compile_config(p.warmup).bounded_recovery_rate_table is None


def test_a_pool_and_a_capacity_on_one_step_are_refused():
    with pytest.raises(ConfigError, match="family_pool"):
        plan(QUICK + ["compare=[]", "staircase.steps.foster_care.capacity=50"])


@pytest.mark.slow
def test_kinship_first_saves_less_when_networks_yield_fewer_families():
    """The saving rests on families being found: at a lower search success it shrinks (two seeds)."""
    for seed in SEEDS:
        saving = {}
        for p in (0.4, 0.8):
            res = run_inline(SHORT + [f"run.seed={seed}", f"staircase.steps.kinship_care.network_search_success={p}",
                                      "scenario=baseline"], replications=3, compare="[kinship_first]")
            c = res.comparison
            saving[p] = -float(c[(c.period == "horizon") & (c.kpi == "cost_total_dkk")]["diff_mean"].iloc[0])
        assert saving[0.4] < saving[0.8], (seed, saving)


def test_efficacy_and_breakdown_by_need_level_are_factors_on_the_steps_own():
    """level_factors: a severe need in kinship care recovers at the factor x the step's multiplier and breaks
    down at the factor x its rate; other levels and steps keep theirs; a level that does not exist is refused."""
    from sim.config import ConfigError, plan
    from sim.model.params import compile_config
    from tests.conftest import QUICK
    base = compile_config(plan(QUICK + ["compare=[]"]).arms["baseline"])
    cfg = plan(QUICK + ["compare=[]", "staircase.steps.kinship_care.level_factors.severe.recovery=0.5",
                        "staircase.steps.kinship_care.level_factors.severe.breakdown=2.0"]).arms["baseline"]
    P = compile_config(cfg)
    k, f = P.step_names.index("kinship_care"), P.step_names.index("foster_care")
    sev, ser = P.levels.index("severe"), P.levels.index("serious")
    assert P.breakdown_rate_table[sev][k] == pytest.approx(2.0 * base.breakdown_rate_table[sev][k])
    assert P.breakdown_rate_table[ser][k] == base.breakdown_rate_table[ser][k]
    assert P.breakdown_rate_table[sev][f] == base.breakdown_rate_table[sev][f]
    mult = cfg.staircase.steps["kinship_care"].recovery_multiplier
    # the mismatch efficacy scales the step's extra recovery (multiplier - 1) alike in both
    extra_new, extra_old = P.recovery_multiplier[sev][k] - 1.0, base.recovery_multiplier[sev][k] - 1.0
    assert extra_new == pytest.approx(extra_old * (0.5 * mult - 1.0) / (mult - 1.0))
    assert P.recovery_multiplier[ser][k] == base.recovery_multiplier[ser][k]
    with pytest.raises(ConfigError, match="level_factors.huge"):
        plan(QUICK + ["compare=[]", "+staircase.steps.kinship_care.level_factors.huge={recovery: 1.0}"])
