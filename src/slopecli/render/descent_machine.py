"""Machine output of ``step``, ``descend`` and ``check``: JSON, JSON Lines and CSV, never via Rich.

``step`` streams its rows and ``descend`` its steps as they are computed; each document ends with
the fields only known at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slopecli.descent import Descent, Record, StepResult, WeightCheck
from slopecli.evaluation import RowBatch
from slopecli.render.machine import FORMAT_VERSION, ByteStream, csv_line, dumps


def step_rows(old: RowBatch, new: RowBatch) -> list[dict[str, Any]]:
    """Per-row records of a step: each row's prediction and error before and after it."""
    return [
        {
            "row": old.first_row + i + 1,
            "input": x,
            "target": y,
            "preds_before": p0,
            "error_before": e0,
            "preds_after": p1,
            "error_after": e1,
        }
        for i, (x, y, p0, e0, p1, e1) in enumerate(
            zip(
                old.X.tolist(),
                old.y.tolist(),
                old.preds.tolist(),
                old.error.tolist(),
                new.preds.tolist(),
                new.error.tolist(),
                strict=True,
            )
        )
    ]


def step_summary(result: StepResult) -> dict[str, Any]:
    return {
        "n": result.before.n,
        "gradient": result.gradient.tolist(),
        "weights_updated": result.updated.tolist(),
        "mse_before": result.before.mse,
        "mse_after": result.after.mse,
        "improved": result.improved,
    }


class StepWriter:
    """``json``: one document; ``jsonl``: row lines then a summary line; ``csv``: per-row before/after."""

    def __init__(self, out: ByteStream, fmt: str, with_rows: bool = True) -> None:
        self._out = out
        self._fmt = fmt
        self._with_rows = with_rows
        self._first = True
        self._head: dict[str, Any] = {}

    def begin(self, features: Sequence[str], weights: Sequence[float], learning_rate: float) -> None:
        self._head = {
            "format_version": FORMAT_VERSION,
            "features": list(features),
            "weights": list(weights),
            "learning_rate": learning_rate,
        }
        if self._fmt == "json":
            rows = ', "rows": [' if self._with_rows else ""
            self._out.write((dumps(self._head)[:-1] + rows).encode())
        elif self._fmt == "csv":
            self._out.write(csv_line(["row", "preds_before", "error_before", "preds_after", "error_after"]))

    def rows(self, old: RowBatch, new: RowBatch) -> None:
        if not self._with_rows:
            return
        records = step_rows(old, new)
        if self._fmt == "json":
            text = "".join(
                ("\n" if self._first and i == 0 else ",\n") + dumps(r) for i, r in enumerate(records)
            )
            self._first = False
            self._out.write(text.encode())
        elif self._fmt == "jsonl":
            self._out.write("".join(dumps({"kind": "row", **r}) + "\n" for r in records).encode())
        else:
            keys = ("row", "preds_before", "error_before", "preds_after", "error_after")
            self._out.write(b"".join(csv_line([r[k] for k in keys]) for r in records))

    def end(self, result: StepResult) -> None:
        summary = step_summary(result)
        if self._fmt == "json":
            close = "\n]" if self._with_rows else ""
            self._out.write((close + ", " + dumps(summary)[1:] + "\n").encode())
        elif self._fmt == "jsonl":
            self._out.write((dumps({"kind": "summary", **self._head, **summary}) + "\n").encode())


def record(entry: Record) -> dict[str, Any]:
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
        self._first = True
        self._head: dict[str, Any] = {}

    def begin(
        self,
        features: Sequence[str],
        weights: Sequence[float],
        learning_rate: float,
        steps: int,
        tol: float | None,
    ) -> None:
        self._head = {
            "format_version": FORMAT_VERSION,
            "features": list(features),
            "weights": list(weights),
            "learning_rate": learning_rate,
            "max_steps": steps,
            "tol": tol,
        }
        if self._fmt == "json":
            self._out.write((dumps(self._head)[:-1] + ', "history": [').encode())
        elif self._fmt == "csv":
            self._out.write(csv_line(["step", "mse", "gradient_norm", *(f"w_{f}" for f in features)]))

    def step(self, entry: Record) -> None:
        if self._fmt == "json":
            self._out.write((("\n" if self._first else ",\n") + dumps(record(entry))).encode())
            self._first = False
        elif self._fmt == "jsonl":
            self._out.write((dumps({"kind": "step", **record(entry)}) + "\n").encode())
            flush = getattr(self._out, "flush", None)
            if flush is not None:
                flush()
        else:
            self._out.write(csv_line([entry.step, entry.mse, entry.gradient_norm, *entry.weights.tolist()]))

    def end(self, run: Descent) -> None:
        final = run.final
        summary = {
            "steps": final.step,
            "stopped": run.stopped,
            "weights_final": final.weights.tolist(),
            "mse": final.mse,
            "gradient_norm": final.gradient_norm,
        }
        if self._fmt == "json":
            self._out.write(("\n], " + dumps(summary)[1:] + "\n").encode())
        elif self._fmt == "jsonl":
            self._out.write((dumps({"kind": "summary", **self._head, **summary}) + "\n").encode())


def check_records(features: Sequence[str], checks: Sequence[WeightCheck]) -> list[dict[str, Any]]:
    return [
        {
            "feature": name,
            "analytic": c.analytic,
            "numeric": c.numeric,
            "h": c.h,
            "abs_error": c.abs_error,
            "rel_error": c.rel_error,
            "tolerance": c.tolerance,
            "ok": c.ok,
        }
        for name, c in zip(features, checks, strict=True)
    ]


def write_check(
    out: ByteStream, fmt: str, features: Sequence[str], checks: Sequence[WeightCheck], rtol: float
) -> None:
    """The whole comparison: it is small (one record per weight)."""
    records = check_records(features, checks)
    ok = all(c.ok for c in checks)
    if fmt == "json":
        doc = {"format_version": FORMAT_VERSION, "rtol": rtol, "ok": ok, "checks": records}
        out.write((dumps(doc) + "\n").encode())
    elif fmt == "jsonl":
        lines = [dumps({"kind": "check", **r}) for r in records]
        lines.append(dumps({"kind": "summary", "format_version": FORMAT_VERSION, "rtol": rtol, "ok": ok}))
        out.write(("\n".join(lines) + "\n").encode())
    else:
        keys = list(records[0]) if records else ["feature"]
        out.write(csv_line(keys) + b"".join(csv_line([r[k] for k in keys]) for r in records))
