"""CSV and TSV files -> numpy chunks, streamed in constant memory.

Parsing goes through Apache Arrow's streaming CSV reader: a large file is read in byte ranges on
one thread per core, about 1.5x as fast as ``numpy.loadtxt`` or pandas on the whole file, in
constant memory (bench/README.md). Arrow's own errors do not say on which line a problem is, so
when a file fails, a second, pure-Python pass (:func:`slopecli.readers.diagnosis.diagnose`) walks it
to name the file, line and column. Correct files pay nothing for that precision. A plain file of a
few rows, however wide, is parsed without Arrow (:mod:`slopecli.readers.small`): Arrow's set-up of
each column would cost more than the whole parse.

Readers take binary file objects. A pipe (stdin) is read as it arrives, once, and never spooled:
:mod:`slopecli.readers.stream` keeps the last few MiB for the diagnosis. gzip, bzip2 and zstd
input is decompressed as a stream (:mod:`slopecli.readers.compressed`), whatever the file's name;
Arrow then reads the text as it would a plain file's, except that it cannot be cut into pieces.
"""

from __future__ import annotations

import csv
import importlib
import io
import itertools
import os
import stat
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from slopecli.errors import DataError, NumericError
from slopecli.readers import small
from slopecli.readers.chunk import Chunk
from slopecli.readers.compressed import MAGIC_BYTES, Chain, codec_of, decompressed
from slopecli.readers.cuts import first_quote, row_starts
from slopecli.readers.diagnosis import (
    LONGEST_QUOTED,
    check_utf8,
    diagnose,
    resume,
    unclosed_quote,
)
from slopecli.readers.layout import BLOCK_BYTES, Layout, ReadOptions, delimiter_for, layout_of
from slopecli.readers.stream import Blocks, FirstRecord, Replay, line_count, read_head, unlimited_fields

if TYPE_CHECKING:
    import pyarrow as pa

_HEADER_PEEK_BYTES = 1 << 20

ROWS_PER_BLOCK = 8
BYTES_PER_COLUMN = 512
"""Wide rows get larger blocks: at least ROWS_PER_BLOCK of the longest line seen at the start, and
BYTES_PER_COLUMN per column. Arrow's cost per chunk grows with the number of columns (about 1 ms
per 2,000 columns here), so a 13 MB file of 10,000 columns takes 15 s in blocks of 96 KiB (one row
each), 1.1 s in blocks of 1 MiB, 0.4 s in blocks of 4 MiB (bench/README.md)."""
MAX_BLOCK_BYTES = 64 << 20
"""The cap on that growth; a line longer than this still gets a block of its own size."""

SPLIT_BYTES = 16 << 20
"""Files smaller than this are read in one stream: threads would cost more than they save."""

Piece = tuple[int, int]
"""A byte range ``[start, end)`` of the file that starts and ends at row boundaries."""


class CsvTable:
    """An open delimited file: its layout is known at once, its rows are streamed by :meth:`chunks`.

    Args:
        fp: a binary file object. A non-seekable one (a pipe) is read as it arrives, once.
        name: how messages name the file (its path, or ``<stdin>``).
        options: how to read it.

    Raises:
        DataError: the file is empty, not text, or its header does not have the columns asked for.
    """

    def __init__(self, fp: IO[bytes], name: str, options: ReadOptions) -> None:
        self.name = name
        self.delimiter = delimiter_for(name, options.delimiter)
        self.options = replace(options, delimiter=self.delimiter)
        self._fp = fp
        self._replay: Replay | None = None
        # The head is read to the end of the first record, which a quoted line break may delay.
        first = FirstRecord(self.delimiter, LONGEST_QUOTED)
        seekable = _seekable(fp)
        if seekable:
            self._start = fp.tell()
            self.codec = codec_of(fp.read(MAGIC_BYTES), name)
            source = self._source()
            head = read_head(source, ended=first.ended, head=source.read(_HEADER_PEEK_BYTES))
            fp.seek(self._start)
        else:
            self._start = 0
            raw = read_head(fp)  # a line: enough to tell compressed bytes by their magic number
            while len(raw) < MAGIC_BYTES and (more := fp.read(MAGIC_BYTES - len(raw))):
                raw += more
            self.codec = codec_of(raw, name)
            if self.codec is None:
                source = fp
                head = read_head(fp, ended=first.ended, head=raw)
            else:
                source = decompressed(Chain(raw, fp), self.codec, name)
                head = read_head(source, ended=first.ended)
        self._read = False
        self._unquoted_end = 0  # the rows before this offset hold no quote (pieces() looks)
        if not first.ended(head):
            first.end(head)  # the head is the whole file
        record, lines, self._header_bytes = self._first_record(head, first.unclosed)
        self.layout = layout_of(record, name, self.options, lines if options.header else 0)
        # A header with no line ending is the whole file (the head is read to a line's end), and
        # Arrow would only say that it "could not skip initial 1 rows".
        self._header_only = bool(options.header) and self._header_bytes == len(head) > 0
        self._header_only &= not head.endswith((b"\n", b"\r"))
        if not options.header:
            self._header_bytes = 0
        self.block_bytes = _block_size(head, len(self.layout.names), options.block_bytes)
        size = _size(fp) if self.codec is None else None
        if size is not None:
            # Arrow's cost per block grows with its size too: no larger than the file.
            self.block_bytes = min(self.block_bytes, max(options.block_bytes, size - self._start))
        # A plain file of a few rows, however wide, is parsed without Arrow (readers.small).
        self._small = (
            size is not None
            and size - self._start <= small.SMALL_BYTES
            and line_count(head[self._header_bytes :]) <= small.SMALL_ROWS
        )
        if not seekable:
            self._replay = Replay(source, head, first=self._header_bytes)

    def close(self) -> None:
        """Nothing to release: the file object passed in stays the caller's."""

    def __enter__(self) -> CsvTable:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def features(self) -> tuple[str, ...]:
        return self.layout.features

    def chunks(self) -> Iterator[Chunk]:
        """The data rows, one block of the file at a time.

        Raises:
            DataError: a row is ragged or a value is not a number (with file, line and column).
            NumericError: a value is NaN or infinite (with file, line and column).
        """
        if self._header_only:
            msg = f"{self.name}: the file has a header but no data rows"
            raise DataError(msg)
        if self._small and (matrix := self._parsed_small()) is not None:
            yield Chunk(matrix[:, :-1], matrix[:, -1], 0)
            return
        import pyarrow as pa

        if self._replay is not None and self._read:
            msg = (
                f"{self.name}: a stream can be read once, and this command reads its data again:"
                " save it to a file and give the file's name"
            )
            raise DataError(msg)
        self._read = True
        source = self._replay or Blocks(self._source(), first=self._header_bytes)
        reader = None
        failure = None
        first_row = batches = 0
        try:
            reader = _arrow_reader(source, self.layout, self.options, self.block_bytes)
            for batch in reader:
                chunk = self._chunk(batch, first_row)
                first_row += batch.num_rows
                batches += 1
                yield chunk
        except pa.ArrowInvalid as exc:
            failure = str(exc)
        except _NotFinite:
            failure = "a value is not finite"
        finally:
            # Arrow reads ahead on its own thread: it must stop before anyone else touches the
            # file (the diagnosis below) and before the interpreter exits.
            if reader is not None:
                reader.close()
        if failure is not None:
            # Batch k holds the rows that end in block k (one that straddles into it from block
            # k-1 included), and never more batches than blocks were made: the failing row
            # starts in the failed batch's block or in the one before.
            raise self._diagnosis(failure, source.block_start(batches - 1) if batches else None)
        if first_row == 0:
            what = "has a header but no data rows" if self.options.header else "has no data rows"
            msg = f"{self.name}: the file {what}"
            raise DataError(msg)

    def _parsed_small(self) -> np.ndarray | None:
        """The used columns of every row, parsed without Arrow; None when Arrow must read them."""
        data = self._source().read(small.SMALL_BYTES + 1)
        if len(data) > small.SMALL_BYTES:
            return None  # the file grew since it was opened
        return small.parse(
            data[self._header_bytes :], len(self.layout.names), self.layout.used, self.delimiter
        )

    def pieces(self, count: int, processes: bool = False, most_bytes: int | None = None) -> list[Piece]:
        """The data rows as up to ``count`` byte ranges of about equal size (or more, of about
        ``most_bytes`` each), each starting at a line start, for reading on several threads or
        machines (:meth:`read_piece`); none when the file is too small to be worth it or is not a
        plain file.

        A quoted value may hold a line break, so a line start is a row start only outside
        quoted values, as Arrow's parser follows them (:mod:`slopecli.readers.cuts`); a cut inside
        one moves on to the next row, or the file is not cut at all.
        """
        if self.codec is not None:
            return []  # a compressed stream has no row boundaries to seek to
        size = _size(self._fp)
        if size is None or count < 2 or size - self._start < SPLIT_BYTES:
            return []
        cuts = [self._start + self._header_bytes]
        if not self._header_bytes and os.pread(self._fp.fileno(), len(_UTF8_MARK), cuts[0]) == _UTF8_MARK:
            # No header, and a byte-order mark: the rows start after it, as Arrow reads them (the
            # quote that may open the first value is then at a field's start).
            cuts[0] += len(_UTF8_MARK)
        if most_bytes is not None:
            count = max(count, -(-(size - cuts[0]) // most_bytes))
        for i in range(1, count):
            self._fp.seek(max(cuts[-1], cuts[0] + (size - cuts[0]) * i // count))
            # A cut lands after a newline; a file whose lines end in CR alone is not cut at all.
            self._fp.readline()
            cuts.append(self._fp.tell())
        fd = self._fp.fileno()
        quote = first_quote(fd, cuts[0], cuts[-1])
        rows = list(cuts) if quote is None else row_starts(fd, cuts, self.delimiter, quote)
        if rows is None:
            return []
        # Pieces before the first quote are parsed without following quotes: 5% less CPU on short
        # fields (10M x 3). The last piece is not searched: that costs more than it saves.
        self._unquoted_end = rows[-1] if quote is None else quote
        rows.append(size)
        # Imported here, once, before the pieces are read on threads or in forked processes: an
        # import of pyarrow.csv in each fork of this process took 35-40 ms of its first piece.
        importlib.import_module("pyarrow.csv")
        return [(a, b) for a, b in itertools.pairwise(rows) if b > a]

    def read_piece(self, piece: Piece) -> Iterator[Chunk]:
        """The rows of one of :meth:`pieces`. It stops at the first problem without saying where:
        read :meth:`chunks` for the exact message. ``first_row`` counts from the piece's start.

        Raises:
            DataError: the piece cannot be read as CSV, or holds a value that is not finite.
        """
        import pyarrow as pa

        start, end = piece
        reader = None
        first_row = 0
        try:
            # Arrow reads a piece natively, in fixed blocks that fit several of the longest lines
            # seen at the start. A longer line fails the piece, and the caller then reads the file
            # in one pass, whose blocks grow to fit any line. Pieces already run one per core:
            # Arrow's own thread pool would only add hand-offs (8-15% less CPU without it).
            stream = self._stream(start, end)
            reader = _arrow_reader(
                stream,
                self.layout,
                self.options,
                self.block_bytes,
                skip_rows=0,
                threads=False,
                quoting=end > self._unquoted_end,
            )
            for batch in reader:
                chunk = self._chunk(batch, first_row)
                first_row += batch.num_rows
                yield chunk
        except (pa.ArrowInvalid, _NotFinite):
            msg = f"{self.name}: cannot read the file as CSV"
            raise DataError(msg) from None
        finally:
            if reader is not None:
                reader.close()

    def _stream(self, start: int, end: int) -> Any:
        """Bytes ``start``..``end``: read natively by Arrow when the file has a path (no GIL, no
        copies through Python), else through ``pread`` on the descriptor."""
        import pyarrow as pa

        path = getattr(self._fp, "name", None)
        if isinstance(path, str) and os.path.isfile(path):
            try:
                return pa.OSFile(path).get_stream(start, end - start)
            except OSError:
                pass
        return _Range(self._fp.fileno(), start, end)

    def _source(self) -> IO[bytes] | io.RawIOBase:
        """The file's bytes from its start, decompressed if need be (a file can be read again)."""
        self._fp.seek(self._start)
        if self.codec is None:
            return self._fp
        # Arrow closes the stream it decompresses when it is done with it: lend it a proxy.
        return decompressed(Chain(b"", self._fp), self.codec, self.name)

    def _own_source(self) -> IO[bytes] | io.RawIOBase:
        """The file's bytes from its start, as :meth:`_source`, but read at a position of their
        own (pread): Arrow's read-ahead may still be reading the shared file object after its
        reader was closed, and moving its position would send the diagnosis to another line."""
        size = _size(self._fp)
        if size is None:
            return self._source()
        raw = _Range(self._fp.fileno(), self._start, size)
        if self.codec is None:
            return raw
        return decompressed(Chain(b"", io.BufferedReader(raw)), self.codec, self.name)

    def _own_blocks(self) -> Iterator[bytes]:
        source = self._own_source()
        return iter(lambda: source.read(1 << 20), b"")

    def _chunk(self, batch: pa.RecordBatch, first_row: int) -> Chunk:
        # One copy in one call: Arrow lays the columns out column-major (every column float64,
        # none null), so X's columns and y are contiguous and X·w is Σ wⱼ·colⱼ in BLAS, with no
        # per-column Python (a per-column to_numpy and column_stack cost 4-8x as much per chunk).
        matrix = np.asarray(batch.to_tensor(row_major=False))
        # A finite sum means no NaN or infinity (either would poison it): one cheap pass, and
        # the element-wise check only when the sum says there may be one (or merely overflowed).
        with np.errstate(over="ignore", invalid="ignore"):
            total = matrix.sum()
        if not np.isfinite(total) and not np.isfinite(matrix).all():
            raise _NotFinite
        return Chunk(matrix[:, :-1], matrix[:, -1], first_row)

    def _first_record(self, head: bytes, unclosed: int | None) -> tuple[list[str] | None, int, int]:
        """The first non-blank record, the number of physical lines up to its end and their bytes;
        ``unclosed`` is the offset of a quote that opens a value the head does not close.

        Raises:
            DataError: the file is not text, its first record has a quote left open, or its header
                is not UTF-8.
        """
        nul = head.find(b"\0")
        wide = _wide_encoding(head)
        if nul >= 0 or wide:  # (a UTF-16 mark may come without a NUL: before non-ASCII text)
            msg = f"{self.name}: not a CSV text file"
            msg += f" (a NUL byte at offset {nul})" if nul >= 0 else " (it starts with a byte-order mark)"
            if wide:
                msg += f"; it looks like {wide.upper()} text: convert it, e.g. iconv -f {wide}"
                msg += " -t utf-8 FILE > NEW.csv"
            raise DataError(msg)
        if unclosed is not None:  # before the csv module reads megabytes as one value
            within = None if len(head) - unclosed <= LONGEST_QUOTED else LONGEST_QUOTED
            raise unclosed_quote(self.name, 1 + line_count(head[:unclosed]), within)
        # Undecodable bytes are kept (as surrogates) to be named below, never replaced by U+FFFD.
        text = head.decode("utf-8-sig", errors="surrogateescape")
        unlimited_fields()
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        try:
            for record in reader:
                if any(field.strip() for field in record):
                    end = _line_end(head, reader.line_num)
                    if self.options.header and (
                        error := check_utf8(head[:end], self.name, self.delimiter, "the header")
                    ):
                        raise error
                    return record, reader.line_num, end
            return None, 0, 0
        except csv.Error as exc:
            msg = f"{self.name}:1: cannot read the first line as CSV: {exc}"
            raise DataError(msg) from None

    def _diagnosis(self, arrow_message: str, restart: int | None = None) -> DataError | NumericError:
        """What is wrong, and where: found by walking the file from byte ``restart`` on (all of
        it by default), where Arrow read no further than the rows it handed over."""
        found = None
        if self._replay is not None:
            data, line, from_start = self._replay.recent()
            header = self.options.header if from_start else False
            found = diagnose([data], self.name, self.layout, self.options, line, header)
        else:
            if (
                restart is not None
                and restart > self._header_bytes
                and (resumed := resume(self._own_blocks(), restart, self._header_bytes))
            ):
                blocks, line = resumed
                found = diagnose(blocks, self.name, self.layout, self.options, line, header=False)
            if found is None:  # nothing after the restart (it should not be): walk it all
                found = diagnose(self._own_blocks(), self.name, self.layout, self.options)
        if found is not None:
            return found
        return DataError(f"{self.name}: cannot read the file as CSV: {arrow_message}")


class _Range(io.RawIOBase):
    """Bytes ``start``..``end`` of a file descriptor, read with pread: threads sharing the
    descriptor do not share a position."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        super().__init__()
        self._fd = fd
        self._position = start
        self._end = end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._end - self._position)
        if size <= 0:
            return 0
        data = os.pread(self._fd, size, self._position)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def _block_size(head: bytes, columns: int, base: int) -> int:
    """Bytes Arrow parses per chunk: ``base``, or more for wide rows (see :data:`BYTES_PER_COLUMN`)."""
    wide = max(ROWS_PER_BLOCK * _longest_line(head), BYTES_PER_COLUMN * columns)
    # Narrow files keep the block they were given (tests give tiny ones, to cross many blocks).
    return base if wide <= BLOCK_BYTES else max(base, min(wide, MAX_BLOCK_BYTES))


def _size(fp: IO[bytes]) -> int | None:
    """The size of the file behind ``fp``, if it is a regular file (not a pipe)."""
    try:
        status = os.fstat(fp.fileno())
    except (AttributeError, OSError, ValueError):
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _longest_line(head: bytes) -> int:
    """The length of the longest whole line of ``head`` (the last, unfinished one counts too)."""
    return max(map(len, head.replace(b"\r", b"\n").split(b"\n")), default=0)


def _line_end(head: bytes, lines: int) -> int:
    """The offset just past the ``lines``-th line ending of ``head``, as Arrow counts line endings:
    ``\\n``, ``\\r\\n`` or a ``\\r`` alone."""
    position = 0
    carriage = head.find(b"\r")
    for _ in range(lines):
        newline = head.find(b"\n", position)
        if 0 <= carriage < position:  # looked for again only once passed: a head of many lines
            carriage = head.find(b"\r", position)  # and no CR is not searched to its end each time
        if carriage >= 0 and (newline < 0 or carriage < newline):
            position = carriage + (2 if head[carriage + 1 : carriage + 2] == b"\n" else 1)
        elif newline >= 0:
            position = newline + 1
        else:
            return len(head)
    return position


def _wide_encoding(head: bytes) -> str | None:
    """The encoding, as iconv names it, of text in UTF-32 or UTF-16: by its byte-order mark, or
    by ASCII with NULs beside every character; None if it looks like neither."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return encoding
    sample = head[:512]
    if len(sample) < 8:
        return None
    for width in (4, 2):  # four first: UTF-32's ASCII has UTF-16's NUL beside every character too
        lanes = [sample[i::width] for i in range(width)]
        nul = [not lane.strip(b"\0") for lane in lanes]
        # Without a mark, iconv reads the machine's byte order: name the file's.
        if nul[1:] == [True] * (width - 1) and not nul[0]:
            return f"utf-{width * 8}le"
        if nul[:-1] == [True] * (width - 1) and not nul[-1]:
            return f"utf-{width * 8}be"
    return None


_UTF8_MARK = b"\xef\xbb\xbf"

# UTF-32's little-endian mark begins with UTF-16's: it is looked for first.
_BYTE_ORDER_MARKS = (
    (b"\xff\xfe\0\0", "utf-32"),
    (b"\0\0\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _seekable(fp: IO[bytes]) -> bool:
    try:
        return fp.seekable()
    except (AttributeError, ValueError):
        return False


def _arrow_reader(
    fp: IO[bytes] | io.RawIOBase,
    layout: Layout,
    options: ReadOptions,
    block: int,
    skip_rows: int | None = None,
    threads: bool = True,
    quoting: bool = True,
) -> pa.RecordBatchReader:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # Columns get positional names so that odd or repeated header names cannot confuse Arrow.
    internal = [f"c{i}" for i in range(len(layout.names))]
    used = [internal[i] for i in layout.used]
    return pacsv.open_csv(
        fp,
        read_options=pacsv.ReadOptions(
            column_names=internal,
            # Arrow counts physical lines here, so blank lines before the header count too.
            skip_rows=layout.header_lines if skip_rows is None else skip_rows,
            block_size=block,
            use_threads=threads,
        ),
        # A quoted value may hold a line break (a notes column exported from a spreadsheet).
        parse_options=pacsv.ParseOptions(
            delimiter=options.delimiter, newlines_in_values=True, quote_char='"' if quoting else False
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=used,
            column_types=dict.fromkeys(used, pa.float64()),
            # An empty field is an error here, never a silent NaN.
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


class _NotFinite(Exception):
    """A chunk holds NaN or infinity: the diagnosis will say where."""
