"""One replication of the staircase simulation (SimPy): the processes and the state changes they make.

Processes
---------
* ``onsets``     - the bulk population: children develop a need at a per-child hazard by age
                   group; only those children enter the simulation.
* a child's life (``life.Life``) - one per child with a need: need escalation and recovery, detection
                   by universal services, placement breakdown, ageing and aftercare, each a
                   competing clock driven by the child's own exponential "hazard budget"
                   (a budget is consumed at the current rate; a change of step or of age group
                   changes the rates, not the budget - exact for piecewise-constant hazards and
                   keeps common random numbers across scenarios). The race is ``rules.next_clock``.
* a notification (``casework.Casework.notify``) - triage, a child-professional assessment (s. 50)
                   that needs a caseworker, the decision delay, then the first measure.
* a casework task (``casework.Casework._spawn_task``) - follow-ups and reviews: each waits for a
                   caseworker from the finite team (a SimPy Container), holds them for the work, then
                   re-matches the step.
* ``months``     - month-end bookkeeping and the switch from warm-up to horizon parameters.

A child's life, notifications and tasks are SimPy processes written as event callbacks (the same events, in the
same order, as generator processes; see life.py): thousands are alive at once, and a callback is cheaper than
resuming a generator.

``run_arms`` runs several arms of one replication from one warm-up: at the horizon start the process forks
into one branch per arm (``branch.Branches``); every arm's result is the one ``run`` gives for it alone.

The state changes these processes make (decisions, moves, cases, waiting lists, exits) are the mixin
``staircase.Staircase``; the changes of practice and staffing at a month's start the mixin ``practice.Practice``.

The rules the processes apply are pure functions (``rules``, ``population``); the statistics are kept by
a ``recorder.Recorder``. Time is in days. The warm-up runs under the warm-up (baseline) parameters; at
the start of the horizon the arm's parameters take over, so a scenario starts from today's situation.
"""
from __future__ import annotations

import gc
import math
from functools import partial

import numpy as np
import simpy

from ..common.units import DAYS_PER_MONTH, INF, MONTHS_PER_YEAR
from . import population, rules
from .caseload import CaseloadStart
from .branch import Branches, BranchingRun
from .child import Child
from .params import Compiled
from .families import Families
from .practice import Practice
from .recorder import Recorder, RepResult
from .casework import Casework
from .events import Ended, Start, Wait
from .life import Life
from .staircase import Staircase
from .streams import Stream
from .team import Team

# bookkeeping only (speed, not a parameter): prune exited children from the registry this often
REGISTRY_PRUNE_AT = 4096
# uniforms an onset draws: its wait, the age group, the age within it, the level
ONSET_DRAWS = 4


class Model(Life, Casework, Staircase, Practice, Families, CaseloadStart, BranchingRun):
    """One replication of one arm: the children's lives (Life) and the casework (Casework) as SimPy processes
    (the state changes they make are in Staircase, the changes of practice and staffing in Practice)."""

    def __init__(self, warm: Compiled, horizon: Compiled, warmup_years: float, horizon_years: int,
                 streams: dict[str, Stream], cases=None):
        """The warm-up's practice ``warm``, then the arm's ``horizon`` (with its ramp), over ``warmup_years`` +
        ``horizon_years``, drawing from ``streams`` (replication_streams); ``cases``: today's caseload
        (inputs.Case records; the run then starts from them, see caseload.CaseloadStart), or None."""
        self.env = simpy.Environment()
        self.practice = warm            # the practice in force: the warm-up's, a stage of a ramp, or the arm's
        self.arm = horizon
        self.streams = streams
        self.cases = cases
        self.n_steps = len(warm.step_names)
        self.warm_months = int(round(warmup_years * MONTHS_PER_YEAR))
        self.horizon_months = int(horizon_years * MONTHS_PER_YEAR)
        self.n_months = self.warm_months + self.horizon_months
        self.switch_month = self.warm_months + horizon.start_month    # the arm's practice takes over here
        self.t_horizon = self.warm_months * DAYS_PER_MONTH             # day the horizon starts
        self.t_end = self.n_months * DAYS_PER_MONTH
        self.recorder = Recorder(self.n_steps, self.n_months, self.warm_months, self.t_horizon)
        self.waitlists = [[] for _ in range(self.n_steps)]
        self.n_waiting = 0
        self.team_size = warm.caseworkers
        self.team = Team(self.env, warm.caseworkers)
        self._staff_due: list = []      # (month from which it holds, team size) decided by staffing reviews
        self.pending_fu: dict[int, float] = {}
        self.next_id = 0
        self.active = 0
        self.exited_n = 0
        # children per day of age at the horizon start
        self.cohort_per_day_age = warm.children_0_17 / warm.aftercare_from_age_days
        # the population at time t is its size at the horizon start x exp(growth (t - t_horizon))
        self.growth = warm.population_growth_per_day
        self.registry: list = []
        self._prune_at = REGISTRY_PRUNE_AT
        self.branches: Branches | None = None      # with run_arms: the arms this run branches into
        self._onset_for: Compiled | None = None    # the practice the onset rates below are for
        self._onset_rates: tuple = ([], 0.0)       # population.onset_rates: (rates by age group, total per day)
        self.init_families()

    # ------------------------------------------------------------------ draws and helpers
    def interval(self, c: Child) -> float:
        """Days from now to the child's next follow-up (rules.followup_interval)."""
        return rules.followup_interval(self.practice, c.step, self.env._now, c.placement_start)

    def work_share(self) -> float:
        """Share of its hours a follow-up or review starting now gets (rules.work_share)."""
        return rules.work_share(self.practice, len(self.team.get_queue), self.team_size)

    def extra_effort(self) -> float:
        """Factor by which a task starting now is sped up by the team's extra effort (rules.extra_effort)."""
        return rules.extra_effort(self.practice, len(self.team.get_queue), self.team_size)

    def population_factor(self) -> np.ndarray:
        """Mean population of each month relative to the horizon start."""
        return population.population_factor(self.growth, self.n_months, self.t_horizon)

    # ------------------------------------------------------------------ population
    def new_child(self, age_days: float, level: int) -> Child:
        """A child of ``age_days`` whose need of ``level`` begins now, on the ground step (``start`` it)."""
        now = self.env._now
        c = Child(self.next_id, now, age_days, level, self.practice.ground_step, self.streams)
        self.next_id += 1
        self.recorder.arrive(c.step, now)
        self.active += 1
        registry = self.registry
        registry.append(c)
        if len(registry) > self._prune_at:
            self.registry = [x for x in self.registry if not x.exited]
            self._prune_at = 2 * max(len(self.registry), REGISTRY_PRUNE_AT)
        return c

    def onsets(self) -> None:
        """Process: new needs in the bulk population, one child at a time (written as callbacks, like a child's
        life: see life.py). This starts it; each onset waits for the next."""
        Start(self.env, self._next_onset)

    def _next_onset(self, event=None) -> None:
        """Wait for the next onset, under the practice in force now (it ends if the onset rate is zero)."""
        env = self.env
        P = self.practice
        if self._onset_for is not P:                # onset rates change only with the parameter set
            self._onset_rates = population.onset_rates(P, self.cohort_per_day_age)
            self._onset_for = P
        rates, total = self._onset_rates
        u1, u2, u3, u4 = self.streams["onset"].take(ONSET_DRAWS)
        if total <= 0:
            Ended(env)
            return
        Wait(env, population.onset_wait(-math.log(u1), total, self.growth, env._now - self.t_horizon),
             partial(self._onset, P, rates, total, u2, u3, u4))

    def _onset(self, P: Compiled, rates: list, total: float, u2: float, u3: float, u4: float, event) -> None:
        """A new need (its age and level drawn under the practice the wait began with); then the next wait."""
        age, level = population.onset_child(P, rates, total, u2, u3, u4)
        self.recorder.count("onsets", self.env._now)
        self.start(self.new_child(age, level))
        self._next_onset()

    def initial_population(self) -> None:
        """Children with a need at t=0 (population.initial_means, need.initial_state); the known share follows
        the detection mechanism - or, with today's caseload, is the file's cases (seat_caseload)."""
        P = self.practice
        st = self.streams["initial"]
        adult = P.aftercare_from_age_days
        means = population.initial_means(P)
        for level in range(1, P.n_levels):
            n = st.poisson(means[level] * math.exp(-self.growth * self.t_horizon))
            known = population.known_share(P, level)
            for _ in range(n):
                age = st.u() * adult
                u_known, u_fu = st.u(), st.u()
                if self.cases is not None and u_known < known:
                    continue                # the known children are today's caseload's
                c = self.new_child(age, level)
                if u_known < known:
                    target, wait = self.decide(c, "rematch")
                    self.apply(c, target, wait)
                    if c.case:
                        iv = self.interval(c)
                        c.fu_due = u_fu * iv
                        c.last_fu = c.fu_due - iv
                self.start(c)
        if self.cases is not None:
            self.seat_caseload(self.cases)

    def breakdown(self, c: Child) -> None:
        """A placement breaks down: the need may escalate, the child moves to another placement with room (or
        a new one of the same type), and the case is reviewed."""
        P = self.practice
        self.recorder.count("breakdowns", self.env._now)
        if self.u_brk(c) < P.breakdown_escalation_prob and c.level < P.n_levels - 1:
            self.set_level(c, c.level + 1)
        target, wait = self.decide(c, "rematch", exclude=c.step)
        if target >= 0 and P.placement[target]:
            self.apply(c, target, -1)
        else:
            self.new_family(c)          # no other placement with room: a new family / place of the same type
        if not c.task:
            self._spawn_task(c, "review", self.env._now)

    # ------------------------------------------------------------------ months and the run
    def months(self):
        """Process: at every month end the month's statistics, then any change of practice and staffing."""
        env = self.env
        if self.warm_months == 0:
            # no warm-up: the horizon starts now (this process starts after the initial population's,
            # so every child is already waiting when it is poked)
            self._horizon_start()
        self._staffing(0)
        for m in range(self.n_months):
            yield env.timeout((m + 1) * DAYS_PER_MONTH - env._now)
            self._flush(m, env._now)
            if m + 1 == self.warm_months:
                if self.branches is not None:         # run_arms: one branch per arm from here
                    self._become(self.branches.arms[self.branches.split()])
                self._horizon_start()
            elif m + 1 == self.switch_month:
                self._switch()
            elif self.switch_month < m + 1 <= self.switch_month + len(self.arm.ramp):
                self._change_practice(self._stage(m + 1 - self.switch_month), m + 1)
            self._staffing(m + 1)
            self.families_month(m + 1)

    def _flush(self, m: int, now: float) -> None:
        self.recorder.flush(m, now, self.practice, len(self.team.get_queue), self.n_waiting, self.team_size)

    def _run(self) -> RepResult:
        """The replication to its end: its raw monthly arrays and ledger (BranchingRun.run calls this)."""
        env = self.env
        self.initial_population()
        self.onsets()
        env.process(self.months())
        # The garbage collector is off during the run (it took about 10 % of the run time rescanning the
        # children and SimPy's events): the run makes next to no cyclic garbage until the model itself is
        # dropped, which the collector then reclaims as usual. It does not change any result.
        enabled = gc.isenabled()
        gc.disable()
        try:
            env.run(until=self.t_end)
        finally:
            # (a branch ends after its result: with the collector off it copies fewer pages of its parent)
            if enabled and not (self.branches is not None and self.branches.in_child):
                gc.enable()
        now = self.t_end
        rec = self.recorder
        if rec.flushed < self.n_months - 1:
            self._flush(self.n_months - 1, now)
        # late follow-ups still waiting at the end count as not on time
        for due in self.pending_fu.values():
            if due + self.practice.on_time_grace_days < now:
                rec.followup_due(due, now - due, False)
        alive = [c for c in self.registry if not c.exited]
        for c in alive:
            t0 = max(c.step_t0, self.t_horizon)
            c.cost_h += (now - t0) * self.practice.cost_per_day_dkk[c.step]
            c.exit_t = INF
            c.exit_reason = "active"
            rec.child(c, now, self.practice)
        return rec.result(self.practice, self.next_id, len(alive), self.exited_n, _event_count(env),
                          self.population_factor())


def _event_count(env: simpy.Environment) -> int:
    """Number of events SimPy scheduled (its event-id counter)."""
    eid = env._eid  # itertools.count
    return int(repr(eid).removeprefix("count(").removesuffix(")"))
