"""``slopecli batch``: the gradient and MSE of many files, one result per file."""

import contextlib
import os
import signal
import sys
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from slopecli.cli import options as o
from slopecli.cli.app import app

if TYPE_CHECKING:
    from slopecli.dataset import DataOptions

EXIT_TERMINATED = 143


@app.command()
@o.data_flags(rows=False)
def batch(
    *,
    data: "DataOptions",
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="FILES…",
            help=(
                "CSV, TSV or Parquet files (shell globs work); a directory means its .csv, .tsv, .parquet"
                " and .pq files, each compressed or not (.gz, .bz2, .zst, .zstd)."
            ),
            show_default=False,
        ),
    ] = None,
    files_from: Annotated[
        str | None,
        typer.Option(
            "--files-from",
            metavar="FILE",
            help="Read more paths from FILE (- for stdin), one per line.",
            rich_help_panel=o.DATA,
        ),
    ] = None,
    combine: Annotated[
        bool,
        typer.Option(
            "--combine",
            help="The files are shards of one dataset: also report their combined gradient and MSE.",
            rich_help_panel=o.OUTPUT,
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Write per-row results (preds, error, slope per feature) to DIR/NAME.slopes.csv.",
            parser=o.output_folder,
            rich_help_panel=o.OUTPUT,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite existing files in --out.", rich_help_panel=o.OUTPUT)
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, metavar="N", help="Worker processes. Default: the number of cores."
        ),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop at the first file that fails.")
    ] = False,
    engine: o.EngineOption = o.Engine.local,
    scheduler: o.Scheduler = None,
    timeout: o.Timeout = 10.0,
    fmt: o.Format = None,
    json_flag: o.Json = False,
    precision: o.Precision = 6,
) -> None:
    """Compute the gradient and MSE of each of many CSV or Parquet files, in parallel, in constant memory.

    Results come in input order. A bad file is reported with its reason and skipped; the others
    complete, and the exit code is 1 if any failed. A folder without data files, or a pattern
    that matches none, fails the same way; if no argument names a file, that is a usage error.

    The weights follow feature names, set by --features, a --weights-file's saved names or the
    first file with rows: every file is matched to them by name, and a file with other names
    fails.

    Example: slopecli batch samples/shards --weights 0,2,1 --combine
    """
    from slopecli import batch as b
    from slopecli.cli.output import choose_format, held_stdout, make_batch_sink
    from slopecli.dataset import plan, with_first_order
    from slopecli.errors import InputError, UsageError
    from slopecli.outfiles import can_create_in

    output = choose_format(fmt, json_flag)
    if scheduler is not None and engine is not o.Engine.dask:
        raise UsageError("--scheduler needs --engine dask")
    run = plan(data)
    arguments = list(files or [])
    if "-" in arguments:
        msg = (
            "batch reads named files, not stdin: pipe one stream to 'slopecli compute -', or list"
            " paths with --files-from -"
        )
        raise UsageError(msg)
    # Path("") is Path("."): an empty argument would read the current folder.
    if "" in arguments:
        raise UsageError("FILES: an empty path; give a file, a folder or a pattern")
    if files_from == "":
        raise UsageError("--files-from: the path is empty; give a file name, or - for stdin")
    if files_from is not None:
        arguments += b.read_path_list(_read_list(files_from))
    if not arguments:
        msg = "no files: give FILES… (or a directory), or --files-from FILE"
        raise UsageError(msg)
    entries = b.expand_paths(arguments)
    paths = [entry for entry in entries if isinstance(entry, Path)]
    planned: dict[Path, Path] = {}
    if out is not None:
        planned = b.plan_outputs(paths, out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # exist_ok covers folders only
            msg = f"--out: {out}: is a file, not a folder; give a folder for the results"
            raise UsageError(msg) from None
        except OSError as exc:
            msg = f"--out: {out}: cannot create it: {exc.strerror or exc}"
            raise UsageError(msg) from None
        if not os.access(out, os.W_OK | os.X_OK):
            msg = f"--out: {out}: cannot write in it (permission denied); choose a directory you can write"
            raise UsageError(msg)
        try:
            can_create_in(out)
        except OSError as exc:
            msg = f"--out: {out}: cannot write in it: {exc.strerror or exc}; choose a directory you can write"
            raise UsageError(msg) from None
    from slopecli.render.machine import CsvWriter

    run = with_first_order(run, paths)
    tasks = [b.Task(p, run, planned.get(p), force, CsvWriter) for p in paths]

    if engine is o.Engine.dask:
        from slopecli import distributed

        distributed.require_dask()

    # kill (SIGTERM) unwinds like Ctrl-C, so that no half-written output is left behind.
    signal.signal(signal.SIGTERM, _terminate)
    failed = 0
    streaming = output is o.OutputFormat.jsonl
    with (
        held_stdout(streaming) as stdout,
        _progress(paths, len(entries)) as progress,
        contextlib.ExitStack() as stack,
    ):
        if engine is o.Engine.dask:
            client = stack.enter_context(distributed.connection(scheduler, jobs or b.default_jobs(), timeout))
            read: Iterable[b.FileResult] = distributed.run(tasks, client)
        else:
            read = b.run(tasks, jobs or b.default_jobs(), progress.chunk)
        results = b.in_place(entries, read)
        sink = make_batch_sink(output, stdout, combine=combine, precision=precision, features=run.features)
        sink.begin(run.weights)
        combiner = b.Combiner()
        done = 0
        for result in results:
            done += 1
            if combine:
                combiner.add(result)
            if not result.ok:
                failed += 1
                progress.say(f"slopecli: error: {result.error}")
            sink.file(result)
            progress.file_done(result.sums.n if result.sums else 0, result.size)
            if failed and fail_fast:
                break
        sink.end((done - failed, failed), combiner.total, combiner.features)
    if failed:
        stopped = (
            f"; stopped after {done} of {len(entries)} (--fail-fast)"
            if fail_fast and done < len(entries)
            else ""
        )
        msg = f"batch: {failed} of {done} files failed{stopped}"
        raise InputError(msg)


def _read_list(source: str) -> str:
    from slopecli.dataset import opening_error
    from slopecli.errors import InputError

    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"--files-from: {opening_error(source, exc)}") from None
    except UnicodeDecodeError as exc:
        msg = f"--files-from: {source}: not UTF-8 text (byte {exc.object[exc.start]:#04x})"
        raise InputError(msg) from None


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(EXIT_TERMINATED)


def _progress(paths: list[Path], files: int):  # type: ignore[no-untyped-def]
    """Progress over ``files`` results, measured in the bytes of ``paths`` (the ones to read)."""
    from slopecli.render.progress import FileProgress

    total = 0
    for path in paths:
        with contextlib.suppress(OSError):  # a missing file fails later, with its reason
            total += path.stat().st_size
    return FileProgress(files, total)
