"""A progress display for long runs, on stderr, only when stderr is a terminal."""

from __future__ import annotations

import sys
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from slopecli.text import visible


class _Bar:
    """A Rich progress display's life: started on entering, cleared on :meth:`close` or on leaving
    (each display is transient, so the result drawn after it has the terminal to itself)."""

    _progress: Progress
    enabled: bool

    def _display(self, *columns: ProgressColumn, console: Console) -> Progress:
        """A display of ``columns`` on ``console``: transient, never capturing stdout or stderr
        (machine output must reach its reader untouched), and off unless :attr:`enabled`."""
        return Progress(
            *columns,
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
            disable=not self.enabled,
        )

    def close(self) -> None:
        """Clear the bar before the result is drawn on the same terminal."""
        self._progress.stop()

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()


class FileProgress(_Bar):
    """Files done, rows read, MB/s and the time left, measured in bytes of input.

    Silent (and free) when stderr is not a terminal, so logs and pipes stay clean. Never
    captures stdout: machine output must reach its reader untouched.
    """

    def __init__(self, files: int, total_bytes: int, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True)
        self.enabled = console is not None or sys.stderr.isatty()
        self._progress = self._display(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[files]}"),
            TextColumn("{task.fields[rows]:,} rows"),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self._console,
        )
        self._files = files
        self._done = 0
        self._rows = 0
        self._current = 0
        self._task = self._progress.add_task("batch", total=max(total_bytes, 1), files=self._count(), rows=0)

    def _count(self) -> str:
        return f"{self._done}/{self._files} files"

    def chunk(self, nbytes: int) -> None:
        """Bytes of the current file read so far (in-process runs report as they go)."""
        self._current += nbytes
        self._progress.advance(self._task, nbytes)

    def file_done(self, rows: int, size: int) -> None:
        """A file finished: the rest of its ``size`` counts as read (never twice, never back)."""
        self._done += 1
        self._rows += rows
        rest = max(size - self._current, 0)
        self._current = 0
        self._progress.update(self._task, advance=rest, files=self._count(), rows=self._rows)

    def say(self, line: str) -> None:
        """One line on stderr, above the live display (or plainly, when there is none)."""
        line = visible(" ".join(line.splitlines()))  # a file's name may hold control characters
        if self.enabled:
            self._console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


class StepProgress(_Bar):
    """Steps of gradient descent done, on stderr when it is a terminal and the run is long."""

    def __init__(self, total: int, console: Console | None = None, minimum: int = 50) -> None:
        self.enabled = (console is not None or sys.stderr.isatty()) and total >= minimum
        self._progress = self._display(
            TextColumn("descend"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} steps"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
        )
        self._task = self._progress.add_task("descend", total=total)

    def advance(self) -> None:
        self._progress.advance(self._task)


class RowProgress(_Bar):
    """Rows of one large file done, as a bar against an estimate of its row count, on stderr when
    it is a terminal. ``advance`` may be called from several reader threads at once (Rich's
    progress holds a lock). Transient: :meth:`close` clears it before the result is drawn.

    Args:
        total: the estimated row count (None: rows and speed only, no bar).
    """

    def __init__(self, total: int | None, console: Console | None = None) -> None:
        self.enabled = console is not None or sys.stderr.isatty()
        self._progress = self._display(
            TextColumn("compute"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.completed:,.0f} rows"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
        )
        self._total = total
        self._task = self._progress.add_task("compute", total=total)

    def advance(self, rows: int) -> None:
        if self._total is not None and self._progress.tasks[0].completed + rows > self._total:
            # The estimate was short: the bar stays just short of full until the end.
            self._total = int((self._progress.tasks[0].completed + rows) * 1.05) + 1
            self._progress.update(self._task, total=self._total)
        self._progress.advance(self._task, rows)
