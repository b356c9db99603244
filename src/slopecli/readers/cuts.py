"""Where a CSV file can be cut into pieces: at line starts that are row starts.

A quoted value may hold a line break, so a line start is a row start only outside quoted values,
and whether it is depends on every quote before it. Most files have no quote at all, and their
bytes say so at memory speed (:func:`first_quote`). Otherwise they are read again from the first
quote on, and the quotes followed as Arrow's parser follows them (:class:`_Quotes`): a quote opens
a value only at the start of a field (``12" pipe`` is text), ``""`` inside one is a quote, and the
value ends at the next quote on its own. A count of quotes alone is not enough: a quote in an
unquoted field would shift it by one, and a line inside a later quoted value would pass for a
row start (both pieces then parse, and rows are read twice or not at all).
"""

from __future__ import annotations

import os
import threading

import numpy as np

QUOTED_LINES_BYTES = 1 << 20
"""How far a cut may move on to get out of a quoted value."""

_BLOCK_BYTES = 1 << 20
_QUOTE, _LF, _CR = (ord(c) for c in '"\n\r')


def row_starts(fd: int, cuts: list[int], delimiter: str, quote: int | None = None) -> list[int] | None:
    """``cuts`` (line starts in the file, the first where the rows start), each moved on to the
    first line start outside quoted values; None if one is not found within
    :data:`QUOTED_LINES_BYTES` (the file is then read in one pass). ``quote`` is the offset of the
    first quote at or after the first cut, if the caller has found it already."""
    if quote is None and len(cuts) >= 2:
        quote = first_quote(fd, cuts[0], cuts[-1])
    if quote is None:
        return list(cuts)
    # The cuts before the first quote are row starts; the quotes are followed from the last of them.
    starts = [cut for cut in cuts if cut <= quote]
    quotes = _Quotes(fd, starts[-1], ord(delimiter))
    for cut in cuts[len(starts) :]:
        start = max(cut, starts[-1])
        inside = quotes.inside(start)
        if inside is None:
            return None  # the file shrank (or a block held quotes alone)
        if inside:
            found = quotes.next_row_start(start, start + QUOTED_LINES_BYTES)
            if found is None:
                return None
            start = found
        starts.append(start)
    return starts


def first_quote(fd: int, start: int, end: int) -> int | None:
    """The offset of the first quote character in bytes ``start``..``end`` of the file, if any.

    They are read with pread into a reused buffer (a file that shrinks meanwhile only gives fewer
    bytes), the first and second half on two threads: copying them out of the page cache is most
    of the cost, and the kernel does it without the GIL (the first half of a 390 MiB file: 31-51 ms
    on one thread, 20-22 ms on two). memchr then finds that most files have no quote at all.
    """
    middle = (start + end) // 2
    found: list[int | None] = [None, None]
    failed: list[BaseException] = []

    def search_aside() -> None:
        try:
            found[1] = _first_quote(fd, middle, end)
        except BaseException as exc:  # raised again on the calling thread, as if searched there
            failed.append(exc)

    helper = threading.Thread(target=search_aside, daemon=True)
    helper.start()
    try:
        found[0] = _first_quote(fd, start, middle)
    finally:
        helper.join()  # not left reading a descriptor that the caller may close
    if failed:
        raise failed[0]
    return found[0] if found[0] is not None else found[1]


def _first_quote(fd: int, start: int, end: int) -> int | None:
    """The offset of the first quote character in bytes ``start``..``end`` of the file, if any."""
    block = bytearray(_BLOCK_BYTES)
    while start < end:
        size = os.preadv(fd, [memoryview(block)[: end - start]], start)
        if not size:
            break
        if (at := block.find(b'"', 0, size)) >= 0:
            return start + at
        start += size
    return None


class _Quotes:
    """Whether offsets of a file, asked for in increasing order, lie inside a quoted value; the
    file is read once, a block at a time, from ``start`` (a row start)."""

    def __init__(self, fd: int, start: int, delimiter: int) -> None:
        self._fd = fd
        self._delimiter = delimiter
        self._buffer = bytearray(_BLOCK_BYTES)
        self._start = self._end = start  # the block read: bytes [start, end)
        self._data = np.zeros(0, dtype=np.uint8)
        self._runs = np.zeros(0, dtype=np.intp)  # offsets in the block where runs of quotes start
        self._after = np.zeros(0, dtype=np.int8)  # 1 if inside a quoted value after each run
        self._inside_at_start = 0
        self._byte_before = _LF  # a row starts here: as after a line ending

    def inside(self, offset: int) -> bool | None:
        """Whether ``offset`` (at least the last one asked about) is inside a quoted value; None
        if the file ends before it."""
        while offset > self._end:
            if not self._read_on():
                return None
        return bool(self._state(np.array([offset - self._start]))[0])

    def next_row_start(self, offset: int, limit: int) -> int | None:
        """The first line start after ``offset`` outside quoted values, if there is one before
        ``limit`` (or the file's end)."""
        while True:
            while offset >= self._end:
                if self._end >= limit or not self._read_on():
                    return None
            line_starts = np.flatnonzero(self._data[offset - self._start :] == _LF) + (
                offset - self._start + 1
            )
            outside = np.flatnonzero(self._state(line_starts) == 0)
            if len(outside):
                found = self._start + int(line_starts[outside[0]])
                return found if found <= limit else None
            offset = self._end

    def _state(self, offsets: np.ndarray) -> np.ndarray:
        """Inside (1) or not (0) at each offset into the block (up to its length)."""
        if not len(self._runs):
            return np.full(len(offsets), self._inside_at_start, dtype=np.int8)
        last = np.searchsorted(self._runs, offsets, side="left") - 1
        return np.where(last >= 0, self._after[np.maximum(last, 0)], self._inside_at_start)

    def _read_on(self) -> bool:
        """The next block; False at the end of the file (or at a MiB of quote characters)."""
        if len(self._after):
            self._inside_at_start = int(self._after[-1])
        if len(self._data):
            self._byte_before = int(self._data[-1])
        self._start = self._end
        size = os.preadv(self._fd, [memoryview(self._buffer)], self._start)
        data = np.frombuffer(self._buffer, dtype=np.uint8, count=size)
        if size == len(self._buffer) and data[-1] == _QUOTE:
            # A run of quotes may go on in the next block, and its length matters: it is left to it.
            text = np.flatnonzero(data != _QUOTE)
            size = int(text[-1]) + 1 if len(text) else 0
            data = data[:size]
        if not size:
            return False
        self._data = data.copy()  # the buffer is read into again
        self._end = self._start + size
        self._runs, self._after = self._follow(self._data)
        return True

    def _follow(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The runs of quotes in ``data`` and whether each leaves a quoted value open.

        A run of k quotes at the start of a field (after the delimiter or a line ending), when
        outside a value, opens one and closes it again k - 1 times: k odd leaves it open. Inside
        a value, pairs are quotes and an odd one closes it, wherever it is. A run elsewhere
        outside a value is text. So, by k's parity and where the run is: odd at a field's start
        toggles the state, odd elsewhere ends any value, even changes nothing. The state after a
        run is the parity of the toggles since the last reset (or since the block's start).
        """
        quotes = np.flatnonzero(data == _QUOTE)
        if not len(quotes):
            return quotes, np.zeros(0, dtype=np.int8)
        first = np.ones(len(quotes), dtype=bool)
        first[1:] = np.diff(quotes) != 1
        runs = quotes[first]
        odd = np.diff(np.append(np.flatnonzero(first), len(quotes))) % 2 == 1
        before = np.where(runs > 0, data[np.maximum(runs - 1, 0)], self._byte_before)
        at_field_start = (before == self._delimiter) | (before == _LF) | (before == _CR)
        toggles = np.cumsum(odd & at_field_start)
        resets = odd & ~at_field_start
        last_reset = np.maximum.accumulate(np.where(resets, np.arange(len(runs)), -1))
        since = toggles - np.where(
            last_reset >= 0, toggles[np.maximum(last_reset, 0)], -self._inside_at_start
        )
        return runs, (since % 2).astype(np.int8)
