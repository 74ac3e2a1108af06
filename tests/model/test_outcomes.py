"""Outcomes for the children: severity-weighted need-days, unmet need, moves between placements, and new
placements and the placed stock by age group (issue 7 and part of 6).

Each test can fail: the need-days are checked against an independent reconstruction (the children's state
sampled on a fine grid in an instrumented run), the unmet need against the two settings where the answer is
known, and the age groups and moves against the totals they must add up to.
"""
from __future__ import annotations

import numpy as np
import pytest

from sim.common.i18n import AGE_GROUP_KPI_LABELS, KPI_LABELS, UNITS_DA, kpi_label
from sim.common.kpi_catalog import AGE_GROUP_KPIS, KPI_DEFS
from sim.common.units import DAYS_PER_YEAR
from sim.config import ConfigError, plan
from sim.metrics.kpis import replication_children
from sim.model import Model
from sim.model.params import compile_arm, compile_config
from sim.model.rules import age_group
from sim.model.streams import replication_streams
from tests.conftest import QUICK, horizon, run_inline

LEVELS = ["mild", "moderate", "serious", "severe"]
OUTCOME_KPIS = ["need_days", "need_days_weighted", "need_days_weighted_per_1000_0_17", "unmet_need_days",
                "unmet_need_share", "placement_moves", "new_placements_mean_age"]
SAMPLES_PER_DAY = 2         # grid of the reconstruction (midpoints of half-day cells)


def _sampler(m: Model, acc: dict, n_groups: int):
    """Process: at the midpoint of every cell of the horizon's grid, add each present child's state x the cell's
    length - need-days, weighted need-days, unmet need-days (step below the level's matching band) and placed
    days by age group - read from the children themselves, not from the recorder."""
    env = m.env
    cells = int(round((m.t_end - m.t_horizon) * SAMPLES_PER_DAY))
    dt = (m.t_end - m.t_horizon) / cells
    acc.update(need=0.0, weighted=0.0, unmet=0.0, placed=np.zeros(n_groups), per_child={})
    for k in range(cells):
        yield env.timeout(m.t_horizon + (k + 0.5) * dt - env.now)
        P = m.practice
        for c in m.registry:
            if c.exited:
                continue
            if c.level:
                acc["need"] += dt
                acc["weighted"] += P.outcome_weights[c.level] * dt
                acc["per_child"][c.id] = acc["per_child"].get(c.id, 0.0) + P.outcome_weights[c.level] * dt
                if c.step < P.matching_band_lo[c.level]:
                    acc["unmet"] += dt
            if P.placement[c.step]:
                acc["placed"][age_group(P.age_groups_days, env.now - c.birth)] += dt


def _instrumented_run(overrides=()):
    p = plan(QUICK + ["compare=[]"] + list(overrides))
    cfg = p.arms[p.reference]
    warm = compile_config(p.warmup)
    m = Model(warm, compile_arm(p.warmup, cfg), cfg.run.warmup_years, cfg.run.horizon_years,
              replication_streams(cfg.run.seed, 0))
    acc: dict = {}
    m.env.process(_sampler(m, acc, len(warm.age_group_names)))
    return m, m.run(), acc


@pytest.fixture(scope="module")
def instrumented():
    return _instrumented_run(["municipality=kolding"])


def test_need_days_match_an_independent_reconstruction(instrumented):
    m, r, acc = instrumented
    h = r.month_index >= 0
    # the recorder's monthly integrals agree with the state sampled on a half-day grid (midpoint rule)
    assert r.need_days[h].sum() == pytest.approx(acc["need"], rel=1e-3)
    assert r.need_days_weighted[h].sum() == pytest.approx(acc["weighted"], rel=1e-3)
    assert r.unmet_need_days[h].sum() == pytest.approx(acc["unmet"], rel=1e-3)
    assert acc["unmet"] > 0 and acc["weighted"] > acc["need"]        # weights above 1 count
    # nothing is integrated in the warm-up
    assert not r.need_days[~h].any() and not r.unmet_need_days[~h].any()
    # the ledger adds up to the same totals, child by child within the grid's resolution
    ch = replication_children(r, m.practice.levels)
    assert ch["need_days_weighted"].sum() == pytest.approx(r.need_days_weighted[h].sum(), rel=1e-9)
    assert ch["need_days"].sum() == pytest.approx(r.need_days[h].sum(), rel=1e-9)
    assert ch["unmet_need_days"].sum() == pytest.approx(r.unmet_need_days[h].sum(), rel=1e-9)
    assert (ch["unmet_need_days"] <= ch["need_days"] + 1e-9).all()
    assert (ch["need_days"] <= ch["need_days_weighted"] / min(m.practice.outcome_weights[1:]) + 1e-6).all()
    # child by child: a change of level (or an arrival, an exit) inside a cell of the grid is off by at most
    # the top weight x half a cell; a missed change would be off by days
    error = np.abs(ch["need_days_weighted"] - ch["child_id"].map(acc["per_child"]).fillna(0.0))
    half_cell = max(m.practice.outcome_weights) / SAMPLES_PER_DAY / 2
    assert error.quantile(0.99) <= half_cell and error.max() <= 4 * half_cell


def test_placed_stock_by_age_group_matches_reconstruction_and_total(instrumented):
    m, r, acc = instrumented
    h = r.month_index >= 0
    by_group = r.placed_days_age[:, h].sum(axis=1)
    pl = np.array(r.placement)
    total = (r.child_days[pl][:, h] + r.adult_days[pl][:, h]).sum()
    assert by_group.sum() == pytest.approx(total, rel=1e-9)
    np.testing.assert_allclose(by_group, acc["placed"], rtol=1e-3)
    assert (by_group > 0).all()


def test_unmet_need_vanishes_when_detection_and_matching_are_immediate():
    base = run_inline([], replications=1)
    immediate = run_inline([f"detection.rate_per_year.{lv}=365" for lv in LEVELS] + [
        "detection.triage_days=0", "casework.decision_delay_days=0", "casework.caseworkers=300",
        "casework.assessment_hours=1", "casework.followup_hours=1"], replications=1)
    share_base = horizon(base, "unmet_need_share")[0]
    share = horizon(immediate, "unmet_need_share")[0]
    # left: the day or so from a change of need to its detection and the caseworker's decision
    assert 0 <= share < 0.01 and share < share_base / 20
    assert horizon(immediate, "need_days")[0] > 0


def test_without_detection_every_need_day_is_unmet():
    p = plan(QUICK + ["compare=[]"])
    P = compile_config(p.arms[p.reference])
    assert all(P.matching_band_lo[lv] > P.ground_step for lv in range(1, P.n_levels))   # the premise
    res = run_inline([f"detection.rate_per_year.{lv}=0" for lv in LEVELS], replications=2)
    need, unmet = horizon(res, "need_days"), horizon(res, "unmet_need_days")
    assert (need > 0).all()
    np.testing.assert_allclose(unmet, need, rtol=1e-12)
    np.testing.assert_allclose(horizon(res, "unmet_need_share"), 1.0, rtol=1e-12)
    assert (horizon(res, "new_placements") == 0).all() and (horizon(res, "placement_moves") == 0).all()


@pytest.fixture(scope="module")
def with_step_downs():
    # short stays end in a step down from residential care, often to another placement step
    return run_inline([], replications=2, compare="[short_intensive_stays]")


def test_age_groups_add_up_and_moves_cover_breakdowns(with_step_downs):
    res = with_step_downs
    k = res.kpis.pivot_table(index=["scenario", "replication", "period", "year"], columns="kpi", values="value")
    groups = res.plan.arms[res.reference].need.age_groups
    new = k[[f"new_placements__{g}" for g in groups]].sum(axis=1)
    np.testing.assert_array_equal(new.to_numpy(), k["new_placements"].to_numpy())
    steps = res.plan.arms[res.reference].staircase.steps
    placed_days = k[[f"child_days__{s}" for s, st in steps.items() if st.placement]].sum(axis=1)
    years = np.where(k.index.get_level_values("period") == "horizon", res.plan.arms[res.reference].run.horizon_years, 1)
    stock = k[[f"placed_stock__{g}" for g in groups]].sum(axis=1)
    np.testing.assert_allclose(stock.to_numpy(), placed_days.to_numpy() / (years * DAYS_PER_YEAR), rtol=1e-9)
    # every breakdown moves the child (to another placement step or a new family or place of its type)
    assert (k["placement_moves"] >= k["breakdowns"]).all()
    h = k.xs("horizon", level="period")
    assert (h.loc["short_intensive_stays", "placement_moves"] > h.loc["short_intensive_stays", "breakdowns"]).any()
    ages = k["new_placements_mean_age"].dropna()
    assert len(ages) and ((ages > 0) & (ages < 18)).all()


def test_ledger_moves_add_up_to_the_kpi(with_step_downs):
    res = with_step_downs
    ledger = res.children.groupby(["scenario", "replication"])["placement_moves"].sum()
    kpi = res.kpis[(res.kpis.period == "horizon") & (res.kpis.kpi == "placement_moves")]
    np.testing.assert_array_equal(ledger.to_numpy(), kpi.set_index(["scenario", "replication"])["value"]
                                  .loc[ledger.index].to_numpy())


def test_weights_only_weigh():
    """The weights are an evaluation, not a mechanism: doubling them doubles need_days_weighted and leaves
    every other KPI as it was, draw for draw."""
    a = run_inline(["run.horizon_years=1"], replications=1).kpis
    b = run_inline(["run.horizon_years=1"] + [f"need.outcome_weights.{lv}={w}" for lv, w in
                                               zip(LEVELS, (2, 4, 8, 16))], replications=1).kpis
    weighted = a.kpi.str.startswith("need_days_weighted")
    np.testing.assert_array_equal(b[weighted].value.to_numpy(), 2 * a[weighted].value.to_numpy())
    np.testing.assert_array_equal(b[~weighted].value.to_numpy(), a[~weighted].value.to_numpy())


def test_kinship_first_means_fewer_moves_between_placements():
    """Kinship care breaks down less often than foster or residential care (conf/staircase), so moving the
    placement mix towards it must lower the moves between placements: paired differences, 2 municipalities
    x 2 seeds."""
    diffs = []
    for municipality in ("average", "kolding"):
        for seed in (1, 2):
            res = run_inline([f"municipality={municipality}", f"run.seed={seed}"], replications=2,
                             compare="[kinship_first]")
            c = res.comparison
            diffs.append(c[(c.period == "horizon") & (c.kpi == "placement_moves")]["diff_mean"].item())
    steps = res.plan.arms[res.reference].staircase.steps
    assert steps["kinship_care"].breakdown_rate_per_year < steps["foster_care"].breakdown_rate_per_year  # premise
    assert np.mean(diffs) < 0, diffs


def test_outcome_kpis_are_catalogued_and_named():
    for kpi in OUTCOME_KPIS:
        assert kpi in KPI_DEFS
        assert KPI_LABELS["da"][kpi] != KPI_LABELS["en"][kpi]
    for lang in ("da", "en"):
        assert set(AGE_GROUP_KPIS) <= set(AGE_GROUP_KPI_LABELS[lang])
    assert {u for u, _, _ in list(KPI_DEFS.values()) + list(AGE_GROUP_KPIS.values())} <= set(UNITS_DA)
    assert kpi_label("new_placements__age_0_5", "da") == "Nye anbringelser: 0-5 år"
    assert kpi_label("placed_stock__age_13_17", "en") == "Placed (time-averaged stock): aged 13-17"


def test_outcome_weights_must_name_every_level():
    with pytest.raises(ConfigError, match="need.outcome_weights.severe"):
        plan(QUICK + ["~need.outcome_weights.severe"])
    with pytest.raises(ConfigError, match="need.outcome_weights.mild"):
        plan(QUICK + ["need.outcome_weights.mild=-1"])
