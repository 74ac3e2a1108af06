"""The SimPy events of the model's processes written as callbacks (a child's life, notifications, casework
tasks: life.py, casework.py).

A SimPy ``Environment`` processes any object with ``callbacks`` (a list, or None once processed) and ``_ok``: it
pops the object from its queue and calls each callback with it. These are such objects, one class per kind of
event a generator process would make, with the same priority - so the order of events, their ids and their
count are the process's. They are plain ``__slots__`` records (SimPy's events carry an instance dictionary and a
value no callback here reads). ``KIND`` names the SimPy event each stands for
(``benchmarks/bench_replication.py`` counts the model's event mix by it).
"""
from __future__ import annotations

from simpy.core import NORMAL, URGENT


class _Urgent:
    """An event scheduled now with urgent priority (before the normal events due now), with one callback."""

    __slots__ = ("callbacks", "_ok")

    def __init__(self, env, callback):
        """Scheduled at once; ``callback(event)`` runs when SimPy processes it."""
        self.callbacks = [callback]
        self._ok = True
        env.schedule(self, URGENT)


class Start(_Urgent):
    """A process begins (SimPy's ``Initialize``): a child's first race, a notification's triage, a task's request."""

    __slots__ = ()
    KIND = "Initialize"


class Poke(_Urgent):
    """A child's rates changed: its race is cut short and a new one starts (SimPy's ``Interruption``)."""

    __slots__ = ()
    KIND = "Interruption"


class Wait:
    """A process waits ``delay`` days (SimPy's ``Timeout``, normal priority), then ``callback(event)`` runs."""

    __slots__ = ("callbacks", "_ok")
    KIND = "Timeout"

    def __init__(self, env, delay: float, callback):
        """Scheduled at once, ``delay`` (>= 0) days from now."""
        self.callbacks = [callback]
        self._ok = True
        env.schedule(self, NORMAL, delay)


class Ended:
    """A process has ended (the event SimPy schedules for a process whose generator returned; nothing waits for
    it)."""

    __slots__ = ("callbacks", "_ok")
    KIND = "Process"

    def __init__(self, env):
        """Scheduled at once, with no callbacks."""
        self.callbacks = []
        self._ok = True
        env.schedule(self, NORMAL)
