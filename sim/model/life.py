"""A child's life: its competing clocks, run by SimPy event callbacks instead of a generator process.

A child with a need races its clocks (``rules.next_clock``: escalation, recovery, detection, breakdown, the end
of aftercare, age boundaries, a follow-up due, the end of a bounded stay) and waits for the earliest (a ``Race``,
the SimPy event of that wait); when a state change alters its rates, the change pokes it and it starts a new
race at the new rates.

This is the life loop of a SimPy process, written as callbacks: the events are the ones SimPy schedules for a
process, with the same priorities, in the same order, so every run is the run of the process, event for event and
draw for draw (the same event ids and count):

* ``events.Start`` - the process's ``Initialize`` (urgent, at the start): the first race;
* ``Race`` - the ``Timeout`` of the process waiting on its clocks; its callback is the loop's body;
* ``events.Poke`` - the process's ``Interruption`` (urgent): the pending race loses its callback (it stays in
  SimPy's queue, as an interrupted process's Timeout does) and a new race starts;
* ``events.Ended`` - the process's own event, scheduled when the loop ends (nothing waits for it).

A process resumes its generator through ``Process._resume``, and an interrupt throws two exception objects into
it; a callback skips both. A mixin of :class:`~sim.model.model.Model`.
"""
from __future__ import annotations

import math
from functools import partial

from simpy.core import NORMAL

from . import rules
from .child import Child
from .events import Ended, Poke, Start
from .params import Compiled
from .rules import ACX, AGE, BRK, DET, DUR, ESC, FU, POKED, REC, TIME_EPS
from ..common.units import INF


class Race:
    """A child waiting for the earliest of its clocks: a SimPy event scheduled at the clock's time with normal
    priority (the ``Timeout`` a process would wait on), which carries the race: the child, the practice, start
    time, level and step it began with, and ``rules.next_clock``'s tuple (time, kind, rates)."""

    __slots__ = ("callbacks", "_ok", "child", "practice", "now", "level", "step", "clock")
    KIND = "Timeout"

    def __init__(self, callback, child: Child, practice: Compiled, now: float, level: int, step: int, clock: tuple):
        """The race; the caller schedules it."""
        self.callbacks = [callback]
        self._ok = True
        self.child = child
        self.practice = practice
        self.now = now
        self.level = level
        self.step = step
        self.clock = clock


class Life:
    """The life of every child with a need (a mixin: see the module's docstring). The model provides ``env``,
    ``practice`` and the state changes (Staircase) and casework (Casework: ``_spawn_task``, ``notify``)."""

    def start(self, c: Child) -> None:
        """Start the child's life: its first race follows at once (after the events already due now)."""
        c.busy = False
        c.alive = True
        Start(self.env, partial(self._begin, c))

    def poke(self, c: Child) -> None:
        """Tell the child's life that its rates changed: unless it is running (busy) or already poked, a new race
        starts (after the events already due now)."""
        if not c.busy and not c.poked and c.alive:
            c.poked = True
            Poke(self.env, partial(self._poked, c))

    def _begin(self, c: Child, event) -> None:
        """The callback of the life's Start event: the first race."""
        self._race(c)

    def _race(self, c: Child) -> None:
        """A new race of the child's clocks from now: wait for the earliest (its Race event calls ``_woken``)."""
        P = self.practice
        env = self.env
        now = env._now
        clock = rules.next_clock(P, c, now)
        c.busy = False
        c.ev = ev = Race(self._woken, c, P, now, c.level, c.step, clock)
        env.schedule(ev, NORMAL, clock[0] - now)

    def _woken(self, race: Race) -> None:
        """The callback of the Race: its earliest clock has rung."""
        clock = race.clock
        self._rang(race.child, race, clock[0], clock[1])

    def _poked(self, c: Child, event) -> None:
        """The callback of Poke: the race is over now, unfinished; a new one starts."""
        if not c.alive:                      # the life ended meanwhile
            return
        race = c.ev
        race.callbacks.clear()               # the pending Race stays in SimPy's queue, with no callback
        c.poked = False
        self._rang(c, race, self.env._now, POKED)

    def _end(self, c: Child) -> None:
        """The child's life is over (it has left the model)."""
        c.alive = False
        c.ev = None
        Ended(self.env)

    def _rang(self, c: Child, race: Race, t: float, kind: int) -> None:
        """The clock ``kind`` of ``race`` rang at ``t`` (or it was poked): spend the budgets up to ``t`` at the
        race's rates, act on the clock (under the practice, level and step the race began with), then race
        again - or end."""
        c.busy = True
        if c.exited:
            self._end(c)
            return
        _, _, esc, rec, det, brk, acx = race.clock
        self.spend(c, t - race.now, esc, rec, det, brk, acx)
        if kind != POKED and self.act(c, kind, race.practice, race.level, race.step):
            self._end(c)
        else:
            self._race(c)

    @staticmethod
    def spend(c: Child, el: float, esc: float, rec: float, det: float, brk: float, acx: float) -> None:
        """Spend the child's hazard budgets over ``el`` days at the given rates (a clock at rate 0 keeps its
        budget: b - 0.0 is b)."""
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

    def act(self, c: Child, kind: int, P: Compiled, L: int, s: int) -> bool:
        """The child's clock ``kind`` has rung now (in a race that began under practice P, at level L on step s):
        its effect. True if the child left the model."""
        env = self.env
        if kind == REC:                     # (the kinds in order of how often they occur)
            return self._recover(c, P, L)
        if kind == FU:
            if c.case and c.fu_due <= env._now + TIME_EPS:       # still due (not rescheduled meanwhile)
                due = c.fu_due
                c.fu_due = INF
                self._spawn_task(c, "followup", due)
        elif kind == AGE:
            return self._birthday(c, P)
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
            return self._course_over(c, P, s)
        elif kind == ACX:
            c.b_acx = -math.log(self.u_brk(c))
            self.exit(c, "aged_out")
            return True
        return False

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
