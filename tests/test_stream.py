"""readers/stream.Replay, driven from Python: what it serves, and how it counts the lines it drops."""

from __future__ import annotations

import pytest

from slopecli.readers.stream import Replay, read_head

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
