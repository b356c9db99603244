"""The people's view of ``batch``: one table row per file, the failures with their reasons."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from slopecli.batch import FileResult
from slopecli.core import Sums, Vector
from slopecli.render.numbers import num, vec
from slopecli.render.tables import fold_numbers


class BatchTableWriter:
    """Collects one row per file and draws the table at ``end``."""

    def __init__(self, console: Console, precision: int = 6, combine: bool = False) -> None:
        self._console = console
        self._p = precision
        self._combine = combine
        self._table = Table(title_justify="left")
        for name, justify in (("File", "left"), ("Rows", "right"), ("MSE", "right"), ("Gradient", "left")):
            self._table.add_column(name, justify=justify)  # type: ignore[arg-type]

    def begin(self, weights: Vector) -> None:
        self._table.title = f"slopecli batch · weights {vec(weights, self._p)}"

    def file(self, result: FileResult) -> None:
        name = Text(str(result.path))
        if result.sums is None:
            reason = Text("✗ " + (result.error or ""), style="red")
            self._table.add_row(name, "", "", reason)
            return
        s = result.sums
        self._table.add_row(name, f"{s.n:,}", num(s.mse, self._p), vec(s.gradient, self._p))

    def end(self, counts: tuple[int, int], combined: Sums | None, features: Sequence[str] | None) -> None:
        if self._combine and combined is not None:
            self._table.add_section()
            self._table.add_row(
                Text("all files (combined)", style="bold"),
                f"{combined.n:,}",
                num(combined.mse, self._p),
                vec(combined.gradient, self._p),
            )
        ok, failed = counts
        self._table.caption = f"{ok} succeeded, {failed} failed" if failed else f"{ok} succeeded"
        self._table.caption_justify = "left"
        self._console.print(fold_numbers(self._table))
