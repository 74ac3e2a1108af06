"""The plan of a run: the validated configuration of the warm-up and of every compared arm."""
from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict

from .compose import check_overrides, compose_tree, scenario_override, selected_scenario, strip_scenario, validate
from .errors import ConfigError
from ..common.units import budget_year
from .inputs import read_budget, read_caseload
from .schema import BASELINE, Config

# the groups of practice that a ramp moves gradually; the rest (run, output, investments, ...) is the arm's
BLENDED = ("staircase", "need", "detection", "casework", "costs")


def blend(current: Config, arm: Config, w: float) -> Config:
    """The configuration ``w`` of the way (0..1) from ``current`` practice to ``arm``'s: in the groups of
    BLENDED, every number both have is interpolated (whole numbers rounded), lists of equal length element
    by element, and mappings key by key over the arm's keys; anything else - texts, switches, a value only
    the arm has (a number for null, a new key) - is the arm's already. Validated like any configuration."""

    def mix(a, b):
        if isinstance(a, bool) or isinstance(b, bool) or a == b:
            return b
        if isinstance(a, int) and isinstance(b, int):
            return int(round(a * (1 - w) + b * w))
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a * (1 - w) + b * w           # exactly a at w = 0 and b at w = 1
        if isinstance(a, dict) and isinstance(b, dict):
            return {k: mix(a[k], v) if k in a else v for k, v in b.items()}
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
            return type(b)(mix(x, y) for x, y in zip(a, b))
        return b

    a, b = current.model_dump(), arm.model_dump()
    return Config.model_validate({k: mix(a[k], v) if k in BLENDED else v for k, v in b.items()})


class Plan(BaseModel):
    """Everything one run needs: validated configs of the warm-up and of each arm."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    overrides: list[str]
    warmup: Config
    arms: dict[str, Config]          # arm name -> config (first is the reference arm)
    reference: str
    tree: dict                        # composed tree of the reference arm (for saving)
    caseload: Any = None              # inputs.Caseload: today's open cases (caseload=<file>), or None
    budget: Any = None                # inputs.Budget: counts x unit prices per measure (budget=<file>), or None


WARMUP = "(warm-up)"

# The tables of a run (KPIs, monthly series, the per-child ledger) stay in memory until it is stored: about
# 0.25 MB per arm, replication and horizon year for the average municipality, twice that while they are
# gathered. A run whose estimate exceeds half of this machine's memory is refused before it starts.
MB_PER_ARM_REPLICATION_YEAR = 0.5
FALLBACK_MEMORY_GB = 16.0         # when the machine's memory cannot be read


def memory_gb() -> float:
    """This machine's memory in GB (FALLBACK_MEMORY_GB where it cannot be read)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (AttributeError, ValueError, OSError):
        return FALLBACK_MEMORY_GB


def check_memory(arms: int, replications: int, horizon_years: int) -> None:
    """ConfigError if the tables of ``arms`` x ``replications`` runs would not fit in half of the memory."""
    need = arms * replications * horizon_years * MB_PER_ARM_REPLICATION_YEAR / 1000
    have = memory_gb() / 2
    if need > have:
        raise ConfigError(f"run.replications = {replications}: {arms} arm(s) x {replications} replications x "
                          f"{horizon_years} years would hold about {need:,.0f} GB of tables in memory; allowed: at most "
                          f"half of this machine's memory ({have:,.0f} GB) - use fewer replications or arms in compare")


def check_arms(compare: list[str]) -> None:
    """ConfigError if ``compare`` names an arm twice, or an arm a+b names a scenario twice: a planner who lists an
    arm twice expects two arms, and would get one (the same runs)."""
    for i, entry in enumerate(compare):
        parts = [p.strip() for p in entry.split("+")]
        twice = next((p for j, p in enumerate(parts) if p in parts[:j]), None)
        if twice is not None:
            raise ConfigError(f"compare = {list(compare)!r}: the arm {entry!r} names {twice!r} twice; allowed: each "
                              f"scenario once in an arm (a+b combines two different scenarios)")
        if entry in compare[:i]:
            raise ConfigError(f"compare = {list(compare)!r}: {entry!r} is given twice; allowed: each arm once (a "
                              f"second would be the same runs, with the same seeds)")


def _arm(overrides: list[str]) -> Config:
    """The validated configuration of one arm (a problem with a key a scenario file sets names the file)."""
    return validate(compose_tree(overrides), overrides)


def plan(overrides: list[str] | tuple[str, ...] = (), arm_overrides: dict[str, list[str]] | None = None) -> Plan:
    """Compose and validate the reference arm, every compared arm and the warm-up config.

    ``arm_overrides`` adds overrides for single arms (by arm name, or WARMUP for the warm-up), applied
    after ``overrides``; the sensitivity analysis uses it to scale a parameter a scenario sets itself."""
    overrides = check_overrides(overrides)
    if arm_overrides is not None and not isinstance(arm_overrides, dict):
        raise ConfigError(f"arm_overrides = {arm_overrides!r}: must be a mapping of arm name to a list of overrides")
    extra = {arm: check_overrides(ov, f"arm_overrides[{arm!r}]") for arm, ov in (arm_overrides or {}).items()}
    reference = selected_scenario(overrides)
    tree = compose_tree(overrides + extra.get(reference, []))
    ref_cfg = validate(tree, overrides + extra.get(reference, []))
    check_arms(ref_cfg.compare)
    base_overrides = strip_scenario(overrides)
    warm = (_arm(base_overrides + [scenario_override(BASELINE)] + extra.get(WARMUP, []))
            if reference != BASELINE or WARMUP in extra else ref_cfg)
    arms = {reference: ref_cfg}
    for entry in ref_cfg.compare:
        if entry == reference or entry in arms:
            continue
        arms[entry] = _arm(base_overrides + [scenario_override(entry)] + extra.get(entry, []))
    # The run settings and outputs must agree across arms: pairing needs the same seeds and horizon.
    for name, cfg in arms.items():
        if cfg.run != ref_cfg.run:
            raise ConfigError(f"scenario {name!r} changes run.*: scenarios may change mechanisms only, not the experiment")
        if (cfg.municipality.children_0_17, cfg.municipality.young_18_22, cfg.municipality.population_growth_per_year) != \
                (ref_cfg.municipality.children_0_17, ref_cfg.municipality.young_18_22, ref_cfg.municipality.population_growth_per_year):
            raise ConfigError(f"scenario {name!r} changes the population: scenarios may change mechanisms only")
        if list(cfg.need.levels) != list(ref_cfg.need.levels) or list(cfg.staircase.steps) != list(ref_cfg.staircase.steps):
            raise ConfigError(f"scenario {name!r} changes the need levels or the list of steps; compared arms must share them")
        for key in ("caseload", "caseload_date", "budget"):
            if getattr(cfg, key) != getattr(ref_cfg, key):
                raise ConfigError(f"scenario {name!r} sets {key}: the municipality's own files are the same in every arm")
    check_memory(len(arms), ref_cfg.run.replications, ref_cfg.run.horizon_years)
    caseload = read_caseload(ref_cfg.caseload, ref_cfg, ref_cfg.caseload_date) if ref_cfg.caseload else None
    if caseload is None and ref_cfg.caseload_date is not None:
        raise ConfigError(f"caseload_date = {ref_cfg.caseload_date.isoformat()!r}: used only with caseload=<file>; "
                          "allowed: null, or give the caseload file as well")
    budget = read_budget(ref_cfg.budget, ref_cfg) if ref_cfg.budget else None
    if budget is not None and caseload is not None:
        year = budget_year(caseload.date)[0]
        index = ref_cfg.costs.price_index
        if year != ref_cfg.costs.price_year and year not in index:
            # the budget is in its year's prices: without the year's index it would be compared with the model's
            # price year, and the price part of the deviation would be the inflation since then
            raise ConfigError(f"costs.price_index has no {year}, the budget year of caseload_date {caseload.date}: "
                              f"the budget ({ref_cfg.budget}) is in {year} prices; allowed: the years "
                              f"{min(index)}-{max(index)}, or add +costs.price_index.{year}=<index, "
                              f"{ref_cfg.costs.price_year} = {index.get(ref_cfg.costs.price_year, 100):g}>")
    return Plan(overrides=overrides, warmup=warm, arms=arms, reference=reference, tree=tree,
                caseload=caseload, budget=budget)
