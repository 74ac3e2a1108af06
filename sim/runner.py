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
also end when this process is killed (distributed ends a worker whose parent's pipe closes). An address where
no Dask scheduler answers (malformed, refused, another kind of service, silent) is one line within about
CONNECT_SECONDS (:func:`check_dask`), and a scheduler lost during a run ends it with one line, never a hang.
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

from .config import Config, ConfigError, Plan, RunFault
from .metrics.budget import budget, budget_difference
from .metrics.kpis import replication_children, replication_kpis, replication_timeseries
from .metrics.plausible import team_check
from .metrics.stats import paired_differences, summarise
from .common.signals import children_ignore_ctrl_c, spawns_ignore_ctrl_c, unblock_ctrl_c
from .model import Compiled, Model, can_branch, compile_arm, compile_config, replication_streams
from .report.followup import first_warnings
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
    unblock_ctrl_c()                                    # (it was born ignoring it: children_ignore_ctrl_c)

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

    def team_check(self) -> pd.DataFrame:
        """Each arm's mean open cases per caseworker against casework.plausible_cases_per_caseworker, with its
        verdict (sim.metrics.plausible; team_check.csv)."""
        return team_check(self)

    def warnings(self, language: str = "en") -> list[str]:
        """The lines a reader must see before using the numbers, as the summary, the report and the workbook
        give them first: a team that does not fit the municipality, a baseline that still drifts, the budget
        follow-up's (a forecast cut by the horizon, a measure without a budget line); none: []."""
        return first_warnings(self, language)


# --- the Dask backend (run.backend=dask)
CONNECT_SECONDS = 5          # a scheduler that does not answer within this is a one-line input error, not a hang
CONNECT_MARGIN = 1.0         # the hard wall-clock limit on a connection check is CONNECT_SECONDS + this
LOST_SECONDS = 1.0           # a run whose scheduler connection is gone this long ends (one line), never hangs
PING_SECONDS = 10            # while no task finishes, the run asks the scheduler this often whether it is there,
SILENT_SECONDS = 60          # and ends (one line) when it has not answered for this long (Dask gives a silent
                             # worker 5 minutes; a scheduler that answers nothing for a minute is stopped or cut off)
_DASK: dict = {}             # the client of this process: {"key", "client", "cluster" (None for a scheduler)}
# run in each worker of a local cluster as it starts. Ctrl-C reaches the whole process group, and is for the run's
# main process, which ends the run with one line and closes the cluster (a worker would print a traceback); a worker
# still busy when its scheduler closes logs failed heartbeats: noise (a task's own error reaches this process anyway)
_WORKER_PRELOAD = ("import logging, signal  # sim.runner: a worker of a local cluster\n"
                   "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                   "logging.getLogger('distributed').setLevel(logging.CRITICAL)\n")
_ALLOWED = "the address of a running Dask scheduler, e.g. tcp://host:8786, or null for a local cluster"


def _cannot_connect(address: str, why: str) -> ConfigError:
    return ConfigError(f"run.dask_scheduler = {address!r}: cannot connect ({why}); allowed: {_ALLOWED}")


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _scheduler_problem(address: str, seconds: float = CONNECT_SECONDS) -> str | None:
    """Why no Dask scheduler answers at ``address`` (None if one does): a malformed address, nothing listening
    there (refused, unroutable: distributed retries for ``seconds``), or a service that is not a Dask scheduler
    (it says nothing, closes the connection, or answers bytes that are not Dask's protocol).

    No ``distributed.Client`` is made (a half-made one prints a traceback as it is collected, and may hang):
    distributed's own ``connect`` (the Dask handshake) and an ``identity`` call run on a private event loop in a
    short-lived thread, under a hard limit of ``seconds`` + CONNECT_MARGIN - distributed bounds the connection
    attempts but not the handshake, so a silent service would otherwise hang it for ever. Nothing is left
    running afterwards."""
    import asyncio
    from distributed.comm import connect, registry
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.core import CommClosedError
    from distributed.security import Security

    try:
        scheme, loc = parse_address(address)
        if scheme == "inproc":                             # distributed's in-process transport: no scheduler of ours
            return "inproc:// reaches a scheduler inside the same Python process only; give its tcp:// address"
        registry.get_backend(scheme)                       # an unknown scheme (http://...)
        if scheme in ("tcp", "tls"):
            parse_host_port(loc)                           # no port, a port that is not a number
        args = Security().get_connection_args("client")
    except Exception as err:
        return _one_line(err)
    limit = seconds + CONNECT_MARGIN
    outcome: dict = {}

    async def identity():
        comm = await connect(address, timeout=seconds, **args)
        try:
            await comm.write({"op": "identity", "reply": True})
            reply = await comm.read()
            try:
                await comm.write({"op": "close", "reply": False})      # the scheduler's polite goodbye
            except Exception:
                pass
            return reply
        finally:
            comm.abort()

    def probe():
        loop = asyncio.new_event_loop()
        try:
            outcome["reply"] = loop.run_until_complete(asyncio.wait_for(identity(), limit))
        except BaseException as err:   # reported below, in the caller's thread
            outcome["error"] = err
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()                               # does not wait for a DNS look-up still in its executor

    thread = threading.Thread(target=probe, name="sim-dask-connect-check", daemon=True)
    thread.start()
    thread.join(limit + 2)
    err = outcome.get("error")
    if thread.is_alive() or isinstance(err, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer to the Dask handshake within {limit:g} s: is a Dask scheduler listening there?"
    if isinstance(err, CommClosedError):                   # connect() retries these; here, in the handshake
        return "the service there closed the connection during the Dask handshake: not a Dask scheduler?"
    if isinstance(err, OSError):                           # distributed's "Timed out trying to connect ..."
        why = _one_line(err)
        cause = err.__cause__
        if cause is not None and str(cause).strip():     # the last attempt's error, e.g. connection refused
            detail = _one_line(cause).rsplit(">: ", 1)[-1]    # "in <TCPConnector ...>: ConnectionRefusedError: ..."
            why += f" ({detail})" if detail not in why else ""
        return why
    if err is not None and _garbled(err):                 # MemoryError (a frame "length" of exabytes), msgpack's..
        return "the service there does not speak the Dask protocol: not a Dask scheduler"
    if err is not None:                                    # e.g. tls:// without TLS configured
        return f"{type(err).__name__}: {_one_line(err)}"
    reply = outcome.get("reply")
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        return (f"the Dask service there is a {kind}, not a scheduler" if isinstance(kind, str) and kind
                else "the service there gave no Dask scheduler's identity: not a Dask scheduler")
    return None


def _garbled(err: BaseException) -> bool:
    """Whether ``err`` was raised while reading (or decoding) what the peer sent: bytes that are not the Dask
    protocol give all sorts of errors (MemoryError for a frame "length" of exabytes, struct's, msgpack's, ...)."""
    try:
        from tornado.websocket import WebSocketError       # ws://: an HTTP server that does not upgrade
        if isinstance(err, WebSocketError):
            return True
    except ImportError:
        pass
    tb = err.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        where = code.co_filename.replace(os.sep, "/")
        if ("/distributed/comm/" in where and code.co_name in ("read", "read_bytes_rw", "from_frames")
                or "/distributed/protocol/" in where):
            return True
        tb = tb.tb_next
    return False


def _connect(address: str):
    """A ``distributed.Client`` connected to the scheduler at ``address``, or ConfigError (one line). The address
    is checked first (:func:`_scheduler_problem`, bounded by a hard limit); should the Client still fail (the
    scheduler went away in between), the half-made Client is closed here and made quiet, so that neither its
    ``__del__`` nor its event loop prints anything or keeps this process waiting."""
    why = _scheduler_problem(address)
    if why is not None:
        raise _cannot_connect(address, why)
    from distributed import Client
    client = Client.__new__(Client)                        # kept if __init__ raises, to be closed here
    try:
        client.__init__(address, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
    except Exception as err:
        _discard(client)
        why = _one_line(err)
        if _garbled(err):
            why = "the service there does not speak the Dask protocol: not a Dask scheduler"
        elif not isinstance(err, (OSError, ValueError)):
            why = f"{type(err).__name__}: {why}"
        raise _cannot_connect(address, why) from None
    return client


def _discard(client) -> None:
    """Close a Client that failed to start, within a few seconds, and keep its ``__del__`` quiet."""
    try:
        if getattr(client, "status", "newly-created") not in ("closed", "newly-created"):
            client.close(timeout=2)
    except BaseException:   # it is being thrown away
        pass
    try:
        client._loop_runner.stop()
    except BaseException:
        pass
    client.status = "closed"                               # Client.__del__ -> close(): nothing to do


def check_dask(run, keep: bool = True):
    """For a validated run group: ConfigError (one line, within about CONNECT_SECONDS) if ``run.backend`` is dask
    and no Dask scheduler answers at ``run.dask_scheduler``; None for another backend. With ``keep`` (the
    default) the connected client is kept for the run (:func:`dask_client`) and returned; without it the address
    is only checked (no client, nothing left running), e.g. before jobs start in other processes. A local cluster
    (``run.dask_scheduler`` null) is not started here: there is nothing to check; returns None."""
    if run.backend != "dask" or run.dask_scheduler is None:
        return None
    if keep:
        return dask_client(run)
    why = _scheduler_problem(run.dask_scheduler)
    if why is not None:
        raise _cannot_connect(run.dask_scheduler, why)
    return None


def dask_client(run):
    """The ``distributed.Client`` for ``run`` (the config's run group): connected to ``run.dask_scheduler``, or
    to a ``LocalCluster`` of ``run.workers`` processes with one thread each when that is null. One per process
    and setting, reused by every :func:`execute` (a sensitivity analysis runs ~30), closed at exit
    (:func:`close_dask`). An address where no Dask scheduler answers within CONNECT_SECONDS (malformed,
    refused, unroutable, another kind of service) is a ConfigError, one line, with nothing left running."""
    key = ("scheduler", run.dask_scheduler) if run.dask_scheduler else ("local", run.workers)
    if _DASK.get("key") == key and _dask_alive(_DASK["client"]):
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
        # (its nannies begin with Ctrl-C ignored: common.signals.spawns_ignore_ctrl_c)
        with dask.config.set({"distributed.worker.profile.enabled": False}), spawns_ignore_ctrl_c():
            cluster = LocalCluster(n_workers=run.workers, threads_per_worker=1, processes=True,
                                   dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                                   preload=[_WORKER_PRELOAD])
        # the cluster's scheduler (in this process) hooks a timer into the garbage collector; a Ctrl-C or SIGTERM
        # raised inside a gc callback is swallowed ("Exception ignored in GCDiagnosis._gc_callback") and the run
        # went on to its end, exit 0. Without the hook the signal ends the run as anywhere else.
        from distributed.gc import disable_gc_diagnosis
        disable_gc_diagnosis(force=True)
        client = Client(cluster, set_as_default=False)
    else:
        client = _connect(run.dask_scheduler)
    _DASK.update(key=key, client=client, cluster=cluster)
    return client


def close_dask() -> None:
    """Close this process's Dask client and, if it started one, its local cluster (whose workers end with it).
    Runs at exit; safe to call at any time and more than once, and bounded in time (and quiet) even when the
    scheduler is gone or broken."""
    client, cluster = _DASK.pop("client", None), _DASK.pop("cluster", None)
    _DASK.pop("key", None)
    quiet = _DASK.pop("quiet", None)                       # the logs of a lost scheduler's client, dropped
    if client is not None:
        if not _dask_alive(client) and quiet is None:
            quiet = _HeldLogs("drop")
        try:
            if quiet is not None:
                _discard(client)
            else:
                client.close(timeout=2 * CONNECT_SECONDS)
        except BaseException:            # already closed, or its scheduler gone: nothing to release
            _discard(client)
    if cluster is not None:
        try:
            cluster.close()
        except Exception:
            pass
    if quiet is not None:
        quiet.remove()


class _HeldLogs(logging.Filter):
    """Holds back the warnings and errors that distributed (and tornado, asyncio) log in this process while a
    run waits for its tasks: when the scheduler is lost, or answers garbage, they log a traceback for each
    stream that breaks, and the run's one line says it all (``drop``); otherwise they are logged as usual once
    the wait is over (``release``)."""
    LOGGERS = ("distributed.client", "distributed.core", "distributed.utils", "distributed.batched",
               "distributed.comm.tcp", "distributed.comm.core", "tornado.application", "tornado.general", "asyncio")

    def __init__(self, mode: str = "hold"):
        super().__init__()
        self.mode, self.records = mode, []
        for name in self.LOGGERS:
            logging.getLogger(name).addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether a record is logged now: below WARNING always; the others as the mode says (held, dropped)."""
        if self.mode == "pass" or record.levelno < logging.WARNING:
            return True
        if self.mode == "hold":
            self.records.append(record)
        return False

    def remove(self) -> None:
        """Stop filtering (what is held stays held)."""
        for name in self.LOGGERS:
            logging.getLogger(name).removeFilter(self)

    def release(self) -> None:
        """Stop filtering and log what was held, as it would have been."""
        self.remove()
        self.mode, records, self.records = "pass", self.records, []
        for record in records:
            logging.getLogger(record.name).handle(record)

    def drop(self) -> None:
        """From now on drop them (until the client is closed: its event loop may still log as it winds down)."""
        self.mode, self.records = "drop", []


class _SyncCancelNoise(logging.Filter):
    """Drops the one traceback distributed's ``sync`` leaves when Ctrl-C or SIGTERM reaches it before its coroutine
    has begun: its ``cancel`` callback reads a ``future`` not yet set, and tornado logs the NameError from the
    client's event loop at ERROR - at any moment, also before the run's one line (a race with the interrupt; the
    run ends as it should). Everything else passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for that NameError from distributed/utils.py's cancel, True for any other record."""
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, NameError) or "'future'" not in str(exc):
            return True
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code if tb is not None else None
        return not (code is not None and code.co_name == "cancel"
                    and code.co_filename.replace("\\", "/").endswith("distributed/utils.py"))


SYNC_CANCEL_NOISE = _SyncCancelNoise()
DASK_LOGGERS = ("distributed", "tornado", "asyncio")     # the libraries that log from a Dask client's event loop


def silence_dask_logs() -> None:
    """Silence every logger of distributed, tornado and asyncio in this process, at every level: for a run ended
    by Ctrl-C or SIGTERM. As the local cluster and the client wind down after the run's one line, its scheduler and
    streams log the tasks they lost ("Couldn't gather keys", "Batched Comm Closed" with a traceback)."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in DASK_LOGGERS:
            logger.disabled = True


def _dask_alive(client) -> bool:
    """Whether ``client`` still has its scheduler: running, its stream open and still read. (A scheduler that
    goes away, or answers bytes that are not Dask's protocol, closes the stream and ends the task reading it;
    distributed then leaves the client "running" with futures that never finish.)"""
    if client.status != "running":
        return False
    comm = getattr(getattr(client, "scheduler_comm", None), "comm", None)
    if comm is None or comm.closed():
        return False
    task = getattr(client, "_handle_report_task", None)
    return task is None or not task.done()


def _lost_scheduler(held: _HeldLogs, why: str) -> RunFault:
    """The one line for a run whose scheduler went away (exit 1: not bad input); what distributed logged about it
    is dropped."""
    held.drop()
    _DASK["quiet"] = held                                  # removed when the client is closed (close_dask)
    kind, where = _DASK.get("key") or ("scheduler", None)
    if kind == "scheduler" and where:
        return RunFault(f"run.dask_scheduler = {where!r}: lost the connection to the Dask scheduler during "
                           f"the run ({why}); allowed: {_ALLOWED}")
    return RunFault(f"run.backend = 'dask': lost the connection to the local cluster's scheduler during the "
                       f"run ({why})")


def _on_dask(calls: list[tuple], client):
    """Yield the outputs (a list of ArmOutput) of every call to run_arms, in the order they finish, computed on
    Dask. Keys name the replication and seed; a random tag keeps the tasks of different executes apart.
    While it waits it checks that the scheduler is still there: a connection lost for LOST_SECONDS (the scheduler
    ended, or answered garbage), or a scheduler that answers nothing for SILENT_SECONDS, ends the run with a
    ConfigError (one line), not a hang.
    Whatever has not run when this stops (an error, Ctrl-C) is cancelled."""
    from distributed import as_completed                   # heavy; only a run on Dask needs it
    from distributed.comm.core import CommClosedError
    tag = uuid.uuid4().hex[:8]
    logging.getLogger("tornado.application").addFilter(SYNC_CANCEL_NOISE)     # once: a filter is added only once
    futures = [client.submit(run_arms, *c, key=f"replication-{c[5]}-seed{c[4]}-{tag}") for c in calls]
    finished = as_completed(futures, loop=client.loop)
    held = _HeldLogs()
    lost_since, heard = None, time.monotonic()
    try:
        while not finished.is_empty():
            batch = finished.next_batch(block=False)
            if not batch:                                  # none finished: is the scheduler still there?
                now = time.monotonic()
                if not _dask_alive(client):
                    lost_since = lost_since or now
                    if now - lost_since > LOST_SECONDS:
                        raise _lost_scheduler(held, "the connection to it is closed")
                elif now - heard > PING_SECONDS:           # connected, but is anyone answering?
                    lost_since = None
                    try:
                        client.sync(client.scheduler.identity, callback_timeout=PING_SECONDS)
                        heard = time.monotonic()
                    except Exception:
                        if time.monotonic() - heard > SILENT_SECONDS:
                            raise _lost_scheduler(held, f"it has not answered for {SILENT_SECONDS} s") from None
                else:
                    lost_since = None
                time.sleep(0.05)
                continue
            heard = time.monotonic()
            for fut in batch:
                if fut.status == "cancelled":              # distributed cancels every future when its stream closes
                    raise _lost_scheduler(held, f"the task {fut.key} was cancelled")
                try:
                    out = fut.result()                     # fetched through the scheduler
                except CommClosedError:
                    raise _lost_scheduler(held, "the connection to it is closed") from None
                yield out
    except KeyboardInterrupt:            # Ctrl-C or SIGTERM: what was held is not logged after the run's end; the
        held.drop()                      # command line silences the libraries for good when it says its one line
        held.remove()                    # (cli.ended) - a notebook keeps its logging as it was
        raise
    finally:
        try:
            if _dask_alive(client):
                client.cancel(futures)
        except Exception:                # the client closed meanwhile: nothing to cancel
            pass
        if held.mode == "hold":
            held.release()


def _on_joblib(calls: list[tuple], run):
    """Yield the outputs (a list of ArmOutput) of every call to run_arms: in up to run.workers joblib processes
    (no more than there are tasks; they leave Ctrl-C to this process and end with it, even if it is killed),
    or here."""
    if run.workers > 1 and len(calls) > 1:
        with children_ignore_ctrl_c():                # the workers start here, ignoring Ctrl-C from birth
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
