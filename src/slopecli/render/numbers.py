"""How numbers look to a person: integers without ".0", a chosen number of significant digits,
negative factors (and a square's base in exponent notation) in parentheses, and long vectors with
their middle elided as numpy does."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

ELLIPSIS = "…"


def num(value: float, precision: int = 6) -> str:
    """``7.0`` -> ``"7"``, ``5.04`` -> ``"5.04"``, ``1/3`` -> ``"0.333333"`` (precision 6).

    Never more digits than the value's shortest round-trip form has: at precision 17, ``1.1`` is
    ``1.1``, not the ``1.1000000000000001`` that the double nearest 1.1 expands to.
    """
    if abs(value) < 1e15 and value == int(value):
        return str(int(value))
    mantissa = repr(float(value)).split("e")[0]
    digits = len(mantissa.lstrip("-").replace(".", "").strip("0"))
    whole = math.floor(math.log10(abs(value))) + 1 if math.isfinite(value) and abs(value) >= 1 else 0
    if whole <= precision:
        # A number %g writes in full at this precision stays in full, 1200000000000000 and not
        # 1.2e+15: below its integer part's digits %g would turn to exponent notation.
        digits = max(digits, whole)
    return f"{value:.{max(1, min(precision, digits))}g}"


def factor(value: float, precision: int = 6) -> str:
    """A number as the operand of ``·``: negatives in parentheses, ``2·(-1)``."""
    text = num(value, precision)
    return f"({text})" if text.startswith("-") else text


def squared(value: float, precision: int = 6) -> str:
    """``value²``, its base in parentheses when negative or in exponent notation: ``(-3)²``,
    ``(1e-05)²`` (not ``1e-05²``, which reads as 1e-(05²))."""
    text = num(value, precision)
    return f"({text})²" if text.startswith("-") or "e" in text else f"{text}²"


def elide(items: Sequence[str], edge: int = 3, threshold: int = 8) -> list[str]:
    """The first and last ``edge`` items with ``…`` between, once there are more than ``threshold``."""
    if len(items) <= threshold:
        return list(items)
    return [*items[:edge], ELLIPSIS, *items[-edge:]]


def vec(values: Iterable[float], precision: int = 6, edge: int = 3, threshold: int = 8) -> str:
    """``[14, 28, 42]``; a long vector as ``[1, 2, 3, …, 8, 9, 10]``."""
    return "[" + ", ".join(elide([num(float(v), precision) for v in values], edge, threshold)) + "]"
