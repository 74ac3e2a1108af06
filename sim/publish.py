"""Publishing a run: its files rendered into an atomic run folder, which is its registration.

Layer 7: the one place that turns a run's results into what a person and a later query find in
results/ - tables (Parquet, CSV), the printed summary, figures and the HTML report, and the run's
catalog row (run.json) - using the metrics and report layers below, and ``sim.store`` for the
atomic folder. The catalog's tables are views over these files: a run is in the catalog as soon as
its folder is renamed into place, with no further step that could fail or wait for a lock.
"""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from .metrics.budget import budget, budget_difference
from .metrics.payback import headroom, payback
from .metrics.plausible import team_check         # team_check.csv (casework.plausible_cases_per_caseworker)
from .metrics.warmup import warmup_check          # warmup_check.csv (docs/model.md 4.2)
from .report.danish import write_danish_csv, write_danish_csvs      # Danish output: *_da.csv
from .report.excel import write_workbook          # Danish output: business_case.xlsx
from .report.followup import followup_frame, followup_table, forecast_frame, forecast_table
from .report.html import write_report
from .report.tables import budget_text
from .report.text import summary_text_full
from .runner import Results
from .store import (FolderTaken, base_dir, code_version, ensure_catalog, new_id, to_yaml, with_run_id, write_atomic,
                    write_row)


def results_dir(res: Results) -> Path:
    """The run's output.dir as a folder (relative paths from the project root)."""
    return base_dir(res.plan.arms[res.reference].output.dir)


def _run_id(res: Results) -> str:
    return new_id(res.reference.replace("+", "_"), res.plan.overrides, _dt.datetime.now())


def fill_run_folder(res: Results, folder: Path) -> None:
    """Write every file of a run folder into ``folder``: configs, tables, summary, figures, report. The
    catalog's tables are Parquet files carrying the run's id (``res.run_id``); the finance tables are
    written as CSV (for people) and Parquet (for the catalog)."""
    ref_cfg = res.plan.arms[res.reference]
    run_id = res.run_id
    with _figures(res, folder, ref_cfg) as drawing:      # drawn in run.workers processes meanwhile
        _write_tables(res, folder, ref_cfg, run_id)
        figures = drawing.wait() if drawing is not None else None
    if ref_cfg.output.report:
        write_report(res, folder / "report.html", figures_dir=folder / "figures" if figures is not None else None)


def _figures(res: Results, folder: Path, ref_cfg):
    """The drawing of the figures (report.plots.start_figures; run.workers processes), or a null context."""
    if not ref_cfg.output.figures:
        import contextlib
        return contextlib.nullcontext()
    from .report.plots import start_figures      # matplotlib: imported only when figures are drawn
    return start_figures(res, folder / "figures", jobs=ref_cfg.run.workers)


def _write_tables(res: Results, folder: Path, ref_cfg, run_id: str) -> None:
    """Configs, tables (Parquet, CSV), finance tables, warm-up and team checks, summary, workbook and Danish
    CSVs."""
    (folder / "configs").mkdir()
    (folder / "config.yaml").write_text(to_yaml(res.plan.tree))
    (folder / "configs" / "warmup.yaml").write_text(to_yaml(res.plan.warmup.model_dump(mode="json")))
    for arm, cfg in res.plan.arms.items():
        (folder / "configs" / f"{arm}.yaml").write_text(to_yaml(cfg.model_dump(mode="json")))
    (folder / "overrides.txt").write_text("\n".join(res.plan.overrides) + "\n")
    (folder / "code_version.txt").write_text(code_version() + "\n")
    tables = {"kpis": res.kpis, "timeseries": res.timeseries, "summary": res.summary, "comparison": res.comparison}
    for name, df in tables.items():
        with_run_id(df, run_id).to_parquet(folder / f"{name}.parquet", index=False)
    if ref_cfg.output.save_children:
        res.children.to_parquet(folder / "children.parquet", index=False)
    price_year = ref_cfg.costs.price_year            # the money of these tables: costs.price_year's prices
    finance = {"budget": budget(res), "budget_difference": budget_difference(res)}
    if not res.comparison.empty:
        finance |= {"payback": payback(res), "headroom": headroom(res)}
    finance = {name: df.assign(price_year=price_year) for name, df in finance.items()}
    if res.plan.caseload is not None:                # the forecast to the year's end from today's caseload
        finance["forecast"] = forecast_table(res)    # in the budget year's prices, as the follow-up
    if res.plan.budget is not None:                  # the budget follow-up, in the budget's prices
        finance["budget_followup"] = followup_table(res)
    for name, df in finance.items():
        df.to_csv(folder / f"{name}.csv", index=False)
        with_run_id(df, run_id).to_parquet(folder / f"{name}.parquet", index=False)
    warmup_check(res).to_csv(folder / "warmup_check.csv", index=False)     # the warm-up check (sim.metrics.warmup)
    team_check(res).to_csv(folder / "team_check.csv", index=False)     # does the team fit? (sim.metrics.plausible)
    (folder / "summary.txt").write_text(summary_text_full(res) + "\n" + budget_text(res))
    if ref_cfg.output.excel:                        # --- Danish output: workbook and *_da.csv for finance staff
        write_workbook(res, folder / "business_case.xlsx", language=ref_cfg.output.language)
        write_danish_csvs(res, folder, language=ref_cfg.output.language)    # --- end Danish output
        if res.plan.caseload is not None:
            write_danish_csv(forecast_frame(res, ref_cfg.output.language), folder / "forecast_da.csv")
        if res.plan.budget is not None:
            write_danish_csv(followup_frame(res, ref_cfg.output.language), folder / "budget_followup_da.csv")


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
    """Write the run folder - its files and its catalog row, run.json - and move it into place; returns the
    folder. Atomic: on any failure no folder is left, and the run is in the catalog exactly when its folder
    exists. ``sweep_id`` tags the run as a job of a sweep (``runs.sweep_id``). If another process took the
    same id meanwhile, the folder is written again under a new one."""
    base = results_dir(res)
    for attempt in range(5):
        run_id = _run_id(res)
        res.run_id = run_id                 # the report and the tables name their run

        def fill(folder: Path) -> None:
            fill_run_folder(res, folder)
            write_row(folder, "runs", catalog_row(res, run_id, base / run_id, sweep_id))

        try:
            final = write_atomic(base, run_id, fill)
            break
        except FolderTaken:
            if attempt == 4:
                res.run_id = None
                raise
        except BaseException:
            res.run_id = None
            raise
    res.run_dir = final
    ensure_catalog(base)                    # best effort: results.duckdb's views (they show the run already)
    return final
