"""CSV lines of a float64 matrix, a whole chunk at once: one row of the matrix per line.

Numbers are formatted by orjson (a ryu-style shortest round-trip formatter, ~25 ns a value against
~136 ns for Arrow's CSV writer): every value reads back as exactly the same double. orjson spells
an integral value ``14.0``; the house's CSV spells it ``14`` (and ``-0``), so a trailing ``.0`` is
dropped. Otherwise the layout is orjson's (3.13: positional from 1e-5 to below 1e16, as in
``0.00001`` and ``1500000000000000``; an exponent outside, as in ``2.5e-6`` and ``1e+16``).

The line breaks and the dropped ``.0`` are found with numpy in the bytes orjson wrote (one pass to
find the commas; the integral values among the floats, and only their ends in the bytes), so no
Python object is made per value. orjson holds the GIL while it formats; the numpy passes mostly
do not.
"""

from __future__ import annotations

import numpy as np

_COMMA, _NEWLINE, _DOT, _ZERO = (ord(c) for c in ",\n.0")


def csv_rows(matrix: np.ndarray) -> bytes:
    """The rows of ``matrix`` (n × k float64, all finite) as ``n`` CSV lines of ``k`` fields.

    Raises:
        ValueError: a value is NaN or infinite (orjson would write ``null``: the evaluator rejects
            them first, so one here is a bug).
    """
    import orjson

    rows, columns = int(matrix.shape[0]), int(matrix.shape[1])
    if rows == 0 or columns == 0:
        return b"\n" * rows
    values = np.ascontiguousarray(matrix, dtype=np.float64).ravel()
    if not np.isfinite(values).all():
        msg = "NaN or infinity in CSV output"
        raise ValueError(msg)
    # "[v,v,…,v]": the k-th comma of each row becomes its line break, the closing bracket the last.
    text = np.frombuffer(orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY), dtype=np.uint8).copy()
    commas = np.flatnonzero(text == _COMMA)
    text[commas[columns - 1 :: columns]] = _NEWLINE
    text[-1] = _NEWLINE
    # An integral value is spelled with ".0" just before its separator (below 1e16: larger ones
    # have an exponent). They are found among the values, usually none, so that the bytes are
    # searched only where they are.
    whole = np.flatnonzero(values == np.trunc(values))
    if len(whole):
        ends = np.append(commas, len(text) - 1)[whole]
        ends = ends[(text[ends - 2] == _DOT) & (text[ends - 1] == _ZERO)]
        if len(ends):
            keep = np.ones(len(text), dtype=bool)
            keep[0] = False
            keep[ends - 1] = False
            keep[ends - 2] = False
            return text[keep].tobytes()
    return text[1:].tobytes()
