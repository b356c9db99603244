"""``python -m slopecli``, and the console script's entry point.

The command line takes a few hundred milliseconds to import; a Ctrl-C in that time ends the run as
one later would, with one line and exit 130, not an import traceback.

The standard streams are settled first, once, for everything that writes to them later: a closed
stderr becomes a place where messages are lost, and stdout writes every byte it is given.
"""

import gc
import io
import os
import sys
from typing import TYPE_CHECKING

from slopecli.full_writes import write_all

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

GC_THRESHOLD = (100_000, 50, 100)
"""The collector's thresholds for a run (Python's defaults: 700, 10, 10). Importing numpy, pyarrow
and Typer makes some 200,000 objects, and with the defaults the collector walks them again and
again while they are made: a run from flags spends ~30 ms of its ~160 in it (bench/README.md).
Cycles are still collected, a hundred thousand allocations apart; a library user's interpreter
keeps its own settings."""

STDERR = 2


class CompleteWrites(io.RawIOBase):
    """A file descriptor that takes all of every write, as the shell's reader expects.

    ``os.write`` may take part of what it is given: when the reader goes away mid-write (the rest
    must be tried, so that the closed pipe is seen), or from a non-blocking pipe that is full
    (the rest must wait for room). Python's raw stdout (``PYTHONUNBUFFERED``, ``-u``) returns
    that count and its text layer ignores it; its buffered one raises on a full non-blocking pipe.
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def write(self, data: "ReadableBuffer", /) -> int:
        return write_all(self._fd, data)

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)


def settle_standard_streams() -> None:
    """stdout through :class:`CompleteWrites`; a closed stderr (``2>&-``) made a discarding one.

    Python leaves ``sys.stdout`` or ``sys.stderr`` None when the descriptor was closed at start;
    a closed stdout stays None, for the command line to refuse (``slopecli.cli.app``).
    """
    if sys.stderr is None:
        sys.stderr = _lost_messages()
    stdout = sys.stdout
    if not isinstance(stdout, io.TextIOWrapper):
        return
    try:
        fd = stdout.fileno()
    except (OSError, ValueError):  # a caller's own stand-in (io.BytesIO underneath): left alone
        return
    stdout.flush()
    raw = CompleteWrites(fd)
    sys.stdout = io.TextIOWrapper(
        # Unbuffered stays unbuffered (PYTHONUNBUFFERED, -u): each write reaches the reader.
        raw if stdout.write_through else io.BufferedWriter(raw),
        encoding=stdout.encoding,
        errors=stdout.errors,
        line_buffering=stdout.line_buffering,
        write_through=stdout.write_through,
    )


def _lost_messages() -> io.TextIOWrapper:
    # The descriptor is taken too, not only sys.stderr replaced: the next file opened would
    # otherwise be number 2, and whatever writes to stderr below Python (Arrow, a worker process
    # that inherits it) would write into that file.
    fd = os.open(os.devnull, os.O_WRONLY)
    if fd != STDERR:
        os.dup2(fd, STDERR)
        os.close(fd)
    return open(STDERR, "w", encoding="utf-8", errors="backslashreplace", closefd=False)


def main() -> None:
    """The console script ``slopecli``."""
    gc.set_threshold(*GC_THRESHOLD)
    settle_standard_streams()
    try:
        from slopecli.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("slopecli: interrupted\n")
        sys.stderr.flush()
        os._exit(130)
    run()


if __name__ == "__main__":
    main()
