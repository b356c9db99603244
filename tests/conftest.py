"""Shared fixtures: a clean environment for colour-sensitive output, and two ways to run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
COLOUR_VARIABLES = ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "GITHUB_ACTIONS", "PY_COLORS", "TERM")


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Colour and width settings of the caller's terminal must not leak into expected text."""
    for name in COLOUR_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@dataclass
class Run:
    """What a run of slopecli left behind."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def jsonl(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines()]


def invoke(*args: str, input: str | bytes | None = None) -> Run:
    """Run slopecli in-process through Typer's CliRunner."""
    from slopecli.cli import app

    result = CliRunner().invoke(app, list(args), input=input, prog_name="slopecli")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def installed_slopecli() -> str:
    """The console script installed next to this interpreter."""
    script = Path(sys.executable).with_name("slopecli")
    if not script.exists():
        pytest.fail(f"slopecli is not installed next to {sys.executable}: pip install -e '.[test]'")
    return str(script)


def run_installed(*args: str, input: str | bytes | None = None, cwd: Path | None = None) -> Run:
    """Run the installed ``slopecli`` command as a subprocess, as a user would."""
    env = {k: v for k, v in os.environ.items() if k not in COLOUR_VARIABLES}
    data = input.encode() if isinstance(input, str) else input
    done = subprocess.run(
        [installed_slopecli(), *args],
        input=data,
        capture_output=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.fixture(params=["in-process", "subprocess"])
def slopecli(request: pytest.FixtureRequest) -> Any:
    """Run slopecli both ways: in-process (fast, debuggable) and as the installed command."""
    return invoke if request.param == "in-process" else run_installed
