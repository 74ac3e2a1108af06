"""Command line: ``python -m sim [-m] [--cfg] [key=value ...]``.

Overrides use Hydra's syntax and are composed with Hydra's compose API on ``conf/``.
``-m``/``--multirun`` expands sweeps (``key=a,b``, ``range(...)``, ``choice(...)``) into one run
per combination, like Hydra's basic sweeper; each run gets its own folder and catalog entry.
Every combination is validated before the first one runs.
"""
from __future__ import annotations

import itertools
import os
import sys

from .config import ConfigError, available_scenarios, plan

USAGE = """usage: python -m sim [-m|--multirun] [--cfg] [--list-scenarios] [key=value ...]

Runs the staircase simulation. By default the reference scenario (scenario=baseline) is compared
with the scenarios in `compare` under common random numbers; compare=[] runs one scenario.

  key=value        override any configuration key (Hydra syntax), e.g. run.replications=10
  group=option     choose a config group option, e.g. municipality=kolding, scenario=earlier_detection
  scenario=[a,b]   compose scenarios
  -m, --multirun   sweep: key=a,b runs one job per value (and per combination of several keys)
  --cfg            print the composed configuration of the reference arm and exit
  --list-scenarios print the scenarios in scenarios/ and exit

Results go to results/<run id>/ and the catalog results/results.duckdb.
"""


def expand_sweeps(overrides: list[str]) -> list[list[str]]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(overrides)
    except Exception as err:  # hydra raises OverrideParseException
        raise ConfigError(f"overrides {overrides}: {str(err).splitlines()[0]}") from None
    axes = []
    for o in parsed:
        key = o.get_key_element()
        if o.is_sweep_override():
            axes.append([f"{key}={v}" for v in o.sweep_string_iterator()])
        else:
            axes.append([f"{key}={o.get_value_element_as_str()}"])
    return [list(combo) for combo in itertools.product(*axes)]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MPLBACKEND", "Agg")       # figures are files here, never windows
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    if "--list-scenarios" in argv:
        print("\n".join(available_scenarios()))
        return 0
    multirun = any(a in ("-m", "--multirun") for a in argv)
    show_cfg = "--cfg" in argv
    overrides = [a for a in argv if a not in ("-m", "--multirun", "--cfg")]
    unknown = [a for a in overrides if a.startswith("-")]
    if unknown:
        print(f"error: unknown option {unknown[0]!r}; see python -m sim --help", file=sys.stderr)
        return 2
    try:
        jobs = expand_sweeps(overrides) if multirun else [overrides]
        plans = [plan(job) for job in jobs]          # validate everything before running anything
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if show_cfg:
        import yaml
        for p in plans:
            print(yaml.safe_dump(p.tree, sort_keys=False, allow_unicode=True))
        return 0
    import duckdb

    from .report import summary_text
    from .runner import execute
    from .store import write_run
    for i, p in enumerate(plans):
        if len(plans) > 1:
            print(f"[{i + 1}/{len(plans)}] {' '.join(p.overrides)}", flush=True)
        res = execute(p)
        cfg = p.arms[p.reference]
        if cfg.output.write:
            try:
                write_run(res)                       # atomic: on failure nothing is left behind
            except (OSError, duckdb.Error) as err:
                print(f"error: could not store the run under output.dir = {cfg.output.dir!r}: "
                      f"{' '.join(str(err).split())}", file=sys.stderr)
                return 1
        print(summary_text(res))
        if res.run_dir is not None:
            print(f"results: {res.run_dir}")
    return 0
