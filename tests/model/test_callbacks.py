"""The onsets, a child's life, notifications and casework tasks are SimPy processes written as event callbacks
(sim/model/life.py, sim/model/casework.py, Model.onsets). They must be the generator processes they replace,
event for event: here those generator processes (as the model had them; they apply the model's own rules,
Life.spend and Life.act) are plugged into a Model subclass, and both run the same replications - every array,
the ledger and the count of SimPy events must be identical, over municipalities, scenarios, seeds, a tight team,
a run from today's caseload and one without a warm-up."""
from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest
import simpy
from simpy.events import PENDING

from sim.config import plan
from sim.model import Model, compile_config, replication_streams
from sim.model import life as life_mod
from sim.model.events import Poke
from sim.model import population, rules
from sim.model.rules import POKED
from sim.common.units import DAYS_PER_MONTH
from tests.conftest import QUICK


class GeneratorModel(Model):
    """The model with its onsets, children's lives, notifications and tasks as SimPy generator processes."""

    def start(self, c):
        c.busy = False
        c.alive = True
        c.ev = self.env.process(self.life(c))            # (the field holds the process here)

    def poke(self, c):
        if not c.busy and not c.poked:
            proc = c.ev
            if proc is not None and proc._value is PENDING:
                c.poked = True
                proc.interrupt()

    def notify(self, c):
        self.env.process(self.notification(c))

    def _spawn_task(self, c, mode, due):
        c.task = True
        if mode == "followup":
            self.pending_fu[c.id] = due
        self.env.process(self.casework_task(c, mode, due))

    def onsets(self):
        self.env.process(self.onsets_process())

    def onsets_process(self):
        env = self.env
        st = self.streams["onset"]
        cached_for, rates, total = None, [], 0.0
        while True:
            P = self.practice
            if cached_for is not P:
                rates, total = population.onset_rates(P, self.cohort_per_day_age)
                cached_for = P
            u1, u2, u3, u4 = st.take(4)
            if total <= 0:
                return
            yield env.timeout(population.onset_wait(-math.log(u1), total, self.growth, env._now - self.t_horizon))
            age, level = population.onset_child(P, rates, total, u2, u3, u4)
            self.recorder.count("onsets", env._now)
            self.start(self.new_child(age, level))

    def life(self, c):
        env = self.env
        while True:
            P = self.practice
            now = env._now
            L, s = c.level, c.step
            t, kind, esc, rec, det, brk, acx = rules.next_clock(P, c, now)
            c.busy = False
            try:
                yield env.timeout(t - now)
            except simpy.Interrupt:
                t, kind = env._now, POKED
                c.poked = False
            c.busy = True
            if c.exited:
                return
            self.spend(c, t - now, esc, rec, det, brk, acx)
            if kind != POKED and self.act(c, kind, P, L, s):
                return

    def notification(self, c):
        env = self.env
        c.in_process = True
        t0 = env._now
        if self.practice.triage_days > 0:
            yield env.timeout(self.practice.triage_days)
        if c.exited:
            return
        P = self.practice
        if not P.unit_route[c.level]:
            team = self.team
            yield team.request(P.task_priority_assessment)
            start = env._now
            P = self.practice
            self.recorder.assessment_start(start, start - t0, P.assessment_days)
            yield env.timeout(P.assessment_days / rules.extra_effort(P, len(team.get_queue), self.team_size))
            team.put(1)
            now = env._now
            P = self.practice
            self.recorder.assessment_done(now, now - t0 > P.assessment_deadline_days, P.assessment_cost_dkk)
            if P.decision_delay_days > 0:
                yield env.timeout(P.decision_delay_days)
        c.in_process = False
        if c.exited:
            return
        target, wait = self.decide(c, "rematch")
        self.apply(c, target, wait)
        if self._exit_if_recovered(c):
            return
        self.poke(c)

    def casework_task(self, c, mode, due):
        env = self.env
        P = self.practice
        followup = mode == "followup"
        priority = (rules.followup_priority(P, c.step, c.level, env._now, c.step_t0) if followup
                    else P.task_priority_review)
        team = self.team
        yield team.request(priority)
        start = env._now
        P = self.practice
        if followup and self.pending_fu.pop(c.id, None) is not None:
            slip = start - due
            self.recorder.followup_due(due, slip, slip <= P.on_time_grace_days)
        since = start - c.last_fu
        work = P.followup_days + P.case_days_per_month * (since if since > 0.0 else 0.0) / DAYS_PER_MONTH
        queue, size = len(team.get_queue), self.team_size
        share = rules.work_share(P, queue, size)
        self.recorder.task_start(start, work * share, share if followup else None)
        yield env.timeout(work * share / rules.extra_effort(P, queue, size))
        team.put(1)
        now = env._now
        self.recorder.count("followups_done", now)
        c.task = False
        if c.exited:
            return
        self._task_outcome(c, mode, share, now)


def _result_arrays(r) -> dict:
    out = {}
    for f in fields(r):
        v = getattr(r, f.name)
        out[f.name] = np.asarray(v, dtype=float) if isinstance(v, np.ndarray) else v
    return out


def _same(a, b):
    ra, rb = _result_arrays(a), _result_arrays(b)
    assert ra.keys() == rb.keys()
    for k in ra:
        if isinstance(ra[k], np.ndarray):
            np.testing.assert_array_equal(ra[k], rb[k], err_msg=k)
        else:
            assert ra[k] == rb[k], k


@pytest.mark.parametrize("overrides,seed", [
    (["municipality=average", "compare=[full_shift]"], 3),
    (["municipality=kolding", "compare=[kinship_first]"], 11),
    (["municipality=hvidovre", "compare=[earlier_detection]"], 5),
    (["municipality=syddjurs", "compare=[short_intensive_stays]", "casework.caseworkers=6"], 8),
    (["compare=[early_help_unit]", "run.warmup_years=0"], 2),
    (["compare=[frequent_followup]", "caseload=data/caseload_example.csv"], 4),
])
def test_callback_processes_are_the_generator_processes(overrides, seed):
    p = plan(QUICK + ["run.horizon_years=2", f"run.seed={seed}"] + overrides)
    warm = compile_config(p.warmup)
    run = p.arms[p.reference].run
    cases = p.caseload.cases if p.caseload is not None else None
    warmup_years = 0.0 if cases is not None else run.warmup_years
    for name, cfg in p.arms.items():
        arm = compile_config(cfg)
        for rep in (0, 1):
            a = Model(warm, arm, warmup_years, run.horizon_years, replication_streams(seed, rep), cases).run()
            b = GeneratorModel(warm, arm, warmup_years, run.horizon_years, replication_streams(seed, rep), cases).run()
            assert a.events > 1000
            _same(a, b)


def test_a_poke_cancels_the_pending_race_and_is_ignored_after_the_life_ends():
    p = plan(QUICK + ["compare=[]"])
    cfg = compile_config(p.arms[p.reference])
    m = Model(cfg, cfg, 1, 1, replication_streams(1, 0))
    c = m.new_child(3000.0, 1)
    m.start(c)
    m.poke(c)                         # before its first race: the poke follows it (both urgent, in order)
    m.poke(c)                         # a second poke while one is pending is not scheduled
    queued = [e for *_, e in m.env._queue]
    assert sum(isinstance(e, Poke) for e in queued) == 1
    m.env.step()                      # LifeStart: the first race
    race = c.ev
    assert isinstance(race, life_mod.Race) and race.callbacks and not c.busy
    m.env.step()                      # the Poke: the race loses its callback, a new race starts
    assert race.callbacks == [] and c.ev is not race and c.ev.callbacks
    assert not c.poked
    m.exit(c, "recovered")
    m._end(c)
    m.poke(c)                         # its life is over: nothing is scheduled
    assert not any(isinstance(e, Poke) for *_, e in m.env._queue)
