"""Python API for notebooks and scripts."""
from __future__ import annotations

from .config import plan
from .runner import Results, execute


def simulate(overrides: list[str] | tuple[str, ...] = (), write: bool | None = None,
             progress: bool | None = None) -> Results:
    """Compose, validate, run and (unless ``write=False`` or ``output.write=false``) store a run.

    ``overrides`` are Hydra overrides, e.g. ``["run.replications=5", "compare=[earlier_detection]"]``.
    Returns a :class:`Results` with tidy DataFrames ``kpis``, ``timeseries``, ``summary``,
    ``comparison`` and ``children``, and ``run_dir`` when stored.
    """
    p = plan(list(overrides))
    res = execute(p, progress=progress)
    do_write = p.arms[p.reference].output.write if write is None else write
    if do_write:
        from .store import write_run
        write_run(res)
    return res
