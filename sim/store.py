"""Run folders under results/ and the DuckDB catalog results/results.duckdb.

A run is written into a hidden staging folder, renamed into place when complete, and only
then registered in the catalog inside one transaction. If anything fails or is interrupted,
the staging folder is removed and the catalog is untouched: no half-written entry.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from .config import ROOT
from .runner import Results

CATALOG = "results.duckdb"

_SCHEMA = {
    "runs": """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, reference VARCHAR, scenarios VARCHAR,
        municipality VARCHAR, seed BIGINT, replications INTEGER, horizon_years INTEGER,
        warmup_years DOUBLE, overrides VARCHAR, run_dir VARCHAR, code_version VARCHAR, config_json VARCHAR,
        sweep_id VARCHAR)""",
    "kpis": """CREATE TABLE IF NOT EXISTS kpis (
        run_id VARCHAR, scenario VARCHAR, replication INTEGER, period VARCHAR, year INTEGER,
        kpi VARCHAR, value DOUBLE)""",
    "timeseries": """CREATE TABLE IF NOT EXISTS timeseries (
        run_id VARCHAR, scenario VARCHAR, replication INTEGER, month INTEGER, step VARCHAR,
        metric VARCHAR, value DOUBLE)""",
    "summary": """CREATE TABLE IF NOT EXISTS summary (
        run_id VARCHAR, scenario VARCHAR, period VARCHAR, year INTEGER, kpi VARCHAR,
        mean DOUBLE, ci_low DOUBLE, ci_high DOUBLE, n INTEGER)""",
    "comparison": """CREATE TABLE IF NOT EXISTS comparison (
        run_id VARCHAR, scenario VARCHAR, reference VARCHAR, period VARCHAR, year INTEGER, kpi VARCHAR,
        diff_mean DOUBLE, diff_ci_low DOUBLE, diff_ci_high DOUBLE, n INTEGER, reference_mean DOUBLE,
        relative_diff DOUBLE, unpaired_half_width DOUBLE)""",
    "sweeps": """CREATE TABLE IF NOT EXISTS sweeps (
        sweep_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, swept_keys VARCHAR, n_jobs INTEGER,
        run_ids VARCHAR, sweep_dir VARCHAR, overrides VARCHAR)""",
    "sensitivity_analyses": """CREATE TABLE IF NOT EXISTS sensitivity_analyses (
        sensitivity_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, municipality VARCHAR, kpi VARCHAR,
        reference VARCHAR, scenarios VARCHAR, parameters VARCHAR, runs INTEGER, replications INTEGER,
        sensitivity_dir VARCHAR, overrides VARCHAR)""",
    "uncertainty_analyses": """CREATE TABLE IF NOT EXISTS uncertainty_analyses (
        uncertainty_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, municipality VARCHAR, kpi VARCHAR,
        reference VARCHAR, scenarios VARCHAR, parameters VARCHAR, samples INTEGER, replications INTEGER,
        uncertainty_dir VARCHAR, overrides VARCHAR)""",
    "calibrations": """CREATE TABLE IF NOT EXISTS calibrations (
        calibration_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, municipality VARCHAR, parameter VARCHAR,
        kpi VARCHAR, target DOUBLE, start_value DOUBLE, fitted_value DOUBLE, converged BOOLEAN,
        evaluations INTEGER, run_id VARCHAR, calibration_dir VARCHAR, overrides VARCHAR, joint VARCHAR)""",
}
# columns added since the first catalogs were written (added to an older catalog when it is next used)
_MIGRATIONS = ["ALTER TABLE runs ADD COLUMN IF NOT EXISTS sweep_id VARCHAR",
               # the parameters fitted together with the first one (calibration.joint), if any
               "ALTER TABLE calibrations ADD COLUMN IF NOT EXISTS joint VARCHAR"]


def ensure_schema(con) -> None:
    for ddl in _SCHEMA.values():
        con.execute(ddl)
    for sql in _MIGRATIONS:
        con.execute(sql)


def write_atomic(root: Path, name: str, fill) -> Path:
    """Create root/name by letting ``fill(folder)`` write into a staging folder, renamed when complete;
    on any failure the staging folder is removed and the exception re-raised. Returns root/name."""
    root.mkdir(parents=True, exist_ok=True)
    staging, final = root / f".staging-{name}", root / name
    try:
        staging.mkdir()
        fill(staging)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def register_folder(catalog: Path, table: str, row: list, folder: Path) -> None:
    """Insert one row into a catalog table; if that fails, remove the folder it describes and re-raise."""
    try:
        con = duckdb.connect(str(catalog))
        try:
            ensure_schema(con)
            con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)
        finally:
            con.close()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def results_dir(res: Results) -> Path:
    """output.dir; a relative path is taken from the project root, wherever the run starts."""
    return base_dir(res.plan.arms[res.reference].output.dir)


def base_dir(output_dir: str) -> Path:
    d = Path(output_dir).expanduser()
    return d if d.is_absolute() else ROOT / d


def new_id(label: str, payload, now: _dt.datetime) -> str:
    """'<yyyymmdd-hhmmss>-<label>-<6 hex>' for a run, sweep, calibration, sensitivity or uncertainty folder."""
    h = hashlib.sha1(json.dumps([payload, now.isoformat()]).encode()).hexdigest()[:6]
    return f"{now:%Y%m%d-%H%M%S}-{label}-{h}"


def _run_id(res: Results) -> str:
    return new_id(res.reference.replace("+", "_"), res.plan.overrides, _dt.datetime.now())


def code_version() -> str:
    """The git commit of the code (with '+dirty' for uncommitted changes), or 'unknown'."""
    import subprocess

    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return (sha or "unknown") + ("+dirty" if sha and dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _yaml(obj) -> str:
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True)


def write_run(res: Results, sweep_id: str | None = None) -> Path:
    """Write the run folder and register it; returns the folder. Atomic as described above.

    ``sweep_id`` tags the run as a job of a sweep (``runs.sweep_id``; see ``sim.sweep``)."""
    base = results_dir(res)
    base.mkdir(parents=True, exist_ok=True)
    run_id = _run_id(res)
    while (base / run_id).exists():
        run_id += "x"
    ref_cfg = res.plan.arms[res.reference]

    def fill(staging: Path) -> None:
        (staging / "configs").mkdir()
        (staging / "config.yaml").write_text(_yaml(res.plan.tree))
        (staging / "configs" / "warmup.yaml").write_text(_yaml(res.plan.warmup.model_dump(mode="json")))
        for arm, cfg in res.plan.arms.items():
            (staging / "configs" / f"{arm}.yaml").write_text(_yaml(cfg.model_dump(mode="json")))
        (staging / "overrides.txt").write_text("\n".join(res.plan.overrides) + "\n")
        (staging / "code_version.txt").write_text(code_version() + "\n")
        res.kpis.to_parquet(staging / "kpis.parquet", index=False)
        res.timeseries.to_parquet(staging / "timeseries.parquet", index=False)
        res.summary.to_parquet(staging / "summary.parquet", index=False)
        res.comparison.to_parquet(staging / "comparison.parquet", index=False)
        if ref_cfg.output.save_children:
            res.children.to_parquet(staging / "children.parquet", index=False)
        from .budget import budget, budget_difference, budget_text
        budget(res).to_csv(staging / "budget.csv", index=False)
        budget_difference(res).to_csv(staging / "budget_difference.csv", index=False)
        if not res.comparison.empty:
            from .report import headroom, payback
            payback(res).to_csv(staging / "payback.csv", index=False)
            headroom(res).to_csv(staging / "headroom.csv", index=False)
        from .report import summary_text
        (staging / "summary.txt").write_text(summary_text(res) + "\n" + budget_text(res))
        if ref_cfg.output.figures:
            from .plots import make_figures
            make_figures(res, staging / "figures")
        if ref_cfg.output.report:
            from .report import write_report
            write_report(res, staging / "report.html", figures_dir=staging / "figures" if ref_cfg.output.figures else None)

    res.run_id = run_id                 # the report names its run
    try:
        final = write_atomic(base, run_id, fill)
    except BaseException:
        res.run_id = None
        raise
    try:
        register(res, run_id, final, base / CATALOG, sweep_id)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        res.run_id = None
        raise
    res.run_dir = final
    return final


def register(res: Results, run_id: str, run_dir: Path, catalog: Path, sweep_id: str | None = None) -> None:
    ref_cfg = res.plan.arms[res.reference]
    con = duckdb.connect(str(catalog))
    try:
        ensure_schema(con)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "INSERT INTO runs (run_id, created_at, reference, scenarios, municipality, seed, replications, "
                "horizon_years, warmup_years, overrides, run_dir, code_version, config_json, sweep_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, _dt.datetime.now(), res.reference, ",".join(res.arms), ref_cfg.municipality.name,
                 ref_cfg.run.seed, ref_cfg.run.replications, ref_cfg.run.horizon_years, ref_cfg.run.warmup_years,
                 " ".join(res.plan.overrides), str(run_dir), code_version(), json.dumps(res.plan.tree), sweep_id])
            for table, df in (("kpis", res.kpis), ("timeseries", res.timeseries), ("summary", res.summary),
                              ("comparison", res.comparison)):
                con.register("_frame", df.assign(run_id=run_id))
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
                con.unregister("_frame")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()


def query(sql: str, results: str | Path = "results") -> pd.DataFrame:
    """Run SQL against the catalog, e.g. query("SELECT * FROM runs"); relative folders are
    taken from the project root, like output.dir."""
    base = Path(results).expanduser()
    path = (base if base.is_absolute() else ROOT / base) / CATALOG
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()
