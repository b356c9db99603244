"""Parquet streamed in small batches whatever its row groups, with every value checked by column and row."""

from __future__ import annotations

import numpy as np
import pytest

from slopecli.errors import DataError, NumericError
from slopecli.readers.layout import ReadOptions
from slopecli.readers.parquet import ROWS_PER_BATCH, ParquetTable

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def write(path, row_group_size=None, **columns) -> str:
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
    return str(path)


def read(path: str, **options: object) -> tuple[np.ndarray, np.ndarray, list[int]]:
    with open(path, "rb") as fp:
        table = ParquetTable(fp, path, ReadOptions(**options))  # type: ignore[arg-type]
        chunks = list(table.chunks())
    return np.vstack([c.X for c in chunks]), np.concatenate([c.y for c in chunks]), [len(c.y) for c in chunks]


def test_one_large_row_group_is_streamed_in_small_batches(tmp_path):
    rows = 3 * ROWS_PER_BATCH + 5
    a = np.arange(rows, dtype=float)
    path = write(tmp_path / "one.parquet", a=a, b=-a, target=2 * a)
    X, y, sizes = read(path)
    assert sizes == [ROWS_PER_BATCH] * 3 + [5]
    np.testing.assert_array_equal(X, np.column_stack([a, -a]))
    np.testing.assert_array_equal(y, 2 * a)


def test_columns_of_mixed_numeric_types_read_as_float64(tmp_path):
    path = write(
        tmp_path / "mixed.parquet",
        i=pa.array([1, 2, 3], pa.int32()),
        f=pa.array([0.5, 1.5, 2.5], pa.float32()),
        u=pa.array([7, 8, 9], pa.uint64()),
        target=pa.array([1, 0, 1], pa.int64()),
    )
    X, y, _ = read(path)
    assert X.dtype == y.dtype == np.float64
    assert X.tolist() == [[1, 0.5, 7], [2, 1.5, 8], [3, 2.5, 9]] and y.tolist() == [1, 0, 1]


def test_decimal_columns_are_numbers(tmp_path):
    from decimal import Decimal

    path = write(
        tmp_path / "d.parquet",
        a=pa.array([Decimal("1.10"), Decimal("-2.25")], pa.decimal128(10, 2)),
        target=pa.array([Decimal("3"), Decimal("0.5")], pa.decimal128(5, 1)),
    )
    X, y, _ = read(path)
    assert X.tolist() == [[1.1], [-2.25]] and y.tolist() == [3.0, 0.5]


def test_a_decimal_is_the_double_nearest_its_digits_as_in_a_csv_file(tmp_path):
    # Arrow's own decimal-to-double cast gives 56047.595400000006 for 56047.5954.
    from decimal import Decimal

    digits = ["56047.5954", "0.1000", "-123456789.0123", "99999999.9999"]
    path = write(
        tmp_path / "d.parquet",
        a=pa.array([Decimal(d) for d in digits], pa.decimal128(14, 4)),
        target=[0.0] * len(digits),
    )
    X, _, _ = read(path)
    assert X[:, 0].tolist() == [float(d) for d in digits]


@pytest.mark.parametrize(
    ("column", "hint"),
    [("a", ", or leave it out with --features"), ("target", "")],  # the target cannot be left out
)
def test_a_column_of_text_says_how_to_make_it_numbers(tmp_path, column, hint):
    columns = {"a": [1.0], "target": [2.0]} | {column: pa.array(["1"])}
    path = write(tmp_path / "s.parquet", **columns)
    with pytest.raises(DataError) as caught:
        read(path)
    assert str(caught.value) == (
        f"{path}: column '{column}' holds string, not numbers; store it as integers, floats or decimals"
        f" (pandas: df[column].astype(float)){hint}"
    )


def test_features_are_read_in_the_order_asked_for(tmp_path):
    path = write(tmp_path / "o.parquet", a=[1.0, 2.0], b=[3.0, 4.0], target=[5.0, 6.0])
    X, _, _ = read(path, features=("b", "a"))
    assert X.tolist() == [[3.0, 1.0], [4.0, 2.0]]


def test_a_value_that_is_not_finite_is_named_by_its_first_column_then_row(tmp_path):
    rows = ROWS_PER_BATCH + 10
    a, b = np.zeros(rows), np.zeros(rows)
    a[ROWS_PER_BATCH + 7] = np.inf
    b[3] = np.nan
    path = write(tmp_path / "bad.parquet", a=a, b=b, target=np.zeros(rows))
    with pytest.raises(NumericError) as caught:
        read(path)
    assert str(caught.value) == f"{path}: data row 4: column 'b': nan is not a finite number"
    path = write(tmp_path / "late.parquet", a=a, b=np.zeros(rows), target=np.zeros(rows))
    with pytest.raises(NumericError) as caught:
        read(path)
    assert (
        str(caught.value) == f"{path}: data row {ROWS_PER_BATCH + 8}: column 'a': inf is not a finite number"
    )


def test_a_null_is_a_missing_value_with_its_row_in_a_later_batch(tmp_path):
    rows = ROWS_PER_BATCH + 10
    values = [1.0] * rows
    values[ROWS_PER_BATCH + 2] = None
    path = write(tmp_path / "null.parquet", a=pa.array(values, pa.float64()), target=np.zeros(rows))
    with pytest.raises(DataError) as caught:
        read(path)
    assert str(caught.value) == (
        f"{path}: data row {ROWS_PER_BATCH + 3}: column 'a': a missing value (null);"
        " every feature and target needs a number"
    )


def test_row_groups_are_pieces_for_processes_not_for_threads(tmp_path):
    path = write(tmp_path / "groups.parquet", row_group_size=10, a=np.arange(40.0), target=np.arange(40.0))
    with open(path, "rb") as fp:
        table = ParquetTable(fp, path, ReadOptions())
        assert table.pieces(2) == []
        pieces = table.pieces(2, processes=True)
        assert pieces == [(0, 2), (2, 4)]
        assert [c.first_row for c in table.read_piece(pieces[1])] == [20]


def test_integers_are_cast_column_by_column_never_wrapped(tmp_path):
    big = 2**64 - 1  # Arrow's own promotion of int8 with uint64 would make it -1
    path = write(
        tmp_path / "ints.parquet",
        a=pa.array([1, -2], pa.int8()),
        h=pa.array([0.5, 1.5], pa.float16()),
        target=pa.array([big, 0], pa.uint64()),
    )
    X, y, _ = read(path)
    assert X.tolist() == [[1.0, 0.5], [-2.0, 1.5]] and y.tolist() == [float(big), 0.0]


def test_values_whose_sum_overflows_are_finite_and_read(tmp_path):
    path = write(tmp_path / "huge.parquet", a=[1e308, 1e308], target=[1e308, 1e308])
    X, y, _ = read(path)
    assert X.tolist() == [[1e308], [1e308]] and y.tolist() == [1e308, 1e308]


def test_a_name_twice_in_a_schema_has_no_line_number(tmp_path):
    path = str(tmp_path / "twice.parquet")
    pq.write_table(
        pa.Table.from_arrays([pa.array([1.0]), pa.array([2.0]), pa.array([3.0])], ["a", "a", "target"]), path
    )
    with pytest.raises(DataError) as caught:
        read(path)
    assert str(caught.value) == f"{path}: column name 'a' appears more than once (columns 1 and 2)"
