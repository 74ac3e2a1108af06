"""Replications and arms: run in worker processes, collect tidy tables into :class:`Results`.

Layer 5: above the model (which it runs), the metrics (which it computes in each worker and over
the replications) and the report (whose tables ``Results`` offers as methods).

Each task is a replication of every arm. Its random streams depend only on (run.seed, replication), so the
arms of a replication share their children and draws (common random numbers), and the result of a task does
not depend on which worker runs it or in what order. The arms also share the warm-up, which the warm-up's
(baseline) practice drives: with run.share_warmup it is simulated once and the run forks into the arms at the
horizon start (sim.model.branch) - the same results as a warm-up per arm, in less time.

Where the tasks run is ``run.backend``: ``local`` runs them in ``run.workers`` joblib processes on this
machine; ``dask`` submits them to Dask distributed - the scheduler at ``run.dask_scheduler`` (e.g. a SLURM
cluster started with dask-jobqueue), or, when that is null, a ``LocalCluster`` of ``run.workers`` processes
with one thread each. Either way the outputs are sorted by (arm, replication) before they are collected, so
the tables are identical for the same seed. The Dask client is made once per process and setting (an
analysis calls :func:`execute` many times) and closed when the process ends; a local cluster's workers
also end when this process is killed (distributed ends a worker whose parent's pipe closes).
"""
from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field

import pandas as pd
from joblib import Parallel, delayed

from .config import Config, ConfigError, Plan
from .metrics.budget import budget, budget_difference
from .metrics.kpis import replication_children, replication_kpis, replication_timeseries
from .metrics.stats import paired_differences, summarise
from .model import Compiled, Model, can_branch, compile_arm, compile_config, replication_streams
from .report.format import format_summary


def init_worker(parent: int, every: float = 1.0) -> None:
    """Worker initializer: leave Ctrl-C to ``parent`` (the run's main process, which starts the workers and
    stops them when it is interrupted), and end this worker within ``every`` seconds of the parent's end,
    even when the parent is killed (SIGKILL) and cannot stop its workers itself.

    A thread watches the worker's parent process id: when the parent dies, the worker is handed to another
    process (init or a subreaper) and ``os.getppid()`` changes. (``prctl(PR_SET_PDEATHSIG)`` would be
    immediate, but on Linux it fires when the *thread* that started the worker ends, and joblib may start
    workers from threads that end before the run does; it does not exist elsewhere.)"""
    if os.getppid() != parent:           # the main process died before this worker started
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl-C reaches the whole process group

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


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
                    replication: int, arm_name: str = "arm", cases: tuple | None = None) -> ArmOutput:
    """One replication of one arm (from today's ``cases``, when given). Pure function of its arguments."""
    return run_arms(warm, ((arm_name, arm),), warmup_years, horizon_years, seed, replication, cases)[0]


def run_arms(warm: Compiled, arms: tuple, warmup_years: float, horizon_years: int, seed: int, replication: int,
             cases: tuple | None = None, share_warmup: bool = True) -> list[ArmOutput]:
    """One replication of every arm in ``arms`` ((name, Compiled) pairs), in their order. With ``share_warmup``
    (and a warm-up, and os.fork) the warm-up is simulated once and branched into the arms (Model.run_arms);
    otherwise each arm runs from the start. The results are the same either way. Pure function of its arguments."""
    compiled = [a for _, a in arms]

    def model(arm: Compiled) -> Model:
        return Model(warm, arm, warmup_years, horizon_years, replication_streams(seed, replication), cases)

    first = model(compiled[0])
    if share_warmup and len(arms) > 1 and first.warm_months > 0 and can_branch():
        results = first.run_arms(compiled)
    else:
        results = [first.run()] + [model(a).run() for a in compiled[1:]]
    return [_output(r, a, name, replication) for (name, a), r in zip(arms, results)]


def _output(r, arm: Compiled, arm_name: str, replication: int) -> ArmOutput:
    """The tidy tables of one arm's RepResult."""
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


# --- the Dask backend (run.backend=dask)
CONNECT_SECONDS = 5          # a scheduler that does not answer within this is a one-line input error, not a hang
_DASK: dict = {}             # the client of this process: {"key", "client", "cluster" (None for a scheduler)}
# run in each worker of a local cluster as it starts. Ctrl-C reaches the whole process group, and is for the run's
# main process, which ends the run with one line and closes the cluster (a worker would print a traceback); a worker
# still busy when its scheduler closes logs failed heartbeats: noise (a task's own error reaches this process anyway)
_WORKER_PRELOAD = ("import logging, signal  # sim.runner: a worker of a local cluster\n"
                   "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                   "logging.getLogger('distributed').setLevel(logging.CRITICAL)\n")


def dask_client(run):
    """The ``distributed.Client`` for ``run`` (the config's run group): connected to ``run.dask_scheduler``, or
    to a ``LocalCluster`` of ``run.workers`` processes with one thread each when that is null. One per process
    and setting, reused by every :func:`execute` (a sensitivity analysis runs ~30), closed at exit
    (:func:`close_dask`). An address that cannot be reached within CONNECT_SECONDS is a ConfigError."""
    key = ("scheduler", run.dask_scheduler) if run.dask_scheduler else ("local", run.workers)
    if _DASK.get("key") == key and _DASK["client"].status == "running":
        return _DASK["client"]
    close_dask()
    from distributed import Client, LocalCluster           # heavy; only a run on Dask needs it
    if not _DASK.get("atexit"):
        atexit.register(close_dask)      # registered after distributed's own handlers, so it runs before them
        _DASK["atexit"] = True
    cluster = None
    if run.dask_scheduler is None:
        # the scheduler's HTTP server (and dashboard, if bokeh is installed) on a free local port: the default
        # 8787 collides with any other cluster on the machine, with a warning; the nanny's warnings (e.g. a busy
        # worker killed when the run is interrupted) are not the user's business
        # and without the workers' statistical profiler: it samples the running task's stack every 10 ms, and cost
        # the replications ~10 % of their speed (bench_parallel.py: efficiency 0.85 with it, 0.95 without)
        import dask
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=run.workers, threads_per_worker=1, processes=True,
                                   dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                                   preload=[_WORKER_PRELOAD])
        client = Client(cluster, set_as_default=False)
    else:
        try:
            client = Client(run.dask_scheduler, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
        except Exception as err:         # refused, timed out, a malformed address, or no Dask scheduler there
            why = " ".join(str(err).split()) or type(err).__name__
            if not isinstance(err, (OSError, ValueError)):
                why = f"{type(err).__name__}: {why}"
            raise ConfigError(f"run.dask_scheduler = {run.dask_scheduler!r}: cannot connect ({why}); allowed: "
                              f"the address of a running Dask scheduler, e.g. tcp://host:8786, or null for a "
                              f"local cluster") from None
    _DASK.update(key=key, client=client, cluster=cluster)
    return client


def close_dask() -> None:
    """Close this process's Dask client and, if it started one, its local cluster (whose workers end with it).
    Runs at exit; safe to call at any time and more than once."""
    client, cluster = _DASK.pop("client", None), _DASK.pop("cluster", None)
    _DASK.pop("key", None)
    for thing in (client, cluster):
        if thing is not None:
            try:
                thing.close()
            except Exception:            # already closed, or its scheduler gone: nothing left to release
                pass


def _on_dask(calls: list[tuple], client):
    """Yield the outputs (a list of ArmOutput) of every call to run_arms, in the order they finish, computed on
    Dask. Keys name the replication and seed; a random tag keeps the tasks of different executes apart.
    Whatever has not run when this stops (an error, Ctrl-C) is cancelled."""
    from distributed import as_completed                   # heavy; only a run on Dask needs it
    tag = uuid.uuid4().hex[:8]
    futures = [client.submit(run_arms, *c, key=f"replication-{c[5]}-seed{c[4]}-{tag}") for c in calls]
    try:
        for fut in as_completed(futures, loop=client.loop):
            yield fut.result()
    finally:
        client.cancel(futures)


def _on_joblib(calls: list[tuple], run):
    """Yield the outputs (a list of ArmOutput) of every call to run_arms: in up to run.workers joblib processes
    (no more than there are tasks; they leave Ctrl-C to this process and end with it, even if it is killed),
    or here."""
    if run.workers > 1 and len(calls) > 1:
        return Parallel(n_jobs=min(run.workers, len(calls)), return_as="generator",
                        initializer=init_worker, initargs=(os.getpid(),))(delayed(run_arms)(*c) for c in calls)
    return (run_arms(*c) for c in calls)


def execute(plan: Plan, progress: bool | None = None) -> Results:
    """Run every replication of every arm of the plan on run.backend (run.workers local processes, or Dask; one
    task per replication, its arms from one warm-up with run.share_warmup) and collect the tables, sorted by
    arm and replication whatever the order the tasks finished in."""
    ref_cfg: Config = plan.arms[plan.reference]
    run = ref_cfg.run
    warm = compile_config(plan.warmup)
    compiled = {name: compile_arm(plan.warmup, cfg) for name, cfg in plan.arms.items()}
    # today's caseload replaces the synthetic warm-up: the horizon starts from the file's cases
    cases = plan.caseload.cases if plan.caseload is not None else None
    warmup_years = 0.0 if cases is not None else run.warmup_years
    arms = tuple(compiled.items())
    calls = [(warm, arms, warmup_years, run.horizon_years, run.seed, rep, cases, run.share_warmup)
             for rep in range(run.replications)]
    show = ref_cfg.output.progress if progress is None else progress
    # connect (or start the local cluster) before anything is shown: a scheduler out of reach is one line
    gen = _on_dask(calls, dask_client(run)) if run.backend == "dask" else _on_joblib(calls, run)
    outputs: list[ArmOutput] = []
    bar = None
    if show:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(calls) * len(arms), desc=f"{len(arms)} scenario(s) x {run.replications} replication(s)",
                   unit="run", leave=False)
    try:
        for outs in gen:
            outputs += outs
            if bar is not None:
                bar.update(len(outs))
    finally:
        if bar is not None:
            bar.close()
    outputs.sort(key=lambda o: (list(compiled).index(o.arm), o.replication))
    return _collect(plan, list(compiled), outputs)


def _collect(plan: Plan, arms: list[str], outputs: list[ArmOutput]) -> Results:
    """The Results of a run from its outputs, sorted by (arm, replication)."""
    kpis = pd.concat([o.kpis for o in outputs], ignore_index=True)
    ts = pd.concat([o.timeseries for o in outputs], ignore_index=True)
    ch = pd.concat([o.children for o in outputs], ignore_index=True)
    summary = summarise(kpis)
    comparison = paired_differences(kpis, plan.reference) if len(arms) > 1 else paired_differences(kpis.iloc[:0], plan.reference)
    info = {
        "created": sum(o.created for o in outputs),
        "active_end": sum(o.active_end for o in outputs),
        "exited": sum(o.exited for o in outputs),
    }
    return Results(reference=plan.reference, arms=arms, kpis=kpis, timeseries=ts, children=ch,
                   summary=summary, comparison=comparison, plan=plan, events=sum(o.events for o in outputs), info=info)
