"""The casework: notifications (triage, an assessment, the decision) and casework tasks (follow-ups, reviews, the
end of a bounded course), each needing a caseworker from the finite team (``team.Team``).

Each is a SimPy process written as callbacks, like a child's life (``life.py``): its start is the process's
``Initialize`` (``events.Start``, urgent), each wait is a SimPy event (``events.Wait`` for a Timeout, or a
caseworker request) whose callback is the next part of the process, and its end is the process's own event
(``events.Ended``). The events and
their order are the process's, event for event; the callbacks skip SimPy's resumption of a generator.

A mixin of :class:`~sim.model.model.Model`: it uses the model's ``env``, ``practice``, ``team``, ``recorder`` and
its state changes (Staircase: ``decide``, ``apply``, ``poke``, ...).
"""
from __future__ import annotations

from functools import partial

from ..common.units import DAYS_PER_MONTH
from . import rules
from .child import Child
from .events import Ended, Start, Wait


class Casework:
    """Notifications and casework tasks (a mixin: see the module's docstring)."""

    # ------------------------------------------------------------------ notifications
    def notify(self, c: Child) -> None:
        """A notification about the child: triage, an assessment by a caseworker (unless the need is routed to a
        no-case unit), the decision delay, then the first measure. It starts after the events due now."""
        Start(self.env, partial(self._note_begin, c))

    def _note_begin(self, c: Child, event) -> None:
        """Triage (when it takes time)."""
        env = self.env
        c.in_process = True
        t0 = env._now
        if self.practice.triage_days > 0:
            Wait(env, self.practice.triage_days, partial(self._note_triaged, c, t0))
        else:
            self._note_triaged(c, t0, None)

    def _note_triaged(self, c: Child, t0: float, event) -> None:
        """After triage: an assessment needs a caseworker, unless the need is routed to a no-case unit."""
        if c.exited:
            Ended(self.env)
            return
        P = self.practice
        if not P.unit_route[c.level]:
            self.team.request(P.task_priority_assessment).callbacks.append(partial(self._note_assess, c, t0))
        else:
            self._note_decide(c, None)

    def _note_assess(self, c: Child, t0: float, event) -> None:
        """A caseworker is free: the assessment (the notification came at ``t0``)."""
        env = self.env
        start = env._now
        P = self.practice
        self.recorder.assessment_start(start, start - t0, P.assessment_days)   # busy days in standard hours' days
        days = P.assessment_days / rules.extra_effort(P, len(self.team.get_queue), self.team_size)
        Wait(env, days, partial(self._note_assessed, c, t0))

    def _note_assessed(self, c: Child, t0: float, event) -> None:
        """The assessment is done: the caseworker is free; the decision follows (after its delay)."""
        env = self.env
        self.team.put(1)
        now = env._now
        P = self.practice
        self.recorder.assessment_done(now, now - t0 > P.assessment_deadline_days, P.assessment_cost_dkk)
        if P.decision_delay_days > 0:
            Wait(env, P.decision_delay_days, partial(self._note_decide, c))
        else:
            self._note_decide(c, None)

    def _note_decide(self, c: Child, event) -> None:
        """The decision: the child's first measure."""
        c.in_process = False
        if not c.exited:
            target, wait = self.decide(c, "rematch")
            self.apply(c, target, wait)
            if not self._exit_if_recovered(c):
                self.poke(c)
        Ended(self.env)

    # ------------------------------------------------------------------ follow-ups, reviews, courses
    def _spawn_task(self, c: Child, mode: str, due: float) -> None:
        """A follow-up ("followup", due at ``due``), a review ("review") or the end of a bounded course
        ("course_<on_max_duration>"): it waits for a caseworker, takes its share of the hours, then re-matches.
        It starts after the events due now."""
        c.task = True
        if mode == "followup":
            self.pending_fu[c.id] = due
        Start(self.env, partial(self._task_begin, c, mode, due))

    def _task_begin(self, c: Child, mode: str, due: float, event) -> None:
        """The task asks for a caseworker, at its priority."""
        P = self.practice
        priority = (rules.followup_priority(P, c.step, c.level, self.env._now, c.step_t0) if mode == "followup"
                    else P.task_priority_review)
        self.team.request(priority).callbacks.append(partial(self._task_work, c, mode, due))

    def _task_work(self, c: Child, mode: str, due: float, event) -> None:
        """A caseworker is free for the task: it takes its share of the hours."""
        env = self.env
        start = env._now
        rec = self.recorder
        P = self.practice
        followup = mode == "followup"
        if followup and self.pending_fu.pop(c.id, None) is not None:
            slip = start - due
            rec.followup_due(due, slip, slip <= P.on_time_grace_days)
        since = start - c.last_fu
        work = P.followup_days + P.case_days_per_month * (since if since > 0.0 else 0.0) / DAYS_PER_MONTH
        queue, size = len(self.team.get_queue), self.team_size
        share = rules.work_share(P, queue, size)
        rec.task_start(start, work * share, share if followup else None)     # busy days in standard hours' days
        Wait(env, work * share / rules.extra_effort(P, queue, size), partial(self._task_done, c, mode, share))

    def _task_done(self, c: Child, mode: str, share: float, event) -> None:
        """The task's work is done: the caseworker is free again, and the child's step is re-matched."""
        self.team.put(1)
        now = self.env._now
        self.recorder.count("followups_done", now)
        c.task = False
        if not c.exited:
            self._task_outcome(c, mode, share, now)
        Ended(self.env)

    def _task_outcome(self, c: Child, mode: str, share: float, now: float) -> None:
        """A task's re-matching: a thin follow-up (share < 1) notices a change of the child's need with
        probability = share; otherwise the measure simply continues until the next follow-up."""
        c.last_fu = now
        followup = mode == "followup"
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
