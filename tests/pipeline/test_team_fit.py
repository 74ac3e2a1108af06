"""A caseworker team that cannot be right for the municipality is warned about in every output a person reads
(a profile's team left at another municipality's size: 14 FTE for 60,000 children gave 2,367 cases per
caseworker without a word); the shipped profiles and scenarios, with their calibrated teams, are not."""
from __future__ import annotations

import html
import re
from pathlib import Path

import openpyxl
import pytest
import yaml

from sim.config import CONF_DIR
from sim.metrics.plausible import team_check, team_warnings
from sim.report.excel import write_workbook
from sim.report.html import write_report
from sim.report.text import summary_text, summary_text_full
from tests.conftest import run_inline

PROFILES = sorted(p.stem for p in (CONF_DIR / "municipality").glob("*.yaml"))


def _bounds(res) -> tuple[float, float]:
    return res.plan.arms[res.reference].casework.plausible_cases_per_caseworker


def _words(path: Path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))).split())


@pytest.mark.parametrize("municipality,caseworkers,side", [
    ("average", 3, "above"), ("hvidovre", 2, "above"),          # a team far too small for the caseload
    ("average", 80, "below"), ("syddjurs", 60, "below"),        # one far too large
])
def test_a_team_that_does_not_fit_the_municipality_is_warned_in_every_output(tmp_path, municipality, caseworkers,
                                                                             side):
    res = run_inline([f"municipality={municipality}", f"casework.caseworkers={caseworkers}", "run.seed=7"],
                     compare="[earlier_detection]")
    low, high = _bounds(res)
    check = team_check(res)
    assert list(check.scenario) == res.arms and set(check.verdict) == {side}
    values = check.cases_per_caseworker
    assert ((values > high) if side == "above" else (values < low)).all(), check
    en, da = team_warnings(check), team_warnings(check, "da")
    assert len(en) == len(da) == 1
    assert en[0].startswith("warning: the team does not fit the caseload: baseline ") and f"{side} the plausible" in en[0]
    assert da[0].startswith("advarsel: sagsbehandlerteamet passer ikke til sagsmængden: baseline ")
    assert "casework.caseworkers" in en[0] and "casework.caseworkers" in da[0]
    flat = " ".join(summary_text(res).split())                 # the printed summary, wrapped to its width
    assert en[0] in flat
    assert en[0] in summary_text_full(res)
    for language, line in (("en", en[0]), ("da", da[0])):
        write_report(res, tmp_path / f"{language}.html", language=language)
        assert line in _words(tmp_path / f"{language}.html")
        write_workbook(res, tmp_path / f"{language}.xlsx", language=language)
        sheet = openpyxl.load_workbook(tmp_path / f"{language}.xlsx").worksheets[0]     # the first sheet
        cells = [v for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
        assert line in cells


@pytest.mark.parametrize("municipality", PROFILES)
def test_the_shipped_profiles_with_every_standard_scenario_are_not_warned(municipality):
    """The calibrated teams of the shipped profiles fit: no arm of the main job's comparison is outside the
    plausible range (a bound that misfired on them would teach planners to ignore the warning)."""
    compare = yaml.safe_load((CONF_DIR / "config.yaml").read_text(encoding="utf-8"))["compare"]
    res = run_inline([f"municipality={municipality}", "run.workers=2"], compare=f"[{','.join(compare)}]")
    check = team_check(res)
    assert set(check.verdict) == {"within"}, check
    assert team_warnings(check) == [] and "the team does not fit" not in summary_text(res)


def test_a_run_without_a_team_is_left_to_the_kpis_own_note():
    """No caseworker at all: the KPI is undefined, so the check has no verdict and no warning (the summary's
    note on KPIs with nothing to measure says it)."""
    res = run_inline(["casework.caseworkers=0"])
    check = team_check(res)
    assert set(check.verdict) == {"undefined"} and team_warnings(check) == []
    assert "no caseworker" in " ".join(summary_text(res).split())


def test_the_bounds_are_data_and_move_the_verdict():
    """The range is read from the configuration, not written into the check: the same run is within a range
    around its caseload and above one below it."""
    res = run_inline(["run.seed=11"])
    value = float(team_check(res).cases_per_caseworker.iloc[0])
    below = run_inline(["run.seed=11", f"casework.plausible_cases_per_caseworker=[1,{value / 2:.3f}]"])
    assert float(team_check(below).cases_per_caseworker.iloc[0]) == value      # a warning changes no number
    assert list(team_check(below).verdict) == ["above"]
    assert f"above the plausible 1-{value / 2:,.0f}" in team_warnings(team_check(below))[0]


def test_a_written_run_carries_the_team_check_and_its_warning(tmp_path, capsys):
    """The run folder has team_check.csv (verdict per arm) and the warning in summary.txt, the report and the
    workbook; the console's summary says it too."""
    import pandas as pd

    import sim.cli
    out = tmp_path / "results"
    code = sim.cli.main(["casework.caseworkers=2", "municipality=kolding", "run.replications=2", "run.warmup_years=1",
                         "run.horizon_years=1", "compare=[earlier_detection]", "run.workers=1",
                         "output.progress=false", "output.figures=false", f"output.dir={out}"])
    assert code == 0
    (run,) = [d for d in out.iterdir() if (d / "run.json").is_file()]
    check = pd.read_csv(run / "team_check.csv")
    assert list(check.scenario) == ["baseline", "earlier_detection"] and set(check.verdict) == {"above"}
    assert (check.cases_per_caseworker > check.plausible_high).all()
    assert "warning: the team does not fit the caseload" in " ".join(capsys.readouterr().out.split())
    assert "warning: the team does not fit the caseload" in (run / "summary.txt").read_text(encoding="utf-8")
    assert "advarsel: sagsbehandlerteamet passer ikke" in _words(run / "report.html")     # Danish by default
    cells = [v for row in openpyxl.load_workbook(run / "business_case.xlsx").worksheets[0].iter_rows(values_only=True)
             for v in row if isinstance(v, str)]
    assert any(v.startswith("advarsel: sagsbehandlerteamet passer ikke") for v in cells)


def test_a_sweep_names_the_jobs_whose_team_does_not_fit(tmp_path):
    """A sweep's summary (and team_check.csv) says which jobs' teams do not fit - a national sweep over profiles
    with one team for all would otherwise bury it in the job folders."""
    import pandas as pd

    import sim.cli
    out = tmp_path / "results"
    code = sim.cli.main(["-m", "casework.caseworkers=2,14", "run.replications=2", "run.warmup_years=1",
                         "run.horizon_years=1", "compare=[]", "run.workers=1", "output.progress=false",
                         "output.figures=false", "output.report=false", "output.excel=false", f"output.dir={out}"])
    assert code == 0
    (sweep,) = list((out / "sweeps").iterdir())
    check = pd.read_csv(sweep / "team_check.csv")
    assert list(check.job) == [1, 2] and list(check.verdict) == ["above", "within"]
    text = (sweep / "summary.txt").read_text(encoding="utf-8")
    assert "casework.caseworkers=2: warning: the team does not fit the caseload: baseline " in text
    assert "casework.caseworkers=14: warning" not in text


@pytest.mark.parametrize("value,low,high,en,da", [
    (65.3, 12, 65, "baseline 65.3 open cases per caseworker", "baseline 65,3 åbne sager"),          # not "65 above 65"
    (65.0004, 12, 65, "baseline 65.0004 open", "baseline 65,0004 åbne"),
    (31.47, 31.48, 40, "below the plausible 31.48-40", "under de plausible 31,48-40"),              # the bound as given
    (2367.4, 12, 65, "baseline 2,367 open", "baseline 2.367 åbne"),
    (7.94, 12, 65, "baseline 7.9 open", "baseline 7,9 åbne"),
    (11.96, 12, 65, "baseline 11.96 open", "baseline 11,96 åbne"),
])
def test_the_warning_never_rounds_a_caseload_onto_its_bound(value, low, high, en, da):
    """A caseload is shown with as few decimals as keep it visibly outside the range, and the range as it was
    configured (a held-out audit read 'baseline 31 ... below the plausible 31-40' for 31.47 against 31.48)."""
    import pandas as pd
    side = "above" if value > high else "below"
    check = pd.DataFrame([{"scenario": "baseline", "cases_per_caseworker": value, "plausible_low": low,
                           "plausible_high": high, "verdict": side}])
    assert en in team_warnings(check)[0] and da in team_warnings(check, "da")[0]


def test_runs_whose_kpis_are_partly_undefined_print_nothing_on_stderr(tmp_path):
    """A team of 0 or 2 leaves KPIs undefined (no follow-up due, no reference level for a relative difference):
    the tables say '-', and neither NumPy ('Mean of empty slice') nor matplotlib ('invalid value encountered',
    from error bars of undefined intervals in the run's and the sweep's figures) may print on the console."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "sim", "-m", "casework.caseworkers=0,2", "compare=[lower_caseload]",
                           "run.replications=2", "run.warmup_years=1", "run.horizon_years=1", "output.progress=false",
                           f"output.dir={tmp_path / 'results'}"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr == "", proc.stderr[-2000:]
    assert len(list((tmp_path / "results" / "sweeps").glob("*/sweep.png"))) == 1


def test_the_python_api_gives_the_warnings_a_reader_must_see():
    """res.warnings() (and res.team_check()) in a notebook: the same lines as the summary and the workbook."""
    from sim import simulate
    bad = simulate(["casework.caseworkers=2", "municipality=middelfart", "run.replications=2", "run.warmup_years=1",
                    "run.horizon_years=1", "compare=[]", "run.workers=1"], write=False, progress=False)
    assert bad.warnings()[0] == team_warnings(bad.team_check())[0] and bad.warnings()[0] in summary_text_full(bad)
    assert bad.warnings("da")[0].startswith("advarsel: sagsbehandlerteamet passer ikke")
    good = simulate(["municipality=middelfart", "run.replications=2", "run.warmup_years=1", "run.horizon_years=1",
                     "compare=[]", "run.workers=1"], write=False, progress=False)
    assert list(good.team_check().verdict) == ["within"]
    assert not [w for w in good.warnings() if "team" in w]


def test_every_warning_a_reader_must_see_opens_the_reports_executive_summary(tmp_path):
    """Held-out audit 8: the warm-up check's drift warning stood only in the report's calibration section, half
    way down, while summary.txt and the workbook put it first. Every line of res.warnings() - a team that does
    not fit, a baseline that still drifts - is in the executive summary, in both languages."""
    res = run_inline(["casework.caseworkers=3", "run.warmup_years=0", "run.horizon_years=3"], replications=3)
    for language in ("en", "da"):
        lines = res.warnings(language)
        words = ("drift", "team") if language == "en" else ("driver stadig", "sagsbehandlerteamet")
        assert len(lines) >= 2 and all(any(w in x for x in lines) for w in words), lines
        write_report(res, tmp_path / f"{language}.html", language=language)
        page = (tmp_path / f"{language}.html").read_text(encoding="utf-8")
        start = page.index('id="executive-summary"')
        summary = page[start:page.index("</div>", start)]
        words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", summary)).split())
        for line in lines:
            assert line in words, (line, words[:500])
