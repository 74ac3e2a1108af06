"""Benchmark: parallel efficiency of the runner's backends - joblib processes and a Dask LocalCluster.

Run from the repository root:

    python benchmarks/bench_parallel.py                     # 2 arms x 16 replications of 10 years, once
    python benchmarks/bench_parallel.py --repeats 3         # the median of 3 interleaved rounds
    python benchmarks/bench_parallel.py --quick             # 2 arms x 2 replications of 1 + 1 years (smoke run)

Everything is measured in ONE process, with ``sim.runner.execute`` on the same plan (default: the average
municipality, baseline and earlier_detection, warm-up 6 y + horizon 4 y):

    T1        run.workers=1: every task in this process, one after the other (no pool, no pickling)
    T2 joblib run.workers=2, run.backend=local: two joblib (loky) worker processes
    T2 dask   run.workers=2, run.backend=dask: a LocalCluster of two worker processes, one thread each

The pools are started before the clock runs (a first, tiny run on each; their start-up times are printed):
an analysis calls ``execute`` tens of times on the same pool or cluster, so its start is not part of a run.
Rounds are interleaved (T1, T2 joblib, T2 dask, T1, ...) so that a shared machine's drift hits all three
alike; the median over rounds is reported. The tables of the three are checked to be identical.

Parallel efficiency = T1 / (2 x T2); target >= 0.9 for both backends (PASS / MISS; the script always exits
0 - it is a benchmark, not a test). For Dask it also prints the workers' busy share: the summed compute
time of the tasks (the scheduler's task stream) / (2 x T2). Busy share near 1 with a low efficiency means
the tasks themselves ran slower than in T1 - other processes on the machine took the CPU - rather than
that Dask's scheduling cost the time. The load average is printed at the start and the end: compare runs
on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from sim.config import plan as make_plan  # noqa: E402
from sim.runner import close_dask, dask_client, execute  # noqa: E402

TARGET = 0.9
QUIET = ["output.progress=false", "output.write=false", "output.figures=false", "output.report=false"]
BACKENDS = {                      # label -> overrides
    "T1 (1 process)": ["run.workers=1"],
    "T2 joblib (2 processes)": ["run.workers=2", "run.backend=local"],
    "T2 dask (LocalCluster, 2 workers)": ["run.workers=2", "run.backend=dask"],
}


def machine_info() -> list[tuple[str, str]]:
    """CPUs this process may use, the load average, and the versions that matter here."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [("python", platform.python_version()), ("cpus", str(cpus)), ("load", load()),
            ("versions", ", ".join(f"{p} {version(p)}" for p in ("joblib", "dask", "distributed")))]


def load() -> str:
    """The 1, 5 and 15-minute load averages (processes wanting a CPU)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def timed(overrides: list[str], stream=None):
    """(wall seconds, Results, summed task compute seconds or None) of one execute of the plan."""
    p = make_plan(overrides)
    t0 = time.perf_counter()
    if stream is None:
        res = execute(p, progress=False)
        return time.perf_counter() - t0, res, None
    import distributed
    with distributed.get_task_stream(client=stream) as ts:
        res = execute(p, progress=False)
    wall = time.perf_counter() - t0
    busy = sum(s["stop"] - s["start"] for t in ts.data for s in t["startstops"] if s["action"] == "compute")
    return wall, res, busy


def start_pools(small: list[str]) -> dict[str, float]:
    """Start the joblib workers and the LocalCluster with a tiny run each; their start-up times."""
    out = {}
    for label, ov in list(BACKENDS.items())[1:]:
        t0 = time.perf_counter()
        execute(make_plan(small + ov), progress=False)
        out[label] = time.perf_counter() - t0
    return out


def identical(a, b) -> bool:
    """True if every table of two Results is exactly equal."""
    try:
        for name in ("kpis", "timeseries", "children", "summary", "comparison"):
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    except AssertionError:
        return False
    return True


def main(argv=None) -> int:
    """Run the comparison and print it; always 0."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replications", "-n", type=int, default=None, help="replications per arm (default 16; 2 with --quick)")
    ap.add_argument("--repeats", type=int, default=1, help="interleaved rounds; the median is reported (default 1)")
    ap.add_argument("--quick", action="store_true", help="2 replications of 1 + 1 years: a smoke run, not a measurement")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an override for every run, e.g. --set run.share_warmup=false (repeatable)")
    args = ap.parse_args(argv)
    reps = args.replications or (2 if args.quick else 16)   # 16 tasks (a task is a replication of both arms)
    years = ["run.warmup_years=1", "run.horizon_years=1"] if args.quick else ["run.warmup_years=6", "run.horizon_years=4"]
    base = QUIET + ["compare=[earlier_detection]", f"run.replications={reps}"] + years + args.set
    small = QUIET + ["compare=[]", "run.replications=2", "run.warmup_years=0", "run.horizon_years=1"]   # 2 tasks: the pools start

    print("=" * 78)
    print(f"bench_parallel: 2 arms x {reps} replications ({' + '.join(y.split('=')[1] for y in years)} years), "
          f"1 vs 2 workers")
    print("=" * 78)
    for k, v in machine_info():
        print(f"{k:<9} {v}")
    for label, s in start_pools(small).items():
        print(f"start-up  {label}: {s:.2f} s (first tiny run; not in the times below)")
    client = dask_client(make_plan(small + BACKENDS["T2 dask (LocalCluster, 2 workers)"]).arms["baseline"].run)

    times: dict[str, list[float]] = {k: [] for k in BACKENDS}
    busy: list[float] = []
    results = {}
    for r in range(max(1, args.repeats)):
        for label, ov in BACKENDS.items():
            wall, res, b = timed(base + ov, stream=client if "dask" in label else None)
            times[label].append(wall)
            results[label] = res
            if b is not None:
                busy.append(b / (2 * wall))
            print(f"round {r + 1}  {label:<34} {wall:7.2f} s", flush=True)
    report(times, busy, results)
    print(f"load      {load()} (at the end)")
    close_dask()
    return 0


def report(times: dict[str, list[float]], busy: list[float], results: dict) -> None:
    """The medians, the efficiencies against the targets, and whether the tables are identical."""
    med = {k: statistics.median(v) for k, v in times.items()}
    t1 = med["T1 (1 process)"]
    print("-" * 78)
    print(f"{'':<36}{'median s':>10}{'speed-up':>10}{'efficiency':>12}")
    for label, t in med.items():
        if label.startswith("T1"):
            print(f"{label:<36}{t:>10.2f}")
            continue
        eff = t1 / (2 * t)
        print(f"{label:<36}{t:>10.2f}{t1 / t:>10.2f}{eff:>12.2f}   {'PASS' if eff >= TARGET else 'MISS'} "
              f"(target >= {TARGET})")
    if busy:
        print(f"dask workers' busy share (task compute time / (2 x T2)): {statistics.median(busy):.2f}")
    ref = results["T1 (1 process)"]
    same = all(identical(ref, res) for res in results.values())
    print(f"tables identical across the three: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    raise SystemExit(main())
