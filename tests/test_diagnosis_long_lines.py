"""The diagnosis pass is linear in the length of a line: a value of megabytes is named at once.

A line longer than the blocks it arrives in used to be searched from every position for its end
(quadratic): a 5 MB bad value kept a core busy for over ten minutes."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from slopecli.readers.diagnosis import physical_lines

from conftest import run_installed


def reference(data: bytes) -> list[bytes]:
    """The lines as Arrow counts them (``\\r\\n``, ``\\r`` or ``\\n`` end one), from one split of
    the whole stream; a final empty piece is no line."""
    lines = re.split(rb"\r\n|\r|\n", data)
    return lines[:-1] if lines[-1] == b"" else lines


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"1,2", b"\r", b"\n", b"\r\n", b'"', b""]), max_size=30),
    st.lists(st.integers(1, 6), min_size=1, max_size=10),
)
def test_lines_are_the_same_whatever_the_blocks(pieces: list[bytes], sizes: list[int]) -> None:
    data = b"".join(pieces)
    blocks, at, i = [], 0, 0
    while at < len(data):
        blocks.append(data[at : at + sizes[i % len(sizes)]])
        at += sizes[i % len(sizes)]
        i += 1
    assert list(physical_lines(blocks)) == reference(data)


def test_a_line_of_megabytes_in_small_blocks_is_one_line() -> None:
    line = b"7" * (3 << 20)
    blocks = [line[i : i + 4096] for i in range(0, len(line), 4096)] + [b"\r", b"\nx"]
    assert [len(x) for x in physical_lines(blocks)] == [len(line), 1]


def test_a_bad_value_of_megabytes_is_named_with_its_place(tmp_path):
    data = tmp_path / "long.csv"
    data.write_bytes(b"a,target\n" + b"1,2\n" * 20 + b"1" + b"x" * (3 << 20) + b",1\n")
    run = run_installed("compute", str(data), "-w", "1", "--json", "--summary")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr.splitlines() == [
        f"slopecli: error: {data}:22:1: column 'a': '1{'x' * 39}'… (3,145,729 characters) is not a number"
    ]


def test_a_huge_value_that_is_not_finite_is_cut_in_the_message(tmp_path):
    data = tmp_path / "huge.csv"
    data.write_bytes(b"a,target\n1,2\n" + b"9" * 50_000 + b",1\n")
    run = run_installed("compute", str(data), "-w", "1", "--json", "--summary")
    assert (run.exit_code, run.stdout) == (1, "")
    [line] = run.stderr.splitlines()
    assert (
        line
        == f"slopecli: error: {data}:3:1: column 'a': '{'9' * 40}'… (50,000 characters) is not a finite number"
    )


def test_a_header_name_of_a_megabyte_is_read(tmp_path):
    data = tmp_path / "name.csv"
    data.write_bytes(b"a" * (1 << 20) + b",target\n1,2\n")
    run = run_installed("compute", str(data), "-w", "3", "--json", "--summary")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["features"] == ["a" * (1 << 20)]


def test_a_long_run_of_digits_then_a_letter_is_refused_at_once(tmp_path):
    """The number pattern once split a run of digits both ways: 20,000 digits and an 'x' took 12 s."""
    from slopecli.values import NUMBER

    assert NUMBER.fullmatch("1" * 200_000 + "x") is None
    data = tmp_path / "digits.csv"
    data.write_text("a,b,target\n1,2,3\n4," + "1" * 300_000 + "x,6\n")
    run = run_installed("compute", str(data), "-w", "1,1", "--json", "--summary")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"slopecli: error: {data}:3:2: column 'b': '{'1' * 40}'… (300,001 characters) is not a number\n"
    )
