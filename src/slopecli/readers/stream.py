"""Bytes fed to Arrow's CSV reader: in blocks it can always parse, and from a pipe as they arrive.

:class:`Blocks` serves a file's bytes in blocks that each hold a line ending (grown until they do),
so that rows and headers of any length are read.

A pipe is read as it arrives, once: nothing is spooled to disk. :class:`Replay` serves the bytes
that were peeked for the header, then the rest of the pipe as fast as it comes (short reads, so a
slow writer's rows are parsed and printed as they arrive), and keeps the last blocks it served (a
few MiB): when the parser fails, the error lies in them (Arrow reads at most a few dozen blocks
ahead), and the diagnosis walks them with the right line numbers. Memory stays flat, however long
the stream.
"""

from __future__ import annotations

import csv
import io
import re
from collections import deque
from collections.abc import Callable
from typing import IO

RECENT_BYTES = 16 << 20
"""How much of what was read is kept for the diagnosis of a failure (at least)."""
RECENT_BLOCKS = 64
"""How many of the last blocks served are kept (at least): Arrow reads up to 32 blocks ahead of
the rows it has handed over, so the failing row is in them, however large a block grew."""


def first_line_ends(data: bytes | bytearray) -> bool:
    """Whether ``data`` holds the end of its first non-blank line."""
    body = data.lstrip(b" \t\r\n")
    return bool(body) and (b"\n" in body or b"\r" in body)


def read_head(
    fp: IO[bytes] | io.RawIOBase,
    enough: int = 64 << 10,
    ended: Callable[[bytearray], bool] = first_line_ends,
    head: bytes = b"",
) -> bytes:
    """``head`` and the next bytes of a pipe, up to the end of its first non-blank line (or what
    ``ended`` looks for), however long, or all of it; read ``enough`` bytes at a time without
    waiting for more than the writer has sent."""
    data = bytearray(head)
    while not ended(data):
        more = _read_some(fp, enough)
        if not more:
            break
        data += more
    return bytes(data)


class FirstRecord:
    """The end of the first non-blank record of CSV text, followed as its bytes arrive: the first
    line ending outside a quoted value. A quote opens a value only at the start of a field, as
    Arrow and the csv module read it (``12" pipe`` is text), and ``""`` in one is a quote.

    :meth:`ended` also says yes once a quoted value has run on for ``longest`` bytes: its quote
    is then a stray one (:attr:`unclosed` says where it is), and the reader stops waiting for it;
    and at a NUL byte, as the bytes are then not text.
    """

    def __init__(self, delimiter: str, longest: int) -> None:
        self._delimiter = delimiter
        self._longest = longest
        self._from = 0  # where the search for a non-blank record goes on
        self._line = -1  # where the record's first line starts; -1 until a non-blank byte comes
        self._at = 0  # where to look next
        self.unclosed: int | None = None
        """The offset of the quote that opened a value still open at the end of the bytes seen."""

    def ended(self, data: bytes | bytearray) -> bool:
        """Whether ``data`` (all the bytes so far: each call's extends the last's) holds the end."""
        while True:
            if self._line < 0 and not self._begin(data):
                return False
            found = self._line_ending(data)
            if found is None:
                return self.unclosed is not None and len(data) - self.unclosed > self._longest
            if not data[found] or not _blank(data[self._line : found], self._delimiter):
                return True  # the record's end; or a NUL: not text, which the reader will say
            # A record of empty fields (",,") is skipped as the reader skips it: on to the next.
            self._from, self._line = found + 1, -1

    def _begin(self, data: bytes | bytearray) -> bool:
        """Whether a non-blank byte has come after ``_from``, and if so where its line starts."""
        if not self._from:
            if _BOM.startswith(data[:3]) and len(data) < len(_BOM):
                return False  # a byte-order mark, or the start of one
            self._from = len(_BOM) if data.startswith(_BOM) else 0
        body = data[self._from :].lstrip(b" \t\r\n")
        if not body:
            return False
        self._at = len(data) - len(body)
        self._line = max(self._from, data.rfind(b"\n", 0, self._at) + 1, data.rfind(b"\r", 0, self._at) + 1)
        return True

    def _line_ending(self, data: bytes | bytearray) -> int | None:
        """The offset of the line ending (or NUL) that ends the record, if it has come."""
        delimiter = ord(self._delimiter)
        while (found := _SPECIAL.search(data, self._at)) is not None:
            at = found.start()
            if not data[at]:
                return at
            if self.unclosed is not None:  # inside a quoted value: only a quote matters
                if data[at] != _QUOTE:
                    self._at = at + 1
                    continue
                if at + 1 == len(data):
                    self._at = at  # a closing quote, or the first of two: the next byte says
                    return None
                if data[at + 1] == _QUOTE:
                    self._at = at + 2
                else:
                    self.unclosed, self._at = None, at + 1
            elif data[at] != _QUOTE:
                return at
            else:
                if at == self._line or data[at - 1] == delimiter:
                    self.unclosed = at
                self._at = at + 1
        self._at = len(data)
        return None

    def end(self, data: bytes | bytearray) -> None:
        """``data`` is all there is: a quote waiting for the byte after it closes its value."""
        if self.unclosed is not None and self._at == len(data) - 1 and data[-1] == _QUOTE:
            self.unclosed = None


def _blank(record: bytes | bytearray, delimiter: str) -> bool:
    """Whether every field of ``record`` (one record's bytes) is empty or blank."""
    if bytes(record).translate(None, b' \t\r\n"' + delimiter.encode()):
        return False  # text in it: not blank, whatever the quotes around it
    unlimited_fields()
    text = bytes(record).decode("utf-8", errors="surrogateescape")
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return not any(field.strip() for row in rows for field in row)


def unlimited_fields() -> None:
    """Let the :mod:`csv` module read a field of any length (a header of 20,000 names, megabytes
    of garbage in one value): its 128 KiB limit would say "field larger than field limit" where
    the message should name the place. The limit is process-wide, so it is only ever raised."""
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))


_FIELD_LIMIT = (1 << 31) - 1  # the largest a C long holds everywhere


_BOM = b"\xef\xbb\xbf"
_SPECIAL = re.compile(b'["\r\n\0]')
_QUOTE = ord('"')


def line_count(data: bytes) -> int:
    """The line endings in ``data``, as Arrow counts them: ``\\n``, ``\\r\\n`` or a ``\\r`` alone."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _read_some(fp: IO[bytes] | io.RawIOBase, size: int) -> bytes:
    read1 = getattr(fp, "read1", None)
    return bytes(read1(size) if read1 is not None else fp.read(size))


def _ends_a_line(data: bytes) -> bool:
    return b"\n" in data or b"\r" in data


class Blocks(io.RawIOBase):
    """``head``, then the rest of ``fp``, in blocks that Arrow's CSV reader can always parse.

    Arrow lets a row straddle one block boundary, not two, and looks for the header in its first
    block only. So the first block holds at least ``first`` bytes (the header), and a block
    without a line ending is grown until it has one (or the data ends): a row longer than Arrow's
    block size is read, not rejected, and the block is only as large as the longest line needs.
    Arrow asks for blocks through :meth:`read`, which may return more than it asked for.
    """

    def __init__(self, fp: IO[bytes] | io.RawIOBase, head: bytes = b"", first: int = 0) -> None:
        super().__init__()
        self._fp = fp
        self._head = head
        self._first = first
        self._ended = False
        self._served = 0
        self._starts: deque[int] = deque([0], maxlen=RECENT_BLOCKS)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        size, self._first = max(size, self._first), 0
        data = self._take(size)
        if data and not _ends_a_line(data):
            parts = [data]
            while more := self._take(max(size, 1)):
                parts.append(more)
                if _ends_a_line(more):
                    break
            data = b"".join(parts)
        # Nor may a block end between the two bytes of a \r\n: Arrow would lose the row.
        while data.endswith(b"\r") and (more := self._take(1)):
            data += more
        if data:
            self._served += 1
            self._starts.append(self._starts[-1] + len(data))
        self._remember(data)
        return data

    def block_start(self, index: int) -> int | None:
        """Where the block served ``index``-th (from 0) starts in the stream, if it is one of the
        last RECENT_BLOCKS served (Arrow's batch ``index`` holds the rows that end in it)."""
        first = self._served + 1 - len(self._starts)
        return self._starts[index - first] if first <= index < self._served else None

    def _take(self, size: int) -> bytes:
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            return data
        data = _read_some(self._fp, size)
        self._ended = self._ended or not data
        return data

    def _remember(self, data: bytes) -> None:
        """Nothing is kept by default (a file can be read again)."""


class Replay(Blocks):
    """``head``, then the rest of ``fp``, with the most recent bytes kept (:meth:`recent`): the last
    RECENT_BLOCKS blocks, and RECENT_BYTES at least (or ``keep``, if more)."""

    def __init__(self, fp: IO[bytes] | io.RawIOBase, head: bytes, keep: int = 0, first: int = 0) -> None:
        super().__init__(fp, head, first)
        self._keep = max(keep, RECENT_BYTES)
        self._recent: deque[bytes] = deque()
        self._recent_size = 0
        self._dropped_lines = 0
        self._dropped_any = False
        self._dropped_ends_line = True

    def _remember(self, data: bytes) -> None:
        if not data:
            return
        self._recent.append(data)
        self._recent_size += len(data)
        while self._recent_size - len(self._recent[0]) >= self._keep and len(self._recent) > RECENT_BLOCKS:
            old = self._recent.popleft()
            self._recent_size -= len(old)
            # A block never ends between the two bytes of a \r\n (see read()).
            self._dropped_lines += line_count(old)
            self._dropped_any = True
            self._dropped_ends_line = old.endswith((b"\n", b"\r"))

    def recent(self) -> tuple[bytes, int, bool]:
        """The kept bytes from their first whole line to their last, that first line's number, and
        whether they start at the beginning of the stream."""
        data = b"".join(self._recent)
        if not self._ended:  # the reader stopped inside the stream: its last line is not all here
            data = data[: max(data.rfind(b"\n"), data.rfind(b"\r")) + 1]
        if not self._dropped_any:
            return data, 1, True
        line = self._dropped_lines + 1
        if not self._dropped_ends_line:
            # The kept bytes start inside a line: the first whole one is the next.
            ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
            cut = min(ends, default=len(data))
            data = data[cut + (2 if data[cut : cut + 2] == b"\r\n" else 1) :]
            line += 1
        return data, line, False
