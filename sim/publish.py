"""Publishing a run: its files rendered into an atomic run folder, then registered in the catalog.

Layer 6: the one place that turns a run's results into what a person and a later query find in
results/ - tables (Parquet, CSV), the printed summary, figures and the HTML report - using the
metrics and report layers below, and ``sim.store`` for the atomic folder and the catalog.
"""
from __future__ import annotations

import datetime as _dt
import json
import shutil
from pathlib import Path

from .metrics.budget import budget, budget_difference
from .metrics.payback import headroom, payback
from .report.html import write_report
from .report.tables import budget_text
from .report.text import summary_text
from .runner import Results
from .store import CATALOG, base_dir, code_version, new_id, register_run, to_yaml, write_atomic


def results_dir(res: Results) -> Path:
    """The run's output.dir as a folder (relative paths from the project root)."""
    return base_dir(res.plan.arms[res.reference].output.dir)


def _run_id(res: Results) -> str:
    return new_id(res.reference.replace("+", "_"), res.plan.overrides, _dt.datetime.now())


def fill_run_folder(res: Results, folder: Path) -> None:
    """Write every file of a run folder into ``folder``: configs, tables, summary, figures, report."""
    ref_cfg = res.plan.arms[res.reference]
    (folder / "configs").mkdir()
    (folder / "config.yaml").write_text(to_yaml(res.plan.tree))
    (folder / "configs" / "warmup.yaml").write_text(to_yaml(res.plan.warmup.model_dump(mode="json")))
    for arm, cfg in res.plan.arms.items():
        (folder / "configs" / f"{arm}.yaml").write_text(to_yaml(cfg.model_dump(mode="json")))
    (folder / "overrides.txt").write_text("\n".join(res.plan.overrides) + "\n")
    (folder / "code_version.txt").write_text(code_version() + "\n")
    res.kpis.to_parquet(folder / "kpis.parquet", index=False)
    res.timeseries.to_parquet(folder / "timeseries.parquet", index=False)
    res.summary.to_parquet(folder / "summary.parquet", index=False)
    res.comparison.to_parquet(folder / "comparison.parquet", index=False)
    if ref_cfg.output.save_children:
        res.children.to_parquet(folder / "children.parquet", index=False)
    budget(res).to_csv(folder / "budget.csv", index=False)
    budget_difference(res).to_csv(folder / "budget_difference.csv", index=False)
    if not res.comparison.empty:
        payback(res).to_csv(folder / "payback.csv", index=False)
        headroom(res).to_csv(folder / "headroom.csv", index=False)
    (folder / "summary.txt").write_text(summary_text(res) + "\n" + budget_text(res))
    if ref_cfg.output.figures:
        from .report.plots import make_figures      # matplotlib: imported only when figures are drawn
        make_figures(res, folder / "figures")
    if ref_cfg.output.report:
        write_report(res, folder / "report.html", figures_dir=folder / "figures" if ref_cfg.output.figures else None)


def catalog_row(res: Results, run_id: str, run_dir: Path, sweep_id: str | None) -> dict:
    """The run's row in the catalog's ``runs`` table."""
    ref_cfg = res.plan.arms[res.reference]
    return {"run_id": run_id, "created_at": _dt.datetime.now(), "reference": res.reference,
            "scenarios": ",".join(res.arms), "municipality": ref_cfg.municipality.name, "seed": ref_cfg.run.seed,
            "replications": ref_cfg.run.replications, "horizon_years": ref_cfg.run.horizon_years,
            "warmup_years": ref_cfg.run.warmup_years, "overrides": " ".join(res.plan.overrides),
            "run_dir": str(run_dir), "code_version": code_version(), "config_json": json.dumps(res.plan.tree),
            "sweep_id": sweep_id}


def write_run(res: Results, sweep_id: str | None = None) -> Path:
    """Write the run folder and register it; returns the folder. Atomic: on any failure neither the folder
    nor a catalog entry is left. ``sweep_id`` tags the run as a job of a sweep (``runs.sweep_id``)."""
    base = results_dir(res)
    base.mkdir(parents=True, exist_ok=True)
    run_id = _run_id(res)
    while (base / run_id).exists():
        run_id += "x"
    res.run_id = run_id                 # the report names its run
    try:
        final = write_atomic(base, run_id, lambda folder: fill_run_folder(res, folder))
    except BaseException:
        res.run_id = None
        raise
    try:
        register_run(base / CATALOG, catalog_row(res, run_id, final, sweep_id),
                     {"kpis": res.kpis, "timeseries": res.timeseries, "summary": res.summary,
                      "comparison": res.comparison})
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        res.run_id = None
        raise
    res.run_dir = final
    return final
