"""Family-based care that can run out: network searches for kinship care and pools of approved foster families.

A mixin of ``Model``. Two supply mechanisms, both [assumption] in their sizes (conf/staircase):

* **Network search** (a step's ``network_search_success``): each time the matching rule considers kinship or
  network care for a child, a search of the child's network finds a suitable family with that probability
  (one uniform from the child's own ``network`` stream per decision). If it finds none, the step is not
  available to the child at that decision - it is not full, so nobody waits for it - and the rule picks
  among the tier's other steps by their weights. A child already placed there keeps its family.
* **A pool of approved families** (a step's ``family_pool``): each family takes one child. The pool starts at
  ``families_per_1000_children`` (children 0-17); every month ``recruited_per_year_per_1000_children`` / 12
  families are approved under the practice in force ``recruitment_lag_months`` earlier (fractions carried to
  the next month), each costing ``cost_per_recruited_family_dkk`` (booked on the step's fixed cost); when a
  placement ends, its family leaves the pool with ``leave_after_placement_prob`` (the child's own draw);
  free families leave at ``free_leave_per_year``. The step's places are the pool's families: a full pool
  sends children on by ``staircase.when_full`` like any full step.
"""
from __future__ import annotations

import math

from ..common.units import MONTHS_PER_YEAR
from .child import Child

PER_THOUSAND = 1000        # sizes are given per 1,000 children aged 0-17 (a unit, not a parameter)


class Families:
    """The random draws of a child, and the supply of family-based care (mixin of Model)."""

    # ------------------------------------------------------------------ the child's draws
    def u_need(self, c: Child) -> float:
        """The child's next uniform for its need clocks."""
        return c.un.pop() if c.un else self.streams["need_extra"].u()

    def u_det(self, c: Child) -> float:
        """The child's next uniform for detection."""
        return c.ud.pop() if c.ud else self.streams["detection_extra"].u()

    def u_brk(self, c: Child) -> float:
        """The child's next uniform for breakdowns and aftercare."""
        return c.ub.pop() if c.ub else self.streams["breakdown_extra"].u()

    def u_dec(self, c: Child) -> float:
        """The child's next uniform for a decision."""
        return c.uc.pop() if c.uc else self.streams["decision_extra"].u()

    def u_fu(self, c: Child) -> float:
        """The child's next uniform for whether a thin follow-up notices a change of need."""
        return c.uf.pop() if c.uf else self.streams["followup_extra"].u()

    def u_net(self, c: Child) -> float:
        """The child's next uniform for a network search or a foster family's leaving."""
        return c.ux.pop() if c.ux else self.streams["network_extra"].u()

    # ------------------------------------------------------------------ pools of families
    def init_families(self) -> None:
        """The pools at the start of the run and the places every step has now (``self.room_cap``)."""
        P = self.practice
        children = P.children_0_17 * math.exp(-self.growth * self.t_horizon)
        self.pool = [None if fp is None else int(round(fp.families_per_1000_children * children / PER_THOUSAND))
                     for fp in P.family_pool]
        self._recruit_carry = [0.0] * len(self.pool)
        self._leave_carry = [0.0] * len(self.pool)
        self._practice_by_month: list = []
        self.update_room()

    def update_room(self) -> None:
        """Places by step under the practice in force: the configured capacity, or a pool's families."""
        cap = list(self.practice.capacity)
        for s, n in enumerate(self.pool):
            if n is not None and self.practice.family_pool[s] is not None:
                cap[s] = n
        self.room_cap = cap
        self._any_search = any(p is not None for p in self.practice.network_search_success)

    def families_month(self, k: int) -> None:
        """At the start of month k: approve the families recruited ``recruitment_lag_months`` ago and let free
        families leave; book the recruitment; admit children waiting for a pool that grew."""
        self._practice_by_month.append(self.practice)
        occ, occ_a = self.recorder.occ, self.recorder.occ_a
        for s, n in enumerate(self.pool):
            fp = self.practice.family_pool[s]
            if n is None or fp is None:
                continue
            then = self._practice_by_month[max(0, k - 1 - fp.recruitment_lag_months)].family_pool[s] or fp
            self._recruit_carry[s] += then.recruited_per_year_per_1000_children * self.practice.children_0_17 \
                / PER_THOUSAND / MONTHS_PER_YEAR
            new = int(self._recruit_carry[s])
            self._recruit_carry[s] -= new
            free = max(0, n - occ[s] - occ_a[s])
            self._leave_carry[s] += free * fp.free_leave_per_year / MONTHS_PER_YEAR
            gone = min(free, int(self._leave_carry[s]))
            self._leave_carry[s] -= gone
            self.pool[s] = n + new - gone
            if new and k < self.n_months:
                self.recorder.family_recruitment(k, s, new * then.cost_per_recruited_family_dkk)
        self.update_room()
        for s, n in enumerate(self.pool):
            if n is not None:
                self.free_slot(s)

    def family_freed(self, c: Child, s: int) -> None:
        """A child leaves pooled step s: its family leaves the pool with leave_after_placement_prob."""
        fp = self.practice.family_pool[s]
        if self.pool[s] is None or fp is None:
            return
        if self.u_net(c) < fp.leave_after_placement_prob:
            self.pool[s] -= 1
            self.room_cap[s] = self.pool[s]

    def network_available(self, c: Child):
        """The ``available`` predicate of one decision: steps with a network search are available if this
        decision's search (one draw) finds a family, or if the child is already there; None if no step searches."""
        p = self.practice.network_search_success
        if not self._any_search:
            return None
        u, here = self.u_net(c), c.step
        return lambda s: p[s] is None or s == here or u < p[s]
