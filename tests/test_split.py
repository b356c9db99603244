"""Reading one large CSV file in parts on several threads: the same sums, the same errors."""

from __future__ import annotations

import numpy as np
import pytest

import slopecli.readers.delimited as delimited
from slopecli.errors import DataError
from slopecli.evaluation import evaluate, evaluate_table
from slopecli.readers.delimited import CsvTable
from slopecli.readers.layout import ReadOptions

from oracle import assert_close

W = np.array([0.25, -1.0, 3.0])


@pytest.fixture(autouse=True)
def small_split_threshold(monkeypatch):
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 10)


def write(tmp_path, rows, header="\n\na,b,c,target\n"):
    path = tmp_path / "d.csv"
    path.write_text(header + "".join(rows))
    return path


def random_rows(n, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.normal(scale=3, size=(n, 4)).round(7)
    return data, [",".join(map(repr, r)) + "\n" for r in data.tolist()]


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_parts_give_the_sums_of_one_pass(tmp_path, parts):
    data, rows = random_rows(5000)
    with open(write(tmp_path, rows), "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        assert len(table.pieces(parts)) == parts
        together = evaluate_table(table, W, parts)
        one = evaluate(table.chunks(), W)
    assert together.n == one.n == 5000
    err = data[:, :3] @ W - data[:, 3]
    scale = 2 * np.abs(data[:, :3]).T @ np.abs(err) / len(err)
    for a, b, s in zip(together.gradient, one.gradient, scale, strict=True):
        assert_close(a, b, s)
    assert_close(together.sse, one.sse, one.sse)


def test_each_part_starts_on_a_row(tmp_path):
    _, rows = random_rows(997)
    with open(write(tmp_path, rows), "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=2048))
        pieces = table.pieces(4)
        assert len(pieces) == 4
        counts = [sum(len(c.y) for c in table.read_piece(piece)) for piece in pieces]
    assert sum(counts) == 997
    assert all(c > 0 for c in counts)


def test_a_bad_value_in_a_later_part_gets_the_exact_message(tmp_path):
    _, rows = random_rows(3000)
    rows[2500] = "1,2,oops,4\n"
    with open(write(tmp_path, rows), "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        assert len(table.pieces(2)) == 2
        with pytest.raises(DataError, match=r"^d\.csv:2504:3: column 'c': 'oops' is not a number$"):
            evaluate_table(table, W, 2)


def test_small_files_and_pipes_are_not_split(tmp_path, monkeypatch):
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 30)
    _, rows = random_rows(10)
    with open(write(tmp_path, rows), "rb") as fp:
        assert CsvTable(fp, "d.csv", ReadOptions()).pieces(2) == []


@pytest.mark.parametrize("ending", [b"\r", b"\r\n", b"\n"])
def test_the_first_piece_starts_after_a_header_whatever_ends_it(tmp_path, ending):
    """A header ended by a bare CR once cost the split reader its first data row."""
    _, rows = random_rows(3000)
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,b,c,target" + ending + "".join(rows).encode())
    with open(path, "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        assert len(table.pieces(2)) == 2
        split = evaluate_table(table, W, 2)
        one = evaluate(table.chunks(), W)
    assert split.n == one.n == 3000
    assert_close(split.sse, one.sse, one.sse)
