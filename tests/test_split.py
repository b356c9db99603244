"""Reading one large CSV file in parts on several threads: the same sums, the same errors."""

from __future__ import annotations

import numpy as np
import pytest

import slopecli.loaders as loaders
from slopecli.errors import DataError
from slopecli.evaluate import evaluate, evaluate_split
from slopecli.loaders import CsvOptions, CsvTable

from oracle import assert_close

W = np.array([0.25, -1.0, 3.0])


@pytest.fixture(autouse=True)
def small_split_threshold(monkeypatch):
    monkeypatch.setattr(loaders, "SPLIT_BYTES", 1 << 10)


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
        table = CsvTable(fp, "d.csv", CsvOptions(block_bytes=4096))
        split = table.parts(parts)
        assert split is not None and len(split) == parts
        together = evaluate_split(table.chunks, split, W, "d.csv")
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
        table = CsvTable(fp, "d.csv", CsvOptions(block_bytes=2048))
        split = table.parts(4)
        assert split is not None
        counts = [sum(len(c.y) for c in part) for part in split]
    assert sum(counts) == 997
    assert all(c > 0 for c in counts)


def test_a_bad_value_in_a_later_part_gets_the_exact_message(tmp_path):
    _, rows = random_rows(3000)
    rows[2500] = "1,2,oops,4\n"
    with open(write(tmp_path, rows), "rb") as fp:
        table = CsvTable(fp, "d.csv", CsvOptions(block_bytes=4096))
        split = table.parts(2)
        with pytest.raises(DataError, match=r"^d\.csv:2504:3: column 'c': 'oops' is not a number$"):
            evaluate_split(table.chunks, split, W, "d.csv")


def test_small_files_and_pipes_are_not_split(tmp_path, monkeypatch):
    monkeypatch.setattr(loaders, "SPLIT_BYTES", 1 << 30)
    _, rows = random_rows(10)
    with open(write(tmp_path, rows), "rb") as fp:
        assert CsvTable(fp, "d.csv", CsvOptions()).parts(2) is None
