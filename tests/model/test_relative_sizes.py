"""Scenario sizes relative to the municipality: places per 1,000 children aged 0-17, hires as a share of the
team, fixed costs and investments per 1,000 children - resolved when a configuration is compiled, so that a
practice is the same practice in every municipality profile, and the average municipality keeps its sizes."""
from __future__ import annotations

import pytest

from sim.common.paths import CONF_DIR
from sim.common.units import DAYS_PER_YEAR, INF
from sim.config import ConfigError, available_scenarios, compose_tree, validate
from sim.model.params import compile_config

PROFILES = sorted(p.stem for p in (CONF_DIR / "municipality").glob("*.yaml"))
STANDARD = [s for s in available_scenarios() if s != "baseline"]


def cfg(*overrides):
    """The validated configuration of the overrides (nothing runs)."""
    return validate(compose_tree(list(overrides)))


def compiled(*overrides):
    """The compiled parameters of the overrides."""
    return compile_config(cfg(*overrides))


def places(P, step):
    """Places on a step of compiled parameters."""
    return P.capacity[P.step_names.index(step)]


def fixed_per_year(P, step):
    """DKK per year of a step's fixed cost in compiled parameters."""
    return P.fixed_cost_per_day_dkk[P.step_names.index(step)] * DAYS_PER_YEAR


def test_the_average_municipality_keeps_the_sizes_the_scenarios_had_in_absolute_form():
    """180 places and 12 M DKK (Aabenraa's unit), 2 families and 3.6 M (Favrskov), +4 FTE, and the investments
    of the scenario files before they were made relative (to within a thousandth of a krone a year)."""
    assert cfg().municipality.children_0_17 == 12600 and cfg().casework.caseworkers == 14
    unit = compiled("scenario=early_help_unit")
    assert places(unit, "early_preventive") == 180
    assert fixed_per_year(unit, "early_preventive") == pytest.approx(12_000_000, abs=1e-3)
    programme = compiled("scenario=intensive_home_based")
    assert places(programme, "intensive_home_based") == 2
    assert fixed_per_year(programme, "intensive_home_based") == pytest.approx(3_600_000, abs=1e-3)
    assert compiled("scenario=lower_caseload").caseworkers == 14 + 4
    planned = {"earlier_detection": (500_000, 400_000), "frequent_followup": (100_000, 0), "lower_caseload": (240_000, 0),
               "close_management": (0, 2_250_000), "early_help_unit": (500_000, 0), "intensive_home_based": (300_000, 0),
               "kinship_first": (0, 400_000), "full_shift": (1_140_000, 3_050_000)}
    for scenario, (one_off, yearly) in planned.items():
        P = compiled(f"scenario={scenario}")
        assert P.investment_one_off_dkk == pytest.approx(one_off, abs=1e-3), scenario
        assert P.investment_per_day_dkk * DAYS_PER_YEAR == pytest.approx(yearly, abs=1e-3), scenario


def test_a_relative_capacity_gives_the_absolute_places_in_the_average_and_scales_with_the_children():
    relative = compiled("scenario=early_help_unit")
    absolute = compiled("scenario=early_help_unit", "staircase.steps.early_preventive.capacity=180",
                        "staircase.steps.early_preventive.capacity_per_1000_children=null")
    assert places(relative, "early_preventive") == places(absolute, "early_preventive") == 180
    # 14.3 per 1,000: Kolding's 18,900 children -> 270.27 -> 270; half the average's children -> 90
    assert places(compiled("scenario=early_help_unit", "municipality=kolding"), "early_preventive") == 270
    assert places(compiled("scenario=early_help_unit", "municipality.children_0_17=6300"), "early_preventive") == 90
    # the absolute form stays absolute in any municipality (one that knows its own numbers)
    own = compiled("scenario=early_help_unit", "municipality=kolding", "staircase.steps.early_preventive.capacity=150",
                   "staircase.steps.early_preventive.capacity_per_1000_children=null")
    assert places(own, "early_preventive") == 150
    # whole places, at least one when the size is above 0; 0 = the step does not exist; both null = unlimited
    tiny = compiled("scenario=intensive_home_based", "municipality.children_0_17=1000")   # 0.16 places
    assert places(tiny, "intensive_home_based") == 1
    assert places(compiled(), "intensive_home_based") == 0
    assert places(compiled(), "foster_care") == INF


def test_hires_as_a_share_scale_with_the_municipality_s_own_team():
    # 0.28 = 32 / 25 - 1: +4 of 14, +6 of Kolding's 20 (5.6), +8 of a team of 30 (8.4), +3 of Hvidovre's 10 (2.8)
    for overrides, team in ((["municipality=kolding"], 20 + 6), (["casework.caseworkers=30"], 30 + 8),
                            (["municipality=hvidovre"], 10 + 3), ([], 14 + 4)):
        assert compiled("scenario=lower_caseload", *overrides).caseworkers == team, overrides
    # the absolute form is kept, and a share of 0 hires nobody
    assert compiled("scenario=lower_caseload", "municipality=kolding", "casework.hire_caseworkers_share=0",
                    "casework.hire_caseworkers=2").caseworkers == 22
    assert compiled("municipality=kolding").caseworkers == 20


@pytest.mark.parametrize("overrides, keys", [
    (["scenario=early_help_unit", "staircase.steps.early_preventive.capacity=180"],
     ("staircase.steps.early_preventive.capacity = 180", "staircase.steps.early_preventive.capacity_per_1000_children = 14.3")),
    (["scenario=intensive_home_based", "staircase.steps.intensive_home_based.capacity=2"],
     ("staircase.steps.intensive_home_based.capacity = 2", "staircase.steps.intensive_home_based.capacity_per_1000_children = 0.16")),
    (["scenario=lower_caseload", "casework.hire_caseworkers=4"],
     ("casework.hire_caseworkers = 4", "casework.hire_caseworkers_share = 0.28")),
])
def test_an_absolute_and_a_relative_size_together_are_a_one_line_error_naming_both(overrides, keys):
    with pytest.raises(ConfigError) as err:
        cfg(*overrides)
    message = str(err.value)
    assert "\n" not in message and all(k in message for k in keys), message
    assert "set the other to" in message


def test_investments_and_fixed_costs_per_1000_children_scale_and_add_to_the_absolute_ones():
    kolding = compiled("scenario=earlier_detection", "municipality=kolding")       # 18,900 children = 1.5 x the average
    assert kolding.investment_one_off_dkk == pytest.approx(1.5 * 500_000, abs=1e-2)
    assert kolding.investment_per_day_dkk * DAYS_PER_YEAR == pytest.approx(1.5 * 400_000, abs=1e-2)
    both = compiled("scenario=earlier_detection", "municipality=kolding",
                    "scenario_info.earlier_detection.investment.one_off_dkk=100000")
    assert both.investment_one_off_dkk == pytest.approx(100_000 + 1.5 * 500_000, abs=1e-2)
    small = compiled("scenario=early_help_unit", "municipality.children_0_17=6300")
    assert fixed_per_year(small, "early_preventive") == pytest.approx(6_000_000, abs=1e-2)
    assert fixed_per_year(compiled("scenario=early_help_unit", "staircase.steps.early_preventive.fixed_cost_per_year_dkk=1000000"),
                          "early_preventive") == pytest.approx(13_000_000, abs=1e-2)


def test_a_scenario_has_the_same_places_per_1000_children_in_every_profile():
    """Every standard scenario with places per 1,000 children, compiled for every municipality profile: within
    rounding to whole places (half a place either way, or the one place a step has at least)."""
    assert len(PROFILES) >= 2
    checked = set()
    for scenario in STANDARD:
        relative = {name: st.capacity_per_1000_children for name, st in cfg(f"scenario={scenario}").staircase.steps.items()
                    if st.capacity_per_1000_children}
        for step, per_1000 in relative.items():
            rates = []
            for profile in PROFILES:
                P = compiled(f"scenario={scenario}", f"municipality={profile}")
                exact = per_1000 * P.children_0_17 / 1000
                n = places(P, step)
                assert abs(n - exact) <= 0.5 or (n == 1 and exact < 1), (scenario, profile, step, n, exact)
                rates.append((1000 * n / P.children_0_17, 1000 * max(0.5, 1 - exact) / P.children_0_17))
                checked.add((scenario, step))
            (lo, lo_tol), (hi, hi_tol) = min(rates), max(rates)
            assert hi - lo <= lo_tol + hi_tol, (scenario, step, rates)
    assert {("early_help_unit", "early_preventive"), ("intensive_home_based", "intensive_home_based"),
            ("full_shift", "intensive_home_based")} <= checked


def test_every_standard_scenario_gives_its_sizes_in_relative_form():
    """No standard scenario carries an absolute capacity, hire or investment: a municipality sets those itself."""
    for scenario in STANDARD:
        c = cfg(f"scenario={scenario}")
        base = cfg()
        for name, st in c.staircase.steps.items():
            if st.capacity != base.staircase.steps[name].capacity:
                pytest.fail(f"{scenario}: staircase.steps.{name}.capacity = {st.capacity} (absolute)")
            assert st.fixed_cost_per_year_dkk == base.staircase.steps[name].fixed_cost_per_year_dkk, (scenario, name)
        assert c.casework.hire_caseworkers == 0, scenario
        for own, info in c.scenario_info.items():
            assert info.investment.one_off_dkk == 0 and info.investment.yearly_dkk == 0, (scenario, own)
