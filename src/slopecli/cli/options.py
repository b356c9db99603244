"""Flags shared by the commands, declared once with ``Annotated``."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


DATA = "Data (a CSV file, or flags)"
OUTPUT = "Output"


def input_file(text: str) -> Path:
    """An input file's path (FILE, ``--weights-file``)."""
    _non_empty(text, "file")
    return Path(text)


def output_file(text: str) -> Path:
    """An output file's path (``--save-weights``, ``--plot``, …): a path that ends with a slash
    names a folder, and Path() would drop the slash (``w.json/`` would write ``w.json``)."""
    _non_empty(text, "file")
    for ending in ("/", "/."):
        if text.endswith(ending):
            msg = f"{text!r} ends with {ending!r}, so it names a folder; give a file name"
            raise typer.BadParameter(msg)
    return Path(text)


def output_folder(text: str) -> Path:
    """An output folder's path (``batch --out``)."""
    _non_empty(text, "folder")
    return Path(text)


def _non_empty(text: str, kind: str) -> None:
    # Path("") is Path("."): an empty value would write into the current folder, or be reported
    # as a path the user never typed.
    if not text:
        msg = f"the path is empty; give a {kind} name"
        raise typer.BadParameter(msg)


File = Annotated[
    Path | None,
    typer.Argument(
        metavar="FILE",
        parser=input_file,
        help="A CSV/TSV file with a header row (or Parquet), or - for stdin. Omit it for --input/--target.",
        show_default=False,
    ),
]
Weights = Annotated[
    str | None,
    typer.Option(
        "--weights", "-w", metavar="W1,W2,…", help="Weights, comma-separated: 0,2,1.", rich_help_panel=DATA
    ),
]
WeightsFile = Annotated[
    Path | None,
    typer.Option(
        "--weights-file",
        metavar="FILE",
        parser=input_file,
        help='Weights from a file: a JSON array, a JSON object with "weights", or one CSV line.',
        rich_help_panel=DATA,
    ),
]
Inputs = Annotated[
    list[str] | None,
    typer.Option(
        "--input",
        "-x",
        metavar="X1,X2,…",
        help="One data point, comma-separated: 1,2,3. Repeat with --target for more rows.",
        rich_help_panel=DATA,
    ),
]
Targets = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-y",
        metavar="Y",
        help="The target of the --input in the same position.",
        rich_help_panel=DATA,
    ),
]
Header = Annotated[
    bool,
    typer.Option(
        "--header/--no-header", help="Whether the file's first line names the columns.", rich_help_panel=DATA
    ),
]
TargetColumn = Annotated[
    str | None,
    typer.Option(
        "--target-column",
        metavar="NAME",
        help="The target column. Default: the one named 'target', else the last.",
        rich_help_panel=DATA,
    ),
]
Features = Annotated[
    str | None,
    typer.Option(
        "--features",
        metavar="A,B,C",
        help="The feature columns, in weight order. Default: all but the target.",
        rich_help_panel=DATA,
    ),
]
Delimiter = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        "-d",
        metavar="CHAR",
        help="Field separator: one character, or 'tab'. Default: tab for .tsv, else comma.",
        rich_help_panel=DATA,
    ),
]
Format = Annotated[
    OutputFormat | None,
    # No default here: --json must tell a --format table that contradicts it from none at all.
    typer.Option("--format", "-f", help="How to print the result. Default: table.", rich_help_panel=OUTPUT),
]
Json = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.", rich_help_panel=OUTPUT)]
Summary = Annotated[
    bool,
    typer.Option(
        "--summary",
        help="Only n, gradient and MSE: no per-row records (json, jsonl, table).",
        rich_help_panel=OUTPUT,
    ),
]
Precision = Annotated[
    int,
    typer.Option(
        "--precision",
        min=1,
        max=17,
        help="Significant digits of non-integers in tables (JSON is always exact).",
        rich_help_panel=OUTPUT,
    ),
]
SHOW_ROWS = 10
"""Rows the per-row table lists when neither --show-rows nor --all-rows is given."""
ShowRows = Annotated[
    int | None,
    typer.Option(
        "--show-rows",
        min=0,
        metavar="N",
        help=f"Rows listed in the per-row table. Default: {SHOW_ROWS}.",
        rich_help_panel=OUTPUT,
    ),
]
AllRows = Annotated[
    bool, typer.Option("--all-rows", help="List every row in the per-row table.", rich_help_panel=OUTPUT)
]


def listed_rows(show_rows: int | None, all_rows: bool) -> int | None:
    """The rows the per-row table lists, from --show-rows and --all-rows; None lists them all.
    (--show-rows has no default of its own, so that a command can tell whether it was given.)"""
    if all_rows:
        return None
    return SHOW_ROWS if show_rows is None else show_rows


Row = Annotated[
    int | None,
    typer.Option(
        "--row",
        min=1,
        metavar="N",
        help="Explain row N of the data step by step, as for a single point (tables only).",
        rich_help_panel=OUTPUT,
    ),
]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No hint of the course's next command on stderr after a single point's table.",
        rich_help_panel=OUTPUT,
    ),
]


def number(text: str) -> float:
    """A number flag, read as numbers are read everywhere else: ASCII decimal syntax, spaces and
    tabs around it. (Python's float(), Click's reader, also takes ``1_0`` as 10 and other
    scripts' digits.) It must be a float64 as typed: not infinite or NaN, and not so small that it
    becomes 0 (``--lr 1e-400`` would be refused as "0", a value the user never typed). Range
    checks are the command's."""
    from slopecli.values import BLANKS, NUMBER

    item = text.strip(BLANKS) if isinstance(text, str) else str(text)
    if not NUMBER.fullmatch(item):
        msg = f"{text!r} is not a number"
        raise typer.BadParameter(msg)
    value = float(item)
    if math.isinf(value) and any(c.isdigit() for c in item):
        msg = (
            f"{text!r} overflows to infinity: it is too large for float64;"
            " give a number of magnitude below 1.8e308"
        )
        raise typer.BadParameter(msg)
    if not math.isfinite(value):
        msg = f"{text!r} is not finite; give a finite number"
        raise typer.BadParameter(msg)
    if value == 0 and any(c in "123456789" for c in item.lower().partition("e")[0]):
        msg = (
            f"{text!r} underflows to 0: it is too small for float64;"
            " give a number of magnitude 5e-324 or more"
        )
        raise typer.BadParameter(msg)
    return value


LearningRate = Annotated[
    float,
    typer.Option(
        "--learning-rate", "--lr", metavar="LR", parser=number, help="The step size of each update (> 0)."
    ),
]


class Engine(StrEnum):
    local = "local"
    dask = "dask"


EngineOption = Annotated[
    Engine,
    typer.Option("--engine", help="Where to compute: here, or on a Dask cluster (needs slopecli\\[dask])."),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="With --engine dask: tcp://HOST:PORT of a running scheduler (default: $DASK_SCHEDULER_ADDRESS,"
        " else a local cluster on 127.0.0.1), or synchronous/threads/processes for Dask's local schedulers.",
    ),
]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        parser=number,  # > 0: checked where it is used, distributed.connection
        help="With --engine dask: the longest wait for the scheduler (to connect, to reply).",
    ),
]
Bias = Annotated[
    bool,
    typer.Option(
        "--bias",
        help="Add an intercept b: preds = Σ w·x + b, its slope 2·error. Give its weight last.",
        rich_help_panel=DATA,
    ),
]


# The data flags every command shares, declared once: the decorator below adds them to a
# command's signature (Typer reads the signature) and hands the command one DataOptions.
_ROW_FLAGS = {
    "file": (File, None),
    "inputs": (Inputs, None),
    "targets": (Targets, None),
}
_TABLE_FLAGS = {
    "weights": (Weights, None),
    "weights_file": (WeightsFile, None),
    "header": (Header, True),
    "target_column": (TargetColumn, None),
    "features": (Features, None),
    "delimiter": (Delimiter, None),
    "bias": (Bias, False),
}


def data_flags(*, rows: bool = True) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the data flags, and call it with ``data=DataOptions(...)`` built from them.

    With ``rows``, the command reads one source: FILE, or rows typed as ``--input``/``--target``;
    without, it names its files itself (``batch``) and gets the rest.
    """
    flags = {**_ROW_FLAGS, **_TABLE_FLAGS} if rows else dict(_TABLE_FLAGS)

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [p for p in inspect.signature(command).parameters.values() if p.name != "data"]
        shared = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
            for name, (kind, default) in flags.items()
        ]
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]

        @functools.wraps(command)
        def run(**values: Any) -> None:
            from slopecli.dataset import DataOptions

            given = {name: values.pop(name) for name in flags}
            for name in ("inputs", "targets"):
                if name in given:
                    given[name] = tuple(given[name] or ())
            if given.get("file") is not None:
                given["file"] = str(given["file"])
            if given["weights_file"] is not None:
                given["weights_file"] = str(given["weights_file"])
            command(data=DataOptions(**given), **values)

        # FILE first, as before; Typer groups the rest into help panels in this order.
        run.__signature__ = inspect.Signature([*shared, *own])  # type: ignore[attr-defined]
        run.__annotations__ = {}
        return run

    return decorate
