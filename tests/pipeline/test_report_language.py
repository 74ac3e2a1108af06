"""What planners and finance staff read, held-out audit 6: no English text in the Danish report and workbook
(F6), an overall word on the children's outcomes that follows the rule of its clauses (F7), '-' and '[-; -]'
explained under the tables (F8), and an interval's ends on its mean's scale (DOUBTFUL 9)."""
from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import yaml

from sim.common.i18n import IN_ENGLISH, KPI_DEFINITIONS_DA, kpi_definition, municipality_label
from sim.common.kpi_catalog import KPI_DEFS
from sim.config.schema import Municipality, ScenarioInfo
from sim.report.excel import write_workbook
from sim.report.format import cell
from sim.report.html import write_report
from sim.report.summary import ScenarioSummary, description, investment_notes, outcome_sentence
from sim.report.text import summary_text, summary_text_full
from tests.conftest import run_inline

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "kinship_first"


@pytest.fixture(scope="module")
def res():
    return run_inline(["output.write=false"], replications=2, compare=f"[{SCENARIO}]")


@pytest.fixture(scope="module")
def one_rep():
    return run_inline(["output.write=false"], replications=1, compare=f"[{SCENARIO}]")


def _text(path: Path) -> str:
    """The report's words, without the pictures, the style sheet and the tags."""
    t = path.read_text(encoding="utf-8")
    t = re.sub(r'data:image/png;base64,[^"]*', "", t)
    t = re.sub(r"<style>.*?</style>", "", t, flags=re.S)
    return re.sub(r"<[^>]+>", "\n", t)


def without_danish(res, arm: str):
    """A shallow copy of res whose arm's scenario_info has no Danish text (a user's own scenario file)."""
    acfg = res.plan.arms[arm]
    info = {k: v.model_copy(update={"description_da": "",
                                    "investment": v.investment.model_copy(update={"notes_da": ""})})
            for k, v in acfg.scenario_info.items()}
    out = copy.copy(res)
    out.plan = res.plan.model_copy(update={"arms": {**res.plan.arms,
                                                    arm: acfg.model_copy(update={"scenario_info": info})}})
    return out


# ------------------------------------------------------------------------------------------- F6: Danish text
def test_every_scenario_file_has_danish_description_and_notes_with_the_same_source_tags():
    shipped = subprocess.run(["git", "ls-files", "scenarios/*.yaml"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()           # not the files other tests drop in for a while
    assert len(shipped) >= 11
    for path in (ROOT / p for p in shipped):
        for name, info in yaml.safe_load(path.read_text(encoding="utf-8"))["scenario_info"].items():
            si = ScenarioInfo.model_validate(info)
            assert si.description_da.strip() and si.description_da != si.description, path.name
            assert bool(si.investment.notes_da.strip()) == bool(si.investment.notes.strip()), path.name
            for en, da in ((si.description, si.description_da), (si.investment.notes, si.investment.notes_da)):
                assert re.findall(r"\[[^\]]*\d{3}[^\]]*\]", en) == re.findall(r"\[[^\]]*\d{3}[^\]]*\]", da), path.name


def test_a_user_scenario_and_municipality_without_danish_text_stay_valid():
    info = ScenarioInfo.model_validate({"description": "My plan", "sources": [],
                                        "investment": {"one_off_dkk": 0, "yearly_dkk": 0, "notes": "n"}})
    assert info.description_da == "" and info.investment.notes_da == ""
    for path in sorted((ROOT / "conf" / "municipality").glob("*.yaml")):
        m = yaml.safe_load(path.read_text(encoding="utf-8"))["municipality"]
        assert Municipality.model_validate(m).label_da.strip(), path.name     # every profile has a Danish label
        m.pop("label_da")
        own = Municipality.model_validate(m)                                  # a user's file without one
        assert municipality_label(own, "da") == own.label == municipality_label(own, "en")


def test_danish_report_has_danish_scenario_texts_and_municipality_label(res, tmp_path):
    write_report(res, tmp_path / "da.html", language="da")
    da = _text(tmp_path / "da.html")
    info = res.plan.arms[SCENARIO].scenario_info[SCENARIO]
    assert "Gennemsnitskommune (2015)" in da and "Average municipality" not in da
    flat = " ".join(da.split())
    assert " ".join(info.description_da.split()) in flat and " ".join(info.investment.notes_da.split()) in flat
    assert info.description.split()[0] not in da.split() and "set them from the municipality" not in da
    assert IN_ENGLISH not in da                 # the shipped scenarios and the KPI dictionary: all in Danish
    assert "Children aged 0-17 in a placement step" not in da and KPI_DEFINITIONS_DA["placement_moves"] in flat
    write_report(res, tmp_path / "en.html", language="en")
    en = _text(tmp_path / "en.html")
    assert "Average municipality (2015)" in en and " ".join(info.description.split()) in " ".join(en.split())
    assert info.description_da.split()[0] not in en.split()


def test_a_scenario_without_danish_text_falls_back_to_english_marked_as_such(res, tmp_path):
    bare = without_danish(res, SCENARIO)
    info = bare.plan.arms[SCENARIO].scenario_info[SCENARIO]
    assert description(bare, SCENARIO, "da") == f"{info.description} {IN_ENGLISH}"
    assert investment_notes(bare, SCENARIO, "da") == f"{info.investment.notes} {IN_ENGLISH}"
    assert description(bare, SCENARIO, "en") == info.description and IN_ENGLISH not in \
        investment_notes(bare, SCENARIO, "en")
    write_report(bare, tmp_path / "da.html", language="da")
    assert IN_ENGLISH in _text(tmp_path / "da.html")


def test_danish_workbook_names_the_municipality_in_danish(res, tmp_path):
    write_workbook(res, tmp_path / "da.xlsx", language="da")
    write_workbook(res, tmp_path / "en.xlsx", language="en")
    da = [v for row in openpyxl.load_workbook(tmp_path / "da.xlsx")["Om beregningen"].iter_rows(values_only=True)
          for v in row]
    en = [v for row in openpyxl.load_workbook(tmp_path / "en.xlsx")["About"].iter_rows(values_only=True) for v in row]
    assert "Gennemsnitskommune (2015)" in da and "Average municipality (2015)" not in da
    assert "Average municipality (2015)" in en


def test_every_kpi_has_a_danish_definition_and_a_new_one_falls_back_marked():
    assert set(KPI_DEFS) <= set(KPI_DEFINITIONS_DA)
    assert kpi_definition("some_new_kpi", "A new KPI.", "da") == f"A new KPI. {IN_ENGLISH}"
    assert kpi_definition("open_cases", KPI_DEFS["open_cases"][2], "en") == KPI_DEFS["open_cases"][2]


# --------------------------------------------------------------------------- F7: the overall word and clauses
def _summary(**outcomes) -> ScenarioSummary:
    s = ScenarioSummary(scenario="x", title="X", description="", cost_diff=(1e6, 5e5, 2e6), payback_month=None,
                        payback_month_discounted=None, payback_year_95=None)
    s.outcomes = outcomes
    return s


def test_the_overall_word_follows_the_rule_of_the_clauses():
    # all three below 0.05 % with intervals that exclude 0 (the audit's lower_caseload): not 'better'
    tiny = _summary(unmet_need_share=(-0.0001, -0.0002, -0.00005, 0.5), need_days_weighted=(-10, -20, -5, 1e6),
                    placement_moves=(-0.01, -0.02, -0.005, 100))
    en, da = outcome_sentence(tiny, "en"), outcome_sentence(tiny, "da")
    assert en.startswith("The extra cost comes with practically unchanged outcomes for the children:")
    assert en.count("practically unchanged") == 4 and "better" not in en
    assert "bedre" not in da and da.count("stort set uændre") == 4
    # a fall whose interval includes 0 (the audit's earlier_detection) is no fall
    unsure = _summary(unmet_need_share=(0.0, -1e-5, 1e-5, 0.5), need_days_weighted=(0.0, -1, 1, 1e6),
                      placement_moves=(-2.0, -6.3, 2.8, 100))
    en = outcome_sentence(unsure, "en")
    assert "fall by" not in en and "moves between placements show no clear change (\u22122.0 %; the 95 % interval " \
        "includes zero)" in en and "no clear difference for the children" in en
    assert "falder" not in outcome_sentence(unsure, "da") and "ændrer sig ikke sikkert" in outcome_sentence(unsure, "da")
    # one clear fall, the rest unclear or unchanged: better, and only the clear one is said as a fall
    one = _summary(unmet_need_share=(0.0, -1e-5, 1e-5, 0.5), need_days_weighted=(-5e4, -8e4, -2e4, 1e6),
                   placement_moves=(-2.0, -6.3, 2.8, 100))
    en = outcome_sentence(one, "en")
    assert "comes with better outcomes" in en and en.count("fall") == 1 and "days of need fall by 5.0 %" in en
    mixed = _summary(unmet_need_share=(0.01, 0.005, 0.015, 0.5), need_days_weighted=(-5e4, -8e4, -2e4, 1e6),
                     placement_moves=(0.0, 0.0, 0.0, 100))
    assert "mixed outcomes" in outcome_sentence(mixed, "en") and "rises by 1.00 percentage points" in \
        outcome_sentence(mixed, "en")
    # one replication: no interval, so no clear change
    norep = _summary(unmet_need_share=(0.01, np.nan, np.nan, 0.5), need_days_weighted=(-5e4, np.nan, np.nan, 1e6),
                     placement_moves=(2.0, np.nan, np.nan, 100))
    en = outcome_sentence(norep, "en")
    assert "no clear difference" in en and "rises" not in en and "fall " not in en and "no interval with one " \
        "replication" in en


# ---------------------------------------------------------------------------------- F8: '-' and '[-; -]' explained
def test_payback_dash_is_explained_in_both_languages(res, tmp_path):
    for language, words in (("da", "'-' = ikke tjent hjem inden for perioden"),
                            ("en", "'-' = not paid back within the horizon")):
        write_report(res, tmp_path / f"{language}.html", language=language)
        text = (tmp_path / f"{language}.html").read_text(encoding="utf-8")
        assert words in text.replace("&#x27;", "'"), language
        assert "intet 95 %-interval" not in text and "no 95 % interval" not in text
    assert "no 95 % interval" not in summary_text_full(res)


def test_one_replication_says_why_every_interval_is_a_dash(one_rep, tmp_path):
    for language, words in (("da", "Med 1 replikation er der intet 95 %-interval"),
                            ("en", "With 1 replication there is no 95 % interval")):
        write_report(one_rep, tmp_path / f"{language}.html", language=language)
        text = (tmp_path / f"{language}.html").read_text(encoding="utf-8")
        assert ("[-; -]" if language == "da" else "[-, -]") in text
        # under the key figures, the differences, the payback by year, the headroom, the budget difference and
        # the calibration check
        assert text.count(words) == 6, language
    full = summary_text_full(one_rep)
    assert "[-, -]" in full and "With 1 replication there is no 95 % interval" in full
    assert "With 1 replication there is no 95 % interval" in summary_text(one_rep)
    # the executive summary's cost sentence says why it has no interval (the re-check: 'from - to -')
    words = " ".join(full.split())             # the summary's sentences are wrapped
    assert "from - to -" not in words and "no 95 % interval with one replication" in words
    da = (tmp_path / "da.html").read_text(encoding="utf-8")
    assert "fra - til -" not in da and "intet 95 %-interval med én replikation" in da


# ------------------------------------------------------------------------ DOUBTFUL 9: one scale in an interval
def test_an_interval_is_written_on_its_means_scale():
    assert cell(-6.2e6, -12.2e6, -73967) == "-6.2M [-12.2M, -0.1M]"
    assert cell(-6.2e6, -12.2e6, -73967, "da") == "-6,2 mio. [-12,2 mio.; -0,1 mio.]"
    assert cell(-73967, -1.2e6, 5e5) == "-73,967 [-1,200,000, 500,000]"
    assert cell(45.6, 12.3, 0) == "45.6 [12.3, 0]" and cell(5.0, np.nan, np.nan, "da") == "5,00 [-; -]"


def test_a_profile_written_from_a_csv_has_a_danish_label_that_the_schema_reads(tmp_path):
    from sim.analyses.profiles import profile_yaml, read_profiles
    f = tmp_path / "figures.csv"
    f.write_text("name,label,population,children_0_17,young_18_22,population_growth_per_year,placed_per_1000_0_22,"
                 "spending_per_child_0_22_dkk,expected_spending_need_per_child_0_22_dkk,caseworkers,"
                 "cases_per_caseworker\nzz_label_da,Middelfart (2015),40000,8000,2500,0.01,8.5,9000,9500,11,\n")
    (p,) = read_profiles(f)
    m = Municipality.model_validate(yaml.safe_load(profile_yaml(p))["municipality"])
    assert m.label_da == m.label == "Middelfart (2015)" and municipality_label(m, "da") == "Middelfart (2015)"


@pytest.mark.parametrize("language", ["da", "en"])
def test_every_word_on_every_figure_is_written_in_the_figures_language(res, language):
    """Held-out audit 8: the Danish 'Hvor forskellen kommer fra' read 'i alt -26,6 mio,' - the unit's dot turned
    into a decimal comma with the number's. Every text of every figure: no abbreviation with a comma after it,
    units in the language, a decimal comma in Danish and a decimal point in English."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text
    from sim.report.plots import FIGURES
    texts = []
    for name, draw in FIGURES.items():
        fig = draw(res, None, language=language)
        if fig is None:
            continue
        fig.canvas.draw()       # tick labels are made when drawn
        texts += [t.get_text() for t in fig.findobj(Text) if t.get_text()]
        plt.close(fig)
    words = "\n".join(texts)
    assert len(texts) > 50, texts
    assert not re.search(r"\b(mio|mia|kr),", words), re.findall(r".{20}\b(?:mio|mia|kr),.{5}", words)
    if language == "da":
        assert re.search(r"i alt [+\u2212-]?[\d.]+,\d mio\. kr\.", words), words
        assert not re.search(r"\bM DKK\b|\btotal\b", words)
        assert not re.search(r"(?<![\d.])\d+\.\d(?!\d)", words.replace("mio.", "").replace("kr.", "")), \
            re.findall(r".{15}(?<![\d.])\d+\.\d(?!\d).{5}", words)          # 1.5 in Danish is 1,5
    else:
        assert re.search(r"total [+-][\d,]+\.\dM DKK", words), words
        assert "mio." not in words and " kr." not in words


def test_the_scenarios_changed_parameters_are_shown_as_the_configuration_means_them(res, tmp_path):
    """Held-out audit 8: the Danish report's tables of changed parameters showed Python's spelling - True, False,
    [90.0, 150.0], 50000.0, 0.5 with a decimal point. Every standard scenario's changes, in both languages."""
    from types import SimpleNamespace

    import yaml

    from sim.config import CONF_DIR, plan
    from sim.report.format import config_value, parameter_changes
    from tests.conftest import QUICK
    write_report(res, tmp_path / "da.html", language="da")          # the report's own table shows them so
    page = (tmp_path / "da.html").read_text(encoding="utf-8")
    start = page.index(f'id="scenario-{SCENARIO}"')
    chapter = re.sub(r"<[^>]+>", "\n", page[start:page.index("<h2", start)])     # to the next chapter
    assert "staircase.matching" in chapter
    assert parameter_changes(res, SCENARIO) and not re.search(r"\b(True|False|None)\b|\d\.0\b|\d\.\d\b", chapter)
    compare = yaml.safe_load((CONF_DIR / "config.yaml").read_text(encoding="utf-8"))["compare"]
    every = SimpleNamespace(plan=plan(QUICK + [f"compare=[{','.join(compare)}]"]))
    shown = {"da": [], "en": []}
    for arm in every.plan.arms:
        for _, a, b in parameter_changes(every, arm):
            for language in shown:
                shown[language] += [config_value(a, language), config_value(b, language)]
    assert len(shown["da"]) > 40
    for language, values in shown.items():
        text = "\n".join(values)
        assert not re.search(r"\b(True|False|None|nan)\b|\d\.0\b", text), text
        if language == "da":
            assert not re.search(r"\d\.\d{1,2}\b(?!\d)", text.replace("[", " ")), text      # 0,5 not 0.5
            assert "ja" in values or "nej" in values
    assert config_value(True, "da") == "ja" and config_value(False, "en") == "no" and config_value(None) == "-"
    assert config_value([90.0, 150.0], "da") == "[90; 150]" and config_value(50000.0, "da") == "50.000"
    assert config_value(0.0125, "da") == "0,0125" and config_value(-1234.5) == "-1,234.5"
    assert config_value(1234567.25, "da") == "1.234.567,25" and config_value("residential") == "residential"


def test_floating_point_noise_is_shown_as_zero_never_as_a_negative_amount():
    """Held-out audit 8: a scenario that starts in the second year has the reference's first year, and its headroom
    (-7e-9 kr. of summation noise) read '-0,00 [-0,00; -0,00]' in the report and summary.txt."""
    from sim.common.i18n import fmt_da
    from sim.report.format import fmt, headroom_display, money, on_scale, percent
    noise = -7.45e-09
    assert fmt(noise) == fmt_da(noise) == "0" and money(noise, "da", signed=True) == "0 kr."
    assert cell(noise, noise, noise, "da") == "0 [0; 0]" and percent(noise, "da", 1) == "0,0 %"
    # a real small amount keeps its sign, on every scale
    assert fmt(-0.5) == "-0.50" and on_scale(-4e4, -5e6) == "-0.0M" and fmt_da(-2e6) == "-2,0 mio."
    r = run_inline(["implementation.start_month=13"], replications=3, compare="[full_shift]")
    for language in (None, "en", "da"):
        first = headroom_display(r, language).iloc[:, 0]           # year 1: the scenario has not started
        assert not first.str.contains(r"-0[.,]0|\u22120[.,]0").any(), first
    assert not re.search(r"-0\.00\b", summary_text_full(r))
