"""The learning rate from which gradient descent on the MSE diverges, read off the data.

The MSE of a linear model is a quadratic with Hessian ``H = (2/n)·XᵀX``. A step multiplies the
distance to the minimum along each eigenvector of ``H`` by ``1 − lr·λ``, so descent converges for
every start exactly when ``lr < 2/λmax``; ``lr = 1/λmax`` is the middle of that range (the
steepest direction is fixed in one step, and none overshoots). A descent that diverged is told
both numbers, where "a tenth of what you tried" could diverge still.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from slopecli.readers.chunk import Chunk

MOST_FEATURES = 100
"""Above this many features the rate is not computed: ``XᵀX`` costs n·d² (d steps' worth of
passes), and only a run that already failed would wait for it."""


def diverging_rate(data: Callable[[], Iterable[Chunk]]) -> float | None:
    """``2/λmax`` of the MSE's Hessian over one pass of ``data``: descent diverges from this
    learning rate up. None when it is unbounded (every input 0), not finite, or not computed
    (more than :data:`MOST_FEATURES` features)."""
    gram: np.ndarray | None = None
    n = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for chunk in data():
            if chunk.X.shape[1] > MOST_FEATURES:
                return None
            part = chunk.X.T @ chunk.X
            gram = part if gram is None else gram + part
            n += len(chunk.y)
        if gram is None or not np.isfinite(gram).all():
            return None
        # λmax of (2/n)·XᵀX, as XᵀX/n first: no sum of squares that fits overflows on the way.
        largest = float(np.linalg.eigvalsh(gram / n)[-1]) * 2.0
    if not (largest > 0.0 and math.isfinite(largest)):
        return None
    return 2.0 / largest


def rate_advice(data: Callable[[], Iterable[Chunk]], learning_rate: float) -> str:
    """What a diverging descent at ``learning_rate`` should try: half the data's diverging rate,
    and that rate (rounded away from the edge); a tenth of ``learning_rate`` when the data does
    not say (see :func:`diverging_rate`) or the rate was below it (so something else grew)."""
    rate = diverging_rate(data)
    if rate is None or learning_rate < rate:
        return f"try a smaller --learning-rate, e.g. {learning_rate / 10:g}"
    return (
        f"try a smaller --learning-rate, e.g. {_rounded(rate / 2, math.floor):g}:"
        f" on this data, rates of {_rounded(rate, math.ceil):g} and above diverge"
    )


def _rounded(value: float, direction: Callable[[float], int]) -> float:
    """``value`` to 3 significant digits, rounded by ``direction`` (floor or ceil)."""
    unit = 10.0 ** (math.floor(math.log10(value)) - 2)
    return float(f"{direction(value / unit) * unit:.3g}")
