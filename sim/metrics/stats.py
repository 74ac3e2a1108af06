"""Interval statistics over replications: means with 95 % t-intervals, and paired differences."""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ..common.kpi_catalog import KPI_DEFS, non_negative

@functools.lru_cache(maxsize=None)
def t_quantile(dof: int) -> float:
    """The 97.5 % quantile of Student's t with ``dof`` degrees of freedom (remembered: reports ask for it
    tens of thousands of times with a handful of dof)."""
    from scipy import stats      # imported here: scipy.stats costs ~57 MB in every worker otherwise

    return float(stats.t.ppf(0.975, dof))


def t_interval(x: np.ndarray) -> tuple[float, float, float, float]:
    """(mean, 95 % low, 95 % high, n) of the non-missing values of x (Student t over replications)."""
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    m = float(x.mean())
    if n < 2:
        return m, np.nan, np.nan, n
    half = float(t_quantile(n - 1) * x.std(ddof=1) / np.sqrt(n))
    return m, m - half, m + half, n


def cached_table(res, name: str, source, compute) -> pd.DataFrame:
    """``compute(res)``, remembered on ``res`` while ``source`` (the table it is computed from) is the same object:
    the run folder, the workbook, the report and the summary each ask for the same finance tables. Callers get
    a copy."""
    hit = getattr(res, name, None)
    if hit is None or hit[0] is not source:
        hit = (source, compute(res))
        setattr(res, name, hit)
    return hit[1].copy()


def groups(df: pd.DataFrame, by: list[str]) -> tuple[list[tuple], list[np.ndarray]]:
    """The groups of ``df`` by the columns ``by`` in order of first appearance (as groupby(sort=False) iterates
    them): their keys, and the positions of their rows in the frame's order. Rows with a missing key are left
    out, as groupby leaves them out."""
    labels = df.groupby(by, sort=False).ngroup().to_numpy() if len(df) else np.empty(0, dtype=np.int64)
    order = np.argsort(labels, kind="stable")
    order = order[labels[order] >= 0]                  # ngroup numbers a row with a missing key -1
    if len(order) == 0:
        return [], []
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    positions = np.split(order, bounds)
    first = np.array([p[0] for p in positions])
    keys = list(zip(*(df[c].to_numpy()[first].tolist() for c in by)))
    return keys, positions


def summarise(kpis: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % t-interval over replications for every scenario, period, year and KPI."""
    rows = []
    values = kpis["value"].to_numpy(dtype=float)
    keys, positions = groups(kpis, ["scenario", "period", "year", "kpi"])
    for (sc, period, year, kpi), pos in zip(keys, positions):
        m, lo, hi, n = t_interval(values[pos])
        if n > 1 and non_negative(kpi):
            lo = max(lo, 0.0)                          # a count's, an amount's or a share's mean is never negative
        if kpi in KPI_DEFS and KPI_DEFS[kpi][0] == "share" and n > 1:
            hi = min(hi, 1.0)                          # a share's mean lies in [0, 1]
        rows.append((sc, period, year, kpi, m, lo, hi, n))
    return pd.DataFrame(rows, columns=["scenario", "period", "year", "kpi", "mean", "ci_low", "ci_high", "n"])


def paired_differences(kpis: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Scenario minus reference, paired by replication (common random numbers), with 95 % intervals.

    ``unpaired_half_width`` is the half-width a Welch interval would have without pairing; the
    ratio shows what common random numbers buy.
    """
    ref = kpis[kpis["scenario"] == reference].set_index(["replication", "period", "year", "kpi"])["value"]
    rows, welch = [], []           # welch: (row, degrees of freedom, standard error) for the quantiles at the end
    for sc, g in kpis[kpis["scenario"] != reference].groupby("scenario", sort=False):
        arm = g.set_index(["replication", "period", "year", "kpi"])["value"]
        joined = pd.DataFrame({"arm": arm, "ref": ref}).dropna(how="all").reset_index()
        joined = joined[joined["replication"].isin(g["replication"].unique())]
        arm_v, ref_v = joined["arm"].to_numpy(dtype=float), joined["ref"].to_numpy(dtype=float)
        keys, positions = groups(joined, ["period", "year", "kpi"])
        for (period, year, kpi), pos in zip(keys, positions):
            a = arm_v[pos]
            b = ref_v[pos]
            d = a - b
            m, lo, hi, n = t_interval(d)
            ref_mean = float(np.nanmean(b)) if np.isfinite(b).any() else np.nan   # all NaN: no warning
            # Welch half-width for the same difference, ignoring the pairing
            a_, b_ = a[~np.isnan(a)], b[~np.isnan(b)]
            if len(a_) > 1 and len(b_) > 1:
                va, vb = a_.var(ddof=1) / len(a_), b_.var(ddof=1) / len(b_)
                se = np.sqrt(va + vb)
                df_w = (va + vb) ** 2 / ((va ** 2 / (len(a_) - 1)) + (vb ** 2 / (len(b_) - 1))) if (va + vb) > 0 else 1.0
                unpaired = 0.0
                if se > 0:
                    welch.append((len(rows), df_w, se))
            else:
                unpaired = np.nan
            rows.append([sc, reference, period, year, kpi, m, lo, hi, n, ref_mean,
                         m / ref_mean if ref_mean not in (0, np.nan) and np.isfinite(ref_mean) and ref_mean != 0 else np.nan,
                         unpaired])
    if welch:
        from scipy import stats
        at, dof, se = (np.array(x) for x in zip(*welch))
        for i, q, e in zip(at, stats.t.ppf(0.975, dof), se):      # one call: the same quantiles, element by element
            rows[i][-1] = float(q * e)
    return pd.DataFrame(rows, columns=["scenario", "reference", "period", "year", "kpi", "diff_mean", "diff_ci_low",
                                       "diff_ci_high", "n", "reference_mean", "relative_diff", "unpaired_half_width"])
