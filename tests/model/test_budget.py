"""The budget by measure (sim.metrics.budget): flows balance the stocks, counts x unit costs give the costs,
and the rows add up to the cost KPIs, per arm and per year, and in the paired differences."""
from __future__ import annotations

import numpy as np
import pytest

from sim.metrics.budget import budget, budget_difference, budget_replications
from tests.conftest import one_model, run_inline


def test_entries_minus_exits_is_the_change_in_children_on_each_step():
    _, r = one_model()
    assert r.step_entries.sum() > 1000 and r.step_exits.sum() > 1000      # something flowed
    # the model starts empty: the stock at each month end is the running sum of in minus out
    np.testing.assert_array_equal(r.occupancy_end, np.cumsum(r.step_entries - r.step_exits, axis=1))


@pytest.fixture(scope="module")
def res():
    return run_inline([], replications=4, compare="[kinship_first,earlier_detection]")


def test_count_times_unit_cost_plus_fixed_is_the_cost(res):
    b = budget(res)
    priced = b[b["unit_cost_dkk"].notna()]
    assert len(priced) == len(b[b["item"] != "investment"])
    np.testing.assert_allclose(priced["cost_dkk"], priced["count"] * priced["unit_cost_dkk"] + priced["fixed_cost_dkk"],
                               rtol=1e-9, atol=1e-3)
    assert (b["count"].dropna() >= 0).all() and (b.loc[b["item"] == "caseworkers", "count"] > 0).all()


@pytest.mark.parametrize("implementation", [["implementation.start_month=18"], ["implementation.ramp_months=12"]],
                         ids=["later start", "ramp"])
def test_count_times_unit_cost_holds_when_the_price_changes_within_a_year(implementation):
    """A scenario that starts later or ramps up books the warm-up's price before the arm's (held-out audit 8:
    the configured price was shown for months charged at the old one, 5 M off in a year): the unit cost of a
    year with a change is the average price booked, between the two prices, and the configured one otherwise."""
    res = run_inline(["run.horizon_years=3", *implementation], replications=3, compare="[full_shift]")
    b = budget(res)
    priced = b[b["unit_cost_dkk"].notna()]
    np.testing.assert_allclose(priced["cost_dkk"], priced["count"] * priced["unit_cost_dkk"] + priced["fixed_cost_dkk"],
                               rtol=1e-9, atol=1e-3)
    old = res.plan.arms["baseline"].staircase.steps["residential"].cost_per_year_dkk
    new = res.plan.arms["full_shift"].staircase.steps["residential"].cost_per_year_dkk
    assert old != new                               # the scenario changes the price of residential care
    unit = b[(b.scenario == "full_shift") & (b["item"] == "residential")].set_index("year")["unit_cost_dkk"]
    assert unit[3] == new                           # the arm's own price once it holds all year
    changing = unit[2] if "start_month" in implementation[0] else unit[1]
    assert min(old, new) < changing < max(old, new)  # the year of the change: an average of the two
    if "start_month" in implementation[0]:
        assert unit[1] == old                       # before the start: the warm-up's price
    assert min(old, new) < unit[0] < max(old, new)  # the whole horizon


def test_the_budget_adds_up_to_the_cost_kpis(res):
    b = budget(res)
    total = b.groupby(["scenario", "year"])["cost_dkk"].sum()
    s = res.summary[res.summary.kpi == "cost_total_dkk"].set_index(["scenario", "year"])["mean"]
    years = sorted(set(b.year))
    assert years == [0, 1, 2]                       # the horizon (0) and each horizon year
    for sc in res.arms:
        for y in years:
            assert total[(sc, y)] == pytest.approx(s[(sc, y)], rel=1e-9)
    # and per replication, the horizon is the sum of its years
    per = budget_replications(res)
    h = per[per.year == 0].set_index(["scenario", "replication", "item"])["cost_dkk"]
    by_year = per[per.year > 0].groupby(["scenario", "replication", "item"])["cost_dkk"].sum()
    assert np.allclose(h.sort_index(), by_year.sort_index())


def test_the_paired_differences_add_up_and_show_where_a_saving_comes_from(res):
    d = budget_difference(res)
    assert set(d.scenario) == {"kinship_first", "earlier_detection"}
    tot = d[d.year == 0].groupby("scenario")["cost_dkk"].sum()
    c = res.comparison[(res.comparison.kpi == "cost_total_dkk") & (res.comparison.period == "horizon")]
    for sc, diff in zip(c.scenario, c.diff_mean):
        assert tot[sc] == pytest.approx(diff, rel=1e-9)
    h = d[d.year == 0].set_index(["scenario", "item"])
    # kinship_first shifts placements to kinship care: more child-years there, fewer in residential care
    assert h.loc[("kinship_first", "kinship_care"), "cost_ci_low"] > 0
    assert h.loc[("kinship_first", "kinship_care"), "count"] > 0 > h.loc[("kinship_first", "residential"), "count"]
    # earlier detection costs more assessments and more early help; the same team
    assert h.loc[("earlier_detection", "assessments"), "count"] > 0
    assert h.loc[("earlier_detection", "early_preventive"), "cost_ci_low"] > 0
    assert h.loc[("earlier_detection", "caseworkers"), "cost_dkk"] == 0


def test_the_yearly_view_is_the_budget_by_year(res):
    from sim.report.tables import budget_by_year
    from sim.report import fmt

    wide = budget_by_year(res, "kinship_first")
    assert list(wide.columns) == ["year 1", "year 2", "horizon"]
    b = budget(res)
    total = b[(b.scenario == "kinship_first") & (b.year == 1)]["cost_dkk"].sum()
    assert wide.loc["Total", "year 1"] == fmt(total)


def test_investment_headroom_is_the_operating_saving_and_what_is_left_after_the_planned_investment(res):
    from sim.report import headroom, payback

    h = headroom(res).set_index(["scenario", "year"])
    p = payback(res).set_index(["scenario", "year"])
    # headroom - planned investment = minus the cumulative difference with investments (payback)
    np.testing.assert_allclose(h["margin_dkk"], -p["cum_cost_diff_dkk"], rtol=1e-9, atol=1e-3)
    # the planned investment is what the scenario file says: kinship_first 400,000 a year, nothing one-off
    cfg = res.plan.arms["kinship_first"]
    info = cfg.scenario_info["kinship_first"].investment
    per_1000 = cfg.municipality.children_0_17 / 1000                  # investments are given per 1,000 children too
    yearly = info.yearly_dkk + info.yearly_dkk_per_1000_children * per_1000
    one_off = info.one_off_dkk + info.one_off_dkk_per_1000_children * per_1000
    for year in (1, 2):
        assert h.loc[("kinship_first", year), "investment_dkk"] == pytest.approx(one_off + yearly * year)
    # kinship care instead of institutions saves to run, more each year; earlier detection costs more to run
    k = h.loc["kinship_first"]
    assert k.loc[1, "ci_low"] > 0 and k.loc[2, "headroom_dkk"] > k.loc[1, "headroom_dkk"]
    assert (h.loc["earlier_detection", "ci_high"] < 0).all()
