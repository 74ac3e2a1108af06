"""Replications and arms: run in worker processes, collect tidy tables into :class:`Results`.

Layer 5: above the model (which it runs), the metrics (which it computes in each worker and over
the replications) and the report (whose tables ``Results`` offers as methods).

Each task is (arm, replication). Its random streams depend only on (run.seed, replication),
so the arms of a replication share their children and draws (common random numbers), and
the result of a task does not depend on which worker runs it or in what order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from joblib import Parallel, delayed

from .config import Config, Plan
from .metrics.budget import budget, budget_difference
from .metrics.kpis import replication_children, replication_kpis, replication_timeseries
from .metrics.stats import paired_differences, summarise
from .model import Compiled, Model, compile_arm, compile_config, replication_streams
from .report.format import format_summary


@dataclass
class ArmOutput:
    """The tidy tables of one replication of one arm, with a few counts of the run itself."""

    arm: str
    replication: int
    kpis: pd.DataFrame
    timeseries: pd.DataFrame
    children: pd.DataFrame
    events: int
    created: int
    active_end: int
    exited: int


def run_replication(warm: Compiled, arm: Compiled, warmup_years: float, horizon_years: int, seed: int,
                    replication: int, arm_name: str = "arm") -> ArmOutput:
    """One replication of one arm. Pure function of its arguments."""
    model = Model(warm, arm, warmup_years, horizon_years, replication_streams(seed, replication))
    r = model.run()
    k = replication_kpis(r)
    ts = replication_timeseries(r)
    ch = replication_children(r, arm.levels)
    for df in (k, ts, ch):
        df.insert(0, "replication", replication)
        df.insert(0, "scenario", arm_name)
    return ArmOutput(arm_name, replication, k, ts, ch, r.events, r.created, r.active_end, r.exited)


@dataclass
class Results:
    """What a run returns to a notebook or the CLI."""

    reference: str
    arms: list
    kpis: pd.DataFrame                # scenario, replication, period, year, kpi, value
    timeseries: pd.DataFrame          # scenario, replication, month, step, metric, value
    children: pd.DataFrame            # per-child ledger (horizon)
    summary: pd.DataFrame             # scenario, period, year, kpi, mean, ci_low, ci_high, n
    comparison: pd.DataFrame          # paired differences against the reference arm
    plan: Plan | None = None
    run_id: str | None = None
    run_dir: object = None
    events: int = 0
    info: dict = field(default_factory=dict)

    def budget(self) -> pd.DataFrame:
        """Counts x unit costs by measure, with inflow and outflow, per arm and horizon year (sim.budget)."""
        return budget(self)

    def budget_difference(self) -> pd.DataFrame:
        """Each arm minus the reference arm, paired, for every budget row (sim.budget)."""
        return budget_difference(self)

    def table(self, period: str = "horizon", kpis: list[str] | None = None) -> pd.DataFrame:
        """Readable mean [95 % interval] per KPI (rows) and scenario (columns)."""
        return format_summary(self, period=period, kpis=kpis)


def execute(plan: Plan, progress: bool | None = None) -> Results:
    """Run every (arm, replication) of the plan, in run.workers processes, and collect the tables."""
    ref_cfg: Config = plan.arms[plan.reference]
    run = ref_cfg.run
    warm = compile_config(plan.warmup)
    compiled = {name: compile_arm(plan.warmup, cfg) for name, cfg in plan.arms.items()}
    tasks = [(name, rep) for rep in range(run.replications) for name in compiled]
    show = ref_cfg.output.progress if progress is None else progress
    jobs = (delayed(run_replication)(warm, compiled[name], run.warmup_years, run.horizon_years, run.seed, rep, name)
            for name, rep in tasks)
    if run.workers > 1 and len(tasks) > 1:
        gen = Parallel(n_jobs=run.workers, return_as="generator")(jobs)
    else:
        gen = (delayed_call[0](*delayed_call[1], **delayed_call[2]) for delayed_call in jobs)
    outputs = []
    if show:
        from tqdm.auto import tqdm
        gen = tqdm(gen, total=len(tasks), desc=f"{len(compiled)} scenario(s) x {run.replications} replication(s)",
                   unit="run", leave=False)
    for out in gen:
        outputs.append(out)
    outputs.sort(key=lambda o: (list(compiled).index(o.arm), o.replication))
    kpis = pd.concat([o.kpis for o in outputs], ignore_index=True)
    ts = pd.concat([o.timeseries for o in outputs], ignore_index=True)
    ch = pd.concat([o.children for o in outputs], ignore_index=True)
    summary = summarise(kpis)
    comparison = paired_differences(kpis, plan.reference) if len(compiled) > 1 else paired_differences(kpis.iloc[:0], plan.reference)
    info = {
        "created": sum(o.created for o in outputs),
        "active_end": sum(o.active_end for o in outputs),
        "exited": sum(o.exited for o in outputs),
    }
    return Results(reference=plan.reference, arms=list(compiled), kpis=kpis, timeseries=ts, children=ch,
                   summary=summary, comparison=comparison, plan=plan, events=sum(o.events for o in outputs), info=info)
