"""Configuration: the schema, Hydra composition, and the plan of a run (validated arms).

Layer 1: imports only ``sim.common``. Everything a run needs is validated here, before anything runs.
"""
from ..common.paths import CONF_DIR, ROOT, SCENARIO_DIR
from .compose import (check_overrides, compose_tree, register_scenarios, scenario_override, selected_scenario,
                      validate)
from .errors import ConfigError, RunFault
from .plan import BLENDED, WARMUP, Plan, blend, plan
from .schema import (BASELINE, NOT_CALIBRATABLE, Config, available_scenarios, calibration_pairs,
                     calibration_target, config_value, switched_off)

__all__ = ["CONF_DIR", "ROOT", "SCENARIO_DIR", "check_overrides", "compose_tree", "register_scenarios",
           "scenario_override", "selected_scenario", "validate", "ConfigError", "RunFault", "BLENDED", "WARMUP", "Plan", "blend", "plan",
           "BASELINE", "NOT_CALIBRATABLE", "Config", "available_scenarios", "calibration_pairs",
           "calibration_target", "config_value", "switched_off"]
