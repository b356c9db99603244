"""The per-row CSV encoder (slopecli.render.csv_rows): every value reads back as the same double,
integral values are spelled without ``.0``, and the lines are the matrix's rows."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from slopecli.render.csv_rows import csv_rows

finite = st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True)
edges = st.sampled_from(
    [0.0, -0.0, 1.0, -14.0, 1e-5, 1e-7, 1e15, 1.5e15, 1e16, 1e17, 1e21, 1e22, 5e-324, -5e-324,
     2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308, -1.7976931348623157e308,
     9007199254740993.0, 0.1, 1 / 3]
)  # fmt: skip
scaled = st.builds(lambda m, e: m * 10.0**e, st.floats(-10, 10), st.integers(-324, 308)).filter(np.isfinite)
numbers = st.one_of(finite, edges, scaled, st.integers(-(2**60), 2**60).map(float))


def bits(value: float) -> bytes:
    return struct.pack("<d", value)


def read_back(text: bytes) -> list[list[float]]:
    return [[float(v) for v in line.split(",")] for line in text.decode("ascii").split("\n")[:-1]]


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 20), st.integers(1, 8)), elements=numbers))
def test_every_value_reads_back_as_the_same_double(matrix: np.ndarray) -> None:
    text = csv_rows(matrix)
    back = read_back(text)
    assert [[bits(v) for v in row] for row in back] == [[bits(v) for v in row] for row in matrix.tolist()]


def significant(text: str) -> str:
    """The digits that matter: no sign, point, exponent or zeros at either end."""
    return text.lstrip("-").split("e")[0].replace(".", "").strip("0")


@settings(max_examples=150, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=50))
def test_integral_values_have_no_point_zero_and_all_are_shortest(values: list[float]) -> None:
    fields = csv_rows(np.array([values])).decode().rstrip("\n").split(",")
    for value, field in zip(values, fields, strict=True):
        if value == int(value) and abs(value) < 1e16:
            # The integer's own digits, with a sign for -0.
            assert field == ("-" if np.signbit(value) else "") + str(abs(int(value)))
        else:
            # The shortest round trip: repr's digits (repr lays them out by other rules).
            assert significant(field) == significant(repr(value))


def test_spelling_of_the_edges() -> None:
    # Integral values below 1e16 are spelled as integers; other layouts (exponents) are orjson's.
    matrix = np.array([[14.0, -0.0, 0.0, 1.5e15, 100.0, -7.0, 0.1, 1e16, 1e-7]])
    fields = csv_rows(matrix).decode().rstrip("\n").split(",")
    assert fields[:7] == ["14", "-0", "0", "1500000000000000", "100", "-7", "0.1"]
    assert [float(f) for f in fields[7:]] == [1e16, 1e-7]


def test_every_decade_reads_back() -> None:
    rng = np.random.default_rng(401)
    with np.errstate(over="ignore"):
        values = rng.uniform(1, 10, (633, 12)) * 10.0 ** np.arange(-324, 309)[:, None]
    values = values[np.isfinite(values).all(axis=1)]
    for matrix in (values, -values, np.trunc(values), np.nextafter(values, 0)):
        assert np.array_equal(np.array(read_back(csv_rows(matrix))), matrix)


@pytest.mark.parametrize("columns", [1, 2, 12])
def test_one_line_per_row_in_order(columns: int) -> None:
    matrix = np.arange(5000 * columns, dtype=float).reshape(5000, columns) / 4
    lines = csv_rows(matrix).split(b"\n")
    assert lines[-1] == b""
    assert len(lines) == 5001
    assert lines[1] == b",".join(str(v).removesuffix(".0").encode() for v in matrix[1])


def test_a_column_major_matrix_is_written_by_rows() -> None:
    matrix = np.asfortranarray([[1.0, 2.5], [3.0, 4.25]])
    assert csv_rows(matrix) == b"1,2.5\n3,4.25\n"


def test_no_rows_no_bytes_and_no_columns_empty_lines() -> None:
    assert csv_rows(np.zeros((0, 3))) == b""
    assert csv_rows(np.zeros((2, 0))) == b"\n\n"


def test_nan_or_infinity_in_csv_output_is_a_bug_that_raises() -> None:
    with pytest.raises(ValueError, match="NaN or infinity"):
        csv_rows(np.array([[1.0, np.inf]]))


@settings(max_examples=150, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=8))
def test_every_csv_output_spells_a_number_as_per_row_csv_does(values: list[float]) -> None:
    """``compute --format csv`` writes its rows with csv_rows, ``step``, ``descend`` and ``batch``
    theirs with csv_line: 1e-05 is ``0.00001`` and 2.5e-06 ``2.5e-6`` in both, so that one
    value's text is the same in every CSV slopecli writes."""
    from slopecli.render.stream import csv_line

    assert csv_line(values) == csv_rows(np.array([values]))


def test_a_numpy_float_in_a_csv_line_is_spelled_as_a_float() -> None:
    from slopecli.render.stream import csv_line

    assert csv_line([np.float64(0.5), np.float64(1e-5), 3.0]) == b"0.5,0.00001,3\n"


fields = st.lists(st.text(alphabet="0123456789.-e", min_size=1, max_size=20), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(fields, st.integers(1, 12))
def test_the_commas_are_found_where_a_byte_search_finds_them(values: list[str], columns: int) -> None:
    from slopecli.render.csv_rows import _Commas

    text = np.frombuffer((",".join(values) + "]").encode(), dtype=np.uint8)
    every = np.flatnonzero(text == ord(","))
    commas = _Commas(text, len(every))
    np.testing.assert_array_equal(commas.at(np.arange(len(every))), every)
    np.testing.assert_array_equal(commas.at(slice(columns - 1, None, columns)), every[columns - 1 :: columns])


@pytest.mark.parametrize(
    ("text", "by_words"),
    [
        ("123,567,901,345,789,123,567,901]", True),  # one comma in each 4-byte word that holds one
        ("1234,6,89012,456789,123456,890123,567]", False),  # bytes 4-7 hold two: ",6,8"
        ("1,3,5,7,9,1,3,5,7,9,1,3,5,7,9,1]", False),  # short values: the bytes are searched at once
    ],
)
def test_the_commas_are_found_by_words_when_no_word_holds_two(text: str, by_words: bool) -> None:
    # The faster search is taken where it can be (the results are the same either way, above).
    from slopecli.render.csv_rows import _Commas

    data = np.frombuffer(text.encode(), dtype=np.uint8)
    every = np.flatnonzero(data == ord(","))
    commas = _Commas(data, len(every))
    np.testing.assert_array_equal(commas.at(np.arange(len(every))), every)
    assert (commas._words is not None) == by_words
