"""KPIs of one replication, tidy tables, summaries with 95 % intervals and paired differences."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .model import C, RepResult
from .params import DAYS_PER_MONTH, DAYS_PER_YEAR, MONTHS_PER_YEAR

# name: (unit, horizon aggregation, description). "sum" = total over the horizon years,
# "mean" = mean of the yearly values, "pooled" = recomputed from the horizon's pooled counts.
KPI_DEFS: dict[str, tuple[str, str, str]] = {
    "placed_per_1000_0_17": ("per 1,000 children 0-17", "mean", "Children aged 0-17 in a placement step (time-averaged stock) per 1,000 children aged 0-17."),
    "placed_per_1000_0_22": ("per 1,000 aged 0-22", "mean", "Children and young people aged 0-22 in a placement step, incl. aftercare (time-averaged) per 1,000 aged 0-22; comparable with the key figure of [003 Table 1.1]."),
    "new_placements": ("children", "sum", "Moves from a non-placement step into a placement step."),
    "cost_total_dkk": ("DKK", "sum", "All costs: per-child step costs, fixed step costs, caseworkers, assessments and scenario investments."),
    "cost_total_discounted_dkk": ("DKK (discounted to the horizon start)", "sum", "cost_total_dkk discounted monthly at costs.discount_rate_per_year."),
    "cost_per_child_0_22_dkk": ("DKK per 0-22-year-old per year", "mean", "cost_total_dkk per inhabitant aged 0-22; comparable with spending per 0-22-year-old [003 Table 1.1]."),
    "cost_placements_dkk": ("DKK", "sum", "Costs of placement steps (per-child and fixed)."),
    "placement_cost_share": ("share", "pooled", "cost_placements_dkk / cost_total_dkk."),
    "cost_caseworkers_dkk": ("DKK", "sum", "Caseworker team (FTE x cost per year)."),
    "cost_investment_dkk": ("DKK", "sum", "Scenario investments (one-off at the horizon start, yearly from implementation.start_month) and recruitment of caseworkers added under a caseload norm."),
    "open_cases": ("cases", "mean", "Open cases (time-averaged)."),
    "cases_per_caseworker": ("cases per FTE", "mean", "open_cases / caseworkers (FTE)."),
    "followup_on_time_share": ("share", "pooled", "Follow-ups due in the period that started within casework.on_time_grace_days of the due date; follow-ups still waiting at the end count as late."),
    "followup_slip_days": ("days", "pooled", "Mean days from a follow-up's due date to its start."),
    "followup_work_share": ("share", "pooled", "Mean share of its standard hours a follow-up got: 1 unless the team was heavily backlogged (casework.overload); a thinner follow-up catches a change of need only with that probability."),
    "assessment_wait_days": ("days", "pooled", "Mean days from notification to the start of the assessment (triage included)."),
    "notifications": ("notifications", "sum", "Detections by universal services (new cases and reviews of open cases)."),
    "assessments": ("assessments", "sum", "Child-professional assessments (s. 50) completed."),
    "step_ups": ("moves", "sum", "Moves of a child already on a measure to a higher step."),
    "step_downs": ("moves", "sum", "Moves of a child on a measure to a lower step, including ending the measure."),
    "breakdowns": ("breakdowns", "sum", "Placement breakdowns."),
    "returns_home": ("moves", "sum", "Moves from a placement step to a non-placement step."),
    "caseworkers": ("FTE", "mean", "Caseworker team size."),
}
STEP_KPIS = {
    "cost_dkk__": ("DKK", "sum", "Cost of the step (per-child and fixed)."),
    "child_days__": ("child-days", "sum", "Days children spent on the step."),
}
def _period_values(r: RepResult, sl: slice, years: float, t_mid_years: np.ndarray) -> dict[str, float]:
    pl = np.array(r.placement, dtype=bool)
    days = years * DAYS_PER_YEAR
    ctr = r.counters[:, sl].sum(axis=1)
    child = r.child_days[:, sl]
    adult = r.adult_days[:, sl]
    cost_step = r.cost_step[:, sl]
    cost_fixed = r.cost_fixed[:, sl]
    monthly_total = (cost_step.sum(axis=0) + cost_fixed.sum(axis=0) + r.cost_caseworkers[sl]
                     + r.cost_assessments[sl] + r.cost_investment[sl])
    total = float(monthly_total.sum())
    disc = float((monthly_total * (1 + r.discount_rate) ** (-t_mid_years)).sum())
    pop_0_22 = r.children_0_17 + r.young_18_22
    person_days = float(r.population_factor[sl].sum()) * DAYS_PER_MONTH   # per head at the horizon start
    open_cases = float(r.case_days[sl].sum() / days)
    team = float(r.team[sl].mean())
    placements_cost = float(cost_step[pl].sum() + cost_fixed[pl].sum())
    due = ctr[C["followups_due"]]
    out = {
        "placed_per_1000_0_17": float(child[pl].sum() / person_days / r.children_0_17 * 1000),
        "placed_per_1000_0_22": float((child[pl].sum() + adult[pl].sum()) / person_days / pop_0_22 * 1000),
        "new_placements": float(ctr[C["new_placements"]]),
        "cost_total_dkk": total,
        "cost_total_discounted_dkk": disc,
        "cost_per_child_0_22_dkk": total / pop_0_22 / (person_days / DAYS_PER_YEAR),
        "cost_placements_dkk": placements_cost,
        "placement_cost_share": placements_cost / total if total > 0 else np.nan,
        "cost_caseworkers_dkk": float(r.cost_caseworkers[sl].sum()),
        "cost_investment_dkk": float(r.cost_investment[sl].sum()),
        "open_cases": open_cases,
        "cases_per_caseworker": open_cases / team if team > 0 else np.nan,
        "followup_on_time_share": float(ctr[C["followups_on_time"]] / due) if due > 0 else np.nan,
        "followup_slip_days": float(ctr[C["followup_slip_sum"]] / due) if due > 0 else np.nan,
        "followup_work_share": float(ctr[C["followup_share_sum"]] / ctr[C["followup_share_n"]]) if ctr[C["followup_share_n"]] > 0 else np.nan,
        "assessment_wait_days": float(ctr[C["assessment_wait_sum"]] / ctr[C["assessment_wait_n"]]) if ctr[C["assessment_wait_n"]] > 0 else np.nan,
        "notifications": float(ctr[C["notifications"]]),
        "assessments": float(ctr[C["assessments"]]),
        "step_ups": float(ctr[C["step_ups"]]),
        "step_downs": float(ctr[C["step_downs"]]),
        "breakdowns": float(ctr[C["breakdowns"]]),
        "returns_home": float(ctr[C["returns_home"]]),
        "caseworkers": team,
    }
    for i, name in enumerate(r.step_names):
        out[f"cost_dkk__{name}"] = float(cost_step[i].sum() + cost_fixed[i].sum())
        out[f"child_days__{name}"] = float(child[i].sum() + adult[i].sum())
    return out


def replication_kpis(r: RepResult) -> pd.DataFrame:
    """Tidy KPIs: one row per (period, kpi); period 'year_k' for each horizon year and 'horizon'."""
    h0 = int(np.argmax(r.month_index >= 0)) if (r.month_index >= 0).any() else len(r.month_index)
    H = r.horizon_months
    t_mid = (np.arange(H) + 0.5) / MONTHS_PER_YEAR
    rows = []
    n_years = H // MONTHS_PER_YEAR
    for y in range(n_years):
        sl = slice(h0 + 12 * y, h0 + 12 * (y + 1))
        vals = _period_values(r, sl, 1.0, t_mid[12 * y:12 * (y + 1)])
        rows += [("year", y + 1, k, v) for k, v in vals.items()]
    vals = _period_values(r, slice(h0, h0 + H), H / MONTHS_PER_YEAR, t_mid)
    for k, v in vals.items():
        rows.append(("horizon", 0, k, v))      # stocks come out as means per year, flows as totals
    df = pd.DataFrame(rows, columns=["period", "year", "kpi", "value"])
    return df


def replication_timeseries(r: RepResult) -> pd.DataFrame:
    """Tidy monthly series: (month, step, metric, value); step 'all' for team-level metrics."""
    months = r.month_index
    n_steps, M = r.occupancy_end.shape
    frames = []
    steps = np.repeat(np.array(r.step_names, dtype=object), M)
    mon = np.tile(months, n_steps)
    for metric, arr in (("occupancy", r.occupancy_end), ("child_days", r.child_days + r.adult_days),
                        ("cost_dkk", r.cost_step + r.cost_fixed), ("entries", r.step_entries),
                        ("exits", r.step_exits)):
        frames.append(pd.DataFrame({"month": mon, "step": steps, "metric": metric, "value": arr.ravel()}))
    team_metrics = {
        "open_cases": r.open_cases_end,
        "cases_per_caseworker": np.divide(r.open_cases_end, r.team, out=np.full(M, np.nan), where=r.team > 0),
        "caseworkers": r.team,
        "tasks_waiting": r.queue_end,
        "children_waiting_for_step": r.waiting_end,
        "cost_caseworkers_dkk": r.cost_caseworkers,
        "cost_assessments_dkk": r.cost_assessments,
        "cost_investment_dkk": r.cost_investment,
        "followups_due": r.counters[C["followups_due"]],
        "followups_on_time": r.counters[C["followups_on_time"]],
        "new_placements": r.counters[C["new_placements"]],
        "breakdowns": r.counters[C["breakdowns"]],
        "notifications": r.counters[C["notifications"]],
        "assessments": r.counters[C["assessments"]],
    }
    for metric, arr in team_metrics.items():
        frames.append(pd.DataFrame({"month": months, "step": "all", "metric": metric, "value": np.asarray(arr, dtype=float)}))
    return pd.concat(frames, ignore_index=True)


LEDGER_COLUMNS = ["child_id", "onset_day", "age_at_onset", "onset_level", "first_measure_day", "first_measure_level", "served_mask",
                  "placed_in_horizon", "cost_horizon_dkk", "exit_day", "exit_reason", "level_end", "step_end"]


def replication_children(r: RepResult, levels: list) -> pd.DataFrame:
    df = pd.DataFrame(r.children, columns=LEDGER_COLUMNS)
    for i, name in enumerate(r.step_names):
        df[f"served__{name}"] = (df["served_mask"].to_numpy() >> i) & 1 == 1
    df["first_measure_level"] = [levels[i] if np.isfinite(t) else None
                                 for i, t in zip(df["first_measure_level"], df["first_measure_day"])]
    df["onset_level"] = [levels[i] for i in df["onset_level"]]
    df["level_end"] = [levels[i] for i in df["level_end"]]
    df["step_end"] = [r.step_names[i] for i in df["step_end"]]
    return df.drop(columns=["served_mask"])


# ------------------------------------------------------------------ summaries

def _t_interval(x: np.ndarray) -> tuple[float, float, float, float]:
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    m = float(x.mean())
    if n < 2:
        return m, np.nan, np.nan, n
    from scipy import stats      # imported here: scipy.stats costs ~57 MB in every worker otherwise

    half = float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return m, m - half, m + half, n


def summarise(kpis: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % t-interval over replications for every scenario, period, year and KPI."""
    rows = []
    for (sc, period, year, kpi), g in kpis.groupby(["scenario", "period", "year", "kpi"], sort=False):
        m, lo, hi, n = _t_interval(g["value"].to_numpy(dtype=float))
        if kpi in KPI_DEFS and KPI_DEFS[kpi][0] == "share" and n > 1:
            lo, hi = max(lo, 0.0), min(hi, 1.0)        # a share's mean lies in [0, 1]
        rows.append((sc, period, year, kpi, m, lo, hi, n))
    return pd.DataFrame(rows, columns=["scenario", "period", "year", "kpi", "mean", "ci_low", "ci_high", "n"])


def paired_differences(kpis: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Scenario minus reference, paired by replication (common random numbers), with 95 % intervals.

    ``unpaired_half_width`` is the half-width a Welch interval would have without pairing; the
    ratio shows what common random numbers buy.
    """
    ref = kpis[kpis["scenario"] == reference].set_index(["replication", "period", "year", "kpi"])["value"]
    rows = []
    for sc, g in kpis[kpis["scenario"] != reference].groupby("scenario", sort=False):
        arm = g.set_index(["replication", "period", "year", "kpi"])["value"]
        joined = pd.DataFrame({"arm": arm, "ref": ref}).dropna(how="all").reset_index()
        joined = joined[joined["replication"].isin(g["replication"].unique())]
        for (period, year, kpi), jj in joined.groupby(["period", "year", "kpi"], sort=False):
            a = jj["arm"].to_numpy(dtype=float)
            b = jj["ref"].to_numpy(dtype=float)
            d = a - b
            m, lo, hi, n = _t_interval(d)
            ref_mean = float(np.nanmean(b)) if len(b) else np.nan
            # Welch half-width for the same difference, ignoring the pairing
            a_, b_ = a[~np.isnan(a)], b[~np.isnan(b)]
            if len(a_) > 1 and len(b_) > 1:
                va, vb = a_.var(ddof=1) / len(a_), b_.var(ddof=1) / len(b_)
                se = np.sqrt(va + vb)
                df_w = (va + vb) ** 2 / ((va ** 2 / (len(a_) - 1)) + (vb ** 2 / (len(b_) - 1))) if (va + vb) > 0 else 1.0
                from scipy import stats
                unpaired = float(stats.t.ppf(0.975, df_w) * se) if se > 0 else 0.0
            else:
                unpaired = np.nan
            rows.append((sc, reference, period, year, kpi, m, lo, hi, n, ref_mean,
                         m / ref_mean if ref_mean not in (0, np.nan) and np.isfinite(ref_mean) and ref_mean != 0 else np.nan,
                         unpaired))
    return pd.DataFrame(rows, columns=["scenario", "reference", "period", "year", "kpi", "diff_mean", "diff_ci_low",
                                       "diff_ci_high", "n", "reference_mean", "relative_diff", "unpaired_half_width"])
