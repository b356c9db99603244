"""Per-row results of a large file in input order, its pieces read on threads.

The summary path (:func:`slopecli.evaluation.evaluate_table`) reads a large file in a few byte
ranges at once and adds their sums. Per-row output must come out in input order and in bounded
memory, so here the file is cut into many small pieces (about :data:`PIECE_BYTES` each) and a few
are read ahead on threads, each into a queue of its chunks' per-row results and sums, while this
thread hands the oldest piece's results on in order. Only this thread knows how many rows were
handed on before a chunk, so it gives each chunk its row numbers (a JSON record's ``row``).
Output that needs no row numbers (CSV) is better encoded on the thread that read the chunk
(a :class:`RowEncoder`): this thread then only writes bytes, and the threads pass each other
the interpreter's lock half as often (1M x 10 CSV: ~7% less time and CPU).

CSV to a file descriptor on Linux goes further: worker processes encode and write the pieces
(:mod:`slopecli.forked_rows`), out of reach of one another's interpreter lock.

A row's values are those of one pass, except that BLAS may round a row's Σ w·x differently in
the last bit by its place in a chunk, and chunks here start where pieces do: on the 1M x 10
benchmark file 457 rows of a million differ from one pass, by one ulp of Σ w·x (an error near
zero, Σ w·x − y, by more ulps of its own: within the ε·(Σ|w·x| + |y|) the README promises).

A piece that fails does not say where: from the first failed piece on, one sequential pass of the
file takes over (rows already handed on are skipped, not repeated), and it either finds the error
and says exactly where, or reads on (a piece also fails on a line longer than its blocks).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from queue import SimpleQueue
from typing import TYPE_CHECKING

import numpy as np

from slopecli import waits
from slopecli.core import Sums, Vector
from slopecli.errors import SlopeError
from slopecli.evaluation import CORES, RowBatch, checked, evaluate, release, rows_of
from slopecli.forked_rows import Outcome, RowEncoder, evaluate_forked, usable
from slopecli.readers.chunk import Chunk

if TYPE_CHECKING:
    from slopecli.readers.table import Piece, Table

PIECE_BYTES = 2 << 20
"""About this many bytes of the file per piece: small enough that the pieces read ahead stay a
few MiB in memory, large enough that opening a reader per piece costs little (100 pieces of
1 MiB read the 1M x 10 file in ~0.03 s more CPU than 2 pieces)."""

_End = None
"""What a piece's queue holds last when the piece was read to its end; an exception instead when
it could not be (raised on this thread)."""


class _PieceFailed(Exception):
    """A piece could not be read as data: one sequential pass says what and where."""


Part = tuple[RowBatch, Sums, bytes | bytearray | None]
Item = Part | BaseException | None


def evaluate_rows(
    table: Table,
    weights: Vector,
    on_rows: Callable[[RowBatch], None],
    threads: int = CORES,
    on_chunk: Callable[[int], None] | None = None,
    encoder: RowEncoder | None = None,
) -> Sums:
    """The sums of every row of ``table``; ``on_rows`` sees each chunk's per-row results, in
    input order, on this thread: from pieces read on ``threads`` threads when the table can be
    split, else from one pass of its chunks (as :func:`slopecli.evaluation.evaluate`).

    With ``encoder``, the chunks of pieces are encoded on the threads that read them and their
    bytes written in input order instead (``on_rows`` still sees the chunks of a sequential pass).
    ``on_chunk`` hears of each chunk's row count once it has been handed on.

    Raises:
        SlopeError: the data is wrong (found by one sequential pass, with the exact place).
    """
    pieces = _pieces(table)
    if not pieces:
        return evaluate(table.chunks(), weights, on_rows, table.name, on_chunk)
    if encoder is not None and usable(encoder, threads):
        outcome = evaluate_forked(table, pieces, weights, encoder, threads, on_chunk)
    else:
        outcome = _on_threads(table, pieces, weights, on_rows, threads, on_chunk, encoder)
    total = outcome.sums
    if outcome.failed:
        rest = evaluate(_after(table.chunks(), outcome.written), weights, on_rows, table.name, on_chunk)
        total = total + rest
    return checked(total, table.name)


def _on_threads(
    table: Table,
    pieces: list[Piece],
    weights: Vector,
    on_rows: Callable[[RowBatch], None],
    threads: int,
    on_chunk: Callable[[int], None] | None,
    encoder: RowEncoder | None,
) -> Outcome:
    """The pieces read on ``threads`` threads and handed on (or written) in input order, up to the
    first that fails."""
    total = Sums.zero(len(weights))
    written = 0
    failed = False
    # Ctrl-C reaches only this thread: the readers stop at their next chunk, not their piece's end.
    stop = threading.Event()
    pool = ThreadPoolExecutor(threads, thread_name_prefix="piece")
    try:
        for rows, sums, data in _in_order(pool, table, pieces, weights, stop, 2 * threads, encoder):
            if encoder is not None and data is not None:
                encoder.write(data)
            else:
                on_rows(dataclasses.replace(rows, first_row=written))
            total = total + sums
            written += len(rows.y)
            if on_chunk is not None:
                on_chunk(len(rows.y))
    except _PieceFailed:
        failed = True
    except BaseException as exc:
        release(pool, stop, waiting=not isinstance(exc, waits.ENDING))
        raise
    release(pool, stop)
    return Outcome(total, written, failed)


def _pieces(table: Table) -> list[Piece]:
    """Pieces of about PIECE_BYTES, or none when the table is not worth splitting (or cannot be).

    How many depends on the file alone, not on the number of threads (one thread reads them too): BLAS may
    round a row's Σ w·x differently by its place in a chunk (in the last bit), and chunks start
    where pieces do, so the same file gives the same bytes on any number of cores.
    """
    pieces = table.pieces(2, most_bytes=PIECE_BYTES)
    return pieces if len(pieces) >= 2 else []


def _in_order(
    pool: ThreadPoolExecutor,
    table: Table,
    pieces: list[Piece],
    weights: Vector,
    stop: threading.Event,
    window: int,
    encoder: RowEncoder | None,
) -> Iterator[Part]:
    """Each chunk's results, piece after piece, with up to ``window`` pieces read ahead.

    Raises:
        _PieceFailed: a piece could not be read as data.
    """
    queues: deque[SimpleQueue[Item]] = deque()
    todo = iter(pieces)

    def start() -> None:
        for piece in todo:
            queue: SimpleQueue[Item] = SimpleQueue()
            pool.submit(_read, table, piece, weights, stop, queue, encoder)
            queues.append(queue)
            return

    for _ in range(window):
        start()
    while queues:
        while (item := waits.get(queues[0])) is not _End:
            if isinstance(item, BaseException):
                raise item
            yield item
        queues.popleft()
        start()


def _read(
    table: Table,
    piece: Piece,
    weights: Vector,
    stop: threading.Event,
    queue: SimpleQueue[Item],
    encoder: RowEncoder | None,
) -> None:
    """One piece's per-row results, sums and (with ``encoder``) bytes into ``queue``, then an
    end (or a failure)."""
    try:
        for chunk in table.read_piece(piece):
            if stop.is_set():
                break
            rows = rows_of(chunk, weights, table.name)
            with np.errstate(over="ignore", invalid="ignore"):
                sums = Sums.of_error(chunk.X, rows.error)
            queue.put((rows, sums, None if encoder is None else encoder.encode(rows)))
    except SlopeError:
        queue.put(_PieceFailed())
    except BaseException as exc:
        queue.put(exc)  # whoever waits for this queue's last item must get one
        raise
    else:
        queue.put(_End)


def _after(chunks: Iterable[Chunk], rows: int) -> Iterator[Chunk]:
    """The chunks' rows from row ``rows`` on (the first of them cut to start there)."""
    for chunk in chunks:
        skip = rows - chunk.first_row
        if skip >= len(chunk.y):
            continue
        if skip > 0:
            chunk = Chunk(chunk.X[skip:], chunk.y[skip:], rows)
        yield chunk
