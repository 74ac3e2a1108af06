"""The self-contained HTML report of a run (figures embedded), for a planner to send to the politicians.

In the reference arm's ``output.language`` (Danish by default, English with ``output.language=en``): step
labels, KPI names, headings, "mio. kr.", decimal comma and thousands point. In order: the executive summary
per scenario (:mod:`sim.report.summary`), the staircase flow picture (:mod:`sim.report.flows`) and the
break-even chart, key figures and differences, payback and headroom, the budget, the calibration check, the
other figures with captions in words, the scenarios (titled in words, with their descriptions) and the KPI
dictionary. Tables wrap inside the page (no horizontal scrolling at 1280 px; wide tables are split), and a
print stylesheet lays it out on A4 with a page break before each chapter.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from pathlib import Path

import pandas as pd

from ..common.i18n import (count_text, danish_separators, kpi_definition, kpi_label, municipality_label,
                           one_replication_note, replications_text, scenario_title, t, the_years, unit_label, warmup_years_text)
from ..common.kpi_catalog import KPI_DEFS
from ..metrics.warmup import warmup_check, warmup_text      # the warm-up check (docs/model.md 4.2)
from .danish import step_labels
from .format import (budget_by_year_display, budget_difference_display, budget_display, calibration_display,
                     config_value, format_comparison, format_summary, headroom_display, num, parameter_changes,
                     payback_by_year_display, payback_display)
from .followup import first_warnings, followup_frame, followup_lines, forecast_frame, start_phrase
from .summary import description, investment_notes, summary_html

MAX_TABLE_COLUMNS = 4       # a table with more scenario columns is split into tables of at most this many

CSS = """
:root{--blue:#0173b2;--orange:#de8f05;--grey:#555}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1180px;margin:1.5em auto;padding:0 1em;
     color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.15em;margin-top:1.8em}
nav.toc{font-size:.92em;margin:.8em 0 1.2em} nav.toc a{margin-right:1em;white-space:nowrap}
table.t{border-collapse:collapse;font-size:12.5px;margin:.5em 0 1.4em;max-width:100%;table-layout:auto}
table.t td,table.t th{padding:3px 7px;border-bottom:1px solid #ddd;text-align:right;vertical-align:top;
     overflow-wrap:anywhere}
table.t th{background:#f6f6f6} table.t tbody th{background:none;font-weight:normal}
table.t th:first-child,table.t td:first-child{text-align:left;min-width:9em}
table.text{width:100%} table.text td,table.text th{text-align:left} table.text td:first-child{min-width:12em}
figure{margin:1em 0 1.6em} figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.92em;color:#333;margin-top:.4em} figcaption b{color:#000}
.legend{font-size:.9em;color:var(--grey);margin:-1em 0 1.4em}
.note{background:#fff8e1;padding:.6em 1em;border-left:4px solid var(--orange)}
.exec-scenario{border:1px solid #ddd;border-left:6px solid var(--blue);padding:.3em 1em .5em;margin:.8em 0}
.exec-scenario.extra{border-left-color:var(--orange)}
.exec-scenario h3{margin:.4em 0 .2em} .exec-scenario .what{color:var(--grey);font-size:.93em;margin:.2em 0}
.exec-scenario ul{margin:.3em 0;padding-left:1.2em} .exec-scenario li{margin:.2em 0}
.tag{font-size:.8em;font-weight:normal;padding:.1em .5em;border-radius:3px;background:var(--blue);color:#fff;
     white-space:nowrap} .extra .tag{background:var(--orange);color:#000}
.scenario{margin:1em 0} .scenario .what{margin:.2em 0 .4em}
@page{size:A4;margin:14mm 12mm}
@media print{
  body{max-width:none;margin:0;padding:0;font-size:10pt}
  nav.toc{display:none}
  section.chapter{break-before:page} section.chapter.first{break-before:auto}
  h2,h3,p:has(+ table.t),p:has(+ figure){break-after:avoid} figure,.exec-scenario,.scenario{break-inside:avoid}
  table.t{font-size:8pt;break-inside:avoid} tr{break-inside:avoid} thead{display:table-header-group}
  figure img{max-height:235mm;width:auto;max-width:100%} a{color:inherit;text-decoration:none}
}
"""

# key -> (Danish, English); {ref} = the reference's title, {n} = horizon years
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Indsatstrappen – simulering for {m}", "Staircase simulation: {m}"),
    "summary": ("Sammenfatning", "Executive summary"),
    "summary_intro": ("Hvert scenarie sammenlignet med {ref} over {span}, parret replikation for replikation "
                      "(samme børn og tilfældige udfald i alle scenarier). Intervaller er 95 %-intervaller over "
                      "replikationerne: de viser simulationens usikkerhed, ikke usikkerheden i antagelserne.",
                      "Each scenario against {ref} over {span}, paired replication by replication (the same "
                      "children and draws in every arm). Intervals are 95 % intervals over the replications: they "
                      "show simulation uncertainty, not uncertainty in the assumptions."),
    "flows": ("Børnene på trappen", "Children on the staircase"),
    "payback": ("Hvornår er det tjent hjem?", "Does it pay back?"),
    "key": ("Nøgletal over perioden", "Key figures over the horizon"),
    "key_intro": ("Middel [95 %-interval]. Strømme er summer over perioden; bestande er gennemsnit pr. år.",
                  "Mean [95 % interval]. Flows are totals over the horizon; stocks are means per year."),
    "diff": ("Forskel fra {ref}", "Difference from {ref}"),
    "diff_intro": ("Parret forskel (scenarie minus {ref}) over perioden, middel [95 %-interval].",
                   "Paired difference (scenario minus {ref}) over the horizon, mean [95 % interval]."),
    "headroom": ("Investeringsråderum", "Investment headroom"),
    "budget": ("Budget pr. foranstaltning", "Budget by measure"),
    "calibration": ("Kalibreringstjek", "Calibration check"),
    "followup": ("Prognose og budgetopfølgning", "Forecast and budget follow-up"),
    "figures": ("Flere figurer", "More figures"),
    "scenarios": ("Scenarierne", "The scenarios"),
    "dictionary": ("Ordliste over nøgletal", "KPI dictionary"),
}
# figure file -> (Danish title, English title, Danish caption, English caption)
FIGURES: dict[str, tuple[str, str, str, str]] = {
    "staircase_flows.png": (
        "Børnene på trappen", "Children on the staircase",
        "For hvert trin over almene tilbud: det gennemsnitlige antal børn på trinnet over perioden (bjælker) og "
        "hvor mange børn der i gennemsnit kommer til trinnet (grøn pil ind, +) og forlader det (orange pil ud, −) "
        "pr. år; pilenes tykkelse følger antallet. Til venstre i hver række står {ref}, og scenarierne står ved siden "
        "af med forskellen i antal børn i parentes. Modellen registrerer ikke, hvorfra og hvortil det enkelte barn "
        "flytter, så figuren viser strømme ind og ud af hvert trin – ikke mellem to bestemte trin.",
        "For each step above universal services: the average number of children on the step over the horizon "
        "(bars) and how many children arrive on it (green arrow in, +) and leave it (orange arrow out, −) per "
        "year; the arrows' width follows the number. On the left of every row is {ref}, with the scenarios beside "
        "it and the difference in children in brackets. The model does not record where each child comes from or "
        "goes to, so the picture shows flows into and out of each step, not between two particular steps."),
    "break_even.png": (
        "Break-even: den akkumulerede forskel i udgifter", "Break-even: the cumulative cost difference",
        "Den akkumulerede parrede forskel i samlede udgifter fra {ref} måned for måned, investeringer medregnet "
        "(linje: middel; bånd: 95 %-interval over replikationerne). Under nullinjen har scenariet tjent sig hjem; "
        "den stiplede linje markerer måneden, hvor middelværdien første gang er under nul.",
        "The cumulative paired difference in total cost from {ref}, month by month, investments included "
        "(line: mean; band: 95 % interval over the replications). Below the zero line the scenario has paid "
        "back; the dashed line marks the month the mean first falls below zero."),
    "occupancy_by_step.png": (
        "Børn på hvert trin måned for måned", "Children on each step, month by month",
        "Antal børn på hvert trin (uden almene tilbud) ved månedens udgang gennem perioden, ét panel pr. "
        "scenarie (middel og 95 %-bånd).",
        "Children on each step (universal services left out) at each month end through the horizon, one panel "
        "per scenario (mean and 95 % band)."),
    "placements_per_1000.png": (
        "Anbragte pr. 1.000 børn", "Placed per 1,000 children",
        "Anbragte pr. 1.000 0-17-årige og 0-22-årige pr. år i perioden, pr. scenarie (95 %-interval); den "
        "stiplede linje er kommunens nøgletal.",
        "Placed per 1,000 aged 0-17 and 0-22 by horizon year and scenario (95 % interval); the dashed line is "
        "the municipality's key figure."),
    "cost_by_step.png": (
        "Udgifter pr. trin og år", "Cost by step and year",
        "Årlige udgifter fordelt på trin, sagsbehandlere og investering (mio. kr. pr. år, middel over "
        "replikationerne), ét panel pr. scenarie.",
        "Yearly cost split by step, caseworkers and investment (million DKK per year, mean over replications), "
        "one panel per scenario."),
    "caseload_and_followup.png": (
        "Sagsbyrde og opfølgning", "Caseload and follow-up",
        "Åbne sager pr. sagsbehandler måned for måned; andel opfølgninger til tiden, ventetid på undersøgelse "
        "og opfølgningernes andel af normeret tid pr. år; én linje pr. scenarie.",
        "Open cases per caseworker by month; follow-ups on time, the wait for an assessment and follow-ups' "
        "share of their standard hours by year; one line per scenario."),
    "forest_differences.png": (
        "Forskelle i procent", "Differences in per cent",
        "Parret forskel fra {ref} over perioden i procent af referencens middel, for de vigtigste nøgletal "
        "(middel og 95 %-interval).",
        "Paired difference from {ref} over the horizon in per cent of the reference's mean, for the headline "
        "KPIs (mean and 95 % interval)."),
    "budget_difference.png": (
        "Hvor forskellen kommer fra", "Where the difference comes from",
        "Parret forskel i udgifter fra {ref} pr. budgetpost over perioden (mio. kr.; blå = besparelse, orange = "
        "merudgift; 95 %-interval).",
        "Paired cost difference from {ref} by budget item over the horizon (million DKK; blue = saving, orange "
        "= extra cost; 95 % interval)."),
    "warmup_check.png": (
        "Tjek af indkøringen", "Warm-up check",
        "Referencens åbne sager og anbragte børn måned for måned gennem indkøring og periode (år 0 = periodens "
        "start); bestandene bør være stabile før år 0.",
        "The reference's open cases and placed children by month through warm-up and horizon (year 0 = the "
        "horizon's start); the stocks should be level before year 0."),
}
REPORT_FIGURES = ("staircase_flows.png", "break_even.png")     # drawn in the report's own chapters


def _w(key: str, language: str, **kw) -> str:
    da, en = WORDS[key]
    return (da if language == "da" else en).format(**kw)


def _e(text) -> str:
    return html.escape(str(text))


def _table(df: pd.DataFrame, index: bool = True, max_cols: int = MAX_TABLE_COLUMNS, text: bool = False) -> str:
    """A table as HTML; one with more than max_cols columns is split into several (the index repeated);
    ``text``: words, left-aligned over the page's width (numbers are right-aligned otherwise)."""
    if df.empty:
        return ""
    classes = "t text" if text else "t"
    if not index or df.shape[1] <= max_cols:
        return df.to_html(index=index, escape=True, border=0, classes=classes, na_rep="-")
    return "".join(df.iloc[:, i:i + max_cols].to_html(index=True, escape=True, border=0, classes=classes, na_rep="-")
                   for i in range(0, df.shape[1], max_cols))


def _png(name: str, res, figures_dir: Path | None, language: str) -> bytes | None:
    """A figure's PNG: from figures_dir when drawn there, else the report's own figures drawn in memory."""
    if figures_dir is not None and (Path(figures_dir) / name).is_file():
        return (Path(figures_dir) / name).read_bytes()
    if name not in REPORT_FIGURES:
        return None
    from . import plots        # matplotlib: imported only when the report draws its own figures

    fn = {"staircase_flows.png": plots.staircase_flows, "break_even.png": plots.break_even}[name]
    buf = io.BytesIO()
    return buf.getvalue() if fn(res, buf, language=language) is not None else None


def _figure(name: str, data: bytes | None, language: str, ref: str, fig_id: str = "") -> str:
    """A figure with its title and caption in words (nothing when there is no picture)."""
    if not data:
        return ""
    title_da, title_en, cap_da, cap_en = FIGURES.get(name, (name, name, "", ""))
    title = title_da if language == "da" else title_en
    caption = (cap_da if language == "da" else cap_en).format(ref=ref)
    src = "data:image/png;base64," + base64.b64encode(data).decode()
    ident = f' id="{fig_id}"' if fig_id else ""
    return (f'<figure{ident}><img src="{src}" alt="{_e(title)}"><figcaption><b>{_e(title)}.</b> {_e(caption)}'
            "</figcaption></figure>")


def ref_words(res, language: str) -> str:
    """The reference as it reads in the middle of a sentence: 'nuværende praksis' / 'current practice' for the
    baseline, another reference by its title."""
    ref = scenario_title(res.reference, language)
    return ref[:1].lower() + ref[1:] if res.reference == "baseline" else ref


def _legend(text: str) -> str:
    """A note under a table saying what its signs mean."""
    return f'<p class="legend">{_e(text)}</p>'


def payback_legend(res, language: str) -> str:
    """What '-' means in the payback table: not paid back within the horizon."""
    years = the_years(res.plan.arms[res.reference].run.horizon_years, language)
    return (f"'-' = ikke tjent hjem inden for perioden ({years})." if language == "da" else
            f"'-' = not paid back within the horizon ({years}).")


def interval_legend(res, language: str) -> str:
    """With one replication: why every interval is '[-; -]' ('' with more replications)."""
    if res.plan.arms[res.reference].run.replications > 1:
        return ""
    return _legend(one_replication_note(language))


def _chapter(key: str, body: str, language: str, first: bool = False, **kw) -> str:
    cls = "chapter first" if first else "chapter"
    return f'<section class="{cls}" id="{key}"><h2>{_e(_w(key, language, **kw))}</h2>{body}</section>'


def _head(res, language: str, has_figures: bool = True) -> str:
    """The document head, title, run paragraph, the note on assumptions and the table of contents."""
    cfg = res.plan.arms[res.reference]
    m, da = cfg.municipality, language == "da"
    ref = scenario_title(res.reference, language)
    if res.plan.caseload is not None:        # today's caseload replaces the synthetic warm-up
        start = (f"start {_e(start_phrase(res, language))}, derefter" if da else
                 f"a start {_e(start_phrase(res, language))}, then")
    else:
        start = (("ingen indkøring, derefter" if da else "no warm-up, then") if cfg.run.warmup_years == 0 else
                 f"{warmup_years_text(cfg.run.warmup_years, language)} "
                 + ("under nuværende praksis, derefter" if da else "under current practice, then"))
    run = (f"Kørsel {_e(res.run_id or '-')}, skrevet {_dt.datetime.now():%Y-%m-%d %H:%M}. Reference: <b>{_e(ref)}</b>; "
           f"{replications_text(cfg.run.replications, 'da')} pr. scenarie med fælles tilfældige tal; {start} "
           f"{cfg.run.horizon_years} år under hvert scenarie. Seed "
           f"{cfg.run.seed}. Beløb i kr., {cfg.costs.price_year}-priser." if da else
           f"Run {_e(res.run_id or '-')}, written {_dt.datetime.now():%Y-%m-%d %H:%M}. Reference <b>{_e(ref)}</b>; "
           f"{replications_text(cfg.run.replications)} per arm with common random numbers; {start} "
           f"{count_text(cfg.run.horizon_years, 'horizon year', 'horizon years')} under each scenario. Seed "
           f"{cfg.run.seed}. Money in DKK, {cfg.costs.price_year} prices.")
    note = ("De fleste parametre er markeret <code>[assumption]</code> eller <code>[calibrated]</code> i "
            "<code>conf/</code>: de er størrelsesordener for en gennemsnitskommune, ikke jeres kommunes tal. Erstat "
            "dem, før tallene bruges i et budget." if da else
            "Most parameters are marked <code>[assumption]</code> or <code>[calibrated]</code> in <code>conf/</code>: "
            "they are orders of magnitude for an average municipality, not your municipality's figures. Replace "
            "them before using the numbers in a budget.")
    keys = ["summary", "flows", "payback", "key", "diff", "budget", "followup", "calibration", "figures", "scenarios",
            "dictionary"]
    if res.plan.caseload is None and res.plan.budget is None:
        keys.remove("followup")
    if res.comparison.empty:
        keys = [k for k in keys if k not in ("payback", "diff")]
    if not has_figures:
        keys.remove("figures")
    toc = " ".join(f'<a href="#{k}">{_e(_w(k, language, ref=ref_words(res, language)))}</a>' for k in keys)
    title = _w("title", language, m=municipality_label(m, language))
    return (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1><p>{run}</p><p class=\"note\">{note}</p>"
            f'<nav class="toc">{toc}</nav>')


def _summary_flows_payback(res, language: str, figures_dir, uncertainty) -> list[str]:
    """The executive summary, the flow picture and the break-even chart with the payback tables."""
    cfg = res.plan.arms[res.reference]
    ref = ref_words(res, language)
    intro = f"<p>{_e(_w('summary_intro', language, ref=ref, span=the_years(cfg.run.horizon_years, language)))}</p>"
    intro += "".join(f'<p class="note">{_e(w)}</p>' for w in first_warnings(res, language))   # as summary.txt, workbook
    parts = [_chapter("summary", f'<div id="executive-summary">{intro}{summary_html(res, language, uncertainty)}</div>',
                      language, first=True)]
    flows = _figure("staircase_flows.png", _png("staircase_flows.png", res, figures_dir, language), language, ref,
                    "flow-picture")
    parts.append(_chapter("flows", flows, language))
    if not res.comparison.empty:
        da = language == "da"
        chart = _figure("break_even.png", _png("break_even.png", res, figures_dir, language), language, ref,
                        "break-even")
        body = (chart + "<p>" + _e("Akkumuleret forskel fra referencen ved udgangen af hvert år, investeringer "
                                   "medregnet (negativ = billigere indtil da), middel [95 %-interval]:" if da else
                                   "Cumulative difference from the reference by the end of each year, investments "
                                   "included (negative = cheaper so far), mean [95 % interval]:") + "</p>"
                + _table(payback_by_year_display(res, language)) + interval_legend(res, language)
                + _table(payback_display(res, language), index=False) + _legend(payback_legend(res, language))
                + f"<h3>{_e(_w('headroom', language))}</h3><p>"
                + _e("Den driftsbesparelse, hvert scenarie har opsparet ved udgangen af hvert år (parret, uden "
                     "scenariets investeringer; middel [95 %-interval]): det mest, investeringerne kan koste, for at "
                     "scenariet stadig er tjent hjem. Negativ: driften koster mere, før nogen investering." if da else
                     "The operating saving each scenario has accumulated by each horizon year (paired, scenario "
                     "investments left out; mean [95 % interval]): the most its investments could total by then for "
                     "it still to have paid back. Negative: it costs more to run, before any investment.")
                + "</p>" + _table(headroom_display(res, language)) + interval_legend(res, language))
        parts.append(_chapter("payback", body, language))
    return parts


def _tables(res, language: str) -> list[str]:
    """Key figures, the differences, the budget and the calibration check."""
    cfg = res.plan.arms[res.reference]
    da = language == "da"
    ref, title = ref_words(res, language), scenario_title(res.reference, language)
    parts = [_chapter("key", f"<p>{_e(_w('key_intro', language))}</p>" + _table(format_summary(res, language=language))
                      + interval_legend(res, language), language)]
    if not res.comparison.empty:
        parts.append(_chapter("diff", f"<p>{_e(_w('diff_intro', language, ref=ref))}</p>"
                              + _table(format_comparison(res, language=language)) + interval_legend(res, language),
                              language, ref=ref))
    n = cfg.run.horizon_years
    body = ("<p>" + _e(f"{title} over {the_years(n, language)}: antal × enhedspris + fast udgift = udgift, middel over replikationerne; "
                       "tilgang og afgang er børn, der kommer til og forlader trinnet. Pr. år: budget.csv." if da else
                       f"{title} over {the_years(n)} of the horizon: count × unit cost + fixed cost = cost, the mean of the "
                       "replications; in and out are children arriving on and leaving each step. Per year: budget.csv.")
            + "</p>" + _table(budget_display(res, language), index=False)
            + "<p>" + _e(f"Udgifter for {ref} pr. post og år (kr.):" if da else
                         f"Cost of {ref} by item and horizon year (DKK):") + "</p>"
            + _table(budget_by_year_display(res, language)))
    wide = budget_difference_display(res, language)
    if not wide.empty:
        body += ("<p>" + _e(f"Hvor hvert scenaries forskel fra {ref} kommer fra (parret middel [95 %-interval], kr. over "
                            "perioden; budget_difference.csv):" if da else
                            f"Where each scenario's difference from {ref} comes from (paired mean [95 % interval], DKK "
                            "over the horizon; budget_difference.csv):") + "</p>" + _table(wide)
                 + interval_legend(res, language))
    parts.append(_chapter("budget", body, language))
    if res.plan.caseload is not None or res.plan.budget is not None:
        parts.append(_chapter("followup", _followup(res, language), language))
    cal = ("<p>" + _e("Referencen over perioden mod kommunens nøgletal (kalibreringsmålene). Tilpas behovsniveauet til "
                      "kommunens anbringelser med:" if da else
                      "The reference over the horizon against the municipality's key figures (the calibration "
                      "targets). To fit the level of need to the municipality's placements:")
           + f" <code>python -m sim --calibrate municipality={_e(cfg.municipality.name)}</code></p>"
           + _table(calibration_display(res, language), index=False) + interval_legend(res, language))
    cal += "<p>" + "<br>".join(_e(x) for x in warmup_text(warmup_check(res), language=language)) + "</p>"   # the warm-up check
    parts.append(_chapter("calibration", cal, language))
    return parts


FOLLOWUP_COLUMNS = 5        # the follow-up's tables have long money headers: fewer columns per part


def _numbers(df: pd.DataFrame, language: str) -> pd.DataFrame:
    """Numbers for reading: whole kroner (money columns) or one decimal, with the language's separators."""
    def one(v, money: bool):
        if not isinstance(v, (int, float)) or pd.isna(v):
            return v if not pd.isna(v) else "-"
        text = f"{v:,.0f}" if money else f"{v:,.1f}"
        return danish_separators(text) if language == "da" else text
    return pd.DataFrame({c: [one(v, "kr." in c or "DKK" in c) for v in df[c]] for c in df.columns})


def _followup(res, language: str) -> str:
    """Where the run started (today's caseload), the reference's forecast to the year's end, and the budget
    follow-up with its volume and price parts (sim.report.followup)."""
    body = "".join(f"<p>{_e(x)}</p>" for x in followup_lines(res, language))
    f = forecast_frame(res, language)
    if res.plan.caseload is not None:
        f = f[f.iloc[:, 0] == res.reference].iloc[:, 1:]
        body += _table(_numbers(f, language).set_index(f.columns[0]), max_cols=FOLLOWUP_COLUMNS)
    if res.plan.budget is not None:
        body += "<p>" + _e("Afvigelse = prognose - budget = mængde + pris; mængde = (prognosens antal - budgettets "
                           "antal) × budgettets pris; pris = (prognosens pris - budgettets pris) × prognosens antal."
                           if language == "da" else
                           "Deviation = forecast - budget = volume + price; volume = (forecast count - budget count) "
                           "× budget price; price = (forecast price - budget price) × forecast count.") + "</p>"
        b = _numbers(followup_frame(res, language), language)
        body += _table(b.set_index(b.columns[0]), max_cols=FOLLOWUP_COLUMNS)
    return body


def _figures(res, language: str, figures_dir) -> str:
    """The other figures of figures_dir, each with its title and caption in words."""
    if figures_dir is None or not Path(figures_dir).exists():
        return ""
    ref = ref_words(res, language)
    names = [n for n in FIGURES if n not in REPORT_FIGURES and (Path(figures_dir) / n).is_file()]
    names += sorted(p.name for p in Path(figures_dir).glob("*.png") if p.name not in FIGURES)
    body = "".join(_figure(n, (Path(figures_dir) / n).read_bytes(), language, ref) for n in names)
    return _chapter("figures", body, language) if body else ""


def _scenarios(res, language: str) -> str:
    """Each arm titled in words with its description, sources, investment and changed parameters."""
    da = language == "da"
    parts = []
    for arm in res.arms:
        acfg = res.plan.arms[arm]
        inv = [i.investment for i in acfg.scenario_info.values()]
        sources = sorted({s for i in acfg.scenario_info.values() for s in i.sources})
        kids = acfg.municipality.children_0_17
        one_off, yearly = sum(i.one_off(kids) for i in inv), sum(i.yearly(kids) for i in inv)
        notes = investment_notes(res, arm, language)
        facts = (f"Kilder: {', '.join(sources) or '-'}. Investering: engangsbeløb {num(one_off, language)} kr., årligt "
                 f"{num(yearly, language)} kr." if da else
                 f"Sources: {', '.join(sources) or '-'}. Investment: one-off DKK {num(one_off, language)}, yearly DKK "
                 f"{num(yearly, language)}.")
        role = (" (reference)" if arm == res.reference else "")
        html_ = (f'<div class="scenario" id="scenario-{_e(arm)}"><h3>{_e(scenario_title(arm, language))}{role}</h3>'
                 f'<p class="what">{_e(description(res, arm, language))}</p><p>{_e(facts)} {_e(notes)}</p>')
        ch = parameter_changes(res, arm)
        if ch:
            cols = (["parameter", "nuværende praksis", "scenariet"] if da else
                    ["parameter", "current practice", "the scenario"])
            shown = [(k, config_value(a, language), config_value(b, language)) for k, a, b in ch]
            html_ += _table(pd.DataFrame(shown, columns=cols), index=False, text=True)
        parts.append(html_ + "</div>")
    intro = ("<p>" + _e("Beskrivelserne kommer fra scenariefilerne i scenarios/." if da else
                        "The descriptions are those of the scenario files in scenarios/.") + "</p>")
    return _chapter("scenarios", intro + "".join(parts), language)


def _dictionary(res, language: str) -> str:
    """Every KPI's name, unit, how it aggregates over the horizon and its definition, in the language."""
    agg = {"sum": ("sum over perioden", "total over the horizon"), "mean": ("gennemsnit af årene", "mean of the years"),
           "pooled": ("samlet over perioden", "pooled over the horizon")}
    labels = step_labels(res, language)
    da = language == "da"
    kd = pd.DataFrame([(kpi_label(k, language, labels), k, unit_label(u, language), agg[a][0 if da else 1],
                        kpi_definition(k, d, language)) for k, (u, a, d) in KPI_DEFS.items()],
                      columns=[t("kpi", language), "id", t("unit", language),
                               "over perioden" if da else "over the horizon", "definition"])
    return _chapter("dictionary", _table(kd, index=False, text=True), language)


def write_report(res, path: Path, figures_dir: Path | None = None, uncertainty=None,
                 language: str | None = None) -> None:
    """Write the run's self-contained HTML report to path in ``language`` (default: the reference arm's
    ``output.language``): executive summary, staircase flows, break-even and payback, key figures and
    differences, budget, calibration check, the PNG figures of figures_dir embedded, the scenarios and the KPI
    dictionary. The flow picture and the break-even chart are taken from figures_dir when drawn there, else
    drawn for the report. ``uncertainty``: an UncertaintyResult (or its payback_probability() table) whose
    probability of payback the summary then states; a plain run has none and says nothing about it."""
    language = language or res.plan.arms[res.reference].output.language
    figs = figures_dir is not None and Path(figures_dir).exists() and any(
        p.name not in REPORT_FIGURES for p in Path(figures_dir).glob("*.png"))
    parts = [_head(res, language, figs)]
    parts += _summary_flows_payback(res, language, figures_dir, uncertainty)
    parts += _tables(res, language)
    parts += [_figures(res, language, figures_dir), _scenarios(res, language), _dictionary(res, language)]
    Path(path).write_text("\n".join(p for p in parts if p) + "\n</body></html>\n", encoding="utf-8")
