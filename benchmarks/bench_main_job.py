"""Benchmark: the main job - ``python -m sim`` with the default configuration (the average municipality,
11 arms x 20 replications x (6 + 4) years, 2 workers, every output) - wall time against the target 60 s.

Run from the repository root:

    python benchmarks/bench_main_job.py                 # one round: shared warm-up, then one warm-up per arm
    python benchmarks/bench_main_job.py --repeats 3     # the median of 3 interleaved rounds
    python benchmarks/bench_main_job.py --quick         # 2 replications of 1 + 1 years (a smoke run)

Each job is the command a planner types, in a fresh process (imports, composing the configuration, the
replications, writing the run folder), into a temporary output.dir that is removed afterwards. A round runs
it with run.share_warmup=true (the default) and =false, interleaved so that a shared machine's drift hits
both alike; the ratio of the two is the saving of the shared warm-up. The tables of the two are checked to be identical (Parquet, run_id
left out). The load average is printed at the start and the end; it always exits 0 - it is a benchmark,
not a test.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0
TABLES = ["kpis", "timeseries", "summary", "comparison", "budget", "budget_difference", "payback", "headroom"]


def job(out: Path, extra: list[str]) -> tuple[float, Path]:
    """Wall seconds of one main job writing into ``out``, and its run folder."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sim", f"output.dir={out}", "output.progress=false", *extra],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"the job failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    folders = [p for p in out.iterdir() if p.is_dir() and (p / "kpis.parquet").exists()]
    return wall, max(folders, key=lambda p: p.stat().st_mtime)


def same_tables(a: Path, b: Path) -> bool:
    import pandas as pd
    for name in TABLES:
        if not (a / f"{name}.parquet").exists():
            continue
        x = pd.read_parquet(a / f"{name}.parquet").drop(columns="run_id")
        y = pd.read_parquet(b / f"{name}.parquet").drop(columns="run_id")
        if not x.equals(y):
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="2 replications of 1 + 1 years")
    args = ap.parse_args()
    base = ["run.replications=2", "run.warmup_years=1", "run.horizon_years=1"] if args.quick else []
    print(f"load average at the start: {os.getloadavg()}; {os.cpu_count()} CPUs")
    walls: dict[str, list[float]] = {"shared": [], "per arm": []}
    identical = True
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            folders = {}
            for label, flag in (("shared", "true"), ("per arm", "false")):
                wall, folder = job(Path(tmp) / f"{label.replace(' ', '_')}{r}", base + [f"run.share_warmup={flag}"])
                walls[label].append(wall)
                folders[label] = folder
                print(f"round {r + 1}: warm-up {label:7s} {wall:6.1f} s")
            identical &= same_tables(folders["shared"], folders["per arm"])
    shared, per_arm = statistics.median(walls["shared"]), statistics.median(walls["per arm"])
    print(f"\nmain job, median of {args.repeats}: {shared:.1f} s with the shared warm-up, {per_arm:.1f} s with one "
          f"warm-up per arm (ratio {per_arm / shared:.2f}); tables identical: {identical}")
    if not args.quick:
        print(f"target <= {TARGET_SECONDS:.0f} s: {'PASS' if shared <= TARGET_SECONDS else 'MISS'}")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
