"""The report a planner sends to the politicians: report.html in Danish (or English), its executive summary,
the staircase flow picture, the break-even chart, tables that fit the page - checked in a real browser
(Debian's /usr/bin/chromium driven by playwright; `make browser` installs it) - and the console summary
within 100 columns."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.common.i18n import fmt_da
from sim.report import plots
from sim.report.html import write_report
from sim.report.summary import cumulative_difference, scenario_summaries
from sim.report.text import fit_table, summary_text, summary_text_full

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SMALL = ["run.replications=2", "run.warmup_years=1", "run.horizon_years=2", "run.workers=1", "output.progress=false",
         "output.figures=true", "output.report=true", "output.excel=false", "compare=[kinship_first,lower_caseload]"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A small run written to a run folder with figures and the report (Danish: the default language)."""
    out = tmp_path_factory.mktemp("report") / "results"
    return sim.simulate(SMALL + [f"output.dir={out}"])


def _chromium():
    """playwright's sync API with Debian's chromium, or a skip (locally) / failure (CI=true) with the reason."""
    reason = None
    if not Path(CHROMIUM).is_file():
        reason = f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium, as root)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed: pip install -e '.[dev]'"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the report's browser test cannot run in CI: {reason}")
        pytest.skip(reason)
    return sync_playwright


def _visible_and_loaded(page, selector: str) -> bool:
    return page.eval_on_selector(selector, """e => { const r = e.getBoundingClientRect();
        const s = getComputedStyle(e);
        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
               && (e.tagName !== 'IMG' || (e.complete && e.naturalWidth > 0)); }""")


def test_report_in_a_real_browser_fits_1280px_and_shows_summary_flows_and_every_figure(run):
    sync_playwright = _chromium()
    report = run.run_dir / "report.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(report.as_uri(), wait_until="load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
            assert _visible_and_loaded(page, "#executive-summary")
            assert page.locator("#executive-summary .exec-scenario").count() == 2
            assert _visible_and_loaded(page, "#flow-picture img")
            assert _visible_and_loaded(page, "#break-even img")
            n = page.locator("img").count()
            assert n == len(list((run.run_dir / "figures").glob("*.png"))) > 0
            for i in range(n):
                assert _visible_and_loaded(page, f":nth-match(img, {i + 1})"), f"image {i + 1} of {n}"
                assert page.locator("img").nth(i).get_attribute("alt")
            # every figure has a caption in words
            assert page.locator("figure figcaption").count() == n
            # printed on A4 it is more than one page, chapters on pages of their own
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 5
        finally:
            browser.close()


def test_report_is_danish_by_default(run):
    html = (run.run_dir / "report.html").read_text(encoding="utf-8")
    text = re.sub(r'data:image/png;base64,[^"]*', "", html)
    assert '<html lang="da">' in text
    for heading in ("Sammenfatning", "Børnene på trappen", "Hvornår er det tjent hjem?", "Nøgletal over perioden",
                    "Budget pr. foranstaltning", "Investeringsråderum", "Ordliste over nøgletal"):
        assert f">{heading}</h2>" in text or f">{heading}</h3>" in text, heading
    steps = run.plan.arms[run.reference].staircase.steps
    for step in steps.values():
        if step.order > 0:
            assert step.label_da in text, step.label_da
    assert "mio. kr." in text and "Anbragte pr. 1.000 0-22-årige" in text
    assert re.search(r"\d+,\d mio\.", text)                        # decimal comma
    assert "Netværket først" in text and "baseline: baseline" not in text and "kinship_first: kinship_first" not in text
    assert "&lt;NA&gt;" not in text and not re.search(r"\d\.\d+e[+-]\d\d", text)


def test_report_in_english_on_request(run, tmp_path):
    write_report(run, tmp_path / "report.html", figures_dir=run.run_dir / "figures", language="en")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in text and ">Executive summary</h2>" in text and "Kinship first" in text
    assert ">Does it pay back?</h2>" in text and "DKK" in text and "Sammenfatning" not in text


def test_report_without_figure_files_draws_its_own_flow_picture_and_break_even_chart(run, tmp_path):
    write_report(run, tmp_path / "report.html")
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 2
    assert 'id="flow-picture"' in text and 'id="break-even"' in text and 'id="figures"' not in text


def test_executive_summary_comes_from_the_results(run):
    summaries = {s.scenario: s for s in scenario_summaries(run, "da")}
    assert list(summaries) == ["kinship_first", "lower_caseload"]
    c = run.comparison
    for sc, s in summaries.items():
        row = c[(c.scenario == sc) & (c.period == "horizon") & (c.kpi == "cost_total_dkk")].iloc[0]
        assert s.cost_diff == pytest.approx((row.diff_mean, row.diff_ci_low, row.diff_ci_high))
        words = fmt_da(abs(row.diff_mean), money=True)
        assert words in s.sentences[0] and ("mindre" if row.diff_mean < 0 else "mere") in s.sentences[0]
        assert s.drivers and any("skyldes især" in x for x in s.sentences)
        assert any("for børnene" in x for x in s.sentences)
        # the break-even chart's last month is the horizon's paired cost difference
        cum = cumulative_difference(run)
        assert cum[cum.scenario == sc].cum_diff_dkk.iloc[-1] == pytest.approx(row.diff_mean, rel=1e-6)
    # no uncertainty analysis: nothing is said about a probability of payback
    assert not any("sandsynlighed" in x for s in summaries.values() for x in s.sentences)
    prob = pd.DataFrame({"scenario": ["kinship_first"] * 2, "year": [1, 2], "paid_back_share": [0.25, 0.8]})
    with_u = scenario_summaries(run, "en", uncertainty=prob)[0]
    assert any("probability of having paid back" in x and "80 %" in x for x in with_u.sentences)


def test_console_summary_fits_100_columns_and_summary_txt_is_complete(run):
    short = summary_text(run)
    assert all(len(line) <= 100 for line in short.splitlines()), max(short.splitlines(), key=len)
    assert "Placed per 1,000 aged 0-22" in short and "Total cost (DKK)" in short and "Payback" in short
    assert "kinship_first" in short and "lower_caseload" in short and "placed_per_1000_0_17" not in short
    assert len(short.splitlines()) < 40
    full = (run.run_dir / "summary.txt").read_text()
    assert full.startswith(summary_text_full(run).split("\n", 1)[0])
    for part in ("placed_per_1000_0_17", "Investment headroom", "Payback:", "Over the 2 years the scenario costs",
                 "Budget of baseline over the horizon"):
        assert part in full, part
    narrow = summary_text(run, width=60)
    assert all(len(line) <= 60 for line in narrow.splitlines())


def test_fit_table_shortens_the_first_column_to_the_width():
    rows = [["a_very_long_composed_scenario+another_long_scenario_name", "-24.1M [-25.5M, -22.8M]", "0.01"]]
    lines = fit_table(["Scenario", "Total cost", "Placed"], rows, width=50)
    assert all(len(x) <= 50 for x in lines) and "…" in lines[-1]


def test_every_figure_is_drawn_and_the_comparison_figures_only_with_scenarios(run):
    names = {p.name for p in (run.run_dir / "figures").glob("*.png")}
    assert names == set(plots.FIGURES)
    assert set(plots.COMPARISON_ONLY) <= set(plots.FIGURES)


def test_figures_drawn_again_in_parallel_are_the_same_files(run, tmp_path):
    """The run drew its figures in this process; drawn again by two forked processes they are byte for byte the
    same: no figure depends on an unseeded random draw (seaborn's bootstrapped error bars did) or on where it
    was drawn."""
    with plots.start_figures(run, tmp_path, jobs=2) as drawing:
        paths = drawing.wait()
    assert [p.name for p in paths] == [n for n in plots.FIGURES]
    for p in paths:
        assert p.read_bytes() == (run.run_dir / "figures" / p.name).read_bytes(), p.name


def test_a_figure_that_fails_in_a_drawing_process_is_an_error_of_the_run(run, tmp_path, monkeypatch):
    def broken(res, path, language=None):
        raise ValueError("no data to draw")
    monkeypatch.setitem(plots.FIGURES, "caseload_and_followup.png", broken)
    with pytest.raises(RuntimeError, match="no data to draw"):
        with plots.start_figures(run, tmp_path, jobs=2) as drawing:
            drawing.wait()
    assert not drawing.children


def test_drawing_processes_killed_by_a_signal_never_hang_the_run(run, tmp_path):
    """SIGTERM to the whole process group (a scheduler cancelling the job) also reaches the drawing processes:
    waiting for them then ends with an error at once (a multiprocessing pool could wait for ever on a task queue
    its killed worker held), and leaving the block leaves no process behind."""
    import signal
    import time
    with pytest.raises(RuntimeError, match="without a result"):
        with plots.start_figures(run, tmp_path, jobs=2) as drawing:
            pids = list(drawing.children)
            assert len(pids) == 2
            for pid in pids:
                os.kill(pid, signal.SIGTERM)
            t0 = time.monotonic()
            try:
                drawing.wait()
            finally:
                assert time.monotonic() - t0 < 30
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)                      # reaped: no zombie left


def test_the_forecast_and_budget_follow_up_chapter_fits_1280px(tmp_path):
    """A run from today's caseload with a budget: its chapter (sentences and two wide tables) fits the page."""
    from sim.common.paths import ROOT
    res = sim.simulate(["run.replications=2", "run.horizon_years=1", "run.workers=1", "output.progress=false",
                        "output.write=false", "compare=[]", f"caseload={ROOT / 'data' / 'caseload_example.csv'}",
                        f"budget={ROOT / 'data' / 'budget_example.csv'}"])
    report = write_report(res, tmp_path / "report.html") or tmp_path / "report.html"
    text = Path(report).read_text(encoding="utf-8")
    assert ">Prognose og budgetopfølgning</h2>" in text and "heraf mængde" in text and "dagens sagsstamme" in text
    sync_playwright = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(Path(report).as_uri(), wait_until="load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
            assert _visible_and_loaded(page, "#followup table")
        finally:
            browser.close()


def test_one_replication_one_year_and_no_warm_up_are_said_so_in_every_text_and_both_languages(tmp_path):
    """Counts of one are singular and a warm-up of 0 years is 'no warm-up', in the console, summary.txt and the
    report in Danish and English (they said '1 replications', 'over the 1 years', 'after 0 warm-up years')."""
    from sim.common.i18n import count_text, the_years
    assert [count_text(n, "year", "years") for n in (0, 1, 1.5, 2)] == ["0 years", "1 year", "1.5 years", "2 years"]
    assert count_text(1.5, "år", "år", "da") == "1,5 år" and count_text(1, "replikation", "replikationer", "da") \
        == "1 replikation"
    assert (the_years(1), the_years(4), the_years(1, "da"), the_years(4, "da")) == \
        ("the 1 year", "the 4 years", "det ene år", "de 4 år")
    res = sim.simulate(["run.replications=1", "run.warmup_years=0", "run.horizon_years=1", "run.workers=1",
                        "output.progress=false", "output.figures=false", "output.excel=false", "output.report=true",
                        "compare=[kinship_first]", f"output.dir={tmp_path}"])
    short = summary_text(res)
    full = (res.run_dir / "summary.txt").read_text()
    write_report(res, tmp_path / "en.html", language="en")
    en = (tmp_path / "en.html").read_text(encoding="utf-8")
    da = (res.run_dir / "report.html").read_text(encoding="utf-8")
    assert "1 replication per arm, 1 horizon year with no warm-up" in short
    assert "over the 1 year," in short and "horizon: 1 year with no warm-up" in full
    assert "1 replication per arm" in en and "no warm-up, then 1 horizon year under each scenario" in en
    assert "1 replikation pr. scenarie" in da and "ingen indkøring, derefter 1 år" in da and "over det ene år" in da
    for text in (short, full, en, da):
        for wrong in ("1 replications", "1 years", "0 warm-up", "1 horizon years", "de 1 år", "1 replikationer",
                      "0 års indkøring"):
            assert wrong not in text, wrong


def test_the_printed_summary_names_only_the_files_the_run_wrote(run):
    """output.excel=false in this run: the last lines point to summary.txt and report.html, not to a workbook that
    is not there."""
    tail = " ".join(summary_text(run).split()[-16:])
    assert "summary.txt and report.html in" in tail and "business_case.xlsx" not in tail
    for name in ("summary.txt", "report.html"):
        assert (run.run_dir / name).is_file()
    assert not (run.run_dir / "business_case.xlsx").exists()


def test_a_run_that_writes_nothing_says_so_instead_of_naming_files(run):
    """output.write=false: nothing is written, and the printed summary said 'summary.txt, report.html and
    business_case.xlsx' all the same (held-out audit)."""
    import dataclasses
    cfg = run.plan.arms[run.reference]
    cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"write": False})})
    plan = run.plan.model_copy(update={"arms": {**run.plan.arms, run.reference: cfg}})
    unwritten = dataclasses.replace(run, plan=plan, run_dir=None)
    tail = " ".join(summary_text(unwritten).split()[-24:])
    assert "Nothing was written (output.write=false)" in tail
    assert "summary.txt" not in tail and "report.html" not in tail and "business_case.xlsx" not in tail


def test_a_headline_kpi_with_nothing_to_measure_is_explained(run):
    """A team of 0 (or no follow-up due, no assessment started) leaves a KPI undefined: it was printed as '- [-, -]'
    with no word on why, and the summary's n fell below the replications silently (held-out audit)."""
    import dataclasses
    reps = run.plan.arms[run.reference].run.replications
    s = run.summary.copy()
    undefined = (s.scenario == run.reference) & (s.kpi == "cases_per_caseworker")
    s.loc[undefined, ["mean", "ci_low", "ci_high"]] = float("nan")
    s.loc[undefined, "n"] = 0
    text = summary_text(dataclasses.replace(run, summary=s))
    flat = " ".join(text.split())
    assert "not defined where there was nothing to measure" in flat and f"Cases per caseworker (0 of {reps})" in flat
    assert "not defined where" not in " ".join(summary_text(run).split())      # every KPI defined: no note
