"""Results folders, the DuckDB catalog (views over the folders), the CLI and the Python API.

Concurrency, damaged catalogs, `catalog rebuild` and the pre-flight check: tests/pipeline/test_catalog.py."""
from __future__ import annotations

import re
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

import sim
from sim import store
from sim.report import plots
from sim.store import CATALOG, query

SMALL = ["run.warmup_years=1", "run.horizon_years=1", "run.replications=2", "run.workers=1", "output.progress=false"]


def _runs(results):
    """(run_id, run_dir) of the catalog's runs, from query() and from the results.duckdb file alike."""
    rows = [tuple(r) for r in query("SELECT run_id, run_dir FROM runs ORDER BY created_at", results).itertuples(index=False)]
    con = duckdb.connect(str(results / CATALOG), read_only=True)
    try:
        assert con.execute("SELECT run_id, run_dir FROM runs ORDER BY created_at").fetchall() == rows
    finally:
        con.close()
    return rows


def test_simulate_api_writes_a_complete_run(tmp_results):
    res = sim.simulate(SMALL + [f"output.dir={tmp_results}", "compare=[earlier_detection]", "output.language=en"])
    d = res.run_dir
    assert d.parent == tmp_results
    for f in ["config.yaml", "overrides.txt", "kpis.parquet", "timeseries.parquet", "summary.parquet",
              "comparison.parquet", "summary.txt", "report.html", "configs/baseline.yaml", "configs/warmup.yaml",
              "configs/earlier_detection.yaml", "budget.csv", "budget_difference.csv", "payback.csv", "headroom.csv",
              "run.json", "budget.parquet", "budget_difference.parquet", "payback.parquet", "headroom.parquet"]:
        assert (d / f).is_file(), f
    for f in plots.FIGURES:
        assert (d / "figures" / f).is_file(), f
    assert list(res.kpis.columns) == ["scenario", "replication", "period", "year", "kpi", "value"]
    assert list(res.timeseries.columns) == ["scenario", "replication", "month", "step", "metric", "value"]
    html = (d / "report.html").read_text()
    assert "data:image/png;base64," in html and "Does it pay back?" in html and "Budget by measure" in html
    assert "Investment headroom" in html and "Investment headroom" in (d / "summary.txt").read_text()
    assert "by item and horizon year" in html
    assert "Budget of baseline over the horizon" in (d / "summary.txt").read_text()
    text = re.sub(r'data:image/png;base64,[^"]*', "", html)       # tables, not image bytes
    assert "&lt;NA&gt;" not in text and not re.search(r"\d\.\d+e[+-]\d\d", text)
    assert res.run_id in html and d.name == res.run_id
    assert (d / "code_version.txt").read_text().strip()
    # the catalog holds the same numbers as the Parquet files, which carry the run's id
    n = query(f"SELECT count(*) AS n FROM kpis WHERE run_id = '{res.run_id}'", tmp_results)["n"][0]
    assert n == len(res.kpis)
    assert query("SELECT count(*) AS n FROM comparison", tmp_results)["n"][0] == len(res.comparison)
    for table in (t for t in store.RUN_TABLES if t not in store.CONDITIONAL_TABLES):
        df = pd.read_parquet(d / f"{table}.parquet")
        assert df.columns[0] == "run_id" and set(df.run_id) == {res.run_id}, table
    budget = query(f"SELECT * FROM budget WHERE run_id = '{res.run_id}'", tmp_results)
    assert len(budget) == len(res.budget()) > 0
    assert query("SELECT DISTINCT scenario FROM headroom", tmp_results).scenario.tolist() == ["earlier_detection"]
    row = query("SELECT * FROM runs", tmp_results).iloc[0]
    assert row.run_id == res.run_id and row.run_dir == str(d) and row.scenarios == "baseline,earlier_detection"
    assert row.replications == 2 and pd.isna(row.sweep_id)


def test_a_single_scenario_run_has_its_figures_and_report(tmp_results):
    res = sim.simulate(SMALL + [f"output.dir={tmp_results}", "compare=[]", "output.language=en"])
    for f in plots.FIGURES:
        if f not in plots.COMPARISON_ONLY:    # nothing to compare
            assert (res.run_dir / "figures" / f).is_file(), f
    assert "Does it pay back?" not in (res.run_dir / "report.html").read_text()
    assert not (res.run_dir / "figures" / "budget_difference.png").exists()
    assert not (res.run_dir / "headroom.csv").exists()


def test_two_runs_two_entries_no_overwrite(tmp_results):
    a = sim.simulate(SMALL + [f"output.dir={tmp_results}", "compare=[]", "output.figures=false", "output.report=false"])
    b = sim.simulate(SMALL + [f"output.dir={tmp_results}", "compare=[]", "output.figures=false", "output.report=false"])
    assert a.run_dir != b.run_dir and a.run_dir.exists() and b.run_dir.exists()
    assert [r[0] for r in _runs(tmp_results)] == [a.run_id, b.run_id]


@pytest.mark.parametrize("workers", [1, 2])          # figures drawn here, or in two forked processes
def test_failed_run_leaves_no_entry_and_no_folder(tmp_results, monkeypatch, workers):
    sim.simulate(SMALL + [f"output.dir={tmp_results}", "compare=[]", "output.figures=false", "output.report=false"])
    before = sorted(p.name for p in tmp_results.iterdir())

    def boom(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(plots, "_draw", boom)          # in the drawing processes (forked after this)
    with pytest.raises(RuntimeError, match="figure failed"):
        sim.simulate(SMALL + [f"output.dir={tmp_results}", "compare=[]", f"run.workers={workers}"])
    assert sorted(p.name for p in tmp_results.iterdir()) == before      # no folder, no staging left
    assert len(_runs(tmp_results)) == 1


def test_a_catalog_file_that_cannot_be_written_loses_no_run(tmp_results, monkeypatch):
    # the issue: runs simulated to the end, then failed on "Could not set lock" and their folders were deleted
    def locked(*args, **kwargs):
        raise duckdb.IOException('Could not set lock on file "results.duckdb": Conflicting lock is held')

    monkeypatch.setattr(store, "_build_catalog", locked)
    res = sim.simulate(SMALL + [f"output.dir={tmp_results}", "compare=[]", "output.figures=false", "output.report=false"])
    assert res.run_dir.is_dir() and not (tmp_results / CATALOG).exists()
    assert query("SELECT run_id FROM runs", tmp_results).run_id.tolist() == [res.run_id]
    assert query("SELECT count(*) AS n FROM kpis", tmp_results)["n"][0] == len(res.kpis)


def test_write_false_writes_nothing(tmp_results):
    res = sim.simulate(SMALL + [f"output.dir={tmp_results}", "compare=[]"], write=False)
    assert res.run_dir is None and not tmp_results.exists()
    assert not res.kpis.empty


def _cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_runs_and_prints_a_summary(tmp_path):
    out = tmp_path / "results"
    proc = _cli(SMALL + [f"output.dir={out}", "compare=[lower_caseload]", "output.figures=false"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Placed per 1,000 aged 0-22" in proc.stdout and "Paired difference" in proc.stdout
    # money is printed for people (12.3M), never in scientific notation; payback years are whole or '-'
    payback = proc.stdout[proc.stdout.index("Payback"):]
    assert "lower_caseload" in payback and "e+0" not in proc.stdout and "<NA>" not in payback
    assert len(_runs(out)) == 1


@pytest.mark.slow
def test_cli_multirun_sweep_gives_one_run_per_value_and_a_sweep_summary(tmp_path):
    out = tmp_path / "results"
    proc = _cli(["-m", *SMALL, f"output.dir={out}", "compare=[lower_caseload]", "output.report=false",
                 "casework.caseworkers=12,20"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    runs = query("SELECT run_id, overrides, sweep_id FROM runs ORDER BY created_at", out)
    assert len(runs) == 2
    assert "casework.caseworkers=12" in runs.overrides[0] and "casework.caseworkers=20" in runs.overrides[1]
    # the two runs are jobs of one sweep, registered with its folder
    sweeps = query("SELECT * FROM sweeps", out)
    assert len(sweeps) == 1 and set(runs.sweep_id) == {sweeps.sweep_id[0]}
    assert sweeps.n_jobs[0] == 2 and sweeps.swept_keys[0] == "casework.caseworkers"
    assert sweeps.run_ids[0].split(",") == runs.run_id.tolist()
    d = out / "sweeps" / sweeps.sweep_id[0]
    assert str(d) == sweeps.sweep_dir[0]
    for f in ("jobs.csv", "summary.parquet", "comparison.parquet", "summary.txt", "sweep.png"):
        assert (d / f).is_file(), f
    jobs = pd.read_csv(d / "jobs.csv")
    assert jobs["casework.caseworkers"].tolist() == [12, 20] and jobs.run_id.tolist() == runs.run_id.tolist()
    # the sweep's tables are each job's own horizon figures, side by side
    summary = pd.read_parquet(d / "summary.parquet")
    for job, run_id in zip(jobs.job, jobs.run_id):
        own = query(f"SELECT scenario, kpi, mean FROM summary WHERE run_id = '{run_id}' AND period = 'horizon'", out)
        mine = summary[summary.job == job][["scenario", "kpi", "mean"]]
        merged = own.merge(mine, on=["scenario", "kpi"], suffixes=("_run", "_sweep"))
        assert len(merged) == len(own) > 0 and (merged.mean_run == merged.mean_sweep).all()
    assert set(pd.read_parquet(d / "comparison.parquet").scenario) == {"lower_caseload"}
    assert "casework.caseworkers=12" in proc.stdout[proc.stdout.index("Sweep "):]
    assert not [p for p in (out / "sweeps").iterdir() if p.name.startswith(".staging")]


def test_a_single_run_is_not_part_of_a_sweep_and_old_catalogs_are_migrated(tmp_path):
    out = tmp_path / "results"
    old = sim.simulate(SMALL + [f"output.dir={out}", "compare=[lower_caseload]", "output.figures=false",
                                "output.report=false"])
    # make it a folder of version 1: no run.json, no finance Parquet; its row only in a catalog of tables,
    # written before runs had a sweep_id column
    for f in ["run.json", "budget.parquet", "budget_difference.parquet", "payback.parquet", "headroom.parquet"]:
        (old.run_dir / f).unlink()
    (out / CATALOG).unlink()
    con = duckdb.connect(str(out / CATALOG))
    con.execute("""CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, reference VARCHAR,
        scenarios VARCHAR, municipality VARCHAR, seed BIGINT, replications INTEGER, horizon_years INTEGER,
        warmup_years DOUBLE, overrides VARCHAR, run_dir VARCHAR, code_version VARCHAR, config_json VARCHAR)""")
    con.execute("INSERT INTO runs (run_id, created_at, reference, overrides, run_dir) "
                "VALUES (?, TIMESTAMP '2020-01-01 12:00:00', 'baseline', 'from the old catalog', ?)", [old.run_id, str(old.run_dir)])
    con.execute("CREATE TABLE kpis (run_id VARCHAR, scenario VARCHAR, value DOUBLE)")
    con.close()
    proc = _cli(SMALL + [f"output.dir={out}", "compare=[]", "output.figures=false", "output.report=false"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"note: the catalog {out / CATALOG} was of version 1; rebuilt it" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert len(list(out.glob(f"{CATALOG}.v1-*"))) == 1                 # kept, not deleted
    assert store.catalog_state(out) == "ok"
    runs = query("SELECT run_id, overrides, sweep_id FROM runs ORDER BY created_at", out)
    assert runs.run_id[0] == old.run_id and runs.overrides[0] == "from the old catalog"
    assert len(runs) == 2 and runs.sweep_id.isna().all()
    assert query("SELECT count(*) AS n FROM sweeps", out)["n"][0] == 0
    # the old folder's finance tables are in the catalog too (its CSVs, as Parquet)
    assert set(query("SELECT DISTINCT run_id FROM payback", out).run_id) == {old.run_id}
    assert len(query("SELECT * FROM budget", out)) == len(old.budget()) + len(pd.read_csv(
        out / runs.run_id[1] / "budget.csv"))


def test_cli_multirun_validates_every_job_first(tmp_path):
    out = tmp_path / "results"
    proc = _cli(["-m", *SMALL, f"output.dir={out}", "compare=[]", "run.replications=2,0"], tmp_path)
    assert proc.returncode == 2 and "run.replications = 0" in proc.stderr
    assert not out.exists()


def test_cli_cfg_prints_the_composed_config(tmp_path):
    proc = _cli(["--cfg", "municipality=kolding"], tmp_path)
    assert proc.returncode == 0
    assert "name: kolding" in proc.stdout and "horizon_years" in proc.stdout


@pytest.mark.parametrize("where", ["not_a_folder", "not_a_folder/results"])
def test_cli_unwritable_results_is_a_one_line_error_before_anything_runs(tmp_path, where):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    # progress on: a simulation that started would print to stderr
    proc = _cli([a for a in SMALL if a != "output.progress=false"]
                + [f"output.dir={tmp_path / where}", "compare=[]", "output.figures=false"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: output.dir = '{tmp_path / where}': ")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stdout == "" and blocker.read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_folder"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_a_failed_write_leaves_no_folder_it_made_on_the_way(tmp_path, error):
    """Interrupted or failed while filling (SIGTERM to --sensitivity left an empty output.dir/sensitivity/ after
    'nothing was written'): the folders the write made on the way are gone, those that existed stay, and one that
    another run wrote into meanwhile stays with what it holds."""
    from sim.store import write_atomic

    def fail(folder):
        (folder / "half.csv").write_text("x")
        raise error("stopped")

    root = tmp_path / "results" / "sensitivity"
    with pytest.raises(error):
        write_atomic(root, "run1", fail)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "results").mkdir()
    with pytest.raises(error):
        write_atomic(root, "run1", fail)
    assert list(tmp_path.iterdir()) == [tmp_path / "results"] and list((tmp_path / "results").iterdir()) == []

    def other_run_meanwhile(folder):
        (root / "run2").mkdir()
        fail(folder)
    with pytest.raises(error):
        write_atomic(root, "run1", other_run_meanwhile)
    assert [p.name for p in root.iterdir()] == ["run2"]
