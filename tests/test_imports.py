"""The packages' import graph, read from the source with ``ast`` (no module is imported): no
import circle anywhere, function-level and ``TYPE_CHECKING`` imports included, and the layering
``textrec_data`` <- ``textrec_model`` <- ``pipelines`` (no import runs back up). And importing
them changes no process-wide setting (OpenCV is made single-threaded where work forks)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("textrec_data", "textrec_model", "pipelines")
#: Packages each package may not import (docs/DESIGN.md, "Packages and layering").
FORBIDDEN = {
    "textrec_data": ("textrec_model", "pipelines"),
    "textrec_model": ("pipelines",),
    "textrec_data.synth.scene": ("textrec_data.synth.word",),  # word mode builds on scenes
}
#: Known circles, each as its sorted modules, to be deleted once broken.


def module_files() -> dict[str, Path]:
    """Every module of the packages by dotted name (a package by its ``__init__.py``)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The packages' modules that module ``name`` imports anywhere in its source: ``from P
    import X`` counts as importing ``P.X`` when that is a module, else ``P``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *filter(None, [base])])
            targets = [f"{base}.{alias.name}" for alias in node.names]
            targets = [t if t in modules else base for t in targets]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # import a.b.c of a name in a.b
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan), each as an import path
    that closes the circle (``a -> b -> ... -> a``)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_closing_path(graph, members) for members in found]


def _closing_path(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """A shortest path from the first of ``members`` back to itself inside the set."""
    start, inside = members[0], set(members)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & inside):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    raise AssertionError(f"no circle through {members}")  # pragma: no cover


def test_the_graph_is_read_from_every_module():
    graph = import_graph()
    assert {"textrec_data.build", "textrec_model.train", "pipelines.cli"} <= set(graph)
    assert "textrec_data.sharded" in graph["textrec_data.build"]
    assert "textrec_data.engines.local" in graph["textrec_data.engines"]  # from P import module
    assert "textrec_model.pretrained" in graph["textrec_model.transfer"]  # inside a function


def test_circles_are_found_and_printed():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert circles(graph) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle():
    found = circles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" -> ".join(c) for c in found)


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_no_import_runs_back_up_the_layers():
    wrong = [
        f"{name} imports {target}"
        for name, targets in import_graph().items()
        for package, forbidden in FORBIDDEN.items()
        if within(name, package)
        for target in sorted(targets)
        if any(within(target, f) for f in forbidden)
    ]
    assert not wrong, "\n".join(wrong)


def run_python(code: str) -> str:
    """``code`` run by a fresh interpreter on this checkout; its stdout."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_every_module_changes_no_global_state():
    """OpenCV's and torch's thread counts and matplotlib's backend are as they were after
    importing every module of the packages."""
    names = sorted(module_files())
    out = run_python(
        "import importlib, cv2, matplotlib, torch\n"
        "cv2.setNumThreads(3); torch.set_num_threads(2)\n"
        "backend = matplotlib.rcParams._get('backend')\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(cv2.getNumThreads(), torch.get_num_threads(),\n"
        "      matplotlib.rcParams._get('backend') == backend)"
    )
    assert out.split() == ["3", "2", "True"]


def test_manifest_pool_workers_run_opencv_single_threaded():
    """A parent that set OpenCV's threads itself still forks single-threaded workers."""
    out = run_python(
        "import cv2\n"
        "from textrec_data.engines.local import map_tasks\n"
        "def threads(task): return cv2.getNumThreads()\n"
        "cv2.setNumThreads(3)\n"
        "with map_tasks(threads, [0, 1, 2], 2) as found: print(*found)\n"
    )
    assert out.split() == ["1", "1", "1"]
