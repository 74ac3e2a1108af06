"""The national view of a sweep over municipalities, and municipality profiles from a CSV of key figures.

Small runs throughout (2 replications, 1 warm-up year, a 1-year horizon). The profile tests that write profiles
run in this process on a copy of conf/ (``tmp_conf``), so the checkout's conf/municipality/ is never touched;
the bad-CSV test runs the real command line and checks that nothing appears in conf/municipality/.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import uuid

import pandas as pd
import pytest
import yaml

import sim.analyses.profiles as profiles
import sim.config.compose as compose
from sim.analyses import sweep
from sim.cli import main
from sim.config import CONF_DIR, ROOT, plan
from sim.metrics.payback import payback_years
from sim.runner import execute

TINY = ["run.replications=2", "run.warmup_years=1", "run.horizon_years=1", "run.workers=1", "output.progress=false"]
QUIET = ["output.figures=false", "output.report=false", "output.excel=false"]
# the provenance tags of conf/ (tests/unit/test_config.py) and the profiles' own [user CSV <file>, row N]
TAG = re.compile(r"\[(\d{3}[^\]]*|public: [^\]]+|assumption[^\]]*|calibrated[^\]]*|user CSV [^\]]+, row \d+)\]")
NUMERIC = re.compile(r"^\s*[\w\"']+:\s*(-?[\d.]+)\s*(#.*)?$")
HEADER = ("name,label,population,children_0_17,young_18_22,population_growth_per_year,placed_per_1000_0_22,"
          "spending_per_child_0_22_dkk,expected_spending_need_per_child_0_22_dkk,caseworkers,cases_per_caseworker")


def _name(stem: str) -> str:
    """A profile name no one else uses."""
    return f"zz_{stem}_{uuid.uuid4().hex[:8]}"


def _csv(path, rows: list[str], header: str = HEADER):
    path.write_text("\n".join([header] + rows) + "\n")
    return path


@pytest.fixture
def tmp_conf(tmp_path, monkeypatch):
    """A copy of conf/ that composition and the profiles use instead of the checkout's, for this test only."""
    conf = tmp_path / "conf"
    shutil.copytree(CONF_DIR, conf)
    monkeypatch.setattr(compose, "CONF_DIR", conf)
    monkeypatch.setattr(profiles, "CONF_DIR", conf)
    return conf


# --------------------------------------------------------------------------- the national view

@pytest.fixture(scope="module")
def national_sweep(tmp_path_factory):
    """``python -m sim -m municipality=average,kolding compare=[kinship_first]``, small: its output folder."""
    out = tmp_path_factory.mktemp("national") / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", "-m", "municipality=average,kolding", "compare=[kinship_first]",
                           *TINY, *QUIET, f"output.dir={out}"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc.stdout


def test_a_sweep_over_municipalities_gets_a_national_view(national_sweep):
    out, stdout = national_sweep
    (d,) = list((out / "sweeps").iterdir())
    nat = pd.read_csv(d / "national.csv")
    jobs = pd.read_csv(d / "jobs.csv")
    # a row per municipality x scenario
    assert sorted(zip(nat.municipality, nat.scenario)) == [("average", "kinship_first"), ("kolding", "kinship_first")]
    for _, r in nat.iterrows():
        run = out / jobs.set_index("municipality").at[r.municipality, "run_id"]
        children = yaml.safe_load((run / "config.yaml").read_text())["municipality"]["children_0_17"]
        assert r.children_0_17 == children
        comp = pd.read_parquet(run / "comparison.parquet")
        comp = comp[(comp.period == "horizon") & (comp.scenario == "kinship_first")].set_index("kpi")
        # the paired differences are the run's own, and the cost per 1,000 children is the difference / children x 1,000
        for kpi in sweep.NATIONAL_KPIS:
            assert r[f"{kpi}_diff"] == pytest.approx(comp.at[kpi, "diff_mean"], rel=1e-9, abs=1e-12), kpi
            assert r[f"{kpi}_diff_ci_low"] == pytest.approx(comp.at[kpi, "diff_ci_low"], rel=1e-9, abs=1e-12), kpi
        for mine, theirs in (("", "diff_mean"), ("_ci_low", "diff_ci_low"), ("_ci_high", "diff_ci_high")):
            assert r[f"cost_total_dkk_per_1000_children_diff{mine}"] == \
                pytest.approx(comp.at["cost_total_dkk", theirs] / children * 1000)
        # the payback year as the run's payback table gives it
        pay = pd.read_parquet(run / "payback.parquet").sort_values("year")
        sure = pay[pay.ci_high < 0].year
        assert (pd.isna(r.paid_back_by_year_95pct) and sure.empty) or r.paid_back_by_year_95pct == sure.iloc[0]
    text = (d / "national.txt").read_text()
    assert "average" in text and "kolding" in text
    assert "cost per 1,000 children 0-17" in text and "National view" in stdout
    assert not (d / "national.png").exists()          # output.figures=false


@pytest.fixture(scope="module")
def seed_runs():
    """Small runs of average and kolding with seeds 1 and 2, comparing kinship_first, in memory."""
    jobs = [[f"municipality={m}", f"run.seed={s}", "compare=[kinship_first]", *TINY, "output.write=false"]
            for m in ("average", "kolding") for s in (1, 2)]
    return jobs, [execute(plan(job), progress=False) for job in jobs]


def test_the_national_view_groups_by_the_other_swept_keys_and_has_its_figure(seed_runs, tmp_path):
    jobs, runs = seed_runs
    sw = sweep.Sweep("test-national", sweep.swept_keys(jobs))
    assert sw.keys == ["municipality", "run.seed"]
    for job, res in zip(jobs, runs):
        sw.add(job, res)
    t = sweep.national_table(sw)
    assert len(t) == 4 and len(t.drop_duplicates(["municipality", "run.seed", "scenario"])) == 4
    for (job, res), (_, r) in zip(zip(jobs, runs), t.iterrows()):
        assert (r.municipality, r["run.seed"]) == (job[0].split("=")[1], job[1].split("=")[1])
        paid = payback_years(res).set_index("scenario").loc["kinship_first"]
        assert pd.isna(r.paid_back_by_year_mean) == pd.isna(paid.paid_back_by_year_mean)
        if not pd.isna(paid.paid_back_by_year_mean):
            assert r.paid_back_by_year_mean == paid.paid_back_by_year_mean
        children = res.plan.arms[res.reference].municipality.children_0_17
        assert r.cost_total_dkk_per_1000_children_diff == pytest.approx(r.cost_total_dkk_diff / children * 1000)
    d = sweep.write_sweep(sw, tmp_path, figures=True)
    for f in ("national.csv", "national.txt", "national.png"):
        assert (d / f).is_file(), f
    assert "run.seed" in pd.read_csv(d / "national.csv").columns
    # a sweep that does not vary the municipality gets no national view
    other = sweep.Sweep("test-seeds", ["run.seed"])
    for job, res in zip(jobs[:2], runs[:2]):
        other.add(job, res)
    d = sweep.write_sweep(other, tmp_path, figures=False)
    assert not (d / "national.csv").exists() and "National view" not in sweep.sweep_text(other)


# --------------------------------------------------------------------------- profiles from a CSV

def test_a_good_csv_gives_profiles_that_compose_and_run(tmp_conf, tmp_path, capsys):
    a, b = _name("team"), _name("load")
    f = _csv(tmp_path / "figures.csv", [f'{a},"Team, given (2015)",40000,8000,2500,0.01,8.5,9000,9500,11,',
                                        f"{b},Load given,25000,,,,12,10500,9800,,25"])
    assert main(["profiles", str(f)]) == 0, capsys.readouterr().err
    default = plan(["compare=[]"]).arms["baseline"]           # the team per child the derived team follows
    for name, row in ((a, 2), (b, 3)):
        path = tmp_conf / "municipality" / f"{name}.yaml"
        text = path.read_text()
        assert f"[user CSV {f}, row {row}]" in text and "[calibrated" not in text
        untagged = [ln for ln in text.splitlines() if NUMERIC.match(ln) and not TAG.search(ln)]
        assert not untagged, untagged
        res = execute(plan([f"municipality={name}", "compare=[]", *TINY, "output.write=false"]), progress=False)
        m = res.plan.arms[res.reference].municipality
        assert m.name == name and not res.kpis.empty
        if name == a:       # as given
            assert (m.label, m.population, m.children_0_17, m.young_18_22) == ("Team, given (2015)", 40000, 8000, 2500)
            assert m.population_growth_per_year == 0.01 and m.targets.placed_per_1000_0_22 == 8.5
            assert res.plan.arms[res.reference].casework.caseworkers == 11
        else:               # derived, and said so: 20.8 % and 6.3 % of inhabitants, a team for 25 cases each
            assert (m.children_0_17, m.young_18_22) == (5200, 1600)
            team = round(5200 * default.casework.caseworkers / default.municipality.children_0_17 * 32 / 25)
            assert res.plan.arms[res.reference].casework.caseworkers == team
            for key in ("children_0_17", "young_18_22", "population_growth_per_year", "caseworkers"):
                line = next(ln for ln in text.splitlines() if ln.strip().startswith(key + ":"))
                assert "[assumption" in line, line
    # written again only with --force
    assert main(["profiles", str(f)]) == 2
    assert f"{f}:2: name = {a}: " in capsys.readouterr().err
    assert main(["profiles", str(f), "--force"]) == 0


def test_a_csv_with_bad_rows_is_refused_whole_with_every_row_named(tmp_path):
    names = [_name("good"), _name("pop"), _name("kids")]
    f = _csv(tmp_path / "bad.csv", [f"{names[0]},Good,40000,,,,9,9000,9500,,",
                                    "Not-A-Name,Bad name,40000,,,,9,9000,9500,,",
                                    f"{names[1]},Bad population,forty,,,,9,9000,9500,,",
                                    f"{names[2]},Too many children,40000,39000,5000,,9,9000,9500,,"])
    proc = subprocess.run([sys.executable, "-m", "sim", "profiles", str(f)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    rows = [ln for ln in proc.stderr.splitlines() if ln.startswith(f"{f}:")]
    assert [int(ln[len(str(f)) + 1:].split(":")[0]) for ln in rows] == [3, 4, 5], proc.stderr
    assert "name = Not-A-Name: allowed: a lower-case identifier" in rows[0]
    assert "population = forty: allowed: a whole number" in rows[1]
    assert "children_0_17 = 39000: " in rows[2] and "children_0_17 + young_18_22 <= population" in rows[2]
    # nothing written, not even the good row's profile (other engineers' files may come and go meanwhile)
    assert not [p for p in (CONF_DIR / "municipality").iterdir() if any(n in p.name for n in names + ["Not-A-Name"])]


def test_a_bad_cell_is_reported_without_the_cells_derived_from_it(tmp_path):
    """A row that leaves the age groups empty gets them from its population; a negative population is the row's
    one problem - not also 'young_18_22 = (empty)' and a count of children the user never gave."""
    from sim.analyses.profiles import BadRows, read_profiles
    f = _csv(tmp_path / "neg.csv", [f"{_name('neg')},Negative,-40000,,,,9,9000,9500,,"])
    with pytest.raises(BadRows) as err:
        read_profiles(f)
    assert str(err.value) == f"{f}:2: population = -40000: allowed: a number > 0", str(err.value)


def test_calibrate_writes_the_fitted_value_into_the_profile(tmp_conf, tmp_path, capsys):
    name = _name("cal")
    f = _csv(tmp_path / "one.csv", [f"{name},Many placements,40000,,,,14.5,10800,10900,,"])
    default = plan(["compare=[]"]).arms["baseline"].need.onset_scale
    code = main(["profiles", str(f), "--calibrate", *TINY, "output.write=false", "calibration.max_evaluations=4",
                 "calibration.relative_tolerance=0.15"])
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    text = (tmp_conf / "municipality" / f"{name}.yaml").read_text()
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("onset_scale:"))
    assert "[calibrated: python -m sim profiles" in line and "fitted to placed_per_1000_0_22 = 14.5" in line
    written = yaml.safe_load(text)["need"]["onset_scale"]
    said = float(re.search(rf"{name}\.yaml: need\.onset_scale = ([\d.eE+-]+)", out.out).group(1))
    assert written == pytest.approx(said, rel=1e-5) and written != default
    assert plan([f"municipality={name}", "compare=[]"]).arms["baseline"].need.onset_scale == written


# --------------------------------------------------------------------------- profiles: what the CSV may hold

SEMI = HEADER.replace(",", ";")


def _lines_of(path, rows: list[str], header: str) -> list[str]:
    """The problem lines read_profiles reports for a CSV of ``rows`` (each line ``<path>:<row>: ...``)."""
    f = _csv(path, rows, header)
    with pytest.raises(profiles.BadRows) as err:
        profiles.read_profiles(f)
    return err.value.lines


def test_a_semicolon_csv_reads_decimal_commas_and_thousands_points(tmp_path):
    """With ';' between the cells (a Danish Excel's CSV) ',' is the decimal mark and '.' a thousands separator
    between groups of three digits: 40.000 inhabitants are 40000, and the values derived from them follow."""
    a, b, c = _name("semi_a"), _name("semi_b"), _name("semi_c")
    f = _csv(tmp_path / "semi.csv", [f"{a};Semi A;40.000;;;0,01;8,5;9.000;9.500,25;;",
                                     f"{b};Semi B;1.234.567;250.000;80 000;-0,005;12,25;10.500;9800;;25,5",
                                     f"{c};Semi C;40000;8000;2.500;;9;9000;9500;11;"], SEMI)
    got = {p.name: p.values for p in profiles.read_profiles(f)}
    default = plan(["compare=[]"]).arms["baseline"]
    per_child = default.casework.caseworkers / default.municipality.children_0_17
    assert {k: got[a][k] for k in ("population", "children_0_17", "young_18_22", "population_growth_per_year",
                                   "placed_per_1000_0_22", "spending_per_child_0_22_dkk",
                                   "expected_spending_need_per_child_0_22_dkk", "caseworkers")} == \
        {"population": 40000, "children_0_17": 8300, "young_18_22": 2500, "population_growth_per_year": 0.01,
         "placed_per_1000_0_22": 8.5, "spending_per_child_0_22_dkk": 9000.0,
         "expected_spending_need_per_child_0_22_dkk": 9500.25, "caseworkers": round(8300 * per_child)}
    assert (got[b]["population"], got[b]["children_0_17"], got[b]["young_18_22"]) == (1234567, 250000, 80000)
    assert (got[b]["population_growth_per_year"], got[b]["spending_per_child_0_22_dkk"]) == (-0.005, 10500.0)
    assert got[b]["cases_per_caseworker"] == 25.5 and got[b]["caseworkers"] == round(250000 * per_child * 32 / 25.5)
    assert (got[c]["young_18_22"], got[c]["caseworkers"]) == (2500, 11)
    # with ',' between the cells, '.' is the decimal mark: unambiguous decimals are read as before
    g = _csv(tmp_path / "comma.csv", [f"{_name('comma')},Comma,40000,8000,2500,0.015,12.5,9000.5,9500,,32.5"])
    (p,) = profiles.read_profiles(g)
    assert (p.values["population_growth_per_year"], p.values["placed_per_1000_0_22"],
            p.values["spending_per_child_0_22_dkk"], p.values["cases_per_caseworker"]) == (0.015, 12.5, 9000.5, 32.5)


# (separator, column, cell): each a number that is not what the file's convention says, or could be misread
# (40.000 is never 40): refused, one line naming the row, the column, the value and what is allowed
MISREAD = [(";", "population", "40,000"), (";", "population", "40.00"), (";", "population", "4.0000"),
           (";", "children_0_17", "8,000"), (";", "young_18_22", "2.50"), (";", "caseworkers", "11,0"),
           (";", "spending_per_child_0_22_dkk", "9,000"), (";", "cases_per_caseworker", "25,000"),
           (";", "placed_per_1000_0_22", "8.5"), (";", "population_growth_per_year", "0.01"),
           (";", "expected_spending_need_per_child_0_22_dkk", "9500.5"), (";", "population", "40 00"),
           (",", "population", "40.000"), (",", "children_0_17", "8.000"), (",", "caseworkers", "12.000"),
           (",", "young_18_22", "2500.0"), (",", "spending_per_child_0_22_dkk", "9.000"),
           (",", "placed_per_1000_0_22", "12.500"), (",", "cases_per_caseworker", "32.000"),
           (",", "population", "4 0000"), (",", "population", "1e5"), (",", "caseworkers", "inf")]


@pytest.mark.parametrize("sep", [";", ","])
def test_numbers_that_could_be_misread_are_refused(tmp_path, sep):
    good = dict(zip(HEADER.split(","), ["", "Label", "40000", "8000", "2500", "", "9", "9000", "9500", "", ""]))
    cases = [(col, cell) for s, col, cell in MISREAD if s == sep]
    rows = []
    for col, cell in cases:
        cells = {**good, "name": _name("num"), col: cell}
        if col == "cases_per_caseworker":
            cells["caseworkers"] = ""
        rows.append(sep.join(f'"{v}"' if sep in v else v for v in cells.values()))
    f = tmp_path / "misread.csv"
    lines = _lines_of(f, rows, HEADER.replace(",", sep))
    assert len(lines) == len(cases), lines
    for row, ((col, cell), line) in enumerate(zip(cases, lines), start=2):
        assert line.startswith(f"{f}:{row}: {col} = {cell}: "), line
        assert "allowed: " in line and line.count(" = ") == 1 and "\n" not in line, line


# lower-case identifiers that YAML or Hydra read as a value (a profile so named cannot be selected:
# municipality=true is a bool), and names that are no identifier at all
VALUE_NAMES = ["null", "true", "false", "yes", "no", "on", "off", "inf", "nan"]
NOT_NAMES = ["1", "1e3", "True", "NULL", "Yes", "_x", "a-b"]


def test_names_that_yaml_or_hydra_read_as_values_are_refused(tmp_path):
    f = tmp_path / "names.csv"
    lines = _lines_of(f, [f"{n},Label,40000,,,,9,9000,9500,," for n in VALUE_NAMES + NOT_NAMES], HEADER)
    assert len(lines) == len(VALUE_NAMES + NOT_NAMES), lines
    for row, (n, line) in enumerate(zip(VALUE_NAMES + NOT_NAMES, lines), start=2):
        assert line == f"{f}:{row}: name = {n}: {profiles.NAME_ALLOWED}", line
    # the rule is the category, not a list: a name is allowed exactly when YAML and Hydra read it back as text
    from hydra.core.override_parser.overrides_parser import OverridesParser
    parser = OverridesParser.create()
    for n in VALUE_NAMES + ["none", "y", "n", "nan_by", "inf_2", "yes_no", "ontario", "truex", "middelfart"]:
        as_text = yaml.safe_load(n) == n and parser.parse_override(f"municipality={n}").value() == n
        assert profiles.is_name(n) == as_text, n
    assert not any(profiles.is_name(n) for n in NOT_NAMES)


def _tabbed(path):
    path.write_text("\n".join([HEADER.replace(",", "\t"), "\t".join(["ok", "Ok", "40000"] + [""] * 3 + ["9", "9000",
                                                                                                    "9500", "", ""])]))


NOT_CSV = {
    "book.xlsx": lambda p: pd.DataFrame({"name": ["ok"], "label": ["Ok"]}).to_excel(p, index=False),
    "book_saved_as.csv": lambda p: pd.DataFrame({"name": ["ok"], "label": ["Ok"]}).to_excel(p, index=False,
                                                                                                engine="openpyxl"),
    "old.xls": lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)),
    "unicode.txt": lambda p: p.write_text(HEADER.replace(",", "\t") + "\n", encoding="utf-16"),
    "ansi.csv": lambda p: p.write_bytes((HEADER + "\naarhus,\xc5rhus,40000,,,,9,9000,9500,,\n").encode("cp1252")),
    "tabs.csv": _tabbed,
    "pipes.csv": lambda p: p.write_text(HEADER.replace(",", "|") + "\nok|Ok|40000||||9|9000|9500||\n"),
}


@pytest.mark.parametrize("file", list(NOT_CSV))
def test_a_file_that_is_no_csv_is_refused_saying_what_is_allowed(tmp_conf, tmp_path, file):
    f = tmp_path / file
    NOT_CSV[file](f)
    before = sorted(p.name for p in (tmp_conf / "municipality").iterdir())
    said = []
    assert profiles.make_profiles(str(f), echo=said.append, warn=said.append) == 2
    problems = [ln for ln in said if ln.startswith(str(f))]
    assert len(problems) == 1 and said[-1].startswith("error: ") and "nothing was written" in said[-1], said
    assert "allowed: a CSV file" in problems[0] and "',' or ';' between the cells" in problems[0], problems
    assert "UTF-8" in problems[0] and "unknown" not in problems[0] and "codec" not in problems[0], problems
    assert ("tabs" in problems[0]) == (file == "tabs.csv"), problems
    assert sorted(p.name for p in (tmp_conf / "municipality").iterdir()) == before


def test_rows_are_numbered_as_a_spreadsheet_numbers_them_with_line_breaks_inside_quoted_cells(tmp_conf, tmp_path,
                                                                                                capsys):
    """A quoted cell may hold a line break (Excel's Alt+Enter): it stays inside its row (it was refused as a row of
    one cell, and every later row number was off by one), and the profile says it on one line. Empty rows and a
    spreadsheet's empty columns at the right (';;' - they were 'column '' unknown' and 'given twice') are skipped."""
    a, b = _name("multi"), _name("after")
    header = "name;label;population;placed_per_1000_0_22;spending_per_child_0_22_dkk;" \
             "expected_spending_need_per_child_0_22_dkk;source;;"
    f = tmp_path / "excel.csv"
    f.write_bytes(("\ufeff" + "\r\n".join([
        "# key figures 2015", header,
        f'{a};"Aaby\nKommune";40.000;8,5;7.876;9.896;"Danmarks Statistik\nNøgletal 2015";;',
        ";;;;;;;;",
        f"{b};Bbby;forty;9,1;9.000;9.500;;;"]) + "\r\n").encode())
    assert main(["profiles", str(f)]) == 2
    err = capsys.readouterr().err
    bad = [ln for ln in err.splitlines() if ln.startswith(f"{f}:")]
    assert len(bad) == 1 and bad[0].startswith(f"{f}:5: population = forty: allowed: a whole number"), err
    f.write_bytes(f.read_bytes().replace(b"forty", b"25.000"))
    assert main(["profiles", str(f)]) == 0, capsys.readouterr().err
    text = (tmp_conf / "municipality" / f"{a}.yaml").read_text()
    assert "# Aaby Kommune: a profile from" in text and "Source of the row's figures: Danmarks Statistik Nøgletal 2015." in text
    assert f"[user CSV {f}, row 3]" in text
    assert f"[user CSV {f}, row 5]" in (tmp_conf / "municipality" / f"{b}.yaml").read_text()
    assert yaml.safe_load(text)["municipality"]["label"] == "Aaby Kommune"


@pytest.mark.parametrize("row,problem", [
    ("{n},C,40000,,,,8.5,7876,9896,,0", "cases_per_caseworker = 0: allowed: a number > 0"),    # ZeroDivisionError
    ("{n},C,40000,,,,8.5,7876,9896,,0.5", "cases_per_caseworker = 0.5: allowed: at least 1"),
    ("{n},C,40000,,,,8.5,7876,9896,,1e-300", "cases_per_caseworker = 1e-300: allowed: at least 1"),   # 2.95e304 FTE
    ("{n},C,40000,,,,8.5,7876,9896,100000,", "casework.caseworkers = 100000: allowed: at most 10,800 FTE"),
    ("a" * 65 + ",C,40000,,,,8.5,7876,9896,,", "at most 64 characters"),                   # OSError: name too long
])
def test_a_row_that_gives_no_team_or_no_file_name_is_a_bad_row(tmp_path, row, problem):
    from sim.analyses.profiles import BadRows, read_profiles
    f = _csv(tmp_path / "team.csv", [row.format(n=_name("t"))])
    with pytest.raises(BadRows) as err:
        read_profiles(f)
    assert len(err.value.lines) == 1 and err.value.lines[0].startswith(f"{f}:2: ") and problem in err.value.lines[0], \
        err.value.lines


def test_an_intervals_ends_are_written_on_its_means_scale():
    """Held-out audit 9: national.txt read '-982,096 [-2.2M, 250,889]' - each number on its own scale."""
    import pandas as pd
    from sim.analyses.sweep import _cells
    t = pd.DataFrame({"cost_total_dkk_diff": [-982_096.0, -2.5e6], "cost_total_dkk_diff_ci_low": [-2.2e6, -4e6],
                      "cost_total_dkk_diff_ci_high": [250_889.0, 3e5]})
    assert _cells(t, "cost_total_dkk") == ["-982,096 [-2,200,000, 250,889]", "-2.5M [-4.0M, 0.3M]"]
