"""Many files at once: one result per file, in input order, computed by worker processes.

Every file goes through the same loader and evaluator as ``compute``; its :class:`Sums` come back
to the parent, so ``--combine`` merges shards without reading them again. A bad file becomes a
failed :class:`FileResult` carrying its one-line reason; it never stops the others.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import stat
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from slopecli import waits
from slopecli.core import Sums, Vector
from slopecli.dataset import Plan, open_path, opening_error
from slopecli.errors import InputError, OutputExists, SlopeError, UsageError
from slopecli.evaluation import RowBatch, evaluate, evaluate_table
from slopecli.outfiles import AtomicFile, is_stdout, output_path_for
from slopecli.readers.chunk import Chunk
from slopecli.readers.layout import data_name
from slopecli.text import count

DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
"""What a directory's data files are named; each may be compressed too (``part-1.csv.gz``)."""
_KINDS = ", ".join(f"*{s}" for s in DATA_SUFFIXES[:-1]) + f" or *{DATA_SUFFIXES[-1]}, compressed or not"


def _is_data(path: Path) -> bool:
    return Path(data_name(path.name)).suffix.lower() in DATA_SUFFIXES


class RowWriter(Protocol):
    """Writes per-row results to a byte stream (the CLI passes the CSV renderer)."""

    def begin(self, features: Sequence[str], weights: Vector) -> None: ...
    def rows(self, batch: RowBatch) -> None: ...
    def end(self, sums: Sums) -> None: ...


@dataclass(frozen=True)
class Task:
    """One input file and what to do with it.

    ``out`` and ``row_writer`` go together: per-row results are written to ``out`` by a writer
    made from the atomic file. A class is picklable, so the task can go to a worker process.
    """

    path: Path
    plan: Plan
    out: Path | None = None
    force: bool = False
    row_writer: Callable[[IO[bytes]], RowWriter] | None = None


@dataclass
class FileResult:
    """What became of one file: its sums, or the reason it failed."""

    path: Path
    features: tuple[str, ...] = ()
    sums: Sums | None = None
    error: str | None = None
    out: Path | None = None
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def expand_paths(arguments: Iterable[str]) -> list[Path | FileResult]:
    """The files the command line names, in its order, each once.

    A directory means its data files (sorted): every entry named ``*.csv``, ``*.tsv``,
    ``*.parquet`` or ``*.pq``, compressed or not, except sub-folders; a broken link among them is
    kept, to fail as it would if named. A quoted pattern is expanded as the shell would. Anything
    else is kept as given (a missing file then fails on its own, with its reason). An argument
    that names no file (an empty folder, a pattern that matches nothing) is a failed result in its
    place, so that it is reported while the other files are read.

    Raises:
        UsageError: no argument names any file: there is nothing to run.
    """
    entries = _once([entry for argument in arguments for entry in _named_by(argument)])
    if entries and all(isinstance(entry, FileResult) for entry in entries):
        _nothing_to_read([entry for entry in entries if isinstance(entry, FileResult)])
    return entries


def _named_by(argument: str) -> list[Path | FileResult]:
    """The files one argument names, or the failed result that says why it names none."""
    path = Path(argument)
    if path.is_dir():
        return _in_folder(argument, path)
    if glob.has_magic(argument) and not os.path.lexists(argument):
        matches = sorted(glob.glob(argument))
        why = f"{argument}: no file matches the pattern; check its spelling and its folder"
        # A folder that matches means its files, as when the shell expands the pattern.
        found = [entry for match in matches for entry in _named_by(match)] or [FileResult(path, error=why)]
        return [_unless_special(entry) for entry in found]
    return [path]


def _in_folder(argument: str, folder: Path) -> list[Path | FileResult]:
    try:
        # Not is_file(): a broken link or a loop is kept, to fail with its reason as when named.
        found = sorted(p for p in folder.iterdir() if _is_data(p) and not p.is_dir())
    except OSError as exc:
        return [FileResult(folder, error=f"{argument}: cannot list the folder: {exc.strerror or exc}")]
    if not found:
        why = f"{argument}: no data files in the folder (no {_KINDS}); name other files one by one"
        return [FileResult(folder, error=why)]
    return [_unless_special(path) for path in found]


def _unless_special(entry: Path | FileResult) -> Path | FileResult:
    """``entry``, or a failed result if it is a named pipe, a socket or a device that a folder or
    a pattern named: opening a pipe that nobody writes to waits forever, and the files after it
    would never be read. Named on its own, a pipe is read (``<(…)``, ``mkfifo``)."""
    if isinstance(entry, FileResult):
        return entry
    try:
        mode = entry.stat().st_mode
    except OSError:
        return entry  # a broken link or a loop fails when it is read, with its reason
    if stat.S_ISREG(mode):
        return entry
    kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    why = (
        f"{entry}: is {kind}, not a regular file; a folder's or a pattern's are not read (a pipe may"
        " wait forever for a writer): give it by name to read it"
    )
    return FileResult(entry, error=why)


def _nothing_to_read(failures: list[FileResult]) -> None:
    # As with no FILES at all: a document that reports no file would only hide the mistake.
    more = len(failures) - 1
    also = f" (and {count(more, 'more argument')} naming no file)" if more else ""
    msg = f"no files to read: {failures[0].error}{also}"
    raise UsageError(msg)


def _once(entries: list[Path | FileResult]) -> list[Path | FileResult]:
    # A file named twice (a glob and a path, say) would be counted twice by --combine.
    seen: set[Path] = set()
    unique: list[Path | FileResult] = []
    for entry in entries:
        path = entry.path if isinstance(entry, FileResult) else entry
        try:
            key = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop: the file fails later, with its reason
            key = path.absolute()
        if key not in seen:
            seen.add(key)
            unique.append(entry)
    return unique


def in_place(entries: list[Path | FileResult], results: Iterable[FileResult]) -> Iterator[FileResult]:
    """The results of the files of ``entries`` (``results``, in their order), with the arguments
    that named no file in their places."""
    done = iter(results)
    for entry in entries:
        yield entry if isinstance(entry, FileResult) else next(done)


def read_path_list(text: str) -> list[str]:
    """``--files-from``: one path per line; blank lines and ``#`` comments are skipped."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def plan_outputs(paths: list[Path], out_dir: Path) -> dict[Path, Path]:
    """Where each input's per-row results go; two inputs may not share an output name.

    Raises:
        UsageError: two inputs would write the same output file, or an output is an input.
    """
    planned: dict[Path, Path] = {}
    taken: dict[Path, Path] = {}
    inputs = {p.resolve() for p in paths}
    for path in paths:
        target = output_path_for(path, out_dir)
        if target.resolve() in inputs:
            msg = f"--out: the results of {path} would overwrite the input {target}; choose another --out"
            raise UsageError(msg)
        if is_stdout(target):
            msg = (
                f"--out: the results of {path} would replace {target}, this run's standard output;"
                " choose another --out"
            )
            raise UsageError(msg)
        if target in taken and taken[target] != path:
            msg = f"--out: {path} and {taken[target]} would both write {target}; rename one"
            raise UsageError(msg)
        taken[target] = path
        planned[path] = target
    return planned


def process(task: Task, on_progress: Callable[[int], None] | None = None, threads: int = 1) -> FileResult:
    """Evaluate one file; any expected failure becomes the result's ``error``.

    With ``threads`` > 1, a large CSV file is read in that many parts at once (and progress is
    then reported when the file is done, not chunk by chunk).
    """
    result = FileResult(task.path)
    weights = task.plan.weights
    try:
        result.size = task.path.stat().st_size
        fp = task.path.open("rb")
    except OSError as exc:
        result.error = opening_error(task.path, exc)
        return result
    try:
        with fp, open_path(task.plan, task.path, fp) as table:
            result.features = table.features
            if task.out is None and threads > 1 and table.pieces(threads):
                result.sums = evaluate_table(table, weights, threads)
                return result
            chunks: Iterable[Chunk] = table.chunks()
            if on_progress is not None:
                chunks = _reporting(chunks, fp, on_progress)
            if task.out is None or task.row_writer is None:
                result.sums = evaluate(chunks, weights, None, str(task.path))
            else:
                result.sums = _evaluate_to_file(task, task.out, task.row_writer, result.features, chunks)
                result.out = task.out
    except SlopeError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{exc.filename or task.path}: {exc.strerror or exc}"
    return result


def _reporting(chunks: Iterable[Chunk], fp: IO[bytes], on_progress: Callable[[int], None]) -> Iterator[Chunk]:
    if not fp.seekable():  # a pipe has no position to report: the file counts when done
        yield from chunks
        return
    done = 0
    for chunk in chunks:
        position = fp.tell()
        on_progress(position - done)
        done = position
        yield chunk


def _evaluate_to_file(
    task: Task,
    out: Path,
    row_writer: Callable[[IO[bytes]], RowWriter],
    features: tuple[str, ...],
    chunks: Iterable[Chunk],
) -> Sums:
    weights = task.plan.weights
    try:
        with AtomicFile(out, overwrite=task.force) as fp:
            writer = row_writer(fp)
            writer.begin(features, weights)
            sums = evaluate(chunks, weights, writer.rows, str(task.path))
            writer.end(sums)
    except OutputExists:
        msg = f"{out}: already exists (--force overwrites it)"
        raise InputError(msg) from None
    except OSError as exc:
        if exc.filename is not None and str(exc.filename) == str(task.path):
            raise  # a read error of the input, reported against it
        msg = f"--out: {out}: cannot write it: {exc.strerror or exc}"
        raise InputError(msg) from None
    return sums


def run(
    tasks: list[Task],
    jobs: int,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[FileResult]:
    """Each task's result, in input order, as soon as it and those before it are done.

    With ``jobs`` > 1 and several tasks, worker processes share the files; otherwise they run
    here, one after the other, and ``on_progress`` hears of each chunk's bytes as it is read.
    A worker that dies (the out-of-memory killer, a signal) fails only the file it was reading.
    """
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield process(task, on_progress, threads=jobs)
        return
    rest = tasks
    while rest:
        rest = yield from _pooled(rest, jobs)


def _pooled(tasks: list[Task], jobs: int) -> Generator[FileResult, None, list[Task]]:
    """Results in input order from one worker pool; if the pool breaks, the tasks it had in hand
    are run again one at a time (so that only the one that kills its worker fails), and the
    tasks it never started are returned for a new pool."""
    with _workers(min(jobs, len(tasks))) as pool:
        pending: list[tuple[Task, Future[FileResult]]] = []
        ending = False
        try:
            # A bounded window keeps memory flat for millions of files and lets --fail-fast stop soon.
            window = 4 * jobs
            queue = iter(enumerate(tasks))
            started = 0
            for started, task in queue:  # noqa: B007 - `started` says how far the queue got
                pending.append((task, _submit(pool, task)))
                if len(pending) >= window:
                    break
            while pending:
                task, future = pending[0]
                try:
                    result = waits.result(future)
                except BrokenProcessPool:
                    break
                pending.pop(0)
                for started, task in queue:  # noqa: B007
                    pending.append((task, _submit(pool, task)))
                    break
                yield result
            else:
                return []
        except waits.ENDING:
            # The pool is killed, not drained (_workers): a cancel here would race the executor's
            # own clean-up of a broken pool, which then printed a traceback of its thread.
            ending = True
            raise
        finally:
            if not ending:
                for _, future in pending:
                    future.cancel()
    for task, _ in pending:
        yield _alone(task)
    return tasks[started + 1 :]


def _alone(task: Task) -> FileResult:
    """``task`` in a worker of its own: the file whose reading kills a worker fails by itself."""
    with _workers(1) as pool:
        try:
            return waits.result(_submit(pool, task))
        except BrokenProcessPool:
            why = "the process reading it was killed (out of memory?); nothing was written for it"
            return FileResult(task.path, error=f"{task.path}: {why}")


@contextlib.contextmanager
def _workers(count: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``count`` worker processes; on Ctrl-C or an exit they are killed, not waited
    for (each may be in the middle of a large file, whose output appears only when complete)."""
    from slopecli.lifetime import kill_descendants

    with ProcessPoolExecutor(max_workers=count, initializer=_start_worker) as pool:
        try:
            yield pool
        except waits.ENDING:
            kill_descendants()
            raise


def _submit(pool: ProcessPoolExecutor, task: Task) -> Future[FileResult]:
    """``task`` handed to the pool, which forks a worker for it while it has fewer than it may."""
    from slopecli.lifetime import signals_held

    with signals_held():
        return pool.submit(process, task)


def _start_worker() -> None:
    """A worker dies with the run, and leaves Ctrl-C (which a terminal sends to every process of
    the run) to the run: a worker that took it would print a traceback of its own."""
    from slopecli.lifetime import die_with_parent

    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Combiner:
    """Merges the sums of files that are shards of one dataset.

    Every file was read with its features in the weights' order (or failed), so their sums add.
    """

    def __init__(self) -> None:
        self.total: Sums | None = None
        self.features: tuple[str, ...] | None = None

    def add(self, result: FileResult) -> None:
        if result.sums is None:
            return
        self.features = result.features
        self.total = result.sums if self.total is None else self.total + result.sums


def default_jobs() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
