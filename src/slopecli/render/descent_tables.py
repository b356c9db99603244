"""The learner's view of ``step``, ``descend`` and ``check``: tables and the loss curve, laid out
by the one rule of :mod:`slopecli.render.layout` and drawn by :mod:`slopecli.render.tables`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from rich.console import Console

from slopecli.descent import Descent, Record, StepResult, WeightCheck
from slopecli.evaluation import RowBatch
from slopecli.render import layout as lay
from slopecli.render.layout import Cell, Column, Gap, Sheet, Span, Styled, styled
from slopecli.render.numbers import ELLIPSIS, elide, factor, num, vec
from slopecli.render.sheets import FEATURE, ROW_COLUMNS, row_limit, rows_note
from slopecli.render.tables import RowStream, draw, emit
from slopecli.text import count

STEP_ROW_COLUMNS = (
    *ROW_COLUMNS,
    Column("error\nbefore", "right", label="error before"),
    Column("error\nafter", "right", label="error after"),
)


class StepTables:
    """Lists the first ``show_rows`` rows (their error before and after) as they come, then
    draws the update and its effect at ``end``."""

    def __init__(
        self, console: Console, precision: int = 6, show_rows: int | None = 10, title: str = ""
    ) -> None:
        self._console = console
        self._p = precision
        self._limit, self._capped = row_limit(show_rows)
        self._title = title
        self._first: tuple[RowBatch, RowBatch] | None = None
        self._listed = 0
        self._stream = RowStream(console, STEP_ROW_COLUMNS, "Per row", widest_key=str(self._limit))
        self.single_point = False
        """Whether the tables drawn explained one data point (for the next-step hint)."""

    def rows(self, old: RowBatch, new: RowBatch) -> None:
        if self._first is None:
            # A one-row step is drawn in full whatever --show-rows says.
            self._first = (old.head(1), new.head(1))
        room = self._limit - self._listed
        if room > 0:
            o, n = old.head(room), new.head(room)
            X, y = o.X.tolist(), o.y.tolist()
            before, after = o.error.tolist(), n.error.tolist()
            p, first = self._p, o.first_row + 1
            cells: list[Sequence[Cell]] = [
                [str(first + i), vec(X[i], p), num(y[i], p), num(before[i], p), num(after[i], p)]
                for i in range(len(y))
            ]
            self._stream.add(cells)
            self._listed += len(y)

    def end(self, result: StepResult) -> None:
        p, n = self._p, result.before.n
        one = n == 1 and self._first is not None
        self.single_point = one
        if not one:
            more = n - self._listed
            self._stream.close(rows_note(more, self._capped) if more > 0 and self._listed else None)
        lr = num(result.learning_rate, p)
        # Written as by hand, one "=" per line, so that long vectors never wrap mid-number.
        if one and self._first is not None:
            old = self._first[0]
            numbers = f"2·{vec(old.X[0], p)}·{factor(float(old.error[0]), p)}"
            first = _derivation("slope", "2·x·error", numbers, vec(result.gradient, p))
        else:
            numbers = f"(2/{n:,})·{vec(result.before.xte, p)}"
            first = _derivation("gradient", "(2/n)·Σ x·error", numbers, vec(result.gradient, p))
        grad_name = "slope" if one else "gradient"
        numbers = f"{vec(result.weights, p)} − {lr}·{vec(result.gradient, p)}"
        second = _derivation("weights_updated", f"weights − lr·{grad_name}", numbers, vec(result.updated, p))
        columns = (Column("Step", "right", "dim", key=True), Column("Calculation", label=""))
        title = f"{self._title} · {count(n, 'row')} · learning rate {lr}"
        draw(self._console, Sheet(columns, [["1", first], ["2", second]], title=title, rules=True))

        rows: list[lay.Row] = []
        if one and self._first is not None:
            old, new = self._first
            rows.append(["preds = Σ w·x", num(float(old.preds[0]), p), num(float(new.preds[0]), p)])
            rows.append(["error = preds − target", num(float(old.error[0]), p), num(float(new.error[0]), p)])
        rows.append(["mse = mean(error²)", num(result.before.mse, p), num(result.after.mse, p)])
        if result.improved:
            caption = "improved ✓"
        elif not result.gradient.any():  # nothing a learning rate could change
            caption = "gradient 0: already at a minimum, so the step changes nothing"
        elif result.advice is None:
            caption = "unchanged within rounding: at a minimum, or a step too small to show"
        else:
            caption = f"did not improve ✗: {result.advice}"
        change = (Column("Quantity", label="", key=True), Column("before", "right"), Column("after", "right"))
        draw(self._console, Sheet(change, rows, title="Before and after the step", caption=caption))


def _derivation(name: str, formula: str, numbers: str, value: str) -> Styled:
    indent = " " * (len(name) + 1)
    return Styled((Span(f"{name} = {formula}\n{indent}= {numbers}\n{indent}= "), Span(value, "bold")))


def draw_descent(
    console: Console, run: Descent, features: Sequence[str], precision: int = 6, edge: int = 5
) -> None:
    """The history (first and last ``edge`` steps of a long run), the loss curve and the result."""
    from slopecli.render.chart import loss_chart, wants_log_scale

    p = precision
    columns = (
        Column("Step", "right", key=True),
        Column("MSE", "right"),
        Column("‖gradient‖", "right"),
        Column("weights (" + ", ".join(elide(list(features))) + ")", label="weights", header_breaks=True),
    )
    history = run.history
    shown: list[Record | None] = list(history)
    if len(history) > 2 * edge + 1:
        shown = [*history[:edge], None, *history[-edge:]]
    rows: list[lay.Row] = []
    for entry in shown:
        if entry is None:
            note = f"{len(history) - 2 * edge:,} steps not shown"
            rows.append(Gap(note, (ELLIPSIS, ELLIPSIS, ELLIPSIS, note)))
            continue
        rows.append(
            [f"{entry.step:,}", num(entry.mse, p), num(entry.gradient_norm, p), vec(entry.weights, p)]
        )
    final = run.final
    why = "the gradient norm fell below --tol" if run.stopped == "tol" else "all steps taken"
    caption = f"Stopped after {count(final.step, 'step')} ({why}): MSE {num(final.mse, p)}"
    title = f"Gradient descent · learning rate {num(run.learning_rate, p)}"
    draw(console, Sheet(columns, rows, title=title, caption=caption))

    mse = [h.mse for h in history]
    log = wants_log_scale(mse, None)
    lines = lay.prose_lines(
        styled("MSE per step" + (" (log scale)" if log else ""), "bold"), console.width, ""
    )
    # The chart's labels take at most 9 columns and its axis 2: the rest, up to 72, is columns.
    width = max(8, min(console.width - 12, 72))
    lines += [[(line, "")] for line in loss_chart(mse, width=width, height=8)]
    emit(console, lines)


NOISE_FRACTION = 10
"""Differences under a tenth of the tolerance print as ``< bound``, not as their value."""


def rounding_bound(check: WeightCheck, rtol: float) -> float:
    """The difference below which analytic and numeric slope agree as far as anything shows.

    The central difference carries rounding error whose last bits depend on the order in which
    BLAS adds, and that differs between CPUs (OpenBLAS picks its kernels per CPU), so digits
    that fine would print differently on each machine and say nothing about the gradient. The
    bound is a tenth of the tolerance, or the tolerance's absolute part (``100·ε·MSE/h``, the
    rounding estimate, or ``--atol``) when that is larger, cut to one significant digit so that
    it never exceeds the tolerance. ``--json`` keeps the exact values.
    """
    absolute = check.tolerance - rtol * abs(check.numeric)
    return _one_digit(max(check.tolerance / NOISE_FRACTION, absolute), up=False)


def _one_digit(value: float, up: bool) -> float:
    """``value`` cut (``up=False``: 0.0000217 -> 2e-05) or raised (-> 3e-05) to one significant digit."""
    if not (value > 0 and math.isfinite(value)):
        return value
    # Decimal digits from the shortest repr, not value / 10**k: for a subnormal value (a
    # tolerance of 5e-324) that power of ten is itself below float64's range, and is 0.
    mantissa, exponent = f"{value:.12e}".split("e")
    digit = math.ceil(float(mantissa)) if up else math.floor(float(mantissa))
    return float(f"{max(digit, 1)}e{exponent}")


def _at_scale(value: float, bound: float, precision: int = 8) -> str:
    """``value`` rounded to the power of ten at or above ``bound`` (at most ``precision``
    significant digits): a slope that is only rounding prints as ``0``."""
    if not (bound > 0 and math.isfinite(bound) and math.isfinite(value)):
        return num(value, precision)
    place = math.ceil(math.log10(bound) - 1e-12)
    rounded = round(value, -place) + 0.0  # + 0.0 turns -0.0 into 0.0
    if not rounded:
        return "0"
    digits = math.floor(math.log10(abs(rounded))) - place + 1
    return num(rounded, min(max(digits, 1), precision))


def _differences(check: WeightCheck, bound: float) -> tuple[str, str]:
    """The ``|a − n|`` and ``rel.`` cells: two digits, or ``< bound`` when below it."""
    if not check.abs_error < bound:
        return f"{check.abs_error:.2g}", f"{check.rel_error:.2g}"
    scale = max(abs(check.analytic), abs(check.numeric))
    # Raised, so that "< rel" holds whenever "< bound" does; a slope itself below the bound
    # has no meaningful relative error.
    rel = f"< {_one_digit(bound / scale, up=True):g}" if scale > bound else "—"
    return f"< {bound:g}", rel


def draw_check(
    console: Console,
    features: Sequence[str],
    checks: Sequence[WeightCheck],
    rtol: float,
    label: str = FEATURE.header,
) -> None:
    """Analytic against numeric slope, per weight, with the verdict; ``label`` heads the names
    (a network's are its parameters).

    Values are shown at the tolerance's scale (see :func:`rounding_bound`), so the table reads
    the same on every machine.
    """
    names = ("analytic", "numeric", "h", "|a − n|", "rel.", "tol.", "ok")
    columns = (replace(FEATURE, header=label), *(Column(name, "right") for name in names))
    rows: list[lay.Row] = []
    for name, c in zip(features, checks, strict=True):
        verdict = styled("✓", "green") if c.ok else styled("✗", "red bold")
        bound = rounding_bound(c, rtol)
        rows.append(
            [
                name,
                _at_scale(c.analytic, bound),
                _at_scale(c.numeric, bound),
                f"{c.h:.2g}",
                *_differences(c, bound),
                f"{c.tolerance:.2g}",
                verdict,
            ]
        )
    bad = sum(not c.ok for c in checks)
    noun = "weight" if label == FEATURE.header else label.lower()  # a network's are its parameters
    if len(checks) == 1:
        caption = f"The {noun} disagrees beyond the tolerance" if bad else f"The {noun} agrees"
    else:
        caption = (
            f"{bad} of {len(checks)} {noun}s disagree beyond the tolerance"
            if bad
            else f"All {len(checks)} {noun}s agree"
        )
    caption += f" (rtol {rtol:g})."
    title = "Gradient check: analytic vs central differences"
    draw(console, Sheet(columns, rows, title=title, caption=caption))
