"""The house's layers, checked: who may import Typer, Rich, numpy and pyarrow, and when."""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "slopecli"

# Module (dotted, relative to the package) -> the third-party top-level names it may import.
ONLY_HERE = {
    "typer": lambda module: module == "cli" or module.startswith("cli."),
    "rich": lambda module: (
        module
        in {
            "render.tables",
            "render.batch_table",
            "render.descent_tables",
            "render.progress",
            "render.network_tables",
        }
    ),
}


@functools.cache
def modules() -> dict[str, ast.Module]:
    """Each module of the package, parsed once for every test here (read, never changed)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        dotted = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        found[dotted.removesuffix(".__init__")] = ast.parse(path.read_text(), str(path))
    return found


def imported_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("library", sorted(ONLY_HERE))
def test_library_imported_only_where_allowed(library):
    offenders = [
        module
        for module, tree in modules().items()
        if any(name.split(".")[0] == library for name in imported_names(tree))
        and not ONLY_HERE[library](module)
    ]
    assert offenders == []


def test_core_is_pure():
    names = imported_names(modules()["core"])
    assert names <= {"__future__", "dataclasses", "numpy", "numpy.typing"}


def test_library_modules_never_import_the_cli_or_rich_renderer():
    for module, tree in modules().items():
        if module.startswith(("cli", "render")) or module in {"__main__"}:
            continue
        for name in imported_names(tree):
            assert not name.startswith(("slopecli.cli", "slopecli.render")), (module, name)


def loaded_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    script = (
        code
        + "\nimport sys, json; sys.stderr.write(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    # `python -c` puts its working directory first on sys.path: conftest makes that an empty one.
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return set(json.loads(done.stderr.splitlines()[-1]))


def test_help_path_does_not_import_numpy():
    loaded = loaded_after("import slopecli.cli")
    assert "numpy" not in loaded
    assert "pyarrow" not in loaded
    assert "rich" not in loaded


@pytest.mark.process_coverage
def test_json_path_imports_neither_rich_nor_pyarrow():
    loaded = loaded_after(
        "from slopecli.cli import app\n"
        "from typer.main import get_command\n"
        "code = get_command(app).main(['compute', '-w', '0,2,1', '-x', '1,2,3', '-y', '0', '--json'],"
        " standalone_mode=False)\n"
        "assert code == 0, code"
    )
    assert "numpy" in loaded
    assert "rich" not in loaded
    assert "pyarrow" not in loaded
    assert "orjson" not in loaded


def test_public_api_needs_neither_typer_nor_rich():
    loaded = loaded_after(
        "import slopecli, numpy as np\nslopecli.gradient(np.ones((2, 2)), np.ones(2), np.ones(2))"
    )
    assert "typer" not in loaded
    assert "rich" not in loaded


def all_imports(tree: ast.Module, module: str) -> set[str]:
    """Every slopecli module ``module`` imports, at the top or inside a function, absolute or relative."""
    package = module.rsplit(".", 1)[0] if "." in module else ""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = ["slopecli", *package.split(".")] if package else ["slopecli"]
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name.removeprefix("slopecli.") for name in found if name.startswith("slopecli.")}


def test_the_import_graph_has_no_cycle():
    """No two modules import each other, directly or around a loop (lazy imports included); a
    package importing its own submodules (cli registering its commands) is not a loop."""
    trees = modules()
    graph = {
        module: {name for name in all_imports(tree, module) if name in trees and name != module}
        for module, tree in trees.items()
    }
    graph = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dependency in sorted(graph[module]):
            if state.get(dependency) == 1:
                cycle = [*path[path.index(dependency) :], dependency]
                raise AssertionError(" -> ".join(cycle))
            if dependency not in state:
                visit(dependency, [*path, dependency])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
