"""Discrete-event simulation of the Danish intervention staircase (indsatstrappen)."""
from .api import simulate
from .calibrate import calibrate
from .config import ConfigError, available_scenarios, plan
from .runner import Results

__all__ = ["simulate", "calibrate", "plan", "ConfigError", "available_scenarios", "Results"]
