"""The unit every reader yields and every engine folds: a block of consecutive rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from slopecli.core import Matrix, Vector
from slopecli.errors import DataError

BIAS = "bias"
"""The name of the constant-1 feature that ``--bias`` adds: its weight is the intercept."""


def with_bias_name(features: tuple[str, ...], where: str) -> tuple[str, ...]:
    """``features`` and, last, the one ``--bias`` adds.

    Raises:
        DataError: a feature of ``where`` is named ``bias`` already; two features of one name
            would share a JSON key, a CSV column and a table row.
    """
    if BIAS in features:
        msg = (
            f"{where}: a feature is named {BIAS!r}, the name of the intercept --bias adds;"
            " rename that column, or drop --bias"
        )
        raise DataError(msg)
    return (*features, BIAS)


@dataclass(frozen=True)
class Chunk:
    """Consecutive data rows: ``X`` (rows × features), targets ``y``, and where they start.

    ``first_row`` is the 0-based index of the chunk's first data row in its source (or piece).
    """

    X: Matrix
    y: Vector
    first_row: int


def with_bias(chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    """The chunks with a last column of ones, so that ``Σ w·x`` includes an intercept ``b``
    (the last weight) and the slope of ``b`` is ``2·error``."""
    for chunk in chunks:
        X = np.column_stack([chunk.X, np.ones(len(chunk.y))])
        yield Chunk(X, chunk.y, chunk.first_row)
