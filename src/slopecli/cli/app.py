"""The Typer application and the one place where errors become messages and exit codes."""

import inspect
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from slopecli import __version__
from slopecli.cli.help import FittedHelpContext, write_commands
from slopecli.errors import SlopeError, UsageError
from slopecli.lifetime import kill_descendants
from slopecli.terminal import environment_size
from slopecli.text import visible

EXIT_OK = 0
EXIT_DATA = 1
"""The data or a value is wrong, as slopecli checks it (a SlopeError): bad numbers, wrong counts,
ragged rows, a file that cannot be opened, a failed batch file, a diverged run."""
EXIT_USAGE = 2
"""The parser rejected the command line: unknown flag, missing value, wrong type or range."""
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
TERMINAL_SIZES = ("COLUMNS", "LINES")
"""What Rich reads for the size of every console: tables on stdout, progress on stderr, help."""
LARGEST_SIZE = 10_000
"""The widest (and tallest) terminal taken from COLUMNS and LINES: wider than any screen, and a
help padded to it is 1 MB at most."""


class SlopeGroup(TyperGroup):
    """Runs the command and turns every expected failure into one line on stderr.

    Bugs are not caught: they should show a traceback.
    """

    context_class = FittedHelpContext

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            command.context_class = FittedHelpContext
            if command.help:
                command.help = prose(command.help)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        write_commands(self, ctx, formatter)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            _require_stdout()
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            # The last of the output (the console script ends with os._exit, which flushes
            # nothing), under the handlers below: a full disk is one line, a gone reader 141.
            sys.stdout.flush()
        except SlopeError as exc:
            report(f"{prog_name or 'slopecli'}: error: {exc}")
            code = exc.exit_code
        except BrokenPipeError:  # at the last flush; the command's own are caught in invoke
            code = _reader_gone()
        except SystemExit as exc:
            # Rich ends a help text whose reader went away with exit 1 (Console.on_broken_pipe),
            # and so does Typer when the plain help's write meets it: a closed pipe is 141 here,
            # whoever was writing.
            if not _a_closed_pipe(exc):
                raise
            code = _reader_gone()
        except OSError as exc:  # what the system refused, most often writing the output (a full disk)
            where = f"{exc.filename}" if exc.filename is not None else "cannot write the output"
            report(f"{prog_name or 'slopecli'}: error: {where}: {exc.strerror or exc}")
            code = EXIT_DATA
        except MemoryError:  # a run too large for the memory it may use (ulimit -v, a container)
            report(
                f"{prog_name or 'slopecli'}: error: out of memory: the run needs more than this"
                " process may use; give it fewer rows, steps or features, or more memory"
            )
            code = EXIT_DATA
        except typer.TyperException as exc:  # Click's usage errors, vendored by Typer
            command = getattr(getattr(exc, "ctx", None), "command_path", prog_name or "slopecli")
            # Typer validates choices through pydantic, whose messages carry a "Value error, " prefix.
            message = _whole_range(exc, exc.format_message().replace("Value error, ", ""))
            if message:  # `slopecli` alone prints the help and has nothing more to say
                report(f"{command}: usage error: {message} (see '{command} --help')")
            code = getattr(exc, "exit_code", EXIT_USAGE)
        except typer.Abort:
            code = EXIT_INTERRUPTED
        code = code if isinstance(code, int) else EXIT_OK
        if code == EXIT_INTERRUPTED:
            # Said here, once, for a Ctrl-C at any point: Typer turns one that comes while the flags
            # are parsed into a silent exit 130, and the command's own into typer.Exit below.
            report("slopecli: interrupted")
        if standalone_mode:
            sys.exit(code)
        return code

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            _lighten(command, ctx)  # no pydantic for values that need no coercion (-40-60 ms a run)
        return name, command, rest

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _lighten(self, ctx)
        return list(super().parse_args(ctx, args))

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            # Caught here, not in main: Click would turn it into exit 1.
            raise typer.Exit(_reader_gone()) from None


def _whole_range(exc: Any, message: str) -> str:
    """``message``, with pydantic's words for a value out of a flag's range (``Input should be
    greater than or equal to 1``: one bound) or not a number as the flag's whole range, as its
    help shows it: ``expected a whole number from 1 to 17``."""
    param = getattr(exc, "param", None)
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    head, found, _ = message.partition(": Input should be ")
    if not found or (low is None and high is None):
        return message
    kind = "a whole number" if isinstance(low if low is not None else high, int) else "a number"
    if low is not None and high is not None:
        return f"{head}: expected {kind} from {low} to {high}"
    return (
        f"{head}: expected {kind}, at least {low}"
        if low is not None
        else f"{head}: expected {kind}, at most {high}"
    )


def _reader_gone() -> int:
    # The reader went away (`| head`): stop quietly, as a Unix filter killed by SIGPIPE would,
    # and keep Python from complaining about the unflushable stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def _a_closed_pipe(exc: SystemExit) -> bool:
    if exc.code != 1:
        return False
    if isinstance(exc.__context__, BrokenPipeError):  # Typer's main: sys.exit(1) on EPIPE
        return True
    last = exc.__traceback__
    while last is not None and last.tb_next is not None:
        last = last.tb_next
    return last is not None and last.tb_frame.f_code.co_name == "on_broken_pipe"


def _require_stdout() -> None:
    # Python leaves sys.stdout None when the shell closed it (`>&-`). Every command prints its
    # results there: refused before any work, rather than computed for nobody (or a traceback).
    if sys.stdout is None:
        msg = "stdout is closed: run slopecli with stdout open (a pipe, or > FILE)"
        raise UsageError(msg)


def _lighten(command: Any, ctx: Any) -> None:
    try:
        from slopecli.cli.coercion import lighten
    except ImportError:  # pragma: no cover - a Typer without 0.29's internals: its coercion, as is
        return
    lighten(command, ctx)


def report(line: str) -> None:
    """One line on stderr: line breaks in data-derived text (\\n, \\r and the rest) must not split
    it, nor its control characters (an escape sequence in a column name) reach the terminal."""
    sys.stderr.write(visible(" ".join(line.splitlines())) + "\n")
    sys.stderr.flush()


app = typer.Typer(
    cls=SlopeGroup,
    name="slopecli",
    help="Gradients of a linear model under squared error: exact, explained, scriptable.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def prose(help_text: str) -> str:
    """A command's docstring as its help: each paragraph on one line, for Rich to wrap at the
    terminal's width. (Typer keeps a docstring's line breaks, so text wrapped at the source's
    110 columns broke mid-sentence at any other width.)"""
    paragraphs = inspect.cleandoc(help_text).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in paragraph.splitlines()) for paragraph in paragraphs)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"slopecli {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Gradients of a linear model under squared error: exact, explained, scriptable.

    preds = Σ w·x · error = preds − target · slope = 2·x·error · gradient = mean of the row slopes.
    """


def _arrow_pool() -> str:
    linux_x86 = sys.platform == "linux" and os.uname().machine == "x86_64"
    return "jemalloc" if linux_x86 else "system"


def main() -> None:
    """The console script ``slopecli``."""
    # Arrow's default allocator (mimalloc) keeps freed memory mapped for reuse: ~25 MiB of peak
    # memory for no speed on a streaming run. jemalloc, in pyarrow's x86-64 Linux wheels, peaks
    # lowest and grows the parser's buffers in place, where the system's realloc copies them:
    # 10M x 3 summary 2.5% faster and 11 MiB lower than "system", per-row CSV 3% faster
    # (bench/README.md). Elsewhere "system": naming a pool a build lacks makes Arrow print a
    # warning, and not every platform's build has jemalloc. A user's own setting wins.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", _arrow_pool())
    # Tall, thin matrices gain nothing from BLAS threads, whose spinning takes the core that
    # the second CSV reader needs (numpy is not imported yet, so this still applies).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _drop_sizes_that_are_not_sizes()
    try:
        app(prog_name="slopecli")
        code = EXIT_OK
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else EXIT_DATA
    except KeyboardInterrupt:  # while Typer builds the command, before SlopeGroup's handlers
        report("slopecli: interrupted")
        code = EXIT_INTERRUPTED
    # Every file is closed and every worker joined by now. Skipping the interpreter's teardown
    # matters when open_csv fails on the first block: no reader exists for CsvTable.chunks() to
    # close, Arrow's read-ahead thread may still wait for the GIL to read the Python file object,
    # and destroying its thread pool at exit then aborts ("terminate called without an active
    # exception"): 10-27 runs in 200 with sys.exit, none with os._exit (measured on a 6 MB file).
    # stdout was flushed by SlopeGroup.main; what a failed run could not write is dropped here.
    sys.stderr.flush()
    if code == EXIT_INTERRUPTED:
        # A local Dask cluster's start goes on in its own thread while the interrupt unwinds, and
        # may have made a worker since the cluster's processes were killed: none may outlive us.
        kill_descendants()
    os._exit(code)


def _drop_sizes_that_are_not_sizes() -> None:
    """A COLUMNS or LINES that is not a positive whole number is removed: as if unset, so the
    terminal's size is used, or 80 columns off a terminal. One above :data:`LARGEST_SIZE` is
    taken as that.

    Rich ignores a negative or non-numeric value itself, but takes 0 as the width (a table drew
    nothing at all) and fails on a digit that int() does not read (``²``). It pads help to the
    width: COLUMNS=10000000 wrote gigabytes, and a width past 2⁶³ failed with a traceback.
    """
    for name in TERMINAL_SIZES:
        size = environment_size(name)
        if size is None:
            os.environ.pop(name, None)
        elif size > LARGEST_SIZE:
            os.environ[name] = str(LARGEST_SIZE)
