"""Metrics: KPIs of a replication, interval statistics, the budget by measure, payback and headroom.

Layer 3: imports ``sim.common`` and ``sim.model`` (the raw arrays of a replication). Functions that
take a run's results use only its tables and plan (any object with ``kpis``, ``timeseries``,
``reference``, ``arms`` and ``plan``), so they never import the runner above them.
"""
from .budget import budget, budget_difference, budget_replications
from .kpis import replication_children, replication_kpis, replication_timeseries
from .payback import cumulative_paired, headroom, payback, payback_years
from .stats import paired_differences, summarise, t_interval
from .targets import calibration

__all__ = ["budget", "budget_difference", "budget_replications", "replication_children", "replication_kpis",
           "replication_timeseries", "cumulative_paired", "headroom", "payback", "payback_years",
           "paired_differences", "summarise", "t_interval", "calibration"]
