"""Discrete-event simulation of the Danish intervention staircase (indsatstrappen).

The package is layered; each layer imports only those below it (``tests/unit/test_layers.py``):
common, config, model, metrics, report, runner, store, publish, analyses, api, cli. See
``docs/architecture.md``.

The names below are loaded on first use (PEP 562), so that ``python -m sim`` reaches its own handling of
Ctrl-C before the heavy libraries (pandas, SciPy, Hydra) load.
"""
from __future__ import annotations

import importlib

_LAZY = {"simulate": ".api", "calibrate": ".api", "plan": ".config", "ConfigError": ".config",
         "available_scenarios": ".config", "Results": ".runner"}

__all__ = ["simulate", "calibrate", "plan", "ConfigError", "available_scenarios", "Results"]


def __getattr__(name: str):
    """``sim.simulate`` etc.: imported from its module on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
