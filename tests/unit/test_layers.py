"""The package's structure (issue: one home for every line): layers without import circles, small classes
and functions, a docstring on everything public. Built from the source with ``ast``; nothing is imported."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[2] / "sim"

# bottom to top: a module may import only from its own layer or the layers below it
LAYERS = ["common", "config", "model", "metrics", "report", "runner", "store", "publish", "analyses", "api", "cli"]
TOP = {"__init__", "__main__"}          # the package's front door may import anything
MAX_CLASS_LINES = 400
MAX_FUNCTION_LINES = 80
EXCEPTION_MARK = "size-exception:"      # a comment on the def line that says why a definition may be longer


def modules() -> dict[str, Path]:
    """Every module of sim/ by dotted name (packages by their __init__)."""
    out = {}
    for path in sorted(SIM.rglob("*.py")):
        parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer(name: str) -> int | None:
    """The layer of a module (None for the package's front door)."""
    parts = name.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] in TOP):
        return None
    return LAYERS.index(parts[1])


def imports(name: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module of sim, line, inside a function) for every import of the package's own modules."""
    tree = ast.parse(path.read_text())
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    known = modules()
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = pkg.split(".")
                    base = base[:len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.split(".")[0] == "sim":
                    for alias in child.names:      # `from . import x` may name a module
                        sub = f"{target}.{alias.name}"
                        found.append((sub if sub in known else target, child.lineno, in_function))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "sim":
                        found.append((alias.name, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


def test_every_module_has_a_layer():
    for name in modules():
        if name != "sim" and name.split(".")[1] not in TOP:
            assert name.split(".")[1] in LAYERS, f"{name}: not in a layer; add it to LAYERS (and docs/architecture.md)"


def test_no_module_imports_from_a_layer_above_it():
    problems = []
    for name, path in modules().items():
        mine = layer(name)
        if mine is None:
            continue
        for target, line, _ in imports(name, path):
            theirs = layer(target)
            if theirs is not None and theirs > mine:
                problems.append(f"{path.relative_to(SIM.parent)}:{line} imports {target} ({LAYERS[theirs]} is above "
                                f"{LAYERS[mine]})")
    assert not problems, "\n".join(problems)


def test_no_import_circle():
    mods = modules()
    graph = {name: {t for t, _, _ in imports(name, path) if t in mods and t != name} for name, path in mods.items()}
    # a package's __init__ re-exports its modules: importing the package is importing them
    state, stack, circles = {}, [], []

    def dfs(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                circles.append(" -> ".join(stack[stack.index(m):] + [m]))
            elif m not in state:
                dfs(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            dfs(n)
    # a package importing its own submodules, which import a sibling through the package, is no circle of ours
    real = [c for c in circles if not all(p == c.split(" -> ")[0] or p.startswith(c.split(" -> ")[0] + ".")
                                          for p in c.split(" -> "))]
    assert not real, "import circles:\n" + "\n".join(real)


def test_imports_inside_functions_only_for_heavy_optional_dependencies():
    """Package-internal imports sit at the top of a module; inside a function only the figures module
    (matplotlib), with a comment saying so, and the command line in the entry point ``sim.__main__`` (inside the
    handling of Ctrl-C while the libraries load)."""
    allowed = {"sim.report.plots"}
    allowed_in = {("sim.__main__", "sim.cli")}
    problems = []
    for name, path in modules().items():
        for target, line, in_function in imports(name, path):
            if in_function and target not in allowed and (name, target) not in allowed_in:
                problems.append(f"{path.relative_to(SIM.parent)}:{line} imports {target} inside a function")
    assert not problems, "\n".join(problems)


def _definitions():
    for path in sorted(SIM.rglob("*.py")):
        src = path.read_text()
        lines = src.splitlines()
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path, node, lines


def test_no_class_over_400_lines_and_no_function_over_80():
    problems = []
    for path, node, lines in _definitions():
        limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
        n = node.end_lineno - node.lineno + 1
        if n > limit and EXCEPTION_MARK not in lines[node.lineno - 1]:
            problems.append(f"{path.relative_to(SIM.parent)}:{node.lineno} {node.name}: {n} lines (limit {limit})")
    assert not problems, "\n".join(problems)


def test_every_public_module_class_and_function_has_a_docstring():
    problems = []
    for path in sorted(SIM.rglob("*.py")):
        tree = ast.parse(path.read_text())
        if path.name != "__main__.py" and not ast.get_docstring(tree):
            problems.append(f"{path.relative_to(SIM.parent)}: module")
        # module-level definitions and those of classes (closures inside a function are its own business)
        scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        for scope in scopes:
            for node in scope.body:
                if (isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                        and not node.name.startswith("_") and not ast.get_docstring(node)):
                    problems.append(f"{path.relative_to(SIM.parent)}:{node.lineno} {node.name}")
    assert not problems, f"{len(problems)} without a docstring:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", ["sim", "sim.cli", "sim.api"])
def test_layers_cover_the_entry_points(name):
    assert name in modules()
