"""Unit conversions used everywhere (not parameters): time in days, rates per day, money in DKK."""
from __future__ import annotations

import datetime as _dt
import math

DAYS_PER_YEAR = 365.25          # unit conversion, not a parameter
MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR
INF = math.inf


def budget_year(date: _dt.date) -> tuple[int, int]:
    """(budget year, days from ``date`` to its start) of a forecast from ``date`` (a caseload date): the date's own
    year (0 days) - or the next, from 1 January, when less than half a month of the year is left after it."""
    left = (_dt.date(date.year, 12, 31) - date).days
    return (date.year + 1, left) if left < DAYS_PER_MONTH / 2 else (date.year, 0)
