"""The municipality's own files: today's caseload (``caseload=<file>``) and a budget (``budget=<file>``).

Both are CSV (comma or semicolon, decimal point or comma, as a Danish Excel saves it) or XLSX (first sheet),
one row per case / per measure, with English or Danish column names (``COLUMNS``). Every row is checked
before anything runs; every bad row is reported at once - file, row number (as the spreadsheet shows it),
column, value and what is allowed - in one :class:`ConfigError`, and nothing runs.

Caseload (one row per open case; pseudonymised: no CPR numbers, no names):

==================  =========================  ====================================================
column              Danish                     meaning
==================  =========================  ====================================================
id                  sags_id                    pseudonymised case id (optional; unique if given)
birth               foedt                      birth year and month (YYYY-MM) or date - or:
age                 alder                      age in years at the caseload date (decimal; a whole number is
                                               completed years: 7 = 7 up to 8, taken as 7.5 or as old as
                                               the measure or placement)
step                indsats                    the current measure: a step name or its label_da
start               startdato                  the date the current measure started
need                behov                      need level (optional; drawn from the step if left out)
placement_start     anbringelse_start          date the current placement started, if earlier than
                                               ``start`` (optional; placement steps only)
==================  =========================  ====================================================

Budget (one row per measure): ``measure``/``indsats`` (a step name or label_da), ``count``/``antal``
(children on the measure on average over the budget year, "helårspersoner") and
``unit_price_dkk``/``enhedspris`` (DKK per child-year, in the budget year's prices).
"""
from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..common.units import DAYS_PER_YEAR
from .errors import ConfigError
from .schema import MAX_NUMBER

COLUMNS = {      # canonical name -> accepted names (lower case)
    "id": ("id", "sags_id", "sagsid", "case_id"),
    "birth": ("birth", "foedt", "født", "fodt", "birth_month"),
    "age": ("age", "alder"),
    "step": ("step", "indsats", "measure", "foranstaltning"),
    "start": ("start", "startdato", "start_date", "measure_start"),
    "need": ("need", "behov", "need_level", "behovsniveau"),
    "placement_start": ("placement_start", "anbringelse_start", "anbringelsesstart"),
    "count": ("count", "antal", "helaarspersoner", "helårspersoner"),
    "unit_price_dkk": ("unit_price_dkk", "enhedspris", "enhedspris_kr", "unit_price"),
}
CASELOAD_REQUIRED = ("step", "start")
BUDGET_REQUIRED = ("step", "count", "unit_price_dkk")
MAX_REPORTED = 50            # bad rows listed in one error at most (the count says how many there were)
HEADER_ROWS = 1              # the spreadsheet's row number of a data row = its index in the file + 1 + HEADER_ROWS
# an age given as a whole number is in completed years (alder 7 = from 7 up to 8 years, as case systems and Danish
# usage give it): the child is taken as this far into its year, the middle of the range (a decimal age is exact)
COMPLETED_YEAR_MIDPOINT = 0.5


@dataclass(frozen=True)
class Case:
    """One open case of today's caseload, in model units (days before the caseload date)."""
    row: int                        # the row number in the file (as a spreadsheet shows it)
    age_days: float                 # age at the caseload date
    step: str                       # step name
    days_on_step: float             # days since the current measure started
    level: str | None               # need level, or None (drawn from the step)
    days_placed: float | None       # days since the current placement started (placement steps), else None


@dataclass(frozen=True)
class Caseload:
    """Today's caseload: the file, the date it describes and its cases."""
    path: str
    date: dt.date
    date_source: str                # "caseload_date" or "the file's latest start date"
    cases: tuple


@dataclass(frozen=True)
class BudgetLine:
    """One measure of a budget: children on average over the year x price per child-year."""
    row: int
    step: str
    count: float
    unit_price_dkk: float


@dataclass(frozen=True)
class Budget:
    """A budget as counts x unit prices per measure."""
    path: str
    lines: tuple


def read_table(path: str, key: str) -> tuple[pd.DataFrame, Path, bool]:
    """(table, path, danish): the file at ``path`` as strings (CSV: comma or semicolon separated; XLSX: its first
    sheet), with lower-case column names, and whether its numbers are written the Danish way (a semicolon-
    separated CSV, as a Danish Excel saves it: decimal comma, thousands point). ConfigError (key = path) if it
    is missing or cannot be read."""
    p = Path(path).expanduser()
    if not p.is_file():
        what = ("a folder, not a file" if p.is_dir() else "not a regular file (a pipe, device or socket)"
                if p.exists() else "no such file")
        raise ConfigError(f"{key} = {path!r}: {what}; {TABLE_ALLOWED}")
    suffix = p.suffix.lower()
    try:
        danish = False
        if suffix in WORKBOOK_SUFFIXES:
            # (only an empty cell is missing: 'nan' or 'NA' typed in a cell is text, reported as such)
            df = pd.read_excel(p, dtype=str, engine="openpyxl", keep_default_na=False, na_values=[""])
            # a date cell comes as 'YYYY-MM-DD 00:00:00': its date, as the user sees it in Excel and in messages
            df = df.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1", regex=True)
        elif suffix in TEXT_SUFFIXES:
            raw = p.read_bytes()
            if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise ConfigError(f"{key} = {path!r}: UTF-16 text (Excel's 'Unicode text'), not a CSV; "
                                  f"{TABLE_ALLOWED} (in Excel: Save as 'CSV UTF-8' or 'CSV')")
            try:                        # UTF-8 (Excel's "CSV UTF-8"), else Windows-1252 (Excel's Danish "CSV")
                text, encoding = raw.decode("utf-8-sig"), "utf-8-sig"
            except UnicodeDecodeError:
                text, encoding = raw.decode("cp1252", errors="strict"), "cp1252"
            header = text.splitlines()[0] if text else ""
            if header.count("\t") > max(header.count(";"), header.count(",")):
                raise ConfigError(f"{key} = {path!r}: tab-separated text (tabs between the cells of its header), not "
                                  f"a CSV; {TABLE_ALLOWED} (in Excel: Save as 'CSV UTF-8' or 'CSV')")
            danish = header.count(";") > header.count(",")
            sep = ";" if danish else ","
            _check_cells(text, sep, key, path)
            try:
                df = pd.read_csv(p, dtype=str, sep=sep, encoding=encoding, skip_blank_lines=False,
                                 keep_default_na=False, na_values=[""])
            except pd.errors.ParserError as err:
                raise ConfigError(_parser_problem(err, key, path, sep)) from None
        else:
            raise ConfigError(f"{key} = {path!r}: unknown file type {suffix!r}; {TABLE_ALLOWED}")
    except ConfigError:
        raise
    except Exception as err:        # noqa: BLE001 - any reader failure is the user's file
        raise ConfigError(f"{key} = {path!r}: cannot be read ({type(err).__name__}: {' '.join(str(err).split())}); "
                          f"{TABLE_ALLOWED}, with a header row") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df.dropna(how="all"), p, danish


def _check_cells(text: str, sep: str, key: str, path: str) -> None:
    """ConfigError (``_parser_problem``'s line) for the first row of a CSV with more cells than its header - a
    separator inside a number (1,230 in a comma CSV). pandas reports it only from the second data row on: extra
    cells in the first one silently become its index."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        header = next(reader, [])
        for row in reader:
            if len(row) > len(header):
                raise ConfigError(_parser_problem(
                    f"Expected {len(header)} fields in line {reader.line_num}, saw {len(row)}", key, path, sep))
    except csv.Error:             # pandas reads it (or says why it cannot)
        return


def _parser_problem(err, key: str, path: str, sep: str) -> str:
    """One line for a CSV that pandas cannot split into cells: the file's line, the cells found and what is
    allowed (pandas: 'Error tokenizing data. C error: Expected 3 fields in line 3, saw 4', over two lines)."""
    text = " ".join(str(err).split())
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        want, line, saw = m.groups()
        if sep == ",":
            allowed = ("a cell with ',' in it in quotes (\"1,230\" - or the number without it, 1230), or the file "
                       "saved with ';' between the cells, as a Danish Excel saves 'CSV'")
        else:
            allowed = "a cell with ';' in it in quotes (\"a;b\")"
        return (f"{key} = {path!r}: line {line} has {saw} cells, the header {want} ('{sep}' between the cells; a "
                f"'{sep}' inside a number or text starts a new cell); allowed: {allowed}")
    m = re.search(r"EOF inside string", text)
    if m:
        return (f"{key} = {path!r}: a quote (\") that is never closed; allowed: quotes in pairs around a cell "
                f"(\"text\"), with \"\" for a quote inside it")
    return f"{key} = {path!r}: cannot be read ({type(err).__name__}: {text}); {TABLE_ALLOWED}, with a header row"


def _columns(df: pd.DataFrame, key: str, path: str, required: tuple, optional: tuple) -> dict[str, str]:
    """canonical name -> the file's column; ConfigError naming the missing or unknown columns."""
    found, unknown = {}, []
    for col in df.columns:
        canon = next((k for k, names in COLUMNS.items() if col in names and k in required + optional), None)
        if canon is None:
            unknown.append(col)
        elif canon in found:
            raise ConfigError(f"{key} = {path!r}: columns {found[canon]!r} and {col!r} both give {canon}")
        else:
            found[canon] = col
    need = [k for k in required if k not in found]
    if need or unknown:
        allowed = "; ".join(f"{k} ({'/'.join(COLUMNS[k][:2])})" for k in required + optional)
        what = (f"missing column(s) {', '.join(need)}" if need else "") + \
               ("; " if need and unknown else "") + (f"unknown column(s) {', '.join(unknown)}" if unknown else "")
        raise ConfigError(f"{key} = {path!r}: {what}; allowed columns: {allowed}")
    return found


def parse_date(text: str, month_only: bool = False) -> dt.date | None:
    """A date from YYYY-MM-DD, DD-MM-YYYY, DD.MM.YYYY or DD/MM/YYYY (a time of day after it is ignored);
    with ``month_only`` also YYYY-MM (the 15th of the month). None if it is none of these."""
    s = str(text).strip().split(" ")[0].split("T")[0]
    for pattern, order in ((r"(\d{4})-(\d{1,2})-(\d{1,2})", "ymd"), (r"(\d{1,2})[-./](\d{1,2})[-./](\d{4})", "dmy")):
        m = re.fullmatch(pattern, s)
        if m:
            a, b, c = (int(x) for x in m.groups())
            y, mo, d = (a, b, c) if order == "ymd" else (c, b, a)
            try:
                return dt.date(y, mo, d)
            except ValueError:
                return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", s) if month_only else None
    if m and 1 <= int(m.group(2)) <= 12:
        return dt.date(int(m.group(1)), int(m.group(2)), 15)
    return None


GROUP_SPACES = " \u00a0\u202f"   # a space, a no-break space or a narrow one between groups of three digits


def number_allowed(whole: bool, decimal_comma: bool) -> str:
    """What a numeric cell of a CSV may hold (``read_number``)."""
    if decimal_comma:
        return ("allowed: a whole number: digits, or '.' between groups of three digits (40000 or 40.000)"
                if whole else
                "allowed: a number with a decimal comma (8,5), optionally '.' between groups of three digits "
                "(9.000 or 1.234,5)")
    return ("allowed: a whole number (digits only, no thousands separator)" if whole else
            "allowed: a number with a decimal point (8.5), no thousands separator")


def read_number(text: str, decimal_comma: bool, whole: bool = False, exact: bool = False) -> float | int:
    """A cell of a CSV as a number (an int if ``whole``); ValueError saying what is allowed. Numbers are read by
    one rule, never guessed: the decimal mark is ',' in a ';'-separated file (``decimal_comma``: as a Danish
    Excel saves it), '.' otherwise; a thousands separator only between groups of three digits: '.' (with the
    decimal comma) or a space; a sign may lead, and a decimal number may have an exponent unless its thousands
    are grouped; a whole number takes no decimal mark and no exponent. A decimal mark after 1-3 digits and
    before exactly three (9,000 / 9.000) could be a thousands separator of the other convention: refused as
    ambiguous - unless ``exact`` (a spreadsheet's own numeric cell, written out by the program: 1.125 is 1.125).
    Not finite: refused."""
    t = text.strip()
    mark = "," if decimal_comma else "."
    seps = re.escape(("." if decimal_comma else "") + GROUP_SPACES)
    m = re.fullmatch(rf"([+-]?)(?:([0-9]+)|([1-9][0-9]{{0,2}}([{seps}])[0-9]{{3}}(?:\4[0-9]{{3}})*))?"
                     rf"(?:{re.escape(mark)}([0-9]*))?(?:[eE]([+-]?[0-9]+))?", t)
    allowed = number_allowed(whole, decimal_comma)
    if not m:
        raise ValueError(allowed)
    sign, plain, grouped, _, frac, exp = m.groups()
    digits = plain if plain is not None else re.sub("[^0-9]", "", grouped or "")
    if not (digits or frac) or (exp is not None and (grouped or whole)) or (whole and frac is not None):
        raise ValueError(allowed)
    if whole:
        return int(sign + digits)
    if not exact and frac is not None and len(frac) == 3 and exp is None and re.fullmatch("[1-9][0-9]{0,2}", plain or ""):
        small = f"{float(f'{sign}{plain}.{frac}'):g}".replace(".", mark)
        rule = ("a decimal comma; '.' only between groups of three digits" if decimal_comma else
                "a decimal point, no thousands separator")
        raise ValueError(f"ambiguous ('{mark}' before three digits may be a thousands separator); allowed: {small} "
                         f"or {sign}{plain}{frac} ({rule})")
    v = float(f"{sign}{digits or '0'}.{frac or '0'}" + (f"e{exp}" if exp else ""))
    if not math.isfinite(v):
        raise ValueError(allowed)
    return v


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")     # a workbook's numeric cells are exact numbers, not text to interpret
TEXT_SUFFIXES = (".csv", ".txt")           # read as CSV text: comma or semicolon separated, UTF-8 or Windows-1252
TABLE_ALLOWED = ("allowed: a CSV file (.csv or .txt; comma or semicolon separated, UTF-8 or Windows-1252) or an Excel "
                 "workbook (.xlsx, .xlsm)")


def _number_rule(danish: bool, workbook: bool = False) -> str:
    """The number format of a caseload or budget file, in a few words (a workbook: its number cells)."""
    if workbook:
        return ("a number cell of the workbook; a number typed as text takes a decimal point and no thousands "
                "separator, e.g. 1250000.5")
    return ("';' between the cells: decimal comma, '.' only between groups of three digits, e.g. 1.250.000,5"
            if danish else "',' between the cells: decimal point, no thousands separator, e.g. 1250000.5")


def shown(v: str | None) -> str:
    """A cell as a message shows it: its text in quotes, or 'empty'."""
    return "empty" if v is None else repr(v)


def parse_number(text: str, danish: bool = False, exact: bool = False) -> float | None:
    """A number of a caseload or budget file by ``read_number``'s rule (``danish``: a ';'-separated CSV, decimal
    comma; ``exact``: a workbook's cell); None if it is none."""
    try:
        return float(read_number(text, danish, exact=exact))
    except ValueError:
        return None


def _cell(row, col: str | None) -> str | None:
    if col is None:
        return None
    v = row[col]
    if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
        return None
    return str(v).strip()


def _step_names(cfg) -> dict[str, str]:
    """Lower-case step name and label_da -> step name, for every step but the ground step."""
    out = {}
    for name, st in cfg.staircase.steps.items():
        if name != cfg.staircase.ground_step:
            out[name.lower()] = name
            out[st.label_da.lower()] = name
    return out


def _raise_rows(key: str, path: str, errors: list[str], n_rows: int) -> None:
    if errors:
        shown = errors[:MAX_REPORTED]
        more = f"\n  ... and {len(errors) - MAX_REPORTED} more" if len(errors) > MAX_REPORTED else ""
        raise ConfigError(f"{key} = {path!r}: {len(errors)} problem(s) in {n_rows} row(s); nothing ran:\n  "
                          + "\n  ".join(shown) + more)


def read_caseload(path: str, cfg, date: dt.date | None) -> Caseload:
    """Today's caseload from ``path``, checked against the reference arm's configuration ``cfg``; ``date`` is
    caseload_date (None: the last day of the month of the file's latest start date)."""
    df, p, danish = read_table(path, "caseload")
    cols = _columns(df, "caseload", path, CASELOAD_REQUIRED, ("id", "birth", "age", "need", "placement_start"))
    if ("birth" in cols) == ("age" in cols):
        raise ConfigError(f"caseload = {path!r}: give the child's age as one column, birth (foedt, YYYY-MM) or age "
                          f"(alder, years){'; not both' if 'birth' in cols else ''}")
    if df.empty:
        raise ConfigError(f"caseload = {path!r}: no cases; allowed: a header row and one row per open case")
    starts = [parse_date(_cell(r, cols["start"]) or "") for _, r in df.iterrows()]
    source = "caseload_date"
    if date is None:
        known = [d for d in starts if d is not None]
        if not known:
            raise ConfigError(f"caseload = {path!r}: no valid start date to take the caseload date from; "
                              "set caseload_date=YYYY-MM-DD")
        last = max(known)
        date = dt.date(last.year, last.month, calendar.monthrange(last.year, last.month)[1])
        source = "the last day of the month of the file's latest start date"
    check = _CaseRules(cfg, cols, date, danish, exact=p.suffix.lower() in WORKBOOK_SUFFIXES)
    errors, cases, ids = [], [], {}
    for i, (idx, r) in enumerate(df.iterrows()):
        row = int(idx) + 1 + HEADER_ROWS           # blank lines keep their numbers (dropped, not renumbered)
        cid = _cell(r, cols.get("id"))
        if cid is not None:
            if cid in ids:
                errors.append(f"row {row}, column {cols['id']}: {cid!r} - the id is given twice (also row "
                              f"{ids[cid]}); each case once")
            ids.setdefault(cid, row)
        case = check.case(r, row, starts[i], errors)
        if case is not None:
            cases.append(case)
    _raise_rows("caseload", path, errors, len(df))
    people = cfg.municipality.children_0_17 + cfg.municipality.young_18_22
    if len(cases) > people:
        raise ConfigError(f"caseload = {path!r}: {len(cases):,} open cases, more than the {people:,} children and "
                          f"young people aged 0-22 of municipality {cfg.municipality.name!r}; allowed: at most one case "
                          f"per child (is it the file of another municipality, or are rows repeated?)")
    return Caseload(path=str(p), date=date, date_source=source, cases=tuple(cases))


class _CaseRules:
    """The checks of one caseload row against a configuration and the caseload date."""

    def __init__(self, cfg, cols: dict, date: dt.date, danish: bool, exact: bool = False):
        self.cols, self.date, self.danish, self.exact = cols, date, danish, exact
        self.steps = _step_names(cfg)
        self.step_list = ", ".join(n for n in cfg.staircase.steps if n != cfg.staircase.ground_step)
        self.levels = list(cfg.need.levels)
        self.placement = {n: st.placement for n, st in cfg.staircase.steps.items()}
        self.adult, self.end = cfg.casework.aftercare.from_age, cfg.casework.aftercare.to_age

    def age(self, r, bad) -> tuple[float | None, float]:
        """(age, span): the age in years at the caseload date, from the age or the birth column, and the years it
        may be older than that - 1 for an age given as a whole number (completed years, as case systems give
        them: 7 = from 7 up to 8), else 0; (None, 0) after a problem."""
        col = "age" if "age" in self.cols else "birth"
        v = _cell(r, self.cols[col])
        if col == "age":
            age = parse_number(v, self.danish, self.exact) if v is not None else None
            if age is None:
                bad(col, v, "the age in years, e.g. 7 or " + ("7,5" if self.danish and not self.exact else "7.5")
                    + f" ({_number_rule(self.danish, self.exact)})")
                return None, 0.0
            if not 0 <= age < self.end:
                bad(col, v, f"age {age:g} at {self.date}; allowed: 0 up to (not incl.) {self.end} years")
                return None, 0.0
            return float(age), 1.0 if float(age).is_integer() else 0.0
        else:
            b = parse_date(v or "", month_only=True)
            if b is None:
                bad(col, v, "the birth year and month, YYYY-MM (or a date)")
                return None, 0.0
            age = (self.date - b).days / DAYS_PER_YEAR
        if not 0 <= age < self.end:
            bad(col, v, f"age {age:.1f} at {self.date}; allowed: 0 up to (not incl.) {self.end} years")
            return None, 0.0
        return age, 0.0

    def case(self, r, row: int, start: dt.date | None, errors: list) -> Case | None:
        """The row as a Case, or None after adding its problems to ``errors``."""
        cols, date = self.cols, self.date

        def bad(col, v, allowed):
            errors.append(f"row {row}, column {cols.get(col, col)}: {shown(v)} - {allowed}")

        age, span = self.age(r, bad)
        said = "" if age is None else f"{age:g}" if span else f"{age:.1f}"      # the age as the file gives it
        sv = _cell(r, cols["step"])
        step = self.steps.get((sv or "").lower())
        if step is None:
            bad("step", sv, f"allowed: {self.step_list} (or their Danish labels)")
        elif age is not None and age >= self.adult and not self.placement[step]:
            bad("step", sv, f"the young person is {said}; from {self.adult} only placed young people go on (aftercare)")
        raw = _cell(r, cols["start"])
        if start is None:
            bad("start", raw, "the date the measure started, e.g. 2026-03-01 or 01-03-2026")
        elif start > date:
            bad("start", raw, f"after the caseload date {date}; allowed: on or before it")
            start = None
        elif age is not None and (date - start).days > (age + span) * DAYS_PER_YEAR + 1:
            bad("start", raw, f"before the child was born (age {said} at {date}"
                + (", in completed years: under " + f"{age + span:g})" if span else ")"))
            start = None
        level = _cell(r, cols.get("need"))
        if level is not None and level.lower() not in self.levels:
            bad("need", level, "allowed: " + ", ".join(self.levels) + " (or leave it empty)")
            level = None
        placed = self.placed(r, step, start, bad)
        if step is None or start is None or age is None or placed is False:
            return None
        days = float((date - start).days)
        if placed is None and self.placement[step]:
            placed = days
        if span:        # completed years: the middle of the year, but never younger than the measure or placement
            lived = max(days, placed or 0.0) + 1
            age = min(max(age + COMPLETED_YEAR_MIDPOINT, lived / DAYS_PER_YEAR), age + span - 1 / DAYS_PER_YEAR)
        return Case(row, age * DAYS_PER_YEAR, step, days, level.lower() if level else None, placed)

    def placed(self, r, step: str | None, start: dt.date | None, bad) -> float | None | bool:
        """Days since the placement started (None: not given; False: bad)."""
        pv = _cell(r, self.cols.get("placement_start"))
        if pv is None:
            return None
        ps = parse_date(pv)
        if step is not None and not self.placement[step]:
            bad("placement_start", pv, f"{step} is not a placement; leave it empty")
        elif ps is None or ps > self.date:
            bad("placement_start", pv, f"a date on or before the caseload date {self.date}")
        elif start is not None and ps > start:
            bad("placement_start", pv, f"after the measure's start {start}; the placement began on or before it")
        else:
            return float((self.date - ps).days)
        return False


def read_budget(path: str, cfg) -> Budget:
    """A budget (counts x unit prices per measure) from ``path``, checked against the steps of ``cfg``."""
    df, p, danish = read_table(path, "budget")
    exact = p.suffix.lower() in WORKBOOK_SUFFIXES
    cols = _columns(df, "budget", path, BUDGET_REQUIRED, ())
    if df.empty:
        raise ConfigError(f"budget = {path!r}: no rows; allowed: a header row and one row per measure")
    steps = _step_names(cfg)
    errors, lines, seen = [], [], {}
    for idx, r in df.iterrows():
        row = int(idx) + 1 + HEADER_ROWS
        sv = _cell(r, cols["step"])
        step = steps.get((sv or "").lower())
        if step is None:
            errors.append(f"row {row}, column {cols['step']}: {shown(sv)} - allowed: "
                          + ", ".join(n for n in cfg.staircase.steps if n != cfg.staircase.ground_step)
                          + " (or their Danish labels)")
        elif step in seen:
            errors.append(f"row {row}, column {cols['step']}: {sv!r} - the measure is given twice (also row "
                          f"{seen[step]}); each measure once")
        else:
            seen[step] = row
        vals = {}
        people = cfg.municipality.children_0_17 + cfg.municipality.young_18_22
        for k, what, most in (("count", "children on average over the year (helårspersoner), a number >= 0", people),
                              ("unit_price_dkk", "DKK per child-year, a number >= 0", MAX_NUMBER)):
            v = _cell(r, cols[k])
            x = parse_number(v, danish, exact) if v is not None else None
            if x is None or x < 0:
                errors.append(f"row {row}, column {cols[k]}: {shown(v)} - {what} ({_number_rule(danish, exact)})")
            elif x > most:
                errors.append(f"row {row}, column {cols[k]}: {v!r} - {what}, at most {most:,.0f} "
                              + ("(the municipality's children and young people aged 0-22)" if k == "count" else
                                 "(no price needs more; the sums would overflow)"))
                x = None
            vals[k] = x
        if step is not None and None not in vals.values():
            lines.append(BudgetLine(row, step, vals["count"], vals["unit_price_dkk"]))
    _raise_rows("budget", path, errors, len(df))
    return Budget(path=str(p), lines=tuple(lines))
