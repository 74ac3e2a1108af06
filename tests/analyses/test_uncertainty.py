"""Joint uncertainty (python -m sim --uncertainty): the design is a Latin hypercube from its own stream,
each parameter set is run exactly as an ordinary run with those values, the run at the defaults is the
ordinary comparison, the partial rank correlations find known drivers, the payback probabilities count
the sets, and bad settings are refused before anything runs."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import ConfigError
from sim.store import query
from sim.analyses.uncertainty import AT_DEFAULTS, UncertaintyResult, latin_hypercube, prcc, uncertainty
from tests.conftest import QUICK, assert_cli_input_error, run_inline

RES_COST = "staircase.steps.residential.cost_per_year_dkk"
CW_COST = "costs.caseworker_cost_per_year_dkk"
PARAMS = ("uncertainty.parameters=[{key:%s,low:1000000,high:1500000},{key:%s,low:550000,high:650000}]"
          % (RES_COST, CW_COST))
SETS = 6
FAST = QUICK + ["uncertainty.replications=2", f"uncertainty.samples={SETS}", "compare=[kinship_first]", PARAMS]


@pytest.fixture(scope="module")
def u():
    return uncertainty(FAST, progress=False, echo=lambda line: None)


def test_the_design_is_a_latin_hypercube_from_its_own_stream():
    n, k = 20, 3
    a = latin_hypercube(n, k, seed=7)
    assert a.shape == (n, k) and ((a >= 0) & (a < 1)).all()
    for j in range(k):                                # every one of the n slices of every coordinate used once
        assert sorted((a[:, j] * n).astype(int)) == list(range(n))
    assert np.array_equal(a, latin_hypercube(n, k, seed=7))
    assert not np.array_equal(a, latin_hypercube(n, k, seed=8))


def test_the_drawn_values_cover_each_range_one_slice_each(u):
    s = u.samples
    drawn = s[s["sample"] != AT_DEFAULTS]
    assert list(drawn["sample"]) == list(range(1, SETS + 1))
    for key, lo, hi in ((RES_COST, 1_000_000, 1_500_000), (CW_COST, 550_000, 650_000)):
        slices = ((drawn[key] - lo) / (hi - lo) * SETS).astype(int)
        assert sorted(slices) == list(range(SETS)), key
    at_defaults = s[s["sample"] == AT_DEFAULTS].iloc[0]
    assert at_defaults[RES_COST] == 1_200_000 and at_defaults[CW_COST] == 600_000


def test_each_set_is_run_as_an_ordinary_run_with_those_values(u):
    def diff(sample):
        return u.results.set_index("sample").loc[sample, "diff_mean"]

    plain = run_inline([], replications=2, compare="[kinship_first]").comparison
    assert diff(AT_DEFAULTS) == plain[(plain.period == "horizon") & (plain.kpi == "cost_total_dkk")].diff_mean.iloc[0]
    row = u.samples.set_index("sample").loc[3]
    c = run_inline([f"{RES_COST}={float(row[RES_COST])!r}", f"{CW_COST}={float(row[CW_COST])!r}"], replications=2,
                   compare="[kinship_first]").comparison
    assert diff(3) == c[(c.period == "horizon") & (c.kpi == "cost_total_dkk")].diff_mean.iloc[0]


def test_the_driver_is_found_and_a_cost_both_arms_pay_is_not(u):
    # kinship_first moves children out of residential care: with everything else the same, the difference
    # falls exactly with the residential price, and the team's price cancels between the arms
    p = u.prcc().set_index("parameter")
    assert p.loc[RES_COST, "prcc"] == pytest.approx(-1.0)
    assert np.isnan(p.loc[CW_COST, "prcc"])           # fully explained by the other parameter: 0/0, not a number
    d = u.results[u.results["sample"] != AT_DEFAULTS].merge(u.samples, on="sample")
    assert d.sort_values(RES_COST)["diff_mean"].is_monotonic_decreasing
    s = u.summary().iloc[0]
    assert s.share_below_0 == 1.0 and s.sets == SETS and s["max"] < 0
    assert s.p05 <= s["median"] <= s.p95
    last = u.payback_probability().sort_values("year").iloc[-1]
    assert last.paid_back_share == 1.0


def test_prcc_recovers_known_monotone_relations():
    rng = np.random.default_rng(1)
    X = rng.random((80, 3))
    y = np.exp(3 * X[:, 0]) - X[:, 1] + 0.05 * rng.standard_normal(80)       # x3 does nothing
    r, p = prcc(X, y)
    assert r[0] > 0.95 and p[0] < 1e-6
    assert r[1] < -0.5 and p[1] < 1e-3
    assert abs(r[2]) < 0.3 and p[2] > 0.01
    r, p = prcc(X[:4], y[:4])                           # fewer sets than parameters + 2: no estimate
    assert np.isnan(r).all() and np.isnan(p).all()
    r, _ = prcc(X, np.ones(80))                         # a difference that does not vary
    assert np.isnan(r).all()


def test_payback_probability_is_the_share_of_sets_paid_back_by_each_year():
    pb = pd.DataFrame([(0, "a", 1, 5.0), (0, "a", 2, -1.0),
                       (1, "a", 1, -1.0), (1, "a", 2, -2.0),       # paid back in year 1
                       (2, "a", 1, 1.0), (2, "a", 2, -1.0),        # in year 2
                       (3, "a", 1, 2.0), (3, "a", 2, 1.0),         # not within the horizon
                       (4, "a", 1, 3.0), (4, "a", 2, -4.0)],
                      columns=["sample", "scenario", "year", "cum_cost_diff_dkk"])
    res = pd.DataFrame([(s, "a", d, d - 1, d + 1, 5) for s, d in [(0, -1.0), (1, -2.0), (2, -1.0), (3, 1.0), (4, -4.0)]],
                       columns=["sample", "scenario", "diff_mean", "diff_ci_low", "diff_ci_high", "n"])
    samples = pd.DataFrame({"sample": range(5), "x": [1.0, 0.1, 0.3, 0.7, 0.9]})
    u = UncertaintyResult([], "m", "baseline", "cost_total_dkk", 5, ["x"], samples, res, pb)
    pp = u.payback_probability().set_index("year")
    assert pp.loc[1, "paid_back_share"] == 0.25 and pp.loc[2, "paid_back_share"] == 0.75
    assert pp.loc[1, "cum_cost_diff_at_defaults"] == 5.0            # the run at the defaults is not a drawn set
    s = u.summary().iloc[0]
    assert s.share_below_0 == 0.75 and s.at_defaults == -1.0 and s["mean"] == -1.5 and s.sets == 4


def test_the_sensitivity_ranges_are_used_when_none_are_given():
    from sim.analyses.uncertainty import _jobs

    _, keys, jobs = _jobs(QUICK + ["compare=[kinship_first]", "uncertainty.samples=3",
                                   "sensitivity.parameters=[{key:need.onset_scale,relative:true,low:0.9,high:1.1}]"])
    assert keys == ["need.onset_scale"] and len(jobs) == 1 + 3
    ref = jobs[0][1]["need.onset_scale"]
    drawn = sorted(j[1]["need.onset_scale"] / ref for j in jobs[1:])
    assert all(0.9 <= x <= 1.1 for x in drawn) and drawn[0] < 0.9 + 0.2 / 3 and drawn[-1] >= 1.1 - 0.2 / 3
    assert jobs[1][2].arms["baseline"].need.onset_scale == jobs[1][1]["need.onset_scale"]


def test_a_scenario_that_sets_the_parameter_itself_is_scaled_by_the_same_factor():
    from sim.analyses.uncertainty import _jobs

    _, _, jobs = _jobs(QUICK + ["compare=[frequent_followup]", "uncertainty.samples=2",
                                "uncertainty.parameters=[{key:casework.followup_interval_days,low:120,high:240}]"])
    for _, values, p in jobs[1:]:
        v = values["casework.followup_interval_days"]
        assert p.arms["baseline"].casework.followup_interval_days == v == p.warmup.casework.followup_interval_days
        assert p.arms["frequent_followup"].casework.followup_interval_days == pytest.approx(91 * v / 182, rel=1e-5)


@pytest.mark.parametrize("override, message", [
    ("uncertainty.samples=1", "uncertainty.samples"),
    ("uncertainty.kpi=savings", "uncertainty.kpi = 'savings': unknown KPI"),
    ("uncertainty.parameters=[{key:need.onset_scal,low:0.9,high:1.1}]", "uncertainty.parameters[0].key = 'need.onset_scal'"),
    ("uncertainty.parameters=[{key:need.onset_scale,low:1.1,high:0.9}]", "low < high"),
    ("uncertainty.parameters=[{key:casework.overload.min_work_share,low:0.3,high:2.0}]", "not allowed"),
    ("compare=[]", "compare = []"),
])
def test_bad_uncertainty_settings_are_one_line_errors_and_write_nothing(tmp_path, override, message):
    assert_cli_input_error(tmp_path, ["--uncertainty", *FAST, override], message)


def test_uncertainty_cannot_be_combined_with_a_sweep(tmp_path):
    assert_cli_input_error(tmp_path, ["--uncertainty", "-m", *FAST], "cannot be combined")
    with pytest.raises(ConfigError, match="compare = "):
        uncertainty(QUICK + ["compare=[]"], progress=False, echo=lambda line: None)


@pytest.mark.slow
def test_cli_writes_the_analysis_and_registers_it(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", "--uncertainty", *FAST, f"output.dir={out}",
                           "output.write=true", "output.figures=true"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "kinship_first" in proc.stdout and "Probability of having paid back" in proc.stdout
    row = query("SELECT * FROM uncertainty_analyses", out).iloc[0]
    assert row.samples == SETS and row.replications == 2 and row.parameters == f"{RES_COST},{CW_COST}"
    d = out / "uncertainty" / row.uncertainty_id
    for f in ("samples.csv", "results.csv", "payback.csv", "summary.csv", "payback_probability.csv", "prcc.csv",
              "summary.txt", "uncertainty.png", "prcc.png"):
        assert (d / f).is_file(), f
    assert len(pd.read_csv(d / "results.csv")) == SETS + 1
    assert not [p for p in (out / "uncertainty").iterdir() if p.name.startswith(".staging")]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 30), k=st.integers(1, 4))
def test_prcc_depends_on_ranks_only(seed, n, k):
    """A rank statistic: a strictly increasing transform of y or of a parameter leaves it unchanged,
    reversing y flips its sign, and it lies in [-1, 1]."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, k))
    y = X @ rng.normal(size=k) + rng.normal(size=n)
    r, p = prcc(X, y)                                  # n >= k + 2: at least one degree of freedom
    ok = np.isfinite(r)
    assert (np.abs(r[ok]) <= 1).all() and ((p[ok] >= 0) & (p[ok] <= 1)).all()
    r_y, _ = prcc(X, np.exp(3 * y))
    X2 = X.copy()
    X2[:, 0] = X2[:, 0] ** 3
    r_x, _ = prcc(X2, y)
    r_neg, _ = prcc(X, -y)
    np.testing.assert_allclose(r_y, r, atol=1e-9)
    np.testing.assert_allclose(r_x, r, atol=1e-9)
    np.testing.assert_allclose(r_neg, -r, atol=1e-9)


def test_the_analysis_is_the_same_with_one_or_two_workers(u):
    two = uncertainty(FAST + ["run.workers=2"], progress=False, echo=lambda line: None)
    pd.testing.assert_frame_equal(two.results, u.results)          # FAST runs with run.workers=1
    pd.testing.assert_frame_equal(two.payback, u.payback)
    pd.testing.assert_frame_equal(two.samples, u.samples)


def test_too_few_sets_for_correlations_draw_the_reason_not_an_empty_grid(u):
    """Held-out audit 9: prcc.png was an empty grid with too few parameter sets, its title over the colour bar."""
    import copy

    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from sim.analyses.uncertainty import plot_prcc
    few = copy.copy(u)
    few.prcc = lambda: u.prcc().assign(prcc=np.nan, p_value=np.nan)      # as with fewer sets than parameters + 1
    fig = plot_prcc(few)
    words = " ".join(" ".join(t.get_text().split()) for t in fig.findobj(Text))
    plt.close(fig)
    assert "No partial rank correlations: they need more parameter sets than parameters + 1" in words
    fig = plot_prcc(u)                                                     # enough sets: the heatmap
    assert fig.axes and fig.axes[0].collections
    plt.close(fig)
