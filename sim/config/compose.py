"""Composition: Hydra's compose API on ``conf/`` with the user's overrides, into a validated Config.

The ``scenario`` group is the top-level ``scenarios/`` folder, added to Hydra's search path. Every problem -
a YAML file that does not parse or gives a key twice, an unknown option or key, a value out of range - is
one line in a :class:`ConfigError`, never a traceback of Hydra's.
"""
from __future__ import annotations

import contextlib
import difflib
import json
import re
from pathlib import Path

import yaml
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.utils import JobRuntime
from omegaconf import OmegaConf, open_dict
from omegaconf._utils import get_yaml_loader
from pydantic import ValidationError

from ..common.paths import CONF_DIR, ROOT, SCENARIO_DIR
from .errors import ConfigError
from .schema import BASELINE, MAX_NUMBER, Config, available_scenarios

SCENARIO_GROUP = "scenario"      # the config group whose options are the files of scenarios/
MERGE_TAG = "tag:yaml.org,2002:merge"


# --------------------------------------------------------------------------- YAML files

class StrictLoader(get_yaml_loader()):
    """OmegaConf's YAML loader (the one Hydra reads conf/ with) that refuses a key given twice in a mapping."""

    def construct_mapping(self, node, deep=False):
        """A mapping, unless one of its keys is given twice (the second would silently win)."""
        first: dict = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != MERGE_TAG:
                key = (key_node.tag, key_node.value)
                if key in first:
                    raise yaml.constructor.ConstructorError(
                        f"first at line {first[key] + 1}", node.start_mark,
                        f"found duplicate key {key_node.value!r}", key_node.start_mark)
                first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def compose_document(self):
        """The document's node, unless its anchors and aliases expand to more than MAX_YAML_VALUES values (a
        few lines can stand for billions: Hydra would build every one, for minutes, in gigabytes of memory)."""
        node = super().compose_document()
        if node is not None and _expanded_size(node, {}, set()) > MAX_YAML_VALUES:
            raise yaml.composer.ComposerError(
                None, None, f"its anchors and aliases (&, *) expand to more than {MAX_YAML_VALUES:,} values; allowed: "
                            f"at most {MAX_YAML_VALUES:,} (a file of settings has a few hundred)", node.start_mark)
        return node


MAX_YAML_VALUES = 100_000       # values a configuration file may stand for, its aliases expanded


def _expanded_size(node, seen: dict, open_: set) -> int:
    """The number of values ``node`` stands for with every alias expanded (more than MAX_YAML_VALUES: stops
    counting); a node that contains itself counts as too many."""
    key = id(node)
    if key in seen:
        return seen[key]
    if key in open_:
        return MAX_YAML_VALUES + 1
    open_.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    else:
        children = []
    for child in children:
        size += _expanded_size(child, seen, open_)
        if size > MAX_YAML_VALUES:
            break
    open_.discard(key)
    seen[key] = size
    return size


def shown_path(path) -> str:
    """A file's path as the user knows it: relative to the checkout when inside it."""
    p = Path(str(path))
    try:
        return str(p.resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


def yaml_problem(err: yaml.YAMLError, path=None) -> str:
    """One line, ``<file>:<line>:<column>: <problem>``, for a YAML file that cannot be read."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    name = mark.name if mark is not None and mark.name and not str(mark.name).startswith("<") else path
    where = shown_path(name) if name else "a YAML file"
    if mark is not None:
        where += f":{mark.line + 1}:{mark.column + 1}"
    problem = getattr(err, "problem", None) or str(err)
    context = getattr(err, "context", None)
    if context and context != "while constructing a mapping":
        problem += f" ({context})"
    if problem.startswith("found duplicate key"):
        problem += "; a key may be given only once in a mapping"
    return " ".join(f"{where}: {problem}".split())


_LOADED: dict[Path, tuple[tuple[int, int], object]] = {}      # path -> ((mtime, size), content)


def load_yaml(path: Path):
    """The content of a YAML file of the configuration; ConfigError (``<file>:<line>:<column>: <problem>``)
    if it does not parse or gives a key twice. Read again only when the file has changed."""
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if path in _LOADED and _LOADED[path][0] == stamp:
            return _LOADED[path][1]
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=StrictLoader)
    except yaml.YAMLError as err:
        raise ConfigError(yaml_problem(err, path)) from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{shown_path(path)}: cannot be read: byte {err.start + 1} is not UTF-8 ({err.reason}); "
                          f"allowed: a text file in UTF-8") from None
    except OSError as err:
        raise ConfigError(f"{shown_path(path)}: cannot be read ({' '.join(str(err).split())})") from None
    _LOADED[path] = (stamp, data)
    return data


def scenario_node(path: Path):
    """A scenario file as a config node, if it parses and describes itself under its own name in scenario_info
    (a combined arm a+b then has the description of both); ConfigError otherwise."""
    data = load_yaml(path)
    data = {} if data is None else data
    where = shown_path(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a scenario is a mapping of keys, not a {type(data).__name__}")
    info = data.get("scenario_info")
    names = [str(k) for k in info] if isinstance(info, dict) else []
    if not names:
        raise ConfigError(f"{where}: scenario_info.{path.stem}: missing; a scenario describes itself (description, "
                          f"sources, investment) under its file's name")
    for name in names:
        if name != path.stem:
            raise ConfigError(f"{where}: scenario_info.{name}: not this file's name; allowed: scenario_info."
                              f"{path.stem} only (a scenario describes itself under its file's name)")
    return OmegaConf.create(data)


# --------------------------------------------------------------------------- overrides

def check_overrides(overrides, name: str = "overrides") -> list[str]:
    """``overrides`` as a list if it is a list (or tuple) of 'key=value' strings; ConfigError otherwise."""
    if isinstance(overrides, (list, tuple)):
        bad = [o for o in overrides if not isinstance(o, str)]
        if bad:
            raise ConfigError(f"{name} = {list(overrides)!r}: every entry must be a 'key=value' string; "
                              f"{bad[0]!r} is not")
        for o in overrides:
            problem = _malformed(o)
            if problem:
                raise ConfigError(f"override {o!r}: {problem}; allowed: key=value (e.g. run.seed=1), "
                                  f"group=option (e.g. municipality=kolding), +key=value or ~key")
            problem = _unreadable(quote_names([o])[0])
            if problem:         # a config group's option is a name of its files: those are what to say then
                raise ConfigError(_group_choice_problem(o) or f"override {o!r}: {problem}")
        return list(overrides)
    example = [overrides] if isinstance(overrides, str) and "=" in overrides else ["run.seed=1"]
    raise ConfigError(f"{name} = {overrides!r}: must be a list of 'key=value' strings, e.g. {json.dumps(example)}")


def _malformed(override: str) -> str:
    """What is wrong with the shape of one override before Hydra reads it ('' if nothing): Hydra's own messages
    for these name no key (an empty string; '=1')."""
    if not override.strip():
        return "empty"
    key = override_key(override).strip()
    if not key:
        return "no key before '='"
    if "=" not in override and not override.lstrip().startswith("~"):
        return "no '=' and no value"
    return ""


def _unreadable(override: str) -> str:
    """Why Hydra's override grammar cannot read ``override`` ('' if it can), in words that help: Hydra's own
    message names no key and, for a character its lexer cannot read, only repeats the override."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    parser = OverridesParser.create()
    try:
        parser.parse_overrides([override])
        return ""
    except Exception as err:  # hydra raises OverrideParseException
        detail = (str(err).splitlines() or [type(err).__name__])[0]
    if not detail.startswith("LexerNoViableAltException"):
        return (f"Hydra's override grammar cannot read the value ({detail}); allowed: brackets [ ], braces {{ }} and "
                f"parentheses ( ) that match (a list [a,b], a mapping {{key: value}}), or text with them in quotes")
    head, value = override.split("=", 1)
    problem = ("Hydra's override grammar cannot read the value unquoted (a quote, '#', or a letter outside ASCII such "
               "as æ, ø, å); allowed: such a value in quotes")
    for quoted in ('"' + value + '"', "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"):
        try:
            parser.parse_overrides([f"{head}={quoted}"])
        except Exception:  # noqa: BLE001 (this quoting cannot be read either)
            continue
        return f"{problem}, e.g. {head}={quoted}" + ("" if "'" in quoted else f" (in a shell: '{head}={quoted}')")
    return problem


def override_key(override: str) -> str:
    """The key (or group) an override sets: ``run.seed`` for ``+run.seed=1``."""
    return override.split("=", 1)[0].lstrip("+~")


SCENARIO_NAME = re.compile(r"[\w-]+")        # a scenario file's name that can be selected: letters (æ, ø, å too),
SCENARIO_NAME_ALLOWED = "letters (æ, ø, å too), digits, '_' and '-'"     # digits, '_' and '-'
SCENARIO_KEYS = (SCENARIO_GROUP, "compare")   # the keys whose values name scenarios


def unquoted(text: str) -> str:
    """``text`` without one pair of quotes around it ('a' or "a" -> a)."""
    t = text.strip()
    return t[1:-1] if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"" else t


def quote_name(name: str) -> str:
    """A scenario name (or a+b) as Hydra's override grammar reads it: quoted if it has a letter outside ASCII
    (the grammar reads omstilling_æøå only in quotes); as given otherwise."""
    n = name.strip()
    if n.isascii() or n[:1] in "'\"" or not all(SCENARIO_NAME.fullmatch(part) for part in n.split("+")):
        return n
    return "'" + n + "'"


def _split_top(text: str) -> list[str]:
    """``text`` split at its commas outside brackets, parentheses, braces and quotes: 'a,[b,c],d' -> ['a',
    '[b,c]', 'd']."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


SWEEP_CHOICES = re.compile(r"(choice|shuffle)\((.*)\)", re.S)     # Hydra's sweeps whose arguments are values


def _quote_value(v: str) -> str:
    """A value of ``scenario=``/``compare=`` with each scenario name quoted as quote_name does - also within a
    list, a sweep's comma-separated choices (``a,[b],[c,d]``) and choice()/shuffle(); other sweeps (glob, range)
    and text in quotes as given."""
    v = v.strip()
    pieces = _split_top(v)
    if len(pieces) > 1:
        return ",".join(_quote_value(x) for x in pieces)
    if v.startswith("[") and v.endswith("]"):
        inner = v[1:-1]
        return "[" + ",".join(_quote_value(x) for x in _split_top(inner)) + "]" if inner.strip() else v
    m = SWEEP_CHOICES.fullmatch(v)
    if m:
        return f"{m.group(1)}(" + ",".join(_quote_value(x) for x in _split_top(m.group(2))) + ")"
    if v.startswith("{") or "(" in v:
        return v
    return quote_name(v)


def quote_names(overrides) -> list[str]:
    """The overrides with every scenario name of ``scenario=`` and ``compare=`` that has a letter outside ASCII
    quoted (``compare=[omstilling_æøå]`` -> ``compare=['omstilling_æøå']``, ``scenario=baseline,børn_først`` ->
    ``scenario=baseline,'børn_først'``): a scenario file may be named so, and Hydra's grammar reads such a name
    only in quotes. Other overrides are as given."""
    out = []
    for o in overrides:
        if isinstance(o, str) and "=" in o and not o.lstrip().startswith("~") \
                and override_key(o).strip() in SCENARIO_KEYS:
            head, value = o.split("=", 1)
            o = f"{head}={_quote_value(value)}"
        out.append(o)
    return out


def group_options(group: str) -> list[str]:
    """The options of a config group (its YAML files), or [] if there is no such group."""
    if group == SCENARIO_GROUP:
        return available_scenarios()
    d = CONF_DIR / group
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


# --------------------------------------------------------------------------- composing

_BROKEN: dict[str, str] = {}      # scenario -> why its file is not an option (one line), as of the last compose


def register_scenarios() -> None:
    """Make the files of scenarios/ the options of the ``scenario`` config group, as of now.

    Hydra's ConfigStore holds them (each a ``_global_`` overlay, as its ``# @package`` line says), so the
    group needs no folder or link under conf/ and a checkout on any system has its scenarios. The group is
    rebuilt at every call: a scenario file dropped in or edited since is seen. A file that does not parse,
    gives a key twice or describes itself under another name is left out, and its problem is the error of
    any configuration that selects it."""
    cs = ConfigStore.instance()
    cs.repo.pop(SCENARIO_GROUP, None)
    _BROKEN.clear()
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        if not SCENARIO_NAME.fullmatch(path.stem):
            _BROKEN[path.stem] = (f"{shown_path(path)}: the file name {path.stem!r} cannot name a scenario (it is "
                                  f"selected by its name in scenario= and compare=); allowed: {SCENARIO_NAME_ALLOWED} "
                                  f"- rename the file and its entry under scenario_info")
            continue
        try:
            node = scenario_node(path)
        except ConfigError as err:
            _BROKEN[path.stem] = str(err)
            continue
        cs.store(group=SCENARIO_GROUP, name=path.stem, node=node, package="_global_")


@contextlib.contextmanager
def _hydra_aside():
    """Inside a running Hydra application (a job of ``python -m sim -m hydra/launcher=...``, see sim.cli) the
    application's GlobalHydra is set aside while the compose API runs, and put back after."""
    running = GlobalHydra.instance().hydra
    name = JobRuntime().conf.get("name")        # the compose API renames the job ('app': the jobs' logs app.log)
    GlobalHydra.instance().clear()
    try:
        yield
    finally:
        if running is not None:
            GlobalHydra.instance().hydra = running
            JobRuntime().set("name", name)


def _compose(overrides: list[str]) -> dict:
    """Hydra's composition as a plain dict, after reading every file of conf/ it used with StrictLoader (the
    scenario files are read so by register_scenarios)."""
    register_scenarios()
    with _hydra_aside(), initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=overrides, return_hydra_config=True)
    choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
    load_yaml(CONF_DIR / "config.yaml")
    for group, option in choices.items():
        if isinstance(option, str) and not group.startswith("hydra") and group != SCENARIO_GROUP:
            load_yaml(CONF_DIR / group / f"{option}.yaml")
    with open_dict(cfg):
        del cfg["hydra"]
    return OmegaConf.to_container(cfg, resolve=True)


def compose_tree(overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """Compose conf/ (and the scenario group from scenarios/) with Hydra overrides into a plain, resolved dict;
    ConfigError (one line) for any problem, a file of conf/ or scenarios/ that cannot be read included."""
    overrides = check_overrides(overrides)
    own = [o for o in overrides if re.split(r"[./]", override_key(o))[0] == "hydra"]
    if own:         # Hydra's compose API would take them and the tree would drop them: silently ignored
        raise ConfigError(f"{own[0]}: Hydra's own configuration, not the simulation's; it is honoured only by the "
                          f"command line's runs (python -m sim [-m] hydra/...=...; see python -m sim --help)")
    for o in overrides:
        problem = _group_choice_problem(o)
        if problem:
            raise ConfigError(problem)
    _read_chosen_files(overrides)
    overrides = quote_names(overrides)            # omstilling_æøå: read by Hydra's grammar only in quotes
    try:
        return _compose(overrides)
    except ConfigError:
        raise
    except RecursionError:                        # Hydra follows defaults lists that include each other for ever
        loop = _scenario_loop(overrides)
        if loop:
            raise ConfigError(f"{shown_path(SCENARIO_DIR / (loop[0] + '.yaml'))}: the defaults lists of the scenarios "
                              f"{' -> '.join(loop)} include each other in a loop; allowed: defaults that end (a "
                              f"scenario may build on others that do not name it)") from None
        raise ConfigError(f"{' '.join(overrides) or 'the configuration'}: the defaults lists of its files include "
                          f"each other in a loop (a file of conf/ or scenarios/ names itself, or one that names it, "
                          f"under defaults); allowed: defaults that end") from None
    except yaml.YAMLError as err:                 # a file of conf/ that Hydra could not read
        raise ConfigError(_file_problem(err)) from None
    except Exception as err:                      # Hydra's and OmegaConf's errors, and whatever they let through
        raise ConfigError(_compose_problem(err, overrides)) from None


def _scenario_loop(overrides: list[str]) -> list[str]:
    """The first loop among the scenarios' defaults lists (names, the first repeated at the end), starting from
    the scenarios the overrides choose (scenario=, compare=) and then from every scenario; [] if there is none."""
    def names_in(name: str) -> list[str]:
        try:
            data = load_yaml(SCENARIO_DIR / f"{name}.yaml")
        except (ConfigError, OSError):
            return []
        entries = data.get("defaults", []) if isinstance(data, dict) else []
        return [e for e in entries if isinstance(e, str) and e != "_self_"] if isinstance(entries, list) else []

    def search(name: str, path: list[str], done: set) -> list[str]:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done or not (SCENARIO_DIR / f"{name}.yaml").is_file():
            return []
        done.add(name)
        for nxt in names_in(name):
            loop = search(nxt, path + [name], done)
            if loop:
                return loop
        return []
    chosen = [n for o in overrides if override_key(o).strip() in (SCENARIO_GROUP, "compare")
              for n in re.findall(r"[\w-]+", o.split("=", 1)[1])]
    done: set = set()
    for name in chosen + group_options(SCENARIO_GROUP):
        loop = search(name, [], done)
        if loop:
            return loop
    return []


def _chosen_files(overrides) -> list[tuple]:
    """(group, option, path) of conf/config.yaml (group None) and each group's chosen option file (not the
    scenario's), in the order Hydra merges them - the defaults list's order, config.yaml at its ``_self_`` - the
    options as config.yaml's defaults and the overrides choose them; only files that exist."""
    root = load_yaml(CONF_DIR / "config.yaml")
    chosen: dict = {}
    for entry in (root or {}).get("defaults", []) if isinstance(root, dict) else []:
        if isinstance(entry, dict):
            chosen.update({str(k): v for k, v in entry.items()})
        elif entry == "_self_":
            chosen[None] = None
    for o in overrides or ():
        if isinstance(o, str) and "=" in o and not o.lstrip().startswith("~") \
                and group_options(override_key(o).strip()):
            chosen[override_key(o).strip()] = o.split("=", 1)[1].strip()
    out = []
    for group, option in chosen.items():
        if group is None:
            out.append((None, None, CONF_DIR / "config.yaml"))
            continue
        if group == SCENARIO_GROUP or not isinstance(option, str):
            continue
        path = CONF_DIR / group / f"{option}.yaml"
        if path.is_file():
            out.append((group, option, path))
    return out


def _read_chosen_files(overrides: list[str]) -> None:
    """Read every file of conf/ the configuration will use - config.yaml and each group's chosen option - with
    the strict reader before Hydra does (load_yaml: one line with file and line for a file that does not parse,
    gives a key twice, is not UTF-8 or expands its aliases beyond reason; Hydra would print a traceback or build
    the expansion), and check that a municipality profile is named after its file."""
    for group, option, path in _chosen_files(overrides):
        if group is None:
            continue                                   # config.yaml: read by _chosen_files
        data = load_yaml(path)
        if group == "municipality" and isinstance(data, dict) and isinstance(data.get("municipality"), dict):
            name = data["municipality"].get("name")
            if name is not None and name != option:
                raise ConfigError(f"{shown_path(path)}: municipality.name = {name!r}: not this file's name; allowed: "
                                  f"{option!r} (a profile is known by its file's name; the runs and the catalog "
                                  f"record this name)")


def _group_choice_problem(override: str) -> str:
    """For an override that chooses an option of a config group (``municipality=kolding``, ``scenario=[a,b]``):
    the one-line problem if a chosen name is not one of the group's options ('' otherwise). Checked before Hydra
    reads it: Hydra takes a path (``municipality=../staircase/default``, ``/etc/passwd``), null or a name its
    grammar cannot read (``københavn``) as something else, and its messages then name neither the value nor the
    options."""
    if "=" not in override or override.lstrip().startswith("~"):
        return ""
    group = override_key(override).strip()
    options = group_options(group)
    if not options:
        return ""                                  # not a config group (a key), or a group with no files
    value = override.split("=", 1)[1].strip()
    listed = value.startswith("[") and value.endswith("]")
    if value.startswith("{") or (listed and group != SCENARIO_GROUP):
        shape = "a mapping" if value.startswith("{") else "a list"
        takes = ("the name of a scenario, or a list of scenarios to combine (scenario=[a,b])"
                 if group == SCENARIO_GROUP else "the name of one of its options")
        return (f"{group} = {value!r}: a config group takes {takes}, not {shape}; available: {', '.join(options)}"
                + ("" if group == SCENARIO_GROUP else
                   f"; to set a key in it: {_group_key_example(group, value)} (one override per key)"))
    items = [unquoted(v) for v in value[1:-1].split(",")] if listed else [unquoted(value)]
    names = [name.strip() for item in items for name in (item.split("+") if group == SCENARIO_GROUP else [item])]
    for name in names:
        if name not in options:
            return f"{group} = {name!r}: unknown option; available: {', '.join(options)}"
    twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if twice is not None:
        return (f"{group} = {value!r}: {twice!r} is given twice; allowed: each scenario once in a combination "
                f"(it adds nothing the second time)")
    return ""


def _group_key_example(group: str, value: str) -> str:
    """An override that sets a key of a config group (``casework.caseworkers=[1,2]`` for ``casework={caseworkers:
    [1,2]}``; else the first key of the group's default option, with its value)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    try:
        given = OverridesParser.create().parse_overrides([f"x={value}"])[0].value()
    except Exception:  # noqa: BLE001 - only an example
        given = None
    if isinstance(given, dict) and given:
        key, v = next(iter(given.items()))
        return f"{group}.{key}={value.strip()[1:-1].split(':', 1)[1].strip()}" if len(given) == 1 else \
            f"{group}.{key}=..."
    options = group_options(group)
    path = CONF_DIR / group / ("default.yaml" if "default" in options else f"{options[0]}.yaml")
    try:
        data = load_yaml(path)
        key, v = next((k, v) for k, v in data[group].items() if not isinstance(v, (dict, list)))
        return f"{group}.{key}={json.dumps(v) if isinstance(v, bool) or v is None else v}"
    except Exception:  # noqa: BLE001 - only an example
        return f"{group}.<key>=<value>"


def _file_problem(err: yaml.YAMLError) -> str:
    """One line for a file of conf/ that Hydra could not read: as load_yaml words it (the file read again),
    or from Hydra's error itself."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    path = Path(str(mark.name)) if mark is not None and mark.name else None
    if path is not None and path.is_file():
        try:
            load_yaml(path)
        except ConfigError as mine:
            return str(mine)
    return yaml_problem(err)


def _compose_problem(err: Exception, overrides: list[str]) -> str:
    """One line for an error of Hydra or OmegaConf: the key or option it is about, and what is allowed."""
    text = str(err).strip() or type(err).__name__
    m = re.match(r"Could not override '([^']+)'", text)
    if m:
        key = m.group(1)
        value = next((o.split("=", 1)[1] for o in overrides if "=" in o and override_key(o) == key), None)
        inner = _inner_key(err, key)
        if inner:           # a mapping given as the value has a key that is not there: name that key
            return (f"{inner} = {_inner_value(value, inner[len(key) + 1:])!r}: unknown key (unknown keys are not "
                    f"allowed){suggest(inner, _tree_without(key, overrides))}")
        return (f"{key} = {value!r}: unknown key (unknown keys are not allowed)"
                f"{suggest(key, _tree_without(key, overrides))}")
    m = re.search(r"Could not (?:find|load) '([^']+)'", text)
    if m:
        return _missing_option(m.group(1), text)
    shape = _shape_problem(err, text, overrides)
    if shape:
        return shape
    lines = text.splitlines()
    first = lines[0]
    if first.startswith("Error parsing override"):
        first += "; an override is key=value, +key=value to add a key or ~key to remove one"
    full_key = next((ln.split(":", 1)[1].strip() for ln in lines[1:] if ln.strip().startswith("full_key:")), "")
    if not full_key and not any(override_key(o) in first for o in overrides):
        full_key = _culprit(overrides, first)
    return " ".join((f"{full_key}: {first}" if full_key else first).split())


def _shape_problem(err: Exception, text: str, overrides: list[str]) -> str:
    """One line for a value whose shape - a mapping, a list - is not its key's (Hydra: 'Error merging override
    <o>', or for a file 'In <file>: ConfigTypeError raised while composing config:', naming neither the key nor
    what is allowed): the key, the value and what the key allows, from its default in the composed configuration;
    for a file of scenarios/ or conf/ also the file and line. '' if it is not such a problem."""
    chain, cause = [], err
    while cause is not None and len(chain) < 10:
        chain.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    if not any("Cannot merge" in c for c in chain):
        return ""
    m = re.match(r"Error merging override (.+)", text.splitlines()[0])
    if m:
        o = m.group(1).strip()
        key = override_key(o).strip()
        try:
            from hydra.core.override_parser.overrides_parser import OverridesParser
            given = OverridesParser.create().parse_overrides([o])[0].value()
        except Exception:  # noqa: BLE001 - then Hydra's own words
            return ""
        found = _mismatch(given, _at(_tree_without(key, overrides), _key_parts(key)), key)
        if found is None:
            return ""
        where, value, default = found
        shown = o.split("=", 1)[1].strip() if where == key else _flow(value)
        return f"{where} = {shown!r}: {_shape_name(value)} where {_shape_name(default)} is meant; " \
               f"allowed: {shape_allowed(default, where)}"
    m = re.match(r"In '([^']+)': \w+ raised while composing config", text)
    if not m:
        return ""
    group, _, option = m.group(1).rpartition("/")
    path = SCENARIO_DIR / f"{option}.yaml" if group == SCENARIO_GROUP else CONF_DIR / group / f"{option}.yaml"
    where = shown_path(path)
    try:
        data = load_yaml(path)
        base = _compose([o for o in overrides if override_key(o).strip() != group])
    except Exception:  # noqa: BLE001 - the file is named all the same
        base = data = None
    found = _mismatch(data, base, "") if isinstance(data, dict) else None
    if found is None:
        return (f"{where}: a value of the wrong shape (a list where a mapping is meant, or a mapping where a list "
                f"is); allowed: the shape of the key's default (python -m sim --cfg job shows them)")
    key, value, default = found
    line = _key_line(path, _key_parts(key))
    return (f"{where}{f':{line}' if line else ''}: {key} = {_flow(value)}: {_shape_name(value)} where "
            f"{_shape_name(default)} is meant; allowed: {shape_allowed(default, key, in_file=True)}")


def _key_parts(key: str) -> list:
    """A dotted key with [i] indexes as its parts: ``a.b[0]`` -> ['a', 'b', 0]."""
    return [int(x[1:-1]) if x.startswith("[") else x for x in re.findall(r"\[\d+\]|[^.\[\]]+", key)]


def _at(tree, parts: list):
    """The value at ``parts`` in a tree of dicts and lists (None if there is none)."""
    node = tree
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _mismatch(given, default, path: str):
    """The first place (key, given value, default) where ``given`` has a mapping and ``default`` a list, or the
    other way round - what OmegaConf cannot merge; None if there is none."""
    if isinstance(given, dict) and isinstance(default, dict):
        for k, v in given.items():
            if k in default:
                found = _mismatch(v, default[k], f"{path}.{k}" if path else str(k))
                if found is not None:
                    return found
        return None
    if isinstance(given, (dict, list)) and isinstance(default, (dict, list)) \
            and isinstance(given, dict) != isinstance(default, dict):
        return path, given, default
    return None


def _shape_name(value) -> str:
    """'a mapping', 'a list', 'a number', 'true or false', 'text' or 'null': the kind of a value."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return "null" if value is None else "text"


def _flow(value) -> str:
    """A value as YAML's one-line flow style ({a: 1}, [1, 2])."""
    return " ".join(yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).split()).removesuffix(" ...")


def shape_allowed(default, key: str, in_file: bool = False) -> str:
    """What a key allows, from the type of its default: a mapping (with its first key as an example), a list
    (with an example like its entries), a number, true or false, text."""
    if isinstance(default, dict):
        first = next(iter(default), None)
        if in_file:
            return "a mapping of keys to values (key: value, one per line in YAML)"
        one = f"; or one key at a time: {key}.{first}=..." if first is not None else ""
        return f"a mapping of keys to values, e.g. {{{first or 'key'}: ...}}{one}"
    if isinstance(default, (list, tuple)):
        if default and isinstance(default[0], dict):
            example = "[{" + ", ".join(f"{k}: ..." for k in default[0]) + "}]"
        elif default and all(isinstance(x, (str, int, float)) for x in default):
            example = "[" + ", ".join(str(x) for x in default[:2]) + (", ...]" if len(default) > 2 else "]")
        else:
            example = "[a, b]"
        return f"a list in brackets, e.g. {example} ([] for none)"
    return {"a number": "a number", "true or false": "true or false", "text": "text"}.get(_shape_name(default),
                                                                                          "a value")


def _key_line(path: Path, parts: list) -> int | None:
    """The line (1-based) of the key at ``parts`` in a YAML file; None if it is not there or cannot be read."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except Exception:  # noqa: BLE001 - only for the message
        return None
    line = None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            hit = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
            if hit is None:
                return None
            line, node = hit[0].start_mark.line + 1, hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return None
    return line


def _scenario_files(arm: str) -> list[Path]:
    """The files of scenarios/ an arm (``a`` or ``a+b``) is made of, in the order they are merged: each scenario's
    defaults (other scenarios) before itself."""
    out: list[Path] = []

    def add(name: str, depth: int) -> None:
        path = SCENARIO_DIR / f"{name}.yaml"
        if depth > 20 or path in out or not path.is_file():
            return
        try:
            data = load_yaml(path)
        except ConfigError:
            return
        entries = data.get("defaults", []) if isinstance(data, dict) else []
        for e in entries if isinstance(entries, list) else []:
            if isinstance(e, str) and e != "_self_":
                add(e, depth + 1)
        out.append(path)
    for name in arm.split("+"):
        add(name, 0)
    return out


def in_its_file(message: str, overrides) -> str:
    """``message`` about a key (``<key> = <value>: ...``) with the file and line that set the key in front
    (``scenarios/x.yaml:12: <message>``, ``conf/municipality/y.yaml:9: <message>``) when no override sets it: the
    last of the arm's scenario files that sets it, else the last of the chosen files of conf/ (a municipality
    profile, a group's option, config.yaml) in the order they are merged; the message as it is otherwise."""
    m = re.match(r"([A-Za-z_][\w-]*(?:\.[\w+-]+|\[\d+\])*)(?: = |: )", message)
    if not m or overrides is None:
        return message
    key = m.group(1)
    for o in overrides:
        k = override_key(o).strip()
        if (k in SCENARIO_KEYS or group_options(k)) and k != key:
            continue                              # it chooses a file (a scenario, a group's option), not the key
        if k == key or key.startswith((k + ".", k + "[")) or k.startswith(key + "."):
            return message                        # the user's own override: named as they typed it
    parts = _key_parts(key)
    try:
        conf_files = [path for _, _, path in _chosen_files(overrides)]
    except ConfigError:
        conf_files = []
    for path in [*reversed(_scenario_files(selected_scenario(overrides))), *reversed(conf_files)]:
        try:
            data = load_yaml(path)
        except ConfigError:
            continue
        if _at(data, parts[:-1]) is not None and (
                (isinstance(_at(data, parts[:-1]), dict) and parts[-1] in _at(data, parts[:-1]))
                or (isinstance(_at(data, parts[:-1]), list) and isinstance(parts[-1], int)
                    and parts[-1] < len(_at(data, parts[:-1])))):
            line = _key_line(path, parts)
            return f"{shown_path(path)}{f':{line}' if line else ''}: {message}"
    return message


def _inner_key(err: Exception, key: str) -> str:
    """The full key OmegaConf refused inside the mapping given for ``key`` ('' if the refused key is ``key``
    itself): Hydra's message names only the override's key."""
    cause = err.__cause__ or err.__context__
    full = getattr(cause, "full_key", None)
    return str(full) if isinstance(full, str) and full.startswith(key + ".") else ""


def _inner_value(value: str | None, path: str):
    """The value at ``path`` (dotted) inside an override's mapping ``value`` (YAML/Hydra text), or the text."""
    try:
        node = yaml.safe_load(value) if value is not None else None
        for part in path.split("."):
            node = node[part]
        return node
    except Exception:      # noqa: BLE001 - only for the message: the text as given
        return value


def _culprit(overrides: list[str], first: str) -> str:
    """The override that alone fails with the message ``first`` ('' if none does): the key of a problem
    Hydra reports without naming it."""
    for o in overrides:
        try:
            _compose([o])
        except Exception as err:       # noqa: BLE001 - looking for the one that fails the same way
            if str(err).strip().splitlines()[:1] == [first]:
                return o
    return ""


def _missing_option(target: str, text: str) -> str:
    """An option of a config group that does not exist (or whose file cannot be used)."""
    group, _, option = target.rpartition("/")
    if group == SCENARIO_GROUP and option in _BROKEN:
        return _BROKEN[option]
    inside = re.match(r"In '([^']+)'", text)
    named = f" (named in the defaults of {inside.group(1)})" if inside and inside.group(1) != "config" else ""
    if not group:
        return f"{target!r}: no such configuration{named}"
    return f"{group} = {option!r}: unknown option{named}; available: {', '.join(group_options(group))}"


def _tree_without(key: str, overrides: list[str]) -> dict:
    """The tree to look for a misspelled key's intended name in: the overrides without it, or the defaults."""
    for attempt in ([o for o in overrides if override_key(o) != key], []):
        try:
            return _compose(attempt)
        except Exception:     # noqa: BLE001 - only a suggestion; the error itself is reported anyway
            continue
    return {}


def suggest(key: str, tree: dict) -> str:
    """'; did you mean <key>?' for a misspelled dotted key: the closest name beside it in ``tree`` (a sibling,
    with the rest of the path), or the names there are when none is close."""
    parts = key.split(".")
    node, i = tree, 0
    while i < len(parts) - 1:
        if isinstance(node, dict) and parts[i] in node:
            node = node[parts[i]]
        elif isinstance(node, list) and parts[i].isdigit() and int(parts[i]) < len(node):
            node = node[int(parts[i])]
        else:
            break
        i += 1
    parent = ".".join(parts[:i])
    if not isinstance(node, dict):
        return f"; {parent} is a single value, not a group of keys" if parent else ""
    names = [str(k) for k in node if str(k) != parts[i]]
    close = difflib.get_close_matches(parts[i], names, n=1, cutoff=0.6)
    prefix = parent + "." if parent else ""
    if close:
        return "; did you mean " + ".".join([prefix + close[0]] + parts[i + 1:]) + "?"
    if not names:
        return ""
    more = ", ..." if len(names) > 15 else ""
    return f"; the keys under {parent or 'the top level'} are {', '.join(names[:15])}{more}"


# --------------------------------------------------------------------------- validating

# what a key of each type allows, for pydantic's messages that name only the type ("Input should be a valid tuple")
TYPE_ALLOWED = {
    "tuple_type": "a pair of numbers in brackets, e.g. [30, 90]",
    "list_type": "a list in brackets, e.g. [a, b]",
    "dict_type": "a mapping of keys to values (key: value, one per line in YAML)",
    "model_type": "a mapping of keys to values (key: value, one per line in YAML)",
    "model_attributes_type": "a mapping of keys to values (key: value, one per line in YAML)",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "text", "none_required": "null",
}


def _nullable(loc) -> bool:
    """Whether the key at ``loc`` (pydantic's error location in Config) takes null (an Optional field)."""
    import typing
    annotation = Config
    for part in loc:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is typing.Union:                           # Optional[X]: look into X
            annotation = next((a for a in args if a is not type(None)), annotation)
            origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if isinstance(part, str) and isinstance(annotation, type) and hasattr(annotation, "model_fields") \
                and part in annotation.model_fields:
            annotation = annotation.model_fields[part].annotation
        elif origin is dict and len(args) == 2:                # a mapping's entry
            annotation = args[1]
        elif origin in (list, tuple) and args and isinstance(part, int):
            annotation = args[0]
        else:
            return False
    return typing.get_origin(annotation) is typing.Union and type(None) in typing.get_args(annotation)


def _shown(value) -> str:
    """A value as the configuration spells it: null, true, false; other values as Python shows them."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _length_allowed(e: dict) -> str | None:
    """What a key allows when a list or pair has too many or too few entries."""
    if e["type"] not in ("too_long", "too_short"):
        return None
    if e["msg"].startswith("Tuple"):
        return TYPE_ALLOWED["tuple_type"]
    ctx = e.get("ctx", {})
    if e["type"] == "too_short":
        return f"a list of at least {ctx.get('min_length', 1)} entries"
    return f"a list of at most {ctx.get('max_length')} entries"


def _format_validation_error(err: ValidationError, tree: dict | None = None) -> str:
    lines = []
    for e in err.errors():
        loc = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in e["loc"]).lstrip(".")
        ctx = e.get("ctx", {})
        value = e.get("input")
        if isinstance(ctx.get("error"), ConfigError):
            lines.append(str(ctx["error"]))
        elif e["type"] == "text_for_scalar":
            lines.append(f"{loc}{ctx['where']} = {ctx['text']!r}: allowed: {ctx['meant']}, without quotes (this is text)")
        elif e["type"] == "bool_for_number":
            lines.append(f"{loc}{ctx['where']} = {ctx['flag']}: allowed: a number; true and false are not numbers")
        elif e["type"] == "number_too_large":
            lines.append(f"{loc}{ctx['where']} = {ctx['number']!r}: allowed: at most {MAX_NUMBER:g} in size (no "
                         f"setting needs more; sums of costs and outcomes would overflow)")
        elif e["type"] == "finite_number":
            lines.append(f"{loc} = {value!r}: allowed: a finite number (not inf or nan; a setting that may be "
                         f"unbounded takes null)")
        elif e["type"] == "extra_forbidden":
            dotted = ".".join(str(x) for x in e["loc"])
            lines.append(f"{loc} = {value!r}: unknown key (unknown keys are not allowed){suggest(dotted, tree or {})}")
        elif e["type"] == "missing" and e["loc"] and isinstance(e["loc"][-1], int):     # a pair with one entry
            pair = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in e["loc"][:-1]).lstrip(".")
            lines.append(f"{pair} = {_shown(value)}: too few entries; allowed: {TYPE_ALLOWED['tuple_type']}")
        elif e["type"] == "missing":
            lines.append(f"{loc}: missing; this key is required")
        else:
            msg = e["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            allowed = TYPE_ALLOWED.get(e["type"]) or _length_allowed(e)   # pydantic's messages say what is wrong
            if allowed and e["type"] in TYPE_ALLOWED and _nullable(e["loc"]):   # not what is allowed
                allowed += ", or null to leave it out"
            lines.append(f"{loc} = {_shown(value)}: {msg}" + (f"; allowed: {allowed}" if allowed else ""))
    lines = list(dict.fromkeys(lines))             # one line per problem (a pair's two missing entries: one)
    return lines[0] if len(lines) == 1 else lines[0] + f" (and {len(lines) - 1} more problem(s): " + "; ".join(lines[1:]) + ")"


def validate(tree: dict, overrides=None) -> Config:
    """Validate a plain composed tree. Raises ConfigError with a one-line message; given the ``overrides`` the tree
    was composed with, a problem with a key that a scenario file sets names the file and line in front."""
    try:
        return Config.model_validate(tree)
    except ValidationError as err:
        raise ConfigError(in_its_file(_format_validation_error(err, tree), overrides)) from None


def scenario_override(arm: str) -> str:
    """The override that selects an arm: ``scenario=a`` or, for ``a+b``, ``scenario=[a,b]``."""
    parts = [quote_name(p) for p in arm.split("+")]       # a name outside ASCII in quotes, as Hydra reads it
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
                return "+".join(unquoted(x) for x in v[1:-1].split(",") if x.strip())
            return unquoted(v)
    return BASELINE
