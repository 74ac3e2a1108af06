"""The command line as a Hydra application (issue: runs that scale out to a cluster): a launcher plugin really
runs the sweep's jobs (here hydra-joblib-launcher, in separate processes), every job is validated before any
runs, each job stores an atomic run folder in the catalog, Hydra's flags work, and whatever the CLI cannot
honour is refused with one line and exit 2 - never silently ignored, never written to overrides.txt."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from sim.cli import hydra_problem, main, parse_argv
from sim.config import ConfigError
from sim.store import query

SMALL = ["run.replications=2", "run.warmup_years=1", "run.horizon_years=1", "compare=[]", "output.figures=false",
         "output.report=false", "output.excel=false"]


def _cli(args, tmp_path, env=None):
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", *args, f"output.dir={out}"], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    return proc, out


def _one_line_refusal(proc, out, message):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not out.exists()             # nothing ran, nothing written


def test_joblib_launcher_runs_the_sweep_in_separate_processes_into_the_catalog(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    proc, out = _cli(["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "run.seed=1,2", *SMALL], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout + proc.stderr
    assert "Joblib.Parallel(n_jobs=2" in text and "is launching 2 jobs" in text          # the launcher's own log
    runs = query("SELECT run_id, seed, sweep_id, overrides FROM runs ORDER BY seed", out)
    assert list(runs.seed) == [1, 2] and runs.sweep_id.nunique() == 1 and runs.sweep_id.notna().all()
    assert all("hydra" not in o for o in runs.overrides)
    for run_id in runs.run_id:                           # Hydra's overrides never reach the run's files
        assert "hydra" not in (out / run_id / "overrides.txt").read_text()
    sweep_id = runs.sweep_id.iloc[0]
    hydra_dir = out / "hydra" / sweep_id                 # Hydra's folder under output.dir, not the working directory
    jobs = [json.loads(p.read_text()) for p in sorted(hydra_dir.glob("job-*.json"))]
    assert [j["code"] for j in jobs] == [0, 0] and {j["run_id"] for j in jobs} == set(runs.run_id)
    pids = {j["pid"] for j in jobs}
    assert len(pids) == 2                                # two worker processes
    for j in jobs:
        assert (Path(j["output_dir"]) / ".hydra" / "overrides.yaml").exists()
        assert f"in process {j['pid']}" in (Path(j["output_dir"]) / "cli.log").read_text()
    assert query("SELECT count(*) AS n FROM sweeps", out).n.iloc[0] == 1           # the sweep's summary too
    assert (out / "sweeps" / sweep_id / "summary.txt").exists()
    assert not (tmp_path / "outputs").exists() and not (tmp_path / "multirun").exists()


def test_hydra_run_dir_is_honoured_for_a_single_run(tmp_path):
    where = tmp_path / "hydra_here"
    proc, out = _cli([f"hydra.run.dir={where}", *SMALL], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (where / ".hydra" / "config.yaml").exists()
    assert query("SELECT count(*) AS n FROM runs", out).n.iloc[0] == 1


def test_an_invalid_job_among_several_stops_everything_before_any_runs(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    proc, out = _cli(["-m", "hydra/launcher=joblib", "run.seed=1,x", *SMALL], tmp_path)
    _one_line_refusal(proc, out, "error: run.seed = 'x': ")


def test_cfg_job_prints_the_composed_job_config(tmp_path):
    proc, out = _cli(["--cfg", "job", "run.seed=7", "municipality=kolding"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "seed: 7" in proc.stdout and "municipality:" in proc.stdout and "hydra:" not in proc.stdout
    proc, _ = _cli(["--cfg", "hydra", "--package", "hydra.run", "run.seed=7"], tmp_path)
    assert proc.returncode == 0 and "# @package hydra.run" in proc.stdout and str(out / "hydra") in proc.stdout
    proc, _ = _cli(["-m", "--cfg=job", "--package=run", "run.seed=3,4"], tmp_path)      # one per job
    assert proc.returncode == 0 and "seed: 3" in proc.stdout and "seed: 4" in proc.stdout
    assert not out.exists()


def test_info_and_shell_completion_are_hydras(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sim", "--info"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and "Config search path" in proc.stdout and "Defaults List" in proc.stdout
    # --info with overrides after it (Hydra's parser took the override for what to show: 9 lines of usage)
    proc = subprocess.run([sys.executable, "-m", "sim", "--info", "run.seed=3", "municipality=kolding"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0 and "Defaults List" in proc.stdout and "seed: 3" in proc.stdout, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "sim", "-sc", "install=bash"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0 and "hydra_bash_completion" in proc.stdout
    env = {**os.environ, "COMP_LINE": "staircase-sim municipality=", "COMP_POINT": "27"}
    proc = subprocess.run([sys.executable, "-m", "sim", "-sc", "query=bash"], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 0 and "municipality=kolding" in proc.stdout


@pytest.mark.parametrize("args,message", [
    (["hydra/launcher=joblib", "run.seed=1"], "error: hydra/launcher=joblib: not honoured without -m"),
    (["hydra.sweep.dir=x"], "error: hydra.sweep.dir=x: not honoured without -m"),
    (["-m", "hydra.run.dir=x", "run.seed=1,2"], "error: hydra.run.dir=x: not honoured with -m"),
    (["-m", "hydra/sweeper=ax", "run.seed=1,2"], "error: hydra/sweeper=ax: not honoured by this CLI"),
    # Hydra answers one of -m, --cfg, --info, --shell-completion (it raised a ValueError: a 21-line traceback)
    (["--info", "-m", "run.seed=1,2"], "error: --info and -m: Hydra takes one of -m, --cfg, --info and "
                                       "--shell-completion at a time"),
    (["--cfg", "job", "--info"], "error: --info and --cfg job: Hydra takes one of"),
    (["--cfg", "job", "-sc", "install=bash"], "error: --shell-completion and --cfg job: Hydra takes one of"),
    (["--info", "--calibrate"], "error: --info and --calibrate: Hydra takes one of"),
    (["--info", "-i"], "error: --info and --info: Hydra answers one of them at a time"),
    (["--sensitivity", "hydra/launcher=joblib"], "error: hydra/launcher=joblib: not honoured with --sensitivity"),
    (["-m", "profiles", "f.csv"], "error: profiles: a command of its own, given first: python -m sim profiles"),
    (["--cfg", "job", "--package", "nonexistent.pkg"], "error: --package nonexistent.pkg: not in the job's "
                                                       "configuration; allowed: one of staircase,"),
    (["--info", "bogus"], "error: --info bogus: --info takes all, config, defaults, defaults-tree, plugins, "
                          "searchpath or nothing (all)"),
    (["--info=bogus"], "error: --info bogus: --info takes all, config"),
    # the joblib launcher's worker count and types (0 and 10^6 gave tracebacks; 'abc' Hydra's 'Error merging')
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=0", "run.seed=1,2"],
     "error: hydra.launcher.n_jobs=0: allowed: a whole number of jobs at a time from 1 to"),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=1000000", "run.seed=1,2"],
     "error: hydra.launcher.n_jobs=1000000: allowed: a whole number of jobs at a time from 1 to"),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=abc", "run.seed=1,2"],
     "error: hydra.launcher.n_jobs=abc: allowed: a whole number of jobs at a time"),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.timeout=abc", "run.seed=1,2"],
     "error: hydra.launcher.timeout=abc: allowed: a number"),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.verbose=x", "run.seed=1,2"],
     "error: hydra.launcher.verbose=x: allowed: a whole number"),
    # a LocalCluster per job cannot start in the joblib launcher's workers (every job failed, 95 lines each)
    (["-m", "hydra/launcher=joblib", "run.backend=dask", "run.seed=1,2"],
     "error: run.backend = 'dask' without run.dask_scheduler under hydra/launcher=joblib: every job would start"),
    (["-m", "hydra.launcher.n_jobs=1,2"], "a sweep over Hydra's own configuration is not honoured"),
    (["hydra.mode=MULTIRUN"], "error: hydra.mode=MULTIRUN: not honoured by this CLI"),
    (["hydra.searchpath=[file://x]"], "not honoured by this CLI"),
    (["hydra.foo=1"], "error: hydra.foo=1: not honoured by this CLI"),
    (["-m", "hydra/launcher=submitit_slurm", "hydra.launcher.partition=foo", "run.seed=1,2"],
     "error: hydra/launcher = 'submitit_slurm': unknown option; available: basic"),
    (["-m", "hydra/launcher=basic", "hydra.launcher.nope=1", "run.seed=1,2"],
     "error: hydra.launcher.nope=1: unknown key of Hydra's configuration"),
    (["--calibrate", "hydra.run.dir=x"], "error: hydra.run.dir=x: not honoured with --calibrate"),
    (["--sensitivity", "hydra.run.dir=x"], "error: hydra.run.dir=x: not honoured with --sensitivity"),
    (["--cfg", "hydra.run.dir=x"], "error: hydra.run.dir=x: not honoured with --cfg"),
    (["--cfg", "job", "--uncertainty"], "error: --cfg job: not honoured with --uncertainty"),
    (["--cfg=foo"], "error: --cfg=foo: --cfg takes job, hydra or all"),
    (["--package", "run"], "error: --package run: not honoured without --cfg"),
    (["--resolve"], "error: --resolve: not honoured without --cfg"),
    (["--config-path", "x"], "error: --config-path: not honoured by this CLI"),
    (["-cp", "x"], "error: -cp: not honoured by this CLI"),
    (["--config-name", "x"], "error: --config-name: not honoured by this CLI"),
    (["-cn", "x"], "error: -cn: not honoured by this CLI"),
    (["--config-dir", "x"], "error: --config-dir: not honoured by this CLI"),
    (["-cd", "x"], "error: -cd: not honoured by this CLI"),
    (["--experimental-rerun", "x"], "error: --experimental-rerun: not honoured by this CLI"),
    (["--run"], "error: --run: not honoured by this CLI"),
    (["-r"], "error: -r: not honoured by this CLI"),
    (["--info", "-cn", "x"], "error: -cn: not honoured by this CLI"),
    (["--nope"], "error: unknown option '--nope'"),
    # Hydra's help takes no overrides (Hydra composed the simulation's configuration for it and failed)
    (["--hydra-help", "run.seed=3"], "error: --hydra-help: prints Hydra's own help and takes nothing else; drop "
                                     "run.seed=3"),
    (["--hydra-help", "-m", "municipality=kolding,average"], "error: --hydra-help: prints Hydra's own help and "
                                                             "takes nothing else; drop municipality=kolding,average"),
    # keys the joblib launcher does not honour (it always uses loky processes)
    (["-m", "hydra/launcher=joblib", "hydra.launcher.backend=threading", "run.seed=1,2"],
     "error: hydra.launcher.backend=threading: not honoured (the joblib launcher always runs its jobs in loky "
     "processes)"),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.backend=multiprocessing", "run.seed=1,2"],
     "error: hydra.launcher.backend=multiprocessing: not honoured"),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.prefer=threads", "run.seed=1,2"],
     "error: hydra.launcher.prefer=threads: not honoured"),
    (["-m", "hydra/launcher=joblib", "hydra.launcher.require=sharedmem", "run.seed=1,2"],
     "error: hydra.launcher.require=sharedmem: not honoured"),
    # Hydra's folders are checked before anything runs (Hydra failed with a traceback when it made them)
    (["-m", "hydra/launcher=joblib", "hydra.sweep.dir=/proc/forbidden/x", "run.seed=1,2"],
     "error: hydra.sweep.dir = '/proc/forbidden/x': cannot be written"),
    (["hydra.run.dir=/proc/forbidden/x"], "error: hydra.run.dir = '/proc/forbidden/x': cannot be written"),
    (["hydra.run.dir=/dev/null"], "error: hydra.run.dir = '/dev/null': not a folder"),
])
def test_what_cannot_be_honoured_is_refused_with_one_line(tmp_path, capsys, args, message):
    out = tmp_path / "results"
    code = main([*args, "compare=[]", f"output.dir={out}"])           # in this process: one import for all cases
    err = capsys.readouterr().err
    _one_line_refusal(SimpleNamespace(returncode=code, stderr=err, stdout=""), out, message)


def test_a_launcher_without_m_is_refused_by_the_command_itself(tmp_path):
    proc, out = _cli(["hydra/launcher=joblib", "run.seed=1"], tmp_path)
    _one_line_refusal(proc, out, "error: hydra/launcher=joblib: not honoured without -m")


def test_parse_argv_keeps_hydra_overrides_apart():
    a = parse_argv(["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "run.seed=1,2", "+hydra.job.name=x"])
    assert a.multirun and a.via_hydra
    assert a.overrides == ["run.seed=1,2"]
    assert a.hydra_overrides == ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "+hydra.job.name=x"]
    plain = parse_argv(["--cfg", "scenario=full_shift"])
    assert plain.show_cfg and plain.hydra_cfg is None and not plain.via_hydra
    assert parse_argv(["--cfg", "all", "--resolve"]).hydra_cfg == "all"
    assert parse_argv(["--info", "plugins"]).hydra_only
    assert hydra_problem("hydra.job.chdir=true", multirun=True) is None
    assert hydra_problem("hydra/launcher=joblib", multirun=True) is None
    with pytest.raises(ConfigError):
        parse_argv(["--cfg", "--cfg"])


def test_hydra_overrides_outside_the_command_lines_runs_are_refused_not_dropped(tmp_path, capsys):
    import sim

    with pytest.raises(ConfigError, match="Hydra's own configuration, not the simulation's"):
        sim.plan(["hydra/launcher=joblib"])          # the compose API would take it and drop it
    out = tmp_path / "results"
    assert main(["catalog", "rebuild", "hydra.run.dir=x", f"output.dir={out}"]) == 2
    assert "hydra.run.dir=x: Hydra's own configuration" in capsys.readouterr().err


def test_launcher_keys_that_match_what_the_joblib_launcher_does_are_accepted():
    for o in ("hydra.launcher.backend=loky", "hydra.launcher.prefer=processes", "hydra.launcher.require=null",
              "~hydra.launcher.backend", "hydra.launcher.n_jobs=2"):
        assert hydra_problem(o, multirun=True) is None, o


def test_a_hydra_folder_that_can_be_made_is_accepted_and_the_check_leaves_nothing(tmp_path):
    from sim.cli import check_hydra_dirs
    target = tmp_path / "a" / "b" / "c"
    check_hydra_dirs([f"hydra.run.dir={target}", f"hydra.sweep.dir='{tmp_path}'", "hydra.sweep.dir=${now:%Y}"])
    assert list(tmp_path.iterdir()) == []            # the folders it tried were removed again
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        check_hydra_dirs([f"hydra.sweep.dir={tmp_path / 'file'}"])
    with pytest.raises(ConfigError, match="cannot be written"):
        check_hydra_dirs([f"hydra.sweep.dir={tmp_path / 'file' / 'below'}"])


@pytest.mark.parametrize("multirun", [True, False])
def test_a_dask_scheduler_out_of_reach_is_one_line_before_hydra_launches_anything(tmp_path, capsys, multirun):
    """Under a launcher the jobs connect in their own processes: a scheduler that does not answer gave a 21-line
    Hydra traceback, exit 1, and left output.dir/hydra/<sweep>/ behind. It is checked before Hydra runs."""
    out = tmp_path / "results"
    args = (["-m", "hydra/launcher=joblib", "run.seed=1,2"] if multirun else ["hydra.run.dir=" + str(tmp_path / "h")])
    code = main([*args, "run.backend=dask", "run.dask_scheduler=tcp://127.0.0.1:1", *SMALL, f"output.dir={out}"])
    err = capsys.readouterr().err
    _one_line_refusal(SimpleNamespace(returncode=code, stderr=err, stdout=""), out,
                      "error: run.dask_scheduler = 'tcp://127.0.0.1:1': cannot connect")
    assert not (tmp_path / "h").exists()


def test_a_key_given_twice_expands_as_hydras_sweeper_does_the_last_wins(tmp_path):
    """-m run.seed=1,2 run.seed=3 was two jobs (both seed 3) here and one under a launcher, which then reported
    '1 of 2 jobs did not finish'. The expansion is now Hydra's basic sweeper's: a key's last value(s) win, in the
    place of its first - checked against the sweeper itself."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from sim.cli import expand_sweeps
    parser = OverridesParser.create()
    for overrides in (["run.seed=1,2", "run.seed=3"], ["run.seed=3", "run.seed=1,2"],
                      ["run.seed=1,2", "run.replications=2,3", "run.seed=5", "run.replications=4"],
                      ["run.replications=2", "municipality=kolding,average", "run.replications=2,0"],
                      ["run.workers=1", "run.seed=range(1,3)", "run.workers=2"]):
        hydras = BasicSweeper.split_arguments(parser.parse_overrides(overrides), None)[0]
        assert expand_sweeps(overrides) == hydras, overrides
    assert expand_sweeps(["run.seed=1,2", "run.seed=3"]) == [["run.seed=3"]]
    proc, out = _cli(["-m", "run.seed=1,2", "run.seed=3", *SMALL], tmp_path)      # one job, not a sweep of two
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list(query("SELECT seed FROM runs", out).seed) == [3]


def test_a_launcher_that_is_not_installed_names_its_plugin_never_a_package_made_from_a_typo(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["-m", "hydra/launcher=nonsense", "run.seed=1,2", "compare=[]", f"output.dir={out}"]) == 2
    err = capsys.readouterr().err
    assert "error: hydra/launcher = 'nonsense': unknown option; available: basic" in err
    assert "hydra-nonsense-launcher" not in err and "submitit_slurm from hydra-submitit-launcher" in err
    assert main(["-m", "hydra/launcher=submitit_slurm", "run.seed=1,2", "compare=[]", f"output.dir={out}"]) == 2
    assert "pip install hydra-submitit-launcher" in capsys.readouterr().err
    assert not out.exists()


def test_hydras_basic_sweeper_is_the_one_the_cli_expands_like_and_is_accepted():
    assert hydra_problem("hydra/sweeper=basic", True) is None
    assert "not honoured by this CLI" in hydra_problem("hydra/sweeper=optuna", True)


def test_every_job_of_an_in_process_sweep_logs_to_cli_log(tmp_path):
    """The basic launcher runs the jobs in this process; validating a job with the compose API renamed Hydra's job
    'app', so every job after the first logged to app.log."""
    with_figures = [o for o in SMALL if o != "output.figures=false"]
    proc, out = _cli(["-m", "hydra/launcher=basic", "run.seed=1,2,3", *with_figures], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    logs = sorted(p.relative_to(out / "hydra").as_posix().split("/", 1)[1] for p in (out / "hydra").rglob("*.log"))
    assert logs == ["0/cli.log", "1/cli.log", "2/cli.log"], logs
    # and the jobs' INFO logging carries no library chatter (matplotlib's 'Using categorical units ...')
    assert "matplotlib" not in proc.stdout + proc.stderr
    assert not [p for p in (out / "hydra").rglob("cli.log") if "matplotlib" in p.read_text()]


def test_hydras_help_names_a_command_that_runs(tmp_path):
    """Under python -m, Hydra named sim/__main__.py, which cannot run as a script (ImportError); the console
    script does, and tab completion needs it (README)."""
    proc = subprocess.run([sys.executable, "-m", "sim", "--hydra-help"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert 'eval "$(staircase-sim -sc install=bash)"' in proc.stdout and "__main__.py" not in proc.stdout


def test_an_error_the_launcher_raises_is_one_line_with_what_the_jobs_left(monkeypatch, capsys):
    """A job's process killed from outside (the OOM killer): joblib raises TerminatedWorkerError in this process,
    which Hydra printed as a 37-line traceback. Now one line, exit 1, naming the runs kept and the jobs to rerun;
    Hydra's HYDRA_FULL_ERROR is as it was."""
    import sim.cli as cli

    class TerminatedWorkerError(Exception):
        pass

    def killed():
        raise TerminatedWorkerError("A worker process managed by the executor was unexpectedly terminated. This "
                                    "could be caused by a segmentation fault.\n\nThe exit codes of the workers are "
                                    "{SIGKILL(-9)}\nDetailed tracebacks of the workers should have been printed")
    monkeypatch.setattr(cli, "hydra_app", killed)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    assert cli.run_hydra(["-m", "run.seed=1,2"], account=lambda: "1 of 2 job(s) finished; not finished: run.seed=2") == 1
    err = capsys.readouterr().err
    err = err.lstrip("\n")                  # (a line of its own after a progress bar the failure cut off)
    assert err.count("\n") == 1 and err.startswith("error: TerminatedWorkerError: a job's process was ended from "
                                                    "outside (exit {SIGKILL(-9)}, e.g. killed when the machine ran "
                                                    "out of memory)")
    assert err.rstrip().endswith("1 of 2 job(s) finished; not finished: run.seed=2")
    assert "HYDRA_FULL_ERROR" not in os.environ


def test_a_job_killed_under_the_joblib_launcher_is_one_line_naming_the_jobs_to_rerun(tmp_path):
    """The real thing: SIGKILL to one job's worker process while it runs (as the OOM killer would send)."""
    import re
    import signal
    import time
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    out = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                             "run.seed=1,2", "run.replications=6", "run.warmup_years=2", "run.horizon_years=2",
                             "run.workers=1", "compare=[]", "output.figures=false", f"output.dir={out}"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid, deadline = None, time.monotonic() + 120
    while pid is None and time.monotonic() < deadline and proc.poll() is None:
        for log in out.glob("hydra/*/1/cli.log"):
            found = re.search(r"job 1 in process (\d+)", log.read_text())
            pid = int(found.group(1)) if found else None
        time.sleep(0.1)
    assert pid is not None, "job 1 did not start"
    os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err[-2000:]
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err[-3000:]
    assert "a job's process was ended from outside (exit {SIGKILL(-9)}" in lines[0]
    assert "not finished: run.seed=2" in lines[0] or "not finished: run.seed=1 | run.seed=2" in lines[0], lines[0]
