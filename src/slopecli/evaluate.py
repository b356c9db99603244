"""Fold a stream of chunks into per-row results and the mergeable :class:`~slopecli.core.Sums`.

This is what every command runs, whether its rows came from flags, one file or many: the core's
formulas applied chunk by chunk, with a check that nothing overflowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from slopecli.core import Matrix, Sums, Vector, error, predict, slope
from slopecli.errors import DataError, InputError, NumericError, SlopeError
from slopecli.loaders import Chunk
from slopecli.text import count


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
) -> Sums:
    """The sums over all rows of ``chunks``; ``on_rows`` sees each chunk's per-row results.

    Args:
        chunks: the data, in order.
        weights: one weight per feature.
        on_rows: called once per chunk with its per-row results; None skips computing slopes.
        source: how messages name the data.

    Raises:
        InputError: the data has a different number of features than there are weights.
        NumericError: a prediction, error, slope or sum overflowed.
    """
    total = Sums.zero(len(weights))
    for chunk in chunks:
        if on_rows is not None:
            rows = rows_of(chunk, weights, source)
            on_rows(rows)
            err = rows.error
        else:
            _, err = _predict(chunk, weights, source)
        with np.errstate(over="ignore", invalid="ignore"):
            total = total + Sums.of_error(chunk.X, err)
    return checked(total, source)


def evaluate_split(
    chunks: Callable[[], Iterable[Chunk]],
    parts: Sequence[Iterable[Chunk]] | None,
    weights: Vector,
    source: str = "input",
) -> Sums:
    """The sums of every row: from ``parts`` on one thread each when the data was split, else
    from one pass of ``chunks()``.

    Arrow's parser and numpy release the GIL, so the threads use all cores; the sums merge as
    one pass would (up to the order of additions). If a part fails, one sequential pass of
    ``chunks()`` finds the error and says exactly where it is.

    Raises:
        SlopeError: the data is wrong.
    """
    if not parts:
        return evaluate(chunks(), weights, None, source)
    try:
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            futures = [pool.submit(evaluate, part, weights, None, source) for part in parts]
            total = Sums.zero(len(weights))
            for future in futures:
                total = total + future.result()
        if total.n == 0:
            msg = f"{source}: no data rows"
            raise DataError(msg)
    except SlopeError:
        return evaluate(chunks(), weights, None, source)
    return checked(total, source)


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
        have, need = count(len(weights), "weight"), count(chunk.X.shape[1], "feature")
        msg = f"{source}: {have} but {need} (one weight per feature)"
        raise InputError(msg)
    with np.errstate(over="ignore", invalid="ignore"):
        preds = predict(chunk.X, weights)
        err = error(preds, chunk.y)
    _check_finite(err, "error", chunk.first_row, source)
    return preds, err


def _check_finite(values: np.ndarray, what: str, first_row: int, source: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        row = first_row + int(np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))[0]) + 1
        msg = f"{source}: data row {row}: the {what} overflows float64; the values are too large"
        raise NumericError(msg)
