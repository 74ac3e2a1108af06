"""run.backend=dask: the (arm, replication) tasks on Dask distributed (here a LocalCluster, as in CI) give
tables identical to the local backend for the same seed, and so does an analysis, which runs through the
same ``execute``; bad settings are one line; the cluster's workers never outlive the run (normal end,
Ctrl-C, SIGKILL)."""
from __future__ import annotations

import os
import signal
import socket
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import distributed
import pandas as pd
import pytest

from sim.analyses.sensitivity import sensitivity
from sim.config import ConfigError, RunFault, plan
from sim import runner
from sim.runner import CONNECT_SECONDS, _DASK, close_dask, dask_client, execute, run_arms
from tests.conftest import assert_cli_input_error

RUN = ["run.replications=2", "run.warmup_years=1", "run.horizon_years=1", "run.workers=2", "output.progress=false"]
SMALL = RUN + ["output.write=false", "output.figures=false", "output.report=false"]       # in memory
TWO_ARMS = SMALL + ["compare=[earlier_detection]"]
DASK = ["run.backend=dask"]
TABLES = ["kpis", "timeseries", "children", "summary", "comparison"]
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


@pytest.fixture(scope="module", autouse=True)
def _cluster_closed_afterwards():
    """The module's runs share one local cluster (as an analysis does); it is closed when they are done."""
    yield
    close_dask()


from tests.procs import alive, children, cmdline, ignores_ctrl_c  # noqa: E402,F401



def unused_address() -> str:
    """A local address where nothing listens (a port the system just handed out and took back)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def test_a_run_on_dask_gives_the_tables_of_the_local_backend():
    p_dask = plan(TWO_ARMS + DASK)
    client = dask_client(p_dask.arms[p_dask.reference].run)
    local = execute(plan(TWO_ARMS))
    with distributed.get_task_stream(client=client) as ran:
        on_dask = execute(p_dask)
    keys = sorted(t["key"] for t in ran.data)
    # it did run there: one task per replication, each running both arms (from one warm-up)
    assert len(keys) == 2 and all(k.startswith("replication-") for k in keys), keys
    assert len(client.scheduler_info()["workers"]) == 2
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(on_dask, name), getattr(local, name), check_exact=True, obj=name)
    assert (on_dask.arms, on_dask.events, on_dask.info) == (local.arms, local.events, local.info)
    assert set(local.kpis.scenario) == {"baseline", "earlier_detection"}


def test_the_tables_do_not_depend_on_the_order_the_tasks_finish_in(monkeypatch):
    """On a cluster the tasks finish in any order; execute sorts them. Here they arrive last first."""
    local = execute(plan(TWO_ARMS))
    monkeypatch.setattr(runner, "_on_dask", lambda calls, client: reversed([run_arms(*c) for c in calls]))
    backwards = execute(plan(TWO_ARMS + DASK))
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(backwards, name), getattr(local, name), check_exact=True, obj=name)


ONE_PARAMETER = ["sensitivity.replications=2", "sensitivity.parameters=[{key:staircase.steps.residential."
                                               "cost_per_year_dkk,low:1000000,high:1500000}]"]


def test_an_analysis_on_dask_gives_the_tables_of_the_local_backend():
    ov = TWO_ARMS + ONE_PARAMETER
    local = sensitivity(ov, progress=False, echo=lambda line: None)
    client = dask_client(plan(ov + DASK).arms["baseline"].run)
    with distributed.get_task_stream(client=client) as ran:
        on_dask = sensitivity(ov + DASK, progress=False, echo=lambda line: None)
    assert len(ran.data) == 3 * 2                 # 3 runs (the defaults, low, high) x 2 replications (both arms each)
    assert len(local.table) == 3
    pd.testing.assert_frame_equal(on_dask.table, local.table, check_exact=True)
    pd.testing.assert_frame_equal(on_dask.tornado(), local.tornado(), check_exact=True)


@pytest.mark.parametrize("args,message", [
    (["run.backend=spark"], "error: run.backend = 'spark': Input should be 'local' or 'dask'"),
    (["run.dask_scheduler=tcp://127.0.0.1:8786"],
     "error: run.dask_scheduler = 'tcp://127.0.0.1:8786': used only with run.backend=dask"),
])
def test_a_bad_backend_setting_is_one_line_and_exit_2(tmp_path, args, message):
    assert_cli_input_error(tmp_path, args, message)


def test_an_unreachable_scheduler_is_a_config_error_within_seconds():
    address = unused_address()
    p = plan(SMALL + DASK + [f"run.dask_scheduler={address}"])
    close_dask()                       # the time to close the module's local cluster is not the time asked about
    started = time.monotonic()
    with pytest.raises(ConfigError) as err:
        execute(p)
    assert time.monotonic() - started < CONNECT_SECONDS + 5
    assert str(err.value).startswith(f"run.dask_scheduler = '{address}': cannot connect (")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("mode", ["", "--sensitivity"])
def test_an_unreachable_scheduler_is_one_line_and_exit_2_on_the_command_line(tmp_path, mode):
    address = unused_address()
    assert_cli_input_error(tmp_path, [a for a in [mode] if a] + RUN + ONE_PARAMETER + DASK
                           + [f"run.dask_scheduler={address}"],
                           f"error: run.dask_scheduler = '{address}': cannot connect (")


# --------------------------------------------------------------------------- an address with no Dask scheduler

def one_line_within(tmp_path, address: str, seconds: float = 20) -> str:
    """`python -m sim` on Dask at ``address``: exit 2 and one line on stderr, within ``seconds`` (a hang fails at
    60 s), no traceback anywhere (e.g. a half-made Client's ``__del__``), nothing written. Returns the line."""
    out = tmp_path / "results"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "sim", *RUN, "compare=[]", "output.figures=false",
                           "output.report=false", "output.excel=false", *DASK, f"run.dask_scheduler={address}",
                           f"output.dir={out}"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    elapsed = time.monotonic() - started
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert elapsed < seconds, f"{elapsed:.1f} s"
    assert not out.exists()
    line = proc.stderr.strip()
    assert line.startswith(f"error: run.dask_scheduler = '{address}': cannot connect ("), line
    assert line.endswith("allowed: the address of a running Dask scheduler, e.g. tcp://host:8786, or null for a "
                         "local cluster"), line
    return line


@pytest.mark.parametrize("address,why", [
    ("notanaddress", "missing port number"),
    ("http://127.0.0.1:8799", "unknown address scheme 'http'"),
    ("inproc://x", "inproc:// reaches a scheduler inside the same Python process only"),    # was a ValueError's words
])
def test_a_malformed_scheduler_address_is_one_line_at_once(tmp_path, address, why):
    assert why in one_line_within(tmp_path, address, seconds=CONNECT_SECONDS + 5)


@contextmanager
def serving(handler, stop: threading.Event):
    """A threaded TCP server with ``handler`` on a free local port, its address (tcp://127.0.0.1:<port>) while it
    runs; ``stop`` is set as it stops, ending the handlers' waits."""
    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True

    with Server(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        try:
            yield f"tcp://127.0.0.1:{server.server_address[1]}"
        finally:
            stop.set()
            server.shutdown()
            thread.join(10)


@contextmanager
def tcp_service(answer: bytes | None):
    """A TCP service on a free local port that is not a Dask scheduler: each connection gets ``answer`` (bytes
    that are not Dask's protocol) or, with None, nothing at all; the connections stay open until it stops."""
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            if answer is not None:
                self.request.sendall(answer)
            stop.wait(120)

    with serving(Handler, stop) as address:
        yield address


@pytest.mark.parametrize("answer,why", [
    (b"HTTP/1.0 400 Bad request\r\n\r\n<html>not dask</html>\r\n" * 8, "does not speak the Dask protocol"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"\xff" * 64, "does not speak the Dask protocol"),
    (None, "no answer to the Dask handshake within"),
], ids=["http-like-garbage", "garbage-frame", "silent"])
def test_a_service_that_is_not_a_dask_scheduler_is_one_line_within_seconds(tmp_path, answer, why):
    """A service that accepts the connection and answers garbage (once read as a frame length of exabytes:
    MemoryError) or says nothing (distributed bounds the connection attempts, not the handshake: it hung)."""
    with tcp_service(answer) as address:
        assert why in one_line_within(tmp_path, address)


def test_checking_an_address_leaves_nothing_running():
    """check_dask: None unless the run is on a Dask scheduler; a ConfigError (one line) within the limit for an
    address where none answers, and no thread or client left behind."""
    assert runner.check_dask(plan(SMALL).arms["baseline"].run) is None                  # the local backend
    on_dask = plan(SMALL + DASK).arms["baseline"].run
    assert runner.check_dask(on_dask) is None                                        # a local cluster: no check
    before = set(threading.enumerate())
    with tcp_service(None) as silent, tcp_service(b"\xff" * 64) as garbage:
        for address in (silent, garbage, "notanaddress"):
            run = on_dask.model_copy(update={"dask_scheduler": address})
            started = time.monotonic()
            with pytest.raises(ConfigError) as err:
                runner.check_dask(run)
            assert time.monotonic() - started < CONNECT_SECONDS + 4
            assert str(err.value).startswith(f"run.dask_scheduler = '{address}': cannot connect (")
            assert "\n" not in str(err.value)
            assert _DASK.get("key") != ("scheduler", address)
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not set(threading.enumerate()) - before


@contextmanager
def proxy_to(target: str):
    """A TCP proxy on a free local port to ``target`` (host:port). ``turn.set()`` turns it bad: from then on it
    passes nothing on and answers each connection's next message with garbage."""
    host, port = target.rsplit("://", 1)[-1].rsplit(":", 1)
    turn, stop = threading.Event(), threading.Event()

    def pump(src, dst, to_client):
        try:
            while not stop.is_set():
                data = src.recv(65536)
                if not data:
                    break
                if turn.is_set():
                    (src if not to_client else dst).sendall(b"\xff" * 64)
                    stop.wait(120)
                    break
                dst.sendall(data)
        except OSError:
            pass

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            with socket.create_connection((host, int(port))) as upstream:
                pumps = [threading.Thread(target=pump, args=(self.request, upstream, False), daemon=True),
                         threading.Thread(target=pump, args=(upstream, self.request, True), daemon=True)]
                for t in pumps:
                    t.start()
                stop.wait(120)
                for sock in (self.request, upstream):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    with serving(Handler, stop) as address:
        yield address, turn


def test_a_scheduler_that_answers_garbage_during_the_run_ends_it_with_one_line(monkeypatch, capfd):
    """Connected, then the scheduler's connection answers garbage (here a proxy turned bad as the tasks are
    submitted): distributed drops the stream and leaves the client "running" with futures that never finish -
    it hung; now a ConfigError, within seconds, and distributed's tracebacks are not printed."""
    close_dask()                                           # the module's cluster: not the one asked about
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                       host="127.0.0.1", dashboard_address="127.0.0.1:0")
    try:
        with proxy_to(cluster.scheduler_address) as (address, turn):
            p = plan(SMALL + DASK + [f"run.dask_scheduler={address}"])
            on_dask = runner._on_dask

            def turning_bad(calls, client):
                turn.set()
                return on_dask(calls, client)

            monkeypatch.setattr(runner, "_on_dask", turning_bad)
            outcome: list = []

            def run():
                try:
                    outcome.append(execute(p))
                except BaseException as e:   # checked below
                    outcome.append(e)

            started = time.monotonic()
            thread = threading.Thread(target=run, daemon=True)   # so that a hang fails the test
            thread.start()
            thread.join(60)
            assert not thread.is_alive(), "the run still waited 60 s after its scheduler answered garbage"
            assert time.monotonic() - started < 20
            close_dask()
    finally:
        cluster.close()
    err = outcome[0]
    assert isinstance(err, RunFault) and err.exit_code == 1, err          # not bad input: exit 1, not 2
    from sim.cli import _input_error
    assert _input_error(err) == 1 and _input_error(ConfigError("x = 1: allowed: 2")) == 2
    assert str(err).startswith(f"run.dask_scheduler = '{address}': lost the connection to the Dask scheduler "
                               f"during the run ("), err
    assert "\n" not in str(err)
    assert "Traceback" not in capfd.readouterr().err


# --------------------------------------------------------------------------- no worker outlives the run

def test_closing_ends_the_cluster_and_its_workers():
    client = dask_client(plan(SMALL + DASK).arms["baseline"].run)
    workers = list(client.run(os.getpid).values())
    assert len(workers) == 2 and all(alive(w) for w in workers)
    close_dask()
    assert client.status == "closed" and not _DASK.get("client")
    deadline = time.time() + 15
    while any(alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not [w for w in workers if alive(w)]


SCRIPT = """
    import os, sys, time
    from sim.config import plan
    from sim.runner import dask_client, execute
    if __name__ == "__main__":
        p = plan({overrides!r})
        execute(p)
        print(*dask_client(p.arms[p.reference].run).run(os.getpid).values(), flush=True)
        if sys.argv[1:] == ["wait"]:
            time.sleep(600)
"""


def run_script(tmp_path, wait: bool):
    """A Python script that runs on a local cluster, prints its workers' pids and ends (or waits)."""
    path = tmp_path / "on_dask.py"
    path.write_text(textwrap.dedent(SCRIPT.format(overrides=SMALL + DASK + ["compare=[]"])))
    return subprocess.Popen([sys.executable, str(path)] + (["wait"] if wait else []), cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def gone_within(pids: list[int], seconds: float = 15) -> list[int]:
    """The pids still running after ``seconds`` (then killed, so that a failing test leaves nothing behind)."""
    deadline = time.time() + seconds
    while any(alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.2)
    left = [p for p in pids if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    return left


@linux
def test_the_workers_end_with_the_process_that_started_them(tmp_path):
    proc = run_script(tmp_path, wait=False)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    workers = [int(w) for w in out.split()]
    assert len(workers) == 2
    assert not gone_within(workers), "workers still ran 15 s after the process ended"
    assert "Traceback" not in err, err


@linux
def test_the_workers_end_when_the_process_is_killed(tmp_path):
    proc = run_script(tmp_path, wait=True)
    workers = [int(w) for w in proc.stdout.readline().split()]
    assert len(workers) == 2, proc.stderr.read() if proc.poll() is not None else "no pids"
    others = [c for c in children(proc.pid) if c not in workers]
    proc.kill()                        # SIGKILL: it cannot close its cluster itself
    proc.wait(timeout=60)
    assert not gone_within(workers + others), "processes still ran 15 s after their parent was killed"


@linux
def test_ctrl_c_ends_a_run_on_dask_with_one_line_and_no_worker_left(tmp_path):
    out = tmp_path / "results"
    with open(tmp_path / "stderr.txt", "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "sim", *DASK, "run.replications=200", "run.workers=2",
                                 "compare=[]", "output.progress=false", f"output.dir={out}"], cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    workers: list[int] = []
    started = time.time()
    while time.time() < started + 120 and proc.poll() is None:
        workers = [c for c in children(proc.pid) if "spawn_main" in cmdline(c)]
        if len(workers) == 2 and all(ignores_ctrl_c(w) for w in workers):
            break
        time.sleep(0.2)
    assert len(workers) == 2 and all(ignores_ctrl_c(w) for w in workers), "the workers did not start"
    time.sleep(2.0)                    # the workers simulate
    os.killpg(proc.pid, signal.SIGINT)           # Ctrl-C reaches the whole process group
    proc.wait(timeout=60)
    left = gone_within(workers)
    err = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted: nothing was written", err
    assert not left


def test_the_parallel_benchmark_runs_and_finds_the_three_tables_identical(tmp_path):
    """A smoke run of benchmarks/bench_parallel.py (its timings are its output, never asserted here)."""
    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_parallel.py"
    proc = subprocess.run([sys.executable, bench, "--quick"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for label in ("T1 (1 process)", "T2 joblib (2 processes)", "T2 dask (LocalCluster, 2 workers)"):
        assert label in proc.stdout
    assert proc.stdout.count("(target >= 0.9)") == 2 and "busy share" in proc.stdout
    assert "tables identical across the three: yes" in proc.stdout, proc.stdout


def test_profiles_calibrate_checks_the_scheduler_before_writing_a_profile(tmp_path, capsys):
    """python -m sim profiles --calibrate with a scheduler that does not answer: one line, exit 2, no profile written
    (every profile was written uncalibrated, then each row waited for the scheduler and failed, exit 1)."""
    import uuid
    from sim.cli import main
    from sim.config import CONF_DIR
    name = f"zz_sched_{uuid.uuid4().hex[:8]}"
    f = tmp_path / "one.csv"
    f.write_text("name,label,population,placed_per_1000_0_22,spending_per_child_0_22_dkk,"
                 f"expected_spending_need_per_child_0_22_dkk\n{name},Sched,40000,8.5,7876,9896\n")
    with tcp_service(None) as silent:
        started = time.monotonic()
        code = main(["profiles", str(f), "--calibrate", *DASK, f"run.dask_scheduler={silent}",
                     f"output.dir={tmp_path / 'results'}"])
        assert time.monotonic() - started < CONNECT_SECONDS + 6
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith(f"error: run.dask_scheduler = '{silent}': cannot connect (") and "\n" not in err
    assert not (CONF_DIR / "municipality" / f"{name}.yaml").exists()


def test_an_ended_run_silences_what_a_winding_down_cluster_logs_after_its_line(capfd):
    """SIGTERM to the command alone while a local cluster ran: after 'terminated: nothing was written' the
    cluster's scheduler and streams logged the tasks they lost (in 3 of 10 tries: 'Couldn't gather keys',
    'Batched Comm Closed' with a 10-line CommClosedError traceback). Once the one line is said, the loggers of
    distributed, tornado and asyncio say nothing more, at any level."""
    import logging

    from sim.cli import ended
    names = ["distributed.batched", "distributed.scheduler", "tornado.application", "asyncio"]
    loggers = [logging.getLogger(n) for n in names]
    before = {lg: lg.disabled for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)}
    handler = logging.StreamHandler()
    logging.getLogger("distributed").addHandler(handler)
    try:
        assert ended(True) == 143
        for logger in loggers:
            logger.error("lost: %s", logger.name)
            logger.info("closed", exc_info=(RuntimeError, RuntimeError("x"), None))
        err = capfd.readouterr().err
        assert err.strip() == "terminated: nothing was written", err
        assert all(logger.disabled for logger in loggers)
        assert not logging.getLogger("sim").disabled          # only those libraries' loggers
    finally:
        logging.getLogger("distributed").removeHandler(handler)
        for logger in loggers:
            logger.disabled = False
        for logger, disabled in before.items():
            logger.disabled = disabled


def test_the_local_cluster_leaves_no_callback_in_the_garbage_collector():
    """The local cluster's scheduler runs in this process and hooked a timer into the garbage collector: a SIGTERM
    that arrived during a collection was raised inside that callback, swallowed by Python, and the run went on to
    exit 0 (in 2 of 8 tries, 5 s into a run). A signal must always reach the run."""
    import gc
    p = plan(SMALL + DASK + ["compare=[]"])
    try:
        dask_client(p.arms[p.reference].run)
        assert not [cb for cb in gc.callbacks if "distributed" in getattr(cb, "__module__", "")], gc.callbacks
    finally:
        close_dask()


def test_ctrl_c_before_distributeds_sync_has_begun_logs_no_traceback():
    """The fresh-clone suite failed once: Ctrl-C reached distributed's ``sync`` before its coroutine had begun; its
    ``cancel`` callback then read an unset ``future`` and tornado logged the NameError with a traceback before the
    run's one line. Reproduced here for real - the loop is held while the interrupt comes - once without the run's
    filter (the library's behaviour: the traceback is logged) and once with it (nothing is)."""
    import asyncio
    import logging

    from distributed.utils import sync
    from tornado.ioloop import IOLoop

    def interrupted_sync() -> list[logging.LogRecord]:
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        log = logging.getLogger("tornado.application")
        log.addHandler(handler)
        ready, release, done = threading.Event(), threading.Event(), threading.Event()

        def serve():
            asyncio.set_event_loop(asyncio.new_event_loop())
            holder["loop"] = IOLoop.current()
            ready.set()
            holder["loop"].start()
            done.set()
        holder: dict = {}
        threading.Thread(target=serve, daemon=True).start()
        ready.wait(5)
        loop = holder["loop"]
        loop.add_callback(lambda: release.wait(5))          # the loop is busy: sync's coroutine cannot begin
        main = threading.get_ident()
        threading.Timer(0.3, lambda: signal.pthread_kill(main, signal.SIGINT)).start()
        try:
            with pytest.raises(KeyboardInterrupt):
                sync(loop, asyncio.sleep, 5)
        finally:
            release.set()
            time.sleep(0.5)                                  # the coroutine begins, then the cancel callback runs
            loop.add_callback(loop.stop)
            done.wait(5)
            log.removeHandler(handler)
        return [r for r in records if r.levelno >= logging.ERROR]

    log = logging.getLogger("tornado.application")
    # the logger as a fresh process has it: earlier runs in this process may have silenced or filtered it
    saved = log.disabled, log.level, list(log.filters)
    log.disabled, log.filters = False, []
    log.setLevel(logging.DEBUG)
    try:
        bare = interrupted_sync()
        assert bare and isinstance(bare[0].exc_info[1], NameError), bare  # the library's behaviour, for real
        log.addFilter(runner.SYNC_CANCEL_NOISE)
        assert interrupted_sync() == []
        other = logging.LogRecord("tornado.application", logging.ERROR, __file__, 1, "x", None,
                                  (NameError, NameError("name 'future' is not defined"), None))
        assert runner.SYNC_CANCEL_NOISE.filter(other)                       # another NameError still shows
    finally:
        log.disabled, log.filters = saved[0], saved[2]
        log.setLevel(saved[1])
