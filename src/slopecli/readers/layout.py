"""Which columns are the features and the target: the rules every reader shares."""

from __future__ import annotations

from dataclasses import dataclass

from slopecli.errors import DataError
from slopecli.text import listed, quoted

BLOCK_BYTES = 256 << 10
"""Bytes parsed per CSV chunk. Arrow's streaming reader queues up to 32 blocks (not configurable),
so peak memory grows with this: on the 10M × 3 benchmark file, 84 MiB at 96 KiB, 104 at 256 KiB,
155 at 512 KiB (1 Dec 2026, after pydantic left the start-up). Fewer chunks cost less Python:
256 KiB took 4-8% less CPU than 96 KiB on the benchmark files. See bench/README.md."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read a table.

    Attributes:
        delimiter: one character; ``","`` for CSV, ``"\\t"`` for TSV; None: by the file's
            suffix (tab for ``.tsv``, else comma), decided when the table is opened.
        header: whether the first record names the columns (Parquet always names them).
        target_column: the column holding the target; default ``target``, else the last column.
        features: the feature columns, in the order the weights follow; default all but the target.
        block_bytes: bytes parsed per CSV chunk.
    """

    delimiter: str | None = ","
    header: bool = True
    target_column: str | None = None
    features: tuple[str, ...] | None = None
    block_bytes: int = BLOCK_BYTES


@dataclass(frozen=True)
class Layout:
    """Which columns of a table are the features and the target (0-based positions)."""

    names: tuple[str, ...]
    feature_positions: tuple[int, ...]
    target_position: int
    header_lines: int = 0
    """Physical lines up to the end of the header record (blank lines before it included)."""

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(map(self.names.__getitem__, self.feature_positions))

    @property
    def target(self) -> str:
        return self.names[self.target_position]

    @property
    def used(self) -> tuple[int, ...]:
        """The positions read, features first (in weight order), the target last."""
        return (*self.feature_positions, self.target_position)


COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst", ".zstd")
"""What a compressed file's name may end with (it is read by its magic bytes, whatever its name)."""


def data_name(filename: str) -> str:
    """The name without a compression suffix: ``part.tsv.gz`` holds ``part.tsv``."""
    for suffix in COMPRESSION_SUFFIXES:
        if filename.lower().endswith(suffix) and len(filename) > len(suffix):
            return filename[: -len(suffix)]
    return filename


def delimiter_for(filename: str, delimiter: str | None) -> str:
    """The delimiter to use: the one asked for, else tab for ``.tsv``/``.tab`` (compressed or
    not), else comma."""
    if delimiter is not None:
        return delimiter
    return "\t" if data_name(filename).lower().endswith((".tsv", ".tab")) else ","


def layout_of(
    record: list[str] | None, name: str, options: ReadOptions, header_lines: int = 0, delimited: bool = True
) -> Layout:
    """Which columns are the features and the target, from the first record (or a schema's names,
    when ``delimited`` is False).

    Raises:
        DataError: no columns, a column asked for is missing or named twice, a feature has no
            name, or there are no features.
    """
    if not record or all(not field.strip() for field in record):
        msg = f"{name}: the file is empty"
        raise DataError(msg)
    if options.header:
        names = tuple(map(str.strip, record))
    else:
        names = (*(f"x{i}" for i in range(1, len(record))), "target")
    # A repeated name is on the header's line of a text file; a schema has no lines.
    index = _Index(names, name, f"{name}:1" if delimited else name)
    if options.target_column is not None:
        target = index.position(options.target_column, "--target-column")
    elif "target" in index.last:
        target = index.position("target", "target column")
    else:
        target = len(names) - 1
    if options.features is not None:
        features = _chosen(index, options.features, target)
    else:
        features = (*range(target), *range(target + 1, len(names)))
    if options.header:  # a feature is known by its name (saved weights, JSON); the target need not be
        # Before the repeated names below: two columns without a name are unnamed, not one name twice.
        _named(names, features, name, delimited)
    if options.features is None:
        index.once(features)
    if not features:
        msg = f"{name}: no feature columns: the file has only the target column {quoted(names[target])}"
        if delimited and len(record) == 1:
            msg += _delimiter_hint(record[0], options.delimiter)
        raise DataError(msg)
    return Layout(names, features, target, header_lines)


class _Index:
    """Where each name of a header is, for the lookups of one :func:`layout_of`."""

    def __init__(self, names: tuple[str, ...], source: str, header: str) -> None:
        self.names, self.source, self.header = names, source, header
        # Built in C: a lookup per column must not cost a scan of the header, nor 40,000 columns a
        # Python loop. Only a header that repeats a name lists every position of each.
        self.last = dict(zip(names, range(len(names)), strict=True))
        self.every: dict[str, list[int]] = {}
        if len(self.last) < len(names):
            for i, column in enumerate(names):
                self.every.setdefault(column, []).append(i)

    def hits(self, column: str) -> list[int]:
        if self.every:
            return self.every.get(column, [])
        return [self.last[column]] if column in self.last else []

    def position(self, column: str, flag: str) -> int:
        """The one column named ``column``, which ``flag`` asks for.

        Raises:
            DataError: there is none, or more than one.
        """
        hits = self.hits(column)
        if not hits:
            msg = f"{self.source}: {flag}: no column named {quoted(column)} (columns: {listed(self.names)})"
            raise DataError(msg)
        if len(hits) > 1:
            where = " and ".join(str(i + 1) for i in hits)
            if len(hits) > 4:  # a wide file may repeat a name thousands of times
                where = ", ".join(str(i + 1) for i in hits[:3]) + f" and {len(hits) - 3:,} more"
            msg = f"{self.header}: column name {quoted(column)} appears more than once (columns {where})"
            raise DataError(msg)
        return hits[0]

    def once(self, positions: tuple[int, ...]) -> None:
        """Each column at ``positions`` has a name no other column has (the error names both)."""
        if self.every:
            repeated = next((self.names[i] for i in positions if len(self.every[self.names[i]]) > 1), None)
            if repeated is not None:
                self.position(repeated, "feature")


def _chosen(index: _Index, features: tuple[str, ...], target: int) -> tuple[int, ...]:
    """The positions of the features ``--features`` names, each once and none the target."""
    positions = tuple(index.position(f, "--features") for f in features)
    if len(set(positions)) != len(positions):
        twice = next(f for f in features if features.count(f) > 1)
        msg = f"{index.source}: --features: {quoted(twice)} is named more than once"
        raise DataError(msg)
    if target in positions:
        msg = f"{index.source}: --features: {quoted(index.names[target])} is the target column, not a feature"
        raise DataError(msg)
    return positions


def _named(names: tuple[str, ...], features: tuple[int, ...], source: str, delimited: bool) -> None:
    """Every feature has a name in the header: the first that has none is named by its place."""
    unnamed = next((i for i in features if not names[i]), None)
    if unnamed is None:
        return
    where = f"{source}:1:{unnamed + 1}" if delimited else source
    msg = (
        f"{where}: column {unnamed + 1} has no name in the header: name it, or choose the columns"
        " to read with --features" + (" (or read the file with --no-header)" if delimited else "")
    )
    raise DataError(msg)


_DELIMITERS = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


def _delimiter_hint(field: str, delimiter: str | None) -> str:
    """What to add to the message when a one-column header looks separated by another delimiter."""
    counts = {d: field.count(d) for d in _DELIMITERS if d != delimiter}
    likely = max(counts, key=lambda d: counts[d])
    if not counts[likely]:
        return ""
    label = _DELIMITERS[likely]
    return f"; the first line looks {label}-separated: add --delimiter {label}"


def reordered(layout: Layout, order: tuple[str, ...], name: str, why: str) -> Layout:
    """``layout`` with its features in ``order``, when it has exactly those names in another order.

    Raises:
        DataError: the feature names differ from ``order`` (both lists are named).
    """
    if layout.features == order:
        return layout
    if sorted(layout.features) != sorted(order):
        msg = (
            f"{name}: features ({listed(layout.features)}) differ from ({listed(order)}) {why};"
            " the weights follow features by name"
        )
        raise DataError(msg)
    by_name = {layout.names[i]: i for i in layout.feature_positions}
    positions = tuple(by_name[f] for f in order)
    return Layout(layout.names, positions, layout.target_position, layout.header_lines)
