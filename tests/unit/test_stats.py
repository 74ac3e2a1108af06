"""The interval statistics over replications (sim.metrics.stats) against an independent computation with pandas'
own group aggregates and SciPy: the same groups in the same order, the same means, intervals and paired
differences, every KPI's lower end cut at 0 and the shares' upper end at 1; replications with a missing value and a reference without a value."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sim.metrics.stats import paired_differences, summarise

KEYS = ["period", "year", "kpi"]


@pytest.fixture(scope="module")
def kpis() -> pd.DataFrame:
    """Three arms x 6 replications x 2 periods x 4 KPIs, one of them a share, with a missing value and a KPI the
    reference lacks in one replication; rows deliberately not sorted."""
    rng = np.random.default_rng(5)
    rows = []
    for arm, shift in (("baseline", 0.0), ("b_arm", 1.5), ("a_arm", -0.7)):
        for rep in rng.permutation(6):
            for period, year in (("horizon", 0), ("year", 1)):
                for kpi, scale in (("cost_total_dkk", 1e6), ("followup_on_time_share", 0.02),
                                   ("open_cases", 10.0), ("new_placements", 3.0), ("breakdowns", 3.0)):
                    base = {"followup_on_time_share": 0.99, "breakdowns": 1.0}.get(kpi, 100.0)
                    v = base + shift * scale * 0.1 + rng.normal(0, scale) * (0.1 if kpi.endswith("share") else 1)
                    rows.append((arm, int(rep), period, year, kpi, v))
    df = pd.DataFrame(rows, columns=["scenario", "replication", "period", "year", "kpi", "value"])
    df.loc[(df.scenario == "a_arm") & (df.replication == 2) & (df.kpi == "open_cases"), "value"] = np.nan
    return df.drop(df[(df.scenario == "baseline") & (df.replication == 4) & (df.kpi == "new_placements")].index)


def _interval(x: pd.Series) -> tuple[float, float, float, int]:
    x = x.dropna()
    n = len(x)
    half = sps.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)
    return x.mean(), x.mean() - half, x.mean() + half, n


def test_summary_matches_pandas_and_scipy(kpis):
    got = summarise(kpis)
    expect = kpis.groupby(["scenario", *KEYS], sort=False)["value"].apply(_interval)
    assert list(zip(got.scenario, got.period, got.year, got.kpi)) == list(expect.index)     # order of appearance
    cut = 0
    for row, (m, lo, hi, n) in zip(got.itertuples(), expect):
        assert row.n == n and row.mean == pytest.approx(m, rel=1e-12)
        # no KPI's mean is negative (counts, amounts, shares: NON_NEGATIVE): the lower end is cut at 0
        assert row.ci_low == pytest.approx(max(lo, 0.0), rel=1e-12) and row.ci_low >= 0
        cut += lo < 0
        if row.kpi.endswith("share"):
            assert row.ci_high == pytest.approx(min(hi, 1.0), rel=1e-12) and row.ci_high <= 1.0
        else:
            assert row.ci_high == pytest.approx(hi, rel=1e-12)
    assert cut > 0                  # the fixture has intervals that reach below 0 (breakdowns near 1 +- 3)


def test_paired_differences_match_a_merge_by_replication(kpis):
    got = paired_differences(kpis, "baseline")
    assert list(got.scenario.unique()) == ["b_arm", "a_arm"]          # arms in order of appearance
    ref = kpis[kpis.scenario == "baseline"]
    for arm in ("b_arm", "a_arm"):
        j = kpis[kpis.scenario == arm].merge(ref, on=["replication", *KEYS], how="left", suffixes=("", "_ref"))
        for row in got[got.scenario == arm].itertuples():
            g = j[(j.period == row.period) & (j.year == row.year) & (j.kpi == row.kpi)]
            m, lo, hi, n = _interval(g["value"] - g["value_ref"])
            assert row.n == n and (row.diff_mean, row.diff_ci_low, row.diff_ci_high) == pytest.approx((m, lo, hi),
                                                                                                         rel=1e-12)
            assert row.reference_mean == pytest.approx(g["value_ref"].mean(), rel=1e-12)
            a, b = g["value"].dropna(), g["value_ref"].dropna()
            welch = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
            assert row.unpaired_half_width == pytest.approx((welch.high - welch.low) / 2, rel=1e-9)
    # the pairing is by replication: a missing reference value leaves 5 pairs, a missing arm value too
    assert set(got[got.kpi == "new_placements"].n) == {5}
    assert set(got[(got.kpi == "open_cases") & (got.scenario == "a_arm")].n) == {5}


def test_no_arms_or_no_rows_give_empty_tables_with_their_columns(kpis):
    assert paired_differences(kpis[kpis.scenario == "baseline"], "baseline").empty
    assert list(summarise(kpis.iloc[:0]).columns) == ["scenario", "period", "year", "kpi", "mean", "ci_low",
                                                      "ci_high", "n"]
    assert "unpaired_half_width" in paired_differences(kpis.iloc[:0], "baseline").columns


def test_rows_without_a_key_are_left_out_as_groupby_leaves_them_out(kpis):
    holes = kpis.astype({"year": float}).copy()
    holes.loc[holes.index[:7], "year"] = np.nan
    got = summarise(holes)
    expect = holes.groupby(["scenario", *KEYS], sort=False)["value"].apply(_interval)
    assert list(zip(got.scenario, got.period, got.year, got.kpi)) == list(expect.index)
    assert got["n"].tolist() == [n for _, _, _, n in expect]
    assert got["n"].sum() < summarise(kpis)["n"].sum()                 # the rows without a year are not counted
