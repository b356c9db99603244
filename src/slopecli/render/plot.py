"""The loss curve as a standalone SVG 1.1 document: MSE against step, with round-number ticks,
axis titles, the title and the final value.

Built from strings, without a plotting library, so ``--plot`` works wherever slopecli installs.
Writing the file is the caller's job: this module only returns text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from slopecli.render.chart import wants_log_scale
from slopecli.render.numbers import num

MAX_POINTS = 2000
"""The most points the curve keeps; a longer run is thinned, keeping its first and last step."""

LEFT, RIGHT, TOP, BOTTOM = 72, 32, 40, 52
"""Margins around the plot area, in pixels: room for tick labels, axis titles and the title."""

COLOUR = "#1f77b4"
CHAR_WIDTH = 7
"""A generous average width of a character at 12 px sans-serif, to keep a label off the curve."""

# Characters XML 1.0 forbids even when escaped (control characters, lone surrogates).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class _Axis:
    """A value range in axis units (log10 of the value on a log scale) and its labelled ticks."""

    low: float
    high: float
    ticks: tuple[tuple[float, str], ...]  # (position in axis units, label)
    log: bool = False

    def fraction(self, value: float) -> float:
        unit = math.log10(value) if self.log else value
        return (unit - self.low) / (self.high - self.low)


def loss_curve_svg(
    mse: Sequence[float],
    *,
    title: str = "MSE per step",
    log_scale: bool | None = None,
    width: int = 640,
    height: int = 360,
) -> str:
    """An SVG document plotting ``mse[i]`` against step ``i``.

    Args:
        mse: the MSE after each step, step 0 first.
        title: drawn above the plot; any text, escaped here.
        log_scale: True, False, or None to choose as ``chart.wants_log_scale`` does (a log scale
            falls back to linear when a value is zero or negative).
        width: of the image, in pixels.
        height: of the image, in pixels.

    Returns:
        The document as text, with an XML declaration naming UTF-8: write it in that encoding.
        Runs longer than ``MAX_POINTS`` are thinned to the lowest and highest value of each
        stretch of steps, so spikes survive. Non-finite values (a diverged run) are left out of
        the curve; the final value is annotated as it is, ``inf`` or ``nan`` included.

    Raises:
        ValueError: the image leaves no room for the plot, or no value is finite.
    """
    if width < LEFT + RIGHT + 40 or height < TOP + BOTTOM + 40:
        msg = f"a plot needs at least {LEFT + RIGHT + 40}x{TOP + BOTTOM + 40} pixels, not {width}x{height}"
        raise ValueError(msg)
    points = [(step, value) for step, value in enumerate(mse) if math.isfinite(value)]
    if not points:
        msg = "no finite MSE value to plot"
        raise ValueError(msg)
    values = [value for _, value in points]
    log = wants_log_scale(values, log_scale)
    y_axis = _log_axis(min(values), max(values)) if log else _linear_axis(min(values), max(values))
    x_axis = _step_axis(len(mse))
    right, bottom = width - RIGHT, height - BOTTOM

    def px(step: float) -> float:
        return LEFT + x_axis.fraction(step) * (right - LEFT)

    def py(value: float) -> float:
        return bottom - y_axis.fraction(value) * (bottom - TOP)

    def ypos(unit: float) -> float:  # a tick, already in axis units
        return bottom - (unit - y_axis.low) / (y_axis.high - y_axis.low) * (bottom - TOP)

    curve = [(px(step), py(value)) for step, value in _thin(points, MAX_POINTS)]
    text = _text(title)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{text}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text class="title" x="{_n(width / 2)}" y="24" text-anchor="middle" font-size="15"'
        f' font-weight="bold">{text}</text>',
        '<g class="grid" stroke="#e6e6e6" stroke-width="1">',
        *(f'<line x1="{LEFT}" y1="{_n(ypos(u))}" x2="{right}" y2="{_n(ypos(u))}"/>' for u, _ in y_axis.ticks),
        *(f'<line x1="{_n(px(u))}" y1="{TOP}" x2="{_n(px(u))}" y2="{bottom}"/>' for u, _ in x_axis.ticks),
        "</g>",
        f'<path class="axes" d="M{LEFT},{TOP}V{bottom}H{right}" fill="none" stroke="#333333"/>',
        '<g class="y-ticks" text-anchor="end">',
        *(f'<text x="{LEFT - 6}" y="{_n(ypos(u) + 4)}">{label}</text>' for u, label in y_axis.ticks),
        "</g>",
        '<g class="x-ticks" text-anchor="middle">',
        *(f'<text x="{_n(px(u))}" y="{bottom + 16}">{label}</text>' for u, label in x_axis.ticks),
        "</g>",
        f'<text class="x-title" x="{_n((LEFT + right) / 2)}" y="{height - 12}"'
        ' text-anchor="middle">step</text>',
        f'<text class="y-title" transform="rotate(-90)" x="{_n(-(TOP + bottom) / 2)}" y="16"'
        f' text-anchor="middle">MSE{" (log scale)" if log else ""}</text>',
        f'<polyline class="curve" fill="none" stroke="{COLOUR}" stroke-width="1.5" stroke-linejoin="round"'
        f' points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in curve)}"/>',
    ]
    final = f"final MSE = {num(mse[-1], 4)}"
    if math.isfinite(mse[-1]):
        x, y = px(len(mse) - 1), py(mse[-1])
        out.append(f'<circle class="final" cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{COLOUR}"/>')
        # Right-aligned at the point and clear above the curve where the label spans (a falling curve
        # rises to its left); level with the point when that would reach into the title (a curve that
        # rose into its final point lies below it).
        span = x - 6 - CHAR_WIDTH * len(final)
        label_y = min([y] + [cy for cx, cy in curve if cx >= span]) - 8
        if label_y < TOP + 12:
            label_y = y + 4
        out.append(f'<text class="final" x="{_n(x - 6)}" y="{_n(label_y)}" text-anchor="end">{final}</text>')
    else:
        out.append(f'<text class="final" x="{right - 6}" y="{TOP + 14}" text-anchor="end">{final}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _linear_axis(low: float, high: float) -> _Axis:
    if low == high:
        # A flat curve: an axis from zero to twice its value puts it in the middle.
        low, high = (min(0.0, 2 * low), max(0.0, 2 * high)) if low else (0.0, 1.0)
    step = _nice_step((high - low) / 4)
    first, last = math.floor(low / step), math.ceil(high / step)
    ticks = tuple((k * step, _tick_label(k * step, step)) for k in range(first, last + 1))
    return _Axis(first * step, last * step, ticks)


def _log_axis(low: float, high: float) -> _Axis:
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    if first == last:  # a flat curve on a power of ten: one decade either side
        first, last = first - 1, last + 1
    # At most about six labelled decades: every `every`-th power, aligned to multiples of it.
    every = max(1, math.ceil((last - first) / 6))
    first, last = math.floor(first / every) * every, math.ceil(last / every) * every
    ticks = tuple((float(k), _power_label(k)) for k in range(first, last + 1, every))
    return _Axis(first, last, ticks, log=True)


def _step_axis(steps: int) -> _Axis:
    if steps == 1:  # one point, centred
        return _Axis(-1, 1, ((0.0, "0"),))
    step = max(1, round(_nice_step((steps - 1) / 5)))
    return _Axis(0, steps - 1, tuple((float(k), str(k)) for k in range(0, steps, step)))


def _nice_step(rough: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``rough``."""
    power = 10.0 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough * (1 - 1e-9))


def _tick_label(value: float, step: float) -> str:
    if abs(value) < step * 1e-9:  # k·step can miss zero by a rounding error
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    # Enough significant digits to tell neighbours apart, and never 2e+02 for 200.
    digits = exponent - math.floor(math.log10(step)) + 1
    if 0 <= exponent < 6:
        digits = max(digits, exponent + 1)
    return f"{value:.{max(digits, 1)}g}"


def _power_label(exponent: int) -> str:
    # 10.0 ** exponent underflows to 0 (or loses digits) far from 1; the exponent is exact.
    return f"{10.0**exponent:g}" if -4 <= exponent <= 5 else f"1e{exponent:+03d}"


def _thin(points: list[tuple[int, float]], cap: int) -> list[tuple[int, float]]:
    """At most ``cap`` points: the first, the last, and the lowest and highest of each stretch between."""
    if len(points) <= cap:
        return points
    inner = points[1:-1]
    stretches = (cap - 2) // 2
    kept = [points[0]]
    for j in range(stretches):
        stretch = inner[j * len(inner) // stretches : (j + 1) * len(inner) // stretches]
        extremes = {min(stretch, key=lambda p: p[1]), max(stretch, key=lambda p: p[1])}
        kept.extend(sorted(extremes))  # in step order, once if they are the same point
    kept.append(points[-1])
    return kept


def _n(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros: small files, exact enough."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))
