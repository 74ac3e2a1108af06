"""Today's caseload (``caseload=<file>``): the run starts from the municipality's own open cases.

A mixin of ``Model``. With a caseload there is no synthetic warm-up: the horizon starts at the caseload date
(day 0). The children with a need whom the services do not know yet are the synthetic initial population's
unknown share (``Model.initial_population`` skips the known share, which is what the file describes); every
case of the file becomes a child on its step, as it is today:

* its age, its step, how long it has been there (``step_t0`` in the past) and, for a placement, since when it
  has been placed (which sets the first-year follow-up interval); a bounded stay (max_duration) ends at a
  length drawn from the step's bound *given* that it has lasted so far - uniform between the larger of the
  bound's low end and the time already spent, and the larger of its high end and that time;
* its need level as given, or drawn from ``population.level_given_step`` (the levels the matching rule would
  have placed on the step, in proportion to how many children have them);
* a case, if the step requires one, with its next follow-up at a uniform phase of the interval;
* in aftercare if aged 18 or over (the file allows only placement steps then).

None of this is counted as a flow of the horizon (no new placements, step moves or case openings): the
children were there before it began. A family pool is at least as large as the children the file places in it
(they live with those families). All draws come from the ``caseload`` stream, so the synthetic children and
the new needs are the same as without the file, and the same in every arm.
"""
from __future__ import annotations

from . import population, rules
from .child import Child


class CaseloadStart:
    """Seating today's cases at the start of the run (mixin of Model)."""

    def seat_caseload(self, cases) -> None:
        """Every case of ``cases`` (inputs.Case records) as a child on its step now (see the module docstring)."""
        P = self.practice
        st = self.streams["caseload"]
        means = population.initial_means(P)
        step_of = {name: i for i, name in enumerate(P.step_names)}
        level_of = {name: i for i, name in enumerate(P.levels)}
        for case in cases:
            s = step_of[case.step]
            u_level, u_course, u_fu = st.u(), st.u(), st.u()
            if case.level is not None:
                level = level_of[case.level]
            else:
                group = rules.age_group(P.age_groups_days, case.age_days)
                cum = population.level_given_step(P, means, group, s)
                level = 1 + next((i for i, cp in enumerate(cum) if u_level <= cp), len(cum) - 1)
            self._seat(case, s, level, u_course, u_fu)
        for s, n in enumerate(self.pool):          # the families the file's children live with exist
            if n is not None:
                self.pool[s] = max(n, self.recorder.occ[s] + self.recorder.occ_a[s])
        self.update_room()

    def _seat(self, case, s: int, level: int, u_course: float, u_fu: float) -> None:
        """One case as a child on step s with need ``level`` (no flow counted)."""
        P = self.practice
        now = self.env.now
        c = Child(self.next_id, now, case.age_days, level, s, self.streams)
        self.next_id += 1
        self.active += 1
        self.registry.append(c)
        c.adult = case.age_days >= P.aftercare_from_age_days
        self.recorder.occupy(s, c.adult, now, 1)
        c.step_t0 = now - case.days_on_step
        c.first_measure_t = c.step_t0
        c.first_level = level
        c.served |= 1 << s
        if P.placement[s]:
            c.placement_start = now - (case.days_placed if case.days_placed is not None else case.days_on_step)
        dur = rules.course_bound(P, s, case.age_days - case.days_on_step)
        if dur is not None:
            lo, hi = max(dur[0], case.days_on_step), max(dur[1], case.days_on_step)
            c.step_end = c.step_t0 + lo + (hi - lo) * u_course
        if P.requires_case[s]:
            self.recorder.existing_case(now)
            c.case = True
            iv = self.interval(c)
            c.fu_due = now + u_fu * iv
            c.last_fu = c.fu_due - iv
        self.start(c)
