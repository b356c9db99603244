"""The README is executable: its examples run as shown, and it documents every command."""

from __future__ import annotations

import ast
import io
import json
import math
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import Any

import pytest

from conftest import COLOUR_VARIABLES, ROOT

README = (ROOT / "README.md").read_text()


def console_examples() -> list[tuple[str, str]]:
    """(command, expected output) for each ``$ slopecli …`` line in a ```console block."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


@pytest.mark.parametrize(("command", "expected"), console_examples(), ids=[c for c, _ in console_examples()])
def test_readme_example_prints_what_it_shows(command, expected):
    env = {k: v for k, v in os.environ.items() if k not in COLOUR_VARIABLES}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "80"
    done = subprocess.run(
        command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    printed = done.stdout + done.stderr
    shown = expected.splitlines()
    got = [line.rstrip() for line in printed.splitlines()]
    # A JSON line is exact output whose last bits depend on the CPU's BLAS kernels: it matches
    # the README's line when the numbers agree to rounding (the diff still shows any other change).
    for i, (line, want) in enumerate(zip(got, shown, strict=False)):
        if same_json(line, want):
            got[i] = want
    assert got == shown


def same_json(printed: str, shown: str) -> bool:
    """Both lines are JSON with the same structure and numbers equal up to rounding."""
    try:
        a, b = json.loads(printed), json.loads(shown)
    except ValueError:
        return False
    return close(a, b)


def close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(close(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_json_lines_match_up_to_rounding_only():
    line = '{"n": 5, "gradient": [13.001, 9.879999999999999], "mse": 0.9305}'
    assert same_json('{"n": 5, "gradient": [13.001, 9.88], "mse": 0.9305000000000001}', line)
    assert not same_json('{"n": 5, "gradient": [13.001, 9.88], "mse": 0.9306}', line)
    assert not same_json('{"n": 5.0, "gradient": [13.001, 9.88], "mse": 0.9305}', line)
    assert not same_json('{"gradient": [13.001, 9.88], "n": 5, "mse": 0.9305}', line)
    assert not same_json("not JSON", line)


def test_readme_has_examples():
    assert len(console_examples()) >= 6


def test_every_command_is_documented_with_help_and_an_example():
    from typer.main import get_command

    from slopecli.cli import app

    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help and "Example: slopecli " + name in command.help, name
        assert f"## `slopecli {name}`" in README, name


def test_ci_runs_the_readme_test_command():
    setup = re.search(r"## Set up.*?```sh\n(.*?)\n```\s*```sh\n(.*?)\n```", README, flags=re.S)
    assert setup is not None
    install_and_test = setup.group(2)
    assert install_and_test in (ROOT / ".ci" / "run").read_text()


def python_examples() -> list[str]:
    """The ```python blocks of the README."""
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


class _Shown(ast.NodeTransformer):
    """Turns ``expr  # shown`` (a comment that is a Python value's repr) into a check that the
    expression's repr is what the README shows; other comments are prose."""

    def __init__(self, shown: dict[int, str]) -> None:
        self.shown = shown

    def visit_Expr(self, node: ast.Expr) -> ast.stmt:
        text = self.shown.get(node.lineno)
        if text is None:
            return node
        check = ast.parse(f"_check(None, {text!r}, {node.lineno})").body[0]
        assert isinstance(check, ast.Expr) and isinstance(check.value, ast.Call)
        check.value.args[0] = node.value
        return ast.copy_location(check, node)


@pytest.mark.parametrize("block", python_examples())
def test_readme_python_examples_give_what_they_show(block, monkeypatch):
    monkeypatch.chdir(ROOT)
    shown = {}
    for token in tokenize.generate_tokens(io.StringIO(block).readline):
        comment = token.string.removeprefix("#").strip()
        if token.type == tokenize.COMMENT and comment.startswith(("array(", "(", "'")):
            shown[token.start[0]] = comment
    assert shown, "a python example shows no value"
    checked = []

    def check(value: Any, text: str, line: int) -> None:
        assert repr(value) == text, f"README python example, line {line}"
        checked.append(line)

    tree = ast.fix_missing_locations(_Shown(shown).visit(ast.parse(block)))
    exec(compile(tree, "README.md", "exec"), {"_check": check})
    assert sorted(checked) == sorted(shown)
