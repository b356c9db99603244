"""Where exactly a CSV file is wrong: a pure-Python pass that names file, line and column.

Arrow's fast reader says what failed but not where. When it fails, this second pass walks the
file with the :mod:`csv` module, checking what Arrow checks (field counts, numbers in Arrow's
syntax, finite values), so that the message points at the line and column to fix. Correct files
never pay for it.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from typing import IO

from slopecli.errors import DataError, NumericError
from slopecli.readers.layout import Layout, ReadOptions
from slopecli.values import NUMBER


def diagnose(
    fp: IO[bytes], name: str, layout: Layout, options: ReadOptions
) -> DataError | NumericError | None:
    """The first problem in the file, with its line and column, or None if Python finds none."""
    lines = _decoded_lines(fp, name)
    reader = csv.reader(lines, delimiter=options.delimiter or ",")  # CsvTable resolved it
    used = {i: layout.names[i] for i in layout.used}
    width = len(layout.names)
    line = 0
    header_pending = options.header
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
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


def _decoded_lines(fp: IO[bytes], name: str) -> Iterator[str]:
    """The file's lines as text, one at a time, so that a decoding error knows its line."""
    for number, raw in enumerate(fp, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start]
            msg = f"{name}:{number}: not UTF-8 text (byte {bad:#04x} at offset {exc.start} in the line)"
            raise _NotText(DataError(msg)) from None


def _field_problem(field: str) -> str | None:
    value = field.strip()
    if not value:
        return "empty value"
    if not NUMBER.fullmatch(value):
        return f"{value[:40]!r} is not a number"
    number = float(value)
    if not math.isfinite(number):
        return f"{value!r} is not a finite number"
    return None
