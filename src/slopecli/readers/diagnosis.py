"""Where exactly a CSV file is wrong: a pure-Python pass that names file, line and column.

Arrow's fast reader says what failed but not where. When it fails, this second pass walks the
file with the :mod:`csv` module, checking what Arrow checks (field counts, numbers in Arrow's
syntax, finite values), so that the message points at the line and column to fix. Correct files
never pay for it.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator

from slopecli.errors import DataError, NumericError
from slopecli.readers.layout import Layout, ReadOptions
from slopecli.readers.stream import line_count, unlimited_fields
from slopecli.text import quoted
from slopecli.values import BLANKS, NUMBER


def diagnose(
    blocks: Iterable[bytes],
    name: str,
    layout: Layout,
    options: ReadOptions,
    first_line: int = 1,
    header: bool | None = None,
) -> DataError | NumericError | None:
    """The first problem in the file, with its line and column, or None if Python finds none.

    Args:
        blocks: the file's bytes, from its start or from ``first_line`` on.
        first_line: the number of the line ``blocks`` starts with.
        header: whether a header line comes first in ``blocks`` (default: ``options.header``).
    """
    delimiter = options.delimiter or ","  # CsvTable resolved it
    raw = bytearray()
    lines = _decoded_lines(physical_lines(blocks), first_line, raw)
    unlimited_fields()
    reader = csv.reader(lines, delimiter=delimiter)
    used = {i: layout.names[i] for i in layout.used}
    width = len(layout.names)
    line = first_line - 1
    header_pending = options.header if header is None else header
    # A column of text (an id, a name) shows in the first row; a typo may come anywhere.
    first_row = first_line == 1 and options.header and options.features is None
    try:
        for record in reader:
            start, line = line + 1, first_line - 1 + reader.line_num
            lines_of_record = bytes(raw)  # the csv module reads no further than a record's end
            raw.clear()
            blank = not any(field.strip() for field in record)
            # Arrow skips empty lines; before the header, blank-looking ones were skipped too.
            if not record or (header_pending and blank):
                continue
            if header_pending:
                header_pending = False
                continue
            # A record whose last value holds a line break, with an odd number of quotes, may be a
            # quote that opened that value and was never closed: if nothing follows, it was.
            left_open = bool(record) and _breaks(record[-1]) > 0 and lines_of_record.count(b'"') % 2 == 1
            if len(record) != width:
                if left_open and next(reader, None) is None:
                    return _unclosed_in(record, name, start)
                msg = f"{name}:{start}: expected {width} fields, found {len(record)}"
                return DataError(msg)
            for i, column in used.items():
                if _SURROGATE.search(record[i]):
                    # Bytes that are not UTF-8 in a column that is read (elsewhere they are
                    # text slopecli does not read, as in any unused column).
                    return check_utf8(lines_of_record[:-1], name, delimiter, "a value", start)
                problem = _field_problem(record[i])
                if problem is not None:
                    if left_open and next(reader, None) is None:
                        return _unclosed_in(record, name, start)
                    text = problem.endswith(" is not a number") and _words(record[i])
                    if first_row and text and i != layout.target_position:
                        problem += f"; if {quoted(column)} is not a feature, leave it out with --features"
                    cls = NumericError if "finite" in problem else DataError
                    return cls(f"{name}:{start}:{i + 1}: column {quoted(column)}: {problem}")
            first_row = False
    except csv.Error as exc:
        return DataError(f"{name}:{line + 1}: {exc}")
    except _Unclosed as unclosed:
        return unclosed_quote(name, unclosed.line, LONGEST_QUOTED)
    return None


def unclosed_quote(name: str, line: int, within: int | None, column: int | None = None) -> DataError:
    """A quoted value that starts on ``line`` (in field ``column``, if known) and does not end in
    the next ``within`` bytes (None: before the end of the file)."""
    within_text = "before the end of the file" if within is None else f"in the next {_amount(within)}"
    where = f"{name}:{line}" if column is None else f"{name}:{line}:{column}"
    msg = (
        f"{where}: a quoted value starts on this line and does not end {within_text}: a stray quote"
        " character? Remove it, or close the quoted value"
    )
    return DataError(msg)


def _unclosed_in(record: list[str], name: str, line: int) -> DataError:
    """The quote left open in ``record``, which starts on ``line``: in its last field (the value
    it opened took the rest of the file), on the line the fields before it end on."""
    opened = line + sum(_breaks(field) for field in record[:-1])
    return unclosed_quote(name, opened, None, len(record))


def _breaks(text: str) -> int:
    """The line endings in ``text``: ``\n``, ``\r\n`` or a lone ``\r``, as lines are counted."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _amount(size: int) -> str:
    return f"{size >> 20} MiB" if size >= 1 << 20 else f"{size:,} bytes"


LONGEST_QUOTED = 16 << 20
"""The most bytes one record of several lines (a quoted value with line breaks) may take before
the diagnosis gives up on it: a stray quote would otherwise make the csv module hold the rest of
the file, several times over."""


class _Unclosed(Exception):
    """A record runs on past :data:`LONGEST_QUOTED` bytes, over several lines, from ``line``."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def resume(blocks: Iterable[bytes], offset: int, header_bytes: int) -> tuple[Iterator[bytes], int] | None:
    """The bytes from the first line that starts at or after byte ``offset`` on, and that line's
    number, for a diagnosis that need not walk what Arrow has read already; None if a quote
    comes between the header's ``header_bytes`` and that line (a line start may then lie inside
    a quoted value, and only a pass from the start can tell).

    What comes before is only counted, at the speed of ``bytes.count``: a file cut short at its
    end (an interrupted download) is diagnosed in milliseconds, not at Python's pace.
    """
    blocks = iter(blocks)
    ends = quotes = at = 0
    previous = b""

    def count(piece: bytes) -> None:
        nonlocal ends, quotes, at, previous
        ends += line_count(piece)
        if previous == b"\r" and piece.startswith(b"\n"):  # a \r\n split across pieces
            ends -= 1
        quotes += piece.count(b'"', max(header_bytes - at, 0))
        at += len(piece)
        previous = piece[-1:] or previous

    for block in blocks:
        if at < offset:
            cut = offset - at
            count(block[:cut])
            block = block[cut:]
        while block:
            if previous == b"\n" or (previous == b"\r" and not block.startswith(b"\n")):
                return None if quotes else (_chained(block, blocks), ends + 1)
            end = _LINE_END.search(block)
            if end is None:
                count(block)
                break
            count(block[: end.end()])
            block = block[end.end() :]
    return None if quotes else (iter(()), ends + 1)


def _chained(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


_LINE_END = re.compile(rb"\r\n|\r|\n")


def physical_lines(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a byte stream without their endings, which are ``\\n``, ``\\r\\n`` or a ``\\r``
    alone, as Arrow reads them (so that line numbers agree for every kind of file).

    Each block is searched once, from where the last line ended: a line longer than many blocks
    costs its length, not its length squared."""
    line: list[bytes] = []  # the pieces of the line not yet ended
    after_cr = False  # the last block ended in \r, which a \n at the next one's start completes
    for block in blocks:
        start = 0
        if after_cr and block:
            after_cr = False
            start = 1 if block.startswith(b"\n") else 0
        for end in _LINE_END.finditer(block, start):
            line.append(block[start : end.start()])
            start = end.end()
            if start == len(block) and end.group() == b"\r":
                after_cr = True  # the line has ended; a \n may still follow as part of its end
            yield b"".join(line)
            line = []
        if start < len(block):
            line.append(block[start:])
    if line:
        yield b"".join(line)


def _decoded_lines(lines: Iterable[bytes], first_line: int, raw: bytearray) -> Iterator[str]:
    """The lines as text, one at a time; bytes that are not UTF-8 become lone surrogates (to be
    named if they are in a column that is read). ``raw`` gathers the bytes of the record being
    read, each line ended with ``\\n`` (a quoted value may span several); the reader of the records
    empties it.

    Raises:
        _Unclosed: a record of several lines passes :data:`LONGEST_QUOTED` bytes.
    """
    start = first_line  # the first line of the record being read
    for number, line in enumerate(lines, start=first_line):
        if not raw:
            start = number
        raw += line
        raw += b"\n"
        if len(raw) > LONGEST_QUOTED and number > start:
            raise _Unclosed(start)
        # Ended again, so that a line break inside a quoted value stays in it, as Arrow reads it.
        yield line.decode("utf-8-sig" if number == 1 else "utf-8", errors="surrogateescape") + "\n"


_SURROGATE = re.compile("[\udc80-\udcff]")


def check_utf8(data: bytes, name: str, delimiter: str, what: str, first_line: int = 1) -> DataError | None:
    """None if ``data`` (whole lines, from line ``first_line``) is UTF-8 text; else the error that
    names its first other byte by line, column and offset in the line, and how to convert."""
    try:
        data.decode("utf-8-sig" if first_line == 1 else "utf-8")
        return None
    except UnicodeDecodeError as exc:
        bad, offset = data[exc.start], exc.start
    before = data[:offset]
    line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    line = first_line + line_count(before)
    prefix = data[line_start:offset].decode("utf-8-sig", errors="surrogateescape")
    column = len(next(csv.reader([prefix + "x"], delimiter=delimiter), [""]))
    msg = (
        f"{name}:{line}:{column}: {what} is not UTF-8 text (byte {bad:#04x} at offset {offset - line_start}"
        " in the line); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > NEW.csv"
    )
    return DataError(msg)


def _words(field: str) -> bool:
    """``field`` holds letters (other than an exponent's e): a name or an id, not a mistyped
    number, nor a spreadsheet's mark of a missing value."""
    if field.strip(BLANKS).lower() in _MISSING:
        return False
    return any(c.isalpha() and c not in "eE" for c in field)


_MISSING = frozenset({"na", "n/a", "nan", "null", "none", "missing", "#n/a", "nil"})


def _field_problem(field: str) -> str | None:
    value = field.strip(BLANKS)
    if not value:
        return "empty value"
    if not NUMBER.fullmatch(value):
        return f"{quoted(value)} is not a number"
    number = float(value)
    if not math.isfinite(number):
        return f"{quoted(value)} is not a finite number"
    return None
