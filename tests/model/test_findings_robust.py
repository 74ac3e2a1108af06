"""The sources' findings (DOMAIN.md, 'What the evaluations observed') held over three municipality profiles,
horizons of 2 and 6 years and a different seed in each variant - the review's held-out settings. Each finding
must come from the mechanisms in every variant; docs/model.md ('The sources' findings') says which findings the
model reproduces, which only over longer horizons, and which it honestly cannot, and why.

If one fails, fix the mechanism, not the test."""
from __future__ import annotations

import pytest

from sim.config import plan
from sim.runner import execute

# (profile, horizon years, seed): every profile at both horizons, no seed used twice
VARIANTS = [("average", 2, 11), ("average", 6, 12), ("kolding", 2, 13), ("kolding", 6, 14),
            ("mariagerfjord", 2, 15), ("mariagerfjord", 6, 16)]
REPS = 6
IDS = [f"{m}-{h}y-seed{s}" for m, h, s in VARIANTS]


@pytest.fixture(scope="module")
def runs():
    out = {}
    for (mun, h, seed), name in zip(VARIANTS, IDS):
        p = plan([f"municipality={mun}", f"run.horizon_years={h}", f"run.seed={seed}", f"run.replications={REPS}",
                  "run.workers=2", "output.progress=false", "output.write=false",
                  "compare=[earlier_detection,full_shift]"])
        out[name] = execute(p, progress=False)
    return out


def row(res, arm: str, kpi: str):
    """The paired comparison's row (diff_mean, diff_ci_low, diff_ci_high, reference_mean) over the horizon."""
    c = res.comparison
    return c[(c.scenario == arm) & (c.period == "horizon") & (c.kpi == kpi)].iloc[0]


@pytest.mark.slow
@pytest.mark.parametrize("variant", IDS)
def test_the_shift_places_fewer_children_and_earlier_detection_does_not_place_more(runs, variant):
    """Some municipalities saw fewer placements [000]; earlier detection alone must not raise them (the review
    found it did in 5 of 6 variants, its sign set by the overload cascade): within two years its effect is nil
    (no significant change, under 0.5 % of the level), within six years it places fewer."""
    res = runs[variant]
    assert row(res, "full_shift", "placed_per_1000_0_22").diff_ci_high < 0
    ed = row(res, "earlier_detection", "placed_per_1000_0_22")
    if "-6y-" in variant:
        assert ed.diff_ci_high < 0
    else:
        assert ed.diff_ci_low < 0 and ed.diff_mean < 0.005 * ed.reference_mean


@pytest.mark.slow
@pytest.mark.parametrize("variant", IDS)
def test_despite_hiring_caseloads_stay_above_the_plan_and_follow_ups_slip(runs, variant):
    """Stronger detection raised the number of cases, so municipalities could not bring caseloads down to target
    despite hiring, and could not follow up as often as planned [000, 001]: the shift's team is larger, yet its
    cases per caseworker stay above what the hires alone would give (the reference's caseload x old team / new
    team), because it has more open cases, and fewer follow-ups are on time than in the reference."""
    res = runs[variant]
    team = row(res, "full_shift", "caseworkers")
    assert team.diff_mean > 0                                        # it hired
    cases = row(res, "full_shift", "cases_per_caseworker")
    planned = cases.reference_mean * team.reference_mean / (team.reference_mean + team.diff_mean)
    assert cases.reference_mean + cases.diff_mean > planned * 1.03
    assert row(res, "full_shift", "open_cases").diff_ci_low > 0     # more cases: the reason
    assert row(res, "full_shift", "followup_on_time_share").diff_mean < 0


@pytest.mark.slow
@pytest.mark.parametrize("variant", IDS)
def test_the_shift_moves_spending_from_institutions_to_prevention(runs, variant):
    """Spending on and use of preventive and home-based measures rose; on institutions it fell [004, 000]."""
    res = runs[variant]
    prevent = sum(row(res, "full_shift", f"cost_dkk__{s}").diff_mean
                  for s in ("early_preventive", "home_based", "intensive_home_based"))
    assert prevent > 0
    assert row(res, "full_shift", "cost_dkk__residential").diff_ci_high < 0


@pytest.mark.slow
@pytest.mark.parametrize("variant", IDS)
def test_earlier_detection_reaches_more_children_earlier(runs, variant):
    """More children in distress are detected earlier [000]: more notifications and assessments, more children on
    the early-help step."""
    res = runs[variant]
    assert row(res, "earlier_detection", "notifications").diff_ci_low > 0
    assert row(res, "earlier_detection", "cost_dkk__early_preventive").diff_ci_low > 0


@pytest.mark.slow
@pytest.mark.parametrize("variant", [v for v in IDS if "-6y-" in v])
def test_over_six_years_fewer_placements_mean_fewer_returns_home(runs, variant):
    """One municipality that placed fewer children saw fewer returns home, read as 'the right children are
    placed' [000]. In the model earlier detection reaches this within six years in every profile (prevention
    keeps children from the short placements that end in a return home); over two years the effect is within
    the noise, and the full shift's closer follow-up and bounded stays raise returns home at first
    (docs/model.md, 'The sources' findings')."""
    res = runs[variant]
    assert row(res, "earlier_detection", "returns_home").diff_ci_high < 0
