"""The statistics of one replication: occupancy and open cases integrated over time, monthly counters and
costs, the per-child ledger, and the :class:`RepResult` they make at the end.

The model tells the :class:`Recorder` what happens (a child arrives on or leaves a step, a case opens or
closes, an event to count, a cost to book); the recorder keeps the running stocks, integrates them into
child-days and case-days, and writes each month's row at the month end (``flush``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..common.units import DAYS_PER_MONTH, DAYS_PER_YEAR
from .child import Child
from .params import Compiled
from .rules import age_group

# counters recorded per month
CTR = (
    "onsets", "notifications", "assessments", "assessment_wait_sum", "assessment_wait_n",
    "followups_due", "followups_on_time", "followups_done", "followup_slip_sum",
    "new_placements", "step_ups", "step_downs", "breakdowns", "returns_home",
    "exits_recovered", "exits_aged_out", "case_openings", "case_closings",
    "followup_share_sum", "followup_share_n",
    "busy_days", "assessments_overdue",      # caseworker-days of task work started; assessments beyond the deadline
)
# outcome counters: moves between placements; the sum of the ages (years) at new placements
CTR += ("placement_moves", "new_placement_age_sum")
C = {name: i for i, name in enumerate(CTR)}
_SHARE_SUM, _SHARE_N, _BUSY = C["followup_share_sum"], C["followup_share_n"], C["busy_days"]
_WAIT_SUM, _WAIT_N, _ASSESSMENTS, _OVERDUE = (C["assessment_wait_sum"], C["assessment_wait_n"], C["assessments"],
                                             C["assessments_overdue"])


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
    children: list                   # ledger rows (tuples) for children present in the horizon
    created: int
    active_end: int
    exited: int
    events: int
    children_0_17: int               # at the horizon start
    young_18_22: int                 # at the horizon start
    population_factor: np.ndarray    # [month] mean population relative to the horizon start (1 = stationary)
    horizon_months: int
    discount_rate: float             # per year
    other_spending_per_child_0_22_dkk: float   # DKK per 0-22-year-old per year outside the staircase (costs.*)
    need_days: np.ndarray            # [month] child-days with a need (level > 0), horizon months only
    need_days_weighted: np.ndarray   # [month] the same, each day weighted by its level's need.outcome_weights
    unmet_need_days: np.ndarray      # [month] child-days with the need above the step (below its matching band)
    age_group_names: list            # need.age_groups, in order
    new_placements_age: np.ndarray   # [age group, month] new placements by the child's age group at the move
    placed_days_age: np.ndarray      # [age group, month] child-days on placement steps by age group (aftercare
                                     # included), horizon months only


class Recorder:
    """Occupancy, open cases, monthly counters and costs, and the ledger of one replication."""

    def __init__(self, n_steps: int, months: int, warm_months: int, horizon_start: float):
        """Empty records for ``n_steps`` steps over ``months`` months, of which the first ``warm_months`` are
        the warm-up (the horizon starts on day ``horizon_start``)."""
        n, M = n_steps, months
        self.n_steps, self.n_months, self.warm_months, self.horizon_start = n, M, warm_months, horizon_start
        # stocks, integrated over time: children by step (under adult age / in aftercare) and open cases
        self.occ = [0] * n
        self.occ_a = [0] * n
        self.area = [0.0] * n
        self.area_a = [0.0] * n
        self.t_area = [0.0] * n
        self._area_prev = [0.0] * n
        self._area_a_prev = [0.0] * n
        self.n_case = 0
        self.area_case = 0.0
        self.t_case = 0.0
        self._case_prev = 0.0
        # by month
        self.ctr = [[0.0] * M for _ in CTR]
        self.child_days = np.zeros((n, M))
        self.adult_days = np.zeros((n, M))
        self.occ_end = np.zeros((n, M))
        self.step_in = [[0.0] * M for _ in range(n)]       # [step][month]: lists (faster to add to one at a time)
        self.step_out = [[0.0] * M for _ in range(n)]
        self.cost_step = np.zeros((n, M))
        self.cost_fixed = np.zeros((n, M))
        self.recruitment = np.zeros((n, M))      # DKK of families recruited for step s in month m (fixed cost)
        self.cost_cw = np.zeros(M)
        self.cost_assess = np.zeros(M)
        self.cost_inv = np.zeros(M)
        self.case_days = np.zeros(M)
        self.cases_end = np.zeros(M)
        self.queue_end = np.zeros(M)
        self.waiting_end = np.zeros(M)
        self.team_hist = np.zeros(M)
        self.ledger: list = []
        self.flushed = -1                  # the last month written by flush
        # outcomes, by month (horizon only; filled lazily by need_days): need-days, weighted, unmet; the
        # matching band of each month's practice; new placements and placed days by age group
        self.need_d = [0.0] * M
        self.need_w = [0.0] * M
        self.unmet_d = [0.0] * M
        self.band: list = [None] * M
        self.new_pl_age: dict[int, list] = {}
        self.placed_age: dict[int, list] = {}

    # ------------------------------------------------------------------ events
    def month(self, t: float) -> int:
        """The month of time ``t`` (days); times at or past the end count in the last month."""
        m = int(t / DAYS_PER_MONTH)
        return m if m < self.n_months else self.n_months - 1

    def count(self, name: str, t: float, k: float = 1.0) -> None:
        """Add ``k`` to counter ``name`` (one of CTR) in the month of time ``t``."""
        m = int(t / DAYS_PER_MONTH)               # self.month(t), inline: a count is made at most events
        self.ctr[C[name]][m if m < self.n_months else self.n_months - 1] += k

    def task_start(self, t: float, busy: float, share: float | None = None) -> None:
        """A follow-up or review starts at ``t``: ``busy`` caseworker-days of work; a follow-up also its work
        ``share`` (None for a review)."""
        m = int(t / DAYS_PER_MONTH)
        if m >= self.n_months:
            m = self.n_months - 1
        ctr = self.ctr
        if share is not None:
            ctr[_SHARE_SUM][m] += share
            ctr[_SHARE_N][m] += 1.0
        ctr[_BUSY][m] += busy

    def assessment_start(self, t: float, wait: float, busy: float) -> None:
        """An assessment starts at ``t`` after ``wait`` days since the notification: ``busy`` caseworker-days."""
        m = int(t / DAYS_PER_MONTH)
        if m >= self.n_months:
            m = self.n_months - 1
        ctr = self.ctr
        ctr[_WAIT_SUM][m] += wait
        ctr[_WAIT_N][m] += 1.0
        ctr[_BUSY][m] += busy

    def assessment_done(self, t: float, overdue: bool, cost: float) -> None:
        """An assessment is finished at ``t`` (``overdue``: beyond the deadline), costing ``cost`` DKK."""
        m = int(t / DAYS_PER_MONTH)
        if m >= self.n_months:
            m = self.n_months - 1
        ctr = self.ctr
        ctr[_ASSESSMENTS][m] += 1.0
        if overdue:
            ctr[_OVERDUE][m] += 1.0
        self.cost_assess[m] += cost

    def update(self, s: int, now: float) -> None:
        """Integrate step s's occupancy up to ``now``."""
        dt = now - self.t_area[s]
        if dt:
            self.area[s] += self.occ[s] * dt
            self.area_a[s] += self.occ_a[s] * dt
            self.t_area[s] = now

    def occupy(self, s: int, adult: bool, now: float, k: int) -> None:
        """``k`` children (1 = one arrives, -1 = one leaves) on step s from ``now``, under adult age or in
        aftercare (``adult``)."""
        dt = now - self.t_area[s]                 # self.update(s, now), inline (at every move)
        if dt:
            self.area[s] += self.occ[s] * dt
            self.area_a[s] += self.occ_a[s] * dt
            self.t_area[s] = now
        if adult:
            self.occ_a[s] += k
        else:
            self.occ[s] += k

    def arrive(self, s: int, now: float) -> None:
        """A new child arrives on step s (the ground step) under adult age: ``occupy`` and ``step_entry`` in one."""
        dt = now - self.t_area[s]
        if dt:
            self.area[s] += self.occ[s] * dt
            self.area_a[s] += self.occ_a[s] * dt
            self.t_area[s] = now
        self.occ[s] += 1
        m = int(now / DAYS_PER_MONTH)
        self.step_in[s][m if m < self.n_months else self.n_months - 1] += 1

    def step_entry(self, s: int, now: float) -> None:
        """A new child arrives on step s (the ground step)."""
        self.step_in[s][self.month(now)] += 1

    def step_exit(self, s: int, now: float) -> None:
        """A child leaves step s (out of the model)."""
        self.step_out[s][self.month(now)] += 1

    def step_move(self, old: int, new: int, now: float) -> None:
        """A child moves from step ``old`` to step ``new``."""
        m = self.month(now)
        self.step_out[old][m] += 1
        self.step_in[new][m] += 1

    def _case_update(self, now: float) -> None:
        self.area_case += self.n_case * (now - self.t_case)
        self.t_case = now

    def existing_case(self, now: float) -> None:
        """A case that was open before the horizon joins the stock at ``now`` (today's caseload; no opening)."""
        self._case_update(now)
        self.n_case += 1

    def open_case(self, now: float) -> None:
        """A case opens at ``now``."""
        self._case_update(now)
        self.n_case += 1
        self.count("case_openings", now)

    def close_case(self, now: float) -> None:
        """A case closes at ``now``."""
        self._case_update(now)
        self.n_case -= 1
        self.count("case_closings", now)

    def followup_due(self, due: float, slip: float, on_time: bool) -> None:
        """A follow-up due at ``due`` got a caseworker ``slip`` days late (or is still waiting at the end):
        counted in the month it was due."""
        m = self.month(due)
        self.ctr[C["followups_due"]][m] += 1
        self.ctr[C["followup_slip_sum"]][m] += slip
        if on_time:
            self.ctr[C["followups_on_time"]][m] += 1

    def family_recruitment(self, m: int, s: int, amount: float) -> None:
        """Book ``amount`` DKK of recruiting families for step s in month m (part of the step's fixed cost)."""
        self.recruitment[s, m] += amount

    def assessment_cost(self, now: float, cost: float) -> None:
        """Book the cost of an assessment finished at ``now``."""
        self.cost_assess[self.month(now)] += cost

    def investment(self, m: int, amount: float) -> None:
        """Book ``amount`` DKK of investment in month m."""
        self.cost_inv[m] += amount

    def child(self, c: Child, now: float, P: Compiled) -> None:
        """The ledger row of a child present in the horizon (times relative to the horizon start), at its exit or
        at the end of the run (``now``, under practice P): its outcomes are integrated up to now first."""
        self.need_days(c, now, P)
        w = self.horizon_start
        self.ledger.append((
            c.id, c.onset_t - w, (c.onset_t - c.birth) / DAYS_PER_YEAR, c.onset_level,
            c.first_measure_t - w, c.first_level, c.served, c.placed_h, c.cost_h,
            c.exit_t - w, c.exit_reason, c.level, c.step,
            c.need_d, c.need_w, c.unmet_d, c.moves_h,
        ))

    # ------------------------------------------------------------------ outcomes
    def need_days(self, c: Child, now: float, P: Compiled) -> None:
        """Integrate child c's outcomes from c.t_need up to ``now`` (horizon only), by month: days with a need,
        weighted by need.outcome_weights, days with the need above the step (the step below the level's
        matching band under each month's practice), and placed days by age group. The model calls this before
        every change of the child's level or step and for its ledger row (``child``), so both are constant over
        the interval; ``P`` is the practice in force now (weights, placement steps, age groups)."""
        t = c.t_need
        c.t_need = now
        if t < self.horizon_start:
            t = self.horizon_start
        L, s = c.level, c.step
        placed = P.placement[s]
        if now <= t or not (L or placed):
            return
        if L:
            w = P.outcome_weights[L]
            c.need_d += now - t
            c.need_w += w * (now - t)
        last = self.n_months - 1
        m = min(int(t / DAYS_PER_MONTH), last)
        while True:
            te = now if m >= last else min(now, (m + 1) * DAYS_PER_MONTH)
            if te > t:
                if L:
                    d = te - t
                    self.need_d[m] += d
                    self.need_w[m] += w * d
                    band = self.band[m] if m <= self.flushed else P.matching_band_lo
                    if s < band[L]:
                        self.unmet_d[m] += d
                        c.unmet_d += d
                if placed:
                    self._placed_days(m, t, te, c.birth, P.age_groups_days)
            if te >= now:
                return
            t = te
            m += 1

    def _placed_days(self, m: int, t: float, te: float, birth: float, edges: list) -> None:
        """Add the placed days from ``t`` to ``te`` (within month m) of a child born at ``birth`` to its age
        groups (split where it passes into the next one)."""
        g = age_group(edges, t - birth)
        last = len(edges) - 1
        while t < te:
            end = te if g >= last else min(te, birth + edges[g][1])
            row = self.placed_age.get(g)
            if row is None:
                row = self.placed_age[g] = [0.0] * self.n_months
            row[m] += end - t
            t = end
            g += 1

    def new_placement(self, g: int, age: float, now: float) -> None:
        """A new placement now of a child in age group g, ``age`` days old."""
        m = self.month(now)
        row = self.new_pl_age.get(g)
        if row is None:
            row = self.new_pl_age[g] = [0.0] * self.n_months
        row[m] += 1
        self.ctr[C["new_placement_age_sum"]][m] += age / DAYS_PER_YEAR

    # ------------------------------------------------------------------ month ends and the result
    def flush(self, m: int, now: float, P: Compiled, queue: int, waiting: int, team_size: int) -> None:
        """Write month m's row at its end (``now``) under practice P: days and costs by step, case-days, and the
        stocks at the month end (``queue`` tasks waiting for a caseworker, ``waiting`` children waiting for a
        full step, ``team_size`` caseworkers)."""
        self.flushed = m
        self.band[m] = P.matching_band_lo
        days = DAYS_PER_MONTH
        for s in range(self.n_steps):
            self.update(s, now)
            cd = self.area[s] - self._area_prev[s]
            ad = self.area_a[s] - self._area_a_prev[s]
            self._area_prev[s] = self.area[s]
            self._area_a_prev[s] = self.area_a[s]
            self.child_days[s, m] = cd
            self.adult_days[s, m] = ad
            self.occ_end[s, m] = self.occ[s] + self.occ_a[s]
            self.cost_step[s, m] = (cd + ad) * P.cost_per_day_dkk[s]
            self.cost_fixed[s, m] = P.fixed_cost_per_day_dkk[s] * days + self.recruitment[s, m]
        self._case_update(now)
        self.case_days[m] = self.area_case - self._case_prev
        self._case_prev = self.area_case
        self.cases_end[m] = self.n_case
        self.queue_end[m] = queue
        self.waiting_end[m] = waiting
        self.team_hist[m] = team_size
        self.cost_cw[m] = team_size * P.caseworker_cost_per_day_dkk * days
        if m >= self.warm_months:
            self.cost_inv[m] += P.investment_per_day_dkk * days

    def result(self, P: Compiled, created: int, active_end: int, exited: int, events: int,
               population_factor: np.ndarray) -> RepResult:
        """The replication's RepResult, under the practice P in force at the end."""
        return RepResult(
            step_names=list(P.step_names), placement=list(P.placement),
            month_index=np.arange(self.n_months) - self.warm_months,
            child_days=self.child_days, adult_days=self.adult_days, occupancy_end=self.occ_end,
            step_entries=np.array(self.step_in), step_exits=np.array(self.step_out),
            cost_step=self.cost_step, cost_fixed=self.cost_fixed, cost_caseworkers=self.cost_cw,
            cost_assessments=self.cost_assess, cost_investment=self.cost_inv,
            case_days=self.case_days, open_cases_end=self.cases_end, queue_end=self.queue_end,
            waiting_end=self.waiting_end, team=self.team_hist, counters=np.array(self.ctr),
            children=self.ledger, created=created, active_end=active_end, exited=exited,
            events=events, children_0_17=P.children_0_17, young_18_22=P.young_18_22,
            population_factor=population_factor,
            horizon_months=self.n_months - self.warm_months, discount_rate=P.discount_rate_per_year,
            other_spending_per_child_0_22_dkk=P.other_spending_per_child_0_22_dkk,
            need_days=np.array(self.need_d), need_days_weighted=np.array(self.need_w),
            unmet_need_days=np.array(self.unmet_d), age_group_names=list(P.age_group_names),
            new_placements_age=self._by_group(self.new_pl_age, P), placed_days_age=self._by_group(self.placed_age, P),
        )

    def _by_group(self, rows: dict, P: Compiled) -> np.ndarray:
        """[age group, month] array of rows kept by age group (groups without a row are 0)."""
        out = np.zeros((len(P.age_group_names), self.n_months))
        for g, row in rows.items():
            out[g] = row
        return out
