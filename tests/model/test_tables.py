"""The tidy tables of one replication (sim.metrics.kpis), built column-wise for speed, are exactly the tables the
plain construction gives - row by row, frame by frame - in values, order and types: for the baseline, a scenario
that changes the staircase, a short run, a run from today's caseload, and a ledger with no children."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sim.model import C
from sim.metrics.kpis import LEDGER_COLUMNS, replication_children, replication_timeseries
from tests.conftest import one_model


def plain_timeseries(r) -> pd.DataFrame:
    """One small frame per metric, concatenated (the construction before 2026-11-30)."""
    months = r.month_index
    n_steps, M = r.occupancy_end.shape
    frames = []
    steps = np.repeat(np.array(r.step_names, dtype=object), M)
    mon = np.tile(months, n_steps)
    for metric, arr in (("occupancy", r.occupancy_end), ("child_days", r.child_days + r.adult_days),
                        ("cost_dkk", r.cost_step + r.cost_fixed), ("fixed_cost_dkk", r.cost_fixed),
                        ("entries", r.step_entries), ("exits", r.step_exits)):
        frames.append(pd.DataFrame({"month": mon, "step": steps, "metric": metric, "value": arr.ravel()}))
    team = {"open_cases": r.open_cases_end,
            "cases_per_caseworker": np.divide(r.open_cases_end, r.team, out=np.full(M, np.nan), where=r.team > 0),
            "caseworkers": r.team, "tasks_waiting": r.queue_end, "children_waiting_for_step": r.waiting_end,
            "cost_caseworkers_dkk": r.cost_caseworkers, "cost_assessments_dkk": r.cost_assessments,
            "cost_investment_dkk": r.cost_investment}
    for name in ("followups_due", "followups_on_time", "new_placements", "breakdowns", "notifications",
                 "assessments"):
        team[name] = r.counters[C[name]]
    for metric, arr in team.items():
        frames.append(pd.DataFrame({"month": months, "step": "all", "metric": metric,
                                    "value": np.asarray(arr, dtype=float)}))
    return pd.concat(frames, ignore_index=True)


def plain_children(r, levels) -> pd.DataFrame:
    """The ledger from its rows, names mapped one by one."""
    df = pd.DataFrame(r.children, columns=LEDGER_COLUMNS)
    for i, name in enumerate(r.step_names):
        df[f"served__{name}"] = (df["served_mask"].to_numpy() >> i) & 1 == 1
    df["first_measure_level"] = [levels[i] if np.isfinite(t) else None
                                 for i, t in zip(df["first_measure_level"], df["first_measure_day"])]
    df["onset_level"] = [levels[i] for i in df["onset_level"]]
    df["level_end"] = [levels[i] for i in df["level_end"]]
    df["step_end"] = [r.step_names[i] for i in df["step_end"]]
    return df.drop(columns=["served_mask"])


CASES = {
    "baseline": ["run.warmup_years=2", "run.horizon_years=2"],
    "full_shift": ["scenario=full_shift", "run.warmup_years=2", "run.horizon_years=1", "run.seed=7"],
    "short": ["run.warmup_years=1", "run.horizon_years=1", "municipality=mariagerfjord"],
    "caseload": ["caseload=data/caseload_example.csv", "run.horizon_years=1"],
}


@pytest.fixture(scope="module", params=list(CASES))
def result(request):
    m, r = one_model(CASES[request.param])
    return r, m.practice.levels


def test_the_monthly_series_are_the_plain_construction(result):
    r, _ = result
    pd.testing.assert_frame_equal(replication_timeseries(r), plain_timeseries(r), check_exact=True)


def test_the_ledger_is_the_plain_construction(result):
    r, levels = result
    got = replication_children(r, levels)
    assert len(got) > 100
    assert got["first_measure_level"].isna().any() and got["first_measure_level"].notna().any()
    pd.testing.assert_frame_equal(got, plain_children(r, levels), check_exact=True)


def test_an_empty_ledger_has_the_plain_columns_and_types(result):
    r, levels = result
    empty = dataclasses.replace(r, children=[])
    pd.testing.assert_frame_equal(replication_children(empty, levels), plain_children(empty, levels),
                                  check_exact=True)
