"""slopecli step, descend and check from the command line."""

from __future__ import annotations

import csv
import io
import json
import platform
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from rich.console import Console

import slopecli.cli.check as check_command
from slopecli.descent import WeightCheck, analytic_gradient
from slopecli.render.descent_tables import draw_check
from test_schema import schema_validator

from conftest import SAMPLES, invoke, run_installed

COURSE = ("-w", "0,2,1", "-x", "1,2,3", "-y", "0")


def test_step_of_the_course_example(slopecli):
    run = slopecli("step", *COURSE, "--lr", "0.01", "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    schema_validator("step.schema.json").validate(doc)
    assert doc["rows"][0]["error_before"] == 7.0
    assert doc["rows"][0]["error_after"] == pytest.approx(5.04, rel=1e-15)
    assert doc["weights_updated"] == pytest.approx([-0.14, 1.72, 0.58], rel=1e-15)
    assert doc["gradient"] == [14.0, 28.0, 42.0]
    assert doc["mse_before"] == 49.0
    assert doc["improved"] is True


def test_step_table_shows_the_update_with_numbers(monkeypatch):
    monkeypatch.setenv("COLUMNS", "140")
    text = invoke("step", *COURSE, "--learning-rate", "0.01").stdout
    lines = [line.strip("│ ") for line in text.splitlines()]
    for expected in (
        "1 │ slope = 2·x·error",
        "= 2·[1, 2, 3]·7",
        "= [14, 28, 42]",
        "2 │ weights_updated = weights − lr·slope",
        "= [0, 2, 1] − 0.01·[14, 28, 42]",
        "= [-0.14, 1.72, 0.58]",
    ):
        assert expected in lines
    assert "│ preds = Σ w·x          │      7 │    5.04 │" in text
    assert "│ error = preds − target │      7 │    5.04 │" in text
    assert "improved ✓" in text


def test_a_step_from_a_minimum_says_so_rather_than_blaming_the_learning_rate(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    text = invoke("step", "-w", "1,1", "-x", "1,2", "-y", "3", "--lr", "0.1").stdout
    assert "gradient 0: already at a minimum, so the step changes nothing" in text
    assert "learning-rate" not in text


def test_step_jsonl_and_csv():
    lines = [
        json.loads(line)
        for line in invoke("step", *COURSE, "--lr", "0.01", "-f", "jsonl").stdout.splitlines()
    ]
    assert [line["kind"] for line in lines] == ["row", "summary"]
    assert lines[1]["mse_after"] == pytest.approx(5.04**2)
    csv_text = invoke("step", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--lr", "0.001", "-f", "csv").stdout
    rows, _ = csv_text.split("\n\n")
    assert rows.splitlines()[0] == "row,preds_before,error_before,preds_after,error_after"
    assert len(rows.splitlines()) == 6


def test_step_csv_carries_the_updated_weights():
    # weights_updated, the step's main result, is a second table after a blank line: one line per
    # feature, readable by a CSV reader.
    args = ("step", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--lr", "0.001")
    document = invoke(*args, "--json").json()
    rows, step = invoke(*args, "-f", "csv").stdout.split("\n\n")
    assert len(list(csv.reader(io.StringIO(rows)))) == 6
    table = list(csv.DictReader(io.StringIO(step)))
    assert [r["feature"] for r in table] == document["features"] == ["size", "rooms", "age"]
    assert [float(r["weights"]) for r in table] == document["weights"]
    assert [float(r["gradient"]) for r in table] == document["gradient"]
    assert [float(r["weights_updated"]) for r in table] == document["weights_updated"]


def test_descend_json_history_final_weights_and_saved_weights(tmp_path):
    saved = tmp_path / "w.json"
    run = invoke("descend", str(SAMPLES / "points.csv"), "-w", "0,0,0", "--lr", "0.001", "--steps", "40",
                 "--json", "--save-weights", str(saved))  # fmt: skip
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    schema_validator("descend.schema.json").validate(doc)
    assert [h["step"] for h in doc["history"]] == list(range(41))
    assert doc["weights"] == [0.0, 0.0, 0.0] == doc["history"][0]["weights"]
    assert doc["weights_final"] == doc["history"][-1]["weights"]
    assert json.loads(saved.read_text()) == {
        "weights": doc["weights_final"],
        "features": ["size", "rooms", "age"],
    }
    # Chained: the saved weights start the next run where this one ended.
    again = invoke(
        "compute", str(SAMPLES / "points.csv"), "--weights-file", str(saved), "--json", "--summary"
    ).json()
    # Two code paths (descend keeps the data, compute streams it): equal up to rounding.
    assert again["mse"] == pytest.approx(doc["mse"], rel=1e-12)


def test_descend_converges_on_noiseless_data_to_lstsq(tmp_path):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 3))
    true_w = np.array([1.5, -2.0, 0.25])
    y = X @ true_w
    path = tmp_path / "lin.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,target", comments="", fmt="%.17g")
    doc = invoke(
        "descend", str(path), "-w", "0,0,0", "--lr", "0.2", "--steps", "5000", "--tol", "1e-12", "--json"
    ).json()
    assert doc["stopped"] == "tol"
    np.testing.assert_allclose(doc["weights_final"], true_w, atol=1e-6)
    np.testing.assert_allclose(doc["weights_final"], np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-6)


def test_descend_divergence_is_an_error_without_nan():
    run = invoke(
        "descend", str(SAMPLES / "points.csv"), "-w", "0,0,0", "--lr", "0.5", "--steps", "200", "--json"
    )
    assert run.exit_code == 1
    assert run.stdout == ""
    assert run.stderr.startswith("slopecli: error: diverged at step ")
    assert run.stderr.endswith(
        "; try a smaller --learning-rate, e.g. 0.0038: on this data, rates of 0.00761 and above do not converge\n"
    )


def test_descend_plot_is_a_valid_svg(tmp_path):
    plot = tmp_path / "loss.svg"
    run = invoke("descend", *COURSE, "--lr", "0.01", "--steps", "30", "--plot", str(plot))
    assert run.exit_code == 0, run.stderr
    root = ET.parse(plot).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    lines = root.findall(".//{http://www.w3.org/2000/svg}polyline")
    assert lines and len(lines[0].get("points", "").split()) == 31
    assert "MSE per step" in run.stdout


def test_descend_plot_must_be_svg(tmp_path):
    run = invoke("descend", *COURSE, "--plot", str(tmp_path / "loss.png"))
    assert run.exit_code == 2
    assert (
        run.stderr
        == f"slopecli: error: --plot: {tmp_path / 'loss.png'}: the loss curve is written as SVG; name the file *.svg\n"
    )
    assert not (tmp_path / "loss.png").exists()


def test_descend_jsonl_streams_one_line_per_step():
    lines = [
        json.loads(x) for x in invoke("descend", *COURSE, "--steps", "5", "-f", "jsonl").stdout.splitlines()
    ]
    assert [line["kind"] for line in lines] == ["step"] * 6 + ["summary"]
    assert lines[-1]["steps"] == 5


@pytest.mark.parametrize("flag", ["--lr", "--learning-rate"])
def test_learning_rate_must_be_positive(flag):
    run = invoke("step", *COURSE, flag, "-0.1")
    assert run.exit_code == 2
    assert run.stderr == "slopecli: error: --learning-rate: expected a positive number, got -0.1\n"


def test_check_passes_on_random_data(slopecli, tmp_path):
    rng = np.random.default_rng(8)
    path = tmp_path / "r.csv"
    np.savetxt(
        path, rng.normal(size=(50, 4)) * 3, delimiter=",", header="a,b,c,target", comments="", fmt="%.17g"
    )
    run = slopecli("check", str(path), "-w", "0.3,-2,5", "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    schema_validator("check.schema.json").validate(doc)
    assert doc["ok"] is True
    assert [w["feature"] for w in doc["checks"]] == ["a", "b", "c"]


def test_check_fails_with_exit_3_when_the_gradient_is_wrong(monkeypatch):
    def wrong(data, weights):
        return analytic_gradient(data, weights) * (1 + 1e-3)

    monkeypatch.setattr(check_command, "analytic_gradient", lambda: wrong)
    run = invoke("check", str(SAMPLES / "points.csv"), "-w", "0,2,1")
    assert run.exit_code == 3
    assert "✗" in run.stdout
    assert run.stderr == (
        "slopecli: error: check: the analytic gradient disagrees with finite differences for size, rooms, age\n"
    )


def test_a_failed_check_lists_a_few_names_each_cut(monkeypatch, tmp_path):
    def wrong(data, weights):
        return analytic_gradient(data, weights) * (1 + 1e-3)

    monkeypatch.setattr(check_command, "analytic_gradient", lambda: wrong)
    data = tmp_path / "wide.csv"
    names = ["n" * 100_000, *(f"c{i}" for i in range(2, 11))]
    rows = np.random.default_rng(3).normal(size=(4, 11))
    data.write_text(
        ",".join([*names, "target"]) + "\n" + "\n".join(",".join(map(repr, r)) for r in rows.tolist())
    )
    run = invoke("check", str(data), "-w", ",".join(["1"] * 10), "--json")
    assert run.exit_code == 3
    assert run.stderr == (
        "slopecli: error: check: the analytic gradient disagrees with finite differences for "
        + "n" * 40
        + "…, c2, c3, c4, c5, c6, c7, c8, … and 2 more\n"
    )


def check_table(checks: list[WeightCheck], rtol: float = 1e-6) -> list[list[str]]:
    """The body rows of the ``check`` table, cell by cell."""
    console = Console(file=io.StringIO(), width=120, color_system=None)
    draw_check(console, [f"w{i}" for i in range(len(checks))], checks, rtol)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return [
        [cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines() if line.startswith("│")
    ]


# The slope along "size" of samples/points.csv at weights 0,2,1, as two OpenBLAS kernels
# (OPENBLAS_CORETYPE=Haswell and SkylakeX) compute it: the numeric slope differs in the last bits.
HASWELL = WeightCheck(215.73000000000002, 215.7299999999593, 6.055454452393343e-06, 0.00021701238278359173)
SKYLAKEX = WeightCheck(215.73000000000002, 215.73000000465288, 6.055454452393343e-06, 0.00021701238278828532)


def test_a_check_of_one_weight_says_so_in_the_singular():
    console = Console(file=io.StringIO(), width=120, color_system=None)
    draw_check(console, ["w"], [HASWELL], 1e-6)
    assert console.file.getvalue().endswith("The weight agrees (rtol 1e-06).\n")  # type: ignore[attr-defined]


def test_check_table_shows_no_rounding_noise():
    rows = check_table([HASWELL])
    assert rows == check_table([SKYLAKEX])
    assert rows == [["w0", "215.73", "215.73", "6.1e-06", "< 2e-05", "< 1e-07", "0.00022", "✓"]]


def test_check_table_shows_a_real_disagreement_with_its_digits():
    wrong = WeightCheck(215.73 * (1 + 1e-3), 215.73, 6.055454452393343e-06, 0.00021701238278359173)
    assert check_table([wrong]) == [["w0", "215.9457", "215.73", "6.1e-06", "0.22", "0.001", "0.00022", "✗"]]
    # Between a tenth of the tolerance and the tolerance: agrees, and the difference is shown.
    close = WeightCheck(215.73005, 215.73, 6.055454452393343e-06, 0.00021701238278359173)
    assert check_table([close]) == [
        ["w0", "215.7301", "215.73", "6.1e-06", "5e-05", "2.3e-07", "0.00022", "✓"]
    ]


def test_check_table_at_a_minimum_shows_zero_slopes():
    """At the least-squares weights both slopes are rounding only: 0, and no relative error."""
    at_minimum = [
        WeightCheck(3.2e-13, 5.4e-12, 6.055454452393343e-06, 9.2e-11),
        WeightCheck(-1.1e-13, -2.3e-12, 6.055454452393343e-06, 9.2e-11),
    ]
    assert check_table(at_minimum, rtol=1e-6) == [
        ["w0", "0", "0", "6.1e-06", "< 9e-11", "—", "9.2e-11", "✓"],
        ["w1", "0", "0", "6.1e-06", "< 9e-11", "—", "9.2e-11", "✓"],
    ]


def test_check_json_is_exact_and_agrees_within_the_tolerance():
    doc = invoke("check", str(SAMPLES / "points.csv"), "-w", "0,2,1", "--json").json()
    for c in doc["checks"]:
        # Exact values, not rounded for display; residues compared against the tolerance only.
        assert c["abs_error"] == abs(c["analytic"] - c["numeric"])
        assert c["abs_error"] <= c["tolerance"]
        assert c["analytic"] == pytest.approx(c["numeric"], abs=c["tolerance"])
    assert [c["analytic"] for c in doc["checks"]] == pytest.approx([215.73, 244.59, 276.981], rel=1e-12)


def uses_openblas() -> bool:
    try:
        config = np.show_config(mode="dicts")
    except TypeError:  # numpy < 2
        return False
    return "openblas" in str(config.get("Build Dependencies", {}).get("blas", {}).get("name", "")).lower()


@pytest.mark.skipif(
    platform.machine().lower() not in {"x86_64", "amd64"} or not uses_openblas(),
    reason="OPENBLAS_CORETYPE=Prescott needs numpy's OpenBLAS on x86-64",
)
def test_check_table_is_the_same_with_another_blas_kernel(monkeypatch):
    """Prescott's kernels (plain SSE3, run by any x86-64) add in another order than the AVX2 or
    AVX-512 ones OpenBLAS picks by default: the JSON differs in the last bits, the table not."""
    args = ("check", str(SAMPLES / "points.csv"), "-w", "0,2,1")
    default_table, default_json = run_installed(*args), run_installed(*args, "--json")
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Prescott")
    other_table, other_json = run_installed(*args), run_installed(*args, "--json")
    assert default_table.exit_code == other_table.exit_code == 0, other_table.stderr
    assert other_table.stdout == default_table.stdout
    for a, b in zip(default_json.json()["checks"], other_json.json()["checks"], strict=True):
        assert a["numeric"] == pytest.approx(b["numeric"], abs=a["tolerance"] / 100)


def test_the_descend_progress_counts_the_steps_given(monkeypatch):
    """--steps 60 shows 60/60 at the end, not 61/61 (step 0 is the starting point)."""
    from io import StringIO

    from rich.console import Console

    import slopecli.render.progress as progress

    consoles: list[StringIO] = []
    real = progress.StepProgress

    def recording(total, console=None, minimum=50):
        out = StringIO()
        consoles.append(out)
        return real(total, Console(file=out, width=80, force_terminal=True, color_system=None), minimum)

    monkeypatch.setattr(progress, "StepProgress", recording)
    run = invoke(
        "descend", str(SAMPLES / "points.csv"), "-w", "0,0,0", "--lr", "0.001", "--steps", "60", "--json"
    )
    assert run.exit_code == 0, run.stderr
    shown = consoles[0].getvalue()
    assert "60/60 steps" in shown and "61/" not in shown


@pytest.mark.parametrize("flag", ["--plot", "--save-weights"])
def test_an_output_that_cannot_be_written_fails_before_any_step(flag, tmp_path):
    missing = tmp_path / "nowhere" / "x.svg"
    run = invoke(
        "descend",
        str(SAMPLES / "points.csv"),
        "-w",
        "0,0,0",
        "--steps",
        "30",
        flag,
        str(missing),
        "--format",
        "jsonl",
    )
    assert (run.exit_code, run.stdout) == (2, "")
    assert (
        run.stderr
        == f"slopecli: error: {flag}: {missing}: cannot write it: there is no directory {missing.parent}\n"
    )
    folder = tmp_path / "d.svg"
    folder.mkdir()
    run = invoke("descend", str(SAMPLES / "points.csv"), "-w", "0,0,0", "--steps", "3", flag, str(folder))
    assert (run.exit_code, run.stdout) == (2, "")
    assert (
        run.stderr
        == f"slopecli: error: {flag}: {folder}: cannot write it: it is a directory; name a file in it\n"
    )


@pytest.mark.parametrize("steps", ["1000001", "99999999999999999999"])
def test_descend_refuses_more_steps_than_it_can_keep(steps):
    # Every step is kept for the report: a typo of 10**20 would fill the memory, never finish.
    run = invoke("descend", "-w", "1,2", "-x", "1,2", "-y", "3", "--steps", steps, "--json")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and "'--steps'" in run.stderr and "1000000" in run.stderr
