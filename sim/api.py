"""The one pipeline - plan, run, metrics, files - used by the command line and by notebooks.

Layer 8: everything below it. ``simulate`` is what ``python -m sim`` does for each job.
"""
from __future__ import annotations

from .analyses.calibrate import calibrate
from .analyses.sensitivity import sensitivity
from .analyses.uncertainty import uncertainty
from .config import ConfigError, Plan, plan
from .publish import write_run
from .runner import Results, execute

__all__ = ["simulate", "run_plan", "calibrate", "sensitivity", "uncertainty", "ConfigError"]


def run_plan(p: Plan, write: bool | None = None, progress: bool | None = None,
             sweep_id: str | None = None) -> Results:
    """Run a validated plan and (unless ``write=False`` or ``output.write=false``) store it atomically in its
    run folder and the catalog; ``sweep_id`` tags it as a job of a sweep."""
    res = execute(p, progress=progress)
    do_write = p.arms[p.reference].output.write if write is None else write
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
    return run_plan(plan(list(overrides)), write=write, progress=progress)
