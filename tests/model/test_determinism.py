"""Reproducibility: one seed -> identical results, whatever the number of workers; CRN across arms."""
from __future__ import annotations

import pandas as pd

from tests.conftest import run_inline


def test_same_seed_identical_tables():
    a = run_inline([], replications=2)
    b = run_inline([], replications=2)
    pd.testing.assert_frame_equal(a.kpis, b.kpis)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.children, b.children)


def test_different_seed_different_results():
    a = run_inline([], replications=1)
    b = run_inline(["run.seed=7"], replications=1)
    assert not a.kpis["value"].equals(b.kpis["value"])


def test_one_worker_equals_two_workers():
    one = run_inline(["run.workers=1"], replications=3, compare="[earlier_detection]")
    two = run_inline(["run.workers=2"], replications=3, compare="[earlier_detection]")
    pd.testing.assert_frame_equal(one.kpis, two.kpis)
    pd.testing.assert_frame_equal(one.timeseries, two.timeseries)
    pd.testing.assert_frame_equal(one.comparison, two.comparison)


def test_arms_share_the_warmup_and_the_children():
    """Common random numbers: the warm-up is identical in every arm; onsets are identical throughout."""
    res = run_inline([], replications=2, compare="[earlier_detection,kinship_first]")
    ts = res.timeseries
    warm = ts[ts.month < 0]
    base = warm[warm.scenario == "baseline"].drop(columns="scenario").reset_index(drop=True)
    for arm in ("earlier_detection", "kinship_first"):
        other = warm[warm.scenario == arm].drop(columns="scenario").reset_index(drop=True)
        pd.testing.assert_frame_equal(base, other)
    # the same children develop a need in every arm (onset days and ages per child id)
    ch = res.children
    cols = ["replication", "child_id", "onset_day", "age_at_onset", "onset_level"]
    b = ch[ch.scenario == "baseline"][cols].set_index(["replication", "child_id"])
    e = ch[ch.scenario == "earlier_detection"][cols].set_index(["replication", "child_id"])
    common = b.index.intersection(e.index)
    assert len(common) > 0.9 * min(len(b), len(e))
    pd.testing.assert_frame_equal(b.loc[common], e.loc[common])
