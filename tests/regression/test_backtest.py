"""Back-test: a small fixed run reproduces the stored results exactly (regression guard).

If the model was changed on purpose, regenerate with `python -m tests.regression.make_backtest` and say why.
"""
from __future__ import annotations

import pandas as pd

from .make_backtest import BACKTEST, backtest_kpis


def test_results_match_the_stored_backtest():
    expected = pd.read_csv(BACKTEST)
    got = backtest_kpis()
    assert list(got.columns) == list(expected.columns)
    assert len(got) == len(expected)
    for col in ("scenario", "period", "kpi"):
        assert (got[col].astype(str).to_numpy() == expected[col].astype(str).to_numpy()).all()
    pd.testing.assert_series_equal(got["value"].reset_index(drop=True), expected["value"].astype(float),
                                   check_exact=False, rtol=1e-9, atol=1e-6, check_names=False)
