"""The math of a linear model under squared error: numpy in, numpy out.

For weights ``w`` (length d), a data point ``x`` (length d) and its target ``y``::

    preds    = Σ w·x                  predict(X, w)
    error    = preds − target         error(preds, y)
    slope    = 2 · x · error          slope(X, err)        one vector per row
    gradient = (2/n) · Xᵀ(Xw − y)     gradient(X, y, w)    the mean of the row slopes
    mse      = mean(error²)           mse(err)
    w'       = w − lr · gradient      update(w, grad, lr)

Each function is one line of numpy over the one before it. A matrix ``X`` holds one data point
per row; a single point is a 1-row matrix. Nothing here prints, reads files or checks input:
callers validate at the edge, and :class:`Sums` lets any number of chunks, files or machines
combine their partial results without a second formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]


def predict(X: Matrix, w: Vector) -> Vector:
    """Predictions ``preds = X·w``: for each row, ``Σ w·x``."""
    return X @ w


def error(preds: Vector, y: Vector) -> Vector:
    """Residuals ``error = preds − target``."""
    return preds - y


def slope(X: Matrix, err: Vector) -> Matrix:
    """Per-row slopes ``2·x·error``: row i is the gradient of ``error_i²`` with respect to w."""
    # 2·error first: doubling is exact (above the subnormals), so the bits are the same, but
    # x·(2·error) overflows only where the slope does (2·x alone overflows for x above 9e307),
    # in one pass over X, not two.
    return X * (2.0 * err)[:, np.newaxis]


def gradient(X: Matrix, y: Vector, w: Vector) -> Vector:
    """Batch gradient ``(2/n)·Xᵀ(Xw − y)``: the mean of the row slopes, the gradient of the MSE."""
    return Sums.of(X, y, w).gradient


def mse(err: Vector) -> float:
    """Mean squared error ``mean(error²)``."""
    return float(np.mean(err * err))


def update(w: Vector, grad: Vector, learning_rate: float) -> Vector:
    """One step of gradient descent: ``w − learning_rate·gradient``."""
    return w - learning_rate * grad


@dataclass(frozen=True, eq=False)
class Sums:
    """The sufficient statistics of a batch: ``n``, ``Σ Xᵀe`` and ``Σ e²``.

    They add: the sums of two chunks, files or machines merged with ``+`` equal the sums of
    one pass over their concatenation, so the gradient and MSE of any partition of a dataset
    come from this one reducer.

    Attributes:
        n: number of rows.
        xte: ``Σ_i x_i·error_i``, one entry per weight.
        sse: ``Σ_i error_i²``.
    """

    n: int
    xte: Vector
    sse: float

    @classmethod
    def zero(cls, d: int) -> Sums:
        """The identity of ``+`` for d weights: no rows."""
        return cls(0, np.zeros(d), 0.0)

    @classmethod
    def of(cls, X: Matrix, y: Vector, w: Vector) -> Sums:
        """The sums of the rows of ``X`` with targets ``y`` under weights ``w``."""
        return cls.of_error(X, error(predict(X, w), y))

    @classmethod
    def of_error(cls, X: Matrix, err: Vector) -> Sums:
        """The sums of rows whose errors are already known (saves a second ``X·w``)."""
        return cls(len(err), X.T @ err, float(err @ err))

    def __add__(self, other: Sums) -> Sums:
        return Sums(self.n + other.n, self.xte + other.xte, self.sse + other.sse)

    @property
    def gradient(self) -> Vector:
        """``(2/n)·Σ x·error``, the mean of the row slopes.

        Raises:
            ZeroDivisionError: there are no rows, so there is no mean.
        """
        # Dividing first keeps a Σ x·error near the float64 limit finite; ·2 is exact either way.
        return self.xte / self._rows() * 2.0

    @property
    def mse(self) -> float:
        """``Σ error² / n``.

        Raises:
            ZeroDivisionError: there are no rows, so there is no mean.
        """
        return self.sse / self._rows()

    def _rows(self) -> int:
        if self.n == 0:
            msg = "no rows: the mean of zero slopes is undefined"
            raise ZeroDivisionError(msg)
        return self.n
