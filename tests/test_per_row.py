"""Per-row results of a large file read in pieces on threads (slopecli.per_row): the rows, row
numbers, sums and bytes of one sequential pass, in input order; the exact message of one pass
when a piece fails, with no row handed on twice; the readers stop when the run does."""

from __future__ import annotations

import io
import json
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import slopecli.per_row as per_row
import slopecli.readers.delimited as delimited
from slopecli.errors import DataError, NumericError
from slopecli.evaluation import RowBatch, evaluate
from slopecli.per_row import evaluate_rows
from slopecli.readers.delimited import CsvTable
from slopecli.readers.layout import ReadOptions
from slopecli.render.machine import CsvWriter

from conftest import invoke

W = np.array([0.25, -1.0, 3.0])


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch):
    """Kilobytes of data are split, in pieces of a few hundred bytes."""
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 10)
    monkeypatch.setattr(per_row, "PIECE_BYTES", 700)


def dyadic_rows(n: int, seed: int = 0) -> list[str]:
    """Eighths below 1000: every product and sum of them is exact, so the results cannot depend
    on how the rows were grouped (BLAS rounds a row's Σ w·x by its place in a chunk)."""
    rng = np.random.default_rng(seed)
    data = rng.integers(-8000, 8000, size=(n, 4)) / 8
    return [",".join(map(repr, r)) + "\n" for r in data.tolist()]


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("a,b,c,target\n" + "".join(rows))
    return path


def handed_on(table: CsvTable, threads: int) -> tuple[list[RowBatch], object]:
    batches: list[RowBatch] = []
    counted: list[int] = []
    sums = evaluate_rows(table, W, batches.append, threads, on_chunk=counted.append)
    assert counted == [len(b.y) for b in batches]  # progress hears of each chunk once handed on
    return batches, sums


def joined(batches: list[RowBatch]) -> tuple[list[int], np.ndarray]:
    """Each batch's first row, and all rows' values side by side."""
    starts = [b.first_row for b in batches]
    values = [np.column_stack([b.X, b.y, b.preds, b.error, b.slopes]) for b in batches]
    return starts, np.concatenate(values) if values else np.zeros((0, 9))


def contiguous(batches: list[RowBatch]) -> bool:
    ends = [b.first_row + len(b.y) for b in batches]
    return [b.first_row for b in batches] == [0, *ends[:-1]]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, 2500),
    piece=st.sampled_from([100, 700, 5000, 1 << 20]),
    block=st.sampled_from([1024, 4096]),
    threads=st.integers(1, 4),
)
def test_pieces_hand_on_the_rows_and_sums_of_one_pass(monkeypatch, n, piece, block, threads):
    monkeypatch.setattr(per_row, "PIECE_BYTES", piece)
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "d.csv", dyadic_rows(n, seed=n))
        with open(path, "rb") as fp:
            table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=block))
            batches, sums = handed_on(table, threads)
            reference: list[RowBatch] = []
            one = evaluate(table.chunks(), W, reference.append)
    assert contiguous(batches)
    assert np.array_equal(joined(batches)[1], joined(reference)[1])
    assert (sums.n, sums.xte.tolist(), sums.sse) == (one.n, one.xte.tolist(), one.sse)


def test_a_large_file_is_read_in_pieces_of_about_piece_bytes(tmp_path):
    path = write(tmp_path / "d.csv", dyadic_rows(3000))
    with open(path, "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions())
        pieces = per_row._pieces(table)
    # The file decides how many, not the threads: as many as keep each under 700 bytes and a line.
    data = path.stat().st_size - len("a,b,c,target\n")
    assert len(pieces) == -(-data // 700)
    assert all(0 < b - a < 700 + 40 for a, b in pieces)


def outputs(monkeypatch, path: Path, *flags: str) -> tuple[object, object]:
    """The command's run read in pieces, and read in one pass."""
    args = ("compute", str(path), "-w", "0.25,-1,3", *flags)
    split = invoke(*args)
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 40)
    return split, invoke(*args)


@pytest.mark.parametrize("flags", [("--format", "csv"), ("--json",), ("--format", "jsonl"), ("--all-rows",)])
def test_every_output_is_byte_for_byte_that_of_one_pass(tmp_path, monkeypatch, flags):
    split, one = outputs(monkeypatch, write(tmp_path / "d.csv", dyadic_rows(3000)), *flags)
    assert split == one
    assert split.exit_code == 0
    if flags == ("--format", "jsonl"):
        rows = [json.loads(line)["row"] for line in split.stdout.splitlines()[:-1]]
        assert rows == list(range(1, 3001))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_bytes_do_not_depend_on_the_number_of_cores(tmp_path, monkeypatch, fmt):
    """Rounded values this time (BLAS may round a row by its place in a chunk): the pieces, and
    so the chunks, are the same however many threads read them."""
    import slopecli.evaluation as evaluation

    rng = np.random.default_rng(7)
    rows = [",".join(map(repr, r)) + "\n" for r in rng.normal(scale=30, size=(3000, 4)).round(5).tolist()]
    path = write(tmp_path / "d.csv", rows)
    runs = []
    for cores in (1, 2, 3):
        monkeypatch.setattr(evaluation, "CORES", cores)
        runs.append(invoke("compute", str(path), "-w", "0.1,-0.7,3.3", "--format", fmt))
    assert runs[0].exit_code == 0
    assert runs[0] == runs[1] == runs[2]


def test_a_bias_is_added_to_every_piece(tmp_path, monkeypatch):
    path = write(tmp_path / "d.csv", dyadic_rows(3000))
    args = ("compute", str(path), "-w", "0.25,-1,3,0.5", "--bias", "--format", "jsonl")
    split = invoke(*args)
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 40)
    assert split == invoke(*args)
    assert json.loads(split.stdout.splitlines()[2999])["input"][-1] == 1.0


def test_a_bad_value_in_a_later_piece_gets_the_exact_message_and_no_row_twice(tmp_path):
    rows = dyadic_rows(3000)
    with open(write(tmp_path / "good.csv", rows), "rb") as fp:
        reference: list[RowBatch] = []
        evaluate(CsvTable(fp, "good.csv", ReadOptions()).chunks(), W, reference.append)
    rows[2500] = "1,2,oops,4\n"
    batches: list[RowBatch] = []
    with open(write(tmp_path / "d.csv", rows), "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        with pytest.raises(DataError, match=r"^d\.csv:2502:3: column 'c': 'oops' is not a number$"):
            evaluate_rows(table, W, batches.append, 2)
    assert batches and contiguous(batches)
    values = joined(batches)[1]
    assert len(values) <= 2500
    assert np.array_equal(values, joined(reference)[1][: len(values)])


def test_jsonl_lines_before_an_error_are_the_first_lines_of_one_pass(tmp_path, monkeypatch):
    rows = dyadic_rows(3000)
    good, _ = outputs(monkeypatch, write(tmp_path / "good.csv", rows), "--format", "jsonl")
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 10)
    rows[2500] = "1,2,oops,4\n"
    split, one = outputs(monkeypatch, write(tmp_path / "good.csv", rows), "--format", "jsonl")
    assert split.exit_code == one.exit_code == 1
    assert split.stderr == one.stderr
    assert "good.csv:2502:3: column 'c': 'oops' is not a number" in split.stderr
    assert good.stdout.startswith(split.stdout)
    assert split.stdout.count("\n") <= 2500


def csv_of(path: Path, *, block: int, threads: int, encoded: bool) -> tuple[bytes, BaseException | None]:
    """Per-row CSV written through CsvWriter (as compute does), and the error that ended it."""
    out = io.BytesIO()
    writer = CsvWriter(out, threads=2)
    failure = None
    with open(path, "rb") as fp:
        table = CsvTable(fp, path.name, ReadOptions(block_bytes=block))
        writer.begin(table.features, W)
        try:
            writer.end(evaluate_rows(table, W, writer.rows, threads, encoder=writer if encoded else None))
        except DataError as exc:
            failure = exc
    return out.getvalue(), failure


@pytest.mark.parametrize("encoded", [True, False], ids=["encoded-where-read", "encoded-in-order"])
def test_csv_lines_are_those_of_one_pass_and_stop_before_a_bad_row(tmp_path, encoded):
    rows = dyadic_rows(3000)
    good, failure = csv_of(write(tmp_path / "good.csv", rows), block=4096, threads=1, encoded=False)
    assert failure is None and good.count(b"\n") == 3001
    split, failure = csv_of(write(tmp_path / "good.csv", rows), block=4096, threads=2, encoded=encoded)
    assert (split, failure) == (good, None)
    rows[2500] = "1,2,oops,4\n"
    bad, failure = csv_of(write(tmp_path / "good.csv", rows), block=4096, threads=2, encoded=encoded)
    assert str(failure) == "good.csv:2502:3: column 'c': 'oops' is not a number"
    assert good.startswith(bad) and bad.endswith(b"\n")
    assert bad.count(b"\n") <= 2501


def test_an_overflow_in_a_later_piece_names_its_data_row(tmp_path):
    rows = dyadic_rows(3000)
    rows[2700] = "1,1,1e300,0\n"  # preds 3e300; its slope 2·1e300·3e300 overflows
    with open(write(tmp_path / "d.csv", rows), "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        with pytest.raises(NumericError, match=r"^d\.csv: data row 2701: the slope overflows float64"):
            evaluate_rows(table, W, lambda rows: None, 2)


def test_a_line_longer_than_a_pieces_blocks_is_read_by_one_pass(tmp_path, monkeypatch):
    rows = dyadic_rows(3000)
    rows[2600] = "1." + "0" * 9000 + "1,2,3,4\n"  # one long number: the piece's 4 KiB blocks fail
    batches: list[RowBatch] = []
    with open(write(tmp_path / "d.csv", rows), "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        sums = evaluate_rows(table, W, batches.append, 2)
        reference: list[RowBatch] = []
        one = evaluate(table.chunks(), W, reference.append)
    assert contiguous(batches)
    assert np.array_equal(joined(batches)[1], joined(reference)[1])
    assert sums.n == one.n == 3000


def test_a_read_error_that_is_not_the_datas_fault_is_raised(tmp_path, monkeypatch):
    with open(write(tmp_path / "d.csv", dyadic_rows(3000)), "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        read = table.read_piece
        pieces = per_row._pieces(table)

        def failing(piece):
            if piece == pieces[5]:
                raise OSError(5, "Input/output error")
            return read(piece)

        monkeypatch.setattr(table, "read_piece", failing)
        with pytest.raises(OSError, match="Input/output error"):
            evaluate_rows(table, W, lambda rows: None, 2)
    assert not [t for t in threading.enumerate() if t.name.startswith("piece")]


def test_pieces_are_read_at_most_two_per_thread_ahead(tmp_path, monkeypatch):
    """Memory stays bounded: while the writer is stuck on the first chunk, no more pieces start."""
    with open(write(tmp_path / "d.csv", dyadic_rows(3000)), "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        read = table.read_piece
        started: list[object] = []
        monkeypatch.setattr(table, "read_piece", lambda piece: started.append(piece) or read(piece))
        seen = []

        def slow(rows: RowBatch) -> None:
            if not seen:
                threading.Event().wait(0.3)  # the readers have time to run far ahead, if allowed
                seen.append(len(started))

        evaluate_rows(table, W, slow, 2)
        assert len(started) == len(per_row._pieces(table)) > 20
    assert seen == [4]


def test_a_failing_writer_stops_the_readers(tmp_path):
    def broken(rows: RowBatch) -> None:
        raise BrokenPipeError

    with open(write(tmp_path / "d.csv", dyadic_rows(3000)), "rb") as fp:
        table = CsvTable(fp, "d.csv", ReadOptions(block_bytes=4096))
        with pytest.raises(BrokenPipeError):
            evaluate_rows(table, W, broken, 2)
    assert not [t for t in threading.enumerate() if t.name.startswith("piece")]
