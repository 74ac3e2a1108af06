"""One-at-a-time sensitivity (python -m sim --sensitivity): the run at the defaults is the ordinary
comparison, each parameter moves the difference the way its mechanism says, a cost every arm pays
alike does not move it, a scenario's own value is scaled rather than overwritten, and bad settings
are refused before anything runs."""
from __future__ import annotations

import subprocess
import sys

import pytest

from sim.config import ConfigError
from sim.analyses.sensitivity import DEFAULTS, sensitivity
from sim.store import query
from tests.conftest import QUICK, assert_cli_input_error, run_inline

RES_COST = "staircase.steps.residential.cost_per_year_dkk"
CW_COST = "costs.caseworker_cost_per_year_dkk"
PARAMS = ("sensitivity.parameters=[{key:%s,low:1000000,high:1500000},{key:%s,low:550000,high:650000}]"
          % (RES_COST, CW_COST))
FAST = QUICK + ["sensitivity.replications=3", "compare=[kinship_first]", PARAMS]


@pytest.fixture(scope="module")
def s():
    return sensitivity(FAST, progress=False, echo=lambda line: None)


def test_the_run_at_the_defaults_is_the_ordinary_comparison(s):
    plain = run_inline([], replications=3, compare="[kinship_first]").comparison
    plain = plain[(plain.period == "horizon") & (plain.kpi == "cost_total_dkk")].iloc[0]
    at_defaults = s.table[s.table.parameter == DEFAULTS].iloc[0]
    assert at_defaults.diff_mean == plain.diff_mean and at_defaults.n == 3
    assert len(s.table) == 1 + 2 * 2                   # the defaults, then low and high of each parameter


def test_each_parameter_moves_the_difference_as_its_mechanism_says(s):
    t = s.tornado().set_index("parameter")
    # kinship_first moves children out of residential care: the dearer residential care, the larger the saving
    r = t.loc[RES_COST]
    assert r.diff_mean_high < r.at_defaults < r.diff_mean_low < 0 and r.swing < 0
    # both arms pay the same team: its price cancels in the paired difference
    assert t.loc[CW_COST, "swing"] == 0 and not t.loc[CW_COST, "sign_changes"]
    # kinship_first saves clearly more than noise here: no interval includes 0
    assert not t["interval_includes_0"].any()
    assert list(t.index) == [RES_COST, CW_COST]       # largest swing first


def test_a_scenario_that_sets_the_parameter_itself_keeps_its_lever_scaled_by_the_same_factor():
    from sim.analyses.sensitivity import _jobs

    _, jobs = _jobs(QUICK + ["compare=[frequent_followup]",
                             "sensitivity.parameters=[{key:casework.followup_interval_days,low:120,high:240}]"])
    (_, side, value, scaled, p) = jobs[1]
    assert side == "low" and value == 120.0
    assert p.arms["baseline"].casework.followup_interval_days == 120.0 == p.warmup.casework.followup_interval_days
    # frequent_followup follows up every 91 days instead of 182: at the low value, 91 x 120/182 = 60 days
    assert p.arms["frequent_followup"].casework.followup_interval_days == pytest.approx(91 * 120 / 182, rel=1e-6)
    assert scaled.startswith("frequent_followup 91 -> 60")


def test_a_relative_range_is_a_factor_on_each_municipalitys_own_value():
    from sim.analyses.sensitivity import _jobs

    ranges = "sensitivity.parameters=[{key:need.onset_scale,relative:true,low:0.9,high:1.1}]"
    for municipality, own in (("average", 0.9), ("hvidovre", 0.75051)):     # conf/need, conf/municipality/hvidovre
        _, jobs = _jobs(QUICK + [f"municipality={municipality}", "compare=[kinship_first]", ranges])
        low, high = jobs[1][4], jobs[2][4]
        assert low.arms["baseline"].need.onset_scale == pytest.approx(0.9 * own)
        assert high.arms["kinship_first"].need.onset_scale == pytest.approx(1.1 * own) == high.warmup.need.onset_scale


def test_an_offset_range_is_added_to_each_municipalitys_own_value_and_to_an_arms_own():
    from sim.analyses.sensitivity import _jobs

    ranges = "sensitivity.parameters=[{key:staircase.matching_tilt,offset:true,low:-0.5,high:0.5}]"
    for municipality, own in (("average", 0.0), ("kolding", -1.0727)):     # conf/staircase; a municipality's own tilt
        mix = [f"staircase.matching_tilt={own}"] if own else []             # (no profile fits one since the spending fix)
        _, jobs = _jobs(QUICK + [f"municipality={municipality}", "compare=[kinship_first]", ranges] + mix)
        low, high = jobs[1][4], jobs[2][4]
        assert low.arms["baseline"].staircase.matching_tilt == pytest.approx(own - 0.5)
        assert high.arms["kinship_first"].staircase.matching_tilt == pytest.approx(own + 0.5) == high.warmup.staircase.matching_tilt
    # an arm with its own value gets the same offset: frequent_followup's 91 days, the reference's 182
    _, jobs = _jobs(QUICK + ["compare=[frequent_followup]", "sensitivity.parameters=[{key:casework."
                             "followup_interval_days,offset:true,low:-30,high:30}]"])
    low, high = jobs[1][4], jobs[2][4]
    assert (low.arms["baseline"].casework.followup_interval_days, low.arms["frequent_followup"].casework.followup_interval_days) == (152, 61)
    assert (high.arms["baseline"].casework.followup_interval_days, high.arms["frequent_followup"].casework.followup_interval_days) == (212, 121)
    assert "frequent_followup 91 -> 61" in jobs[1][3]


def test_a_parameter_in_a_switched_off_section_is_left_out_with_a_line_saying_so(capsys):
    """A municipality with a fixed number of foster places (family_pool: null) keeps the default lists
    valid: the pool's recruitment is left out of both analyses, visibly, and everything else stays."""
    from sim.analyses.sensitivity import _jobs as sens_jobs
    from sim.analyses.uncertainty import _jobs as unc_jobs
    pool = "staircase.steps.foster_care.family_pool"
    fixed = QUICK + ["compare=[kinship_first]", "staircase.steps.foster_care.capacity=64", f"{pool}=null"]
    cfg, jobs = sens_jobs(fixed)
    varied = {j[0] for j in jobs[1:]}
    assert not any(k.startswith(pool) for k in varied)
    assert len(varied) == sum(not p.key.startswith(pool) for p in cfg.sensitivity.parameters) > 10
    assert f"{pool}.recruited_per_year_per_1000_children: left out, {pool} is switched off" in capsys.readouterr().out
    _, keys, _ = unc_jobs(fixed + ["uncertainty.samples=2"])
    assert not any(k.startswith(pool) for k in keys) and len(keys) == len(varied)
    # with the pool on, the same list varies it
    _, jobs = sens_jobs(QUICK + ["compare=[kinship_first]"])
    assert any(j[0].startswith(pool) for j in jobs[1:])


def test_a_parameter_a_scenario_sets_where_the_reference_has_zero_is_refused():
    with pytest.raises(ConfigError, match=r"sensitivity.parameters\[0\].key = 'staircase.steps.intensive_home_based"
                                          r".fixed_cost_per_year_dkk_per_1000_children': the arm\(s\) "
                                          r"intensive_home_based set their own"):
        sensitivity(QUICK + ["compare=[intensive_home_based]", "sensitivity.parameters=[{key:staircase.steps."
                             "intensive_home_based.fixed_cost_per_year_dkk_per_1000_children,low:100000,high:500000}]"],
                    progress=False, echo=lambda line: None)


@pytest.mark.parametrize("override, message", [
    ("sensitivity.parameters=[{key:casework.overload.min_work_share,low:0.3,high:2.0}]",
     "sensitivity.parameters[0].high = 2.0: not allowed for casework.overload.min_work_share"),
    ("sensitivity.parameters=[{key:casework.overload.min_work_shar,low:0.3,high:0.6}]", "must name a number"),
    ("sensitivity.parameters=[{key:casework.caseworkers,low:10.5,high:16}]", "is a whole number"),
    ("sensitivity.parameters=[{key:need.onset_scale,low:1.0,high:0.8}]", "low < high"),
    ("sensitivity.parameters=[{key:need.onset_scale,relative:true,offset:true,low:0.9,high:1.1}]", "not both"),
    ("sensitivity.kpi=savings", "unknown KPI"),
    ("compare=[]", "name at least one"),
])
def test_bad_sensitivity_settings_are_one_line_errors_and_write_nothing(tmp_path, override, message):
    assert_cli_input_error(tmp_path, ["--sensitivity", *FAST, override], message)


@pytest.mark.slow
def test_cli_writes_the_analysis_and_registers_it(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", "--sensitivity", *FAST, f"output.dir={out}",
                           "output.write=true", "output.figures=true"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "kinship_first" in proc.stdout and "Conclusions that depend on an assumption" in proc.stdout
    row = query("SELECT * FROM sensitivity_analyses", out).iloc[0]
    assert row.runs == 5 and row.replications == 3 and row.parameters == f"{RES_COST},{CW_COST}"
    d = out / "sensitivity" / row.sensitivity_id
    for f in ("sensitivity.csv", "tornado.csv", "summary.txt", "tornado.png"):
        assert (d / f).is_file(), f
    assert not [p for p in (out / "sensitivity").iterdir() if p.name.startswith(".staging")]


def test_the_tornado_flags_sign_changes_and_intervals_that_include_zero():
    import pandas as pd

    from sim.analyses.sensitivity import SensitivityResult

    rows = [  # scenario, parameter, side, value, diff_mean, diff_ci_low, diff_ci_high, n, scaled_in
        ("a", DEFAULTS, "", float("nan"), -10.0, -12.0, -8.0, 10, ""),
        ("a", "p", "low", 1.0, -2.0, -4.0, -1.0, 10, ""),
        ("a", "p", "high", 2.0, 3.0, 1.0, 5.0, 10, ""),          # the saving turns into a cost
        ("a", "q", "low", 1.0, -9.0, -11.0, -7.0, 10, ""),
        ("a", "q", "high", 2.0, -11.0, -13.0, -9.0, 10, ""),
        ("b", DEFAULTS, "", float("nan"), 1.0, -1.0, 3.0, 10, ""),   # not distinguishable from 0
        ("b", "p", "low", 1.0, 1.5, 0.5, 2.5, 10, ""),
        ("b", "p", "high", 2.0, 2.0, 1.0, 3.0, 10, ""),
    ]
    table = pd.DataFrame(rows, columns=["scenario", "parameter", "side", "value", "diff_mean", "diff_ci_low",
                                        "diff_ci_high", "n", "scaled_in"])
    t = SensitivityResult([], "m", "baseline", "cost_total_dkk", 10, table).tornado().set_index(["scenario", "parameter"])
    assert list(t.index) == [("a", "p"), ("a", "q"), ("b", "p")]              # largest swing first
    assert t.loc[("a", "p"), "swing"] == 5.0 and t.loc[("a", "p"), "sign_changes"]
    assert not t.loc[("a", "q"), "sign_changes"] and not t.loc[("a", "q"), "interval_includes_0"]
    assert not t.loc[("a", "p"), "interval_includes_0"]          # the sign changes, but every interval is clear of 0
    assert t.loc[("b", "p"), "interval_includes_0"] and not t.loc[("b", "p"), "sign_changes"]
