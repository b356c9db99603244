"""Compressed input (gzip, bzip2, zstd): recognised by magic bytes whatever the name, streamed from
files and pipes, read exactly as the text it decompresses to, with the same file:line:column."""

from __future__ import annotations

import bz2
import gzip
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slopecli.errors import DataError, NumericError, SlopeError
from slopecli.readers.delimited import CsvTable
from slopecli.readers.layout import ReadOptions

from conftest import Pipe, invoke, run_installed


def zstd(data: bytes) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return bytes(sink.getvalue())


COMPRESS = {"gzip": gzip.compress, "bzip2": bz2.compress, "zstd": zstd}


def read_all(source: io.RawIOBase | io.BytesIO, **options: object) -> tuple[list[list[float]], list[float]]:
    table = CsvTable(source, "f.csv", ReadOptions(**options))  # type: ignore[arg-type]
    chunks = list(table.chunks())
    return np.vstack([c.X for c in chunks]).tolist(), np.concatenate([c.y for c in chunks]).tolist()


def failure(source: io.RawIOBase | io.BytesIO, **options: object) -> SlopeError:
    with pytest.raises(SlopeError) as caught:
        table = CsvTable(source, "f.csv", ReadOptions(**options))  # type: ignore[arg-type]
        list(table.chunks())
    return caught.value


numbers = st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr)
tables = st.integers(1, 4).flatmap(
    lambda width: st.tuples(
        st.just(width),
        st.lists(st.lists(numbers, min_size=width + 1, max_size=width + 1), min_size=1, max_size=60),
        st.sampled_from([b"\n", b"\r\n"]),
    )
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables, codec=st.sampled_from(sorted(COMPRESS)), block=st.sampled_from([32, 1 << 10, 96 << 10]))
def test_compressed_and_plain_read_identically_from_files_and_pipes(table, codec, block):
    width, records, ending = table
    header = ",".join([*(f"x{i}" for i in range(width)), "target"])
    plain = ending.join([header.encode(), *(",".join(r).encode() for r in records)]) + ending
    packed = COMPRESS[codec](plain)
    want = read_all(io.BytesIO(plain), block_bytes=block)
    assert read_all(io.BytesIO(packed), block_bytes=block) == want
    assert read_all(Pipe(packed, step=13), block_bytes=block) == want


@pytest.mark.parametrize("codec", sorted(COMPRESS))
def test_a_bad_row_is_named_by_its_line_and_column_in_files_and_pipes(codec):
    rows = b"".join(b"%d,%d,%d\n" % (i, i, i) for i in range(20_000))
    packed = COMPRESS[codec](b"a,b,target\n" + rows + b"7,x,9\n")
    message = "f.csv:20002:2: column 'b': 'x' is not a number"
    for source in (io.BytesIO(packed), Pipe(packed, step=997)):
        error = failure(source, block_bytes=4096)
        assert (type(error), str(error)) == (DataError, message)


def test_a_value_that_is_not_finite_is_named_too():
    error = failure(io.BytesIO(gzip.compress(b"a,target\n1,2\n3,inf\n")))
    assert (type(error), str(error)) == (
        NumericError,
        "f.csv:3:2: column 'target': 'inf' is not a finite number",
    )


@pytest.mark.parametrize("codec", sorted(COMPRESS))
def test_damaged_or_truncated_data_is_refused_not_read_short(codec):
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(50_000))
    packed = COMPRESS[codec](b"a,target\n" + rows)
    for cut in (packed[: len(packed) // 2], packed[:-3]):
        for source in (io.BytesIO(cut), Pipe(cut, step=997)):
            error = failure(source)
            assert type(error) is DataError
            assert str(error).startswith(f"f.csv: the {codec} data is damaged or cut short (")


def test_concatenated_gzip_members_are_one_stream():
    packed = gzip.compress(b"a,target\n1,2\n") + gzip.compress(b"3,4\n")
    assert read_all(io.BytesIO(packed)) == ([[1.0], [3.0]], [2.0, 4.0])


def test_a_compressed_file_is_one_stream_never_split(monkeypatch):
    import slopecli.readers.delimited as delimited

    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1)
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(1000))
    plain = CsvTable(io.BytesIO(b"a,target\n" + rows), "f.csv", ReadOptions())
    packed = CsvTable(io.BytesIO(gzip.compress(b"a,target\n" + rows)), "f.csv", ReadOptions())
    assert packed.pieces(4) == []
    assert plain.pieces(4) == []  # a BytesIO has no file descriptor either: see the CLI tests below


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (
            b"\xfd7zXZ\x00\x00",
            "f.csv: an xz-compressed file, which slopecli cannot read itself (it reads gzip, bzip2 and zstd);"
            " decompress it into a pipe: xzcat FILE | slopecli compute - …",
        ),
        (
            b"PK\x03\x04\x14\x00",
            "f.csv: a zip archive, which slopecli cannot read itself (it reads gzip, bzip2 and zstd);"
            " decompress it into a pipe: unzip -p FILE | slopecli compute - …",
        ),
    ],
)
def test_formats_that_are_not_streamed_are_refused_with_the_command_to_run(head, message):
    for source in (io.BytesIO(head), Pipe(head, step=1)):
        error = failure(source)
        assert (type(error), str(error)) == (DataError, message)


def test_a_pipe_that_ends_within_the_magic_bytes_is_text():
    assert read_all(Pipe(b"a,t\n1,2\n", step=1)) == ([[1.0]], [2.0])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compressed")
    rng = np.random.default_rng(5)
    data = rng.normal(size=(3000, 3)).round(5)
    text = "a,b,target\n" + "".join(f"{a!r},{b!r},{t!r}\n" for a, b, t in data.tolist())
    (folder / "plain.csv").write_text(text)
    for codec, compress in COMPRESS.items():
        # Named as if plain: the magic bytes decide, not the suffix.
        (folder / f"{codec}.csv").write_bytes(compress(text.encode()))
    return folder


@pytest.mark.parametrize("codec", sorted(COMPRESS))
def test_compute_reads_compressed_files_and_stdin_as_the_plain_file(files, codec):
    want = invoke("compute", str(files / "plain.csv"), "-w", "1,2", "--summary", "--json")
    assert want.exit_code == 0, want.stderr
    packed = files / f"{codec}.csv"
    runs = [invoke("compute", str(packed), "-w", "1,2", "--summary", "--json")]
    if codec == "gzip":  # stdin as a real pipe (each codec's pipe is read above, through Pipe)
        runs.append(
            run_installed("compute", "-", "-w", "1,2", "--summary", "--json", input=packed.read_bytes())
        )
    for run in runs:
        assert run.exit_code == 0, run.stderr
        got, expected = json.loads(run.stdout), json.loads(want.stdout)
        assert got["n"] == expected["n"] == 3000
        np.testing.assert_allclose(got["gradient"], expected["gradient"], rtol=1e-12)


def test_the_dask_engine_reads_a_compressed_file_as_one_piece(files, monkeypatch):
    pytest.importorskip("distributed")
    import slopecli.distributed as engine

    monkeypatch.setattr(engine, "PIECE_BYTES", 1 << 10)  # the plain file would be cut in pieces
    args = ("-w", "1,2", "--combine", "--json")
    paths = [str(files / f"{codec}.csv") for codec in sorted(COMPRESS)]
    local = invoke("batch", *paths, *args, "--jobs", "1")
    dask = invoke("batch", *paths, *args, "--engine", "dask", "--scheduler", "synchronous")
    assert local.exit_code == dask.exit_code == 0, dask.stderr
    for got, want in zip(dask.json()["files"], local.json()["files"], strict=True):
        assert got["n"] == want["n"] == 3000
        np.testing.assert_allclose(got["gradient"], want["gradient"], rtol=1e-12)


def test_a_compressed_file_can_be_read_again_and_a_compressed_pipe_cannot():
    packed = gzip.compress(b"a,target\n1,2\n3,4\n")
    table = CsvTable(io.BytesIO(packed), "f.csv", ReadOptions())
    first, again = list(table.chunks()), list(table.chunks())
    assert [c.y.tolist() for c in first] == [c.y.tolist() for c in again] == [[2.0, 4.0]]
    piped = CsvTable(Pipe(packed, step=997), "<stdin>", ReadOptions())
    list(piped.chunks())
    with pytest.raises(DataError, match="a stream can be read once"):
        list(piped.chunks())


def test_a_directory_of_compressed_files_is_a_batch_and_a_tsv_stays_tab_separated(tmp_path):
    """``part.tsv.gz`` is a TSV file: batch finds it in a directory, reads it with tabs, and
    names its results ``part.slopes.csv``."""
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv.gz").write_bytes(gzip.compress(b"x,target\n1,2\n"))
    (folder / "b.tsv.gz").write_bytes(gzip.compress(b"x\ttarget\n3\t4\n"))
    (folder / "notes.txt.gz").write_bytes(gzip.compress(b"not data"))
    out = tmp_path / "out"
    run = invoke("batch", str(folder), "-w", "1", "--out", str(out), "--json")
    assert run.exit_code == 0, run.stderr
    files = run.json()["files"]
    assert [(Path(f["file"]).name, f["n"], f["gradient"]) for f in files] == [
        ("a.csv.gz", 1, [-2.0]),
        ("b.tsv.gz", 1, [-6.0]),
    ]
    assert sorted(p.name for p in out.iterdir()) == ["a.slopes.csv", "b.slopes.csv"]


@pytest.mark.parametrize("codec", [None, "gzip"])
def test_the_diagnosis_reads_at_a_position_of_its_own(tmp_path, codec):
    """Arrow's read-ahead may still move the shared file object's position after a failure: the
    diagnosis's bytes must not depend on it (once, a message named a line 1 MiB off)."""
    text = b"a,target\n" + b"".join(b"%d,%d\n" % (i, 2 * i) for i in range(20_000))
    path = tmp_path / "rows.csv"
    path.write_bytes(gzip.compress(text) if codec else text)
    with path.open("rb") as fp:
        table = CsvTable(fp, str(path), ReadOptions())
        source = table._own_source()
        head = source.read(1000)
        fp.seek(12_345)  # as a read-ahead would
        rest = b"".join(iter(lambda: source.read(1 << 16), b""))
    assert head + rest == text


@pytest.mark.parametrize("codec", sorted(COMPRESS))
def test_an_empty_stream_is_an_empty_file_in_every_format(codec):
    # bzip2's empty stream is its end-of-stream mark alone, with no block magic after "BZh9":
    # it was read as text, "not a CSV text file (a NUL byte at offset 10)".
    compressed = COMPRESS[codec](b"")
    assert str(failure(io.BytesIO(compressed))) == "f.csv: the file is empty"
    run = invoke("compute", "-", "-w", "1", input=compressed)
    assert (run.exit_code, run.stderr) == (1, "slopecli: error: <stdin>: the file is empty\n")
