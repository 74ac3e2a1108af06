"""Unit conversions used everywhere (not parameters): time in days, rates per day, money in DKK."""
from __future__ import annotations

import math

DAYS_PER_YEAR = 365.25          # unit conversion, not a parameter
MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR
INF = math.inf
