"""numpy <-> Arrow for float64 columns, without pandas.

pyarrow's own conversions (``Array.to_numpy``, ``pa.array(ndarray)``) import pandas whenever it is
installed, which costs about 200 ms and 50 MiB per process for nothing here. Float64 columns
without nulls share one memory layout in both libraries, so the buffers can simply be shared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

    from slopecli.core import Vector


def to_numpy(column: pa.Array) -> Vector:
    """A float64 view of an Arrow column (zero-copy when it is float64 without nulls).

    Other numeric types are cast to float64, integers beyond 2^53 rounded to the nearest double as
    a CSV file's digits are; nulls become NaN (callers that can say "missing" check for nulls first).
    """
    import pyarrow as pa

    if column.type != pa.float64() or column.null_count:
        import pyarrow.compute as pc  # 20 ms to import: only for Parquet's ints and nulls

        if pa.types.is_decimal(column.type):
            # Through its digits: Arrow's decimal-to-double cast is not correctly rounded
            # (56047.5954 became 56047.595400000006), its text-to-double parse is, as for CSV.
            column = pc.cast(column, pa.string())
        column = pc.fill_null(pc.cast(column, pa.float64(), safe=False), float("nan"))
    values = column.buffers()[1]
    return np.frombuffer(values, dtype=np.float64, count=len(column), offset=column.offset * 8)


def from_numpy(values: np.ndarray) -> pa.Array:
    """An Arrow float64 column sharing a contiguous copy of ``values``."""
    import pyarrow as pa

    data = np.ascontiguousarray(values, dtype=np.float64)
    return pa.Array.from_buffers(pa.float64(), len(data), [None, pa.py_buffer(data)])
