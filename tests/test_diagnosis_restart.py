"""A failure late in a large file is diagnosed from where Arrow stopped, not from the file's start.

The Python walk that names file:line:column goes at a few MB a second: a download cut short at the
end of a 30 MB file took 9 s to report. Arrow's batch k holds the rows that end in the k-th block
it was served, so the walk starts at the block before the failed batch's, its line number counted
at the speed of ``bytes.count``, and it must report exactly what a walk from the start reports.
"""

from __future__ import annotations

import gzip
import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slopecli.errors import SlopeError
from slopecli.readers import delimited
from slopecli.readers.delimited import CsvTable
from slopecli.readers.diagnosis import diagnose, resume
from slopecli.readers.layout import ReadOptions
from slopecli.readers.stream import RECENT_BLOCKS, Blocks

LINE_START = re.compile(rb"\r\n|\r(?!\n)|\n")

pieces = st.lists(st.sampled_from([b"ab", b"c", b"\n", b"\r", b"\r\n", b"x\r\ny", b"1,2"]), max_size=30)


@given(pieces, st.data())
def test_resume_starts_at_the_first_line_start_at_or_after_the_offset_with_its_number(parts, data):
    text = b"h\n" + b"".join(parts)
    offset = data.draw(st.integers(3, len(text) + 1))
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=5)))
    blocks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    rest, line = resume(blocks, offset, header_bytes=2)
    rest = b"".join(rest)
    starts = [0, *(m.end() for m in LINE_START.finditer(text))]
    expected = min((s for s in starts if s >= offset), default=len(text))
    assert len(text) - len(rest) == expected
    if rest:
        assert line == starts.index(expected) + 1


def test_resume_declines_when_a_quote_comes_after_the_header():
    text = b'"a","b","target"\n1,2,3\n"4",5,6\n7,8,9\n'
    header = len(b'"a","b","target"\n')
    assert resume([text], len(text) - 6, header) is None  # the quoted "4" may hide a line break
    rest, line = resume([text], header + 2, header)  # quotes in the header alone are fine
    assert (b"".join(rest), line) == (b'"4",5,6\n7,8,9\n', 3)


def test_blocks_know_where_their_last_blocks_start():
    data = b"".join(b"%d,%d\n" % (i, i) for i in range(5000))
    blocks = Blocks(io.BytesIO(data))
    served = []
    while block := blocks.read(64):
        served.append(block)
    starts = [sum(map(len, served[:i])) for i in range(len(served))]
    assert len(served) > RECENT_BLOCKS
    kept = range(len(served) - RECENT_BLOCKS + 1, len(served))
    assert [blocks.block_start(i) for i in kept] == [starts[i] for i in kept]
    assert blocks.block_start(kept.start - 1) is None
    assert blocks.block_start(len(served)) is None


def _rows(draw, count: int, ending: bytes, quoted_note: bool) -> list[bytes]:
    rows = []
    for i in range(count):
        note = b'"say ""hi""\nthere"' if quoted_note and i == count // 3 else b"n%d" % i
        rows.append(b"%d.5,%s,%d" % (i, note, -i) + ending)
        if draw(st.integers(0, 40)) == 0:
            rows.append(ending)  # a blank line, which Arrow skips and line numbers count
    return rows


@st.composite
def broken_files(draw):
    """A file of a few hundred rows with one problem somewhere, and a block size to read it by."""
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    quoted_note = draw(st.booleans())
    header = b'"a","note","target"' if draw(st.booleans()) else b"a,note,target"
    rows = _rows(draw, draw(st.integers(20, 400)), ending, quoted_note)
    bad = draw(st.integers(0, len(rows) - 1))
    rows.insert(
        bad,
        draw(st.sampled_from([b"1,n,2,3", b"1,n", b"x,n,2", b"1,n,nan", b"1,n,", b"1,n,\xff"])) + ending,
    )
    if draw(st.booleans()):
        rows[-1] = rows[-1].rstrip(b"\r\n")[:-1]  # cut short, as an interrupted download is
    return header + ending + b"".join(rows), draw(st.integers(32, 700))


def _failure(table: CsvTable) -> str:
    with pytest.raises(SlopeError) as caught:
        for _ in table.chunks():
            pass
    return str(caught.value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(broken_files(), st.sampled_from(["memory", "disk", "gzip"]))
def test_a_failure_is_reported_exactly_as_a_walk_from_the_start_reports_it(tmp_path, case, source):
    data, block = case
    options = ReadOptions(block_bytes=block, features=("a",))
    if source == "memory":
        got = _failure(CsvTable(io.BytesIO(data), "f.csv", options))
    else:  # on disk, read with pread at a position of the diagnosis' own; or decompressed again
        path = tmp_path / "f.csv"
        path.write_bytes(gzip.compress(data) if source == "gzip" else data)
        with path.open("rb") as fp:
            got = _failure(CsvTable(fp, "f.csv", options))
    layout = CsvTable(io.BytesIO(data), "f.csv", options)
    expected = diagnose([data], "f.csv", layout.layout, layout.options)
    assert expected is not None
    assert got == str(expected)


def test_a_file_cut_short_is_diagnosed_from_near_its_end(monkeypatch):
    data = b"a,b,target\n" + b"".join(b"%d,%d,%d\n" % (i, i, i) for i in range(50_000)) + b"7,8"
    walked = []

    def spy(blocks, *args, **kwargs):
        found = diagnose(blocks, *args, **kwargs)
        walked.append(args[3] if len(args) > 3 else kwargs.get("first_line", 1))
        return found

    monkeypatch.setattr(delimited, "diagnose", spy)
    message = _failure(CsvTable(io.BytesIO(data), "f.csv", ReadOptions(block_bytes=4096)))
    assert message == "f.csv:50002: expected 3 fields, found 2"
    assert walked and walked[0] > 49_000


@pytest.mark.parametrize("block", [64, 100])
def test_a_bad_row_that_straddles_two_blocks_is_found_wherever_it_falls(block):
    """Each row position in turn, so that some bad row starts in one block and ends in the next:
    its batch is the second block's, and the walk must start in the first."""
    rows = [b"%03d,1,2\n" % i for i in range(120)]  # 8 bytes a row
    for bad in range(30, 80):
        broken = [*rows[:bad], b"%03d,1\n" % bad, *rows[bad + 1 :]]
        data = b"a,b,target\n" + b"".join(broken)
        message = _failure(CsvTable(io.BytesIO(data), "f.csv", ReadOptions(block_bytes=block)))
        assert message == f"f.csv:{bad + 2}: expected 3 fields, found 2"


def test_a_restart_that_finds_nothing_walks_the_whole_file(monkeypatch):
    """Should the restart ever fall after the bad row, the walk from the start still finds it."""
    data = b"a,b,target\n" + b"".join(b"%d,%d,%d\n" % (i, i, i) for i in range(5_000)) + b"1,x,3\n"
    data += b"".join(b"%d,%d,%d\n" % (i, i, i) for i in range(5_000))
    monkeypatch.setattr(delimited, "resume", lambda blocks, offset, header: (iter([b"1,2,3\n"]), 9_999))
    message = _failure(CsvTable(io.BytesIO(data), "f.csv", ReadOptions(block_bytes=4096)))
    assert message == "f.csv:5002:2: column 'b': 'x' is not a number"
