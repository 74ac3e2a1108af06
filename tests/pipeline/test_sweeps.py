"""Sweep expansion (Hydra's override grammar) and the keys a sweep varies."""
from __future__ import annotations

import pytest

from sim.cli import expand_sweeps, group_options
from sim.config import ConfigError
from sim.analyses.sweep import swept_keys


def test_lists_and_ranges_give_the_cartesian_product():
    jobs = expand_sweeps(["run.seed=range(1,3)", "casework.caseworkers=10,14", "run.replications=5"])
    assert jobs == [["run.seed=1", "casework.caseworkers=10", "run.replications=5"],
                    ["run.seed=1", "casework.caseworkers=14", "run.replications=5"],
                    ["run.seed=2", "casework.caseworkers=10", "run.replications=5"],
                    ["run.seed=2", "casework.caseworkers=14", "run.replications=5"]]
    assert swept_keys(jobs) == ["run.seed", "casework.caseworkers"]


def test_glob_sweeps_the_options_of_a_config_group():
    municipalities = group_options("municipality")
    assert {"average", "kolding", "hvidovre", "mariagerfjord"} <= set(municipalities)
    assert expand_sweeps(["municipality=glob(*)"]) == [[f"municipality={m}"] for m in municipalities]
    assert expand_sweeps(["municipality=glob(*,exclude=average)"]) == \
        [[f"municipality={m}"] for m in municipalities if m != "average"]
    assert ["scenario=kinship_first"] in expand_sweeps(["scenario=glob(k*)"])


@pytest.mark.parametrize("override,message", [
    ("run.seed=glob(*)", "'run.seed' is not one"),
    ("municipality=glob(zz*)", "matches none of average"),
    ("run.seed=interval(1,2)", "interval() is for optimising sweepers"),
    ("run.seed=[1,", "override 'run.seed=[1,': Hydra's override grammar cannot read the value ("),
    ("run.seed=range(1,1)", "run.seed=range(1,1): the sweep has no value"),           # (a traceback before)
    ("run.seed=range(5,1)", "run.seed=range(5,1): the sweep has no value"),
    ("run.seed=shuffle(range(2,2))", "the sweep has no value"),
    ("run.seed=range(1,3,0)", "range() arg 3 must not be zero; allowed: a list (a,b), range(start,stop[,step])"),
])
def test_sweeps_that_cannot_be_expanded_are_one_line_errors(override, message):
    with pytest.raises(ConfigError) as e:
        expand_sweeps([override])
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_large_sweep_shows_progress_while_its_jobs_are_validated(capsys):
    """Validating every job before any runs takes ~2 s a job (11 arms composed): a sweep over every municipality
    was silent for minutes. From CHECK_PROGRESS_FROM jobs a bar on stderr counts them, unless output.progress=false."""
    from sim.cli import CHECK_PROGRESS_FROM, _checking
    few = [[f"run.seed={i}"] for i in range(CHECK_PROGRESS_FROM - 1)]
    many = [[f"run.seed={i}"] for i in range(CHECK_PROGRESS_FROM)]
    assert _checking(few) is few
    assert _checking([job + ["output.progress=false"] for job in many])[0] == ["run.seed=0", "output.progress=false"]
    assert list(_checking(many)) == many
    assert f"checking {CHECK_PROGRESS_FROM} jobs before any runs" in capsys.readouterr().err


def test_a_sweep_of_one_job_is_a_sweep(tmp_path):
    """-m whose values expand to one job (a glob matching one municipality) ran as a plain run: no sweep folder,
    no sweep id in the catalog. Hydra's -m is a sweep whatever its size."""
    from sim.cli import main
    from sim.store import query
    out = tmp_path / "results"
    assert main(["-m", "municipality=glob(kol*)", "run.replications=2", "run.warmup_years=1", "run.horizon_years=1",
                 "compare=[]", "output.figures=false", "output.report=false", "output.excel=false",
                 "output.progress=false", f"output.dir={out}"]) == 0
    runs = query("SELECT municipality, sweep_id FROM runs", out)
    assert list(runs.municipality) == ["kolding"] and runs.sweep_id.notna().all()
    assert (out / "sweeps" / runs.sweep_id[0] / "summary.txt").exists()
