"""The benchmark script works and its SimPy skeleton reproduces the model's event mix.

No timing is asserted here (timings belong in the benchmark's output, not in tests); these tests
check that the figures the benchmark prints are computed on like-for-like terms.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import simpy

from sim.config import plan
from sim.model.params import compile_config

from tests.conftest import QUICK

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_replication as bench  # noqa: E402


def _mix():
    p = plan(QUICK + ["compare=[]"])
    cfg = p.arms[p.reference]
    return bench.model_event_mix(compile_config(p.warmup), compile_config(cfg), cfg.run)


def test_event_mix_accounts_for_every_simpy_event():
    mix = _mix()
    assert sum(mix["by_type"].values()) == mix["events"] > 0
    # the model interrupts children, starts tasks and uses the caseworker container
    for kind in ("Timeout", "Initialize", "Process", "Interruption", "ContainerGet", "ContainerPut"):
        assert mix["by_type"].get(kind, 0) > 0, kind
    assert 0 < mix["stale_mean"] < mix["queue_mean"] <= mix["queue_max"]


@pytest.mark.parametrize("name", ["skeleton", "skeleton_callbacks"])
def test_skeleton_reproduces_the_models_event_mix(monkeypatch, name):
    mix = _mix()
    counts: dict[str, int] = {}
    orig = simpy.Environment.schedule

    def schedule(self, event, priority=1, delay=0):
        kind = bench.event_kind(event)
        counts[kind] = counts.get(kind, 0) + 1
        return orig(self, event, priority, delay)

    monkeypatch.setattr(simpy.Environment, "schedule", schedule)
    n_live = round(mix["queue_mean"] - mix["stale_mean"])
    events, seconds = getattr(bench, name)(n_live, mix, 60_000)
    assert events >= 60_000 and seconds > 0
    total_m, total_s = sum(mix["by_type"].values()), sum(counts.values())
    for kind in ("Timeout", "Initialize", "Process", "Interruption", "ContainerGet", "ContainerPut"):
        share_m = mix["by_type"][kind] / total_m
        share_s = counts.get(kind, 0) / total_s
        assert abs(share_s - share_m) < 0.10, (kind, share_m, share_s)


@pytest.mark.slow
def test_benchmark_script_runs_and_reports_every_target():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_replication.py"), "--quick"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0
    assert "error" not in out.stderr.lower(), out.stderr[-2000:]
    for line in ("model events/s / its skeleton's events/s", "one 10-year replication", "process peak RSS",
                 "ceiling: model's skeleton / bare", "(info) model events/s / bare events/s",
                 "(info) proposed: model / its skeleton"):
        assert line in out.stdout, line
    # the target (the model against its own skeleton, 0.6) has a verdict; the bare-loop ratio has none
    target = next(x for x in out.stdout.splitlines() if "model events/s / its skeleton's events/s" in x)
    assert ">= 0.6" in target and target.rstrip().endswith(("PASS", "MISS"))
    bare = next(x for x in out.stdout.splitlines() if "(info) model events/s / bare events/s" in x)
    assert not bare.rstrip().endswith(("PASS", "MISS", "pass", "miss"))


def test_the_instruction_benchmark_runs_the_same_model_and_skeleton_in_its_child_processes(tmp_path):
    """bench_instructions counts instructions of child processes under valgrind; here the same children run
    without it: the model's child runs exactly the replication the parent recorded (the same SimPy events), the
    skeleton's child at least the number of events asked for (the benchmark scales by what it ran), and a child asked for nothing runs no event."""
    import bench_instructions as bi
    job, child, events = bi.write_job(tmp_path, QUICK + ["compare=[]"])
    model = bi.run_child(job, child, ROOT, "model", 1, tool=())
    assert model.returncode == 0, model.stderr[-500:]
    assert bi.events_of(model) == events > 0
    idle = bi.run_child(job, child, ROOT, "model", 0, tool=())
    assert idle.returncode == 0 and bi.events_of(idle) == 0
    for what in ("skeleton", "skeleton_callbacks"):
        skel = bi.run_child(job, child, ROOT, what, 5000, tool=())
        assert skel.returncode == 0, skel.stderr[-500:]
        assert 5000 <= bi.events_of(skel) < 4 * 5000       # it runs in steps of 5 days: a little past the count
        assert bi.events_of(bi.run_child(job, child, ROOT, what, 0, tool=())) == 0


def test_the_instruction_benchmark_reads_valgrinds_counts(monkeypatch):
    """The counts are read from valgrind's summary (instructions; with --cache the misses of each cache), and a
    failed child is an error, not a count of 0."""
    import bench_instructions as bi
    summary = ("==1== I   refs:      9,717,816,669\n==1== I1  misses:        62,559,162\n"
               "==1== D1  misses:      132,002,102  (  120,569,317 rd   +    11,432,785 wr)\n"
               "==1== LL misses:         1,984,094  (      577,192 rd   +     1,406,902 wr)\n")
    seen = []

    def fake(job, child, root, what, n, tool):
        seen.append(tool)
        return subprocess.CompletedProcess([], 0, stdout="EVENTS 7\n", stderr=summary)
    monkeypatch.setattr(bi, "run_child", fake)
    counts, events = bi.instructions(None, None, None, "model", 1, cache=True)
    assert events == 7 and seen == [bi.VALGRIND_CACHE]
    assert counts == {"instructions": 9_717_816_669, "I1 misses": 62_559_162, "D1 misses": 132_002_102,
                      "LL misses": 1_984_094}
    assert bi._less(counts, {k: 1 for k in counts}, 2.0)["I1 misses"] == 2 * 62_559_161
    monkeypatch.setattr(bi, "run_child", lambda *a: subprocess.CompletedProcess([], 1, stdout="", stderr="boom"))
    with pytest.raises(RuntimeError, match="exit 1"):
        bi.instructions(None, None, None, "model", 1)
