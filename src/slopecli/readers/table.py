"""The table protocol every reader implements, and the one function that opens any of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any, Protocol

from slopecli.readers.chunk import BIAS, Chunk, with_bias, with_bias_name
from slopecli.readers.layout import Layout, ReadOptions

Piece = tuple[int, int]
"""A part of a table that can be read on its own: a byte range of a CSV file, row groups of a
Parquet file. Picklable, so a worker process or a Dask task can read it from the same file."""


class Table(Protocol):
    """Rows with named features, read as one stream of chunks or as independent pieces.

    ``layout`` may be replaced (:func:`slopecli.readers.layout.reordered`) before reading, to
    read the features in another order.
    """

    name: str
    layout: Layout

    @property
    def features(self) -> tuple[str, ...]: ...
    def chunks(self) -> Iterator[Chunk]: ...
    def pieces(self, count: int, processes: bool = False, most_bytes: int | None = None) -> list[Piece]:
        """Up to ``count`` pieces that can be read independently, or none: for threads of this
        process, or for separate ``processes`` (a Dask worker's own memory and reader). With
        ``most_bytes``, a file cut into byte ranges gets more pieces if it takes that many to keep
        each near that size."""
        ...

    def read_piece(self, piece: Piece) -> Iterator[Chunk]: ...
    def close(self) -> None: ...


def open_table(fp: IO[bytes], name: str, options: ReadOptions) -> Table:
    """A CSV/TSV table, or a Parquet one: by its magic bytes when ``fp`` can be peeked, else by
    the suffix of ``name``.

    Raises:
        DataError: the file cannot be read as the table it looks like.
    """
    from slopecli.readers.parquet import ParquetTable, is_parquet

    head = b""
    if _seekable(fp):
        start = fp.tell()
        head = fp.read(4)
        fp.seek(start)
    if is_parquet(name, head):
        return ParquetTable(fp, name, options)
    from slopecli.readers.delimited import CsvTable

    return CsvTable(fp, name, options)


class Biased:
    """``table`` with a last feature ``bias`` that is 1 on every row: its weight is the intercept.

    Raises:
        DataError: the table already has a column named ``bias``.
    """

    def __init__(self, table: Table) -> None:
        with_bias_name(table.features, table.name)
        self._table = table
        self.name = table.name

    @property
    def unbiased(self) -> Table:
        """The table without its bias column."""
        return self._table

    @property
    def layout(self) -> Layout:
        return self._table.layout

    @layout.setter
    def layout(self, layout: Layout) -> None:
        self._table.layout = layout

    @property
    def features(self) -> tuple[str, ...]:
        return (*self._table.features, BIAS)

    def chunks(self) -> Iterator[Chunk]:
        return with_bias(self._table.chunks())

    def pieces(self, count: int, processes: bool = False, most_bytes: int | None = None) -> list[Piece]:
        return self._table.pieces(count, processes, most_bytes)

    def read_piece(self, piece: Piece) -> Iterator[Chunk]:
        return with_bias(self._table.read_piece(piece))

    def close(self) -> None:
        self._table.close()


def _seekable(fp: Any) -> bool:
    try:
        return bool(fp.seekable())
    except (AttributeError, ValueError):
        return False
