"""The command line under bad input and signals: one line on stderr, exit 2 (bad input), 130 (Ctrl-C) or
143 (SIGTERM), nothing in output.dir; and no worker process outlives a killed run."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sim.config import CONF_DIR, SCENARIO_DIR
from tests.conftest import assert_cli_input_error

LONG_RUN = ["run.replications=200", "compare=[earlier_detection]", "run.workers=2", "output.progress=false"]


@pytest.mark.parametrize("args,message", [
    (["run.workers=1000000"], "error: run.workers = 1000000: allowed: at most"),
    (["run.replications=1000000000"], "error: run.replications = 1000000000: allowed: at most 10,000"),
    (["run.warmup_years=100000"], "error: run.warmup_years = 100000.0: allowed: at most 100"),
    (["run.replications=true"], "error: run.replications = true: allowed: a number"),
    (["staircase.steps.foster_care.cost_per_year_dkk=inf"], "cost_per_year_dkk = inf: allowed: a finite number"),
    (["municipality=xyz"], "error: municipality = 'xyz': unknown option; available: average,"),
    # a group's option that Hydra would read as a path, null or not at all: the value and the options, not its words
    (["municipality=/etc/passwd"], "error: municipality = '/etc/passwd': unknown option; available: average,"),
    (["municipality=../staircase/default"], "municipality = '../staircase/default': unknown option; available:"),
    (["municipality=null"], "error: municipality = 'null': unknown option; available: average,"),
    (["municipality=københavn"], "error: municipality = 'københavn': unknown option; available: average,"),
    (["scenario=../conf/config"], "error: scenario = '../conf/config': unknown option; available: baseline,"),
    (["compare=[full_shift]", "scenario=[full_shift,nope]"], "error: scenario = 'nope': unknown option;"),
    # numbers so large (or so small where they divide) that the sums overflow: a run wrote '-' for every total
    (["costs.caseworker_cost_per_year_dkk=1e308"], "costs.caseworker_cost_per_year_dkk = 1e+308: allowed: at most 1e+12"),
    (["staircase.steps.residential.cost_per_year_dkk=1e300"], "cost_per_year_dkk = 1e+300: allowed: at most 1e+12"),
    (["need.outcome_weights.mild=1e308"], "need.outcome_weights.mild = 1e+308: allowed: at most 1e+12"),
    (["need.escalation_rate_per_year.mild=-1e300"], "escalation_rate_per_year.mild = -1e+300: allowed: at most"),
    (["need.onset_scale=1e6"], "need.onset_scale = 1000000.0: allowed: at most 100"),
    # whole numbers too (10^13 places ran, exit 0); run.seed keeps its own bound (2^63 - 1)
    (["staircase.steps.residential.capacity=10000000000000", "staircase.steps.residential.capacity_per_1000_children=null"],
     "staircase.steps.residential.capacity = 10000000000000: allowed: at most 1e+12"),
    (["casework.staffing.review_months=10000000000000"], "review_months = 10000000000000: allowed: at most 1e+12"),
    (["run.seed=9223372036854775808"], "run.seed = 9223372036854775808: allowed: at most 9,223,372,036,854,775,807"),
    (["casework.staffing.cases_per_caseworker=1e-300"], "cases_per_caseworker = 1e-300: Input should be greater"),
    (["casework.productive_hours_per_year=1e-300"], "productive_hours_per_year = 1e-300: Input should be greater"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    assert_cli_input_error(tmp_path, args, message)


_BOMB = "".join(f"{a}: &{a} [{', '.join([('*' + p) if p else 'x'] * 9)}]\n"
                for a, p in zip("abcdefg", ["", "a", "b", "c", "d", "e", "f"]))     # 9**7 values in 7 lines


@pytest.mark.parametrize("content,message", [
    (_BOMB.encode(), ":1:1: its anchors and aliases (&, *) expand to more than 100,000 values"),
    (b"municipality:\n  name: x\n  label: \xd0\xd0 bad\n", ": cannot be read: byte 34 is not UTF-8"),
    ("municipality: 1".encode("utf-16"), ": cannot be read: byte 1 is not UTF-8"),
    (None, "municipality.name = 'average': not this file's name; allowed: '{stem}'"),
])
def test_a_municipality_file_that_cannot_be_used_is_one_line_before_hydra_reads_it(tmp_path, content, message):
    """A profile whose aliases expand to millions of values (Hydra built them for minutes, in gigabytes, deaf to
    SIGTERM), that is not UTF-8 (the message named no file), or that names another municipality (the run was
    recorded under that name): one line with the file, exit 2, at once."""
    path = CONF_DIR / "municipality" / f"zz_test_{uuid.uuid4().hex[:8]}.yaml"
    path.write_bytes(content if content is not None else (CONF_DIR / "municipality" / "average.yaml").read_bytes())
    try:
        t0 = time.monotonic()
        assert_cli_input_error(tmp_path, [f"municipality={path.stem}", "compare=[]"],
                               f"error: conf/municipality/{path.name}" if content is not None else
                               message.format(stem=path.stem))
        assert message.format(stem=path.stem) in _last_error(tmp_path, path.stem)
        assert time.monotonic() - t0 < 60
    finally:
        path.unlink(missing_ok=True)


def _last_error(tmp_path, stem):
    proc = subprocess.run([sys.executable, "-m", "sim", f"municipality={stem}", "compare=[]",
                           f"output.dir={tmp_path / 'again'}"], capture_output=True, text=True, cwd=tmp_path)
    return proc.stderr


def test_a_scenario_whose_defaults_include_itself_is_one_line_naming_the_file(tmp_path):
    """The line named the whole command line, not the file (held-out audit); a loop over two files names both."""
    tag = uuid.uuid4().hex[:8]
    a, b = SCENARIO_DIR / f"zz_test_{tag}.yaml", SCENARIO_DIR / f"zz_test_{tag}_b.yaml"
    for path, other in ((a, a), (b, a)):
        path.write_text(f"# @package _global_\ndefaults:\n  - {other.stem}\nscenario_info:\n  {path.stem}:\n"
                        f"    description: t\n    sources: []\n    investment: {{one_off_dkk: 0, yearly_dkk: 0}}\n")
    try:
        assert_cli_input_error(tmp_path, [f"scenario={a.stem}", "compare=[]"],
                               f"error: scenarios/{a.name}: the defaults lists of the scenarios {a.stem} -> {a.stem} "
                               f"include each other in a loop; allowed: defaults that end")
        a.write_text(a.read_text().replace(f"  - {a.stem}\n", f"  - {b.stem}\n"))
        assert_cli_input_error(tmp_path, [f"compare=[{b.stem}]"],
                               f"error: scenarios/{b.name}: the defaults lists of the scenarios {b.stem} -> {a.stem} "
                               f"-> {b.stem} include each other in a loop")
    finally:
        a.unlink(missing_ok=True)
        b.unlink(missing_ok=True)


def test_a_broken_scenario_file_is_one_line_with_file_and_line(tmp_path):
    path = SCENARIO_DIR / f"zz_test_{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(f"# @package _global_\nscenario_info:\n  {path.stem}:\n    description: t\n    sources: []\n"
                    f"    investment: {{one_off_dkk: 0, yearly_dkk: 0}}\n    description: again\n")
    try:
        assert_cli_input_error(tmp_path, [f"compare=[{path.stem}]"],
                               f"error: scenarios/{path.name}:7:5: found duplicate key 'description' (first at line 4)")
    finally:
        path.unlink(missing_ok=True)


def test_a_broken_municipality_file_is_one_line_with_file_and_line(tmp_path):
    path = CONF_DIR / "municipality" / f"zz_test_{uuid.uuid4().hex[:8]}.yaml"
    path.write_text("# @package _global_\nmunicipality:\n  name: [average\n")
    try:
        assert_cli_input_error(tmp_path, [f"municipality={path.stem}"], f"error: conf/municipality/{path.name}:4:1: ")
    finally:
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- signals

from tests.procs import alive, children, cmdline, ignores_ctrl_c  # noqa: E402,F401



def start_run(tmp_path):
    """``python -m sim`` with a long run in its own process group; returns (process, output dir, its workers)
    once its two workers simulate (a Ctrl-C while a worker is still starting Python is not covered)."""
    out = tmp_path / "results"
    with open(tmp_path / "stdout.txt", "w") as stdout, open(tmp_path / "stderr.txt", "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "sim", *LONG_RUN, f"output.dir={out}"], cwd=tmp_path,
                                stdout=stdout, stderr=stderr, start_new_session=True)
    workers: list[int] = []
    started = time.time()
    while time.time() < started + 120 and proc.poll() is None:
        workers = [c for c in children(proc.pid) if "LokyProcess" in cmdline(c)]
        if len(workers) == 2 and (all(ignores_ctrl_c(w) for w in workers) or time.time() > started + 60):
            break
        time.sleep(0.2)
    assert len(workers) == 2, f"the run did not start its workers: {proc.poll()}"
    time.sleep(1.0)
    return proc, out, workers


def end_of(proc, workers: list[int], wait: float = 15) -> list[int]:
    """Wait for the run to end, then up to ``wait`` seconds for ``workers``; those still running (killed, so
    that a failing test leaves nothing behind)."""
    proc.wait(timeout=60)
    deadline = time.time() + wait
    while any(alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.2)
    left = [w for w in workers if alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    return left


pytestmark_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")


@pytestmark_linux
@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_or_sigterm_is_one_line_and_nothing_written(tmp_path, sig, code, word):
    proc, out, workers = start_run(tmp_path)
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)   # Ctrl-C reaches the whole group
    left = end_of(proc, workers)
    err = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == code, err
    assert err.strip() == f"{word}: nothing was written", err
    assert not out.exists() or not any(out.iterdir())
    assert not left


@pytestmark_linux
def test_workers_end_when_the_run_is_killed(tmp_path):
    proc, out, workers = start_run(tmp_path)
    others = [c for c in children(proc.pid) if c not in workers]
    proc.kill()                        # SIGKILL: the run cannot stop its workers itself
    left = end_of(proc, workers + others)
    assert not left, f"{len(left)} of its processes still ran 15 s after the run was killed"


def test_an_interrupted_sweep_names_the_runs_it_kept(tmp_path, monkeypatch, capsys):
    import sim.cli
    calls = []

    def summary_then_ctrl_c(res):
        calls.append(res.run_dir)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return "summary"

    monkeypatch.setattr(sim.cli, "summary_text", summary_then_ctrl_c)
    out = tmp_path / "results"
    code = sim.cli.main(["-m", "run.seed=1,2,3", "run.replications=2", "run.warmup_years=1", "run.horizon_years=1",
                         "compare=[]", "run.workers=1", "output.progress=false", "output.figures=false",
                         "output.report=false", f"output.dir={out}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130
    assert err[-1] == f"interrupted: kept {calls[0]}, {calls[1]}; nothing more was written", err
    assert all(d.is_dir() for d in calls)


# a DuckDB query of several seconds, which DuckDB stops when Ctrl-C arrives meanwhile (it polls for signals)
SLOW_QUERY = "SELECT count(*) FROM range(2000000000) t(x) WHERE x % 7 = 3"


def signal_soon(sig: int, after: float = 0.3) -> None:
    """Send ``sig`` to this process's main thread (where Python and DuckDB handle it) ``after`` seconds from now."""
    import threading
    main = threading.main_thread().ident
    threading.Timer(after, signal.pthread_kill, (main, sig)).start()


@pytestmark_linux
@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_while_the_catalog_is_updated_names_the_stored_run(tmp_path, monkeypatch, capsys, sig, code, word):
    """The signal reaches the command inside a DuckDB query, after the run folder was moved into place (the
    catalog's views are brought up to date then). DuckDB answers it with its own error ('Query interrupted'):
    still one line, the signal's exit code, and the run it kept named - not a traceback, and not a healthy
    catalog taken for a damaged one."""
    import sim.cli
    import sim.publish
    from sim import store

    def update_catalog_slowly(base):
        signal_soon(sig)
        store.query(SLOW_QUERY, base)          # the catalog's own DuckDB calls, as long as it takes

    monkeypatch.setattr(sim.publish, "ensure_catalog", update_catalog_slowly)
    out = tmp_path / "results"
    got = sim.cli.main(["run.replications=2", "run.warmup_years=1", "run.horizon_years=1", "compare=[]",
                        "run.workers=1", "output.progress=false", "output.figures=false", "output.report=false",
                        f"output.dir={out}"])
    err = capsys.readouterr().err.strip().splitlines()
    runs = [d for d in out.iterdir() if (d / "run.json").is_file()]
    assert got == code
    assert len(runs) == 1 and not list(out.glob(".staging-*"))
    assert err == [f"{word}: kept {runs[0]}; nothing more was written"], err


def test_a_duckdb_query_stopped_by_ctrl_c_is_a_keyboard_interrupt(tmp_path):
    """Whatever reads the catalog (query, the catalog's state, its rebuild) gives Ctrl-C back as Python does."""
    from sim import store
    signal_soon(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        store.query(SLOW_QUERY, tmp_path)
    assert store.interrupted(RuntimeError("Query interrupted"))
    assert not store.interrupted(RuntimeError("Catalog Error: table x does not exist"))
    with pytest.raises(KeyboardInterrupt):          # DuckDB's answer to Ctrl-C, as it comes out of a query
        with store._ctrl_c():
            raise RuntimeError("Query interrupted")
    with pytest.raises(RuntimeError, match="Catalog Error"):
        with store._ctrl_c():
            raise RuntimeError("Catalog Error: table x does not exist")


@pytestmark_linux
@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_or_sigterm_while_the_libraries_load_is_one_line(tmp_path, sig, code, word):
    """Ctrl-C or SIGTERM while pandas, SciPy and Hydra are still importing: one line, exit 130 or 143, no
    traceback (SIGTERM used to end the process silently there). The signal is sent once NumPy's compiled core is
    mapped into the process, i.e. inside the imports of sim.cli, whatever the speed of the machine."""
    proc = subprocess.Popen([sys.executable, "-m", "sim", "--list-scenarios"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if "_multiarray_umath" in open(f"/proc/{proc.pid}/maps").read():
                break
        except OSError:
            break
        time.sleep(0.005)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    if "foster_care" in out:            # the listing was printed before the interrupt: nothing to check
        pytest.skip("the command finished before the interrupt")
    assert proc.returncode == code, err
    assert err.strip() == f"{word}: nothing was written", err


@pytestmark_linux
def test_the_pools_workers_ignore_ctrl_c_from_their_first_instruction(tmp_path):
    """A Ctrl-C to the process group while a worker was still importing its libraries printed that worker's
    KeyboardInterrupt traceback beside the one line (CI of 1 December 2026, on a loaded machine): loky's fork_exec
    hands a worker an empty signal mask, so children_ignore_ctrl_c's block never reached it (multiprocessing's
    spawn, which starts a Dask LocalCluster's nannies, likewise). Inside the block both start a python with SIGINT
    ignored, and not outside it; every worker of the command's pool is seen ignoring SIGINT at its first sight."""
    import multiprocessing.util as mp_util
    from joblib.externals.loky.backend import fork_exec as module
    from sim.common.signals import SHELL, children_ignore_ctrl_c

    def ignoring(spawn) -> bool:
        """Whether a python started by ``spawn(cmd, fds)`` begins with SIGINT ignored."""
        r, w = os.pipe()
        cmd = [sys.executable, "-c", f"import os, signal; os.write({w}, "
                                     f"b'1' if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else b'0')"]
        pid = spawn(cmd, [w])
        os.close(w)
        os.waitpid(pid, 0)
        got = os.read(r, 10)
        os.close(r)
        return got == b"1"

    loky = lambda cmd, fds: module.fork_exec(cmd, fds)                        # noqa: E731
    mp = lambda cmd, fds: mp_util.spawnv_passfds(os.fsencode(cmd[0]), cmd, fds)  # noqa: E731 (a Dask nanny's start)
    assert not ignoring(loky) and not ignoring(mp)
    with children_ignore_ctrl_c():
        with children_ignore_ctrl_c():                                          # re-entrant
            pass
        assert ignoring(loky) and ignoring(mp)
    assert not ignoring(loky) and not ignoring(mp)                             # undone on leaving
    # the command's own pool: each worker, at its first sight, already ignores SIGINT
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run.replications=4", "run.warmup_years=1",
                             "run.horizon_years=1", "run.workers=2", "output.progress=false", "output.write=false",
                             f"output.dir={tmp_path / 'results'}"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen = {}
    while proc.poll() is None:
        for c in children(proc.pid):
            line = cmdline(c)
            # (the shell that starts it, before its exec, names the worker too: only python itself counts)
            if c not in seen and "LokyProcess" in line and not line.startswith(SHELL):
                seen[c] = ignores_ctrl_c(c)
        time.sleep(0.002)
    assert proc.wait() == 0, proc.stderr.read()
    assert len(seen) >= 2 and all(seen.values()), seen


@pytestmark_linux
@pytest.mark.parametrize("sig,code,word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")])
def test_a_signal_while_the_run_folder_is_written_ends_at_once(tmp_path, sig, code, word):
    """Ctrl-C (to the whole process group) or SIGTERM once the replications are done and the run folder is being
    written: one line, the signal's exit code, nothing half-written - and the command ends, although the idle
    workers of its pool would only end with it (it used to wait for them for good)."""
    out = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run.replications=4", "run.warmup_years=1",
                             "run.horizon_years=1", "run.workers=2", "output.progress=false", f"output.dir={out}"],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)                # output.dir appears when the folder is written (the check leaves none)
    assert proc.poll() is None, proc.communicate()[1]
    workers = [c for c in children(proc.pid) if "LokyProcess" in cmdline(c)]
    time.sleep(0.3)
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the command did not end within 30 s of the signal")
    lines = err.strip().splitlines()
    assert proc.returncode == code, err
    assert len(lines) == 1 and lines[0].startswith(f"{word}: "), err
    assert not list(out.glob(".staging-*"))
    # output.dir is made when the folder is written, and removed again if the write made it and keeps nothing
    kept = [d for d in out.iterdir() if (d / "run.json").is_file()] if out.exists() else []
    assert lines[0] == (f"{word}: kept {kept[0]}; nothing more was written" if kept else f"{word}: nothing was written")
    assert kept or not out.exists() or not any(out.iterdir())
    assert not end_of(proc, workers, wait=10)


# The end of a sitecustomize hook (its start defines _before_load(name), _wrap(f), MODULE and ATTRIBUTE): it
# calls _before_load for every module imported, and once MODULE has loaded, replaces its ATTRIBUTE by
# _wrap(ATTRIBUTE).
_WRAPPING_HOOK = """
class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        _before_load(name)
        if name != MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            setattr(module, ATTRIBUTE, _wrap(getattr(module, ATTRIBUTE)))
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _Hook())
"""


# A signal whose handler Python runs inside a callback whose exceptions it ignores (a weakref callback, a __del__)
# or wraps in another exception (__set_name__):
# the hook makes that happen while sim.cli loads (the handler of python -m sim's start), or as the run folder's
# tables are written (sim.cli.main's handler). In CI, SIGTERM came inside importlib's module-lock callback during
# a lazy import as the folder was written: "Exception ignored in ...", and the run went on to exit 0.
_SWALLOWED_SIGNAL = """
import importlib.abc, importlib.machinery, os, signal, sys, weakref
SIG = getattr(signal, os.environ["SIM_TEST_SIGNAL"])
WHEN, PLACE = os.environ["SIM_TEST_WHEN"], os.environ["SIM_TEST_PLACE"]

class _Dying:
    def __del__(self):
        if PLACE == "__del__":
            signal.raise_signal(SIG)

class _Named:
    def __set_name__(self, owner, name):
        signal.raise_signal(SIG)

def _swallow():
    open(os.environ["SIM_TEST_MARK"], "w").close()
    if PLACE == "__set_name__":
        class _Made:
            named = _Named()
        return
    dying = _Dying()
    if PLACE == "weakref callback":
        ref = weakref.ref(dying, lambda r: signal.raise_signal(SIG))
    del dying

def _before_load(name):
    if WHEN == "imports" and name == "sim.cli":
        _swallow()

def _wrap(write):
    def swallow_then_write(*args, **kwargs):
        _swallow()
        return write(*args, **kwargs)
    return swallow_then_write

MODULE, ATTRIBUTE = ("sim.publish", "_write_tables") if WHEN == "writing" else (None, None)
""" + _WRAPPING_HOOK


@pytest.mark.parametrize("place", ["weakref callback", "__del__", "__set_name__"])
@pytest.mark.parametrize("when", ["imports", "writing"])
@pytest.mark.parametrize("sig,code,word", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_a_signal_python_swallows_or_wraps_still_ends_the_command(tmp_path, sig, code, word, when, place):
    """Ctrl-C or SIGTERM whose exception Python ignores, because its handler ran inside a weakref callback or a
    __del__, or wraps in another (Python 3.11: a RuntimeError from inside __set_name__, as a class is made while
    matplotlib loads), still ends the command at once: one line, the signal's exit code, nothing written - not
    "Exception ignored in ..." and the run going on to exit 0 (the CI failure of stop 21), nor a traceback and
    exit 1 (a stress run of this session)."""
    (tmp_path / "sitecustomize.py").write_text(_SWALLOWED_SIGNAL)
    mark = tmp_path / "swallowed"
    env = {**os.environ, "SIM_TEST_SIGNAL": sig, "SIM_TEST_WHEN": when, "SIM_TEST_PLACE": place,
           "SIM_TEST_MARK": str(mark),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", "run.replications=2", "run.warmup_years=1",
                           "run.horizon_years=1", "compare=[]", "run.workers=1", "output.progress=false",
                           f"output.dir={out}"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert mark.exists(), "the hook did not run"
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert proc.stderr.strip() == f"{word}: nothing was written", proc.stderr[-2000:]
    assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())


def test_an_ignored_exception_that_is_no_signal_still_reaches_the_previous_hook(monkeypatch):
    """The hook that sends a swallowed signal again passes every other ignored exception on to the hook it
    replaced (pytest's, a notebook's), and is undone on leaving; nothing is sent for them."""
    from sim.common.signals import signals_never_swallowed
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(type(u.exc_value)))
    previous = sys.unraisablehook

    class Broken:
        def __del__(self):
            raise ValueError("in __del__")

    with signals_never_swallowed() as swallowed:
        Broken()
    assert seen == [ValueError]
    assert swallowed.signals == [] and swallowed.closed
    assert sys.unraisablehook is previous


# A KeyboardInterrupt that passes through code run by exec/eval of a string (namedtuple, dataclasses and SciPy's
# distributions build code that way while they load) makes CPython end `python -m` by re-raising SIGINT, exit -2,
# whatever exit code the program returned. This hook raises Ctrl-C exactly there: while sim.cli loads, or from
# inside the command once it runs.
_EXEC_INTERRUPT = """
import importlib.abc, importlib.machinery, os, sys
WHEN = os.environ["SIM_TEST_INTERRUPT"]

def _interrupt(*args, **kwargs):
    exec("raise KeyboardInterrupt")

class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "sim.cli":
            return None
        if WHEN == "import":
            _interrupt()
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            module.available_scenarios = _interrupt
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, _Hook())
"""


# A signal in the instant after the command's own handling has ended (its main has returned): the hook sends
# it to the process right after sim.cli.main returns.
_SIGNAL_AFTER_MAIN = """
import importlib.abc, importlib.machinery, os, signal, sys
SIG = getattr(signal, os.environ["SIM_TEST_SIGNAL"])

def _before_load(name):
    pass

def _wrap(main):
    def main_then_signal(*args, **kwargs):
        code = main(*args, **kwargs)
        signal.raise_signal(SIG)
        return code
    return main_then_signal

MODULE, ATTRIBUTE = "sim.cli", "main"
""" + _WRAPPING_HOOK


# A signal while the process ends, after the command's work (pools shutting down, the exit handlers: up to a
# second): the hook sends it from an exit handler registered when sim.cli loads.
_SIGNAL_AT_EXIT = """
import atexit, importlib.abc, importlib.machinery, os, signal, sys
SIG = getattr(signal, os.environ["SIM_TEST_SIGNAL"])

class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "sim.cli":
            return None
        atexit.register(lambda: signal.raise_signal(SIG))
        return None

sys.meta_path.insert(0, _Hook())
"""


@pytest.mark.parametrize("hook", ["after main", "at exit"])
@pytest.mark.parametrize("sig,code,word", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_a_signal_as_the_command_ends_is_one_line_naming_the_run(tmp_path, sig, code, word, hook):
    """Ctrl-C or SIGTERM as the command ends - right after its main returned, or while the finished command
    shuts its pools down and runs its exit handlers (a scheduler cancelling the job a moment before it ends):
    one line naming the run it kept and the signal's exit code - not a traceback with exit 0 or 1, a silent death
    by the signal, or (as at exit before) the signal ignored and exit 0 as if it had never come."""
    (tmp_path / "sitecustomize.py").write_text(_SIGNAL_AFTER_MAIN if hook == "after main" else _SIGNAL_AT_EXIT)
    env = {**os.environ, "SIM_TEST_SIGNAL": sig,
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", "run.replications=2", "run.warmup_years=1",
                           "run.horizon_years=1", "compare=[]", "output.report=false", "output.progress=false",
                           f"run.workers={1 if hook == 'after main' else 2}", f"output.dir={out}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    runs = [d for d in out.iterdir() if (d / "run.json").is_file()]
    assert proc.returncode == code, (proc.returncode, proc.stderr[-2000:])
    assert len(runs) == 1
    assert proc.stderr.strip() == f"{word}: kept {runs[0]}; nothing more was written", proc.stderr[-2000:]


ENTRY_POINTS = {"python -m sim": [sys.executable, "-m", "sim"],
                "staircase-sim": [str(Path(sys.executable).with_name("staircase-sim"))]}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("when", ["import", "run"])
def test_ctrl_c_inside_exec_still_exits_130(tmp_path, when, entry):
    (tmp_path / "sitecustomize.py").write_text(_EXEC_INTERRUPT)
    env = {**os.environ, "SIM_TEST_INTERRUPT": when,
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    proc = subprocess.run(ENTRY_POINTS[entry] + ["--list-scenarios"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130, (proc.returncode, proc.stderr[-2000:])
    assert proc.stderr.strip() == "interrupted: nothing was written", proc.stderr[-2000:]
    assert proc.stdout == ""


def test_the_resource_trackers_warning_after_a_stopped_pool_is_silenced_in_every_process_the_command_starts(
        monkeypatch):
    """After SIGTERM under a launcher, loky's resource tracker printed 'There appear to be 4 leaked semlock
    objects' (4 lines) after the command's one line; it cleans up all the same. The command sets PYTHONWARNINGS so
    that every process it starts, the trackers included, is quiet about it - and keeps the user's own filters."""
    from sim import __main__ as entry
    monkeypatch.setenv("PYTHONWARNINGS", "default::DeprecationWarning")
    entry._quiet_trackers()
    entry._quiet_trackers()
    assert os.environ["PYTHONWARNINGS"] == f"default::DeprecationWarning,{entry.QUIET_TRACKERS}"
    code = ("import warnings; warnings.warn('resource_tracker: There appear to be 4 leaked semlock objects to clean "
            "up at shutdown: {\"/loky-1-x\"}', UserWarning); warnings.warn('another', UserWarning)")
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert "leaked semlock" not in quiet.stderr and "another" in quiet.stderr      # only that warning is silenced
    monkeypatch.delenv("PYTHONWARNINGS")
    loud = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert "leaked semlock" in loud.stderr


@pytestmark_linux
def test_sigterm_while_a_launchers_jobs_run_is_one_line(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    out = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                             "run.seed=1,2,3,4", "run.replications=40", "run.workers=2", "compare=[]",
                             "output.figures=false", "output.report=false", "output.excel=false",
                             "output.progress=false", f"output.dir={out}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not list(out.glob("hydra/*/*/cli.log")) and time.monotonic() < deadline:   # a job has started
        time.sleep(0.2)
    time.sleep(3.0)                          # its own pool of 2 workers is simulating
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    lines = [x for x in err.splitlines() if x.strip() and "][INFO] - " not in x]
    assert proc.returncode == 143, err[-2000:]
    assert len(lines) == 1 and lines[0].startswith("terminated: "), err[-2000:]


# A worker that is still starting when Ctrl-C reaches the process group: it sleeps as if importing its libraries,
# then ignores Ctrl-C as the runner's and the figures' workers do, and reports.
_STARTING_WORKER = ("import signal, time; time.sleep(0.6); signal.signal(signal.SIGINT, signal.SIG_IGN); "
                    "from sim.common.signals import unblock_ctrl_c; unblock_ctrl_c(); time.sleep(0.2); print('ok')")


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_a_worker_still_starting_when_ctrl_c_comes_holds_it_instead_of_printing_a_traceback():
    """Processes started inside children_ignore_ctrl_c (the joblib workers, the drawing processes) hold a Ctrl-C
    that arrives while they start and drop it once they ignore it: no traceback of theirs after the command's one
    line. Without it, the same worker dies with a KeyboardInterrupt traceback."""
    from sim.common.signals import SHELL, children_ignore_ctrl_c
    root = Path(__file__).resolve().parents[2]
    with children_ignore_ctrl_c():
        held = subprocess.Popen([sys.executable, "-c", _STARTING_WORKER], cwd=root, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    bare = subprocess.Popen([sys.executable, "-c", _STARTING_WORKER], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    held.send_signal(signal.SIGINT)
    bare.send_signal(signal.SIGINT)
    out, err = held.communicate(timeout=60)
    assert (held.returncode, out.strip(), err) == (0, "ok", "")
    out, err = bare.communicate(timeout=60)
    assert bare.returncode != 0 and "KeyboardInterrupt" in err
    # this process's own handling is untouched: a Ctrl-C for it inside the block still interrupts it
    with pytest.raises(KeyboardInterrupt):
        with children_ignore_ctrl_c():
            signal.raise_signal(signal.SIGINT)
            time.sleep(1)
