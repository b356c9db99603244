"""The learner's view: step-by-step tables with the numbers substituted into each formula.

Every table is laid out by :mod:`slopecli.render.layout` (one rule for all: natural widths,
then narrower columns, then one block per record, never a cut number) and drawn here, the
only place that hands its lines to Rich. Data-derived text (column and file names) is never
read as markup, so a column called ``[bold]`` prints as itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.segment import Segment, Segments
from rich.style import Style

from slopecli.core import Sums, Vector
from slopecli.errors import UsageError
from slopecli.evaluation import RowBatch
from slopecli.render import layout as lay
from slopecli.render import sheets
from slopecli.render.layout import Cell, Column, Line, Sheet
from slopecli.terminal import terminal_size
from slopecli.text import count, visible, visible_lines

if TYPE_CHECKING:
    from slopecli.dataset import DataOptions

HOLD_ROWS = 10_000
"""Rows held back before a per-row table starts streaming: they decide its column widths, and
a run that fails on a smaller input prints no table at all (as machine output holds 4 MiB)."""


def emit(console: Console, lines: Iterable[Line]) -> None:
    """Lines of styled pieces onto the console, as they are (they already fit its width)."""
    if console.color_system is None:  # styles would render as nothing: one plain segment
        text = visible_lines("".join("".join(piece for piece, _ in line) + "\n" for line in lines))
        console.print(Segments([Segment(text)]), crop=False, end="")
        return
    styles: dict[str, Style] = {}
    segments: list[Segment] = []
    append = segments.append
    newline = Segment.line()
    for line in lines:
        text, current = "", ""
        for piece, name in line:
            if name != current and text:
                append(Segment(text, _style(console, styles, current)))
                text = ""
            text, current = text + visible(piece), name
        if text:
            append(Segment(text, _style(console, styles, current)))
        append(newline)
    console.print(Segments(segments), crop=False, end="")


def _style(console: Console, styles: dict[str, Style], name: str) -> Style | None:
    if not name:
        return None
    style = styles.get(name)
    if style is None:
        style = styles[name] = Style.combine(console.get_style(part) for part in name.split())
    return style


def frame(console: Console) -> lay.Frame:
    """Heavy-headed boxes, or ASCII ones where the output cannot encode box characters."""
    return lay.ASCII if console.options.ascii_only else lay.HEAVY_HEAD


def draw(console: Console, sheet: Sheet) -> None:
    """One whole table at the console's width."""
    emit(console, lay.lines(sheet, console.width, frame(console)))


class RowStream:
    """A table of many rows, drawn a batch at a time in memory that does not grow with them.

    The first ``hold`` rows are held and decide the layout; later rows are drawn as they come.
    ``widest_key`` is the widest first cell (a row number) to make room for once rows stream.
    A later row that needs wider columns closes the table and opens one with wider columns (its
    header repeated); one that would not fit at all turns the rest into stacked blocks.
    """

    def __init__(
        self,
        console: Console,
        columns: Sequence[Column],
        title: str,
        hold: int = HOLD_ROWS,
        widest_key: str = "",
    ) -> None:
        self._console = console
        self._widest_key = widest_key
        self._columns = list(columns)
        self._title = title
        self._hold = hold
        self._held: list[Sequence[Cell]] = []
        self._measure = lay.Measure.of_headers(columns)
        self._grid: lay.Grid | None = None
        self._stacked = False
        self._started = False

    def add(self, rows: list[Sequence[Cell]]) -> None:
        if self._started:
            self._draw(rows)
            return
        self._held += rows
        if len(self._held) >= self._hold:
            self._start()

    def _start(self) -> None:
        self._started = True
        held, self._held = self._held, []
        if len(held) >= self._hold:
            # Rows keep coming: make room for the widest key now rather than when it comes.
            self._measure.naturals[0] = max(self._measure.naturals[0], lay.natural(self._widest_key))
        emit(self._console, lay.prose_lines(self._title, self._console.width, lay.TITLE))
        self._draw(held)

    def _draw(self, rows: list[Sequence[Cell]]) -> None:
        if not rows:
            return
        columns, grid, width = self._columns, self._grid, self._console.width
        if self._stacked:
            emit(self._console, lay.stacked(columns, rows, width))
            return
        naturals = [max(lay.natural(row[i]) for row in rows) for i in range(len(columns))]
        if grid is not None and self._fits(grid, rows, naturals):
            emit(self._console, grid.rows(rows))
            return
        measure = self._measure
        measure.naturals = [max(a, b) for a, b in zip(measure.naturals, naturals, strict=True)]
        if sum(measure.naturals) + lay.chrome(len(columns)) > width:
            measure.add(columns, rows)
        widths = lay.plan(measure, width)
        out: list[Line] = []
        if grid is not None and widths != grid.widths:
            out += grid.foot()
            self._grid = grid = None
        if widths is None:
            self._stacked = True
            out += lay.stacked(columns, rows, width)
        else:
            if grid is None:
                self._grid = grid = lay.Grid(columns, widths, frame(self._console))
                out += grid.head()
            out += grid.rows(rows)
        emit(self._console, out)

    def _fits(self, grid: lay.Grid, rows: list[Sequence[Cell]], naturals: list[int]) -> bool:
        """Whether ``rows`` can be drawn in ``grid`` as it is: each cell on one line, or, once
        the table fills the width, wrapped without breaking a word."""
        over = [i for i, (n, w) in enumerate(zip(naturals, grid.widths, strict=True)) if n > w]
        if not over:
            return True
        if sum(grid.widths) + lay.chrome(len(grid.widths)) < self._console.width:
            return False  # room to widen instead of wrapping
        for i in over:
            column, width = self._columns[i], grid.widths[i]
            if any(lay.floor(row[i], column) > width for row in rows if lay.natural(row[i]) > width):
                return False
        return True

    def close(self, caption: str | None = None) -> None:
        """The rows still held, the bottom border, and ``caption``; nothing if no row came."""
        if not self._started:
            if not self._held:
                return
            self._start()
        out = self._grid.foot() if self._grid is not None else []
        if caption:
            out += lay.prose_lines(caption, self._console.width, lay.CAPTION)
        emit(self._console, out)


class TableWriter:
    """A sink that lists the first ``show_rows`` rows as they come and draws the sums at ``end``.

    Args:
        console: where to draw (tests pass one writing to a StringIO).
        precision: significant digits of non-integers.
        show_rows: how many rows the per-row table lists; None lists all (up to ``sheets.ROWS_LIMIT``).
        title: a caption naming the data source.
        row: explain this one row (1-based) step by step instead of listing rows.
    """

    def __init__(
        self,
        console: Console,
        precision: int = 6,
        show_rows: int | None = 10,
        title: str | None = None,
        row: int | None = None,
    ) -> None:
        self._console = console
        self._p = precision
        self._limit, self._capped = sheets.row_limit(show_rows)
        self._title = title
        self._row = row
        self._features: list[str] = []
        self._weights: Vector = np.zeros(0)
        self._listed = 0
        self._first: RowBatch | None = None
        self._chosen: RowBatch | None = None
        self._few: list[RowBatch] = []  # the first rows, for the explicit mean of a tiny input
        self._stream = RowStream(console, sheets.PER_ROW_COLUMNS, "Per row", widest_key=str(self._limit))
        self.single_point = False
        """Whether the tables drawn explained one data point (for the next-step hint)."""

    def begin(self, features: Sequence[str], weights: Vector) -> None:
        self._features = list(features)
        self._weights = weights

    def rows(self, batch: RowBatch) -> None:
        if self._first is None:
            # A one-row input is drawn step by step whatever --show-rows says.
            self._first = _pick(batch, 0)
        if self._row is not None:
            at = self._row - 1 - batch.first_row
            if 0 <= at < len(batch.error):
                self._chosen = _pick(batch, at)
            return
        few = sheets.EXPLICIT_MEAN_ROWS + 1 - sum(len(b.error) for b in self._few)
        if few > 0:
            self._few.append(batch.head(few))
        room = self._limit - self._listed
        if room > 0:
            kept = batch.head(room)
            self._stream.add(sheets.per_row_cells(kept, self._p))
            self._listed += len(kept.error)

    def end(self, sums: Sums) -> None:
        p, w, n = self._p, self._weights, sums.n
        if self._row is not None:
            if self._chosen is None:
                msg = f"--row {self._row}: {self._title or 'the data'} has {count(n, 'row')}"
                raise UsageError(msg)
            title = sheets.caption(self._title, f"row {self._row:,} of {n:,}", len(w))
            self._one_row(self._chosen, title, of_many=True)
        elif n == 1 and self._first is not None:
            self._one_row(self._first, sheets.caption(self._title, "1 row", len(w)))
        else:
            more = n - self._listed
            self._stream.close(sheets.rows_note(more, self._capped) if more > 0 and self._listed else None)
            listed = self._few if n <= sheets.EXPLICIT_MEAN_ROWS and self._listed == n else None
            draw(
                self._console,
                sheets.aggregate(sums, p, sheets.caption(self._title, count(n, "row"), len(w)), listed),
            )
            draw(self._console, sheets.per_weight(sums, w, self._features, p))

    def _one_row(self, row: RowBatch, title: str, of_many: bool = False) -> None:
        self.single_point = True
        draw(self._console, sheets.steps_one_row(row, self._weights, self._p, title, of_many=of_many))
        draw(self._console, sheets.per_weight_one_row(row, self._weights, self._features, self._p))


def _pick(batch: RowBatch, at: int) -> RowBatch:
    """Row ``at`` of ``batch`` as a batch of its own, copied so that its chunk can be freed."""
    return RowBatch(
        batch.first_row + at,
        batch.X[at : at + 1].copy(),
        batch.y[at : at + 1].copy(),
        batch.preds[at : at + 1].copy(),
        batch.error[at : at + 1].copy(),
        batch.slopes[at : at + 1].copy(),
    )


def stdout_console() -> Console:
    """A console on stdout: colour only on a terminal, NO_COLOR respected (Rich does both)."""
    return sized(_PipeConsole(highlight=False))


def sized(console: Console) -> Console:
    """``console``, told its terminal's real size if Rich would take it for 80 × 25: Rich does
    so on any terminal whose TERM is ``dumb`` (Emacs' shell, some IDE consoles), whatever its
    size and COLUMNS say, and a table drawn 80 wide on a narrower screen wraps mid-number."""
    if console.is_dumb_terminal:
        console.size = terminal_size()
    return console


class _PipeConsole(Console):
    """A console whose closed pipe (`| head`) is the CLI's to report (exit 141), as machine
    output's is: Rich's own handling exits 1."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def suggest_next(
    command: str,
    data: DataOptions,
    *,
    learning_rate: float = 0.01,
    console: Console | None = None,
) -> None:
    """The course's next command, dim on stderr when it is a terminal: one line, or lines broken
    between words as a shell reads them when the terminal is narrower (none if a word is wider).

    Args:
        command: the command whose table just explained one data point.
        data: its data flags, which the next command repeats.
        learning_rate: the step size to suggest.
        console: where to write (tests); default: stderr.
    """
    from slopecli.render.course import data_arguments, next_command_lines

    console = console or sized(Console(stderr=True, highlight=False))
    isatty = getattr(console.file, "isatty", None)
    if not (isatty is not None and isatty()):  # FORCE_COLOR makes Rich say "terminal" in a log too
        return
    lines = next_command_lines(command, data_arguments(data), console.width, learning_rate=learning_rate)
    if lines is not None:
        console.print("\n".join(lines), style="dim", markup=False, highlight=False, soft_wrap=True)
