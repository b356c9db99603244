"""The vectorised JSON encoder (slopecli.render.encode) writes the bytes of the per-record
``json.dumps`` it replaced: the old encoder is the oracle, hypothesis the generator."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slopecli.core import Sums
from slopecli.evaluation import RowBatch
from slopecli.render.encode import float_texts, records, row_fields
from slopecli.render.machine import RowsWriter, row_records, summary
from test_schema import schema_validator

finite = st.floats(allow_nan=False, allow_infinity=False)
# Every decade, the edges of Python's positional range (1e-4, 1e16) and of the mended ranges.
edges = st.sampled_from(
    [0.0, -0.0, 1.0, 22.0, 1e-4, 1e-5, 1e-7, 1e-9, 1e9, 1e15, 1e16, 1e17, 5e-324, 1.7976931348623157e308]
)
scaled = st.builds(lambda m, e: m * 10.0**e, st.floats(-10, 10), st.integers(-320, 300)).filter(np.isfinite)
numbers = st.one_of(finite, edges, scaled, st.integers(-(2**60), 2**60).map(float))


def old_json(values: list[float]) -> list[str]:
    return [json.dumps(v, allow_nan=False) for v in values]


@settings(max_examples=150, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=200))
def test_floats_are_spelled_as_repr(values: list[float]) -> None:
    assert float_texts(np.array(values)).to_pylist() == [repr(v) for v in values]


def test_every_decade_is_spelled_as_repr() -> None:
    rng = np.random.default_rng(400)
    with np.errstate(over="ignore"):
        values = rng.uniform(1, 10, (633, 40)) * 10.0 ** np.arange(-324, 309)[:, None]
    values = values[np.isfinite(values)]
    values = np.concatenate([values, -values, np.trunc(values), np.nextafter(values, 0)])
    assert float_texts(values).to_pylist() == [repr(v) for v in values.tolist()]


def batches() -> st.SearchStrategy[RowBatch]:
    shape = st.tuples(st.integers(1, 30), st.integers(0, 5))

    def build(dims: tuple[int, int], data: st.DataObject) -> RowBatch:
        n, d = dims
        order = data.draw(st.sampled_from(["C", "F"]))
        X = np.asarray(data.draw(hnp.arrays(np.float64, (n, d), elements=numbers)), order=order)
        column = hnp.arrays(np.float64, n, elements=numbers)
        y, preds, err = data.draw(column), data.draw(column), data.draw(column)
        slopes = data.draw(hnp.arrays(np.float64, (n, d), elements=numbers))
        return RowBatch(data.draw(st.integers(0, 10**9)), X, y, preds, err, slopes)

    return st.builds(build, shape, st.data())


@settings(max_examples=60, deadline=None)
@given(batches())
def test_row_records_are_the_bytes_of_json_dumps(batch: RowBatch) -> None:
    n = len(batch.y)
    jsonl = records([("kind", "row"), *row_fields(batch)], n, batch.first_row, "", "\n")
    old = "".join(
        json.dumps({"kind": "row", **r}, allow_nan=False, ensure_ascii=False) + "\n"
        for r in row_records(batch)
    )
    assert jsonl == old.encode()
    in_array = records(row_fields(batch), n, batch.first_row, ",\n", "")
    assert in_array == "".join(",\n" + json.dumps(r, allow_nan=False) for r in row_records(batch)).encode()


def writer_output(fmt: str, chunks: list[RowBatch], threads: int) -> bytes:
    out = io.BytesIO()
    writer = RowsWriter(out, fmt, threads=threads)
    writer.begin(["a", "b"], np.array([0.5, -1.0]))
    for batch in chunks:
        writer.rows(batch)
    writer.end(Sums(3, np.array([1.0, 2.0]), 4.0))
    return out.getvalue()


def chunk(first_row: int, n: int) -> RowBatch:
    X = np.arange(2 * n, dtype=float).reshape(n, 2) / 3
    y = np.linspace(-1, 1, n)
    preds = X @ np.array([0.5, -1.0])
    return RowBatch(first_row, X, y, preds, preds - y, 2 * X * (preds - y)[:, None])


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("threads", [1, 3])
def test_the_writer_writes_what_the_old_document_wrote(fmt: str, threads: int) -> None:
    from slopecli.render.stream import Document

    # Small chunks go through json.dumps, large ones through the vectorised encoder: both here.
    chunks = [chunk(0, 4), chunk(4, 100), chunk(104, 0), chunk(104, 7), chunk(111, 300)] * 2
    old = io.BytesIO()
    document = Document(old, fmt, key="rows")
    document.begin({"features": ["a", "b"], "weights": [0.5, -1.0]})
    for batch in chunks:
        document.add(row_records(batch))
    document.end(summary(Sums(3, np.array([1.0, 2.0]), 4.0)))
    assert writer_output(fmt, chunks, threads) == old.getvalue()


def test_jsonl_lines_follow_the_schema() -> None:
    validator = schema_validator("compute-jsonl.schema.json")
    for line in writer_output("jsonl", [chunk(0, 5), chunk(5, 300)], 2).decode().splitlines():
        record: Any = json.loads(line)
        validator.validate(record)


def test_nan_in_json_output_is_a_bug_that_raises() -> None:
    with pytest.raises(ValueError, match="NaN or infinity"):
        float_texts(np.array([1.0, np.nan]))


def test_a_failing_part_raises_in_input_order_and_the_workers_stop() -> None:
    from slopecli.render.stream import Ordered

    written: list[bytes] = []
    parts = Ordered(written.append, threads=2)
    parts.put(lambda: b"a")

    def fail() -> bytes:
        raise RuntimeError("encoding failed")

    parts.put(fail)
    with pytest.raises(RuntimeError, match="encoding failed"):
        for _ in range(8):
            parts.put(lambda: b"c")
        parts.close()
    assert written[:1] == [b"a"]


def test_no_rows_encode_to_nothing() -> None:
    empty = np.empty((0, 2))
    assert records([("input", empty), ("target", np.empty(0)), ("row", None)], 0, 0, "", "\n") == b""
