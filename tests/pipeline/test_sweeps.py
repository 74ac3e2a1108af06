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
    ("run.seed=[1,", "overrides"),
])
def test_sweeps_that_cannot_be_expanded_are_one_line_errors(override, message):
    with pytest.raises(ConfigError) as e:
        expand_sweeps([override])
    assert message in str(e.value) and "\n" not in str(e.value)
