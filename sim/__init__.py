"""Discrete-event simulation of the Danish intervention staircase (indsatstrappen).

The package is layered; each layer imports only those below it (``tests/unit/test_layers.py``):
common, config, model, metrics, report, runner, store, publish, analyses, api, cli. See
``docs/architecture.md``.
"""
from .api import calibrate, simulate
from .config import ConfigError, available_scenarios, plan
from .runner import Results

__all__ = ["simulate", "calibrate", "plan", "ConfigError", "available_scenarios", "Results"]
