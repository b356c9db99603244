"""CSV/TSV files -> numpy chunks: layouts, dialects, streaming, and every error with its place.

Files are ``io.BytesIO`` (and a non-seekable wrapper standing in for a pipe), named ``f.csv``
in messages.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from slopecli.errors import DataError, NumericError, SlopeError
from slopecli.readers.chunk import Chunk
from slopecli.readers.delimited import CsvTable
from slopecli.readers.layout import BLOCK_BYTES, delimiter_for
from slopecli.readers.layout import ReadOptions as CsvOptions

from conftest import Pipe

NAME = "f.csv"


def open_table(data: bytes, **options: object) -> CsvTable:
    return CsvTable(io.BytesIO(data), NAME, CsvOptions(**options))  # type: ignore[arg-type]


def chunks_of(data: bytes, **options: object) -> list[Chunk]:
    return list(open_table(data, **options).chunks())


def rows(data: bytes, **options: object) -> tuple[list[list[float]], list[float]]:
    """All of a file's features and targets, whatever the chunking, as plain lists."""
    chunks = chunks_of(data, **options)
    return np.vstack([c.X for c in chunks]).tolist(), np.concatenate([c.y for c in chunks]).tolist()


def failure(data: bytes, **options: object) -> SlopeError:
    """The error that opening the file, or reading all of its rows, raises."""
    with pytest.raises(SlopeError) as caught:
        chunks_of(data, **options)
    return caught.value


def exactly(message: str) -> str:
    """A ``match`` pattern for ``pytest.raises`` that accepts this message and nothing else."""
    return f"^{re.escape(message)}$"


def numbered(count: int) -> bytes:
    """``count`` data rows i, i+1, 2i, numbered from 0: long enough to span many small blocks."""
    return b"".join(b"%d,%d,%d\n" % (i, i + 1, 2 * i) for i in range(count))


# ---------------------------------------------------------------------------------------------
# delimiter_for and defaults


@pytest.mark.parametrize(
    ("filename", "asked", "expected"),
    [
        ("data.csv", None, ","),
        ("data.tsv", None, "\t"),
        ("DATA.TSV", None, "\t"),
        ("data.tab", None, "\t"),
        ("dir.tsv/data.txt", None, ","),
        ("-", None, ","),
        ("data.tsv", ";", ";"),  # asked for wins over the suffix
        ("data.csv", "\t", "\t"),
    ],
)
def test_delimiter_for(filename: str, asked: str | None, expected: str) -> None:
    assert delimiter_for(filename, asked) == expected


def test_default_options() -> None:
    assert CsvOptions() == CsvOptions(",", True, None, None, BLOCK_BYTES)
    assert BLOCK_BYTES == 256 * 1024


# ---------------------------------------------------------------------------------------------
# Layout: which columns are features and which is the target


def test_header_names_features_and_target() -> None:
    table = open_table(b"a,b,target\n1,2,3\n4,5,6\n")
    assert table.layout.names == ("a", "b", "target")
    assert table.features == ("a", "b")
    assert table.layout.target == "target"
    assert rows(b"a,b,target\n1,2,3\n4,5,6\n") == ([[1.0, 2.0], [4.0, 5.0]], [3.0, 6.0])


def test_column_named_target_is_the_target_wherever_it_is() -> None:
    data = b"a,target,b\n1,2,3\n"
    table = open_table(data)
    assert (table.features, table.layout.target) == (("a", "b"), "target")
    assert rows(data) == ([[1.0, 3.0]], [2.0])


def test_without_a_target_column_the_last_column_is_the_target() -> None:
    data = b"a,b,c\n1,2,3\n"
    table = open_table(data)
    assert (table.features, table.layout.target) == (("a", "b"), "c")
    assert rows(data) == ([[1.0, 2.0]], [3.0])


def test_target_column_option() -> None:
    data = b"a,b,c\n1,2,3\n"
    table = open_table(data, target_column="a")
    assert (table.features, table.layout.target) == (("b", "c"), "a")
    assert rows(data, target_column="a") == ([[2.0, 3.0]], [1.0])


def test_target_column_option_wins_over_a_column_named_target() -> None:
    data = b"target,b,y\n1,2,3\n"
    table = open_table(data, target_column="y")
    assert (table.features, table.layout.target) == (("target", "b"), "y")
    assert rows(data, target_column="y") == ([[1.0, 2.0]], [3.0])


def test_features_select_and_order_the_columns() -> None:
    data = b"a,b,c,target\n1,2,3,4\n"
    table = open_table(data, features=("c", "a"))
    assert table.features == ("c", "a")
    assert rows(data, features=("c", "a")) == ([[3.0, 1.0]], [4.0])


def test_unselected_columns_are_not_read() -> None:
    data = b"a,notes,b,target\n1,hello,2,3\n4,,5,6\n"
    assert rows(data, features=("a", "b")) == ([[1.0, 2.0], [4.0, 5.0]], [3.0, 6.0])


def test_no_header_names_columns_x1_to_xd_and_target() -> None:
    data = b"1,2,3\n4,5,6\n"
    table = open_table(data, header=False)
    assert table.layout.names == ("x1", "x2", "target")
    assert table.features == ("x1", "x2")
    assert rows(data, header=False) == ([[1.0, 2.0], [4.0, 5.0]], [3.0, 6.0])


def test_no_header_with_features_and_target_by_generated_name() -> None:
    data = b"1,2,3\n4,5,6\n"
    options = {"header": False, "features": ("x2",), "target_column": "x1"}
    assert open_table(data, **options).features == ("x2",)
    assert rows(data, **options) == ([[2.0], [5.0]], [1.0, 4.0])


def test_header_names_are_stripped_and_may_be_quoted() -> None:
    table = open_table(b' a ,"b,c", target \n1,2,3\n')
    assert table.layout.names == ("a", "b,c", "target")
    assert table.features == ("a", "b,c")


def test_many_features() -> None:
    header = ",".join(f"f{i}" for i in range(100)) + ",target\n"
    row = ",".join(str(i) for i in range(101)) + "\n"
    X, y = rows((header + row).encode())
    assert (X, y) == ([[float(i) for i in range(100)]], [100.0])


# ---------------------------------------------------------------------------------------------
# Dialect: delimiters, encodings, line endings, quoting, spaces

EXPECTED = ([[1.0, 2.0], [4.0, 5.0]], [3.0, 6.0])


@pytest.mark.parametrize(
    ("data", "options"),
    [
        pytest.param(b"a,b,target\n1,2,3\n4,5,6\n", {}, id="comma"),
        pytest.param(b"a\tb\ttarget\n1\t2\t3\n4\t5\t6\n", {"delimiter": "\t"}, id="tab"),
        pytest.param(b"a;b;target\n1;2;3\n4;5;6\n", {"delimiter": ";"}, id="semicolon"),
        pytest.param(b"\xef\xbb\xbfa,b,target\n1,2,3\n4,5,6\n", {}, id="utf8-bom"),
        pytest.param(b"\xef\xbb\xbf1,2,3\n4,5,6\n", {"header": False}, id="utf8-bom-no-header"),
        pytest.param(b"a,b,target\r\n1,2,3\r\n4,5,6\r\n", {}, id="crlf"),
        pytest.param(b"a,b,target\n1,2,3\n4,5,6", {}, id="no-final-newline"),
        pytest.param(b'"a","b","target"\n"1","2",3\n4,"5","6"\n', {}, id="quoted-numbers"),
        pytest.param(b"a,b,target\n1,2,3\n4,5,6\n\n\n", {}, id="blank-trailing-lines"),
        pytest.param(b"a,b,target\n1,2,3\n\n4,5,6\n", {}, id="blank-line-between-rows"),
        pytest.param(b"a , b , target\n 1 , 2 ,3\n4,\t5\t,6 \n", {}, id="surrounding-spaces"),
        pytest.param(b"a,b,target\n1.0,+2,3e0\n4.,0.5e1,600e-2\n", {}, id="number-spellings"),
    ],
)
def test_dialects_read_the_same_rows(data: bytes, options: dict[str, object]) -> None:
    assert rows(data, **options) == EXPECTED


def test_tab_separated_file_chooses_tab_by_its_name() -> None:
    data = b"a\tb\ttarget\n1\t2\t3\n4\t5\t6\n"
    assert rows(data, delimiter=delimiter_for("points.tsv", None)) == EXPECTED


def test_non_ascii_header_names() -> None:
    table = open_table("größe,âge,target\n1,2,3\n".encode())
    assert table.features == ("größe", "âge")


def test_chunks_are_float64_and_contiguous() -> None:
    (chunk,) = chunks_of(b"a,b,target\n1,2,3\n")
    assert (chunk.X.dtype, chunk.y.dtype) == (np.float64, np.float64)
    assert (chunk.X.shape, chunk.y.shape, chunk.first_row) == ((1, 2), (1,), 0)
    assert chunk.y.flags.c_contiguous


def test_extreme_but_finite_values_are_read_exactly() -> None:
    data = b"a,b,target\n1.7976931348623157e308,5e-324,-0.1\n"
    assert rows(data) == ([[1.7976931348623157e308, 5e-324]], [-0.1])


# ---------------------------------------------------------------------------------------------
# Streaming: many chunks, pipes, re-reading


def test_small_blocks_split_a_file_into_many_chunks_with_correct_first_rows() -> None:
    data = b"a,b,target\n" + numbered(200)
    chunks = chunks_of(data, block_bytes=64)
    assert len(chunks) > 10
    sizes = [len(c.y) for c in chunks]
    assert [c.first_row for c in chunks] == [sum(sizes[:i]) for i in range(len(chunks))]
    assert sum(sizes) == 200
    for chunk in chunks:
        # Row i holds i, i+1, 2i, so each chunk's first row says where it starts.
        assert chunk.X[0].tolist() == [chunk.first_row, chunk.first_row + 1]
    assert rows(data, block_bytes=64) == rows(data)
    assert rows(data) == ([[i, i + 1] for i in range(200)], [2 * i for i in range(200)])


def test_small_blocks_without_a_header() -> None:
    data = numbered(100)
    chunks = chunks_of(data, header=False, block_bytes=50)
    assert len(chunks) > 5
    assert [c.first_row for c in chunks] == list(np.cumsum([0] + [len(c.y) for c in chunks[:-1]]))
    assert rows(data, header=False, block_bytes=50) == rows(data, header=False)


def test_a_pipe_is_read_as_it_arrives_and_only_once() -> None:
    data = b"a,b,target\n" + numbered(50)
    with CsvTable(Pipe(data), "<stdin>", CsvOptions(block_bytes=64)) as table:
        assert table.features == ("a", "b")
        first = list(table.chunks())
        with pytest.raises(DataError, match=r"^<stdin>: a stream can be read once, and this command reads"):
            list(table.chunks())
    assert len(first) > 1
    assert np.vstack([c.X for c in first]).tolist() == [[i, i + 1] for i in range(50)]
    assert np.concatenate([c.y for c in first]).tolist() == [2 * i for i in range(50)]


def test_a_stream_without_seekable_is_treated_as_a_pipe() -> None:
    class Reader:
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            return self._data.read(size)

    with CsvTable(Reader(b"a,b,target\n1,2,3\n"), "<stdin>", CsvOptions()) as table:  # type: ignore[arg-type]
        assert [(c.X.tolist(), c.y.tolist()) for c in table.chunks()] == [([[1.0, 2.0]], [3.0])]


def test_an_error_in_a_pipe_is_diagnosed_from_the_blocks_it_keeps() -> None:
    with (
        CsvTable(Pipe(b"a,b,target\n1,2,3\n4,x,6\n"), "<stdin>", CsvOptions()) as table,
        pytest.raises(DataError, match=exactly("<stdin>:3:2: column 'b': 'x' is not a number")),
    ):
        list(table.chunks())


def test_a_seekable_stream_is_read_from_where_it_stands() -> None:
    fp = io.BytesIO(b"# preamble the caller skipped\na,b,target\n1,2,3\n")
    fp.readline()
    table = CsvTable(fp, NAME, CsvOptions())
    assert table.features == ("a", "b")
    assert [(c.X.tolist(), c.y.tolist()) for c in table.chunks()] == [([[1.0, 2.0]], [3.0])]


def test_rows_before_an_error_in_a_later_chunk_are_delivered_first() -> None:
    data = b"a,b,target\n" + numbered(100) + b"1,x,3\n"
    table = open_table(data, block_bytes=64)
    delivered = []
    with pytest.raises(DataError) as caught:
        for chunk in table.chunks():
            delivered.append(chunk)
    assert str(caught.value) == "f.csv:102:2: column 'b': 'x' is not a number"
    assert delivered
    assert sum(len(c.y) for c in delivered) < 101


# ---------------------------------------------------------------------------------------------
# Errors, each with its exact message


@pytest.mark.parametrize(
    ("data", "options", "kind", "message"),
    [
        pytest.param(
            b"a,b,target\n1,2,3\n4,x,6\n",
            {},
            DataError,
            "f.csv:3:2: column 'b': 'x' is not a number",
            id="not-a-number",
        ),
        pytest.param(
            b"a,b,target\n1,2,three\n",
            {},
            DataError,
            "f.csv:2:3: column 'target': 'three' is not a number",
            id="target-not-a-number",
        ),
        pytest.param(
            b"a,b,target\n1,,3\n", {}, DataError, "f.csv:2:2: column 'b': empty value", id="empty-value"
        ),
        pytest.param(
            b"a,b,target\n1, \t,3\n", {}, DataError, "f.csv:2:2: column 'b': empty value", id="blank-value"
        ),
        pytest.param(
            b'a,b,target\n1,"",3\n',
            {},
            DataError,
            "f.csv:2:2: column 'b': empty value",
            id="empty-quoted-value",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n1,nan,3\n",
            {},
            NumericError,
            "f.csv:3:2: column 'b': 'nan' is not a finite number",
            id="nan",
        ),
        pytest.param(
            b"a,b,target\n1,2,NaN\n",
            {},
            NumericError,
            "f.csv:2:3: column 'target': 'NaN' is not a finite number",
            id="nan-target",
        ),
        pytest.param(
            b"a,b,target\n-inf,2,3\n",
            {},
            NumericError,
            "f.csv:2:1: column 'a': '-inf' is not a finite number",
            id="inf",
        ),
        pytest.param(
            b"a,b,target\n1,2,1e999\n",
            {},
            NumericError,
            "f.csv:2:3: column 'target': '1e999' is not a finite number",
            id="overflowing-literal",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n4,5,6,7\n",
            {},
            DataError,
            "f.csv:3: expected 3 fields, found 4",
            id="too-many-fields",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n4,5\n",
            {},
            DataError,
            "f.csv:3: expected 3 fields, found 2",
            id="too-few-fields",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n4,5,6,\n",
            {},
            DataError,
            "f.csv:3: expected 3 fields, found 4",
            id="trailing-comma",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n  \n",
            {},
            DataError,
            "f.csv:3: expected 3 fields, found 1",
            id="spaces-only-line",
        ),
        pytest.param(b"", {}, DataError, "f.csv: the file is empty", id="empty-file"),
        pytest.param(b"\n\n\n", {}, DataError, "f.csv: the file is empty", id="blank-lines-only"),
        pytest.param(
            b"", {"header": False}, DataError, "f.csv: the file is empty", id="empty-file-no-header"
        ),
        pytest.param(
            b"a,b,target\n", {}, DataError, "f.csv: the file has a header but no data rows", id="header-only"
        ),
        pytest.param(
            b"a,b,target\n\n\n",
            {},
            DataError,
            "f.csv: the file has a header but no data rows",
            id="header-and-blank-lines",
        ),
        pytest.param(
            b"a,b,target\n",
            {"header": False},
            DataError,
            "f.csv:1:1: column 'x1': 'a' is not a number",
            id="header-read-as-data",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n",
            {"target_column": "y"},
            DataError,
            "f.csv: --target-column: no column named 'y' (columns: a, b, target)",
            id="missing-target-column",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n",
            {"features": ("a", "c")},
            DataError,
            "f.csv: --features: no column named 'c' (columns: a, b, target)",
            id="missing-feature",
        ),
        pytest.param(
            ",".join(f"c{i}" for i in range(1, 15)).encode() + b"\n" + b"1," * 13 + b"1\n",
            {"features": ("zz",)},
            DataError,
            "f.csv: --features: no column named 'zz' (columns: c1, c2, c3, c4, c5, c6, c7, c8, … and 6 more)",
            id="missing-column-long-header",
        ),
        pytest.param(
            b"a,a,target\n1,2,3\n",
            {},
            DataError,
            "f.csv:1: column name 'a' appears more than once (columns 1 and 2)",
            id="duplicate-feature",
        ),
        pytest.param(
            b"target,a,target\n1,2,3\n",
            {},
            DataError,
            "f.csv:1: column name 'target' appears more than once (columns 1 and 3)",
            id="duplicate-target",
        ),
        pytest.param(
            b"a,b,a,target\n1,2,3,4\n",
            {"features": ("a",)},
            DataError,
            "f.csv:1: column name 'a' appears more than once (columns 1 and 3)",
            id="duplicate-selected-feature",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n",
            {"features": ("a", "target")},
            DataError,
            "f.csv: --features: 'target' is the target column, not a feature",
            id="target-as-feature",
        ),
        pytest.param(
            b"a,b,c\n1,2,3\n",
            {"features": ("b",), "target_column": "b"},
            DataError,
            "f.csv: --features: 'b' is the target column, not a feature",
            id="chosen-target-as-feature",
        ),
        pytest.param(
            b"target\n1\n2\n",
            {},
            DataError,
            "f.csv: no feature columns: the file has only the target column 'target'",
            id="only-target",
        ),
        pytest.param(
            b"y\n1\n",
            {},
            DataError,
            "f.csv: no feature columns: the file has only the target column 'y'",
            id="only-one-column",
        ),
        pytest.param(
            b"1\n2\n",
            {"header": False},
            DataError,
            "f.csv: no feature columns: the file has only the target column 'target'",
            id="only-one-column-no-header",
        ),
        pytest.param(
            b"a\tb\ttarget\n1\t2\t3\n",
            {},
            DataError,
            "f.csv: no feature columns: the file has only the target column 'a\\tb\\ttarget';"
            " the first line looks tab-separated: add --delimiter tab",
            id="tsv-read-as-csv",
        ),
        pytest.param(
            b"a,b\x00,target\n1,2,3\n",
            {},
            DataError,
            "f.csv: not a CSV text file (a NUL byte at offset 3)",
            id="nul-in-header",
        ),
        pytest.param(
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
            {},
            DataError,
            "f.csv: a zip archive, which slopecli cannot read itself (it reads gzip, bzip2 and zstd);"
            " decompress it into a pipe: unzip -p FILE | slopecli compute - …",
            id="zip-archive",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n\x00\x00\x00\n",
            {},
            DataError,
            "f.csv: not a CSV text file (a NUL byte at offset 17)",
            id="nul-in-data",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n1,\xff2,3\n",
            {},
            DataError,
            "f.csv:3:2: a value is not UTF-8 text (byte 0xff at offset 2 in the line)"
            "; convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > NEW.csv",
            id="invalid-utf8-later-line",
        ),
        pytest.param(
            b"a,b,target\n1,2,3\n1,2,\xe9\n",
            {},
            DataError,
            "f.csv:3:3: a value is not UTF-8 text (byte 0xe9 at offset 4 in the line)"
            "; convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > NEW.csv",
            id="latin1-later-line",
        ),
    ],
)
def test_errors_name_the_file_line_and_column(
    data: bytes, options: dict[str, object], kind: type[SlopeError], message: str
) -> None:
    error = failure(data, **options)
    assert type(error) is kind
    assert str(error) == message


def test_errors_in_later_chunks_name_the_right_line() -> None:
    head = b"a,b,target\n" + numbered(100)  # data on lines 2..101
    cases = [
        (head + b"1,2\n", DataError, "f.csv:102: expected 3 fields, found 2"),
        (head + b"1,x,3\n", DataError, "f.csv:102:2: column 'b': 'x' is not a number"),
        (head + b"1,2,nan\n", NumericError, "f.csv:102:3: column 'target': 'nan' is not a finite number"),
        (
            head + b"1,2,\xff\n",
            DataError,
            "f.csv:102:3: a value is not UTF-8 text (byte 0xff at offset 4 in the line); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > NEW.csv",
        ),
    ]
    for data, kind, message in cases:
        error = failure(data, block_bytes=64)
        assert (type(error), str(error)) == (kind, message)


def test_the_first_problem_in_the_file_is_the_one_reported() -> None:
    error = failure(b"a,b,target\n1,2,3\n4,x,6\n7,8\n9,nan,1\n")
    assert str(error) == "f.csv:3:2: column 'b': 'x' is not a number"


def test_line_numbers_count_physical_lines_of_quoted_fields() -> None:
    # The quoted value spans lines 2-3 of an unused column; the bad number is on line 4.
    data = b'a,note,target\n1,"two\nlines",3\n4,5,q\n'
    error = failure(data, features=("a",))
    assert str(error) == "f.csv:4:3: column 'target': 'q' is not a number"


def test_line_numbers_count_blank_lines() -> None:
    assert str(failure(b"1,2,3\n\n\n4,x,6\n", header=False)) == "f.csv:4:2: column 'x2': 'x' is not a number"


def test_errors_in_unselected_columns_are_ignored() -> None:
    assert rows(b"a,b,c,target\n1,2,x,3\n4,5,,6\n", features=("a", "b")) == (
        [[1.0, 2.0], [4.0, 5.0]],
        [3.0, 6.0],
    )


def test_a_failure_python_cannot_place_still_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # Should the diagnosis find nothing wrong where Arrow failed, the message falls back to
    # Arrow's own words, after the file name.
    import slopecli.readers.delimited as delimited

    monkeypatch.setattr(delimited, "diagnose", lambda *args, **kwargs: None)
    error = failure(b"a,b,target\n1,x,3\n")
    assert type(error) is DataError
    assert str(error).startswith("f.csv: cannot read the file as CSV: ")


def test_a_header_longer_than_the_block_is_read() -> None:
    # It used to fail with Arrow's "Could not skip initial 1 rows".
    assert rows(b"a_long_name,another_long_name,target\n1,2,3\n", block_bytes=8) == ([[1.0, 2.0]], [3.0])


def test_errors_are_raised_when_iterating_not_when_opening() -> None:
    table = open_table(b"a,b,target\n1,2,3\n1,x,3\n")
    assert table.features == ("a", "b")
    with pytest.raises(DataError, match=exactly("f.csv:3:2: column 'b': 'x' is not a number")):
        list(table.chunks())
    # In the first row, a word may be a column of names: --features would leave it out.
    first = open_table(b"a,b,target\n1,x,3\n")
    hint = "f.csv:2:2: column 'b': 'x' is not a number; if 'b' is not a feature, leave it out with --features"
    with pytest.raises(DataError, match=exactly(hint)):
        list(first.chunks())


# ---------------------------------------------------------------------------------------------
# Edge cases: a leading blank line, Python-only number syntax, and (still open) CR-only files.


def test_a_leading_blank_line_is_skipped_like_other_blank_lines() -> None:
    assert rows(b"\n1,2,3\n4,5,6\n", header=False) == EXPECTED


def test_numbers_arrow_rejects_but_python_accepts_are_placed() -> None:
    assert str(failure(b"a,b,target\n1_0,2,3\n")) == "f.csv:2:1: column 'a': '1_0' is not a number"


def test_errors_in_cr_only_files_name_the_line() -> None:
    assert str(failure(b"a,b,target\r1,2,3\r4,x,6\r")) == "f.csv:3:2: column 'b': 'x' is not a number"


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("bad", [3, 777, 4999])
def test_a_stream_names_the_line_of_its_error_from_the_bytes_it_kept(monkeypatch, ending, bad) -> None:
    """Only the last RECENT_BYTES of a stream are kept; line numbers still count from its start."""
    import slopecli.readers.stream as stream

    monkeypatch.setattr(stream, "RECENT_BYTES", 1024)
    lines = [b"a,b,target"] + [b"%d,%d,%d" % (i, i + 1, 2 * i) for i in range(5000)]
    lines[bad + 1] = b"1,oops,3"
    data = ending.join(lines) + ending
    table = CsvTable(Pipe(data, step=100), "<stdin>", CsvOptions(block_bytes=256))
    with pytest.raises(DataError) as caught:
        list(table.chunks())
    assert str(caught.value) == f"<stdin>:{bad + 2}:2: column 'b': 'oops' is not a number"


def test_a_column_named_like_a_magic_number_is_text() -> None:
    assert rows(b"BZh,target\n1,2\n") == ([[1.0]], [2.0])


def test_options_that_name_a_feature_twice_are_refused_by_the_reader_too() -> None:
    # The command line refuses them first (a usage error); the library's own callers are told here.
    with pytest.raises(DataError) as caught:
        open_table(b"a,b,target\n1,2,3\n", features=("a", "a"))
    assert str(caught.value) == f"{NAME}: --features: 'a' is named more than once"
