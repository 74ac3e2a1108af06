"""Write data/caseload_example.csv: a SYNTHETIC caseload of the average municipality, for trying
``python -m sim caseload=data/caseload_example.csv``. It is the model's own state at the end of a warm-up
(baseline, seed 2026), written as a municipality would export its open cases; no real child is in it.

    .venv/bin/python data/make_caseload_example.py [--date 2026-10-31] [--seed 2026] [--out data/caseload_example.csv]
"""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pandas as pd

from sim.config import plan
from sim.model import Model, compile_config, replication_streams


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--date", default="2026-10-31")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=str(Path(__file__).with_name("caseload_example.csv")))
    a = ap.parse_args()
    date = dt.date.fromisoformat(a.date)
    p = plan(["compare=[]", f"run.seed={a.seed}"])
    cfg = p.arms[p.reference]
    P = compile_config(cfg)
    m = Model(P, P, cfg.run.warmup_years, 1, replication_streams(a.seed, 0))
    m.initial_population()
    m.env.process(m.onsets())
    m.env.process(m.months())
    m.env.run(until=m.t_horizon)
    now = m.t_horizon
    rows = []
    for c in m.registry:
        if c.exited or c.step == P.ground_step:
            continue
        birth = date - dt.timedelta(days=now - c.birth)
        start = date - dt.timedelta(days=now - c.step_t0)
        placed = date - dt.timedelta(days=now - c.placement_start) if P.placement[c.step] else None
        rows.append({"sags_id": f"S{len(rows) + 1:05d}", "foedt": f"{birth.year}-{birth.month:02d}",
                     "indsats": cfg.staircase.steps[P.step_names[c.step]].label_da, "startdato": start.isoformat(), "behov": P.levels[c.level],
                     "anbringelse_start": placed.isoformat() if placed and placed < start else ""})
    df = pd.DataFrame(rows)
    df.to_csv(a.out, sep=";", index=False)
    print(f"{len(df)} synthetic cases at {date} -> {a.out}\n{df['indsats'].value_counts().to_string()}")


if __name__ == "__main__":
    main()
