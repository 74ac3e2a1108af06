"""Bad input, by category (the audit of 112 bad inputs): every one is refused by ``plan``/``validate`` with one
line naming the key (or file:line), the value and what is allowed - before anything runs.

The categories are tested as categories where the schema allows it (every number of the default configuration
is tried with true and with inf), and by examples elsewhere. CLI-level checks (exit 2, nothing written,
Ctrl-C, killed workers) are in tests/pipeline/test_cli_faults.py.
"""
from __future__ import annotations

import copy
import importlib
import math
import re
import uuid
from contextlib import contextmanager

import pytest

import sim
from sim.api import calibrate, sensitivity, simulate, uncertainty
from sim.config import CONF_DIR, SCENARIO_DIR, ConfigError, compose_tree, plan, validate
from sim.config.compose import StrictLoader, suggest, yaml_problem
from sim.config.schema import MAX_REPLICATIONS, bool_for_number, max_workers

DEFAULT_TREE = compose_tree(["compare=[]"])
plan_module = importlib.import_module("sim.config.plan")       # (sim.config.plan is also the function)


def refused(overrides) -> str:
    """The one-line message ``plan(overrides)`` refuses them with."""
    with pytest.raises(ConfigError) as err:
        plan(overrides)
    msg = str(err.value)
    assert "\n" not in msg and msg.strip() == msg, msg
    return msg


def refused_tree(tree: dict) -> str:
    """The one-line message ``validate(tree)`` refuses it with."""
    with pytest.raises(ConfigError) as err:
        validate(tree)
    msg = str(err.value)
    assert "\n" not in msg, msg
    return msg


# --------------------------------------------------------------------------- numbers: finite, never true/false

def leaves(tree, keep, path=""):
    """(dotted path, value) of every leaf of a composed tree that ``keep(value)`` (list items as path[i])."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from leaves(v, keep, f"{path}.{k}" if path else str(k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from leaves(v, keep, f"{path}[{i}]")
    elif keep(tree):
        yield path, tree


def numeric_leaves(tree):
    """(dotted path, value) of every number in a composed tree."""
    return leaves(tree, lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))


def bool_leaves(tree):
    """(dotted path, value) of every true/false in a composed tree."""
    return leaves(tree, lambda v: isinstance(v, bool))


def with_leaf(tree: dict, path: str, value) -> dict:
    """A deep copy of ``tree`` with the leaf at ``path`` (as from numeric_leaves) set to ``value``."""
    out = copy.deepcopy(tree)
    parts = path.replace("[", ".[").split(".")
    node = out
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    last = parts[-1]
    if last.startswith("["):
        node[int(last[1:-1])] = value
    else:
        node[last] = value
    return out


LEAVES = list(numeric_leaves(DEFAULT_TREE))


def test_the_default_configuration_has_many_numbers():
    assert len(LEAVES) > 150          # the tests below cover every one of them


@pytest.mark.parametrize("flag", [True, False])
def test_true_or_false_is_refused_for_every_number(flag):
    """pydantic reads true as 1: every number of the configuration must refuse it, naming the key."""
    accepted = []
    for path, _ in LEAVES:
        try:
            validate(with_leaf(DEFAULT_TREE, path, flag))
            accepted.append(path)
        except ConfigError as err:
            assert f"{path} = {str(flag).lower()}: allowed: a number" in str(err), str(err)
    assert not accepted, f"true/false accepted as a number at: {accepted}"


def test_quoted_text_is_refused_for_every_number_and_every_true_or_false():
    """pydantic reads '3' as 3 and 'true' as True (and the run's config.yaml then records the text): every
    number and every true/false of the configuration must refuse text, naming the key and what is meant."""
    accepted = []
    for path, value in LEAVES + list(bool_leaves(DEFAULT_TREE)):
        text = str(value).lower() if isinstance(value, bool) else str(value)
        try:
            validate(with_leaf(DEFAULT_TREE, path, text))
            accepted.append(path)
        except ConfigError as err:
            meant = "true or false" if isinstance(value, bool) else "a number"
            assert f"{path} = {text!r}: allowed: {meant}, without quotes" in str(err), str(err)
    assert len(list(bool_leaves(DEFAULT_TREE))) >= 5
    assert not accepted, f"quoted text accepted at: {accepted}"


def test_quoted_numbers_on_the_command_line_are_refused():
    assert refused(["run.seed='3'"]) == "run.seed = '3': allowed: a number, without quotes (this is text)"
    assert refused(["output.figures='true'"]) == ("output.figures = 'true': allowed: true or false, without "
                                                  "quotes (this is text)")
    assert refused(["detection.rate_per_year.mild='0.3'"]).startswith("detection.rate_per_year.mild = '0.3': ")


@pytest.mark.parametrize("override,problem", [
    ("", "empty"), ("   ", "empty"), ("=1", "no key before '='"), ("+=1", "no key before '='"),
    ("run.seed", "no '=' and no value"),
])
def test_an_override_without_a_key_or_value_says_so(override, problem):
    assert refused([override]).startswith(f"override {override!r}: {problem}; allowed: key=value")
    with pytest.raises(ConfigError, match="allowed: key=value"):
        simulate([override], write=False)


@pytest.mark.parametrize("override,quoted", [
    ("output.dir=/tmp/Økonomi/runs", 'output.dir="/tmp/Økonomi/runs"'),     # a Danish folder name
    ("output.dir=/tmp/it's", 'output.dir="/tmp/it\'s"'),
    ("output.dir=/tmp/a#b", 'output.dir="/tmp/a#b"'),
])
def test_a_value_hydra_reads_only_in_quotes_gets_its_quoted_form(override, quoted, tmp_path):
    """Hydra's lexer said only 'LexerNoViableAltException: <the override>'; the message now says why and gives
    the quoted form, which is then accepted - from the API and from a sweep on the command line alike."""
    message = refused([override])
    assert message.startswith(f"override {override!r}: Hydra's override grammar cannot read the value unquoted")
    assert f"e.g. {quoted}" in message
    accepted = quoted.replace("/tmp/", str(tmp_path) + "/")
    assert plan(["compare=[]", accepted]).arms["baseline"].output.dir.startswith(str(tmp_path))
    from sim.cli import expand_sweeps
    with pytest.raises(ConfigError, match="e.g. output.dir="):
        expand_sweeps(["run.seed=1,2", override])
    assert len(expand_sweeps(["run.seed=1,2", accepted])) == 2


@pytest.mark.parametrize("override", ["compare=[full_shift", "run.seed=(1", "staircase.steps={a: 1"])
def test_unmatched_brackets_are_named_as_such(override):
    message = refused([override])
    assert message.startswith(f"override {override!r}: Hydra's override grammar cannot read the value (")
    assert "brackets [ ], braces { } and parentheses ( ) that match" in message


def test_an_empty_output_dir_is_refused():
    """It would resolve to the project's own folder and write the run there."""
    for given, value in (("output.dir=", ""), ("output.dir=''", ""), ("output.dir='  '", "  ")):
        assert refused([given]).startswith(f"output.dir = {value!r}: allowed: a folder")


@pytest.mark.parametrize("name,value", [("write", "yes"), ("write", 1), ("progress", "no")])
def test_the_api_refuses_flags_that_are_not_true_false_or_none(name, value):
    with pytest.raises(ConfigError, match=rf"^{name} = {value!r}: allowed: True, False or None"):
        simulate(["compare=[]"], **{name: value})


@pytest.mark.parametrize("inf_or_nan", [math.inf, -math.inf, math.nan])
def test_inf_and_nan_are_refused_for_every_number(inf_or_nan):
    bad = inf_or_nan
    accepted = []
    for path, _ in LEAVES:
        try:
            validate(with_leaf(DEFAULT_TREE, path, bad))
            accepted.append(path)
        except ConfigError as err:
            key = path.replace("[", ".").replace("]", "")
            assert key in str(err) or path in str(err), (path, str(err))
    assert not accepted, f"{bad} accepted at: {accepted}"


NUMBERS = [
    # inf where a finite number is meant: a cost, a rate (dict), intervals, a tilt
    (["staircase.steps.foster_care.cost_per_year_dkk=inf"],
     "staircase.steps.foster_care.cost_per_year_dkk = inf: allowed: a finite number"),
    (["need.recovery_rate_per_year.mild=inf"], "need.recovery_rate_per_year.mild = inf: allowed: a finite number"),
    (["casework.followup_interval_days=inf"], "casework.followup_interval_days = inf: allowed: a finite number"),
    (["staircase.steps.residential.followup_interval_days=inf"],
     "staircase.steps.residential.followup_interval_days = inf: allowed: a finite number"),
    (["staircase.steps.residential.max_duration_days=[100,inf]"], "staircase.steps.residential.max_duration_days"),
    (["costs.caseworker_cost_per_year_dkk=nan"], "costs.caseworker_cost_per_year_dkk = nan: allowed: a finite number"),
    # true/false for a number: plain, optional, in a mapping, in a pair
    (["run.replications=true"], "run.replications = true: allowed: a number"),
    (["costs.discount_rate_per_year=false"], "costs.discount_rate_per_year = false: allowed: a number"),
    (["need.onset_rate_per_year.age_0_5=true"], "need.onset_rate_per_year.age_0_5 = true: allowed: a number"),
    (["staircase.steps.foster_care.capacity=true"], "staircase.steps.foster_care.capacity = true: allowed: a number"),
    (["staircase.steps.residential.max_duration_days=[true,100]"],
     "staircase.steps.residential.max_duration_days[0] = true: allowed: a number"),
    (["staircase.matching.mild.early.early_preventive=true"],
     "staircase.matching.mild.early.early_preventive = true: allowed: a number"),
    # a follow-up or a course shorter than a day (the run would never end)
    (["casework.followup_interval_days=0.001"], "casework.followup_interval_days = 0.001"),
    (["staircase.steps.residential.max_duration_days=[0.01,0.01]"], "staircase.steps.residential.max_duration_days"),
]


@pytest.mark.parametrize("overrides,message", NUMBERS)
def test_numbers_must_be_finite_numbers(overrides, message):
    assert message in refused(overrides)


def test_bool_for_number_finds_true_where_a_number_is_meant():
    from typing import Optional
    assert bool_for_number(True, int) == ("", True)
    assert bool_for_number(True, bool) is None
    assert bool_for_number(True, Optional[float]) == ("", True)
    assert bool_for_number({"a": 1.0, "b": False}, dict[str, float]) == (".b", False)
    assert bool_for_number([1.0, True], tuple[float, float]) == ("[1]", True)
    assert bool_for_number({"x": {"y": True}}, dict[str, dict[str, float]]) == (".x.y", True)
    assert bool_for_number(["a", True], list[str]) is None


def test_legitimately_unbounded_settings_use_null_not_inf():
    for path in sorted(CONF_DIR.rglob("*.yaml")) + sorted(SCENARIO_DIR.glob("*.yaml")):
        text = path.read_text().lower()
        assert ".inf" not in text and ": inf" not in text, f"{path}: use null for an unbounded setting"


# --------------------------------------------------------------------------- facts across fields

CROSS = [
    (["municipality.children_0_17=100000"], "municipality.children_0_17 = 100000: children 0-17"),
    (["municipality.young_18_22=60000"], "allowed: children_0_17 + young_18_22 <= population"),
    (["staircase.steps.foster_care.order=17"], "staircase.steps.foster_care.order = 17: allowed: the 7 steps have "
                                               "the orders 0, 1, ..., 6, each once"),
    (["staircase.steps.foster_care.order=4"], "allowed: the 7 steps have the orders 0, 1, ..., 6, each once"),   # twice 4
    (["staircase.steps.universal.order=7", "staircase.steps.residential.order=0"],
     "staircase.steps.universal.order = 7: the ground step must have order 0"),
    (["casework.triage.low_levels=[none,mid]"], "casework.triage.low_levels[1] = 'mid': unknown need level; allowed: "
                                                "none, mild, moderate, serious, severe"),
    (["casework.triage.low_levels=[mild,serious]"], "casework.triage.low_levels[1] = 'serious': a level at risk"),
    # a team larger than the municipality's 0-22-year-olds (16,400 in the average profile); other profiles below
    (["casework.caseworkers=1000000000"], "casework.caseworkers = 1000000000: allowed: at most 16,400 FTE, the "
                                          "children and young people aged 0-22 of municipality 'average'"),
    (["casework.hire_caseworkers=16387"], "casework.hire_caseworkers = 16387: allowed: at most 16,400 FTE"),
    (["casework.hire_caseworkers_share=2000"], "casework.hire_caseworkers_share = 2000.0: allowed: at most 16,400 FTE"),
    (["casework.staffing.max_caseworkers=16401"], "casework.staffing.max_caseworkers = 16401: allowed: at most 16,400"),
    (["municipality=middelfart", "casework.caseworkers=10301"], "casework.caseworkers = 10301: allowed: at most 10,300 "
                                                                "FTE, the children and young people aged 0-22 of "
                                                                "municipality 'middelfart'"),
]


@pytest.mark.parametrize("overrides,message", CROSS)
def test_cross_field_facts(overrides, message):
    assert message in refused(overrides)


def test_the_largest_team_the_municipality_allows_is_accepted():
    """The bound on the team is its limit, not below it: exactly the 0-22-year-olds, reached by hiring too."""
    plan(["casework.caseworkers=16400", "compare=[]"])
    plan(["casework.hire_caseworkers=16386", "compare=[]"])           # 14 + 16,386
    plan(["casework.hire_caseworkers_share=0.5", "casework.staffing.max_caseworkers=16400", "compare=[]"])


def test_steps_may_be_reordered_if_the_orders_stay_0_to_n_minus_1():
    plan(["compare=[]", "staircase.steps.kinship_care.order=5", "staircase.steps.foster_care.order=4"])


def test_a_staircase_without_steps_says_so():
    tree = copy.deepcopy(DEFAULT_TREE)
    tree["staircase"]["steps"] = {}
    assert refused_tree(tree) == "staircase.steps = {}: needs at least one step besides the ground step"
    tree["staircase"]["steps"] = {"universal": DEFAULT_TREE["staircase"]["steps"]["universal"]}
    assert refused_tree(tree) == ("staircase.steps = {universal: ...}: needs at least one step besides the "
                                  "ground step")


def test_no_age_groups_is_an_error_not_a_crash():
    tree = copy.deepcopy(DEFAULT_TREE)
    tree["need"]["age_groups"] = {}
    assert refused_tree(tree).startswith("need.age_groups = {}")


# --------------------------------------------------------------------------- the size of the experiment

CAPS = [
    (["run.replications=1000000000"], "run.replications = 1000000000: allowed: at most 10,000 (the intervals"),
    (["run.warmup_years=100000"], "run.warmup_years = 100000.0: allowed: at most 100 (after 23 years"),
    (["run.horizon_years=51"], "run.horizon_years = 51: allowed: at most 50"),
    (["run.workers=1000000"], f"run.workers = 1000000: allowed: at most {max_workers()} (4 worker processes per CPU"),
    (["run.seed=9223372036854775808"], "run.seed = 9223372036854775808: allowed: at most 9,223,372,036,854,775,807"),
    (["implementation.ramp_months=100000"], "implementation.ramp_months = 100000: allowed: at most 600"),
    (["municipality.population=100000000"], "municipality.population = 100000000: allowed: at most 6,000,000"),
    (["uncertainty.samples=100000000"], "uncertainty.samples = 100000000: allowed: at most 10,000"),
    (["sensitivity.replications=100000000"], "sensitivity.replications = 100000000: allowed: at most 10,000"),
    (["calibration.max_evaluations=100000000"], "calibration.max_evaluations = 100000000: allowed: at most 1,000"),
    (["staircase.steps.residential.breakdown_rate_per_year=1e6"],
     "staircase.steps.residential.breakdown_rate_per_year = 1000000.0: allowed: at most 365"),
    (["detection.rate_per_year.mild=1e6"], "detection.rate_per_year.mild = 1000000.0: allowed: at most 365"),
]


@pytest.mark.parametrize("overrides,message", CAPS)
def test_the_size_of_a_run_is_bounded_with_a_reason(overrides, message):
    msg = refused(overrides)
    assert message in msg
    assert msg.endswith(")")          # the reason, in brackets


def test_the_bounds_themselves_are_allowed():
    run = {"replications": MAX_REPLICATIONS, "warmup_years": 100, "horizon_years": 50, "workers": max_workers()}
    validate({**DEFAULT_TREE, "run": {**DEFAULT_TREE["run"], **run}})


def test_a_run_whose_tables_would_not_fit_in_memory_is_refused(monkeypatch):
    monkeypatch.setattr(plan_module, "memory_gb", lambda: 0.5)
    msg = refused(["run.replications=20"])         # 11 arms x 20 x 4 years x 0.5 MB = 0.44 GB > 0.25 GB
    assert msg.startswith("run.replications = 20: 11 arm(s) x 20 replications x 4 years would hold about")
    assert "allowed: at most half of this machine's memory" in msg
    plan(["run.replications=20", "compare=[]"])    # one arm fits


# --------------------------------------------------------------------------- messages

def test_a_missing_option_names_the_group_not_the_overrides():
    msg = refused(["run.seed=1", "output.figures=false", "municipality=xyz"])
    assert msg == "municipality = 'xyz': unknown option; available: " + ", ".join(
        sorted(p.stem for p in (CONF_DIR / "municipality").glob("*.yaml")))
    msg = refused(["run.seed=1", "scenario=xyz"])
    assert msg.startswith("scenario = 'xyz': unknown option; available: baseline, ")
    assert "run.seed" not in msg


@pytest.mark.parametrize("overrides,meant", [
    (["casework.overload.min_work_shar=0.5"], "casework.overload.min_work_share"),       # Hydra: no such key
    (["+casework.overload.min_work_shar=0.5"], "casework.overload.min_work_share"),      # added: the schema refuses
    (["casework.overlod.min_work_share=0.5"], "casework.overload.min_work_share"),       # the group misspelled
    (["need.onset_rate_per_year.age_0_6=0.1"], "need.onset_rate_per_year.age_0_5"),      # inside a mapping
    (["+staircase.steps.residential.cost_per_yer_dkk=5"], "staircase.steps.residential.cost_per_year_dkk"),
])
def test_a_misspelled_key_suggests_its_sibling_not_its_parent(overrides, meant):
    assert refused(overrides).endswith(f"did you mean {meant}?")


@pytest.mark.parametrize("override,key,rest", [
    ("detection.rate_per_year={mild: 0.3, bogus: 1}", "detection.rate_per_year.bogus = 1",
     "the keys under detection.rate_per_year are mild, moderate, serious, severe"),
    ("casework.triage={low_levels: [none], risk_levls: [severe]}", "casework.triage.risk_levls = ['severe']",
     "did you mean casework.triage.risk_levels?"),
])
def test_a_misspelled_key_inside_a_mapping_value_is_named(override, key, rest):
    """A mapping given as the value of a key: the misspelled key inside it is named, not the key it was given for."""
    msg = refused([override])
    assert msg.startswith(f"{key}: unknown key") and msg.endswith(rest), msg


def test_no_close_key_lists_the_keys_beside_it():
    msg = refused(["need.onset_rate_per_year.child=0.1"])
    assert msg.endswith("the keys under need.onset_rate_per_year are age_0_5, age_6_12, age_13_17")


def test_suggest():
    tree = {"a": {"bb": {"ccc": 1, "ddd": 2}}, "e": 1}
    assert suggest("a.bb.ccd", tree) == "; did you mean a.bb.ccc?"
    assert suggest("a.bbb.ccc", tree) == "; did you mean a.bb.ccc?"
    assert suggest("e.f", tree) == "; e is a single value, not a group of keys"
    assert suggest("a.bb.zzzzzz", tree) == "; the keys under a.bb are ccc, ddd"


# --------------------------------------------------------------------------- YAML files

INFO = ("scenario_info:\n  {name}:\n    description: test\n    sources: ['[001]']\n"
        "    investment: {{one_off_dkk: 0, yearly_dkk: 0, notes: ''}}\n")


@contextmanager
def dropped(folder, text_of):
    """A YAML file zz_test_<random>.yaml in ``folder`` with ``text_of(stem)``, removed afterwards."""
    path = folder / f"zz_test_{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(text_of(path.stem))
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


SCENARIO_FILES = [
    (lambda n: "# @package _global_\n" + INFO.format(name=n) + "casework:\n  decision_delay_days: 1\n"
     "  decision_delay_days: 2\n", ":9:3: found duplicate key 'decision_delay_days' (first at line 8)"),
    (lambda n: "# @package _global_\n" + INFO.format(name=n) + "casework:\n  decision_delay_days: [1, 2\n",
     ":9:1: expected ',' or ']'"),
    (lambda n: "# @package _global_\n" + INFO.format(name=n) + "casework:\n\tdecision_delay_days: 1\n",
     ":8:1: found character '\\t' that cannot start any token"),
    (lambda n: "# @package _global_\n" + INFO.format(name="other_name") + "casework:\n  decision_delay_days: 1\n",
     ": scenario_info.other_name: not this file's name; allowed: scenario_info.{stem} only"),
    (lambda n: "# @package _global_\ncasework:\n  decision_delay_days: 1\n", ": scenario_info.{stem}: missing"),
]


@pytest.mark.parametrize("text_of,problem", SCENARIO_FILES)
def test_a_broken_scenario_file_is_one_line_with_its_file_and_line(text_of, problem):
    with dropped(SCENARIO_DIR, text_of) as path:
        where = f"scenarios/{path.name}"
        for overrides in ([f"scenario={path.stem}"], [f"compare=[{path.stem}]"], [f"scenario=[baseline,{path.stem}]"]):
            msg = refused(overrides)
            assert msg.startswith(where + problem.format(stem=path.stem)), msg
        plan(["compare=[]"])             # a broken file that is not used does not stop other runs


@pytest.mark.parametrize("folder,base,edit,problem", [
    ("municipality", "average.yaml", lambda t: t.replace("municipality:\n", "municipality:\n  population: 5\n", 1),
     ":3: found duplicate key 'population' (first at line 4); a key may be given only once in a mapping"),
    ("municipality", "average.yaml", lambda t: t.replace("name: average", "name: 'average"), ":"),
    ("staircase", "default.yaml", lambda t: t + "  when_full: wait\n", "found duplicate key 'when_full'"),
    ("staircase", "default.yaml", lambda t: t.replace("      order: 3 ", "      order: 3\n      order: 3 ", 1),
     "found duplicate key 'order'"),
])
def test_a_broken_group_file_is_one_line_with_its_file_and_line(folder, base, edit, problem):
    with dropped(CONF_DIR / folder, lambda n: edit((CONF_DIR / folder / base).read_text())) as path:
        msg = refused([f"{folder}={path.stem}", "compare=[]"])
        assert msg.startswith(f"conf/{folder}/{path.name}:") and problem in msg, msg


def test_yaml_problem_is_one_line():
    import yaml
    with pytest.raises(yaml.YAMLError) as err:
        yaml.load("a:\n  b: 1\n  b: 2\n", Loader=StrictLoader)
    assert yaml_problem(err.value, "x.yaml") == ("x.yaml:3:3: found duplicate key 'b' (first at line 2); a key may "
                                                  "be given only once in a mapping")


# --------------------------------------------------------------------------- the API

@pytest.mark.parametrize("entry", [sim.simulate, sim.plan, sim.calibrate, simulate, calibrate, sensitivity,
                                   uncertainty, compose_tree])
@pytest.mark.parametrize("given,message", [
    ("run.seed=1", """overrides = 'run.seed=1': must be a list of 'key=value' strings, e.g. ["run.seed=1"]"""),
    (None, """overrides = None: must be a list of 'key=value' strings, e.g. ["run.seed=1"]"""),
    (3, "overrides = 3: must be a list of 'key=value' strings"),
    (["run.seed=1", None], "overrides = ['run.seed=1', None]: every entry must be a 'key=value' string; None is not"),
])
def test_the_api_refuses_overrides_that_are_not_a_list_of_strings(entry, given, message):
    with pytest.raises(ConfigError) as err:
        entry(given)
    assert str(err.value) == message if not message.endswith("strings") else str(err.value).startswith(message)


def test_the_api_refuses_bad_arm_overrides():
    with pytest.raises(ConfigError, match=r"arm_overrides\['baseline'\] = 'run.seed=1': must be a list"):
        plan(["compare=[]"], {"baseline": "run.seed=1"})


def test_the_api_checks_output_dir_before_simulating(tmp_path, monkeypatch):
    import sim.api
    monkeypatch.setattr(sim.api, "execute", lambda *a, **k: pytest.fail("simulated before output.dir was checked"))
    taken = tmp_path / "a_file"
    taken.write_text("not a folder")
    with pytest.raises(ConfigError) as err:
        simulate(["compare=[]", f"output.dir={taken}"])
    assert str(err.value).startswith(f"output.dir = '{taken}': ") and "\n" not in str(err.value)


@pytest.mark.parametrize("override,allowed", [
    ("staircase.steps.kinship_care.max_duration_days=-5", "allowed: a pair of numbers in brackets, e.g. [30, 90]"),
    ("staircase.steps.kinship_care.max_duration_ages=abc", "allowed: a pair of numbers in brackets"),
    ("need.outcome_weights=3", "allowed: a mapping of keys to values"),
    ("run.replications=2.5", "allowed: a whole number"),
    ("output.figures=maybe", "allowed: true or false"),
])
def test_a_value_of_the_wrong_type_says_what_the_key_allows(override, allowed):
    """pydantic's type messages name only what is wrong ('Input should be a valid tuple'): the line adds what the
    key allows (held-out audit: max_duration_days=-5 said only 'valid tuple')."""
    msg = refused(["compare=[]", override])
    assert override.split("=")[0] in msg and allowed in msg, msg


# --------------------------------------------------------------------------- the shape of a value: mapping, list

def cli_refused(argv, tmp_path, capsys) -> str:
    """The one line ``python -m sim <argv>`` refuses them with (exit 2, nothing written in output.dir)."""
    from sim.cli import main
    out = tmp_path / "out"
    code = main([*argv, f"output.dir={out}", "output.progress=false", "run.replications=2", "run.horizon_years=1",
                 "run.warmup_years=1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert not out.exists() or not [p for p in out.iterdir() if p.name != "results.duckdb"], list(out.iterdir())
    return err.strip()[len("error: "):]


@pytest.mark.parametrize("argv,message", [
    (["compare={a:1}"], "compare = '{a:1}': a mapping where a list is meant; allowed: a list in brackets, e.g. ["),
    (["staircase.steps.residential=[1,2]", "compare=[]"],
     "staircase.steps.residential = '[1,2]': a list where a mapping is meant; allowed: a mapping of keys to values, "
     "e.g. {order: ...}; or one key at a time: staircase.steps.residential.order=..."),
    (["staircase.steps=[]", "compare=[]"], "staircase.steps = '[]': a list where a mapping is meant; allowed: a "
                                           "mapping of keys to values"),
    (["+staircase.steps=[]", "compare=[]"], "staircase.steps = '[]': a list where a mapping is meant"),
    (["sensitivity.parameters={key:x}", "--sensitivity", "compare=[kinship_first]"],
     "sensitivity.parameters = '{key:x}': a mapping where a list is meant; allowed: a list in brackets, e.g. "
     "[{key: ..., low: ..., high: ...}] ([] for none)"),
    (["calibration.joint={parameter:x}", "--calibrate"],
     "calibration.joint = '{parameter:x}': a mapping where a list is meant; allowed: a list in brackets"),
    (["scenario_info=[1]", "compare=[]"], "scenario_info = '[1]': a list where a mapping is meant"),
])
def test_a_value_of_the_wrong_shape_names_the_key_and_the_shape_it_allows(argv, message, tmp_path, capsys):
    """Hydra said only 'Error merging override <o>': the key, the value and the shape of the key's default."""
    msg = cli_refused(argv, tmp_path, capsys)
    assert msg.startswith(message), msg
    assert "Error merging" not in msg


def test_what_a_key_allows_follows_the_type_of_its_default():
    from sim.config.compose import shape_allowed
    assert shape_allowed({"a": 1}, "k").startswith("a mapping of keys to values, e.g. {a: ...}; or one key at a "
                                                   "time: k.a=...")
    assert shape_allowed([1, 2, 3], "k") == "a list in brackets, e.g. [1, 2, ...] ([] for none)"
    assert shape_allowed(True, "k") == "true or false"
    assert shape_allowed(2.5, "k") == "a number"
    assert shape_allowed("x", "k") == "text"


SCENARIO_SHAPES = [
    (lambda n: "# @package _global_\n" + INFO.format(name=n) + "investment: [0, 0]\nstaircase: {steps: [1, 2]}\n",
     ":8: staircase.steps = [1, 2]: a list where a mapping is meant; allowed: a mapping of keys to values (key: "
     "value, one per line in YAML)"),
    (lambda n: "# @package _global_\n" + INFO.format(name=n) + "staircase:\n  steps:\n    residential: [1, 2]\n",
     ":9: staircase.steps.residential = [1, 2]: a list where a mapping is meant"),
    (lambda n: "# @package _global_\n" + INFO.format(name=n) + "compare: {a: 1}\n",
     ":7: compare = {a: 1}: a mapping where a list is meant; allowed: a list in brackets"),
    # a key or value the schema refuses: the file and line of the scenario that sets it, in front
    (lambda n: "# @package _global_\n" + INFO.format(name=n) + "casework:\n  followup_intervl_days: 122\n",
     ":8: casework.followup_intervl_days = 122: unknown key (unknown keys are not allowed); did you mean "
     "casework.followup_interval_days?"),
    (lambda n: "# @package _global_\n" + INFO.format(name=n) + "investment: [0, 0]\n",
     ":7: investment = [0, 0]: unknown key"),
    (lambda n: "# @package _global_\n" + INFO.format(name=n) + "casework:\n  followup_interval_days: -5\n",
     ":8: casework.followup_interval_days = -5: "),
]


@pytest.mark.parametrize("text_of,problem", SCENARIO_SHAPES)
def test_a_scenario_file_with_a_wrong_value_names_the_file_line_and_key(text_of, problem):
    """Hydra said "In 'scenario/x': ConfigTypeError raised while composing config:" and nothing more; a key the
    schema refused was named without its file."""
    with dropped(SCENARIO_DIR, text_of) as path:
        for overrides in ([f"scenario={path.stem}", "compare=[]"], [f"compare=[{path.stem}]"],
                          [f"compare=[kinship_first+{path.stem}]"]):
            msg = refused(overrides)
            assert msg.startswith(f"scenarios/{path.name}{problem}"), msg


def test_a_key_the_user_overrides_is_not_blamed_on_a_scenario_file():
    text_of = lambda n: "# @package _global_\n" + INFO.format(name=n) + "casework:\n  followup_interval_days: 30\n"
    with dropped(SCENARIO_DIR, text_of) as path:
        msg = refused([f"scenario={path.stem}", "compare=[]", "casework.followup_interval_days=-5"])
        assert msg.startswith("casework.followup_interval_days = -5: "), msg


# --------------------------------------------------------------------------- config groups: one option name

@pytest.mark.parametrize("override,message", [
    ("run=[1,2]", "run = '[1,2]': a config group takes the name of one of its options, not a list; available: "
                  "default; to set a key in it: run."),
    ("casework={caseworkers:[1,2]}", "casework = '{caseworkers:[1,2]}': a config group takes the name of one of "
                                     "its options, not a mapping; available: default; to set a key in it: "
                                     "casework.caseworkers=[1,2] (one override per key)"),
    ("municipality=[average,kolding]", "municipality = '[average,kolding]': a config group takes the name of one "
                                       "of its options, not a list; available: average, "),
    ("scenario={a: 1}", "scenario = '{a: 1}': a config group takes the name of a scenario, or a list of scenarios "
                        "to combine (scenario=[a,b]), not a mapping; available: baseline, "),
    ("scenario=[kinship_first,kinship_first]", "scenario = '[kinship_first,kinship_first]': 'kinship_first' is "
                                               "given twice; allowed: each scenario once in a combination"),
])
def test_a_config_group_takes_an_option_name_not_a_list_or_mapping(override, message):
    """'run=[1,2]' said "run = '1': unknown option" (the first element only); a mapping said 'unknown option'."""
    assert refused([override, "compare=[]"]).startswith(message)


# --------------------------------------------------------------------------- scenario names: æ, ø, å

@contextmanager
def scenario_named(stem: str, body: str = "casework:\n  decision_delay_days: 1\n"):
    """A valid scenario file scenarios/<stem>.yaml (a name a planner may give it), removed afterwards."""
    path = SCENARIO_DIR / f"{stem}.yaml"
    path.write_text("# @package _global_\n" + INFO.format(name=stem) + body, encoding="utf-8")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def test_a_scenario_named_with_danish_letters_can_be_selected_in_every_form(tmp_path):
    """It was listed but could not be selected: unquoted, Hydra's grammar cannot read æ; the suggested quoted form
    was text, not a list; the per-arm override the program built was unreadable; a quoted scenario= was 'unknown'."""
    name = f"zz_omstilling_æøå_{uuid.uuid4().hex[:6]}"
    with scenario_named(name):
        for overrides in ([f"compare=[{name}]"], [f"compare=['{name}']"], [f'compare=["{name}"]']):
            p = plan(overrides)
            assert list(p.arms) == ["baseline", name], overrides
            assert p.arms[name].casework.decision_delay_days == 1
        for given in (name, f"'{name}'", f'"{name}"', f"[kinship_first,{name}]"):
            p = plan([f"scenario={given}", "compare=[]"])
            assert p.reference == (name if "[" not in given else f"kinship_first+{name}"), given
            assert p.arms[p.reference].casework.decision_delay_days == 1
        assert list(plan([f"compare=[kinship_first+{name}]"]).arms) == ["baseline", f"kinship_first+{name}"]
        from sim.cli import expand_sweeps
        assert len(expand_sweeps([f"compare=[{name}]", "run.seed=1,2"])) == 2
        # a sweep's choices name it too (the re-check: '-m scenario=baseline,<name>' was 'unknown option')
        for sweep, want in ((f"scenario=baseline,{name}", [["scenario=baseline"], [f"scenario={name}"]]),
                            (f"scenario=choice({name},baseline)", [[f"scenario={name}"], ["scenario=baseline"]]),
                            (f"compare=[kinship_first],[{name}]", [["compare=[kinship_first]"], [f"compare=[{name}]"]])):
            jobs = expand_sweeps([sweep])
            assert [[o.replace("'", "") for o in j] for j in jobs] == want, (sweep, jobs)
            for job in jobs:
                plan(job + (["compare=[]"] if job[0].startswith("scenario") else []))


def test_a_scenario_file_name_that_cannot_be_selected_says_which_characters_are_allowed(capsys):
    name = f"zz test {uuid.uuid4().hex[:6]}"
    with scenario_named(name):
        msg = refused([f"scenario='{name}'", "compare=[]"])
        assert msg.startswith(f"scenarios/{name}.yaml: the file name {name!r} cannot name a scenario"), msg
        assert "allowed: letters (æ, ø, å too), digits, '_' and '-'" in msg
        from sim.cli import main
        assert main(["--list-scenarios"]) == 0
        listed = capsys.readouterr().out.splitlines()
        assert f"{name}  (cannot be selected: a scenario's file name takes letters (æ, ø, å too), digits, '_' and " \
               f"'-')" in listed
        assert "kinship_first" in listed


# --------------------------------------------------------------------------- compare: each arm once

@pytest.mark.parametrize("compare,message", [
    ("[kinship_first,kinship_first]", "compare = ['kinship_first', 'kinship_first']: 'kinship_first' is given "
                                      "twice; allowed: each arm once"),
    ("[kinship_first+kinship_first]", "compare = ['kinship_first+kinship_first']: the arm "
                                      "'kinship_first+kinship_first' names 'kinship_first' twice; allowed: each "
                                      "scenario once in an arm"),
    ("[full_shift,kinship_first+frequent_followup,full_shift]", "'full_shift' is given twice"),
])
def test_an_arm_given_twice_is_refused_not_silently_dropped(compare, message):
    """compare=[kinship_first,kinship_first] ran one arm without a word (held-out audit, DOUBTFUL 10)."""
    assert message in refused([f"compare={compare}"])


# --------------------------------------------------------------------------- the municipality's files

BUDGET_HEADER = "measure,count,unit_price_dkk\n"


@pytest.mark.parametrize("name,content,message", [
    ("b.csv", BUDGET_HEADER + "foster_care,10,400000\nresidential,2,1,230\n",
     ": line 3 has 4 cells, the header 3 (',' between the cells; a ',' inside a number or text starts a new cell); "
     "allowed: a cell with ',' in it in quotes (\"1,230\""),
    ("b.csv", BUDGET_HEADER + "foster_care,10,400000\n\nresidential,2,1,230\n", ": line 4 has 4 cells"),
    ("b.csv", "measure;count;unit_price_dkk\nfoster_care;10;1.230;5\n",
     ": line 2 has 4 cells, the header 3 (';' between the cells"),
    ("b.csv", "measure;count;unit_price_dkk\nfoster_care;10;\"400\n", ": a quote (\") that is never closed"),
    ("b.txt", "measure\tcount\tunit_price_dkk\nfoster_care\t10\t400000\n", ": tab-separated text"),
])
def test_a_budget_file_that_cannot_be_split_into_cells_is_one_line(tmp_path, name, content, message):
    """pandas' ParserError text came over two lines and named nothing allowed (held-out audit F3)."""
    path = tmp_path / name
    path.write_text(content)
    msg = refused(["compare=[]", f"budget={path}"])
    assert msg.startswith(f"budget = '{path}'{message}"), msg
    assert "Error tokenizing" not in msg
    path = tmp_path / ("caseload" + path.suffix)            # the caseload is read by the same reader
    path.write_text(content.replace("measure", "step").replace("count", "start").replace("unit_price_dkk", "age"))
    assert refused(["compare=[]", f"caseload={path}"]).startswith(f"caseload = '{path}'{message}")


def test_a_workbook_cell_is_not_given_the_csv_rule_and_an_empty_cell_is_empty(tmp_path):
    import openpyxl
    from sim.config.inputs import read_budget
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["measure", "count", "unit_price_dkk"], ["foster_care", 10, "1.600.000"], ["residential", 2, None],
                ["kinship_care", 3, 100000]):
        sheet.append(row)
    path = tmp_path / "b.xlsx"
    book.save(path)
    cfg = plan(["compare=[]"]).arms["baseline"]
    with pytest.raises(ConfigError) as err:
        read_budget(str(path), cfg)
    msg = str(err.value)
    assert "row 2, column unit_price_dkk: '1.600.000' - DKK per child-year, a number >= 0 (a number cell of the " \
           "workbook; a number typed as text takes a decimal point and no thousands separator" in msg, msg
    assert "row 3, column unit_price_dkk: empty - " in msg and "None" not in msg
    assert "between the cells" not in msg


# --------------------------------------------------------------------------- a problem in a conf/ file names it

def _profile(stem: str, population: str = "58000", targets: str | None = None) -> str:
    """A municipality profile (kolding's, renamed) with its population, and its targets as given."""
    text = (CONF_DIR / "municipality" / "kolding.yaml").read_text().replace("name: kolding", f"name: {stem}")
    text = re.sub(r"\n  population: \d+", f"\n  population: {population}", text, count=1)
    if targets is not None:
        text = re.sub(r"\n  targets:(\n    .*)+", f"\n  targets: {targets}", text, count=1)
    return text


@pytest.mark.parametrize("population, targets, problem", [
    ("-5", None, "municipality.population = -5: Input should be greater than 0"),
    ("58000", "[9.7]", "municipality.targets = [9.7]: "),
])
def test_a_problem_in_a_municipality_profile_names_its_file_and_line(population, targets, problem):
    """A planner edits their own profile; the message named the key but not the file (held-out re-check, 1
    December 2026). The file and the key's line come first - unless the user set the key on the command line."""
    with dropped(CONF_DIR / "municipality", lambda n: _profile(n, population, targets)) as path:
        msg = refused([f"municipality={path.stem}", "compare=[]"])
        line = next(i for i, ln in enumerate(path.read_text().splitlines(), 1)
                    if ln.startswith("  " + problem.split(" = ")[0].split(".")[1] + ":"))
        assert msg.startswith(f"conf/municipality/{path.stem}.yaml:{line}: {problem}"), msg
        if targets is None:
            assert refused([f"municipality={path.stem}", "compare=[]", "municipality.population=-7"]).startswith(
                "municipality.population = -7: ")
    # a value the user typed is named as typed, with no file
    assert refused(["casework.caseworkers=-1", "compare=[]"]).startswith("casework.caseworkers = -1: ")


@pytest.mark.parametrize("override,message", [
    # null where a key does not take it: the value as the configuration spells it, and no hint to use null
    ("casework.plausible_cases_per_caseworker=null",
     "casework.plausible_cases_per_caseworker = null: Input should be a valid tuple; allowed: a pair of numbers in "
     "brackets, e.g. [30, 90]"),
    ("run.replications=null", "run.replications = null: Input should be a valid integer; allowed: a whole number"),
    # a key that takes null says so
    ("staircase.steps.residential.max_duration_days=5",
     "staircase.steps.residential.max_duration_days = 5: Input should be a valid tuple; allowed: a pair of numbers "
     "in brackets, e.g. [30, 90], or null to leave it out"),
    # a pair with too many or too few entries: what is allowed, once
    ("casework.plausible_cases_per_caseworker=[12,65,80]",
     "casework.plausible_cases_per_caseworker = [12, 65, 80]: Tuple should have at most 2 items after validation, "
     "not 3; allowed: a pair of numbers in brackets, e.g. [30, 90]"),
    ("staircase.steps.residential.max_duration_days=[1]",
     "staircase.steps.residential.max_duration_days = [1]: too few entries; allowed: a pair of numbers in brackets"),
    ("casework.plausible_cases_per_caseworker=[]",
     "casework.plausible_cases_per_caseworker = []: too few entries; allowed: a pair of numbers in brackets, e.g. "
     "[30, 90]"),
    ("casework.plausible_cases_per_caseworker=[65,12]",
     "casework.plausible_cases_per_caseworker = [65, 12]: allowed: [low, high] with 0 <= low < high"),
])
def test_a_value_of_the_wrong_type_or_length_says_what_is_allowed_in_the_configurations_words(override, message):
    msg = refused([override])
    assert msg.startswith(message), msg
    assert "None" not in msg and "more problem" not in msg, msg
