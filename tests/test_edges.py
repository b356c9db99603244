"""Edge cases found by trying slopecli as a new user would; each was a bug or a trap."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import numpy as np

from conftest import SAMPLES, invoke


def test_save_weights_never_overwrites_the_data(tmp_path):
    data = tmp_path / "points.csv"
    data.write_text((SAMPLES / "points.csv").read_text())
    run = invoke("descend", str(data), "-w", "0,0,0", "--steps", "2", "--save-weights", str(data))
    assert run.exit_code == 2
    assert (
        run.stderr
        == f"slopecli: error: --save-weights: {data} is an input of this run; choose another file\n"
    )
    assert data.read_text() == (SAMPLES / "points.csv").read_text()


def test_saved_weights_carry_their_features_and_refuse_another_order(tmp_path):
    saved = tmp_path / "w.json"
    invoke(
        "descend",
        str(SAMPLES / "points.csv"),
        "-w",
        "0,0,0",
        "--lr",
        "0.001",
        "--steps",
        "3",
        "--save-weights",
        str(saved),
    )
    again = invoke(
        "compute", str(SAMPLES / "points.csv"), "--weights-file", str(saved), "--json", "--summary"
    )
    assert again.exit_code == 0
    swapped = invoke(
        "compute", str(SAMPLES / "points.csv"), "--weights-file", str(saved), "--features", "rooms,size,age"
    )
    assert swapped.exit_code == 2
    assert "saved for features (size, rooms, age), but" in swapped.stderr


def test_a_file_named_twice_counts_once(tmp_path):
    part = SAMPLES / "shards" / "part-1.csv"
    doc = invoke(
        "batch",
        str(part),
        str(part),
        str(SAMPLES / "shards" / "part-1*"),
        "-w",
        "0,2,1",
        "--combine",
        "--json",
    ).json()
    assert len(doc["files"]) == 1
    assert doc["combined"]["n"] == 2


def test_batch_csv_puts_each_gradient_under_its_own_name(tmp_path):
    (tmp_path / "a.csv").write_text("size,rooms,age,target\n1,2,3,0\n")
    (tmp_path / "b.csv").write_text("rooms,size,age,target\n2,1,3,0\n")
    lines = invoke("batch", str(tmp_path), "-w", "0,2,1", "--format", "csv").stdout.splitlines()
    assert lines[0] == "file,ok,n,mse,gradient_size,gradient_rooms,gradient_age,error"
    # b.csv holds the same point with its columns in another order: read by name, the same result.
    assert lines[2] == f"{tmp_path / 'b.csv'},true,1,49,14,28,42,"


def test_step_refuses_an_empty_per_row_csv():
    run = invoke("step", str(SAMPLES / "points.csv"), "-w", "0,2,1", "-f", "csv", "--summary")
    assert (run.exit_code, run.stdout) == (2, "")


def test_a_scheduler_address_without_a_port_is_one_line():
    run = invoke("batch", str(SAMPLES / "shards"), "-w", "0,2,1", "--engine", "dask", "--scheduler", "bogus")
    assert run.exit_code == 2
    assert run.stderr == (
        "slopecli: error: --scheduler: 'bogus': it is not a scheduler address; give tcp://HOST:PORT, or one"
        " of synchronous, threads, processes\n"
    )


def test_parquet_ignores_no_header():
    a = invoke(
        "compute", str(SAMPLES / "points.parquet"), "-w", "0,2,1", "--no-header", "--json", "--summary"
    ).json()
    b = invoke("compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--json", "--summary").json()
    assert a["gradient"] == b["gradient"]


def test_the_jsonl_schema_stands_alone():
    schema = json.loads(
        resources.files("slopecli").joinpath("schemas", "compute-jsonl.schema.json").read_text()
    )
    for line in invoke(
        "compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", "-f", "jsonl"
    ).stdout.splitlines():
        jsonschema.validate(json.loads(line), schema)  # no registry: no $ref may leave the file


def test_csv_numbers_and_booleans_are_spelled_alike_everywhere():
    check = invoke("check", str(SAMPLES / "points.csv"), "-w", "0,2,1", "-f", "csv").stdout.splitlines()
    assert check[1].endswith(",true")
    step = invoke("step", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "-f", "csv").stdout.splitlines()
    assert step[1].startswith("1,7,7,")


def test_bare_slopecli_prints_help_without_an_empty_error():
    run = invoke()
    assert "Usage: slopecli" in run.stdout
    assert "usage error" not in run.stderr


def test_divergence_is_not_declared_at_a_converged_minimum():
    doc = invoke(
        "descend", str(SAMPLES / "points.csv"), "-w", "0,0,0", "--lr", "0.007", "--steps", "20000", "--json"
    ).json()
    assert doc["stopped"] == "steps"
    A = np.loadtxt(SAMPLES / "points.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(
        doc["weights_final"], np.linalg.lstsq(A[:, :3], A[:, 3], rcond=None)[0], atol=1e-3
    )


def test_a_header_that_looks_like_data_gets_a_warning():
    run = invoke("compute", "-", "-w", "1,1,1", "--json", "--summary", input="1,2,3,4\n5,6,7,8\n")
    assert run.exit_code == 0
    assert run.json()["n"] == 1
    assert run.stderr == (
        "slopecli: warning: <stdin>:1: the header row looks like data (every field is a number);"
        " if the file has no header, add --no-header\n"
    )
    quiet = invoke(
        "compute", "-", "-w", "1,1,1", "--json", "--summary", "--no-header", input="1,2,3,4\n5,6,7,8\n"
    )
    assert (quiet.stderr, quiet.json()["n"]) == ("", 2)
