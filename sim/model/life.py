"""A child's life: its competing clocks, run by SimPy event callbacks instead of a generator process.

A child with a need races its clocks (``rules.next_clock``: escalation, recovery, detection, breakdown, the end
of aftercare, age boundaries, a follow-up due, the end of a bounded stay) and waits for the earliest on a SimPy
``Timeout``; when a state change alters its rates, the change pokes it and it starts a new race at the new rates.

This is the life loop of a SimPy process, written as callbacks: the events are the ones SimPy schedules for a
process, with the same priorities, in the same order, so every run is the run of the process, event for event and
draw for draw (the same event ids and count):

* ``LifeStart`` - the process's ``Initialize`` (urgent, at the start): the first race;
* the race's ``Timeout`` - the process waiting on its clocks; its callback is the loop's body;
* ``Poke`` - the process's ``Interruption`` (urgent): the pending race's callback is removed and a new race starts;
* ``LifeEnd`` - the process's own event, scheduled when the loop ends (nothing waits for it).

A process resumes its generator through ``Process._resume`` and an interrupt throws two exception objects into it;
a callback skips both, which makes a child's wake-up about a third cheaper in SimPy's share
(``benchmarks/bench_replication.py``). A mixin of :class:`~sim.model.model.Model`.
"""
from __future__ import annotations

import math
from functools import partial

from simpy.core import URGENT
from simpy.events import Event, Timeout

from . import rules
from .child import Child
from .params import Compiled
from .rules import ACX, AGE, BRK, DET, DUR, ESC, FU, POKED, REC, TIME_EPS
from ..common.units import INF


class LifeStart(Event):
    """A child's life begins: its first race (SimPy's ``Initialize`` of a process; urgent, now)."""

    KIND = "Initialize"           # the SimPy event it stands for (benchmarks/bench_replication's event mix)

    def __init__(self, env, callback):
        """Scheduled at once; ``callback(event)`` runs when it is processed."""
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        env.schedule(self, URGENT)


class Poke(Event):
    """A child's rates changed: a new race (SimPy's ``Interruption`` of a process; urgent, now)."""

    KIND = "Interruption"

    def __init__(self, env, callback):
        """Scheduled at once; ``callback(event)`` runs when it is processed."""
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        env.schedule(self, URGENT)


class LifeEnd(Event):
    """A child's life has ended (the event of a process whose generator returned; nothing waits for it)."""

    KIND = "Process"

    def __init__(self, env):
        """Scheduled at once, with no callbacks."""
        self.env = env
        self.callbacks = []
        self._value = None
        self._ok = True
        env.schedule(self)


class TaskStart(LifeStart):
    """A casework task begins (SimPy's ``Initialize`` of a process; urgent, now): it asks for a caseworker."""


class TaskEnd(LifeEnd):
    """A casework task has ended (the event of a process whose generator returned)."""


class Life:
    """The life of every child with a need (a mixin: see the module's docstring). The model provides ``env``,
    ``practice`` and the state changes (Staircase) and casework (Casework: ``_spawn_task``, ``notify``)."""

    def start(self, c: Child) -> None:
        """Start the child's life: its first race follows at once (after the events already due now)."""
        c.busy = False
        c.wake = partial(self._woken, c)
        LifeStart(self.env, partial(self._begin, c))

    def poke(self, c: Child) -> None:
        """Tell the child's life that its rates changed: unless it is running (busy) or already poked, a new race
        starts (after the events already due now)."""
        if not c.busy and not c.poked and c.wake is not None:
            c.poked = True
            Poke(self.env, partial(self._poked, c))

    def _begin(self, c: Child, event: Event) -> None:
        """The callback of LifeStart."""
        self._race(c)

    def _race(self, c: Child) -> None:
        """A new race of the child's clocks from now: wait for the earliest (its Timeout calls ``_woken``)."""
        P = self.practice
        env = self.env
        now = env._now
        clock = rules.next_clock(P, c, now)
        c.race = (P, now, c.level, c.step, clock)
        c.busy = False
        ev = Timeout(env, clock[0] - now)
        ev.callbacks.append(c.wake)
        c.ev = ev

    def _woken(self, c: Child, event: Event) -> None:
        """The callback of the race's Timeout: the earliest clock has rung."""
        P, now, L, s, (t, kind, esc, rec, det, brk, acx) = c.race
        self._rang(c, P, now, L, s, t, kind, esc, rec, det, brk, acx)

    def _poked(self, c: Child, event: Event) -> None:
        """The callback of Poke: the race is over now, unfinished; a new one starts."""
        if c.wake is None:                   # the life ended meanwhile
            return
        c.ev.callbacks.remove(c.wake)        # the pending Timeout stays in SimPy's queue, with no callback
        P, now, L, s, (t, kind, esc, rec, det, brk, acx) = c.race
        c.poked = False
        self._rang(c, P, now, L, s, self.env._now, POKED, esc, rec, det, brk, acx)

    def _end(self, c: Child) -> None:
        """The child's life is over (it has left the model)."""
        c.wake = c.ev = None
        LifeEnd(self.env)

    def _rang(self, c: Child, P: Compiled, now: float, L: int, s: int, t: float, kind: int,
              esc: float, rec: float, det: float, brk: float, acx: float) -> None:
        """The clock ``kind`` of the race that began at ``now`` (under practice P, at level L on step s, with the
        given rates) rang at ``t``: spend the budgets up to ``t``, act on the clock, then race again - or end."""
        c.busy = True
        if c.exited:
            self._end(c)
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
            self._race(c)
            return
        env = self.env
        if kind == REC:                     # (the kinds in order of how often they occur)
            if self._recover(c, P, L):
                self._end(c)
                return
        elif kind == FU:
            if c.case and c.fu_due <= env._now + TIME_EPS:       # still due (not rescheduled meanwhile)
                due = c.fu_due
                c.fu_due = INF
                self._spawn_task(c, "followup", due)
        elif kind == AGE:
            if self._birthday(c, P):
                self._end(c)
                return
        elif kind == DET:
            c.b_det = -math.log(self.u_det(c))
            self.recorder.count("notifications", env._now)
            if c.case:
                self._spawn_task(c, "review", env._now)
            else:
                self.notify(c)
        elif kind == ESC:
            c.b_esc = -math.log(self.u_need(c))
            if L < P.n_levels - 1:
                self.set_level(c, L + 1)
        elif kind == BRK:
            c.b_brk = -math.log(self.u_brk(c))
            self.breakdown(c)
        elif kind == DUR:
            if self._course_over(c, P, s):
                self._end(c)
                return
        elif kind == ACX:
            c.b_acx = -math.log(self.u_brk(c))
            self.exit(c, "aged_out")
            self._end(c)
            return
        self._race(c)

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
