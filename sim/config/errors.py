"""The one exception of bad input."""
from __future__ import annotations


class ConfigError(ValueError):
    """A configuration problem, phrased as one line: key, value, what is allowed."""


class RunFault(ConfigError):
    """A run that ended for a reason outside its input (its Dask scheduler lost during the run): one line like bad
    input, but exit code 1, not 2 - the input was fine and the same command may succeed again."""

    exit_code = 1
