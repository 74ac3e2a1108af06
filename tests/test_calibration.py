"""Calibration (python -m sim --calibrate): recovers a known value, says when a target is out of reach,
rejects bad input before running, and stores what it fitted so that it can be reproduced."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml

from sim.calibrate import calibrate
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
    assert c.value == pytest.approx(0.65, rel=0.03)
    # few evaluations: the proportional first step is nearly exact for a level of need
    assert len(c.evaluations) <= 5 and len(quiet) == len(c.evaluations)
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
        fitted = yaml.safe_load((d / "calibrated.yaml").read_text())["need"]["onset_scale"]
        assert fitted == row.fitted_value
        # the overlay's value, run again, gives the KPI the calibration reported (same seed and settings)
        again = run_inline([f"municipality={row.municipality}", f"need.onset_scale={fitted!r}"], replications=4)
        stored = query(f"SELECT mean FROM summary WHERE run_id = '{row.run_id}' AND period = 'horizon' "
                       f"AND kpi = '{KPI}'", out)["mean"][0]
        assert float(horizon(again, KPI).mean()) == pytest.approx(stored, rel=1e-12)
        assert abs(stored - row.target) <= 0.01 * row.target
    assert not [p for p in (out / "calibrations").iterdir() if p.name.startswith(".staging")]


# --------------------------------------------------------------------------- the search itself, on known functions

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sim.calibrate import Unreachable, find_target  # noqa: E402


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
