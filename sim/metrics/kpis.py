"""KPIs of one replication and its tidy tables (monthly series, the per-child ledger)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..common.units import DAYS_PER_MONTH, DAYS_PER_YEAR, MONTHS_PER_YEAR
from ..model import C, RepResult

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
    pop_years = pop_0_22 * person_days / DAYS_PER_YEAR
    spending = _spending(r, sl, pop_years)
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
        "spending_per_child_0_22_dkk": spending / pop_years,
        "placement_spending_share": placements_cost / spending if spending > 0 else np.nan,
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
        "assessment_overdue_share": float(ctr[C["assessments_overdue"]] / ctr[C["assessments"]]) if ctr[C["assessments"]] > 0 else np.nan,
        "caseworker_utilisation": float(ctr[C["busy_days"]] / (r.team[sl].sum() * DAYS_PER_MONTH)) if r.team[sl].sum() > 0 else np.nan,
    }
    for i, name in enumerate(r.step_names):
        out[f"cost_dkk__{name}"] = float(cost_step[i].sum() + cost_fixed[i].sum())
        out[f"child_days__{name}"] = float(child[i].sum() + adult[i].sum())
    out.update(_outcome_values(r, sl, days, person_days))
    return out


def _spending(r: RepResult, sl: slice, pop_years: float) -> float:
    """DKK in the months ``sl`` comparable with the key figure 'spending per 0-22-year-old' [003 Table 1.1]
    (accounts 5.28, 5.25.17 and 5.57.72, operating): the staircase's services - per-child and fixed step
    costs, assessments - and the spending outside the staircase (``pop_years`` population-years of 0-22-year-
    olds x costs.other_spending_per_child_0_22_dkk). Caseworkers' salaries are administration (main account 6)
    and scenario investments are mostly management, training and recruitment, so neither is in it."""
    services = float(r.cost_step[:, sl].sum() + r.cost_fixed[:, sl].sum() + r.cost_assessments[sl].sum())
    return services + r.other_spending_per_child_0_22_dkk * pop_years


def _outcome_values(r: RepResult, sl: slice, days: float, person_days: float) -> dict[str, float]:
    """The outcomes for the children in the months ``sl`` (``days`` long; ``person_days`` per head at the
    horizon start): need-days, weighted and unmet, moves between placements, and new placements and the
    placed stock by age group."""
    ctr = r.counters[:, sl].sum(axis=1)
    need = float(r.need_days[sl].sum())
    weighted = float(r.need_days_weighted[sl].sum())
    unmet = float(r.unmet_need_days[sl].sum())
    new = ctr[C["new_placements"]]
    out = {
        "need_days": need,
        "need_days_weighted": weighted,
        "need_days_weighted_per_1000_0_17": weighted / (person_days / DAYS_PER_YEAR) / r.children_0_17 * 1000,
        "unmet_need_days": unmet,
        "unmet_need_share": unmet / need if need > 0 else np.nan,
        "placement_moves": float(ctr[C["placement_moves"]]),
        "new_placements_mean_age": float(ctr[C["new_placement_age_sum"]] / new) if new > 0 else np.nan,
    }
    for g, name in enumerate(r.age_group_names):
        out[f"new_placements__{name}"] = float(r.new_placements_age[g, sl].sum())
        out[f"placed_stock__{name}"] = float(r.placed_days_age[g, sl].sum() / days)
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
    """Tidy monthly series: (month, step, metric, value); step 'all' for team-level metrics. Built as four
    columns at once (this runs for every arm of every replication): the step metrics, each step's months in
    turn, then the team metrics."""
    months = np.asarray(r.month_index)
    n_steps, M = r.occupancy_end.shape
    step_metrics = (("occupancy", r.occupancy_end), ("child_days", r.child_days + r.adult_days),
                    ("cost_dkk", r.cost_step + r.cost_fixed), ("fixed_cost_dkk", r.cost_fixed),
                    ("entries", r.step_entries), ("exits", r.step_exits))
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
    ns, nt = len(step_metrics), len(team_metrics)
    month = np.concatenate([np.tile(months, n_steps * ns), np.tile(months, nt)])
    step = np.concatenate([np.tile(np.repeat(np.array(r.step_names, dtype=object), M), ns),
                           np.full(nt * M, "all", dtype=object)])
    metric = np.repeat(np.array([m for m, _ in step_metrics] + list(team_metrics), dtype=object),
                       [n_steps * M] * ns + [M] * nt)
    value = np.concatenate([np.asarray(a, dtype=float).ravel() for _, a in step_metrics]
                           + [np.asarray(a, dtype=float) for a in team_metrics.values()])
    return pd.DataFrame({"month": month, "step": step, "metric": metric, "value": value})


LEDGER_COLUMNS = ["child_id", "onset_day", "age_at_onset", "onset_level", "first_measure_day", "first_measure_level", "served_mask",
                  "placed_in_horizon", "cost_horizon_dkk", "exit_day", "exit_reason", "level_end", "step_end",
                  "need_days", "need_days_weighted", "unmet_need_days", "placement_moves"]


def replication_children(r: RepResult, levels: list) -> pd.DataFrame:
    """The per-child ledger of one replication: one row per child present in the horizon (LEDGER_COLUMNS),
    levels and steps by name, and the served bit mask as one bool column served__<step> per step."""
    df = _ledger_frame(r.children)
    if df.empty:
        return _ledger_names(df, r)
    mask = df["served_mask"].to_numpy()
    for i, name in enumerate(r.step_names):
        df[f"served__{name}"] = (mask >> i) & 1 == 1
    lv = np.array(levels, dtype=object)
    first = df["first_measure_level"].to_numpy(dtype=np.intp)
    df["first_measure_level"] = np.where(np.isfinite(df["first_measure_day"].to_numpy()), lv[first], None)
    df["onset_level"] = lv[df["onset_level"].to_numpy(dtype=np.intp)]
    df["level_end"] = lv[df["level_end"].to_numpy(dtype=np.intp)]
    df["step_end"] = np.array(r.step_names, dtype=object)[df["step_end"].to_numpy(dtype=np.intp)]
    return df.drop(columns=["served_mask"])


def _ledger_frame(rows: list) -> pd.DataFrame:
    """The ledger's rows (tuples in LEDGER_COLUMNS' order) as a DataFrame, column by column: each column's
    type as pandas would infer it from the rows (numbers, bools, texts), in a third of the time."""
    if not rows:
        return pd.DataFrame(rows, columns=LEDGER_COLUMNS)
    data = {}
    for name, col in zip(LEDGER_COLUMNS, zip(*rows)):
        a = np.array(col)
        data[name] = np.array(col, dtype=object) if a.dtype.kind in "UO" else a
    return pd.DataFrame(data)


def _ledger_names(df: pd.DataFrame, r: RepResult) -> pd.DataFrame:
    """An empty ledger with its served__<step> columns and its named columns, typed as the rows would give them
    (no rows: the bit columns bool, the named ones as an empty list makes them)."""
    for name in r.step_names:
        df[f"served__{name}"] = np.zeros(0, dtype=bool)
    for col in ("first_measure_level", "onset_level", "level_end", "step_end"):
        df[col] = []
    return df.drop(columns=["served_mask"])
