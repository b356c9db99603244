"""The people's view of ``batch``: one table row per file, the failures with their reasons."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from slopecli.batch import FileResult
from slopecli.core import Sums, Vector
from slopecli.render import layout as lay
from slopecli.render.layout import Column, Sheet, styled
from slopecli.render.numbers import num, vec
from slopecli.render.tables import draw
from slopecli.text import count

COLUMNS = (
    Column("File", prose=True, label="", key=True),
    Column("Rows", "right"),
    Column("MSE", "right"),
    Column("Gradient"),
)


class BatchTableWriter:
    """Collects one row per file and draws the table at ``end``."""

    def __init__(self, console: Console, precision: int = 6, combine: bool = False) -> None:
        self._console = console
        self._p = precision
        self._combine = combine
        self._title = "slopecli batch"
        self._rows: list[lay.Row] = []

    def begin(self, weights: Vector) -> None:
        self._title = f"slopecli batch · weights {vec(weights, self._p)}"

    def file(self, result: FileResult) -> None:
        name = str(result.path)
        if result.sums is None:
            self._rows.append([name, "", "", styled("✗ " + (result.error or ""), "red", prose=True)])
            return
        s = result.sums
        self._rows.append([name, f"{s.n:,}", num(s.mse, self._p), vec(s.gradient, self._p)])

    def end(self, counts: tuple[int, int], combined: Sums | None, features: Sequence[str] | None) -> None:
        ok, failed = counts
        sections: frozenset[int] = frozenset()
        if self._combine and combined is not None:
            sections = frozenset({len(self._rows)})
            # The failed files are not in it: the label says so where some failed.
            label = f"the {count(ok, 'file')} read (combined)" if failed else "all files (combined)"
            self._rows.append(
                [
                    styled(label, "bold", prose=True),
                    f"{combined.n:,}",
                    num(combined.mse, self._p),
                    vec(combined.gradient, self._p),
                ]
            )
        caption = f"{ok} succeeded, {failed} failed" if failed else f"{ok} succeeded"
        draw(self._console, Sheet(COLUMNS, self._rows, title=self._title, caption=caption, sections=sections))
