"""Machine output of ``batch``: one record per file, written as each file finishes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from slopecli.batch import FileResult
from slopecli.core import Sums, Vector
from slopecli.render.machine import FORMAT_VERSION, ByteStream, csv_line, dumps


class BatchSink(Protocol):
    def begin(self, weights: Vector) -> None: ...
    def file(self, result: FileResult) -> None: ...
    def end(self, counts: tuple[int, int], combined: Sums | None, features: Sequence[str] | None) -> None: ...


def file_record(result: FileResult) -> dict[str, Any]:
    """``{"file", "ok", "n", "features", "gradient", "mse"[, "out"]}``, or ``{"file", "ok", "error"}``.

    ``out`` is present when per-row results were written.
    """
    if result.sums is None:
        return {"file": str(result.path), "ok": False, "error": result.error}
    record: dict[str, Any] = {
        "file": str(result.path),
        "ok": True,
        "n": result.sums.n,
        "features": list(result.features),
        "gradient": result.sums.gradient.tolist(),
        "mse": result.sums.mse,
    }
    if result.out is not None:
        record["out"] = str(result.out)
    return record


def combined_record(combined: Sums | None, features: Sequence[str] | None) -> dict[str, Any] | None:
    if combined is None:
        return None
    return {
        "n": combined.n,
        "features": list(features or ()),
        "gradient": combined.gradient.tolist(),
        "mse": combined.mse,
    }


class BatchJsonWriter:
    """One document: ``format_version``, ``weights``, ``files`` (one record each), ``succeeded``,
    ``failed`` and, with ``--combine``, ``combined``."""

    def __init__(self, out: ByteStream, combine: bool) -> None:
        self._out = out
        self._combine = combine
        self._first = True

    def begin(self, weights: Vector) -> None:
        head = dumps({"format_version": FORMAT_VERSION, "weights": weights.tolist()})[:-1]
        self._out.write((head + ', "files": [').encode())

    def file(self, result: FileResult) -> None:
        self._out.write((("\n" if self._first else ",\n") + dumps(file_record(result))).encode())
        self._first = False

    def end(self, counts: tuple[int, int], combined: Sums | None, features: Sequence[str] | None) -> None:
        tail: dict[str, Any] = {"succeeded": counts[0], "failed": counts[1]}
        if self._combine:
            tail["combined"] = combined_record(combined, features)
        self._out.write(("\n], " + dumps(tail)[1:] + "\n").encode())


class BatchJsonlWriter:
    """``{"kind": "file", ...}`` per file as it finishes, then ``{"kind": "summary", ...}``."""

    def __init__(self, out: ByteStream, combine: bool) -> None:
        self._out = out
        self._combine = combine
        self._weights: list[float] = []

    def begin(self, weights: Vector) -> None:
        self._weights = weights.tolist()

    def file(self, result: FileResult) -> None:
        self._out.write((dumps({"kind": "file", **file_record(result)}) + "\n").encode())
        flush = getattr(self._out, "flush", None)
        if flush is not None:
            flush()

    def end(self, counts: tuple[int, int], combined: Sums | None, features: Sequence[str] | None) -> None:
        record: dict[str, Any] = {
            "kind": "summary",
            "format_version": FORMAT_VERSION,
            "weights": self._weights,
            "succeeded": counts[0],
            "failed": counts[1],
        }
        if self._combine:
            record["combined"] = combined_record(combined, features)
        self._out.write((dumps(record) + "\n").encode())


class BatchCsvWriter:
    """``file,ok,n,mse,gradient_<feature>…,error``; with ``--combine`` a last row named ``(combined)``."""

    def __init__(self, out: ByteStream, combine: bool, d: int) -> None:
        self._out = out
        self._combine = combine
        self._d = d
        self._waiting: list[FileResult] = []
        self._header: list[str] | None = None
        self._features: tuple[str, ...] = ()

    def begin(self, weights: Vector) -> None:
        pass

    def file(self, result: FileResult) -> None:
        # The header names the features, which only a readable file tells: failures before the
        # first success wait for it.
        if self._header is None and result.sums is None:
            self._waiting.append(result)
            return
        if self._header is None:
            self._write_header(result.features)
        self._row(result)

    def end(self, counts: tuple[int, int], combined: Sums | None, features: Sequence[str] | None) -> None:
        if self._header is None:
            self._write_header(tuple(f"{i}" for i in range(1, self._d + 1)))
        if self._combine and combined is not None:
            self._line(["(combined)", "true", combined.n, combined.mse, *combined.gradient.tolist(), ""])

    def _write_header(self, features: Sequence[str]) -> None:
        self._features = tuple(features)
        self._header = ["file", "ok", "n", "mse", *(f"gradient_{f}" for f in features), "error"]
        self._line(self._header)
        for waiting in self._waiting:
            self._row(waiting)
        self._waiting.clear()

    def _row(self, result: FileResult) -> None:
        if result.sums is None:
            self._line([str(result.path), "false", "", "", *[""] * self._d, result.error])
        else:  # every file was read with its features in the weights' order
            s = result.sums
            self._line([str(result.path), "true", s.n, s.mse, *s.gradient.tolist(), ""])

    def _line(self, values: Sequence[object]) -> None:
        self._out.write(csv_line(values))
