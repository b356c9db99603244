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
    """``2/λmax`` of the MSE's Hessian over one pass of ``data``: descent does not converge from
    this learning rate up. None when it is unbounded (every input 0) or beyond float64, or not
    computed (more than :data:`MOST_FEATURES` features)."""
    gram: np.ndarray | None = None  # Σ (X/scale)ᵀ(X/scale), so that no sum of squares overflows
    scale, n = 0.0, 0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for chunk in data():
            if chunk.X.shape[1] > MOST_FEATURES:
                return None
            if not chunk.X.size:
                continue
            top = float(np.max(np.abs(chunk.X)))
            if top > scale:  # a power of two at least as large: scaling by it is exact
                larger = 2.0 ** math.frexp(top)[1]
                if gram is not None:
                    gram *= (scale / larger) ** 2
                scale = larger
            n += len(chunk.y)
            if scale == 0.0:  # every input so far is 0
                continue
            part = chunk.X / scale
            product = part.T @ part
            gram = product if gram is None else gram + product
        if gram is None or not np.isfinite(gram).all():
            return None
        largest = float(np.linalg.eigvalsh(gram / n)[-1])  # λmax of (X/scale)ᵀ(X/scale)/n
    # The Hessian's λmax is 2·scale²·largest, so its 2/λmax is 1/(scale²·largest), formed in
    # steps that cannot overflow on the way.
    rate = 1.0 / largest / scale / scale if largest > 0.0 else math.inf
    return rate if 0.0 < rate < math.inf else None


def rate_advice(data: Callable[[], Iterable[Chunk]], learning_rate: float) -> str:
    """What a diverging descent at ``learning_rate`` should try: half the data's diverging rate,
    and that rate (rounded away from the edge); a tenth of ``learning_rate`` when the data does
    not say (see :func:`diverging_rate`) or the rate was below it (so something else grew)."""
    rate = diverging_rate(data)
    if rate is None or learning_rate < rate:
        return tenth_advice(learning_rate)
    return (
        f"try a smaller --learning-rate, e.g. {_rounded(rate / 2, math.floor):g}:"
        f" on this data, rates of {_rounded(rate, math.ceil):g} and above do not converge"
    )


def tenth_advice(learning_rate: float) -> str:
    """The advice where the data gives none (a network, too many features, a rate below the
    data's): a tenth of the rate that failed."""
    return f"try a smaller --learning-rate, e.g. {learning_rate / 10:g}"


def _rounded(value: float, direction: Callable[[float], int]) -> float:
    """``value`` to 3 significant digits, rounded by ``direction`` (floor or ceil); ``value``
    itself where that would leave float64 (1.7969e308 up is 1.80e308: infinite)."""
    unit = 10.0 ** (math.floor(math.log10(value)) - 2)
    rounded = float(f"{direction(value / unit) * unit:.3g}")
    return rounded if 0.0 < rounded < math.inf else value
