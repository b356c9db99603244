"""A few rows, however wide, parsed without Arrow (readers.small): the same bits as Arrow's, or
Arrow reads the file; Arrow, run on the same bytes, is the oracle."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slopecli.readers.delimited as delimited
from slopecli.errors import DataError, NumericError, SlopeError
from slopecli.readers import small
from slopecli.readers.delimited import CsvTable
from slopecli.readers.layout import ReadOptions


def by_arrow(data: bytes, **options: object) -> np.ndarray:
    """Every used column of ``data`` as Arrow reads it: a BytesIO has no size, so never small."""
    table = CsvTable(io.BytesIO(data), "f.csv", ReadOptions(**options))  # type: ignore[arg-type]
    chunks = list(table.chunks())
    return np.vstack([np.column_stack([c.X, c.y]) for c in chunks])


def bits(matrix: np.ndarray) -> list[list[int]]:
    """The values' bit patterns: -0.0 is not 0.0, and a last-bit difference shows."""
    return np.ascontiguousarray(matrix).view(np.int64).tolist()


def parsed(data: bytes, delimiter: str = ",") -> np.ndarray | None:
    """``data`` (no header) through the small parse, every column used, the last the target."""
    first = next((line for line in data.splitlines() if line), b"")
    width = len(first.split(delimiter.encode()))
    return small.parse(data, width, range(width), delimiter)


@pytest.fixture
def no_arrow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrow's reader fails the test if it is asked for."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Arrow was asked to read a small file")

    monkeypatch.setattr(delimited, "_arrow_reader", refuse)


# Texts built of given characters only (st.text with an alphabet, st.sampled_from): st.from_regex
# and st.characters need Hypothesis's table of every Unicode character, which a fresh checkout
# (CI's) builds in each process that first asks: 3 s, and about 10 under coverage.


def chars(alphabet: str, least: int, most: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=least, max_size=most)


def optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), strategy)


def joined(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


DIGITS = "0123456789"
SIGN = chars("+-", 0, 1)


# The decimal texts of a double that people and programs write, and hard cases of rounding.
HARD = "2.2250738585072011e-308 4.9e-324 2.4703282292062328e-324 1e-400 -0.0 9007199254740993 0.1 +.5 1. 1E+05 00012"
doubles = st.floats(allow_nan=False, allow_infinity=False)
texts = st.one_of(
    doubles.map(repr),
    doubles.map(lambda v: f"{v:.17e}"),
    doubles.map(lambda v: f"{v:.3f}"),
    st.integers(-(10**30), 10**30).map(str),
    # More digits than a double holds.
    joined(
        SIGN,
        chars(DIGITS, 1, 40),
        st.just("."),
        chars(DIGITS, 0, 40),
        optional(joined(st.just("e"), SIGN, chars(DIGITS, 1, 3))),
    ),
    st.sampled_from(HARD.split()),
).filter(lambda text: np.isfinite(float(text)))
blanks = st.sampled_from(["", " ", "\t", "  \t"])


@settings(max_examples=30, deadline=None)
@given(
    rows=st.integers(1, small.SMALL_ROWS).flatmap(
        lambda n: st.integers(2, 6).flatmap(
            lambda w: st.lists(
                st.lists(st.tuples(blanks, texts, blanks), min_size=w, max_size=w), min_size=n, max_size=n
            )
        )
    ),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    delimiter=st.sampled_from([",", ";", "|"]),
)
def test_numbers_parse_to_the_bits_arrow_reads(rows, ending, delimiter):
    body = ending.join(delimiter.join(a + text + b for a, text, b in row) for row in rows) + ending
    data = body.encode()
    got = parsed(data, delimiter)
    assert got is not None
    assert got.flags.f_contiguous  # as Arrow's to_tensor lays it out: X·w runs the same BLAS path
    assert bits(got) == bits(by_arrow(data, header=False, delimiter=delimiter))


# One field of the bytes the parse takes on trust, or of a few it must refuse (float() takes "1_0"
# and a vertical tab, Arrow does not), among numbers: it reads a file exactly when Arrow does, and
# to the same values.
odd = st.text(alphabet="0123456789+-.eEinfatyINF \t_\x0b", max_size=8)
# [ \t]?[+-]?[0-9_]{0,3}\.?[0-9_]{0,3}([eE][+-]?[0-9]{0,2})?[ \t\x0b]?
near = joined(
    chars(" \t", 0, 1),
    SIGN,
    chars(DIGITS + "_", 0, 3),
    chars(".", 0, 1),
    chars(DIGITS + "_", 0, 3),
    optional(joined(chars("eE", 1, 1), SIGN, chars(DIGITS, 0, 2))),
    chars(" \t\x0b", 0, 1),
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.lists(texts, min_size=3, max_size=3), min_size=1, max_size=4),
    field=st.one_of(odd, near),
    where=st.tuples(st.integers(0, 3), st.integers(0, 2)),
)
def test_a_file_is_parsed_exactly_when_arrow_reads_it(rows, field, where):
    row, column = where
    rows[row % len(rows)][column] = field
    data = ("\n".join(",".join(row) for row in rows) + "\n").encode()
    got = parsed(data)
    try:
        want = by_arrow(data, header=False)
    except (DataError, NumericError):
        assert got is None
    else:
        assert got is not None and bits(got) == bits(want)


def test_what_arrow_refuses_or_reads_otherwise_is_left_to_it():
    for body in [
        b"1_0,2\n",  # float() takes an underscore between digits; Arrow does not
        b"\x0b1,2\n",  # nor a vertical tab around a number
        b'"1",2\n',  # quoted: Arrow unquotes it
        b"1,2\n3\n",  # ragged
        b"1,\n",  # an empty value
        b"1,nan\n",  # not finite: Arrow's reader and the diagnosis say where
        b"\xef\xbb\xbf1,2\n",  # a byte-order mark
        b"\n\r\n",  # no rows
        b"1,2\n" * (small.SMALL_ROWS + 1),  # too many rows to be worth it
    ]:
        assert parsed(body) is None, body


def test_blank_lines_are_skipped_as_arrow_skips_them():
    got = parsed(b"\n1,2\r\n\r\n\r3,4")
    assert got is not None and got.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_the_used_columns_come_in_their_order_and_unused_ones_need_only_be_numbers():
    got = small.parse(b"1,2,3,nan\n5,6,7,inf\n", 4, (2, 0, 1), ",")
    assert got is not None and got.tolist() == [[3.0, 1.0, 2.0], [7.0, 5.0, 6.0]]
    assert got.flags.f_contiguous


def write(tmp_path, data: bytes):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


def read(path, **options: object) -> np.ndarray:
    with path.open("rb") as fp:
        table = CsvTable(fp, str(path), ReadOptions(**options))  # type: ignore[arg-type]
        chunks = list(table.chunks())
    return np.vstack([np.column_stack([c.X, c.y]) for c in chunks])


def test_a_small_file_is_read_without_arrow(tmp_path, no_arrow):
    data = b"\n\nb, target ,a\n1,2,3\n4,5,6\n"
    path = write(tmp_path, data)
    assert read(path).tolist() == [[1.0, 3.0, 2.0], [4.0, 6.0, 5.0]]
    assert read(path, features=("a",)).tolist() == [[3.0, 2.0], [6.0, 5.0]]
    no_header = write(tmp_path, data.split(b"\n", 3)[3])
    assert read(no_header, header=False).tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_a_wide_file_of_a_few_rows_reads_as_arrow_reads_it(tmp_path):
    rng = np.random.default_rng(10)
    matrix = rng.random((3, 40_001)) * 10.0 ** rng.integers(-300, 300, 40_001)
    data = "\n".join(",".join(map(repr, row)) for row in matrix.tolist()).encode() + b"\n"
    path = write(tmp_path, data)
    with path.open("rb") as fp:
        assert CsvTable(fp, str(path), ReadOptions(header=False))._small
    assert bits(read(path, header=False)) == bits(by_arrow(data, header=False)) == bits(matrix)


def test_more_rows_than_small_rows_are_read_by_arrow(tmp_path):
    path = write(tmp_path, b"a,target\n" + b"1,2\n" * (small.SMALL_ROWS + 1))
    with path.open("rb") as fp:
        table = CsvTable(fp, str(path), ReadOptions())
        assert not table._small
        assert sum(len(c.y) for c in table.chunks()) == small.SMALL_ROWS + 1


def test_a_file_that_grew_past_small_bytes_since_it_was_opened_is_read_by_arrow(tmp_path, monkeypatch):
    path = write(tmp_path, b"a,target\n1,2\n")
    with path.open("rb") as fp:
        table = CsvTable(fp, str(path), ReadOptions())
        assert table._small
        with path.open("ab") as out:
            out.write(b"3,4\n" * 100)
        monkeypatch.setattr(small, "SMALL_BYTES", 64)
        assert sum(len(c.y) for c in table.chunks()) == 101


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"a,target\n1,2\n3,x\n", DataError, "f.csv:3:2: column 'target': 'x' is not a number"),
        (b"a,target\n1_0,2\n", DataError, "f.csv:2:1: column 'a': '1_0' is not a number"),
        (b"a,target\n1,2\n3\n", DataError, "f.csv:3: expected 2 fields, found 1"),
        (b"a,target\n1,2\n3,inf\n", NumericError, "f.csv:3:2: column 'target': 'inf' is not a finite number"),
        (b"a,target\n", DataError, "f.csv: the file has a header but no data rows"),
    ],
)
def test_a_small_file_that_is_wrong_gets_arrow_s_message(tmp_path, data, error, message):
    path = write(tmp_path, data)
    with pytest.raises(SlopeError) as caught:
        read(path)
    assert type(caught.value) is error
    assert str(caught.value).replace(str(path), "f.csv") == message


def test_what_the_small_parse_leaves_is_read_by_arrow(tmp_path):
    # Quotes, and a text column that is not read.
    path = write(tmp_path, b'name,a,target\n"x, y",1,"2"\nz,3,4\n')
    assert read(path, features=("a",)).tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_a_small_file_is_computed_without_importing_pyarrow(tmp_path):
    path = write(tmp_path, b"a,b,target\n1,2,3\n4,5,6\n")
    code = (
        "import sys; from slopecli.dataset import DataOptions, open_dataset\n"
        f"with open_dataset(DataOptions(file={str(path)!r}, weights='1,1')) as d: s = d.sums()\n"
        "print(s.n, s.gradient.tolist(), 'pyarrow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # errors 0 and 3: gradient (2/2)·Xᵀe = [4·3, 5·3] + 0, mse (0 + 9)/2
    assert out.split() == ["2", "[12.0,", "15.0]", "False"]
