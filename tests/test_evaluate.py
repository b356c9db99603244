"""evaluate(): chunks folded into Sums, per-row results, and the checks at its edges."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from slopecli.core import Sums, error, gradient, mse, predict, slope
from slopecli.errors import InputError, NumericError
from slopecli.evaluation import RowBatch, evaluate
from slopecli.readers.chunk import Chunk
from slopecli.readers.delimited import CsvTable
from slopecli.readers.layout import ReadOptions as CsvOptions

Data = tuple[np.ndarray, np.ndarray, np.ndarray]  # X (n×d), y (n), w (d)
SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def split(X: np.ndarray, y: np.ndarray, sizes: list[int]) -> list[Chunk]:
    """Consecutive chunks of the given sizes, each knowing its first row."""
    assert sum(sizes) == len(y)
    starts = np.cumsum([0, *sizes[:-1]])
    return [Chunk(X[s : s + k], y[s : s + k], int(s)) for s, k in zip(starts, sizes, strict=True)]


def collect(chunks: list[Chunk], weights: np.ndarray) -> tuple[Sums, list[RowBatch]]:
    batches: list[RowBatch] = []
    return evaluate(chunks, weights, batches.append), batches


@pytest.fixture
def data() -> Data:
    rng = np.random.default_rng(7)
    return rng.normal(size=(23, 3)), rng.normal(size=23), rng.normal(size=3)


# ---------------------------------------------------------------------------------------------
# Results


def test_course_example() -> None:
    chunk = Chunk(np.array([[1.0, 2.0, 3.0]]), np.array([0.0]), 0)
    sums, (batch,) = collect([chunk], np.array([0.0, 2.0, 1.0]))
    assert (sums.n, sums.gradient.tolist(), sums.mse) == (1, [14.0, 28.0, 42.0], 49.0)
    assert batch.first_row == 0
    assert (batch.preds.tolist(), batch.error.tolist()) == ([7.0], [7.0])
    assert batch.slopes.tolist() == [[14.0, 28.0, 42.0]]


def test_course_sample_file() -> None:
    with (SAMPLES / "course.csv").open("rb") as fp:
        table = CsvTable(fp, "course.csv", CsvOptions())
        sums = evaluate(table.chunks(), np.array([0.0, 2.0, 1.0]), source=table.name)
    assert (sums.n, sums.gradient.tolist(), sums.mse) == (1, [14.0, 28.0, 42.0], 49.0)


def test_per_row_results_equal_the_core(data: Data) -> None:
    X, y, w = data
    chunks = split(X, y, [5, 1, 10, 7])
    _, batches = collect(chunks, w)
    assert [b.first_row for b in batches] == [0, 5, 6, 16]
    for chunk, batch in zip(chunks, batches, strict=True):
        # The same numpy operations on the same arrays: equal, not merely close.
        preds = predict(chunk.X, w)
        err = error(preds, chunk.y)
        assert batch.X is chunk.X
        assert batch.y is chunk.y
        assert batch.preds.tolist() == preds.tolist()
        assert batch.error.tolist() == err.tolist()
        assert batch.slopes.tolist() == slope(chunk.X, err).tolist()


def test_sums_equal_the_core_folded_over_the_same_chunks(data: Data) -> None:
    X, y, w = data
    chunks = split(X, y, [5, 1, 10, 7])
    expected = Sums.zero(3)
    for chunk in chunks:
        expected = expected + Sums.of(chunk.X, chunk.y, w)
    for on_rows in (None, lambda batch: None):
        sums = evaluate(chunks, w, on_rows)
        assert sums.n == 23
        assert sums.xte.tolist() == expected.xte.tolist()
        assert sums.sse == expected.sse


def test_chunking_does_not_change_the_gradient_beyond_rounding(data: Data) -> None:
    X, y, w = data
    whole = evaluate([Chunk(X, y, 0)], w)
    pieces = evaluate(split(X, y, [1] * 23), w)
    np.testing.assert_allclose(pieces.gradient, gradient(X, y, w), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(whole.gradient, gradient(X, y, w), rtol=1e-12, atol=1e-14)
    assert pieces.mse == pytest.approx(mse(error(predict(X, w), y)), rel=1e-12)


def test_slopes_per_row_average_to_the_gradient(data: Data) -> None:
    X, y, w = data
    sums, batches = collect(split(X, y, [10, 13]), w)
    slopes = np.vstack([b.slopes for b in batches])
    np.testing.assert_allclose(slopes.mean(axis=0), sums.gradient, rtol=1e-12, atol=1e-14)


def test_without_on_rows_nothing_is_called_and_the_sums_are_returned() -> None:
    chunk = Chunk(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, 1.0]), 0)
    sums = evaluate([chunk], np.array([3.0, -1.0]))  # errors 2 and -2
    assert (sums.n, sums.xte.tolist(), sums.sse) == (2, [2.0, -2.0], 8.0)


def test_no_chunks_give_empty_sums() -> None:
    calls: list[RowBatch] = []
    sums = evaluate([], np.array([1.0, 2.0]), calls.append)
    assert (sums.n, sums.xte.tolist(), sums.sse, calls) == (0, [0.0, 0.0], 0.0, [])


def test_chunks_are_consumed_lazily_in_order() -> None:
    events: list[str] = []

    def stream() -> Iterator[Chunk]:
        for start in (0, 2, 4):
            events.append(f"read {start}")
            yield Chunk(np.ones((2, 1)), np.zeros(2), start)

    def on_rows(batch: RowBatch) -> None:
        events.append(f"rows {batch.first_row}")

    sums = evaluate(stream(), np.array([1.0]), on_rows)
    # Each chunk is evaluated before the next is read: constant memory for any stream.
    assert events == ["read 0", "rows 0", "read 2", "rows 2", "read 4", "rows 4"]
    assert (sums.n, sums.mse) == (6, 1.0)


# ---------------------------------------------------------------------------------------------
# Errors


def test_more_weights_than_features_is_an_input_error() -> None:
    chunk = Chunk(np.ones((2, 2)), np.zeros(2), 0)
    with pytest.raises(InputError) as caught:
        evaluate([chunk], np.array([1.0, 2.0, 3.0]), source="data.csv")
    assert str(caught.value) == "data.csv: 3 weights but 2 features (one weight per feature)"


def test_fewer_weights_than_features_is_an_input_error() -> None:
    chunk = Chunk(np.ones((2, 3)), np.zeros(2), 0)
    with pytest.raises(InputError) as caught:
        evaluate([chunk], np.array([1.0]))
    assert str(caught.value) == "input: 1 weight but 3 features (one weight per feature)"


def overflow(chunks: list[Chunk], weights: list[float], with_rows: bool = True) -> tuple[str, list[int]]:
    """The NumericError's message, and the first rows of the chunks delivered before it."""
    delivered: list[int] = []
    with pytest.raises(NumericError) as caught:
        evaluate(
            chunks,
            np.array(weights),
            (lambda b: delivered.append(b.first_row)) if with_rows else None,
            "f.csv",
        )
    return str(caught.value), delivered


def test_overflowing_prediction_names_the_data_row() -> None:
    fine = Chunk(np.ones((3, 2)), np.zeros(3), 0)
    bad = Chunk(np.array([[1.0, 1.0], [1.0, 1.0], [1e300, 1e300]]), np.zeros(3), 3)
    message, delivered = overflow([fine, bad], [1e10, 1e10])
    # Row index 2 of the chunk starting at row 3 is the 6th data row.
    assert message == "f.csv: data row 6: the error overflows float64; the values are too large"
    assert delivered == [0]  # the bad chunk's rows are not handed on


def test_prediction_of_opposite_infinities_is_reported_as_overflow() -> None:
    # 1e300·1e10 − 1e300·1e10 = inf − inf = NaN: also an overflow, not a silent NaN.
    chunk = Chunk(np.array([[1e300, 1e300]]), np.zeros(1), 0)
    message, _ = overflow([chunk], [1e10, -1e10])
    assert message == "f.csv: data row 1: the error overflows float64; the values are too large"


def test_overflowing_error_against_the_target_names_the_data_row() -> None:
    chunk = Chunk(np.array([[1.0], [1.0]]), np.array([0.0, -1.7e308]), 0)
    message, _ = overflow([chunk], [1.7e308])  # 1.7e308 − (−1.7e308) = inf
    assert message == "f.csv: data row 2: the error overflows float64; the values are too large"


def test_overflowing_slope_names_the_data_row() -> None:
    # The error (1e300) is finite, but 2·x·error = 2e300·1e10 is not.
    chunk = Chunk(np.array([[1.0], [1e10]]), np.array([0.0, 0.0]), 40)
    message, _ = overflow([chunk], [1e290])
    assert message == "f.csv: data row 42: the slope overflows float64; the values are too large"


@pytest.mark.parametrize("with_rows", [True, False])
def test_an_overflowing_slope_is_named_by_its_row_with_or_without_per_row_results(with_rows) -> None:
    # Row 2's error is 1e300 and its slope 2·1e10·1e300: the summary names it as per-row output does.
    chunk = Chunk(np.array([[1.0], [1e10]]), np.array([0.0, 0.0]), 0)
    message, _ = overflow([chunk], [1e290], with_rows=with_rows)
    assert message == "f.csv: data row 2: the slope overflows float64; the values are too large"


@pytest.mark.parametrize("with_rows", [True, False])
def test_the_row_named_is_the_one_whose_slope_overflows_not_one_whose_2x_does(with_rows) -> None:
    # Row 1: x = 1e308, error 0 (2·x alone overflows, its slope 0 does not); row 2's slope does.
    chunk = Chunk(np.array([[1e308], [1e308]]), np.array([1e308, 9.99999999999999e307]), 0)
    message, _ = overflow([chunk], [1.0], with_rows=with_rows)
    assert message == "f.csv: data row 2: the slope overflows float64; the values are too large"


@pytest.mark.parametrize("with_rows", [True, False])
def test_an_overflowing_square_is_named_by_its_row(with_rows) -> None:
    # Every error (1e200) and slope (2e200) is finite; their squares are not.
    chunk = Chunk(np.ones((2, 1)), np.zeros(2), 0)
    message, delivered = overflow([chunk], [1e200], with_rows=with_rows)
    assert message == "f.csv: data row 1: the squared error overflows float64; the values are too large"
    assert delivered == ([0] if with_rows else [])


@pytest.mark.parametrize("with_rows", [True, False])
def test_sums_overflowing_only_when_merged_are_reported_with_no_row(with_rows) -> None:
    # Each row's error 9e153, slope 1.62e308 and square 8.1e307 are finite; three rows' sums are not.
    chunks = [Chunk(np.array([[9e153]]), np.zeros(1), i) for i in range(3)]
    message, _ = overflow(chunks, [1.0], with_rows=with_rows)
    assert message == "f.csv: the gradient or MSE overflows float64; the values are too large"


def test_large_but_finite_values_pass() -> None:
    chunk = Chunk(np.array([[1e150]]), np.zeros(1), 0)
    sums = evaluate([chunk], np.array([1e3]))  # error 1e153, slope 2e303, error² 1e306
    assert sums.gradient.tolist() == pytest.approx([2e303], rel=1e-15)
    assert sums.mse == pytest.approx(1e306, rel=1e-15)


def test_evaluate_reads_loader_chunks_end_to_end() -> None:
    data = b"a,b,target\n" + b"".join(b"%d,%d,%d\n" % (i, -i, i % 3) for i in range(300))
    table = CsvTable(io.BytesIO(data), "f.csv", CsvOptions(block_bytes=256))
    w = np.array([0.5, 0.25])
    sums, batches = collect(list(table.chunks()), w)
    assert len(batches) > 1
    X = np.array([[i, -i] for i in range(300)], dtype=float)
    y = np.array([i % 3 for i in range(300)], dtype=float)
    # Every value here is a multiple of 1/4 below 2**53, so the sums are exact whatever the chunking.
    assert sums.n == 300
    assert sums.xte.tolist() == (X.T @ error(predict(X, w), y)).tolist()
    assert sums.sse == float(error(predict(X, w), y) @ error(predict(X, w), y))
    assert np.vstack([b.slopes for b in batches]).tolist() == slope(X, error(predict(X, w), y)).tolist()


def test_a_feature_count_mismatch_is_found_with_per_row_results_too() -> None:
    chunk = Chunk(np.ones((2, 2)), np.zeros(2), 0)
    with pytest.raises(InputError, match=r"^f\.csv: 1 weight but 2 features"):
        evaluate([chunk], np.array([1.0]), lambda batch: None, "f.csv")
