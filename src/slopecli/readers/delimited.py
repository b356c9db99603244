"""CSV and TSV files -> numpy chunks, streamed in constant memory.

Parsing goes through Apache Arrow's streaming CSV reader: a large file is read in byte ranges on
one thread per core, about 1.5x as fast as ``numpy.loadtxt`` or pandas on the whole file, in
constant memory (bench/README.md). Arrow's own errors do not say on which line a problem is, so
when a file fails, a second, pure-Python pass (:func:`slopecli.readers.diagnosis.diagnose`) walks it
to name the file, line and column. Correct files pay nothing for that precision.

Readers take binary file objects. A pipe (stdin) is read as it arrives, once, and never spooled:
:mod:`slopecli.readers.stream` keeps the last few MiB for the diagnosis.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from slopecli.errors import DataError, NumericError
from slopecli.readers.chunk import Chunk
from slopecli.readers.diagnosis import diagnose
from slopecli.readers.layout import Layout, ReadOptions, delimiter_for, layout_of
from slopecli.readers.stream import Replay, read_head

if TYPE_CHECKING:
    import pyarrow as pa

_HEADER_PEEK_BYTES = 1 << 20

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
        if _seekable(fp):
            self._start = fp.tell()
            head = fp.read(_HEADER_PEEK_BYTES)
            fp.seek(self._start)
        else:
            self._start = 0
            head = read_head(fp, _HEADER_PEEK_BYTES)
            # Arrow reads up to 32 blocks ahead of the rows it has handed over: keep more than that.
            self._replay = Replay(fp, head, keep=64 * options.block_bytes)
        self._read = False
        record, lines, self._header_bytes = self._first_record(head)
        self.layout = layout_of(record, name, options, lines if options.header else 0)
        if not options.header:
            self._header_bytes = 0

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
        import pyarrow as pa

        if self._replay is not None and self._read:
            msg = (
                f"{self.name}: a stream can be read once, and this command reads its data again:"
                " save it to a file and give the file's name"
            )
            raise DataError(msg)
        self._read = True
        if self._replay is None:
            self._fp.seek(self._start)
        reader = None
        failure = None
        first_row = 0
        try:
            reader = _arrow_reader(self._replay or self._fp, self.layout, self.options)
            for batch in reader:
                chunk = self._chunk(batch, first_row)
                first_row += batch.num_rows
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
            raise self._diagnosis(failure)
        if first_row == 0:
            what = "has a header but no data rows" if self.options.header else "has no data rows"
            msg = f"{self.name}: the file {what}"
            raise DataError(msg)

    def pieces(self, count: int) -> list[Piece]:
        """The data rows as up to ``count`` byte ranges of about equal size, each starting at a
        line start, for reading on several threads or machines (:meth:`read_piece`); none when the
        file is too small to be worth it or is not a plain file.

        Arrow never lets a newline inside a quoted value (its ``newlines_in_values`` is off), so
        a line start is a row start for it too.
        """
        try:
            size = os.fstat(self._fp.fileno()).st_size
        except (AttributeError, OSError, ValueError):
            return []
        if count < 2 or size - self._start < SPLIT_BYTES:
            return []
        cuts = [self._start + self._header_bytes]
        for i in range(1, count):
            self._fp.seek(max(cuts[-1], cuts[0] + (size - cuts[0]) * i // count))
            # A cut lands after a newline; a file whose lines end in CR alone is not cut at all.
            self._fp.readline()
            cuts.append(self._fp.tell())
        cuts.append(size)
        return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]

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
            # Pieces already run one per core: Arrow's own thread pool would only add hand-offs
            # (8-15% less CPU without it on the benchmark files).
            reader = _arrow_reader(
                self._stream(start, end), self.layout, self.options, skip_rows=0, threads=False
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

    def _chunk(self, batch: pa.RecordBatch, first_row: int) -> Chunk:
        # One copy in one call: Arrow lays the columns out column-major (every column float64,
        # none null), so X's columns and y are contiguous and X·w is Σ wⱼ·colⱼ in BLAS, with no
        # per-column Python (a per-column to_numpy and column_stack cost 4-8x as much per chunk).
        table = np.asarray(batch.to_tensor(row_major=False))
        X, y = table[:, :-1], table[:, -1]
        # A finite sum means no NaN or infinity (either would poison it): one cheap pass, and
        # the element-wise check only when the sum says there may be one (or merely overflowed).
        with np.errstate(over="ignore", invalid="ignore"):
            total = table.sum()
        if not np.isfinite(total) and not np.isfinite(table).all():
            raise _NotFinite
        return Chunk(X, y, first_row)

    def _first_record(self, head: bytes) -> tuple[list[str] | None, int, int]:
        """The first non-blank record, the number of physical lines up to its end and their bytes."""
        compressed = compression_of(head)
        if compressed is not None:
            kind, tool = compressed
            msg = f"{self.name}: a {kind} file; decompress it first ({tool} FILE | slopecli compute - …)"
            raise DataError(msg)
        nul = head.find(b"\0")
        if nul >= 0:
            msg = f"{self.name}: not a CSV text file (a NUL byte at offset {nul})"
            raise DataError(msg)
        text = codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode(head)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        try:
            for record in reader:
                if any(field.strip() for field in record):
                    return record, reader.line_num, _line_end(head, reader.line_num)
            return None, 0, 0
        except csv.Error as exc:
            msg = f"{self.name}:1: cannot read the first line as CSV: {exc}"
            raise DataError(msg) from None

    def _diagnosis(self, arrow_message: str) -> DataError | NumericError:
        if self._replay is not None:
            data, line, from_start = self._replay.recent()
            header = self.options.header if from_start else False
            found = diagnose([data], self.name, self.layout, self.options, line, header)
        else:
            self._fp.seek(self._start)
            blocks = iter(lambda: self._fp.read(1 << 20), b"")
            found = diagnose(blocks, self.name, self.layout, self.options)
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


_COMPRESSED = (
    (re.compile(rb"\x1f\x8b\x08"), "gzip-compressed", "zcat"),
    (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2-compressed", "bzcat"),
    (re.compile(rb"\xfd7zXZ\x00"), "xz-compressed", "xzcat"),
    (re.compile(rb"\x28\xb5\x2f\xfd"), "zstd-compressed", "zstdcat"),
    (re.compile(rb"PK\x03\x04"), "zip", "unzip -p"),
)


def compression_of(head: bytes) -> tuple[str, str] | None:
    """The kind of compressed file ``head`` starts, by its full magic bytes, and the tool that
    decompresses it; None for anything else (a column named ``BZh`` is text)."""
    for magic, kind, tool in _COMPRESSED:
        if magic.match(head):
            return kind, tool
    return None


def _line_end(head: bytes, lines: int) -> int:
    """The offset just past the ``lines``-th line ending of ``head``, as Arrow counts line endings:
    ``\\n``, ``\\r\\n`` or a ``\\r`` alone."""
    position = 0
    for _ in range(lines):
        newline, carriage = head.find(b"\n", position), head.find(b"\r", position)
        if carriage >= 0 and (newline < 0 or carriage < newline):
            position = carriage + (2 if head[carriage + 1 : carriage + 2] == b"\n" else 1)
        elif newline >= 0:
            position = newline + 1
        else:
            return len(head)
    return position


def _seekable(fp: IO[bytes]) -> bool:
    try:
        return fp.seekable()
    except (AttributeError, ValueError):
        return False


def _arrow_reader(
    fp: IO[bytes] | io.RawIOBase,
    layout: Layout,
    options: ReadOptions,
    skip_rows: int | None = None,
    threads: bool = True,
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
            block_size=options.block_bytes,
            use_threads=threads,
        ),
        parse_options=pacsv.ParseOptions(delimiter=options.delimiter),
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
