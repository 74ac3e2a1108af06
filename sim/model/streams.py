"""Random streams: one numpy Generator per purpose, spawned from one SeedSequence.

A replication's streams depend only on ``(run.seed, replication)``, never on the scenario,
so every arm of a comparison sees the same children, onsets and per-child draws (common
random numbers). Each child receives its own short block of draws per purpose when it is
created; since children are created in the same order in every arm (onsets do not depend
on policy), a scenario's change does not shift another child's draws. A child that uses up
its block continues on a separate ``*_extra`` stream, so even that never shifts the draws
handed to children created later.
"""
from __future__ import annotations

import numpy as np

PURPOSES = (
    "onset",            # times, ages and levels of new need (bulk population)
    "initial",          # the population with need when the warm-up starts
    "need",             # per-child need escalation / recovery clocks
    "detection",        # per-child detection clocks
    "breakdown",        # per-child placement breakdown clocks and aftercare
    "decision",         # per-child decisions: placement type, course lengths, aftercare
    "need_extra",
    "detection_extra",
    "breakdown_extra",
    "decision_extra",
    "followup",         # per-child: whether a thin follow-up of an overloaded team notices a change of need
    "followup_extra",   # (purposes are only ever appended: earlier streams stay the same)
    "network",          # per-child: whether a network search finds a kinship/network family; whether a foster
    "network_extra",    # family leaves the pool when its placement ends
    "caseload",         # today's caseload (caseload=<file>): need levels not given, course lengths, follow-up phases
)

BLOCK = 8192          # uniforms drawn at a time (speed); it shifts only the 'initial' stream, which also draws Poisson counts
PER_CHILD = 12        # draws handed to each child per purpose; changing it changes which draws a child gets


class Stream:
    """Sequential uniforms in (0, 1) from one Generator, drawn in blocks."""

    __slots__ = ("rng", "buf", "i")

    def __init__(self, seed_seq: np.random.SeedSequence):
        """A stream seeded by ``seed_seq``."""
        self.rng = np.random.default_rng(seed_seq)
        self.buf: list = []
        self.i = 0

    def _refill(self) -> None:
        # 1 - U in (0, 1]: safe for -log(u)
        self.buf = (1.0 - self.rng.random(BLOCK)).tolist()
        self.i = 0

    def u(self) -> float:
        """The next uniform in (0, 1]."""
        if self.i >= len(self.buf):
            self._refill()
        v = self.buf[self.i]
        self.i += 1
        return v

    def take(self, k: int) -> list:
        """The next ``k`` uniforms, as a list (a child's block of draws)."""
        i = self.i
        if i + k <= len(self.buf):           # the usual case: one slice of the buffer
            self.i = i + k
            return self.buf[i:i + k]
        out = []
        while k > 0:
            if self.i >= len(self.buf):
                self._refill()
            n = min(k, len(self.buf) - self.i)
            out.extend(self.buf[self.i:self.i + n])
            self.i += n
            k -= n
        return out

    def poisson(self, lam: float) -> int:
        """A Poisson count with mean ``lam``, from the Generator itself (after any uniforms already buffered)."""
        return int(self.rng.poisson(lam))


def replication_streams(seed: int, replication: int) -> dict[str, Stream]:
    """Independent streams for one replication, by purpose; identical in every scenario."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(replication,))
    return {name: Stream(child) for name, child in zip(PURPOSES, ss.spawn(len(PURPOSES)))}


# Experiment designs (e.g. the parameter sets of an uncertainty analysis) draw from their own
# SeedSequence, whose entropy adds a purpose tag to run.seed: never one of the replications' streams.
DESIGN_PURPOSES = ("uncertainty",)


def design_rng(seed: int, purpose: str) -> np.random.Generator:
    """The Generator for drawing an experiment's design under ``purpose`` from run.seed."""
    tag = DESIGN_PURPOSES.index(purpose) + 1
    return np.random.default_rng(np.random.SeedSequence(entropy=[seed, tag]))
