"""From the data flags to weights and rows, with every check: the one path of every command and engine.

The command line hands over one :class:`DataOptions` (the flags as typed). :func:`plan` reads the
weights and the reading options once; :func:`open_path` opens any file of the run against that
plan (in this process, a worker process or a Dask task alike); :func:`open_dataset` is the whole
path for the commands that read one source. Each check lives here once, with one message:
weights against features (count, and names when the weights file or an earlier file carries
them), ``--bias``, the flags that read files refused for rows typed as flags, standard input
read once, and file-open errors.
"""

from __future__ import annotations

import glob
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from slopecli.core import Sums, Vector
from slopecli.errors import DataError, InputError, SlopeError, UsageError
from slopecli.evaluation import CORES, evaluate_table
from slopecli.outfiles import is_stdin
from slopecli.readers.chunk import BIAS, Chunk, with_bias_name
from slopecli.readers.flags import FlagTable
from slopecli.readers.layout import ReadOptions, reordered
from slopecli.readers.table import Biased, Table, open_table
from slopecli.text import count, listed, quoted, repeated
from slopecli.values import NUMBER, parse_vector, parse_weights_file

STDIN = "-"
STDIN_NAME = "<stdin>"
CACHE_BYTES = 256 << 20
"""Data up to this size is kept in memory after the first pass; larger data is streamed anew each pass."""


@dataclass(frozen=True, kw_only=True)
class DataOptions:
    """The data flags of a command, as the user typed them.

    Attributes:
        file: a path, ``-`` for stdin, or None for rows given as ``inputs``/``targets``.
        inputs: ``--input`` values, one data point each (``"1,2,3"``).
        targets: ``--target`` values, one per input.
        weights: ``--weights`` (``"0,2,1"``).
        weights_file: ``--weights-file``.
        header: whether files name their columns in a first line.
        target_column: ``--target-column``.
        features: ``--features`` (``"a,b,c"``): the feature columns, in weight order.
        delimiter: ``--delimiter``: one character or ``tab``; None decides by suffix.
        bias: ``--bias``: add an intercept, the last weight.
    """

    file: str | None = None
    inputs: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    weights: str | None = None
    weights_file: str | None = None
    header: bool = True
    target_column: str | None = None
    features: str | None = None
    delimiter: str | None = None
    bias: bool = False


@dataclass(frozen=True)
class Plan:
    """What every table of a run is read with and checked against. Picklable, for workers.

    Attributes:
        weights: one per feature (and the intercept last, with ``bias``).
        weights_flag: how messages name where the weights came from.
        read: how to read each table.
        bias: append the constant feature ``bias``.
        order: the feature names the weights follow, when known before reading (a weights file
            that names them, or the run's first file): a table with the same names in another
            order is read in this order; other names are refused.
        order_source: how messages name where ``order`` came from.
    """

    weights: Vector
    weights_flag: str
    read: ReadOptions
    bias: bool = False
    order: tuple[str, ...] | None = None
    order_source: str = ""

    @property
    def features(self) -> tuple[str, ...]:
        """The feature names the weights follow, as far as they are known before reading; the
        weights' positions (``1``, ``2``, …) where no file could tell."""
        names = self.order or self.read.features
        if names is None:
            return tuple(str(i) for i in range(1, len(self.weights) + 1))
        return with_bias_name(names, "the weights' features") if self.bias else names


def plan(options: DataOptions) -> Plan:
    """The weights and reading options every table of a run shares.

    Raises:
        UsageError: a flag is malformed, missing or contradicts another.
        InputError: the weights file cannot be read, or holds no weights.
    """
    weights, flag, saved = _read_weights(options)
    read = read_options(options)
    source = f"that --weights-file {options.weights_file} was saved for"
    order = None
    if saved is not None:
        if options.bias and saved[-1:] == (BIAS,):
            saved = saved[:-1]
        if read.features is not None and read.features != saved:
            msg = (
                f"{flag} {options.weights_file}: saved for features ({listed(saved)}), but"
                f' --features names ({listed(read.features)}); remove its "features" to apply them anyway'
            )
            raise UsageError(msg)
        order = None if read.features is not None else saved
    if options.bias:
        _refuse_bias_name(read.features, "--features")
        _refuse_bias_name(order, f"{flag} {options.weights_file}")
    return Plan(weights, flag, read, options.bias, order, source)


def _refuse_bias_name(names: tuple[str, ...] | None, where: str) -> None:
    if names is not None:
        try:
            with_bias_name(names, where)
        except DataError as exc:  # one flag's value against another's: a usage error
            raise UsageError(str(exc)) from None


def column_names(text: str, flag: str) -> tuple[str, ...]:
    """The comma-separated column names of a flag (``--features``, ``--target-column``).

    Raises:
        UsageError: one of them is empty.
    """
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        msg = f"{flag}: empty column name in {quoted(text)}"
        raise UsageError(msg)
    return names


def read_options(options: DataOptions) -> ReadOptions:
    """How to read files, from the flags; without --delimiter, each file's suffix decides."""
    names = None
    if options.features is not None:
        names = column_names(options.features, "--features")
        twice = repeated(names)
        if twice is not None:  # the flag's own fault, whatever the file: before any is read
            msg = f"--features: {quoted(twice)} is named more than once"
            raise UsageError(msg)
    return ReadOptions(
        delimiter=parse_delimiter(options.delimiter),
        header=options.header,
        target_column=options.target_column,
        features=names,
    )


def parse_delimiter(text: str | None) -> str | None:
    """``--delimiter``: one character, or ``tab`` (also ``\\t``); None leaves it to the suffix."""
    if text is None:
        return None
    delimiter = "\t" if text in ("tab", "\\t") else text
    if delimiter == '"':
        msg = (
            "--delimiter: '\"' is the quote character, which encloses a value that holds the"
            " delimiter, so it cannot separate values; give another, such as ';' or '|', or 'tab'"
        )
        raise UsageError(msg)
    if delimiter in ("\r", "\n"):
        msg = (
            f"--delimiter: {text!r} is a line break, which ends a row; give a character such as ';' or 'tab'"
        )
        raise UsageError(msg)
    if len(delimiter) != 1:
        msg = f"--delimiter: expected one character (or 'tab'), got {text!r}"
        raise UsageError(msg)
    if not delimiter.isascii():
        # Arrow's parser splits on one byte; a multi-byte character would split nothing.
        msg = f"--delimiter: {text!r} is not an ASCII character; give one such as ';' or '|', or 'tab'"
        raise UsageError(msg)
    return delimiter


def _read_weights(options: DataOptions) -> tuple[Vector, str, tuple[str, ...] | None]:
    """The weights from ``--weights`` or ``--weights-file`` (exactly one of them), the flag that
    gave them, and the feature names a saved file carries."""
    text, file = options.weights, options.weights_file
    if text is not None and file is not None:
        msg = "--weights and --weights-file: give one of them, not both"
        raise UsageError(msg)
    if text is not None:
        try:
            return parse_vector(text, "--weights"), "--weights", None
        except InputError as exc:  # a flag's value: a usage error
            raise UsageError(str(exc)) from None
    if file is None:
        msg = "missing weights: give --weights 0,2,1 or --weights-file FILE"
        raise UsageError(msg)
    content = read_flag_file("--weights-file", file, "the weights", data_on_stdin=options.file == STDIN)
    saved = parse_weights_file(content, f"--weights-file {file}")
    return saved.weights, "--weights-file", saved.features


def read_flag_file(flag: str, file: str, what: str, *, data_on_stdin: bool) -> str:
    """The text of a small file a flag names (weights, a network): UTF-8, a BOM allowed.

    Args:
        flag: the flag, as messages name it.
        file: its path.
        what: what the file holds, as messages name it ("the weights").
        data_on_stdin: the run's data is standard input (FILE ``-``), which this file may not be.

    Raises:
        UsageError: ``file`` is ``-``, or the standard input that holds the data.
        InputError: it cannot be opened, or is not UTF-8, said with the flag.
    """
    if file == STDIN:
        # '-' names standard input only as the data: here it would take the stream that FILE - or
        # batch's --files-from - reads. (A named /dev/stdin is read, unless the data is stdin too.)
        msg = f"{flag} -: give {what} as a file; '-' reads standard input only as the data (FILE -)"
        raise UsageError(msg)
    try:
        with Path(file).open("rb") as fp:
            # Compared once open, by identity: /dev/stdin, /proc/self/fd/0 or the file redirected
            # with < would else be read as the weights, and the data would find it consumed. (A
            # descriptor 0 of its own means standard input was closed: that is said later.)
            if data_on_stdin and fp.fileno() != 0 and is_stdin(fp.fileno()):
                msg = (
                    f"{flag} {file}: it is the run's standard input, which holds the data (FILE -);"
                    f" give {what} as a file of its own"
                )
                raise UsageError(msg)
            content = fp.read()
    except OSError as exc:
        raise InputError(f"{flag}: {opening_error(file, exc)}") from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"{flag}: {file}: not UTF-8 text (byte {exc.object[exc.start]:#04x})"
        raise InputError(msg) from None


def opening_error(path: str | Path, exc: OSError) -> str:
    """The one message for a file that cannot be opened or read: the path and the system's reason."""
    return f"{path}: cannot open it: {exc.strerror or exc}"


@contextmanager
def open_path(run: Plan, path: str | Path, fp: IO[bytes] | None = None) -> Iterator[Table]:
    """The table at ``path`` (``fp`` if already open), checked against the run's plan.

    Raises:
        InputError: the file cannot be opened, or the weights do not fit its features.
        DataError: the file is not a table slopecli can read.
    """
    name = str(path)
    if fp is None:
        try:
            fp = Path(path).open("rb")  # noqa: SIM115 - closed below
        except IsADirectoryError:
            # Said for every command that reads one file: step, descend and check too, which no
            # command runs on a directory (batch and the Dask engine compute, they do not descend).
            msg = (
                f"{path}: is a directory; give a file in it, or run slopecli batch {path} (add"
                f" --combine for one result) or compute {path} --engine dask, which read every file in it"
            )
            raise InputError(msg) from None
        except FileNotFoundError as exc:
            msg = opening_error(path, exc)
            if glob.has_magic(name):  # a pattern the shell did not expand (quoted, or no match)
                pattern = shlex.quote(name)
                if glob.glob(name):
                    msg += (
                        f"; if it is a pattern, slopecli batch {pattern} (add --combine for one result)"
                        f" or compute {pattern} --engine dask read the files it matches"
                    )
                else:
                    msg += "; as a pattern it matches no file either: check its spelling and its folder"
            raise InputError(msg) from None
        except OSError as exc:
            raise InputError(opening_error(path, exc)) from None
        owned = True
    else:
        owned = False
    try:
        table = open_table(fp, name, run.read)
        try:
            yield fitted(run, table)
        finally:
            table.close()
    finally:
        if owned:
            fp.close()


def fitted(run: Plan, table: Table) -> Table:
    """``table`` with ``--bias`` applied, its features in the weights' order, and as many
    features as weights.

    Raises:
        DataError: its feature names differ from the ones the weights follow.
        InputError: it has another number of features than there are weights.
    """
    if run.bias:  # first: the file's own 'bias' column is its problem, wherever it stands in the run
        with_bias_name(table.features, table.name)
    if run.order is not None and not run.bias and run.order[-1:] == (BIAS,) and BIAS not in table.features:
        msg = (
            f"{table.name}: the weights end with one for 'bias' {run.order_source}, but this run"
            " has no intercept: add --bias"
        )
        raise DataError(msg)
    # The count first: a file that cannot take the weights is told so, not that its names differ
    # from another file's (aligning by name only orders the same number of features).
    features = (*table.features, BIAS) if run.bias else table.features
    if len(run.weights) != len(features):
        shown = listed(features)
        bias_short = run.bias and len(run.weights) == len(features) - 1
        if bias_short:
            shown += "; --bias adds one weight, last"
        msg = (
            f"{run.weights_flag}: {count(len(run.weights), 'weight')}, but {table.name} has"
            f" {count(len(features), 'feature')} ({shown})"
        )
        spare = len(run.weights) < len(features) and not bias_short
        if spare and run.read.features is None and not _from_flags(table):
            # A column that is no feature (an id, a name) is left out by naming the ones that are.
            msg += "; --features names the columns the weights are for"
        raise InputError(msg)
    if run.order is not None:
        table.layout = reordered(table.layout, run.order, table.name, run.order_source)
    if run.bias:
        table = Biased(table)
    return table


def _from_flags(table: Table) -> bool:
    """The rows were typed as --input/--target, not read from a file."""
    return isinstance(table.unbiased if isinstance(table, Biased) else table, FlagTable)


def with_first_order(run: Plan, paths: Iterable[Path]) -> Plan:
    """``run`` with the feature order of the first readable file (its header, and rows that can
    be read after it), when nothing set it before: later files with the same names in another
    order are then aligned by name."""
    if run.order is not None or run.read.features is not None:
        return run
    for path in paths:
        if not path.is_file():
            continue  # a pipe read here would be empty for the reader after
        try:
            with path.open("rb") as fp:
                table = open_table(fp, str(path), run.read)
                features = table.layout.features
                # A header alone (or bad rows under it) must not name the model that every other
                # file is then matched to: one bad file would fail them all.
                chunks = table.chunks()
                try:
                    if not any(len(chunk.y) for chunk in chunks):
                        continue
                finally:
                    # A generator left open would keep Arrow reading ahead until it is collected.
                    if (close := getattr(chunks, "close", None)) is not None:
                        close()
        except (OSError, SlopeError):
            continue  # that file fails later, on its own, with its reason
        if run.bias and BIAS in features:
            continue  # so does this one (fitted): its names cannot be the run's with a second 'bias'
        if len(features) + run.bias != len(run.weights):
            continue  # and this one, which cannot take the weights: its names are not theirs
        return replace(run, order=features, order_source=f"in {path}, the first file with rows")
    return run


@dataclass(frozen=True)
class Dataset:
    """The weights and the rows of one source, checked against each other."""

    weights: Vector
    table: Table

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def features(self) -> tuple[str, ...]:
        return self.table.features

    @property
    def title(self) -> str:
        """How tables name the data: its file, or "flags"."""
        return "flags" if _from_flags(self.table) else self.name

    def sums(self, threads: int = CORES) -> Sums:
        """The sums of every row: split across threads when the data allows, else one pass."""
        return evaluate_table(self.table, self.weights, threads)

    @property
    def warnings(self) -> list[str]:
        """What looks wrong but may be meant: a header row whose every name is a number."""
        if self.table.layout.header_lines and all(NUMBER.fullmatch(n) for n in self.table.layout.names):
            return [
                f"{self.name}:1: the header row looks like data (every field is a number);"
                " if the file has no header, add --no-header"
            ]
        return []

    def passes(self) -> Callable[[], Iterable[Chunk]]:
        """The rows, one pass per call: from memory once read, if they fit in CACHE_BYTES."""
        return cached_passes(self.table.chunks)


@contextmanager
def open_dataset(options: DataOptions) -> Iterator[Dataset]:
    """The weights and the rows of the file (``-`` for stdin) or of the flags, checked.

    Raises:
        UsageError: the flags are wrong or do not go together.
        InputError: the weights do not fit the data, or the file cannot be opened.
        DataError: the file cannot be read as a table.
    """
    if options.file is not None and (options.inputs or options.targets):
        msg = "give either a FILE or --input/--target, not both"
        raise UsageError(msg)
    run = plan(options)
    if options.file is None:
        check_rows_on_flags(options, named=True)
        yield Dataset(run.weights, fitted(run, FlagTable(options.inputs, options.targets, run.read.features)))
        return
    stdin = options.file == STDIN
    if stdin and sys.stdin is None:
        msg = "-: standard input is closed; pipe the data in, or give a FILE"
        raise InputError(msg)
    path = STDIN_NAME if stdin else options.file
    with open_path(run, path, sys.stdin.buffer if stdin else None) as table:
        yield Dataset(run.weights, table)


def check_rows_on_flags(options: DataOptions, named: bool = False) -> None:
    """Rows typed as ``--input``/``--target``: there must be some, and no flag that says how to
    read a file beside them (ignored, it would leave the user believing that a column was picked
    or a separator set). Shared by the linear model and the network; ``named``: ``--features``
    names the inputs' columns (as a saved weights file names them), rather than picking some.

    Raises:
        UsageError: there are no rows, or such a flag is given.
    """
    if not options.inputs and not options.targets:
        msg = "no data: give a CSV FILE (or - for stdin), or --input and --target"
        raise UsageError(msg)
    given = {
        "--features": options.features is not None and not named,
        "--target-column": options.target_column is not None,
        "--no-header": not options.header,
        "--delimiter": options.delimiter is not None,
    }
    flag = next((flag for flag, on in given.items() if on), None)
    if flag is not None:
        msg = (
            f"{flag}: applies to a data FILE only, but the rows come from --input/--target;"
            " drop it, or give a FILE"
        )
        raise UsageError(msg)


def cached_passes(read: Callable[[], Iterable[Chunk]]) -> Callable[[], Iterable[Chunk]]:
    """``read``'s rows, one pass per call: kept in memory after the first pass if they fit in
    CACHE_BYTES, else read anew each time."""
    kept: list[Chunk] = []
    state = {"cached": False, "fits": True}

    def reading() -> Iterator[Chunk]:
        size = 0
        for chunk in read():
            if state["fits"]:
                size += chunk.X.nbytes + chunk.y.nbytes
                if size > CACHE_BYTES:
                    state["fits"] = False
                    kept.clear()
                else:
                    kept.append(chunk)
            yield chunk
        state["cached"] = state["fits"]

    def data() -> Iterable[Chunk]:
        return kept if state["cached"] else reading()

    return data
