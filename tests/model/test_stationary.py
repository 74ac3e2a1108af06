"""The initial state and the warm-up check (docs/model.md 4.1-4.2): the stationary stock of the need process,
the initial prevalences scaled to a municipality's own parameters, MSER-5, and the check that flags a baseline
still drifting over the horizon."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp

from sim.config import ConfigError, plan
from sim.metrics.warmup import mser, ols_slopes, warmup_check, warmup_text, warmup_warnings
from sim.model import population
from sim.model.params import compile_config
from sim.runner import execute
from tests.conftest import one_model

RUN = ["run.workers=2", "output.progress=false", "output.write=false", "output.figures=false", "output.report=false",
       "compare=[]"]
SEEDS = [20261122, 7]


def compiled(*overrides):
    """The warm-up's compiled parameters of a configuration."""
    return compile_config(plan(["compare=[]", *overrides]).warmup)


def check(*overrides, replications: int = 10) -> pd.DataFrame:
    """The warm-up check of a run of the reference arm alone, indexed by series."""
    res = execute(plan(RUN + [f"run.replications={replications}", *overrides]), progress=False)
    return warmup_check(res).set_index("series")


# --------------------------------------------------------------------------- the stationary need process

def one_level(onset: float, recovery: float) -> dict:
    """A need process with one level, entered at ``onset`` per day and left at ``recovery`` per day."""
    return {"onset_rate_per_day": [onset], "onset_level_probs_cum": [1.0], "escalation_rate_per_day": [0.0, 0.0],
            "recovery_rate_per_day": [0.0, recovery], "age_multipliers_escalation": [1.0],
            "age_multipliers_recovery": [1.0]}


@pytest.mark.parametrize("adult", [3000.0, 6574.5])
def test_stationary_stock_of_one_level_is_the_analytic_one(adult):
    # m' = lam - mu m, m(0) = 0: the stock aged under A is lam / mu (A - (1 - exp(-mu A)) / mu)
    lam, mu = 0.002, 0.7 / 365.25
    stock = population.stationary_stock(one_level(lam, mu), [(0.0, 8401.0)], adult)
    expected = lam / mu * (adult - (1 - math.exp(-mu * adult)) / mu)
    assert stock[0] == 0
    assert stock[1] == pytest.approx(expected, rel=1e-9)


def test_stationary_stock_solves_the_age_structured_balance():
    """The default need process against a numerical solution of dm/da = onset(a) + Q(a)' m(a), group by group."""
    P = compiled()
    rates = population.need_process(P)
    n = P.n_levels - 1
    p = np.diff([0.0] + P.onset_level_probs_cum)
    m, total = np.zeros(n), np.zeros(n)
    for g, (lo, hi) in enumerate(P.age_groups_days):
        hi = min(hi, P.aftercare_from_age_days)
        esc = np.array(P.escalation_rate_per_day[1:]) * P.age_multipliers_escalation[g]
        rec = np.array(P.recovery_rate_per_day[1:]) * P.age_multipliers_recovery[g]

        def rhs(_, y, esc=esc, rec=rec, g=g):
            mm = y[:n]
            d = P.onset_rate_per_day[g] * p - (esc + rec) * mm
            d[1:] += esc[:-1] * mm[:-1]
            d[:-1] += rec[1:] * mm[1:]
            return np.concatenate([d, mm])

        sol = solve_ivp(rhs, (lo, hi), np.concatenate([m, np.zeros(n)]), rtol=1e-10, atol=1e-12)
        m, total = sol.y[:n, -1], total + sol.y[n:, -1]
    stock = population.stationary_stock(rates, P.age_groups_days, P.aftercare_from_age_days)
    np.testing.assert_allclose(stock[1:], total, rtol=1e-6)


def test_scaled_initial_state_follows_the_level_of_need():
    """Only the level of need differs between Mariagerfjord and the reference process, and the stationary stock
    is linear in the onsets: every level starts at onset_scale / the reference's times the prevalence."""
    conf = compiled("municipality=mariagerfjord", "need.initial_state=configured")
    scaled = compiled("municipality=mariagerfjord", "need.initial_state=scaled")
    need = plan(["compare=[]", "municipality=mariagerfjord"]).warmup.need
    factor = need.onset_scale / need.initial_reference.onset_scale
    assert factor > 1.2                        # Mariagerfjord's level of need is well above the average's
    assert population.initial_means(conf) == [v * conf.children_0_17 for v in conf.initial_prevalence]
    np.testing.assert_allclose(population.initial_means(scaled)[1:],
                               np.array(population.initial_means(conf)[1:]) * factor, rtol=1e-9)


def test_scaled_initial_state_follows_a_changed_rate():
    """A faster recovery from severe need: fewer children start at severe, the mild stock hardly moves."""
    ref = population.initial_means(compiled())
    fast = population.initial_means(compiled("need.recovery_rate_per_year.severe=0.6"))
    assert fast[4] < 0.6 * ref[4]
    assert fast[3] > ref[3]                    # the severe who recover are serious for a while
    assert fast[1] == pytest.approx(ref[1], rel=0.05)


def test_average_municipality_starts_exactly_as_configured():
    """The reference process is the average municipality's: its initial state - and so its whole baseline - is
    bit-for-bit the configured one."""
    a = compiled("need.initial_state=configured")
    b = compiled("need.initial_state=scaled")
    assert population.initial_means(a) == population.initial_means(b)
    _, ra = one_model(["need.initial_state=configured"])
    _, rb = one_model(["need.initial_state=scaled"])
    assert ra.created == rb.created and ra.events == rb.events
    np.testing.assert_array_equal(ra.occupancy_end, rb.occupancy_end)
    np.testing.assert_array_equal(ra.cost_step, rb.cost_step)


def test_scaled_needs_a_reference():
    with pytest.raises(ConfigError, match="need.initial_reference"):
        plan(["~need.initial_reference"])
    plan(["~need.initial_reference", "need.initial_state=configured"])
    with pytest.raises(ConfigError, match="need.initial_state"):
        plan(["need.initial_state=steady"])
    with pytest.raises(ConfigError, match="need.initial_reference.recovery_rate_per_year"):
        plan(["~need.initial_reference.recovery_rate_per_year.mild"])


# --------------------------------------------------------------------------- the check's statistics

def test_mser_finds_the_end_of_a_known_transient():
    rng = np.random.default_rng(1)
    months = np.arange(300)
    transient = np.where(months < 60, 20.0 * (1 - months / 60), 0.0)      # a ramp that ends at month 60
    cuts = np.array([mser(transient + rng.normal(0, 1, len(months))) for _ in range(40)])
    assert cuts.min() >= 50, cuts                           # never keeps the transient
    assert 55 <= np.median(cuts) <= 65, cuts                # typically cuts where it ends
    assert np.mean(cuts <= 80) >= 0.7, cuts                 # MSER sometimes cuts more, never beyond half
    assert cuts.max() <= 150
    decay = 10 * np.exp(-months / 12.0)                     # below the noise's sd after ~30 months
    cuts = np.array([mser(decay + rng.normal(0, 1, len(months))) for _ in range(40)])
    assert cuts.min() >= 20 and 25 <= np.median(cuts) <= 60, cuts
    assert mser(np.ones(3)) == 0                                             # too short to batch


def test_ols_slopes_recover_a_known_drift():
    rng = np.random.default_rng(2)
    x = np.arange(48) / 12
    values = 100 + 3.0 * x + rng.normal(0, 0.01, (5, 48))
    np.testing.assert_allclose(ols_slopes(values, x), 3.0, atol=0.01)


def test_warning_lines():
    rows = pd.DataFrame({"series": ["placed", "open_cases"], "label": ["placed children", "open cases"],
                         "scenario": "baseline", "relative_drift_per_year": [0.021, 0.002], "ci_low": [0.014, -0.004],
                         "ci_high": [0.028, 0.008], "threshold": 0.01, "warning": [True, False]})
    assert warmup_warnings(rows) == ["warning: the baseline still drifts: placed children +2.1 % a year [1.4, 2.8]; "
                                     "lengthen run.warmup_years"]
    assert warmup_warnings(rows, language="da") == [
        "advarsel: basisforløbet driver stadig: anbragte børn +2,1 % om året [1,4; 2,8]; forlæng run.warmup_years"]


def test_the_text_says_no_drift_only_when_the_intervals_rule_it_out():
    """'No drift beyond 1 %' only when every interval lies within +-1 %; a wider interval says which drifts it
    does rule out, and one replication (no interval) says the check cannot tell - never 'no drift'."""
    base = {"series": ["placed", "open_cases"], "label": ["placed children", "open cases"], "scenario": "baseline",
            "threshold": 0.01, "warning": [False, False]}
    level = pd.DataFrame(base | {"relative_drift_per_year": [-0.002, 0.003], "ci_low": [-0.008, -0.004],
                                 "ci_high": [0.004, 0.01]})
    assert warmup_text(level) == ["warm-up check: no drift beyond 1 % a year over the horizon (placed children "
                                  "-0.2 % a year [-0.8, 0.4]; open cases +0.3 % a year [-0.4, 1.0])"]
    assert warmup_text(level, language="da")[0].startswith("indkøringstjek: ingen drift ud over 1 % om året")
    wide = level.assign(relative_drift_per_year=[0.041, 0.003], ci_low=[-0.078, -0.004], ci_high=[0.159, 0.01])
    text = warmup_text(wide)[0]
    assert "no drift beyond" not in text and "rule out only drifts beyond ±15.9 % a year, not ±1 %" in text, text
    one = level.assign(ci_low=np.nan, ci_high=np.nan)
    text = warmup_text(one)[0]
    assert text.startswith("warm-up check: cannot tell whether the baseline drifts: one replication gives no interval")
    assert "[-, -]" in text
    assert "én replikation giver intet interval" in warmup_text(one, language="da")[0]
    # a drifting series is warned of, and what the check says of the others follows (the re-check: it was dropped)
    mixed = wide.assign(warning=[True, False])
    assert warmup_text(mixed) == warmup_warnings(mixed) + [
        "warm-up check, the other series: no drift beyond 1 % a year over the horizon (open cases +0.3 % a year "
        "[-0.4, 1.0])"]


@pytest.mark.parametrize("reps", [1, 3])
def test_a_short_run_without_warm_up_is_not_called_level(reps):
    """The audit's runs: no warm-up, 3 horizon years, 1 or 3 replications - the check cannot call it level."""
    res = execute(plan(RUN + [f"run.replications={reps}", "run.horizon_years=3", "run.warmup_years=0"]),
                  progress=False)
    c = warmup_check(res)
    text = warmup_text(c)[0]
    if c.warning.any():
        assert text.startswith("warning:"), text
    else:
        assert set(c.verdict) == {"inconclusive"} if reps == 1 else "inconclusive" in set(c.verdict), c
        assert "no drift beyond" not in text, text


# --------------------------------------------------------------------------- the check on the model

def test_check_flags_a_run_without_warm_up_from_a_far_off_state():
    """Mariagerfjord from the average municipality's prevalences and no warm-up: its baseline is far from level."""
    c = check("municipality=mariagerfjord", "need.initial_state=configured", "run.warmup_years=0", replications=6)
    assert c.loc["placed", "warning"], c
    assert c.loc["placed", "relative_drift_per_year"] > 0.05
    assert c.loc["placed", "mser_truncation_month"] > 0           # the transient reaches into the horizon


@pytest.mark.parametrize("seed", SEEDS)
def test_check_passes_the_average_municipality(seed):
    c = check(f"run.seed={seed}")
    assert not c.warning.any(), c
    assert (c.relative_drift_per_year.abs() < c.threshold).all(), c


def test_scaled_initial_state_takes_mariagerfjord_drift_away():
    """Mariagerfjord's baseline drifts upward from the configured initial state (+0.84 placed per 1,000 over the
    horizon in the issue): the check flags it with either seed. From the scaled initial state the check flags
    nothing, and the drift, over both seeds, is within the threshold."""
    conf, scaled = [], []
    for seed in SEEDS:
        conf.append(check("municipality=mariagerfjord", "need.initial_state=configured", f"run.seed={seed}",
                          replications=20))
        scaled.append(check("municipality=mariagerfjord", "need.initial_state=scaled", f"run.seed={seed}",
                            replications=20))
    for c, s in zip(conf, scaled):
        assert c.loc["placed", "warning"], c
        assert not s.warning.any(), s
    threshold = conf[0].loc["placed", "threshold"]
    assert np.mean([c.loc["placed", "relative_drift_per_year"] for c in conf]) > threshold
    assert abs(np.mean([s.loc["placed", "relative_drift_per_year"] for s in scaled])) < threshold
