"""Changes of practice and staffing at the start of a month: the switch from the warm-up's practice to the
arm's, the stages of a ramp, the re-examination of every child under a new practice, and the team's size
under a caseload norm.

A mixin of :class:`~sim.model.model.Model`, whose ``months`` process calls these methods; they use the
model's state (``practice``, ``arm``, ``team``, ``registry``, ``recorder``, ...) and its state changes
(``free_slot``, ``_sync_case``, ``poke``).
"""
from __future__ import annotations

import math

from ..common.units import INF
from . import rules
from .params import Compiled


class Practice:
    """The changes of practice and staffing of a Model (a mixin: see the module's docstring)."""

    def _staffing(self, k: int) -> None:
        """A caseload norm (casework.staffing), at the start of month k: every review_months months - counted
        from the start of the run, and again from the switch - the team is set to the open cases divided
        by the norm, rounded up (at least one caseworker, at most max_caseworkers), from hiring_lag_months later."""
        P = self.practice
        if P.cases_per_caseworker is not None:
            since = k - (self.switch_month if k >= self.switch_month else 0)
            if since % P.review_months == 0:
                target = min(max(1, math.ceil(self.recorder.n_case / P.cases_per_caseworker)), P.max_caseworkers)
                self._staff_due.append((k + P.hiring_lag_months, int(target)))
        while self._staff_due and self._staff_due[0][0] <= k:
            self._resize_team(self._staff_due.pop(0)[1], k)

    def _resize_team(self, size: int, k: int, book: bool = True) -> None:
        """Set the team to ``size`` FTE from month k: added caseworkers at once (with ``book``, their
        recruitment is booked as investment), removed ones as they become free, before any waiting task."""
        diff = size - self.team_size
        if diff > 0:
            self.team.put(diff)
            if book and k < self.n_months:
                self.recorder.investment(k, diff * self.practice.cost_per_hire_dkk)
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
            self._reexamine(self.practice)

    def _switch(self) -> None:
        """The arm's parameters replace the warm-up's: at the start of the horizon, or implementation.start_month
        months into it. The one-off investment is booked at the horizon start either way (preparation)."""
        self.recorder.investment(self.warm_months, self.arm.investment_one_off_dkk)
        self._change_practice(self._stage(0), self.switch_month)

    def _stage(self, k: int) -> Compiled:
        """The practice k months after the switch: a stage of implementation.ramp_months, then the arm's."""
        return self.arm.ramp[k] if k < len(self.arm.ramp) else self.arm

    def _change_practice(self, new: Compiled, k: int) -> None:
        """From month k, practice ``new``: the team changes by its difference in size, and every child is
        re-examined under it."""
        old = self.practice
        self.practice = new
        self.update_room()
        # the arm's hires (or cuts) change the team as it is (under a caseload norm it may differ from the
        # configured size); recruitment of a scenario's hires is in its own investment, not cost_per_hire
        self._resize_team(self.team_size + new.caseworkers - old.caseworkers, k, book=False)
        self._reexamine(new, old)

    def _reexamine(self, new: Compiled, old: Compiled | None = None) -> None:
        """After a change of practice from ``old`` (self.practice is ``new``): waiting lists get new capacity,
        stays and cases follow the new rules, and every child's rates are recomputed. A stay is newly bounded
        only on a step that ``old`` left open-ended (each stay is judged once, at its start or at the switch that
        bounds its step - not again at every month of a ramp)."""
        now = self.env.now
        for s in range(self.n_steps):
            self.free_slot(s)
        for c in self.registry:
            if c.exited:
                continue
            dur = rules.course_bound(new, c.step, now - c.birth)
            if (dur is not None and c.step_end == INF and not c.task
                    and (old is None or old.max_duration_days[c.step] is None)):
                # a stay under way becomes bounded, counted from the switch: the new practice does
                # not end every long stay in its first month
                lo, hi = dur
                c.step_end = now + lo + (hi - lo) * self.u_dec(c)
            elif new.max_duration_days[c.step] is None:          # the step is no longer bounded at all
                c.step_end = INF
            if c.waiting_for < 0:
                self._sync_case(c)
            # follow-ups already scheduled keep their date; the new interval applies from the next one
            # (pulling every case forward at once would create a backlog no municipality would plan)
            self.poke(c)
