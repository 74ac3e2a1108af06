"""One replication of the staircase simulation (SimPy): the processes and the state changes they make.

Processes
---------
* ``onsets``     - the bulk population: children develop a need at a per-child hazard by age
                   group; only those children become SimPy processes.
* ``life``       - one per child with a need: need escalation and recovery, detection by
                   universal services, placement breakdown, ageing and aftercare, each a
                   competing clock driven by the child's own exponential "hazard budget"
                   (a budget is consumed at the current rate; a change of step or of age group
                   changes the rates, not the budget - exact for piecewise-constant hazards and
                   keeps common random numbers across scenarios). The race is ``rules.next_clock``.
* ``notification`` - triage, a child-professional assessment (s. 50) that needs a caseworker,
                   the decision delay, then the first measure.
* ``casework_task`` - follow-ups and reviews: each waits for a caseworker from the finite
                   team (a SimPy Container), holds them for the work, then re-matches the step.
* ``months``     - month-end bookkeeping and the switch from warm-up to horizon parameters.

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
from .rules import ACX, AGE, BRK, DET, DUR, ESC, FU, POKED, REC, TIME_EPS
from .staircase import Staircase
from .streams import Stream
from .team import Team

# bookkeeping only (speed, not a parameter): prune exited children from the registry this often
REGISTRY_PRUNE_AT = 4096
# uniforms an onset draws: its wait, the age group, the age within it, the level
ONSET_DRAWS = 4


class Model(Staircase, Practice, Families, CaseloadStart, BranchingRun):
    """One replication of one arm: the children's lives and the casework as SimPy processes (the state
    changes they make are in Staircase, the changes of practice and staffing in Practice)."""

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

    def start(self, c: Child) -> None:
        """Start the child's life process."""
        c.busy = False
        c.proc = self.env.process(self.life(c))

    def onsets(self):
        """Process: new needs in the bulk population, one child at a time."""
        env = self.env
        st = self.streams["onset"]
        cached_for, rates, total = None, [], 0.0
        while True:
            P = self.practice
            if cached_for is not P:                 # onset rates change only with the parameter set
                rates, total = population.onset_rates(P, self.cohort_per_day_age)
                cached_for = P
            u1, u2, u3, u4 = st.take(ONSET_DRAWS)
            if total <= 0:
                return
            yield env.timeout(population.onset_wait(-math.log(u1), total, self.growth, env._now - self.t_horizon))
            age, level = population.onset_child(P, rates, total, u2, u3, u4)
            self.recorder.count("onsets", env._now)
            c = self.new_child(age, level)
            c.busy = False                                      # self.start(c), inline
            c.proc = env.process(self.life(c))

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

    # ------------------------------------------------------------------ the child's life
    def life(self, c: Child):
        """Process: the child's competing clocks (rules.next_clock) until it leaves the model. An interrupt
        (``poke``) spends the budgets up to now and starts a new race at the new rates."""
        env = self.env
        timeout = env.timeout
        next_clock = rules.next_clock
        interrupt = simpy.Interrupt
        while True:
            P = self.practice
            now = env._now
            L, s = c.level, c.step
            t, kind, esc, rec, det, brk, acx = next_clock(P, c, now)
            c.busy = False
            try:
                yield timeout(t - now)
            except interrupt:
                t, kind = env._now, POKED
                c.poked = False
            c.busy = True
            if c.exited:
                return
            # spend the budgets up to now (a clock at rate 0 keeps its budget: b - 0.0 is b)
            el = t - now
            if esc:
                c.b_esc -= esc * el
            if rec:
                c.b_rec -= rec * el
            if det:
                c.b_det -= det * el
            if brk:
                c.b_brk -= brk * el
            if acx:
                c.b_acx -= acx * el
            if kind == POKED:
                continue
            if kind == REC:                     # (the kinds in order of how often they occur)
                if self._recover(c, P, L):
                    return
            elif kind == FU:
                if c.case and c.fu_due <= env._now + TIME_EPS:       # still due (not rescheduled meanwhile)
                    due = c.fu_due
                    c.fu_due = INF
                    self._spawn_task(c, "followup", due)
            elif kind == AGE:
                if self._birthday(c, P):
                    return
            elif kind == DET:
                c.b_det = -math.log(self.u_det(c))
                self.recorder.count("notifications", env._now)
                if c.case:
                    self._spawn_task(c, "review", env._now)
                else:
                    env.process(self.notification(c))
            elif kind == ESC:
                c.b_esc = -math.log(self.u_need(c))
                if L < P.n_levels - 1:
                    self.set_level(c, L + 1)
            elif kind == BRK:
                c.b_brk = -math.log(self.u_brk(c))
                self.breakdown(c)
            elif kind == DUR:
                if self._course_over(c, P, s):
                    return
            elif kind == ACX:
                c.b_acx = -math.log(self.u_brk(c))
                self.exit(c, "aged_out")
                return

    def _recover(self, c: Child, P: Compiled, L: int) -> bool:
        """The need falls a level (from L, under practice P); True if the child left the model."""
        c.b_rec = -math.log(self.u_need(c))
        self.set_level(c, L - 1)
        if (c.level == 0 and c.step != P.ground_step and not P.requires_case[c.step]
                and P.max_duration_days[c.step] is None and not c.case and not c.in_process and not c.task):
            self.move(c, P.ground_step)              # an open-ended no-case measure ends with the need
        return self._exit_if_recovered(c)

    def _course_over(self, c: Child, P: Compiled, s: int) -> bool:
        """A bounded stay on step s ends (under practice P): a case's review, or a rematch without the step;
        True if the child left the model."""
        now = self.env._now
        if c.step_end > now + TIME_EPS:      # the course was changed meanwhile
            return False
        c.step_end = INF
        mode = P.on_max_duration[s]
        if P.requires_case[s]:
            self._spawn_task(c, "course_" + mode, now)
            return False
        target, wait = self.decide(c, mode, exclude=s)
        if target < 0 and wait < 0:
            target = P.ground_step                # the course is over; a persisting need is detected again
        self.apply(c, target, wait)
        return self._exit_if_recovered(c)

    def _birthday(self, c: Child, P: Compiled) -> bool:
        """An age boundary (under practice P): at adulthood a placed child may go on in aftercare, others
        leave, as do those at the end of aftercare; True if the child left the model."""
        now = self.env._now
        if not c.adult and now - c.birth >= P.aftercare_from_age_days - TIME_EPS:
            if P.placement[c.step] and self.u_brk(c) < P.aftercare_probability:
                self._leave_step(c, now)
                c.step_t0 = now
                c.adult = True
                self.recorder.occupy(c.step, True, now, 1)
                return False
            self.exit(c, "aged_out")
            return True
        if c.adult and now - c.birth >= P.aftercare_to_age_days - TIME_EPS:
            self.exit(c, "aged_out")
            return True
        return False

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

    def _spawn_task(self, c: Child, mode: str, due: float) -> None:
        c.task = True
        if mode == "followup":
            self.pending_fu[c.id] = due
        self.env.process(self.casework_task(c, mode, due))

    # ------------------------------------------------------------------ casework
    def notification(self, c: Child):
        """Process: triage, an assessment by a caseworker (unless the need is routed to a no-case unit), the
        decision delay, then the first measure."""
        env = self.env
        c.in_process = True
        t0 = env._now
        if self.practice.triage_days > 0:
            yield env.timeout(self.practice.triage_days)
        if c.exited:
            return
        P = self.practice
        if not P.unit_route[c.level]:
            team = self.team
            yield team.request(P.task_priority_assessment)
            start = env._now
            rec = self.recorder
            P = self.practice
            rec.assessment_start(start, start - t0, P.assessment_days)      # busy days in standard hours' days
            yield env.timeout(P.assessment_days / rules.extra_effort(P, len(team.get_queue), self.team_size))
            team.put(1)
            now = env._now
            P = self.practice
            rec.assessment_done(now, now - t0 > P.assessment_deadline_days, P.assessment_cost_dkk)
            if P.decision_delay_days > 0:
                yield env.timeout(P.decision_delay_days)
        c.in_process = False
        if c.exited:
            return
        target, wait = self.decide(c, "rematch")
        self.apply(c, target, wait)
        if self._exit_if_recovered(c):
            return
        self.poke(c)

    def casework_task(self, c: Child, mode: str, due: float):
        """Process: a follow-up ("followup", due at ``due``), a review ("review") or the end of a bounded course
        ("course_<on_max_duration>") waits for a caseworker, takes its share of the hours, then re-matches."""
        env = self.env
        P = self.practice
        followup = mode == "followup"
        priority = (rules.followup_priority(P, c.step, c.level, env._now, c.step_t0) if followup
                    else P.task_priority_review)
        team = self.team
        yield team.request(priority)
        start = env._now
        rec = self.recorder
        P = self.practice
        if followup and self.pending_fu.pop(c.id, None) is not None:
            slip = start - due
            rec.followup_due(due, slip, slip <= P.on_time_grace_days)
        since = start - c.last_fu
        work = P.followup_days + P.case_days_per_month * (since if since > 0.0 else 0.0) / DAYS_PER_MONTH
        queue, size = len(team.get_queue), self.team_size
        share = rules.work_share(P, queue, size)
        rec.task_start(start, work * share, share if followup else None)     # busy days in standard hours' days
        yield env.timeout(work * share / rules.extra_effort(P, queue, size))
        team.put(1)
        now = env._now
        rec.count("followups_done", now)
        c.task = False
        if c.exited:
            return
        c.last_fu = now
        # a thin follow-up (share < 1) notices a change of the child's need with probability = share;
        # otherwise the measure simply continues until the next follow-up
        noticed = share >= 1.0 or not followup or self.u_fu(c) < share
        if (c.case or not followup) and noticed:
            if mode.startswith("course_"):
                # a bounded course has ended: rematch without the finished step
                target, wait = self.decide(c, mode[len("course_"):], exclude=c.step)
                if target < 0 and wait < 0:
                    target = self.practice.ground_step if c.level == 0 else -1
            else:
                target, wait = self.decide(c, "rematch")
            self.apply(c, target, wait)
        if c.case:
            c.fu_due = now + self.interval(c)
        if self._exit_if_recovered(c):
            return
        self.poke(c)

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
        env.process(self.onsets())
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
