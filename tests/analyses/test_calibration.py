"""Calibration (python -m sim --calibrate): recovers a known value, says when a target is out of reach,
rejects bad input before running, and stores what it fitted so that it can be reproduced."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.analyses.calibrate import calibrate
from sim.config import ConfigError
from sim.store import query
from tests.conftest import QUICK, assert_cli_input_error, horizon, run_inline

KPI = "placed_per_1000_0_22"
FAST = QUICK + ["run.replications=4"]


@pytest.fixture(scope="module")
def target_at_0_65():
    """The KPI the model gives with need.onset_scale = 0.65 (same seed and settings as the calibrations)."""
    res = run_inline(["need.onset_scale=0.65"], replications=4)
    return float(horizon(res, KPI).mean())


def test_calibration_recovers_the_value_that_produced_the_target(target_at_0_65):
    quiet = []
    c = calibrate(FAST + [f"calibration.target={target_at_0_65!r}"], progress=False, echo=quiet.append)
    assert c.converged and c.start == 0.9            # conf/municipality/average.yaml
    assert abs(c.best.mean - target_at_0_65) <= 0.01 * target_at_0_65
    # within the resolution of the runs: 4 replications of 2 years scatter by ~15 % and another onset scale draws
    # other children, so the value that meets the target within 1 % lies within a few per cent of 0.65 (checked
    # with seeds 5 and 9 too: 3.1 % and 2.6 %; here 0.8 %)
    assert c.value == pytest.approx(0.65, rel=0.05)
    # the proportional first step is nearly exact for a level of need (0.6 %, 2.5 %, 6.8 % with those seeds); after
    # it the search only resolves the runs' noise, so how many more evaluations it takes is a matter of the seed -
    # bounded by calibration.max_evaluations, with one line each
    assert c.evaluations[1].value == pytest.approx(0.65, rel=0.08)
    assert len(c.evaluations) <= 12 and len(quiet) == len(c.evaluations)
    # the stored run is the run at the fitted value
    assert f"need.onset_scale={c.value!r}" in c.result.plan.overrides
    assert float(horizon(c.result, KPI).mean()) == c.best.mean


def test_the_municipalitys_key_figure_is_the_default_target():
    c = calibrate(FAST + ["municipality=hvidovre", "calibration.max_evaluations=2"], progress=False, echo=lambda s: None)
    assert c.target == 7.6 and c.municipality == "hvidovre"      # conf/municipality/hvidovre.yaml [003 Table 1.1]
    assert 1 <= len(c.evaluations) <= 2


def test_running_out_of_evaluations_keeps_the_best_value_and_says_so(target_at_0_65):
    c = calibrate(FAST + [f"calibration.target={target_at_0_65!r}", "calibration.max_evaluations=2",
                          "calibration.relative_tolerance=0.000001", "calibration.bounds=[0.3,3.0]"],
                  progress=False, echo=lambda s: None)
    assert len(c.evaluations) == 2 and not c.converged
    gaps = [abs(e.mean - target_at_0_65) for e in c.evaluations]
    assert abs(c.best.mean - target_at_0_65) == min(gaps)


def test_an_unreachable_target_is_a_one_line_error():
    with pytest.raises(ConfigError, match=r"calibration.bounds = \[0.5, 2.0\]: placed_per_1000_0_22 = 500 .*not reached"):
        calibrate(FAST + ["calibration.target=500", "calibration.bounds=[0.5,2.0]"], progress=False, echo=lambda s: None)


@pytest.mark.parametrize("override, message", [
    ("calibration.parameter=casework.caseworkers", "must be a real-valued parameter"),
    ("calibration.parameter=need.onset_scal", "must name a number in the configuration"),
    ("calibration.parameter=run.warmup_years", "must be a model parameter"),
    ("calibration.kpi=placed_per_thousand", "unknown KPI"),
    ("calibration.kpi=cost_total_dkk", "give a target"),
    ("calibration.bounds=[2.0,1.0]", "finite low < high"),
    ("calibration.relative_tolerance=0", "calibration.relative_tolerance"),
])
def test_bad_calibration_settings_are_rejected_before_anything_runs(tmp_path, override, message):
    assert_cli_input_error(tmp_path, ["--calibrate", *FAST, override], message)


def test_bounds_outside_the_parameters_allowed_range_are_rejected():
    with pytest.raises(ConfigError, match=r"calibration.bounds = .*casework.overload.min_work_share = 2.0 is not allowed"):
        calibrate(FAST + ["calibration.parameter=casework.overload.min_work_share", "calibration.target=9",
                          "calibration.bounds=[0.2,2.0]"], progress=False, echo=lambda s: None)


@pytest.mark.slow
def test_cli_calibrates_each_job_and_stores_a_reproducible_overlay(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", "-m", "--calibrate", *FAST, f"output.dir={out}",
                           "output.write=true", "output.figures=true", "output.report=false", "municipality=average,kolding"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    cals = query("SELECT * FROM calibrations ORDER BY created_at", out)
    assert cals.municipality.tolist() == ["average", "kolding"] and cals.converged.all()
    runs = query("SELECT run_id FROM runs", out)
    assert set(cals.run_id) <= set(runs.run_id)
    for _, row in cals.iterrows():
        d = out / "calibrations" / row.calibration_id
        for f in ("evaluations.csv", "check.csv", "calibrated.yaml", "summary.txt", "calibration.png"):
            assert (d / f).is_file(), f
        overlay = yaml.safe_load((d / "calibrated.yaml").read_text())
        fitted = overlay["need"]["onset_scale"]
        assert fitted == row.fitted_value
        # no municipality file fits a second parameter (calibration.joint): spending is met by its other spending
        assert pd.isna(row.joint) and set(overlay) == {"need"}
        # the overlay's values, run again, give the KPI the calibration reported (same seed and settings)
        again = run_inline([f"municipality={row.municipality}"] + [f"{g}.{k}={v!r}" for g, kv in overlay.items()
                                                                    for k, v in kv.items()], replications=4)
        stored = query(f"SELECT mean FROM summary WHERE run_id = '{row.run_id}' AND period = 'horizon' "
                       f"AND kpi = '{KPI}'", out)["mean"][0]
        assert float(horizon(again, KPI).mean()) == pytest.approx(stored, rel=1e-12)
        assert abs(stored - row.target) <= 0.01 * row.target
    assert not [p for p in (out / "calibrations").iterdir() if p.name.startswith(".staging")]


# --------------------------------------------------------------------------- the search itself, on known functions

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sim.analyses.calibrate import Unreachable, find_target  # noqa: E402


def _search(f, start=0.9, target=9.2, lo=0.05, hi=20.0, tol=0.01, n=12):
    calls = []

    def kpi_at(x):
        calls.append(x)
        return f(x)
    s = find_target(kpi_at, start, target, lo, hi, tol, n)
    assert len(calls) == len(set(calls)) == len(s.evaluated) <= n      # nothing evaluated twice
    return s, calls


def test_a_proportional_kpi_is_fitted_by_the_first_guess():
    s, calls = _search(lambda x: 10 * x)
    assert s.converged and len(calls) == 2 and s.value == pytest.approx(0.92, rel=1e-4)


def test_a_kpi_that_falls_with_the_parameter_makes_the_search_turn_round():
    s, calls = _search(lambda x: 20 - 10 * x)                # KPI 11 at the start; the guess 0.75 moves away
    assert s.converged and abs(20 - 10 * s.value - 9.2) <= 0.092
    assert calls[1] < calls[0] < s.value


def test_a_curved_kpi_is_bracketed_then_narrowed():
    s, calls = _search(lambda x: 30 * (1 - np.exp(-x)), start=0.05)
    assert s.converged and abs(30 * (1 - np.exp(-s.value)) - 9.2) <= 0.092 and len(calls) <= 8


def test_a_target_outside_the_range_is_unreachable():
    with pytest.raises(Unreachable) as err:
        _search(lambda x: 5 + x, target=100)
    assert max(err.value.kpis) == 25.0                       # it went as far as the upper bound
    with pytest.raises(Unreachable):
        _search(lambda x: 7.0)                               # a parameter that changes nothing


def test_a_jump_across_the_target_is_narrowed_to_the_jump_and_not_called_converged():
    s, calls = _search(lambda x: 5.0 if x < 1.234 else 15.0, n=40)
    assert not s.converged and s.evaluated[s.value] == 5.0          # the nearer side of the jump
    below = max(x for x in calls if x < 1.234)
    above = min(x for x in calls if x >= 1.234)
    assert above - below < 1e-3


@settings(max_examples=200, deadline=None, derandomize=True)
@given(slope=st.floats(0.05, 50) | st.floats(-50, -0.05), root=st.floats(0.1, 19.0), start=st.floats(0.05, 20.0))
def test_any_linear_kpi_with_its_root_in_range_is_fitted(slope, root, start):
    s, _ = _search(lambda x: 9.2 + slope * (x - root), start=start)
    assert s.converged


# --------------------------------------------------------------------------- several parameters at once (calibration.joint)

from sim.analyses.calibrate import find_joint  # noqa: E402

TILT_PAIR = "calibration.joint=[{parameter: staircase.matching_tilt, kpi: cost_per_child_0_22_dkk, bounds: [-3, 3]}]"


def _joint(f, start, targets, bounds, tol=0.01, n=12):
    calls = []

    def kpis_at(x):
        calls.append(tuple(x))
        return f(*x)
    s = find_joint(kpis_at, start, targets, bounds, tol, n)
    assert len(calls) == len(set(calls)) == len(s.evaluated) <= n      # nothing evaluated twice
    return s, calls


def _model_like(a, b):
    """Placements ~ level of need, slightly raised by a leaner mix; spending ~ need x mix, saturating."""
    return (10.0 * a * (1 + 0.03 * b), 2500.0 * a + 6000.0 * a * np.exp(0.4 * b) / (1 + 0.2 * np.exp(0.4 * b)))


def test_two_coupled_kpis_are_fitted_together():
    truth = (0.8, -1.2)
    targets = _model_like(*truth)
    s, calls = _joint(_model_like, (1.0, 0.0), targets, [(0.05, 20.0), (-3.0, 3.0)])
    assert s.converged and len(calls) <= 8
    got = _model_like(*s.values)
    assert all(abs(g - t) <= 0.01 * t for g, t in zip(got, targets))
    assert s.values == pytest.approx(truth, rel=0.05)


def test_a_target_beyond_a_bound_pins_that_parameter_and_the_others_are_still_fitted():
    # the spending target needs b far beyond 3: b is held at 3 and a still meets placements
    targets = (8.0, 60000.0)
    s, calls = _joint(_model_like, (1.0, 0.0), targets, [(0.05, 20.0), (-3.0, 3.0)])
    assert not s.converged and s.at_bounds == [1] and s.values[1] == 3.0
    placements, spending = _model_like(*s.values)
    assert abs(placements - 8.0) <= 0.01 * 8.0 and spending < 60000.0
    assert len(calls) < 12                 # it stops once what the bounds allow is met


def test_running_out_of_evaluations_keeps_the_nearest_point():
    targets = _model_like(0.8, -1.2)
    s, calls = _joint(_model_like, (5.0, 2.5), targets, [(0.05, 20.0), (-3.0, 3.0)], tol=1e-9, n=4)
    assert len(calls) == 4 and not s.converged
    worst = {k: max(abs(v - t) / t for v, t in zip(kp, targets)) for k, kp in s.evaluated.items()}
    assert worst[s.values] == min(worst.values())


@settings(max_examples=40, deadline=None)
@given(st.floats(0.5, 3.0), st.floats(-2.0, 2.0), st.floats(0.5, 3.0), st.floats(-2.0, 2.0),
       st.floats(-2.0, 2.0), st.floats(-2.0, 2.0))
def test_any_invertible_linear_pair_with_its_root_in_range_is_fitted(a, b, c, d, r1, r2):
    m = np.array([[a, b], [c, d]])
    if abs(np.linalg.det(m)) < 0.2:
        return
    root = np.array([r1, r2])
    offset = np.array([10.0, 20.0])
    targets = tuple(m @ root + offset)
    s, _ = _joint(lambda x, y: tuple(m @ np.array([x, y]) + offset), (0.0, 0.0), targets, [(-5.0, 5.0)] * 2,
                  tol=1e-4, n=12)
    assert s.converged


def test_the_tilt_leans_the_choice_within_a_tier_by_its_odds_per_step():
    from sim.config import plan
    from sim.model.params import compile_config
    p0 = plan(QUICK + ["compare=[]"])
    p1 = plan(QUICK + ["compare=[]", "staircase.matching_tilt=-0.7"])
    c0, c1 = (compile_config(p.arms[p.reference]) for p in (p0, p1))
    for tiers0, tiers1 in zip(c0.matching_tiers[0], c1.matching_tiers[0]):          # age group 0 (no age factors by default)
        for (steps, w0), (_, w1) in zip(tiers0, tiers1):
            base = min(steps)       # step indices follow the staircase order in the default staircase
            for s, a, b in zip(steps, w0, w1):
                assert b == pytest.approx(a * np.exp(-0.7 * (s - base)))


def test_a_leaner_placement_mix_costs_less_per_placed_child():
    lean = run_inline(["staircase.matching_tilt=-1.5"], replications=4)
    usual = run_inline([], replications=4)

    def per_placed(res):
        return float(horizon(res, "cost_per_child_0_22_dkk").mean() * horizon(res, "placement_cost_share").mean()
                     / horizon(res, KPI).mean())
    assert per_placed(lean) < 0.8 * per_placed(usual)


def test_a_joint_calibration_recovers_both_values_that_produced_the_targets():
    """Since the family supply (whole families, network searches) the response of a 4-replication run to a small
    change of the tilt has steps of about +-1 % (spending 7,317 / 7,427 / 7,359 at tilts -0.658 / -0.653 / -0.656),
    so a 1 % tolerance on both targets is below what the runs resolve (22 evaluations did not meet it, at
    (0.804, -0.656) against the true (0.8, -0.7)); 2 % is met within 10 evaluations."""
    truth = run_inline(["need.onset_scale=0.8", "staircase.matching_tilt=-0.7"], replications=4)
    placed = float(horizon(truth, KPI).mean())
    spending = float(horizon(truth, "cost_per_child_0_22_dkk").mean())
    c = calibrate(FAST + [f"calibration.target={placed!r}", TILT_PAIR.replace("bounds", f"target: {spending!r}, bounds"),
                          "calibration.max_evaluations=14", "calibration.relative_tolerance=0.02"],
                  progress=False, echo=lambda s: None)
    assert c.converged and c.joint and len(c.evaluations) <= 10
    assert c.values[0] == pytest.approx(0.8, rel=0.05) and c.values[1] == pytest.approx(-0.7, abs=0.2)
    # the stored run is the run at the fitted values, and the overlay sets both
    assert float(horizon(c.result, "cost_per_child_0_22_dkk").mean()) == c.best.means[1]
    overlay = yaml.safe_load(__import__("sim.analyses.calibrate", fromlist=["overlay_yaml"]).overlay_yaml(c))
    assert (overlay["need"]["onset_scale"], overlay["staircase"]["matching_tilt"]) == c.values
    t = c.table()
    assert {"cost_per_child_0_22_dkk_mean", "placed_per_1000_0_22_relative_gap"} <= set(t.columns)
    assert t.chosen.sum() == 1


@pytest.mark.parametrize("override, message", [
    ("calibration.joint=[{parameter: need.onset_scale, kpi: cost_per_child_0_22_dkk, bounds: [0.1, 5]}]",
     "calibration.joint[0].parameter = 'need.onset_scale': is fitted twice"),
    ("calibration.joint=[{parameter: staircase.matching_tilt, kpi: placed_per_1000_0_22, bounds: [-3, 3]}]",
     "calibration.joint[0].kpi = 'placed_per_1000_0_22': is matched twice"),
    ("calibration.joint=[{parameter: staircase.matching_tilt, kpi: cost_total_dkk, bounds: [-3, 3]}]",
     "calibration.joint[0].target"),
    ("calibration.joint=[{parameter: staircase.matching_tilt, kpi: spending_per_child_0_22_dkk, bounds: [3, -3]}]",
     "calibration.joint[0].bounds"),
    ("calibration.joint=[{parametr: staircase.matching_tilt, kpi: cost_per_child_0_22_dkk, bounds: [-3, 3]}]",
     "parametr"),
])
def test_bad_joint_settings_are_rejected_before_anything_runs(tmp_path, override, message):
    assert_cli_input_error(tmp_path, ["--calibrate", *FAST, override], message)


def test_an_older_catalog_gains_the_joint_column():
    import duckdb

    from sim.store import ensure_schema
    con = duckdb.connect(":memory:")
    con.execute("""CREATE TABLE calibrations (calibration_id VARCHAR PRIMARY KEY, created_at TIMESTAMP,
        municipality VARCHAR, parameter VARCHAR, kpi VARCHAR, target DOUBLE, start_value DOUBLE, fitted_value DOUBLE,
        converged BOOLEAN, evaluations INTEGER, run_id VARCHAR, calibration_dir VARCHAR, overrides VARCHAR)""")
    ensure_schema(con)
    cols = [r[0] for r in con.execute("DESCRIBE calibrations").fetchall()]
    assert cols[-1] == "joint" and len(cols) == 14
