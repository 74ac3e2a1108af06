"""Calibration: fit parameters so the baseline reproduces key figures (``python -m sim --calibrate``).

The ``calibration`` group of the configuration names the parameter (default ``need.onset_scale``),
the KPI (default ``placed_per_1000_0_22``), the target (default: the municipality's key figure for
that KPI), the search range, the tolerance and the most evaluations allowed. ``calibration.joint``
adds more (parameter, KPI, target, bounds) pairs, fitted together with the first: n parameters to n
KPIs (``find_joint``, a Broyden-Newton search); with no joint pairs the one parameter is fitted by
``find_target`` below.

Each evaluation runs the reference arm alone (``compare=[]``), warm-up and horizon, with
``run.replications`` replications and ``run.seed``, and takes the KPI's horizon mean. All
evaluations use the same seed (common random numbers), so the curve the search sees is the model's
response to the parameter, not replication noise. The search brackets the target, starting from
the configured value and a proportional guess, and then narrows the bracket with Brent's method
(``scipy.optimize.brentq``), stopping as soon as an evaluation is within the tolerance.

The fitted value is a property of the model *and* of the seed and number of replications; the 95 %
interval at the fitted value says how far another seed may land. A calibration writes
``results/calibrations/<id>/`` (evaluations, the calibration check of every key figure at the
fitted value, a YAML overlay with the fitted value to paste into the municipality's file, a text
summary and a figure) through a staging folder, registers it in the catalog's ``calibrations``
table, and stores the run at the fitted value as an ordinary run.
"""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import ConfigError, calibration_pairs, calibration_target, config_value, plan
from ..metrics.targets import calibration
from ..metrics.warmup import warmup_check, warmup_text
from ..publish import results_dir, write_run
from ..report.format import fmt
from ..runner import Results, execute
from ..store import ensure_catalog, new_id, write_atomic, write_row
from ..common.i18n import replications_text

CALIBRATION_DIR = "calibrations"


@dataclass
class Fit:
    """One fitted pair: a parameter, the KPI it is matched on, the target, the search range, the start."""
    parameter: str
    kpi: str
    target: float
    bounds: tuple[float, float]
    start: float


@dataclass
class Evaluation:
    """One run of the reference arm: the parameter values, and each fitted KPI's mean and 95 % interval."""
    values: tuple[float, ...]
    means: tuple[float, ...]
    ci_lows: tuple[float, ...]
    ci_highs: tuple[float, ...]
    n: int

    # the first pair (the whole calibration when nothing is fitted jointly)
    @property
    def value(self) -> float:
        """The first parameter's value."""
        return self.values[0]

    @property
    def mean(self) -> float:
        """The first KPI's mean over the replications."""
        return self.means[0]


@dataclass
class Calibration:
    """The outcome of one calibration (see the module docstring)."""

    overrides: list[str]
    municipality: str
    fits: list[Fit]
    tolerance: float
    evaluations: list[Evaluation] = field(default_factory=list)
    values: tuple[float, ...] = ()           # the best evaluated values
    converged: bool = False                  # every |KPI - target| <= tolerance x |target| at `values`
    result: Results | None = None            # the run at `values`
    calibration_id: str | None = None
    calibration_dir: Path | None = None

    # the first pair
    @property
    def parameter(self) -> str:
        """The first pair's parameter (dotted config key)."""
        return self.fits[0].parameter

    @property
    def kpi(self) -> str:
        """The first pair's KPI."""
        return self.fits[0].kpi

    @property
    def target(self) -> float:
        """The first pair's target value of its KPI."""
        return self.fits[0].target

    @property
    def start(self) -> float:
        """The first parameter's configured value, where the search starts."""
        return self.fits[0].start

    @property
    def value(self) -> float:
        """The first fitted value (NaN before the search has run)."""
        return self.values[0] if self.values else math.nan

    @property
    def joint(self) -> bool:
        """True when more than one pair is fitted (calibration.joint is not empty)."""
        return len(self.fits) > 1

    @property
    def best(self) -> Evaluation:
        """The evaluation at the fitted values."""
        return next(e for e in self.evaluations if e.values == self.values)

    def table(self) -> pd.DataFrame:
        """One row per evaluation, in the order they were run: the values, and per KPI its mean, 95 %
        interval and gap to the target (one pair: columns kpi_mean, ci_low, ci_high, gap, relative_gap)."""
        rows = []
        for i, e in enumerate(self.evaluations):
            row = {"evaluation": i + 1}
            row.update({f.parameter: v for f, v in zip(self.fits, e.values)})
            for f, m, lo, hi in zip(self.fits, e.means, e.ci_lows, e.ci_highs):
                pre = "" if not self.joint else f.kpi + "_"
                row.update({pre + ("kpi_mean" if not self.joint else "mean"): m, pre + "ci_low": lo, pre + "ci_high": hi,
                            pre + "gap": m - f.target,
                            pre + "relative_gap": (m - f.target) / f.target if f.target else math.nan})
            row.update({"n": e.n, "chosen": e.values == self.values})
            rows.append(row)
        return pd.DataFrame(rows)

    def check(self) -> pd.DataFrame:
        """Every key figure of the municipality at the fitted values (sim.report.calibration)."""
        return calibration(self.result)

    def warmup(self) -> pd.DataFrame:
        """The warm-up check of the run at the fitted values (sim.metrics.warmup): a baseline that still drifts
        over the horizon means the calibration fitted a transient."""
        return warmup_check(self.result)


class _Converged(Exception):
    pass


class _OutOfEvaluations(Exception):
    pass


class Unreachable(ValueError):
    """The target lies outside what the parameter's range gives; ``kpis`` are the KPI values seen."""

    def __init__(self, kpis: list[float]):
        super().__init__(f"target not reached; KPI ranged over {min(kpis):.4g} .. {max(kpis):.4g}")
        self.kpis = kpis


@dataclass
class Search:
    """The outcome of ``find_target``: the best evaluated value, whether its KPI is within the tolerance,
    and every evaluation."""
    value: float                  # the evaluated value whose KPI is nearest the target
    converged: bool               # that KPI is within the tolerance
    evaluated: dict               # value -> KPI, in the order evaluated


SIGNIFICANT = 5                   # digits of a candidate value: what is evaluated is what the overlay says
FIRST_STEP_SHARE = 0.1            # first step as a share of the range, when a proportional guess is impossible
NUDGE = 1.1                       # factor for a second point when the proportional guess is the start itself
MIN_PROBE_SHARE = 0.05           # shortest probe of a joint fit's first Jacobian, as a share of the start value
OVERSHOOT = 1.5                   # bracketing steps go this much beyond the secant's estimate, to cross the target


def _round(x: float) -> float:
    return float(f"{x:.{SIGNIFICANT}g}")


def find_target(kpi_at, start: float, target: float, lo: float, hi: float, relative_tolerance: float,
                max_evaluations: int) -> Search:
    """Search [lo, hi] for a value whose ``kpi_at(value)`` is within relative_tolerance of target.

    Brackets the target from ``start`` (the second point is the proportional guess start x target /
    KPI(start); then steps along the secant, 1.5 x longer, until the target is crossed), then narrows
    the bracket with Brent's method; stops at the first value within the tolerance or after
    max_evaluations calls of kpi_at. Candidates are rounded to SIGNIFICANT digits and never evaluated
    twice. Raises Unreachable if the range does not cross the target."""
    from scipy.optimize import brentq

    tol = relative_tolerance * abs(target) if target else relative_tolerance
    seen: dict[float, float] = {}

    def gap(x: float) -> float:
        x = _round(min(max(x, lo), hi))
        if x not in seen:
            if len(seen) >= max_evaluations:
                raise _OutOfEvaluations
            seen[x] = kpi_at(x)
            if abs(seen[x] - target) <= tol:
                raise _Converged
        return seen[x] - target

    try:
        bracket = _bracket(gap, start, target, lo, hi, max_evaluations)
        if bracket is None:
            raise Unreachable(list(seen.values()))
        a, b = bracket
        # candidates are rounded to SIGNIFICANT digits, so a narrower bracket than that gains nothing
        brentq(gap, a, b, xtol=max(abs(a), abs(b)) * 10.0 ** (1 - SIGNIFICANT), maxiter=max_evaluations)
    except (_Converged, _OutOfEvaluations):
        pass
    except RuntimeError:                        # brentq's own iteration limit: keep the best evaluated value
        pass
    best = min(seen, key=lambda x: abs(seen[x] - target))
    return Search(best, abs(seen[best] - target) <= tol, seen)


def _bracket(gap, start: float, target: float, lo: float, hi: float, max_steps: int):
    """Two values whose gaps (KPI - target) have opposite signs, found from the start value outwards;
    None if the range does not cross the target."""
    x0 = _round(min(max(start, lo), hi))
    g0 = gap(x0)
    kpi0 = g0 + target
    if kpi0 > 0 and target > 0 and x0 > 0:
        x1 = x0 * target / kpi0
    else:
        x1 = x0 + FIRST_STEP_SHARE * (hi - lo) * (1 if g0 < 0 else -1)
    x1 = _round(min(max(x1, lo), hi))
    if x1 == x0:
        x1 = _round(hi if x0 < hi else lo) if x0 in (lo, hi) else _round(x0 * NUDGE if x0 else FIRST_STEP_SHARE * (hi - lo))
    g1 = gap(x1)
    for _ in range(max_steps):                  # gap() stops the search at max_evaluations runs; this stops revisits
        if g0 * g1 <= 0:
            break
        if abs(g1) >= abs(g0):                  # moving away (or flat): go the other way from the better point
            x1, g1, x0, g0 = x0, g0, x1, g1
            step = x1 - x0
        else:                                   # closer: follow the secant
            step = -g1 * (x1 - x0) / (g1 - g0)
        x2 = _round(min(max(x1 + OVERSHOOT * step, lo), hi))
        if x2 == x1:                            # at a bound and still on the same side
            break
        x0, g0, x1, g1 = x1, g1, x2, gap(x2)
    if g0 * g1 > 0:
        return None
    return (x0, x1) if x0 < x1 else (x1, x0)


@dataclass
class JointSearch:
    """The outcome of ``find_joint``: the best evaluated values, whether every KPI is within the tolerance
    there, every evaluation, and which parameters sit at a bound."""
    values: tuple                 # the evaluated values whose KPIs are nearest their targets (largest relative gap)
    converged: bool               # every KPI within the tolerance there
    evaluated: dict               # values -> KPIs, in the order evaluated
    at_bounds: list               # indices of the parameters at a bound of their range in `values`


def _first_jacobian(x, r, t, scale, lo, hi, key, gaps):
    """The first Jacobian of a joint search, by differences: one probe per parameter (the proportional guess for
    its own KPI, at least MIN_PROBE_SHARE of the value; else FIRST_STEP_SHARE of its range)."""
    n = len(x)
    J = np.zeros((n, n))
    for i in range(n):                       # one probe per parameter: a column of the Jacobian
        kpi_i = r[i] * scale[i] + t[i]
        if x[i] > 0 and t[i] > 0 and kpi_i > 0:
            step = x[i] * t[i] / kpi_i - x[i]
            # a probe too short to rise above the discreteness of a finite population gives a false slope
            if abs(step) < MIN_PROBE_SHARE * x[i]:
                step = math.copysign(MIN_PROBE_SHARE * x[i], step if step else -r[i] or 1.0)
        else:
            step = FIRST_STEP_SHARE * (hi[i] - lo[i]) * (1 if r[i] < 0 else -1)
        probe = x.copy()
        probe[i] = x[i] + step
        if key(probe) == key(x):             # too small to show, or at a bound: step the other way
            probe[i] = x[i] - (step or FIRST_STEP_SHARE * (hi[i] - lo[i]))
        if key(probe) == key(x):
            continue
        p, rp = gaps(probe)
        J[:, i] = (rp - r) / (p[i] - x[i])
    return J


def _bounded_newton_step(J, r, x, lo, hi, pinned: list):
    """The Newton step on J from x within the box [lo, hi]. A parameter whose step would leave its range is set
    to the bound and its own KPI given up (appended to ``pinned``, which is cleared first); the other pairs are
    solved again with it there. One at a time, the furthest out first: holding one often brings the others
    back into range."""
    n = len(x)
    pinned.clear()
    d = np.zeros(n)
    while True:
        free = [i for i in range(n) if i not in pinned]
        if free:
            rhs = -r[free] - J[np.ix_(free, pinned)] @ d[pinned]
            d[free] = np.linalg.lstsq(J[np.ix_(free, free)], rhs, rcond=None)[0]
        out = {i: max(lo[i] - x[i] - d[i], x[i] + d[i] - hi[i]) / (hi[i] - lo[i]) for i in free}
        out = {i: v for i, v in out.items() if v > 0}
        if not out:
            return d
        i = max(out, key=out.get)
        pinned.append(i)
        d[i] = (lo[i] if x[i] + d[i] < lo[i] else hi[i]) - x[i]


def find_joint(kpis_at, start, targets, bounds, relative_tolerance: float, max_evaluations: int) -> JointSearch:
    """Search the box ``bounds`` for values whose KPIs ``kpis_at(values)`` are all within relative_tolerance
    of ``targets`` (n parameters, n KPIs; pair i is parameter i and KPI i).

    Gaps are relative to each target, so KPIs in different units weigh alike. From ``start``, one probe per
    parameter (the proportional guess for its own KPI, as in ``find_target``, but at least MIN_PROBE_SHARE
    of the value; else a tenth of its range) gives the first Jacobian by differences; then Newton steps on
    that Jacobian (least squares if it is singular), each followed by Broyden's update with what the step
    showed. A step that does not shrink the largest gap is halved next time. A parameter whose step would
    leave its range is set to the bound and its KPI given up, and the other pairs are solved again with it
    there (what the bounds allow). Stops at the first evaluation within the tolerance, when the bounds are
    reached and what they allow is met, when a step would revisit a point, or after max_evaluations calls
    of kpis_at. Candidates are rounded to SIGNIFICANT digits and never evaluated twice."""
    n = len(start)
    lo = np.array([float(b[0]) for b in bounds])
    hi = np.array([float(b[1]) for b in bounds])
    t = np.array([float(v) for v in targets])
    scale = np.where(t != 0, np.abs(t), 1.0)
    tol = relative_tolerance
    seen: dict[tuple, tuple] = {}

    def key(x) -> tuple:
        return tuple(_round(min(max(float(v), a), b)) for v, a, b in zip(x, lo, hi))

    def rel(kpis) -> "np.ndarray":
        return (np.array(kpis, dtype=float) - t) / scale

    def worst(r, pinned) -> float:
        """The largest relative gap of the KPIs whose parameters are free (all, if none is)."""
        free = [i for i in range(n) if i not in pinned] or list(range(n))
        return float(np.max(np.abs(r[free])))

    def gaps(x):
        k = key(x)
        if k not in seen:
            if len(seen) >= max_evaluations:
                raise _OutOfEvaluations
            seen[k] = tuple(float(v) for v in kpis_at(k))
            if np.max(np.abs(rel(seen[k]))) <= tol:
                raise _Converged
        return np.array(k), rel(seen[k])

    pinned: list[int] = []
    try:
        x, r = gaps(start)
        J = _first_jacobian(x, r, t, scale, lo, hi, key, gaps)
        failures = 0
        for _ in range(max_evaluations):        # gaps() stops the search at max_evaluations runs
            d = _bounded_newton_step(J, r, x, lo, hi, pinned)
            if pinned and np.all(d[pinned] == 0) and (len(pinned) == n or worst(r, pinned) <= tol):
                break                            # at the bounds, and what they allow is met
            d *= 0.5 ** failures
            k = key(x + d)
            if k in seen:                        # the step leads nowhere new: stop with the best point
                break
            xn, rn = gaps(k)
            dx = xn - x
            J += np.outer((rn - r) - J @ dx, dx) / float(dx @ dx)
            if worst(rn, pinned) < worst(r, pinned):
                x, r, failures = xn, rn, 0
            else:
                failures += 1
    except (_Converged, _OutOfEvaluations):
        pass
    # best: the KPIs that can be met (not those of pinned parameters) within the tolerance, or nearest it;
    # among those, nearest all the targets
    best = min(seen, key=lambda k: (max(worst(rel(seen[k]), pinned), tol), float(np.max(np.abs(rel(seen[k]))))))
    at_bounds = [i for i, v in enumerate(best) if v in (_round(lo[i]), _round(hi[i]))]
    return JointSearch(best, float(np.max(np.abs(rel(seen[best])))) <= tol, seen, at_bounds)


def calibrate(overrides: list[str] | tuple[str, ...] = (), progress: bool | None = None,
              echo=print) -> Calibration:
    """Fit ``calibration.parameter`` (and the parameters of ``calibration.joint`` with it); raises
    ConfigError (one line) for bad input, or when one parameter alone cannot reach its target."""
    base = [o for o in overrides if not o.lstrip("+~").startswith("compare=")] + ["compare=[]"]
    p0 = plan(base)
    cfg = p0.arms[p0.reference]
    cal = cfg.calibration
    fits = [Fit(f.parameter, f.kpi, calibration_target(cfg, f), tuple(f.bounds), float(config_value(cfg, f.parameter)))
            for f in calibration_pairs(cfg)]
    for i, f in enumerate(fits):                # the whole range must be valid before anything runs
        where = "calibration" if i == 0 else f"calibration.joint[{i - 1}]"
        for b in f.bounds:
            try:
                plan(base + [f"{f.parameter}={b!r}"])
            except ConfigError as err:
                raise ConfigError(f"{where}.bounds = {list(f.bounds)}: {f.parameter} = {b!r} is not allowed ({err})") from None
    out = Calibration(overrides=list(overrides), municipality=cfg.municipality.name, fits=fits,
                      tolerance=cal.relative_tolerance)
    runs: dict[tuple, Results] = {}

    def kpis_at(values: tuple) -> tuple:
        res = execute(plan(base + [f"{f.parameter}={x!r}" for f, x in zip(fits, values)]), progress=progress)
        s = res.summary
        h = s[(s.scenario == res.reference) & (s.period == "horizon")].set_index("kpi")
        rows = [h.loc[f.kpi] for f in fits]
        ev = Evaluation(tuple(values), tuple(float(r["mean"]) for r in rows), tuple(float(r["ci_low"]) for r in rows),
                        tuple(float(r["ci_high"]) for r in rows), int(rows[0]["n"]))
        out.evaluations.append(ev)
        runs[ev.values] = res
        echo(f"  [{len(out.evaluations)}] " + "; ".join(
            f"{f.parameter} = {x:<10g} {f.kpi} = {m:.4g} [{a:.4g}, {b:.4g}]  target {f.target:.4g}"
            for f, x, m, a, b in zip(fits, ev.values, ev.means, ev.ci_lows, ev.ci_highs)))
        return ev.means

    if len(fits) > 1:
        search = find_joint(kpis_at, [f.start for f in fits], [f.target for f in fits], [f.bounds for f in fits],
                            cal.relative_tolerance, cal.max_evaluations)
        out.values, out.converged, out.result = search.values, search.converged, runs[search.values]
        return out
    f = fits[0]
    lo, hi = f.bounds
    try:
        search = find_target(lambda x: kpis_at((x,))[0], f.start, f.target, lo, hi, cal.relative_tolerance,
                             cal.max_evaluations)
    except Unreachable as u:
        raise ConfigError(
            f"calibration.bounds = {[lo, hi]}: {f.kpi} = {f.target:g} (the target) is not reached by "
            f"{f.parameter} within the bounds; the KPI ranged over {min(u.kpis):.4g} .. {max(u.kpis):.4g} "
            f"in {len(u.kpis)} evaluations; widen the bounds, fit another parameter or check the target") from None
    out.values, out.converged, out.result = (search.value,), search.converged, runs[(search.value,)]
    return out


def unmet(c: Calibration) -> list[str]:
    """For a calibration that did not converge: which KPIs miss their target at the fitted values, and
    which parameters sit at a bound of their range there (a target the bounds cannot reach)."""
    e = c.best
    out = []
    for f, v, m in zip(c.fits, e.values, e.means):
        if abs(m - f.target) > c.tolerance * abs(f.target):
            bound = " (at the bound of its range " + str(list(f.bounds)) + ")" if _round(v) in map(_round, f.bounds) else ""
            out.append(f"{f.kpi} = {m:.4g} against {f.target:g}, with {f.parameter} = {v:g}{bound}")
    return out


# --------------------------------------------------------------------------- output

def overlay_yaml(c: Calibration) -> str:
    """A Hydra overlay setting the fitted values, with their provenance, for the municipality's file."""
    cfg = c.result.plan.arms[c.result.reference]
    e = c.best
    fitted = "; ".join(f"{f.kpi} {m:.4g} [{a:.4g}, {b:.4g}] against the target {f.target:g}"
                       for f, m, a, b in zip(c.fits, e.means, e.ci_lows, e.ci_highs))
    lines = ["# @package _global_",
             f"# Fitted by: python -m sim --calibrate {' '.join(c.overrides)}".rstrip(),
             f"# on {_dt.date.today().isoformat()}: {fitted}, {replications_text(e.n)}, seed {cfg.run.seed}"
             + ("" if c.converged else f"; NOT within the tolerance ({c.tolerance:g})")]
    tree: dict = {}                              # nested keys, so that pairs under one group share its line
    for f, v in zip(c.fits, e.values):
        node = tree
        parts = f.parameter.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        together = f" with {', '.join(g.parameter for g in c.fits if g is not f)}" if c.joint else ""
        node[parts[-1]] = (repr(v), f"fitted to {f.kpi} = {f.target:g}{together} "
                                    f"[calibrated: python -m sim --calibrate, {len(c.evaluations)} evaluations]")
    return "\n".join(lines + overlay_lines(tree)) + "\n"


def overlay_lines(tree: dict, depth: int = 0) -> list[str]:
    """YAML lines of a nested overlay whose leaves are (value as YAML text, comment or ''): ``key: value   #
    comment``, two spaces of indent per level."""
    out = []
    for k, v in tree.items():
        if isinstance(v, dict):
            out.append("  " * depth + f"{k}:")
            out += overlay_lines(v, depth + 1)
        else:
            out.append("  " * depth + f"{k}: {v[0]}" + (f"   # {v[1]}" if v[1] else ""))
    return out


def calibration_text(c: Calibration) -> str:
    """The calibration's text summary (summary.txt): the fitted values, the evaluations, the check of every
    key figure at the fitted values and the overlay to paste into the municipality's file."""
    e = c.best
    status = "converged" if c.converged else f"NOT converged within {len(c.evaluations)} evaluations"
    check = c.check().assign(**{
        "target": lambda d: d["target"].map(fmt), "simulated": lambda d: d["simulated"].map(fmt),
        "95 % interval": lambda d: ["[" + fmt(a) + ", " + fmt(b) + "]" for a, b in zip(d.ci_low, d.ci_high)],
        "relative_gap": lambda d: d["relative_gap"].map(lambda v: f"{v:+.1%}")})
    pairs = ", ".join(f"{f.parameter} to {f.kpi} = {f.target:g}" for f in c.fits)
    lines = [f"Calibration - {c.municipality}: {pairs}" + (" (jointly)" if c.joint else "") + f" ({status})"]
    for f, v, m, a, b in zip(c.fits, e.values, e.means, e.ci_lows, e.ci_highs):
        lines.append(f"{f.parameter}: start {f.start:g} -> fitted {v:g}; {f.kpi} {m:.4g} [{a:.4g}, {b:.4g}]")
    lines += [f"(tolerance +-{c.tolerance:.1%} of each target)"]
    lines += warmup_text(c.warmup(), advice="the fit is to a transient: lengthen run.warmup_years and calibrate again")
    if not c.converged:
        lines += ["not met: " + u for u in unmet(c)]
    lines += [
        "",
        "Evaluations",
        c.table().to_string(index=False, float_format=lambda v: f"{v:.5g}"),
        "",
        "Calibration check at the fitted values (the key figures not fitted are a test of the model, not of the fit)",
        check[["figure", "target", "simulated", "95 % interval", "relative_gap"]].to_string(index=False),
        "",
        "Set the fitted values in the municipality's file (conf/municipality/<name>.yaml), e.g.:",
        overlay_yaml(c),
    ]
    return "\n".join(lines)


def plot_calibration(c: Calibration, path: Path | None = None):
    """One pair: the KPI (mean and 95 % interval) at each evaluated value, the target and its tolerance band.
    Pairs fitted jointly: one panel per KPI, along the evaluations (the other parameters move too)."""
    import matplotlib.pyplot as plt

    from ..report.plots import interval_bars, save_figure      # matplotlib: imported only when a figure is drawn

    t = c.table()
    fig, axes = plt.subplots(1, len(c.fits), figsize=(6.4 if not c.joint else 4.6 * len(c.fits), 4.0), squeeze=False)
    for ax, f in zip(axes[0], c.fits):
        pre = f.kpi + "_" if c.joint else ""
        mean = t[pre + ("mean" if c.joint else "kpi_mean")]
        x = t["evaluation"] if c.joint else t[f.parameter]
        order = x.argsort()
        band = c.tolerance * abs(f.target)
        ax.axhspan(f.target - band, f.target + band, color="tab:green", alpha=0.15, lw=0, label="target +- tolerance")
        ax.axhline(f.target, color="tab:green", lw=1)
        ax.errorbar(x.iloc[order], mean.iloc[order], yerr=interval_bars(mean.iloc[order], t[pre + "ci_low"].iloc[order],
                                                                        t[pre + "ci_high"].iloc[order]),
                    marker="o", ms=4, capsize=3, lw=1, color="tab:blue", label="simulated (95 % interval)")
        if c.joint:
            chosen = int(t.loc[t.chosen, "evaluation"].iloc[0])
            ax.axvline(chosen, color="grey", ls=":", lw=1, label=f"fitted (evaluation {chosen})")
            ax.set_xlabel("evaluation")
            ax.set_title(f"{f.kpi}\n(set by {f.parameter})", fontsize=8)
        else:
            for _, r in t.iterrows():
                ax.annotate(str(int(r["evaluation"])), (r[f.parameter], r["kpi_mean"]), textcoords="offset points",
                            xytext=(4, 4), fontsize=7)
            ax.axvline(c.value, color="grey", ls=":", lw=1, label=f"fitted {c.value:g}")
            ax.set_xlabel(f.parameter)
            ax.set_title(f"Calibration of {c.municipality} (numbers: order of the evaluations)", fontsize=10)
        ax.set_ylabel(f.kpi)
        ax.legend(fontsize=7)
    if c.joint:
        fig.suptitle(f"Joint calibration of {c.municipality}", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def write_calibration(c: Calibration, figures: bool = True) -> Path:
    """Store the run at the fitted value, then results/calibrations/<id>/ (atomic) with its row of the
    catalog's ``calibrations`` table (calibration.json)."""

    run_dir = write_run(c.result)
    base = results_dir(c.result)
    now = _dt.datetime.now()
    cid = new_id(c.municipality, c.overrides, now)
    joint = "; ".join(f"{f.parameter} {f.start:g} -> {v!r} on {f.kpi} = {f.target:g}"
                      for f, v in zip(c.fits[1:], c.values[1:])) or None
    row = {"calibration_id": cid, "created_at": now, "municipality": c.municipality, "parameter": c.parameter,
           "kpi": c.kpi, "target": c.target, "start_value": c.start, "fitted_value": c.value,
           "converged": c.converged, "evaluations": len(c.evaluations), "run_id": c.result.run_id,
           "calibration_dir": str(base / CALIBRATION_DIR / cid), "overrides": " ".join(c.overrides), "joint": joint}

    def fill(d: Path) -> None:
        c.table().to_csv(d / "evaluations.csv", index=False)
        c.check().to_csv(d / "check.csv", index=False)
        (d / "calibrated.yaml").write_text(overlay_yaml(c))
        (d / "summary.txt").write_text(calibration_text(c) + f"\nrun at the fitted value: {run_dir}\n")
        if figures:
            plot_calibration(c, d / "calibration.png")
        write_row(d, "calibrations", row)

    final = write_atomic(base / CALIBRATION_DIR, cid, fill)
    ensure_catalog(base)
    c.calibration_id, c.calibration_dir = cid, final
    return final
