"""The README is executable: its examples run as shown, and it documents every command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

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
    done = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    printed = done.stdout + done.stderr
    assert [line.rstrip() for line in printed.splitlines()] == expected.splitlines()


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
