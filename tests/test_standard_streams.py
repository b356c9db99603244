"""The standard streams as a shell or a parent may hand them over: stdout or stderr closed, a
reader that quits partway or reads slowly from a non-blocking pipe, and a COLUMNS that is no
width. Each case runs the installed command: only a real process has real file descriptors."""

from __future__ import annotations

import functools
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import SAMPLES, installed_slopecli, invoke, plain_env

POINTS = str(SAMPLES / "points.csv")
W = ("-w", "0,2,1")
UNBUFFERED = pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "PYTHONUNBUFFERED"])
"""Python's binary stdout is raw under PYTHONUNBUFFERED (or -u): one write may take part of what
it is given, and the rest is the writer's to write."""


def environment(unbuffered: bool = False, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in plain_env().items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return {**env, **extra}


def run(
    *args: str,
    env: dict[str, str] | None = None,
    closing: int | None = None,
    stdout: object = subprocess.PIPE,
) -> subprocess.CompletedProcess[bytes]:
    """The installed command with file descriptor ``closing`` closed, as `>&-` or `2>&-` leave it."""
    preexec: Callable[[], None] | None = None if closing is None else functools.partial(os.close, closing)
    return subprocess.run(
        [installed_slopecli(), *args],
        stdout=None if closing == 1 else stdout,
        stderr=None if closing == 2 else subprocess.PIPE,
        preexec_fn=preexec,
        env=env or environment(),
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Inputs whose outputs are larger than a pipe holds (64 KiB) and smaller than what slopecli
    holds back until a run has succeeded (4 MiB): written in one piece at the end."""
    folder = tmp_path_factory.mktemp("streams")
    rows = folder / "rows.csv"
    rows.write_text("a,b,c,target\n" + "".join(f"{i % 7},{i % 11},{i % 13},{i % 5}\n" for i in range(5000)))
    wide = folder / "wide.csv"
    header = ",".join(f"f{i}" for i in range(4000)) + ",target\n"
    wide.write_text(
        header + "".join(",".join(str((i * 7 + r) % 10) for i in range(4000)) + f",{r}\n" for r in range(3))
    )
    weights = folder / "weights.json"
    weights.write_text("[" + ", ".join(["0.5"] * 4000) + "]")
    return {"rows": str(rows), "wide": str(wide), "weights": str(weights)}


@functools.cache
def unset(args: tuple[str, ...]) -> subprocess.CompletedProcess[bytes]:
    """A run in the plain environment, once per command line (the expectation of several tests)."""
    return run(*args)


# --- stdout closed (`>&-`) -------------------------------------------------------------------

STDOUT_CLOSED = "slopecli: error: stdout is closed: run slopecli with stdout open (a pipe, or > FILE)\n"


@pytest.mark.process_coverage
@pytest.mark.parametrize(
    "args",
    [
        ("compute", POINTS, *W, "--json"),
        ("compute", POINTS, *W),
        ("batch", POINTS, POINTS, *W, "--format", "jsonl"),
        ("descend", POINTS, *W, "--steps", "3", "--lr", "0.001"),
        ("check", POINTS, *W),
        ("--version",),
        ("compute", POINTS, "--bogus"),
    ],
    ids=["compute-json", "compute-table", "batch-jsonl", "descend-table", "check-table", "version", "usage"],
)
def test_a_closed_stdout_is_one_line_and_a_usage_error(args):
    done = run(*args, closing=1)
    assert (done.returncode, done.stderr.decode()) == (2, STDOUT_CLOSED)


# --- stderr closed (`2>&-`) ------------------------------------------------------------------


@pytest.mark.process_coverage
@pytest.mark.parametrize(
    "args",
    [
        ("compute", POINTS, *W, "--json", "--summary"),
        ("compute", *W, "-x", "1,2,3", "-y", "0", "--json"),
        ("compute", POINTS, *W),
        ("batch", POINTS, POINTS, *W, "--format", "jsonl"),
        ("descend", POINTS, *W, "--steps", "3", "--lr", "0.001"),
        ("--version",),
    ],
    ids=["compute-summary", "compute-flags", "compute-table", "batch-jsonl", "descend-table", "version"],
)
def test_a_closed_stderr_leaves_a_successful_run_whole(tmp_path: Path, args):
    """What cannot be said on stderr is lost; the run and its output are not."""
    expected = run(*args)
    assert (expected.returncode, expected.stderr) == (0, b"")
    out = tmp_path / "out"
    with open(out, "wb") as fp:
        done = run(*args, closing=2, stdout=fp)
    assert (done.returncode, out.read_bytes()) == (0, expected.stdout)


@pytest.mark.process_coverage
def test_a_closed_stderr_keeps_a_failure_s_exit_code(tmp_path: Path):
    out = tmp_path / "out"
    with open(out, "wb") as fp:
        done = run("compute", str(SAMPLES / "bad.csv"), *W, closing=2, stdout=fp)
    assert (done.returncode, out.read_bytes()) == (1, b"")


# --- a reader that quits partway (`| head -c 10`) ----------------------------------------------

DESCEND = ("descend", "{rows}", "-w", "0,0,0", "--lr", "0.001", "--steps", "1000")
LARGE = {
    "compute-json": ("compute", "{rows}", "-w", "1,2,3", "--format", "json"),
    "compute-csv": ("compute", "{rows}", "-w", "1,2,3", "--format", "csv"),
    "compute-table": ("compute", "{rows}", "-w", "1,2,3", "--all-rows"),
    "step-json": ("step", "{rows}", "-w", "1,2,3", "--json"),
    "batch-json": ("batch", "{wide}", "{wide}", "--weights-file", "{weights}", "--json"),
    "descend-json": (*DESCEND, "--format", "json"),
    "descend-csv": (*DESCEND, "--format", "csv"),
}


# Every command unbuffered (where partial writes were lost); buffered, one of each kind of output.
PARTWAY = [(name, True) for name in LARGE] + [("compute-json", False), ("compute-table", False)]


@pytest.mark.parametrize(
    ("args", "unbuffered"),
    [(LARGE[name], unbuffered) for name, unbuffered in PARTWAY],
    ids=[f"{name}-{'PYTHONUNBUFFERED' if unbuffered else 'buffered'}" for name, unbuffered in PARTWAY],
)
def test_a_reader_that_quits_partway_is_a_closed_pipe(data, args, unbuffered):
    """The reader takes a few bytes of one large write and goes: what the write did not take is
    written again, fails, and the run ends as a closed pipe (141), silently."""
    args = [arg.format(**data) for arg in args]
    assert len(unset(tuple(args)).stdout) > 64 << 10  # more than a pipe holds: the write cannot finish
    proc = subprocess.Popen(
        [installed_slopecli(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(unbuffered),
    )
    with proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert os.read(proc.stdout.fileno(), 10)
        proc.stdout.close()
        err = proc.stderr.read()
    assert (proc.wait(timeout=60), err) == (141, b"")


# --- a slow reader of a non-blocking pipe --------------------------------------------------------

SLOW = {
    "compute-json": ("compute", "{rows}", "-w", "1,2,3", "--format", "json"),
    "compute-jsonl": ("compute", "{rows}", "-w", "1,2,3", "--format", "jsonl"),
    "compute-table": ("compute", "{rows}", "-w", "1,2,3", "--all-rows"),
}


@UNBUFFERED
@pytest.mark.parametrize("args", SLOW.values(), ids=SLOW.keys())
def test_a_slow_reader_of_a_non_blocking_pipe_gets_every_byte(tmp_path: Path, data, args, unbuffered):
    """A parent may hand over a non-blocking pipe: each write then takes what fits, or nothing
    while the pipe is full; slopecli waits for room and writes the rest, losing nothing."""
    args = [arg.format(**data) for arg in args]
    expected = unset(tuple(args))
    read, write = os.pipe()
    os.set_blocking(write, False)
    err = tmp_path / "err"
    with open(err, "wb") as stderr:
        proc = subprocess.Popen(
            [installed_slopecli(), *args], stdout=write, stderr=stderr, env=environment(unbuffered)
        )
    os.close(write)
    chunks = []
    with open(read, "rb", buffering=0) as reader:
        while chunk := reader.read(16 << 10):
            chunks.append(chunk)
            time.sleep(0.002)  # slower than slopecli writes: the pipe fills, writes would block
    assert (proc.wait(timeout=60), err.read_text()) == (0, "")
    assert b"".join(chunks) == expected.stdout


def test_a_full_non_blocking_pipe_is_waited_on_and_written_whole():
    """The writer of the console script and of the per-row workers, in process: each write of a
    full non-blocking pipe is refused (BlockingIOError) until the reader makes room."""
    import threading

    from slopecli.full_writes import write_all

    data = bytes(range(256)) * 4096  # 1 MiB: sixteen times what the pipe holds
    read, write = os.pipe()
    os.set_blocking(write, False)
    chunks: list[bytes] = []

    def drain() -> None:
        while chunk := os.read(read, 1 << 16):
            chunks.append(chunk)
            time.sleep(0.001)  # slower than the writer: the pipe fills

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        assert write_all(write, data) == len(data)
    finally:
        os.close(write)
        reader.join()
        os.close(read)
    assert b"".join(chunks) == data


# --- a COLUMNS that is no width -------------------------------------------------------------------

TABLES = {
    "compute": ("compute", POINTS, *W),
    "check": ("check", POINTS, *W),
    "batch": ("batch", POINTS, POINTS, *W),
    "descend": ("descend", POINTS, *W, "--steps", "3", "--lr", "0.001"),
    "help": ("compute", "--help"),
}


# No positive whole number: 0 (Rich drew nothing), a negative, letters, a superscript digit
# (Rich's int() raised) and another script's digits.
NOT_SIZES = ("0", "-3", "abc", "²", "٣٣")
# Every odd value for one command; 0, the value that printed nothing, for every command.
ODD_COLUMNS = [("compute", c) for c in NOT_SIZES] + [(n, "0") for n in TABLES if n != "compute"]


@pytest.mark.parametrize(
    ("args", "columns"), [(TABLES[n], c) for n, c in ODD_COLUMNS], ids=[f"{n}-{c}" for n, c in ODD_COLUMNS]
)
def test_a_columns_that_is_no_positive_number_is_ignored(args, columns):
    """As Rich ignores a negative or non-numeric COLUMNS, slopecli also ignores 0 (Rich drew
    nothing), a superscript digit (Rich's int() raised) and other scripts' digits, as flags do."""
    expected = unset(args)
    assert expected.returncode in (0, 3) and expected.stdout
    done = run(*args, env=environment(COLUMNS=columns, LINES=columns))
    assert (done.returncode, done.stdout, done.stderr) == (
        expected.returncode,
        expected.stdout,
        expected.stderr,
    )


@pytest.mark.parametrize("value", [*NOT_SIZES, ""])
def test_a_size_that_is_no_positive_number_is_dropped_before_rich_reads_it(monkeypatch, value):
    from slopecli.cli.app import TERMINAL_SIZES, _drop_sizes_that_are_not_sizes

    for name in TERMINAL_SIZES:
        monkeypatch.setenv(name, value)
    _drop_sizes_that_are_not_sizes()
    assert [name for name in TERMINAL_SIZES if name in os.environ] == []
    monkeypatch.setenv("COLUMNS", "40")
    _drop_sizes_that_are_not_sizes()
    assert os.environ["COLUMNS"] == "40"


@pytest.mark.parametrize("value", ["10001", "1000000", "9223372036854775807", "99999999999999999999999"])
def test_a_size_beyond_any_screen_is_taken_as_the_largest(monkeypatch, value):
    # Rich pads help to the width: COLUMNS=10000000 wrote gigabytes, 2⁶³ and more a traceback.
    from slopecli.cli.app import LARGEST_SIZE, _drop_sizes_that_are_not_sizes

    monkeypatch.setenv("COLUMNS", value)
    _drop_sizes_that_are_not_sizes()
    assert os.environ["COLUMNS"] == str(LARGEST_SIZE) == "10000"
    run = invoke("--help")
    assert run.exit_code == 0 and len(run.stdout) < 1_000_000


def test_a_positive_columns_still_sets_the_width():
    done = run("compute", POINTS, *W, env=environment(COLUMNS="40"))
    assert done.returncode == 0 and done.stdout != unset(("compute", POINTS, *W)).stdout
    assert max(len(line) for line in done.stdout.decode().splitlines()) <= 40


def test_a_callers_own_stdout_is_left_alone(monkeypatch):
    # A library user (or a test) may set sys.stdout to a wrapper of memory, which has no
    # descriptor: settling the streams must not fail on it, nor replace it.
    import io

    from slopecli.__main__ import settle_standard_streams

    own = io.TextIOWrapper(io.BytesIO())
    monkeypatch.setattr("sys.stdout", own)
    settle_standard_streams()
    import sys

    assert sys.stdout is own


@pytest.mark.parametrize("columns", ["100", "60"], ids=["rich", "plain"])
def test_help_of_slopecli_alone_reaches_a_buffered_stdout(tmp_path, columns):
    # The plain help stayed in stdout's buffer: the run ends in os._exit, which flushes nothing.
    out = tmp_path / "help.txt"
    with out.open("wb") as stdout:
        done = subprocess.run(
            [installed_slopecli()], stdout=stdout, stderr=subprocess.PIPE, env=environment(COLUMNS=columns)
        )
    assert (done.returncode, done.stderr) == (2, b"")
    assert "Usage: slopecli [OPTIONS] COMMAND" in out.read_text()


@pytest.mark.process_coverage
@pytest.mark.parametrize("columns", ["100", "60"], ids=["rich", "plain"])
@pytest.mark.parametrize(
    "args", [("--help",), ("compute", "--help"), ()], ids=["slopecli", "compute", "alone"]
)
def test_help_to_a_reader_that_is_gone_is_a_closed_pipe(args, columns):
    # Rich ends help it cannot write with exit 1 (Console.on_broken_pipe), and so does Typer the
    # plain help below 80 columns (EPIPE); a closed pipe is 141 whoever was writing, as
    # `--version | true` and a command's own output are.
    read, write = os.pipe()
    os.close(read)  # gone before slopecli writes a byte
    try:
        done = subprocess.run(
            [installed_slopecli(), *args],
            stdout=write,
            stderr=subprocess.PIPE,
            env=environment(COLUMNS=columns),
            check=False,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, b"")
