"""Municipality profiles from a CSV of key figures (``python -m sim profiles <file.csv> [--calibrate] [--force]``).

One row per municipality; the first line names the columns (any order):

=============================== ======== ==================================================================
column                          needed   what (empty cell = the default, marked ``[assumption]``)
=============================== ======== ==================================================================
name                            yes      the profile's name: a lower-case identifier (``municipality=<name>``),
                                         not a word YAML or Hydra reads as a value (``READ_AS_VALUE``: null,
                                         true, false, yes, no, on, off, inf, nan)
label                           yes      the name people read, e.g. ``Middelfart (2015)``
population                      yes      inhabitants (a whole number)
children_0_17                   no       children aged 0-17; empty = CHILD_SHARE of the population
young_18_22                     no       young people aged 18-22; empty = YOUNG_SHARE of the population
population_growth_per_year      no       growth of the 0-22 population per year (0.01 = +1 %); empty = 0
placed_per_1000_0_22            yes      placed per 1,000 aged 0-22 (the key figure the calibration fits)
spending_per_child_0_22_dkk     yes      DKK per 0-22-year-old per year
(every other key figure)        (schema) every field of municipality.targets (``Targets``) is a column,
                                         required where the schema requires it (e.g.
                                         expected_spending_need_per_child_0_22_dkk)
caseworkers                     no       the team (FTE, a whole number) ...
cases_per_caseworker            no       ... or its caseload: open cases per FTE (give at most one of the two;
                                         both empty = REFERENCE_CASELOAD cases each)
placement_share_of_spending     no       placements' share of spending; empty = the national 0.67
caseworker_utilisation          no       work done / standard hours; empty = 0.85
source                          no       where the row's figures come from (copied into the profile's header)
=============================== ======== ==================================================================

The caseload is a fixed team: ``caseworkers`` as given, or, from ``cases_per_caseworker`` (or the default
caseload), the team for that many open cases each when the municipality has as many open cases per child aged
0-17 as the default configuration's team carries at REFERENCE_CASELOAD cases each (14 FTE for the average
municipality's 12,600 children) - ``children_0_17 x 14 / 12,600 x 32 / cases_per_caseworker``, marked
``[assumption]``; it is not a staffing norm (``casework.staffing.cases_per_caseworker``).

The file is a CSV in UTF-8 (a byte-order mark is dropped), its cells separated by ',' or by ';' - whichever the
header line has more of. An Excel workbook (.xlsx, .xls), an OpenDocument spreadsheet, UTF-16 text, other
encodings and tab-separated files are refused with one line saying so (save the sheet as "CSV UTF-8"). Lines
starting with ``#`` and empty lines are skipped; row numbers are the file's line numbers (the header is row 1),
as a spreadsheet shows them.

Numbers are read by one rule, never guessed (``_number``):

* with ',' between the cells, '.' is the decimal mark and there is no thousands separator: 40000, 8.5, 0.01;
* with ';' between the cells (as a Danish Excel saves it), ',' is the decimal mark and '.' a thousands
  separator, but only between groups of three digits: 40.000 and 1.234.567,5 are read, 40.00, 4.0000 and
  0.5 are refused;
* in either, a space between groups of three digits (40 000) is a thousands separator, a sign may lead, and
  a number of a decimal column may have an exponent (1e-3) unless its thousands are grouped;
* whole-number columns (population, children_0_17, young_18_22, caseworkers) take no decimal mark and no
  exponent at all: 40.000 in a ','-separated file and 40,000 in a ';'-separated one are refused, never 40;
* a decimal mark after one to three digits (not starting with 0) and before exactly three digits - 9.000 with
  ',' between the cells, 9,000 with ';' - may be the other convention's thousands separator: refused as
  ambiguous (write 9 or 9000); 0.015 and 12.5 are not ambiguous.

The values derived from empty cells (the age groups, the team) are computed from the numbers so read.

Rows are numbered as a spreadsheet numbers them (a quoted cell may hold line breaks; empty and '#' rows count but
are skipped, as are empty columns at the right).

Every row is checked before anything is written - whole numbers where counts are meant, the schema's ranges
(``sim.config.schema.Municipality``), and the whole configuration with the profile in place
(``sim.config.validate``) - and every bad row is reported, one line each:
``file.csv:<row>: <column> = <value>: <what is allowed>``; then nothing is written. A profile is not written
over an existing file unless ``force``.

Each profile is ``conf/municipality/<name>.yaml``, every value with its provenance: ``[user CSV <file>, row N]``
for a figure of the CSV, ``[assumption: ...]`` for a default or a derived value. ``--calibrate`` then fits each
profile as ``python -m sim --calibrate municipality=<name>`` does (``calibration.parameter``, default
``need.onset_scale``, to the row's placed per 1,000) and writes the fitted value into the profile, marked
``[calibrated: ...]``.
"""
from __future__ import annotations

import copy
import csv
import datetime as _dt
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import duckdb
import yaml
from pydantic import ValidationError

from ..config import CONF_DIR, ConfigError, calibration_pairs, compose_tree, validate
from ..config.inputs import read_number
from ..config.schema import Municipality, Targets
from ..runner import check_dask
from ..store import OutputDirError, check_output_dir
from .calibrate import Calibration, calibrate, overlay_lines, unmet, write_calibration
from ..common.i18n import replications_text

GROUP = "municipality"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")      # at most 64 characters: a file name conf/municipality/<name>.yaml
# identifiers that YAML (null, true, false, yes, no, on, off) or Hydra's override grammar (also inf and nan) read as
# a value, not as text: a profile so named could not be selected (municipality=true is a bool)
READ_AS_VALUE = ("null", "true", "false", "yes", "no", "on", "off", "inf", "nan")
NAME_ALLOWED = (f"allowed: a lower-case identifier (a-z, 0-9 and _, starting with a letter, at most 64 characters) other than "
                f"{', '.join(READ_AS_VALUE)} (YAML or Hydra reads those as values), e.g. middelfart")
FILE_ALLOWED = ("allowed: a CSV file - UTF-8 text, a header line naming the columns, ',' or ';' between the cells "
                "(in Excel: Save As 'CSV UTF-8')")
CHILD_SHARE = 0.208          # children 0-17 / inhabitants: the national age structure [assumption], as the profiles in conf/
YOUNG_SHARE = 0.063          # young people 18-22 / inhabitants: likewise [assumption]
ROUND_TO = 100               # derived head counts are rounded to hundreds (estimates), as in the profiles of conf/
REFERENCE_CASELOAD = 32      # open cases per FTE of the default team [002]
PLACEMENT_SHARE = 0.67       # placements' share of spending [public: Velfaerdsministeriet and Ankestyrelsen, 2007 figures]
UTILISATION = 0.85           # a loaded but not overloaded team [assumption: 0.75-0.95]
MOST = {"population": 6_000_000}     # the population of Denmark (sim.config.schema.size_bounds)


@dataclass(frozen=True)
class Column:
    """A column of the CSV: whether it must be given, whether it is a whole number, and the profile's comment."""
    required: bool
    kind: str                # "text", "int" or "float"
    what: str                # the profile's comment before the provenance tag


# the key figures (municipality.targets): every field of the schema's Targets is a column, required where the
# schema requires it, unless it has a default here
TARGETS = list(Targets.model_fields)
TARGET_DEFAULTS = {
    "placement_share_of_spending": (PLACEMENT_SHARE, "the national share [public: Velfaerdsministeriet and "
                                                     "Ankestyrelsen, 2007 figures]"),
    "caseworker_utilisation": (UTILISATION, "a loaded but not overloaded team [assumption: 0.75-0.95; fit "
                                            "casework.case_hours_per_month to it with calibration.joint]"),
}
TARGET_WHAT = {
    "placed_per_1000_0_22": "placed per 1,000 aged 0-22",
    "spending_per_child_0_22_dkk": "DKK per 0-22-year-old per year",
    "placement_share_of_spending": "share of spending on placements",
    "caseworker_utilisation": "work done / the team's standard productive hours",
    "expected_spending_need_per_child_0_22_dkk": "expected spending need, DKK per 0-22-year-old per year",
}
COLUMNS = {
    "name": Column(True, "text", ""),
    "label": Column(True, "text", ""),
    "population": Column(True, "int", "inhabitants"),
    "children_0_17": Column(False, "int", "children aged 0-17"),
    "young_18_22": Column(False, "int", "young people aged 18-22"),
    "population_growth_per_year": Column(False, "float", "growth of the 0-22 population per year, from the horizon "
                                                         "start (negative = shrinking)"),
    **{t: Column(t not in TARGET_DEFAULTS and Targets.model_fields[t].is_required(), "float",
                 TARGET_WHAT.get(t, t.replace("_", " "))) for t in TARGETS},
    "caseworkers": Column(False, "int", "FTE in the team"),
    "cases_per_caseworker": Column(False, "float", "open cases per FTE"),
    "source": Column(False, "text", ""),
}
# beyond the schema: what a calibration and a team need
POSITIVE = {"placed_per_1000_0_22": "the calibration's target", "spending_per_child_0_22_dkk": "a key figure",
            "caseworkers": "a team", "cases_per_caseworker": "a caseload"}


class BadRows(ValueError):
    """The CSV cannot be used: ``lines`` are its problems, one line each (``file:<row>: ...``)."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass
class Profile:
    """One row of the CSV as a municipality profile: its values, and for each derived value the assumption."""
    name: str
    row: int
    file: str                                            # the CSV as the user named it
    values: dict[str, Any]                               # column -> value (given or derived)
    assumed: dict[str, str] = field(default_factory=dict)     # column -> its [assumption: ...] comment
    source: str = ""
    fitted: list[tuple[str, float, str]] = field(default_factory=list)   # (dotted key, value, comment) [calibrated]

    @property
    def path(self) -> Path:
        """Where the profile goes: conf/municipality/<name>.yaml."""
        return CONF_DIR / GROUP / f"{self.name}.yaml"

    def tag(self) -> str:
        """The provenance of a value from the CSV."""
        return f"[user CSV {self.file}, row {self.row}]"


# --------------------------------------------------------------------------- reading and checking

def is_name(text: str) -> bool:
    """Whether ``text`` can name a profile: a lower-case identifier that YAML and Hydra read back as that text
    (``NAME_ALLOWED``)."""
    return bool(NAME.match(text)) and text not in READ_AS_VALUE and yaml.safe_load(text) == text


def _number(text: str, kind: str, decimal_comma: bool) -> float | int:
    """A cell as a number (a whole number for kind 'int'); ValueError with what is allowed
    (``sim.config.inputs.read_number``: the rule of the module docstring, shared with the caseload and budget)."""
    return read_number(text, decimal_comma, whole=kind == "int")


def _shown(text: str) -> str:
    """A cell as a problem line shows it."""
    return text if text.strip() else "(empty)"


def _bounds(col: str) -> str:
    """What the schema allows for a column of Municipality or Targets, e.g. 'a number >= -0.2 and <= 0.2'."""
    fields = {**Municipality.model_fields, **Targets.model_fields}
    ops = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
    found = [f"{op} {getattr(m, k):g}" for m in getattr(fields.get(col), "metadata", []) for k, op in ops
             if isinstance(getattr(m, k, None), (int, float))]
    return "a number " + " and ".join(found) if found else "a number"


def _schema_problems(values: dict, cells: dict) -> list[str]:
    """The municipality's values checked by the schema's Municipality model, as 'column = cell: allowed'."""
    m = {k: values[k] for k in ("name", "label", "population", "children_0_17", "young_18_22",
                                "population_growth_per_year")}
    m["targets"] = {k: values[k] for k in TARGETS if values[k] is not None}     # None: the schema's default
    out = []
    try:
        Municipality.model_validate(m)
    except ConfigError as err:                       # a cross-check of the model, phrased by it
        out.append(str(err).replace("municipality.", ""))
    except ValidationError as err:
        for e in err.errors():
            col, ctx = str(e["loc"][-1]) if e["loc"] else "(row)", e.get("ctx", {})
            if isinstance(ctx.get("error"), ConfigError):
                out.append(str(ctx["error"]).replace("municipality.", ""))
            else:
                out.append(f"{col} = {_shown(cells.get(col, str(e.get('input'))))}: allowed: {_bounds(col)}")
    if not any(x.startswith("children_0_17 = ") for x in out) and \
            values["children_0_17"] + values["young_18_22"] > values["population"]:
        # the schema checks this only once every field is valid; reported here in any case
        out.append(f"children_0_17 = {values['children_0_17']}: children 0-17 and young people 18-22 "
                   f"({values['young_18_22']}) cannot outnumber the population ({values['population']}); allowed: "
                   f"children_0_17 + young_18_22 <= population")
    return out


def _derive(values: dict, assumed: dict, team: tuple[int, int]) -> None:
    """Fill the empty optional cells with their defaults, noting each assumption; ``team`` is the default
    configuration's (caseworkers, children aged 0-17)."""
    pop = values["population"]
    if values.get("children_0_17") is None:
        values["children_0_17"] = max(1, int(round(pop * CHILD_SHARE / ROUND_TO)) * ROUND_TO)
        assumed["children_0_17"] = (f"~{CHILD_SHARE * 100:.1f} % of inhabitants [assumption: national age structure; "
                                    f"replace with the municipality's own count]")
    if values.get("young_18_22") is None:
        values["young_18_22"] = int(round(pop * YOUNG_SHARE / ROUND_TO)) * ROUND_TO
        assumed["young_18_22"] = (f"~{YOUNG_SHARE * 100:.1f} % of inhabitants [assumption: national age structure; "
                                  f"replace with own count]")
    if values.get("population_growth_per_year") is None:
        values["population_growth_per_year"] = 0.0
        assumed["population_growth_per_year"] = "[assumption: stationary; replace with the municipality's population forecast]"
    for col, (value, why) in TARGET_DEFAULTS.items():
        if col in COLUMNS and values.get(col) is None:
            values[col], assumed[col] = value, why
    if values.get("caseworkers") is None:
        load = values.get("cases_per_caseworker")
        given = load is not None
        if given and load < 1:
            return                          # reported by _row_problems: no team follows from it
        load = load if given else REFERENCE_CASELOAD
        values["caseworkers"] = max(1, round(values["children_0_17"] * team[0] / team[1] * REFERENCE_CASELOAD / load))
        scale = "" if load == REFERENCE_CASELOAD else f" x {REFERENCE_CASELOAD} / {load:g}"
        assumed["caseworkers"] = (f"for ~{load:g} cases each{' (the CSV)' if given else ''}: children_0_17 x "
                                  f"{team[0]} / {team[1]:,}{scale}, the default team per child at ~{REFERENCE_CASELOAD} "
                                  f"cases each [assumption: replace with the municipality's own team]")


def _row_problems(cells: dict[str, str], decimal_comma: bool) -> tuple[dict, list[str], bool]:
    """A row's values (text and numbers; None for an empty optional cell), its problems, and whether every
    cell could be read (then the schema can check the values)."""
    values: dict[str, Any] = {}
    problems = []
    for col, text in cells.items():
        spec = COLUMNS[col]
        if not text.strip():
            values[col] = None
            if spec.required:
                problems.append(f"{col} = (empty): required")
        elif spec.kind == "text":
            values[col] = text.strip()
        else:
            try:
                values[col] = _number(text, spec.kind, decimal_comma)
            except ValueError as err:
                problems.append(f"{col} = {_shown(text)}: {err}")
    readable = not problems
    name = values.get("name")
    if name is not None and not is_name(name):
        problems.append(f"name = {name}: {NAME_ALLOWED}")
    for col, why in POSITIVE.items():
        v = values.get(col)
        if isinstance(v, (int, float)) and v <= 0:
            problems.append(f"{col} = {_shown(cells[col])}: allowed: a number > 0 ({why})")
    for col, most in MOST.items():
        v = values.get(col)
        if isinstance(v, (int, float)) and v > most:
            problems.append(f"{col} = {_shown(cells[col])}: allowed: at most {most:,}")
    load = values.get("cases_per_caseworker")
    if isinstance(load, (int, float)) and 0 < load < 1:
        problems.append(f"cases_per_caseworker = {_shown(cells['cases_per_caseworker'])}: allowed: at least 1 "
                        f"(open cases per FTE; below one the team has no size)")
    if values.get("caseworkers") is not None and values.get("cases_per_caseworker") is not None:
        problems.append(f"caseworkers = {cells['caseworkers']} and cases_per_caseworker = "
                        f"{cells['cases_per_caseworker']}: allowed: one of them (the team, or its caseload)")
    return values, problems, readable


def _header(header: list[str], file: str) -> list[str]:
    """The header's column names, checked; BadRows if a column is unknown, given twice or missing."""
    cols = [h.strip() for h in header]
    bad = [f"{file}:1: column {c!r}: unknown; allowed: {', '.join(COLUMNS)}" for c in cols if c not in COLUMNS]
    bad += [f"{file}:1: column {c!r}: given twice" for c in dict.fromkeys(cols) if cols.count(c) > 1]
    bad += [f"{file}:1: column {c!r}: missing; required: {', '.join(k for k, s in COLUMNS.items() if s.required)}"
            for c, s in COLUMNS.items() if s.required and c not in cols]
    if bad:
        raise BadRows(bad)
    return cols


WORKBOOKS = {b"PK\x03\x04": "a zip file, e.g. an Excel workbook (.xlsx) or an OpenDocument spreadsheet (.ods)",
             b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "an old Excel workbook (.xls)",
             b"\xff\xfe": "UTF-16 text (Excel's 'Unicode text')", b"\xfe\xff": "UTF-16 text"}


def _text(path: Path, file: str) -> str:
    """The file's text (UTF-8, a spreadsheet's byte-order mark dropped); BadRows (one line: what the file is and
    ``FILE_ALLOWED``) if it cannot be read or is not a CSV."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise BadRows([f"{file}: cannot be read ({' '.join(str(err).split())}); {FILE_ALLOWED}"]) from None
    what = f"a spreadsheet workbook ({path.suffix})" if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods") \
        else next((w for magic, w in WORKBOOKS.items() if raw.startswith(magic)), None)
    if what is not None:
        raise BadRows([f"{file}: {what}, not a CSV; {FILE_ALLOWED}"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise BadRows([(f"{file}: not UTF-8 text (byte 0x{raw[err.start]:02x} in line {line}; "
                        f"a Danish Excel's plain 'CSV' is Windows-1252); {FILE_ALLOWED}")]) from None


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(row, cells) of every row with content, numbered as a spreadsheet numbers them: one row per record, a quoted
    cell with line breaks in it (Excel's Alt+Enter) inside its row. Empty rows - also a spreadsheet's rows of
    empty cells (';;;') - and comment rows ('#') are left out, but counted."""
    out = []
    for row, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
        if any(c.strip() for c in cells) and not cells[0].lstrip().startswith("#"):
            out.append((row, cells))
    return out


def _delimiter(first: str, file: str) -> str:
    """The header line's separator: ';' if it has more semicolons than commas, else ','; BadRows (one line) if its
    cells are separated otherwise (tabs) or not at all."""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    if first.count("\t") > first.count(delimiter):
        raise BadRows([f"{file}:1: the columns are separated by tabs; {FILE_ALLOWED}"])
    cells = next(csv.reader([first], delimiter=delimiter))
    if len(cells) == 1 and cells[0].strip() not in COLUMNS:
        raise BadRows([(f"{file}:1: header {first.strip()[:60]!r}: no ',' or ';' between the column names; "
                        f"{FILE_ALLOWED}")])
    return delimiter


def read_profiles(path: str | Path, force: bool = False) -> list[Profile]:
    """Every row of the CSV at ``path`` as a Profile, checked (see the module docstring); raises BadRows with one
    line per bad row (or for the file) - an existing profile of the same name is one unless ``force``."""
    file = str(path)
    text = _text(Path(path), file)
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    delimiter = _delimiter(first, file) if first else ","
    records = _records(text, delimiter) if first else []
    if len(records) < 2:
        raise BadRows([f"{file}: no rows; allowed: a header line naming the columns, then one row per municipality"])
    header = records[0][1]
    while header and not header[-1].strip():          # a spreadsheet's empty columns at the right
        header = header[:-1]
    cols = _header(header, file)
    tree = compose_tree([])                 # the default configuration: the team per child, and the check
    base = validate(tree)
    team = (base.casework.caseworkers, base.municipality.children_0_17)
    profiles, bad, seen = [], [], {}
    for row, cells in records[1:]:
        if len(cells) > len(cols) and not any(c.strip() for c in cells[len(cols):]):
            cells = cells[:len(cols)]                  # the empty cells of those empty columns
        if len(cells) != len(cols):
            bad.append(f"{file}:{row}: {len(cells)} cells where the header has {len(cols)} columns; allowed: one "
                       f"cell per column (quote a cell that holds a '{delimiter}')")
            continue
        p, problems = _profile(dict(zip(cols, cells)), row, file, delimiter == ";", team, tree)
        if p is not None and p.name in seen:
            problems.append(f"name = {p.name}: given already in row {seen[p.name]}; allowed: one row per municipality")
        elif p is not None and p.path.exists() and not force:
            problems.append(f"name = {p.name}: {_rel(p.path)} exists; allowed: a new name, or --force to replace it")
        if p is not None:
            seen.setdefault(p.name, row)
        if problems:
            bad.append(f"{file}:{row}: " + "; ".join(problems))
        else:
            profiles.append(p)
    if bad:
        raise BadRows(bad)
    return profiles


def _profile(cells: dict, row: int, file: str, decimal_comma: bool, team: tuple[int, int],
             tree: dict) -> tuple[Profile | None, list[str]]:
    """One row as a Profile (None if its cells cannot be read) and its problems: the cells, the schema's
    Municipality, and the whole configuration with the profile in place."""
    values, problems, readable = _row_problems(cells, decimal_comma)
    name = values.get("name") if values.get("name") and is_name(values["name"]) else None
    if not readable:
        return (None if name is None else Profile(name, row, file, values)), problems
    cells = {c: cells.get(c, "") for c in COLUMNS}
    values = {c: values.get(c) for c in COLUMNS}
    for col in ("label", "source"):        # text on one line (a cell may hold line breaks: Excel's Alt+Enter)
        if isinstance(values[col], str):
            values[col] = " ".join(values[col].split())
    p = Profile(name or "", row, file, values, source=values.get("source") or "")
    _derive(values, p.assumed, team)
    seen = {x.split(" = ", 1)[0] for x in problems}       # a column already reported is not reported twice
    found = [x for x in _schema_problems(values, cells) if x.split(" = ", 1)[0] not in seen]
    # a column the row left empty is derived from the others: with a problem in the cells it gives, the derived
    # values' problems are its consequences (a negative population makes the derived young_18_22 negative)
    if problems or any(x.split(" = ", 1)[0] not in p.assumed for x in found):
        found = [x for x in found if x.split(" = ", 1)[0] not in p.assumed]
    problems += found
    if name is None:
        return None, problems
    if not problems:
        try:
            validate(_merged(tree, yaml.safe_load(profile_yaml(p))))
        except ConfigError as err:
            problems.append(str(err))
    return p, problems


def _merged(tree: dict, overlay: dict) -> dict:
    """``tree`` with ``overlay`` merged into it key by key (as Hydra merges a _global_ file)."""
    out = copy.deepcopy(tree)
    for k, v in overlay.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _rel(path: Path) -> str:
    """A path as the user knows it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- writing

def _scalar(v: Any) -> str:
    """A value as YAML: an identifier as it is, other text double-quoted, a whole number without '.0', other
    numbers as Python writes them (every digit)."""
    if isinstance(v, str):
        return v if NAME.match(v) and yaml.safe_load(v) == v else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _leaf(p: Profile, col: str) -> tuple[Any, str]:
    """A column's value in the profile and its comment (what it is and its provenance)."""
    what = COLUMNS[col].what
    if col in p.assumed:
        why = p.assumed[col]
        return p.values[col], f"{what}{' ' if why.startswith('[') else ', '}{why}" if what else why
    return p.values[col], f"{what} {p.tag()}".strip()


def profile_tree(p: Profile) -> dict:
    """The profile as nested keys whose leaves are (value, comment), fitted values included."""
    m = {"name": (p.name, ""), "label": (p.values["label"], ""),
         # Danish outputs: the municipality's name reads the same in both languages
         "label_da": (p.values["label"], "the label in Danish outputs: the same name")}
    m.update({c: _leaf(p, c) for c in ("population", "children_0_17", "young_18_22", "population_growth_per_year")})
    m["targets"] = {c: _leaf(p, c) for c in TARGETS if p.values[c] is not None}    # None: the schema's default
    tree = {"municipality": m, "casework": {"caseworkers": _leaf(p, "caseworkers")}}
    for key, value, comment in p.fitted:
        node = tree
        *groups, last = key.split(".")
        for g in groups:
            node = node.setdefault(g, {})
        node[last] = (value, comment)
    return tree


def profile_yaml(p: Profile) -> str:
    """The profile's file: a Hydra _global_ overlay for conf/municipality/<name>.yaml, every value with its
    provenance."""
    when = _dt.date.today().isoformat()
    lines = ["# @package _global_",
             f"# {p.values['label']}: a profile from {p.file}, row {p.row} (python -m sim profiles, {when}).",
             f"# Source of the row's figures: {p.source or 'not given in the CSV'}."]
    if not p.fitted:
        lines.append(f"# Not calibrated: need.onset_scale is the default's; fit it with python -m sim --calibrate "
                     f"municipality={p.name} (or python -m sim profiles {p.file} --calibrate --force).")

    def as_text(node: dict) -> dict:
        return {k: as_text(v) if isinstance(v, dict) else (_scalar(v[0]), v[1]) for k, v in node.items()}
    return "\n".join(lines + overlay_lines(as_text(profile_tree(p)))) + "\n"


def _put(path: Path, text: str, replace: bool) -> None:
    """Write a file whole: a temporary file beside it, then renamed (over an existing one only if ``replace``;
    FileExistsError otherwise)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)              # fails if the file appeared meanwhile
    finally:
        tmp.unlink(missing_ok=True)


def write_profiles(profiles: list[Profile], force: bool = False) -> list[Path]:
    """Write every profile (each file whole); on a failure the files written so far are removed again (and
    those replaced restored) before the error is raised. Returns the paths."""
    done: list[tuple[Path, str | None]] = []
    try:
        for p in profiles:
            p.path.parent.mkdir(parents=True, exist_ok=True)
            old = p.path.read_text(encoding="utf-8") if p.path.exists() else None
            _put(p.path, profile_yaml(p), replace=force)
            done.append((p.path, old))
    except BaseException:
        for path, old in reversed(done):
            if old is None:
                path.unlink(missing_ok=True)
            else:
                _put(path, old, replace=True)
        raise
    return [p.path for p in profiles]


# --------------------------------------------------------------------------- calibrating

def fitted_values(c: Calibration, command: str) -> list[tuple[str, float, str]]:
    """The fitted values of a calibration as (dotted key, value, comment) for the profile, as ``overlay_yaml``
    words them: the KPI fitted and its target, the mean and 95 % interval reached, replications and seed."""
    e = c.best
    cfg = c.result.plan.arms[c.result.reference]
    out = []
    for f, v, m, a, b in zip(c.fits, e.values, e.means, e.ci_lows, e.ci_highs):
        together = f" with {', '.join(g.parameter for g in c.fits if g is not f)}" if c.joint else ""
        miss = "" if c.converged else f"; NOT within the tolerance ({c.tolerance:g})"
        out.append((f.parameter, float(v), f"fitted to {f.kpi} = {f.target:g}{together}: {m:.4g} [{a:.4g}, {b:.4g}], "
                    f"{replications_text(e.n)}, seed {cfg.run.seed}{miss} [calibrated: {command}, {len(c.evaluations)} "
                    f"evaluations]"))
    return out


def calibrate_profile(p: Profile, overrides: list[str], command: str, echo: Callable[[str], None] = print) -> Calibration:
    """Calibrate one written profile (``calibrate([f"municipality={name}", *overrides])``) and write the fitted
    values into its file, marked [calibrated]. ConfigError if the target cannot be reached (the file is
    left as it was)."""
    c = calibrate([f"{GROUP}={p.name}"] + list(overrides), progress=False, echo=echo)
    p.fitted = fitted_values(c, command)
    _put(p.path, profile_yaml(p), replace=True)
    return c


def make_profiles(path: str, calibrating: bool = False, force: bool = False, overrides: list[str] | None = None,
                  echo: Callable[[str], None] = print, warn: Callable[[str], None] = print) -> int:
    """``python -m sim profiles``: check the CSV (every bad row reported, exit 2, nothing written), write one profile
    per row and, when ``calibrating``, calibrate each with ``overrides`` and store the calibration (unless
    output.write=false). Returns the exit code: 0, 1 (a calibration missed its target or could not be stored), 2."""
    overrides = list(overrides or [])
    try:
        if any(o.split("=", 1)[0].lstrip("+~") == GROUP for o in overrides):
            raise ConfigError(f"{GROUP}: set by each row of the CSV; allowed: other overrides")
        if overrides and not calibrating:
            raise ConfigError(f"{' '.join(overrides)}: overrides apply to the calibration; add --calibrate")
        cfg = validate(compose_tree(overrides)) if calibrating else None
        if cfg is not None and cfg.output.write:
            check_output_dir(cfg.output.dir)
        if cfg is not None:
            check_dask(cfg.run)              # a scheduler that does not answer: found before a profile is written
        profiles = read_profiles(path, force)
    except BadRows as err:
        for line in err.lines:
            warn(line)
        rows = sum(1 for line in err.lines if re.match(rf"{re.escape(path)}:\d+: ", line))
        warn(f"error: {path}: {rows} bad row(s); nothing was written" if rows else "error: nothing was written")
        return 2
    except ConfigError as err:
        warn(f"error: {err}")
        return 2
    except OutputDirError as err:
        warn(f"error: output.dir = {cfg.output.dir!r}: {err}")
        return 2
    try:
        written = write_profiles(profiles, force)
    except OSError as err:
        warn(f"error: could not write the profiles into {_rel(CONF_DIR / GROUP)}: {' '.join(str(err).split())}; "
             f"nothing was written")
        return 1
    echo(f"wrote {len(written)} profile(s): " + ", ".join(_rel(w) for w in written))
    if not calibrating:
        return 0
    return _calibrate_all(profiles, path, overrides, cfg, echo, warn)


def _calibrate_all(profiles: list[Profile], path: str, overrides: list[str], cfg, echo, warn) -> int:
    """Calibrate every profile in turn (make_profiles); 1 if one missed its target or could not be stored."""
    status = 0
    command = f"python -m sim profiles {path} --calibrate" + "".join(f" {o}" for o in overrides)
    for i, p in enumerate(profiles):
        pairs = " and ".join(f"{f.parameter} to {f.kpi}" for f in calibration_pairs(cfg))
        echo(f"[{i + 1}/{len(profiles)}] calibrating {p.name}: {pairs} ({replications_text(cfg.run.replications)} per "
             f"evaluation)")
        try:
            c = calibrate_profile(p, overrides, command, echo)
        except ConfigError as err:
            warn(f"{p.file}:{p.row}: {err}; {_rel(p.path)} is written without a fitted value")
            status = 1
            continue
        echo(f"{_rel(p.path)}: " + "; ".join(f"{k} = {v:g}" for k, v, _ in p.fitted)
             + ("" if c.converged else " (NOT within the tolerance)"))
        if not c.converged:
            warn(f"warning: {p.name}: not within +-{c.tolerance:.1%} of the target ({'; '.join(unmet(c))}); "
                 f"the best value is written")
            status = 1
        if cfg.output.write:
            try:
                echo(f"calibration: {write_calibration(c, figures=cfg.output.figures)}")
            except (OSError, duckdb.Error) as err:
                warn(f"error: could not store the calibration of {p.name} under output.dir = {cfg.output.dir!r}: "
                     f"{' '.join(str(err).split())}")
                status = 1
    return status
