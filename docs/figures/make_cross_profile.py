"""Regenerate docs/figures/cross_profile.csv, cross_profile.png, cross_profile.md and cross_profile_run.txt: every
standard scenario against the baseline in every municipality profile in conf/municipality/ (globbed when it runs),
10 replications each, paired under common random numbers, with the scenarios' sizes relative to the municipality
(places and investments per 1,000 children aged 0-17, hires as a share of the team; docs/model.md 4.7).

    .venv/bin/python docs/figures/make_cross_profile.py            # all profiles (about a minute each on 2 cores)
    .venv/bin/python docs/figures/make_cross_profile.py average kolding --replications 4

cross_profile.csv has one row per municipality and scenario: the paired difference from the baseline over the
4-year horizon in cost (DKK, and DKK per 1,000 children 0-17), in children placed per 1,000 (0-17 and 0-22, mean
per year) and in new placements (total), each with its 95 % interval; the first year it has paid back (in the mean,
and with 95 % confidence; empty = not within the horizon); and the sizes it was simulated with (places, team,
investments, the unit's and the programme's fixed costs), compiled for that municipality.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim import simulate  # noqa: E402
from sim.common.paths import CONF_DIR, ROOT  # noqa: E402
from sim.common.units import DAYS_PER_YEAR  # noqa: E402
from sim.config import BASELINE, available_scenarios  # noqa: E402
from sim.metrics.payback import payback_years  # noqa: E402
from sim.model.params import compile_config  # noqa: E402

HERE = Path(__file__).resolve().parent
KPIS = {"cost_total_dkk": "cost", "placed_per_1000_0_17": "placed_per_1000_0_17",
        "placed_per_1000_0_22": "placed_per_1000_0_22", "new_placements": "new_placements"}
SIZED_STEPS = ("early_preventive", "intensive_home_based")     # the steps standard scenarios give places to
ORDER = ["earlier_detection", "frequent_followup", "lower_caseload", "caseload_norm", "close_management", "early_help_unit",
         "intensive_home_based", "kinship_first", "short_intensive_stays", "full_shift"]   # as in the README's table


def standard_scenarios() -> list[str]:
    """Every scenario in scenarios/ but the baseline, in the README's order (any others after them)."""
    found = [s for s in available_scenarios() if s != BASELINE]
    return [s for s in ORDER if s in found] + [s for s in found if s not in ORDER]


def profiles() -> list[str]:
    """Every municipality profile in conf/municipality/, the average first."""
    names = sorted(p.stem for p in (CONF_DIR / "municipality").glob("*.yaml"))
    return sorted(names, key=lambda n: (n != "average", n))


def sizes(cfg) -> dict:
    """What an arm was simulated with, compiled for its municipality."""
    P = compile_config(cfg)
    out = {"children_0_17": P.children_0_17, "caseworkers_team": P.caseworkers,
           "investment_one_off_dkk": P.investment_one_off_dkk,
           "investment_yearly_dkk": P.investment_per_day_dkk * DAYS_PER_YEAR}
    for step in SIZED_STEPS:
        i = P.step_names.index(step)
        out[f"places__{step}"] = None if math.isinf(P.capacity[i]) else P.capacity[i]
        out[f"fixed_cost_per_year_dkk__{step}"] = P.fixed_cost_per_day_dkk[i] * DAYS_PER_YEAR
    return out


def one_profile(municipality: str, scenarios: list[str], replications: int, workers: int) -> pd.DataFrame:
    """The paired differences of every scenario from the baseline in one municipality."""
    res = simulate([f"municipality={municipality}", f"run.replications={replications}", f"run.workers={workers}",
                    "compare=[" + ",".join(scenarios) + "]", "output.progress=false"], write=False)
    c = res.comparison[(res.comparison.period == "horizon") & res.comparison.kpi.isin(KPIS)]
    pb = payback_years(res).set_index("scenario")
    rows = []
    for sc in scenarios:
        row = {"municipality": municipality, "scenario": sc, "replications": replications}
        for kpi, name in KPIS.items():
            d = c[(c.scenario == sc) & (c.kpi == kpi)].iloc[0]
            row[f"{name}_diff"], row[f"{name}_diff_low"], row[f"{name}_diff_high"] = (
                d.diff_mean, d.diff_ci_low, d.diff_ci_high)
            if kpi == "cost_total_dkk":
                row["cost_baseline"] = d.reference_mean
        row["paid_back_by_year_mean"] = pb.loc[sc, "paid_back_by_year_mean"]
        row["paid_back_by_year_95pct"] = pb.loc[sc, "paid_back_by_year_95pct"]
        row.update(sizes(res.plan.arms[sc]))
        rows.append(row)
    df = pd.DataFrame(rows)
    per_1000 = df["children_0_17"] / 1000
    for part in ("", "_low", "_high"):
        df[f"cost_diff_per_1000_children{part}"] = df[f"cost_diff{part}"] / per_1000
    return df


def plot(df: pd.DataFrame, path: Path) -> None:
    """Dot and 95 % interval per scenario and municipality: cost difference per 1,000 children and placed per 1,000."""
    scen = list(dict.fromkeys(df.scenario))[::-1]
    munis = list(dict.fromkeys(df.municipality))
    panels = [("cost_diff_per_1000_children", 1e6, "cost difference over 4 years,\nM DKK per 1,000 children aged 0-17"),
              ("placed_per_1000_0_22_diff", 1, "difference in children placed\nper 1,000 aged 0-22 (mean per year)")]
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.55 * len(scen) + 2.2), sharey=True)
    colours = plt.get_cmap("tab10")
    step = 0.8 / max(len(munis), 1)
    for ax, (col, scale, label) in zip(axes, panels):
        for j, m in enumerate(munis):
            g = df[df.municipality == m].set_index("scenario").reindex(scen)
            y = np.arange(len(scen)) + (j - (len(munis) - 1) / 2) * step
            mean = g[col] / scale
            err = np.vstack([mean - g[f"{col}_low"] / scale, g[f"{col}_high"] / scale - mean])
            ax.errorbar(mean, y, xerr=err, fmt="o", ms=4, capsize=2, color=colours(j), label=m)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
        for k in range(1, len(scen)):
            ax.axhline(k - 0.5, color="grey", lw=0.3, alpha=0.5)
    axes[0].set_yticks(range(len(scen)), scen)
    axes[0].set_ylim(-0.6, len(scen) - 0.4)
    axes[1].legend(title="municipality", fontsize=8, loc="best")
    reps = int(df.replications.iloc[0])
    fig.suptitle(f"Every standard scenario minus the baseline in every municipality profile ({reps} replications each, "
                 f"paired, 95 % intervals);\nsizes per 1,000 children aged 0-17 or as a share of the team. Left of 0: "
                 f"cheaper, fewer placed.", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell(mean: float, low: float, high: float, scale: float = 1e6) -> str:
    """'-29 [-35, -23]' in M DKK (whole millions at and above 10, one decimal below)."""
    def f(v):
        v = v / scale
        return f"{v:+.0f}" if abs(v) >= 9.95 else f"{v:+.1f}"
    return f"{f(mean)} [{f(low)}, {f(high)}]".replace("-", "−")


def _matrix(df: pd.DataFrame, cell) -> list[str]:
    """A markdown table, scenarios x municipalities, with ``cell(row)`` in each cell."""
    munis = list(dict.fromkeys(df.municipality))
    lines = ["| scenario | " + " | ".join(munis) + " |", "|---|" + "---|" * len(munis)]
    for sc, g in df.groupby("scenario", sort=False):
        g = g.set_index("municipality")
        lines.append(f"| `{sc}` | " + " | ".join(cell(g.loc[m]) for m in munis) + " |")
    return lines


def _signs(df: pd.DataFrame, col: str) -> list[str]:
    """Per scenario: the sign of the mean difference in every profile, and in how many the interval excludes 0."""
    out = []
    for sc, g in df.groupby("scenario", sort=False):
        signs = "".join("-" if v < 0 else "+" for v in g[col])
        sure = int(((g[f"{col}_high"] < 0) | (g[f"{col}_low"] > 0)).sum())
        out.append(f"- `{sc}`: signs {signs} ({'same sign everywhere' if len(set(signs)) == 1 else 'sign differs'}); "
                   f"interval excludes 0 in {sure} of {len(g)}")
    return out


def markdown(df: pd.DataFrame) -> str:
    """The tables for docs/model.md: the cost difference over 4 years (M DKK, 95 % interval; the year it has paid
    back in the mean, - = not within the horizon), the same per 1,000 children, and the difference in placed per
    1,000 aged 0-22 and in new placements; then the signs across profiles."""
    def cost(r):
        yr = r.paid_back_by_year_mean
        return _cell(r.cost_diff, r.cost_diff_low, r.cost_diff_high) + f"; {'–' if pd.isna(yr) else f'yr {int(yr)}'}"

    def per_1000(r):
        return _cell(r.cost_diff_per_1000_children, r.cost_diff_per_1000_children_low, r.cost_diff_per_1000_children_high)

    def placed(r):
        return (f"{r.placed_per_1000_0_22_diff:+.2f} [{r.placed_per_1000_0_22_diff_low:+.2f}, "
                f"{r.placed_per_1000_0_22_diff_high:+.2f}]; {r.new_placements_diff:+.0f}").replace("-", "−")
    parts = ["Cost difference over the 4 horizon years, M DKK [95 % interval]; year paid back in the mean:", "",
             *_matrix(df, cost), "", "The same per 1,000 children aged 0-17, M DKK [95 % interval]:", "",
             *_matrix(df, per_1000), "", "Placed per 1,000 aged 0-22 (mean per year) [95 % interval]; new placements "
             "over 4 years:", "", *_matrix(df, placed), "", "Signs of the cost difference:", "",
             *_signs(df, "cost_diff"), "", "Signs of the difference in placed per 1,000 aged 0-22:", "",
             *_signs(df, "placed_per_1000_0_22_diff")]
    return "\n".join(parts) + "\n"


def provenance() -> str:
    """When and on what code the table was made: the commit and the uncommitted changes at that time."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (f"run started {dt.datetime.now().isoformat(timespec='seconds')}\n"
            f"git log -1 --format=%h: {git('log', '-1', '--format=%h')}\n"
            f"git diff --stat:\n{git('diff', '--stat')}\n")


def main() -> None:
    """Run every profile (or those named) and write the table, the figure and the run's provenance."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("municipalities", nargs="*", help="profiles to run (default: every file in conf/municipality/)")
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE)
    a = ap.parse_args()
    munis = a.municipalities or profiles()
    scenarios = standard_scenarios()
    a.out.mkdir(parents=True, exist_ok=True)
    stamp = provenance()
    (a.out / "cross_profile_run.txt").write_text(stamp + f"profiles: {', '.join(munis)}\nscenarios: "
                                                 f"{', '.join(scenarios)}\nreplications: {a.replications}\n")
    frames = []
    for m in munis:
        t0 = dt.datetime.now()
        frames.append(one_profile(m, scenarios, a.replications, a.workers))
        print(f"{m}: {(dt.datetime.now() - t0).total_seconds():.0f} s", flush=True)
    df = pd.concat(frames, ignore_index=True)
    df.to_csv(a.out / "cross_profile.csv", index=False, float_format="%.6g")
    (a.out / "cross_profile.md").write_text(markdown(df))
    plot(df, a.out / "cross_profile.png")
    with open(a.out / "cross_profile_run.txt", "a") as f:
        f.write(f"run finished {dt.datetime.now().isoformat(timespec='seconds')}\n")
    print(f"wrote {a.out / 'cross_profile.csv'} and cross_profile.png")


if __name__ == "__main__":
    main()
