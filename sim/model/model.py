"""One replication of the staircase simulation (SimPy).

Processes
---------
* ``onsets``     - the bulk population: children develop a need at a per-child hazard by age
                   group; only those children become SimPy processes.
* ``life``       - one per child with a need: need escalation and recovery, detection by
                   universal services, placement breakdown, ageing and aftercare, each a
                   competing clock driven by the child's own exponential "hazard budget"
                   (a budget is consumed at the current rate; a change of step or of age group
                   changes the rates, not the budget - exact for piecewise-constant hazards and
                   keeps common random numbers across scenarios).
* ``notification`` - triage, a child-professional assessment (s. 50) that needs a caseworker,
                   the decision delay, then the first measure.
* ``casework_task`` - follow-ups and reviews: each waits for a caseworker from the finite
                   team (a SimPy Container), holds them for the work, then re-matches the step.
* ``months``     - month-end bookkeeping and the switch from warm-up to horizon parameters.

Time is in days. The warm-up runs under the warm-up (baseline) parameters; at the start of
the horizon the arm's parameters take over, so a scenario starts from today's situation.
"""
from __future__ import annotations

import bisect
import gc
import itertools
import math
from dataclasses import dataclass

import numpy as np
import simpy

from ..common.units import DAYS_PER_MONTH, DAYS_PER_YEAR, INF, MONTHS_PER_YEAR
from .params import Compiled
from .streams import PER_CHILD, Stream

# counters recorded per month
CTR = (
    "onsets", "notifications", "assessments", "assessment_wait_sum", "assessment_wait_n",
    "followups_due", "followups_on_time", "followups_done", "followup_slip_sum",
    "new_placements", "step_ups", "step_downs", "breakdowns", "returns_home",
    "exits_recovered", "exits_aged_out", "case_openings", "case_closings",
    "followup_share_sum", "followup_share_n",
)
C = {name: i for i, name in enumerate(CTR)}

# bookkeeping only (speed, not a parameter): prune exited children from the registry this often
REGISTRY_PRUNE_AT = 4096

# numerics, not a parameter: below this |y|, log1p(y)/r is computed from its series (a tiny growth rate
# would otherwise give a zero wait between onsets)
SERIES_BELOW = 1e-8

# time tolerance (days) when comparing a wake-up time with a scheduled time (float round-off)
TIME_EPS = 1e-9

# life-loop event kinds
_ESC, _REC, _DET, _BRK, _FU, _DUR, _AGE, _ACX = range(8)


class _ByKey(list):
    """A container's queue of requests, kept in order of their ``key``."""

    def append(self, item) -> None:
        bisect.insort(self, item, key=_request_key)


def _request_key(request):
    return request.key


class TaskRequest(simpy.resources.container.ContainerGet):
    """A request for caseworkers with a priority (lower first; equal: first come, first served)."""

    def __init__(self, team: "Team", amount: int, priority: int):
        self.key = (priority, next(team.order))
        super().__init__(team, amount)


class Team(simpy.Container):
    """The caseworkers: a Container whose waiting requests are served in order of priority."""

    GetQueue = _ByKey

    def __init__(self, env: simpy.Environment, size: int):
        self.order = itertools.count()
        super().__init__(env, capacity=float("inf"), init=size)

    def request(self, priority: int, amount: int = 1) -> TaskRequest:
        return TaskRequest(self, amount, priority)

    def get(self, amount):          # every request must carry a priority
        raise TypeError("use Team.request(priority, amount)")


class Child:
    __slots__ = (
        "id", "birth", "level", "step", "case", "proc", "busy", "poked",
        "b_esc", "b_rec", "b_det", "b_brk", "b_acx",
        "fu_due", "last_fu", "step_end", "step_t0", "placement_start",
        "in_process", "task", "waiting_for", "adult", "exited",
        "un", "ud", "ub", "uc", "uf",
        "onset_t", "onset_level", "first_measure_t", "first_level", "served", "placed_h", "cost_h",
        "exit_t", "exit_reason",
    )


@dataclass
class RepResult:
    """Raw monthly arrays of one replication (all months, warm-up first)."""

    step_names: list
    placement: list
    month_index: np.ndarray          # month relative to the horizon start (negative = warm-up)
    child_days: np.ndarray           # [step, month] child-days aged < adult age
    adult_days: np.ndarray           # [step, month] aftercare days
    occupancy_end: np.ndarray        # [step, month] children on the step at month end
    step_entries: np.ndarray         # [step, month] children arriving on the step (new children on the ground step)
    step_exits: np.ndarray           # [step, month] children leaving the step (to another step or out of the model)
    cost_step: np.ndarray            # [step, month] DKK per-child step cost
    cost_fixed: np.ndarray           # [step, month] DKK fixed cost of the step
    cost_caseworkers: np.ndarray     # [month]
    cost_assessments: np.ndarray     # [month]
    cost_investment: np.ndarray      # [month]
    case_days: np.ndarray            # [month] open-case days
    open_cases_end: np.ndarray       # [month]
    queue_end: np.ndarray            # [month] tasks waiting for a caseworker at month end
    waiting_end: np.ndarray          # [month] children waiting for a full step at month end
    team: np.ndarray                 # [month] caseworkers (FTE)
    counters: np.ndarray             # [counter, month]
    children: list                   # ledger rows (dicts) for children present in the horizon
    created: int
    active_end: int
    exited: int
    events: int
    children_0_17: int               # at the horizon start
    young_18_22: int                 # at the horizon start
    population_factor: np.ndarray    # [month] mean population relative to the horizon start (1 = stationary)
    horizon_months: int
    discount_rate: float


class Model:
    def __init__(self, warm: Compiled, horizon: Compiled, warmup_years: float, horizon_years: int,
                 streams: dict[str, Stream]):
        self.env = simpy.Environment()
        self.P = warm
        self.Ph = horizon
        self.s = streams
        self.n_steps = len(warm.step_names)
        self.warm_months = int(round(warmup_years * MONTHS_PER_YEAR))
        self.h_months = int(horizon_years * MONTHS_PER_YEAR)
        self.M = self.warm_months + self.h_months
        self.switch_month = self.warm_months + horizon.start_month    # the arm's practice takes over here
        self.T_w = self.warm_months * DAYS_PER_MONTH
        self.T_end = self.M * DAYS_PER_MONTH
        n, M = self.n_steps, self.M
        self.occ = [0] * n
        self.occ_a = [0] * n
        self.area = [0.0] * n
        self.area_a = [0.0] * n
        self.t_area = [0.0] * n
        self.n_case = 0
        self.area_case = 0.0
        self.t_case = 0.0
        self.waitlists = [[] for _ in range(n)]
        self.n_waiting = 0
        self.ctr = [[0.0] * M for _ in CTR]
        self.child_days = np.zeros((n, M))
        self.adult_days = np.zeros((n, M))
        self.occ_end = np.zeros((n, M))
        self.step_in = np.zeros((n, M))
        self.step_out = np.zeros((n, M))
        self.cost_step = np.zeros((n, M))
        self.cost_fixed = np.zeros((n, M))
        self.cost_cw = np.zeros(M)
        self.cost_assess = np.zeros(M)
        self.cost_inv = np.zeros(M)
        self.case_days = np.zeros(M)
        self.cases_end = np.zeros(M)
        self.queue_end = np.zeros(M)
        self.waiting_end = np.zeros(M)
        self.team_hist = np.zeros(M)
        self.team_size = warm.team_size
        self.team = Team(self.env, warm.team_size)
        self._staff_due: list = []      # (month from which it holds, team size) decided by staffing reviews
        self.pending_fu: dict[int, float] = {}
        self.ledger: list = []
        self.next_id = 0
        self.active = 0
        self.exited_n = 0
        self.cohort_per_day_age = warm.children_0_17 / warm.adult_age_days  # children per day of age, horizon start
        self.growth = warm.growth_per_day   # the population at time t is its size at the horizon start x exp(growth (t - T_w))
        self._area_prev = [0.0] * n
        self._area_a_prev = [0.0] * n
        self._case_prev = 0.0
        self.registry: list = []
        self._prune_at = REGISTRY_PRUNE_AT
        self._flushed = -1

    # ------------------------------------------------------------------ helpers
    def month(self, t: float) -> int:
        m = int(t / DAYS_PER_MONTH)
        return m if m < self.M else self.M - 1

    def count(self, name: str, k: float = 1.0) -> None:
        self.ctr[C[name]][self.month(self.env.now)] += k

    def u_need(self, c):
        return c.un.pop() if c.un else self.s["need_extra"].u()

    def u_det(self, c):
        return c.ud.pop() if c.ud else self.s["detection_extra"].u()

    def u_brk(self, c):
        return c.ub.pop() if c.ub else self.s["breakdown_extra"].u()

    def u_dec(self, c):
        return c.uc.pop() if c.uc else self.s["decision_extra"].u()

    def u_fu(self, c):
        return c.uf.pop() if c.uf else self.s["followup_extra"].u()

    def _occ_update(self, s: int, now: float) -> None:
        dt = now - self.t_area[s]
        if dt:
            self.area[s] += self.occ[s] * dt
            self.area_a[s] += self.occ_a[s] * dt
            self.t_area[s] = now

    def _case_update(self, now: float) -> None:
        self.area_case += self.n_case * (now - self.t_case)
        self.t_case = now

    def has_room(self, s: int, c: Child) -> bool:
        cap = self.P.capacity[s]
        return cap == INF or c.step == s or self.occ[s] + self.occ_a[s] < cap

    def interval(self, c: Child) -> float:
        P = self.P
        iv = P.fu_interval[c.step]
        if P.placement[c.step] and self.env.now - c.placement_start < DAYS_PER_YEAR:
            iv = min(iv, P.first_year_interval)
        return iv

    def work_share(self) -> float:
        """Share of its nominal hours a follow-up or review gets when it starts.

        Up to backlog_start waiting tasks per caseworker the team keeps its standard and tasks wait
        (follow-ups slip); beyond it the share falls linearly to min_work_share at backlog_at_min: a
        heavily overloaded team works thinner rather than letting every task wait. Assessments keep
        their hours."""
        P = self.P
        backlog = len(self.team.get_queue) / max(self.team_size, 1)
        if backlog <= P.backlog_start:
            return 1.0
        x = (backlog - P.backlog_start) / (P.backlog_at_min - P.backlog_start)
        return 1.0 - (1.0 - P.min_work_share) * min(1.0, x)

    def poke(self, c: Child) -> None:
        """Tell the child's life process that its rates changed."""
        if not c.busy and not c.poked and c.proc is not None and c.proc.is_alive:
            c.poked = True
            c.proc.interrupt()

    # ------------------------------------------------------------------ population
    def new_child(self, age_days: float, level: int) -> Child:
        now = self.env.now
        c = Child()
        c.id = self.next_id
        self.next_id += 1
        c.birth = now - age_days
        c.level = level
        c.step = self.P.ground
        c.case = False
        c.proc = None
        c.busy = True
        c.poked = False
        s = self.s
        c.un = s["need"].take(PER_CHILD)
        c.ud = s["detection"].take(PER_CHILD)
        c.ub = s["breakdown"].take(PER_CHILD)
        c.uc = s["decision"].take(PER_CHILD)
        c.uf = s["followup"].take(PER_CHILD)
        c.b_esc = -math.log(c.un.pop())
        c.b_rec = -math.log(c.un.pop())
        c.b_det = -math.log(c.ud.pop())
        c.b_brk = -math.log(c.ub.pop())
        c.b_acx = -math.log(c.ub.pop())
        c.fu_due = INF
        c.last_fu = now
        c.step_end = INF
        c.step_t0 = now
        c.placement_start = -INF
        c.in_process = False
        c.task = False
        c.waiting_for = -1
        c.adult = False
        c.exited = False
        c.onset_t = now
        c.onset_level = level
        c.first_measure_t = INF
        c.first_level = 0
        c.served = 0
        c.placed_h = False
        c.cost_h = 0.0
        c.exit_t = INF
        c.exit_reason = ""
        self._occ_update(c.step, now)
        self.occ[c.step] += 1
        self.step_in[c.step, self.month(now)] += 1
        self.active += 1
        self.registry.append(c)
        if len(self.registry) > self._prune_at:
            self.registry = [x for x in self.registry if not x.exited]
            self._prune_at = 2 * max(len(self.registry), REGISTRY_PRUNE_AT)
        return c

    def start(self, c: Child) -> None:
        c.busy = False
        c.proc = self.env.process(self.life(c))

    def onsets(self):
        env = self.env
        st = self.s["onset"]
        cached_for, rates, total = None, [], 0.0
        while True:
            P = self.P
            edges = P.group_edges_days
            adult = P.adult_age_days
            if cached_for is not P:                 # onset rates change only with the parameter set
                sizes = []
                for lo, hi in edges:
                    width = max(0.0, min(hi, adult) - lo)
                    sizes.append(width * self.cohort_per_day_age)
                rates = [n * r for n, r in zip(sizes, P.onset_per_day)]
                total = sum(rates)
                cached_for = P
            u1, u2, u3, u4 = st.u(), st.u(), st.u(), st.u()
            if total <= 0:
                return
            yield env.timeout(self._onset_wait(-math.log(u1), total))
            # group
            x = u2 * total
            g = 0
            while g < len(rates) - 1 and x > rates[g]:
                x -= rates[g]
                g += 1
            lo, hi = edges[g]
            age = lo + u3 * (min(hi, adult) - lo)
            level = 1
            for i, cp in enumerate(P.onset_levels_cum):
                if u4 <= cp:
                    level = i + 1
                    break
            self.count("onsets")
            c = self.new_child(age, level)
            self.start(c)

    def _onset_wait(self, e: float, total: float) -> float:
        """Time until the cumulative onset hazard from now reaches e (an Exp(1) draw), when the
        population - and so the hazard, total per day at the horizon start - grows exponentially."""
        r = self.growth
        if r == 0:
            return e / total
        level = total * math.exp(r * (self.env.now - self.T_w))
        y = e * r / level
        if abs(y) < SERIES_BELOW:               # log1p(y) / r to second order, exact where r is tiny
            return e / level * (1 - y / 2)
        return math.log1p(y) / r if y > -1 else INF    # a shrinking population may never produce another onset

    def population_factor(self) -> np.ndarray:
        """Mean population of each month relative to the horizon start."""
        r, M, w = self.growth, self.M, self.T_w
        x = r * DAYS_PER_MONTH
        if x == 0:
            return np.ones(M)
        a = np.arange(M) * DAYS_PER_MONTH - w
        return np.exp(r * a) * (math.expm1(x) / x)      # expm1: exact for a tiny growth rate too

    def initial_population(self) -> None:
        """Children with a need at t=0; the known share follows the detection mechanism."""
        P = self.P
        st = self.s["initial"]
        adult = P.adult_age_days
        for level in range(1, P.n_levels):
            n = st.poisson(P.initial_prevalence[level] * P.children_0_17 * math.exp(-self.growth * self.T_w))
            det, esc, rec = P.det_per_day[level], P.esc_per_day[level], P.rec_per_day[level]
            known = det / (det + esc + rec) if det > 0 else 0.0
            for _ in range(n):
                age = st.u() * adult
                u_known, u_fu = st.u(), st.u()
                c = self.new_child(age, level)
                if u_known < known:
                    target, wait = self.decide(c, "rematch")
                    self.apply(c, target, wait)
                    if c.case:
                        iv = self.interval(c)
                        c.fu_due = u_fu * iv
                        c.last_fu = c.fu_due - iv
                self.start(c)

    # ------------------------------------------------------------------ decisions
    def decide(self, c: Child, mode: str = "rematch", exclude: int = -1):
        """Step for the child's need under the matching rule. Returns (target, wait_for)."""
        P = self.P
        L = c.level
        if L == 0 or mode == "end":
            return P.ground, -1
        age = self.env.now - c.birth
        g = _age_group(P.group_edges_days, age)
        u = self.u_dec(c)
        if mode == "rematch" and exclude < 0 and c.step in P.candidates[g][L] and c.waiting_for < 0 \
                and P.min_age_days[c.step] <= age < P.max_age_days[c.step]:
            return c.step, -1      # the measure still matches the need: continue it [001]
        limit = c.step if mode == "step_down" else self.n_steps
        first = -1
        for steps, weights in P.tiers[g][L]:
            elig = []
            tw = 0.0
            for s, w in zip(steps, weights):
                if (w > 0 and s != exclude and s < limit and P.capacity[s] > 0
                        and P.min_age_days[s] <= age < P.max_age_days[s]):
                    elig.append((s, w))
                    tw += w
            if not elig:
                continue
            room = [(s, w) for s, w in elig if self.has_room(s, c)]
            if first < 0:
                first = _pick(elig, tw, u)
            if room:
                return _pick(room, sum(w for _, w in room), u), -1
        if mode == "step_down":
            for s in range(limit - 1, P.ground, -1):
                if P.capacity[s] > 0 and P.min_age_days[s] <= age < P.max_age_days[s] and self.has_room(s, c):
                    return s, -1
            return P.ground, -1
        if first < 0:
            return -1, -1          # no eligible step: stay where the child is
        if P.when_full == "next_up":
            rng = range(first + 1, self.n_steps)
        elif P.when_full == "next_down":
            rng = range(first - 1, P.ground, -1)
        else:
            rng = ()
        for s in rng:
            if s != exclude and P.capacity[s] > 0 and P.min_age_days[s] <= age < P.max_age_days[s] and self.has_room(s, c):
                return s, -1
        return -1, first

    def apply(self, c: Child, target: int, wait_for: int) -> None:
        if target < 0:
            if wait_for >= 0 and c.waiting_for != wait_for:
                if c.waiting_for < 0:                  # not already on another step's list
                    self.n_waiting += 1
                c.waiting_for = wait_for
                self.waitlists[wait_for].append(c)
                P = self.P
                if not c.case and P.requires_case[wait_for]:
                    self._open_case(c)
                elif c.case and not P.requires_case[wait_for] and not P.requires_case[c.step]:
                    self._close_case(c)                # now waiting for a step without a case (e.g. the early-help unit)
                    self.poke(c)
            return
        if c.waiting_for >= 0:
            c.waiting_for = -1
            self.n_waiting -= 1
        if target == c.step:
            self._sync_case(c)
        else:
            self.move(c, target)

    def _sync_case(self, c: Child) -> None:
        """A case is open exactly while the child is on a case step (or waiting for one)."""
        needs = self.P.requires_case[c.step] or (c.waiting_for >= 0 and self.P.requires_case[c.waiting_for])
        if needs and not c.case:
            self._open_case(c)
            self.poke(c)
        elif c.case and not needs:
            self._close_case(c)
            self.poke(c)

    def _open_case(self, c: Child) -> None:
        now = self.env.now
        self._case_update(now)
        self.n_case += 1
        c.case = True
        c.last_fu = now
        c.fu_due = now + self.interval(c)
        self.count("case_openings")

    def _close_case(self, c: Child) -> None:
        self._case_update(self.env.now)
        self.n_case -= 1
        c.case = False
        c.fu_due = INF
        self.pending_fu.pop(c.id, None)
        self.count("case_closings")

    def _leave_step(self, c: Child, now: float) -> None:
        s = c.step
        self._occ_update(s, now)
        if c.adult:
            self.occ_a[s] -= 1
        else:
            self.occ[s] -= 1
        t0 = max(c.step_t0, self.T_w)
        if now > t0:
            c.cost_h += (now - t0) * self.P.cost_per_day[s]

    def move(self, c: Child, target: int) -> None:
        P = self.P
        old = c.step
        if target == old:
            return
        now = self.env.now
        self._leave_step(c, now)
        m = self.month(now)
        self.step_out[old, m] += 1
        self.step_in[target, m] += 1
        self._occ_update(target, now)
        if c.adult:
            self.occ_a[target] += 1
        else:
            self.occ[target] += 1
        c.step = target
        c.step_t0 = now
        horizon = now >= self.T_w
        if target != P.ground and c.first_measure_t == INF:
            c.first_measure_t = now
            c.first_level = c.level
        if horizon:
            c.served |= 1 << target
        if P.placement[target]:
            c.placement_start = now
            if not P.placement[old]:
                self.count("new_placements")
                if horizon:
                    c.placed_h = True
        elif P.placement[old]:
            self.count("returns_home")
        if old != P.ground:
            if target > old:
                self.count("step_ups")
            else:
                self.count("step_downs")
        dur = self._course(P, target, c, now)
        if dur is not None:
            lo, hi = dur
            c.step_end = now + lo + (hi - lo) * self.u_dec(c)
        else:
            c.step_end = INF
        if P.requires_case[target]:
            if not c.case:
                self._open_case(c)
            elif P.placement[target] and P.first_year_interval < INF:
                c.fu_due = min(c.fu_due, now + P.first_year_interval)
        elif c.case:
            self._close_case(c)
        c.last_fu = now if P.placement[target] else c.last_fu
        if P.capacity[old] != INF:
            self.free_slot(old)
        self.poke(c)

    def free_slot(self, s: int) -> None:
        wl = self.waitlists[s]
        while wl and (self.P.capacity[s] == INF or self.occ[s] + self.occ_a[s] < self.P.capacity[s]):
            c = wl.pop(0)
            if c.exited or c.waiting_for != s:
                continue
            target, wait = self.decide(c, "rematch")
            if target >= 0:
                self.apply(c, target, -1)
                self._exit_if_recovered(c)
            elif wait >= 0 and wait != s:
                c.waiting_for = -1
                self.n_waiting -= 1
                self.apply(c, target, wait)
            else:
                wl.insert(0, c)
                break

    def _exit_if_recovered(self, c: Child) -> bool:
        """A child with no need, no measure, no case and nothing pending leaves the model."""
        if (not c.exited and c.level == 0 and c.step == self.P.ground and not c.case
                and not c.in_process and not c.task):
            self.exit(c, "recovered")
            return True
        return False

    def exit(self, c: Child, reason: str) -> None:
        now = self.env.now
        self._leave_step(c, now)
        old = c.step
        self.step_out[old, self.month(now)] += 1
        if c.case:
            self._close_case(c)
        if c.waiting_for >= 0:
            c.waiting_for = -1
            self.n_waiting -= 1
        c.exited = True
        c.exit_t = now
        c.exit_reason = reason
        self.active -= 1
        self.exited_n += 1
        self.count("exits_recovered" if reason == "recovered" else "exits_aged_out")
        if now >= self.T_w:
            self._ledger(c)
        if self.P.capacity[old] != INF:
            self.free_slot(old)

    def _ledger(self, c: Child) -> None:
        self.ledger.append((
            c.id, c.onset_t - self.T_w, (c.onset_t - c.birth) / DAYS_PER_YEAR, c.onset_level,
            c.first_measure_t - self.T_w, c.first_level, c.served, c.placed_h, c.cost_h,
            c.exit_t - self.T_w, c.exit_reason, c.level, c.step,
        ))

    # ------------------------------------------------------------------ the child's life
    def life(self, c: Child):
        env = self.env
        timeout = env.timeout
        while True:
            P = self.P
            now = env.now
            L, s = c.level, c.step
            age = now - c.birth
            edges = P.group_edges_days
            last_g = len(edges) - 1
            g = _age_group(edges, age)
            esc = P.esc_tab[g][L][s]
            rec = P.rec_tab[g][L][s]
            det = 0.0
            if not c.in_process and not c.task and c.waiting_for < 0 and s < P.band_lo[L]:
                det = P.det_per_day[L]
            brk = 0.0
            t_brk_change = INF
            if P.placement[s]:
                brk = P.breakdown_per_day[s]
                t_close = c.last_fu + P.close_fu
                if now + TIME_EPS >= t_close:
                    brk *= P.unfollowed_mult
                else:
                    t_brk_change = t_close
            acx = P.aftercare_exit_per_day if c.adult else 0.0
            # next age boundary: group edge, adulthood, end of aftercare
            t_age = INF
            if g < last_g:
                t_age = c.birth + edges[g][1]
            t_age = min(t_age, c.birth + (P.aftercare_end_days if c.adult else P.adult_age_days))
            # earliest clock
            t, kind = t_age, _AGE
            if t_brk_change < t:
                t, kind = t_brk_change, _AGE
            if esc > 0:
                te = now + c.b_esc / esc
                if te < t:
                    t, kind = te, _ESC
            if rec > 0:
                te = now + c.b_rec / rec
                if te < t:
                    t, kind = te, _REC
            if det > 0:
                te = now + c.b_det / det
                if te < t:
                    t, kind = te, _DET
            if brk > 0:
                te = now + c.b_brk / brk
                if te < t:
                    t, kind = te, _BRK
            if acx > 0:
                te = now + c.b_acx / acx
                if te < t:
                    t, kind = te, _ACX
            if c.fu_due < t and not c.task:
                t, kind = c.fu_due, _FU
            if c.step_end < t and not c.task:
                t, kind = c.step_end, _DUR
            if t < now:
                t = now
            c.busy = False
            try:
                yield timeout(t - now)
            except simpy.Interrupt:
                c.busy = True
                c.poked = False
                if c.exited:
                    return
                el = env.now - now
                c.b_esc -= esc * el
                c.b_rec -= rec * el
                c.b_det -= det * el
                c.b_brk -= brk * el
                c.b_acx -= acx * el
                continue
            c.busy = True
            if c.exited:
                return
            el = t - now
            c.b_esc -= esc * el
            c.b_rec -= rec * el
            c.b_det -= det * el
            c.b_brk -= brk * el
            c.b_acx -= acx * el
            if kind == _ESC:
                c.b_esc = -math.log(self.u_need(c))
                if L < P.n_levels - 1:
                    c.level = L + 1
            elif kind == _REC:
                c.b_rec = -math.log(self.u_need(c))
                c.level = L - 1
                if (c.level == 0 and c.step != P.ground and not P.requires_case[c.step]
                        and P.duration[c.step] is None and not c.case and not c.in_process and not c.task):
                    self.move(c, P.ground)              # an open-ended no-case measure ends with the need
                if self._exit_if_recovered(c):
                    return
            elif kind == _DET:
                c.b_det = -math.log(self.u_det(c))
                self.count("notifications")
                if c.case:
                    self._spawn_task(c, "review", env.now)
                else:
                    env.process(self.notification(c))
            elif kind == _BRK:
                c.b_brk = -math.log(self.u_brk(c))
                self.breakdown(c)
            elif kind == _FU:
                if c.case and c.fu_due <= env.now + TIME_EPS:       # still due (not rescheduled meanwhile)
                    due = c.fu_due
                    c.fu_due = INF
                    self._spawn_task(c, "followup", due)
            elif kind == _DUR:
                if c.step_end > env.now + TIME_EPS:      # the course was changed meanwhile
                    continue
                c.step_end = INF
                mode = P.on_max[s]
                if P.requires_case[s]:
                    self._spawn_task(c, "course_" + mode, env.now)
                else:
                    target, wait = self.decide(c, mode, exclude=s)
                    if target < 0 and wait < 0:
                        target = P.ground                # the course is over; a persisting need is detected again
                    self.apply(c, target, wait)
                    if self._exit_if_recovered(c):
                        return
            elif kind == _ACX:
                c.b_acx = -math.log(self.u_brk(c))
                self.exit(c, "aged_out")
                return
            elif kind == _AGE:
                if not c.adult and env.now - c.birth >= P.adult_age_days - TIME_EPS:
                    if P.placement[c.step] and self.u_brk(c) < P.aftercare_p:
                        self._leave_step(c, env.now)
                        c.step_t0 = env.now
                        self._occ_update(c.step, env.now)
                        c.adult = True
                        self.occ_a[c.step] += 1
                    else:
                        self.exit(c, "aged_out")
                        return
                elif c.adult and env.now - c.birth >= P.aftercare_end_days - TIME_EPS:
                    self.exit(c, "aged_out")
                    return

    def breakdown(self, c: Child) -> None:
        P = self.P
        self.count("breakdowns")
        if self.u_brk(c) < P.brk_escalate and c.level < P.n_levels - 1:
            c.level += 1
        target, wait = self.decide(c, "rematch", exclude=c.step)
        if target >= 0 and P.placement[target]:
            self.apply(c, target, -1)
        else:
            # no other placement with room: a new family / place of the same type
            c.placement_start = self.env.now
            c.last_fu = self.env.now
        if not c.task:
            self._spawn_task(c, "review", self.env.now)

    def _spawn_task(self, c: Child, mode: str, due: float) -> None:
        c.task = True
        if mode == "followup":
            self.pending_fu[c.id] = due
        self.env.process(self.casework_task(c, mode, due))

    # ------------------------------------------------------------------ casework
    def notification(self, c: Child):
        env = self.env
        c.in_process = True
        t0 = env.now
        if self.P.triage > 0:
            yield env.timeout(self.P.triage)
        if c.exited:
            return
        P = self.P
        if not P.unit_route[c.level]:
            yield self.team.request(P.priority_assessment)
            start = env.now
            self.count("assessment_wait_sum", start - t0)
            self.count("assessment_wait_n")
            yield env.timeout(self.P.assessment_days)
            self.team.put(1)
            self.count("assessments")
            self.cost_assess[self.month(env.now)] += self.P.assessment_cost
            if self.P.decision_delay > 0:
                yield env.timeout(self.P.decision_delay)
        c.in_process = False
        if c.exited:
            return
        target, wait = self.decide(c, "rematch")
        self.apply(c, target, wait)
        if self._exit_if_recovered(c):
            return
        self.poke(c)

    def casework_task(self, c: Child, mode: str, due: float):
        env = self.env
        P = self.P
        yield self.team.request(P.priority_followup if mode == "followup" else P.priority_review)
        start = env.now
        if mode == "followup" and self.pending_fu.pop(c.id, None) is not None:
            m = self.month(due)
            self.ctr[C["followups_due"]][m] += 1
            self.ctr[C["followup_slip_sum"]][m] += start - due
            if start - due <= self.P.grace:
                self.ctr[C["followups_on_time"]][m] += 1
        work = self.P.followup_days + self.P.case_days_per_month * max(0.0, start - c.last_fu) / DAYS_PER_MONTH
        share = self.work_share()
        if mode == "followup":
            m = self.month(start)
            self.ctr[C["followup_share_sum"]][m] += share
            self.ctr[C["followup_share_n"]][m] += 1
        yield env.timeout(work * share)
        self.team.put(1)
        self.count("followups_done")
        c.task = False
        if c.exited:
            return
        c.last_fu = env.now
        # a thin follow-up (share < 1) notices a change of the child's need with probability = share;
        # otherwise the measure simply continues until the next follow-up
        noticed = share >= 1.0 or mode != "followup" or self.u_fu(c) < share
        if (c.case or mode != "followup") and noticed:
            if mode.startswith("course_"):
                # a bounded course has ended: rematch without the finished step
                target, wait = self.decide(c, mode[len("course_"):], exclude=c.step)
                if target < 0 and wait < 0:
                    target = self.P.ground if c.level == 0 else -1
            else:
                target, wait = self.decide(c, "rematch")
            self.apply(c, target, wait)
        if c.case:
            c.fu_due = env.now + self.interval(c)
        if self._exit_if_recovered(c):
            return
        self.poke(c)

    # ------------------------------------------------------------------ months and switch
    def months(self):
        env = self.env
        if self.warm_months == 0:
            # no warm-up: the horizon starts now (this process starts after the initial population's,
            # so every child is already waiting when it is poked)
            self._horizon_start()
        self._staffing(0)
        for m in range(self.M):
            yield env.timeout((m + 1) * DAYS_PER_MONTH - env.now)
            self._flush(m, env.now)
            if m + 1 == self.warm_months:
                self._horizon_start()
            elif m + 1 == self.switch_month:
                self._switch()
            elif self.switch_month < m + 1 <= self.switch_month + len(self.Ph.ramp):
                self._change_practice(self._stage(m + 1 - self.switch_month), m + 1)
            self._staffing(m + 1)

    def _flush(self, m: int, now: float) -> None:
        P = self.P
        self._flushed = m
        days = DAYS_PER_MONTH
        for s in range(self.n_steps):
            self._occ_update(s, now)
            cd = self.area[s] - self._area_prev[s]
            ad = self.area_a[s] - self._area_a_prev[s]
            self._area_prev[s] = self.area[s]
            self._area_a_prev[s] = self.area_a[s]
            self.child_days[s, m] = cd
            self.adult_days[s, m] = ad
            self.occ_end[s, m] = self.occ[s] + self.occ_a[s]
            self.cost_step[s, m] = (cd + ad) * P.cost_per_day[s]
            self.cost_fixed[s, m] = P.fixed_cost_per_day[s] * days
        self._case_update(now)
        self.case_days[m] = self.area_case - self._case_prev
        self._case_prev = self.area_case
        self.cases_end[m] = self.n_case
        self.queue_end[m] = len(self.team.get_queue)
        self.waiting_end[m] = self.n_waiting
        self.team_hist[m] = self.team_size
        self.cost_cw[m] = self.team_size * P.caseworker_cost_per_day * days
        if m >= self.warm_months:
            self.cost_inv[m] += P.investment_per_day * days

    def _staffing(self, k: int) -> None:
        """A caseload norm (casework.staffing), at the start of month k: every review_months months - counted
        from the start of the run, and again from the switch - the team is set to the open cases divided
        by the norm, rounded up (at least one caseworker, at most max_caseworkers), from hiring_lag_months later."""
        P = self.P
        if P.staffing_norm is not None:
            since = k - (self.switch_month if k >= self.switch_month else 0)
            if since % P.staffing_review == 0:
                target = min(max(1, math.ceil(self.n_case / P.staffing_norm)), P.staffing_max)
                self._staff_due.append((k + P.staffing_lag, int(target)))
        while self._staff_due and self._staff_due[0][0] <= k:
            self._resize_team(self._staff_due.pop(0)[1], k)

    def _resize_team(self, size: int, k: int, book: bool = True) -> None:
        """Set the team to ``size`` FTE from month k: added caseworkers at once (with ``book``, their
        recruitment is booked as investment), removed ones as they become free, before any waiting task."""
        diff = size - self.team_size
        if diff > 0:
            self.team.put(diff)
            if book and k < self.M:
                self.cost_inv[k] += diff * self.P.cost_per_hire
        elif diff < 0:
            self.team.request(-1, -diff)
        self.team_size = size

    def _horizon_start(self) -> None:
        """The arm's practice takes over now - or, with a later implementation.start_month, every child is
        re-examined under current practice exactly as an arm switching now to the same parameters re-examines
        them (the baseline arm does), so that this arm stays identical to it, draw for draw, until its start."""
        if self.switch_month == self.warm_months:
            self._switch()
        else:
            self._reexamine(self.P)

    def _switch(self) -> None:
        """The arm's parameters replace the warm-up's: at the start of the horizon, or implementation.start_month
        months into it. The one-off investment is booked at the horizon start either way (preparation)."""
        self.cost_inv[self.warm_months] += self.Ph.investment_one_off
        self._change_practice(self._stage(0), self.switch_month)

    def _stage(self, k: int) -> Compiled:
        """The practice k months after the switch: a stage of implementation.ramp_months, then the arm's."""
        return self.Ph.ramp[k] if k < len(self.Ph.ramp) else self.Ph

    def _change_practice(self, new: Compiled, k: int) -> None:
        """From month k, practice ``new``: the team changes by its difference in size, and every child is
        re-examined under it."""
        old = self.P
        self.P = new
        # the arm's hires (or cuts) change the team as it is (under a caseload norm it may differ from the
        # configured size); recruitment of a scenario's hires is in its own investment, not cost_per_hire
        self._resize_team(self.team_size + new.team_size - old.team_size, k, book=False)
        self._reexamine(new, old)

    @staticmethod
    def _course(P: Compiled, s: int, c, now: float):
        """The (min, max) days a stay on step s starting now is bounded to, or None: the step has no bound,
        or the child's age now is outside the ages it applies to (max_duration_ages)."""
        dur = P.duration[s]
        if dur is None:
            return None
        ages = P.duration_ages[s]
        if ages is not None and not ages[0] <= now - c.birth < ages[1]:
            return None
        return dur

    def _reexamine(self, new: Compiled, old: Compiled | None = None) -> None:
        """After a change of practice from ``old`` (self.P is ``new``): waiting lists get new capacity, stays
        and cases follow the new rules, and every child's rates are recomputed. A stay is newly bounded only
        on a step that ``old`` left open-ended (each stay is judged once, at its start or at the switch that
        bounds its step - not again at every month of a ramp)."""
        now = self.env.now
        for s in range(self.n_steps):
            self.free_slot(s)
        for c in self.registry:
            if c.exited:
                continue
            dur = self._course(new, c.step, c, now)
            if dur is not None and c.step_end == INF and not c.task and (old is None or old.duration[c.step] is None):
                # a stay under way becomes bounded, counted from the switch: the new practice does
                # not end every long stay in its first month
                lo, hi = dur
                c.step_end = now + lo + (hi - lo) * self.u_dec(c)
            elif new.duration[c.step] is None:          # the step is no longer bounded at all
                c.step_end = INF
            if c.waiting_for < 0:
                self._sync_case(c)
            # follow-ups already scheduled keep their date; the new interval applies from the next one
            # (pulling every case forward at once would create a backlog no municipality would plan)
            self.poke(c)

    # ------------------------------------------------------------------ run
    def run(self) -> RepResult:
        env = self.env
        self.initial_population()
        env.process(self.onsets())
        env.process(self.months())
        # Long-lived objects from imports need not be rescanned by the garbage collector during the
        # run (about 10 % of the run time); freezing them does not change any result.
        gc.freeze()
        try:
            env.run(until=self.T_end)
        finally:
            gc.unfreeze()
        now = self.T_end
        if self._flushed < self.M - 1:
            self._flush(self.M - 1, now)
        # late follow-ups still waiting at the end count as not on time
        for due in self.pending_fu.values():
            if due + self.P.grace < now:
                m = self.month(due)
                self.ctr[C["followups_due"]][m] += 1
                self.ctr[C["followup_slip_sum"]][m] += now - due
        alive = [c for c in self.registry if not c.exited]
        for c in alive:
            t0 = max(c.step_t0, self.T_w)
            c.cost_h += (now - t0) * self.P.cost_per_day[c.step]
            c.exit_t = INF
            c.exit_reason = "active"
            self._ledger(c)
        P = self.P
        return RepResult(
            step_names=list(P.step_names), placement=list(P.placement),
            month_index=np.arange(self.M) - self.warm_months,
            child_days=self.child_days, adult_days=self.adult_days, occupancy_end=self.occ_end,
            step_entries=self.step_in, step_exits=self.step_out,
            cost_step=self.cost_step, cost_fixed=self.cost_fixed, cost_caseworkers=self.cost_cw,
            cost_assessments=self.cost_assess, cost_investment=self.cost_inv,
            case_days=self.case_days, open_cases_end=self.cases_end, queue_end=self.queue_end,
            waiting_end=self.waiting_end, team=self.team_hist, counters=np.array(self.ctr),
            children=self.ledger, created=self.next_id, active_end=len(alive), exited=self.exited_n,
            events=_event_count(env), children_0_17=P.children_0_17, young_18_22=P.young_18_22,
            population_factor=self.population_factor(),
            horizon_months=self.h_months, discount_rate=P.discount_rate,
        )


def _age_group(edges: list, age: float) -> int:
    """Index of the age group (need.age_groups, in order) that a child of ``age`` days belongs to; the last
    group takes every age beyond its start."""
    g, last = 0, len(edges) - 1
    while g < last and age + TIME_EPS >= edges[g][1]:
        g += 1
    return g


def _pick(options, total, u):
    x = u * total
    for s, w in options:
        if x <= w:
            return s
        x -= w
    return options[-1][0]


def _event_count(env: simpy.Environment) -> int:
    """Number of events SimPy scheduled (its event-id counter)."""
    eid = env._eid  # itertools.count
    return int(repr(eid).removeprefix("count(").removesuffix(")"))
