"""The one layout rule of every table, as plain geometry: column widths, where a cell may break,
and the lines a table becomes at a given width. No Rich here (``tables`` draws these lines).

A number is never cut, cropped or split. A table that does not fit its natural width narrows
the columns that can wrap, as Rich does, but never below the widest word of any cell; if even
that is too wide, each row becomes a block of ``label: value`` lines (the stacked layout).

Where a cell may break depends on what it holds. Math (numbers, vectors, formulas) breaks only
between terms: after the comma of a vector, before an operator (``+ − = / ×``) and between two
words of prose, so ``(2/5)·[539.325,`` may end a line but ``539.`` or ``Σ x·`` never does.
Names and messages break at any space. Headers break only at their own newlines (a data-derived
header may also break between words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from slopecli.render.wrap import (
    PROSE,
    TERMS,
    WHOLE,
    cells,
    text_width,
    widest_number,
    widest_word,
    wrap,
    wrap_simple,
)

Justify = Literal["left", "right"]
Piece = tuple[str, str]
"""Text and the name of its style ("" for none)."""
Line = list[Piece]

TITLE, CAPTION, HEADER = "table.title", "table.caption", "table.header"

ALIGNED_ROOM = 24
"""The stacked layout lines its values up only if this much room is left for them (a vector of 3)."""


@dataclass(frozen=True)
class Span:
    """A run of cell text with one style."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Styled:
    """A cell whose parts have their own styles (a ✓ in green, a derivation's result in bold)."""

    spans: tuple[Span, ...]
    prose: bool = False
    """Break at any space, as for names and messages (plain ``str`` cells follow their column)."""

    @property
    def plain(self) -> str:
        return "".join(span.text for span in self.spans)


def styled(text: str, style: str = "", *, prose: bool = False) -> Styled:
    """One cell of one style."""
    return Styled((Span(text, style),), prose)


Cell = str | Styled


@dataclass(frozen=True)
class Column:
    """One column of a table, and how the stacked layout names it.

    Attributes:
        header: its heading; ``\\n`` separates the heading's lines.
        justify: ``left`` or ``right``.
        style: the style of its cells.
        prose: its cells are names or messages, which may break at any space.
        label: the name of its value in the stacked layout; default: the header on one line.
            An empty label shows the value alone.
        key: the column names the record: in the stacked layout its value heads the block.
        header_breaks: the header (holding data, like feature names) may break between words.
    """

    header: str
    justify: Justify = "left"
    style: str = ""
    prose: bool = False
    label: str | None = None
    key: bool = False
    header_breaks: bool = False

    @property
    def name(self) -> str:
        return self.header.replace("\n", " ") if self.label is None else self.label


@dataclass(frozen=True)
class Gap:
    """Elided rows: ``…`` in the table's columns (``cells``, when given), one line when stacked."""

    note: str
    cells: tuple[str, ...] = ()


Row = Sequence[Cell] | Gap


@dataclass
class Sheet:
    """A whole table: what :func:`lines` lays out at a width."""

    columns: Sequence[Column]
    rows: Sequence[Row] = ()
    title: Cell | None = None
    caption: Cell | None = None
    rules: bool = False
    """A rule between every two rows."""
    sections: frozenset[int] = field(default_factory=frozenset)
    """Rows that a rule separates from the rows above them."""


@dataclass(frozen=True)
class Frame:
    """The characters of a table's box, in Rich's order: each row is left, fill, divider, right."""

    top: str
    head: str
    head_rule: str
    body: str
    rule: str
    bottom: str


HEAVY_HEAD = Frame("┏━┳┓", "┃ ┃┃", "┡━╇┩", "│ ││", "├─┼┤", "└─┴┘")
ASCII = Frame("+--+", "| ||", "|-+|", "| ||", "|-+|", "+--+")


def _plain(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell.plain


def _pattern(cell: Cell, column: Column) -> re.Pattern[str]:
    prose = column.prose or (isinstance(cell, Styled) and cell.prose)
    return PROSE if prose else TERMS


def natural(cell: Cell) -> int:
    """The width of a cell on lines of its own making (its newlines only)."""
    return text_width(_plain(cell))


def floor(cell: Cell, column: Column) -> int:
    """The narrowest the cell can be without breaking a word: its widest word."""
    return widest_word(_plain(cell), _pattern(cell, column))


def _header_pattern(column: Column) -> re.Pattern[str]:
    return PROSE if column.header_breaks else WHOLE


@dataclass
class Measure:
    """The widest natural width and the widest word seen in each column so far."""

    naturals: list[int]
    floors: list[int]

    @classmethod
    def of_headers(cls, columns: Sequence[Column]) -> Measure:
        return cls(
            [text_width(c.header) for c in columns],
            [widest_word(c.header, _header_pattern(c)) for c in columns],
        )

    def add(self, columns: Sequence[Column], rows: Iterable[Row], words: bool = True) -> None:
        """Widen by ``rows``; ``words=False`` skips the (slower) word widths."""
        for row in rows:
            values = row.cells if isinstance(row, Gap) else row
            for i, (cell, column) in enumerate(zip(values, columns, strict=False)):
                size = natural(cell)
                if size > self.naturals[i]:
                    self.naturals[i] = size
                # A cell no wider than the widest word so far cannot hold a wider word.
                if words and size > self.floors[i]:
                    self.floors[i] = max(self.floors[i], floor(cell, column))


def chrome(columns: int) -> int:
    """The columns borders and padding take: a bar between and around cells, a space either side."""
    return 3 * columns + 1


def plan(measure: Measure, width: int) -> list[int] | None:
    """Column widths that fit ``width``, or None when only the stacked layout does.

    At their natural widths if the table fits; otherwise the widest wrappable columns give way
    first, as Rich's tables do, but none below its widest word.
    """
    n = len(measure.naturals)
    if sum(measure.naturals) + chrome(n) <= width:
        return list(measure.naturals)
    floors = [max(f, 1) for f in measure.floors]
    if sum(floors) + chrome(n) > width:
        return None
    widths = [max(w, f) for w, f in zip(measure.naturals, floors, strict=True)]
    excess = sum(widths) + chrome(n) - width
    while excess > 0:
        open_ = [w > f for w, f in zip(widths, floors, strict=True)]
        widest = max(w for w, ok in zip(widths, open_, strict=True) if ok)
        second = max((w for w, ok in zip(widths, open_, strict=True) if ok and w != widest), default=0)
        ratios = [int(ok and w == widest) for w, ok in zip(widths, open_, strict=True)]
        limits = [min(excess, widest - second, w - f) for w, f in zip(widths, floors, strict=True)]
        reduced = _ratio_reduce(excess, ratios, limits, widths)
        if reduced == widths:
            break
        widths = reduced
        excess = sum(widths) + chrome(n) - width
    return widths


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """``total`` taken from ``values`` in proportion to ``ratios``, at most ``maximums`` each
    (Rich's ``ratio_reduce``, so that a table narrows exactly as Rich narrowed it before)."""
    ratios = [r if m > 0 else 0 for r, m in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return list(values)
    remaining, result = total, []
    for ratio, maximum, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            taken = min(maximum, round(ratio * remaining / total_ratio))
            result.append(value - taken)
            remaining -= taken
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _spans(cell: Cell, start: int, end: int, base: str) -> Line:
    """The pieces of ``cell`` between two offsets of its plain text, each in its style."""
    if isinstance(cell, str):
        return [(cell[start:end], base)]
    pieces: Line = []
    at = 0
    for span in cell.spans:
        a, b = max(start, at), min(end, at + len(span.text))
        if a < b:
            pieces.append((span.text[a - at : b - at], _join(base, span.style)))
        at += len(span.text)
    return pieces


def _join(base: str, style: str) -> str:
    return f"{base} {style}".strip()


def cell_lines(cell: Cell, width: int, pattern: re.Pattern[str], justify: Justify, base: str) -> list[Line]:
    """A cell wrapped to ``width`` and padded to it, each line as styled pieces."""
    if isinstance(cell, str):
        pad = width - cells(cell)
        if pad >= 0 and "\n" not in cell:
            return [[(" " * pad + cell if justify == "right" else cell + " " * pad, base)]]
        simple = wrap_simple(cell, width, pattern)
        if simple is not None:
            if justify == "right":
                return [[(line.rjust(width - cells(line) + len(line)), base)] for _, line in simple[0]]
            return [
                [(" " * indent + line + " " * (width - indent - cells(line)), base)]
                for indent, line in simple[0]
            ]
    text = _plain(cell)
    lines: list[Line] = []
    for indent, start, end in wrap(text, width, pattern):
        if justify == "right":
            while end > start and text[end - 1] == " ":
                end -= 1
            indent = 0
        pieces = _spans(cell, start, end, base)
        fill = " " * max(width - indent - cells(text[start:end]), 0)
        if justify == "right":
            lines.append([(fill, base), *pieces])
        else:
            lines.append([(" " * indent, base), *pieces, (fill, base)])
    return lines


def prose_lines(cell: Cell, width: int, style: str) -> list[Line]:
    """A title, caption or status line: wrapped at spaces to ``width``, never padded."""
    text = _plain(cell)
    return [
        [(" " * indent, style), *_spans(cell, start, end, style)]
        if indent
        else _spans(cell, start, end, style)
        for indent, start, end in wrap(text, max(width, 1), PROSE)
    ]


# Tables ----------------------------------------------------------------------------------------


class Grid:
    """The lines of a table whose column widths are fixed: its head, rows and foot.

    Rows can be drawn a batch at a time, so a long table streams in constant memory.
    """

    def __init__(self, columns: Sequence[Column], widths: Sequence[int], frame: Frame = HEAVY_HEAD) -> None:
        self.columns = list(columns)
        self.widths = list(widths)
        self.frame = frame

    def _border(self, chars: str) -> Line:
        left, fill, divider, right = tuple(chars)
        return [(left + divider.join(fill * (w + 2) for w in self.widths) + right, "")]

    def head(self) -> list[Line]:
        """The top border, the headers (aligned to the bottom), and the rule under them."""
        left, _, divider, right = tuple(self.frame.head)
        rendered = [
            cell_lines(c.header, w, _header_pattern(c), c.justify, HEADER)
            for c, w in zip(self.columns, self.widths, strict=True)
        ]
        height = max(len(r) for r in rendered)
        for r, w in zip(rendered, self.widths, strict=True):
            r[:0] = [[(" " * w, HEADER)]] * (height - len(r))
        lines = [self._border(self.frame.top)]
        lines += self._join(rendered, height, left, divider, right)
        lines.append(self._border(self.frame.head_rule))
        return lines

    def rows(
        self, rows: Iterable[Row], first: int = 0, rules: bool = False, sections: frozenset[int] = frozenset()
    ) -> list[Line]:
        """Body lines; ``first`` numbers the rows for ``sections`` (rules above those rows)."""
        left, _, divider, right = tuple(self.frame.body)
        lines: list[Line] = []
        simple = self._simple_row
        for index, row in enumerate(rows, start=first):
            if index and (rules or index in sections):
                lines.append(self._border(self.frame.rule))
            if isinstance(row, Gap):
                row = list(row.cells) or [row.note]
                row = [*row, *[""] * (len(self.columns) - len(row))]
            fast = simple(row)
            if fast is not None:
                lines.append(fast)
                continue
            rendered = [
                cell_lines(cell, w, _pattern(cell, c), c.justify, c.style)
                for cell, c, w in zip(row, self.columns, self.widths, strict=True)
            ]
            height = max(len(r) for r in rendered)
            for r, w, c in zip(rendered, self.widths, self.columns, strict=True):
                r.extend([[(" " * w, c.style)]] * (height - len(r)))
            lines += self._join(rendered, height, left, divider, right)
        return lines

    def _simple_row(self, row: Sequence[Cell]) -> Line | None:
        """One line of plain cells that fit: the common case, drawn without wrapping."""
        left, _, divider, right = tuple(self.frame.body)
        line: Line = []
        text = left
        last = len(self.columns) - 1
        for i, (cell, column, width) in enumerate(zip(row, self.columns, self.widths, strict=True)):
            if not isinstance(cell, str) or "\n" in cell:
                return None
            pad = width - cells(cell)
            if pad < 0:
                return None
            padded = " " * pad + cell if column.justify == "right" else cell + " " * pad
            if column.style:
                line += [(text + " ", ""), (padded, column.style)]
                text = ""
            else:
                text += " " + padded
            text += " " + (right if i == last else divider)
        line.append((text, ""))
        return line

    def foot(self) -> list[Line]:
        return [self._border(self.frame.bottom)]

    def _join(
        self, rendered: list[list[Line]], height: int, left: str, divider: str, right: str
    ) -> list[Line]:
        lines: list[Line] = []
        styles = [c.style for c in self.columns]
        ends = [divider] * (len(rendered) - 1) + [right]
        for i in range(height):
            line: Line = []
            text = left  # unstyled text not yet added to the line
            for cell, style, end in zip(rendered, styles, ends, strict=True):
                pieces = cell[i]
                if not style and len(pieces) == 1 and not pieces[0][1]:
                    text += " " + pieces[0][0] + " " + end
                    continue
                line += [(text, ""), (" ", style), *pieces, (" ", style)]
                text = end
            line.append((text, ""))
            lines.append(line)
        return lines


def stacked(columns: Sequence[Column], rows: Iterable[Row], width: int) -> list[Line]:
    """Each row as a block: its key (``Row 7``, a feature's name) then ``label: value`` lines.

    Values line up after the longest label when that leaves room; a value too wide for its
    line continues on the next ones, hanging under its start, broken only between terms.
    """
    keys = [i for i, c in enumerate(columns) if c.key] or [0]
    others = [i for i in range(len(columns)) if i not in keys]
    align = max((cells(columns[i].name) + 1 for i in others if columns[i].name), default=0)
    if width - (2 + align + 1) < ALIGNED_ROOM:  # lined up, values would wrap: each after its label
        align = 0
    labels = {}
    for i in others:
        name = columns[i].name
        label = f"{name}:" if name else ""
        start = 2 + (max(align, cells(label)) + 1 if label else 0)
        labels[i] = (label, start, "  " + label.ljust(start - 3) + " " if label else "  ")
    lines: list[Line] = []
    for row in rows:
        if isinstance(row, Gap):
            lines += prose_lines(f"… {row.note}", width, "dim")
            continue
        head = " · ".join(_key_text(columns[i], _plain(row[i])) for i in keys if _plain(row[i]))
        if head.isascii() and len(head) <= width:
            lines.append([(head, "bold")])
        else:
            lines += prose_lines(styled(head, "bold", prose=True), width, "")
        for i in others:
            cell = row[i]
            if isinstance(cell, str) and "\n" not in cell and cells(cell) <= width - labels[i][1]:
                if cell:
                    lines.append([(labels[i][2], "dim"), (cell, columns[i].style)])
            elif _plain(cell):
                lines += _field(labels[i], cell, columns[i], width)
    return lines


def _key_text(column: Column, value: str) -> str:
    return f"{column.name} {value}" if column.name else value


def _field(label: tuple[str, int, str], cell: Cell, column: Column, width: int) -> list[Line]:
    name, start, prefix = label
    if not name and widest_number(_plain(cell)) > width - start:
        # No label to line up with: the indent gives way to a number that would not fit after it.
        start = max(width - widest_number(_plain(cell)), 0)
        prefix = " " * start
    pattern = _pattern(cell, column)
    room = width - start
    if isinstance(cell, str):
        simple = wrap_simple(cell, room, pattern)
        if simple is not None:
            parts, style = simple[0], column.style
            return [[(prefix, "dim"), (parts[0][1], style)]] + [
                [(" " * (start + indent), ""), (part, style)] for indent, part in parts[1:]
            ]
    text = _plain(cell)
    widest = floor(cell, column) if name else 0
    if name and room < widest:  # the value on lines of its own, under the label
        heading: list[Line] = [[("  " + name, "dim")]]
        if cells(name) + 2 > width:  # the label itself is wider than the line: it wraps at spaces
            heading = [[("  ", ""), *line] for line in prose_lines(name, width - 2, "dim")]
        # Hung 4 deep, or less where a number would not fit there (it is never broken).
        start = 4 if widest <= width - 4 else min(4, max(width - widest_number(text), 0))
        return [*heading, *_indented(cell, text, start, width - start, pattern, column.style)]
    lines = _indented(cell, text, start, room, pattern, column.style)
    lines[0][0] = (prefix, "dim")
    return lines


def _indented(
    cell: Cell, text: str, start: int, room: int, pattern: re.Pattern[str], style: str
) -> list[Line]:
    return [
        [(" " * (start + indent), ""), *_spans(cell, a, b, style)]
        for indent, a, b in wrap(text, max(room, 1), pattern)
    ]


def lines(sheet: Sheet, width: int, frame: Frame = HEAVY_HEAD) -> list[Line]:
    """The whole of ``sheet`` at ``width``: title, table (or stacked blocks), caption."""
    out: list[Line] = []
    if sheet.title is not None:
        out += prose_lines(sheet.title, width, TITLE)
    measure = Measure.of_headers(sheet.columns)
    measure.add(sheet.columns, sheet.rows, words=False)
    if sum(measure.naturals) + chrome(len(sheet.columns)) > width:
        measure.add(sheet.columns, sheet.rows)
    widths = plan(measure, width)
    if widths is None:
        out += stacked(sheet.columns, sheet.rows, width)
    else:
        grid = Grid(sheet.columns, widths, frame)
        out += grid.head() + grid.rows(sheet.rows, rules=sheet.rules, sections=sheet.sections) + grid.foot()
    if sheet.caption is not None:
        out += prose_lines(sheet.caption, width, CAPTION)
    return out


def text_of(lines: Iterable[Line]) -> str:
    """Lines as plain text, for tests and for consoles without styles."""
    return "".join("".join(text for text, _ in line) + "\n" for line in lines)
