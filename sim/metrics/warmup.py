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
  than ``need.drift_warning_per_year`` in size.

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
COLUMNS = ["series", "label", "scenario", "level", "drift_per_year", "relative_drift_per_year", "ci_low", "ci_high",
           "threshold", "mser_truncation_month", "mser_at_limit", "warning", "n"]
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
    level = float(np.nanmean(values)) if values.size else math.nan
    slopes = ols_slopes(values, months[horizon] / MONTHS_PER_YEAR) if horizon.sum() > 1 else np.full(len(values), np.nan)
    mean, lo, hi, n = t_interval(slopes)
    rel = [v / level - growth if level else math.nan for v in (mean, lo, hi)]
    significant = bool(np.isfinite(rel[1]) and np.isfinite(rel[2]) and (rel[1] > 0 or rel[2] < 0))
    mean_series = np.nanmean(table.to_numpy(dtype=float), axis=0)
    cut = mser(mean_series)
    return {"series": name, "label": SERIES[name], "level": level, "drift_per_year": mean,
            "relative_drift_per_year": rel[0], "ci_low": rel[1], "ci_high": rel[2], "threshold": threshold,
            "mser_truncation_month": int(months[cut]) if len(months) else 0,
            "mser_at_limit": cut > 0 and cut == len(mean_series) // MSER_BATCH // 2 * MSER_BATCH,
            "warning": significant and abs(rel[0]) > threshold, "n": n}


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


def warmup_warnings(check: pd.DataFrame, advice: str = ADVICE) -> list[str]:
    """One line per flagged series of ``check`` (warmup_check), e.g. 'warning: the baseline still drifts: placed
    children +2.1 % a year [1.4, 2.8]; lengthen run.warmup_years' (``advice``); none when nothing is flagged."""
    out = []
    for r in check[check.warning].itertuples():
        arm = "" if r.scenario == BASELINE else f" ({r.scenario}, whose horizon includes its change of practice)"
        out.append(f"warning: the baseline{arm} still drifts: {r.label} {_drift(r)}; {advice}")
    return out


def _drift(r) -> str:
    """'+2.1 % a year [1.4, 2.8]' for a row of warmup_check (the interval '-' with one replication)."""
    ci = (f"[{100 * r.ci_low:.1f}, {100 * r.ci_high:.1f}]" if np.isfinite(r.ci_low) and np.isfinite(r.ci_high)
          else "[-, -]")
    return f"{100 * r.relative_drift_per_year:+.1f} % a year {ci}"


def warmup_text(check: pd.DataFrame, advice: str = ADVICE) -> list[str]:
    """The warm-up check for a summary: the warnings (warmup_warnings), or one line saying the baseline is level,
    with each series' relative drift a year and its 95 % interval."""
    warnings = warmup_warnings(check, advice)
    if warnings:
        return warnings
    drifts = "; ".join(f"{r.label} {_drift(r)}" for r in check.itertuples())
    if check.attrs.get("caseload"):
        return [f"trend from today's caseload (no warm-up: the trend is part of the forecast): {drifts}"]
    limit = 100 * float(check["threshold"].iloc[0]) if len(check) else math.nan
    return [f"warm-up check: no drift beyond {limit:g} % a year over the horizon ({drifts})"]
