"""Regenerate docs/figures/team_sweep.png and team_sweep.csv: the baseline of two municipalities at every team
size from ~23 to ~50 cases per caseworker (5 replications each, seed 1).

    .venv/bin/python docs/figures/make_team_sweep.py
"""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim import simulate  # noqa: E402

HERE = Path(__file__).resolve().parent
PROFILES = {"average": 450, "mariagerfjord": 520}          # open cases of the baseline, roughly
PANELS = [("followup_on_time_share", "follow-ups on time (share)"), ("followup_slip_days", "follow-up slip (days)"),
          ("assessment_wait_days", "wait for an assessment (days)"), ("caseworker_utilisation", "utilisation"),
          ("placed_per_1000_0_22", "placed per 1,000 aged 0-22"), ("cost_total_dkk", "cost over 4 years (M DKK)"),
          ("cost_excl_caseworkers", "cost without caseworkers (M DKK)")]


def sweep() -> pd.DataFrame:
    rows = []
    for m, cases in PROFILES.items():
        for n in range(round(cases / 22), round(cases / 52) - 1, -1):
            r = simulate([f"municipality={m}", f"casework.caseworkers={n}", "compare=[]", "run.replications=5",
                          f"run.workers={os.cpu_count() or 1}", "output.progress=false"], write=False)
            s = r.summary[r.summary.period == "horizon"].set_index("kpi")
            row = {"municipality": m, "caseworkers": n}
            for k in ("cases_per_caseworker", "followup_on_time_share", "followup_slip_days", "assessment_wait_days",
                      "caseworker_utilisation", "placed_per_1000_0_22", "cost_total_dkk", "cost_caseworkers_dkk",
                      "assessment_overdue_share"):
                row[k], row[k + "_low"], row[k + "_high"] = s.loc[k, ["mean", "ci_low", "ci_high"]]
            row["cost_excl_caseworkers"] = row["cost_total_dkk"] - row["cost_caseworkers_dkk"]
            rows.append(row)
            print(m, n, f"{row['cases_per_caseworker']:.1f} cases each, on time {row['followup_on_time_share']:.3f}",
                  flush=True)
    return pd.DataFrame(rows)


def plot(df: pd.DataFrame, path: Path) -> None:
    fig, axes = plt.subplots(2, 4, figsize=(16, 7))
    for ax, (k, label) in zip(axes.flat, PANELS):
        for m, g in df.groupby("municipality"):
            scale = 1e6 if k.startswith("cost") else 1
            ax.plot(g["cases_per_caseworker"], g[k] / scale, marker="o", label=m)
            if k + "_low" in g:
                ax.fill_between(g["cases_per_caseworker"], g[k + "_low"] / scale, g[k + "_high"] / scale, alpha=0.2)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("cases per caseworker")
        ax.axvspan(23, 50, color="grey", alpha=0.06)
    axes.flat[0].legend()
    axes.flat[-1].axis("off")
    axes.flat[-1].text(0, 0.5, "Baseline, 5 replications each, 95 % bands.\nGrey: 23-50 cases per caseworker, the range\n"
                       "municipalities carry [002].\nEvery team size from ~22 to ~52 cases each.", fontsize=10)
    fig.suptitle("A team that degrades gradually: service against cases per caseworker (fixed team, baseline)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    df = sweep()
    df.to_csv(HERE / "team_sweep.csv", index=False)
    plot(df, HERE / "team_sweep.png")
    print(f"wrote {HERE / 'team_sweep.png'}")
