"""The sources' findings (DOMAIN.md, 'What the evaluations observed'), reproduced in direction by the
mechanisms, with fixed seeds and paired replications. If one fails, fix the mechanism, not the test."""
from __future__ import annotations

import numpy as np
import pytest

from sim.config import plan
from sim.runner import execute

ARMS = ["earlier_detection", "full_shift", "frequent_followup", "frequent_followup+lower_caseload",
        "intensive_home_based", "lower_caseload", "earlier_detection+lower_caseload",
        "caseload_norm", "earlier_detection+caseload_norm"]
REPS = 10


@pytest.fixture(scope="module")
def res():
    p = plan([f"run.replications={REPS}", "run.workers=2", "output.progress=false", "output.write=false",
              "compare=[" + ",".join(ARMS) + "]"])
    return execute(p, progress=False)


def diff(res, arm, kpi, period="horizon", year=0):
    """Paired difference arm - baseline per replication."""
    c = res.kpis
    sel = c[(c.period == period) & (c.year == year) & (c.kpi == kpi)]
    a = sel[sel.scenario == arm].set_index("replication")["value"]
    b = sel[sel.scenario == "baseline"].set_index("replication")["value"]
    return (a - b).to_numpy()


def ci(x):
    from scipy import stats
    m = x.mean()
    h = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return m - h, m + h


def test_1_earlier_detection_more_children_on_early_steps_earlier_in_their_need(res):
    early = diff(res, "earlier_detection", "child_days__early_preventive") + diff(res, "earlier_detection", "child_days__home_based")
    assert ci(early)[0] > 0
    ch = res.children
    new = ch[(ch.onset_day >= 0) & np.isfinite(ch.first_measure_day)]
    levels = res.plan.arms["baseline"].need.levels
    lvl = new["first_measure_level"].map(levels.index).groupby(new.scenario).mean()
    wait = (new.first_measure_day - new.onset_day).groupby(new.scenario).mean()
    assert lvl["earlier_detection"] < lvl["baseline"] - 0.1          # helped at a milder level
    assert wait["earlier_detection"] < wait["baseline"]             # and sooner after the need arose


def test_2_earlier_detection_same_staff_more_cases_and_slipping_followups_within_two_years(res):
    for year in (1, 2):
        assert ci(diff(res, "earlier_detection", "open_cases", "year", year))[0] > 0
        assert ci(diff(res, "earlier_detection", "cases_per_caseworker", "year", year))[0] > 0
    assert ci(diff(res, "earlier_detection", "followup_on_time_share", "year", 2))[1] < 0
    # "could not bring caseloads down to target despite hiring": the same hiring leaves higher caseloads
    hired = diff(res, "earlier_detection+lower_caseload", "cases_per_caseworker") - diff(res, "lower_caseload", "cases_per_caseworker")
    assert ci(hired)[0] > 0
    # ... even when hiring follows the cases (a caseload norm): the team lags the rising cases in year 1
    norm = res.plan.arms["caseload_norm"].casework.staffing.cases_per_caseworker
    lag = diff(res, "earlier_detection+caseload_norm", "cases_per_caseworker", "year", 1) \
        - diff(res, "caseload_norm", "cases_per_caseworker", "year", 1)
    assert ci(lag)[0] > 0
    k = res.kpis
    year1 = k[(k.scenario == "earlier_detection+caseload_norm") & (k.period == "year") & (k.year == 1)
              & (k.kpi == "cases_per_caseworker")]["value"]
    assert year1.mean() > norm


def test_3_full_shift_moves_spending_from_institutions_to_prevention(res):
    prevent = sum(diff(res, "full_shift", f"cost_dkk__{s}") for s in ("early_preventive", "home_based", "intensive_home_based"))
    assert ci(prevent)[0] > 0
    assert ci(diff(res, "full_shift", "cost_dkk__residential"))[1] < 0


def test_4_frequent_followup_needs_caseworkers(res):
    staffed = "frequent_followup+lower_caseload"
    placed_days = lambda arm: sum(diff(res, arm, f"child_days__{s}") for s in ("kinship_care", "foster_care", "residential"))
    # with enough caseworkers: shorter stays on the upper steps and fewer breakdowns
    assert ci(placed_days(staffed))[1] < 0
    assert ci(diff(res, staffed, "breakdowns"))[1] < 0
    # with the same team the planned interval is not achieved ...
    k = res.kpis
    on_time = k[(k.period == "horizon") & (k.kpi == "followup_on_time_share")].groupby("scenario")["value"].mean()
    assert on_time["frequent_followup"] < on_time[staffed] - 0.05      # 0.91 against 1.00 (a cliff before the triage)
    # ... but with triage the team keeps the follow-ups of placements on time, so the gain in breakdowns is
    # about the same with or without the extra staff (before the triage it shrank; docs/model.md 2.2.7):
    # both arms must still have fewer breakdowns than the baseline
    assert ci(diff(res, "frequent_followup", "breakdowns"))[1] < 0


def test_5_intensive_programme_fewer_new_placements_among_those_it_serves(res):
    ch = res.children
    served = ch[(ch.scenario == "intensive_home_based") & ch["served__intensive_home_based"]][["replication", "child_id"]]
    assert len(served) >= 5 * REPS
    same = served.merge(ch, on=["replication", "child_id"])
    placed = same.groupby("scenario")["placed_in_horizon"].mean()
    assert placed["intensive_home_based"] < placed["baseline"] - 0.2


def test_pairing_narrows_the_interval(res):
    """Common random numbers: the paired interval of a difference is narrower than the unpaired one."""
    c = res.comparison
    for arm in ("earlier_detection", "intensive_home_based"):
        for kpi in ("cost_total_dkk", "placed_per_1000_0_22", "open_cases"):
            row = c[(c.scenario == arm) & (c.period == "horizon") & (c.kpi == kpi)].iloc[0]
            paired_half = (row.diff_ci_high - row.diff_ci_low) / 2
            assert paired_half < row.unpaired_half_width, (arm, kpi)


def test_baseline_is_calibrated_to_the_key_figures(res):
    """Back-test: the baseline reproduces the average municipality's key figures [003 Table 1.1]."""
    from sim.report import calibration
    cal = calibration(res).set_index("kpi")
    assert abs(cal.loc["placed_per_1000_0_22", "relative_gap"]) < 0.15
    assert abs(cal.loc["spending_per_child_0_22_dkk", "relative_gap"]) < 0.15
    assert abs(cal.loc["placement_spending_share", "relative_gap"]) < 0.15
    k = res.kpis
    cpc = k[(k.scenario == "baseline") & (k.period == "horizon") & (k.kpi == "cases_per_caseworker")]["value"].mean()
    assert 25 <= cpc <= 40            # average 32, range 23-50 [002]


REQUIRED_KPIS = ["placed_per_1000_0_17", "placed_per_1000_0_22", "new_placements", "cost_total_dkk",
                 "cost_per_child_0_22_dkk", "open_cases", "cases_per_caseworker", "followup_on_time_share",
                 "assessment_wait_days", "step_ups", "step_downs", "breakdowns", "returns_home"]


def test_kpis_are_named_exactly_and_cover_every_year_and_step(res):
    k = res.kpis
    names = set(k.kpi)
    assert set(REQUIRED_KPIS) <= names
    steps = res.plan.arms["baseline"].staircase.steps
    for s in steps:
        assert f"cost_dkk__{s}" in names and f"child_days__{s}" in names
    years = sorted(set(k[k.period == "year"].year))
    assert years == [1, 2, 3, 4]
    # every summary row has a 95 % interval around its mean
    s = res.summary
    s = s[s["ci_low"].notna()]
    assert ((s["ci_low"] <= s["mean"] + 1e-9) & (s["mean"] <= s["ci_high"] + 1e-9)).all()
