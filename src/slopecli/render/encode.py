"""Per-row JSON records of a whole chunk at once: the bytes ``json.dumps`` writes, without a Python
object per value.

Every float is spelled as ``repr(float)`` spells it (the shortest text that reads back as the same
double), as ``json.dumps`` does. Arrow's C++ cast to string finds the same shortest digits, but lays
them out by other rules; the two agree on every finite double except in two places, which are
mended here:

- an integral value below 1e16 is ``22`` in Arrow and ``22.0`` in Python: ``.0`` is appended;
- near the edges of Python's positional range, Arrow picks the other notation (``0.00001`` for
  ``1e-05``, ``1.5e+15`` for ``1500000000000000.0``) or writes a one-digit exponent (``1e-7`` for
  ``1e-07``): values of magnitude in [1e-9, 1e-4) or [1e9, 1e17) are spelled by ``repr`` itself.

Lines are then joined column-wise by Arrow (``binary_join_element_wise``), so a chunk of a million
values costs a few C++ passes, which release the GIL: chunks can be encoded on several threads.
tests/test_encode.py checks the bytes against ``json.dumps`` with hypothesis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from slopecli.arrow import from_numpy

if TYPE_CHECKING:
    import pyarrow as pa

    from slopecli.evaluation import RowBatch

Field = tuple[str, Any]
"""A record's field: its name and a float64 column (n values), a float64 matrix (n × k: a list per
record), a string (the same in every record), or None for the 1-based row number."""


def float_texts(values: np.ndarray) -> pa.Array:
    """``repr(v)`` of each finite float64 in ``values``, as an Arrow string array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if not np.isfinite(values).all():
        # JSON has no NaN or Infinity, and the evaluator rejects them first: one here is a bug.
        msg = "NaN or infinity in JSON output"
        raise ValueError(msg)
    texts = pc.cast(from_numpy(values), pa.string())
    size = np.abs(values)
    by_repr = ((size >= 1e-9) & (size < 1e-4)) | ((size >= 1e9) & (size < 1e17))
    whole = (values == np.trunc(values)) & (size < 1e9)
    if whole.any():
        texts = pc.binary_join_element_wise(texts, pc.if_else(_mask(whole), ".0", ""), "")
    if by_repr.any():
        spelled = pa.array([repr(v) for v in values[by_repr].tolist()], pa.string())
        texts = pc.replace_with_mask(texts, _mask(by_repr), spelled)
    return texts


def records(fields: Sequence[Field], n: int, first_row: int, prefix: str, end: str) -> bytes:
    """``n`` JSON records, each ``prefix + {"name": value, …} + end``, as ``json.dumps`` writes them
    (``", "`` and ``": "`` separators)."""
    import json

    import pyarrow as pa
    import pyarrow.compute as pc

    if n == 0:
        return b""
    arrays = [v for _, v in fields if isinstance(v, np.ndarray)]
    flat = float_texts(np.concatenate([a.T.ravel() for a in arrays])) if arrays else pa.array([], pa.string())
    pieces: list[Any] = []
    text = prefix + "{"
    offset = 0
    for i, (name, value) in enumerate(fields):
        text += ("" if i == 0 else ", ") + json.dumps(name, ensure_ascii=False) + ": "
        if value is None:
            rows = np.arange(first_row + 1, first_row + n + 1, dtype=np.int64)
            pieces += [
                text,
                pc.cast(pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(rows)]), pa.string()),
            ]
            text = ""
        elif isinstance(value, str):
            text += json.dumps(value, ensure_ascii=False)
        elif value.ndim == 1:
            pieces += [text, flat.slice(offset, n)]
            offset += n
            text = ""
        elif value.shape[1] == 0:
            text += "[]"
        else:
            columns = [flat.slice(offset + j * n, n) for j in range(value.shape[1])]
            offset += n * value.shape[1]
            joined = columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, ", ")
            pieces += [text + "[", joined]
            text = "]"
    pieces.append(text + "}" + end)
    lines = pc.binary_join_element_wise(*pieces, "") if len(pieces) > 1 else pa.array([pieces[0]] * n)
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=n + 1, offset=lines.offset * 4)
    return bytes(lines.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes())


def _mask(values: np.ndarray) -> pa.Array:
    """A numpy bool array as an Arrow one (``pa.array`` would import pandas when it is installed)."""
    import pyarrow as pa

    bits = np.packbits(values, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])


def row_fields(batch: RowBatch) -> list[Field]:
    """The per-row fields of ``compute``'s JSON contract, in its order."""
    return [
        ("row", None),
        ("input", batch.X),
        ("target", batch.y),
        ("preds", batch.preds),
        ("error", batch.error),
        ("slope", batch.slopes),
    ]
