"""The printed summary of a run (``summary.txt`` and the console)."""
from __future__ import annotations

from .format import format_comparison, format_summary, headroom_display, payback_display

def summary_text(res) -> str:
    """The printed summary of a run: KPIs, paired differences, payback and investment headroom."""
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
                  payback_display(res).to_string(index=False), "",
                  "Investment headroom: the operating saving accumulated by each horizon year (paired, scenario investments "
                  "left out; mean [95 % interval]) = the most the scenario's investments could total by then for it still "
                  "to pay back; negative = it costs more to run, before any investment",
                  headroom_display(res).to_string()]
    return "\n".join(lines) + "\n"
