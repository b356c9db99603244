"""Messages about input that say what to do (issue 9): the delimiter a first line suggests, why a
quote cannot be the delimiter, a directory given for a file, and bytes that are not UTF-8."""

from __future__ import annotations

import io
import json

import pytest

from slopecli.errors import DataError
from slopecli.readers.delimited import CsvTable
from slopecli.readers.layout import ReadOptions

from conftest import SAMPLES, invoke, run_installed

ICONV = "; convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > NEW.csv"


def error_line(run) -> str:
    assert run.stdout == ""
    assert run.stderr.startswith("slopecli: error: ") and run.stderr.count("\n") == 1, run.stderr
    return run.stderr.removeprefix("slopecli: error: ").rstrip("\n")


@pytest.mark.parametrize(
    ("text", "flags", "hint"),
    [
        ("a;b;c;target\n1;2;3;4\n", (), "the first line looks ';'-separated: add --delimiter ';'"),
        ("a|b|target\n1|2|3\n", (), "the first line looks '|'-separated: add --delimiter '|'"),
        ("a\tb\ttarget\n1\t2\t3\n", (), "the first line looks tab-separated: add --delimiter tab"),
        ("a,b,target\n1,2,3\n", ("-d", ";"), "the first line looks ','-separated: add --delimiter ','"),
    ],
    ids=["semicolon", "pipe", "tab", "comma-read-with-semicolon"],
)
def test_a_file_read_with_the_wrong_delimiter_names_the_right_one(tmp_path, text, flags, hint):
    path = tmp_path / "data.csv"
    path.write_text(text)
    run = invoke("compute", str(path), "-w", "1", *flags)
    assert run.exit_code == 1
    first = text.split("\n")[0]
    assert error_line(run) == (
        f"{path}: no feature columns: the file has only the target column {first!r}; {hint}"
    )


def test_a_one_column_file_without_another_delimiter_gets_no_hint(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("target\n1\n")
    run = invoke("compute", str(path), "-w", "1")
    assert error_line(run) == f"{path}: no feature columns: the file has only the target column 'target'"


def test_a_parquet_column_is_never_taken_for_a_delimiter(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "one.parquet"
    pq.write_table(pa.table({"a;b": [1.0]}), path)
    run = invoke("compute", str(path), "-w", "1")
    assert error_line(run) == f"{path}: no feature columns: the file has only the target column 'a;b'"


@pytest.mark.parametrize(
    ("value", "line"),
    [
        (
            '"',
            "--delimiter: '\"' is the quote character, which encloses a value that holds the delimiter,"
            " so it cannot separate values; give another, such as ';' or '|', or 'tab'",
        ),
        ("\n", "--delimiter: '\\n' is a line break, which ends a row; give a character such as ';' or 'tab'"),
    ],
    ids=["quote", "newline"],
)
def test_a_delimiter_that_cannot_be_one_says_why(value, line):
    run = invoke("compute", str(SAMPLES / "course.csv"), "-w", "1", "--delimiter", value)
    assert run.exit_code == 2
    assert error_line(run) == line


@pytest.mark.parametrize("command", ["compute", "step", "descend", "check"])
def test_a_directory_asks_for_a_file_and_points_to_batch_and_the_dask_engine(tmp_path, command):
    # descend DIR must not read as if batch or the Dask engine would descend over the files.
    run = invoke(command, str(tmp_path), "-w", "1")
    assert run.exit_code == 1
    assert error_line(run) == (
        f"{tmp_path}: is a directory; give a file in it, or run slopecli batch {tmp_path} (add"
        f" --combine for one result) or compute {tmp_path} --engine dask, which read every file in it"
    )


LATIN1_HEADER = "größe,target\n1,2\n".encode("latin-1")


def test_a_latin1_header_is_refused_with_its_byte_line_column_and_offset():
    # It used to become 'gr\ufffd\ufffde' without a word.
    with pytest.raises(DataError) as caught:
        CsvTable(io.BytesIO(LATIN1_HEADER), "f.csv", ReadOptions())
    assert str(caught.value) == (
        "f.csv:1:1: the header is not UTF-8 text (byte 0xf6 at offset 2 in the line)" + ICONV
    )


def test_the_offset_is_counted_in_the_header_line_after_blank_lines_and_a_bom():
    data = b"\n\xef\xbb\xbf" + "a,b,maß,target\n1,2,3,4\n".encode("latin-1")
    with pytest.raises(DataError) as caught:
        CsvTable(io.BytesIO(data), "f.csv", ReadOptions())
    assert (
        str(caught.value)
        == "f.csv:2:3: the header is not UTF-8 text (byte 0xdf at offset 9 in the line)" + ICONV
    )


def test_a_latin1_header_fails_the_same_from_a_file_stdin_and_the_dask_engine(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(LATIN1_HEADER)
    tail = "1:1: the header is not UTF-8 text (byte 0xf6 at offset 2 in the line)" + ICONV
    assert error_line(invoke("compute", str(path), "-w", "1")) == f"{path}:{tail}"
    assert error_line(run_installed("compute", "-", "-w", "1", input=LATIN1_HEADER)) == f"<stdin>:{tail}"
    dask = invoke("batch", str(path), "-w", "1", "--json", "--engine", "dask", "--scheduler", "synchronous")
    assert dask.json()["files"][0]["error"] == f"{path}:{tail}"


def test_without_a_header_the_first_line_is_data_and_follows_the_data_rule():
    data = b"1,2\n" + "caf\xe9,3\n".encode("latin-1")
    with pytest.raises(DataError) as caught:
        list(CsvTable(io.BytesIO(data), "f.csv", ReadOptions(header=False)).chunks())
    assert (
        str(caught.value)
        == "f.csv:2:1: a value is not UTF-8 text (byte 0xe9 at offset 3 in the line)" + ICONV
    )


def test_latin1_in_a_column_that_is_not_read_is_ignored_and_never_blamed_for_another_error():
    data = "a,note,target\n1,café,2\n3,x,4\n5,ok,nope\n".encode("latin-1")
    table = CsvTable(io.BytesIO(data), "f.csv", ReadOptions(features=("a",)))
    with pytest.raises(DataError) as caught:
        list(table.chunks())
    assert str(caught.value) == "f.csv:4:3: column 'target': 'nope' is not a number"
    good = CsvTable(io.BytesIO(data[: data.rindex(b"5,ok")]), "f.csv", ReadOptions(features=("a",)))
    assert [c.y.tolist() for c in good.chunks()] == [[2.0, 4.0]]


def test_latin1_in_a_quoted_multi_line_value_of_a_column_that_is_read_names_its_line():
    data = b'a,target\n1,2\n"3\n\xe9",4\n'
    with pytest.raises(DataError) as caught:
        list(CsvTable(io.BytesIO(data), "f.csv", ReadOptions()).chunks())
    assert (
        str(caught.value)
        == "f.csv:4:1: a value is not UTF-8 text (byte 0xe9 at offset 0 in the line)" + ICONV
    )


@pytest.mark.parametrize(
    ("header", "column"),
    [(b"a,,target", 2), (b",a,b,target", 1), (b"a,,,target", 2), (b"a,b,,", 3), (b",a,,", 1)],
    ids=["a feature", "an index column", "two features", "a feature and the target", "the first of three"],
)
def test_a_column_read_without_a_name_is_refused_with_its_place(tmp_path, header, column):
    data = tmp_path / "unnamed.csv"
    data.write_bytes(header + b"\n1,2,3" + b",4" * (header.count(b",") - 2) + b"\n")
    run = invoke("compute", str(data), "-w", ",".join(["1"] * header.count(b",")), "--json")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.splitlines() == [
        f"slopecli: error: {data}:1:{column}: column {column} has no name in the header: name it, or choose"
        " the columns to read with --features (or read the file with --no-header)"
    ]


@pytest.mark.parametrize(
    ("header", "flags"),
    [(b",a,target", ("--features", "a")), (b"a, ", ()), (b",a,", ("--features", "a"))],
    ids=["not read", "the target", "the target and one not read"],
)
def test_an_unnamed_column_that_is_not_a_feature_is_no_problem(tmp_path, header, flags):
    data = tmp_path / "unnamed.csv"
    data.write_bytes(header + b"\n" + b"1," * header.count(b",") + b"2\n")
    run = invoke("compute", str(data), *flags, "-w", "1", "--json", "--summary")
    assert run.exit_code == 0, run.stderr


@pytest.mark.parametrize("how", ["file", "stdin", "gzip"])
def test_a_header_without_a_line_ending_and_nothing_else_has_no_data_rows(tmp_path, how):
    import gzip

    text = b"a,b,target"
    data = tmp_path / ("only.csv.gz" if how == "gzip" else "only.csv")
    data.write_bytes(gzip.compress(text) if how == "gzip" else text)
    args = ("compute", "-" if how == "stdin" else str(data), "-w", "1,1", "--json")
    run = run_installed(*args, input=text if how == "stdin" else None)
    name = "<stdin>" if how == "stdin" else str(data)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.splitlines() == [f"slopecli: error: {name}: the file has a header but no data rows"]


def test_control_characters_in_a_name_are_shown_not_sent_to_the_terminal(tmp_path, monkeypatch):
    """A column named with an escape sequence would recolour the user's terminal: tables and
    messages show each control character as a one-column symbol (ESC as ␛), and JSON keeps the
    name as it is."""
    from rich.cells import cell_len

    data = tmp_path / "esc.csv"
    data.write_bytes(b"a\x1b[31mRED,target\n1,2\n")
    monkeypatch.setenv("COLUMNS", "100")
    table = invoke("compute", str(data), "-w", "1")
    assert table.exit_code == 0, table.stderr
    assert "\x1b" not in table.stdout and "a␛[31mRED" in table.stdout
    framed = [line for line in table.stdout.splitlines() if line.startswith(("┃", "│", "┏", "└"))]
    assert len({cell_len(line) for line in framed[:6]}) == 1, framed  # the frame stays square
    error = invoke("compute", str(data), "-w", "1,2")
    assert error.exit_code == 1 and "\x1b" not in error.stderr and "a␛[31mRED" in error.stderr
    assert json.loads(invoke("compute", str(data), "-w", "1", "--json").stdout)["features"] == [
        "a\x1b[31mRED"
    ]


def test_a_file_name_that_is_not_utf8_is_shown_without_its_raw_byte(tmp_path):
    import os

    name = os.fsencode(tmp_path) + b"/plain\x9b.csv"
    with open(name, "wb") as fp:
        fp.write(b"a,target\n1,2\n")
    run = run_installed("compute", os.fsdecode(name), "-w", "1", "--summary")
    assert run.exit_code == 0, run.stderr
    assert "plain\ufffd.csv" in run.stdout


def test_batch_failure_lines_show_control_characters_as_symbols(tmp_path):
    bad = tmp_path / "bad\x1b[31m.csv"
    bad.write_text("a,b,target\n1,x,3\n")
    run = invoke("batch", str(bad), "-w", "1,1")
    assert run.exit_code == 1
    assert "\x1b" not in run.stderr and "bad␛[31m.csv" in run.stderr
