"""The loss curve as plain text for a terminal: a column of block characters per step (or per bin
of steps when there are more steps than columns), the extremes labelled on the left.

No Rich and no ANSI codes, so the lines read the same in a terminal, a pipe, a log or a test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

BLOCKS = " ▁▂▃▄▅▆▇█"
"""A cell filled to 0, 1, …, 8 eighths."""

LOG_RATIO = 100.0
"""The automatic scale is logarithmic once the largest value exceeds the smallest by more than this."""


def wants_log_scale(values: Sequence[float], log_scale: bool | None) -> bool:
    """Whether to draw ``values`` on a log scale; ``None`` decides from the values.

    Automatic means every finite value is positive and they span more than a factor of ``LOG_RATIO``.
    A log scale that was asked for still falls back to linear when a value is zero or negative,
    which it cannot place.
    """
    finite = [v for v in values if math.isfinite(v)]
    if log_scale is False or not finite or min(finite) <= 0:
        return False
    return log_scale is True or max(finite) / min(finite) > LOG_RATIO


def loss_chart(
    mse: Sequence[float], *, width: int = 60, height: int = 8, log_scale: bool | None = None
) -> list[str]:
    """The MSE of each step as a column chart, ``height`` rows tall and at most ``width`` columns wide.

    Args:
        mse: the MSE after each step, step 0 first.
        width: the most columns; more steps than this are binned, each column their mean.
        height: rows of the chart itself, at least 2 (one for each label).
        log_scale: True, False, or None to choose as ``wants_log_scale`` does.

    Returns:
        ``height`` chart rows, the bottom axis, and a line with the first and last step numbers;
        trailing spaces removed. The smallest value fills one eighth of a cell, the largest the
        whole height; a NaN (a diverged run) leaves its column empty, infinity fills it.

    Raises:
        ValueError: the chart is too small, or no value is finite.
    """
    if width < 1 or height < 2:
        msg = f"a chart needs width >= 1 and height >= 2, not width {width} and height {height}"
        raise ValueError(msg)
    finite = [v for v in mse if math.isfinite(v)]
    if not finite:
        msg = "no finite MSE value to draw"
        raise ValueError(msg)
    log = wants_log_scale(mse, log_scale)
    # log10 is monotone, so the extremes, the binning and the scaling can all work on transformed values.
    units = [math.log10(v) if log and v > 0 else v for v in mse]
    lo, hi = min(finite), max(finite)
    low, high = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
    levels = [_level(v, low, high, height * 8) for v in _bins(units, width)]

    top, bottom = f"{hi:.3g}", (f"{lo:.3g}" if lo != hi else "")
    gutter = max(len(top), len(bottom))
    lines = []
    for row in range(height):
        below = (height - 1 - row) * 8  # eighths of the rows under this one
        cells = "".join(BLOCKS[min(max(level - below, 0), 8)] for level in levels)
        label = top if row == 0 else bottom if row == height - 1 else ""
        lines.append(f"{label:>{gutter}} {'┤' if label else '│'}{cells}".rstrip())
    lines.append(f"{'':>{gutter}} └{'─' * len(levels)}")
    lines.append(f"{'':>{gutter}}  {_step_labels(len(mse), len(levels))}")
    return lines


def _bins(values: Sequence[float], width: int) -> list[float]:
    n = len(values)
    if n <= width:
        return list(values)
    # Bin j holds steps [j·n/width, (j+1)·n/width): sizes differ by at most one, and all are used.
    edges = [j * n // width for j in range(width + 1)]
    return [sum(values[a:b]) / (b - a) for a, b in pairwise(edges)]


def _level(value: float, low: float, high: float, cells: int) -> int:
    """Eighths to fill: 1 for ``low`` (so the smallest value still shows), ``cells`` for ``high``."""
    if math.isnan(value):
        return 0
    if high == low:
        return cells
    value = min(max(value, low), high)  # infinity tops out instead of overflowing round()
    return 1 + round((value - low) / (high - low) * (cells - 1))


def _step_labels(steps: int, columns: int) -> str:
    first, last = "0", str(steps - 1)
    if steps == 1:
        return first
    # The last label ends under the last column, unless it would run into the first.
    return first + " " * max(columns - len(first) - len(last), 1) + last
