"""Persistence: atomic folders under results/ and the DuckDB catalog results/results.duckdb.

A folder is written into a hidden staging folder and renamed into place when complete; a row is
registered in the catalog only then, inside one transaction. If anything fails or is interrupted,
the staging folder is removed and the catalog is untouched: no half-written entry. What goes into
a folder is decided above (``sim.publish`` and the analyses); this module only stores it.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from .common.paths import ROOT

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
    """Create the catalog's tables (and add columns newer than an older catalog)."""
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


def base_dir(output_dir: str) -> Path:
    """output.dir as a folder; a relative path is taken from the project root, wherever the run starts."""
    d = Path(output_dir).expanduser()
    return d if d.is_absolute() else ROOT / d


def new_id(label: str, payload, now: _dt.datetime) -> str:
    """'<yyyymmdd-hhmmss>-<label>-<6 hex>' for a run, sweep, calibration, sensitivity or uncertainty folder."""
    h = hashlib.sha1(json.dumps([payload, now.isoformat()]).encode()).hexdigest()[:6]
    return f"{now:%Y%m%d-%H%M%S}-{label}-{h}"


def code_version() -> str:
    """The git commit of the code (with '+dirty' for uncommitted changes), or 'unknown'."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return (sha or "unknown") + ("+dirty" if sha and dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def to_yaml(obj) -> str:
    """A plain tree as YAML, keys in their order."""
    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True)


def register_run(catalog: Path, row: dict, tables: dict[str, pd.DataFrame]) -> None:
    """Insert a run's row into ``runs`` and its tables (each tagged with its run_id) into the tables of the
    same name, in one transaction: all of it or nothing."""
    run_id = row["run_id"]
    con = duckdb.connect(str(catalog))
    try:
        ensure_schema(con)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
            for table, df in tables.items():
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
