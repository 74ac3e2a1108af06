"""Words and numbers for people in Danish (``da``) and English (``en``): KPI names, units, budget items,
headings, and a number formatter with Danish separators (thousands point, decimal comma, "mio. kr.").

Pure data and string functions (layer 0), shared by the report's text, workbook and Danish CSV files.
Every KPI of :mod:`sim.common.kpi_catalog` has a name in both languages (a test checks it).
"""
from __future__ import annotations

import math
import re

LANGUAGES = ("da", "en")

KPI_LABELS: dict[str, dict[str, str]] = {
    "da": {
        "placed_per_1000_0_17": "Anbragte pr. 1.000 0-17-årige",
        "placed_per_1000_0_22": "Anbragte pr. 1.000 0-22-årige",
        "new_placements": "Nye anbringelser",
        "cost_total_dkk": "Samlede udgifter (kr.)",
        "cost_total_discounted_dkk": "Samlede udgifter, tilbagediskonteret (kr.)",
        "cost_per_child_0_22_dkk": "Samlede udgifter pr. 0-22-årig pr. år, inkl. sagsbehandlere (kr.)",
        "cost_placements_dkk": "Udgifter til anbringelser (kr.)",
        "placement_cost_share": "Anbringelsernes andel af udgifterne",
        "spending_per_child_0_22_dkk": "Udgiftsniveau pr. 0-22-årig pr. år, som nøgletallet (kr.)",
        "placement_spending_share": "Anbringelsernes andel af udgiftsniveauet",
        "cost_caseworkers_dkk": "Udgifter til sagsbehandlere (kr.)",
        "cost_investment_dkk": "Investeringer i scenariet (kr.)",
        "open_cases": "Åbne sager",
        "cases_per_caseworker": "Sager pr. sagsbehandler",
        "followup_on_time_share": "Andel opfølgninger til tiden",
        "followup_slip_days": "Forsinkelse af opfølgninger (dage)",
        "followup_work_share": "Opfølgningernes andel af normeret tid",
        "assessment_wait_days": "Ventetid på børnefaglig undersøgelse (dage)",
        "assessment_overdue_share": "Andel undersøgelser over 4-månedersfristen",
        "caseworker_utilisation": "Sagsbehandlernes udnyttelsesgrad",
        "notifications": "Underretninger",
        "assessments": "Børnefaglige undersøgelser",
        "step_ups": "Skridt op ad trappen",
        "step_downs": "Skridt ned ad trappen",
        "breakdowns": "Sammenbrud i anbringelser",
        "returns_home": "Hjemgivelser",
        "caseworkers": "Sagsbehandlere (årsværk)",
        "need_days": "Dage med behov (barnedage)",
        "need_days_weighted": "Behovsdage vægtet efter behovets sværhed",
        "need_days_weighted_per_1000_0_17": "Vægtede behovsdage pr. 1.000 0-17-årige pr. år",
        "unmet_need_days": "Dage med udækket behov",
        "unmet_need_share": "Andel af behovsdagene med udækket behov",
        "placement_moves": "Skift mellem anbringelsessteder",
        "new_placements_mean_age": "Gennemsnitsalder ved ny anbringelse (år)",
    },
    "en": {
        "placed_per_1000_0_17": "Placed per 1,000 aged 0-17",
        "placed_per_1000_0_22": "Placed per 1,000 aged 0-22",
        "new_placements": "New placements",
        "cost_total_dkk": "Total cost (DKK)",
        "cost_total_discounted_dkk": "Total cost, discounted (DKK)",
        "cost_per_child_0_22_dkk": "Total cost per 0-22-year-old per year, caseworkers included (DKK)",
        "cost_placements_dkk": "Cost of placements (DKK)",
        "placement_cost_share": "Placements' share of cost",
        "spending_per_child_0_22_dkk": "Spending per 0-22-year-old per year, as the key figure (DKK)",
        "placement_spending_share": "Placements' share of spending",
        "cost_caseworkers_dkk": "Cost of caseworkers (DKK)",
        "cost_investment_dkk": "Scenario investments (DKK)",
        "open_cases": "Open cases",
        "cases_per_caseworker": "Cases per caseworker",
        "followup_on_time_share": "Share of follow-ups on time",
        "followup_slip_days": "Follow-up delay (days)",
        "followup_work_share": "Follow-ups' share of standard hours",
        "assessment_wait_days": "Wait for an assessment (days)",
        "assessment_overdue_share": "Assessments beyond the 4-month deadline (share)",
        "caseworker_utilisation": "Caseworker utilisation",
        "notifications": "Notifications",
        "assessments": "Assessments",
        "step_ups": "Steps up the staircase",
        "step_downs": "Steps down the staircase",
        "breakdowns": "Placement breakdowns",
        "returns_home": "Returns home",
        "caseworkers": "Caseworkers (FTE)",
        "need_days": "Days with a need (child-days)",
        "need_days_weighted": "Need-days weighted by severity",
        "need_days_weighted_per_1000_0_17": "Weighted need-days per 1,000 aged 0-17 per year",
        "unmet_need_days": "Days with an unmet need",
        "unmet_need_share": "Share of need-days with an unmet need",
        "placement_moves": "Moves between placements",
        "new_placements_mean_age": "Mean age at a new placement (years)",
    },
}
# per-step KPIs (prefix + step name): the prefix's words, then the step's label
STEP_KPI_LABELS: dict[str, dict[str, str]] = {
    "da": {"cost_dkk__": "Udgift til trinnet (kr.)", "child_days__": "Barnedage på trinnet"},
    "en": {"cost_dkk__": "Cost of the step (DKK)", "child_days__": "Child-days on the step"},
}
# per-age-group KPIs (prefix + age group name, kpi_catalog.AGE_GROUP_KPIS): the prefix's words, then the group
AGE_GROUP_KPI_LABELS: dict[str, dict[str, str]] = {
    "da": {"new_placements__": "Nye anbringelser", "placed_stock__": "Anbragte (gennemsnitlig bestand)"},
    "en": {"new_placements__": "New placements", "placed_stock__": "Placed (time-averaged stock)"},
}
# the units of kpi_catalog (English there) in Danish
UNITS_DA: dict[str, str] = {
    "per 1,000 children 0-17": "pr. 1.000 børn 0-17 år",
    "per 1,000 aged 0-22": "pr. 1.000 0-22-årige",
    "children": "børn",
    "DKK": "kr.",
    "DKK (discounted to the horizon start)": "kr. (tilbagediskonteret til periodens start)",
    "DKK per 0-22-year-old per year": "kr. pr. 0-22-årig pr. år",
    "share": "andel",
    "ratio": "forhold",
    "cases": "sager",
    "cases per FTE": "sager pr. årsværk",
    "days": "dage",
    "notifications": "underretninger",
    "assessments": "undersøgelser",
    "moves": "skift",
    "breakdowns": "sammenbrud",
    "FTE": "årsværk",
    "child-days": "barnedage",
    "weighted need-days": "vægtede behovsdage",
    "weighted need-days per 1,000 children 0-17 per year": "vægtede behovsdage pr. 1.000 børn 0-17 år pr. år",
    "years": "år",
    "child-years": "barneår",
    "FTE-years": "årsværk",
    "": "",
}
# budget lines that are not steps of the staircase (sim.metrics.budget.TEAM_ITEMS)
ITEM_LABELS: dict[str, dict[str, str]] = {
    "da": {"caseworkers": "Sagsbehandlere", "assessments": "Undersøgelser",
           "investment": "Investering", "other": "Øvrige udgifter (grundtrinnet)"},
    "en": {"caseworkers": "Caseworkers", "assessments": "Assessments",
           "investment": "Investment", "other": "Other cost (ground step)"},
}

# headings, sheet names and column names: key -> (Danish, English)
TEXT: dict[str, tuple[str, str]] = {
    # sheets (at most 31 characters)
    "sheet_about": ("Om beregningen", "About"),
    "sheet_business_case": ("Investeringsregnskab", "Business case"),
    "sheet_budget": ("Budget pr. foranstaltning", "Budget by measure"),
    "sheet_payback": ("Tilbagebetaling", "Payback"),
    "sheet_headroom": ("Investeringsråderum", "Investment headroom"),
    "sheet_kpis": ("Nøgletal", "Key figures"),
    "sheet_forecast": ("Prognose til årets udgang", "Forecast to year end"),
    "sheet_followup": ("Budgetopfølgning", "Budget follow-up"),
    # today's caseload and the budget follow-up (sim.report.followup)
    "budget_count": ("Budget: antal (helårspersoner)", "Budget: count (child-years per year)"),
    "budget_price": ("Budget: enhedspris", "Budget: unit price"),
    "budget_amount": ("Budget for perioden", "Budget for the period"),
    "forecast_count": ("Prognose: antal (gns.)", "Forecast: count (average)"),
    "forecast_price": ("Prognose: enhedspris", "Forecast: unit price"),
    "forecast_amount": ("Prognose for perioden", "Forecast for the period"),
    "deviation": ("Afvigelse", "Deviation"),
    "volume": ("heraf mængde", "of which volume"),
    "price": ("heraf pris", "of which price"),
    "months": ("Måneder", "Months"),
    "count_avg": ("Antal børn (gns.)", "Children (average)"),
    # columns
    "scenario": ("Scenarie", "Scenario"),
    "reference": ("Reference", "Reference"),
    "year": ("År", "Year"),
    "year_or_horizon": ("År (0 = hele perioden)", "Year (0 = whole horizon)"),
    "period": ("Periode", "Period"),
    "item": ("Post", "Item"),
    "unit": ("Enhed", "Unit"),
    "count": ("Antal", "Count"),
    "entries": ("Tilgang", "In"),
    "exits": ("Afgang", "Out"),
    "unit_cost": ("Enhedspris", "Unit cost"),
    "fixed_cost": ("Fast udgift", "Fixed cost"),
    "cost": ("Udgift", "Cost"),
    "ci_low": ("95 % nedre", "95 % low"),
    "ci_high": ("95 % øvre", "95 % high"),
    "mean": ("Middel", "Mean"),
    "n": ("Replikationer", "Replications"),
    "kpi": ("Nøgletal", "Key figure"),
    "kpi_id": ("Nøgletal (id)", "KPI (id)"),
    "investment": ("Investering", "Investment"),
    "net": ("Netto", "Net"),
    "cumulative": ("Akkumuleret", "Cumulative"),
    "discounted": ("Tilbagediskonteret", "Discounted"),
    "discounted_cumulative": ("Tilbagediskonteret, akkumuleret", "Discounted, cumulative"),
    "change": ("Driftsændring", "Operating change"),
    "difference": ("forskel", "difference"),
    "cum_diff": ("Akkumuleret forskel", "Cumulative difference"),
    "headroom": ("Investeringsråderum", "Investment headroom"),
    "planned_investment": ("Planlagt investering", "Planned investment"),
    "margin": ("Margen", "Margin"),
    "paid_back_95": ("Tilbagebetalt ved udgangen af år (95 % sikkerhed)", "Paid back by year (95 % confidence)"),
    "paid_back_mean": ("Tilbagebetalt ved udgangen af år (middel)", "Paid back by year (mean)"),
    "paid_back_month": ("Tilbagebetalt ved udgangen af måned (middel)", "Paid back by the end of month (mean)"),
    "paid_back_month_disc": ("Tilbagebetalt ved udgangen af måned, tilbagediskonteret (middel)",
                             "Paid back by the end of month, discounted (mean)"),
    "paid_back_when": ("Tilbagebetalingstid (middel)", "Payback time (mean)"),
    "paid_back_when_disc": ("Tilbagebetalingstid, tilbagediskonteret (middel)", "Payback time, discounted (mean)"),
    "cum_diff_end": ("Akkumuleret forskel ved periodens slut", "Cumulative difference at the horizon's end"),
    "cum_diff_end_disc": ("Akkumuleret forskel ved periodens slut, tilbagediskonteret",
                          "Cumulative difference at the horizon's end, discounted"),
    "total": ("I alt", "Total"),
    "whole_horizon": ("Hele perioden", "Whole horizon"),
    "horizon": ("hele perioden", "horizon"),
    "year_word": ("år", "year"),
    "kr": ("kr.", "DKK"),
    "prices": ("priser", "prices"),
    "not_within": ("ikke inden for perioden", "not within the horizon"),
    "no_comparison": ("Ingen scenarier at sammenligne med referencen (compare=[]).",
                      "No scenarios to compare with the reference (compare=[])."),
    "field": ("Emne", "Item"),
    "value": ("Værdi", "Value"),
}


def t(key: str, language: str = "en") -> str:
    """The text for ``key`` in ``language`` ('da' or 'en')."""
    da, en = TEXT[key]
    return da if language == "da" else en


def kpi_label(kpi: str, language: str = "en", step_labels: dict[str, str] | None = None) -> str:
    """A KPI's name for people; per-step KPIs (``cost_dkk__<step>``) name the step by ``step_labels``
    (step -> label in the language), else by its id; per-age-group KPIs (``new_placements__<group>``) name the
    group by age_group_label. Unknown KPIs keep their id."""
    if kpi in KPI_LABELS[language]:
        return KPI_LABELS[language][kpi]
    for prefix, words in STEP_KPI_LABELS[language].items():
        if kpi.startswith(prefix):
            step = kpi[len(prefix):]
            return f"{words}: {(step_labels or {}).get(step, step)}"
    for prefix, words in AGE_GROUP_KPI_LABELS[language].items():
        if kpi.startswith(prefix):
            return f"{words}: {age_group_label(kpi[len(prefix):], language)}"
    return kpi


def age_group_label(name: str, language: str = "en") -> str:
    """An age group of need.age_groups for people: 'age_0_5' -> '0-5 år' / 'aged 0-5'; other names as they are."""
    m = re.fullmatch(r"age_(\d+)_(\d+)", name)
    if not m:
        return name
    ages = f"{m.group(1)}-{m.group(2)}"
    return f"{ages} år" if language == "da" else f"aged {ages}"


def unit_label(unit: str, language: str = "en") -> str:
    """A unit of kpi_catalog (English) in ``language``."""
    return UNITS_DA.get(unit, unit) if language == "da" else unit


def danish_separators(text: str) -> str:
    """1,234.5 -> 1.234,5 (swap the English separators)."""
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


NOISE = 1e-6     # a number this close to 0 is floating-point noise of sums and differences (-7e-9 kr.): shown as 0


def denoised(v):
    """``v``, or 0 where it is floating-point noise (|v| < NOISE): no '-0,00' for a difference of equal sums."""
    return 0.0 if v is not None and abs(v) < NOISE else v


def fmt_da(v: float | None, money: bool = False) -> str:
    """A number in Danish: thousands point and decimal comma - 1.234, 45,6, 0,12, 1,2 mio.; with ``money``
    the unit too: 1,2 mio. kr., 3,4 mia. kr., 12.345 kr. '-' for a missing number."""
    if v is None or not math.isfinite(v):
        return "-"
    v = denoised(v)
    kr = " kr." if money else ""
    a = abs(v)
    if a >= 1e9:
        return danish_separators(f"{v / 1e9:,.1f}") + " mia." + kr
    if a >= 1e6:
        return danish_separators(f"{v / 1e6:,.1f}") + " mio." + kr
    if v == 0:
        return "0" + kr
    if a >= 1000 or money:
        return danish_separators(f"{v:,.0f}") + kr
    if a >= 10:
        return danish_separators(f"{v:,.1f}")
    return danish_separators(f"{v:,.2f}")


def count_text(n: float, one: str, many: str, language: str = "en") -> str:
    """A count with its noun in the right number: (1, 'year', 'years') -> '1 year', 2 -> '2 years'; a decimal
    comma in Danish (1.5 -> '1,5 år')."""
    num = f"{n:g}"
    return f"{num.replace('.', ',') if language == 'da' else num} {one if n == 1 else many}"


def replications_text(n: int, language: str = "en") -> str:
    """'1 replication' / '20 replications' ('1 replikation' / '20 replikationer')."""
    return count_text(n, "replikation", "replikationer", "da") if language == "da" else \
        count_text(n, "replication", "replications")


def warmup_years_text(years: float, language: str = "en") -> str:
    """'6 warm-up years' / '6 års indkøring' (a warm-up of ``years``; 1 year in the singular)."""
    return f"{count_text(years, 'års', 'års', 'da')} indkøring" if language == "da" else \
        count_text(years, "warm-up year", "warm-up years")


def the_years(n: float, language: str = "en") -> str:
    """'the 4 years' / 'de 4 år', and for one year 'the 1 year' / 'det ene år' (a horizon, in a sentence)."""
    if language == "da":
        return "det ene år" if n == 1 else f"de {count_text(n, 'år', 'år', 'da')}"
    return f"the {count_text(n, 'year', 'years')}"


def months_text(month: int | None, language: str = "en") -> str:
    """A horizon month (1 = the first) as years and months: 19 -> '1 år og 7 mdr.' / '1 year 7 months';
    None -> not within the horizon."""
    if month is None:
        return t("not_within", language)
    y, m = divmod(int(month), 12)
    if language == "da":
        parts = ([f"{y} år"] if y else []) + ([f"{m} md." if m == 1 else f"{m} mdr."] if m else [])
        return " og ".join(parts)
    parts = ([f"{y} year" + ("s" if y != 1 else "")] if y else []) + ([f"{m} month" + ("s" if m != 1 else "")] if m else [])
    return " ".join(parts)


# --- report: scenarios by a title for people (sections of report.html, the executive summary); others by
# their name in words. A composed arm ("a+b") joins its parts' titles.
SCENARIO_TITLES: dict[str, tuple[str, str]] = {
    "baseline": ("Nuværende praksis", "Current practice"),
    "earlier_detection": ("Tidligere opsporing", "Earlier detection"),
    "frequent_followup": ("Hyppigere opfølgning", "More frequent follow-up"),
    "lower_caseload": ("Færre sager pr. sagsbehandler", "Lower caseload"),
    "caseload_norm": ("Sagstalsnorm", "Caseload norm"),
    "close_management": ("Tæt ledelse", "Close management"),
    "early_help_unit": ("Enhed for tidlig hjælp", "Early help unit"),
    "intensive_home_based": ("Intensiv hjemmebaseret indsats", "Intensive home-based programme"),
    "kinship_first": ("Netværket først", "Kinship first"),
    "short_intensive_stays": ("Korte, intensive ophold", "Short intensive stays"),
    "full_shift": ("Hele omstillingen", "The full shift"),
}


def scenario_title(name: str, language: str = "en") -> str:
    """A scenario (or a composed arm 'a+b') for people: its title in SCENARIO_TITLES, else its name in words
    ('my_plan' -> 'My plan'); the parts of a composed arm joined by ' + '."""
    parts = []
    for part in name.split("+"):
        if part in SCENARIO_TITLES:
            da, en = SCENARIO_TITLES[part]
            parts.append(da if language == "da" else en)
        else:
            words = part.replace("_", " ").strip()
            parts.append(words[:1].upper() + words[1:])
    return " + ".join(parts)


# --- text of the configuration in a language: municipality.label / label_da, scenario_info's description /
# description_da and investment.notes / notes_da. English text in a Danish output is marked as such.
IN_ENGLISH = "(på engelsk)"


def municipality_label(municipality, language: str = "en") -> str:
    """The municipality as people read it: its label_da in Danish (e.g. 'Gennemsnitskommune (2015)'), else -
    and in English - its label."""
    da = getattr(municipality, "label_da", "") or ""
    return da if language == "da" and da.strip() else municipality.label


def in_language(english: str, danish: str = "", language: str = "en") -> str:
    """A text of the configuration in ``language``: the Danish one in Danish, else the English one - marked
    '(på engelsk)' in a Danish output when a (user's) file has no Danish text; '' stays ''."""
    if language != "da":
        return english
    if (danish or "").strip():
        return danish
    return f"{english} {IN_ENGLISH}" if (english or "").strip() else ""


# --- the KPI dictionary of the report: each KPI's definition (sim.common.kpi_catalog.KPI_DEFS, English there) in
# Danish; keys and ids of the configuration (costs.discount_rate_per_year, open_cases, ...) stay as they are
KPI_DEFINITIONS_DA: dict[str, str] = {
    "placed_per_1000_0_17": "Børn på 0-17 år på et anbringelsestrin (gennemsnitlig bestand) pr. 1.000 børn på 0-17 år.",
    "placed_per_1000_0_22": "Børn og unge på 0-22 år på et anbringelsestrin, efterværn medregnet (gennemsnitlig "
                            "bestand), pr. 1.000 0-22-årige; kan sammenlignes med nøgletallet i [003 Table 1.1].",
    "new_placements": "Skift fra et trin uden anbringelse til et anbringelsestrin.",
    "cost_total_dkk": "Alle udgifter: trinnenes udgifter pr. barn og faste udgifter, sagsbehandlere, børnefaglige "
                      "undersøgelser og scenariets investeringer.",
    "cost_total_discounted_dkk": "cost_total_dkk tilbagediskonteret måned for måned med costs.discount_rate_per_year.",
    "cost_per_child_0_22_dkk": "cost_total_dkk pr. indbygger på 0-22 år pr. år: alle modellens udgifter, "
                               "sagsbehandlere medregnet; kan IKKE sammenlignes med nøgletallet i [003 Table 1.1] "
                               "(se spending_per_child_0_22_dkk).",
    "spending_per_child_0_22_dkk": "Udgiftsniveau, der kan sammenlignes med nøgletallet 'udgifter pr. 0-22-årig' i "
                                   "[003 Table 1.1]: trinnenes udgifter pr. barn og faste udgifter samt børnefaglige "
                                   "undersøgelser pr. indbygger på 0-22 år pr. år, plus "
                                   "costs.other_spending_per_child_0_22_dkk (særlige dagtilbud og handicapydelser, "
                                   "uden for modellen). Ikke med: sagsbehandlernes løn (administration, hovedkonto 6) "
                                   "og scenariets investeringer.",
    "cost_placements_dkk": "Udgifter til anbringelsestrinnene (pr. barn og faste).",
    "placement_cost_share": "cost_placements_dkk / cost_total_dkk.",
    "placement_spending_share": "cost_placements_dkk / udgiftsniveauet i spending_per_child_0_22_dkk (over de samme "
                                "befolkningsår): anbringelsernes andel af nøgletallets udgifter.",
    "cost_caseworkers_dkk": "Sagsbehandlerholdet (årsværk x udgift pr. år).",
    "cost_investment_dkk": "Scenariets investeringer (engangsbeløb ved periodens start, årlige beløb fra "
                           "implementation.start_month) og rekruttering af sagsbehandlere ansat efter en sagstalsnorm.",
    "open_cases": "Åbne sager (gennemsnitlig bestand).",
    "cases_per_caseworker": "open_cases / sagsbehandlere (årsværk).",
    "followup_on_time_share": "Opfølgninger med frist i perioden, der blev påbegyndt inden for "
                              "casework.on_time_grace_days efter fristen; opfølgninger, der stadig venter ved "
                              "periodens slut, tæller som forsinkede.",
    "followup_slip_days": "Gennemsnitligt antal dage fra en opfølgnings frist til den påbegyndes.",
    "followup_work_share": "Den gennemsnitlige andel af den normerede tid, en opfølgning fik: 1, medmindre holdet "
                           "havde store pukler (casework.overload); en tyndere opfølgning opdager kun en ændring i "
                           "behovet med den sandsynlighed.",
    "assessment_wait_days": "Gennemsnitligt antal dage fra underretning til start på den børnefaglige undersøgelse "
                            "(screening medregnet).",
    "assessment_overdue_share": "Undersøgelser afsluttet mere end casework.assessment_deadline_days (4 måneder, "
                                "servicelovens § 50, stk. 7) efter underretningen.",
    "caseworker_utilisation": "Udført arbejde i normerede timer (undersøgelser, opfølgninger og revurderinger, efter "
                              "komprimering) / holdets normerede produktive timer; et hold, der yder en ekstra "
                              "indsats (casework.overload.max_extra_effort), kommer over 1.",
    "notifications": "Almenområdets opsporinger (nye sager og revurderinger af åbne sager).",
    "assessments": "Afsluttede børnefaglige undersøgelser (§ 50).",
    "step_ups": "Skift op ad trappen for et barn, der allerede har en foranstaltning.",
    "step_downs": "Skift ned ad trappen for et barn med en foranstaltning, også når foranstaltningen ophører.",
    "breakdowns": "Sammenbrud i anbringelser.",
    "returns_home": "Skift fra et anbringelsestrin til et trin uden anbringelse.",
    "caseworkers": "Sagsbehandlerholdets størrelse.",
    "need_days": "Dage, hvor børn (og unge i efterværn) havde et behov (et niveau over intet behov).",
    "need_days_weighted": "need_days, hver dag vægtet med niveauets need.outcome_weights (standard: let 1, moderat 2, "
                          "alvorlig 4, svær 8 [assumption]): byrden af behov, vægtet efter sværhed.",
    "need_days_weighted_per_1000_0_17": "need_days_weighted pr. 1.000 børn på 0-17 år pr. år: kan sammenlignes "
                                        "mellem kommuner; nævneren er befolkningen, så den flytter sig ikke med "
                                        "scenariet.",
    "unmet_need_days": "Dage med et behov over barnets trin: trinnet ligger under det laveste trin, som nogen "
                       "matchende gruppe nævner for niveauet (dets matchbånd) – før opsporing, under screening, "
                       "undersøgelse og afgørelse, eller på et lavere trin, mens barnet venter på en plads på det rette.",
    "unmet_need_share": "unmet_need_days / need_days.",
    "placement_moves": "Skift fra én anbringelse til en anden: til et andet anbringelsestrin eller til en ny familie "
                       "eller et nyt sted af samme type efter et sammenbrud (altså mindst lige så mange som "
                       "sammenbruddene).",
    "new_placements_mean_age": "Børnenes gennemsnitsalder ved nye anbringelser (new_placements).",
}


def kpi_definition(kpi: str, english: str, language: str = "en") -> str:
    """A KPI's definition in ``language``: its Danish one in Danish, else the English one (marked '(på engelsk)'
    in a Danish output)."""
    return in_language(english, KPI_DEFINITIONS_DA.get(kpi, ""), language)


def one_replication_note(language: str = "en") -> str:
    """Why every interval shows as '[-, -]' with one replication (the report's and the summary's note)."""
    return ("Med 1 replikation er der intet 95 %-interval, så intervallerne står som [-; -]; kør med flere "
            "replikationer (run.replications) for at få dem." if language == "da" else
            "With 1 replication there is no 95 % interval, so every interval shows as [-, -]; run more "
            "replications (run.replications) to get them.")
