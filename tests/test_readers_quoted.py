"""Quoted values that hold line breaks: read from files, pieces and pipes (a row may straddle
one of Arrow's block boundaries, not two: a quoted value longer than a block is not read), and
placed by physical line when something is wrong."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import slopecli.readers.cuts as cuts
import slopecli.readers.delimited as delimited
import slopecli.readers.diagnosis as diagnosis
from slopecli.errors import DataError, SlopeError
from slopecli.evaluation import evaluate, evaluate_table
from slopecli.readers.delimited import CsvTable
from slopecli.readers.layout import ReadOptions

from conftest import Pipe

NOTE = st.text(alphabet='ab ,"\n\r', max_size=30)
W = np.array([0.5, -2.0])


def note_file(notes: list[str], ending: str = "\n") -> bytes:
    """a, note, b, target: each note quoted (quotes doubled), its line breaks kept."""
    rows = [f'{i},"{note.replace(chr(34), chr(34) * 2)}",{i % 7},{i % 5}' for i, note in enumerate(notes)]
    return ("a,note,b,target" + ending + ending.join(rows) + ending).encode()


def expected(data: bytes) -> tuple[list[list[float]], list[float]]:
    """The rows as Python's csv module reads them: the oracle."""
    records = list(csv.reader(io.StringIO(data.decode(), newline="")))[1:]
    return [[float(r[0]), float(r[2])] for r in records], [float(r[3]) for r in records]


def read(fp: io.RawIOBase | io.BytesIO, block_bytes: int) -> tuple[list[list[float]], list[float]]:
    table = CsvTable(fp, "f.csv", ReadOptions(features=("a", "b"), block_bytes=block_bytes))  # type: ignore[arg-type]
    chunks = list(table.chunks())
    return np.vstack([c.X for c in chunks]).tolist(), np.concatenate([c.y for c in chunks]).tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(NOTE, min_size=1, max_size=60), st.sampled_from([256, 4096]), st.booleans())
def test_quoted_line_breaks_are_read_across_blocks(notes, block_bytes, pipe):
    data = note_file(notes)
    source = Pipe(data, step=block_bytes) if pipe else io.BytesIO(data)
    assert read(source, block_bytes) == expected(data)


@pytest.fixture
def small_split(monkeypatch):
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 10)


def test_pieces_are_cut_outside_quotes_only(tmp_path, small_split):
    plain = "".join(f"{i},n,{i % 3},{i % 5}\n" for i in range(300))
    path = tmp_path / "d.csv"
    # A line break in the middle of the file lies inside one long quoted value.
    path.write_text("a,note,b,target\n" + plain + '1,"' + "line\n" * 400 + '",2,3\n' + plain)
    with open(path, "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(features=("a", "b"), block_bytes=8192))
        pieces = table.pieces(2)
        assert len(pieces) == 2
        fp.seek(pieces[1][0] - 6)
        assert fp.read(6) == b'",2,3\n'  # the cut moved on to just after the long value
        assert sum(len(c.y) for piece in pieces for c in table.read_piece(piece)) == 601
        together, one = evaluate_table(table, W, 2), evaluate(table.chunks(), W)
    assert together.n == one.n == 601
    np.testing.assert_array_equal(together.gradient, one.gradient)


def test_pieces_of_a_quoted_file_agree_with_one_pass(tmp_path, small_split):
    path = tmp_path / "d.csv"
    lines = [f'"{i}","say ""{i}""\nthen more",{i % 3},"{i % 5}"\n' for i in range(2000)]
    path.write_text('"a","note","b","target"\n' + "".join(lines))
    with open(path, "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(features=("a", "b"), block_bytes=4096))
        pieces = table.pieces(3)
        assert len(pieces) == 3  # every cut at a row start, outside quoted values
        # Each piece reads on its own (a failed one would fall back to one pass unseen).
        assert sum(len(c.y) for piece in pieces for c in table.read_piece(piece)) == 2000
        together, one = evaluate_table(table, W, 3), evaluate(table.chunks(), W)
    assert together.n == one.n == 2000
    np.testing.assert_array_equal(together.gradient, one.gradient)


def test_a_cut_inside_quotes_moves_on_to_the_next_row(tmp_path, monkeypatch):
    rows = [b'"a\nb",1\n', b'"c",2\n', b'"d\n' + b"e\n" * 20 + b'",3\n', b"4,4\n"]
    data = b"h\n" + b"".join(rows)
    starts = [data.index(row) for row in rows]  # 2, 10, 16, 63
    path = tmp_path / "q.csv"
    path.write_bytes(data)
    with open(path, "rb") as fp:
        assert cuts.row_starts(fp.fileno(), starts, ",") == starts
        # 5 is inside "a\nb", 19 inside "d…": each moves on to the next row's start.
        assert cuts.row_starts(fp.fileno(), [2, 5, 19], ",") == [2, starts[1], starts[3]]
        monkeypatch.setattr(cuts, "QUOTED_LINES_BYTES", 16)
        assert cuts.row_starts(fp.fileno(), [2, 19], ",") is None  # not out of "d… within 16


def rows_outside_quotes(data: bytes, start: int, delimiter: str) -> list[int]:
    """The oracle: the line starts from ``start`` on that are outside quoted values, following
    Arrow's parser a byte at a time (a quote opens a value only at a field's start; in one, a
    doubled quote is a quote and a single one ends it; the field then goes on as text)."""
    found, inside, field_start, i = [start], False, True, start
    while i < len(data):
        c = data[i : i + 1]
        if inside:
            if c == b'"':
                if data[i + 1 : i + 2] == b'"':
                    i += 1
                else:
                    inside = False
        elif c == b'"' and field_start:
            inside, field_start = True, False
        else:
            field_start = c in (delimiter.encode(), b"\n", b"\r")
            if c == b"\n":
                found.append(i + 1)
        i += 1
    return found


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=600).map(lambda b: bytes(b'"\n,;1a\r'[c % 7] for c in b)),
    st.sampled_from([",", ";"]),
    st.sampled_from([7, 64, 1 << 20]),
    st.data(),
)
def test_cuts_are_moved_to_row_starts_as_arrow_reads_them(tmp_path_factory, data, delimiter, block, draw):
    path = tmp_path_factory.mktemp("q") / "q.csv"
    path.write_bytes(data)
    line_starts = [0] + [i + 1 for i, c in enumerate(data) if c == ord("\n")]
    chosen = sorted(draw.draw(st.lists(st.sampled_from(line_starts), min_size=1, max_size=6)))
    with open(path, "rb") as fp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(cuts, "_BLOCK_BYTES", block)  # blocks of a few bytes: runs of quotes cross them
        starts = cuts.row_starts(fp.fileno(), chosen, delimiter)
    rows = rows_outside_quotes(data, chosen[0], delimiter)
    # Each cut moves on to the first row start at or after it (within QUOTED_LINES_BYTES, which
    # this small file never exceeds), never backwards.
    want: list[int] = []
    for cut in chosen:
        after = [r for r in rows if r >= cut]
        if not after:
            assert starts is None
            return
        want.append(max([after[0], *want[-1:]]))
    assert starts == want


# Runs of one to five quotes at a field's start, inside a field and inside a value, for blocks
# of every small size: a run that crosses a block's end is left to the next block.
RUNS = [
    b'a,"x\ny",1\n2,3\n',
    b'"""a\n",1\n2,3\n',
    b'a""b,"c""\n""d",1\n2,3\n',
    b'a,""""\n1,"\n"""""\n",2\n3,4\n',
    b'12" pipe,1\n"p\n7,8",2\n9,9\n',
    b"x,y\n1,2\n3,4\n5,6\n",
]


@pytest.mark.parametrize("block", range(2, 10))
@pytest.mark.parametrize("data", RUNS)
def test_runs_of_quotes_across_small_blocks_are_followed_as_arrow_reads_them(
    tmp_path, monkeypatch, data, block
):
    monkeypatch.setattr(cuts, "_BLOCK_BYTES", block)
    path = tmp_path / "q.csv"
    path.write_bytes(data)
    line_starts = [0] + [i + 1 for i, c in enumerate(data) if c == ord("\n")]
    rows = rows_outside_quotes(data, 0, ",")
    longest_run = max(map(len, re.findall(b'"+', data)), default=0)
    with open(path, "rb") as fp:
        for cut in line_starts:
            after = [r for r in rows if r >= cut]
            starts = cuts.row_starts(fp.fileno(), [0, cut], ",")
            if starts is None and (block <= longest_run or not after):
                continue  # a block of quotes alone, or no row after the cut: read in one pass
            assert starts == [0, after[0]]


def test_a_cut_past_the_end_of_a_file_that_shrank_is_not_made(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(b'"a\nb",1\n2,3\n')
    with open(path, "rb") as fp:
        assert cuts.row_starts(fp.fileno(), [0, 8, 1000], ",") is None


def test_a_block_of_quotes_alone_is_not_cut_inside(tmp_path, monkeypatch):
    # Where such a run ends cannot be told a block at a time: the file is read in one pass.
    monkeypatch.setattr(cuts, "_BLOCK_BYTES", 4)
    path = tmp_path / "q.csv"
    path.write_bytes(b'1,"' + b'"' * 12 + b'\n",2\n3,4\n')
    with open(path, "rb") as fp:
        assert cuts.row_starts(fp.fileno(), [0, 16], ",") is None


def test_a_quote_inside_an_unquoted_field_does_not_move_the_cuts(tmp_path, small_split):
    # A count of quotes would take the second line of every later quoted value for a row start:
    # both pieces would parse, and rows would be read twice.
    notes = ['12" pipe'] + ['"note\n7,8,9,x"'] * 2999
    lines = [f"{i},{i % 3},{i % 5},{note}\n" for i, note in enumerate(notes)]
    path = tmp_path / "d.csv"
    path.write_text("a,b,target,notes\n" + "".join(lines))
    with open(path, "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(features=("a", "b"), block_bytes=4096))
        pieces = table.pieces(3)
        assert len(pieces) == 3
        together, one = evaluate_table(table, W, 3), evaluate(table.chunks(), W)
    assert together.n == one.n == 3000
    np.testing.assert_array_equal(together.gradient, one.gradient)


def reading(monkeypatch) -> list[object]:
    """Whether each Arrow reader opened from now on follows quotes (None: by default, yes)."""
    quoting: list[object] = []
    opened = delimited._arrow_reader

    def spy(*args, **options):
        quoting.append(options.get("quoting"))
        return opened(*args, **options)

    monkeypatch.setattr(delimited, "_arrow_reader", spy)
    return quoting


def test_the_last_piece_follows_quotes_as_pieces_after_a_quote_do(tmp_path, small_split, monkeypatch):
    # Its quoted note's two lines would each pass for a row of a, b and target, were quotes not
    # followed there: 301 rows, not 302.
    plain = "".join(f"n,{i},{i % 3},{i % 5}\n" for i in range(300))
    path = tmp_path / "d.csv"
    path.write_text("note,a,b,target\n" + plain + '"p,1,2\nq",3,4,5\n')
    quoting = reading(monkeypatch)
    with open(path, "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(features=("a", "b"), block_bytes=4096))
        pieces = table.pieces(3)
        assert len(pieces) == 3
        assert pieces[-1][0] < path.read_bytes().index(b'"')
        for piece in pieces:
            list(table.read_piece(piece))
        assert quoting == [False, False, True]
        together, one = evaluate_table(table, W, 3), evaluate(table.chunks(), W)
    assert together.n == one.n == 301
    np.testing.assert_array_equal(together.gradient, one.gradient)


def test_pieces_before_the_first_quote_are_parsed_with_quoting_off(tmp_path, small_split, monkeypatch):
    # A quoted header is not in the rows; the first quote in them is in the second piece.
    rows = [f"{i},{i % 3},{i % 5}\n" for i in range(3000)]
    rows[1500] = '1500,"0",0\n'
    path = tmp_path / "d.csv"
    path.write_text('"a","b","target"\n' + "".join(rows))
    quoting = reading(monkeypatch)
    with open(path, "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        pieces = table.pieces(4)
        assert len(pieces) == 4
        for piece in pieces:
            list(table.read_piece(piece))
        assert quoting == [False, True, True, True]
        together, one = evaluate_table(table, W, 4), evaluate(table.chunks(), W)
    assert together.n == one.n == 3000
    np.testing.assert_array_equal(together.gradient, one.gradient)


@pytest.mark.parametrize("at", [None, 0, 5, 199, 200, 201, 399])
def test_the_first_quote_is_found_in_either_half(tmp_path, at):
    data = bytearray(b"1,2\n" * 100)
    if at is not None:
        data[at] = data[min(at + 40, 399)] = ord('"')
    path = tmp_path / "q.csv"
    path.write_bytes(bytes(data))
    with open(path, "rb") as fp:
        assert cuts.first_quote(fp.fileno(), 0, 400) == at
        assert cuts.first_quote(fp.fileno(), 0, 0) is None


def test_a_read_error_while_searching_for_quotes_aside_is_raised_by_the_caller(tmp_path, monkeypatch):
    path = tmp_path / "q.csv"
    path.write_bytes(b"1,2\n" * 100)
    searched = cuts._first_quote

    def failing(fd, start, end):
        if start >= 200:  # the second half, searched on the other thread
            raise OSError(5, "Input/output error")
        return searched(fd, start, end)

    monkeypatch.setattr(cuts, "_first_quote", failing)
    with open(path, "rb") as fp, pytest.raises(OSError, match="Input/output error"):
        cuts.row_starts(fp.fileno(), [0, 200, 400], ",")


def failure(data: bytes, **options: object) -> SlopeError:
    with pytest.raises(SlopeError) as caught:
        list(CsvTable(io.BytesIO(data), "f.csv", ReadOptions(**options)).chunks())  # type: ignore[arg-type]
    return caught.value


def test_a_quoted_number_with_a_line_break_is_named_where_it_starts():
    error = failure(b'a,target\n"1",2\n"3\n",4\n5,x\n')
    assert str(error) == "f.csv:3:1: column 'a': '3\\n' is not a number"


def test_lines_after_a_value_of_several_lines_are_numbered_physically():
    error = failure(b'a,note,target\n1,"x\ny",2\n3,"p\r\nq\rr",4\n5,z,abc\n', features=("a",))
    assert str(error) == "f.csv:7:3: column 'target': 'abc' is not a number"


def test_a_stray_quote_is_named_not_read_to_the_end(monkeypatch):
    monkeypatch.setattr(diagnosis, "LONGEST_QUOTED", 4096)
    data = b'a,b,target\n1,2,3\n4,"5,6\n' + b"1,2,3\n" * 5000
    error = failure(data, block_bytes=1024)
    assert isinstance(error, DataError)
    assert str(error) == (
        "f.csv:3: a quoted value starts on this line and does not end in the next 4,096 bytes: a stray"
        " quote character? Remove it, or close the quoted value"
    )


def test_a_quote_inside_an_unquoted_field_is_text_not_the_start_of_a_value():
    # Arrow and the csv module read '12" pipe' as text: the diagnosis must too, and a bad value
    # after it is named where it is (a quote count would think the rest of the file quoted).
    data = b'a,size in",target\n1,12" pipe,3\n' + b"1,2,3\n" * 2000 + b"1,2,abc\n"
    error = failure(data, features=("a",), block_bytes=1024)
    assert str(error) == "f.csv:2003:3: column 'target': 'abc' is not a number"


@pytest.mark.parametrize("step", [1, 4, 6, 64])
def test_a_header_with_a_quoted_line_break_is_read_from_a_pipe_in_small_writes(step):
    # (Rows with quoted line breaks in writes of a few bytes may straddle two of Arrow's blocks:
    # the header is read whole before Arrow starts, so it never does.)
    data = b'a,"no\nte",b,target\n1,x,2,3\n4,y,5,6\n'
    assert read(Pipe(data, step=step), 4096) == expected(data)


@pytest.mark.parametrize("pipe", [False, True])
@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'a,"note,target\n1,x,2\n', "f.csv:1"),
        (b'\n\na,b,"target\n1,2,3\n', "f.csv:3"),
        (b'a,"no\nte","b\n1,2,3\n', "f.csv:2"),
    ],
)
def test_a_quote_left_open_in_the_header_is_named_where_it_opens(data, where, pipe):
    source = Pipe(data, step=5) if pipe else io.BytesIO(data)
    with pytest.raises(DataError) as caught:
        CsvTable(source, "f.csv", ReadOptions(features=("a",)))  # type: ignore[arg-type]
    assert str(caught.value) == (
        f"{where}: a quoted value starts on this line and does not end before the end of the file: a"
        " stray quote character? Remove it, or close the quoted value"
    )


@pytest.mark.parametrize("pipe", [False, True])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        # A quote left open in a row took the rest of the file into one value: "expected 3 fields".
        (b'a,b,target\n1,"2,3\n4,5,6\n', "f.csv:2:2: a quoted value starts on this line and does not end"),
        (
            b"a,b,target\n" + b"1,2,3\n" * 50 + b'1,2,"3\n' + b"4,5,6\n" * 50,
            "f.csv:52:3: a quoted value starts on this line and does not end",
        ),
        # On the last line, and after a closed value of two lines: where it opens.
        (b'a,b,target\n4,5,6\n1,"2,3\n', "f.csv:3:2: a quoted value starts on this line and does not end"),
        (b'a,b,target\n4,5,6\n1,2,"3\n', "f.csv:3:3: a quoted value starts on this line and does not end"),
        (b'a,b,target,c\n1,"x\ny",3,"4\n5,6,7,8\n', "f.csv:3:4: a quoted value starts on this line"),
        # Closed, with a line break inside: the row is short, as it says.
        (b'a,b,target\n1,"a\nb"\n4,5,6\n', "f.csv:2: expected 3 fields, found 2"),
    ],
)
def test_a_quote_left_open_in_a_row_is_named_where_it_opens(data, message, pipe):
    source = Pipe(data, step=7) if pipe else io.BytesIO(data)
    with pytest.raises(DataError) as caught:
        list(CsvTable(source, "f.csv", ReadOptions()).chunks())  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)


def test_a_quote_left_open_in_the_header_of_a_long_stream_is_given_up_on(monkeypatch):
    monkeypatch.setattr(delimited, "LONGEST_QUOTED", 4096)
    pipe = Pipe(b'a,"b,target\n' + b"1,2,3\n" * 100_000, step=1000)
    with pytest.raises(DataError) as caught:
        CsvTable(pipe, "f.csv", ReadOptions(features=("a",)))  # type: ignore[arg-type]
    assert str(caught.value).startswith(
        "f.csv:1: a quoted value starts on this line and does not end in the next 4,096 bytes: "
    )
    assert pipe._data.tell() < 10_000  # the stream was not read to its end


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'a,b,"target"', "f.csv: the file has a header but no data rows"),
        (b'a,b,"tar""get"', "f.csv: the file has a header but no data rows"),
        (b'a,b,"tar""get"""', "f.csv: the file has a header but no data rows"),
        (
            b'a,b,"tar""',
            "f.csv:1: a quoted value starts on this line and does not end before the end of the file",
        ),
    ],
)
@pytest.mark.parametrize("pipe", [False, True])
def test_a_quote_that_is_the_last_byte_of_the_file_closes_its_value(data, message, pipe):
    source = Pipe(data, step=3) if pipe else io.BytesIO(data)
    with pytest.raises(DataError) as caught:
        list(CsvTable(source, "f.csv", ReadOptions()).chunks())  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)


def test_a_row_without_a_header_may_end_the_file_with_a_closing_quote():
    table = CsvTable(io.BytesIO(b'1,2,"3"'), "f.csv", ReadOptions(header=False))
    assert [(c.X.tolist(), c.y.tolist()) for c in table.chunks()] == [([[1.0, 2.0]], [3.0])]


BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("step", [1, 2, 4, 64])
def test_a_byte_order_mark_is_not_part_of_the_first_field(step):
    # The quote after the mark opens the first name; blank lines after the mark are skipped.
    data = BOM + b'\n\n"a\nx",b,target\n1,2,3\n4,5,6\n'
    table = CsvTable(Pipe(data, step=step), "f.csv", ReadOptions())  # type: ignore[arg-type]
    assert table.features == ("a\nx", "b")
    assert sum(len(c.y) for c in table.chunks()) == 2


@pytest.mark.parametrize("data", [BOM + b'"a,b,target\n1,2,3\n', BOM + b'\n\na,"b,t\n1,2,3\n'])
def test_a_quote_left_open_after_a_byte_order_mark_is_named(data):
    line = 1 + data.count(b"\n", 0, data.index(b'"'))
    with pytest.raises(
        DataError, match=f"^f.csv:{line}: a quoted value starts on this line and does not end"
    ):
        CsvTable(io.BytesIO(data), "f.csv", ReadOptions())


def test_a_header_quote_left_open_in_a_large_file_is_named_from_the_head_alone(tmp_path, monkeypatch):
    # The csv module is not asked to read the megabytes after the quote as one value.
    monkeypatch.setattr(delimited, "LONGEST_QUOTED", 64 << 10)
    path = tmp_path / "open.csv"
    path.write_bytes(b'a,"b,target\n' + b"1.5,2.25,3.125\n" * 200_000)
    monkeypatch.setattr(delimited.csv, "reader", None)
    with open(path, "rb") as fp, pytest.raises(DataError) as caught:
        CsvTable(fp, "open.csv", ReadOptions())
    assert str(caught.value).startswith(
        "open.csv:1: a quoted value starts on this line and does not end in the next 65,536 bytes"
    )


def test_rows_without_a_header_after_a_byte_order_mark_are_cut_where_arrow_reads_rows(tmp_path, small_split):
    # The quote after the mark opens a value (Arrow skips the mark): followed from the file's
    # first byte instead, the quoted state would be the opposite of Arrow's, and rows read twice.
    path = tmp_path / "d.csv"
    path.write_bytes(BOM + b'"a,",2,3,x\n' + b'1,2,3,"p\n7,8,9,"\n' * 1000)
    options = ReadOptions(header=False, features=("x2",), target_column="x3", block_bytes=4096)
    with open(path, "rb") as fp:
        table = CsvTable(fp, "d.csv", options)
        assert table.pieces(3)[0][0] == len(BOM)
        together, one = evaluate_table(table, np.array([0.5]), 3), evaluate(table.chunks(), np.array([0.5]))
    assert together.n == one.n == 1001
    np.testing.assert_array_equal(together.gradient, one.gradient)


@pytest.mark.parametrize("blank", [b",,\n", b'"",""\n \n', b", \r\n"])
@pytest.mark.parametrize("step", [1, 3, 64])
def test_records_of_empty_fields_before_the_header_are_skipped_from_a_pipe(blank, step):
    # As the reader skips them in a file: the header is the first record with a name in it.
    data = blank + b'a,"b\nc",target\n1,2,3\n'
    table = CsvTable(Pipe(data, step=step), "f.csv", ReadOptions())  # type: ignore[arg-type]
    assert table.features == ("a", "b\nc")
    assert [c.y.tolist() for c in table.chunks()] == [[3.0]]
