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
    lines = _decoded_lines(physical_lines(blocks), name, first_line)
    reader = csv.reader(lines, delimiter=options.delimiter or ",")  # CsvTable resolved it
    used = {i: layout.names[i] for i in layout.used}
    width = len(layout.names)
    line = first_line - 1
    header_pending = options.header if header is None else header
    try:
        for record in reader:
            start, line = line + 1, first_line - 1 + reader.line_num
            blank = not any(field.strip() for field in record)
            # Arrow skips empty lines; before the header, blank-looking ones were skipped too.
            if not record or (header_pending and blank):
                continue
            if header_pending:
                header_pending = False
                continue
            if len(record) != width:
                msg = f"{name}:{start}: expected {width} fields, found {len(record)}"
                return DataError(msg)
            for i, column in used.items():
                problem = _field_problem(record[i])
                if problem is not None:
                    cls = NumericError if "finite" in problem else DataError
                    return cls(f"{name}:{start}:{i + 1}: column {column!r}: {problem}")
    except _NotText as exc:
        return exc.error
    except csv.Error as exc:
        return DataError(f"{name}:{line + 1}: {exc}")
    return None


class _NotText(Exception):
    def __init__(self, error: DataError) -> None:
        self.error = error


_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)")


def physical_lines(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a byte stream without their endings, which are ``\\n``, ``\\r\\n`` or a ``\\r``
    alone, as Arrow reads them (so that line numbers agree for every kind of file)."""
    rest = b""
    for block in blocks:
        data = rest + block
        end = 0
        for match in _LINE.finditer(data):
            if match.end() == len(data) and data.endswith(b"\r"):
                break  # perhaps the first half of a \r\n that the next block completes
            end = match.end()
            yield match.group().rstrip(b"\r\n")
        rest = data[end:]
    if rest:
        yield rest.rstrip(b"\r\n")


def _decoded_lines(lines: Iterable[bytes], name: str, first_line: int) -> Iterator[str]:
    """The lines as text, one at a time, so that a decoding error knows its line."""
    for number, raw in enumerate(lines, start=first_line):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start]
            msg = f"{name}:{number}: not UTF-8 text (byte {bad:#04x} at offset {exc.start} in the line)"
            raise _NotText(DataError(msg)) from None


def _field_problem(field: str) -> str | None:
    value = field.strip(BLANKS)
    if not value:
        return "empty value"
    if not NUMBER.fullmatch(value):
        return f"{value[:40]!r} is not a number"
    number = float(value)
    if not math.isfinite(number):
        return f"{value!r} is not a finite number"
    return None
