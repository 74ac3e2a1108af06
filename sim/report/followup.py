"""Today's caseload and the budget follow-up for people: the forecast to the year's end and the budget's
deviation split into volume and price (sim.metrics.followup), in Danish or English, in the budget's prices.

Prices: the forecast is computed in ``costs.price_year`` prices. A budget is written in its own year's prices
(the year the forecast period ends in): the two are compared there, and shown in ``costs.report_year``'s prices
when one is set (budget and forecast alike, so the volume and price split does not depend on it), else in the
budget year's. A budget whose year ``costs.price_index`` lacks is refused (sim.config.plan); a forecast alone
is then shown in the report year's prices, or without one in the price year's, with a warning line. A budget on a synthetic start (no caseload) has no budget year: it is read as in
``costs.report_year``'s prices, or without one as in the price year's, with a warning line. Every table of the
run folder says its price year (``price_year``).
"""
from __future__ import annotations

import pandas as pd

from ..common.i18n import fmt_da, t, warmup_years_text
from ..metrics.followup import budget_followup, forecast, forecast_period, unbudgeted
from ..metrics.plausible import team_check, team_warnings
from ..metrics.warmup import warmup_check, warmup_warnings
from .danish import item_label, price_factor


def _price_years(res, language: str) -> tuple[int, int, str | None]:
    """(budget's price year, year shown, warning or None): the year whose prices the budget file is written in -
    the budget year (the year the forecast period ends in) when costs.price_index has it; with no budget year (a
    synthetic start) or one the index lacks, costs.report_year, else costs.price_year (with a warning) - and the
    year every follow-up figure is shown in: costs.report_year when set, else the budget's."""
    c = res.plan.arms[res.reference].costs
    budget_year = forecast_period(res.plan).year
    da = language == "da"
    shown = c.report_year
    if budget_year is not None and (budget_year == c.price_year or budget_year in c.price_index):
        return budget_year, shown if shown is not None else budget_year, None
    if budget_year is not None:                 # a budget year the index lacks (with a budget: refused by plan())
        if shown is not None:
            return shown, shown, None           # the forecast in the report year's prices, as every other table
        return c.price_year, c.price_year, (
            f"advarsel: costs.price_index har intet {budget_year}: prognosen og budgetopfølgningen er i "
            f"{c.price_year}-priser; tilføj årets indeks eller sæt costs.report_year" if da else
            f"warning: costs.price_index has no {budget_year}: the forecast and the budget follow-up are in "
            f"{c.price_year} prices; add the year's index or set costs.report_year")
    if shown is not None:                       # a synthetic start: the budget is in the report year's prices
        return shown, shown, None
    if res.plan.budget is None:
        return c.price_year, c.price_year, None
    return c.price_year, c.price_year, (
        f"advarsel: budget= uden caseload= har intet budgetår: budgettets priser sammenlignes med modellens "
        f"{c.price_year}-priser (costs.price_year); sæt costs.report_year til budgettets år" if da else
        f"warning: budget= without caseload= has no budget year: the budget's prices are compared with the "
        f"model's {c.price_year} prices (costs.price_year); set costs.report_year to the budget's year")


def _index_factor(res, from_year: int, to_year: int) -> float:
    """Money in from_year's prices x this = money in to_year's (costs.price_index)."""
    if from_year == to_year:
        return 1.0
    index = res.plan.arms[res.reference].costs.price_index
    return index[to_year] / index[from_year]


def followup_prices(res, language: str = "en") -> tuple[float, int, str | None]:
    """(factor, year, warning): the forecast's money (costs.price_year prices) x factor is in ``year``'s prices,
    the year the forecast and the follow-up are shown in (module docstring); the warning (or None) in
    ``language``."""
    _, shown, warning = _price_years(res, language)
    return _index_factor(res, res.plan.arms[res.reference].costs.price_year, shown), shown, warning


def budget_price_factor(res) -> float:
    """The budget file's prices (its budget year's) x this = the shown year's prices (followup_prices): 1 but
    with a costs.report_year other than the budget year. The volume and price split is the same in either."""
    written, shown, _ = _price_years(res, "en")
    return _index_factor(res, written, shown)


def _followup(res, factor: float) -> pd.DataFrame:
    return budget_followup(res, factor, budget_price_factor(res))


def _kr(language: str, year: int) -> str:
    return f"(kr., {year}-priser)" if language == "da" else f"(DKK, {year} prices)"


def forecast_frame(res, language: str = "da") -> pd.DataFrame:
    """The forecast to the year's end per arm and measure, with headers in the language and money in
    followup_prices' prices."""
    factor, year, _ = followup_prices(res)
    f = forecast(res, factor)
    kr = _kr(language, year)
    return pd.DataFrame({
        t("scenario", language): f["scenario"],
        t("item", language): [item_label(res, i, language, s) for s, i in zip(f["scenario"], f["item"])],
        t("months", language): f["months"], t("count_avg", language): f["count"],
        t("entries", language): f["entries"], t("exits", language): f["exits"],
        f"{t('unit_cost', language)} {kr}": f["unit_cost_dkk"],
        f"{t('cost', language)} {kr}": f["cost_dkk"],
        f"{t('ci_low', language)} {kr}": f["cost_ci_low"],
        f"{t('ci_high', language)} {kr}": f["cost_ci_high"],
        f"{t('fixed_cost', language)} {kr}": f["fixed_cost_dkk"]})


def forecast_table(res) -> pd.DataFrame:
    """The forecast (sim.metrics.followup.forecast) as the run folder's forecast table: money in followup_prices'
    prices, the same as forecast_da.csv, the workbook and the budget follow-up, with the year in ``price_year``."""
    factor, year, _ = followup_prices(res)
    return forecast(res, factor).assign(price_year=year)


def followup_table(res) -> pd.DataFrame:
    """The budget follow-up (sim.metrics.followup.budget_followup) as the run folder's table: in the budget's
    prices (followup_prices), with the year in ``price_year``."""
    factor, year, _ = followup_prices(res)
    return _followup(res, factor).assign(price_year=year)


def followup_frame(res, language: str = "da") -> pd.DataFrame:
    """The budget follow-up (budget vs the reference's forecast, volume and price) with headers in the language;
    empty without a budget."""
    factor, year, _ = followup_prices(res)
    b = _followup(res, factor)
    kr = _kr(language, year)
    labels = [t("total", language) if i == "total" else item_label(res, i, language) for i in b["item"]]
    return pd.DataFrame({
        t("item", language): labels, t("months", language): b["months"],
        t("budget_count", language): b["budget_count"], f"{t('budget_price', language)} {kr}": b["budget_unit_price_dkk"],
        f"{t('budget_amount', language)} {kr}": b["budget_dkk"], t("forecast_count", language): b["forecast_count"],
        f"{t('forecast_price', language)} {kr}": b["forecast_unit_price_dkk"],
        f"{t('forecast_amount', language)} {kr}": b["forecast_dkk"],
        f"{t('deviation', language)} {kr}": b["deviation_dkk"], f"{t('volume', language)} {kr}": b["volume_dkk"],
        f"{t('price', language)} {kr}": b["price_dkk"]})


def _money(v: float, language: str) -> str:
    return fmt_da(v, money=True) if language == "da" else f"DKK {v / 1e6:,.1f}M" if abs(v) >= 1e6 else f"DKK {v:,.0f}"


def _cases(n: int, language: str) -> str:
    """'1 case', '5,000 cases'; in Danish '1 sag', '5.000 sager'."""
    if language == "da":
        return f"{n:,}".replace(",", ".") + (" sag" if n == 1 else " sager")
    return f"{n:,}" + (" case" if n == 1 else " cases")


def period_days(period, language: str) -> str:
    """The forecast period's length in words: '44 days', '1 day'; '44 dage', '1 dag'; 'year 1' has 'the year'."""
    if period.year is None:
        return "hele året" if language == "da" else "the whole year"
    n = round(period.days)
    if language == "da":
        return f"{n:,}".replace(",", ".") + (" dag" if n == 1 else " dage")
    return f"{n:,}" + (" day" if n == 1 else " days")


def _sentence(text: str) -> str:
    """``text`` ending in one full stop (a sum in Danish ends in 'kr.' already)."""
    return text if text.endswith(".") else text + "."


def unbudgeted_line(res, b: pd.DataFrame, language: str) -> str | None:
    """The line naming the measures with a forecast that the budget ``b`` (budget_followup) has no line for, and
    how they are booked; None when there are none."""
    rows = unbudgeted(b)
    if rows.empty:
        return None
    names = ", ".join(item_label(res, i, language) for i in rows["item"])
    total = _money(float(rows["forecast_dkk"].sum()), language)
    if language == "da":
        return _sentence(f"advarsel: budgettet har ingen linje for {names} (prognose {total}): de er bogført som "
                         f"mængde (børn, budgettet ikke har planlagt), uden budgetpris")
    return (f"warning: the budget has no line for {names} (forecast {total}): booked as volume (children the budget "
            f"did not plan for), with no budget price.")


def followup_lines(res, language: str = "en") -> list[str]:
    """Plain sentences: where the run started (today's caseload), the forecast to the year's end of the
    reference, and the budget's deviation with its volume and price parts. Empty without caseload and budget."""
    plan = res.plan
    if plan.caseload is None and plan.budget is None:
        return []
    factor, year, warning = followup_prices(res, language)
    period = forecast_period(plan, language)
    lines = [warning] if warning else []
    da = language == "da"
    if period.cut:
        lines.append(f"advarsel: kørslen slutter før budgetåret {period.year}: prognosen dækker kun {period.label}; "
                     f"sæt run.horizon_years højere for hele året" if da else
                     f"warning: the run ends before the budget year {period.year} does: the forecast covers only "
                     f"{period.label}; set run.horizon_years higher for the whole year")
    if plan.caseload is not None:
        cl = plan.caseload
        lines.append(f"Start fra dagens sagsstamme: {_cases(len(cl.cases), language)} pr. {cl.date} ({cl.path}); ingen syntetisk "
                     f"indkøring." if da else
                     f"Started from today's caseload: {_cases(len(cl.cases), language)} at {cl.date} ({cl.path}; date: "
                     f"{cl.date_source}); no synthetic warm-up.")
        f = forecast(res, factor)
        f = f[f.scenario == res.reference]
        total = float(f["cost_dkk"].sum() + f["fixed_cost_dkk"].sum())
        lines.append(f"Prognose for {period.label} ({period_days(period, language)}, {res.reference}): udgifter til "
                     f"foranstaltningerne {_money(total, language)} i {year}-priser, faste udgifter medregnet." if da else
                     f"Forecast for {period.label} ({period_days(period, language)}, {res.reference}): spending on the measures "
                     f"{_money(total, language)} in {year} prices, fixed costs included.")
    if plan.budget is not None:
        b = _followup(res, factor)
        tot = b[b["item"] == "total"].iloc[0]
        lines.append(_sentence(
                     f"Budgetopfølgning ({period.label}, {year}-priser, børnenes udgifter uden faste udgifter): budget "
                     f"{_money(tot.budget_dkk, language)}, prognose {_money(tot.forecast_dkk, language)}, afvigelse "
                     f"{_money(tot.deviation_dkk, language)} - heraf mængde {_money(tot.volume_dkk, language)} og pris "
                     f"{_money(tot.price_dkk, language)}") if da else
                     f"Budget follow-up ({period.label}, {year} prices, the children's costs without fixed costs): budget "
                     f"{_money(tot.budget_dkk, language)}, forecast {_money(tot.forecast_dkk, language)}, deviation "
                     f"{_money(tot.deviation_dkk, language)} - volume {_money(tot.volume_dkk, language)}, price "
                     f"{_money(tot.price_dkk, language)}.")
        extra = unbudgeted_line(res, b, language)
        if extra:
            lines.append(extra)
    return lines


WARNING_WORDS = ("warning:", "advarsel:")


def followup_warnings(res, language: str = "en") -> list[str]:
    """The warning lines of followup_lines (a forecast cut by the horizon, a price year without an index, a budget
    with no line for a measure): lines a reader must see before using the follow-up."""
    return [x for x in followup_lines(res, language) if x.startswith(WARNING_WORDS)]


def first_warnings(res, language: str = "en") -> list[str]:
    """Every line a reader must see before using the numbers, as the report, summary.txt and the workbook put them
    first: a team that does not fit the municipality, a baseline that still drifts, and the follow-up's warnings."""
    return (team_warnings(team_check(res), language) + warmup_warnings(warmup_check(res), language=language)
            + followup_warnings(res, language))


def start_phrase(res, language: str = "en") -> str:
    """How the horizon starts, for a run description: 'after 6 warm-up years' or 'from today's caseload (496
    cases at 2026-10-31)'."""
    cl, da = res.plan.caseload, language == "da"
    if cl is not None:
        return (f"fra dagens sagsstamme ({_cases(len(cl.cases), language)} pr. {cl.date})" if da else
                f"from today's caseload ({_cases(len(cl.cases), language)} at {cl.date})")
    w = res.plan.arms[res.reference].run.warmup_years
    if w == 0:
        return "uden indkøring" if da else "with no warm-up"
    return f"{'efter' if da else 'after'} {warmup_years_text(w, language)}"
