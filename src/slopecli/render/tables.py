"""The learner's view: step-by-step Rich tables with the numbers substituted into each formula.

The only module that imports Rich. Data-derived text (column and file names) goes in as
``Text``, never as markup, so a column called ``[bold]`` prints as itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from slopecli.core import Sums, Vector
from slopecli.evaluation import RowBatch
from slopecli.render.numbers import ELLIPSIS, elide, factor, num, vec
from slopecli.text import count

EXPLICIT_MEAN_ROWS = 4
"""Up to this many rows, the gradient and MSE are shown as explicit sums of every row."""


class TableWriter:
    """A sink that keeps the first ``show_rows`` rows and draws the tables at ``end``.

    Args:
        console: where to draw (tests pass one writing to a StringIO).
        precision: significant digits of non-integers.
        show_rows: how many rows the per-row table lists; None lists all.
        title: a caption naming the data source.
    """

    def __init__(
        self,
        console: Console,
        precision: int = 6,
        show_rows: int | None = 10,
        title: str | None = None,
    ) -> None:
        self._console = console
        self._p = precision
        self._limit = show_rows
        self._title = title
        self._features: list[str] = []
        self._weights: Vector = np.zeros(0)
        self._kept: list[RowBatch] = []
        self._kept_rows = 0
        self._first: RowBatch | None = None

    def begin(self, features: Sequence[str], weights: Vector) -> None:
        self._features = list(features)
        self._weights = weights

    def rows(self, batch: RowBatch) -> None:
        if self._first is None:
            # A one-row input is drawn step by step whatever --show-rows says.
            self._first = batch.head(1)
        room = len(batch.error) if self._limit is None else self._limit - self._kept_rows
        if room > 0:
            kept = batch.head(room)
            self._kept.append(kept)
            self._kept_rows += len(kept.error)

    def end(self, sums: Sums) -> None:
        for table in self.tables(sums):
            self._console.print(fold_numbers(table))

    def tables(self, sums: Sums) -> list[Table]:
        """The tables to draw: one row's steps, or the per-row table and the aggregate."""
        if sums.n == 1 and self._first is not None:
            return [self._steps_one_row(self._first), self._per_weight_one_row(self._first)]
        tables = [self._per_row(sums.n)] if self._kept else []
        return [*tables, self._aggregate(sums), self._per_weight(sums)]

    def _steps(self, title: str) -> Table:
        table = Table(title=Text(title), title_justify="left")
        table.add_column("Step", justify="right", style="dim")
        table.add_column("Quantity", style="bold")
        table.add_column("Formula")
        table.add_column("With numbers")
        table.add_column("Value", justify="right", style="bold")
        return table

    def _steps_one_row(self, row: RowBatch) -> Table:
        p = self._p
        x, w = row.X[0], self._weights
        products = elide([f"{factor(wi, p)}·{factor(xi, p)}" for wi, xi in zip(w, x, strict=True)])
        preds, err, y = float(row.preds[0]), float(row.error[0]), float(row.y[0])
        table = self._steps(self._caption(1))
        table.add_row("1", "preds", "Σ w·x", " + ".join(products), num(preds, p))
        table.add_row("2", "error", "preds − target", f"{num(preds, p)} − {factor(y, p)}", num(err, p))
        table.add_row("3", "slope", "2·x·error", f"2·{vec(x, p)}·{factor(err, p)}", vec(row.slopes[0], p))
        table.add_row("4", "gradient", "mean of the row slopes", "one row: its slope", vec(row.slopes[0], p))
        table.add_row("5", "mse", "mean(error²)", f"{factor(err, p)}²", num(err * err, p))
        return table

    def _per_weight_one_row(self, row: RowBatch) -> Table:
        p = self._p
        table = Table(title="Per weight", title_justify="left")
        for name in ("Feature", "w", "x", "w·x", "slope = 2·x·error"):
            table.add_column(name, justify="left" if name == "Feature" else "right")
        x, s = row.X[0], row.slopes[0]
        for i in self._weight_positions():
            if i is None:
                table.add_row(ELLIPSIS, *[ELLIPSIS] * 4)
                continue
            wi, xi, si = float(self._weights[i]), float(x[i]), float(s[i])
            table.add_row(Text(self._features[i]), num(wi, p), num(xi, p), num(wi * xi, p), num(si, p))
        return table

    def _per_row(self, n: int) -> Table:
        p = self._p
        table = Table(title="Per row", title_justify="left")
        table.add_column("Row", justify="right", style="dim", no_wrap=True)
        table.add_column("input\nx")
        for name in ("target\ny", "preds\nΣ w·x", "error\npreds −\ntarget"):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("slope\n2·x·error")
        shown = 0
        for batch in self._kept:
            for i in range(len(batch.error)):
                table.add_row(
                    str(batch.first_row + i + 1),
                    vec(batch.X[i], p),
                    num(float(batch.y[i]), p),
                    num(float(batch.preds[i]), p),
                    num(float(batch.error[i]), p),
                    vec(batch.slopes[i], p),
                )
                shown += 1
        if shown < n:
            more = n - shown
            table.caption = f"{ELLIPSIS} {count(more, 'more row')} (--all-rows shows them)"
            table.caption_justify = "left"
        return table

    def _aggregate(self, sums: Sums) -> Table:
        p, n = self._p, sums.n
        table = self._steps(self._caption(n))
        if n <= EXPLICIT_MEAN_ROWS and self._kept_rows == n:
            slopes = [vec(s, p) for b in self._kept for s in b.slopes]
            squares = [f"{factor(float(e), p)}²" for b in self._kept for e in b.error]
            grad_formula, grad_numbers = "(1/n)·Σ slope", f"(1/{n})·({' + '.join(slopes)})"
            mse_numbers = f"(1/{n})·({' + '.join(squares)})"
        else:
            # Σ slope = 2·Σ x·error: the sums are all a stream keeps, and they say the same.
            grad_formula, grad_numbers = "(2/n)·Σ x·error", f"(2/{n:,})·{vec(sums.xte, p)}"
            mse_numbers = f"{num(sums.sse, p)} / {n:,}"
        table.add_row("1", "gradient", grad_formula, grad_numbers, vec(sums.gradient, p))
        table.add_row("2", "mse", "(1/n)·Σ error²", mse_numbers, num(sums.mse, p))
        return table

    def _per_weight(self, sums: Sums) -> Table:
        p = self._p
        table = Table(title="Per weight", title_justify="left")
        for name in ("Feature", "w", "Σ x·error", "gradient"):
            table.add_column(name, justify="left" if name == "Feature" else "right")
        for i in self._weight_positions():
            if i is None:
                table.add_row(ELLIPSIS, *[ELLIPSIS] * 3)
                continue
            values = (float(v[i]) for v in (self._weights, sums.xte, sums.gradient))
            table.add_row(Text(self._features[i]), *(num(v, p) for v in values))
        return table

    def _weight_positions(self) -> list[int | None]:
        """Rows of a per-weight table; the middle of a long model is elided (None) like a vector."""
        d = len(self._weights)
        if d <= 20:
            return list(range(d))
        return [*range(10), None, *range(d - 10, d)]

    def _caption(self, n: int) -> str:
        what = f"{count(n, 'row')} · {count(len(self._weights), 'weight')}"
        return f"{self._title} · {what}" if self._title else what


def fold_numbers(table: Table) -> Table:
    """Numbers too wide for the terminal wrap onto a second line instead of being cut to "…"
    (a cut number is a wrong number); scalar columns keep their width, vectors give way."""
    for column in table.columns:
        column.overflow = "fold"
    return table


def stdout_console() -> Console:
    """A console on stdout: colour only on a terminal, NO_COLOR respected (Rich does both)."""
    return Console(highlight=False)
