"""Fold a stream of chunks into per-row results and the mergeable :class:`~slopecli.core.Sums`.

This is what every command runs, whether its rows came from flags, one file or many: the core's
formulas applied chunk by chunk, with a check that nothing overflowed.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

import numpy as np

from slopecli import waits
from slopecli.core import Matrix, Sums, Vector, error, predict, slope
from slopecli.errors import InputError, NumericError, SlopeError
from slopecli.readers.chunk import Chunk
from slopecli.text import count

if TYPE_CHECKING:
    from slopecli.readers.table import Piece, Table

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass(frozen=True)
class RowBatch:
    """Per-row results of one chunk: inputs, targets, predictions, errors and slopes."""

    first_row: int
    X: Matrix
    y: Vector
    preds: Vector
    error: Vector
    slopes: Matrix

    def head(self, rows: int) -> RowBatch:
        """The first ``rows`` rows (views, not copies)."""
        return RowBatch(
            self.first_row,
            self.X[:rows],
            self.y[:rows],
            self.preds[:rows],
            self.error[:rows],
            self.slopes[:rows],
        )


def evaluate(
    chunks: Iterable[Chunk],
    weights: Vector,
    on_rows: Callable[[RowBatch], None] | None = None,
    source: str = "input",
    on_chunk: Callable[[int], None] | None = None,
) -> Sums:
    """The sums over all rows of ``chunks``; ``on_rows`` sees each chunk's per-row results.

    Args:
        chunks: the data, in order.
        weights: one weight per feature.
        on_rows: called once per chunk with its per-row results; None skips computing slopes.
        source: how messages name the data.
        on_chunk: told each chunk's row count once it is folded in (progress).

    Raises:
        InputError: the data has a different number of features than there are weights.
        NumericError: a prediction, error, slope or sum overflowed.
    """
    if on_rows is not None:
        total = Sums.zero(len(weights))
        for chunk in chunks:
            rows = rows_of(chunk, weights, source)
            on_rows(rows)
            with np.errstate(over="ignore", invalid="ignore"):
                part = Sums.of_error(chunk.X, rows.error)
                if not math.isfinite(part.sse):  # errors and slopes were checked: the squares?
                    _check_finite(rows.error * rows.error, "squared error", chunk.first_row, source)
                total = total + part
            if on_chunk is not None:
                on_chunk(len(rows.y))
        return checked(total, source)
    return checked(_fold(chunks, weights, source, on_chunk), source)


def _fold(
    chunks: Iterable[Chunk], weights: Vector, source: str, on_chunk: Callable[[int], None] | None
) -> Sums:
    """The sums of ``chunks``, with as little Python per chunk as the math allows.

    The same formulas as :meth:`Sums.of` (so the same bits, whichever path ran): per chunk one
    ``X·w``, one ``Xᵀe``, one ``e·e``. A reader's chunk holds X column-major, so BLAS forms
    ``X·w`` as Σ wⱼ·colⱼ and ``Xᵀe`` as one colⱼ·e per column, over contiguous columns. One
    fused finiteness check: a NaN or infinite error makes ``e·e`` non-finite, so the
    element-wise search for the row runs only when that sum is not finite.
    """
    n, xte, sse = 0, np.zeros(len(weights)), 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for chunk in chunks:
            X = chunk.X
            if X.shape[1] != len(weights):
                _mismatch(X.shape[1], len(weights), source)
            err = X @ weights
            err -= chunk.y
            part = float(err @ err)
            products = X.T @ err
            # One check of both sums (a NaN or an infinity in either makes it one): the row
            # search runs only when it fails, and names the row as the per-row path would.
            if not math.isfinite(part + float(products.sum())):
                _name_overflow(X, err, chunk.first_row, source)
            xte += products
            sse += part
            n += len(err)
            if on_chunk is not None:
                on_chunk(len(err))
    return Sums(n, xte, sse)


def evaluate_table(
    table: Table, weights: Vector, threads: int = CORES, on_chunk: Callable[[int], None] | None = None
) -> Sums:
    """The sums of every row of ``table``: its pieces on one thread each when it can be split,
    else one pass of its chunks.

    Arrow's parser and numpy release the GIL, so the threads use all cores; the sums merge as
    one pass would (up to the order of additions). If a piece fails, one sequential pass of the
    chunks finds the error and says exactly where it is.

    ``on_chunk`` hears of each chunk's row count as it is folded in, from any of the threads.

    Raises:
        SlopeError: the data is wrong.
    """
    pieces = table.pieces(threads)
    if not pieces:
        return evaluate(table.chunks(), weights, None, table.name, on_chunk)
    total = sum_pieces(table, pieces, lambda chunks: evaluate(chunks, weights, None, table.name, on_chunk))
    if total is None:
        return evaluate(table.chunks(), weights, None, table.name)
    return checked(total, table.name)


class Foldable(Protocol):
    """What folding a piece's rows gives: sums that add (the linear model's, a network's)."""

    @property
    def n(self) -> int: ...

    def __add__(self, other: Any, /) -> Any: ...


F = TypeVar("F", bound=Foldable)


def sum_pieces(table: Table, pieces: Sequence[Piece], fold: Callable[[Iterable[Chunk]], F]) -> F | None:
    """Each piece of ``table`` folded on a thread of its own, and the results added; None when a
    piece failed or no row was read, for one sequential pass to say exactly what and where.

    Arrow's parser and numpy release the GIL, so the threads use all cores; the sums merge as
    one pass would (up to the order of additions).
    """
    # Ctrl-C reaches only this thread: the readers stop at their next chunk, not their piece's end.
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=len(pieces))
    try:
        futures = [pool.submit(fold, _until(stop, table.read_piece(p))) for p in pieces]
        results = [waits.result(future) for future in futures]
    except SlopeError:
        release(pool, stop)
        return None
    except BaseException as exc:
        release(pool, stop, waiting=not isinstance(exc, waits.ENDING))
        raise
    release(pool, stop)
    total = results[0]
    for more in results[1:]:
        total = total + more
    return total if total.n else None


def release(pool: ThreadPoolExecutor, stop: threading.Event, waiting: bool = True) -> None:
    """Stop ``pool``'s piece readers at their next chunk, and wait for them unless not ``waiting``.

    Ctrl-C or ``kill`` ends the run now: the next chunk may be a second away on a busy machine (a
    piece's reader takes a while to start: 1.3-1.7 s after Ctrl-C in 9 runs of 10 under load).
    """
    stop.set()
    pool.shutdown(wait=waiting, cancel_futures=True)


def _until(stop: threading.Event, chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    for chunk in chunks:
        if stop.is_set():
            return
        yield chunk


def rows_of(chunk: Chunk, weights: Vector, source: str = "input") -> RowBatch:
    """Per-row results of one chunk: predictions, errors and slopes.

    Raises:
        InputError: the chunk has a different number of features than there are weights.
        NumericError: a prediction, error or slope overflowed.
    """
    preds, err = _predict(chunk, weights, source)
    with np.errstate(over="ignore", invalid="ignore"):
        slopes = slope(chunk.X, err)
    _check_finite(slopes, "slope", chunk.first_row, source)
    return RowBatch(chunk.first_row, chunk.X, chunk.y, preds, err, slopes)


def checked(total: Sums, source: str = "input") -> Sums:
    """``total``, once its gradient and MSE are known to be finite.

    Raises:
        NumericError: the sums overflowed.
    """
    if total.n == 0:
        return total
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(total.sse) and np.isfinite(total.gradient).all()
    if not finite:
        msg = f"{source}: the gradient or MSE overflows float64; the values are too large"
        raise NumericError(msg)
    return total


def _predict(chunk: Chunk, weights: Vector, source: str) -> tuple[Vector, Vector]:
    if chunk.X.shape[1] != len(weights):
        _mismatch(chunk.X.shape[1], len(weights), source)
    with np.errstate(over="ignore", invalid="ignore"):
        preds = predict(chunk.X, weights)
        err = error(preds, chunk.y)
    _check_finite(err, "error", chunk.first_row, source)
    return preds, err


def _name_overflow(X: Matrix, err: Vector, first_row: int, source: str) -> None:
    """The first row whose error, slope or squared error overflows, named as the per-row path
    names it; nothing if only a sum overflows (the total's check says so, with no row).

    Raises:
        NumericError: a row's value overflows.
    """
    _check_finite(err, "error", first_row, source)
    with np.errstate(over="ignore", invalid="ignore"):
        _check_finite(slope(X, err), "slope", first_row, source)
        _check_finite(err * err, "squared error", first_row, source)


def _mismatch(features: int, weights: int, source: str) -> NoReturn:
    have, need = count(weights, "weight"), count(features, "feature")
    msg = f"{source}: {have} but {need} (one weight per feature)"
    raise InputError(msg)


def _check_finite(values: np.ndarray, what: str, first_row: int, source: str) -> None:
    # A finite sum means finite values (NaN and infinity carry into it): one pass over a large
    # array, where each lets the GIL go and waits to get it back (slow when other threads want
    # it), and the element-wise search only when the sum says there may be one.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(values.sum()):
            return
    bad = ~np.isfinite(values)
    if bad.any():
        row = first_row + int(np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))[0]) + 1
        msg = f"{source}: data row {row}: the {what} overflows float64; the values are too large"
        raise NumericError(msg)
