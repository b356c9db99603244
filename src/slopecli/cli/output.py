"""Choosing the renderer, and holding machine output back until the run has succeeded."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from slopecli.cli.options import OutputFormat
from slopecli.errors import UsageError

if TYPE_CHECKING:
    from slopecli.render.machine import BatchSink, Sink
    from slopecli.render.stream import ByteStream

HOLD_BYTES = 4 << 20
"""Output up to this size is held until the run ends, so a failed run prints nothing."""


class HeldOutput:
    """A byte stream that keeps the first ``limit`` bytes back, then streams.

    A run that fails on a small input leaves stdout empty; a large output still streams in
    constant memory (and a failure late in it leaves what was already written).
    """

    def __init__(self, out: IO[bytes], limit: int = HOLD_BYTES) -> None:
        self._out = out
        self._limit = limit
        self._held: list[bytes] = []
        self._size = 0
        self._streaming = False
        self.closed = False

    def write(self, data: bytes | bytearray) -> int:
        if self._streaming or self._limit == 0:
            self._streaming = True
            self._out.write(data)
        else:
            self._held.append(bytes(data))
            self._size += len(data)
            if self._size > self._limit:
                self.release()
        return len(data)

    def release(self) -> None:
        """Write what is held and stream from now on."""
        self._out.write(b"".join(self._held))
        self._held.clear()
        self._streaming = True

    @property
    def room(self) -> int | None:
        """How many more bytes are held back before the output streams; None once it streams."""
        return self._limit - self._size if self.holding else None

    def writable(self) -> bool:
        return True

    @property
    def holding(self) -> bool:
        """Whether what is written now is held back (not yet streaming)."""
        return not (self._streaming or self._limit == 0)

    def fileno(self) -> int:
        return self._out.fileno()

    def flush(self) -> None:
        if self._streaming:
            self._out.flush()


@contextmanager
def held_stdout(stream: bool = False) -> Iterator[HeldOutput]:
    """stdout behind a :class:`HeldOutput`, released only if the block succeeds.

    With ``stream``, nothing is held: for JSON Lines that promise a line per file or per step
    as it happens (a reader following a long run must see them).
    """
    held = HeldOutput(sys.stdout.buffer, limit=0 if stream else HOLD_BYTES)
    yield held
    held.release()
    sys.stdout.buffer.flush()


def choose_format(fmt: OutputFormat | None, json_flag: bool) -> OutputFormat:
    """``--json`` is ``--format json``; contradicting it is an error. Neither: a table."""
    if json_flag:
        if fmt not in (None, OutputFormat.json):
            msg = f"--json contradicts --format {fmt.value}: give one of them"
            raise UsageError(msg)
        return OutputFormat.json
    return OutputFormat.table if fmt is None else fmt


def make_sink(
    fmt: OutputFormat,
    out: ByteStream,
    *,
    summary: bool,
    precision: int,
    show_rows: int | None,
    title: str,
    row: int | None = None,
    threads: int = 1,
) -> Sink:
    """The writer for ``fmt``; per-row machine output is encoded on ``threads`` threads. Rich is
    imported only for tables."""
    from slopecli.render import machine

    if row is not None and (fmt is not OutputFormat.table or summary):
        msg = "--row explains one row in a table: it takes neither --format json/jsonl/csv nor --summary"
        raise UsageError(msg)
    if fmt in (OutputFormat.json, OutputFormat.jsonl):
        return machine.RowsWriter(out, fmt.value, with_rows=not summary, threads=threads)
    if fmt is OutputFormat.csv:
        if summary:
            msg = "--summary has no per-row CSV to write: use --format json or jsonl"
            raise UsageError(msg)
        return machine.CsvWriter(out, threads=threads)
    from slopecli.render.tables import TableWriter, stdout_console

    return TableWriter(stdout_console(), precision=precision, show_rows=show_rows, title=title, row=row)


def make_batch_sink(
    fmt: OutputFormat, out: ByteStream, *, combine: bool, precision: int, features: Sequence[str]
) -> BatchSink:
    """The writer of per-file results for ``fmt``; ``features`` name the CSV's gradient columns."""
    if fmt is not OutputFormat.table:
        from slopecli.render.machine import BatchWriter

        return BatchWriter(out, fmt.value, combine, features)
    from slopecli.render.batch_table import BatchTableWriter
    from slopecli.render.tables import stdout_console

    return BatchTableWriter(stdout_console(), precision=precision, combine=combine)
