"""The self-contained HTML report of a run (figures embedded)."""
from __future__ import annotations

import base64
import datetime as _dt
import html
from pathlib import Path

import pandas as pd

from ..common.kpi_catalog import KPI_DEFS
from ..metrics.payback import payback
from ..metrics.targets import calibration
from .format import fmt, format_comparison, format_summary, headroom_display, parameter_changes, payback_display
from .tables import budget_by_year, budget_tables

def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(path.stem)}"><figcaption>{html.escape(path.stem.replace("_", " "))}</figcaption></figure>'


def _table(df: pd.DataFrame, index: bool = True) -> str:
    return df.to_html(index=index, escape=True, border=0, classes="t", na_rep="-")


def write_report(res, path: Path, figures_dir: Path | None = None) -> None:
    """Write the run's self-contained HTML report to path: calibration check, key figures, differences,
    payback, budget, the PNG figures of figures_dir embedded, the scenarios and the KPI dictionary."""
    cfg = res.plan.arms[res.reference]
    m = cfg.municipality
    cal = calibration(res)
    calib = pd.DataFrame({"figure": cal["figure"], "key figure (target)": cal["target"].map(fmt),
                          f"simulated ({res.reference}), 95 % interval": [f"{fmt(a)} [{fmt(b)}, {fmt(c)}]" for a, b, c in
                                                                       zip(cal["simulated"], cal["ci_low"], cal["ci_high"])],
                          "gap": (100 * cal["relative_gap"]).map(lambda v: f"{v:+.1f} %")})
    parts = [f"""<!doctype html><html><head><meta charset="utf-8"><title>Staircase simulation - {html.escape(m.label)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}}
table.t{{border-collapse:collapse;font-size:12px;margin:0.5em 0 1.5em}} table.t td,table.t th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}}
table.t th:first-child,table.t td:first-child{{text-align:left}} figure{{margin:1em 0}} img{{max-width:100%}}
.note{{background:#fff8e1;padding:0.6em 1em;border-left:4px solid #f0b400}} h2{{border-bottom:2px solid #eee}}</style></head><body>
<h1>Staircase simulation: {html.escape(m.label)}</h1>
<p>Run {html.escape(str(res.run_id or ''))}, written {_dt.datetime.now():%Y-%m-%d %H:%M}. Reference arm <b>{html.escape(res.reference)}</b>;
{cfg.run.replications} replications per arm with common random numbers; {cfg.run.warmup_years} warm-up years under current practice,
then {cfg.run.horizon_years} horizon years under each scenario. Seed {cfg.run.seed}. Money in DKK, {cfg.costs.price_year} prices.</p>
<p class="note">Most parameters are marked <code>[assumption]</code> or <code>[calibrated]</code> in <code>conf/</code>: they are
orders of magnitude for an average municipality, not your municipality's figures. Replace them before using the numbers in a budget.
Intervals are 95 % intervals over replications: they show simulation uncertainty, not uncertainty in the assumptions
(run <code>python -m sim --sensitivity</code> or a sweep for that).</p>
<h2>Calibration check</h2>{_table(calib, index=False)}
<p>To fit the level of need to the municipality's placements: <code>python -m sim --calibrate municipality={html.escape(m.name)}</code>.</p>
<h2>Key figures over the horizon</h2><p>Mean [95 % interval]. Flows are totals over the horizon; stocks are means per year.</p>
{_table(format_summary(res))}"""]
    if not res.comparison.empty:
        parts.append(f"<h2>Difference from {html.escape(res.reference)}</h2><p>Paired by replication (same children and draws in every arm).</p>")
        parts.append(_table(format_comparison(res)))
        pb = payback(res)
        pb_t = pb.assign(cell=pb.apply(lambda r: f"{fmt(r.cum_cost_diff_dkk)} [{fmt(r.ci_low)}, {fmt(r.ci_high)}]", axis=1)).pivot(
            index="scenario", columns="year", values="cell")
        parts.append("<h2>Does it pay back?</h2><p>Cumulative cost difference from the reference, investments included "
                     "(negative = cheaper so far), by horizon year.</p>" + _table(pb_t) + _table(payback_display(res), index=False))
        parts.append("<h3>Investment headroom</h3><p>The operating saving each scenario has accumulated by each horizon "
                     "year (paired, scenario investments left out; mean [95 % interval]): the most its investments could "
                     "total by then for it still to have paid back. Negative: it costs more to run, before any investment. "
                     "The lower end of the interval is the investment it repays with 95 % confidence.</p>"
                     + _table(headroom_display(res)))
    show, wide = budget_tables(res)
    parts.append(f"<h2>Budget by measure</h2><p>{html.escape(res.reference)} over the {cfg.run.horizon_years} horizon years: "
                 "count &times; unit cost + fixed cost = cost, the mean of the replications; <i>in</i> and <i>out</i> are "
                 "children arriving on and leaving each step. Per year: <code>budget.csv</code>.</p>" + _table(show, index=False)
                 + f"<p>Cost of {html.escape(res.reference)} by item and horizon year (DKK):</p>" + _table(budget_by_year(res)))
    if not wide.empty:
        parts.append(f"<p>Where each scenario's difference from {html.escape(res.reference)} comes from "
                     "(paired mean [95 % interval], DKK over the horizon; <code>budget_difference.csv</code>):</p>" + _table(wide))
    if figures_dir is not None and Path(figures_dir).exists():
        parts.append("<h2>Figures</h2>" + "".join(_img(p) for p in sorted(Path(figures_dir).glob("*.png"))))
    parts.append("<h2>Scenarios</h2>")
    for arm in res.arms:
        acfg = res.plan.arms[arm]
        for name, info in acfg.scenario_info.items():
            parts.append(f"<h3>{html.escape(arm)}: {html.escape(name)}</h3><p>{html.escape(info.description)} "
                         f"Sources: {html.escape(', '.join(info.sources) or '-')}. Investment: one-off {fmt(info.investment.one_off_dkk)} DKK, "
                         f"yearly {fmt(info.investment.yearly_dkk)} DKK. {html.escape(info.investment.notes)}</p>")
        ch = parameter_changes(res, arm)
        if ch:
            parts.append(_table(pd.DataFrame(ch, columns=["parameter", "current practice", arm]), index=False))
    kd = pd.DataFrame([(k, u, a, d) for k, (u, a, d) in KPI_DEFS.items()], columns=["KPI", "unit", "over the horizon", "definition"])
    parts.append("<h2>KPI dictionary</h2>" + _table(kd, index=False) + "</body></html>")
    Path(path).write_text("\n".join(parts), encoding="utf-8")
