"""One warm-up for all the arms of a replication (sim.model.branch, run.share_warmup): every arm's tables are
exactly those of the arm run from the start on its own - for every standard scenario, in several profiles and
seeds, with a later start and a ramp - and a branch that fails or is killed is an error in the parent, with
no process left behind."""
from __future__ import annotations

import os
import signal
import sys

import pandas as pd
import pytest

from sim.config import plan
from sim.model import Model, can_branch, compile_arm, compile_config
from sim.runner import execute, run_arms
from tests.conftest import QUICK
from tests.procs import children

pytestmark = pytest.mark.skipif(not can_branch(), reason="os.fork does not exist here")

TABLES = ["kpis", "timeseries", "children"]


def _arms(overrides):
    p = plan(QUICK + list(overrides))
    run = p.arms[p.reference].run
    return compile_config(p.warmup), tuple((n, compile_arm(p.warmup, c)) for n, c in p.arms.items()), run


def _same(shared, separate):
    assert [o.arm for o in shared] == [o.arm for o in separate]
    for a, b in zip(shared, separate):
        assert (a.events, a.created, a.active_end, a.exited) == (b.events, b.created, b.active_end, b.exited), a.arm
        for name in TABLES:
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=f"{a.arm} {name}")


@pytest.mark.parametrize("municipality,seed,extra", [
    ("average", 7, []),
    ("kolding", 21, ["run.warmup_years=1.5"]),
    ("mariagerfjord", 5, ["implementation.start_month=5", "implementation.ramp_months=3"]),
])
def test_every_arm_equals_its_own_run_from_the_start(municipality, seed, extra):
    """All standard scenarios (the default compare list: hires, a caseload norm, family pools, a unit, ...)."""
    before = set(children(os.getpid()))            # e.g. the reusable joblib workers of other tests
    warm, arms, run = _arms([f"municipality={municipality}", f"run.seed={seed}"] + extra)
    assert len(arms) >= 10
    for rep in (0, 3):
        shared = run_arms(warm, arms, run.warmup_years, run.horizon_years, run.seed, rep, None, True)
        separate = run_arms(warm, arms, run.warmup_years, run.horizon_years, run.seed, rep, None, False)
        _same(shared, separate)
    assert set(children(os.getpid())) <= before                # every branch has ended and been reaped


def test_a_whole_run_is_the_same_with_and_without_sharing():
    ov = ["run.replications=3", "compare=[earlier_detection,kinship_first]", "run.workers=2"]
    on = execute(plan(QUICK + ov), progress=False)
    off = execute(plan(QUICK + ov + ["run.share_warmup=false"]), progress=False)
    for name in TABLES + ["summary", "comparison"]:
        pd.testing.assert_frame_equal(getattr(on, name), getattr(off, name), check_exact=True, obj=name)
    assert on.events == off.events


def test_without_a_warm_up_each_arm_runs_from_the_start():
    warm, arms, run = _arms(["run.warmup_years=0", "compare=[earlier_detection]"])
    shared = run_arms(warm, arms, 0.0, run.horizon_years, run.seed, 0, None, True)
    separate = run_arms(warm, arms, 0.0, run.horizon_years, run.seed, 0, None, False)
    _same(shared, separate)
    model = Model(warm, arms[0][1], 0.0, run.horizon_years, {}, None)
    with pytest.raises(ValueError, match="needs a warm-up"):
        model.run_arms([a for _, a in arms])


def test_an_error_in_a_branch_is_raised_in_the_parent(monkeypatch):
    before = set(children(os.getpid()))
    warm, arms, run = _arms(["compare=[earlier_detection,kinship_first]"])
    original = Model._horizon_start

    def fail_in_first_branch(self):
        if self.branches is not None and self.branches.in_child and self.arm is arms[0][1]:
            raise ZeroDivisionError("a bug in the first arm's horizon")
        original(self)

    monkeypatch.setattr(Model, "_horizon_start", fail_in_first_branch)
    with pytest.raises(ZeroDivisionError, match="a bug in the first arm") as err:
        run_arms(warm, arms, run.warmup_years, run.horizon_years, run.seed, 0, None, True)
    # SimPy re-raises a process's exception as a copy whose __cause__ is the original, which carries the note
    notes = getattr(err.value, "__notes__", []) + getattr(err.value.__cause__, "__notes__", [])
    assert any("branch of arm 0" in n and "fail_in_first_branch" in n for n in notes), notes
    assert set(children(os.getpid())) <= before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_a_killed_branch_is_an_error_naming_the_signal(monkeypatch):
    before = set(children(os.getpid()))
    warm, arms, run = _arms(["compare=[earlier_detection]"])
    original = Model._horizon_start

    def die_in_branch(self):
        if self.branches is not None and self.branches.in_child:
            os.kill(os.getpid(), signal.SIGKILL)
        original(self)

    monkeypatch.setattr(Model, "_horizon_start", die_in_branch)
    with pytest.raises(RuntimeError, match=r"the branch of arm 0 ended without a result \(signal 9\)"):
        run_arms(warm, arms, run.warmup_years, run.horizon_years, run.seed, 0, None, True)
    assert set(children(os.getpid())) <= before


def test_share_warmup_must_be_true_or_false(tmp_path):
    from tests.conftest import assert_cli_input_error
    assert_cli_input_error(tmp_path, ["run.share_warmup=3"], "run.share_warmup")
