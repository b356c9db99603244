"""The table flags on the command line: --row N explains one row of a file, and after a single
point's table a dim line on a terminal's stderr suggests the course's next command (--quiet: none)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios

import pytest

from conftest import SAMPLES, installed_slopecli, invoke, plain_env

POINTS = str(SAMPLES / "points.csv")
COURSE = ("-w", "0,2,1", "-x", "1,2,3", "-y", "0")


def test_row_explains_one_row_of_a_file():
    run = invoke("compute", POINTS, "-w", "0,2,1", "--row", "3")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith(f"{POINTS} · row 3 of 5 · 3 weights\n")
    assert "0·7 + 2·8 + 1·9.25" in run.stdout
    assert "Per row" not in run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--row", "9"), f"--row 9: {POINTS} has 5 rows"),
        (("--row", "2", "--json"), "--row explains one row in a table"),
        (("--row", "2", "--summary"), "--row explains one row in a table"),
    ],
)
def test_row_out_of_range_or_with_machine_output_is_a_usage_error(args, message):
    run = invoke("compute", POINTS, "-w", "0,2,1", *args)
    assert run.exit_code == 2
    assert message in run.stderr
    assert run.stdout == ""


def on_a_terminal(*args: str, columns: int = 0, stdout: bool = False, **env: str) -> bytes:
    """What the installed command writes to a terminal's stderr (and stdout, if ``stdout``;
    else stdout goes nowhere), the terminal ``columns`` wide (0: it does not say)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24 if columns else 0, columns, 0, 0))
    try:
        done = subprocess.run(
            [installed_slopecli(), *args],
            stdout=follower if stdout else subprocess.DEVNULL,
            stderr=follower,
            env=plain_env(**env),
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
    assert done.returncode == 0
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal's other end is closed: all was read
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    return out


def test_after_a_single_point_a_terminal_is_told_the_next_command():
    assert b"next: slopecli step --weights 0,2,1 --input 1,2,3 --target 0 --lr 0.01" in on_a_terminal(
        "compute", *COURSE
    )
    assert b"next: slopecli descend " in on_a_terminal("step", *COURSE, "--lr", "0.02")
    assert on_a_terminal("compute", *COURSE, "--quiet") == b""
    assert on_a_terminal("compute", *COURSE, "--json") == b""
    assert on_a_terminal("compute", POINTS, "-w", "0,2,1") == b""  # many rows: no single point


def test_no_hint_off_a_terminal():
    run = invoke("compute", *COURSE)
    assert run.exit_code == 0
    assert run.stderr == ""


def test_a_dumb_terminal_gets_tables_and_hints_as_wide_as_it_is():
    # TERM=dumb (Emacs' shell, some IDE consoles): Rich alone draws 80 wide whatever the size, and
    # the terminal's own wrap then splits numbers.
    shown = on_a_terminal("compute", POINTS, "-w", "0,2,1", columns=40, stdout=True, TERM="dumb")
    lines = shown.decode().replace("\r\n", "\n").splitlines()
    assert "611.475" in shown.decode()
    assert max(map(len, lines)) <= 40
    hint = on_a_terminal("compute", "-w", "0.125,2,1", "-x", "1,2,3", "-y", "0", columns=33, TERM="dumb")
    assert hint.decode().replace("\r\n", "\n") == (
        "next: slopecli step \\\n      --weights 0.125,2,1 \\\n      --input 1,2,3 --target 0 \\\n      --lr 0.01\n"
    )
