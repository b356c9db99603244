"""Shared fixtures: a clean environment for colour-sensitive output, and two ways to run the CLI."""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
# What a caller's environment may set that changes how Rich and Typer write (colour, width, Rich's
# TTY_COMPATIBLE/TTY_INTERACTIVE, which make a pipe count as a terminal, Typer's TYPER_USE_RICH):
# every variable Rich 15 and Typer 0.29 read for that, cleared for tests.
COLOUR_VARIABLES = (
    "FORCE_COLOR",
    "NO_COLOR",
    "COLUMNS",
    "LINES",
    "GITHUB_ACTIONS",
    "PY_COLORS",
    "TERM",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "JUPYTER_COLUMNS",
    "JUPYTER_LINES",
    "COLORTERM",
    "TYPER_USE_RICH",
)

# Hypothesis keeps its example database and caches in .hypothesis/ of the directory pytest was
# started from: keep them in the repository's, wherever that is (a caller's own setting wins).
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(ROOT / ".hypothesis"))


# Set by coverage's [run] patch = subprocess (pyproject.toml): a child Python that finds it in its
# environment measures itself, and imports coverage to do so.
SUBPROCESS_COVERAGE = "COVERAGE_PROCESS_CONFIG"


@pytest.fixture(autouse=True)
def _measure_processes_only_where_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under coverage, the processes a test starts are measured only in a test marked
    ``process_coverage``: one whose runs reach lines no in-process run can (closed or real
    standard streams, signals, forked workers, the console script's exit). Every other test's
    `slopecli` is a user's run of code that the in-process tests measure, and measuring it took
    about 0.35 s a run (importing coverage alone, 0.15 s): with every run measured, the fast
    suite took 178-193 s under coverage here; with the marked tests' only, 162-167 s, and the
    same lines were covered."""
    if request.node.get_closest_marker("process_coverage") is None:
        monkeypatch.delenv(SUBPROCESS_COVERAGE, raising=False)


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Colour and width settings of the caller's terminal must not leak into expected text."""
    for name in COLOUR_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def _empty_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cwd")


@pytest.fixture(autouse=True)
def _run_from_an_empty_directory(monkeypatch: pytest.MonkeyPatch, _empty_directory: Path) -> Iterator[None]:
    """Every test runs in an empty directory, whatever directory pytest was started from, so a
    path that is not made from ROOT, SAMPLES or tmp_path fails here, not on someone else's machine,
    and a test that leaves files in its working directory (the repository, for most callers) fails.
    The installed command run by :func:`run_installed` inherits it; the README's examples are
    run from ROOT on purpose (tests/test_docs.py)."""
    monkeypatch.chdir(_empty_directory)
    yield
    left = sorted(path.name for path in _empty_directory.iterdir())
    for path in _empty_directory.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    if left:
        pytest.fail(f"the test left {left} in its working directory: write under tmp_path instead")


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


@functools.cache
def _command() -> Any:
    """slopecli's Click command, built once: CliRunner.invoke has Typer build it again for each
    run, which was 22 ms of every in-process run (and of every test suite run, 8 s)."""
    import typer.main

    from slopecli.cli import app

    return typer.main.get_command(app)


def invoke(*args: str, input: str | bytes | None = None) -> Run:
    """Run slopecli in-process, in a CliRunner's isolation (its stdin, stdout and stderr); an
    exception other than an exit is raised, as a bug should be."""
    runner = CliRunner()

    def text(stream: io.BytesIO) -> str:
        return stream.getvalue().decode(runner.charset, "replace").replace("\r\n", "\n")

    with runner.isolation(input=input) as (stdout, stderr, _):
        try:
            _command().main(args=list(args), prog_name="slopecli")
            code: Any = 0
        except SystemExit as exc:
            code = exc.code
        sys.stdout.flush()
        sys.stderr.flush()
        run = Run(code, text(stdout), text(stderr))
    assert isinstance(code, int), f"slopecli exited with {code!r}, not an exit code"
    return run


def plain_env(**extra: str) -> dict[str, str]:
    """The environment for a slopecli a test starts: this one without the caller's colour and
    width settings (COLOUR_VARIABLES), plus ``extra``."""
    return {**{k: v for k, v in os.environ.items() if k not in COLOUR_VARIABLES}, **extra}


def installed_slopecli() -> str:
    """The console script installed next to this interpreter."""
    script = Path(sys.executable).with_name("slopecli")
    if not script.exists():
        pytest.fail(f"slopecli is not installed next to {sys.executable}: pip install -e '.[test]'")
    return str(script)


def run_installed(*args: str, input: str | bytes | None = None, cwd: Path | None = None) -> Run:
    """Run the installed ``slopecli`` command as a subprocess, as a user would (in ``cwd``, by
    default the test's own working directory: an empty one)."""
    env = plain_env()
    data = input.encode() if isinstance(input, str) else input
    done = subprocess.run(
        [installed_slopecli(), *args],
        input=data,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.fixture(params=["in-process", "subprocess"])
def slopecli(request: pytest.FixtureRequest) -> Any:
    """Run slopecli both ways: in-process (fast, debuggable) and as the installed command."""
    return invoke if request.param == "in-process" else run_installed


class Pipe(io.RawIOBase):
    """A read-only, non-seekable byte stream that hands out ``step`` bytes a read, as a pipe does."""

    def __init__(self, data: bytes, step: int = 7) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._data.readinto(memoryview(buffer)[: self._step])


def interrupted_within_a_second(wait: Any) -> None:
    """``wait()`` ends in KeyboardInterrupt within a second of a SIGINT that wakes nobody:
    ``_thread.interrupt_main`` marks the signal as arrived, as when the kernel hands it to
    another thread, and a plain lock wait of the main thread would sleep on."""
    import _thread
    import threading
    import time

    timer = threading.Timer(0.1, _thread.interrupt_main)
    timer.start()
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        wait()
    assert time.monotonic() - began < 1.0
    timer.join()
