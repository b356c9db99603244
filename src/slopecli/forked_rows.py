"""Per-row output of a large file's pieces encoded and written by worker processes, in input order.

On threads, per-row CSV is held back by the interpreter's lock: orjson holds it while it formats a
chunk, and every numpy call of the other reader must wait to take it back (16% of a 1M x 10 run,
bench/README.md). Forked workers share nothing: each reads its own pieces of the file (every
``workers``-th), encodes them, and writes them itself when its turn comes. A one-byte token passed
around a ring of pipes gives the turns, so the output is that of one pass, byte for byte. Each
worker reports every piece it wrote (its row count, for progress and for where a failure starts,
and its sums), on a pipe of its own; a failure or an error is reported instead, and this process
stops the workers and takes over.

The workers start as soon as the file is cut, and this process only writes what they hand it
while the output is held (:class:`slopecli.cli.output.HeldOutput`): a run that fails early still
prints nothing, and no core waits while the first pieces are done here (they were, until
the hold's 4 MiB had passed: 80-90 ms of a 1M x 10 run on one core). The workers die with this
process (``PR_SET_PDEATHSIG``), ignore Ctrl-C (this process stops them), and leave by
``os._exit``, so nothing of the parent's runs twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from slopecli.core import Sums, Vector
from slopecli.errors import SlopeError
from slopecli.evaluation import rows_of
from slopecli.full_writes import write_all

if TYPE_CHECKING:
    from slopecli.evaluation import RowBatch
    from slopecli.readers.table import Piece, Table


class RowEncoder(Protocol):
    """Per-row output whose encoding does not depend on row numbers (CSV lines)."""

    def encode(self, batch: RowBatch) -> bytes | bytearray:
        """``batch`` as output bytes, on any thread (its ``first_row`` may count from a piece's start)."""
        ...

    def write(self, data: bytes | bytearray) -> object:
        """Encoded rows, in input order."""
        ...

    def flush(self) -> None:
        """Everything written so far, on its way to the output."""
        ...

    def room(self) -> int | None:
        """How many more bytes are held back here before the output streams (a run that fails
        before then must print nothing); None when it streams."""
        ...

    def release(self) -> None:
        """Whatever is held written out and flushed to the descriptor: the output streams."""
        ...

    def descriptor(self) -> int | None:
        """The file descriptor the output goes to, if it is one that other processes can write to."""
        ...


@dataclass(frozen=True)
class Outcome:
    """What the pieces gave: their sums and rows written, and whether one of them failed."""

    sums: Sums
    written: int
    failed: bool


def usable(encoder: RowEncoder, workers: int) -> bool:
    """Whether worker processes may write this output: several cores, Linux's fork and death
    signal, and an output that is a file descriptor (not the buffer of a test's runner)."""
    linux = sys.platform.startswith("linux") and hasattr(os, "fork")
    return workers >= 2 and linux and encoder.descriptor() is not None


def evaluate_forked(
    table: Table,
    pieces: list[Piece],
    weights: Vector,
    encoder: RowEncoder,
    workers: int,
    on_chunk: Callable[[int], None] | None = None,
) -> Outcome:
    """The pieces' rows encoded by ``workers`` processes and written in input order: handed over
    to this process while the output is held, then written by the workers themselves. Stops at
    the first piece that fails (the caller reads on from ``written`` rows in one pass, which says
    where and what).

    Raises:
        OSError: a worker could not write the output (a closed pipe, a full disk).
        SlopeError: a worker's values overflowed the sums.
    """
    total, written = Sums.zero(len(weights)), 0
    out = encoder.descriptor()
    if out is None:  # pragma: no cover - usable() said it has one
        msg = "worker processes need an output file descriptor"
        raise ValueError(msg)
    encoder.flush()  # before the fork: a buffer copied into every worker would be written again
    sys.stdout.flush()
    sys.stderr.flush()
    ring = _Ring(min(workers, len(pieces)))
    try:
        ring.start(lambda k, turn: _work(table, pieces, k, ring.size, weights, encoder, out, turn))
        streaming = False
        for i in range(len(pieces)):
            k = i % ring.size
            message = ring.receive(k)  # the piece is encoded: its size, or a failure
            if message[0] == "failed":
                return Outcome(total, written, True)
            room = None if streaming else encoder.room()
            if room is not None and message[1] <= room:
                ring.hand_over(k)  # it stays in the hold: here, where a later failure drops it
                message = ring.receive(k)
                for data in message[5]:
                    encoder.write(data)
            else:
                if not streaming:
                    encoder.release()  # what is held goes out first, then the workers write
                    ring.pass_token(k)
                    streaming = True
                message = ring.receive(k)
            _, rows, n, xte, sse = message[:5]
            total, written = total + Sums(n, xte, sse), written + rows
            if on_chunk is not None:
                on_chunk(rows)
    finally:
        ring.stop()
    return Outcome(total, written, False)


def _encoded(
    table: Table, piece: Piece, weights: Vector, encoder: RowEncoder
) -> Iterator[tuple[bytes | bytearray, Sums, int]]:
    for chunk in table.read_piece(piece):
        rows = rows_of(chunk, weights, table.name)
        with np.errstate(over="ignore", invalid="ignore"):
            sums = Sums.of_error(chunk.X, rows.error)
        yield encoder.encode(rows), sums, len(rows.y)


def _work(
    table: Table,
    pieces: list[Piece],
    k: int,
    size: int,
    weights: Vector,
    encoder: RowEncoder,
    out: int,
    turn: _Turn,
) -> Iterator[tuple[Any, ...]]:
    """Worker ``k``'s pieces (every ``size``-th from its ``k``-th), each encoded at once and then,
    on its turn, written to ``out`` or handed over; what it reports, message by message."""
    for i in range(k, len(pieces), size):
        try:
            parts = list(_encoded(table, pieces[i], weights, encoder))
        except SlopeError:
            yield ("failed",)
            return
        sums = Sums.zero(len(weights))
        for _, part, _ in parts:
            sums = sums + part
        yield ("ready", sum(len(data) for data, _, _ in parts))
        report = ("piece", sum(count for _, _, count in parts), sums.n, sums.xte, sums.sse)
        how = turn.wait()
        if how is None:
            return  # this process gave up on the run: nothing more may be written
        if how == _HAND_OVER:
            yield (*report, [data for data, _, _ in parts])
            continue
        for data, _, _ in parts:
            write_all(out, data)  # (a non-blocking pipe that is full waits for room)
        turn.pass_on()
        yield report
    yield ("done",)


_WRITE, _HAND_OVER = b"\0", b"\1"
"""What a worker is told on its turn: write its piece and pass the turn on, or hand the piece's
bytes over to the run (whose output is still held) and wait for its next turn."""


class _Turn:
    """A worker's place in the ring: its turn comes in on one pipe and goes on along the next."""

    def __init__(self, incoming: int, outgoing: int) -> None:
        self._incoming = incoming
        self._outgoing = outgoing

    def wait(self) -> bytes | None:
        """Until the turn comes: what to do with it; None if the ring was closed instead."""
        how = os.read(self._incoming, 1)
        return how if how in (_WRITE, _HAND_OVER) else None

    def pass_on(self) -> None:
        os.write(self._outgoing, _WRITE)


class _Ring:
    """Worker processes, the token pipes between them, and the connections they report on."""

    def __init__(self, size: int) -> None:
        from multiprocessing import Pipe  # here: only a large per-row run needs it

        self.size = size
        self._tokens = [os.pipe() for _ in range(size)]
        self._reports = [Pipe(duplex=False) for _ in range(size)]  # (this end, the worker's)
        self._pids: list[int] = []
        self._pending: list[deque[tuple[Any, ...]]] = [deque() for _ in range(size)]
        self._done = [False] * size  # each worker's last report received (its end, or a failure)
        self._open = [reading for reading, _ in self._reports]  # until its worker closes it

    def start(self, work: Callable[[int, _Turn], Iterator[tuple[Any, ...]]]) -> None:
        from slopecli.lifetime import signals_held

        parent = os.getpid()
        with signals_held():
            for k in range(self.size):
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the worker; its reports are what the tests see
                    self._run_worker(parent, k, work)
                self._pids.append(pid)
        for _, writing in self._reports:
            writing.close()  # so that a worker's end is seen as the end of its connection

    def hand_over(self, k: int) -> None:
        """Ask worker ``k`` for its next piece's bytes (it reports them instead of writing them)."""
        os.write(self._tokens[k][1], _HAND_OVER)

    def pass_token(self, k: int) -> None:
        """Let worker ``k`` write its next piece, and each worker after it in turn."""
        os.write(self._tokens[k][1], _WRITE)

    def _run_worker(
        self, parent: int, k: int, work: Callable[[int, _Turn], Iterator[tuple[Any, ...]]]
    ) -> None:  # pragma: no cover
        from slopecli.lifetime import die_with_parent

        code = 0
        report = self._reports[k][1]
        for j, (reading, writing) in enumerate(self._reports):
            reading.close()
            if j != k:
                writing.close()  # held here, another worker's death would never end its connection
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it stops us
            die_with_parent(parent)
            turn = _Turn(self._tokens[k][0], self._tokens[(k + 1) % self.size][1])
            for message in work(k, turn):
                report.send(message)
        except BaseException as exc:  # handed to the run, which raises it where it reports errors
            code = 1
            with contextlib.suppress(BaseException):  # the run is gone, or it cannot be pickled
                report.send(("error", exc))
        os._exit(code)

    def receive(self, k: int) -> tuple[Any, ...]:
        """Worker ``k``'s next report; any worker's exception raised here as soon as it is sent.

        Every worker's connection is watched, not only ``k``'s: a worker that dies would otherwise
        hold up the one waiting for its token, and this process waiting for that one.

        Raises:
            OSError: a worker ended without finishing (killed: out of memory, a signal).
        """
        from multiprocessing.connection import wait

        while not self._pending[k]:
            ready = wait(self._open)
            for j, (reading, _) in enumerate(self._reports):
                if reading not in ready:
                    continue
                try:
                    message: tuple[Any, ...] = reading.recv()
                except EOFError:
                    self._open.remove(reading)
                    if not self._done[j]:
                        msg = "a worker process ended without finishing its part of the output"
                        raise OSError(msg) from None
                    continue
                if message[0] == "error":
                    raise message[1]
                self._done[j] = message[0] in ("done", "failed")
                self._pending[j].append(message)
        return self._pending[k].popleft()

    def stop(self) -> None:
        """Every worker killed (those done are already gone) and reaped; every pipe closed."""
        for pid in self._pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in self._pids:
            os.waitpid(pid, 0)
        self._pids.clear()
        for reading, writing in self._tokens:
            os.close(reading)
            os.close(writing)
        for connection, _ in self._reports:
            connection.close()
        self._tokens, self._reports = [], []
