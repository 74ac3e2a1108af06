"""Command line: ``python -m sim [-m] [--cfg] [key=value ...]``, and the Hydra application behind it.

Overrides use Hydra's syntax and are composed with Hydra's compose API on ``conf/``.
``-m``/``--multirun`` expands sweeps (``key=a,b``, ``range(...)``, ``choice(...)``, ``glob(...)``) into one run
per combination, like Hydra's basic sweeper; each run gets its own folder and catalog entry.
Every combination is validated before the first one runs; after the last, the sweep's summary
across its jobs is written to results/sweeps/<sweep id>/ (see ``sim.sweep``).

A command line that asks for Hydra itself - a ``hydra/...`` or ``hydra.…`` override (e.g. ``hydra/launcher=joblib``)
or one of Hydra's flags (``--cfg job|hydra|all``, ``--info``, ``--shell-completion``, ``--hydra-help``) - is handed,
after the same validation of every job, to ``hydra_app``: a ``@hydra.main`` application on ``conf/`` whose task
builds the job's plan from its overrides and stores it with ``run_plan`` (atomic run folder, catalog), so a
launcher plugin really distributes the jobs. What this CLI cannot honour (another sweeper, another config
path or name, a launcher without ``-m``, ...) is refused with one line and exit 2, never silently ignored.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import json
import logging
import os
import re
import signal
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import hydra
from hydra import compose, initialize_config_dir
import pandas as pd
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import MissingConfigException

from .analyses.calibrate import calibrate, calibration_text, unmet, write_calibration
from .analyses.profiles import make_profiles
from .analyses.sensitivity import sensitivity, sensitivity_text, write_sensitivity
from .analyses.sweep import Sweep, new_sweep_id, sweep_text, swept_keys, write_sweep
from .analyses.uncertainty import parameter_ranges, uncertainty, uncertainty_text, write_uncertainty
from .api import run_plan
from .config import (CONF_DIR, SCENARIO_DIR, ConfigError, available_scenarios, calibration_pairs, plan,
                     register_scenarios, switched_off)
from .config.compose import (SCENARIO_GROUP, SCENARIO_NAME, SCENARIO_NAME_ALLOWED, check_overrides, override_key,
                             quote_names)
from .config.schema import WORKERS_PER_CPU, max_workers
from .publish import results_dir
from .report.text import summary_text
from .runner import Results, check_dask, silence_dask_logs
from . import store
from .store import OutputDirError, base_dir, check_output_dir, new_id, rebuild_catalog
from .common.i18n import replications_text
from .common.signals import Terminated, interrupt_in, signals_never_swallowed

USAGE = """usage: python -m sim [-m|--multirun] [--calibrate | --sensitivity | --uncertainty] [--cfg] [--list-scenarios] [key=value ...]
       python -m sim [-m] [--cfg job|hydra|all [--package P] [--resolve]] [hydra/launcher=...] [hydra.….=...] [key=value ...]
       python -m sim --info [all|config|defaults|defaults-tree|plugins|searchpath] | --shell-completion ... | --hydra-help
       python -m sim catalog rebuild [output.dir=...]

Runs the staircase simulation. By default the reference scenario (scenario=baseline) is compared
with the scenarios in `compare` under common random numbers; compare=[] runs one scenario.

  key=value        override any configuration key (Hydra syntax), e.g. run.replications=10
  group=option     choose a config group option, e.g. municipality=kolding, scenario=earlier_detection
  scenario=[a,b]   compose scenarios
  -m, --multirun   sweep: key=a,b runs one job per value (and per combination of several keys);
                   also range(1,4), choice(a,b), and glob(*) over a group's options, e.g. municipality=glob(*)
  --calibrate      fit calibration.parameter (default need.onset_scale) until the reference arm's
                   calibration.kpi matches the municipality's key figure (with calibration.joint: several
                   parameters to as many KPIs, together); writes results/calibrations/<id>/
                   with the fitted value as a YAML overlay (with -m: one calibration per job)
  --sensitivity    one-at-a-time sensitivity of the comparison: each parameter in sensitivity.parameters at
                   its low and high value; writes results/sensitivity/<id>/ with a tornado figure
  --uncertainty    joint uncertainty of the comparison: uncertainty.samples parameter sets with every parameter
                   in its range at once (Latin hypercube); the spread of each scenario's difference, the
                   probability of payback by year and what drives it; writes results/uncertainty/<id>/
  --cfg            print the composed configuration of the reference arm (resolved) and exit
  --list-scenarios print the scenarios in scenarios/ and exit

Hydra (the jobs run through the Hydra application, after every job has been validated):
  -m hydra/launcher=joblib|submitit_slurm|submitit_local|ray   run the sweep's jobs through a launcher plugin
                   (installed separately, e.g. pip install hydra-joblib-launcher); hydra.launcher.<key>=...
                   sets its options, e.g. hydra.launcher.n_jobs=2 or hydra.launcher.partition=...
  hydra.sweep.dir=... / hydra.sweep.subdir=... (with -m), hydra.run.dir=... (without): Hydra's own folder
                   (.hydra/, the job's log); by default output.dir/hydra/<sweep or run id>/
  hydra.job.*=..., hydra/job_logging=..., hydra/hydra_logging=..., hydra.verbose=..., hydra.output_subdir=...,
  hydra.callbacks.*=...   as in Hydra
  --cfg job|hydra|all [--package P] [--resolve]   Hydra prints the job's, its own or both configurations
  --info [...], --shell-completion (-sc) install=bash|zsh|fish, --hydra-help, --version   Hydra's, as in Hydra
  Not honoured (refused with one line, exit 2): another sweeper (hydra/sweeper: this CLI expands and validates
  the sweep), hydra.mode, Hydra's help templates, hydra.searchpath, --config-path/-cp, --config-name/-cn,
  --config-dir/-cd, --experimental-rerun, --run/-r; a launcher or hydra.sweep.* without -m; hydra.run.dir
  with -m; hydra overrides with --calibrate, --sensitivity, --uncertainty or this CLI's bare --cfg; a sweep
  over a hydra key. Hydra overrides never reach a run's overrides.txt.

Results go to results/<run id>/ and the catalog results/results.duckdb; a sweep's summary
across its jobs goes to results/sweeps/<sweep id>/. output.dir is checked before anything runs.
`catalog rebuild` recreates results.duckdb from the folders (see python -m sim catalog --help).
"""

CATALOG_USAGE = """usage: python -m sim catalog rebuild [output.dir=...]

Recreates the catalog output.dir/results.duckdb (default results/) from the folders in output.dir:
its tables are views over each run's run.json and Parquet files and over the analyses' folders.
An unreadable file is moved aside as results.duckdb.corrupt-<time>, a catalog of an earlier version
as results.duckdb.v1-<time> (its rows are first written into their folders); run folders of earlier
versions are indexed from their config.yaml and overrides.txt; staging folders left by killed
processes are removed. Nothing else in the folders is changed.
"""


SWEEP_ALLOWED = ("allowed: a list (a,b), range(start,stop[,step]) with at least one value and a step other than 0, "
                 "choice(), or glob() over a config group")


def expand_sweeps(overrides: list[str]) -> list[list[str]]:
    """Every job of a sweep: the product of the values of each swept key (Hydra's override grammar), as Hydra's
    basic sweeper makes it - a key given more than once keeps its last value(s), in the place of its first
    (-m run.seed=1,2 run.seed=3 is one job, seed 3), so that the jobs validated here are the launcher's."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ValueType

    parser = OverridesParser.create()
    check_overrides(overrides)                       # each override readable, or one line naming it
    try:
        parsed = parser.parse_overrides(quote_names(overrides))       # compare=[omstilling_æøå]: in quotes
    except Exception as err:  # hydra raises OverrideParseException
        raise ConfigError(f"overrides {overrides}: {str(err).splitlines()[0]}") from None
    axes: dict[str, list[str]] = {}                  # key -> its values; the last given wins, as in Hydra
    for o in parsed:
        key = o.get_key_element()
        if o.value_type == ValueType.GLOB_CHOICE_SWEEP:
            # glob(...) chooses among a config group's options, e.g. municipality=glob(*)
            options = group_options(o.key_or_group)
            if not options:
                groups = ", ".join(sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir()))
                raise ConfigError(f"{key}: glob() sweeps the options of a config group; "
                                  f"{o.key_or_group!r} is not one (groups: {groups})")
            values = o.value().filter(options)
            if not values:
                raise ConfigError(f"{o.input_line or key}: matches none of {', '.join(options)}")
            axes[key] = [f"{key}={v}" for v in values]
        elif o.is_sweep_override():
            if o.value_type == ValueType.INTERVAL_SWEEP:
                raise ConfigError(f"{o.input_line}: interval() is for optimising sweepers; a sweep here takes "
                                  f"a list (a,b), range(), choice(), or glob() over a config group")
            try:
                values = list(o.sweep_string_iterator())
            except ValueError as err:                # range() with a step of 0
                raise ConfigError(f"{o.input_line}: {err}; {SWEEP_ALLOWED}") from None
            if not values:
                raise ConfigError(f"{o.input_line}: the sweep has no value (range(a,b) stops before b); "
                                  f"{SWEEP_ALLOWED}")
            axes[key] = [f"{key}={v}" for v in values]
        else:
            axes[key] = [f"{key}={o.get_value_element_as_str()}"]
    return [list(combo) for combo in itertools.product(*axes.values())]


def group_options(group: str) -> list[str]:
    """The options of a config group (its YAML files), or [] if there is no such group."""
    d = SCENARIO_DIR if group == SCENARIO_GROUP else CONF_DIR / group
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


# --- the command line, parsed: this CLI's flags, Hydra's flags (handed to Hydra), and the overrides
HYDRA_CFG = ("job", "hydra", "all")              # --cfg job|hydra|all: Hydra prints that configuration
HYDRA_ONLY = ("--info", "-i", "--shell-completion", "-sc", "--hydra-help", "--version")    # Hydra's, nothing runs
INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")     # --info [what]
SWITCHES = {"-m": "multirun", "--multirun": "multirun", "--calibrate": "calibrate", "--sensitivity": "sensitivity",
            "--uncertainty": "uncertainty", "--resolve": "resolve"}
REFUSED_FLAGS = {
    "--config-path": "the configuration is conf/ with scenarios/ as the scenario group; put a group option in "
                     "conf/<group>/ or a scenario in scenarios/, or set keys with key=value",
    "--config-name": "the root configuration is conf/config.yaml; choose options with group=option",
    "--config-dir": "every job is validated against conf/ and scenarios/ before any runs; put a group option in "
                    "conf/<group>/ or a scenario in scenarios/",
    "--experimental-rerun": "rerun a stored run with its overrides: python -m sim $(cat results/<run id>/overrides.txt)",
    "--run": "a single run is what python -m sim does without -m; drop --run",
}
REFUSED_FLAGS |= {"-cp": REFUSED_FLAGS["--config-path"], "-cn": REFUSED_FLAGS["--config-name"],
                  "-cd": REFUSED_FLAGS["--config-dir"], "-r": REFUSED_FLAGS["--run"]}
# Hydra's configuration keys and groups a job honours, and those it refuses with the reason (what to do instead)
HONOURED = ("hydra/launcher", "hydra.launcher", "hydra.sweep.dir", "hydra.sweep.subdir", "hydra.run.dir", "hydra.job",
            "hydra/job_logging", "hydra.job_logging", "hydra/hydra_logging", "hydra.hydra_logging", "hydra.verbose",
            "hydra.output_subdir", "hydra/callbacks", "hydra.callbacks")
SWEEP_ONLY = ("hydra/launcher", "hydra.launcher", "hydra.sweep.dir", "hydra.sweep.subdir")
REFUSED_HYDRA = (
    (("hydra/sweeper", "hydra.sweeper"), "this CLI expands the sweep itself (a,b, range(), choice(), glob()) and "
                                         "validates every job before any runs; another sweeper would run jobs never "
                                         "validated. Sweep with -m key=a,b"),
    (("hydra.mode",), "use -m for a sweep, nothing for a single run"),
    (("hydra/help", "hydra.help", "hydra/hydra_help", "hydra.hydra_help"),
     "python -m sim --help is this CLI's own, --hydra-help Hydra's"),
    (("hydra.searchpath",), "the configuration is conf/ with scenarios/ as the scenario group; put a group option "
                            "in conf/<group>/ or a scenario in scenarios/"),
)


def _is(key: str, name: str) -> bool:
    """Whether a key (or group) is ``name`` or below it."""
    return key == name or key.startswith(name + ".") or key.startswith(name + "/")


@dataclass
class Args:
    """The command line, parsed: this CLI's own flags, Hydra's flags it hands to Hydra, and the overrides
    (the simulation's, and Hydra's own ``hydra/...``/``hydra.…`` ones, kept apart: those never reach a run)."""

    multirun: bool = False
    show_cfg: bool = False                 # this CLI's --cfg: the reference arm's composed tree, resolved
    hydra_cfg: str | None = None           # --cfg job|hydra|all: Hydra prints it
    package: str | None = None             # --package, with --cfg job|hydra|all
    resolve: bool = False
    calibrate: bool = False
    sensitivity: bool = False
    uncertainty: bool = False
    hydra_only: str | bool = False         # --info, --shell-completion, --hydra-help, --version: Hydra answers (the flag)
    overrides: list = field(default_factory=list)
    hydra_overrides: list = field(default_factory=list)

    @property
    def via_hydra(self) -> bool:
        """Whether the jobs are handed to the Hydra application (a Hydra override or --cfg job|hydra|all)."""
        return bool(self.hydra_overrides) or self.hydra_cfg is not None

    @property
    def analysis(self) -> str | None:
        """The analysis flag given (--calibrate, --sensitivity, --uncertainty), if any."""
        return next((f"--{n}" for n in ("calibrate", "sensitivity", "uncertainty") if getattr(self, n)), None)


def _flag_value(argv: list[str], i: int, name: str, given: str | None, choices=None) -> tuple[str | None, int]:
    """The value of a flag at argv[i] (``--flag=v`` or ``--flag v``; with ``choices`` only one of them) and
    how many tokens it took."""
    if given is not None:
        return given, 1
    nxt = argv[i + 1] if i + 1 < len(argv) else None
    if nxt is not None and (nxt in choices if choices else not nxt.startswith("-") and "=" not in nxt):
        return nxt, 2
    return None, 1


def _explicit_info(argv: list[str]) -> list[str]:
    """``argv`` with a bare ``--info`` (or ``-i``) that is not followed by what to show written ``--info=all``:
    Hydra's parser would take a following override (``--info run.seed=3``) for that word."""
    out = list(argv)
    for i, tok in enumerate(out):
        if tok in ("--info", "-i") and (i + 1 == len(out) or out[i + 1] not in INFO_CHOICES):
            out[i] = "--info=all"
            break
    return out


def parse_argv(argv: list[str]) -> Args:
    """Parse the command line; ConfigError (one line) for an unknown option or one of Hydra's this CLI does
    not honour (``REFUSED_FLAGS``), and for a Hydra override it does not honour (``hydra_problem``)."""
    a, i = Args(), 0
    while i < len(argv):
        tok = argv[i]
        name, eq, val = tok.partition("=")
        given = val if eq else None
        step = 1
        if not tok.startswith("-"):
            (a.hydra_overrides if _is(override_key(tok), "hydra") else a.overrides).append(tok)
        elif name in SWITCHES and given is None:
            setattr(a, SWITCHES[name], True)
        elif name in ("--cfg", "-c"):
            value, step = _flag_value(argv, i, name, given, HYDRA_CFG)
            if (value is None and (name == "-c" or given is not None)) or (value and value not in HYDRA_CFG) \
                    or a.show_cfg or a.hydra_cfg:
                raise ConfigError(f"{tok}: --cfg takes job, hydra or all (Hydra prints that configuration), or "
                                  f"nothing (this CLI prints the reference arm's), once")
            a.hydra_cfg, a.show_cfg = value, value is None
        elif name in ("--package", "-p"):
            a.package, step = _flag_value(argv, i, name, given)
            if a.package is None:
                raise ConfigError(f"{tok}: --package takes the package to show, e.g. --cfg job --package run")
        elif name in HYDRA_ONLY:
            flag = {"-i": "--info", "-sc": "--shell-completion"}.get(name, name)
            if a.hydra_only:
                raise ConfigError(f"{a.hydra_only} and {flag}: Hydra answers one of them at a time; give one")
            a.hydra_only = flag
            if flag == "--info":
                value, step = _flag_value(argv, i, name, given)
                if value is not None and value not in INFO_CHOICES:
                    raise ConfigError(f"{name} {value}: --info takes {', '.join(INFO_CHOICES)} or nothing (all)")
        elif name in REFUSED_FLAGS:
            raise ConfigError(f"{tok}: not honoured by this CLI ({REFUSED_FLAGS[name]})")
        else:
            raise ConfigError(f"unknown option {tok!r}; see python -m sim --help")
        i += step
    if a.hydra_only:
        other = next((f for f, on in (("-m", a.multirun), (f"--cfg {a.hydra_cfg or ''}".strip(), a.hydra_cfg or a.show_cfg),
                                      (a.analysis, a.analysis)) if on), None)
        if other and a.hydra_only in ("--info", "--shell-completion"):
            raise ConfigError(f"{a.hydra_only} and {other}: Hydra takes one of -m, --cfg, --info and "
                              f"--shell-completion at a time; give one")
        extra = a.overrides + a.hydra_overrides + (["-m"] if a.multirun else [])
        if a.hydra_only == "--hydra-help" and extra:
            hint = "" if extra[0] == "-m" else f" (the simulation's configuration: python -m sim --cfg job {extra[0]})"
            raise ConfigError(f"--hydra-help: prints Hydra's own help and takes nothing else; drop {extra[0]}{hint}")
    else:
        check_hydra(a)
    return a


def check_hydra(a: Args) -> None:
    """ConfigError (one line) for Hydra's flags and overrides that this command line would not honour."""
    if a.package and not a.hydra_cfg:
        raise ConfigError(f"--package {a.package}: not honoured without --cfg job|hydra|all (it selects what Hydra "
                          f"prints); add --cfg job")
    if a.resolve and not (a.hydra_cfg or a.show_cfg):
        raise ConfigError("--resolve: not honoured without --cfg (it resolves what --cfg prints); add --cfg job")
    if a.hydra_cfg and a.analysis:
        raise ConfigError(f"--cfg {a.hydra_cfg}: not honoured with {a.analysis} (an analysis is not a Hydra job); "
                          f"--cfg alone prints its reference arm's configuration")
    for o in a.hydra_overrides:
        why = None if a.analysis else hydra_problem(o, a.multirun)
        if a.analysis:           # first: '-m' would be the wrong advice, an analysis takes none
            why = (f"not honoured with {a.analysis} (an analysis runs its runs in this process, not as Hydra jobs; "
                   f"spread its replications with run.workers or run.backend=dask)")
        if why is None and a.show_cfg:
            why = "not honoured with --cfg (it prints the simulation's configuration; --cfg hydra prints Hydra's)"
        if why is not None:
            raise ConfigError(f"{o}: {why}")


# keys of Hydra's joblib launcher that it does not honour (hydra_joblib_launcher sets backend=loky, processes,
# whatever the configuration says): key -> (the values that match what it does, the reason)
LAUNCHER_FIXED = {
    "hydra.launcher.backend": (("loky", "null"), "the joblib launcher always runs its jobs in loky processes"),
    "hydra.launcher.prefer": (("processes", "null"), "the joblib launcher always runs its jobs in loky processes, "
                                                     "never threads"),
    "hydra.launcher.require": (("null",), "the joblib launcher's loky processes share no memory"),
}


def hydra_problem(override: str, multirun: bool) -> str | None:
    """Why a ``hydra/...`` or ``hydra.…`` override cannot be honoured (None if it can)."""
    key = override_key(override)
    if key in LAUNCHER_FIXED and not override.startswith("~"):
        allowed, why = LAUNCHER_FIXED[key]
        value = override.split("=", 1)[1].strip().strip("'\"") if "=" in override else ""
        if value not in allowed:
            return f"not honoured ({why}); allowed: {' or '.join(allowed)}, or leave it out"
    try:
        swept = OverridesParser.create().parse_overrides([override])[0].is_sweep_override()
    except Exception as err:  # hydra raises OverrideParseException
        return f"not an override Hydra can read ({str(err).splitlines()[0]})"
    if swept:
        return "a sweep over Hydra's own configuration is not honoured; sweep the simulation's keys (-m key=a,b)"
    if key == "hydra.launcher.n_jobs" and "=" in override and not override.startswith("~"):
        value, most = override.split("=", 1)[1].strip().strip("'\""), max_workers()
        try:
            n = int(value)
        except ValueError:
            n = 0
        if not (1 <= n <= most or n == -1):
            return (f"allowed: a whole number of jobs at a time from 1 to {most} ({WORKERS_PER_CPU} per CPU of this "
                    f"machine; more only take memory), or -1 for one per CPU")
    if key == "hydra/sweeper" and override.split("=", 1)[-1].strip() == "basic":
        return None                   # Hydra's basic sweeper: the one this CLI's expansion of a sweep matches
    for names, why in REFUSED_HYDRA:
        if any(_is(key, n) for n in names):
            return f"not honoured by this CLI ({why})"
    if not any(_is(key, n) for n in HONOURED):
        return (f"not honoured by this CLI (it honours {', '.join(HONOURED)} and what is below them; the "
                f"simulation's keys are set without 'hydra.')")
    if not multirun and any(_is(key, n) for n in SWEEP_ONLY):
        return "not honoured without -m (a launcher and hydra.sweep.* are for the jobs of a sweep); add -m"
    if multirun and _is(key, "hydra.run.dir"):
        return "not honoured with -m (Hydra uses it for a single run); set hydra.sweep.dir instead"
    return None


# Hydra's launcher plugins (package on PyPI: its launcher options), named when one of them is chosen but not installed
LAUNCHER_PLUGINS = {"hydra-joblib-launcher": ("joblib",), "hydra-submitit-launcher": ("submitit_local", "submitit_slurm"),
                    "hydra-ray-launcher": ("ray", "ray_aws"), "hydra-rq-launcher": ("rq",)}


def check_hydra_config(hydra_overrides: list[str]) -> None:
    """ConfigError (one line) unless Hydra can compose its own configuration with these overrides: a launcher
    (or logging) option that is not installed, or a key a launcher does not have, is found before any job runs."""
    register_scenarios()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            compose("config", overrides=hydra_overrides, return_hydra_config=True)
    except MissingConfigException as err:
        group, _, option = (err.missing_cfg_file or "").rpartition("/")
        text = str(err)
        options = [ln.strip() for ln in text.split("Available options in", 1)[-1].splitlines()[1:]
                   if ln.startswith("\t") and "=" not in ln] if "Available options in" in text else []
        package = next((pkg for pkg, names in LAUNCHER_PLUGINS.items() if option in names), None)
        plugin = "" if group != "hydra/launcher" else (
            f" (a launcher of a Hydra plugin that is not installed: pip install {package})" if package else
            " (launchers of Hydra's plugins: " + "; ".join(f"{', '.join(n)} from {p}" for p, n in LAUNCHER_PLUGINS.items())
            + ")")
        raise ConfigError(f"{group} = {option!r}: unknown option; available: {', '.join(options) or 'none'}{plugin}") \
            from None
    except Exception as err:                      # Hydra's and OmegaConf's errors: the first line, with the override
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        culprit = next((o for o in hydra_overrides if override_key(o) in first), " ".join(hydra_overrides))
        if first.startswith("Could not override"):
            first = "unknown key of Hydra's configuration; python -m sim --cfg hydra [-m hydra/launcher=...] shows its keys"
        kind = re.search(r"could not be converted to (\w+)", str(err.__cause__ or ""))
        if first.startswith("Error merging override") and kind:      # a value of the wrong type for the key
            first = f"allowed: {TYPE_WORDS.get(kind.group(1), 'a value of type ' + kind.group(1))}"
        raise ConfigError(f"{culprit}: {first}") from None
# --- end command line


# --- interrupts: Ctrl-C (SIGINT) and SIGTERM end a run with one line, exit 130 or 143; the atomic writes leave
# nothing half-written, and what was stored before is named
_KEPT: list = []          # the folders stored by this command so far


_SIGNALLED: list = []      # the signals this command was ended by (SIGTERM may reach it inside a DuckDB query,
                          # which answers with its own error: the exit code still says which signal it was)


def _terminate(signum, frame) -> None:
    _SIGNALLED.append(signum)
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """``python -m sim``: parse the arguments, call the pipeline or an analysis, print; returns the exit code.
    Bad input is one line on stderr and exit 2; Ctrl-C ends it with one line and exit 130 (SIGTERM: 143)."""
    _KEPT.clear()
    _SIGNALLED.clear()
    store.STORED.clear()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        with signals_never_swallowed() as swallowed:       # a signal Python ignored in a callback is sent again
            code = _main(argv)
            swallowed.close()               # inside the try: a signal sent again just before is caught below
            swallowed.raise_pending()       # ... and one swallowed as the command ended ends it all the same
            return code
    except ConfigError as err:          # bad input found late (e.g. output.dir gone since the check): one line
        return _input_error(err)
    except KeyboardInterrupt as err:
        return ended(isinstance(err, Terminated))
    except Exception as err:
        if (interrupt := interrupt_in(err)) is not None:     # Ctrl-C or SIGTERM wrapped in another exception
            return ended(isinstance(interrupt, Terminated))
        if store.interrupted(err):      # Ctrl-C or SIGTERM inside a DuckDB query (the catalog)
            return ended(False)
        raise
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def ended(terminated: bool) -> int:
    """One line for a command ended by Ctrl-C or SIGTERM, naming the folders it stored before (they are whole:
    the rest was never moved into place); the exit code a shell reports for a process ended by the signal:
    128 + its number (130, 143)."""
    what, sig = (("terminated", signal.SIGTERM) if terminated or signal.SIGTERM in _SIGNALLED
                 else ("interrupted", signal.SIGINT))
    silence_dask_logs()                 # a local cluster winding down logs the tasks it lost: not after this line
    kept = list(dict.fromkeys(str(k) for k in [*store.STORED, *_KEPT]))
    said = f"kept {', '.join(kept)}; nothing more was written" if kept else "nothing was written"
    print(f"{what}: {said}", file=sys.stderr, flush=True)
    return 128 + sig
# --- end interrupts


def _main(argv: list[str] | None = None) -> int:
    """What ``main`` does, without its handling of interrupts."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MPLBACKEND", "Agg")       # figures are files here, never windows
    if argv[:1] == ["catalog"]:
        return _catalog(argv[1:])
    if argv[:1] == ["profiles"]:
        return _profiles(argv[1:])
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    if "--list-scenarios" in argv:             # a file whose name cannot be selected is marked
        print("\n".join(n if SCENARIO_NAME.fullmatch(n) else f"{n}  (cannot be selected: a scenario's file name "
                        f"takes {SCENARIO_NAME_ALLOWED})" for n in available_scenarios()))
        return 0
    command = next((c for c in ("profiles", "catalog") if c in argv), None)    # not first: taken for an override
    if command is not None:
        print(f"error: {command}: a command of its own, given first: python -m sim {command} ... "
              f"(see python -m sim {command} --help)", file=sys.stderr)
        return 2
    try:
        a = parse_argv(argv)
    except ConfigError as err:
        return _input_error(err)
    if a.hydra_only:                   # --info, --shell-completion, --hydra-help, --version: Hydra answers
        return run_hydra(_explicit_info(argv))
    for flag, on in (("--sensitivity", a.sensitivity), ("--uncertainty", a.uncertainty)):
        if on and (a.multirun or a.calibrate or (a.sensitivity and a.uncertainty)):
            print(f"error: {flag} runs its own set of runs; it cannot be combined with -m, --calibrate, "
                  f"--sensitivity or --uncertainty", file=sys.stderr)
            return 2
    if a.sensitivity and not a.show_cfg:
        return _sensitivity(a.overrides)
    if a.uncertainty and not a.show_cfg:
        return _uncertainty(a.overrides)
    try:
        jobs = expand_sweeps(a.overrides) if a.multirun else [a.overrides]
        plans = [plan(job) for job in _checking(jobs)]          # validate everything before running anything
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if a.via_hydra:
        try:
            check_hydra_config(a.hydra_overrides)
        except ConfigError as err:
            return _input_error(err)
        return _via_hydra(a, jobs, plans)
    if a.show_cfg:
        for p in plans:
            print(yaml.safe_dump(p.tree, sort_keys=False, allow_unicode=True))
        return 0
    try:
        _check_schedulers(plans, keep=True)                      # a Dask scheduler out of reach: before anything
    except ConfigError as err:
        return _input_error(err)
    checked = _preflight([p.arms[p.reference] for p in plans])     # output.dir, before anything runs
    if checked:
        return checked
    if a.calibrate:
        return _calibrate(jobs, plans)
    return _run_jobs(jobs, plans, a.multirun)


def _run_jobs(jobs: list[list[str]], plans, multirun: bool = False) -> int:
    """Run the validated jobs one after another in this process, then the sweep's summary across them (with -m,
    even of one job: a glob that matched one municipality is a sweep all the same)."""
    sweep = Sweep(new_sweep_id(jobs), swept_keys(jobs)) if multirun or len(plans) > 1 else None
    for i, p in enumerate(plans):
        if sweep is not None:
            print(f"[{i + 1}/{len(plans)}] {' '.join(p.overrides)}", flush=True)
        cfg = p.arms[p.reference]
        res = _stored(lambda: run_plan(p, sweep_id=sweep.sweep_id if sweep else None), cfg.output.dir)
        if isinstance(res, int):               # atomic: on failure nothing is left behind
            return res
        print(summary_text(res))
        if res.run_dir is not None:
            print(f"results: {res.run_dir}")
        if sweep is not None:
            sweep.add(jobs[i], res)
            if i == 0:
                sweep_base = results_dir(res)        # the sweep's folder sits beside its first job's run
    if sweep is not None:
        return _write_sweep(sweep, plans, sweep_base)
    return 0


def _write_sweep(sweep: Sweep, plans, sweep_base: Path) -> int:
    """Print the sweep's summary and (unless output.write=false) store it beside its first job's run."""
    print(sweep_text(sweep))
    first = plans[0].arms[plans[0].reference]
    if first.output.write:
        d = _stored(lambda: write_sweep(sweep, sweep_base, figures=first.output.figures), first.output.dir)
        if isinstance(d, int):
            return d
        print(f"sweep: {d}")
    return 0


def _calibrate(jobs: list[list[str]], plans) -> int:
    """One calibration per job; exit 0 if every one converged, 1 if one did not, 2 for bad input."""
    status = 0
    for i, (job, p) in enumerate(zip(jobs, plans)):
        cfg = p.arms[p.reference]
        cal = cfg.calibration
        pairs = " and ".join(f"{f.parameter} to {f.kpi}" for f in calibration_pairs(cfg))
        print(f"{'[%d/%d] ' % (i + 1, len(jobs)) if len(jobs) > 1 else ''}calibrating {cfg.municipality.name}: "
              f"{pairs}{' jointly' if cal.joint else ''} "
              f"({replications_text(cfg.run.replications)} per evaluation, "
              f"at most {cal.max_evaluations} evaluations)", flush=True)
        try:
            c = calibrate(job)
        except ConfigError as err:
            return _input_error(err)
        print(calibration_text(c))
        if cfg.output.write:
            d = _stored(lambda: write_calibration(c, figures=cfg.output.figures), cfg.output.dir)
            if isinstance(d, int):
                return d
            print(f"calibration: {d}\nrun at the fitted value: {c.result.run_dir}")
        if not c.converged:
            print(f"warning: not within +-{cal.relative_tolerance:.1%} of the target in {len(c.evaluations)} evaluations "
                  f"({'; '.join(unmet(c))}); the best values are shown", file=sys.stderr)
            status = 1
    return status


def _sensitivity(overrides: list[str]) -> int:
    def header(ref, arms) -> str:
        n = 1 + 2 * sum(not switched_off(ref, p.key) for p in ref.sensitivity.parameters)
        return (f"sensitivity of {ref.sensitivity.kpi}: {len(arms) - 1} scenario(s) against the reference, "
                f"{n} runs of {len(arms)} arms")
    return _analysis(overrides, "sensitivity", header, sensitivity, sensitivity_text, write_sensitivity)


def _uncertainty(overrides: list[str]) -> int:
    def header(ref, arms) -> str:
        u = ref.uncertainty
        n_par = sum(not switched_off(ref, p.key) for p in parameter_ranges(ref)[1])
        return (f"uncertainty of {u.kpi}: {len(arms) - 1} scenario(s) against the reference, {n_par} parameters at "
                f"once, {u.samples} parameter sets + the defaults, {len(arms)} arms each")
    return _analysis(overrides, "uncertainty", header, uncertainty, uncertainty_text, write_uncertainty)


def _analysis(overrides: list[str], name: str, header, run, text, write) -> int:
    """--sensitivity and --uncertainty: validate, say what will run, run it with progress lines, print
    the summary, store it (exit 2 for bad input, 1 if it cannot be stored)."""
    try:
        p = plan(overrides)
        arms = p.arms
        ref = next(iter(arms.values()))
        _check_schedulers([p], keep=True)             # a Dask scheduler out of reach: before anything runs
        checked = _preflight([ref])                  # output.dir, before anything runs
        if checked:
            return checked
        print(header(ref, arms), flush=True)
        result = run(overrides, echo=_echo)
    except ConfigError as err:
        return _input_error(err)
    print(text(result))
    if ref.output.write:
        d = _stored(lambda: write(result, base_dir(ref.output.dir), figures=ref.output.figures), ref.output.dir)
        if isinstance(d, int):
            return d
        print(f"{name}: {d}")
    return 0


def _check_schedulers(plans, keep: bool) -> None:
    """ConfigError (one line) if a job asks for a Dask scheduler (run.backend=dask, run.dask_scheduler) that does
    not answer: found before any job runs or anything is written (``sim.runner.check_dask``). With ``keep`` the
    connection is kept for the runs of this process."""
    runs = [p.arms[p.reference].run for p in plans]
    for run in {(r.backend, r.dask_scheduler): r for r in runs}.values():
        check_dask(run, keep=keep)


def _preflight(cfgs) -> int:
    """Check every output.dir that will be written before anything is simulated (``check_output_dir``):
    0 if all can be used, else 2 after a one-line error; a repaired catalog is noted in one line."""
    for where in dict.fromkeys(c.output.dir for c in cfgs if c.output.write):
        try:
            check_output_dir(where, echo=_note)
        except OutputDirError as err:
            print(f"error: output.dir = {where!r}: {err}", file=sys.stderr)
            return 2
    return 0


def _catalog(args: list[str]) -> int:
    """``python -m sim catalog rebuild [output.dir=...]``: recreate results.duckdb from the folders."""
    if any(a in ("-h", "--help") for a in args):
        print(CATALOG_USAGE)
        return 0
    if args[:1] != ["rebuild"]:
        print(f"error: python -m sim catalog takes 'rebuild' (got {' '.join(args) or 'nothing'}); "
              f"see python -m sim catalog --help", file=sys.stderr)
        return 2
    other = [a for a in args[1:] if override_key(a).strip() != "output.dir" and not _is(override_key(a), "hydra")]
    if other:
        print(f"error: {other[0]}: catalog rebuild takes only output.dir=<folder> (nothing else changes what it "
              f"does); drop it", file=sys.stderr)
        return 2
    try:
        arms = plan(args[1:]).arms                    # the configured output.dir, with any overrides
        where = next(iter(arms.values())).output.dir
    except ConfigError as err:
        return _input_error(err)
    base = base_dir(where)
    problem = (store.name_problem(base) or ("" if base.is_dir() else
               f"not a folder ({base} is a file)" if base.exists() else f"no such folder ({base})"))
    if problem:
        print(f"error: output.dir = {where!r}: {problem}", file=sys.stderr)
        return 2
    try:
        print(rebuild_catalog(base))
    except (OSError, duckdb.Error) as err:
        print(f"error: output.dir = {where!r}: could not rebuild the catalog: {' '.join(str(err).split())}",
              file=sys.stderr)
        return 1
    return 0


def _note(line: str) -> None:
    """A one-line notice (e.g. a catalog rebuilt before a run) on stderr."""
    print(line, file=sys.stderr, flush=True)


def _input_error(err: ConfigError) -> int:
    """One line on stderr; exit 2 for bad input, or the error's own code (RunFault: 1)."""
    print(f"error: {err}", file=sys.stderr)
    return getattr(err, "exit_code", 2)


def _stored(write, where: str):
    """What ``write()`` returns, or the exit code of a one-line error if results/ cannot be written."""
    try:
        out = write()
    except (OSError, duckdb.Error) as err:
        return _store_error(where, err)
    kept = getattr(out, "run_dir", out)          # a run's folder, or the folder an analysis wrote
    if kept is not None:
        _KEPT.append(kept)
    return out


def _store_error(where: str, err: Exception) -> int:
    print(f"error: could not store the results under output.dir = {where!r}: {' '.join(str(err).split())}",
          file=sys.stderr)
    return 1


def _echo(line: str) -> None:
    """Progress lines of a long analysis, flushed at once so a log file shows them as they happen."""
    print(line, flush=True)


# --- the Hydra application: what a command line that asks for Hydra runs, after every job has been validated here
SWEEP_ENV = "SIM_SWEEP_ID"          # a sweep's id, set in each job's process by Hydra (hydra.job.env_set)
JOBS_ENV = "SIM_HYDRA_JOBS"         # the folder where each job leaves job-<n>.json: its pid, code, run
_log = logging.getLogger(__name__)


QUIET_LOGGERS = ("matplotlib", "PIL", "fontTools")     # libraries that log INFO lines no reader of a job needs


def _hydra_task(cfg) -> int:
    """One Hydra job, in whatever process the launcher gives it: the plan from the job's own overrides
    (Hydra's, minus its ``hydra`` ones), run and stored by ``run_plan`` (atomic run folder, catalog); its
    outcome is left in $SIM_HYDRA_JOBS/job-<n>.json for the command that launched it. Returns the exit code."""
    hc = HydraConfig.get()
    for noisy in QUIET_LOGGERS:      # Hydra's job logging is INFO for every logger: matplotlib's chatter goes
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger(noisy).level))
    overrides = [str(o) for o in hc.overrides.task]
    num = hc.job.get("num", 0) if hc.mode.name == "MULTIRUN" else 0
    status = {"job": num, "pid": os.getpid(), "overrides": overrides, "output_dir": hc.runtime.output_dir,
              "code": 0, "run_id": None, "run_dir": None}
    _log.info("job %s in process %d: %s", num, os.getpid(), " ".join(overrides) or "(no overrides)")
    try:
        p = plan(overrides)
    except ConfigError as err:
        status["code"] = _input_error(err)
    else:
        where = p.arms[p.reference].output.dir
        res = _stored(lambda: run_plan(p, sweep_id=os.environ.get(SWEEP_ENV) or None), where)
        if isinstance(res, int):
            status["code"] = res
        else:
            print(summary_text(res))
            if res.run_dir is not None:
                print(f"results: {res.run_dir}", flush=True)
                status.update(run_id=res.run_id, run_dir=str(res.run_dir))
    _log.info("job %s: exit %d%s", num, status["code"], f", run {status['run_dir']}" if status["run_dir"] else "")
    jobs_dir = os.environ.get(JOBS_ENV)
    if jobs_dir:
        tmp = Path(jobs_dir) / f".job-{num}.json.{os.getpid()}"
        tmp.write_text(json.dumps(status))
        tmp.replace(Path(jobs_dir) / f"job-{num}.json")
    return status["code"]


hydra_app = hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")(_hydra_task)
hydra_app.__doc__ = """The Hydra application (``@hydra.main`` on conf/, config ``config``): called without arguments it
parses ``sys.argv`` as Hydra does and runs ``_hydra_task`` once, or once per job through the launcher with -m."""


CHECK_PROGRESS_FROM = 20      # jobs: a sweep this large shows a progress bar while every job is validated


def _checking(jobs: list[list[str]]):
    """The jobs, with a progress bar on stderr while they are validated when there are many (a sweep over every
    municipality and a few settings takes minutes before its first job starts), unless output.progress=false."""
    quiet = any(o.replace(" ", "").lower() == "output.progress=false" for o in jobs[0]) if jobs else True
    if len(jobs) < CHECK_PROGRESS_FROM or quiet:
        return jobs
    from tqdm.auto import tqdm
    return tqdm(jobs, desc=f"checking {len(jobs)} jobs before any runs", unit="job", file=sys.stderr, leave=False)


def run_hydra(args: list[str], account=None) -> int:
    """Hand a command line to ``hydra_app`` (the scenario group registered first); its exit code. An error Hydra
    or its launcher raises (e.g. a job's process killed when the machine ran out of memory) is one line on stderr
    and exit 1 - with ``account()``, what the jobs left, appended - instead of Hydra's printed traceback."""
    register_scenarios()
    saved, full = sys.argv, os.environ.get(HYDRA_FULL_ERROR)
    # Hydra names the program in its help and completion scripts after sys.argv[0]: under python -m that is
    # sim/__main__.py, which cannot run as a script; tab completion works through the console script
    program = saved[0] if saved and not saved[0].endswith(".py") else CONSOLE_SCRIPT
    sys.argv = [program, *args]
    os.environ[HYDRA_FULL_ERROR] = "1"              # Hydra raises its errors here instead of printing them
    try:
        hydra_app()
    except SystemExit as done:                       # Hydra's errors, argparse's, --version
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except (KeyboardInterrupt, ConfigError):
        raise
    except Exception as err:  # noqa: BLE001 - Hydra's, its launcher's and the plugins' errors: one line
        if store.interrupted(err):
            raise
        text = " ".join(str(err).split())
        if type(err).__name__ == "TerminatedWorkerError":          # joblib's launcher: a worker was killed
            codes = re.search(r"exit codes of the workers are (\{[^}]*\})", text)
            text = (f"a job's process was ended from outside (exit {codes.group(1) if codes else 'unknown'}, e.g. "
                    f"killed when the machine ran out of memory) and the launcher stopped the sweep")
        more = account() if account else ""
        # a job's progress bar cut off by the failure leaves the line open: the error starts a line of its own
        start = "\r\x1b[K" if sys.stderr.isatty() else "\n"
        print(f"{start}error: {type(err).__name__}: {text or 'no message'}{'; ' + more if more else ''}",
              file=sys.stderr)
        return 1
    finally:
        sys.argv = saved
        if full is None:
            os.environ.pop(HYDRA_FULL_ERROR, None)
        else:
            os.environ[HYDRA_FULL_ERROR] = full
    return 0


HYDRA_FULL_ERROR = "HYDRA_FULL_ERROR"
CONSOLE_SCRIPT = "staircase-sim"            # pyproject.toml [project.scripts]
TYPE_WORDS = {"Integer": "a whole number", "Float": "a number", "Boolean": "true or false", "String": "text"}


def _jobs_account(jobs: list[list[str]], jobs_dir: Path) -> str:
    """What the jobs of a launch left: the runs kept, and the jobs to run again."""
    statuses = _job_statuses(jobs_dir)
    kept = [s["run_dir"] for s in statuses if s["run_dir"]]
    done = {frozenset(s["overrides"]) for s in statuses if s["run_dir"]}
    swept = set(swept_keys(jobs)) if len(jobs) > 1 else set()
    again = [" ".join(o for o in job if not swept or override_key(o) in swept) or "(no overrides)"
             for job in jobs if frozenset(job) not in done]
    text = f"{len(kept)} of {len(jobs)} job(s) finished" + (f", runs kept: {', '.join(kept)}" if kept else "")
    return text + (f"; not finished: {' | '.join(again)}" if again else "")


HYDRA_DIRS = ("hydra.sweep.dir", "hydra.run.dir")       # folders Hydra creates for its jobs, when given


def check_hydra_dirs(hydra_overrides: list[str]) -> None:
    """ConfigError (one line) unless every folder given as hydra.sweep.dir or hydra.run.dir exists as a folder
    this user can write, or can be created (its nearest existing parent is such a folder): checked before any job
    runs, as output.dir is, since Hydra would fail with a traceback only when it creates the folder. A value with
    an interpolation (${...}) is Hydra's to resolve and is not checked here."""
    for o in hydra_overrides:
        key = override_key(o)
        if key not in HYDRA_DIRS or "=" not in o or o.startswith("~"):
            continue
        value = o.split("=", 1)[1].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if "${" in value:
            continue
        problem = store.folder_problem(Path(value).expanduser())
        if problem:
            raise ConfigError(f"{key} = {value!r}: {problem}; allowed: a folder this user can write or create")


# launchers whose jobs run in worker processes of this machine, which cannot start a Dask LocalCluster's processes
IN_PROCESS_POOL_LAUNCHERS = ("joblib",)


def check_launcher_backend(hydra_overrides: list[str], plans) -> None:
    """ConfigError (one line) for run.backend=dask without a scheduler under the joblib launcher: every job would
    start a LocalCluster inside a loky worker, whose nannies fail to start (every job fails)."""
    launcher = next((o.split("=", 1)[1].strip() for o in reversed(hydra_overrides)
                     if override_key(o) == "hydra/launcher" and "=" in o), "basic")
    if launcher not in IN_PROCESS_POOL_LAUNCHERS:
        return
    for p in plans:
        run = p.arms[p.reference].run
        if run.backend == "dask" and run.dask_scheduler is None:
            raise ConfigError(f"run.backend = 'dask' without run.dask_scheduler under hydra/launcher={launcher}: "
                              f"every job would start a Dask LocalCluster inside the launcher's worker process, "
                              f"which cannot start its workers; allowed: run.dask_scheduler=<address> (one cluster "
                              f"for every job), run.backend=local, or no launcher (the jobs one after the other)")


def _quoted(path: Path) -> str:
    """A path as a quoted value of a Hydra override."""
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _via_hydra(a: Args, jobs: list[list[str]], plans) -> int:
    """Run the validated jobs through the Hydra application (its launcher with -m), or let Hydra print a
    configuration (--cfg job|hydra|all). Hydra's own folder goes under output.dir/hydra/ unless given."""
    first = plans[0].arms[plans[0].reference]
    sweep = Sweep(new_sweep_id(jobs), swept_keys(jobs)) if a.multirun or len(plans) > 1 else None
    name = sweep.sweep_id if sweep else new_id("hydra", jobs, _dt.datetime.now())
    jobs_dir = base_dir(first.output.dir) / "hydra" / name
    given = {override_key(o) for o in a.hydra_overrides}
    dirs = [f"hydra.{m}.dir={_quoted(jobs_dir)}" for m in ("run", "sweep") if f"hydra.{m}.dir" not in given]
    if a.hydra_cfg and a.package and a.hydra_cfg != "hydra" and a.package.split(".")[0] != "hydra":
        node = plans[0].tree                       # the job's configuration: the package must be a key of it
        for part in a.package.split("."):
            if not isinstance(node, dict) or part not in node:
                return _input_error(ConfigError(
                    f"--package {a.package}: not in the job's configuration; allowed: one of {', '.join(plans[0].tree)}"
                    f", or a key below one (e.g. casework.staffing)"))
            node = node[part]
    if a.hydra_cfg:                 # Hydra prints a configuration (it takes no -m with --cfg): one per job
        flags = [f"--cfg={a.hydra_cfg}"] + (["--resolve"] if a.resolve else []) + \
            ([f"--package={a.package}"] if a.package else [])
        for i, job in enumerate(jobs):
            if len(jobs) > 1:
                print(f"# [{i + 1}/{len(jobs)}] {' '.join(job)}", flush=True)
            code = run_hydra(flags + quote_names(job) + a.hydra_overrides + dirs)
            if code:
                return code
        return 0
    try:
        check_launcher_backend(a.hydra_overrides, plans)
        check_hydra_dirs(a.hydra_overrides)                         # Hydra's folders, before anything runs
        _check_schedulers(plans, keep=False)                        # the jobs connect in their own processes
    except ConfigError as err:
        return _input_error(err)
    checked = _preflight([p.arms[p.reference] for p in plans])     # output.dir, before anything runs
    if checked:
        return checked
    extra = dirs + [f"+hydra.job.env_set.{JOBS_ENV}={_quoted(jobs_dir)}"]
    extra += [f"+hydra.job.env_set.{SWEEP_ENV}={sweep.sweep_id}"] if sweep else []
    try:
        jobs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return _store_error(first.output.dir, err)
    try:
        code = run_hydra((["-m"] if a.multirun else []) + quote_names(a.overrides) + a.hydra_overrides + extra,
                         account=lambda: _jobs_account(jobs, jobs_dir))
    except KeyboardInterrupt:
        _KEPT.extend(s["run_dir"] for s in _job_statuses(jobs_dir) if s["run_dir"])
        raise
    if code and not _job_statuses(jobs_dir):        # Hydra failed before any job ran: its bookkeeping goes too
        _remove_jobs_dir(jobs_dir)
    return _after_hydra(code, jobs, plans, sweep, jobs_dir)


def _remove_jobs_dir(jobs_dir: Path) -> None:
    """Remove a Hydra jobs folder (output.dir/hydra/<id>) that no job wrote to, and output.dir/hydra if empty."""
    shutil.rmtree(jobs_dir, ignore_errors=True)
    try:
        jobs_dir.parent.rmdir()
    except OSError:                  # other sweeps' folders are there (or it is gone already)
        pass


def _job_statuses(jobs_dir: Path) -> list[dict]:
    """What the jobs left in ``jobs_dir`` (job-<n>.json), by job number."""
    out = []
    for f in jobs_dir.glob("job-*.json"):
        try:
            out.append(json.loads(f.read_text()))
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda s: s["job"])


def _after_hydra(code: int, jobs, plans, sweep: Sweep | None, jobs_dir: Path) -> int:
    """The command's exit code once Hydra has returned: Hydra's if it failed, 1 if a job did not leave a run
    (or its own exit code), else 0 after the sweep's summary across the jobs (read from their run folders)."""
    statuses = _job_statuses(jobs_dir)
    _KEPT.extend(s["run_dir"] for s in statuses if s["run_dir"] and s["run_dir"] not in map(str, _KEPT))
    if code:
        return code
    failed = [s for s in statuses if s["code"]]
    missing = len(jobs) - len(statuses)
    if failed or missing > 0:
        what = [f"job {s['job']} ({' '.join(s['overrides'])}) exit {s['code']}" for s in failed]
        what += [f"{missing} job(s) left no outcome in {jobs_dir}"] if missing > 0 else []
        print(f"error: {len(failed) + max(missing, 0)} of {len(jobs)} job(s) did not finish: {'; '.join(what)}",
              file=sys.stderr)
        return max([s["code"] for s in failed] + [1])
    if sweep is None or not all(s["run_dir"] for s in statuses):
        return 0
    by_job = {frozenset(job): p for job, p in zip(jobs, plans)}
    for s in statuses:
        p = by_job.get(frozenset(s["overrides"])) or plan(s["overrides"])
        sweep.add(s["overrides"], stored_results(p, Path(s["run_dir"]), s["run_id"]))
    return _write_sweep(sweep, plans, base_dir(plans[0].arms[plans[0].reference].output.dir))


def stored_results(p, run_dir: Path, run_id: str) -> Results:
    """A job's Results as its run folder stored them (the tables the sweep's summary reads; no per-child
    ledger): how the sweep's summary gets the runs of jobs that ran in other processes."""
    tables = {t: pd.read_parquet(run_dir / f"{t}.parquet").drop(columns="run_id", errors="ignore")
              for t in ("kpis", "timeseries", "summary", "comparison")}
    return Results(reference=p.reference, arms=list(p.arms), children=pd.DataFrame(), plan=p, run_id=run_id,
                   run_dir=run_dir, **tables)
# --- end the Hydra application


# --- profiles: python -m sim profiles <file.csv> [--calibrate] [--force] [key=value ...] (sim.analyses.profiles)
def _profiles(args: list[str]) -> int:
    """``python -m sim profiles <file.csv> [--calibrate] [--force] [key=value ...]``: one municipality profile
    (conf/municipality/<name>.yaml) per row of a CSV of key figures, each calibrated with --calibrate (the
    overrides apply to the calibration); a bad CSV is every bad row on stderr, exit 2, nothing written."""
    if any(a in ("-h", "--help") for a in args):
        print("usage: python -m sim profiles <file.csv> [--calibrate] [--force] [key=value ...]\n\n"
              "One municipality profile conf/municipality/<name>.yaml per row of the CSV (columns: see the README,\n"
              "'Profiles from a CSV of key figures'); --calibrate fits each as python -m sim --calibrate does, with the\n"
              "overrides, and writes the fitted value into the profile; --force replaces existing profiles.")
        return 0
    files = [a for a in args if not a.startswith("-") and ("=" not in a or a.lower().endswith(".csv"))]
    unknown = [a for a in args if a.startswith("-") and a not in ("--calibrate", "--force")]
    if unknown or len(files) != 1:
        print(f"error: python -m sim profiles takes one CSV file and --calibrate, --force or key=value overrides "
              f"(got {' '.join(unknown) or ', '.join(files) or 'no file'}); see python -m sim profiles --help",
              file=sys.stderr)
        return 2
    overrides = [a for a in args if a not in files and not a.startswith("-")]
    return make_profiles(files[0], calibrating="--calibrate" in args, force="--force" in args, overrides=overrides,
                         echo=_echo, warn=lambda line: print(line, file=sys.stderr, flush=True))
# --- end profiles
