"""The learner's view of ``step``, ``descend`` and ``check``: Rich tables and the loss curve."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from slopecli.descent import Descent, Record, StepResult, WeightCheck
from slopecli.evaluation import RowBatch
from slopecli.render.numbers import ELLIPSIS, elide, factor, num, vec
from slopecli.render.tables import fold_numbers
from slopecli.text import count


class StepTables:
    """Keeps the first ``show_rows`` rows (before and after) and draws the update at ``end``."""

    def __init__(
        self, console: Console, precision: int = 6, show_rows: int | None = 10, title: str = ""
    ) -> None:
        self._console = console
        self._p = precision
        self._limit = show_rows
        self._title = title
        self._kept: list[tuple[RowBatch, RowBatch]] = []
        self._count = 0

    def rows(self, old: RowBatch, new: RowBatch) -> None:
        room = len(old.error) if self._limit is None else max(self._limit - self._count, 0)
        if self._count == 0:
            room = max(room, 1)  # a one-row step is drawn in full whatever --show-rows says
        if room:
            self._kept.append((old.head(room), new.head(room)))
            self._count += min(room, len(old.error))

    def end(self, result: StepResult) -> None:
        p, n = self._p, result.before.n
        lr = num(result.learning_rate, p)
        one = n == 1 and bool(self._kept)
        # Written as by hand, one "=" per line, so that long vectors never wrap mid-number.
        table = Table(
            title=Text(f"{self._title} · {count(n, 'row')} · learning rate {lr}"),
            title_justify="left",
            show_lines=True,
        )
        table.add_column("Step", justify="right", style="dim")
        table.add_column("Calculation")
        if one:
            old = self._kept[0][0]
            numbers = f"2·{vec(old.X[0], p)}·{factor(float(old.error[0]), p)}"
            table.add_row("1", _derivation("slope", "2·x·error", numbers, vec(result.gradient, p)))
        else:
            numbers = f"(2/{n:,})·{vec(result.before.xte, p)}"
            table.add_row("1", _derivation("gradient", "(2/n)·Σ x·error", numbers, vec(result.gradient, p)))
        grad_name = "slope" if one else "gradient"
        numbers = f"{vec(result.weights, p)} − {lr}·{vec(result.gradient, p)}"
        table.add_row(
            "2", _derivation("weights_updated", f"weights − lr·{grad_name}", numbers, vec(result.updated, p))
        )
        self._console.print(fold_numbers(table))

        change = Table(title="Before and after the step", title_justify="left")
        for name in ("Quantity", "before", "after"):
            change.add_column(name, justify="left" if name == "Quantity" else "right")
        if one:
            old, new = self._kept[0]
            change.add_row("preds = Σ w·x", num(float(old.preds[0]), p), num(float(new.preds[0]), p))
            change.add_row("error = preds − target", num(float(old.error[0]), p), num(float(new.error[0]), p))
        change.add_row("mse = mean(error²)", num(result.before.mse, p), num(result.after.mse, p))
        change.caption = (
            "improved ✓" if result.improved else "did not improve ✗: try a smaller --learning-rate"
        )
        change.caption_justify = "left"
        self._console.print(fold_numbers(change))
        if not one and self._kept:
            self._console.print(fold_numbers(self._per_row(n)))

    def _per_row(self, n: int) -> Table:
        p = self._p
        table = Table(title="Per row", title_justify="left")
        for name, justify in (
            ("Row", "right"),
            ("input\nx", "left"),
            ("target\ny", "right"),
            ("error\nbefore", "right"),
            ("error\nafter", "right"),
        ):
            table.add_column(name, justify=justify, no_wrap=name.startswith("input"))  # type: ignore[arg-type]
        shown = 0
        for old, new in self._kept:
            for i in range(len(old.error)):
                table.add_row(
                    str(old.first_row + i + 1),
                    vec(old.X[i], p),
                    num(float(old.y[i]), p),
                    num(float(old.error[i]), p),
                    num(float(new.error[i]), p),
                )
                shown += 1
        if shown < n:
            table.caption = f"{ELLIPSIS} {n - shown:,} more rows (--all-rows shows them)"
            table.caption_justify = "left"
        return table


def _derivation(name: str, formula: str, numbers: str, value: str) -> Text:
    indent = " " * (len(name) + 1)
    text = Text(f"{name} = {formula}\n{indent}= {numbers}\n{indent}= ")
    text.append(value, style="bold")
    return text


def draw_descent(
    console: Console, run: Descent, features: Sequence[str], precision: int = 6, edge: int = 5
) -> None:
    """The history (first and last ``edge`` steps of a long run), the loss curve and the result."""
    from slopecli.render.chart import loss_chart

    p = precision
    table = Table(title=f"Gradient descent · learning rate {num(run.learning_rate, p)}", title_justify="left")
    table.add_column("Step", justify="right")
    table.add_column("MSE", justify="right")
    table.add_column("‖gradient‖", justify="right")
    table.add_column(Text("weights (" + ", ".join(elide(list(features))) + ")"))
    history = run.history
    shown: list[Record | None] = list(history)
    if len(history) > 2 * edge + 1:
        shown = [*history[:edge], None, *history[-edge:]]
    for entry in shown:
        if entry is None:
            table.add_row(ELLIPSIS, ELLIPSIS, ELLIPSIS, f"{len(history) - 2 * edge:,} steps not shown")
            continue
        table.add_row(
            f"{entry.step:,}", num(entry.mse, p), num(entry.gradient_norm, p), vec(entry.weights, p)
        )
    final = run.final
    why = "the gradient norm fell below --tol" if run.stopped == "tol" else "all steps taken"
    table.caption = f"Stopped after {count(final.step, 'step')} ({why}): MSE {num(final.mse, p)}"
    table.caption_justify = "left"
    console.print(fold_numbers(table))
    from slopecli.render.chart import wants_log_scale

    log = wants_log_scale([h.mse for h in history], None)
    console.print(Text("MSE per step" + (" (log scale)" if log else ""), style="bold"))
    width = max(20, min(console.width - 12, 72))
    for line in loss_chart([h.mse for h in history], width=width, height=8):
        console.print(Text(line), highlight=False)


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
    unit = 10.0 ** math.floor(math.log10(value))
    digit = value / unit
    digit = math.ceil(digit * (1 - 1e-12)) if up else math.floor(digit * (1 + 1e-12))
    return float(f"{max(digit, 1) * unit:.0e}")


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


def draw_check(console: Console, features: Sequence[str], checks: Sequence[WeightCheck], rtol: float) -> None:
    """Analytic against numeric slope, per weight, with the verdict.

    Values are shown at the tolerance's scale (see :func:`rounding_bound`), so the table reads
    the same on every machine.
    """
    table = Table(title="Gradient check: analytic vs central differences", title_justify="left")
    for name in ("Feature", "analytic", "numeric", "h", "|a − n|", "rel.", "tol.", "ok"):
        # Numbers keep their width; a long feature name wraps instead.
        table.add_column(name, justify="left" if name == "Feature" else "right", no_wrap=name != "Feature")
    for name, c in zip(features, checks, strict=True):
        verdict = Text("✓", style="green") if c.ok else Text("✗", style="red bold")
        bound = rounding_bound(c, rtol)
        table.add_row(
            Text(name),
            _at_scale(c.analytic, bound),
            _at_scale(c.numeric, bound),
            f"{c.h:.2g}",
            *_differences(c, bound),
            f"{c.tolerance:.2g}",
            verdict,
        )
    bad = sum(not c.ok for c in checks)
    table.caption = (
        f"All {len(checks)} weights agree (rtol {rtol:g})."
        if not bad
        else f"{bad} of {len(checks)} weights disagree beyond the tolerance (rtol {rtol:g})."
    )
    table.caption_justify = "left"
    console.print(fold_numbers(table))
