"""Benchmark: time and memory of one replication as the municipality grows (0.5x, 1x, 2x, 4x the average).

Run from the repository root:

    python benchmarks/bench_scaling.py                   # factors 0.5 1 2 4, 2 replications each (~1 minute)
    python benchmarks/bench_scaling.py --replications 3
    python benchmarks/bench_scaling.py --factors 1 4

Each factor runs in a fresh process (so its peak RSS is its own), one after the other: the average
municipality (conf/municipality/average.yaml) with ``municipality.children_0_17``, ``young_18_22`` and
``population`` times the factor - the key that scales the model's population: onsets, the initial children
and per-1,000 capacities follow it - and ``casework.caseworkers`` times the factor (rounded), so the team's load,
and with it the event mix, stays that of the average municipality. Baseline, warm-up 6 y + horizon 4 y,
as bench_replication.py. Per factor: ``sim.runner.run_replication`` (model + tidy tables) wall time, median
of N after one untimed replication; SimPy events; the tracemalloc peak of one replication (a separate pass:
tracing slows it); the process peak RSS (imports included). Then the time per replication relative to
linear scaling: (t(f) / t(1)) / f, target 0.8 .. 1.25 for every factor, and peak RSS <= 300 MB (PASS /
MISS; it always exits 0 - a benchmark, not a test). The load average is printed at the start and end.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AVERAGE = {"children_0_17": 12600, "young_18_22": 3800, "population": 60558}   # conf/municipality/average.yaml
CASEWORKERS = 14                                                                 # conf/casework/default.yaml
TARGET_LINEAR = (0.8, 1.25)
TARGET_MEM_MB = 300.0


def overrides(factor: float) -> list[str]:
    """The plan of the average municipality scaled by ``factor``."""
    out = ["compare=[]", "run.warmup_years=6", "run.horizon_years=4", "output.progress=false"]
    out += [f"municipality.{k}={int(round(v * factor))}" for k, v in AVERAGE.items()]
    out.append(f"casework.caseworkers={max(1, int(round(CASEWORKERS * factor)))}")
    return out


def measure(factor: float, reps: int) -> dict:
    """In this process: the median run_replication time of ``reps`` replications, events, memory."""
    import resource
    import statistics
    import time
    import tracemalloc

    from sim.config import plan as make_plan
    from sim.model.params import compile_config
    from sim.runner import run_replication

    p = make_plan(overrides(factor))
    warm = compile_config(p.warmup)
    arm = compile_config(p.arms[p.reference])
    run = p.arms[p.reference].run
    args = (warm, arm, run.warmup_years, run.horizon_years, run.seed)
    run_replication(*args, 0, "baseline")                     # untimed: first-call costs
    times, events, children = [], [], []
    for rep in range(reps):
        t0 = time.perf_counter()
        out = run_replication(*args, rep, "baseline")
        times.append(time.perf_counter() - t0)
        events.append(out.events)
        children.append(out.created)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    run_replication(*args, 0, "baseline")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"factor": factor, "time": statistics.median(times), "events": int(statistics.median(events)),
            "children": int(statistics.median(children)), "rss_mb": rss, "traced_mb": (peak - base) / 2 ** 20}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--factors", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0])
    ap.add_argument("--replications", "-n", type=int, default=2)
    ap.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(measure(args.child, max(1, args.replications))))
        return 0
    print("bench_scaling: one replication (model + tables) of the average municipality scaled 0.5x .. 4x")
    print("load avg  %.2f %.2f %.2f (1/5/15 min; other busy processes distort timings)" % os.getloadavg())
    rows = []
    for f in args.factors:
        cmd = [sys.executable, __file__, "--child", str(f), "--replications", str(args.replications)]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if res.returncode != 0 or not res.stdout.strip():
            print(f"factor {f}: failed\n{res.stderr[-2000:]}")
            continue
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"  factor {f:g}: {r['time']:.3f} s, {r['events']:,} events, {r['children']:,} children, "
              f"peak RSS {r['rss_mb']:.0f} MB, traced {r['traced_mb']:.1f} MB", flush=True)
    one = next((r for r in rows if r["factor"] == 1.0), rows[0] if rows else None)
    if one is None:
        return 0
    print(f"\n{'factor':>6}  {'s/rep':>7}  {'events':>10}  {'us/event':>8}  {'linearity':>9}  {'RSS MB':>6}  "
          f"{'traced MB':>9}  result")
    for r in rows:
        lin = (r["time"] / one["time"]) / (r["factor"] / one["factor"])
        ok = TARGET_LINEAR[0] <= lin <= TARGET_LINEAR[1] and r["rss_mb"] <= TARGET_MEM_MB
        print(f"{r['factor']:>6g}  {r['time']:>7.3f}  {r['events']:>10,}  {1e6 * r['time'] / r['events']:>8.2f}  "
              f"{lin:>9.2f}  {r['rss_mb']:>6.0f}  {r['traced_mb']:>9.1f}  {'PASS' if ok else 'MISS'}")
    print(f"linearity = (t(f) / t(1)) / f, target {TARGET_LINEAR[0]} .. {TARGET_LINEAR[1]}; peak RSS (imports "
          f"included) <= {TARGET_MEM_MB:.0f} MB")
    print("load avg at end: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    from _report import run_and_exit
    run_and_exit(main, "bench_scaling")
