"""Where a command's weights and rows come from: flags, a weights file, a CSV file or stdin."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from slopecli.csv_diagnosis import NUMBER
from slopecli.errors import InputError
from slopecli.evaluate import evaluate_split
from slopecli.loaders import BIAS, Chunk, CsvOptions, CsvTable, open_table, with_bias
from slopecli.text import count
from slopecli.values import parse_number, parse_vector, parse_weights_file, saved_features

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from slopecli.core import Sums, Vector

STDIN = "-"
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
FLAGS = "--input"


@dataclass(frozen=True)
class Source:
    """Rows ready to evaluate: a name for messages, the feature names and a chunk stream."""

    name: str
    features: tuple[str, ...]
    chunks: Callable[[], Iterable[Chunk]]
    parts: Callable[[int], list[Iterator[Chunk]] | None] | None = None
    """Independent streams over parts of the data, when it can be split (a large CSV file)."""

    def sums(self, weights: Vector, threads: int = CORES) -> Sums:
        """The sums of every row: split across threads when the data allows, else one pass."""
        parts = self.parts(threads) if self.parts is not None else None
        return evaluate_split(self.chunks, parts, weights, self.name)

    @property
    def title(self) -> str:
        """How tables name the data: its file, or "flags"."""
        return "flags" if self.name == FLAGS else self.name


def read_weights(weights: str | None, weights_file: Path | None) -> Vector:
    """The weights from ``--weights`` or ``--weights-file`` (exactly one of them)."""
    if weights is not None and weights_file is not None:
        msg = "--weights and --weights-file: give one of them, not both"
        raise InputError(msg)
    if weights is not None:
        return parse_vector(weights, "--weights")
    if weights_file is not None:
        try:
            text = weights_file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            msg = f"--weights-file: {weights_file}: cannot read it: {_reason(exc)}"
            raise InputError(msg) from None
        except UnicodeDecodeError as exc:
            msg = f"--weights-file: {weights_file}: not UTF-8 text (byte {exc.object[exc.start]:#04x})"
            raise InputError(msg) from None
        return parse_weights_file(text, f"--weights-file {weights_file}")
    msg = "missing weights: give --weights 0,2,1 or --weights-file FILE"
    raise InputError(msg)


def flag_rows(inputs: list[str], targets: list[str]) -> Source:
    """Rows typed as ``-x 1,2,3 -y 0 -x 4,5,6 -y 1``, paired by position."""
    if len(inputs) != len(targets):
        msg = f"{len(inputs)} --input but {len(targets)} --target: give one --target per --input"
        raise InputError(msg)
    rows = [parse_vector(text, f"--input {i}") for i, text in enumerate(inputs, start=1)]
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(rows[0]):
            msg = f"--input {i}: {len(row)} values, but --input 1 has {len(rows[0])}"
            raise InputError(msg)
    y = np.array([parse_number(t, f"--target {i}") for i, t in enumerate(targets, start=1)])
    chunk = Chunk(np.vstack(rows), y, 0)
    features = tuple(f"x{i}" for i in range(1, len(rows[0]) + 1))
    return Source(FLAGS, features, lambda: [chunk])


def csv_options(
    header: bool,
    target_column: str | None,
    features: str | None,
    delimiter: str | None,
) -> CsvOptions:
    """Reading options from the flags; without --delimiter, each file's suffix decides."""
    delimiter = parse_delimiter(delimiter)
    names = None
    if features is not None:
        names = tuple(f.strip() for f in features.split(","))
        if not all(names):
            msg = f"--features: empty column name in {features!r}"
            raise InputError(msg)
    return CsvOptions(
        delimiter=delimiter,
        header=header,
        target_column=target_column,
        features=names,
    )


def parse_delimiter(text: str | None) -> str | None:
    """``--delimiter``: one character, or ``tab`` (also ``\\t``); None leaves it to the suffix."""
    if text is None:
        return None
    delimiter = "\t" if text in ("tab", "\\t") else text
    if len(delimiter) != 1 or delimiter in '\r\n"':
        msg = f"--delimiter: expected one character (or 'tab'), got {text!r}"
        raise InputError(msg)
    return delimiter


@contextmanager
def open_rows(
    file: Path | None, inputs: list[str] | None, targets: list[str] | None, options: CsvOptions
) -> Iterator[Source]:
    """The rows of the file (``-`` for stdin) or of the flags; exactly one must be given."""
    if file is not None and (inputs or targets):
        msg = "give either a FILE or --input/--target, not both"
        raise InputError(msg)
    if file is None:
        if not inputs and not targets:
            msg = "no data: give a CSV FILE (or - for stdin), or --input and --target"
            raise InputError(msg)
        yield flag_rows(inputs or [], targets or [])
        return
    if str(file) == STDIN:
        with CsvTable(sys.stdin.buffer, "<stdin>", options) as table:
            warn_if_header_is_data(table)
            yield Source(table.name, table.features, table.chunks)
        return
    try:
        fp = file.open("rb")
    except OSError as exc:
        msg = f"{file}: cannot open it: {_reason(exc)}"
        raise InputError(msg) from None
    with fp, open_table(fp, str(file), options) as table:
        if isinstance(table, CsvTable):
            warn_if_header_is_data(table)
        parts = table.parts if isinstance(table, CsvTable) else None
        yield Source(table.name, table.features, table.chunks, parts)


@contextmanager
def dataset(
    file: Path | None,
    inputs: list[str] | None,
    targets: list[str] | None,
    weights: str | None,
    weights_file: Path | None,
    header: bool,
    target_column: str | None,
    features: str | None,
    delimiter: str | None,
    bias: bool = False,
) -> Iterator[tuple[Vector, Source]]:
    """The weights and the rows every data command reads, checked against each other."""
    w = read_weights(weights, weights_file)
    options = csv_options(header, target_column, features, delimiter)
    with open_rows(file, inputs, targets, options) as source:
        if bias:
            source = biased(source)
        check_counts(w, source, "--weights-file" if weights_file else "--weights")
        if weights_file is not None:
            check_saved_features(weights_file, source)
        yield w, source


def check_saved_features(weights_file: Path, source: Source) -> None:
    """Weights saved for other columns (or another order) would be silently misapplied."""
    saved = saved_features(weights_file.read_text(encoding="utf-8-sig"))
    if saved is not None and saved != source.features:
        msg = (
            f"--weights-file {weights_file}: saved for features ({', '.join(saved)}), but"
            f' {source.name} has ({", ".join(source.features)}); remove its "features" to apply them anyway'
        )
        raise InputError(msg)


def biased(source: Source) -> Source:
    """``source`` with the constant feature ``bias`` (its weight is the intercept) last."""
    parts = source.parts

    def split(count: int) -> list[Iterator[Chunk]] | None:
        found = parts(count) if parts is not None else None
        return [with_bias(p) for p in found] if found else None

    return Source(source.name, (*source.features, BIAS), lambda: with_bias(source.chunks()), split)


def warn_if_header_is_data(table: CsvTable) -> None:
    """A header whose every name is a number is almost surely the first data row."""
    if table.options.header and all(NUMBER.fullmatch(name) for name in table.layout.names):
        from slopecli.cli.app import report

        report(
            f"slopecli: warning: {table.name}:1: the header row looks like data (every field is a"
            " number); if the file has no header, add --no-header"
        )


def check_counts(weights: Vector, source: Source, weights_flag: str) -> None:
    """One weight per feature, said with both counts when it is not so."""
    if len(weights) != len(source.features):
        shown = ", ".join(source.features[:8]) + (", …" if len(source.features) > 8 else "")
        if source.features[-1] == BIAS and len(weights) == len(source.features) - 1:
            shown += "; --bias adds one weight, last"
        msg = (
            f"{weights_flag}: {count(len(weights), 'weight')}, but {source.name} has"
            f" {count(len(source.features), 'feature')} ({shown})"
        )
        raise InputError(msg)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
