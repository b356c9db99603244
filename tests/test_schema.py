"""Every JSON and JSONL output validates against the schemas shipped in the package."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
from referencing import Registry, Resource

from conftest import SAMPLES, invoke


def schema(name: str) -> dict:
    return json.loads(resources.files("slopecli").joinpath("schemas", name).read_text())


def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resources(
        (f"https://slopecli.invalid/schemas/{n}", Resource.from_contents(schema(n)))
        for n in ("compute.schema.json", "compute-jsonl.schema.json")
    )
    return jsonschema.Draft202012Validator(schema(name), registry=registry)


CASES = [
    ("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0"),
    ("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "-x", "-4,5e-3,6", "-y", "1"),
    ("compute", str(SAMPLES / "points.csv"), "--weights-file", str(SAMPLES / "weights.json")),
    ("compute", str(SAMPLES / "points.tsv"), "-w", "0.5,-1,2"),
    ("compute", str(SAMPLES / "points.csv"), "-w", "1,1,1", "--summary"),
]


@pytest.mark.parametrize("args", CASES)
def test_json_output_is_valid(args):
    run = invoke(*args, "--json")
    assert run.exit_code == 0, run.stderr
    schema_validator("compute.schema.json").validate(run.json())


@pytest.mark.parametrize("args", CASES)
def test_jsonl_output_is_valid(args):
    run = invoke(*args, "--format", "jsonl")
    assert run.exit_code == 0, run.stderr
    check = schema_validator("compute-jsonl.schema.json")
    records = run.jsonl()
    for record in records:
        check.validate(record)
    assert records[-1]["kind"] == "summary"


def test_schema_rejects_what_the_contract_forbids():
    check = schema_validator("compute.schema.json")
    good = invoke(*CASES[0], "--json").json()
    for broken in ({**good, "mse": "49"}, {**good, "format_version": 2}, {k: v for k, v in good.items() if k != "gradient"}):
        with pytest.raises(jsonschema.ValidationError):
            check.validate(broken)
