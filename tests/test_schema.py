"""Every JSON and JSONL output validates against the schemas shipped in the package."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource

from conftest import SAMPLES, invoke

BASE = "https://slopecli.invalid/schemas/"


def schema_files() -> list[str]:
    """The names of every schema shipped in the package."""
    folder = resources.files("slopecli").joinpath("schemas")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".schema.json"))


def schema(name: str) -> dict:
    return json.loads(resources.files("slopecli").joinpath("schemas", name).read_text())


def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator that resolves a $ref to any schema in the package."""
    registry = Registry().with_resources(
        (f"{BASE}{n}", Resource.from_contents(schema(n))) for n in schema_files()
    )
    return jsonschema.Draft202012Validator(schema(name), registry=registry)


def standalone_validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator that knows no other schema: a self-contained schema must work alone."""
    return jsonschema.Draft202012Validator(schema(name))


CASES = [
    ("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0"),
    ("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "-x", "-4,5e-3,6", "-y", "1"),
    ("compute", str(SAMPLES / "points.csv"), "--weights-file", str(SAMPLES / "weights.json")),
    ("compute", str(SAMPLES / "points.tsv"), "-w", "0.5,-1,2"),
    ("compute", str(SAMPLES / "points.csv"), "-w", "1,1,1", "--summary"),
]

POINTS = str(SAMPLES / "points.csv")
SHARDS = str(SAMPLES / "shards")
BAD = str(SAMPLES / "bad.csv")
OUT = "<out>"  # replaced by a fresh temporary directory

# (command arguments, exit code) for every command; each runs in both json and jsonl.
COMMAND_CASES: list[tuple[tuple[str, ...], int]] = [
    *((case, 0) for case in CASES),
    (("compute", POINTS, "-w", "0,2,1,0.5", "--bias"), 0),
    (("step", POINTS, "-w", "0,2,1"), 0),
    (("step", POINTS, "-w", "0,2,1,1", "--bias", "--lr", "0.001"), 0),
    (("step", POINTS, "-w", "0,2,1", "--summary"), 0),
    (("step", "-w", "0,2,1", "-x", "1,2,3", "-y", "0"), 0),
    (("descend", POINTS, "-w", "0,0,0", "--lr", "0.001", "--steps", "3"), 0),
    (("descend", POINTS, "-w", "0,0,0,0", "--bias", "--lr", "0.001", "--steps", "50", "--tol", "20"), 0),
    (("descend", "-w", "0,0,0", "-x", "1,2,3", "-y", "0", "--steps", "0"), 0),
    (("check", POINTS, "-w", "0,2,1"), 0),
    (("check", POINTS, "-w", "0,2,1,3", "--bias"), 0),
    (("check", POINTS, "-w", "0,2,1", "--rtol", "1e-12", "--atol", "1e-12"), 3),
    (("batch", SHARDS, "-w", "0,2,1"), 0),
    (("batch", SHARDS, "-w", "0,2,1", "--combine"), 0),
    (("batch", SHARDS, BAD, "-w", "0,2,1", "--combine", "--jobs", "2"), 1),
    (("batch", BAD, "-w", "0,2,1", "--combine"), 1),
    (("batch", SHARDS, "-w", "0,2,1,0.5", "--bias", "--combine"), 0),
    (("batch", SHARDS, BAD, "-w", "0,2,1", "--out", OUT, "--jobs", "1"), 1),
]

# command → (schema of the json document, schema of one jsonl line, kind of the jsonl records)
SCHEMAS = {
    "compute": ("compute.schema.json", "compute-jsonl.schema.json", "row"),
    "step": ("step.schema.json", "step-jsonl.schema.json", "row"),
    "descend": ("descend.schema.json", "descend-jsonl.schema.json", "step"),
    "check": ("check.schema.json", "check-jsonl.schema.json", "check"),
    "batch": ("batch.schema.json", "batch-jsonl.schema.json", "file"),
}


def run(args: tuple[str, ...], fmt: str, out: Path) -> Any:
    return invoke(*(str(out) if a == OUT else a for a in args), "--format", fmt)


def case_id(case: tuple[tuple[str, ...], int]) -> str:
    return " ".join(Path(a).name if "/" in a else a for a in case[0])


@pytest.mark.parametrize("case", COMMAND_CASES, ids=case_id)
def test_json_output_is_valid(case, tmp_path):
    args, code = case
    done = run(args, "json", tmp_path)
    assert done.exit_code == code, done.stderr
    schema_validator(SCHEMAS[args[0]][0]).validate(done.json())


@pytest.mark.parametrize("case", COMMAND_CASES, ids=case_id)
def test_jsonl_output_is_valid(case, tmp_path):
    args, code = case
    done = run(args, "jsonl", tmp_path)
    assert done.exit_code == code, done.stderr
    _, name, kind = SCHEMAS[args[0]]
    check = standalone_validator(name)
    records = done.jsonl()
    for record in records:
        check.validate(record)
    assert [r["kind"] for r in records] == [kind] * (len(records) - 1) + ["summary"]


def test_batch_outputs_cover_failures_out_and_combined(tmp_path):
    """The cases above do reach every branch of the batch schemas."""
    args = ("batch", SHARDS, BAD, "-w", "0,2,1", "--out", OUT, "--combine", "--jobs", "1")
    doc = run(args, "json", tmp_path).json()
    lines = run((*args, "--force"), "jsonl", tmp_path).jsonl()
    for files, summary in ((doc["files"], doc), (lines[:-1], lines[-1])):
        assert [f["ok"] for f in files] == [True, True, True, False]
        assert all("out" in f for f in files[:3]) and "error" in files[3]
        assert summary["combined"]["n"] == 5 and (summary["succeeded"], summary["failed"]) == (3, 1)
    assert run(("batch", BAD, "-w", "0,2,1", "--combine"), "json", tmp_path).json()["combined"] is None
    schema_validator("batch.schema.json").validate(doc)


def test_every_schema_is_valid_and_tested():
    names = schema_files()
    assert len(names) == 2 * len(SCHEMAS)
    for name in names:
        contents = schema(name)
        jsonschema.Draft202012Validator.check_schema(contents)
        assert contents["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert contents["$id"] == f"{BASE}{name}"
        assert contents["title"].startswith("slopecli ")
    commands = {args[0] for args, _ in COMMAND_CASES}
    used = {name for command in commands for name in SCHEMAS[command][:2]}
    assert used == set(names)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


@pytest.mark.parametrize("name", [n for n in schema_files() if n.endswith("-jsonl.schema.json")])
def test_jsonl_schemas_are_self_contained(name):
    assert all(ref.startswith("#") for ref in refs(schema(name)))


def test_schema_rejects_what_the_contract_forbids():
    check = schema_validator("compute.schema.json")
    good = invoke(*CASES[0], "--json").json()
    for broken in (
        {**good, "mse": "49"},
        {**good, "format_version": 2},
        {k: v for k, v in good.items() if k != "gradient"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            check.validate(broken)


# The fields each record must have: the contract the new schemas pin.
REQUIRED = {
    "batch": {"format_version", "weights", "files", "succeeded", "failed"},
    "batch file": {"file", "ok", "n", "features", "gradient", "mse"},
    "batch failure": {"file", "ok", "error"},
    "batch combined": {"n", "features", "gradient", "mse"},
    "batch summary": {"format_version", "weights", "succeeded", "failed"},
    "step row": {"row", "input", "target", "preds_before", "error_before", "preds_after", "error_after"},
    "step summary": {
        *("format_version", "weights", "learning_rate", "n", "gradient"),
        *("weights_updated", "mse_before", "mse_after", "improved"),
    },
    "descend step": {"step", "mse", "gradient_norm", "weights"},
    "descend summary": {
        *("format_version", "weights", "learning_rate", "max_steps", "steps"),
        *("stopped", "weights_final", "mse", "gradient_norm"),
    },
    "check check": {"feature", "analytic", "numeric", "h", "abs_error", "rel_error", "tolerance", "ok"},
    "check summary": {"format_version", "rtol", "ok"},
}


def parts(command: str, document: dict, jsonl: bool) -> Iterator[tuple[str, tuple[Any, ...], set[str]]]:
    """(label, path, required fields) of the document or line itself and of each record inside it."""
    kind = {"kind"} if jsonl else set()
    batch_file_line = jsonl and document["kind"] == "file"
    if not jsonl:
        yield command, (), REQUIRED[command]
    elif not batch_file_line:
        label = f"{command} {document['kind']}"
        yield label, (), REQUIRED[label] | kind
    if command == "batch":
        paths = [()] if batch_file_line else [("files", i) for i in range(len(document.get("files", [])))]
        for path in paths:
            label = "batch file" if get(document, path)["ok"] else "batch failure"
            yield label, path, REQUIRED[label] | (kind if path == () else set())
        if isinstance(document.get("combined"), dict):
            yield "batch combined", ("combined",), REQUIRED["batch combined"]


def get(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


def changed(document: dict, path: tuple[Any, ...], field: str, value: Any = None, drop: bool = False) -> dict:
    broken = copy.deepcopy(document)
    record = get(broken, path)
    if drop:
        del record[field]
    else:
        record[field] = value
    return broken


NEW_SCHEMA_CASES = [
    (("batch", SHARDS, BAD, "-w", "0,2,1", "--combine", "--out", OUT, "--jobs", "1"), "json"),
    (("batch", SHARDS, BAD, "-w", "0,2,1", "--combine", "--out", OUT, "--jobs", "1"), "jsonl"),
    (("step", POINTS, "-w", "0,2,1"), "jsonl"),
    (("descend", POINTS, "-w", "0,0,0", "--lr", "0.001", "--steps", "2", "--tol", "1"), "jsonl"),
    (("check", POINTS, "-w", "0,2,1"), "jsonl"),
]


@pytest.mark.parametrize(("args", "fmt"), NEW_SCHEMA_CASES, ids=lambda v: v if isinstance(v, str) else v[0])
def test_new_schemas_reject_broken_documents(args, fmt, tmp_path):
    done = run(args, fmt, tmp_path)
    name = SCHEMAS[args[0]][0 if fmt == "json" else 1]
    check = schema_validator(name) if fmt == "json" else standalone_validator(name)
    documents = [done.json()] if fmt == "json" else done.jsonl()
    seen: set[str] = set()
    for document in documents:
        check.validate(document)
        for label, path, required in parts(args[0], document, fmt == "jsonl"):
            seen.add(label)
            record = get(document, path)
            assert required <= record.keys(), (label, required - record.keys())
            for field in required:
                assert not check.is_valid(changed(document, path, field, drop=True)), (
                    label,
                    "missing",
                    field,
                )
            for field, value in record.items():
                wrong = 12345 if isinstance(value, str) else "wrong"
                assert not check.is_valid(changed(document, path, field, wrong)), (label, "wrong type", field)
            for field in ("weights", "gradient", "weights_updated", "weights_final", "input", "features"):
                if field in record:
                    assert not check.is_valid(changed(document, path, field, [])), (label, "empty", field)
            if "format_version" in record:
                assert not check.is_valid(changed(document, path, "format_version", 2)), label
    assert seen  # every case checked at least one record


def test_every_new_record_shape_is_checked_for_rejection(tmp_path):
    seen = set()
    for args, fmt in NEW_SCHEMA_CASES:
        done = run(args, fmt, tmp_path / fmt / args[0])
        for document in [done.json()] if fmt == "json" else done.jsonl():
            seen |= {label for label, _, _ in parts(args[0], document, fmt == "jsonl")}
    assert seen == set(REQUIRED)


FLOATS = st.floats(
    min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False
)


@st.composite
def datasets(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 8))
    d = draw(st.integers(1, 4))
    X = np.array(draw(st.lists(st.lists(FLOATS, min_size=d, max_size=d), min_size=n, max_size=n)))
    y = np.array(draw(st.lists(FLOATS, min_size=n, max_size=n)))
    w = np.array(draw(st.lists(FLOATS, min_size=d, max_size=d)))
    return X, y, w


@settings(max_examples=25, deadline=None)
@given(datasets())
def test_compute_outputs_validate_and_match_numpy(data):
    X, y, w = data
    n, d = X.shape
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        lines = [",".join([*(f"f{j}" for j in range(1, d + 1)), "target"])]
        lines += [",".join(repr(float(v)) for v in (*X[i], y[i])) for i in range(n)]
        path.write_text("\n".join(lines) + "\n")
        weights = "--weights=" + ",".join(repr(float(v)) for v in w)
        document = invoke("compute", str(path), weights, "--json")
        stream = invoke("compute", str(path), weights, "--format", "jsonl")
    assert document.exit_code == 0, document.stderr
    assert stream.exit_code == 0, stream.stderr
    schema_validator("compute.schema.json").validate(document.json())
    check = standalone_validator("compute-jsonl.schema.json")
    records = stream.jsonl()
    for record in records:
        check.validate(record)

    error = X @ w - y
    gradient = 2 / n * X.T @ error
    mse = float(np.mean(error**2))
    # Relative to the size of the terms summed: a sum that cancels to ~0 has no relative digits.
    gradient_scale = 2 / n * np.abs(X).T @ (np.abs(X) @ np.abs(w) + np.abs(y))
    mse_scale = float(np.mean((np.abs(X) @ np.abs(w) + np.abs(y)) ** 2))
    for result in (document.json(), records[-1]):
        assert result["n"] == n
        assert len(result["gradient"]) == d
        for got, want, scale in zip(result["gradient"], gradient, gradient_scale, strict=True):
            assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9 * scale)
        assert math.isclose(result["mse"], mse, rel_tol=1e-9, abs_tol=1e-9 * mse_scale)
    assert [r["kind"] for r in records] == ["row"] * n + ["summary"]
