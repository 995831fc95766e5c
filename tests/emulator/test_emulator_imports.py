"""``wxprivacy.emulator`` imports whatever submodule comes first, and its modules import one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import wxprivacy
import wxprivacy.emulator

ROOT = Path(wxprivacy.__file__).resolve().parent
PACKAGE = Path(wxprivacy.emulator.__file__).resolve().parent
SUBMODULES = sorted(
    f"wxprivacy.emulator.{path.stem}" for path in PACKAGE.glob("*.py") if path.stem != "__init__"
)

# The package object exists but its __init__ has not run when the submodule is imported, so
# the submodule really comes first; then __init__ runs and must find everything it needs.
FIRST = """
import importlib, importlib.util, sys
import wxprivacy
spec = importlib.util.find_spec("wxprivacy.emulator")
package = importlib.util.module_from_spec(spec)
sys.modules["wxprivacy.emulator"] = package
importlib.import_module(sys.argv[1])
spec.loader.exec_module(package)
emu = package.Emulator(authorizers=1)
assert emu.authorizer_appids and sorted(package.__all__) == sorted(set(package.__all__))
print("ok")
"""


@pytest.mark.parametrize("first", SUBMODULES)
def test_the_package_imports_whatever_submodule_comes_first(first: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FIRST, first], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _path_of(module: str) -> Path | None:
    base = ROOT.parent.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(module: str) -> set[str]:
    """Every ``wxprivacy`` module ``module`` imports: at top level, in functions, and under
    ``TYPE_CHECKING`` alike (a lazy import is still a dependency)."""
    path = _path_of(module)
    assert path is not None, module
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [base]
            # ``from . import x`` / ``from .pkg import mod`` may name modules, not attributes
            names += [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            if name.split(".")[0] == "wxprivacy" and _path_of(name) is not None:
                found.add(name)
    found.discard(module)
    return found


def import_graph(start: list[str]) -> dict[str, set[str]]:
    """The graph of ``wxprivacy`` modules reachable from ``start`` by explicit imports."""
    graph: dict[str, set[str]] = {}
    todo = list(start)
    while todo:
        module = todo.pop()
        if module not in graph:
            graph[module] = imports_of(module)
            todo.extend(graph[module])
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in graph.get(node, ()):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_emulator_import_graph_has_no_cycle() -> None:
    graph = import_graph(["wxprivacy.emulator", *SUBMODULES])
    assert set(SUBMODULES) <= set(graph)
    assert graph["wxprivacy.emulator._emulator"] >= {"wxprivacy.emulator._routes"}
    emulator_cycles = [
        c for c in cycles(graph) if any(m.startswith("wxprivacy.emulator") for m in c)
    ]
    assert emulator_cycles == []


def test_the_cycle_finder_finds_the_old_handlers_cycle() -> None:
    graph = {
        "a._handlers": {"a._surface", "a._state"},
        "a._surface": {"a._handlers"},
        "a._state": set(),
    }
    assert cycles(graph) == [["a._handlers", "a._surface"]]
    assert cycles({"x": {"y"}, "y": set()}) == []
