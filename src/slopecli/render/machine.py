"""Machine output: JSON, JSON Lines and CSV, written straight to a byte stream, never via Rich.

Each writer is a sink: ``begin`` once, ``rows`` once per chunk of per-row results, ``end`` with
the final sums. Rows are encoded as they come, so a million-row file never sits in memory.
JSON never holds NaN or Infinity (``allow_nan=False``): the evaluator rejects them first.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any, Protocol

from slopecli.arrow import from_numpy
from slopecli.core import Sums, Vector
from slopecli.evaluation import RowBatch

FORMAT_VERSION = 1


class ByteStream(Protocol):
    """Where machine output goes: stdout's buffer, a file, or a held-back buffer."""

    def write(self, data: bytes, /) -> int: ...


class Sink(Protocol):
    def begin(self, features: Sequence[str], weights: Vector) -> None: ...
    def rows(self, batch: RowBatch) -> None: ...
    def end(self, sums: Sums) -> None: ...


def dumps(value: Any) -> str:
    """Compact JSON text; NaN or Infinity would be a bug upstream, so they raise."""
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def csv_cell(value: object) -> object:
    """Numbers as Arrow's CSV writer spells them (``7``, ``0.1``), booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return value


def csv_line(values: Sequence[object]) -> bytes:
    """One CSV record; floats in their shortest round-trip form."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow([csv_cell(v) for v in values])
    return text.getvalue().encode()


def row_records(batch: RowBatch) -> list[dict[str, Any]]:
    """The per-row records of the JSON contract for one chunk."""
    return [
        {"row": batch.first_row + i + 1, "input": x, "target": y, "preds": p, "error": e, "slope": s}
        for i, (x, y, p, e, s) in enumerate(
            zip(
                batch.X.tolist(),
                batch.y.tolist(),
                batch.preds.tolist(),
                batch.error.tolist(),
                batch.slopes.tolist(),
                strict=True,
            )
        )
    ]


def summary(sums: Sums) -> dict[str, Any]:
    """The aggregate fields: ``n``, ``gradient`` and ``mse``."""
    return {"n": sums.n, "gradient": sums.gradient.tolist(), "mse": sums.mse}


class JsonWriter:
    """One JSON document: header fields, then ``rows`` streamed one per line, then the summary.

    ``n`` follows the rows because it is only known once they have all been read.
    """

    def __init__(self, out: ByteStream, with_rows: bool = True) -> None:
        self._out = out
        self._with_rows = with_rows
        self._first = True

    def begin(self, features: Sequence[str], weights: Vector) -> None:
        head = {"format_version": FORMAT_VERSION, "features": list(features), "weights": weights.tolist()}
        text = dumps(head)[:-1]
        self._out.write((text + (', "rows": [' if self._with_rows else "")).encode())

    def rows(self, batch: RowBatch) -> None:
        if not self._with_rows:
            return
        lines = []
        for record in row_records(batch):
            lines.append(("\n" if self._first else ",\n") + dumps(record))
            self._first = False
        self._out.write("".join(lines).encode())

    def end(self, sums: Sums) -> None:
        close = "\n]" if self._with_rows else ""
        self._out.write((close + ", " + dumps(summary(sums))[1:] + "\n").encode())


class JsonlWriter:
    """JSON Lines: one ``{"kind": "row", ...}`` line per row, then one ``{"kind": "summary", ...}``."""

    def __init__(self, out: ByteStream, with_rows: bool = True) -> None:
        self._out = out
        self._with_rows = with_rows
        self._head: dict[str, Any] = {}

    def begin(self, features: Sequence[str], weights: Vector) -> None:
        self._head = {"features": list(features), "weights": weights.tolist()}

    def rows(self, batch: RowBatch) -> None:
        if not self._with_rows:
            return
        lines = [dumps({"kind": "row", **r}) + "\n" for r in row_records(batch)]
        self._out.write("".join(lines).encode())

    def end(self, sums: Sums) -> None:
        record = {"kind": "summary", "format_version": FORMAT_VERSION, **self._head, **summary(sums)}
        self._out.write((dumps(record) + "\n").encode())


class CsvWriter:
    """Per-row CSV: ``preds``, ``error`` and ``slope_<feature>`` for each row, in input order.

    Values are written by Arrow's C++ writer in their shortest round-trip form (``14``, ``0.1``).
    """

    def __init__(self, out: ByteStream) -> None:
        self._out = out
        self._columns: list[str] = []

    def begin(self, features: Sequence[str], weights: Vector) -> None:
        self._columns = ["preds", "error", *(f"slope_{f}" for f in features)]
        self._out.write(csv_line(self._columns))

    def rows(self, batch: RowBatch) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        arrays = [from_numpy(a) for a in (batch.preds, batch.error, *batch.slopes.T)]
        table = pa.Table.from_arrays(arrays, names=self._columns)
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        pacsv.write_csv(table, self._out, write_options=options)

    def end(self, sums: Sums) -> None:
        pass
