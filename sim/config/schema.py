"""The configuration schema: strict pydantic models of every group in ``conf/`` and their cross-checks.

The composed tree is validated by these models, which forbid unknown keys and check ranges and
cross-references, so that a bad input never reaches the simulation; every problem is phrased as
one line (key, value, what is allowed) in a :class:`ConfigError`.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import types
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, Optional, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..common.kpi_catalog import KPI_DEFS, TARGET_KPIS
from ..common.paths import SCENARIO_DIR
from ..common.units import MONTHS_PER_YEAR
from .errors import ConfigError


# --------------------------------------------------------------------------- schema

def available_scenarios() -> list[str]:
    """The scenarios in scenarios/ (their file names, sorted)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))



class Text(NamedTuple):
    """Text found where a number (or true/false: ``boolean``) is meant (bool_for_number)."""
    text: str
    boolean: bool


def bool_for_number(value: Any, annotation: Any) -> tuple[str, bool | Text] | None:
    """Where ``value`` holds true or false in a place where ``annotation`` wants a number - or text (a quoted
    '3' or 'true') where it wants a number or true/false - and which: where is '' for the value itself, '.key'
    or '[i]' (and deeper) inside a mapping or list; None if nowhere. (pydantic would read true as 1, '3' as 3.)"""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return bool_for_number(value, args[0])
    if origin in (Union, types.UnionType):
        if (isinstance(value, bool) and bool in args) or (isinstance(value, str) and any(
                a is str or (get_origin(a) is Literal and value in get_args(a)) for a in args)):
            return None
        found = (bool_for_number(value, a) for a in args if a is not type(None))
        return next((w for w in found if w is not None), None)
    if isinstance(value, bool):
        return ("", value) if annotation in (int, float) else None
    if isinstance(value, str):                  # '3' or 'true' (quoted): pydantic would read them as 3 and True
        return ("", Text(value, annotation is bool)) if annotation in (int, float, bool) else None
    inner: list = []
    if origin is dict and isinstance(value, dict):
        inner = [(f".{k}", v, args[1]) for k, v in value.items()]
    elif origin in (list, tuple) and isinstance(value, (list, tuple)):
        inner = [(f"[{i}]", v, args[0] if origin is list or args[-1] is Ellipsis else
                  (args[i] if i < len(args) else Any)) for i, v in enumerate(value)]
    for where, v, item in inner:
        found = bool_for_number(v, item)
        if found is not None:
            return where + found[0], found[1]
    return None


class _Strict(BaseModel):
    """The base of every group: unknown keys refused, numbers finite (no inf or nan; an unbounded setting
    is null where its key allows it) and never true or false."""
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, (bool, str, dict, list, tuple)):        # most values: nothing to look into
            return value
        found = bool_for_number(value, cls.__pydantic_fields__[info.field_name].annotation)
        if found is None:
            return value
        if isinstance(found[1], Text):
            raise PydanticCustomError("text_for_scalar", "a number or true/false is meant here, not text",
                                      {"where": found[0], "text": found[1].text,
                                       "meant": "true or false" if found[1].boolean else "a number"})
        raise PydanticCustomError("bool_for_number", "a number is meant here, not true or false",
                                  {"where": found[0], "flag": str(found[1]).lower()})


    # fields whose key sets a bound of its own above MAX_NUMBER (size_bounds), e.g. run.seed
    OWN_BOUND: ClassVar[frozenset] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _no_huge_number(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, (float, int)) and abs(value) <= MAX_NUMBER or info.field_name in cls.OWN_BOUND:
            return value                                                    # most values: done
        found = huge_number(value)
        if found is not None:
            raise PydanticCustomError("number_too_large", "a number of this size is not meant here",
                                      {"where": found[0], "number": found[1]})
        return value


# The largest number (in size) any setting takes where its key sets no bound of its own: a cost, a rate, a
# weight or a factor beyond it describes no municipality, and the sums of costs and outcomes over children and
# months overflow long before 1e308 (a run then wrote '-' for every total, or failed with a traceback).
MAX_NUMBER = 1e12


def huge_number(value: Any) -> tuple[str, float] | None:
    """(where inside ``value``, the number) of the first number (float or whole number; true and false are neither
    here) larger in size than MAX_NUMBER in a value, a list or a mapping of them (nested settings groups check their
    own), or None."""
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return ("", value) if abs(value) > MAX_NUMBER else None
    items = (value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple))
             else ())
    for k, v in items:
        found = huge_number(v)
        if found is not None:
            return (f"[{k}]" if isinstance(k, int) else f".{k}") + found[0], found[1]
    return None


BASELINE = "baseline"      # the scenario of current practice (the warm-up and the default reference arm)

NonNeg = Field(ge=0)
Prob = Field(ge=0, le=1)

# Bounds that keep a run finite. A follow-up or a course shorter than a day, or a rate above one event a day
# per child, would make the simulation take practically for ever without describing any practice.
MIN_INTERVAL_DAYS = 1
MAX_RATE_PER_YEAR = 365
RATE_WHY = "once a day per child; a higher rate would make the run take practically for ever"
# Bounds on the size of the experiment (see conf/run/default.yaml). A run inside them can still be long;
# they stop a slip of the keyboard (an extra 0, years for months) from hanging a machine or exhausting
# its memory, and say so before anything runs.
MAX_REPLICATIONS = 10_000
MAX_HORIZON_YEARS = 50
MAX_WARMUP_YEARS = 100
WORKERS_PER_CPU = 4
MAX_SEED = 2**63 - 1


def max_workers() -> int:
    """The most worker processes a run may ask for: WORKERS_PER_CPU per CPU this process may use."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:           # not on Linux
        cpus = os.cpu_count() or 1
    return WORKERS_PER_CPU * cpus


def size_bounds() -> list[tuple[str, float, str]]:
    """(key, most allowed, why) for every setting that makes a run larger; ``*`` stands for every name."""
    reps = ("the intervals narrow only with the square root of the replications, and every replication "
            "of every arm keeps its tables in memory")
    return [
        ("run.replications", MAX_REPLICATIONS, reps),
        ("run.horizon_years", MAX_HORIZON_YEARS, "far beyond any budget's payback window of 2-4 years"),
        ("run.warmup_years", MAX_WARMUP_YEARS, "after 23 years every child present at the start has left the "
                                               "system; a longer warm-up only takes time"),
        ("run.workers", max_workers(), f"{WORKERS_PER_CPU} worker processes per CPU of this machine; more only "
                                       f"take memory"),
        ("run.seed", MAX_SEED, "the catalog stores it as a 64-bit integer"),
        ("implementation.ramp_months", MAX_HORIZON_YEARS * MONTHS_PER_YEAR,
         f"{MAX_HORIZON_YEARS} years, the longest horizon; every month of a ramp is a configuration of its own"),
        ("municipality.population", 6_000_000, "the population of Denmark"),
        ("sensitivity.replications", MAX_REPLICATIONS, reps),
        ("uncertainty.replications", MAX_REPLICATIONS, reps),
        ("uncertainty.samples", 10_000, "every parameter set is a whole run of every arm"),
        ("calibration.max_evaluations", 1_000, "every evaluation is a whole run"),
        ("staircase.steps.*.breakdown_rate_per_year", MAX_RATE_PER_YEAR, RATE_WHY),
        ("casework.aftercare.exit_rate_per_year", MAX_RATE_PER_YEAR, RATE_WHY),
        ("need.onset_scale", 100, "a hundred times the configured rates of new need (the calibration searches "
                                  "0.05-20); every onset is a child of its own in the simulation"),
    ]


class Targets(_Strict):
    """municipality.targets: the key figures the baseline is calibrated against (reported, not imposed)
    [003 Table 1.1]: placed per 1,000 aged 0-22, DKK per 0-22-year-old per year (spending on services,
    caseworkers' salaries not included: KPI spending_per_child_0_22_dkk), placements' share of that spending,
    caseworker utilisation; and the expected spending need per 0-22-year-old, a check that no KPI is matched
    against (docs/model.md 3.3)."""
    placed_per_1000_0_22: float = Field(ge=0)
    spending_per_child_0_22_dkk: float = Field(ge=0)
    placement_share_of_spending: float = Field(ge=0, le=1)
    caseworker_utilisation: float = Field(gt=0, le=2)      # work done / standard hours (a team working harder: > 1)
    expected_spending_need_per_child_0_22_dkk: float = Field(gt=0)   # DKK per 0-22-year-old per year [003 Table 1.1]


class Municipality(_Strict):
    """municipality: the municipality's name, population (inhabitants, children 0-17, young people 18-22,
    growth per year) and key figures [003 Table 1.1]."""
    name: str
    label: str
    label_da: str = ""          # the label in Danish outputs (output.language=da); "" = the label as it is
    population: int = Field(gt=0)
    children_0_17: int = Field(gt=0)
    young_18_22: int = Field(ge=0)
    population_growth_per_year: float = Field(ge=-0.2, le=0.2)
    targets: Targets

    @model_validator(mode="after")
    def _within_population(self):
        if self.children_0_17 + self.young_18_22 > self.population:
            raise ConfigError(f"municipality.children_0_17 = {self.children_0_17}: children 0-17 and young people 18-22 "
                              f"({self.young_18_22}) cannot outnumber the population ({self.population}); allowed: "
                              f"children_0_17 + young_18_22 <= population")
        return self


PER_1000 = 1000      # children per thousand: sizes given per 1,000 children aged 0-17 (a unit, not a parameter)


def per_1000_children(value: float, children_0_17: int) -> float:
    """A size given per 1,000 children aged 0-17, for a municipality with ``children_0_17`` of them."""
    return value * children_0_17 / PER_1000


class FamilyPool(_Strict):
    """staircase.steps.<name>.family_pool: the approved families a family-based placement step draws on (one
    child each): the pool at the start (per 1,000 children 0-17), families approved per year (per 1,000
    children 0-17, from recruitment_lag_months after the practice that recruits them), the cost of recruiting
    one (DKK), the probability that a family leaves when its placement ends, and the share of free families
    leaving per year."""
    families_per_1000_children: float = Field(ge=0, le=PER_1000)
    recruited_per_year_per_1000_children: float = Field(ge=0, le=PER_1000)
    recruitment_lag_months: int = Field(ge=0, le=120)
    cost_per_recruited_family_dkk: float = Field(ge=0)
    leave_after_placement_prob: float = Field(ge=0, le=1)
    free_leave_per_year: float = Field(ge=0, le=12)


class LevelFactors(_Strict):
    """staircase.steps.<name>.level_factors.<level>: how well the step works for a child of that need level, as
    factors on the step's own recovery_multiplier (efficacy) and breakdown_rate_per_year."""
    recovery: float = Field(default=1.0, ge=0)
    breakdown: float = Field(default=1.0, ge=0)


class Step(_Strict):
    """staircase.steps.<name>: one step of the staircase - order, labels, placement or not, cost (DKK per
    child-year and fixed per year, absolute and per 1,000 children 0-17), capacity (absolute or per 1,000
    children 0-17), age range (years), effect on need, course length, follow-ups."""
    order: int = Field(ge=0)
    label_da: str
    label_en: str
    placement: bool
    requires_case: bool
    cost_per_year_dkk: float = Field(ge=0)
    fixed_cost_per_year_dkk: float = Field(ge=0)
    # DKK per year per 1,000 children aged 0-17, added to fixed_cost_per_year_dkk (a unit's staff that scales
    # with the municipality)
    fixed_cost_per_year_dkk_per_1000_children: float = Field(default=0.0, ge=0)
    capacity: Optional[int] = Field(default=None, ge=0)
    # places per 1,000 children aged 0-17 instead of capacity (at most one of them; both None = unlimited)
    capacity_per_1000_children: Optional[float] = Field(default=None, ge=0, le=PER_1000)
    min_age: float = Field(ge=0)
    max_age: float = Field(gt=0)
    recovery_multiplier: float = Field(ge=0)
    # factor on recovery during a bounded stay (max_duration_days applies to it), e.g. an intensive short stay;
    # None = recovery_multiplier
    bounded_recovery_multiplier: Optional[float] = Field(default=None, ge=0)
    escalation_multiplier: float = Field(ge=0)
    breakdown_rate_per_year: float = Field(ge=0)
    # efficacy and breakdown by need level: factors on recovery_multiplier and breakdown_rate_per_year (levels
    # not named: 1); e.g. family-based care for severe needs [assumption]
    level_factors: dict[str, LevelFactors] = Field(default_factory=dict)
    # probability that a network search finds a suitable family when the step is considered (kinship/network
    # care); None = the step is always available
    network_search_success: Optional[float] = Field(default=None, ge=0, le=1)
    family_pool: Optional[FamilyPool] = None        # None = places are not limited by a pool of families
    max_duration_days: Optional[tuple[float, float]] = None
    max_duration_ages: Optional[tuple[float, float]] = None     # [from, to) years; None = every age
    on_max_duration: Literal["rematch", "step_down", "end"]
    followup_interval_days: Optional[float] = Field(default=None, ge=MIN_INTERVAL_DAYS)

    @field_validator("max_duration_days")
    @classmethod
    def _duration(cls, v):
        if v is not None and not (MIN_INTERVAL_DAYS <= v[0] <= v[1]):
            raise ValueError(f"must be [min, max] days with {MIN_INTERVAL_DAYS} <= min <= max (a course of under a "
                             f"day would end and start again without end)")
        return v

    @field_validator("max_duration_ages")
    @classmethod
    def _duration_ages(cls, v):
        if v is not None and not (0 <= v[0] < v[1]):
            raise ValueError("must be [from, to) years with 0 <= from < to")
        return v

    @model_validator(mode="after")
    def _ages(self):
        if self.max_age <= self.min_age:
            raise ValueError(f"max_age ({self.max_age}) must exceed min_age ({self.min_age})")
        return self

    def places(self, children_0_17: int) -> Optional[int]:
        """Children at a time in a municipality with ``children_0_17`` children: capacity, or
        capacity_per_1000_children x children / 1,000 rounded to whole places (at least 1 when it is above 0);
        None = unlimited."""
        if self.capacity is not None or self.capacity_per_1000_children is None:
            return self.capacity
        if self.capacity_per_1000_children == 0:
            return 0
        return max(1, round(per_1000_children(self.capacity_per_1000_children, children_0_17)))

    def fixed_cost_per_year(self, children_0_17: int) -> float:
        """DKK per year in a municipality with ``children_0_17`` children: fixed_cost_per_year_dkk plus
        fixed_cost_per_year_dkk_per_1000_children x children / 1,000."""
        return self.fixed_cost_per_year_dkk + per_1000_children(self.fixed_cost_per_year_dkk_per_1000_children,
                                                                children_0_17)


class Mismatch(_Strict):
    """staircase.mismatch: the share of a step's effect kept when the step is below the need, or more
    intrusive than it."""
    too_low_efficacy: float = Prob
    too_high_efficacy: float = Prob


class Staircase(_Strict):
    """staircase: the intervention staircase [001, 003 box 2.2] - its steps, the ground step, the matching
    rule from need level to step (weights, tilt, age factors), what happens when a step is full, mismatch."""
    ground_step: str
    steps: dict[str, Step]

    @field_validator("steps")
    @classmethod
    def _at_least_one_step(cls, steps: dict) -> dict:
        if len(steps) < 2:
            shown = "{}" if not steps else "{" + ", ".join(f"{k}: ..." for k in steps) + "}"
            raise ConfigError(f"staircase.steps = {shown}: needs at least one step besides the ground step")
        return steps

    @field_validator("steps")
    @classmethod
    def _one_capacity_per_step(cls, steps: dict) -> dict:
        for name, st in steps.items():
            if st.capacity is not None and st.capacity_per_1000_children is not None:
                key = f"staircase.steps.{name}"
                raise ConfigError(f"{key}.capacity = {st.capacity} and {key}.capacity_per_1000_children = "
                                  f"{st.capacity_per_1000_children}: give one of them and set the other to null "
                                  f"(places at a time, absolute or per 1,000 children aged 0-17)")
        return steps
    matching: dict[str, dict[str, dict[str, float]]]
    # log-odds per staircase step within a tier (see conf/staircase); beyond +-10 (odds x22,000 a step) the
    # choice is all one step already
    matching_tilt: float = Field(default=0.0, ge=-10, le=10, allow_inf_nan=False)
    # age group -> step -> factor on the step's weight in every tier for children of that age group
    matching_age_factors: Optional[dict[str, dict[str, float]]] = None     # None = none
    when_full: Literal["wait", "next_up", "next_down"]
    mismatch: Mismatch


class AgeRates(_Strict):
    """need.age_multipliers.<age group>: factors on the escalation and recovery rates for one age group."""
    escalation: float = Field(ge=0)
    recovery: float = Field(ge=0)


class Need(_Strict):
    """need: the child's need - ordered levels, age groups (years), onset, escalation and recovery rates
    (per child-year), level at onset, breakdown escalation, the prevalence when the warm-up starts, and the
    weight of a day with a need at each level in the outcome KPIs."""
    levels: list[str] = Field(min_length=2)
    age_groups: dict[str, tuple[float, float]] = Field(min_length=1)
    onset_rate_per_year: dict[str, float]
    onset_scale: float = Field(ge=0)
    onset_level_probs: dict[str, float]
    escalation_rate_per_year: dict[str, float]
    recovery_rate_per_year: dict[str, float]
    age_multipliers: dict[str, AgeRates]
    breakdown_escalation_prob: float = Prob
    initial_prevalence: dict[str, float]
    outcome_weights: dict[str, Annotated[float, Field(ge=0)]]    # weight of a need-day by level (outcome KPIs only)

    class Process(_Strict):
        """need.initial_reference: the need process (without measures) under which need.initial_prevalence is
        the steady state - onset rates by age group and their scale, levels at onset, escalation and recovery
        rates by level, age multipliers - keyed like need's own (docs/model.md 4.1)."""
        onset_rate_per_year: dict[str, float]
        onset_scale: float = Field(gt=0)
        onset_level_probs: dict[str, float]
        escalation_rate_per_year: dict[str, float]
        recovery_rate_per_year: dict[str, float]
        age_multipliers: dict[str, AgeRates]

    # the initial state: configured = initial_prevalence as given; scaled = times this process's stationary stock
    # relative to initial_reference's, by level (docs/model.md 4.1)
    initial_state: Literal["configured", "scaled"]
    initial_reference: Optional[Need.Process] = None        # required with initial_state scaled
    drift_warning_per_year: float = Field(ge=0)             # the warm-up check's threshold (sim.metrics.warmup)

    @model_validator(mode="after")
    def _outcome_weights(self):
        _check_keys("need.outcome_weights", self.outcome_weights, list(self.levels[1:]))
        return self

    @model_validator(mode="after")
    def _reference(self):
        ref = self.initial_reference
        if ref is None:
            if self.initial_state == "scaled":
                _fail("need.initial_reference", None, "required with need.initial_state = 'scaled' (the need "
                      "process under which need.initial_prevalence was set); or set need.initial_state=configured")
            return self
        key, levels, groups = "need.initial_reference", list(self.levels[1:]), list(self.age_groups)
        for name, mapping, allowed in (("onset_rate_per_year", ref.onset_rate_per_year, groups),
                                       ("age_multipliers", ref.age_multipliers, groups),
                                       ("onset_level_probs", ref.onset_level_probs, levels),
                                       ("escalation_rate_per_year", ref.escalation_rate_per_year, levels[:-1]),
                                       ("recovery_rate_per_year", ref.recovery_rate_per_year, levels)):
            _check_keys(f"{key}.{name}", mapping, allowed)
            if name != "age_multipliers":
                _check_rates(f"{key}.{name}", mapping, prob=name == "onset_level_probs")
        if abs(sum(ref.onset_level_probs.values()) - 1) > 1e-6:
            _fail(f"{key}.onset_level_probs", dict(ref.onset_level_probs), "probabilities must sum to 1")
        return self


class Detection(_Strict):
    """detection: notifications per child-year by need level while the need exceeds the child's step, and the
    days from notification to the assessment queue."""
    rate_per_year: dict[str, float]
    triage_days: float = Field(ge=0)


class Aftercare(_Strict):
    """casework.aftercare: the share of children placed at 18 who continue in aftercare, its ages (years,
    to_age exclusive) and the rate of leaving it early (per year)."""
    probability: float = Prob
    from_age: float = Field(gt=0)
    to_age: float = Field(gt=0)
    exit_rate_per_year: float = Field(ge=0)

    @model_validator(mode="after")
    def _ages(self):
        if self.to_age < self.from_age:
            raise ValueError(f"to_age ({self.to_age}) must be >= from_age ({self.from_age})")
        return self


class TaskPriority(_Strict):
    """Order in which waiting tasks get a free caseworker: lower first; equal = first come, first served."""
    assessment: int = Field(ge=0)
    review: int = Field(ge=0)
    followup_at_risk: int = Field(ge=0)     # follow-ups of cases at risk (casework.triage)
    followup: int = Field(ge=0)             # follow-ups of stable cases
    followup_low_need: int = Field(ge=0)    # follow-ups of stable cases with a need in casework.triage.low_levels


class Triage(_Strict):
    """casework.triage: which follow-ups go first when the team cannot do all on time - cases at risk (a
    placement, a need level in risk_levels, or a measure younger than new_measure_days); stable cases wait, and
    of those the cases whose need is in low_levels wait longest."""
    risk_levels: list[str]
    low_levels: list[str]
    new_measure_days: float = Field(ge=0)


class Overload(_Strict):
    """casework.overload: how a loaded team copes - extra effort (up to max_extra_effort more hours, reached at
    backlog_per_caseworker_full_effort waiting tasks per caseworker) for every task, then work compression: with
    a heavy backlog, follow-ups and reviews get less than their nominal hours (assessments keep theirs)."""
    max_extra_effort: float = Field(ge=0, le=1)
    backlog_per_caseworker_full_effort: float = Field(gt=0)
    min_work_share: float = Field(gt=0, le=1)
    backlog_per_caseworker_start: float = Field(ge=0)
    backlog_per_caseworker_at_min: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self):
        if self.backlog_per_caseworker_at_min <= self.backlog_per_caseworker_start:
            raise ValueError(f"backlog_per_caseworker_at_min ({self.backlog_per_caseworker_at_min}) must be > "
                             f"backlog_per_caseworker_start ({self.backlog_per_caseworker_start})")
        return self


class Staffing(_Strict):
    """casework.staffing: a caseload norm (open cases per FTE; None = a fixed team), review interval and
    hiring lag (months), cost per FTE hired (DKK) and the most FTE staffed to."""
    cases_per_caseworker: Optional[float] = Field(default=None, ge=1)   # None = a fixed team (below one case per
                                                                        # caseworker the team has no size)
    review_months: int = Field(ge=1)
    hiring_lag_months: int = Field(ge=0)
    cost_per_hire_dkk: float = Field(ge=0)
    max_caseworkers: Optional[int] = Field(default=None, ge=1)          # None = no ceiling


class Casework(_Strict):
    """casework: the caseworker team (FTE) and its work - hours per task, follow-up intervals and delays
    (days), task priority, overload, staffing and aftercare; the caseloads a run does not warn about."""
    caseworkers: int = Field(ge=0)
    plausible_cases_per_caseworker: tuple[float, float]    # [low, high) open cases per FTE: outside, a warning
    hire_caseworkers: int
    # FTE added as a share of caseworkers (0.28 = +28 %), rounded to whole FTE; instead of hire_caseworkers
    hire_caseworkers_share: float = Field(default=0.0, ge=-1)
    productive_hours_per_year: float = Field(ge=100)     # below it no caseworker's year (typically 1,300-1,500)
    assessment_hours: float = Field(ge=0)
    followup_hours: float = Field(ge=0)
    case_hours_per_month: float = Field(ge=0)
    followup_interval_days: float = Field(ge=MIN_INTERVAL_DAYS)
    placement_first_year_interval_days: Optional[float] = Field(default=None, ge=MIN_INTERVAL_DAYS)
    on_time_grace_days: float = Field(ge=0)
    decision_delay_days: float = Field(ge=0)
    close_followup_days: float = Field(gt=0)
    unfollowed_breakdown_multiplier: float = Field(ge=0)
    assessment_deadline_days: float = Field(gt=0)
    task_priority: TaskPriority
    triage: Triage
    overload: Overload
    staffing: Staffing
    aftercare: Aftercare

    @model_validator(mode="after")
    def _plausible_order(self):
        low, high = self.plausible_cases_per_caseworker
        if not 0 <= low < high:
            raise ConfigError(f"casework.plausible_cases_per_caseworker = [{low:g}, {high:g}]: allowed: [low, high] "
                              f"with 0 <= low < high (open cases per caseworker)")
        return self

    @model_validator(mode="after")
    def _one_way_to_hire(self):
        if self.hire_caseworkers != 0 and self.hire_caseworkers_share != 0:
            raise ConfigError(f"casework.hire_caseworkers = {self.hire_caseworkers} and casework.hire_caseworkers_share = "
                              f"{self.hire_caseworkers_share}: give one of them and set the other to 0 (FTE added, "
                              f"absolute or as a share of casework.caseworkers)")
        return self

    def hired(self) -> int:
        """FTE added to the team: hire_caseworkers, or hire_caseworkers_share x caseworkers rounded to whole FTE."""
        return self.hire_caseworkers + round(self.hire_caseworkers_share * self.caseworkers)


class Costs(_Strict):
    """costs: costs not tied to a step - price year of every DKK figure, caseworker cost (DKK per FTE-year),
    assessment cost (DKK each), the discount rate per year, and the municipality's spending outside the
    modelled staircase that its key figure includes (DKK per 0-22-year-old per year, net: special day care and
    clubs and cash benefits to families of children with disabilities, less what the key figure nets out and
    the model's gross prices do not; it may be negative, and then says the default prices overstate the
    staircase's spending; docs/model.md 3.3). It enters only spending_per_child_0_22_dkk and
    placement_spending_share, never cost_total_dkk."""
    price_year: int = Field(ge=1900, le=2100)
    caseworker_cost_per_year_dkk: float = Field(ge=0)
    assessment_cost_dkk: float = Field(ge=0)
    discount_rate_per_year: float = Field(ge=0, le=1)
    other_spending_per_child_0_22_dkk: float = Field(ge=-100_000, le=100_000)   # beyond 10x the key figures: a typo
    # --- prices of a later year (report/excel): price and wage index by year, and the year to report in
    price_index: dict[int, float] = Field(default_factory=dict)     # year -> index (price_year = 100)
    report_year: Optional[int] = None       # None = price_year (no conversion)

    @model_validator(mode="after")
    def _report_year(self):
        if self.report_year is not None and self.report_year != self.price_year:
            missing = [y for y in (self.price_year, self.report_year) if y not in self.price_index]
            if missing:
                raise ConfigError(f"costs.report_year = {self.report_year}: costs.price_index has no value for "
                                  f"{', '.join(map(str, missing))} (years: {sorted(self.price_index)})")
        bad = {y: v for y, v in self.price_index.items() if not v > 0}
        if bad:
            raise ConfigError(f"costs.price_index = {bad}: every index value must be positive")
        return self
    # --- end prices of a later year


class Implementation(_Strict):
    """implementation: the horizon month from which a scenario's practice replaces current practice, and the
    months of ramp-up to it (0 or 1 = all at once)."""
    start_month: int = Field(ge=0)
    ramp_months: int = Field(default=0, ge=0)


class Run(_Strict):
    """run: the experiment - seed, replications per arm, horizon and warm-up (years), worker processes, and
    where the (arm, replication) tasks run: backend local (joblib processes) or dask (Dask distributed, on the
    scheduler at dask_scheduler, or on a local cluster of run.workers processes when it is null)."""
    OWN_BOUND: ClassVar[frozenset] = frozenset({"seed"})       # MAX_SEED (size_bounds)
    seed: int = Field(ge=0)
    replications: int = Field(ge=1)
    horizon_years: int = Field(ge=1)
    warmup_years: float = Field(ge=0)
    workers: int = Field(ge=1)
    backend: Literal["local", "dask"] = "local"
    dask_scheduler: Optional[str] = Field(default=None, min_length=1)     # e.g. tcp://host:8786; null = LocalCluster
    share_warmup: bool = True       # one warm-up per replication, forked into the arms (same results, less time)

    @model_validator(mode="after")
    def _scheduler_only_with_dask(self):
        if self.dask_scheduler is not None and self.backend != "dask":
            raise ConfigError(f"run.dask_scheduler = {self.dask_scheduler!r}: used only with run.backend=dask "
                              f"(run.backend = {self.backend!r}); allowed: null, or set run.backend=dask as well")
        return self


class Output(_Strict):
    """output: where and what a run writes - results folder, figures, HTML report, per-child ledger,
    progress bar, and whether anything is written at all."""
    dir: str
    figures: bool
    report: bool
    save_children: bool
    progress: bool
    write: bool

    @field_validator("dir")
    @classmethod
    def _a_folder(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("allowed: a folder, e.g. results (relative to the project) or an absolute path; "
                             "an empty one would write into the project's own folder")
        return v
    # --- Danish output (report/excel): language of the workbook, the *_da.csv files and the report
    language: Literal["da", "en"] = "da"
    excel: bool = True          # write business_case.xlsx and the *_da.csv files (semicolon, decimal comma)
    # --- end Danish output


class JointFit(_Strict):
    """calibration.joint[i]: one more (parameter, KPI, target, bounds) pair fitted together with the
    calibration's own; target None = the municipality's key figure for the KPI."""
    parameter: str
    kpi: str
    target: Optional[float] = None
    bounds: tuple[float, float]


class Calibration(_Strict):
    """calibration: fitting the baseline to the municipality's key figures - the parameter, the KPI, its
    target (None = the key figure), the search range, more pairs, the relative tolerance, most evaluations."""
    parameter: str
    kpi: str
    target: Optional[float] = None
    bounds: tuple[float, float]
    joint: list[JointFit] = []       # more (parameter, KPI) pairs fitted together with the one above
    relative_tolerance: float = Field(gt=0, lt=1)
    max_evaluations: int = Field(ge=2)


class SensitivityParameter(_Strict):
    """One entry of sensitivity.parameters (or uncertainty.parameters): a config key and its low and high
    value, or factors on (relative) or amounts added to (offset) the configured value."""
    key: str
    low: float
    high: float
    relative: bool = False           # low and high are factors on the configured value
    offset: bool = False             # low and high are added to the configured value


class Sensitivity(_Strict):
    """sensitivity: the one-at-a-time sensitivity analysis - the KPI whose paired difference is analysed,
    replications per run (None = run.replications) and the parameter ranges."""
    kpi: str
    replications: Optional[int] = Field(default=None, ge=2)
    parameters: list[SensitivityParameter] = Field(min_length=1)


class Uncertainty(_Strict):
    """uncertainty: the joint uncertainty analysis - the KPI analysed, parameter sets drawn, replications per
    set (None = run.replications) and the ranges (None = those of sensitivity.parameters)."""
    kpi: str
    samples: int = Field(ge=2)
    replications: Optional[int] = Field(default=None, ge=2)
    parameters: Optional[list[SensitivityParameter]] = Field(default=None, min_length=1)   # None = sensitivity.parameters


# parts of the configuration that describe the experiment or the data, not a mechanism to fit
NOT_CALIBRATABLE = ("run", "output", "calibration", "sensitivity", "uncertainty", "scenario_info", "compare", "municipality")


def config_value(c: "Config", path: str) -> Any:
    """The value at a dotted path of a validated config; KeyError if there is none."""
    obj: Any = c
    for part in path.split("."):
        if isinstance(obj, BaseModel) and part in type(obj).model_fields:
            obj = getattr(obj, part)
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            raise KeyError(path)
    return obj


def switched_off(c: "Config", path: str) -> str | None:
    """The part of a dotted path that is switched off (set to null, e.g. a step's family_pool when its
    places are a fixed capacity), or None if every part up to the last is there."""
    obj: Any = c
    parts = path.split(".")
    for i, part in enumerate(parts[:-1]):
        if isinstance(obj, BaseModel) and part in type(obj).model_fields:
            obj = getattr(obj, part)
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return None
        if obj is None:
            return ".".join(parts[:i + 1])
    return None


def calibration_target(c: "Config", fit=None) -> float:
    """The target of a calibration pair (default: calibration itself): its target, or the municipality's
    key figure for its KPI."""
    fit = c.calibration if fit is None else fit
    if fit.target is not None:
        return fit.target
    return getattr(c.municipality.targets, TARGET_KPIS[fit.kpi])


def calibration_pairs(c: "Config") -> list:
    """calibration itself, then calibration.joint: every (parameter, kpi, target, bounds) fitted together."""
    return [c.calibration, *c.calibration.joint]


class Investment(_Strict):
    """scenario_info.<scenario>.investment: a scenario's one-off and yearly investment (DKK, and DKK per 1,000
    children aged 0-17, added together) and notes."""
    one_off_dkk: float = Field(ge=0)
    yearly_dkk: float = Field(ge=0)
    one_off_dkk_per_1000_children: float = Field(default=0.0, ge=0)
    yearly_dkk_per_1000_children: float = Field(default=0.0, ge=0)
    notes: str = ""
    notes_da: str = ""          # the notes in Danish (output.language=da); "" = none, the English notes then

    def one_off(self, children_0_17: int) -> float:
        """DKK once, in a municipality with ``children_0_17`` children: absolute plus per 1,000 children."""
        return self.one_off_dkk + per_1000_children(self.one_off_dkk_per_1000_children, children_0_17)

    def yearly(self, children_0_17: int) -> float:
        """DKK per year, in a municipality with ``children_0_17`` children: absolute plus per 1,000 children."""
        return self.yearly_dkk + per_1000_children(self.yearly_dkk_per_1000_children, children_0_17)


class ScenarioInfo(_Strict):
    """scenario_info.<scenario>: a scenario's description (English, and in Danish for Danish outputs), sources
    and investment (from scenarios/<name>.yaml)."""
    description: str
    description_da: str = ""    # the description in Danish (output.language=da); "" = none, the English one then
    sources: list[str]
    investment: Investment


class Config(_Strict):
    """The whole configuration: every group of conf/, the selected scenarios' scenario_info and the
    scenarios in compare; cross-checked across groups after validation."""
    municipality: Municipality
    staircase: Staircase
    need: Need
    detection: Detection
    casework: Casework
    costs: Costs
    implementation: Implementation
    run: Run
    output: Output
    calibration: Calibration
    sensitivity: Sensitivity
    uncertainty: Uncertainty
    scenario_info: dict[str, ScenarioInfo]
    compare: list[str]
    # --- the municipality's own files (sim.config.inputs): today's caseload and a budget to follow up
    caseload: Optional[str] = Field(default=None, min_length=1)     # CSV/XLSX of today's open cases; null = synthetic start
    caseload_date: Optional[_dt.date] = None                        # the date the caseload describes; null = from the file
    budget: Optional[str] = Field(default=None, min_length=1)       # CSV/XLSX: counts x unit prices per measure

    @model_validator(mode="after")
    def _cross(self):
        _cross_check(self)
        return self


def _fail(key: str, value: Any, allowed: str) -> None:
    raise ConfigError(f"{key} = {value!r}: {allowed}")


def _check_keys(key: str, mapping: dict, allowed: list[str], complete: bool = True) -> None:
    for k in mapping:
        if k not in allowed:
            _fail(f"{key}.{k}", mapping[k], f"unknown name; allowed: {', '.join(allowed)}")
    if complete:
        for k in allowed:
            if k not in mapping:
                _fail(f"{key}.{k}", None, "missing; every one of these is required: " + ", ".join(allowed))


def _check_rates(key: str, mapping: dict[str, float], prob: bool = False) -> None:
    for k, v in mapping.items():
        if not math.isfinite(v) or v < 0 or (prob and v > 1):
            _fail(f"{key}.{k}", v, "allowed: a number in [0, 1]" if prob else "allowed: a finite number >= 0")
        if not prob and v > MAX_RATE_PER_YEAR:
            _fail(f"{key}.{k}", v, f"allowed: at most {MAX_RATE_PER_YEAR} a year ({RATE_WHY})")


def _cross_check(c: Config) -> None:
    """Checks across groups, in the order a reader meets them: the size of the run, the horizon, need, staircase,
    scenarios, analyses."""
    _check_size(c)
    horizon_months = c.run.horizon_years * MONTHS_PER_YEAR
    if c.implementation.start_month >= horizon_months:
        _fail("implementation.start_month", c.implementation.start_month,
              f"allowed: a whole number of months from 0 to {horizon_months - 1} (the horizon is "
              f"{c.run.horizon_years} years)")
    _check_need(c)
    _check_staircase(c)
    # scenarios named in compare must exist
    available = available_scenarios()
    for entry in c.compare:
        for part in entry.split("+"):
            if part not in available:
                _fail("compare", entry, "unknown scenario " + repr(part) + "; available: " + ", ".join(available))
    _check_calibration(c)
    _check_analyses(c)
    if c.casework.caseworkers + c.casework.hire_caseworkers < 0:
        _fail("casework.hire_caseworkers", c.casework.hire_caseworkers,
              f"the team cannot go below 0 (caseworkers = {c.casework.caseworkers})")
    _check_team_size(c)


def _check_team_size(c: Config) -> None:
    """A team (FTE) larger than the municipality's children and young people aged 0-22 is no casework team."""
    young = c.municipality.children_0_17 + c.municipality.young_18_22
    allowed = (f"allowed: at most {young:,} FTE, the children and young people aged 0-22 of municipality "
               f"{c.municipality.name!r} (a team has far fewer caseworkers than cases)")
    work = c.casework
    if work.caseworkers > young:
        _fail("casework.caseworkers", work.caseworkers, allowed)
    if work.caseworkers + work.hired() > young:
        key, value = (("casework.hire_caseworkers", work.hire_caseworkers) if work.hire_caseworkers
                      else ("casework.hire_caseworkers_share", work.hire_caseworkers_share))
        _fail(key, value, allowed + f"; with it the team is {work.caseworkers + work.hired():,} FTE")
    ceiling = work.staffing.max_caseworkers
    if ceiling is not None and ceiling > young:
        _fail("casework.staffing.max_caseworkers", ceiling, allowed)


def _check_size(c: Config) -> None:
    """The bounds of size_bounds(), with their reasons."""
    for pattern, most, why in size_bounds():
        head, _, tail = pattern.partition(".*.")
        keys = [f"{head}.{name}.{tail}" for name in config_value(c, head)] if tail else [pattern]
        for key in keys:
            value = config_value(c, key)
            if value is not None and value > most:
                _fail(key, value, f"allowed: at most {most:,} ({why})")


def _check_need(c: Config) -> None:
    """Need levels, age groups and the rates and shares keyed by them; detection rates by level."""
    levels = c.need.levels
    need_levels = levels[1:]
    if len(set(levels)) != len(levels):
        _fail("need.levels", levels, "level names must be unique")
    groups = list(c.need.age_groups)
    # age groups: contiguous from 0, covering childhood and aftercare
    edges = sorted(c.need.age_groups.values())
    if edges[0][0] != 0:
        _fail("need.age_groups", dict(c.need.age_groups), "the first age group must start at 0")
    for (_, a1), (b0, _) in zip(edges, edges[1:]):
        if a1 != b0:
            _fail("need.age_groups", dict(c.need.age_groups), "age groups must be contiguous [lo, hi) ranges")
    for name, (lo, hi) in c.need.age_groups.items():
        if hi <= lo:
            _fail(f"need.age_groups.{name}", [lo, hi], "allowed: [lo, hi) with hi > lo")
    if edges[-1][1] < c.casework.aftercare.to_age:
        _fail("need.age_groups", dict(c.need.age_groups),
              f"the last age group must reach casework.aftercare.to_age ({c.casework.aftercare.to_age})")
    _check_keys("need.onset_rate_per_year", c.need.onset_rate_per_year, groups)
    _check_rates("need.onset_rate_per_year", c.need.onset_rate_per_year)
    _check_keys("need.age_multipliers", c.need.age_multipliers, groups)
    _check_keys("need.onset_level_probs", c.need.onset_level_probs, need_levels)
    _check_rates("need.onset_level_probs", c.need.onset_level_probs, prob=True)
    total = sum(c.need.onset_level_probs.values())
    if abs(total - 1) > 1e-6:
        _fail("need.onset_level_probs", dict(c.need.onset_level_probs), f"probabilities must sum to 1 (they sum to {total:g})")
    _check_keys("need.escalation_rate_per_year", c.need.escalation_rate_per_year, need_levels[:-1])
    _check_rates("need.escalation_rate_per_year", c.need.escalation_rate_per_year)
    _check_keys("need.recovery_rate_per_year", c.need.recovery_rate_per_year, need_levels)
    _check_rates("need.recovery_rate_per_year", c.need.recovery_rate_per_year)
    _check_keys("need.initial_prevalence", c.need.initial_prevalence, need_levels)
    _check_rates("need.initial_prevalence", c.need.initial_prevalence, prob=True)
    if sum(c.need.initial_prevalence.values()) > 1:
        _fail("need.initial_prevalence", dict(c.need.initial_prevalence), "shares must sum to at most 1")
    _check_keys("detection.rate_per_year", c.detection.rate_per_year, need_levels)
    _check_rates("detection.rate_per_year", c.detection.rate_per_year)
    for i, lv in enumerate(c.casework.triage.risk_levels):
        if lv not in need_levels:
            _fail(f"casework.triage.risk_levels[{i}]", lv, "unknown need level; allowed: " + ", ".join(need_levels))
    all_levels = list(c.need.levels)
    for i, lv in enumerate(c.casework.triage.low_levels):
        if lv not in all_levels:
            _fail(f"casework.triage.low_levels[{i}]", lv, "unknown need level; allowed: " + ", ".join(all_levels))
        if lv in c.casework.triage.risk_levels:
            _fail(f"casework.triage.low_levels[{i}]", lv, "a level at risk (casework.triage.risk_levels) cannot also "
                  "be a low need; allowed: " + ", ".join(v for v in all_levels if v not in c.casework.triage.risk_levels))


def _check_staircase(c: Config) -> None:
    """The steps, the ground step, the matching tiers and the age factors refer to what exists."""
    need_levels = c.need.levels[1:]
    steps = c.staircase.steps
    names = list(steps)
    if c.staircase.ground_step not in steps:
        _fail("staircase.ground_step", c.staircase.ground_step, "must name a step; steps: " + ", ".join(names))
    ground = steps[c.staircase.ground_step]
    if ground.placement or ground.requires_case:
        _fail("staircase.ground_step", c.staircase.ground_step, "the ground step must have placement: false and requires_case: false")
    for name, st in steps.items():
        if st.family_pool is not None and (st.capacity is not None or st.capacity_per_1000_children is not None):
            _fail(f"staircase.steps.{name}.family_pool", "set", "a step's places come from its family pool or from "
                  "capacity / capacity_per_1000_children, not both; set those to null")
        _check_keys(f"staircase.steps.{name}.level_factors", st.level_factors, need_levels[1:], complete=False)
    # the model ranks the steps by order, and the matching tilt counts steps by it: 0, 1, ..., n-1
    if ground.order != 0:
        _fail(f"staircase.steps.{c.staircase.ground_step}.order", ground.order, "the ground step must have order 0")
    seen: set[int] = set()
    for name, step in steps.items():
        if step.order >= len(steps) or step.order in seen:
            _fail(f"staircase.steps.{name}.order", step.order, f"allowed: the {len(steps)} steps have the orders "
                  f"0, 1, ..., {len(steps) - 1}, each once (now {sorted(s.order for s in steps.values())})")
        seen.add(step.order)
    _check_keys("staircase.matching", c.staircase.matching, need_levels)
    for level, tiers in c.staircase.matching.items():
        if not tiers:
            _fail(f"staircase.matching.{level}", {}, "needs at least one tier of steps")
        for tier, weights in tiers.items():
            key = f"staircase.matching.{level}.{tier}"
            if not weights:
                _fail(key, {}, "a tier needs at least one step")
            for step, w in weights.items():
                if step not in steps:
                    _fail(f"{key}.{step}", w, "unknown step; steps: " + ", ".join(names))
                if step == c.staircase.ground_step:
                    _fail(f"{key}.{step}", w, "the ground step cannot be a measure")
                if not math.isfinite(w) or w < 0:
                    _fail(f"{key}.{step}", w, "allowed: a weight >= 0")
            if sum(weights.values()) <= 0:
                _fail(key, dict(weights), "weights must not all be 0")
    age_factors = c.staircase.matching_age_factors or {}
    _check_keys("staircase.matching_age_factors", age_factors, list(c.need.age_groups), complete=False)
    for group, factors in age_factors.items():
        key = f"staircase.matching_age_factors.{group}"
        for step, f in factors.items():
            if step not in steps:
                _fail(f"{key}.{step}", f, "unknown step; steps: " + ", ".join(names))
            if not math.isfinite(f) or f < 0:
                _fail(f"{key}.{step}", f, "allowed: a factor >= 0")


def _model_parameter(c: Config, where: str, key: str, example: str) -> int | float:
    """The number at ``key``, which must be a model parameter (not run, output, data ...)."""
    try:
        value = config_value(c, key)
    except KeyError:
        _fail(where, key, f"must name a number in the configuration, e.g. {example}")
    if key.split(".")[0] in NOT_CALIBRATABLE:
        _fail(where, key, "must be a model parameter, not under " + ", ".join(NOT_CALIBRATABLE))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(where, key, f"must be a number (its value here is {value!r})")
    return value


def _check_calibration(c: Config) -> None:
    params, kpis = set(), set()
    for i, cal in enumerate(calibration_pairs(c)):
        where = "calibration" if i == 0 else f"calibration.joint[{i - 1}]"
        value = _model_parameter(c, f"{where}.parameter", cal.parameter, "need.onset_scale")
        if not isinstance(value, float):
            _fail(f"{where}.parameter", cal.parameter,
                  f"must be a real-valued parameter (its value here is {value!r}); whole numbers and lists are not fitted")
        if cal.parameter in params:
            _fail(f"{where}.parameter", cal.parameter, "is fitted twice; each pair needs its own parameter")
        if cal.kpi not in KPI_DEFS:
            _fail(f"{where}.kpi", cal.kpi, "unknown KPI; allowed: " + ", ".join(KPI_DEFS))
        if cal.kpi in kpis:
            _fail(f"{where}.kpi", cal.kpi, "is matched twice; each pair needs its own KPI")
        params.add(cal.parameter)
        kpis.add(cal.kpi)
        if cal.target is None and cal.kpi not in TARGET_KPIS:
            _fail(f"{where}.target", None, "give a target: the municipality has a key figure only for "
                  + ", ".join(TARGET_KPIS))
        if cal.target is not None and not math.isfinite(cal.target):
            _fail(f"{where}.target", cal.target, "allowed: a finite number")
        lo, hi = cal.bounds
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            _fail(f"{where}.bounds", [lo, hi], "allowed: [low, high] with finite low < high")


def _check_analyses(c: Config) -> None:
    """The settings of --sensitivity and --uncertainty (unset uncertainty ranges are the sensitivity's)."""
    _check_ranges(c, "sensitivity", c.sensitivity.kpi, c.sensitivity.parameters)
    u = c.uncertainty
    _check_ranges(c, "uncertainty", u.kpi, u.parameters if u.parameters is not None else [])


def _check_ranges(c: Config, group: str, kpi: str, parameters: list) -> None:
    """The KPI and the parameter ranges of the sensitivity or uncertainty group."""
    if kpi not in KPI_DEFS:
        _fail(f"{group}.kpi", kpi, "unknown KPI; allowed: " + ", ".join(KPI_DEFS))
    seen = set()
    for i, p in enumerate(parameters):
        where = f"{group}.parameters[{i}]"
        if switched_off(c, p.key):      # e.g. a family pool replaced by a fixed capacity: the analyses skip it
            continue
        value = _model_parameter(c, f"{where}.key", p.key, "costs.caseworker_cost_per_year_dkk")
        if p.relative and p.offset:
            _fail(f"{where}", {"relative": True, "offset": True}, "a range is relative (factors) or an offset (added), not both")
        if isinstance(value, int) and not p.relative and not (float(p.low).is_integer() and float(p.high).is_integer()):
            _fail(f"{where}", [p.low, p.high], f"{p.key} is a whole number; low and high must be too")
        if not (math.isfinite(p.low) and math.isfinite(p.high) and p.low < p.high):
            _fail(f"{where}", [p.low, p.high], "allowed: low < high, both finite")
        if p.key in seen:
            _fail(f"{where}.key", p.key, "listed twice")
        seen.add(p.key)


