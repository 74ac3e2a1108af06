"""The caseworkers: a SimPy Container whose waiting requests are served in order of priority."""
from __future__ import annotations

import bisect
import itertools

import simpy


class _ByKey(list):
    """A container's queue of requests, kept in order of their ``key``."""

    def append(self, item) -> None:
        """Insert ``item`` after every request with a key <= its own."""
        bisect.insort(self, item, key=_request_key)


def _request_key(request):
    return request.key


class TaskRequest(simpy.resources.container.ContainerGet):
    """A request for caseworkers with a priority (lower first; equal: first come, first served)."""

    def __init__(self, team: "Team", amount: int, priority: int):
        """Request ``amount`` caseworkers of ``team`` at ``priority``."""
        self.key = (priority, next(team.order))
        super().__init__(team, amount)


class Team(simpy.Container):
    """The caseworkers: a Container whose waiting requests are served in order of priority."""

    GetQueue = _ByKey

    def __init__(self, env: simpy.Environment, size: int):
        """A team of ``size`` caseworkers, all free."""
        self.order = itertools.count()
        super().__init__(env, capacity=float("inf"), init=size)

    def request(self, priority: int, amount: int = 1) -> TaskRequest:
        """An event that fires when ``amount`` caseworkers are free for a task of ``priority``."""
        return TaskRequest(self, amount, priority)

    def get(self, amount):
        """Not allowed: every request must carry a priority (use ``request``)."""
        raise TypeError("use Team.request(priority, amount)")
