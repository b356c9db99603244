"""The README is executable: its examples run as shown, and it documents every command."""

from __future__ import annotations

import ast
import io
import os
import platform
import re
import subprocess
import sys
import tokenize
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, plain_env

README = (ROOT / "README.md").read_text()


def console_examples() -> list[tuple[str, str]]:
    """(command, expected output) for each ``$ slopecli …`` line in a ```console block."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


def run_example(command: str, **environment: str) -> list[str]:
    """The lines a README command prints (stdout, then stderr), trailing blanks dropped."""
    env = plain_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "80"
    env.update(environment)
    done = subprocess.run(
        command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    return [line.rstrip() for line in (done.stdout + done.stderr).splitlines()]


# Byte for byte: the examples' numbers are exact in binary, or come from exact sums through one
# rounded division, or are shown rounded, so no machine's BLAS kernels change a digit.
@pytest.mark.parametrize(("command", "expected"), console_examples(), ids=[c for c, _ in console_examples()])
def test_readme_example_prints_what_it_shows(command, expected):
    assert run_example(command) == expected.splitlines()


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux lists them (none where it does not)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next(
                (set(line.split(":", 1)[1].split()) for line in cpuinfo if line.startswith("flags")), set()
            )
    except OSError:
        return set()


def kernel_set(name: str, *needs: str) -> Any:
    """OpenBLAS's kernel set ``name``, skipped where the CPU lacks an instruction it uses (forced
    on such a CPU, the process dies of SIGILL: SkylakeX's AVX-512 on an AMD EPYC without it)."""
    missing = [flag for flag in needs if flag not in cpu_flags()]
    reason = f"this CPU lacks {', '.join(missing)}"
    return pytest.param(name, marks=pytest.mark.skipif(bool(missing), reason=reason))


@pytest.mark.slow
@pytest.mark.skipif(platform.machine() != "x86_64", reason="OpenBLAS's x86-64 kernel sets")
@pytest.mark.parametrize(
    "kernels",
    [kernel_set("Prescott"), kernel_set("Haswell", "avx2", "fma"), kernel_set("SkylakeX", "avx512f")],
)
def test_readme_examples_print_the_same_under_every_blas_kernel_set(kernels):
    """A machine with other kernels sums in another order (OPENBLAS_CORETYPE picks them here)."""
    examples = console_examples()
    # Two at a time: each is a process of its own, and the slow tests have the machine to themselves.
    with ThreadPoolExecutor(2) as pool:
        printed = pool.map(lambda example: run_example(example[0], OPENBLAS_CORETYPE=kernels), examples)
        for (command, expected), lines in zip(examples, printed, strict=True):
            assert lines == expected.splitlines(), command


def test_readme_has_examples():
    assert len(console_examples()) >= 6


def test_every_command_is_documented_with_help_and_an_example():
    from typer.main import get_command

    from slopecli.cli import app

    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help and "Example: slopecli " + name in command.help, name
        assert f"## `slopecli {name}`" in README, name


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


@pytest.mark.parametrize("width", ["60", "100"])
def test_help_paragraphs_wrap_at_the_terminal_not_at_the_source(monkeypatch, width):
    # Typer keeps a docstring's line breaks: a paragraph wrapped at 110 columns in the source
    # broke mid-sentence ("combined gradient and⏎ MSE") at any other width.
    from conftest import invoke

    monkeypatch.setenv("COLUMNS", width)
    text = " ".join(invoke("compute", "--help").stdout.split())
    assert "their combined gradient and MSE are computed on a Dask cluster" in text
    lines = [line.strip() for line in invoke("compute", "--help").stdout.splitlines()]
    assert "MSE are computed on a Dask cluster (per-row results: use batch --out)." not in lines
