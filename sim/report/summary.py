"""The executive summary: per scenario, in plain sentences a planner can send to the politicians.

For every scenario compared with the reference, computed from the run's results (nothing is written in by
hand):

* the saving or extra cost over the horizon - the paired difference in ``cost_total_dkk``, investments
  included - with its 95 % interval;
* when it pays back - the horizon month by which the mean cumulative paired difference turns negative
  (:func:`sim.metrics.payback_monthly.payback_months`, undiscounted and discounted), and the horizon year
  by which it has with 95 % confidence (:func:`sim.metrics.payback.payback_years`);
* the probability of payback, only when an uncertainty analysis is passed in (a plain run has none);
* what drives the result: the budget lines with the largest paired differences
  (:func:`sim.metrics.budget.budget_difference`), in words;
* whether the saving comes with better or worse outcomes for the children (``unmet_need_share``,
  ``need_days_weighted``, ``placement_moves``: lower is better for all three).

Also the data of the break-even chart: the cumulative paired cost difference month by month with its 95 %
interval over the replications (:func:`cumulative_difference`).
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..common.i18n import in_language, months_text, scenario_title, the_years
from ..metrics.budget import budget_difference
from ..metrics.payback import payback_years
from ..metrics.payback_monthly import monthly_cost, payback_months
from ..metrics.stats import t_interval
from .danish import item_label
from .format import money, num, percent

COST = "cost_total_dkk"
# outcomes for the children (lower is better for each): KPI -> (da, en) words, whether it is a share (its
# change said in percentage points, else in % of the reference), whether the English words are plural
OUTCOMES: dict[str, tuple[str, str, bool, bool]] = {
    "unmet_need_share": ("andelen af behovsdage med udækket behov", "the share of need-days with an unmet need",
                         True, False),
    "need_days_weighted": ("de sværhedsvægtede behovsdage", "the severity-weighted days of need", False, True),
    "placement_moves": ("skift mellem anbringelsessteder", "moves between placements", False, True),
}
UNCHANGED = 0.0005          # a change below 0.05 % (or 0.05 percentage points) is said as 'practically unchanged'
MAX_DRIVERS = 3
DRIVER_SHARE = 0.8          # budget lines are named until they cover this share of the absolute differences


@dataclass
class ScenarioSummary:
    """The executive summary of one scenario: its numbers and the sentences that say them."""
    scenario: str
    title: str
    description: str
    cost_diff: tuple[float, float, float]          # mean, 95 % low, 95 % high (DKK over the horizon)
    payback_month: int | None
    payback_month_discounted: int | None
    payback_year_95: int | None
    payback_probability: dict[int, float] = field(default_factory=dict)    # horizon year -> share of sets
    drivers: list[tuple[str, float]] = field(default_factory=list)         # (budget line in words, DKK)
    outcomes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)   # mean, low, high, ref
    sentences: list[str] = field(default_factory=list)


def _horizon(res, kpi: str) -> pd.DataFrame:
    c = res.comparison
    return c[(c.period == "horizon") & (c.kpi == kpi)].set_index("scenario")


def description(res, arm: str, language: str = "en") -> str:
    """The arm's description from its scenario_info in ``language``: its own entry, else its parts' joined;
    in Danish its description_da, else the English description marked '(på engelsk)'."""
    info = res.plan.arms[arm].scenario_info
    parts = [info[arm]] if arm in info else list(info.values())
    return " ".join(in_language(i.description, i.description_da, language) for i in parts)


def investment_notes(res, arm: str, language: str = "en") -> str:
    """The notes on the arm's investment (every part's) in ``language``, as :func:`description`."""
    inv = [i.investment for i in res.plan.arms[arm].scenario_info.values()]
    return " ".join(x for x in (in_language(i.notes, i.notes_da, language) for i in inv) if x)


def probability_table(uncertainty) -> pd.DataFrame | None:
    """The payback probabilities of an uncertainty analysis as (scenario, year, paid_back_share): from an
    UncertaintyResult (its ``payback_probability()``) or such a DataFrame itself; None for None."""
    if uncertainty is None:
        return None
    if isinstance(uncertainty, pd.DataFrame):
        return uncertainty
    return uncertainty.payback_probability()


def drivers(res, scenario: str, language: str) -> list[tuple[str, float]]:
    """The budget lines that drive the scenario's cost difference over the horizon: (line in words, paired
    mean difference in DKK), largest first, until they cover DRIVER_SHARE of the absolute differences."""
    d = budget_difference(res)
    d = d[(d.scenario == scenario) & (d.year == 0)].dropna(subset=["cost_dkk"])
    d = d.reindex(d["cost_dkk"].abs().sort_values(ascending=False).index)
    total = d["cost_dkk"].abs().sum()
    out, covered = [], 0.0
    for item, v in zip(d["item"], d["cost_dkk"]):
        if total <= 0 or len(out) >= MAX_DRIVERS or covered >= DRIVER_SHARE * total or abs(v) < 0.05 * total:
            break
        out.append((item_label(res, item, language, scenario), float(v)))
        covered += abs(v)
    return out


def scenario_summaries(res, language: str = "da", uncertainty=None) -> list[ScenarioSummary]:
    """The executive summary of every scenario compared with the reference (empty without comparison);
    ``uncertainty``: an UncertaintyResult (or its payback_probability() table) to say the probability of
    payback - without one nothing is said about it."""
    if res.comparison.empty:
        return []
    cost = _horizon(res, COST)
    months = payback_months(res).set_index("scenario")
    years = payback_years(res).set_index("scenario")
    prob = probability_table(uncertainty)
    out = []
    for sc in [a for a in res.arms if a != res.reference and a in cost.index]:
        def month(col):
            v = months.loc[sc, col] if sc in months.index else pd.NA
            return None if pd.isna(v) else int(v)
        y95 = years.loc[sc, "paid_back_by_year_95pct"] if sc in years.index else pd.NA
        s = ScenarioSummary(
            scenario=sc, title=scenario_title(sc, language), description=description(res, sc, language),
            cost_diff=tuple(float(cost.loc[sc, c]) for c in ("diff_mean", "diff_ci_low", "diff_ci_high")),
            payback_month=month("paid_back_month"), payback_month_discounted=month("paid_back_month_discounted"),
            payback_year_95=None if pd.isna(y95) else int(y95), drivers=drivers(res, sc, language))
        if prob is not None:
            p = prob[prob.scenario == sc]
            s.payback_probability = {int(y): float(v) for y, v in zip(p["year"], p["paid_back_share"])}
        for kpi in OUTCOMES:
            o = _horizon(res, kpi)
            if sc in o.index:
                s.outcomes[kpi] = (float(o.loc[sc, "diff_mean"]), float(o.loc[sc, "diff_ci_low"]),
                                   float(o.loc[sc, "diff_ci_high"]), float(o.loc[sc, "reference_mean"]))
        s.sentences = sentences(res, s, language)
        out.append(s)
    return out


# ---------------------------------------------------------------------------------------------- sentences
def _amount(v: float, language: str) -> str:
    """A signed difference in words: '23,1 mio. kr. mindre' / 'DKK 23.1M less'; 'no difference' for 0."""
    if not np.isfinite(v):
        return "-"
    if v == 0:
        return "ingen forskel" if language == "da" else "no difference"
    word = ("mindre" if v < 0 else "mere") if language == "da" else ("less" if v < 0 else "more")
    return f"{money(v, language)} {word}"


def cost_sentence(res, s: ScenarioSummary, language: str) -> str:
    """Saving or extra cost over the horizon with its 95 % interval, investments included."""
    m, lo, hi = s.cost_diff
    years = res.plan.arms[res.reference].run.horizon_years
    ref = scenario_title(res.reference, language)
    ref = ref[:1].lower() + ref[1:] if res.reference == "baseline" else ref
    unsure = np.isfinite(lo) and np.isfinite(hi) and lo < 0 < hi
    none = not (np.isfinite(lo) and np.isfinite(hi))          # one replication: no interval
    if language == "da":
        interval = ("intet 95 %-interval med én replikation" if none else
                    f"95 %-interval: fra {_amount(lo, language)} til {_amount(hi, language)}")
        text = (f"Over {the_years(years, language)} koster scenariet {_amount(m, language)} end {ref}, investeringer medregnet "
                f"({interval})")
        return text + (" – intervallet rummer både en besparelse og en merudgift." if unsure else ".")
    interval = ("no 95 % interval with one replication" if none else
                f"95 % interval: from {_amount(lo, language)} to {_amount(hi, language)}")
    text = (f"Over {the_years(years)} the scenario costs {_amount(m, language)} than {ref}, investments included "
            f"({interval})")
    return text + (" – the interval holds both a saving and an extra cost." if unsure else ".")


def payback_sentence(res, s: ScenarioSummary, language: str) -> str:
    """When the cumulative difference turns negative (to the month, undiscounted and discounted), and the
    year by which it has with 95 % confidence."""
    years = res.plan.arms[res.reference].run.horizon_years
    da = language == "da"
    if s.payback_month is None:
        return (f"Scenariet er ikke tjent hjem inden for {the_years(years, language)} (i gennemsnit over replikationerne)." if da else
                f"The scenario does not pay back within {the_years(years)} (on average over the replications).")
    disc = months_text(s.payback_month_discounted, language)
    if s.payback_month == 1:
        text = ("Scenariet er billigere end referencen allerede fra første måned" if da else
                "The scenario is cheaper than the reference from the first month on")
    else:
        text = (f"Opgjort måned for måned er scenariet tjent hjem efter {months_text(s.payback_month, language)} "
                f"(tilbagediskonteret: {disc})" if da else
                f"Counted month by month, the scenario has paid back after {months_text(s.payback_month, language)} "
                f"(discounted: {disc})")
    if s.payback_year_95 is not None:
        text += (f"; med 95 % sikkerhed er det tjent hjem ved udgangen af år {s.payback_year_95}" if da else
                 f"; with 95 % confidence it has paid back by the end of year {s.payback_year_95}")
    return text + "."


def probability_sentence(s: ScenarioSummary, language: str) -> str:
    """The probability of payback by each horizon year in the uncertainty analysis ('' without one)."""
    if not s.payback_probability:
        return ""
    parts = [f"{'år' if language == 'da' else 'year'} {y}: {percent(p, language)}"
             for y, p in sorted(s.payback_probability.items())]
    if language == "da":
        return "Usikkerhedsanalysen giver sandsynligheden for at være tjent hjem ved udgangen af " + ", ".join(parts) + "."
    return "In the uncertainty analysis the probability of having paid back by the end of " + ", ".join(parts) + "."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def drivers_sentence(s: ScenarioSummary, language: str) -> str:
    """What drives the result: 'mainly lower cost of residential care (−DKK 31.0M) and higher cost of ...'."""
    if not s.drivers:
        return ""
    da = language == "da"
    parts = []
    for label, v in s.drivers:
        if da:
            word = "lavere udgifter til" if v < 0 else "højere udgifter til"
        else:
            word = "lower cost of" if v < 0 else "higher cost of"
        parts.append(f"{word} {_lower_first(label)} ({money(v, language, signed=True)})")
    joined = ", ".join(parts[:-1]) + (" og " if da else " and ") + parts[-1] if len(parts) > 1 else parts[0]
    return ("Forskellen skyldes især " if da else "The difference comes mainly from ") + joined + "."


def outcome_class(kpi: str, diff: tuple) -> str:
    """The one rule for an outcome's change (lower is better for every outcome), used by its clause and by the
    overall word of :func:`outcome_sentence`: 'unchanged' when the mean change is below UNCHANGED (0.05 %, or
    0.05 percentage points for a share); else 'better' or 'worse' when the 95 % interval excludes 0; else
    'unclear' (the interval includes 0, or there is none: one replication)."""
    share = OUTCOMES[kpi][2]
    m, lo, hi, ref = diff
    rel = m if share else (m / ref if ref else np.nan)
    if np.isfinite(rel) and abs(rel) < UNCHANGED:
        return "unchanged"
    if np.isfinite(hi) and hi < 0:
        return "better"
    if np.isfinite(lo) and lo > 0:
        return "worse"
    return "unclear"


def _change(kpi: str, diff: tuple, language: str) -> str:
    """The clause for one outcome, by :func:`outcome_class`: 'falls/rises by ...' only for a change whose 95 %
    interval excludes 0; 'practically unchanged' below UNCHANGED; 'no clear change (...)' otherwise."""
    da_words, en_words, share, plural = OUTCOMES[kpi]
    m, lo, hi, ref = diff
    da = language == "da"
    rel = m if share else (m / ref if ref else np.nan)
    if share:
        size = f"{num(abs(100 * m), language)} {'procentpoint' if da else 'percentage points'}"
    else:
        size = percent(abs(rel), language, 1) if ref else num(abs(m), language)
    kind = outcome_class(kpi, diff)
    if kind == "unchanged":
        return f"{da_words} er stort set uændret" if da else f"{en_words} {'are' if plural else 'is'} practically unchanged"
    if kind == "unclear":
        sign = "\u2212" if m < 0 else "+"
        why = (("95 %-intervallet rummer nul" if da else "the 95 % interval includes zero")
               if np.isfinite(lo) and np.isfinite(hi) else
               ("intet interval med én replikation" if da else "no interval with one replication"))
        if da:
            return f"{da_words} ændrer sig ikke sikkert ({sign}{size}; {why})"
        return f"{en_words} {'show' if plural else 'shows'} no clear change ({sign}{size}; {why})"
    if da:
        verb = "falder" if m < 0 else "stiger"
    else:
        verb = ("fall" if m < 0 else "rise") if plural else ("falls" if m < 0 else "rises")
    return f"{da_words if da else en_words} {verb} {'med' if da else 'by'} {size}"


def outcome_sentence(s: ScenarioSummary, language: str) -> str:
    """Whether the saving (or extra cost) comes with better or worse outcomes for the children, by the same
    rule as each outcome's clause (:func:`outcome_class`): better or worse = a change beyond UNCHANGED whose
    95 % interval excludes 0 (lower is better for every outcome); mixed = both; practically unchanged = every
    outcome below UNCHANGED; no clear difference otherwise."""
    if not s.outcomes:
        return ""
    da = language == "da"
    kinds = {k: outcome_class(k, d) for k, d in s.outcomes.items()}
    better = [k for k, v in kinds.items() if v == "better"]
    worse = [k for k, v in kinds.items() if v == "worse"]
    saving = s.cost_diff[0] <= 0
    what = ("Besparelsen" if saving else "Merudgiften") if da else ("The saving" if saving else "The extra cost")
    if better and not worse:
        verdict = "følges af bedre forhold for børnene" if da else "comes with better outcomes for the children"
    elif worse and not better:
        verdict = "følges af dårligere forhold for børnene" if da else "comes with worse outcomes for the children"
    elif better and worse:
        verdict = "følges af blandede resultater for børnene" if da else "comes with mixed outcomes for the children"
    elif all(v == "unchanged" for v in kinds.values()):
        verdict = ("følges af stort set uændrede forhold for børnene" if da else
                   "comes with practically unchanged outcomes for the children")
    else:
        verdict = ("følges ikke af nogen sikker forskel for børnene" if da else
                   "comes with no clear difference for the children")
    changes = [_change(k, d, language) for k, d in s.outcomes.items()]
    return f"{what} {verdict}: " + ", ".join(changes[:-1]) + (" og " if da else " and ") + changes[-1] + "."


def sentences(res, s: ScenarioSummary, language: str) -> list[str]:
    """The summary's sentences in order: cost, payback, probability (with an uncertainty analysis), drivers,
    outcomes; empty ones left out."""
    parts = [cost_sentence(res, s, language), payback_sentence(res, s, language), probability_sentence(s, language),
             drivers_sentence(s, language), outcome_sentence(s, language)]
    return [p for p in parts if p]


def summary_html(res, language: str = "da", uncertainty=None) -> str:
    """The executive summary as HTML: one block per scenario (its title, what it is, the sentences)."""
    items = scenario_summaries(res, language, uncertainty)
    if not items:
        return ("<p>Ingen scenarier at sammenligne med referencen.</p>" if language == "da" else
                "<p>No scenarios to compare with the reference.</p>")
    blocks = []
    for s in items:
        m = s.cost_diff[0]
        cls = "saving" if m < 0 else "extra"
        head = (("Besparelse" if m < 0 else "Merudgift") if language == "da" else ("Saving" if m < 0 else "Extra cost"))
        blocks.append(f'<section class="exec-scenario {cls}" data-scenario="{html.escape(s.scenario)}">'
                      f"<h3>{html.escape(s.title)} <span class=\"tag\">{head}: {html.escape(money(abs(m), language))}"
                      f"</span></h3><p class=\"what\">{html.escape(s.description)}</p><ul>"
                      + "".join(f"<li>{html.escape(x)}</li>" for x in s.sentences) + "</ul></section>")
    return "\n".join(blocks)


# ---------------------------------------------------------------------------------------- break-even data
def cumulative_difference(res, discounted: bool = False) -> pd.DataFrame:
    """Per scenario (not the reference) and horizon month (1 = the first): the cumulative paired cost
    difference from the reference, investments included - mean and 95 % interval over the replications."""
    total, disc = monthly_cost(res)
    frame = disc if discounted else total
    rows = []
    for sc in res.arms:
        if sc == res.reference:
            continue
        cum = (frame.loc[sc] - frame.loc[res.reference]).dropna(how="all").cumsum(axis=1)
        for month in cum.columns:
            m, lo, hi, n = t_interval(cum[month].to_numpy(dtype=float))
            rows.append((sc, int(month) + 1, m, lo, hi, n))
    return pd.DataFrame(rows, columns=["scenario", "month", "cum_diff_dkk", "ci_low", "ci_high", "n"])
