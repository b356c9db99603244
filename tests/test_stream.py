"""readers/stream.Replay, driven from Python: what it serves, and how it counts the lines it drops."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slopecli.readers.stream import FirstRecord, Replay, read_head

from conftest import Pipe


def drain(replay: Replay, size: int) -> bytes:
    out = b""
    while chunk := replay.read(size):
        out += chunk
    return out


def test_read_head_stops_after_the_first_whole_line():
    pipe = Pipe(b"\n\na,b,target\n1,2,3\n4,5,6\n", step=3)
    head = read_head(pipe, 1 << 20)
    assert head.startswith(b"\n\na,b,target\n") and len(head) < 20


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("size", [7, 64, 1000])
def test_replay_serves_everything_and_every_block_holds_a_line_ending(ending, size):
    lines = [b"a,b,target"] + [b"%d,%d,%d" % (i, i, i) for i in range(3000)]
    data = ending.join(lines) + ending
    pipe = Pipe(data, step=5)
    head = read_head(pipe, 1 << 20)
    replay = Replay(pipe, head, keep=0)
    blocks = []
    while block := replay.read(size):
        blocks.append(block)
    assert b"".join(blocks) == data
    assert all(b"\n" in b or b"\r" in b or len(b) == size for b in blocks[:-1])


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("step", [1, 13, 4096])
def test_recent_bytes_start_at_a_whole_line_with_its_number(monkeypatch, ending, step):
    import slopecli.readers.stream as stream

    monkeypatch.setattr(stream, "RECENT_BYTES", 2000)
    lines = [b"a,b,target"] + [b"%d,%d,%d" % (i, i + 1, 2 * i) for i in range(5000)]
    data = ending.join(lines) + ending
    replay = Replay(Pipe(data, step=step), b"")
    drain(replay, 512)
    recent, number, from_start = replay.recent()
    assert not from_start
    first = recent.split(ending)[0]
    assert first == lines[number - 1]
    assert len(recent) >= 2000 - 200


def test_recent_bytes_of_a_short_stream_are_all_of_it():
    data = b"a,target\n1,2\n"
    replay = Replay(Pipe(data, step=4), b"")
    drain(replay, 64)
    assert replay.recent() == (data, 1, True)


def test_a_stream_cut_short_by_the_reader_drops_its_unfinished_last_line():
    data = b"a,target\n" + b"1,2\n" * 100 + b"3,4\n"
    replay = Replay(Pipe(data, step=1), b"")
    replay.read(64)
    recent, number, from_start = replay.recent()
    assert from_start and number == 1 and recent.endswith(b"\n")


def test_blocks_grow_to_the_end_of_a_last_line_without_an_ending():
    from slopecli.readers.stream import Blocks

    data = b"a,target\n" + b"1" * 500 + b",2"
    blocks = Blocks(Pipe(data, step=7))
    first = blocks.read(16)
    assert first == b"a,target\n11111"  # short reads, until one holds a line ending
    assert blocks.read(16) == data[len(first) :]  # no ending left: grown to the end
    assert blocks.read(16) == b""


def test_blocks_read_everything_when_asked_for_all():
    from slopecli.readers.stream import Blocks

    data = b"a,target\r\n" * 1000
    assert Blocks(Pipe(data, step=100), head=b"x,y\r").read() == b"x,y\r" + data


def test_the_first_block_holds_the_header_whole():
    from slopecli.readers.stream import Blocks

    data = b"\n\na,b,target\n1,2,3\n"
    assert Blocks(Pipe(data, step=3), head=data[:14], first=14).read(4) == data[:14]


def test_the_last_blocks_are_kept_however_large_they_grew(monkeypatch):
    import slopecli.readers.stream as stream

    monkeypatch.setattr(stream, "RECENT_BYTES", 10)
    line = b"1," * 500 + b"2\n"  # each block grows to one whole line
    replay = Replay(Pipe(line * 100, step=64), b"")
    drain(replay, 16)
    recent, number, from_start = replay.recent()
    assert not from_start
    kept = len(recent) // len(line)  # whole lines, from the first that the 64 blocks hold whole
    assert stream.RECENT_BLOCKS - 1 <= kept < 100
    assert recent == line * kept and number == 100 - kept + 1


# Fields that a header may hold: plain, quoted (with line breaks and doubled quotes), and text
# with a quote inside it ('12" pipe'), which is not the start of a quoted value.
FIELD = st.one_of(
    st.text(alphabet="ab 1", max_size=4),
    st.text(alphabet='ab ,\n\r"', max_size=6).map(lambda t: '"' + t.replace('"', '""') + '"'),
    st.text(alphabet="ab", min_size=1, max_size=3).map(lambda t: t + '"' + t),
)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="\n", max_size=3),
    st.lists(FIELD, min_size=1, max_size=5).filter(lambda fields: "".join(fields).strip()),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.integers(1, 9),
)
def test_the_first_record_ends_where_the_csv_module_ends_it(blank, fields, delimiter, ending, step):
    text = blank + delimiter.join(f.replace(",", delimiter) for f in fields) + ending + "1,2" + ending
    data = text.encode()
    head = read_head(Pipe(data, step=step), 1 << 20, ended=FirstRecord(delimiter, 1 << 20).ended)
    # The csv module's first non-blank record ends at a line ending that the head holds whole.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    record = next(r for r in reader if any(field.strip() for field in r))  # as the reader skips
    # (A CR is a line ending: the LF after it may still be on its way.)
    want = "".join(text.splitlines(keepends=True)[: reader.line_num]).encode().removesuffix(b"\n")
    assert head.startswith(want)
    assert len(head) < len(want) + step + len(ending)  # and not much more
    assert record  # the generated header is a record the csv module reads


def test_a_quote_left_open_is_followed_no_further_than_the_longest_quoted_value():
    first = FirstRecord(",", 100)
    head = read_head(Pipe(b'a,"b,target\n' + b"1,2,3\n" * 1000, step=7), 1 << 20, ended=first.ended)
    assert first.unclosed == 2
    assert 100 < len(head) - 2 <= 107


def test_a_nul_byte_ends_the_search_for_the_header():
    # A binary file is named as such by the reader, not read on in search of a closing quote.
    first = FirstRecord(",", 1 << 20)
    head = read_head(Pipe(b'a,"\x00' + b"x" * 100_000, step=1000), 1 << 20, ended=first.ended)
    assert len(head) == 1000
