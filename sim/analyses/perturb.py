"""Perturbation helpers shared by the analyses: a comparison's plan, and a parameter's value moved within
its range in every arm (a scenario's own value scaled or offset alike)."""
from __future__ import annotations

import numpy as np

from ..config import WARMUP, ConfigError, config_value, plan, switched_off
from ..report.format import fmt


def comparison_plan(overrides: list[str], what: str):
    """The plan of ``overrides`` and its reference arm's config; ConfigError unless it compares scenarios."""
    p0 = plan(overrides)
    if len(p0.arms) < 2:
        raise ConfigError(f"compare = []: {what} compares scenarios with the reference; "
                          "name at least one, e.g. compare=[full_shift]")
    return p0, p0.arms[p0.reference]


def applicable(cfg, group: str, params: list, echo=print) -> list:
    """The ranges whose parameter is there in the reference ``cfg``; one line per range left out because
    its section is switched off (e.g. a family pool replaced by a fixed capacity)."""
    kept = []
    for i, prm in enumerate(params):
        off = switched_off(cfg, prm.key)
        if off:
            echo(f"{group}.parameters[{i}] = {prm.key}: left out, {off} is switched off (null) in this configuration")
        else:
            kept.append(prm)
    return kept


def arm_values(p0, key: str, where: str, offset: bool = False):
    """The reference arm's value at ``key`` and {arm: value} of the arms (and the warm-up) that set
    their own; ConfigError if they do and the reference's is 0 (no factor carries it over) - unless the
    range is an offset, which is added to each arm's own value."""
    # an arm with the section switched off has nothing to vary there
    values = {arm: config_value(acfg, key) for arm, acfg in p0.arms.items() if not switched_off(acfg, key)}
    if not switched_off(p0.warmup, key):
        values[WARMUP] = config_value(p0.warmup, key)
    ref_value = values[p0.reference]
    own = {arm: v for arm, v in values.items() if v != ref_value}
    if own and ref_value == 0 and not offset:
        raise ConfigError(f"{where} = {key!r}: the arm(s) {', '.join(own)} set their own value and the "
                          f"reference's is 0, so it cannot be varied by the same factor in every arm")
    return ref_value, own


def range_value(prm, x: float, ref_value):
    """A point ``x`` of a parameter's range as the value to set: a factor on ``ref_value`` if the range is
    relative, added to it if it is an offset; a whole number if the parameter is one."""
    v = x * ref_value if prm.relative else ref_value + x if prm.offset else x
    return as_value(v, isinstance(ref_value, int))


def scaled_in_arms(key: str, v, ref_value, own: dict, offset: bool = False) -> tuple[dict[str, list[str]], str]:
    """Per-arm overrides giving each arm with its own value that value times v / ref_value (or, for an
    offset range, plus v - ref_value), and a description of them (warm-up left out)."""
    is_int = isinstance(ref_value, int)
    factor = v / ref_value if ref_value else 1.0
    new = {arm: as_value(own_v + (v - ref_value) if offset else own_v * factor, is_int) for arm, own_v in own.items()}
    per_arm = {arm: [f"{key}={nv!r}"] for arm, nv in new.items()}
    scaled = ", ".join(f"{arm} {fmt_value(own[arm])} -> {fmt_value(nv)}" for arm, nv in new.items() if arm != WARMUP)
    return per_arm, scaled


def as_value(x: float, is_int: bool):
    """x as a parameter value: rounded to a whole number, or to 6 significant digits."""
    return int(round(x)) if is_int else float(f"{x:.6g}")


def fmt_value(x: float) -> str:
    """A parameter value for people: whole numbers below 1,000 as such (12 months, not 12.0), else as fmt."""
    return str(int(x)) if np.isfinite(x) and float(x).is_integer() and abs(x) < 1000 else fmt(x)
