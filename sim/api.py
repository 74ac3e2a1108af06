"""The one pipeline - plan, run, metrics, files - used by the command line and by notebooks.

Layer 8: everything below it. ``simulate`` is what ``python -m sim`` does for each job. Every entry point
checks that its overrides are a list of 'key=value' strings, so a string or None is a one-line
ConfigError like any other bad input, not an AttributeError or TypeError.
"""
from __future__ import annotations

from .analyses.calibrate import Calibration
from .analyses.calibrate import calibrate as _calibrate
from .analyses.sensitivity import SensitivityResult
from .analyses.sensitivity import sensitivity as _sensitivity
from .analyses.uncertainty import UncertaintyResult
from .analyses.uncertainty import uncertainty as _uncertainty
from .config import ConfigError, Plan, check_overrides, plan
from .publish import write_run
from .runner import Results, execute
from .store import OutputDirError, check_output_dir

__all__ = ["simulate", "run_plan", "calibrate", "sensitivity", "uncertainty", "ConfigError"]


def _flag(name: str, value) -> None:
    """ConfigError unless ``value`` is True, False or None (None: the configuration's own setting)."""
    if value is not None and not isinstance(value, bool):
        raise ConfigError(f"{name} = {value!r}: allowed: True, False or None (None: the configuration's "
                          f"output.{name})")


def run_plan(p: Plan, write: bool | None = None, progress: bool | None = None,
             sweep_id: str | None = None) -> Results:
    """Run a validated plan and (unless ``write=False`` or ``output.write=false``) store it atomically in its
    run folder and the catalog; ``sweep_id`` tags it as a job of a sweep. output.dir is checked before
    anything runs (ConfigError if it cannot be used)."""
    _flag("write", write)
    _flag("progress", progress)
    if not isinstance(p, Plan):
        raise ConfigError(f"p = {p!r}: must be a Plan, e.g. sim.plan([\"run.seed=1\"])")
    do_write = p.arms[p.reference].output.write if write is None else write
    if do_write:
        where = p.arms[p.reference].output.dir
        try:
            check_output_dir(where)
        except OutputDirError as err:
            raise ConfigError(f"output.dir = {where!r}: {err}") from None
    res = execute(p, progress=progress)
    if do_write:
        write_run(res, sweep_id=sweep_id)
    return res


def simulate(overrides: list[str] | tuple[str, ...] = (), write: bool | None = None,
             progress: bool | None = None) -> Results:
    """Compose, validate, run and (unless ``write=False`` or ``output.write=false``) store a run.

    ``overrides`` are Hydra overrides, e.g. ``["run.replications=5", "compare=[earlier_detection]"]``.
    Returns a :class:`Results` with tidy DataFrames ``kpis``, ``timeseries``, ``summary``,
    ``comparison`` and ``children``, and ``run_dir`` when stored.
    """
    return run_plan(plan(check_overrides(overrides)), write=write, progress=progress)     # run_plan checks the flags


def calibrate(overrides: list[str] | tuple[str, ...] = (), progress: bool | None = None, echo=print) -> Calibration:
    """Fit ``calibration.parameter`` (and ``calibration.joint``) to the municipality's key figures; see
    :func:`sim.analyses.calibrate.calibrate`. ConfigError (one line) for bad input."""
    _flag("progress", progress)
    return _calibrate(check_overrides(overrides), progress=progress, echo=echo)


def sensitivity(overrides: list[str] | tuple[str, ...] = (), progress: bool | None = None,
                echo=print) -> SensitivityResult:
    """The one-at-a-time sensitivity of the comparison; see :func:`sim.analyses.sensitivity.sensitivity`.
    ConfigError (one line) for bad input."""
    _flag("progress", progress)
    return _sensitivity(check_overrides(overrides), progress=progress, echo=echo)


def uncertainty(overrides: list[str] | tuple[str, ...] = (), progress: bool | None = None,
                echo=print) -> UncertaintyResult:
    """The joint uncertainty of the comparison; see :func:`sim.analyses.uncertainty.uncertainty`.
    ConfigError (one line) for bad input."""
    _flag("progress", progress)
    return _uncertainty(check_overrides(overrides), progress=progress, echo=echo)
