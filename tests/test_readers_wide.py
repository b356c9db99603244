"""Wide rows: lines and headers longer than Arrow's block are read (the block grows to fit them),
and nothing costs a scan of the header or of the weights per column."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slopecli.errors import InputError
from slopecli.evaluation import evaluate_table
from slopecli.readers.delimited import CsvTable
from slopecli.readers.layout import BLOCK_BYTES, ReadOptions
from slopecli.values import parse_vector

from conftest import Pipe, invoke


def read_all(source, **options: object) -> tuple[np.ndarray, np.ndarray]:
    table = CsvTable(source, "f.csv", ReadOptions(**options))  # type: ignore[arg-type]
    chunks = list(table.chunks())
    return np.vstack([c.X for c in chunks]), np.concatenate([c.y for c in chunks])


def csv_of(matrix: np.ndarray, names: list[str] | None = None) -> bytes:
    names = names or [*(f"x{i}" for i in range(matrix.shape[1] - 1)), "target"]
    lines = [",".join(names)] + [",".join(map(repr, row)) for row in matrix.tolist()]
    return ("\n".join(lines) + "\n").encode()


def test_ten_thousand_full_precision_columns_are_read():
    # Each line is about 190 KB, twice Arrow's block: it used to fail with "straddling object
    # straddles two block boundaries".
    block = 96 << 10  # the block the failure was seen with
    matrix = np.random.default_rng(1).random((3, 10_001))
    data = csv_of(matrix)
    assert data.index(b"\n", data.index(b"\n") + 1) > 2 * block
    for source in (io.BytesIO(data), Pipe(data, step=4096)):
        X, y = read_all(source, block_bytes=block)
        np.testing.assert_array_equal(X, matrix[:, :-1])
        np.testing.assert_array_equal(y, matrix[:, -1])


def test_a_header_of_twenty_thousand_short_names_is_read():
    # It used to fail with Arrow's "Could not skip initial 1 rows".
    block = 96 << 10  # the block the failure was seen with
    matrix = np.ones((2, 20_001))
    data = csv_of(matrix)
    assert data.index(b"\n") > block
    table = CsvTable(io.BytesIO(data), "f.csv", ReadOptions(block_bytes=block))
    assert len(table.features) == 20_000 and table.features[-1] == "x19999"
    X, y = read_all(io.BytesIO(data), block_bytes=block)
    assert X.shape == (2, 20_000) and y.tolist() == [1.0, 1.0]


def test_a_header_longer_than_the_first_peek_is_read_whole(monkeypatch):
    import slopecli.readers.delimited as delimited

    monkeypatch.setattr(delimited, "_HEADER_PEEK_BYTES", 64)
    data = csv_of(np.arange(2 * 301, dtype=float).reshape(2, 301))
    for source in (io.BytesIO(data), Pipe(data, step=50)):
        X, y = read_all(source)
        assert X.shape == (2, 300) and y.tolist() == [300.0, 601.0]


def test_a_long_line_past_the_start_is_read_whole_and_in_pieces(tmp_path, monkeypatch):
    """The block is sized from the first lines; a longer one later grows the block of the single
    pass, and fails a piece, whose file is then read in one pass: the sums are the same."""
    import slopecli.readers.delimited as delimited

    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 10)
    short = "\n".join(f"{i},{'0' * 10},{i}" for i in range(20_000))
    long = f"1,{'0' * 400_000}1,2"
    data = f"a,b,target\n{short}\n{long}\n{short}\n".encode()
    path = tmp_path / "long.csv"
    path.write_bytes(data)
    X, y = read_all(io.BytesIO(data))
    assert X.shape == (40_001, 2) and X[20_000].tolist() == [1.0, 1.0] and y[20_000] == 2.0
    with path.open("rb") as fp:
        table = CsvTable(fp, str(path), ReadOptions())
        assert len(table.pieces(2)) == 2
        sums = evaluate_table(table, np.array([1.0, -1.0]), threads=2)
    err = X @ np.array([1.0, -1.0]) - y
    assert sums.n == 40_001
    np.testing.assert_allclose(sums.gradient, 2 * X.T @ err / len(err), rtol=1e-12)


lines = st.lists(
    st.lists(st.integers(-(10**6), 10**6).map(str), min_size=3, max_size=3), min_size=1, max_size=40
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=lines, block=st.integers(1, 24), ending=st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_a_grown_block_reads_as_a_normal_one(records, block, ending):
    data = ending.join([b"first,second,target", *(",".join(r).encode() for r in records)]) + ending
    want_X, want_y = read_all(io.BytesIO(data))
    for source in (io.BytesIO(data), Pipe(data, step=5)):
        X, y = read_all(source, block_bytes=block)
        np.testing.assert_array_equal(X, want_X)
        np.testing.assert_array_equal(y, want_y)


def test_forty_thousand_weights_parse_with_the_bad_item_named():
    text = ",".join(["0.5"] * 40_000)
    assert parse_vector(text, "--weights").tolist() == [0.5] * 40_000
    with pytest.raises(InputError) as caught:
        parse_vector(text[:-3] + "x", "--weights")
    message = str(caught.value)
    assert message.startswith("--weights: item 40000 of '0.5,0.5,")
    assert message.endswith("…': 'x' is not a number")
    assert len(message) < 300


def test_a_weights_file_that_names_twenty_thousand_features_in_another_order(tmp_path):
    import json

    names = [f"f{i}" for i in range(20_000)]
    data = ",".join([*names, "target"]) + "\n" + ",".join(str(i) for i in range(20_001)) + "\n"
    (tmp_path / "wide.csv").write_text(data)
    weights = np.zeros(20_000)
    weights[0] = 1.0
    order = names[::-1]
    (tmp_path / "w.json").write_text(json.dumps({"weights": weights.tolist(), "features": order}))
    run = invoke("compute", str(tmp_path / "wide.csv"), "--weights-file", str(tmp_path / "w.json"),
                 "--summary", "--json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["features"][:2] == ["f19999", "f19998"]
    # The first weight belongs to f19999 (value 19999): error = 19999 - 20000 = -1.
    assert doc["mse"] == 1.0 and doc["gradient"][:2] == [-2 * 19999.0, -2 * 19998.0]


def test_a_name_repeated_thousands_of_times_is_reported_in_one_short_line():
    from slopecli.errors import DataError

    data = (",".join(["7"] * 5000) + ",target\n" + ",".join(["1"] * 5001) + "\n").encode()
    with pytest.raises(DataError) as caught:
        CsvTable(io.BytesIO(data), "f.csv", ReadOptions())
    assert (
        str(caught.value)
        == "f.csv:1: column name '7' appears more than once (columns 1, 2, 3 and 4,997 more)"
    )


def test_a_wide_block_is_no_larger_than_the_file(tmp_path):
    data = csv_of(np.ones((2, 2001)))
    path = tmp_path / "small-wide.csv"
    path.write_bytes(data)
    with path.open("rb") as fp:
        assert CsvTable(fp, str(path), ReadOptions()).block_bytes == BLOCK_BYTES  # the file is smaller
    assert CsvTable(Pipe(data, step=4096), "<stdin>", ReadOptions()).block_bytes == 512 * 2001  # size unknown


def test_the_dask_engine_reads_a_long_line_that_fails_its_piece(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    import dask

    import slopecli.distributed as engine
    import slopecli.readers.delimited as delimited
    from slopecli.batch import Task
    from slopecli.dataset import Plan

    monkeypatch.setattr(engine, "PIECE_BYTES", 64 << 10)
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 10)
    short = "\n".join(f"{i},{'0' * 10},{i}" for i in range(20_000))
    path = tmp_path / "long.csv"
    path.write_text(f"a,b,target\n{short}\n1,{'0' * 400_000}1,2\n{short}\n")
    weights = np.array([1.0, -1.0])
    with dask.config.set(scheduler="synchronous"):
        [result] = engine.run([Task(path, Plan(weights, "--weights", ReadOptions()))], None)
    X, y = read_all(io.BytesIO(path.read_bytes()))
    err = X @ weights - y
    assert result.error is None and result.sums is not None and result.sums.n == 40_001
    np.testing.assert_allclose(result.sums.gradient, 2 * X.T @ err / len(err), rtol=1e-12)
