"""Parquet files -> numpy chunks, batch by batch, with the same layout rules as CSV.

Parquet is typed and columnar, so there is nothing to diagnose line by line: a column that is
not numeric, or a value that is NaN or infinite, is reported with its column and row.

Rows are streamed in constant memory: each column chunk is read through a small buffer, page by
page (Arrow's default reads a whole column chunk of a row group at once, and decodes the columns on
threads of its own: 455 MiB peak for 3M x 11 in row groups of 1M rows, 732 MiB for 6M x 11), and
batches are small. The engines' threads read row groups in parallel instead (bench/README.md).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import IO, TYPE_CHECKING

import numpy as np

from slopecli.arrow import to_numpy
from slopecli.errors import DataError, NumericError
from slopecli.readers.chunk import Chunk
from slopecli.readers.layout import Layout, ReadOptions, layout_of
from slopecli.text import quoted

if TYPE_CHECKING:
    import pyarrow as pa

PARQUET_SUFFIXES = (".parquet", ".pq")
MAGIC = b"PAR1"
ROWS_PER_BATCH = 1 << 12
"""Rows per chunk: 1.4 MiB for 11 columns."""
BUFFER_BYTES = 1 << 16
"""The read buffer of each column chunk (0 would read a whole column chunk at once)."""

Piece = tuple[int, int]
"""Row groups ``[first, last)`` of the file."""


def is_parquet(name: str, head: bytes = b"") -> bool:
    """Parquet by its magic bytes when the file's first bytes are known, else by its suffix."""
    return head.startswith(MAGIC) if head else name.lower().endswith(PARQUET_SUFFIXES)


class ParquetTable:
    """An open Parquet file: its layout is known at once, its rows are streamed by :meth:`chunks`.

    ``options.header`` and ``options.delimiter`` do not apply: Parquet names its columns.

    Raises:
        DataError: the file is not Parquet, or lacks the columns asked for.
    """

    def __init__(self, fp: IO[bytes], name: str, options: ReadOptions) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.name = name
        self.options = options
        try:
            self._file = pq.ParquetFile(fp, buffer_size=BUFFER_BYTES, pre_buffer=False)
        except (pa.ArrowInvalid, OSError) as exc:
            msg = f"{name}: not a Parquet file ({exc})"
            raise DataError(msg) from None
        except UnicodeDecodeError as exc:  # a column name in the file's metadata (pyarrow decodes it)
            msg = (
                f"{name}: a column name is not UTF-8 (byte {exc.object[exc.start]:#04x});"
                " Parquet names columns in UTF-8: rewrite the file's schema"
            )
            raise DataError(msg) from None
        names = list(self._file.schema_arrow.names)
        # The layout matches names without surrounding spaces, as in a CSV header; reading asks
        # Parquet for its own.
        self._names = names
        # Parquet always names its columns: --no-header and --delimiter do not apply.
        self.layout: Layout = layout_of(names or None, name, replace(options, header=True), delimited=False)
        fields = [self._file.schema_arrow.field(i) for i in self.layout.used]
        for position, field in zip(self.layout.used, fields, strict=True):
            kind = field.type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)):
                msg = (
                    f"{name}: column {quoted(field.name)} holds {kind}, not numbers; store it as integers,"
                    " floats or decimals (pandas: df[column].astype(float))"
                )
                if position != self.layout.target_position:
                    msg += ", or leave it out with --features"
                raise DataError(msg)
        self._float64 = all(field.type == pa.float64() for field in fields)

    @property
    def features(self) -> tuple[str, ...]:
        return self.layout.features

    def chunks(self) -> Iterator[Chunk]:
        """The rows, one record batch at a time.

        Raises:
            NumericError: a value is null, NaN or infinite (with its column and row).
        """
        yield from self._batches(range(self._file.num_row_groups), 0)
        if self._file.metadata.num_rows == 0:
            msg = f"{self.name}: the file has no data rows"
            raise DataError(msg)

    def pieces(self, count: int, processes: bool = False, most_bytes: int | None = None) -> list[Piece]:
        """Up to ``count`` runs of consecutive row groups, for reading in separate processes.

        None for threads of one process: two readers there cost 40 MiB more at their peak and
        were no faster than one (6M x 11: 166 vs 126 MiB, 2.2 vs 1.9 s; bench/README.md), as
        decoding one column page at a time leaves little for a second thread to overlap.
        """
        groups = self._file.num_row_groups
        if not processes or count < 2 or groups < 2:
            return []
        cuts = [groups * i // count for i in range(count + 1)]
        return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]

    def read_piece(self, piece: Piece) -> Iterator[Chunk]:
        """The rows of one of :meth:`pieces`, numbered from the file's first row."""
        metadata = self._file.metadata
        first_row = sum(metadata.row_group(i).num_rows for i in range(piece[0]))
        return self._batches(range(*piece), first_row)

    def _batches(self, groups: range, first_row: int) -> Iterator[Chunk]:
        import pyarrow as pa

        try:
            batches = self._file.iter_batches(ROWS_PER_BATCH, list(groups), self._used, use_threads=False)
            for batch in batches:
                yield self._chunk(batch, first_row)
                first_row += batch.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            msg = f"{self.name}: cannot read the Parquet file, from data row {first_row + 1} on: {exc}"
            raise DataError(msg) from None

    @property
    def _used(self) -> list[str]:
        return [self._names[i] for i in self.layout.used]

    def _chunk(self, batch: pa.RecordBatch, first_row: int) -> Chunk:
        import pyarrow as pa

        matrix = None
        if self._float64:
            # One copy into a column-major matrix, in Arrow; it refuses nulls (named below).
            with contextlib.suppress(pa.ArrowTypeError, pa.ArrowInvalid):
                matrix = np.asarray(batch.to_tensor(row_major=False))
        if matrix is None:
            # Other types are cast column by column as CSV digits would be read (Arrow's own
            # promotion would turn uint64 beyond 2^63 negative), after a look for nulls.
            self._name_null(batch, first_row)
            matrix = np.column_stack([to_numpy(column) for column in batch.columns])
        with np.errstate(over="ignore", invalid="ignore"):
            total = matrix.sum()
        if not np.isfinite(total):
            bad = ~np.isfinite(matrix)
            if bad.any():
                column = int(np.argmax(bad.any(axis=0)))
                row = int(np.argmax(bad[:, column]))
                msg = (
                    f"{self.name}: data row {first_row + row + 1}: column {quoted(self._used[column])}:"
                    f" {matrix[row, column]} is not a finite number"
                )
                raise NumericError(msg)
        return Chunk(matrix[:, :-1], matrix[:, -1], first_row)

    def _name_null(self, batch: pa.RecordBatch, first_row: int) -> None:
        """Raise for the first null of ``batch``, column by column, if it has one."""
        for column, values in zip(self._used, batch.columns, strict=True):
            if values.null_count:
                row = first_row + values.is_null().to_pylist().index(True) + 1
                msg = (
                    f"{self.name}: data row {row}: column {quoted(column)}: a missing value (null);"
                    " every feature and target needs a number"
                )
                raise DataError(msg)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ParquetTable:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
