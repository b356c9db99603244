"""Machine output of every command: its records, written through the one streaming :class:`Document`.

``compute`` writes a record per row, ``step`` a record per row before and after, ``descend`` a
record per step, ``check`` a record per weight and ``batch`` a record per file; each ends with the
fields only known at the end. Never via Rich.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from slopecli.core import Sums, Vector
from slopecli.render.stream import ByteStream, Document, Encoded, Ordered, Record, csv_line, dumps, encode

if TYPE_CHECKING:
    from slopecli.batch import FileResult
    from slopecli.descent import Descent, StepResult, WeightCheck
    from slopecli.descent import Record as StepRecord
    from slopecli.evaluation import RowBatch


class Sink(Protocol):
    """Where ``compute`` sends its results: a machine format or a table."""

    def begin(self, features: Sequence[str], weights: Vector) -> None: ...
    def rows(self, batch: RowBatch) -> None: ...
    def end(self, sums: Sums) -> None: ...


class BatchSink(Protocol):
    """Where ``batch`` sends each file's result: a machine format or a table."""

    def begin(self, weights: Vector) -> None: ...
    def file(self, result: FileResult) -> None: ...
    def end(self, counts: tuple[int, int], combined: Sums | None, features: Sequence[str] | None) -> None: ...


def row_records(batch: RowBatch) -> list[Record]:
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


def summary(sums: Sums) -> Record:
    """The aggregate fields: ``n``, ``gradient`` and ``mse``."""
    return {"n": sums.n, "gradient": sums.gradient.tolist(), "mse": sums.mse}


class RowsWriter:
    """``compute`` as JSON (``rows``, then the summary) or JSON Lines (row lines, then a summary line).

    A chunk's records are encoded at once (:mod:`slopecli.render.encode`, the bytes ``json.dumps``
    writes), on ``threads`` worker threads when there are several, and written in input order.
    """

    def __init__(self, out: ByteStream, fmt: str, with_rows: bool = True, threads: int = 1) -> None:
        self._document = Document(out, fmt, key="rows" if with_rows else None)
        self._with_rows = with_rows
        self._parts = Ordered(self._document.add_encoded, threads if with_rows else 1)

    def begin(self, features: Sequence[str], weights: Vector) -> None:
        self._document.begin({"features": list(features), "weights": weights.tolist()})

    def rows(self, batch: RowBatch) -> None:
        if self._with_rows:
            self._parts.put(functools.partial(_encode_rows, batch, *self._document.record_prefix()))

    def end(self, sums: Sums) -> None:
        self._parts.close()
        self._document.end(summary(sums))


SMALL_BATCH = 64
"""Fewer rows than this are encoded by ``json.dumps`` (the same bytes): a few rows typed as flags
need no pyarrow, whose import would cost start-up more than it saves."""


def _encode_rows(batch: RowBatch, prefix: str, end: str, kind: str | None) -> bytes:
    lead = [] if kind is None else [("kind", kind)]
    if len(batch.y) < SMALL_BATCH:
        return b"".join(encode(prefix + dumps({**dict(lead), **r}) + end) for r in row_records(batch))
    from slopecli.render.encode import records, row_fields

    return records([*lead, *row_fields(batch)], len(batch.y), batch.first_row, prefix, end)


class CsvWriter:
    """Per-row CSV: ``preds``, ``error`` and ``slope_<feature>`` for each row, in input order.

    Values are written in their shortest round-trip form (``14``, ``0.1``; :mod:`slopecli.render.csv_rows`),
    a chunk at a time, on ``threads`` worker threads when there are several. Lines need no row
    number, so a reader on another thread may encode its chunks itself (:meth:`encode`) and
    hand over the bytes (:meth:`write`).
    """

    def __init__(self, out: ByteStream, threads: int = 1) -> None:
        self._out = out
        self._names: list[str] = []
        self._parts = Ordered(out.write, threads)

    def begin(self, features: Sequence[str], weights: Vector) -> None:
        self._names = ["preds", "error", *(f"slope_{f}" for f in features)]
        Document(self._out, "csv", columns=self._names).begin({})

    def rows(self, batch: RowBatch) -> None:
        self._parts.put(functools.partial(self.encode, batch))

    @staticmethod
    def encode(batch: RowBatch) -> Encoded:
        """The CSV lines of ``batch``, on any thread."""
        from slopecli.render.csv_rows import csv_rows

        return csv_rows(np.column_stack((batch.preds, batch.error, batch.slopes)))

    def write(self, data: Encoded) -> None:
        """Lines encoded elsewhere, after those of :meth:`rows` (none may be in flight)."""
        self._out.write(data)

    def flush(self) -> None:
        self._out.flush()

    def room(self) -> int | None:
        """Bytes the output still holds back before it streams (:class:`slopecli.cli.output.HeldOutput`);
        None when it streams."""
        room = getattr(self._out, "room", None)
        return room if isinstance(room, int) else None

    def release(self) -> None:
        """Whatever is held written out and flushed: the output streams from now on."""
        release = getattr(self._out, "release", None)
        if release is not None:
            release()
        self._out.flush()

    def descriptor(self) -> int | None:
        """The output's file descriptor, if it has one: worker processes may then write to it."""
        fileno = getattr(self._out, "fileno", None)
        try:
            return None if fileno is None else int(fileno())
        except (OSError, ValueError):  # a test's buffer (io.UnsupportedOperation), a closed file
            return None

    def end(self, sums: Sums) -> None:
        self._parts.close()


STEP_COLUMNS = ("row", "preds_before", "error_before", "preds_after", "error_after")


def step_rows(old: RowBatch, new: RowBatch) -> list[Record]:
    """Per-row records of a step: each row's prediction and error before and after it."""
    return step_records(old.first_row, old.X, old.y, old.preds, old.error, new.preds, new.error)


def step_records(first_row: int, X: Any, y: Any, *before_and_after: Any) -> list[Record]:
    """Step records from columns: the inputs, the targets, then preds and error before and after
    (numpy arrays; a network's have one column per output)."""
    names = ("preds_before", "error_before", "preds_after", "error_after")
    columns = [X.tolist(), y.tolist(), *(c.tolist() for c in before_and_after)]
    return [
        {
            "row": first_row + i + 1,
            "input": values[0],
            "target": values[1],
            **dict(zip(names, values[2:], strict=True)),
        }
        for i, values in enumerate(zip(*columns, strict=True))
    ]


def step_summary(result: StepResult) -> Record:
    return {
        "n": result.before.n,
        "gradient": result.gradient.tolist(),
        "weights_updated": result.updated.tolist(),
        "mse_before": result.before.mse,
        "mse_after": result.after.mse,
        "improved": result.improved,
        # What the table's caption says of a step that made things worse: a rate to try instead.
        **({"advice": result.advice} if result.advice is not None else {}),
    }


STEP_WEIGHT_COLUMNS = ("feature", "weights", "gradient", "weights_updated")


class StepWriter:
    """``json``: one document; ``jsonl``: row lines then a summary; ``csv``: per-row before/after,
    then a blank line and the step itself, one line per feature (``STEP_WEIGHT_COLUMNS``): the
    weights before, the gradient and ``weights_updated``."""

    def __init__(self, out: ByteStream, fmt: str, with_rows: bool = True) -> None:
        key = "rows" if with_rows else None
        self._out = out
        self._csv = fmt == "csv"
        self._document = Document(out, fmt, key=key, columns=STEP_COLUMNS)
        self._with_rows = with_rows
        self._features: list[str] = []

    def begin(self, features: Sequence[str], weights: Sequence[float], learning_rate: float) -> None:
        self._features = list(features)
        head = {"features": self._features, "weights": list(weights), "learning_rate": learning_rate}
        self._document.begin(head)

    def rows(self, old: RowBatch, new: RowBatch) -> None:
        if self._with_rows:
            self._document.add(step_rows(old, new))

    def end(self, result: StepResult) -> None:
        if not self._csv:
            self._document.end(step_summary(result))
            return
        lines = [b"\n", csv_line(STEP_WEIGHT_COLUMNS)]
        weights, gradient, new = result.weights.tolist(), result.gradient.tolist(), result.updated.tolist()
        lines += [csv_line(v) for v in zip(self._features, weights, gradient, new, strict=True)]
        self._out.write(b"".join(lines))


def step_record(entry: StepRecord) -> Record:
    return {
        "step": entry.step,
        "mse": entry.mse,
        "gradient_norm": entry.gradient_norm,
        "weights": entry.weights.tolist(),
    }


class DescentWriter:
    """``json``: the history and final weights; ``jsonl``: one line per step as it is taken, then a
    summary; ``csv``: ``step,mse,gradient_norm,w_<feature>…``."""

    def __init__(self, out: ByteStream, fmt: str) -> None:
        self._out = out
        self._fmt = fmt
        self._document: Document | None = None

    def begin(
        self,
        features: Sequence[str],
        weights: Sequence[float],
        learning_rate: float,
        steps: int,
        tol: float | None,
    ) -> None:
        self._document = Document(
            self._out,
            self._fmt,
            key="history",
            kind="step",
            columns=["step", "mse", "gradient_norm", *(f"w_{f}" for f in features)],
            flatten=lambda r: [r["step"], r["mse"], r["gradient_norm"], *r["weights"]],
        )
        head = {
            "features": list(features),
            "weights": list(weights),
            "learning_rate": learning_rate,
            "max_steps": steps,
            "tol": tol,
        }
        self._document.begin(head)

    def step(self, entry: StepRecord) -> None:
        assert self._document is not None, "begin() comes first"
        self._document.add([step_record(entry)])

    def end(self, run: Descent) -> None:
        assert self._document is not None, "begin() comes first"
        final = run.final
        self._document.end(
            {
                "steps": final.step,
                "stopped": run.stopped,
                "weights_final": final.weights.tolist(),
                "mse": final.mse,
                "gradient_norm": final.gradient_norm,
            }
        )


CHECK_FIELDS = ("analytic", "numeric", "h", "abs_error", "rel_error", "tolerance", "ok")


def write_check(
    out: ByteStream,
    fmt: str,
    names: Sequence[str],
    checks: Sequence[WeightCheck],
    rtol: float,
    label: str = "feature",
) -> None:
    """The whole comparison, one record per weight, named under ``label`` (a network's records
    name each ``parameter``): it is small and computed before any output."""
    document = Document(out, fmt, key="checks", kind="check", columns=(label, *CHECK_FIELDS))
    document.begin({"rtol": rtol, "ok": all(c.ok for c in checks)})
    document.add(
        {
            label: name,
            "analytic": c.analytic,
            "numeric": c.numeric,
            "h": c.h,
            "abs_error": c.abs_error,
            "rel_error": c.rel_error,
            "tolerance": c.tolerance,
            "ok": c.ok,
        }
        for name, c in zip(names, checks, strict=True)
    )
    document.end({})


def file_record(result: FileResult) -> Record:
    """``{"file", "ok", "n", "features", "gradient", "mse"[, "out"]}``, or ``{"file", "ok", "error"}``.

    ``out`` is present when per-row results were written.
    """
    if result.sums is None:
        return {"file": str(result.path), "ok": False, "error": result.error}
    record: Record = {
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


def combined_record(combined: Sums | None, features: Sequence[str] | None) -> Record | None:
    if combined is None:
        return None
    return {
        "n": combined.n,
        "features": list(features or ()),
        "gradient": combined.gradient.tolist(),
        "mse": combined.mse,
    }


class BatchWriter:
    """One record per file as it finishes; the counts (and ``combined``) at the end.

    ``json``: ``{format_version, weights, files: […], succeeded, failed[, combined]}``;
    ``jsonl``: ``{"kind": "file", …}`` lines, then a summary line; ``csv``:
    ``file,ok,n,mse,gradient_<feature>…,error``, with ``--combine`` a last row ``(combined)``.
    """

    def __init__(self, out: ByteStream, fmt: str, combine: bool, features: Sequence[str]) -> None:
        self._fmt = fmt
        self._combine = combine
        blank = [None] * len(features)

        def flatten(r: Record) -> list[Any]:
            return [r["file"], r["ok"], r.get("n"), r.get("mse"), *r.get("gradient", blank), r.get("error")]

        columns = ["file", "ok", "n", "mse", *(f"gradient_{f}" for f in features), "error"]
        self._document = Document(out, fmt, key="files", kind="file", columns=columns, flatten=flatten)

    def begin(self, weights: Vector) -> None:
        self._document.begin({"weights": weights.tolist()})

    def file(self, result: FileResult) -> None:
        self._document.add([file_record(result)])

    def end(self, counts: tuple[int, int], combined: Sums | None, features: Sequence[str] | None) -> None:
        tail: Record = {"succeeded": counts[0], "failed": counts[1]}
        if self._combine:
            tail["combined"] = combined_record(combined, features)
            if self._fmt == "csv" and combined is not None:
                self._document.add([{"file": "(combined)", "ok": True, **summary(combined)}])
        self._document.end(tail)
