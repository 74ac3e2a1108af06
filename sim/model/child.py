"""The record of one child with a need: its state, its competing clocks and what the ledger reports.

A plain ``__slots__`` record (speed and memory: thousands are alive at once and a child's life reads
them at every wake-up); the model's processes change its fields.
"""
from __future__ import annotations

import math

from ..common.units import INF
from .streams import PER_CHILD, Stream


class _Spent:
    """The draws of a child that has left the model: freed at its exit (a replication's Python objects peak
    40 % lower than when they waited for the registry's pruning); a draw after the exit is a bug and raises."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return True             # not empty: the draw helpers call pop(), not the *_extra stream

    def pop(self) -> float:
        """Never a number: the child has left the model."""
        raise RuntimeError("a draw for a child that has left the model")


SPENT = _Spent()


class Child:
    """One child with a need, from the onset of the need until it leaves the model (see the field groups)."""

    __slots__ = {
        # --- identity and process state
        "id": "Sequence number of creation (the same in every arm of a comparison).",
        "birth": "Time of birth (days; negative for children born before the run).",
        "level": "Need level (index into Compiled.levels; 0 = no need).",
        "step": "Current staircase step (index into Compiled.step_names).",
        "case": "A case is open (the child is on, or waiting for, a step that requires one).",
        "alive": "The child's life (life.Life) has started and not ended.",
        "ev": "The event of the child's race under way (life.Race; None before its first race and after its end).",
        "busy": "The life is running (not waiting on its clocks): no poke is needed.",
        "poked": "A poke is pending for the life.",
        # --- hazard budgets of the competing clocks (Exp(1), spent at the current rates)
        "b_esc": "Budget of the need's escalation clock.",
        "b_rec": "Budget of the need's recovery clock.",
        "b_det": "Budget of the detection clock.",
        "b_brk": "Budget of the placement-breakdown clock.",
        "b_acx": "Budget of the aftercare-exit clock.",
        # --- casework and the current stay
        "fu_due": "Time the next follow-up is due (INF without a case).",
        "last_fu": "Time of the last follow-up (or of the case's opening, or of the move into a placement).",
        "step_end": "Time a bounded stay ends (INF = open-ended).",
        "step_t0": "Time the child arrived on its step (or moved into aftercare).",
        "placement_start": "Time the current placement started (-INF if never placed).",
        "in_process": "A notification (triage, assessment, decision) is under way.",
        "task": "A follow-up or review is waiting for, or with, a caseworker.",
        "waiting_for": "Step the child is on the waiting list of (-1 = none).",
        "adult": "In aftercare (aged over aftercare.from_age).",
        "exited": "Has left the model.",
        # --- the child's own blocks of uniforms, by purpose (streams.PER_CHILD each; popped from the end)
        "un": "Draws for need escalation and recovery.",
        "ud": "Draws for detection.",
        "ub": "Draws for breakdowns and aftercare.",
        "uc": "Draws for decisions (matching, course lengths).",
        "uf": "Draws for whether a thin follow-up notices a change of need.",
        "ux": "Draws for network searches and for whether a foster family leaves after the child's placement.",
        # --- the ledger (one row per child present in the horizon)
        "onset_t": "Time the need began.",
        "onset_level": "Need level at the onset.",
        "first_measure_t": "Time of the first move above the ground step (INF = none yet).",
        "first_level": "Need level at the first measure (0 = none yet).",
        "served": "Bit set of the steps the child was on in the horizon.",
        "placed_h": "Placed out of home in the horizon.",
        "cost_h": "DKK of per-child step cost in the horizon.",
        "exit_t": "Time the child left the model (INF = still there at the end).",
        "exit_reason": "'recovered', 'aged_out' or 'active'.",
        # --- outcomes in the horizon (integrated lazily: Recorder.need_days, at each change of level or step)
        "t_need": "Time up to which the need-days are integrated.",
        "need_d": "Days with a need (level > 0) in the horizon.",
        "need_w": "Days with a need in the horizon, each weighted by its level's need.outcome_weights.",
        "unmet_d": "Days in the horizon with a need above the step (below the level's matching band).",
        "moves_h": "Moves between placements in the horizon (to another placement step, or a new family or "
                   "place of the same type after a breakdown).",
    }

    def __init__(self, child_id: int, now: float, age_days: float, level: int, step: int, streams: dict[str, Stream]):
        """A child of ``age_days`` whose need of ``level`` begins ``now``, on ``step``; it takes its blocks of
        draws from ``streams`` and spends the first ones on its clocks' budgets."""
        self.id = child_id
        self.birth = now - age_days
        self.level = level
        self.step = step
        self.case = False
        self.alive = False
        self.ev = None
        self.busy = True
        self.poked = False
        self.un = un = streams["need"].take(PER_CHILD)
        self.ud = ud = streams["detection"].take(PER_CHILD)
        self.ub = ub = streams["breakdown"].take(PER_CHILD)
        self.uc = streams["decision"].take(PER_CHILD)
        self.uf = streams["followup"].take(PER_CHILD)
        self.ux = streams["network"].take(PER_CHILD)
        log = math.log
        self.b_esc = -log(un.pop())
        self.b_rec = -log(un.pop())
        self.b_det = -log(ud.pop())
        self.b_brk = -log(ub.pop())
        self.b_acx = -log(ub.pop())
        self.fu_due = INF
        self.last_fu = now
        self.step_end = INF
        self.step_t0 = now
        self.placement_start = -INF
        self.in_process = False
        self.task = False
        self.waiting_for = -1
        self.adult = False
        self.exited = False
        self.onset_t = now
        self.onset_level = level
        self.first_measure_t = INF
        self.first_level = 0
        self.served = 0
        self.placed_h = False
        self.cost_h = 0.0
        self.exit_t = INF
        self.exit_reason = ""
        self.t_need = now
        self.need_d = 0.0
        self.need_w = 0.0
        self.unmet_d = 0.0
        self.moves_h = 0
