"""Shared helpers: small in-memory runs (nothing written) with fixed seeds."""
from __future__ import annotations

import subprocess
import sys

import pytest

from sim.config import plan
from sim.model import Model
from sim.model.params import compile_arm, compile_config
from sim.runner import execute
from sim.model.streams import replication_streams

QUICK = ["run.warmup_years=2", "run.horizon_years=2", "run.workers=1", "output.progress=false",
         "output.write=false", "output.figures=false", "output.report=false"]


def run_inline(overrides=(), replications=2, compare="[]"):
    """Run in memory with small settings; later overrides win."""
    ov = QUICK + [f"run.replications={replications}", f"compare={compare}"] + list(overrides)
    return execute(plan(ov), progress=False)


def one_model(overrides=(), replication=0):
    """Build and run a single Model, returning (model, RepResult)."""
    p = plan(QUICK + ["compare=[]"] + list(overrides))
    cfg = p.arms[p.reference]
    m = Model(compile_config(p.warmup), compile_arm(p.warmup, cfg), cfg.run.warmup_years, cfg.run.horizon_years,
              replication_streams(cfg.run.seed, replication))
    return m, m.run()


def horizon(res, kpi, scenario=None):
    """Per-replication horizon values of a KPI, as a numpy array ordered by replication."""
    k = res.kpis
    scenario = scenario or res.reference
    sel = k[(k.scenario == scenario) & (k.period == "horizon") & (k.kpi == kpi)].sort_values("replication")
    return sel["value"].to_numpy()


@pytest.fixture
def tmp_results(tmp_path):
    return tmp_path / "results"


def assert_cli_input_error(tmp_path, args, message):
    """`python -m sim *args` with output.dir under tmp_path: exit 2, one line naming `message`, nothing written."""
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", *args, f"output.dir={out}"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not out.exists()
