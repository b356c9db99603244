"""CSV and TSV files -> numpy chunks, streamed in constant memory.

Parsing goes through Apache Arrow's streaming CSV reader: a large file is read in byte ranges on
one thread per core, about 1.5x as fast as ``numpy.loadtxt`` or pandas on the whole file, in
constant memory (bench/README.md). Arrow's own errors do not say on which line a problem is, so
when a file fails, a second, pure-Python pass (:func:`slopecli.csv_diagnosis.diagnose`) walks it
to name the file, line and column. Correct files pay nothing for that precision.

Loaders take binary file objects. A pipe (stdin) is spooled to a temporary file first, so the
diagnosis can re-read it.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from slopecli.arrow import to_numpy
from slopecli.core import Matrix, Vector
from slopecli.csv_diagnosis import diagnose
from slopecli.errors import DataError, NumericError

if TYPE_CHECKING:
    import pyarrow as pa

    from slopecli.parquet import ParquetTable

BLOCK_BYTES = 96 << 10
"""Bytes parsed per chunk. Arrow's streaming reader queues up to 32 blocks (not configurable),
so peak memory grows with this: on the 10M × 3 benchmark file, 94 MiB at 64 KiB, 99 at 96 KiB,
103 at 128 KiB, 232 at 4 MiB. Below ~96 KiB the per-chunk numpy overhead starts to show
(1M × 10: 0.37 s at 64 KiB, 0.34 s at 96 KiB). See bench/README.md."""

_HEADER_PEEK_BYTES = 1 << 20

SPLIT_BYTES = 16 << 20
"""Files smaller than this are read in one stream: threads would cost more than they save."""


@dataclass(frozen=True)
class CsvOptions:
    """How to read a delimited file.

    Attributes:
        delimiter: one character; ``","`` for CSV, ``"\\t"`` for TSV; None: by the file's
            suffix (tab for ``.tsv``, else comma), decided when the table is opened.
        header: whether the first record names the columns.
        target_column: the column holding the target; default ``target``, else the last column.
        features: the feature columns, in the order the weights follow; default all but the target.
        block_bytes: bytes parsed per chunk.
    """

    delimiter: str | None = ","
    header: bool = True
    target_column: str | None = None
    features: tuple[str, ...] | None = None
    block_bytes: int = BLOCK_BYTES


@dataclass(frozen=True)
class Chunk:
    """Consecutive data rows: ``X`` (rows × features), targets ``y``, and where they start.

    ``first_row`` is the 0-based index of the chunk's first data row in its source.
    """

    X: Matrix
    y: Vector
    first_row: int


@dataclass(frozen=True)
class Layout:
    """Which columns of a file are the features and the target (0-based positions)."""

    names: tuple[str, ...]
    feature_positions: tuple[int, ...]
    target_position: int
    header_lines: int = 0
    """Physical lines up to the end of the header record (blank lines before it included)."""

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(self.names[i] for i in self.feature_positions)

    @property
    def target(self) -> str:
        return self.names[self.target_position]


def delimiter_for(filename: str, delimiter: str | None) -> str:
    """The delimiter to use: the one asked for, else tab for ``.tsv``/``.tab``, else comma."""
    if delimiter is not None:
        return delimiter
    return "\t" if filename.lower().endswith((".tsv", ".tab")) else ","


class CsvTable:
    """An open delimited file: its layout is known at once, its rows are streamed by :meth:`chunks`.

    Args:
        fp: a binary file object. A non-seekable one (a pipe) is spooled to a temporary file.
        name: how messages name the file (its path, or ``<stdin>``).
        options: how to read it.

    Raises:
        DataError: the file is empty, not text, or its header does not have the columns asked for.
    """

    def __init__(self, fp: IO[bytes], name: str, options: CsvOptions) -> None:
        self.name = name
        self.delimiter = delimiter_for(name, options.delimiter)
        self.options = replace(options, delimiter=self.delimiter)
        self._spooled = not _seekable(fp)
        self._fp = _spool(fp) if self._spooled else fp
        self._start = self._fp.tell()
        record, lines = self._first_record()
        self.layout = layout_of(record, name, options, lines if options.header else 0)

    def close(self) -> None:
        """Release the spooled copy of a pipe (a file object passed in stays the caller's)."""
        if self._spooled:
            self._fp.close()

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

        self._fp.seek(self._start)
        reader = None
        failure = None
        first_row = 0
        try:
            reader = _arrow_reader(self._fp, self.layout, self.options)
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

    def parts(self, count: int) -> list[Iterator[Chunk]] | None:
        """The data rows as ``count`` independent streams over consecutive byte ranges, for
        reading on several threads; None when the file is too small to be worth it or is not a
        plain file.

        Ranges start at line starts. Arrow never lets a newline inside a quoted value (its
        ``newlines_in_values`` is off), so a line start is a row start for it too. A part stops
        at the first problem without saying where: read :meth:`chunks` for the exact message.
        ``first_row`` counts from the start of each part.
        """
        try:
            fd = self._fp.fileno()
            size = os.fstat(fd).st_size
        except (AttributeError, OSError, ValueError):
            return None
        if count < 2 or size - self._start < SPLIT_BYTES:
            return None
        self._fp.seek(self._start)
        for _ in range(self.layout.header_lines):
            self._fp.readline()
        cuts = [self._fp.tell()]
        for i in range(1, count):
            self._fp.seek(max(cuts[-1], cuts[0] + (size - cuts[0]) * i // count))
            self._fp.readline()
            cuts.append(self._fp.tell())
        cuts.append(size)
        return [self._part(fd, a, b) for a, b in itertools.pairwise(cuts) if b > a]

    def _part(self, fd: int, start: int, end: int) -> Iterator[Chunk]:
        import pyarrow as pa

        reader = None
        first_row = 0
        try:
            reader = _arrow_reader(self._stream(fd, start, end), self.layout, self.options, skip_rows=0)
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

    def _stream(self, fd: int, start: int, end: int) -> Any:
        """Bytes ``start``..``end``: read natively by Arrow when the file has a path (no GIL, no
        copies through Python), else through ``pread`` on the descriptor."""
        import pyarrow as pa

        path = getattr(self._fp, "name", None)
        if isinstance(path, str) and os.path.isfile(path):
            try:
                return pa.OSFile(path).get_stream(start, end - start)
            except OSError:
                pass
        return _Range(fd, start, end)

    def _chunk(self, batch: pa.RecordBatch, first_row: int) -> Chunk:
        columns = [to_numpy(batch.column(i)) for i in range(batch.num_columns)]
        X = np.column_stack(columns[:-1]) if len(columns) > 1 else np.empty((batch.num_rows, 0))
        y = columns[-1]
        # A finite sum means no NaN or infinity (either would poison it): one cheap pass, and
        # the element-wise check only when the sum says there may be one (or merely overflowed).
        with np.errstate(over="ignore", invalid="ignore"):
            total = X.sum() + y.sum()
        if not np.isfinite(total) and not (np.isfinite(X).all() and np.isfinite(y).all()):
            raise _NotFinite
        return Chunk(X, y, first_row)

    def _first_record(self) -> tuple[list[str] | None, int]:
        """The first non-blank record and the number of physical lines up to its end."""
        head = self._fp.read(_HEADER_PEEK_BYTES)
        self._fp.seek(self._start)
        if head.startswith((b"\x1f\x8b", b"PK\x03\x04", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd")):
            msg = f"{self.name}: a compressed file; decompress it first (zcat FILE | slopecli compute - …)"
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
                    return record, reader.line_num
            return None, 0
        except csv.Error as exc:
            msg = f"{self.name}:1: cannot read the first line as CSV: {exc}"
            raise DataError(msg) from None

    def _diagnosis(self, arrow_message: str) -> DataError | NumericError:
        self._fp.seek(self._start)
        found = diagnose(self._fp, self.name, self.layout, self.options)
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


def _seekable(fp: IO[bytes]) -> bool:
    try:
        return fp.seekable()
    except (AttributeError, ValueError):
        return False


def _spool(fp: IO[bytes]) -> IO[bytes]:
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the table
    shutil.copyfileobj(fp, spooled, 1 << 20)
    spooled.seek(0)
    return spooled


def layout_of(record: list[str] | None, name: str, options: CsvOptions, header_lines: int = 0) -> Layout:
    """Which columns are the features and the target, from the first record (or a schema's names).

    Raises:
        DataError: no columns, a column asked for is missing or named twice, or no features.
    """
    if not record or all(not field.strip() for field in record):
        msg = f"{name}: the file is empty"
        raise DataError(msg)
    if options.header:
        names = tuple(field.strip() for field in record)
    else:
        names = (*(f"x{i}" for i in range(1, len(record))), "target")

    def position(column: str, flag: str) -> int:
        hits = [i for i, n in enumerate(names) if n == column]
        if not hits:
            shown = ", ".join(names) if len(names) <= 12 else ", ".join(names[:12]) + ", …"
            msg = f"{name}: {flag}: no column named {column!r} (columns: {shown})"
            raise DataError(msg)
        if len(hits) > 1:
            where = " and ".join(str(i + 1) for i in hits)
            msg = f"{name}:1: column name {column!r} appears more than once (columns {where})"
            raise DataError(msg)
        return hits[0]

    if options.target_column is not None:
        target = position(options.target_column, "--target-column")
    elif "target" in names:
        target = position("target", "target column")
    else:
        target = len(names) - 1
    if options.features is not None:
        features = tuple(position(f, "--features") for f in options.features)
        if len(set(features)) != len(features):
            twice = next(f for f in options.features if options.features.count(f) > 1)
            msg = f"{name}: --features: {twice!r} is named more than once"
            raise DataError(msg)
        if target in features:
            msg = f"{name}: --features: {names[target]!r} is the target column, not a feature"
            raise DataError(msg)
    else:
        features = tuple(i for i in range(len(names)) if i != target)
        for i in features:
            position(names[i], "feature")  # rejects duplicate feature names
    if not features:
        msg = f"{name}: no feature columns: the file has only the target column {names[target]!r}"
        raise DataError(msg)
    return Layout(names, features, target, header_lines)


def _arrow_reader(
    fp: IO[bytes] | io.RawIOBase, layout: Layout, options: CsvOptions, skip_rows: int | None = None
) -> pa.RecordBatchReader:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # Columns get positional names so that odd or repeated header names cannot confuse Arrow.
    internal = [f"c{i}" for i in range(len(layout.names))]
    used = [internal[i] for i in (*layout.feature_positions, layout.target_position)]
    return pacsv.open_csv(
        fp,
        read_options=pacsv.ReadOptions(
            column_names=internal,
            # Arrow counts physical lines here, so blank lines before the header count too.
            skip_rows=layout.header_lines if skip_rows is None else skip_rows,
            block_size=options.block_bytes,
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


BIAS = "bias"
"""The name of the constant-1 feature that ``--bias`` adds: its weight is the intercept."""


def with_bias(chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    """The chunks with a last column of ones, so that ``Σ w·x`` includes an intercept ``b``
    (the last weight) and the slope of ``b`` is ``2·error``."""
    for chunk in chunks:
        X = np.column_stack([chunk.X, np.ones(len(chunk.y))])
        yield Chunk(X, chunk.y, chunk.first_row)


def open_table(fp: IO[bytes], name: str, options: CsvOptions) -> CsvTable | ParquetTable:
    """A CSV/TSV table, or a Parquet one when the name says ``.parquet``."""
    from slopecli.parquet import ParquetTable, is_parquet

    if is_parquet(name):
        return ParquetTable(fp, name, options)
    return CsvTable(fp, name, options)
