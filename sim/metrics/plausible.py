"""Does the caseworker team fit the municipality? (docs/model.md, "How to replace the defaults", step 3)

The team is data (``casework.caseworkers``, FTE), and nothing in the model stops a team that cannot be right for
the municipality: a profile copied from a small municipality to a large one keeps its 14 FTE, and the tables then
show thousands of cases per caseworker, a follow-up system in permanent collapse, and every scenario's effect
on casework measured against that. This check compares each arm's mean open cases per caseworker over the
horizon (the KPI ``cases_per_caseworker``) with ``casework.plausible_cases_per_caseworker``, the range the
sources describe, and words a warning for each arm outside it. An arm without a team (the KPI undefined) is
left to the KPI's own note.
"""
from __future__ import annotations

import math

import pandas as pd

from ..common.i18n import danish_separators

KPI = "cases_per_caseworker"
ADVICE = ("set casework.caseworkers to this municipality's team, or staff to a caseload norm "
          "(casework.staffing.cases_per_caseworker)")
ADVICE_DA = ("sæt casework.caseworkers til kommunens eget antal sagsbehandlere, eller bemand efter et sagstal "
             "(casework.staffing.cases_per_caseworker)")


def team_check(res) -> pd.DataFrame:
    """One row per arm: its mean open cases per caseworker over the horizon, the plausible range of its
    configuration and a verdict - ``above``, ``below``, ``within`` or ``undefined`` (no team)."""
    s = res.summary
    s = s[(s.kpi == KPI) & (s.period == "horizon")].set_index("scenario")
    rows = []
    for arm in res.arms:
        low, high = res.plan.arms[arm].casework.plausible_cases_per_caseworker
        value = float(s.loc[arm, "mean"]) if arm in s.index else math.nan
        verdict = ("undefined" if not math.isfinite(value) else "above" if value > high
                   else "below" if value < low else "within")
        rows.append({"scenario": arm, KPI: value, "plausible_low": low, "plausible_high": high, "verdict": verdict})
    return pd.DataFrame(rows, columns=["scenario", KPI, "plausible_low", "plausible_high", "verdict"])


def _number(value: float, language: str, digits: int | None = None) -> str:
    """``value`` with ``digits`` decimals (None: as short as it is exact, like a bound from the configuration)."""
    text = format(value, ",g") if digits is None else f"{value:,.{digits}f}"
    return danish_separators(text) if language == "da" else text


def _beyond(value: float, low: float, high: float, language: str) -> str:
    """A caseload outside [low, high] with as few decimals as keep it visibly outside (whole cases from 10, one
    decimal below; more where rounding would land on or inside a bound: 65.4 above 65 is not '65')."""
    digits = 0 if value >= 10 else 1
    while digits < 6 and low <= round(value, digits) <= high:
        digits += 1
    return _number(value, language, digits)


def team_warnings(check: pd.DataFrame, language: str = "en") -> list[str]:
    """A line for the arms above the plausible range and one for those below it (none when every arm is within
    it or has no team), e.g. 'warning: the team does not fit the caseload: baseline 2,367 open cases per
    caseworker (mean over the horizon), above the plausible 12-65 (casework.plausible_cases_per_caseworker);
    set casework.caseworkers ...'."""
    da = language == "da"
    out = []
    for side in ("above", "below"):
        rows = check[check.verdict == side]
        if rows.empty:
            continue
        arms = ", ".join(f"{r.scenario} {_beyond(r.cases_per_caseworker, r.plausible_low, r.plausible_high, language)}"
                         for r in rows.itertuples())
        span = "-".join(_number(float(rows[f"plausible_{end}"].iloc[0]), language) for end in ("low", "high"))
        if da:
            where = f"{'over' if side == 'above' else 'under'} de plausible {span}"
            out.append(f"advarsel: sagsbehandlerteamet passer ikke til sagsmængden: {arms} åbne sager pr. "
                       f"sagsbehandler (gennemsnit i perioden), {where} (casework.plausible_cases_per_caseworker); "
                       f"{ADVICE_DA}")
        else:
            out.append(f"warning: the team does not fit the caseload: {arms} open cases per caseworker (mean over "
                       f"the horizon), {side} the plausible {span} (casework.plausible_cases_per_caseworker); "
                       f"{ADVICE}")
    return out
