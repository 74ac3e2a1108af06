"""A child's place on the staircase: the matching decision, moves between steps, cases, waiting lists for
full steps, and exits from the model.

A mixin of :class:`~sim.model.model.Model`: these are the state changes its processes (a child's life, the
casework, the changes of practice) make; they use the model's state (``env``, ``practice``, ``recorder``,
``waitlists``, ...) and draws (``u_dec``). Each change that alters a child's rates pokes its life (life.Life.poke).
"""
from __future__ import annotations

from ..common.units import INF
from . import rules
from .child import SPENT, Child


class Staircase:
    """The state changes of the children's places on the staircase (a mixin: see the module's docstring)."""

    def decide(self, c: Child, mode: str = "rematch", exclude: int = -1) -> tuple[int, int]:
        """Step for the child's need under the matching rule (rules.match), with the child's next decision
        draw (none for a child without a need, or for mode "end": the ground step). Returns (target, wait_for)."""
        P = self.practice
        if c.level == 0 or mode == "end":
            return P.ground_step, -1
        rec = self.recorder
        occ, occ_a, cap, here = rec.occ, rec.occ_a, self.room_cap, c.step

        def has_room(s: int) -> bool:
            return cap[s] == INF or here == s or occ[s] + occ_a[s] < cap[s]

        u = c.uc.pop() if c.uc else self.u_dec(c)          # the child's next decision draw (u_dec, inline)
        return rules.match(P, c.level, here, c.waiting_for, self.env._now - c.birth, u, mode, exclude,
                           has_room, self.network_available(c) if self._any_search else None)

    def apply(self, c: Child, target: int, wait_for: int) -> None:
        """Carry out a decision: move to ``target`` (or stay), or wait for step ``wait_for``."""
        if target < 0:
            if wait_for >= 0 and c.waiting_for != wait_for:
                if c.waiting_for < 0:                  # not already on another step's list
                    self.n_waiting += 1
                c.waiting_for = wait_for
                self.waitlists[wait_for].append(c)
                P = self.practice
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
        P = self.practice
        needs = P.requires_case[c.step] or (c.waiting_for >= 0 and P.requires_case[c.waiting_for])
        if needs and not c.case:
            self._open_case(c)
            self.poke(c)
        elif c.case and not needs:
            self._close_case(c)
            self.poke(c)

    def _open_case(self, c: Child) -> None:
        now = self.env._now
        self.recorder.open_case(now)
        c.case = True
        c.last_fu = now
        c.fu_due = now + self.interval(c)

    def _close_case(self, c: Child) -> None:
        self.recorder.close_case(self.env._now)
        c.case = False
        c.fu_due = INF
        self.pending_fu.pop(c.id, None)

    def _leave_step(self, c: Child, now: float) -> None:
        s = c.step
        self.recorder.occupy(s, c.adult, now, -1)
        t0 = max(c.step_t0, self.t_horizon)
        if now > t0:
            c.cost_h += (now - t0) * self.practice.cost_per_day_dkk[s]

    def move(self, c: Child, target: int) -> None:
        """Move the child to step ``target`` now: occupancy, the course's bound, the case and follow-ups."""
        P = self.practice
        old = c.step
        if target == old:
            return
        now = self.env._now
        rec = self.recorder
        rec.need_days(c, now, P)                 # the outcomes on the old step, up to now
        self._leave_step(c, now)
        rec.step_move(old, target, now)
        rec.occupy(target, c.adult, now, 1)
        c.step = target
        c.step_t0 = now
        horizon = now >= self.t_horizon
        if target != P.ground_step and c.first_measure_t == INF:
            c.first_measure_t = now
            c.first_level = c.level
        if horizon:
            c.served |= 1 << target
        if P.placement[target]:
            c.placement_start = now
            if not P.placement[old]:
                rec.count("new_placements", now)
                rec.new_placement(rules.age_group(P.age_groups_days, now - c.birth), now - c.birth, now)
                if horizon:
                    c.placed_h = True
            else:
                self.placement_move(c, now)
        elif P.placement[old]:
            rec.count("returns_home", now)
        if old != P.ground_step:
            rec.count("step_ups" if target > old else "step_downs", now)
        dur = rules.course_bound(P, target, now - c.birth)
        if dur is not None:
            lo, hi = dur
            c.step_end = now + lo + (hi - lo) * self.u_dec(c)
        else:
            c.step_end = INF
        if P.requires_case[target]:
            if not c.case:
                self._open_case(c)
            elif P.placement[target] and P.placement_first_year_interval_days < INF:
                c.fu_due = min(c.fu_due, now + P.placement_first_year_interval_days)
        elif c.case:
            self._close_case(c)
        c.last_fu = now if P.placement[target] else c.last_fu
        if self.pool[old] is not None:
            self.family_freed(c, old)
        if self.room_cap[old] != INF:
            self.free_slot(old)
        self.poke(c)

    def set_level(self, c: Child, level: int) -> None:
        """The child's need changes to ``level`` now (its outcomes are integrated up to now first)."""
        self.recorder.need_days(c, self.env._now, self.practice)
        c.level = level

    def placement_move(self, c: Child, now: float) -> None:
        """The child moves from one placement to another now: to another placement step, or to a new family or
        place of the same type after a breakdown (new_family)."""
        self.recorder.count("placement_moves", now)
        if now >= self.t_horizon:
            c.moves_h += 1

    def new_family(self, c: Child) -> None:
        """After a breakdown with no other placement step to move to: a new family or place of the same type
        now - the placement starts afresh, closely followed - and a move between placements."""
        now = self.env._now
        c.placement_start = now
        c.last_fu = now
        if self.pool[c.step] is not None:
            self.family_freed(c, c.step)        # the family the placement broke down with may leave the pool
        self.placement_move(c, now)

    def free_slot(self, s: int) -> None:
        """Children on step s's waiting list take the room it has, in order of arrival."""
        wl = self.waitlists[s]
        occ, occ_a = self.recorder.occ, self.recorder.occ_a
        cap = self.room_cap
        while wl and (cap[s] == INF or occ[s] + occ_a[s] < cap[s]):
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
        if (not c.exited and c.level == 0 and c.step == self.practice.ground_step and not c.case
                and not c.in_process and not c.task):
            self.exit(c, "recovered")
            return True
        return False

    def exit(self, c: Child, reason: str) -> None:
        """The child leaves the model now ("recovered" or "aged_out")."""
        now = self.env._now
        self._leave_step(c, now)
        old = c.step
        self.recorder.step_exit(old, now)
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
        self.recorder.count("exits_recovered" if reason == "recovered" else "exits_aged_out", now)
        if now >= self.t_horizon:
            self.recorder.child(c, now, self.practice)
        if self.pool[old] is not None:
            self.family_freed(c, old)
        if self.room_cap[old] != INF:
            self.free_slot(old)
        c.un = c.ud = c.ub = c.uc = c.uf = c.ux = SPENT     # its draws: freed now, not when the registry is pruned

