"""The business case as an Excel workbook for finance staff (``business_case.xlsx`` in the run folder).

Sheets (Danish names by default, English with ``language="en"``):

* Om beregningen / About - municipality, run, seed, replications, horizon, price level, the warnings a
  reader must see first (a team that does not fit the municipality, a baseline that still drifts), what the
  intervals mean, and that parameters marked [assumption] must be replaced;
* Investeringsregnskab / Business case - per scenario and horizon year the paired mean difference from
  the reference: investment | operating change per budget line (each step by its label, caseworkers,
  assessments) | net | cumulative | discounted | discounted cumulative, and a total per scenario;
* Budget pr. foranstaltning / Budget by measure - count x unit cost + fixed cost = cost per arm and period;
* Tilbagebetaling / Payback - the year (95 % and mean) and the month (mean; undiscounted and discounted)
  by which a scenario has paid back, and the cumulative difference by year with its interval;
* Investeringsråderum / Investment headroom - the operating saving accumulated by each year;
* Nøgletal / Key figures - every KPI over the horizon, mean and 95 % interval per arm and the paired
  difference.

Money is in the report year's prices (:func:`sim.report.danish.price_factor`), rounded to whole kroner
and written as numbers with the format ``#,##0`` (a Danish Excel shows 1.234.567). The parts of a row are
rounded so that they add up to its rounded total, and cumulative columns are running sums of the rounded
yearly values, so every sum a reader checks in the sheet holds to the krone.
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..common.i18n import kpi_label, months_text, municipality_label, t, unit_label
from ..common.kpi_catalog import HEADLINE, KPI_DEFS
from ..metrics.budget import budget, budget_difference, prices_change
from ..metrics.payback import headroom, payback, payback_years
from ..metrics.followup import forecast_period
from ..metrics.payback_monthly import payback_months
from .danish import budget_lines, is_money, item_label, kpi_unit, kr_header, kroner, price_factor, round_to_total
from .followup import (first_warnings, followup_frame, followup_lines, followup_prices, forecast_frame, period_days,
                       start_phrase)

KR = "#,##0"            # whole kroner, thousands separator of the reader's locale
DEC1 = "#,##0.0"
DEC2 = "#,##0.00"       # a ratio near 1 (caseworker utilisation 0.89): one decimal would say 0.9
SHARE = "0.0%"
RATE = "0.0%"
HEADER_WRAP = 16        # a header longer than this wraps over more lines (unless the values are wider)

ABOUT: dict[str, tuple[str, str]] = {
    "municipality": ("Kommune", "Municipality"),
    "reference": ("Reference (nuværende praksis)", "Reference (current practice)"),
    "scenarios": ("Scenarier", "Scenarios"),
    "run": ("Kørsel", "Run"),
    "written": ("Skrevet", "Written"),
    "seed": ("Seed (startværdi for tilfældige tal)", "Seed"),
    "replications": ("Replikationer pr. scenarie", "Replications per arm"),
    "warmup": ("Indkøringsperiode (år, nuværende praksis)", "Warm-up (years, current practice)"),
    "horizon": ("Horisont (år)", "Horizon (years)"),
    "price_level": ("Prisniveau", "Price level"),
    "discount": ("Diskonteringsrente pr. år", "Discount rate per year"),
    "notes": ("Bemærkninger", "Notes"),
    "warnings": ("Advarsler: læs dem, før tallene bruges", "Warnings: read them before using the numbers"),
    "n_intervals": ("Intervaller er 95 %-intervaller over replikationerne (Student t). De viser simulationens "
                    "usikkerhed, ikke usikkerheden i antagelserne (kør en følsomhedsanalyse for den).",
                    "Intervals are 95 % intervals over the replications (Student t). They show simulation "
                    "uncertainty, not uncertainty in the assumptions (run a sensitivity analysis for that)."),
    "n_paired": ("Forskelle er parrede: scenarie minus reference, replikation for replikation (samme børn og "
                 "tilfældige udfald i alle scenarier). Negative tal = scenariet er billigere end referencen.",
                 "Differences are paired: scenario minus reference, replication by replication (the same children "
                 "and draws in every arm). Negative = the scenario is cheaper than the reference."),
    "n_rounding": ("Beløb er afrundet til hele kroner; delposter er afrundet, så de summerer præcist til "
                   "totalen, og akkumulerede kolonner er løbende summer af de afrundede år.",
                   "Money is rounded to whole kroner; the parts of a row are rounded so that they add up to its "
                   "total, and cumulative columns are running sums of the rounded years."),
    "n_discount": ("Tilbagediskontering: måned m efter periodens start vægtes med (1 + r)^-((m + 0,5)/12).",
                   "Discounting: month m after the horizon start counts with (1 + r)^-((m + 0.5)/12)."),
    "n_assumption": ("Parametre markeret [assumption] i conf/ og scenarios/ er antagelser (størrelsesordener for en "
                     "gennemsnitskommune). De skal erstattes med kommunens egne tal, før tallene bruges i et budget.",
                     "Parameters marked [assumption] in conf/ and scenarios/ are assumptions (orders of magnitude for "
                     "an average municipality). Replace them with the municipality's own figures before using the "
                     "numbers in a budget."),
}


def _a(key: str, language: str) -> str:
    da, en = ABOUT[key]
    return da if language == "da" else en


@dataclass
class Table:
    """A table on a sheet: column headers (optional group headers above them, merged over equal neighbours),
    rows of cells (numbers or text; None = empty), an Excel number format per column, an optional title line
    above, the rows (0-based) to set in bold (totals), a number format per row for the numbers of columns
    without one, and formats of single cells by (row, column)."""
    headers: list[str]
    rows: list[list]
    formats: list[str | None]
    groups: list[str | None] | None = None
    title: str | None = None
    bold_rows: set = field(default_factory=set)
    row_formats: list[str | None] | None = None
    cell_formats: dict = field(default_factory=dict)


def _yearly_diff(res, kpi: str) -> dict[tuple[str, int], float]:
    c = res.comparison
    c = c[(c.period == "year") & (c.kpi == kpi)]
    return {(sc, int(y)): float(v) for sc, y, v in zip(c.scenario, c.year, c.diff_mean)}


def business_case_frames(res) -> dict[str, pd.DataFrame]:
    """Per scenario (not the reference): one row per horizon year with whole kroner in the report year's prices -
    ``investment``, one column per operating budget line (:func:`budget_lines`), ``other`` (cost the budget lines
    miss, e.g. a priced ground step; 0 as a rule), ``net`` (= the paired difference of cost_total_dkk; the parts
    add up to it), ``cumulative``, ``discounted`` (of cost_total_discounted_dkk) and ``discounted_cumulative``."""
    factor, _ = price_factor(res)
    parts = ["investment", *budget_lines(res)]
    bd = budget_difference(res)
    bd = bd[bd.year > 0]
    cost = {(sc, int(y), it): float(v) for sc, y, it, v in zip(bd.scenario, bd.year, bd["item"], bd.cost_dkk)}
    net, disc = _yearly_diff(res, "cost_total_dkk"), _yearly_diff(res, "cost_total_discounted_dkk")
    out = {}
    for sc in [a for a in res.arms if a != res.reference]:
        rows = []
        for y in sorted(yy for s, yy in net if s == sc):
            exact = [cost.get((sc, y, p), 0.0) * factor for p in parts]
            total = net[(sc, y)] * factor
            rounded = round_to_total(exact + [total - sum(exact)], total)
            rows.append([y, *rounded, kroner(total), kroner(disc.get((sc, y), np.nan) * factor)])
        df = pd.DataFrame(rows, columns=["year", *parts, "other", "net", "discounted"])
        df.insert(df.columns.get_loc("net") + 1, "cumulative", df["net"].cumsum())
        df["discounted_cumulative"] = df["discounted"].cumsum()
        out[sc] = df
    return out


def business_case(res, language: str = "da", frames: dict | None = None) -> Table:
    """The business-case sheet as a :class:`Table` (see :func:`business_case_frames`)."""
    frames = business_case_frames(res) if frames is None else frames
    _, year = price_factor(res)
    lines = budget_lines(res)
    show_other = any((f["other"] != 0).any() for f in frames.values())
    cols = ["investment", *lines] + (["other"] if show_other else []) + [
        "net", "cumulative", "discounted", "discounted_cumulative"]
    names = {"investment": t("investment", language), "other": item_label(res, "other", language),
             **{it: item_label(res, it, language) for it in lines},
             **{k: t(k, language) for k in ("net", "cumulative", "discounted", "discounted_cumulative")}}
    change = t("change", language) + (" pr. budgetlinje" if language == "da" else " by budget line")
    groups = [None, None, None] + [change] * (len(lines) + show_other) + [None] * 4
    rows, bold = [], set()
    for sc, f in frames.items():
        rows += [[sc, int(r["year"]), *(int(r[c]) for c in cols)] for _, r in f.iterrows()]
        bold.add(len(rows))
        rows.append([sc, t("total", language), *(int(f[c].sum()) if "cumulative" not in c else None for c in cols)])
    title = (f"Forskel fra {res.reference} (scenarie minus reference), middel over replikationerne; kr. i {year}-priser. "
             "Negative tal = besparelse." if language == "da" else
             f"Difference from {res.reference} (scenario minus reference), mean over the replications; DKK in "
             f"{year} prices. Negative = saving.")
    if not frames:
        return Table([t("scenario", language)], [[t("no_comparison", language)]], [None], title=title)
    return Table([t("scenario", language), t("year", language)] + [names[c] for c in cols], rows,
                 [None, None] + [KR] * len(cols), groups, title, bold)


def budget_sheet(res, language: str = "da") -> Table:
    """The budget by measure of every arm, for the whole horizon and each year: count, unit, in, out, unit cost,
    fixed cost, cost with its 95 % interval (whole kroner), and a total per arm and period."""
    factor, year = price_factor(res)
    b = budget(res)
    order = {it: i for i, it in enumerate(budget_lines(res) + ["investment"])}
    rows, bold = [], set()
    for sc in res.arms:
        for y in sorted(b.year.unique()):
            g = b[(b.scenario == sc) & (b.year == y)].sort_values("item", key=lambda s: s.map(order))
            period = t("whole_horizon", language) if y == 0 else f"{t('year', language)} {y}"
            cost = round_to_total(list(g.cost_dkk * factor))
            for (_, r), c in zip(g.iterrows(), cost):
                rows.append([sc, period, item_label(res, r["item"], language, sc), _num(r["count"]),
                             unit_label(r["count_unit"], language), _num(r["entries"]), _num(r["exits"]),
                             kroner(r["unit_cost_dkk"] * factor), kroner(r["fixed_cost_dkk"] * factor), c,
                             kroner(r["cost_ci_low"] * factor), kroner(r["cost_ci_high"] * factor)])
            bold.add(len(rows))
            rows.append([sc, period, t("total", language), None, None, None, None, None, None, sum(cost), None, None])
    headers = [t("scenario", language), t("period", language), t("item", language), t("count", language),
               t("unit", language), t("entries", language), t("exits", language), kr_header("unit_cost", language, year),
               kr_header("fixed_cost", language, year), kr_header("cost", language, year),
               kr_header("ci_low", language, year), kr_header("ci_high", language, year)]
    title = (f"Antal x enhedspris + fast udgift = udgift; middel over replikationerne. Tilgang/afgang = børn, der "
             f"kommer på / forlader trinnet. Kr. i {year}-priser." if language == "da" else
             f"Count x unit cost + fixed cost = cost; mean over the replications. In/out = children arriving on / "
             f"leaving the step. DKK in {year} prices.")
    if prices_change(res):          # a later start or a ramp: the year's prices are those of both practices
        title += (" Hvor et scenarie indføres senere end periodens start eller gradvist, er enhedsprisen i årene "
                  "med skiftet den gennemsnitlige bogførte pris." if language == "da" else
                  " Where a scenario starts later than the horizon or ramps up, the unit cost of the years of the "
                  "change is the average price booked.")
    return Table(headers, rows, [None, None, None, DEC1, None, DEC1, DEC1, KR, KR, KR, KR, KR], None, title, bold)


def _num(v):
    """A count or other decimal as its cell holds it: every digit (the cell's format shows one decimal), so that
    count x unit cost + fixed cost recomputed from the cells is the cost to the krone; missing to None."""
    return None if v is None or pd.isna(v) else float(v)


def _year_or_text(v, language: str):
    return t("not_within", language) if pd.isna(v) else int(v)


def payback_tables(res, language: str = "da", frames: dict | None = None) -> list[Table]:
    """The payback sheet: per scenario the year (95 % and mean) and month (mean, undiscounted and discounted)
    by which it has paid back; then the cumulative difference by year with its 95 % interval."""
    frames = business_case_frames(res) if frames is None else frames
    factor, year = price_factor(res)
    if not frames:
        return [Table([t("scenario", language)], [[t("no_comparison", language)]], [None])]
    py = payback_years(res).set_index("scenario")
    pm = payback_months(res).set_index("scenario")
    rows = []
    for sc, f in frames.items():
        m, md = pm.loc[sc, "paid_back_month"], pm.loc[sc, "paid_back_month_discounted"]
        rows.append([sc, _year_or_text(py.loc[sc, "paid_back_by_year_95pct"], language),
                     _year_or_text(py.loc[sc, "paid_back_by_year_mean"], language), _year_or_text(m, language),
                     months_text(None if pd.isna(m) else int(m), language), _year_or_text(md, language),
                     months_text(None if pd.isna(md) else int(md), language),
                     int(f["cumulative"].iloc[-1]), int(f["discounted_cumulative"].iloc[-1])])
    summary = Table([t("scenario", language), t("paid_back_95", language), t("paid_back_mean", language),
                     t("paid_back_month", language), t("paid_back_when", language), t("paid_back_month_disc", language),
                     t("paid_back_when_disc", language), kr_header("cum_diff_end", language, year),
                     kr_header("cum_diff_end_disc", language, year)], rows, [None] * 7 + [KR, KR],
                    title=("Tilbagebetalt = den akkumulerede parrede udgiftsforskel inkl. investeringer er under nul "
                           "(måned 1 = første måned i perioden)." if language == "da" else
                           "Paid back = the cumulative paired cost difference, investments included, is below zero "
                           "(month 1 = the first horizon month)."))
    p = payback(res)
    ci = {(sc, int(y)): (lo, hi) for sc, y, lo, hi in zip(p.scenario, p.year, p.ci_low, p.ci_high)}
    yearly = [[sc, int(r["year"]), int(r["cumulative"]), kroner(ci.get((sc, int(r["year"])), (np.nan,) * 2)[0] * factor),
               kroner(ci.get((sc, int(r["year"])), (np.nan,) * 2)[1] * factor), int(r["discounted_cumulative"])]
              for sc, f in frames.items() for _, r in f.iterrows()]
    by_year = Table([t("scenario", language), t("year", language), kr_header("cum_diff", language, year),
                     kr_header("ci_low", language, year), kr_header("ci_high", language, year),
                     kr_header("discounted_cumulative", language, year)], yearly, [None, None, KR, KR, KR, KR])
    return [summary, by_year]


def headroom_sheet(res, language: str = "da", frames: dict | None = None) -> Table:
    """The investment headroom by scenario and year: the operating saving accumulated by then (whole kroner, with
    its 95 % interval), the investment planned by then, and the margin (headroom - investment = minus the
    cumulative net difference of the business case)."""
    frames = business_case_frames(res) if frames is None else frames
    factor, year = price_factor(res)
    if not frames:
        return Table([t("scenario", language)], [[t("no_comparison", language)]], [None])
    h = headroom(res)
    ci = {(sc, int(y)): (lo, hi) for sc, y, lo, hi in zip(h.scenario, h.year, h.ci_low, h.ci_high)}
    rows = []
    for sc, f in frames.items():
        invest = f["investment"].cumsum()
        for (_, r), inv in zip(f.iterrows(), invest):
            lo, hi = ci.get((sc, int(r["year"])), (np.nan, np.nan))
            margin = -int(r["cumulative"])
            rows.append([sc, int(r["year"]), int(inv) + margin, kroner(lo * factor), kroner(hi * factor), int(inv), margin])
    title = ("Investeringsråderum = den driftsbesparelse, scenariet har akkumuleret (parret, uden scenariets "
             "investeringer): det mest, investeringerne kan udgøre, for at scenariet stadig er tilbagebetalt. Den nedre "
             "grænse er den investering, der tilbagebetales med 95 % sikkerhed." if language == "da" else
             "Investment headroom = the operating saving a scenario has accumulated (paired, its investments left out): "
             "the most its investments could total for it still to have paid back. The lower end is the investment it "
             "repays with 95 % confidence.")
    return Table([t("scenario", language), t("year", language), kr_header("headroom", language, year),
                  kr_header("ci_low", language, year), kr_header("ci_high", language, year),
                  kr_header("planned_investment", language, year), kr_header("margin", language, year)],
                 rows, [None, None, KR, KR, KR, KR, KR], title=title)


def _kpi_cells(kpi: str, values, factor: float) -> list:
    if is_money(kpi):
        return [kroner(v * factor) for v in values]
    return [None if v is None or not math.isfinite(v) else float(v) for v in values]


def kpi_sheet(res, language: str = "da") -> Table:
    """Every KPI over the horizon: name in the language, unit, mean and 95 % interval per arm, and each
    scenario's paired difference from the reference with its interval (money in whole kroner)."""
    factor, year = price_factor(res)
    s = res.summary[res.summary.period == "horizon"].set_index(["scenario", "kpi"])
    c = res.comparison
    c = c[c.period == "horizon"].set_index(["scenario", "kpi"]) if not c.empty else None
    others = [a for a in res.arms if a != res.reference] if c is not None else []
    kpis = [k for k in HEADLINE + [k for k in KPI_DEFS if k not in HEADLINE] if k in s.index.get_level_values("kpi")]
    # (scenario, kpi) -> (mean, low, high): one lookup table each, not a .loc per cell
    means = dict(zip(s.index, s[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float)))
    diffs = dict(zip(c.index, c[["diff_mean", "diff_ci_low", "diff_ci_high"]].to_numpy(dtype=float))) if others else {}
    missing = np.full(3, np.nan)
    rows = []
    for k in kpis:
        row = [kpi_label(k, language), unit_label(kpi_unit(k), language) if not is_money(k) else
               (f"kr. ({year}-priser)" if language == "da" else f"DKK ({year} prices)")]
        for a in res.arms:
            row += _kpi_cells(k, means.get((a, k), missing), factor)
        for a in others:
            row += _kpi_cells(k, diffs.get((a, k), missing), factor)
        rows.append(row)
    sub = [t("mean", language), t("ci_low", language), t("ci_high", language)]
    diff = t("difference", language)
    groups = [None, None] + [a for a in res.arms for _ in sub] + [f"{a} - {res.reference} ({diff})" for a in others for _ in sub]
    headers = [t("kpi", language), t("unit", language)] + sub * (len(res.arms) + len(others))
    return Table(headers, rows, [None] * len(headers), groups,
                 ("Over hele perioden: strømme er summer over perioden, beholdninger er gennemsnit pr. år. En forskel "
                  "mellem to andele er i procentpoint (vist med %)." if language == "da" else
                  "Over the horizon: flows are totals, stocks are means per year. A difference of two shares is in "
                  "percentage points (shown with %)."),
                 row_formats=[KR if is_money(k) else SHARE if kpi_unit(k) == "share" else
                              DEC2 if kpi_unit(k) == "ratio" else DEC1 for k in kpis])


def about_sheet(res, language: str = "da") -> list[Table]:
    """The first sheet: what was run (municipality, arms, seed, replications, warm-up, horizon, price level,
    discount rate) and how to read the numbers."""
    cfg = res.plan.arms[res.reference]
    factor, year = price_factor(res)
    c = cfg.costs
    price = f"{year}-priser" if language == "da" else f"{year} prices"
    if factor != 1.0:
        da = lambda text: text.replace(".", ",")       # noqa: E731 - a decimal comma (the index has no thousands)
        price += (f" (modellens tal i {c.price_year}-priser x pris- og lønindeks {da(f'{c.price_index[year]:g}')}/"
                  f"{da(f'{c.price_index[c.price_year]:g}')} = {da(f'{factor:.4f}')}; indekset fra conf/costs: "
                  f"costs.price_index, se dets kilde)" if language == "da" else
                  f" (the model's {c.price_year} prices x price and wage index {c.price_index[year]:g}/"
                  f"{c.price_index[c.price_year]:g} = {factor:.4f}; index from conf/costs: costs.price_index, see its source)")
    if res.plan.caseload is not None or res.plan.budget is not None:
        _, follow_year, _ = followup_prices(res)
        if follow_year != year:     # the budget's own year: the forecast and follow-up sheets say it in every header
            price += (f"; prognosen og budgetopfølgningen i {follow_year}-priser (budgetårets)" if language == "da" else
                      f"; the forecast and the budget follow-up in {follow_year} prices (the budget year's)")
    facts = [("municipality", municipality_label(cfg.municipality, language)), ("reference", res.reference),
             ("scenarios", ", ".join(a for a in res.arms if a != res.reference) or "-"), ("run", res.run_id or "-"),
             ("written", f"{_dt.datetime.now():%Y-%m-%d %H:%M}"), ("seed", cfg.run.seed),
             ("replications", cfg.run.replications),
             ("warmup", cfg.run.warmup_years if res.plan.caseload is None else start_phrase(res, language)),
             ("horizon", cfg.run.horizon_years), ("price_level", price), ("discount", c.discount_rate_per_year)]
    head = Table([t("field", language), t("value", language)], [[_a(k, language), v] for k, v in facts],
                 [None, None], cell_formats={(len(facts) - 1, 1): RATE})
    notes = Table([_a("notes", language)], [[_a(k, language)] for k in
                                            ("n_intervals", "n_paired", "n_rounding", "n_discount", "n_assumption")], [None])
    warnings = first_warnings(res, language)
    if warnings:        # a team that does not fit, a baseline that still drifts, the follow-up's: before the notes
        return [head, Table([_a("warnings", language)], [[w] for w in warnings], [None]), notes]
    return [head, notes]


def _py(v):
    """A cell value openpyxl writes as a number or text: numpy scalars to Python, missing to None."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(v) else float(v)
    return v


def _width(v, fmt: str | None) -> int:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return len(f"{v:,.0f}") + (2 if fmt in (DEC1, SHARE) else 0)
    return len(str(v)) if v is not None else 0


def _write_header(ws, r: int, tb: Table) -> int:
    """Group row (merged over equal neighbours) and header row, in bold; returns the next free row."""
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    if tb.groups and any(tb.groups):
        j = 0
        while j < len(tb.groups):
            k = j
            while k + 1 < len(tb.groups) and tb.groups[k + 1] == tb.groups[j]:
                k += 1
            if tb.groups[j]:
                cell = ws.cell(r, j + 1, tb.groups[j])
                cell.font, cell.alignment = bold, Alignment(horizontal="center")
                if k > j:
                    ws.merge_cells(start_row=r, start_column=j + 1, end_row=r, end_column=k + 1)
            j = k + 1
        r += 1
    for j, h in enumerate(tb.headers):
        cell = ws.cell(r, j + 1, h)
        cell.font, cell.alignment = bold, wrap
    return r + 1


def write_tables(ws, tables: list[Table]) -> None:
    """Write tables one below the other onto a sheet: title, bold (group) header, rows with number formats;
    the first table's header row frozen, column widths from the contents (headers wrap)."""
    r, freeze, widths, headers = 1, None, {}, []
    for tb in tables:
        if tb.title:
            ws.cell(r, 1, tb.title).font = Font(italic=True)
            r += 1
        r = _write_header(ws, r, tb)
        freeze = freeze or r
        for i, row in enumerate(tb.rows):
            for j, v in enumerate(row):
                cell = ws.cell(r + i, j + 1, _py(v))
                fmt = tb.cell_formats.get((i, j)) or tb.formats[j] or (tb.row_formats[i] if tb.row_formats else None)
                if fmt and isinstance(cell.value, (int, float)):
                    cell.number_format = fmt
                if i in tb.bold_rows:
                    cell.font = Font(bold=True)
                if len(tb.headers) > 1:          # a one-column table is notes: its text runs over the cells beside
                    widths[j] = max(widths.get(j, 0), _width(cell.value, fmt))
        for j, h in enumerate(tb.headers):
            widths[j] = max(widths.get(j, 0), min(len(h), HEADER_WRAP))
        headers.append((r - 1, tb.headers))
        r += len(tb.rows) + 1
    ws.freeze_panes = ws.cell(freeze, 1)
    for j, w in widths.items():
        ws.column_dimensions[get_column_letter(j + 1)].width = min(max(w + 2, 8), 90)
    for row, names in headers:               # room for the wrapped header lines
        lines = max(math.ceil(len(h) / max(widths.get(j, 1), 1)) for j, h in enumerate(names))
        ws.row_dimensions[row].height = 15 * max(lines, 1)


def _frame_table(df: pd.DataFrame, title: str, total_last: bool = False) -> Table:
    """A table of a frame whose money columns (named with 'kr.' or 'DKK') are whole kroner, the rest one decimal."""
    money = ["kr." in c or "DKK" in c for c in df.columns]
    rows = [[(kroner(v) if m else _num(v)) if isinstance(v, (int, float, np.floating)) else v
             for v, m in zip(r, money)] for r in df.itertuples(index=False)]
    fmts = [KR if m else (DEC1 if pd.api.types.is_float_dtype(df[c]) else None) for c, m in zip(df.columns, money)]
    return Table(list(df.columns), rows, fmts, None, title, {len(rows) - 1} if total_last and rows else set())


def forecast_sheet(res, language: str = "da") -> Table:
    """The forecast to the year's end from today's caseload, per arm and measure (sim.report.followup)."""
    period = forecast_period(res.plan, language)
    days = period_days(period, language)
    title = (f"Prognose for {period.label} ({days}) fra dagens sagsstamme: antal børn i gennemsnit, tilgang, afgang "
             f"og udgift pr. foranstaltning; middel over replikationerne." if language == "da" else
             f"Forecast for {period.label} ({days}) from today's caseload: children on average, in, out and cost "
             f"by measure; mean over the replications.")
    return _frame_table(forecast_frame(res, language), title)


def followup_sheet(res, language: str = "da") -> list[Table]:
    """The budget follow-up: budget pro rata against the reference's forecast, deviation = volume + price."""
    lines = followup_lines(res, language)
    head = Table([_a("notes", language)], [[x] for x in lines], [None])
    title = ("Afvigelse = prognose - budget = mængde + pris. Mængde = (prognosens antal - budgettets antal) x "
             "budgettets pris; pris = (prognosens pris - budgettets pris) x prognosens antal; begge for periodens "
             "andel af året." if language == "da" else
             "Deviation = forecast - budget = volume + price. Volume = (forecast count - budget count) x budget "
             "price; price = (forecast price - budget price) x forecast count; both for the period's share of the year.")
    return [head, _frame_table(followup_frame(res, language), title, total_last=True)]


def write_workbook(res, path: Path, language: str = "da") -> Path:
    """Write the run's business case as an Excel workbook to path (sheets: see the module docstring), in Danish
    (``language='da'``, the default) or English; returns the path."""
    frames = business_case_frames(res)
    kpis = kpi_sheet(res, language)
    sheets = [("sheet_about", about_sheet(res, language)),
              ("sheet_business_case", [business_case(res, language, frames)]),
              ("sheet_budget", [budget_sheet(res, language)]),
              ("sheet_payback", payback_tables(res, language, frames)),
              ("sheet_headroom", [headroom_sheet(res, language, frames)]),
              ("sheet_kpis", [kpis])]
    if res.plan.caseload is not None:
        sheets.insert(3, ("sheet_forecast", [forecast_sheet(res, language)]))
    if res.plan.budget is not None:
        sheets.insert(3, ("sheet_followup", followup_sheet(res, language)))
    wb = Workbook()
    wb.remove(wb.active)
    for key, tables in sheets:
        write_tables(wb.create_sheet(t(key, language)), tables)
    wb.save(path)
    return Path(path)
