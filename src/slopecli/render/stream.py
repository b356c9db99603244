"""The one way slopecli writes machine output: a JSON document, JSON Lines or CSV, streamed.

Every command's output has the same shape: fields known at the start (the head), records
computed one after another (rows, steps, files, checks), and fields known only at the end (the
tail). :class:`Document` writes that shape in each format as the parts arrive, so a million
records never sit in memory, and a reader following JSON Lines sees each record when it is made:

- ``json``: ``{head…, "KEY": [`` one record per line ``], tail…}``; without a key, ``{head…, tail…}``;
- ``jsonl``: ``{"kind": KIND, record…}`` per record, then ``{"kind": "summary", head…, tail…}``;
- ``csv``: a header line, then one line per record.

JSON never holds NaN or Infinity (``allow_nan=False``): the evaluator rejects them first, so one
here is a bug and raises.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from slopecli import waits

FORMAT_VERSION = 1


Encoded = bytes | bytearray
"""Output ready to write: as an encoder returns it (bytes, or a buffer it wrote in place)."""


class ByteStream(Protocol):
    """Where machine output goes: stdout's buffer, a file, or a held-back buffer."""

    def write(self, data: Encoded, /) -> int: ...
    def flush(self) -> None: ...


def dumps(value: Any) -> str:
    """Compact JSON text; NaN or Infinity would be a bug upstream, so they raise."""
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def csv_cell(value: object) -> object:
    """Numbers in their shortest round-trip form, integral ones without ``.0`` (``7``, ``0.1``),
    booleans as ``true``/``false``, None as an empty field.

    A finite float is spelled as per-row CSV spells it (:mod:`slopecli.render.csv_rows`, by
    orjson): ``0.00001`` and ``2.5e-6`` where ``repr`` writes ``1e-05`` and ``2.5e-06``, so that
    a value reads the same in every CSV slopecli writes.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value):
            import orjson

            text = orjson.dumps(float(value)).decode()  # float(): numpy's float64 too
        else:
            text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return "" if value is None else value


def csv_line(values: Sequence[object]) -> bytes:
    """One CSV record; floats in their shortest round-trip form."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow([csv_cell(v) for v in values])
    return encode(text.getvalue())


Record = dict[str, Any]


class Document:
    """One machine-readable output, written head first, records as they come, tail last.

    Args:
        out: where the bytes go.
        fmt: ``json``, ``jsonl`` or ``csv``.
        key: the JSON field that holds the records; None when there are none (a summary).
        kind: the ``kind`` of a record's JSON Lines line.
        columns: the CSV header.
        flatten: a record as a CSV line's values; default: its values in ``columns`` order.
    """

    def __init__(
        self,
        out: ByteStream,
        fmt: str,
        *,
        key: str | None = None,
        kind: str = "row",
        columns: Sequence[str] = (),
        flatten: Callable[[Record], Sequence[object]] | None = None,
    ) -> None:
        self._out = out
        self._fmt = fmt
        self._key = key
        self._kind = kind
        self._columns = list(columns)
        self._flatten = flatten or (lambda record: [record[c] for c in self._columns])
        self._head: Record = {}
        self._first = True

    def begin(self, head: Record) -> None:
        """The fields known before any record (``format_version`` is added first)."""
        self._head = {"format_version": FORMAT_VERSION, **head}
        if self._fmt == "json" and self._key is not None:
            # The head's closing brace gives way to the records' array.
            self._write(dumps(self._head)[:-1] + f", {dumps(self._key)}: [")
        elif self._fmt == "csv":
            self._out.write(csv_line(self._columns))

    def add(self, records: Iterable[Record]) -> None:
        """More records, written at once (and flushed, for JSON Lines)."""
        if self._fmt == "json":
            parts = []
            for record in records:
                parts.append(("\n" if self._first else ",\n") + dumps(record))
                self._first = False
            self._write("".join(parts))
        elif self._fmt == "jsonl":
            self._write("".join(dumps({"kind": self._kind, **r}) + "\n" for r in records))
            flush = getattr(self._out, "flush", None)
            if flush is not None:
                flush()
        else:
            self._out.write(b"".join(csv_line(self._flatten(r)) for r in records))

    def add_encoded(self, data: Encoded) -> None:
        """Records already encoded for this format: for ``json``, each led by ``",\n"``
        (:func:`record_prefix`); for ``jsonl``, lines. An empty ``data`` holds no record."""
        if not data:
            return
        if self._fmt == "json" and self._first:
            data = b"\n" + data[2:]  # the array's first record follows no comma
        self._first = False
        self._out.write(data)
        if self._fmt == "jsonl":
            flush = getattr(self._out, "flush", None)
            if flush is not None:
                flush()

    def add_columns(self, columns: Sequence[Any]) -> None:
        """CSV records given as numpy float64 columns, one per header name
        (:func:`slopecli.render.csv_rows.csv_rows`)."""
        import numpy as np

        from slopecli.render.csv_rows import csv_rows

        self.add_encoded(csv_rows(np.column_stack(columns)))

    def record_prefix(self) -> tuple[str, str, str | None]:
        """How :meth:`add_encoded` wants each record: the text before and after it, and the
        ``kind`` field that leads a JSON Lines record."""
        if self._fmt == "json":
            return ",\n", "", None
        return "", "\n", self._kind

    def end(self, tail: Record) -> None:
        """The fields known at the end; the document is complete after this."""
        if self._fmt == "json":
            if self._key is None:
                self._write(dumps({**self._head, **tail}) + "\n")
            else:
                rest = dumps(tail)[1:] if tail else "}"
                self._write("\n]" + (", " if tail else "") + rest + "\n")
        elif self._fmt == "jsonl":
            self._write(dumps({"kind": "summary", **self._head, **tail}) + "\n")

    def _write(self, text: str) -> None:
        self._out.write(encode(text))


class Ordered:
    """Parts encoded on worker threads, written in the order they were given.

    With one thread (or none to spare), each part is encoded and written at once. With more, up
    to ``2 × threads`` parts are in flight; the oldest is written as soon as it is done, so memory
    stays bounded and the output is in input order.
    """

    def __init__(self, write: Callable[[Encoded], object], threads: int = 1) -> None:
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        self._write = write
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="encode") if threads > 1 else None
        self._window = 2 * threads
        self._pending: deque[Future[Encoded]] = deque()

    def put(self, encode: Callable[[], Encoded]) -> None:
        """Encode one part (here, or on a worker) and write it after those put before."""
        if self._pool is None:
            self._write(encode())
            return
        self._pending.append(self._pool.submit(encode))
        while len(self._pending) > self._window or (self._pending and self._pending[0].done()):
            self._write(waits.result(self._pending.popleft()))

    def close(self) -> None:
        """Write what is still in flight, and let the workers go."""
        try:
            while self._pending:
                self._write(waits.result(self._pending.popleft()))
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)


def encode(text: str) -> bytes:
    """UTF-8, with a file name's undecodable bytes (Python's surrogate escapes) written as JSON
    escapes (``\\udcff``), which decode back to the same name rather than failing the run."""
    return text.encode("utf-8", "backslashreplace")
