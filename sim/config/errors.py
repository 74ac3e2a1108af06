"""The one exception of bad input."""
from __future__ import annotations


class ConfigError(ValueError):
    """A configuration problem, phrased as one line: key, value, what is allowed."""
