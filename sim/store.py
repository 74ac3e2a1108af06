"""Persistence: atomic folders under results/, and the catalog over them.

The folder is the unit of record. A run (or a sweep, sensitivity, uncertainty or calibration) is
written into a hidden staging folder ``.staging-<id>@<host>@<pid>`` and renamed into place when
complete, so a folder exists either whole or not at all, and **the rename is the registration**:
every table of the catalog is a view over the folders' files (``run.json`` and the Parquet tables of
a run folder, ``sweep.json`` and the like of an analysis folder). Nothing is inserted anywhere, so
any number of processes - on one machine or on several sharing a file system - store runs side by
side without a lock, and nothing can be lost to one.

``results.duckdb`` holds only those views (for DuckDB and other SQL tools); it is derived, rebuilt
from the folders by ``rebuild_catalog`` (``python -m sim catalog rebuild``), replaced atomically,
and a damaged one is moved aside, never deleted. ``query`` does not even need it: it builds the
same views in memory each time and so always sees every complete folder. ``check_output_dir`` is
the pre-flight check before anything is simulated. What goes into a folder is decided above
(``sim.publish`` and the analyses); this module only stores it.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, NamedTuple

import duckdb
import pandas as pd
import yaml

from .common.paths import ROOT

CATALOG = "results.duckdb"
CATALOG_VERSION = 2                     # 1: tables filled by INSERT; 2: views over the folders
V1_RUN_COLUMNS = ("run_id", "created_at", "overrides", "run_dir")    # columns every version-1 runs table has
STAGING = ".staging-"                   # prefix of every transient entry (folders being written, probes)
STALE_AFTER = 3600.0                    # seconds: a staging entry this old is abandoned, whoever owns it
LOCK = ".catalog.lock"                  # held while results.duckdb is rebuilt (avoids duplicate work only)
LOCK_STALE_AFTER = 600.0

STORED: list[Path] = []     # the folders this process moved into place (write_atomic), in order: what an
                            # interrupted command kept (the CLI names them)


# ---------------------------------------------------------------- Ctrl-C and SIGTERM

def interrupted(err: BaseException) -> bool:
    """Whether ``err`` is DuckDB's answer to Ctrl-C (or SIGTERM) during a query: DuckDB stops the query and
    raises its own error ("Query interrupted") in place of the KeyboardInterrupt."""
    return isinstance(err, duckdb.InterruptException) or (
        isinstance(err, RuntimeError) and " ".join(str(err).split()).lower() == "query interrupted")


@contextlib.contextmanager
def _ctrl_c():
    """Inside: a DuckDB query stopped by Ctrl-C raises KeyboardInterrupt, as Python code would - not an error
    of the catalog (which would otherwise be taken for a damaged file, or printed as a traceback)."""
    try:
        yield
    except Exception as err:
        if interrupted(err):
            raise KeyboardInterrupt() from None
        raise


@contextlib.contextmanager
def _signals_held():
    """Inside: Ctrl-C and SIGTERM wait (and are delivered on leaving), so that a folder moved into place is
    also recorded in STORED. Only in the main thread (where Python runs signal handlers); elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    before = {sig: signal.signal(sig, lambda signum, frame: held.append(signum))
              for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
        if held:
            signal.raise_signal(held[0])        # now, to the handler it would have met

# The columns of every catalog table, as in the catalogs of earlier versions (plus the finance tables).
_COLUMNS = {
    "runs": """run_id VARCHAR, created_at TIMESTAMP, reference VARCHAR, scenarios VARCHAR, municipality VARCHAR,
        seed BIGINT, replications INTEGER, horizon_years INTEGER, warmup_years DOUBLE, overrides VARCHAR,
        run_dir VARCHAR, code_version VARCHAR, config_json VARCHAR, sweep_id VARCHAR""",
    "kpis": "run_id VARCHAR, scenario VARCHAR, replication INTEGER, period VARCHAR, year INTEGER, kpi VARCHAR, value DOUBLE",
    "timeseries": """run_id VARCHAR, scenario VARCHAR, replication INTEGER, month INTEGER, step VARCHAR,
        metric VARCHAR, value DOUBLE""",
    "summary": """run_id VARCHAR, scenario VARCHAR, period VARCHAR, year INTEGER, kpi VARCHAR,
        mean DOUBLE, ci_low DOUBLE, ci_high DOUBLE, n INTEGER""",
    "comparison": """run_id VARCHAR, scenario VARCHAR, reference VARCHAR, period VARCHAR, year INTEGER, kpi VARCHAR,
        diff_mean DOUBLE, diff_ci_low DOUBLE, diff_ci_high DOUBLE, n INTEGER, reference_mean DOUBLE,
        relative_diff DOUBLE, unpaired_half_width DOUBLE""",
    "budget": """run_id VARCHAR, scenario VARCHAR, year INTEGER, item VARCHAR, label VARCHAR, count_unit VARCHAR,
        count DOUBLE, entries DOUBLE, exits DOUBLE, unit_cost_dkk DOUBLE, fixed_cost_dkk DOUBLE, cost_dkk DOUBLE,
        cost_ci_low DOUBLE, cost_ci_high DOUBLE, n INTEGER, price_year INTEGER""",
    "budget_difference": """run_id VARCHAR, scenario VARCHAR, year INTEGER, item VARCHAR, label VARCHAR, count DOUBLE,
        entries DOUBLE, exits DOUBLE, fixed_cost_dkk DOUBLE, cost_dkk DOUBLE, cost_ci_low DOUBLE, cost_ci_high DOUBLE,
        n INTEGER, price_year INTEGER""",
    "payback": """run_id VARCHAR, scenario VARCHAR, year INTEGER, cum_cost_diff_dkk DOUBLE, ci_low DOUBLE,
        ci_high DOUBLE, n INTEGER, price_year INTEGER""",
    "headroom": """run_id VARCHAR, scenario VARCHAR, year INTEGER, headroom_dkk DOUBLE, ci_low DOUBLE, ci_high DOUBLE,
        investment_dkk DOUBLE, margin_dkk DOUBLE, n INTEGER, price_year INTEGER""",
    "forecast": """run_id VARCHAR, scenario VARCHAR, item VARCHAR, months DOUBLE, count DOUBLE, entries DOUBLE,
        exits DOUBLE, unit_cost_dkk DOUBLE, cost_dkk DOUBLE, fixed_cost_dkk DOUBLE, cost_ci_low DOUBLE,
        cost_ci_high DOUBLE, n INTEGER, price_year INTEGER""",
    "budget_followup": """run_id VARCHAR, item VARCHAR, months DOUBLE, budget_count DOUBLE,
        budget_unit_price_dkk DOUBLE, budget_dkk DOUBLE, forecast_count DOUBLE, forecast_unit_price_dkk DOUBLE,
        forecast_dkk DOUBLE, deviation_dkk DOUBLE, volume_dkk DOUBLE, price_dkk DOUBLE, in_budget BOOLEAN,
        price_year INTEGER""",
    "sweeps": """sweep_id VARCHAR, created_at TIMESTAMP, swept_keys VARCHAR, n_jobs INTEGER, run_ids VARCHAR,
        sweep_dir VARCHAR, overrides VARCHAR""",
    "sensitivity_analyses": """sensitivity_id VARCHAR, created_at TIMESTAMP, municipality VARCHAR, kpi VARCHAR,
        reference VARCHAR, scenarios VARCHAR, parameters VARCHAR, runs INTEGER, replications INTEGER,
        sensitivity_dir VARCHAR, overrides VARCHAR""",
    "uncertainty_analyses": """uncertainty_id VARCHAR, created_at TIMESTAMP, municipality VARCHAR, kpi VARCHAR,
        reference VARCHAR, scenarios VARCHAR, parameters VARCHAR, samples INTEGER, replications INTEGER,
        uncertainty_dir VARCHAR, overrides VARCHAR""",
    "calibrations": """calibration_id VARCHAR, created_at TIMESTAMP, municipality VARCHAR, parameter VARCHAR,
        kpi VARCHAR, target DOUBLE, start_value DOUBLE, fitted_value DOUBLE, converged BOOLEAN, evaluations INTEGER,
        run_id VARCHAR, calibration_dir VARCHAR, overrides VARCHAR, joint VARCHAR""",
}


class Table(NamedTuple):
    """Where a catalog table's rows live: ``<output.dir>/<folder>/<id>/<file>`` (folder '' for run folders);
    ``id`` and ``dir`` name the columns taken from the folder itself (its name and its path)."""

    folder: str
    file: str
    id: str
    dir: str | None = None


TABLES = {
    "runs": Table("", "run.json", "run_id", "run_dir"),
    **{t: Table("", f"{t}.parquet", "run_id") for t in ("kpis", "timeseries", "summary", "comparison", "budget",
                                                         "budget_difference", "payback", "headroom",
                                                         "forecast", "budget_followup")},
    "sweeps": Table("sweeps", "sweep.json", "sweep_id", "sweep_dir"),
    "sensitivity_analyses": Table("sensitivity", "sensitivity.json", "sensitivity_id", "sensitivity_dir"),
    "uncertainty_analyses": Table("uncertainty", "uncertainty.json", "uncertainty_id", "uncertainty_dir"),
    "calibrations": Table("calibrations", "calibration.json", "calibration_id", "calibration_dir"),
}
SUBFOLDERS = sorted({spec.folder for spec in TABLES.values() if spec.folder})   # sweeps, analyses, calibrations
RUN_TABLES = [t for t, spec in TABLES.items() if spec.file.endswith(".parquet")]   # a run's Parquet tables
ROW_TABLES = [t for t, spec in TABLES.items() if spec.file.endswith(".json")]      # one JSON row per folder
FINANCE_TABLES = ["budget", "budget_difference", "payback", "headroom", "forecast", "budget_followup"]
# run tables only some runs write: the forecast from today's caseload (caseload=<file>), the budget follow-up
# (budget=<file>); the views read the folders that have them
CONDITIONAL_TABLES = ("forecast", "budget_followup")
# columns added to the tables of version-1 catalogs after their first release (see ensure_schema)
_MIGRATIONS = ["ALTER TABLE runs ADD COLUMN IF NOT EXISTS sweep_id VARCHAR",
               "ALTER TABLE calibrations ADD COLUMN IF NOT EXISTS joint VARCHAR"]


# characters of output.dir that DuckDB's file patterns over the run folders would read as wildcards (or, '?', as
# the start of a query string): refused before anything runs, not found when the catalog cannot be made
PATTERN_CHARACTERS = ("*", "?", "[", "]", "{", "}")


def _name_max(path: Path) -> int:
    """The longest file name (bytes) the file system under ``path`` allows (POSIX NAME_MAX; 255 where unknown)."""
    for folder in (path, *path.parents):
        try:
            return os.pathconf(folder, "PC_NAME_MAX")
        except (OSError, ValueError, AttributeError):
            continue
    return 255


def name_problem(base: Path) -> str:
    """Why the folder name ``base`` cannot hold a catalog ('' if it can): a name longer than the file system
    allows (every look-up of it fails), or characters DuckDB would read as wildcards of its file patterns."""
    longest = _name_max(base)
    for part in base.parts:
        if len(os.fsencode(part)) > longest:
            return (f"the name {part[:24]!r}... is {len(os.fsencode(part))} bytes long; allowed: names of at most "
                    f"{longest} bytes")
    odd = [c for c in PATTERN_CHARACTERS if c in str(base)]
    if not odd:
        return ""
    return (f"contains {' '.join(odd)}, which the catalog's file patterns would read as wildcards; allowed: a folder "
            f"name without {' '.join(PATTERN_CHARACTERS)}")


class OutputDirError(Exception):
    """output.dir cannot be used: it cannot be created or written (the message says why)."""


class FolderTaken(FileExistsError):
    """The final name of an atomic folder is already taken (another process got there first)."""


def columns(table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of every column of a catalog table."""
    return [tuple(c.split()) for c in " ".join(_COLUMNS[table].split()).split(", ")]


# ---------------------------------------------------------------- folders, ids, rows

def base_dir(output_dir: str | Path) -> Path:
    """output.dir as a folder; a relative path is taken from the project root, wherever the run starts."""
    d = Path(output_dir).expanduser()
    return d if d.is_absolute() else ROOT / d


def _owner() -> str:
    """'<host>@<pid>': who writes a staging entry (to tell an abandoned one from one still being written)."""
    return f"{socket.gethostname()}@{os.getpid()}"


def new_id(label: str, payload, now: _dt.datetime) -> str:
    """'<yyyymmdd-hhmmss>-<label>-<6 hex>' for a run, sweep, calibration, sensitivity or uncertainty folder
    (the hex part is random too, so processes started in the same second on any machine differ)."""
    h = hashlib.sha1(json.dumps([payload, now.isoformat(), _owner(), secrets.token_hex(8)], default=str).encode())
    return f"{now:%Y%m%d-%H%M%S}-{label}-{h.hexdigest()[:6]}"


def write_atomic(root: Path, name: str, fill) -> Path:
    """Create root/name by letting ``fill(folder)`` write into a staging folder, renamed when complete;
    on any failure the staging folder is removed and the exception re-raised. Returns root/name.
    Raises ``FolderTaken`` if root/name exists already (nothing is overwritten)."""
    staging, final = root / f"{STAGING}{name}@{_owner()}", root / name
    made = [p for p in [root, *root.parents] if not p.exists()]   # made on the way (output.dir, its sweeps/ ...)
    try:
        staging.mkdir(parents=True)
        fill(staging)
        if final.exists():
            raise FolderTaken(errno.EEXIST, "already exists", str(final))
        with _signals_held():           # the rename is the registration: the folder is kept and known as kept
            try:
                os.rename(staging, final)
            except OSError as err:      # a non-empty folder of that name appeared meanwhile
                if err.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    raise FolderTaken(err.errno, "already exists", str(final)) from None
                raise
            STORED.append(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(made, skip_missing=True)     # one another run writes into meanwhile is not empty
        raise
    return final


def _jsonable(v):
    """A value as plain JSON: times as ISO text, numpy scalars as Python ones, NaN and NaT as null."""
    if v is None or isinstance(v, (str, bool)):
        return v
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v if isinstance(v, (int, float, bool)) else str(v)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f"{STAGING}{path.name}@{_owner()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_row(folder: Path, table: str, row: dict) -> Path:
    """Write a folder's catalog row (a row of ``runs``, ``sweeps``, ``sensitivity_analyses``,
    ``uncertainty_analyses`` or ``calibrations``) as the JSON file the catalog's view reads; returns it.
    Call it while the folder is being filled, so the row appears with the folder."""
    names = [c for c, _ in columns(table)]
    unknown = sorted(set(row) - set(names))
    if unknown:
        raise ValueError(f"{table}: no column(s) {', '.join(unknown)}")
    path = folder / TABLES[table].file
    _write_text_atomic(path, json.dumps({k: _jsonable(row.get(k)) for k in names}, indent=1) + "\n")
    return path


def with_run_id(df: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """A copy of a run's table with its run_id as the first column (the form of its Parquet file)."""
    out = df.drop(columns="run_id", errors="ignore")
    out.insert(0, "run_id", run_id)
    return out


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
    # libyaml's emitter where PyYAML has it (the same text, ~5x faster: a run writes one file per arm)
    return yaml.dump(obj, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False, allow_unicode=True)


# ---------------------------------------------------------------- the views

def _sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def view_sql(base: Path, table: str) -> str:
    """The SELECT of a catalog table's view over the folders under ``base``: every column typed as in
    ``columns(table)`` (missing in older files: null), the id from the folder's name where a file lacks it,
    the folder column from where the folder is; an empty, typed table while there are no files yet."""
    spec, cols = TABLES[table], columns(table)
    parts = [str(base)] + ([spec.folder] if spec.folder else []) + ["[0-9]*", spec.file]
    pattern = _sql_text("/".join(parts))
    if spec.file.endswith(".json"):
        types = ", ".join(f"{_sql_text(n)}: {_sql_text(t)}" for n, t in cols)
        source = f"read_json({pattern}, columns={{{types}}}, filename=true, allow_empty=true)"
    else:
        source = f"read_parquet({pattern}, union_by_name=true, filename=true, allow_empty=true)"
    stub = ", ".join(f'CAST(NULL AS {t}) AS "{n}"' for n, t in cols)
    folder_name = "parse_filename(parse_dirpath(filename))"

    def column(n: str, t: str) -> str:
        if n == spec.id:
            return f'coalesce(CAST("{n}" AS VARCHAR), {folder_name}) AS "{n}"'
        if n == spec.dir:
            return f'parse_dirpath(filename) AS "{n}"'
        return f'CAST("{n}" AS {t}) AS "{n}"'

    return (f"SELECT {', '.join(column(n, t) for n, t in cols)} FROM (SELECT {stub}, "
            f"CAST(NULL AS VARCHAR) AS filename WHERE false UNION ALL BY NAME SELECT * FROM {source})")


def query(sql: str, results: str | Path = "results") -> pd.DataFrame:
    """Run SQL over the catalog's tables, e.g. query("SELECT * FROM runs"); relative folders are taken from
    the project root, like output.dir. The views are built in memory over the folders each time, so the
    answer includes every complete run, also while other processes write, whatever state results.duckdb is in."""
    base = base_dir(results)
    if not base.is_dir():
        raise FileNotFoundError(f"no results folder {base}")
    with _ctrl_c():
        con = duckdb.connect()
        try:
            try:
                for table in TABLES:
                    if re.search(rf"\b{table}\b", sql, re.IGNORECASE):
                        con.execute(f"CREATE VIEW {table} AS {view_sql(base, table)}")
                return con.execute(sql).df()
            except duckdb.Error:
                damaged = damaged_folders(base)      # one unreadable file fails every query of its table
                if not damaged:
                    raise
                folder, why = damaged[0]
                more = f" (and {len(damaged) - 1} more folder(s))" if len(damaged) > 1 else ""
                raise DamagedFolder(f"{folder}/{why}{more}; `python -m sim catalog rebuild output.dir={base}` "
                                    f"moves unreadable folders to {base / DAMAGED} and the catalog works again") from None
        finally:
            con.close()


def _build_catalog(base: Path) -> Path:
    """Write base/results.duckdb afresh - the views and a note of the version and folder - in a staging
    folder, then move it into place (atomic: a reader sees the old file or the new one)."""
    staging = base / f"{STAGING}catalog-{secrets.token_hex(3)}@{_owner()}"
    staging.mkdir()
    try:
        with _ctrl_c():
            con = duckdb.connect(str(staging / CATALOG))
            try:
                for table in TABLES:
                    con.execute(f"CREATE VIEW {table} AS {view_sql(base, table)}")
                con.execute("CREATE TABLE _catalog AS SELECT ?::INTEGER AS version, ?::VARCHAR AS base, "
                            "now() AS built_at", [CATALOG_VERSION, str(base)])
                con.execute("CHECKPOINT")
            finally:
                con.close()
        os.replace(staging / CATALOG, base / CATALOG)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return base / CATALOG


def catalog_state(base: Path) -> str:
    """The state of base/results.duckdb: 'missing'; 'ok' (this version's views over this folder);
    'stale' (views of another version or folder); 'legacy' (tables of a version-1 catalog); 'busy' (another
    program, or another connection of this one, holds it open for writing); 'corrupt' (not a DuckDB file,
    empty, damaged, or not a catalog)."""
    path = base / CATALOG
    if not path.exists():
        return "missing"
    try:
        with _ctrl_c():
            con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as err:      # held for writing by another process, or by this one (a notebook's connection)
        held = isinstance(err, duckdb.ConnectionException) or "lock" in str(err).lower()
        return "busy" if held else "corrupt"
    try:
        with _ctrl_c():
            tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            if "runs" in tables:          # version 1's runs table has its columns; another program's is not one
                cols = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() "
                                                  "WHERE table_name = 'runs'").fetchall()}
                return "legacy" if set(V1_RUN_COLUMNS) <= cols else "corrupt"
            if "_catalog" not in tables:
                return "corrupt"
            views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
            note = con.execute("SELECT version, base FROM _catalog").fetchone()
            return "ok" if note == (CATALOG_VERSION, str(base)) and set(TABLES) <= views else "stale"
    except duckdb.Error:
        return "corrupt"
    finally:
        con.close()


# ---------------------------------------------------------------- abandoned entries and the lock

def _alive(host: str, pid: str) -> bool:
    """Whether the owner of a staging entry may still run (always True for another machine's process)."""
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:                 # exists, another user's
        return True
    return True


def _abandoned(path: Path, owner: str, max_age: float) -> bool:
    """An entry is abandoned if its owner (``host@pid``) ran on this machine and is gone, or it is older
    than ``max_age`` seconds (whoever owns it, and for entries of earlier versions without an owner)."""
    host, _, pid = owner.partition("@")
    if pid and not _alive(host, pid):
        return True
    return time.time() - path.stat().st_mtime > max_age


def clean_staging(base: Path, max_age: float = STALE_AFTER) -> list[Path]:
    """Remove the staging folders and probe files left by killed processes under ``base`` and its analysis
    folders (see ``_abandoned``); returns what was removed."""
    removed = []
    roots = [base] + [base / f for f in dict.fromkeys(s.folder for s in TABLES.values()) if f]
    for root in roots:
        if not root.is_dir():
            continue
        for path in root.glob(f"{STAGING}*"):
            name = path.name[len(STAGING):]
            owner = name.split("@", 1)[1] if "@" in name else ""
            try:
                if not _abandoned(path, owner, max_age):
                    continue
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
            except OSError:                     # renamed into place or removed meanwhile, or not ours to remove
                continue
    return removed


@contextlib.contextmanager
def _catalog_lock(base: Path, wait: float):
    """Hold base/.catalog.lock (an O_EXCL file naming its owner: works on shared file systems) while
    results.duckdb is rebuilt; yields False if another process holds it longer than ``wait`` seconds.
    The catalog is replaced atomically either way: the lock only avoids two processes doing the same work."""
    path, deadline = base / LOCK, time.monotonic() + wait
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                if _abandoned(path, path.read_text().strip(), LOCK_STALE_AFTER):
                    path.unlink(missing_ok=True)
                    continue
            except FileNotFoundError:
                continue
            if time.monotonic() >= deadline:
                yield False
                return
            time.sleep(0.2)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(_owner())
        break
    try:
        yield True
    finally:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- keeping the catalog usable

def ensure_catalog(base: Path) -> bool:
    """Best effort, after a folder was stored: make sure base/results.duckdb has this version's views; if
    another process is doing so, or the file is in use, skip quietly (the views are dynamic: they already
    show the new folder). A damaged file is left to the next pre-flight check or ``catalog rebuild``.
    Returns whether the catalog is known to be usable."""
    try:
        state = catalog_state(base)
        if state in ("ok", "busy", "corrupt", "legacy"):
            return state == "ok"
        with _catalog_lock(base, wait=0) as mine:
            if mine and catalog_state(base) in ("missing", "stale"):
                _build_catalog(base)
            return mine
    except (OSError, duckdb.Error):
        return False


def _move_aside(path: Path, why: str) -> Path | None:
    """Rename a catalog file to '<name>.<why>-<time>' (never delete); None if it is gone already."""
    aside = path.with_name(f"{path.name}.{why}-{_dt.datetime.now():%Y%m%d-%H%M%S-%f}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return None
    for extra in (".wal",):
        with contextlib.suppress(FileNotFoundError):
            os.rename(path.with_name(path.name + extra), aside.with_name(aside.name + extra))
    return aside


DAMAGED = "damaged"          # <output.dir>/damaged/: folders whose files cannot be read, moved out of the views


class DamagedFolder(OSError):
    """A folder under output.dir whose files the catalog reads cannot be read."""


def _unreadable(path: Path) -> str:
    """Why a file the catalog's views read cannot be read ('' if it can): a row file must be a JSON object,
    a table a Parquet file whose footer reads."""
    try:
        if path.suffix == ".json":
            if not isinstance(json.loads(path.read_text(encoding="utf-8")), dict):
                return "not a JSON object"
        else:
            import pyarrow.parquet as pq
            pq.read_metadata(path)
        return ""
    except Exception as err:        # noqa: BLE001 - OSError, bad JSON or text, pyarrow's ArrowInvalid: all unreadable
        return " ".join(str(err).split())[:160] or type(err).__name__


def damaged_folders(base: Path) -> list[tuple[Path, str]]:
    """The folders under ``base`` whose files the views read cannot be read, or a run's folder without its KPIs,
    with the first reason ('<file>: <why>'). A folder being written is a staging folder and never among them."""
    found: dict[Path, str] = {}
    for spec in TABLES.values():
        root = base / spec.folder if spec.folder else base
        for folder in sorted(root.glob("[0-9]*")):
            f = folder / spec.file
            if folder in found or not folder.is_dir() or not f.is_file():
                continue
            why = _unreadable(f)
            if why:
                found[folder] = f"{spec.file}: {why}"
    for folder in sorted(base.glob("[0-9]*")):          # a run without its KPIs would be listed with none
        if folder not in found and folder.is_dir() and (folder / TABLES["runs"].file).is_file() \
                and not (folder / TABLES["kpis"].file).is_file():
            found[folder] = f"{TABLES['kpis'].file}: missing"
    return sorted(found.items())


def _set_aside(base: Path, folders: list[tuple[Path, str]]) -> list[Path]:
    """Move damaged folders to base/damaged/ (never delete: a file may still be saved by hand); their new
    places, in order. A name taken there gets the time appended."""
    moved = []
    for folder, _ in folders:
        target = base / DAMAGED / folder.relative_to(base)
        if target.exists():
            target = target.with_name(f"{target.name}-{_dt.datetime.now():%Y%m%d-%H%M%S-%f}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(folder, target)
        moved.append(target)
    return moved


def _rebuild(base: Path) -> tuple[str, Path | None, dict[str, int], list[Path]]:
    """Rebuild base/results.duckdb (the caller holds the lock): move folders whose files cannot be read to
    base/damaged/, index folders of earlier versions (with the
    rows of a version-1 file, if that is what is there), then move a damaged or version-1 file aside (so
    if indexing fails, the next attempt still finds the old rows), remove abandoned staging folders, write
    the views. Returns (state found, where the old file went, indexed, removed)."""
    state = catalog_state(base)
    damaged = damaged_folders(base)
    moved = _set_aside(base, damaged)
    indexed = index_folders(base, legacy_rows(base / CATALOG) if state == "legacy" else {})
    if moved:
        indexed[f"unreadable folder(s) moved to {DAMAGED}/ ("
                + "; ".join(f"{m.name}: {why}" for m, (_, why) in zip(moved, damaged)) + ")"] = len(moved)
    aside = _move_aside(base / CATALOG, "v1" if state == "legacy" else "corrupt") \
        if state in ("legacy", "corrupt") else None
    removed = clean_staging(base)
    _build_catalog(base)
    return state, aside, indexed, removed


def _account(base: Path, state: str, aside: Path | None, indexed: dict[str, int], removed: list[Path]) -> str:
    """One line: what the catalog lists now, and what the rebuild did."""
    counts = query("SELECT " + ", ".join(f"(SELECT count(*) FROM {t}) AS {t}" for t in ROW_TABLES), base).iloc[0]
    text = ", ".join(f"{int(n)} {t.replace('_', ' ')}" for t, n in counts.items())
    if indexed:
        text += "; " + ", ".join(f"{n} {what}" for what, n in indexed.items())
    if removed:
        text += f"; {len(removed)} abandoned staging folder(s) removed"
    if aside is not None:
        kind = "version-1" if state == "legacy" else "unreadable (or foreign)"
        text += f"; the {kind} file was moved to {aside.name}"
    return text


def rebuild_catalog(base: Path, wait: float = 60.0) -> str:
    """Recreate base/results.duckdb from the folders (``python -m sim catalog rebuild``); returns a one-line
    account. A damaged file is moved aside as 'results.duckdb.corrupt-<time>', a version-1 catalog (tables)
    as 'results.duckdb.v1-<time>' after its rows were written into their folders; folders of earlier
    versions without a row file are indexed from their own files (``index_folders``); abandoned staging
    folders are removed. Waits up to ``wait`` seconds for another rebuild, then goes ahead anyway."""
    base = Path(base)
    if not base.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(base))
    with _catalog_lock(base, wait=wait):
        done = _rebuild(base)
    return f"catalog {base / CATALOG}: {_account(base, *done)}"


def repair_catalog(base: Path, echo: Callable[[str], None] | None = None, wait: float = 30.0) -> str:
    """If base/results.duckdb is damaged or of version 1, rebuild it (moving the old file aside) and say so in
    one line through ``echo``; if it is stale, rebuild it quietly. Never raises for the catalog's sake (a run
    does not need it); returns the state found."""
    state = catalog_state(base)
    if state in ("ok", "busy", "missing"):
        return state
    try:
        if state == "stale":                 # (views over another folder, e.g. a copied output.dir)
            with _catalog_lock(base, wait=0) as mine:
                if mine and catalog_state(base) in ("missing", "stale"):
                    _build_catalog(base)     # an error is the warning below (it was swallowed: no word)
            return state
        with _catalog_lock(base, wait=wait) as mine:
            done = _rebuild(base) if mine and catalog_state(base) in ("corrupt", "legacy") else None
        if done is not None and echo:
            was = "of version 1" if state == "legacy" else "unreadable or not a catalog of this tool"
            echo(f"note: the catalog {base / CATALOG} was {was}; "
                 f"rebuilt it from the folders: {_account(base, *done)}")
    except (OSError, duckdb.Error, ValueError) as err:
        if echo:
            what = {"stale": "a catalog of another folder", "legacy": "of version 1"}.get(
                state, "unreadable or not a catalog of this tool")
            echo(f"warning: the catalog {base / CATALOG} is {what} and could not be rebuilt "
                 f"({' '.join(str(err).split())}); runs are stored anyway; `python -m sim catalog rebuild` retries")
    return state


def _probe(base: Path) -> None:
    """Create and delete a file in ``base`` (raises OSError if it cannot be written)."""
    probe = base / f"{STAGING}probe-{secrets.token_hex(3)}@{_owner()}"
    probe.write_text("probe\n")
    probe.unlink()


def folder_problem(path: Path) -> str:
    """Why ``path`` cannot be used as a folder to write in ('' if it can), found by trying as check_output_dir
    does: the missing folders are created, a probe file is written in the last (``_probe``), and the folders
    created are removed again (permissions alone do not tell, e.g. for root or on a read-only file system). For
    folders another program writes into (Hydra's); output.dir has check_output_dir."""
    if not str(path):
        return "empty"
    p = path if path.is_absolute() else Path.cwd() / path
    if p.exists() and not p.is_dir():
        return "not a folder"
    made: list[Path] = []
    try:
        for q in reversed([q for q in [p, *p.parents] if not q.exists()]):
            q.mkdir()
            made.insert(0, q)                 # deepest first, as _remove_empty takes them
        _probe(p)
    except OSError as err:
        return f"cannot be written ({err.strerror or err})"
    finally:
        _remove_empty(made)
    return ""


def check_output_dir(output_dir: str | Path, echo: Callable[[str], None] | None = None) -> Path:
    """The pre-flight check before anything is simulated: output.dir can be created and written (a probe
    file is created and deleted; folders created for the check are removed again), abandoned staging
    folders are removed and a damaged catalog is rebuilt (see ``repair_catalog``). Returns the folder;
    raises ``OutputDirError`` with the reason if it cannot be used."""
    base = base_dir(output_dir)
    odd = name_problem(base)
    if odd:
        raise OutputDirError(odd)
    if base.exists() and not base.is_dir():
        raise OutputDirError("it exists and is not a folder")
    first = next(p for p in base.parents if p.exists())
    if not first.is_dir():
        raise OutputDirError(f"cannot create the folder: {first} is a file, not a folder")
    created = [p for p in [base, *base.parents] if not p.exists()]
    for attempt in range(3):
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            _remove_empty(created, skip_missing=True)    # the parents it made (a last name too long, a full disk)
            raise OutputDirError(f"cannot create the folder ({err.strerror or err})") from None
        try:
            _probe(base)
            break
        except FileNotFoundError:           # another process's check removed the folder it had created
            if attempt == 2:
                _remove_empty(created)
                raise OutputDirError("cannot write in the folder (it keeps disappearing)") from None
        except OSError as err:
            _remove_empty(created)
            raise OutputDirError(f"cannot write in the folder ({err.strerror or err})") from None
    if created:
        _remove_empty(created)
        return base
    for sub in SUBFOLDERS:                   # the folders a sweep or an analysis is stored in, where they exist
        folder = base / sub
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise OutputDirError(f"{folder} exists and is not a folder (sweeps, analyses and calibrations are "
                                     f"stored in it); allowed: move it away")
            try:
                _probe(folder)
            except OSError as err:
                raise OutputDirError(f"cannot write in {folder} ({err.strerror or err})") from None
    clean_staging(base)
    repair_catalog(base, echo)
    return base


def _remove_empty(folders: list[Path], skip_missing: bool = False) -> None:
    """Remove folders (deepest first) if they are still empty; another process may be using them. With
    ``skip_missing``, folders that were never made (or whose name is too long to exist) are passed over."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError as err:
            if skip_missing and err.errno in (errno.ENOENT, errno.ENAMETOOLONG):
                continue
            return


# ---------------------------------------------------------------- folders of earlier versions

def ensure_schema(con) -> None:
    """Give a version-1 catalog's tables (open in ``con``) every column of today's tables: create the missing
    tables, add the columns newer than the catalog. Used when such a catalog's rows are moved into folders."""
    for table in TABLES:
        cols = ", ".join(f'"{n}" {t}' for n, t in columns(table))
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
    for sql in _MIGRATIONS:
        con.execute(sql)


def legacy_rows(path: Path) -> dict[str, list[dict]]:
    """The rows of a version-1 catalog's row tables (runs and the analyses), with today's columns."""
    with _ctrl_c():
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH {_sql_text(str(path))} AS old (READ_ONLY)")
            old = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'old'").fetchall()}
            for table in ROW_TABLES:
                if table in old:
                    con.execute(f"CREATE TABLE {table} AS SELECT * FROM old.{table}")
            ensure_schema(con)
            return {t: con.execute(f"SELECT * FROM {t}").df().to_dict("records") for t in ROW_TABLES}
        finally:
            con.close()


def _created(name: str, folder: Path) -> _dt.datetime:
    """When a folder was made: the time in its name ('yyyymmdd-hhmmss-…'), else its modification time."""
    try:
        return _dt.datetime.strptime(name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        return _dt.datetime.fromtimestamp(folder.stat().st_mtime)


def _label(name: str) -> str:
    """The label in a folder name '<yyyymmdd>-<hhmmss>-<label>-<hex>'."""
    return "-".join(name.split("-")[2:-1])


def legacy_run_row(folder: Path, sweep_id: str | None = None) -> dict | None:
    """A ``runs`` row for a run folder written before run.json existed, from its config.yaml, configs/,
    overrides.txt and code_version.txt and its name; None if it has no config.yaml."""
    if not (folder / "config.yaml").is_file():
        return None
    tree = yaml.safe_load((folder / "config.yaml").read_text()) or {}
    arms = {p.stem for p in (folder / "configs").glob("*.yaml")} - {"warmup"}
    label = _label(folder.name)
    reference = next((a for a in sorted(arms) if a.replace("+", "_") == label), label)
    scenarios = [reference] + [c for c in (tree.get("compare") or []) if c != reference and c in arms]
    run = tree.get("run") or {}
    text = {f: (folder / f).read_text().strip() if (folder / f).is_file() else None
            for f in ("overrides.txt", "code_version.txt")}
    return {"run_id": folder.name, "created_at": _created(folder.name, folder), "reference": reference,
            "scenarios": ",".join(dict.fromkeys(scenarios)), "municipality": (tree.get("municipality") or {}).get("name"),
            "seed": run.get("seed"), "replications": run.get("replications"), "horizon_years": run.get("horizon_years"),
            "warmup_years": run.get("warmup_years"), "overrides": " ".join((text["overrides.txt"] or "").split("\n")),
            "run_dir": str(folder), "code_version": text["code_version.txt"], "config_json": json.dumps(tree, default=str),
            "sweep_id": sweep_id}


def _legacy_sweep_row(folder: Path) -> dict:
    """A ``sweeps`` row for a sweep folder without sweep.json, from its jobs.csv."""
    jobs = pd.read_csv(folder / "jobs.csv") if (folder / "jobs.csv").is_file() else pd.DataFrame()
    cols = list(jobs.columns)
    keys = cols[cols.index("label") + 1:cols.index("run_id")] if {"label", "run_id"} <= set(cols) else []
    return {"sweep_id": folder.name, "created_at": _created(folder.name, folder), "swept_keys": ",".join(keys),
            "n_jobs": len(jobs), "run_ids": ",".join(map(str, jobs.get("run_id", []))), "sweep_dir": str(folder),
            "overrides": json.dumps(list(jobs.get("overrides", [])))}


def _legacy_analysis_row(table: str, folder: Path) -> dict:
    """A minimal row for an analysis folder without its JSON file: id, time, municipality (from the name) and
    folder; the rest is null (it was only in the version-1 catalog)."""
    if table == "sweeps":
        return _legacy_sweep_row(folder)
    spec = TABLES[table]
    return {spec.id: folder.name, "created_at": _created(folder.name, folder), "municipality": _label(folder.name),
            spec.dir: str(folder)}


def _finance_parquet(folder: Path) -> int:
    """Parquet (with run_id) for the finance CSVs of a run folder written before they existed; returns how many."""
    n = 0
    for table in FINANCE_TABLES:
        csv, parquet = folder / f"{table}.csv", folder / f"{table}.parquet"
        if csv.is_file() and not parquet.exists():
            tmp = folder / f"{STAGING}{parquet.name}@{_owner()}"
            with_run_id(pd.read_csv(csv), folder.name).to_parquet(tmp, index=False)
            os.replace(tmp, parquet)
            n += 1
    return n


def index_folders(base: Path, legacy: dict[str, list[dict]] | None = None) -> dict[str, int]:
    """Give every folder of an earlier version what the views read: its row file - from ``legacy`` (the rows of
    a version-1 catalog) where it has one, else derived from the folder's own files - and Parquet for its
    finance CSVs. Adds files only, never changes one. Returns counts of what was done (empty: nothing)."""
    legacy, sweep_of = legacy or {}, _sweep_of(base)
    done: dict[str, int] = {}
    for table in ROW_TABLES:
        spec = TABLES[table]
        root = base / spec.folder if spec.folder else base
        known = {str(r.get(spec.id)): r for r in legacy.get(table, [])}
        folders = sorted(p for p in root.glob("[0-9]*") if p.is_dir())
        gone = len(set(known) - {f.name for f in folders})
        if gone:                                    # their rows stay in the moved version-1 file
            done[f"{table.replace('_', ' ')} of the old catalog without a folder"] = gone
        for folder in folders:
            if (folder / spec.file).exists():
                continue
            row = known.get(folder.name) or (legacy_run_row(folder, sweep_of.get(folder.name)) if table == "runs"
                                             else _legacy_analysis_row(table, folder))
            if row is None:
                done["folders without config.yaml left out"] = done.get("folders without config.yaml left out", 0) + 1
                continue
            write_row(folder, table, {**row, **({spec.dir: str(folder)} if spec.dir else {})})
            what = f"{table.replace('_', ' ')} indexed from the " + ("old catalog" if folder.name in known else "folder")
            done[what] = done.get(what, 0) + 1
    for folder in sorted(base.glob("[0-9]*")):
        if folder.is_dir() and (n := _finance_parquet(folder)):
            done["finance tables converted to Parquet"] = done.get("finance tables converted to Parquet", 0) + n
    return done


def _sweep_of(base: Path) -> dict[str, str]:
    """run_id -> sweep_id from the sweep folders' jobs.csv (for run folders of earlier versions)."""
    out = {}
    for jobs in sorted((base / TABLES["sweeps"].folder).glob("[0-9]*/jobs.csv")):
        with contextlib.suppress(ValueError, KeyError, OSError, pd.errors.ParserError):
            out.update({str(r): jobs.parent.name for r in pd.read_csv(jobs)["run_id"]})
    return out
