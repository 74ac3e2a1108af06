"""The warm-up check: does the baseline still drift over the horizon? (docs/model.md 4.2)

A run measures its horizon only; the warm-up before it is meant to bring the model from its initial state
to the baseline's steady state. If it has not, the baseline drifts over the horizon, a calibration fits a
transient, and a scenario's paired difference is measured against a moving base. This check looks at the
current-practice arm's monthly series - children placed (month-end occupancy of the placement steps, all
ages), open cases (month end) and the month's cost (steps, fixed costs, caseworkers and assessments) - and
reports for each:

* a trend test over the horizon (months 0 ..): each replication's least-squares slope, their mean with a
  Student-t 95 % interval over the replications (independent replications make this interval honest even
  though the months within a replication are autocorrelated), as units a year and relative to the series'
  mean level over the horizon, less the population's growth (``municipality.population_growth_per_year``:
  a growing population grows its stocks and costs alike);
* MSER-5 on the replication-mean series over warm-up and horizon: the month where the initial transient
  ends (the truncation that minimises the marginal standard error of the batch means of 5 months);
* a warning when the relative drift is significantly different from 0 (its interval excludes 0) and larger
  than ``need.drift_warning_per_year`` in size;
* a verdict: ``drift`` (the warning), ``level`` (the 95 % interval lies within +-the threshold: no drift beyond
  it) or ``inconclusive`` (no warning, but the interval reaches beyond the threshold, or there is none with one
  replication): the text then says which drifts the intervals do rule out (or that one replication rules out
  none), not "no drift beyond the threshold".

The arm checked is ``baseline`` (the practice the warm-up runs) when the run has it, else the reference arm,
whose horizon then includes its own change of practice.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..common.units import MONTHS_PER_YEAR
from ..config import BASELINE
from .stats import t_interval

SERIES = {"placed": "placed children", "open_cases": "open cases", "cost": "monthly cost"}
SERIES_DA = {"placed": "anbragte børn", "open_cases": "åbne sager", "cost": "månedlig udgift"}
COLUMNS = ["series", "label", "scenario", "level", "drift_per_year", "relative_drift_per_year", "ci_low", "ci_high",
           "threshold", "mser_truncation_month", "mser_at_limit", "warning", "verdict", "n"]
MSER_BATCH = 5                 # months per batch in MSER-5
COST_METRICS = ("cost_caseworkers_dkk", "cost_assessments_dkk")     # with the steps' cost_dkk: the month's cost


def checked_arm(res) -> str:
    """The arm whose baseline is checked: ``baseline`` (the warm-up's practice) if the run has it, else the
    reference arm."""
    return BASELINE if BASELINE in res.arms else res.reference


def monthly_series(res, arm: str | None = None) -> dict[str, pd.DataFrame]:
    """The checked series of ``arm`` (default ``checked_arm``) by name (SERIES): a replication x month table."""
    arm = arm or checked_arm(res)
    ts = res.timeseries[res.timeseries.scenario == arm]
    steps = res.plan.arms[arm].staircase.steps
    placed = [name for name, s in steps.items() if s.placement]
    parts = {
        "placed": ts[(ts.metric == "occupancy") & ts.step.isin(placed)],
        "open_cases": ts[ts.metric == "open_cases"],
        "cost": ts[(ts.metric == "cost_dkk") | ts.metric.isin(COST_METRICS)],
    }
    return {name: d.pivot_table(index="replication", columns="month", values="value", aggfunc="sum")
            for name, d in parts.items()}


def ols_slopes(values: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row of ``values`` (replications x points) on ``x``."""
    xc = x - x.mean()
    return (values - values.mean(axis=1, keepdims=True)) @ xc / float(xc @ xc)


def mser(series: np.ndarray, batch: int = MSER_BATCH) -> int:
    """MSER-``batch``: how many leading observations of ``series`` to delete - a multiple of ``batch``, at most
    half of the series - so that the batch means left have the smallest marginal standard error
    (sum of squared deviations / number left squared). 0 for a series too short to batch twice."""
    n = len(series) // batch
    if n < 2:
        return 0
    y = np.asarray(series[:n * batch], dtype=float).reshape(n, batch).mean(axis=1)
    best, best_d = math.inf, 0
    for d in range(n // 2 + 1):
        rest = y[d:]
        value = float(((rest - rest.mean()) ** 2).sum()) / len(rest) ** 2
        if value < best:
            best, best_d = value, d
    return best_d * batch


def _check_one(name: str, table: pd.DataFrame, growth: float, threshold: float) -> dict:
    """The row of warmup_check for one series (replication x month table)."""
    months = table.columns.to_numpy(dtype=float)
    horizon = months >= 0
    values = table.to_numpy(dtype=float)[:, horizon]
    level = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan    # all NaN: no warning
    slopes = ols_slopes(values, months[horizon] / MONTHS_PER_YEAR) if horizon.sum() > 1 else np.full(len(values), np.nan)
    mean, lo, hi, n = t_interval(slopes)
    rel = [v / level - growth if level else math.nan for v in (mean, lo, hi)]
    significant = bool(np.isfinite(rel[1]) and np.isfinite(rel[2]) and (rel[1] > 0 or rel[2] < 0))
    mean_series = np.nanmean(table.to_numpy(dtype=float), axis=0)
    cut = mser(mean_series)
    warn = significant and abs(rel[0]) > threshold
    return {"series": name, "label": SERIES[name], "level": level, "drift_per_year": mean,
            "relative_drift_per_year": rel[0], "ci_low": rel[1], "ci_high": rel[2], "threshold": threshold,
            "mser_truncation_month": int(months[cut]) if len(months) else 0,
            "mser_at_limit": cut > 0 and cut == len(mean_series) // MSER_BATCH // 2 * MSER_BATCH,
            "warning": warn, "verdict": verdict(rel[1], rel[2], threshold, warn), "n": n}


def verdict(ci_low: float, ci_high: float, threshold: float, warning: bool) -> str:
    """'drift' (warned), 'level' (the interval within +-threshold) or 'inconclusive' (module docstring)."""
    if warning:
        return "drift"
    if np.isfinite(ci_low) and np.isfinite(ci_high) and -threshold <= ci_low and ci_high <= threshold:
        return "level"
    return "inconclusive"


def warmup_check(res) -> pd.DataFrame:
    """One row per series (SERIES): its mean level over the horizon, the drift a year (units, and relative to the
    level less population growth, with the 95 % interval of the relative drift), the threshold, the month
    MSER-5 truncates at (relative to the horizon start; negative = in the warm-up) and whether that is the most
    it may cut (half the series: the transient may not have ended there; a slow drift does this too), whether
    to warn, and the number of replications."""
    arm = checked_arm(res)
    cfg = res.plan.arms[arm]
    growth = math.log1p(cfg.municipality.population_growth_per_year)
    rows = [_check_one(name, table, growth, cfg.need.drift_warning_per_year)
            for name, table in monthly_series(res, arm).items()]
    out = pd.DataFrame(rows, columns=COLUMNS[:2] + COLUMNS[3:])
    out.insert(2, "scenario", arm)
    if res.plan.caseload is not None:
        # from today's caseload there is no warm-up to lengthen: a trend is the forecast itself, not a warning
        out["warning"] = False
        out.attrs["caseload"] = True
    return out


ADVICE = "lengthen run.warmup_years"
ADVICE_DA = "forlæng run.warmup_years"


def _label(r, language: str) -> str:
    return SERIES_DA.get(r.series, r.label) if language == "da" else r.label


def warmup_warnings(check: pd.DataFrame, advice: str = ADVICE, language: str = "en") -> list[str]:
    """One line per flagged series of ``check`` (warmup_check), e.g. 'warning: the baseline still drifts: placed
    children +2.1 % a year [1.4, 2.8]; lengthen run.warmup_years' (``advice``); none when nothing is flagged."""
    da = language == "da"
    if da and advice == ADVICE:
        advice = ADVICE_DA
    out = []
    for r in check[check.warning].itertuples():
        if da:
            arm = "" if r.scenario == BASELINE else f" ({r.scenario}, hvis periode omfatter dens ændrede praksis)"
            out.append(f"advarsel: basisforløbet{arm} driver stadig: {_label(r, language)} {_drift(r, language)}; "
                       f"{advice}")
        else:
            arm = "" if r.scenario == BASELINE else f" ({r.scenario}, whose horizon includes its change of practice)"
            out.append(f"warning: the baseline{arm} still drifts: {r.label} {_drift(r)}; {advice}")
    return out


def _drift(r, language: str = "en") -> str:
    """'+2.1 % a year [1.4, 2.8]' for a row of warmup_check (the interval '-' with one replication)."""
    if language == "da":
        ci = (f"[{100 * r.ci_low:.1f}; {100 * r.ci_high:.1f}]".replace(".", ",")
              if np.isfinite(r.ci_low) and np.isfinite(r.ci_high) else "[-; -]")
        return f"{100 * r.relative_drift_per_year:+.1f}".replace(".", ",") + f" % om året {ci}"
    ci = (f"[{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}]" if np.isfinite(r.ci_low) and np.isfinite(r.ci_high)
          else "[-, -]")
    return f"{100 * r.relative_drift_per_year:+.1f} % a year {ci}"


def warmup_text(check: pd.DataFrame, advice: str = ADVICE, language: str = "en") -> list[str]:
    """The warm-up check for a summary: the warnings (warmup_warnings), then the line below for the other series;
    else one line saying the baseline is level
    - only when every series' 95 % interval lies within the threshold - or that the check cannot tell (an
    interval reaching beyond it, or none with one replication), with each series' relative drift a year and its
    interval."""
    warnings = warmup_warnings(check, advice, language)
    if warnings:
        rest = check[~check.warning.astype(bool)]
        if not len(rest) or check.attrs.get("caseload"):
            return warnings
        line = warmup_text(rest, advice, language)[0]          # what the check says of the series not flagged
        head = ("indkøringstjek: ", "indkøringstjek, de øvrige serier: ") if language == "da" else \
            ("warm-up check: ", "warm-up check, the other series: ")
        return warnings + [line.replace(*head, 1)]
    da = language == "da"
    drifts = "; ".join(f"{_label(r, language)} {_drift(r, language)}" for r in check.itertuples())
    if check.attrs.get("caseload"):
        return [f"udvikling fra dagens sagsstamme (ingen indkøring: udviklingen er en del af prognosen): {drifts}"
                if da else f"trend from today's caseload (no warm-up: the trend is part of the forecast): {drifts}"]
    limit = 100 * float(check["threshold"].iloc[0]) if len(check) else math.nan
    lim = f"{limit:g}".replace(".", ",") if da else f"{limit:g}"
    unclear = [r for r in check.itertuples()
               if verdict(r.ci_low, r.ci_high, r.threshold, bool(r.warning)) == "inconclusive"]
    if not unclear:
        return [f"indkøringstjek: ingen drift ud over {lim} % om året i perioden ({drifts})" if da else
                f"warm-up check: no drift beyond {limit:g} % a year over the horizon ({drifts})"]
    bounds = [max(abs(r.ci_low), abs(r.ci_high)) for r in unclear]
    if not all(np.isfinite(b) for b in bounds):           # one replication: no interval at all
        return [f"indkøringstjek: kan ikke afgøre, om basisforløbet driver: én replikation giver intet interval; "
                f"kør flere replikationer ({drifts})" if da else
                f"warm-up check: cannot tell whether the baseline drifts: one replication gives no interval; run more "
                f"replications ({drifts})"]
    ruled = 100 * max(bounds)
    out = f"{ruled:.1f}".replace(".", ",") if da else f"{ruled:.1f}"
    if da:
        return [f"indkøringstjek: ingen signifikant drift, men 95 %-intervallerne udelukker kun drift ud over ±{out} % "
                f"om året, ikke ±{lim} %; flere replikationer eller flere år i perioden gør dem smallere ({drifts})"]
    return [f"warm-up check: no significant drift, but the 95 % intervals rule out only drifts beyond ±{out} % a year, "
            f"not ±{lim} %; more replications or horizon years narrow them ({drifts})"]
