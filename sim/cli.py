"""Command line: ``python -m sim [-m] [--cfg] [key=value ...]``.

Overrides use Hydra's syntax and are composed with Hydra's compose API on ``conf/``.
``-m``/``--multirun`` expands sweeps (``key=a,b``, ``range(...)``, ``choice(...)``, ``glob(...)``) into one run
per combination, like Hydra's basic sweeper; each run gets its own folder and catalog entry.
Every combination is validated before the first one runs; after the last, the sweep's summary
across its jobs is written to results/sweeps/<sweep id>/ (see ``sim.sweep``).
"""
from __future__ import annotations

import itertools
import os
import signal
import sys
import threading

import duckdb
import yaml

from .analyses.calibrate import calibrate, calibration_text, unmet, write_calibration
from .analyses.sensitivity import sensitivity, sensitivity_text, write_sensitivity
from .analyses.sweep import Sweep, new_sweep_id, sweep_text, swept_keys, write_sweep
from .analyses.uncertainty import parameter_ranges, uncertainty, uncertainty_text, write_uncertainty
from .api import run_plan
from .config import CONF_DIR, SCENARIO_DIR, ConfigError, available_scenarios, calibration_pairs, plan
from .config.compose import SCENARIO_GROUP
from .publish import results_dir
from .report.text import summary_text
from .store import OutputDirError, base_dir, check_output_dir, rebuild_catalog

USAGE = """usage: python -m sim [-m|--multirun] [--calibrate | --sensitivity | --uncertainty] [--cfg] [--list-scenarios] [key=value ...]
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
  --cfg            print the composed configuration of the reference arm and exit
  --list-scenarios print the scenarios in scenarios/ and exit

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


def expand_sweeps(overrides: list[str]) -> list[list[str]]:
    """Every job of a sweep: the product of the values of each swept key (Hydra's override grammar)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ValueType

    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(overrides)
    except Exception as err:  # hydra raises OverrideParseException
        raise ConfigError(f"overrides {overrides}: {str(err).splitlines()[0]}") from None
    axes = []
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
            axes.append([f"{key}={v}" for v in values])
        elif o.is_sweep_override():
            if o.value_type == ValueType.INTERVAL_SWEEP:
                raise ConfigError(f"{o.input_line}: interval() is for optimising sweepers; a sweep here takes "
                                  f"a list (a,b), range(), choice(), or glob() over a config group")
            axes.append([f"{key}={v}" for v in o.sweep_string_iterator()])
        else:
            axes.append([f"{key}={o.get_value_element_as_str()}"])
    return [list(combo) for combo in itertools.product(*axes)]


def group_options(group: str) -> list[str]:
    """The options of a config group (its YAML files), or [] if there is no such group."""
    d = SCENARIO_DIR if group == SCENARIO_GROUP else CONF_DIR / group
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


# --- interrupts: Ctrl-C (SIGINT) and SIGTERM end a run with one line, exit 130 or 143; the atomic writes leave
# nothing half-written, and what was stored before is named
_KEPT: list = []          # the folders stored by this command so far


class Terminated(KeyboardInterrupt):
    """SIGTERM (e.g. a scheduler cancelling the job), raised like Ctrl-C so that every clean-up runs."""


def _terminate(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """``python -m sim``: parse the arguments, call the pipeline or an analysis, print; returns the exit code.
    Bad input is one line on stderr and exit 2; Ctrl-C ends it with one line and exit 130 (SIGTERM: 143)."""
    _KEPT.clear()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        return _main(argv)
    except ConfigError as err:          # bad input found late (e.g. output.dir gone since the check): one line
        return _input_error(err)
    except KeyboardInterrupt as err:
        what, code = ("terminated", 143) if isinstance(err, Terminated) else ("interrupted", 130)
        kept = f"kept {', '.join(str(k) for k in _KEPT)}; nothing more was written" if _KEPT else "nothing was written"
        print(f"{what}: {kept}", file=sys.stderr, flush=True)
        return code
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
# --- end interrupts


def _main(argv: list[str] | None = None) -> int:
    """What ``main`` does, without its handling of interrupts."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MPLBACKEND", "Agg")       # figures are files here, never windows
    if argv[:1] == ["catalog"]:
        return _catalog(argv[1:])
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    if "--list-scenarios" in argv:
        print("\n".join(available_scenarios()))
        return 0
    multirun = any(a in ("-m", "--multirun") for a in argv)
    show_cfg = "--cfg" in argv
    calibrating = "--calibrate" in argv
    sensitivity = "--sensitivity" in argv
    uncertain = "--uncertainty" in argv
    overrides = [a for a in argv if a not in ("-m", "--multirun", "--cfg", "--calibrate", "--sensitivity",
                                              "--uncertainty")]
    unknown = [a for a in overrides if a.startswith("-")]
    if unknown:
        print(f"error: unknown option {unknown[0]!r}; see python -m sim --help", file=sys.stderr)
        return 2
    for flag, on in (("--sensitivity", sensitivity), ("--uncertainty", uncertain)):
        if on and (multirun or calibrating or (sensitivity and uncertain)):
            print(f"error: {flag} runs its own set of runs; it cannot be combined with -m, --calibrate, "
                  f"--sensitivity or --uncertainty", file=sys.stderr)
            return 2
    if sensitivity and not show_cfg:
        return _sensitivity(overrides)
    if uncertain and not show_cfg:
        return _uncertainty(overrides)
    try:
        jobs = expand_sweeps(overrides) if multirun else [overrides]
        plans = [plan(job) for job in jobs]          # validate everything before running anything
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if show_cfg:
        for p in plans:
            print(yaml.safe_dump(p.tree, sort_keys=False, allow_unicode=True))
        return 0
    checked = _preflight([p.arms[p.reference] for p in plans])     # output.dir, before anything runs
    if checked:
        return checked
    if calibrating:
        return _calibrate(jobs, plans)
    sweep = Sweep(new_sweep_id(jobs), swept_keys(jobs)) if len(plans) > 1 else None
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
              f"{pairs}{' jointly' if cal.joint else ''} ({cfg.run.replications} replications per evaluation, "
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
        n = 1 + 2 * len(ref.sensitivity.parameters)
        return (f"sensitivity of {ref.sensitivity.kpi}: {len(arms) - 1} scenario(s) against the reference, "
                f"{n} runs of {len(arms)} arms")
    return _analysis(overrides, "sensitivity", header, sensitivity, sensitivity_text, write_sensitivity)


def _uncertainty(overrides: list[str]) -> int:
    def header(ref, arms) -> str:
        u = ref.uncertainty
        n_par = len(parameter_ranges(ref)[1])
        return (f"uncertainty of {u.kpi}: {len(arms) - 1} scenario(s) against the reference, {n_par} parameters at "
                f"once, {u.samples} parameter sets + the defaults, {len(arms)} arms each")
    return _analysis(overrides, "uncertainty", header, uncertainty, uncertainty_text, write_uncertainty)


def _analysis(overrides: list[str], name: str, header, run, text, write) -> int:
    """--sensitivity and --uncertainty: validate, say what will run, run it with progress lines, print
    the summary, store it (exit 2 for bad input, 1 if it cannot be stored)."""
    try:
        arms = plan(overrides).arms
        ref = next(iter(arms.values()))
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
    try:
        arms = plan(args[1:]).arms                    # the configured output.dir, with any overrides
        where = next(iter(arms.values())).output.dir
    except ConfigError as err:
        return _input_error(err)
    base = base_dir(where)
    if not base.is_dir():
        print(f"error: output.dir = {where!r}: no such folder ({base})", file=sys.stderr)
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
    print(f"error: {err}", file=sys.stderr)
    return 2


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
