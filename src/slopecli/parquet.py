"""Parquet files -> numpy chunks, batch by batch, with the same layout rules as CSV.

Parquet is typed and columnar, so there is nothing to diagnose line by line: a column that is
not numeric, or a value that is NaN or infinite, is reported with its column and row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import IO

import numpy as np

from slopecli.arrow import to_numpy
from slopecli.errors import DataError, NumericError
from slopecli.loaders import Chunk, CsvOptions, Layout, layout_of

PARQUET_SUFFIXES = (".parquet", ".pq")
ROWS_PER_BATCH = 1 << 16


def is_parquet(name: str) -> bool:
    return name.lower().endswith(PARQUET_SUFFIXES)


class ParquetTable:
    """An open Parquet file: its layout is known at once, its rows are streamed by :meth:`chunks`.

    ``options.header`` and ``options.delimiter`` do not apply: Parquet names its columns.

    Raises:
        DataError: the file is not Parquet, or lacks the columns asked for.
    """

    def __init__(self, fp: IO[bytes], name: str, options: CsvOptions) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.name = name
        self.options = options
        try:
            self._file = pq.ParquetFile(fp)
        except (pa.ArrowInvalid, OSError) as exc:
            msg = f"{name}: not a Parquet file ({exc})"
            raise DataError(msg) from None
        names = list(self._file.schema_arrow.names)
        # Parquet always names its columns: --no-header and --delimiter do not apply.
        self.layout: Layout = layout_of(names or None, name, replace(options, header=True))
        for i in (*self.layout.feature_positions, self.layout.target_position):
            field = self._file.schema_arrow.field(i)
            if not (pa.types.is_integer(field.type) or pa.types.is_floating(field.type)):
                msg = f"{name}: column {field.name!r} holds {field.type}, not numbers"
                raise DataError(msg)

    @property
    def features(self) -> tuple[str, ...]:
        return self.layout.features

    def chunks(self) -> Iterator[Chunk]:
        """The rows, one record batch at a time.

        Raises:
            NumericError: a value is null, NaN or infinite (with its column and row).
        """
        used = [self.layout.names[i] for i in (*self.layout.feature_positions, self.layout.target_position)]
        first_row = 0
        for batch in self._file.iter_batches(batch_size=ROWS_PER_BATCH, columns=used):
            columns = [to_numpy(batch.column(i)) for i in range(batch.num_columns)]
            for column, values in zip(used, columns, strict=True):
                bad = ~np.isfinite(values)
                if bad.any():
                    row = first_row + int(np.flatnonzero(bad)[0]) + 1
                    value = values[bad][0]
                    msg = f"{self.name}: data row {row}: column {column!r}: {value} is not a finite number"
                    raise NumericError(msg)
            yield Chunk(np.column_stack(columns[:-1]), columns[-1], first_row)
            first_row += batch.num_rows
        if first_row == 0:
            msg = f"{self.name}: the file has no data rows"
            raise DataError(msg)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ParquetTable:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
