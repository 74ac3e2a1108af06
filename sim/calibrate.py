"""Calibration: fit one parameter so the baseline reproduces a key figure (``python -m sim --calibrate``).

The ``calibration`` group of the configuration names the parameter (default ``need.onset_scale``),
the KPI (default ``placed_per_1000_0_22``), the target (default: the municipality's key figure for
that KPI), the search range, the tolerance and the most evaluations allowed.

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

import pandas as pd

from .config import ConfigError, calibration_target, config_value, plan
from .runner import Results, execute

CALIBRATION_DIR = "calibrations"


@dataclass
class Evaluation:
    value: float
    mean: float
    ci_low: float
    ci_high: float
    n: int


@dataclass
class Calibration:
    """The outcome of one calibration (see the module docstring)."""

    overrides: list[str]
    municipality: str
    parameter: str
    kpi: str
    target: float
    start: float
    tolerance: float
    evaluations: list[Evaluation] = field(default_factory=list)
    value: float = math.nan                  # the best evaluated value
    converged: bool = False                  # |KPI - target| <= tolerance x |target| at `value`
    result: Results | None = None            # the run at `value`
    calibration_id: str | None = None
    calibration_dir: Path | None = None

    @property
    def best(self) -> Evaluation:
        return next(e for e in self.evaluations if e.value == self.value)

    def table(self) -> pd.DataFrame:
        """One row per evaluation, in the order they were run."""
        rows = [(i + 1, e.value, e.mean, e.ci_low, e.ci_high, e.n, e.mean - self.target,
                 (e.mean - self.target) / self.target if self.target else math.nan, e.value == self.value)
                for i, e in enumerate(self.evaluations)]
        return pd.DataFrame(rows, columns=["evaluation", self.parameter, "kpi_mean", "ci_low", "ci_high", "n",
                                           "gap", "relative_gap", "chosen"])

    def check(self) -> pd.DataFrame:
        """Every key figure of the municipality at the fitted value (sim.report.calibration)."""
        from .report import calibration
        return calibration(self.result)


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
    value: float                  # the evaluated value whose KPI is nearest the target
    converged: bool               # that KPI is within the tolerance
    evaluated: dict               # value -> KPI, in the order evaluated


SIGNIFICANT = 5                   # digits of a candidate value: what is evaluated is what the overlay says
FIRST_STEP_SHARE = 0.1            # first step as a share of the range, when a proportional guess is impossible
NUDGE = 1.1                       # factor for a second point when the proportional guess is the start itself
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


def calibrate(overrides: list[str] | tuple[str, ...] = (), progress: bool | None = None,
              echo=print) -> Calibration:
    """Fit ``calibration.parameter``; raises ConfigError (one line) for bad input or an unreachable target."""
    base = [o for o in overrides if not o.lstrip("+~").startswith("compare=")] + ["compare=[]"]
    p0 = plan(base)
    cfg = p0.arms[p0.reference]
    cal = cfg.calibration
    target = calibration_target(cfg)
    lo, hi = cal.bounds
    for b in (lo, hi):                          # the whole range must be valid before anything runs
        try:
            plan(base + [f"{cal.parameter}={b!r}"])
        except ConfigError as err:
            raise ConfigError(f"calibration.bounds = {[lo, hi]}: {cal.parameter} = {b!r} is not allowed ({err})") from None
    out = Calibration(overrides=list(overrides), municipality=cfg.municipality.name, parameter=cal.parameter,
                      kpi=cal.kpi, target=target, start=float(config_value(cfg, cal.parameter)),
                      tolerance=cal.relative_tolerance)
    runs: dict[float, Results] = {}

    def kpi_at(x: float) -> float:
        res = execute(plan(base + [f"{cal.parameter}={x!r}"]), progress=progress)
        s = res.summary
        row = s[(s.scenario == res.reference) & (s.period == "horizon") & (s.kpi == cal.kpi)].iloc[0]
        ev = Evaluation(x, float(row["mean"]), float(row["ci_low"]), float(row["ci_high"]), int(row["n"]))
        out.evaluations.append(ev)
        runs[x] = res
        echo(f"  [{len(out.evaluations)}] {cal.parameter} = {x:<10g} {cal.kpi} = {ev.mean:.4g} "
             f"[{ev.ci_low:.4g}, {ev.ci_high:.4g}]  target {target:.4g}")
        return ev.mean

    try:
        search = find_target(kpi_at, out.start, target, lo, hi, cal.relative_tolerance, cal.max_evaluations)
    except Unreachable as u:
        raise ConfigError(
            f"calibration.bounds = {[lo, hi]}: {cal.kpi} = {target:g} (the target) is not reached by "
            f"{cal.parameter} within the bounds; the KPI ranged over {min(u.kpis):.4g} .. {max(u.kpis):.4g} "
            f"in {len(u.kpis)} evaluations; widen the bounds, fit another parameter or check the target") from None
    out.value, out.converged, out.result = search.value, search.converged, runs[search.value]
    return out


# --------------------------------------------------------------------------- output

def overlay_yaml(c: Calibration) -> str:
    """A Hydra overlay setting the fitted value, with its provenance, for the municipality's file."""
    cfg = c.result.plan.arms[c.result.reference]
    e = c.best
    parts = c.parameter.split(".")
    lines = ["# @package _global_",
             f"# Fitted by: python -m sim --calibrate {' '.join(c.overrides)}".rstrip(),
             f"# on {_dt.date.today().isoformat()}: {c.kpi} {e.mean:.4g} [{e.ci_low:.4g}, {e.ci_high:.4g}] against the "
             f"target {c.target:g}, {e.n} replications, seed {cfg.run.seed}"
             + ("" if c.converged else f"; NOT within the tolerance ({c.tolerance:g})")]
    for depth, part in enumerate(parts[:-1]):
        lines.append("  " * depth + f"{part}:")
    lines.append("  " * (len(parts) - 1) + f"{parts[-1]}: {c.value!r}   # fitted to {c.kpi} = {c.target:g} "
                 f"[calibrated: python -m sim --calibrate, {len(c.evaluations)} evaluations]")
    return "\n".join(lines) + "\n"


def calibration_text(c: Calibration) -> str:
    from .report import _fmt
    e = c.best
    status = "converged" if c.converged else f"NOT converged within {len(c.evaluations)} evaluations"
    check = c.check().assign(**{
        "target": lambda d: d["target"].map(_fmt), "simulated": lambda d: d["simulated"].map(_fmt),
        "95 % interval": lambda d: ["[" + _fmt(a) + ", " + _fmt(b) + "]" for a, b in zip(d.ci_low, d.ci_high)],
        "relative_gap": lambda d: d["relative_gap"].map(lambda v: f"{v:+.1%}")})
    lines = [
        f"Calibration - {c.municipality}: {c.parameter} fitted to {c.kpi} = {c.target:g} ({status})",
        f"start {c.start:g} -> fitted {c.value:g}; {c.kpi} {e.mean:.4g} [{e.ci_low:.4g}, {e.ci_high:.4g}] "
        f"(tolerance +-{c.tolerance:.1%} of the target)",
        "",
        "Evaluations",
        c.table().to_string(index=False, float_format=lambda v: f"{v:.5g}"),
        "",
        "Calibration check at the fitted value (the key figures not fitted are a test of the model, not of the fit)",
        check[["figure", "target", "simulated", "95 % interval", "relative_gap"]].to_string(index=False),
        "",
        "Set the fitted value in the municipality's file (conf/municipality/<name>.yaml), e.g.:",
        overlay_yaml(c),
    ]
    return "\n".join(lines)


def plot_calibration(c: Calibration, path: Path | None = None):
    """The KPI (mean and 95 % interval) at each evaluated value, the target and its tolerance band."""
    import matplotlib.pyplot as plt

    from .plots import _save

    t = c.table().sort_values(c.parameter)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    band = c.tolerance * abs(c.target)
    ax.axhspan(c.target - band, c.target + band, color="tab:green", alpha=0.15, lw=0, label="target +- tolerance")
    ax.axhline(c.target, color="tab:green", lw=1)
    ax.errorbar(t[c.parameter], t["kpi_mean"], yerr=[t["kpi_mean"] - t["ci_low"], t["ci_high"] - t["kpi_mean"]],
                marker="o", ms=4, capsize=3, lw=1, color="tab:blue", label="simulated (95 % interval)")
    for _, r in t.iterrows():
        ax.annotate(str(int(r["evaluation"])), (r[c.parameter], r["kpi_mean"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=7)
    ax.axvline(c.value, color="grey", ls=":", lw=1, label=f"fitted {c.value:g}")
    ax.set_xlabel(c.parameter)
    ax.set_ylabel(c.kpi)
    ax.set_title(f"Calibration of {c.municipality} (numbers: order of the evaluations)", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def write_calibration(c: Calibration, figures: bool = True) -> Path:
    """Store the run at the fitted value, then results/calibrations/<id>/ (atomic), then the catalog row."""
    from .store import CATALOG, new_id, register_folder, results_dir, write_atomic, write_run

    run_dir = write_run(c.result)
    base = results_dir(c.result)
    now = _dt.datetime.now()
    cid = new_id(c.municipality, c.overrides, now)

    def fill(d: Path) -> None:
        c.table().to_csv(d / "evaluations.csv", index=False)
        c.check().to_csv(d / "check.csv", index=False)
        (d / "calibrated.yaml").write_text(overlay_yaml(c))
        (d / "summary.txt").write_text(calibration_text(c) + f"\nrun at the fitted value: {run_dir}\n")
        if figures:
            plot_calibration(c, d / "calibration.png")

    final = write_atomic(base / CALIBRATION_DIR, cid, fill)
    register_folder(base / CATALOG, "calibrations",
                    [cid, now, c.municipality, c.parameter, c.kpi, c.target, c.start, c.value, c.converged,
                     len(c.evaluations), c.result.run_id, str(final), " ".join(c.overrides)], final)
    c.calibration_id, c.calibration_dir = cid, final
    return final

