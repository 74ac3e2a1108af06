"""Composition: Hydra's compose API on ``conf/`` with the user's overrides, into a validated Config.

The ``scenario`` group is the top-level ``scenarios/`` folder, added to Hydra's search path.
"""
from __future__ import annotations

import difflib
import re

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import ValidationError

from ..common.paths import CONF_DIR, SCENARIO_DIR
from .errors import ConfigError
from .schema import BASELINE, Config

SCENARIO_GROUP = "scenario"      # the config group whose options are the files of scenarios/

def _format_validation_error(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"])
        if isinstance(e.get("ctx", {}).get("error"), ConfigError):
            lines.append(str(e["ctx"]["error"]))
            continue
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            lines.append(f"{loc} = {value!r}: unknown key (check the spelling; unknown keys are not allowed)")
        elif e["type"] == "missing":
            lines.append(f"{loc}: missing; this key is required")
        else:
            msg = e["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            lines.append(f"{loc} = {value!r}: {msg}")
    return lines[0] if len(lines) == 1 else lines[0] + f" (and {len(lines) - 1} more problem(s): " + "; ".join(lines[1:]) + ")"


def validate(tree: dict) -> Config:
    """Validate a plain composed tree. Raises ConfigError with a one-line message."""
    try:
        return Config.model_validate(tree)
    except ValidationError as err:
        raise ConfigError(_format_validation_error(err)) from None


def register_scenarios() -> None:
    """Make the files of scenarios/ the options of the ``scenario`` config group, as of now.

    Hydra's ConfigStore holds them (each a ``_global_`` overlay, as its ``# @package`` line says), so the
    group needs no folder or link under conf/ and a checkout on any system has its scenarios. The group is
    rebuilt at every call: a scenario file dropped in or edited since is seen."""
    cs = ConfigStore.instance()
    cs.repo.pop(SCENARIO_GROUP, None)
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        cs.store(group=SCENARIO_GROUP, name=path.stem, node=OmegaConf.load(path), package="_global_")


def compose_tree(overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """Compose conf/ (and the scenario group from scenarios/) with Hydra overrides into a plain, resolved dict."""
    try:
        register_scenarios()
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=list(overrides))
        return OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException) as err:
        text = str(err).strip()
        m = re.match(r"Could not override '([^']+)'", text)
        if m:
            key = m.group(1)
            value = next((o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0].lstrip("+~") == key), None)
            raise ConfigError(f"{key} = {value!r}: unknown key (unknown keys are not allowed){_suggest(key)}") from None
        first = " ".join(text.split("\n")[:3]).replace("\t", " ")
        if "Could not find" in first:
            first = str(err).strip().split("\n")[0] + "; available: " + ", ".join(
                ln.strip() for ln in str(err).split("\n")[2:] if ln.startswith("\t") and "/" not in ln and "provider" not in ln)
        raise ConfigError(f"overrides {list(overrides)}: {first}") from None


def _suggest(key: str) -> str:
    """'; did you mean ...' from the keys of the default configuration."""
    try:
        tree = compose_tree([])
    except ConfigError:
        return ""
    flat: list[str] = []

    def walk(d, prefix=""):
        for k, v in d.items():
            flat.append(prefix + k)
            if isinstance(v, dict):
                walk(v, prefix + k + ".")

    walk(tree)
    close = difflib.get_close_matches(key, flat, n=1)
    return f"; did you mean {close[0]}?" if close else ""


def scenario_override(arm: str) -> str:
    """The override that selects an arm: ``scenario=a`` or, for ``a+b``, ``scenario=[a,b]``."""
    parts = arm.split("+")
    return f"scenario={parts[0]}" if len(parts) == 1 else "scenario=[" + ",".join(parts) + "]"


def strip_scenario(overrides) -> list[str]:
    """The overrides without the one that selects the scenario."""
    return [o for o in overrides if not o.lstrip("+~").startswith("scenario=")]


def selected_scenario(overrides) -> str:
    """The arm the overrides select (``a+b`` for a list), or the baseline."""
    for o in overrides:
        if o.lstrip("+~").startswith("scenario="):
            v = o.split("=", 1)[1].strip()
            if v.startswith("[") and v.endswith("]"):
                return "+".join(x.strip() for x in v[1:-1].split(",") if x.strip())
            return v
    return BASELINE


