"""The catalog as views over the run folders: concurrent runs and sweeps into one output.dir, damaged and
locked catalog files, `python -m sim catalog rebuild` (also for folders of earlier versions), the pre-flight
check of output.dir and abandoned staging folders."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import sim
from sim import store
from sim.analyses import calibrate, sensitivity, sweep, uncertainty
from sim.metrics.payback import headroom, payback
from sim.store import CATALOG, query

SMALL = ["run.replications=2", "run.warmup_years=1", "run.horizon_years=1", "compare=[]", "output.figures=false",
         "output.report=false", "output.progress=false", "run.workers=1"]


def _cmd(args):
    return [sys.executable, "-m", "sim", *args]


def _cli(args, cwd):
    return subprocess.run(_cmd(args), capture_output=True, text=True, cwd=cwd, timeout=600)


def _simulate(out, *extra):
    return sim.simulate(SMALL + [f"output.dir={out}", *extra])


def _folders(out):
    return sorted(p.name for p in out.glob("[0-9]*") if p.is_dir())


def _file_catalog(out, sql):
    """The answer of results.duckdb itself (the views a DuckDB or SQL tool sees), not of query()."""
    con = duckdb.connect(str(out / CATALOG), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _transients(out):
    return [p for p in out.rglob(".*") if p.name.startswith((store.STAGING, store.LOCK))]


# ------------------------------------------------------------------ concurrency

def test_six_concurrent_runs_into_one_output_dir_all_register(tmp_path):
    out = tmp_path / "results"
    procs = [subprocess.Popen(_cmd(SMALL + [f"run.seed={seed}", f"output.dir={out}"]), cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in range(1, 7)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    folders = _folders(out)
    assert len(folders) == 6
    assert query("SELECT count(*) AS n FROM runs", out)["n"][0] == 6
    runs = query("SELECT run_id, seed FROM runs ORDER BY seed", out)
    assert sorted(runs.run_id) == folders and runs.seed.tolist() == [1, 2, 3, 4, 5, 6]
    for table in ("kpis", "timeseries", "summary", "budget"):
        assert sorted(query(f"SELECT DISTINCT run_id FROM {table}", out).run_id) == folders, table
    # every run's own numbers, none lost or mixed up
    for run_id in folders:
        n = len(pd.read_parquet(out / run_id / "kpis.parquet"))
        assert query(f"SELECT count(*) AS n FROM kpis WHERE run_id = '{run_id}'", out)["n"][0] == n > 0
    assert store.catalog_state(out) == "ok"
    assert _file_catalog(out, "SELECT count(*) AS n FROM runs")["n"][0] == 6
    assert _transients(out) == []


def test_concurrent_sweeps_into_one_output_dir_all_register(tmp_path):
    out = tmp_path / "results"
    procs = [subprocess.Popen(_cmd(["-m", *SMALL, f"run.seed={a},{b}", f"output.dir={out}"]), cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for a, b in ((11, 12), (21, 22))]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    sweeps = query("SELECT * FROM sweeps ORDER BY sweep_id", out)
    runs = query("SELECT run_id, seed, sweep_id FROM runs", out)
    assert len(sweeps) == 2 and len(runs) == 4 and sorted(runs.seed) == [11, 12, 21, 22]
    for s in sweeps.itertuples():
        mine = runs[runs.sweep_id == s.sweep_id]
        assert sorted(s.run_ids.split(",")) == sorted(mine.run_id) and s.n_jobs == 2
        assert s.sweep_dir == str(out / "sweeps" / s.sweep_id) and s.swept_keys == "run.seed"
    assert _transients(out) == []


def test_a_run_is_stored_while_another_program_holds_the_catalog_file(tmp_path):
    out = tmp_path / "results"
    first = _simulate(out)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               f"con = duckdb.connect({str(out / CATALOG)!r})\nprint('ready', flush=True)\n"
                               "time.sleep(300)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert store.catalog_state(out) == "busy"
        proc = _cli(SMALL + [f"output.dir={out}"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        assert len(query("SELECT run_id FROM runs", out)) == 2
        # the catalog can even be rebuilt meanwhile (a new file is moved into place)
        assert _cli(["catalog", "rebuild", f"output.dir={out}"], tmp_path).returncode == 0
    finally:
        holder.kill()
        holder.wait()
    assert store.catalog_state(out) == "ok"
    assert set(_file_catalog(out, "SELECT run_id FROM runs").run_id) == set(_folders(out)) \
        and first.run_id in _folders(out)


# ------------------------------------------------------------------ damaged catalogs and rebuild

def test_another_programs_duckdb_file_with_a_runs_table_is_not_taken_for_a_version_1_catalog(tmp_path):
    """Only a runs table with version 1's columns is a catalog of version 1; another program's file is set aside as
    not a catalog (and kept), never read as one."""
    out = tmp_path / "results"
    _simulate(out)
    (out / CATALOG).unlink()
    con = duckdb.connect(str(out / CATALOG))
    con.execute("CREATE TABLE runs (athlete VARCHAR, km DOUBLE)")
    con.execute("INSERT INTO runs VALUES ('x', 5.0)")
    con.close()
    assert store.catalog_state(out) == "corrupt"
    proc = _cli(SMALL + [f"output.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"the catalog {out / CATALOG} was unreadable or not a catalog of this tool; rebuilt" in proc.stderr
    (aside,) = out.glob(f"{CATALOG}.corrupt-*")
    kept = duckdb.connect(str(aside), read_only=True)
    assert kept.execute("SELECT * FROM runs").fetchall() == [("x", 5.0)]        # kept as it was
    kept.close()
    assert store.catalog_state(out) == "ok" and len(query("SELECT * FROM runs", out)) == 2


@pytest.mark.parametrize("content", [b"", b"\x00garbage\xff" * 500], ids=["empty", "garbage"])
def test_a_damaged_catalog_never_fails_a_run_and_is_rebuilt_before_the_next(tmp_path, content):
    out = tmp_path / "results"
    _simulate(out)
    (out / CATALOG).write_bytes(content)
    _simulate(out)                                # the API checks output.dir first: it repairs the catalog too
    (aside,) = out.glob(f"{CATALOG}.corrupt-*")
    assert aside.read_bytes() == content          # moved aside, never deleted
    assert store.catalog_state(out) == "ok" and len(query("SELECT * FROM runs", out)) == 2
    aside.unlink()
    (out / CATALOG).write_bytes(content)          # damaged again: the CLI says so in one line
    proc = _cli(SMALL + [f"output.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"note: the catalog {out / CATALOG} was unreadable or not a catalog of this tool; rebuilt it from the folders: 2 runs"), proc.stderr
    (aside,) = out.glob(f"{CATALOG}.corrupt-*")
    assert aside.read_bytes() == content          # moved aside, never deleted
    assert store.catalog_state(out) == "ok"
    assert sorted(_file_catalog(out, "SELECT run_id FROM runs").run_id) == _folders(out)
    assert len(_folders(out)) == 3


def test_catalog_rebuild_lists_every_run_and_the_finance_tables(tmp_path):
    out = tmp_path / "results"
    compared = _simulate(out, "compare=[lower_caseload]")
    single = _simulate(out)
    (out / CATALOG).unlink()
    proc = _cli(["catalog", "rebuild", f"output.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"catalog {out / CATALOG}: 2 runs, 0 sweeps")
    assert store.catalog_state(out) == "ok"
    both = {compared.run_id, single.run_id}
    assert set(_file_catalog(out, "SELECT run_id FROM runs").run_id) == both
    expect = {"budget": (both, len(compared.budget()) + len(single.budget())),
              "budget_difference": ({compared.run_id}, len(compared.budget_difference())),
              "payback": ({compared.run_id}, len(payback(compared))),
              "headroom": ({compared.run_id}, len(headroom(compared)))}
    for table, (ids, n) in expect.items():
        df = _file_catalog(out, f"SELECT * FROM {table}")
        assert set(df.run_id) == ids and len(df) == n > 0, table
        assert list(df.columns) == [c for c, _ in store.columns(table)], table
    # every table a run writes has exactly the catalog's columns (a new column would be lost silently)
    for table in store.RUN_TABLES:
        if table in store.CONDITIONAL_TABLES:       # only runs from a caseload / with a budget: test_caseload.py
            assert not (out / compared.run_id / f"{table}.parquet").exists()
            continue
        assert list(pd.read_parquet(out / compared.run_id / f"{table}.parquet").columns) == \
            [c for c, _ in store.columns(table)], table
    # a damaged file is moved aside by the rebuild too
    (out / CATALOG).write_bytes(b"not a database")
    proc = _cli(["catalog", "rebuild", f"output.dir={out}"], tmp_path)
    assert proc.returncode == 0 and "the unreadable (or foreign) file was moved to results.duckdb.corrupt-" in proc.stdout
    assert len(list(out.glob(f"{CATALOG}.corrupt-*"))) == 1 and store.catalog_state(out) == "ok"


@pytest.mark.parametrize("damage", ["run.json garbage", "run.json a list", "kpis.parquet truncated"])
def test_an_unreadable_run_folder_is_named_and_set_aside_by_the_rebuild(tmp_path, damage):
    """One run folder whose files cannot be read (a disk error, an edit by hand) fails every query of its table:
    the query says which folder and what to do; `catalog rebuild` moves it to damaged/ (nothing deleted) and
    names it; every other run stays in the catalog."""
    out = tmp_path / "results"
    good, bad = _simulate(out, "run.seed=1").run_dir, _simulate(out, "run.seed=2").run_dir
    name, how = damage.split(" ", 1)
    f = bad / name
    if how == "garbage":
        f.write_text("x{")
    elif how == "a list":
        f.write_text("[1, 2]")
    else:
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    table = "runs" if name == "run.json" else "kpis"
    with pytest.raises(store.DamagedFolder) as err:
        query(f"SELECT count(*) FROM {table}", out)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{bad}/{name}: ") and "catalog rebuild" in msg, msg
    proc = _cli(["catalog", "rebuild", f"output.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"unreadable folder(s) moved to damaged/ ({bad.name}: {name}: " in proc.stdout, proc.stdout
    assert not bad.exists() and (out / "damaged" / bad.name / name).is_file()      # moved, not deleted
    assert query("SELECT run_id FROM runs", out).run_id.tolist() == [good.name]
    assert query("SELECT DISTINCT run_id FROM kpis", out).run_id.tolist() == [good.name]
    assert _simulate(out, "run.seed=3").run_dir is not None and len(query("SELECT * FROM runs", out)) == 2


def test_a_run_folder_without_its_kpis_is_named_and_set_aside_by_the_rebuild(tmp_path):
    """A run whose kpis.parquet is gone was listed among the runs with no KPIs, and nothing said so."""
    out = tmp_path / "results"
    good, bad = _simulate(out, "run.seed=1").run_dir, _simulate(out, "run.seed=2").run_dir
    (bad / "kpis.parquet").unlink()
    proc = _cli(["catalog", "rebuild", f"output.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"unreadable folder(s) moved to damaged/ ({bad.name}: kpis.parquet: missing)" in proc.stdout, proc.stdout
    assert not bad.exists() and (out / "damaged" / bad.name / "run.json").is_file()
    assert query("SELECT run_id FROM runs", out).run_id.tolist() == [good.name]


def test_catalog_rebuild_indexes_folders_of_earlier_versions(tmp_path):
    out = tmp_path / "results"
    a = _simulate(out, "run.seed=5", "compare=[lower_caseload]")
    b = _simulate(out, "run.seed=6")
    sw = sweep.Sweep(sweep.new_sweep_id([["run.seed=5"], ["run.seed=6"]]), ["run.seed"])
    sw.add(["run.seed=5"], a)
    sw.add(["run.seed=6"], b)
    sweep.write_sweep(sw, out, figures=False)
    want = query("SELECT * EXCLUDE (created_at, config_json, sweep_id) FROM runs ORDER BY run_id", out)
    # what earlier versions wrote: no row files, no finance Parquet, no run_id in the tables, no catalog
    for res in (a, b):
        (res.run_dir / "run.json").unlink()
        for table in store.RUN_TABLES:
            path = res.run_dir / f"{table}.parquet"
            if table in store.FINANCE_TABLES:
                path.unlink(missing_ok=True)
            else:
                pd.read_parquet(path).drop(columns="run_id").to_parquet(path, index=False)
    (out / "sweeps" / sw.sweep_id / "sweep.json").unlink()
    (out / CATALOG).unlink()
    proc = _cli(["catalog", "rebuild", f"output.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2 runs, 1 sweeps" in proc.stdout and "2 runs indexed from the folder" in proc.stdout
    got = query("SELECT * EXCLUDE (created_at, config_json, sweep_id) FROM runs ORDER BY run_id", out)
    pd.testing.assert_frame_equal(got, want)
    assert set(query("SELECT sweep_id FROM runs", out).sweep_id) == {sw.sweep_id}
    s = query("SELECT * FROM sweeps", out).iloc[0]
    assert s.sweep_id == sw.sweep_id and s.swept_keys == "run.seed" and s.n_jobs == 2
    assert s.run_ids == f"{a.run_id},{b.run_id}"
    assert query(f"SELECT count(*) AS n FROM kpis WHERE run_id = '{a.run_id}'", out)["n"][0] == len(a.kpis)
    assert set(query("SELECT DISTINCT run_id FROM payback", out).run_id) == {a.run_id}
    assert set(query("SELECT DISTINCT run_id FROM budget", out).run_id) == {a.run_id, b.run_id}


def test_catalog_rebuild_needs_an_existing_folder_and_a_verb(tmp_path):
    proc = _cli(["catalog", "rebuild", f"output.dir={tmp_path / 'nothing'}"], tmp_path)
    assert proc.returncode == 2 and "no such folder" in proc.stderr and not (tmp_path / "nothing").exists()
    assert _cli(["catalog"], tmp_path).returncode == 2
    assert "catalog rebuild" in _cli(["catalog", "--help"], tmp_path).stdout


# ------------------------------------------------------------------ pre-flight and abandoned entries

@pytest.mark.parametrize("flags", [[], ["-m", "run.seed=1,2"], ["--calibrate"], ["--sensitivity"], ["--uncertainty"]],
                         ids=["run", "sweep", "calibrate", "sensitivity", "uncertainty"])
def test_every_entry_point_checks_output_dir_before_it_simulates(tmp_path, flags):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    where = blocker / "results"
    start = time.monotonic()
    proc = _cli([*flags, *[a for a in SMALL if a != "output.progress=false"], f"output.dir={where}"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == f"error: output.dir = '{where}': cannot create the folder: {blocker} is a file, not a folder\n"
    assert proc.stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]
    assert time.monotonic() - start < 60


def test_check_output_dir_leaves_nothing_behind_and_rejects_a_file(tmp_path):
    where = tmp_path / "a" / "b" / "results"
    assert store.check_output_dir(where) == where
    assert list(tmp_path.iterdir()) == []              # folders made for the check are removed again
    (tmp_path / "f").write_text("x")
    with pytest.raises(store.OutputDirError, match="it exists and is not a folder"):
        store.check_output_dir(tmp_path / "f")
    # a name longer than the file system allows: refused before anything is made (looking it up fails too)
    for where in (tmp_path / "x" / "y" / ("a" * 300), tmp_path / ("a" * 300) / "y"):
        with pytest.raises(store.OutputDirError, match="is 300 bytes long; allowed: names of at most 255 bytes"):
            store.check_output_dir(where)
    (tmp_path / "x" / "y").mkdir(parents=True)           # (also when its parents exist)
    with pytest.raises(store.OutputDirError, match="is 300 bytes long"):
        store.check_output_dir(tmp_path / "x" / "y" / ("a" * 300))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "x"]


def test_a_folder_that_cannot_be_made_leaves_no_parents_behind(tmp_path, monkeypatch):
    """The parents made before the last folder failed (a full disk, a name the file system refuses) are removed
    again: the check left them (held-out audit)."""
    real = Path.mkdir

    def refuse_last(self, *args, **kwargs):
        if self.name == "last":
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Path, "mkdir", refuse_last)
    with pytest.raises(store.OutputDirError, match="cannot create the folder"):
        store.check_output_dir(tmp_path / "x" / "y" / "last")
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_abandoned_staging_folders_are_removed_by_the_next_run(tmp_path):
    out = tmp_path / "results"
    _simulate(out)
    host, old = socket.gethostname(), time.time() - 2 * store.STALE_AFTER
    stale = [out / ".staging-x", out / f".staging-y@{host}@{_dead_pid()}", out / "sweeps" / ".staging-w"]
    live = [out / f".staging-z@{host}@{os.getpid()}", out / ".staging-v@another-machine@1"]
    for d in stale + live:
        d.mkdir(parents=True)
        (d / "kpis.parquet").write_text("half-written")
    for d in (stale[0], stale[2]):
        os.utime(d, (old, old))
    proc = _cli(SMALL + [f"output.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [d for d in stale if d.exists()] == [] and all(d.exists() for d in live)
    assert len(query("SELECT * FROM runs", out)) == 2


def test_an_abandoned_lock_does_not_block_the_catalog(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / store.LOCK).write_text(f"{socket.gethostname()}@{os.getpid()}")     # held by a live process
    assert store.ensure_catalog(out) is False and not (out / CATALOG).exists()
    (out / store.LOCK).write_text(f"{socket.gethostname()}@{_dead_pid()}")     # its owner is gone
    assert store.ensure_catalog(out) is True and store.catalog_state(out) == "ok"
    assert not (out / store.LOCK).exists()


# ------------------------------------------------------------------ the views and atomic folders

def test_every_table_is_queryable_and_typed_before_any_run(tmp_path):
    with pytest.raises(FileNotFoundError):
        query("SELECT * FROM runs", tmp_path / "nothing")
    store._build_catalog(tmp_path)
    for table in store.TABLES:
        df = query(f"SELECT * FROM {table}", tmp_path)
        assert df.empty and list(df.columns) == [c for c, _ in store.columns(table)], table
        types = _file_catalog(tmp_path, f"DESCRIBE {table}")
        assert list(zip(types.column_name, types.column_type)) == store.columns(table), table


def test_the_store_reads_the_folders_the_analyses_write():
    assert store.TABLES["sweeps"].folder == sweep.SWEEP_DIR
    assert store.TABLES["sensitivity_analyses"].folder == sensitivity.SENSITIVITY_DIR
    assert store.TABLES["uncertainty_analyses"].folder == uncertainty.UNCERTAINTY_DIR
    assert store.TABLES["calibrations"].folder == calibrate.CALIBRATION_DIR


def test_write_atomic_never_overwrites_a_folder(tmp_path):
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "keep.txt").write_text("mine")
    with pytest.raises(store.FolderTaken):
        store.write_atomic(tmp_path, "r1", lambda d: (d / "keep.txt").write_text("theirs"))
    assert (tmp_path / "r1" / "keep.txt").read_text() == "mine" and _transients(tmp_path) == []
    with pytest.raises(store.FolderTaken):             # a name taken while the folder was being filled
        store.write_atomic(tmp_path, "r2", lambda d: ((tmp_path / "r2").mkdir(), (tmp_path / "r2" / "x").touch(),
                                                      (d / "y").touch()))
    assert sorted(p.name for p in (tmp_path / "r2").iterdir()) == ["x"] and _transients(tmp_path) == []


def test_a_run_whose_id_is_taken_is_stored_under_a_new_one(tmp_path, monkeypatch):
    out = tmp_path / "results"
    (out / "20200101-000000-baseline-aaaaaa").mkdir(parents=True)
    (out / "20200101-000000-baseline-aaaaaa" / "run.json").write_text("{}")
    ids = iter(["20200101-000000-baseline-aaaaaa", "20200101-000000-baseline-bbbbbb"])
    monkeypatch.setattr(sim.publish, "_run_id", lambda res: next(ids))
    res = _simulate(out)
    assert res.run_id == "20200101-000000-baseline-bbbbbb" == res.run_dir.name
    assert json.loads((res.run_dir / "run.json").read_text())["run_id"] == res.run_id
    assert set(pd.read_parquet(res.run_dir / "kpis.parquet").run_id) == {res.run_id}
    assert (out / "20200101-000000-baseline-aaaaaa" / "run.json").read_text() == "{}"


@pytest.mark.parametrize("extra", [["run.seed=3"], ["+run.seed=3"], ["municipality=kolding"], ["bogus"]])
def test_catalog_rebuild_refuses_what_would_change_nothing_instead_of_ignoring_it(tmp_path, capsys, extra):
    from sim.cli import main
    out = tmp_path / "results"
    out.mkdir()
    code = main(["catalog", "rebuild", f"output.dir={out}", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith(f"error: {extra[0]}: catalog rebuild takes only")
    assert not (out / "results.duckdb").exists()       # nothing rebuilt
    assert main(["catalog", "rebuild", f"output.dir={out}"]) == 0 and (out / "results.duckdb").exists()


@pytest.mark.parametrize("name", ["q?x", "a*b", "runs[1]x"])
def test_an_output_dir_with_wildcard_characters_is_refused_before_anything_runs(tmp_path, name):
    """DuckDB reads * ? [ ] in the catalog's file patterns as wildcards ('?' even as a query string): such a
    folder got runs but never a catalog. Refused at once, for a run and for catalog rebuild."""
    out = tmp_path / name
    small = ["run.replications=1", "run.warmup_years=0", "run.horizon_years=1", "compare=[]", "output.progress=false"]
    proc = _cli([*small, f"output.dir='{out}'"], tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "wildcards" in proc.stderr and not out.exists()
    out.mkdir()
    proc = _cli(["catalog", "rebuild", f"output.dir='{out}'"], tmp_path)
    assert proc.returncode == 2 and "wildcards" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert list(out.iterdir()) == []


def test_a_sweeps_folder_that_cannot_be_used_is_found_before_the_jobs_simulate(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "sweeps").write_text("not a folder\n")
    proc = _cli(["-m", "run.seed=7,8", "run.replications=1", "run.warmup_years=0", "run.horizon_years=1",
                 "compare=[]", "output.progress=false", f"output.dir={out}"], tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "sweeps exists and is not a folder" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["sweeps"]            # no job ran


def test_catalog_rebuild_of_a_file_says_it_is_not_a_folder(tmp_path):
    (tmp_path / "afile").write_text("x\n")
    proc = _cli(["catalog", "rebuild", f"output.dir={tmp_path / 'afile'}"], tmp_path)
    assert proc.returncode == 2 and "not a folder" in proc.stderr


def test_a_stale_catalog_is_rebuilt_quietly_or_a_failure_is_one_warning(tmp_path, monkeypatch):
    """A catalog copied from another output.dir (views over that folder) is rebuilt for this one without a word;
    if it cannot be (a file that cannot be replaced), the run says so in one warning - it said nothing, and the
    catalog went on listing the other folder's runs (held-out audit)."""
    import shutil
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    store._build_catalog(a)
    shutil.copy(a / store.CATALOG, b / store.CATALOG)
    assert store.catalog_state(b) == "stale"
    said: list[str] = []
    assert store.repair_catalog(b, said.append) == "stale"
    assert said == [] and store.catalog_state(b) == "ok"
    shutil.copy(a / store.CATALOG, b / store.CATALOG)

    def cannot(base):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(store, "_build_catalog", cannot)
    store.repair_catalog(b, said.append)
    assert len(said) == 1 and said[0].startswith(f"warning: the catalog {b / store.CATALOG} is a catalog of another "
                                                 "folder and could not be rebuilt (") and "catalog rebuild` retries" in said[0]
