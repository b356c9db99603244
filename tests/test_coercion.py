"""The light coercion of flag values (slopecli.cli.coercion): no pydantic on the common path, and
Typer's own coercion, messages included, for every value that needs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import SAMPLES, invoke

# Prints which of the heavy modules a run imported; the command runs in a fresh interpreter.
PROBE = """
import sys
from slopecli.cli import app
try:
    app(sys.argv[1:], prog_name="slopecli", standalone_mode=False)
finally:
    sys.stderr.write(" ".join(sorted(m for m in ("pydantic", "rich") if m in sys.modules)) + "|")
"""


def imported(*args: str) -> str:
    run = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    return run.stderr.rsplit("|", 1)[0].rsplit("\n", 1)[-1]


@pytest.mark.parametrize(
    "args",
    [
        ("compute", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--json", "--summary"),
        ("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "-x", "1,1,1", "-y", "1", "--format", "jsonl"),
        ("step", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--format", "csv"),
    ],
)
def test_a_machine_run_imports_neither_pydantic_nor_rich(args: tuple[str, ...]) -> None:
    assert imported(*args) == ""


def test_values_that_need_coercion_get_typers() -> None:
    # "3" for an int option, "0.5" for a float one: Typer's coercion, built on first use.
    run = invoke("step", "-w", "0,2,1", "-x", "1,2,3", "-y", "0", "--precision", "3", "--lr", "0.5", "-q")
    assert run.exit_code == 0, run.stderr
    assert "= [-7, -12, -20]" in run.stdout  # [0, 2, 1] − 0.5·[14, 28, 42]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # pydantic's words name one bound ("Input should be greater than or equal to 1"): the
        # message gives the whole range, as the help does.
        (("--precision", "0"), "Invalid value for '--precision': expected a whole number from 1 to 17 (see"),
        (("--precision", "18"), "Invalid value for '--precision': expected a whole number from 1 to 17 (see"),
        (("--precision", "x"), "Invalid value for '--precision': expected a whole number from 1 to 17 (see"),
        (("--show-rows", "-1"), "Invalid value for '--show-rows': expected a whole number, at least 0 (see"),
        (("--format", "xml"), "'xml' is not one of 'table', 'json', 'jsonl', 'csv'"),
    ],
)
def test_invalid_values_keep_typers_messages(args: tuple[str, ...], message: str) -> None:
    run = invoke("compute", "-w", "1", "-x", "1", "-y", "0", *args)
    assert run.exit_code == 2
    assert message in run.stderr


def test_a_missing_file_is_still_checked_as_typer_checks_paths(tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = invoke("batch", str(tmp_path / "no.csv"), "-w", "1", "--out", str(SAMPLES / "points.csv"))
    assert run.exit_code == 2
    assert "is a file" in run.stderr


def test_only_typers_own_parameters_are_lightened() -> None:
    from types import SimpleNamespace

    from slopecli.cli.coercion import _Light, lighten

    plain = SimpleNamespace()  # a parameter Typer did not make: left alone
    built = SimpleNamespace(type_descriptor=SimpleNamespace(), _runtime_param="Typer's, already built")
    info = SimpleNamespace(parser=len)
    parsed = SimpleNamespace(
        type_descriptor=SimpleNamespace(file_annotation=None, parameter_info=info, annotation=str),
        _runtime_param=None,
    )
    command = SimpleNamespace(get_params=lambda ctx: [plain, built, parsed])
    lighten(command, None)  # type: ignore[arg-type]
    assert not hasattr(plain, "_runtime_param")
    assert built._runtime_param == "Typer's, already built"
    # A custom parser (slopecli's number flags) reads the typed text; a default passes as it is.
    light = parsed._runtime_param
    assert isinstance(light, _Light)
    assert (light._coerce_value("abc", None, None), light._coerce_value(0.5, None, None)) == (3, 0.5)
