"""Regenerate tests/regression/data/backtest_kpis.csv: `.venv/bin/python -m tests.regression.make_backtest`.

Only after an intended change of the model's behaviour; say in the commit message why the
numbers moved.
"""
from __future__ import annotations

from pathlib import Path

from tests.conftest import run_inline

BACKTEST = Path(__file__).parent / "data" / "backtest_kpis.csv"
OVERRIDES = ["run.seed=12345"]
COMPARE = "[earlier_detection,intensive_home_based]"


def backtest_kpis():
    return run_inline(OVERRIDES, replications=2, compare=COMPARE).kpis


if __name__ == "__main__":
    backtest_kpis().to_csv(BACKTEST, index=False, float_format="%.17g")
    print(f"wrote {BACKTEST}")
