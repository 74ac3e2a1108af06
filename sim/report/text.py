"""The printed summary of a run: a short one for the console, the full one for ``summary.txt``.

* :func:`summary_text` - what the command line prints: at most ``width`` (100) columns, the headline KPIs in
  words - the reference's key figures, then one short table per scenario: the paired cost difference with
  its interval, the difference in placed per 1,000, and when it pays back - and where the rest is.
* :func:`summary_text_full` - ``summary.txt``: the executive summary in sentences, then every table
  (key figures, paired differences, payback, investment headroom) in full.
"""
from __future__ import annotations

import textwrap

import pandas as pd

from ..common.i18n import count_text, kpi_label, months_text, one_replication_note, replications_text, the_years
from ..metrics.payback_monthly import payback_months
from ..metrics.plausible import team_check, team_warnings    # does the team fit the municipality?
from ..metrics.warmup import warmup_check, warmup_text      # the warm-up check (docs/model.md 4.2)
from .format import cell, format_comparison, format_summary, headroom_display, payback_display
from .summary import scenario_summaries
from .followup import WARNING_WORDS, first_warnings, followup_lines, start_phrase

WIDTH = 100
# the reference's key figures on the console, in words
CONSOLE_KPIS = ["placed_per_1000_0_22", "new_placements", "cost_total_dkk", "cases_per_caseworker",
                "followup_on_time_share", "unmet_need_share"]


NBSP = "\u00a0"


def _wrap(text: str, width: int, **kw) -> list[str]:
    """Lines of at most width characters; '95 %' and '- ' stay on one line."""
    text = text.replace("95 %", "95" + NBSP + "%")
    lines = textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False, **kw) or [""]
    return [x.replace(NBSP, " ") for x in lines]


def fit_table(headers: list[str], rows: list[list[str]], width: int = WIDTH) -> list[str]:
    """A plain-text table (first column left, the others right-aligned, two spaces between) whose lines are
    at most ``width`` characters: the first column is shortened with '…' when the table would be wider."""
    cols = list(zip(headers, *rows))
    widths = [max(len(x) for x in c) for c in cols]
    excess = sum(widths) + 2 * (len(widths) - 1) - width
    if excess > 0:
        widths[0] = max(6, widths[0] - excess)

    def line(values):
        first = values[0] if len(values[0]) <= widths[0] else values[0][:widths[0] - 1] + "…"
        return "  ".join([first.ljust(widths[0])] + [v.rjust(w) for v, w in zip(values[1:], widths[1:])]).rstrip()
    out = [line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]
    return [x[:width] for x in out]


def _reference_lines(res, width: int) -> list[str]:
    s = res.summary
    s = s[(s.scenario == res.reference) & (s.period == "horizon")].set_index("kpi")
    rows = [[kpi_label(k, "en"), cell(s.loc[k, "mean"], s.loc[k, "ci_low"], s.loc[k, "ci_high"])]
            for k in CONSOLE_KPIS if k in s.index]
    lines = fit_table(["Key figure", "mean [95 % interval]"], rows, width)
    reps = res.plan.arms[res.reference].run.replications
    short = [f"{kpi_label(k, 'en')} ({int(s.loc[k, 'n'])} of {reps})" for k in CONSOLE_KPIS
             if k in s.index and "n" in s.columns and int(s.loc[k, "n"]) < reps]
    if short:       # a KPI with nothing to measure (no caseworker, no follow-up due, no assessment started)
        lines += _wrap("'-' or fewer replications: not defined where there was nothing to measure (e.g. no "
                       "caseworker, no follow-up due, no assessment started): " + "; ".join(short), width)
    return lines


def _scenario_lines(res, width: int) -> list[str]:
    c = res.comparison
    c = c[c.period == "horizon"].set_index(["scenario", "kpi"])
    months = payback_months(res).set_index("scenario")["paid_back_month"]
    rows = []
    for sc in [a for a in res.arms if a != res.reference]:
        def diff(kpi):
            if (sc, kpi) not in c.index:
                return "-"
            r = c.loc[(sc, kpi)]
            return cell(r["diff_mean"], r["diff_ci_low"], r["diff_ci_high"])
        m = months.get(sc, pd.NA)
        rows.append([sc, diff("cost_total_dkk"), diff("placed_per_1000_0_22"),
                     "-" if pd.isna(m) else months_text(int(m), "en")])
    return fit_table(["Scenario", "Total cost, DKK", "Placed per 1,000 aged 0-22", "Payback after"], rows, width)


def interval_note(res) -> list[str]:
    """The note under the tables with one replication: why the intervals are '[-, -]' (none with more)."""
    return [one_replication_note()] if res.plan.arms[res.reference].run.replications == 1 else []


def summary_text(res, width: int = WIDTH) -> str:
    """The short summary the command line prints, every line at most ``width`` characters: the reference's
    headline KPIs in words, each scenario's paired cost difference, difference in placed per 1,000 and
    payback month; the full tables are in the run folder (summary.txt, report.html, business_case.xlsx)."""
    cfg = res.plan.arms[res.reference]
    lines = _wrap(f"Staircase simulation - {cfg.municipality.label}", width)
    lines += _wrap(f"{replications_text(cfg.run.replications)} per arm, "
                   f"{count_text(cfg.run.horizon_years, 'horizon year', 'horizon years')} "
                   f"{start_phrase(res)}, seed {cfg.run.seed}; DKK in {cfg.costs.price_year} prices", width)
    lines += [""] + _wrap(f"{res.reference} over the horizon (flows: total; stocks: mean per year)", width)
    lines += _reference_lines(res, width)
    lines += [x for note in interval_note(res) + team_warnings(team_check(res)) for x in _wrap(note, width)]
    follow = followup_lines(res)
    if follow:
        lines += [""] + [x for line in follow for x in _wrap(line, width)]
    if not res.comparison.empty:
        lines += [""] + _wrap(f"Paired difference vs {res.reference} over {the_years(cfg.run.horizon_years)}, mean "
                              "[95 % interval]; payback: the month by which the mean cumulative cost difference, "
                              "investments included, is below zero ('-' = not within the horizon)", width)
        lines += _scenario_lines(res, width)
    if cfg.output.write:
        where = f" in {res.run_dir}" if getattr(res, "run_dir", None) else ""
        files = ["summary.txt"] + (["report.html"] if cfg.output.report else []) + \
            (["business_case.xlsx"] if cfg.output.excel else [])           # the files this run writes
        listed = files[0] if len(files) == 1 else f"{', '.join(files[:-1])} and {files[-1]}"
        lines += [""] + _wrap(f"Every KPI, the budget and the executive summary in words: {listed}{where}.", width)
    else:
        lines += [""] + _wrap("Nothing was written (output.write=false): run again without it for the run folder "
                              "with every KPI, the budget and the executive summary in words.", width)
    return "\n".join(x[:width] for x in lines) + "\n"


def summary_text_full(res, uncertainty=None) -> str:
    """The full printed summary (``summary.txt``): the executive summary in sentences, then KPIs, paired
    differences, payback and investment headroom as tables; ``uncertainty`` as for the executive summary."""
    cfg = res.plan.arms[res.reference]
    lines = [
        f"Staircase simulation - {cfg.municipality.label}",
        f"reference: {res.reference}; arms: {', '.join(res.arms)}",
        f"replications: {cfg.run.replications}, horizon: {count_text(cfg.run.horizon_years, 'year', 'years')} "
        f"{start_phrase(res)}, "
        f"seed {cfg.run.seed}; DKK in {cfg.costs.price_year} prices",
    ]
    lines += first_warnings(res)                # a team that does not fit, a baseline that drifts, the follow-up's
    # today's caseload, the forecast and the budget follow-up (its warnings are above)
    lines += [x for x in followup_lines(res) if not x.startswith(WARNING_WORDS)]
    lines += [x for x in warmup_text(warmup_check(res)) if not x.startswith(WARNING_WORDS)]     # the check's verdict
    for s in scenario_summaries(res, "en", uncertainty):
        lines += ["", f"{s.title} ({s.scenario})"] + [x for sentence in s.sentences
                                                      for x in _wrap(sentence, WIDTH, initial_indent="- ",
                                                                     subsequent_indent="  ")]
    lines += [
        "",
        "Mean [95 % interval] over the horizon (flows: total over the horizon; stocks: mean per year)",
        format_summary(res).to_string(),
    ] + interval_note(res)
    if not res.comparison.empty:
        lines += ["", f"Paired difference vs {res.reference} over the horizon, mean [95 % interval]",
                  format_comparison(res).to_string(), "",
                  f"Payback: first horizon year by which the cumulative paired cost difference (investments included) "
                  f"is below zero - with 95 % confidence, and on average; '-' = not within {the_years(cfg.run.horizon_years)}",
                  payback_display(res).to_string(index=False), "",
                  "Investment headroom: the operating saving accumulated by each horizon year (paired, scenario investments "
                  "left out; mean [95 % interval]) = the most the scenario's investments could total by then for it still "
                  "to pay back; negative = it costs more to run, before any investment",
                  headroom_display(res).to_string()]
    return "\n".join(lines) + "\n"
