"""Joint uncertainty of a scenario comparison (``python -m sim --uncertainty``).

The one-at-a-time sensitivity analysis (``sim.sensitivity``) asks whether a conclusion survives one
wrong assumption. A budget decision rests on all of them at once, and assumptions can compound
(a dearer residential place *and* a weaker intensive programme). This module draws
``uncertainty.samples`` parameter sets in which every listed parameter varies at once, uniformly
between its low and high value: a uniform distribution because the sources give ranges, not
distributions. The sets are spread by Latin hypercube sampling (``scipy.stats.qmc``): each
parameter's range is cut into ``samples`` equal slices and every slice is used exactly once, so
few sets cover every range evenly. The design is drawn from its own random stream
(``sim.streams.design_rng``), never from the replications' streams.

The comparison (reference arm and the arms in ``compare``) is run for every set, and once at the
defaults, all with the same seed: common random numbers across sets as well as across arms, so
the spread over sets is the parameters' doing, not noise. A parameter a scenario sets itself is
scaled in that arm by the same factor, as in the sensitivity analysis.

Reported per compared scenario:

* the spread of the paired difference in ``uncertainty.kpi`` over the sets (mean, 5th, 50th and
  95th percentiles, extremes) beside the difference at the defaults, and the share of sets in
  which the difference is below 0 (for a cost: the probability that the scenario saves);
* the probability that the scenario has paid back by each horizon year: the share of sets whose
  cumulative paired cost difference (investments included) is below 0 by then;
* which parameters drive the spread: the partial rank correlation coefficient (PRCC) of each
  parameter with the difference, controlling for the others, with its p-value.

The probabilities are over the parameter ranges, which are themselves assumptions: they say how
robust a conclusion is to the listed assumptions, not how likely it is in the world.

Output: ``results/uncertainty/<id>/`` (tables as CSV, ``summary.txt``, ``uncertainty.png``,
``prcc.png``), written atomically and registered in the catalog's ``uncertainty_analyses`` table.
"""
from __future__ import annotations

import datetime as _dt
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from ..config import ConfigError, plan
from ..metrics.payback import payback
from ..model import design_rng
from ..report.format import fmt
from ..runner import execute
from ..store import ensure_catalog, new_id, write_atomic, write_row
from .perturb import applicable, arm_values, comparison_plan, range_value, scaled_in_arms
from ..common.i18n import replications_text

UNCERTAINTY_DIR = "uncertainty"
AT_DEFAULTS = 0                  # sample number of the run at the defaults; the drawn sets are 1..samples
QUANTILES = (0.05, 0.5, 0.95)    # reported percentiles of the difference over the sets
MIN_DOF = 10                     # fewer degrees of freedom (sets - parameters - 1) make the rank correlations rough
RESIDUAL_TOL = 1e-9              # relative size of a rank residual below which it is taken as round-off
SIGNIFICANCE = 0.05              # a partial rank correlation with a smaller p-value is starred in the summary


@dataclass
class UncertaintyResult:
    """The outcome of an uncertainty analysis: the drawn parameter sets, the paired difference of the KPI
    per set and scenario, the cumulative cost differences by year, and, once written, its id and folder."""
    overrides: list[str]
    municipality: str
    reference: str
    kpi: str
    replications: int
    parameters: list[str]
    samples: pd.DataFrame        # sample, then one column per parameter (the value set in the reference arm)
    results: pd.DataFrame        # sample, scenario, diff_mean, diff_ci_low, diff_ci_high, n
    payback: pd.DataFrame        # sample, scenario, year, cum_cost_diff_dkk (mean over replications)
    uncertainty_id: str | None = None
    uncertainty_dir: Path | None = None

    def _drawn(self, df: pd.DataFrame) -> pd.DataFrame:
        return df[df["sample"] != AT_DEFAULTS]

    def summary(self) -> pd.DataFrame:
        """Per scenario: the difference at the defaults, its spread over the drawn sets and the share
        of sets in which it is below 0."""
        d = self._drawn(self.results)
        base = self.results[self.results["sample"] == AT_DEFAULTS].set_index("scenario")["diff_mean"]
        rows = []
        for sc, g in d.groupby("scenario", sort=False):
            x = g["diff_mean"].to_numpy(dtype=float)
            q = np.quantile(x, QUANTILES)
            rows.append((sc, base.get(sc, np.nan), float(x.mean()), *map(float, q), float(x.min()), float(x.max()),
                         float((x < 0).mean()), len(x)))
        return pd.DataFrame(rows, columns=["scenario", "at_defaults", "mean", "p05", "median", "p95", "min", "max",
                                           "share_below_0", "sets"])

    def payback_probability(self) -> pd.DataFrame:
        """Per scenario and horizon year: the share of drawn sets in which the cumulative paired cost
        difference is below 0 (paid back by then), and that difference at the defaults."""
        d = self._drawn(self.payback)
        base = self.payback[self.payback["sample"] == AT_DEFAULTS].set_index(["scenario", "year"])["cum_cost_diff_dkk"]
        p = (d.assign(paid=d.cum_cost_diff_dkk < 0).groupby(["scenario", "year"], sort=False)
             .agg(paid_back_share=("paid", "mean"), cum_cost_diff_median=("cum_cost_diff_dkk", "median"))
             .reset_index())
        p["cum_cost_diff_at_defaults"] = [base.get((s, y), np.nan) for s, y in zip(p.scenario, p.year)]
        return p

    def prcc(self) -> pd.DataFrame:
        """Per scenario and parameter: the partial rank correlation of the parameter with the difference
        (controlling for the other parameters) and its p-value; NaN where it cannot be estimated (fewer
        sets than parameters + 2, or a difference that does not vary)."""
        X = self._drawn(self.samples).set_index("sample")[self.parameters]
        rows = []
        for sc, g in self._drawn(self.results).groupby("scenario", sort=False):
            y = g.set_index("sample")["diff_mean"].reindex(X.index).to_numpy(dtype=float)
            r, pv = prcc(X.to_numpy(dtype=float), y)
            rows += [(sc, k, float(a), float(b)) for k, a, b in zip(self.parameters, r, pv)]
        return pd.DataFrame(rows, columns=["scenario", "parameter", "prcc", "p_value"])


def prcc(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Partial rank correlation coefficients of each column of X (n x k) with y, and their two-sided
    p-values (t-test with n - 2 - (k - 1) degrees of freedom). Ranks are taken first; each ranked column
    and the ranked y are regressed on the other ranked columns (with an intercept), and the residuals
    correlated."""
    n, k = X.shape
    nan = np.full(k, np.nan)
    dof = n - 2 - (k - 1)
    if dof < 1 or np.ptp(y) == 0:
        return nan, nan.copy()
    R = np.column_stack([stats.rankdata(X[:, j]) for j in range(k)])
    ry = stats.rankdata(y)
    r = np.full(k, np.nan)
    tol = RESIDUAL_TOL * n * np.sqrt(n)          # ranks are at most n, so a rank vector's norm is at most n * sqrt(n)
    for j in range(k):
        A = np.column_stack([np.ones(n), np.delete(R, j, axis=1)])
        ex = R[:, j] - A @ np.linalg.lstsq(A, R[:, j], rcond=None)[0]
        ey = ry - A @ np.linalg.lstsq(A, ry, rcond=None)[0]
        sx, sy = np.sqrt(ex @ ex), np.sqrt(ey @ ey)
        # a residual that is round-off only: the others explain it fully and the partial correlation is 0/0
        if sx > tol and sy > tol:
            r[j] = float(np.clip(ex @ ey / (sx * sy), -1.0, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(dof / (1.0 - r ** 2))
    p = 2 * stats.t.sf(np.abs(t), dof)
    return r, p


def latin_hypercube(n: int, k: int, seed: int) -> np.ndarray:
    """n points in [0, 1)^k, one in each of the n slices of every coordinate, from run.seed's design stream."""
    return qmc.LatinHypercube(d=k, rng=design_rng(seed, "uncertainty")).random(n)


def parameter_ranges(cfg) -> tuple[str, list]:
    """(group, ranges): uncertainty.parameters, or the sensitivity group's when it gives none."""
    u = cfg.uncertainty
    return ("uncertainty", u.parameters) if u.parameters is not None else ("sensitivity", cfg.sensitivity.parameters)


def _jobs(overrides: list[str]):
    """(sample, {parameter: value}, plan) for the run at the defaults and each drawn set, all validated
    before anything runs."""
    p0, cfg = comparison_plan(overrides, "an uncertainty analysis")
    u = cfg.uncertainty
    group, params = parameter_ranges(cfg)
    params = applicable(cfg, group, params)
    reps = [f"run.replications={u.replications}"] if u.replications else []
    refs = [arm_values(p0, prm.key, f"{group}.parameters[{i}].key", prm.offset) for i, prm in enumerate(params)]
    jobs = [(AT_DEFAULTS, {prm.key: ref for prm, (ref, _) in zip(params, refs)}, plan(overrides + reps) if reps else p0)]
    U = latin_hypercube(u.samples, len(params), cfg.run.seed)
    for s, row in enumerate(U, start=1):
        values, common, per_arm = {}, [], {}
        for prm, (ref_value, own), x in zip(params, refs, row):
            v = range_value(prm, prm.low + x * (prm.high - prm.low), ref_value)
            values[prm.key] = v
            common.append(f"{prm.key}={v!r}")
            for arm, ov in scaled_in_arms(prm.key, v, ref_value, own, prm.offset)[0].items():
                per_arm.setdefault(arm, []).extend(ov)
        try:
            jobs.append((s, values, plan(overrides + reps + common, per_arm)))
        except ConfigError as err:
            raise ConfigError(f"uncertainty sample {s} ({', '.join(common)}): not allowed ({err})") from None
    return cfg, [prm.key for prm in params], jobs


def uncertainty(overrides: list[str] | tuple[str, ...] = (), progress: bool | None = None,
                echo=print) -> UncertaintyResult:
    """Run the analysis described in the module docstring; ConfigError (one line) for bad input."""
    overrides = list(overrides)
    cfg, keys, jobs = _jobs(overrides)
    kpi = cfg.uncertainty.kpi
    sample_rows, rows, pb = [], [], []
    for i, (s, values, p) in enumerate(jobs):
        echo(f"[{i + 1}/{len(jobs)}] " + ("the defaults" if s == AT_DEFAULTS else f"parameter set {s}"))
        res = execute(p, progress=progress)
        sample_rows.append({"sample": s, **values})
        c = res.comparison
        for r in c[(c.period == "horizon") & (c.kpi == kpi)].itertuples():
            rows.append((s, r.scenario, r.diff_mean, r.diff_ci_low, r.diff_ci_high, r.n))
        for r in payback(res).itertuples():
            pb.append((s, r.scenario, r.year, r.cum_cost_diff_dkk))
    ref_plan = jobs[0][2]
    return UncertaintyResult(
        overrides=overrides, municipality=cfg.municipality.name, reference=ref_plan.reference, kpi=kpi,
        replications=ref_plan.arms[ref_plan.reference].run.replications, parameters=keys,
        samples=pd.DataFrame(sample_rows),
        results=pd.DataFrame(rows, columns=["sample", "scenario", "diff_mean", "diff_ci_low", "diff_ci_high", "n"]),
        payback=pd.DataFrame(pb, columns=["sample", "scenario", "year", "cum_cost_diff_dkk"]))


# --------------------------------------------------------------------------- output

def uncertainty_text(u: UncertaintyResult) -> str:
    """The text summary (summary.txt): the spread of the difference over the sets, the probability of having
    paid back by each horizon year, and the parameters that drive the spread (partial rank correlations)."""
    n_sets = int((u.samples["sample"] != AT_DEFAULTS).sum())
    lines = [f"Joint uncertainty of the paired difference in {u.kpi} from {u.reference} ({u.municipality}): "
             f"{n_sets} parameter sets (Latin hypercube, every parameter uniform over its range at once), "
             f"{replications_text(u.replications)} each, common random numbers",
             "Parameters varied: " + ", ".join(u.parameters), ""]
    s = u.summary()
    show = pd.DataFrame({
        "scenario": s.scenario, "at defaults": s.at_defaults.map(fmt), "median": s["median"].map(fmt),
        "90 % of sets": [f"[{fmt(a)}, {fmt(b)}]" for a, b in zip(s.p05, s.p95)],
        "range": [f"[{fmt(a)}, {fmt(b)}]" for a, b in zip(s["min"], s["max"])],
        "share of sets < 0": s.share_below_0.map(lambda x: f"{x:.0%}")})
    lines.append(show.to_string(index=False))
    pp = u.payback_probability()
    t = pp.pivot(index="scenario", columns="year", values="paid_back_share").reindex(list(s.scenario))
    t.columns = [f"by year {y}" for y in t.columns]
    lines += ["", "Probability of having paid back (share of parameter sets with a cumulative cost difference "
              "below 0, investments included):", t.map(lambda x: f"{x:.0%}").to_string()]
    pr = u.prcc()
    if pr.prcc.notna().any():
        dof = n_sets - 1 - len(u.parameters)
        lines += ["", "What drives the spread: partial rank correlation of each parameter with the difference, "
                  f"controlling for the others (+ = a higher value raises it; * = p < {SIGNIFICANCE}; {dof} degrees of "
                  f"freedom" + (f": rough; draw at least {len(u.parameters) + 1 + MIN_DOF} sets" if dof < MIN_DOF else "")
                  + "):"]
        for sc, g in pr.groupby("scenario", sort=False):
            g = g.assign(a=g.prcc.abs()).sort_values("a", ascending=False)
            top = [f"{r.parameter} {r.prcc:+.2f}{'*' if r.p_value < SIGNIFICANCE else ''}" for r in g.head(3).itertuples()
                   if np.isfinite(r.prcc)]
            lines.append(f"  {sc}: " + ("; ".join(top) if top else "the difference does not vary"))
        n_tests = int(pr.prcc.notna().sum())
        lines.append(f"  ({n_tests} correlations tested: about {SIGNIFICANCE * n_tests:.0f} pass p < {SIGNIFICANCE} by "
                     "chance alone; trust strong ones with a mechanism behind them)")
    else:
        lines += ["", f"Partial rank correlations need more parameter sets than parameters + 1 "
                  f"({n_sets} sets, {len(u.parameters)} parameters)."]
    lines += ["", "The probabilities are over the parameter ranges, themselves assumptions: they show how robust "
              "a conclusion is to them, not how likely it is."]
    return "\n".join(lines) + "\n"


def plot_uncertainty(u: UncertaintyResult, path: Path | None = None):
    """Left: each scenario's difference in every parameter set (dots, box), at the defaults (black
    diamond), and 0. Right: the share of sets paid back by each horizon year (a coloured table)."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    from ..report.plots import save_figure      # matplotlib: imported only when a figure is drawn

    s = u.summary()
    order = list(s.scenario)
    d = u._drawn(u.results)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 0.5 * len(order) + 2.2), gridspec_kw={"width_ratios": [3, 2]})
    sns.boxplot(data=d, x="diff_mean", y="scenario", order=order, ax=a1, color="lightgrey", showfliers=False, width=0.6)
    sns.stripplot(data=d, x="diff_mean", y="scenario", order=order, ax=a1, size=3, color="tab:blue", alpha=0.7)
    a1.scatter(s.at_defaults, range(len(order)), marker="D", color="black", zorder=5, label="at the defaults")
    a1.axvline(0, color="tab:red", ls="--", lw=1)
    a1.set_yticks(range(len(order)), [f"{sc}  ({p:.0%} < 0)" for sc, p in zip(order, s.share_below_0)], fontsize=8)
    a1.set_ylabel("")
    a1.set_xlabel(f"paired difference in {u.kpi} from {u.reference}, horizon")
    if u.kpi.endswith("_dkk"):
        a1.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:,.4g}M"))
    a1.legend(fontsize=8, loc="lower right")
    pp = u.payback_probability()
    m = pp.pivot(index="scenario", columns="year", values="paid_back_share").reindex(order)
    sns.heatmap(m, vmin=0, vmax=1, cmap="RdYlGn", annot=m.map(lambda x: f"{x:.0%}"), fmt="", ax=a2, cbar=False,
                linewidths=0.5, annot_kws={"fontsize": 8})
    a2.set_xlabel("horizon year")
    a2.set_ylabel("")
    a2.set_yticks([i + 0.5 for i in range(len(order))], order, fontsize=8, rotation=0)
    a2.set_title("share of parameter sets paid back by the end of the year", fontsize=9)
    fig.suptitle(f"{u.municipality}: {int((u.samples['sample'] != AT_DEFAULTS).sum())} parameter sets, "
                 f"every assumption in its range at once ({replications_text(u.replications)} each)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_prcc(u: UncertaintyResult, path: Path | None = None):
    """Heatmap of partial rank correlations, scenario x parameter."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from ..report.plots import save_figure      # matplotlib: imported only when a figure is drawn

    pr = u.prcc()
    if not pr.prcc.notna().any():       # too few sets: say so, rather than an empty grid (as summary.txt does)
        n_sets = int((u.samples["sample"] != AT_DEFAULTS).sum())
        fig, ax = plt.subplots(figsize=(7, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, textwrap.fill(f"No partial rank correlations: they need more parameter sets than parameters "
                                        f"+ 1 ({n_sets} sets, {len(u.parameters)} parameters). Draw at least "
                                        f"{len(u.parameters) + 1 + MIN_DOF} sets.", 70),
                ha="center", va="center", fontsize=10)
        return save_figure(fig, path)
    m = pr.pivot(index="scenario", columns="parameter", values="prcc").reindex(
        index=list(dict.fromkeys(pr.scenario)), columns=u.parameters)
    m.columns = [short_name(c) for c in m.columns]
    fig, ax = plt.subplots(figsize=(1.1 * len(u.parameters) + 3, 0.6 * len(m) + 3))
    sns.heatmap(m, vmin=-1, vmax=1, cmap="coolwarm", annot=True, fmt=".2f", annot_kws={"fontsize": 7}, ax=ax,
                cbar_kws={"label": "partial rank correlation"})
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    ax.tick_params(axis="y", labelrotation=0, labelsize=8)
    ax.set_title(textwrap.fill(f"What drives the difference in {u.kpi}: + = a higher value raises it", 60),
                 fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def short_name(key: str) -> str:
    """A parameter key without its group prefix for axis labels: staircase.steps.residential.cost_per_year_dkk
    -> residential.cost_per_year_dkk."""
    prefix = "staircase.steps."
    return key[len(prefix):] if key.startswith(prefix) else key


def write_uncertainty(u: UncertaintyResult, base: Path, figures: bool = True) -> Path:
    """Write base/uncertainty/<id>/ (tables as CSV, summary, figures, and its row of the catalog's
    ``uncertainty_analyses`` table as uncertainty.json) through a staging folder; returns the folder."""
    now = _dt.datetime.now()
    uid = new_id(u.municipality, u.overrides, now)
    row = {"uncertainty_id": uid, "created_at": now, "municipality": u.municipality, "kpi": u.kpi,
           "reference": u.reference, "scenarios": ",".join(dict.fromkeys(u.results.scenario)),
           "parameters": ",".join(u.parameters), "samples": int((u.samples["sample"] != AT_DEFAULTS).sum()),
           "replications": u.replications, "uncertainty_dir": str(base / UNCERTAINTY_DIR / uid),
           "overrides": " ".join(u.overrides)}

    def fill(d: Path) -> None:
        u.samples.to_csv(d / "samples.csv", index=False)
        u.results.to_csv(d / "results.csv", index=False)
        u.payback.to_csv(d / "payback.csv", index=False)
        u.summary().to_csv(d / "summary.csv", index=False)
        u.payback_probability().to_csv(d / "payback_probability.csv", index=False)
        u.prcc().to_csv(d / "prcc.csv", index=False)
        (d / "summary.txt").write_text(uncertainty_text(u))
        if figures:
            plot_uncertainty(u, d / "uncertainty.png")
            plot_prcc(u, d / "prcc.png")
        write_row(d, "uncertainty_analyses", row)

    final = write_atomic(base / UNCERTAINTY_DIR, uid, fill)
    ensure_catalog(base)
    u.uncertainty_id, u.uncertainty_dir = uid, final
    return final
