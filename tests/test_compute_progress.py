"""Progress of one large ``compute``: on a terminal's stderr, transient, silent elsewhere."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

import slopecli.cli.compute as compute_command
from slopecli.render.progress import RowProgress

from conftest import SAMPLES, invoke


def terminal() -> tuple[Console, io.StringIO]:
    text = io.StringIO()
    return Console(file=text, force_terminal=True, width=100, color_system=None), text


def test_rows_are_counted_and_the_bar_outgrows_a_short_estimate() -> None:
    console, text = terminal()
    with RowProgress(100, console=console) as progress:
        progress.advance(60)
        progress.advance(60)  # past the estimate: the total grows instead of overflowing
        total = progress._progress.tasks[0].total
        progress.close()
    assert total is not None and total > 120
    assert "compute" in text.getvalue()


def test_no_estimate_counts_rows_only() -> None:
    console, _ = terminal()
    with RowProgress(None, console=console) as progress:
        progress.advance(5)
        assert progress._progress.tasks[0].completed == 5


@pytest.fixture
def on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(compute_command, "PROGRESS_BYTES", 0)


@pytest.mark.usefixtures("on_a_terminal")
def test_a_large_file_on_a_terminal_gets_an_estimate_from_its_first_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,target\n" + "1,2\n" * 99)
    progress = compute_command._progress(str(path))
    assert isinstance(progress, RowProgress)
    assert progress._total == 100  # 100 lines in the file, header included: an estimate


@pytest.mark.usefixtures("on_a_terminal")
@pytest.mark.parametrize("file", [None, "-", "/no/such/file.csv"])
def test_flags_stdin_and_missing_files_get_none(file: str | None) -> None:
    assert isinstance(compute_command._progress(file), contextlib.nullcontext)


def test_not_on_a_terminal_there_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert isinstance(compute_command._progress(str(SAMPLES / "points.csv")), contextlib.nullcontext)


def test_small_files_get_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert isinstance(compute_command._progress(str(SAMPLES / "points.csv")), contextlib.nullcontext)


@pytest.mark.parametrize("args", [("--json", "--summary"), ("--format", "jsonl")])
def test_compute_advances_the_progress_and_clears_it_before_the_output(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    console, _ = terminal()
    shown: list[RowProgress] = []

    def recording(file: str | None) -> RowProgress:
        shown.append(RowProgress(None, console=console))
        return shown[-1]

    monkeypatch.setattr(compute_command, "_progress", recording)
    run = invoke("compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", *args)
    assert run.exit_code == 0, run.stderr
    assert shown[0]._progress.tasks[0].completed == 5  # the file's 5 rows
    assert "\x1b" not in run.stdout
