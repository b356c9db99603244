"""An independent oracle: the slope formulas in exact rational arithmetic, one row at a time."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction


def exact(X: Sequence[Sequence[float]], y: Sequence[float], w: Sequence[float]) -> dict[str, object]:
    """preds, error, slope per row and the gradient and MSE, computed exactly then rounded once."""
    wf = [Fraction(v) for v in w]
    rows = []
    total = [Fraction(0)] * len(w)
    sse = Fraction(0)
    for x, t in zip(X, y, strict=True):
        xf = [Fraction(v) for v in x]
        preds = sum((a * b for a, b in zip(wf, xf, strict=True)), Fraction(0))
        err = preds - Fraction(t)
        slope = [2 * v * err for v in xf]
        total = [a + b for a, b in zip(total, slope, strict=True)]
        sse += err * err
        rows.append({"preds": float(preds), "error": float(err), "slope": [float(s) for s in slope]})
    n = len(rows)
    return {"rows": rows, "gradient": [float(g / n) for g in total], "mse": float(sse / n)}


def assert_close(actual: float, expected: float, scale: float, rel: float = 1e-12) -> None:
    """|actual − expected| ≤ rel·scale, where scale bounds the terms that were summed.

    A sum of terms of mixed sign can cancel to a value much smaller than its terms; floating
    point is then exact only relative to the terms, not to the result.
    """
    assert abs(actual - expected) <= rel * max(scale, abs(expected), 1e-300), (actual, expected, scale)
