"""Printed tables and the self-contained HTML report."""
from __future__ import annotations

import base64
import datetime as _dt
import html
from pathlib import Path

import numpy as np
import pandas as pd

from .config import TARGET_KPIS
from .kpis import KPI_DEFS, _t_interval

HEADLINE = ["placed_per_1000_0_17", "placed_per_1000_0_22", "new_placements", "cost_total_dkk",
            "cost_total_discounted_dkk", "cost_per_child_0_22_dkk", "placement_cost_share", "open_cases",
            "cases_per_caseworker", "followup_on_time_share", "followup_work_share", "assessment_wait_days", "step_ups", "step_downs",
            "breakdowns", "returns_home"]


def _fmt(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "-"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:,.1f}M"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:,.1f}"
    return f"{v:,.2f}"


def format_summary(res, period: str = "horizon", kpis: list[str] | None = None) -> pd.DataFrame:
    s = res.summary
    kpis = kpis or HEADLINE
    s = s[(s.period == period) & s.kpi.isin(kpis)]
    if period == "year":
        s = s.assign(scenario=s.scenario + " y" + s.year.astype(str))
    cell = s.apply(lambda r: f"{_fmt(r['mean'])} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]", axis=1)
    t = s.assign(cell=cell).pivot(index="kpi", columns="scenario", values="cell")
    cols = [a for a in res.arms if a in t.columns] if period != "year" else list(t.columns)
    return t.reindex(index=[k for k in kpis if k in t.index], columns=cols)


def format_comparison(res, period: str = "horizon", kpis: list[str] | None = None) -> pd.DataFrame:
    c = res.comparison
    if c.empty:
        return pd.DataFrame()
    kpis = kpis or HEADLINE
    c = c[(c.period == period) & c.kpi.isin(kpis)]
    cell = c.apply(lambda r: f"{_fmt(r['diff_mean'])} [{_fmt(r['diff_ci_low'])}, {_fmt(r['diff_ci_high'])}]", axis=1)
    t = c.assign(cell=cell).pivot(index="kpi", columns="scenario", values="cell")
    cols = [a for a in res.arms if a in t.columns]
    return t.reindex(index=[k for k in kpis if k in t.index], columns=cols)


def _cumulative_paired(res, kpi: str) -> dict[str, pd.DataFrame]:
    """Per scenario (not the reference): the paired difference in a yearly KPI from the reference,
    cumulated over the horizon years (rows: replications, columns: years)."""
    k = res.kpis
    k = k[(k.period == "year") & (k.kpi == kpi)]
    ref = k[k.scenario == res.reference].set_index(["replication", "year"])["value"]
    out = {}
    for sc in res.arms:
        if sc != res.reference:
            arm = k[k.scenario == sc].set_index(["replication", "year"])["value"]
            out[sc] = (arm - ref).dropna().unstack("year").sort_index(axis=1).cumsum(axis=1)
    return out


def payback(res) -> pd.DataFrame:
    """Cumulative paired cost difference (scenario - reference) by horizon year, investments included.

    A negative cumulative difference means the scenario has paid back its extra spending by then.
    """
    rows = []
    for sc, d in _cumulative_paired(res, "cost_total_dkk").items():
        for year in d.columns:
            m, lo, hi, n = _t_interval(d[year].to_numpy(dtype=float))
            rows.append((sc, int(year), m, lo, hi, n))
    return pd.DataFrame(rows, columns=["scenario", "year", "cum_cost_diff_dkk", "ci_low", "ci_high", "n"])


def payback_years(res) -> pd.DataFrame:
    p = payback(res)
    out = []
    for sc, g in p.groupby("scenario", sort=False):
        g = g.sort_values("year")
        sure = g[g.ci_high < 0]
        likely = g[g.cum_cost_diff_dkk < 0]
        out.append((sc, int(sure.year.iloc[0]) if len(sure) else None, int(likely.year.iloc[0]) if len(likely) else None,
                    float(g.cum_cost_diff_dkk.iloc[-1])))
    df = pd.DataFrame(out, columns=["scenario", "paid_back_by_year_95pct", "paid_back_by_year_mean", "cum_cost_diff_end_dkk"])
    for col in ("paid_back_by_year_95pct", "paid_back_by_year_mean"):
        df[col] = df[col].astype("Int64")       # whole years; <NA> = not within the horizon
    return df


def headroom(res) -> pd.DataFrame:
    """Investment headroom by horizon year: what each scenario's operating saving has accumulated - its
    paired cost difference from the reference with scenario investments (cost_investment_dkk) left out,
    sign turned so that a saving is positive. It is the most the scenario's investments could total by then
    for it still to have paid back; ``investment_dkk`` is what its files plan by then, and
    ``margin_dkk`` = headroom - investment is minus the cumulative difference of ``payback``. The model
    treats investments as cost only (they do not change what happens to children), so the arithmetic holds
    for any amount; what an investment buys is in the scenario's parameters."""
    total = _cumulative_paired(res, "cost_total_dkk")
    invest = _cumulative_paired(res, "cost_investment_dkk")
    rows = []
    for sc, d in total.items():
        saving = invest[sc] - d                   # operating saving = -(total difference - investment difference)
        for year in saving.columns:
            m, lo, hi, n = _t_interval(saving[year].to_numpy(dtype=float))
            inv = float(invest[sc][year].mean())
            rows.append((sc, int(year), m, lo, hi, inv, m - inv, n))
    return pd.DataFrame(rows, columns=["scenario", "year", "headroom_dkk", "ci_low", "ci_high", "investment_dkk",
                                       "margin_dkk", "n"])


def _headroom_display(res) -> pd.DataFrame:
    """headroom for people: by scenario, 'mean [95 % interval]' per horizon year, then what is planned."""
    h = headroom(res)
    cell = [f"{_fmt(m)} [{_fmt(a)}, {_fmt(b)}]" for m, a, b in zip(h.headroom_dkk, h.ci_low, h.ci_high)]
    out = h.assign(cell=cell).pivot(index="scenario", columns="year", values="cell")
    out.columns = [f"by year {y}" for y in out.columns]
    last = h[h.year == h.year.max()].set_index("scenario")
    out["planned investment, whole horizon"] = last["investment_dkk"].map(_fmt)
    return out.loc[[a for a in res.arms if a in out.index]]


TARGET_LABELS = {"placed_per_1000_0_22": "placed per 1,000 aged 0-22",
                 "cost_per_child_0_22_dkk": "spending per 0-22-year-old per year (DKK)",
                 "placement_cost_share": "placements' share of spending"}


def calibration(res) -> pd.DataFrame:
    """The reference arm against the municipality's key figures (the calibration targets)."""
    cfg = res.plan.arms[res.reference]
    t = cfg.municipality.targets
    s = res.summary
    base = s[(s.scenario == res.reference) & (s.period == "horizon")].set_index("kpi")
    rows = []
    for kpi, field in TARGET_KPIS.items():
        label, target = TARGET_LABELS[kpi], getattr(t, field)
        r = base.loc[kpi]
        rows.append((label, kpi, target, r["mean"], r["ci_low"], r["ci_high"], (r["mean"] - target) / target if target else np.nan))
    return pd.DataFrame(rows, columns=["figure", "kpi", "target", "simulated", "ci_low", "ci_high", "relative_gap"])


def _payback_display(res) -> pd.DataFrame:
    """payback_years for people: whole years or '-' (not within the horizon), money as 12.3M."""
    py = payback_years(res)
    for col in ("paid_back_by_year_95pct", "paid_back_by_year_mean"):
        py[col] = [("-" if pd.isna(v) else str(int(v))) for v in py[col]]
    py["cum_cost_diff_end_dkk"] = py["cum_cost_diff_end_dkk"].map(_fmt)
    return py


def summary_text(res) -> str:
    cfg = res.plan.arms[res.reference]
    lines = [
        f"Staircase simulation - {cfg.municipality.label}",
        f"reference: {res.reference}; arms: {', '.join(res.arms)}",
        f"replications: {cfg.run.replications}, horizon: {cfg.run.horizon_years} years after {cfg.run.warmup_years} warm-up years, "
        f"seed {cfg.run.seed}; DKK in {cfg.costs.price_year} prices",
        "",
        "Mean [95 % interval] over the horizon (flows: total over the horizon; stocks: mean per year)",
        format_summary(res).to_string(),
    ]
    if not res.comparison.empty:
        lines += ["", f"Paired difference vs {res.reference} over the horizon, mean [95 % interval]",
                  format_comparison(res).to_string(), "",
                  f"Payback: first horizon year by which the cumulative paired cost difference (investments included) "
                  f"is below zero - with 95 % confidence, and on average; '-' = not within the {cfg.run.horizon_years} years",
                  _payback_display(res).to_string(index=False), "",
                  "Investment headroom: the operating saving accumulated by each horizon year (paired, scenario investments "
                  "left out; mean [95 % interval]) = the most the scenario's investments could total by then for it still "
                  "to pay back; negative = it costs more to run, before any investment",
                  _headroom_display(res).to_string()]
    return "\n".join(lines) + "\n"


def _flatten(d, prefix=""):
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = d
    return out


def parameter_changes(res, arm: str) -> list[tuple[str, object, object]]:
    ref = _flatten({k: v for k, v in res.plan.warmup.model_dump(mode="json").items() if k != "scenario_info"})
    new = _flatten({k: v for k, v in res.plan.arms[arm].model_dump(mode="json").items() if k != "scenario_info"})
    return [(k, ref.get(k), new.get(k)) for k in sorted(set(ref) | set(new)) if ref.get(k) != new.get(k)]


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(path.stem)}"><figcaption>{html.escape(path.stem.replace("_", " "))}</figcaption></figure>'


def _table(df: pd.DataFrame, index: bool = True) -> str:
    return df.to_html(index=index, escape=True, border=0, classes="t", na_rep="-")


def write_report(res, path: Path, figures_dir: Path | None = None) -> None:
    cfg = res.plan.arms[res.reference]
    m = cfg.municipality
    cal = calibration(res)
    calib = pd.DataFrame({"figure": cal["figure"], "key figure (target)": cal["target"].map(_fmt),
                          f"simulated ({res.reference}), 95 % interval": [f"{_fmt(a)} [{_fmt(b)}, {_fmt(c)}]" for a, b, c in
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
        pb_t = pb.assign(cell=pb.apply(lambda r: f"{_fmt(r.cum_cost_diff_dkk)} [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]", axis=1)).pivot(
            index="scenario", columns="year", values="cell")
        parts.append("<h2>Does it pay back?</h2><p>Cumulative cost difference from the reference, investments included "
                     "(negative = cheaper so far), by horizon year.</p>" + _table(pb_t) + _table(_payback_display(res), index=False))
        parts.append("<h3>Investment headroom</h3><p>The operating saving each scenario has accumulated by each horizon "
                     "year (paired, scenario investments left out; mean [95 % interval]): the most its investments could "
                     "total by then for it still to have paid back. Negative: it costs more to run, before any investment. "
                     "The lower end of the interval is the investment it repays with 95 % confidence.</p>"
                     + _table(_headroom_display(res)))
    from .budget import budget_by_year, budget_tables
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
                         f"Sources: {html.escape(', '.join(info.sources) or '-')}. Investment: one-off {_fmt(info.investment.one_off_dkk)} DKK, "
                         f"yearly {_fmt(info.investment.yearly_dkk)} DKK. {html.escape(info.investment.notes)}</p>")
        ch = parameter_changes(res, arm)
        if ch:
            parts.append(_table(pd.DataFrame(ch, columns=["parameter", "current practice", arm]), index=False))
    kd = pd.DataFrame([(k, u, a, d) for k, (u, a, d) in KPI_DEFS.items()], columns=["KPI", "unit", "over the horizon", "definition"])
    parts.append("<h2>KPI dictionary</h2>" + _table(kd, index=False) + "</body></html>")
    Path(path).write_text("\n".join(parts), encoding="utf-8")
