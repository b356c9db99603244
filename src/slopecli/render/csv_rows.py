"""CSV lines of a float64 matrix, a whole chunk at once: one row of the matrix per line.

Numbers are formatted by orjson (a ryu-style shortest round-trip formatter, ~25 ns a value against
~136 ns for Arrow's CSV writer): every value reads back as exactly the same double. orjson spells
an integral value ``14.0``; the house's CSV spells it ``14`` (and ``-0``), so a trailing ``.0`` is
dropped. Otherwise the layout is orjson's (3.13: positional from 1e-5 to below 1e16, as in
``0.00001`` and ``1500000000000000``; an exponent outside, as in ``2.5e-6`` and ``1e+16``).

The line breaks and the dropped ``.0`` are found with numpy in the bytes orjson wrote (the commas,
by 4-byte words where they can be; the integral values among the floats, and only their ends in
the bytes), so no Python object is made per value. orjson holds the GIL while it formats; the
numpy calls let it go, and each must wait to take it back when other threads hold it: a few large
calls, not many small ones (bench/README.md, "2 Dec 2026, third session").
"""

from __future__ import annotations

import numpy as np

_COMMA, _NEWLINE, _DOT, _ZERO = (ord(c) for c in ",\n.0")


def csv_rows(matrix: np.ndarray) -> bytes | bytearray:
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
    # A finite sum means finite values (NaN and infinity carry into it). Each numpy call over a
    # large array lets the GIL go and waits to get it back, which costs more than the call when
    # other threads want it too: one call, not two, unless the sum says there may be one.
    with np.errstate(over="ignore", invalid="ignore"):
        if not np.isfinite(values.sum()) and not np.isfinite(values).all():
            msg = "NaN or infinity in CSV output"
            raise ValueError(msg)
    # "[v,v,…,v]": the k-th comma of each row becomes its line break, the closing bracket the last.
    # The bytes after the bracket are copied once, into a buffer numpy can write in.
    out = bytearray(memoryview(orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY))[1:])
    text = np.frombuffer(out, dtype=np.uint8)
    commas = _Commas(text, len(values) - 1)
    text[commas.at(slice(columns - 1, None, columns))] = _NEWLINE
    text[-1] = _NEWLINE
    # An integral value is spelled with ".0" just before its separator (below 1e16: larger ones
    # have an exponent). They are found among the values, usually none, so that the bytes are
    # searched only where they are.
    whole = np.flatnonzero(values == np.trunc(values))
    if len(whole):
        ends = np.append(commas.at(whole[whole < len(values) - 1]), len(text) - 1)[: len(whole)]
        ends = ends[(text[ends - 2] == _DOT) & (text[ends - 1] == _ZERO)]
        if len(ends):
            keep = np.ones(len(text), dtype=bool)
            keep[ends - 1] = False
            keep[ends - 2] = False
            return text[keep].tobytes()
    return out


class _Commas:
    """Where the commas of a text are.

    numpy's ``flatnonzero`` costs ~8 ns per comma found in a byte mask (a ``memchr`` each), 100 ns
    a row of 12 long values. When no two commas share a 4-byte word (the values are longer than
    2 characters), the words that hold one are found instead (~0.5 ns a word), and the byte of
    only the commas asked for, as the exponent of a power of two.
    """

    def __init__(self, text: np.ndarray, count: int) -> None:
        self._words: np.ndarray | None = None  # the text's 4-byte words, when they are searched
        self._found = np.zeros(0, dtype=np.intp)  # those words' numbers, or else the offsets
        if count * 4 < len(text):
            whole = len(text) // 4 * 4
            words = (text[:whole] == _COMMA).view("<u4")  # each byte 0 or 1: byte k is bit 8k
            hit = np.flatnonzero(words != 0)
            if len(hit) == count:  # one comma in each
                self._words, self._found = words, hit
                return
        self._found = np.flatnonzero(text == _COMMA)

    def at(self, which: slice | np.ndarray) -> np.ndarray:
        """The offsets of the commas numbered ``which`` (from 0, in the order of the text)."""
        found: np.ndarray = self._found[which]
        if self._words is None:
            return found
        exponent: np.ndarray = np.frexp(self._words[found].astype(np.float64))[1]
        offsets: np.ndarray = found * 4 + (exponent - 1) // 8
        return offsets
