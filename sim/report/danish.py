"""Tables for finance staff in a Danish Excel: the budget, its differences, payback, headroom and the summary
with Danish (or English) column names, money in the report year's prices, written as ``*_da.csv``
(semicolon, decimal comma, UTF-8 with BOM - what a Danish Excel opens by a double click).

Also the helpers the workbook (:mod:`sim.report.excel`) shares: the price conversion
(``costs.price_index``, ``costs.report_year``), labels of budget items in either language, and rounding to
whole kroner so that rounded parts add up to their rounded total. The machine-readable CSV files of the run
folder are left as they are.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..common.i18n import ITEM_LABELS, kpi_label, t, unit_label
from ..common.kpi_catalog import KPI_DEFS, STEP_KPIS
from ..metrics.budget import budget, budget_difference
from ..metrics.payback import headroom, payback

DANISH_CSV = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig", "index": False}
TABLES = ["budget", "budget_difference", "payback", "headroom", "summary"]


def price_factor(res) -> tuple[float, int]:
    """(factor, year): money of the model (``costs.price_year`` prices) times factor is money in the year's
    prices - ``costs.report_year``, or the price year itself (factor 1) when none is set."""
    c = res.plan.arms[res.reference].costs
    year = c.report_year if c.report_year is not None else c.price_year
    if year == c.price_year:
        return 1.0, year
    return c.price_index[year] / c.price_index[c.price_year], year


def kr_header(key: str, language: str, year: int, extra: str = "") -> str:
    """A money column's name with its price level: 'Udgift (kr., 2024-priser)' / 'Cost (DKK, 2024 prices)'."""
    name = t(key, language) + extra
    return f"{name} (kr., {year}-priser)" if language == "da" else f"{name} (DKK, {year} prices)"


def kr_unit(language: str, year: int) -> str:
    """The money unit with its price level: 'kr. (2024-priser)' / 'DKK (2024 prices)'."""
    return f"kr. ({year}-priser)" if language == "da" else f"DKK ({year} prices)"


def step_labels(res, language: str, scenario: str | None = None) -> dict[str, str]:
    """Step name -> its label_da / label_en, from an arm's staircase (default: the reference's)."""
    steps = res.plan.arms[scenario or res.reference].staircase.steps
    return {name: (st.label_da if language == "da" else st.label_en) for name, st in steps.items()}


def item_label(res, item: str, language: str, scenario: str | None = None) -> str:
    """A budget item's label: a step by its label in the language, else caseworkers / assessments /
    investment / other."""
    labels = step_labels(res, language, scenario)
    return labels[item] if item in labels else ITEM_LABELS[language].get(item, item)


def budget_lines(res) -> list[str]:
    """The operating budget lines in the order of the sheet: the steps above the ground step by order, then
    caseworkers and assessments (the investment is its own column)."""
    sc = res.plan.arms[res.reference].staircase
    steps = sorted((s for s in sc.steps if s != sc.ground_step), key=lambda s: sc.steps[s].order)
    return steps + ["caseworkers", "assessments"]


def kroner(x: float) -> int | None:
    """A sum of money rounded to whole kroner (half away from zero); None for a missing one."""
    if x is None or not math.isfinite(x):
        return None
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def round_to_total(values: list[float], total: float | None = None) -> list[int]:
    """Whole kroner that add up to the rounded total (default: of the values): each value rounded, then the
    few kroner of rounding difference moved onto the values that lost or gained most by rounding."""
    exact = [0.0 if v is None or not math.isfinite(v) else float(v) for v in values]
    out = [kroner(v) for v in exact]
    gap = kroner(sum(exact) if total is None else total) - sum(out)
    step = 1 if gap > 0 else -1
    order = sorted(range(len(exact)), key=lambda i: (exact[i] - out[i]) * step, reverse=True)
    for i in order[:abs(gap)]:
        out[i] += step
    return out


def _money(df: pd.DataFrame, cols: list[str], factor: float) -> pd.DataFrame:
    df = df.copy()
    for c in cols:
        df[c] = df[c].astype(float) * factor
    return df


def _budget_da(res, language: str, factor: float, year: int) -> pd.DataFrame:
    b = _money(budget(res), ["unit_cost_dkk", "fixed_cost_dkk", "cost_dkk", "cost_ci_low", "cost_ci_high"], factor)
    k = lambda key, extra="": kr_header(key, language, year, extra)    # noqa: E731
    return pd.DataFrame({
        t("scenario", language): b["scenario"], t("year_or_horizon", language): b["year"],
        t("item", language): [item_label(res, it, language, sc) for sc, it in zip(b["scenario"], b["item"])],
        t("unit", language): [unit_label(u, language) for u in b["count_unit"]],
        t("count", language): b["count"], t("entries", language): b["entries"], t("exits", language): b["exits"],
        k("unit_cost"): b["unit_cost_dkk"], k("fixed_cost"): b["fixed_cost_dkk"], k("cost"): b["cost_dkk"],
        k("cost", ", " + t("ci_low", language)): b["cost_ci_low"], k("cost", ", " + t("ci_high", language)): b["cost_ci_high"],
        t("n", language): b["n"]})


def _budget_difference_da(res, language: str, factor: float, year: int) -> pd.DataFrame:
    d = _money(budget_difference(res), ["fixed_cost_dkk", "cost_dkk", "cost_ci_low", "cost_ci_high"], factor)
    diff = f" ({t('difference', language)})"
    return pd.DataFrame({
        t("scenario", language): d["scenario"], t("year_or_horizon", language): d["year"],
        t("item", language): [item_label(res, it, language, sc) for sc, it in zip(d["scenario"], d["item"])],
        t("count", language) + diff: d["count"], t("entries", language) + diff: d["entries"],
        t("exits", language) + diff: d["exits"],
        kr_header("fixed_cost", language, year, f", {t('difference', language)}"): d["fixed_cost_dkk"],
        kr_header("cost", language, year, f", {t('difference', language)}"): d["cost_dkk"],
        kr_header("ci_low", language, year): d["cost_ci_low"], kr_header("ci_high", language, year): d["cost_ci_high"],
        t("n", language): d["n"]})


def _payback_da(res, language: str, factor: float, year: int) -> pd.DataFrame:
    p = _money(payback(res), ["cum_cost_diff_dkk", "ci_low", "ci_high"], factor)
    return pd.DataFrame({
        t("scenario", language): p["scenario"], t("year", language): p["year"],
        kr_header("cum_diff", language, year): p["cum_cost_diff_dkk"], kr_header("ci_low", language, year): p["ci_low"],
        kr_header("ci_high", language, year): p["ci_high"], t("n", language): p["n"]})


def _headroom_da(res, language: str, factor: float, year: int) -> pd.DataFrame:
    h = _money(headroom(res), ["headroom_dkk", "ci_low", "ci_high", "investment_dkk", "margin_dkk"], factor)
    return pd.DataFrame({
        t("scenario", language): h["scenario"], t("year", language): h["year"],
        kr_header("headroom", language, year): h["headroom_dkk"], kr_header("ci_low", language, year): h["ci_low"],
        kr_header("ci_high", language, year): h["ci_high"],
        kr_header("planned_investment", language, year): h["investment_dkk"],
        kr_header("margin", language, year): h["margin_dkk"], t("n", language): h["n"]})


def kpi_unit(kpi: str) -> str:
    """A KPI's unit in kpi_catalog (English), per-step KPIs included."""
    if kpi in KPI_DEFS:
        return KPI_DEFS[kpi][0]
    return next((u for prefix, (u, _, _) in STEP_KPIS.items() if kpi.startswith(prefix)), "")


def is_money(kpi: str) -> bool:
    """Whether a KPI is an amount of money (its unit starts with DKK)."""
    return kpi_unit(kpi).startswith("DKK")


def _summary_da(res, language: str, factor: float, year: int) -> pd.DataFrame:
    s = res.summary
    money = np.array([is_money(k) for k in s["kpi"]])
    f = np.where(money, factor, 1.0)
    labels = step_labels(res, language)
    return pd.DataFrame({
        t("scenario", language): s["scenario"],
        t("period", language): [t("horizon" if p == "horizon" else "year_word", language) for p in s["period"]],
        t("year_or_horizon", language): s["year"],
        t("kpi", language): [kpi_label(k, language, labels) for k in s["kpi"]],
        t("unit", language): [kr_unit(language, year) if m else unit_label(kpi_unit(k), language)
                              for k, m in zip(s["kpi"], money)],
        t("mean", language): s["mean"].astype(float) * f, t("ci_low", language): s["ci_low"].astype(float) * f,
        t("ci_high", language): s["ci_high"].astype(float) * f, t("n", language): s["n"],
        t("kpi_id", language): s["kpi"]})


def danish_tables(res, language: str = "da") -> dict[str, pd.DataFrame]:
    """The tables of the ``*_da.csv`` files by name (budget, budget_difference, summary; payback and headroom
    when there are scenarios to compare): column names in the language, money in the report year's prices,
    numbers unrounded (the same numbers as the machine-readable files when no report year is set)."""
    factor, year = price_factor(res)
    out = {"budget": _budget_da(res, language, factor, year),
           "budget_difference": _budget_difference_da(res, language, factor, year)}
    if not res.comparison.empty:
        out["payback"] = _payback_da(res, language, factor, year)
        out["headroom"] = _headroom_da(res, language, factor, year)
    out["summary"] = _summary_da(res, language, factor, year)
    return out


def write_danish_csv(df: pd.DataFrame, path: Path) -> None:
    """One table as a CSV file a Danish Excel opens as it is: semicolon, decimal comma, UTF-8 with BOM. Numbers
    are written with every digit they have, so that the file reads back to the tables exactly (Excel's General
    format shows them rounded to its cell; the workbook has them rounded to whole kroner)."""
    df.to_csv(path, **DANISH_CSV)


def write_danish_csvs(res, folder: Path, language: str = "da") -> list[Path]:
    """Write ``<name>_da.csv`` for every table of :func:`danish_tables` into folder; returns the paths."""
    paths = []
    for name, df in danish_tables(res, language).items():
        path = Path(folder) / f"{name}_da.csv"
        write_danish_csv(df, path)
        paths.append(path)
    return paths
