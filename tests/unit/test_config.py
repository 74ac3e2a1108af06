"""Configuration: composition, scenarios, provenance, and bad input rejected with a clear error."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.config import CONF_DIR, SCENARIO_DIR, ConfigError, available_scenarios, compose_tree, plan, validate

ROOT = Path(__file__).resolve().parents[2]


def test_default_composes_and_has_exact_run_keys():
    tree = compose_tree([])
    assert set(tree["run"]) == {"seed", "replications", "horizon_years", "warmup_years", "workers", "backend",
                                "dask_scheduler", "share_warmup"}
    cfg = validate(tree)
    assert cfg.municipality.name == "average"
    assert cfg.municipality.population == 60558          # [003 Table 1.1]
    assert cfg.casework.followup_interval_days <= 183    # legal minimum frequency, every 6 months [001]


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONF_DIR / "municipality").glob("*.yaml")))
def test_every_municipality_validates(name):
    cfg = validate(compose_tree([f"municipality={name}"]))
    assert cfg.municipality.name == name
    assert cfg.municipality.children_0_17 < cfg.municipality.population


@pytest.mark.parametrize("name", available_scenarios())
def test_every_scenario_validates_and_declares_itself(name):
    cfg = validate(compose_tree([f"scenario={name}"]))
    assert name in cfg.scenario_info
    info = cfg.scenario_info[name]
    assert info.description.strip()
    if name != "baseline":
        assert info.sources, f"{name} must cite its sources"


def test_standard_scenarios_exist():
    expected = {"baseline", "earlier_detection", "frequent_followup", "lower_caseload", "close_management",
                "early_help_unit", "intensive_home_based", "kinship_first", "short_intensive_stays", "full_shift"}
    assert expected <= set(available_scenarios())


def test_scenarios_compose():
    both = validate(compose_tree(["scenario=[earlier_detection,lower_caseload]"]))
    base = validate(compose_tree([]))
    assert both.detection.rate_per_year["mild"] > base.detection.rate_per_year["mild"]
    assert both.casework.hire_caseworkers_share > base.casework.hire_caseworkers_share     # a share of the team
    assert set(both.scenario_info) == {"earlier_detection", "lower_caseload"}


def test_full_shift_combines_its_parts():
    full = validate(compose_tree(["scenario=full_shift"]))
    for part in ["earlier_detection", "frequent_followup", "lower_caseload", "intensive_home_based", "kinship_first"]:
        assert part in full.scenario_info
    assert full.casework.followup_interval_days == 91                    # Herning [001]
    assert full.staircase.steps["intensive_home_based"].capacity_per_1000_children > 0   # places per 1,000 children


def test_herning_and_favrskov_figures_from_sources():
    ff = validate(compose_tree(["scenario=frequent_followup"]))
    assert ff.casework.followup_interval_days == 91
    assert ff.casework.placement_first_year_interval_days == 42         # 6 weeks [001]
    ih = validate(compose_tree(["scenario=intensive_home_based"]))
    assert ih.staircase.steps["intensive_home_based"].max_duration_days == (84, 84)   # 12 weeks [001]
    assert ih.staircase.steps["intensive_home_based"].max_age == 13                   # ages 0-12 [001]


def test_a_dropped_in_scenario_file_is_picked_up():
    path = SCENARIO_DIR / "zz_test_dropped_in.yaml"
    path.write_text("# @package _global_\nscenario_info:\n  zz_test_dropped_in:\n    description: test\n"
                    "    sources: ['[001]']\n    investment: {one_off_dkk: 0, yearly_dkk: 0, notes: ''}\n"
                    "casework:\n  decision_delay_days: 1\n")
    try:
        assert "zz_test_dropped_in" in available_scenarios()
        p = plan(["compare=[zz_test_dropped_in]"])
        assert p.arms["zz_test_dropped_in"].casework.decision_delay_days == 1
        assert p.arms["baseline"].casework.decision_delay_days != 1
    finally:
        path.unlink()


BAD = [
    (["run.replicatons=3"], "run.replicatons"),                      # typo'd key
    (["+run.extra=1"], "run.extra"),                                 # unknown key added
    (["need.recovery_rate_per_year.mild=-0.1"], "need.recovery_rate_per_year.mild"),   # negative rate
    (["staircase.steps.foster_care.cost_per_year_dkk=-5"], "staircase.steps.foster_care.cost_per_year_dkk"),  # negative cost
    (["casework.aftercare.probability=1.5"], "casework.aftercare.probability"),        # probability > 1
    (["staircase.matching_tilt=inf"], "staircase.matching_tilt"),                      # not a finite number
    (["staircase.matching_tilt=12"], "staircase.matching_tilt"),                       # beyond +-10
    (["implementation.ramp_months=1.5"], "implementation.ramp_months"),                # whole months only
    (["staircase.steps.residential.max_duration_ages=[18,12]"], "staircase.steps.residential.max_duration_ages"),  # from > to
    (["need.onset_level_probs.mild=0.9"], "need.onset_level_probs"),                   # probabilities do not sum to 1
    (["+staircase.matching.mild.early.no_such_step=1"], "no_such_step"),               # step that does not exist
    (["staircase.ground_step=nowhere"], "staircase.ground_step"),
    (["run.replications=0"], "run.replications"),                                      # zero replications
    (["municipality.population_growth_per_year=0.5"], "municipality.population_growth_per_year"),  # beyond +-20 %/yr
    (["compare=[no_such_scenario]"], "compare"),
    (["municipality=atlantis"], "municipality = 'atlantis': unknown option; available: average,"),
    (["scenario=no_such_scenario"], "scenario = 'no_such_scenario': unknown option; available: baseline,"),
]


@pytest.mark.parametrize("overrides,key", BAD)
def test_bad_input_is_a_one_line_error_naming_the_key(overrides, key):
    with pytest.raises(ConfigError) as err:
        plan(overrides)
    msg = str(err.value)
    assert key in msg
    assert "\n" not in msg


def test_error_names_value_and_what_is_allowed():
    with pytest.raises(ConfigError, match=r"casework.aftercare.probability = 1.5: .*(less than or equal to 1|\[0, 1\])"):
        plan(["casework.aftercare.probability=1.5"])
    with pytest.raises(ConfigError, match=r"did you mean run.replications"):
        plan(["run.replicatons=3"])


@pytest.mark.parametrize("overrides", [["run.replications=0"], ["run.replicatons=2"], ["staircase.matching.mild.early.early_preventive=-1"]])
def test_cli_bad_input_exits_nonzero_and_writes_nothing(tmp_path, overrides):
    out = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "sim", f"output.dir={out}", *overrides],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


# --------------------------------------------------------------------------- provenance

TAG = re.compile(r"\[(\d{3}[^\]]*|public: [^\]]+|assumption[^\]]*|calibrated[^\]]*)\]")
NUMERIC = re.compile(r"^\s*[\w\"']+:\s*(-?[\d.]+|\[[\d.,\s]+\]|\{.*\d.*\})\s*(#.*)?$")


def _yaml_files():
    return sorted(CONF_DIR.rglob("*.yaml")) + sorted(SCENARIO_DIR.glob("*.yaml"))


def test_every_numeric_parameter_has_a_provenance_tag():
    missing = []
    for path in _yaml_files():
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if not NUMERIC.match(line):
                continue
            if TAG.search(line):
                continue
            # a tag on the enclosing key's line covers its children
            indent = len(line) - len(line.lstrip())
            covered = False
            for j in range(i - 1, -1, -1):
                prev = lines[j]
                if not prev.strip() or prev.lstrip().startswith("#"):
                    continue
                pind = len(prev) - len(prev.lstrip())
                if pind < indent:
                    covered = bool(TAG.search(prev))
                    break
            if not covered:
                missing.append(f"{path.relative_to(ROOT)}:{i + 1}: {line.strip()}")
    assert not missing, "parameters without [source]/[assumption]/[calibrated] tag:\n" + "\n".join(missing)


def test_no_magic_numbers_in_model_code():
    """Numbers in the model's code (sim/model/) are structural (0, 1, indices), never parameters."""
    import io
    import tokenize

    allowed = {"0", "1", "2", "0.0", "1.0"}
    for path in sorted((ROOT / "sim" / "model").glob("*.py")):
        numbers = set()
        for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if tok.type == tokenize.NUMBER and not re.match(r"^[A-Z_, ]+ = ", tok.line):   # module constants are named
                numbers.add(tok.string)
        assert numbers <= allowed, f"numeric literals in {path.relative_to(ROOT)}: {sorted(numbers - allowed)}"
