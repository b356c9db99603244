"""``--network`` on compute, step, descend and check, from the command line: the course's example,
the zero-hidden-layer network against the linear model on every sample, schemas, usage errors."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from slopecli.render.numbers import num

from conftest import SAMPLES, invoke, run_installed

COURSE = {"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]}
WORKED = {
    "layers": [
        {"weights": [[2, 4], [4, -5]], "bias": [0, 0], "activation": "relu"},
        {"weights": [[2, 7]], "activation": "identity"},
    ]
}
SAMPLE_FILES = [
    SAMPLES / "course.csv",
    SAMPLES / "points.csv",
    SAMPLES / "points.tsv",
    SAMPLES / "points.parquet",
    *sorted((SAMPLES / "shards").glob("*.csv")),
]


def validator(name: str) -> jsonschema.Draft202012Validator:
    text = resources.files("slopecli").joinpath("schemas", "network", name).read_text()
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def written(tmp_path: Path, document: dict, name: str = "net.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_the_course_forward_example_outputs_9(slopecli, tmp_path):
    run = slopecli("compute", "--network", written(tmp_path, COURSE), "-x", "2,3", "-y", "9", "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    validator("compute.schema.json").validate(doc)
    assert doc["rows"][0]["layers"] == [{"z": [5.0, 1.0], "a": [5.0, 1.0]}, {"z": [9.0], "a": [9.0]}]
    assert doc["rows"][0]["preds"] == [9.0] and doc["loss"] == 0.0


def test_the_table_substitutes_the_numbers_forward_and_backward(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    run = invoke("compute", "--network", written(tmp_path, WORKED), "-x", "3,5", "-y", "1")
    assert run.exit_code == 0, run.stderr
    text = run.stdout
    for shown in (
        "z = 2·3 + 4·5 + 0 = 26",
        "a = relu(26) = 26",
        "a = relu(-13) = 0",
        "error = 52 − 1 = 51",
        "loss = 51² = 2601",
        "δ = 2·error·identity'(52) = 2·51·1 = 102",
        "δ = relu'(26)·Σ w·δ_next = 1·(2·102) = 204",
        "∂L/∂w = a_prev·δ = 3·204 = 612",
        "∂L/∂b = δ = 204",
        "∂L/∂w = a_prev·δ = 26·102 = 2652",
    ):
        assert shown in text, shown


@pytest.mark.parametrize("width", [40, 60])
def test_narrow_tables_never_cut_a_number(tmp_path, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    args = (
        "compute",
        "--network",
        written(tmp_path, WORKED),
        "-x",
        "3.25,5",
        "-y",
        "1",
        "-x",
        "1,1",
        "-y",
        "2",
    )
    run = invoke(*args)
    assert run.exit_code == 0, run.stderr
    assert max(len(line) for line in run.stdout.splitlines()) <= width
    flat = "".join(run.stdout.split())
    assert "=26.5" in flat  # z of node_0, whole
    # Every gradient, at the table's 6 significant digits, is printed whole: a line never splits a number.
    gradients = invoke(*args, "--json").json()["gradients"]
    values = [v for layer in gradients for row in layer["weights"] for v in row] + gradients[0]["bias"]
    for value in values:
        assert f"│{num(value)}│" in flat, value


def network_of(weights: list[float]) -> dict:
    return {"layers": [{"weights": [weights], "activation": "identity"}]}


def weights_for(path: Path) -> list[float]:
    return [0.5, -1.0, 2.0]  # every sample has three features


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_a_network_without_hidden_layers_is_the_linear_model_exactly(path, tmp_path):
    w = weights_for(path)
    net = written(tmp_path, network_of(w))
    flags = ("-w", ",".join(map(str, w)))
    linear = invoke("compute", str(path), *flags, "--json").json()
    network = invoke("compute", str(path), "--network", net, "--json").json()
    assert [r["preds"] for r in linear["rows"]] == [r["preds"][0] for r in network["rows"]]
    assert [r["error"] for r in linear["rows"]] == [r["error"][0] for r in network["rows"]]
    assert linear["gradient"] == network["gradients"][0]["weights"][0]
    assert linear["mse"] == network["loss"] and linear["features"] == network["features"]

    linear = invoke("step", str(path), *flags, "--lr", "0.01", "--json").json()
    network = invoke("step", str(path), "--network", net, "--lr", "0.01", "--json").json()
    assert linear["weights_updated"] == network["network_updated"]["layers"][0]["weights"][0]
    assert (linear["mse_before"], linear["mse_after"]) == (network["loss_before"], network["loss_after"])
    assert [r["preds_after"] for r in linear["rows"]] == [r["preds_after"][0] for r in network["rows"]]

    common = ("--lr", "0.001", "--steps", "20", "--json")
    linear = invoke("descend", str(path), *flags, *common).json()
    network = invoke("descend", str(path), "--network", net, *common).json()
    assert [h["mse"] for h in linear["history"]] == [h["loss"] for h in network["history"]]
    assert [h["gradient_norm"] for h in linear["history"]] == [h["gradient_norm"] for h in network["history"]]
    assert linear["weights_final"] == network["network_final"]["layers"][0]["weights"][0]

    linear = invoke("check", str(path), *flags, "--json").json()
    network = invoke("check", str(path), "--network", net, "--json").json()
    for a, b in zip(linear["checks"], network["checks"], strict=True):
        a.pop("feature"), b.pop("parameter")
        assert a == b
    assert network["ok"] and linear["ok"]


def test_a_one_node_identity_network_with_a_bias_is_the_linear_model_with_bias(tmp_path):
    path = str(SAMPLES / "points.csv")
    net = written(tmp_path, {"layers": [{"weights": [[0.5, -1, 2]], "bias": [0.25]}]})
    linear = invoke("compute", path, "-w", "0.5,-1,2,0.25", "--bias", "--json").json()
    network = invoke("compute", path, "--network", net, "--json").json()
    assert network["gradients"][0]["weights"][0] + network["gradients"][0]["bias"] == pytest.approx(
        linear["gradient"], rel=1e-12
    )
    assert network["loss"] == pytest.approx(linear["mse"], rel=1e-12)
    linear = invoke("check", path, "-w", "0.5,-1,2,0.25", "--bias", "--json").json()
    network = invoke("check", path, "--network", net, "--json").json()
    assert [c["ok"] for c in network["checks"]] == [c["ok"] for c in linear["checks"]] == [True] * 4
    assert [c["parameter"] for c in network["checks"]][-1] == "layers[0].bias[0]"


def test_the_zero_hidden_network_matches_the_course_example_per_row_too(tmp_path):
    net = written(tmp_path, {"node_0_0": [], "output": [0, 2, 1]} if False else network_of([0, 2, 1]))
    run = invoke("compute", "--network", net, "-x", "1,2,3", "-y", "0", "-f", "csv")
    assert run.stdout.splitlines() == ["row,z0_0,a0_0,preds,error", "1,7,7,7,7"]


COMMANDS = {
    "compute": (),
    "step": ("--lr", "0.0001"),
    "descend": ("--lr", "0.0001", "--steps", "3"),
    "check": (),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_every_machine_output_validates(command, fmt, tmp_path):
    net = written(tmp_path, WORKED)
    args = (command, "--network", net, "-x", "3,5", "-y", "1", "-x", "1,1", "-y", "2", *COMMANDS[command])
    run = invoke(*args, "-f", fmt)
    assert run.exit_code == 0, run.stderr
    if fmt == "json":
        validator(f"{command}.schema.json").validate(run.json())
    else:
        check = validator(f"{command}-jsonl.schema.json")
        lines = run.jsonl()
        for line in lines:
            check.validate(line)
        assert lines[-1]["kind"] == "summary"
    if command != "check":
        broken = run.json() if fmt == "json" else run.jsonl()[-1]
        broken["network" if "network" in broken else "n"] = {"layers": []}
        schema = f"{command}.schema.json" if fmt == "json" else f"{command}-jsonl.schema.json"
        assert not validator(schema).is_valid(broken)


def test_csv_outputs_have_a_column_per_value(tmp_path):
    net = written(tmp_path, WORKED)
    data = ("-x", "3,5", "-y", "1", "-x", "1,1", "-y", "2")
    step = invoke("step", "--network", net, *data, "--lr", "0.0001", "-f", "csv").stdout.splitlines()
    assert step[0] == "row,preds_before,error_before,preds_after,error_after"
    # Two rows, a blank line, a header and the network's 8 weights and biases.
    assert len(step) == 3 + 1 + 1 + 8 and step[3:5] == ["", "parameter,weight,gradient,weight_updated"]
    descend = invoke("descend", "--network", net, *data, "--lr", "0.0001", "--steps", "2", "-f", "csv")
    lines = descend.stdout.splitlines()
    # A column per weight and bias, named as check names them: the trajectory, as the linear
    # model's CSV has its w_<feature> columns.
    names = [f"layers[0].weights[{j}][{m}]" for j in (0, 1) for m in (0, 1)] + [
        "layers[0].bias[0]",
        "layers[0].bias[1]",
    ]
    names += ["layers[1].weights[0][0]", "layers[1].weights[0][1]"]
    assert lines[0] == "step,loss,gradient_norm," + ",".join(names) and len(lines) == 4
    assert lines[1].endswith(",2,4,4,-5,0,0,2,7")  # step 0: the file's weights, in its order
    check = invoke("check", "--network", net, *data, "-f", "csv").stdout.splitlines()
    assert check[0].startswith("parameter,analytic") and check[1].startswith("layers[0].weights[0][0],326,")


def test_descend_records_every_parameter_at_every_step(tmp_path):
    net = written(tmp_path, WORKED)
    data = ("-x", "3,5", "-y", "1", "-x", "1,1", "-y", "2")
    doc = invoke("descend", "--network", net, *data, "--lr", "0.0001", "--steps", "3", "--json").json()
    assert doc["parameter_names"][0] == "layers[0].weights[0][0]"
    assert [len(h["parameters"]) for h in doc["history"]] == [len(doc["parameter_names"])] * 4
    # The last step's parameters are the final network's, flattened in the names' order.
    final = doc["network_final"]["layers"]
    flat = [
        v for layer in final for v in [*(w for row in layer["weights"] for w in row), *layer.get("bias", [])]
    ]
    assert doc["history"][-1]["parameters"] == flat
    lines = invoke(
        "descend", "--network", net, *data, "--lr", "0.0001", "--steps", "3", "-f", "jsonl"
    ).jsonl()
    assert [line["parameters"] for line in lines[:-1]] == [h["parameters"] for h in doc["history"]]


def test_several_outputs_from_flags_and_from_a_file(tmp_path):
    two = {
        "layers": [
            {"weights": [[1, 0], [0, 1], [1, 1]], "activation": "tanh"},
            {"weights": [[1, 0, 0], [0, 1, 1]]},
        ]
    }
    net = written(tmp_path, two)
    flags = invoke("compute", "--network", net, "-x", "0.5,1", "-y", "0.01,0.99", "--json")
    assert flags.exit_code == 0, flags.stderr
    csv = tmp_path / "two.csv"
    csv.write_text("t1,a,t2,b\n0.01,0.5,0.99,1\n")
    file = invoke("compute", str(csv), "--network", net, "--target-column", "t1,t2", "--json")
    assert file.exit_code == 0, file.stderr
    a, b = flags.json(), file.json()
    assert a["rows"][0]["preds"] == b["rows"][0]["preds"] and a["loss"] == b["loss"]
    assert b["features"] == ["a", "b"] and b["targets"] == ["t1", "t2"]
    assert b["rows"][0]["input"] == [0.5, 1.0] and b["rows"][0]["target"] == [0.01, 0.99]
    chosen = invoke(
        "compute", str(csv), "--network", net, "--target-column", "t1,t2", "--features", "a,b", "--json"
    )
    assert chosen.json()["loss"] == b["loss"]
    table = invoke("compute", str(csv), "--network", net, "--target-column", "t1,t2")
    assert "(2/2)·error" in table.stdout and "loss = (" in table.stdout


def test_save_network_chains_runs(tmp_path):
    net = written(tmp_path, WORKED)
    saved = tmp_path / "next.json"
    run = invoke(
        "step",
        "--network",
        net,
        "-x",
        "3,5",
        "-y",
        "1",
        "--lr",
        "0.0001",
        "--save-network",
        str(saved),
        "--json",
    )
    assert run.exit_code == 0, run.stderr
    # The layers, and the names of the inputs they follow (from flags: x1, x2).
    assert json.loads(saved.read_text()) == {"features": ["x1", "x2"], **run.json()["network_updated"]}
    again = invoke("compute", "--network", str(saved), "-x", "3,5", "-y", "1", "--json")
    assert again.json()["loss"] == run.json()["loss_after"]
    final = tmp_path / "final.json"
    plot = tmp_path / "loss.svg"
    args = ("descend", "--network", net, "-x", "3,5", "-y", "1", "--lr", "0.0001", "--steps", "5")
    done = invoke(*args, "--save-network", str(final), "--plot", str(plot))
    assert done.exit_code == 0, done.stderr
    assert "Step" in done.stdout and ET.fromstring(plot.read_text()).tag.endswith("svg")
    assert json.loads(final.read_text())["layers"][0]["activation"] == "relu"


def test_draw_writes_the_network_as_svg(tmp_path):
    net, picture = written(tmp_path, WORKED), tmp_path / "net.svg"
    run = invoke("compute", "--network", net, "-x", "3,5", "-y", "1", "--draw", str(picture))
    assert run.exit_code == 0, run.stderr
    svg = ET.fromstring(picture.read_text())
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "w=2 ∇=612" in texts and "26" in texts and "node_0" in texts and "relu, b=0" in texts
    stepped = tmp_path / "step.svg"
    assert (
        invoke("step", "--network", net, "-x", "3,5", "-y", "1", "--draw", str(stepped), "--json").exit_code
        == 0
    )
    assert stepped.read_text() == picture.read_text()
    big = {"layers": [{"weights": [[0.1] * 10] * 16}, {"weights": [[0.1] * 16]}]}
    many = tmp_path / "big.svg"
    x = ",".join(["1"] * 10)
    assert (
        invoke(
            "compute",
            "--network",
            written(tmp_path, big, "big.json"),
            "-x",
            x,
            "-y",
            "1",
            "--summary",
            "--json",
            "--draw",
            str(many),
        ).exit_code
        == 0
    )
    texts = [t.text for t in ET.fromstring(many.read_text()).iter("{http://www.w3.org/2000/svg}text")]
    assert not any(t.startswith("w=") for t in texts)


def test_row_picks_the_row_to_explain(tmp_path):
    net = written(tmp_path, WORKED)
    data = ("-x", "3,5", "-y", "1", "-x", "1,1", "-y", "2")
    run = invoke("compute", "--network", net, *data, "--row", "2")
    assert run.exit_code == 0, run.stderr
    assert "z = 2·1 + 4·1 + 0 = 6" in run.stdout and "row 2 of 2" in run.stdout
    assert invoke("compute", "--network", net, *data, "--row", "3").exit_code == 2
    assert invoke("compute", "--network", net, *data, "--row", "1", "--summary").exit_code == 2
    summary = invoke("compute", "--network", net, *data, "--summary")
    assert "Forward" not in summary.stdout and "Gradient of the loss" in summary.stdout
    assert "326" in summary.stdout  # (612 + 40) / 2


def test_check_reports_a_kink_and_exits_3(tmp_path):
    kinked = {"layers": [{"weights": [[1.0]], "bias": [-1.0], "activation": "relu"}, {"weights": [[1.0]]}]}
    run = invoke("check", "--network", written(tmp_path, kinked), "-x", "1", "-y", "1")
    assert run.exit_code == 3
    assert "layers[0].bias[0]" in run.stderr and "✗" in run.stdout
    # z = 1·1 − 1 = 0: the learner is told it is the kink, not a wrong gradient.
    assert run.stderr.endswith(
        "; layers[0] node 0 has z = 0 on data row 1, where ReLU has no derivative (slopecli takes 0;"
        " the differences see the kink)\n"
    )
    assert run.stdout.splitlines()[2].startswith("┃ Parameter ")  # a network's are not features
    assert "2 of 3 parameters disagree beyond the tolerance" in run.stdout


def test_a_z_within_a_step_of_the_kink_is_named_too():
    # node 1: z = 4·5 − 5·4.00000001 = −5e-08; the differences' steps (about 6e-6 of its terms) cross 0.
    run = invoke("check", "--network", str(SAMPLES / "network.json"), "-x", "5,4.00000001", "-y", "1")
    assert run.exit_code == 3
    assert run.stderr.endswith(
        "; layers[0] node 1 has z = -5e-08 on data row 1, so near ReLU's kink at 0 that the differences'"
        " steps cross it\n"
    )


def test_a_kink_is_found_on_the_row_it_is_on_from_a_stream_too(tmp_path):
    kinked = {
        "layers": [{"weights": [[1.0, -1.0]], "bias": [0.0], "activation": "relu"}, {"weights": [[1.0]]}]
    }
    net = written(tmp_path, kinked)
    run = invoke("check", "--network", net, "-", input="a,b,target\n3,1,1\n2,2,1\n")
    assert run.exit_code == 3
    assert "; layers[0] node 0 has z = 0 on data row 2, where ReLU" in run.stderr
    fine = invoke("check", "--network", net, "-", input="a,b,target\n3,1,1\n")
    assert (fine.exit_code, fine.stderr) == (0, "")


@pytest.mark.process_coverage
def test_stdin_feeds_a_network(tmp_path):
    run = run_installed(
        "compute", "-", "--network", written(tmp_path, COURSE), "--json", input="a,b,target\n2,3,9\n"
    )
    assert run.exit_code == 0, run.stderr
    assert run.json()["rows"][0]["preds"] == [9.0]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("compute", "-x", "2,3", "-y", "9", "--bias"), 2, "--bias does not apply to --network"),
        (("compute", "-x", "2,3", "-y", "9", "-w", "1,1"), 2, "--network and --weights: give one"),
        (
            ("compute", "-x", "2,3", "-y", "9", "--weights-file", str(SAMPLES / "weights.json")),
            2,
            "--network and --weights-file",
        ),
        (("compute", "-x", "2,3", "-y", "9,1"), 2, "--target 1: 2 values, but the network has 1 output"),
        (("compute", "-x", "2,3", "-y", "x"), 2, "--target 1"),
        (("compute", "-x", "2,3", "-y", "9", "-x", "1,1"), 2, "2 --input but 1 --target"),
        (
            ("compute", "-x", "2,3", "-y", "9", "-x", "1", "-y", "1"),
            2,
            "--input 2: 1 values, but --input 1 has 2",
        ),
        (("compute", "-x", "2,z", "-y", "9"), 2, "--input 1: item 2 of '2,z'"),
        (
            ("compute", "-x", "2,3", "-y", "9", "--target-column", "t"),
            2,
            "--target-column: applies to a data FILE only, but the rows come from --input/--target",
        ),
        (
            ("compute", "-x", "2,3,4", "-y", "9"),
            1,
            "layers[0] (the first layer) has 2 weights per node, but --input has 3 features (x1, x2, x3)",
        ),
        (("compute",), 2, "no data"),
        (("compute", str(SAMPLES / "points.csv"), "-x", "1,2", "-y", "1"), 2, "give either a FILE"),
        (("compute", str(SAMPLES / "points.csv")), 1, "has 3 features (size, rooms, age)"),
        (
            ("compute", str(SAMPLES / "points.csv"), "--target-column", "target,age"),
            2,
            "names 2 columns, but the network has 1 output",
        ),
        (("compute", str(SAMPLES / "points.csv"), "--target-column", ""), 2, "empty column name"),
        (("compute", str(SAMPLES / "nowhere.csv")), 1, "cannot open it"),
        (("compute", "-x", "2,3", "-y", "9", "--json", "--row", "1"), 2, "--row explains one row"),
        (("compute", "-x", "2,3", "-y", "9", "-f", "csv", "--summary"), 2, "--summary has no per-row CSV"),
        (("compute", "-x", "2,3", "-y", "9", "--engine", "dask"), 2, "--network needs the local engine"),
        (("compute", "-x", "2,3", "-y", "9", "--draw", "net.png"), 2, "name the file *.svg"),
        (
            ("descend", "-x", "2,3", "-y", "9", "--save-weights", "w.json"),
            2,
            "with --network use --save-network",
        ),
    ],
)
def test_usage_and_data_errors(tmp_path, args, code, message):
    net = written(tmp_path, COURSE)
    run = invoke(*args[:1], "--network", net, *args[1:])
    assert run.exit_code == code, run.stderr
    assert message in run.stderr
    assert run.stdout == ""


def test_network_errors_name_the_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"node_0": [1, 1], "node_1": [1], "output": [1, 1]}')
    run = invoke("compute", "--network", str(broken), "-x", "2,3", "-y", "9")
    assert run.exit_code == 1
    assert f"--network {broken}: node_1: 1 weight, but node_0 has 2 weights" in run.stderr
    missing = invoke("compute", "--network", str(tmp_path / "none.json"), "-x", "2,3", "-y", "9")
    assert missing.exit_code == 1 and "cannot open it" in missing.stderr
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe")
    assert "not UTF-8" in invoke("compute", "--network", str(binary), "-x", "2,3", "-y", "9").stderr


def test_multi_output_files_need_their_target_columns(tmp_path):
    two = written(tmp_path, {"layers": [{"weights": [[1.0], [1.0]]}]})
    csv = tmp_path / "d.csv"
    csv.write_text("a,t1,t2\n1,2,3\n")
    run = invoke("compute", str(csv), "--network", two)
    assert run.exit_code == 2 and "--target-column t1,t2" in run.stderr
    run = invoke("compute", str(csv), "--network", two, "--target-column", "t1,t3")
    assert run.exit_code == 1 and "no column named 't3'" in run.stderr
    run = invoke("compute", str(csv), "--network", two, "--target-column", "t1,t1")
    assert run.exit_code == 2 and "named twice" in run.stderr


def test_long_names_are_cut_in_network_messages(tmp_path):
    huge = "n" * 1_000_000
    two = written(tmp_path, {"layers": [{"weights": [[1.0], [1.0]]}]})
    csv = tmp_path / "d.csv"
    csv.write_text(f"{huge},b,t1,t2\n1,2,3,4\n")
    run = invoke("compute", str(csv), "--network", two, "--target-column", "t1,t3")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"slopecli: error: {csv}: --target-column: no column named 't3' (columns: {'n' * 40}…, b, t1, t2)\n"
    )
    run = invoke("compute", str(csv), "--network", two, "--target-column", f"t1,{huge}", "--features", huge)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"slopecli: error: {csv}: --features: {'n' * 40!r}… (1,000,000 characters) is a target column"
        " (--target-column), not a feature\n"
    )
    run = invoke("compute", str(csv), "--network", two, "--target-column", "t1,t2")
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        "slopecli: error: --network: layers[0] (the first layer) has 1 weight per node, but"
        f" {csv} has 2 features ({'n' * 40}…, b)\n"
    )


def test_output_flags_need_a_network_and_their_own_files(tmp_path):
    assert (
        "--save-network needs --network"
        in invoke("step", "-w", "1", "-x", "1", "-y", "1", "--save-network", str(tmp_path / "n.json")).stderr
    )
    assert (
        "--draw needs --network"
        in invoke("compute", "-w", "1", "-x", "1", "-y", "1", "--draw", str(tmp_path / "n.svg")).stderr
    )
    net = written(tmp_path, COURSE)
    same = tmp_path / "same.svg"
    run = invoke(
        "descend", "--network", net, "-x", "2,3", "-y", "9", "--save-network", str(same), "--plot", str(same)
    )
    assert run.exit_code == 2 and "both name" in run.stderr
    assert invoke("compute", "--network", net, "-x", "2,3", "-y", "9", "--draw", net).exit_code == 2
    # Saving over the network file chains runs, as --save-weights over --weights-file does.
    assert invoke("step", "--network", net, "-x", "2,3", "-y", "9", "--save-network", net).exit_code == 0


def test_a_diverging_network_run_exits_1(tmp_path):
    net = written(tmp_path, {"layers": [{"weights": [[0, 0]]}]})
    run = invoke("descend", "--network", net, "-x", "3,5", "-y", "1", "--lr", "10", "--steps", "50")
    assert run.exit_code == 1 and "diverged" in run.stderr
    run = invoke("step", "--network", net, "-x", "3,5", "-y", "1", "--lr", "1e306")
    assert run.exit_code == 1 and "too large" in run.stderr


def test_help_shows_every_new_flag_with_an_example():
    for command, flags in {
        "compute": ("--network", "--draw"),
        "step": ("--network", "--save-network", "--draw"),
        "descend": ("--network", "--save-network"),
        "check": ("--network",),
    }.items():
        text = invoke(command, "--help").stdout
        assert "Example: slopecli " + command + " --network" in " ".join(text.split()) or "--network" in text
        for flag in flags:
            assert flag in text, (command, flag)


def test_a_split_file_sums_its_pieces_as_one_pass_does(tmp_path, monkeypatch):
    from slopecli.readers import delimited

    rows = "\n".join(f"{i % 7 - 3},{(i * 5) % 11 - 5},{(i % 3) - 1},{i % 4}" for i in range(3000))
    csv = tmp_path / "many.csv"
    csv.write_text("a,b,t2,target\n" + rows + "\n")
    three = written(
        tmp_path,
        {
            "layers": [
                {"weights": [[0.5, -1], [1, 0.25]], "bias": [0.1, 0], "activation": "tanh"},
                {"weights": [[1, -1], [0.5, 0.5]]},
            ]
        },
    )
    args = ("compute", str(csv), "--network", three, "--target-column", "target,t2", "--json")
    whole = invoke(*args).json()
    monkeypatch.setattr(delimited, "SPLIT_BYTES", 1 << 10)
    split = invoke(*args, "--summary").json()
    assert split["n"] == whole["n"] == 3000
    assert split["loss"] == pytest.approx(whole["loss"], rel=1e-12)
    for a, b in zip(split["gradients"], whole["gradients"], strict=True):
        assert a["weights"] == [pytest.approx(row, rel=1e-9, abs=1e-12) for row in b["weights"]]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,target\n" + "1,2,3\n" * 500 + "1,x,3\n" + "1,2,3\n" * 500)
    one = written(tmp_path, {"layers": [{"weights": [[1, 1]]}]}, "one.json")
    run = invoke("compute", str(bad), "--network", one, "--summary", "--json")
    assert run.exit_code == 1 and ":502:" in run.stderr


def test_the_readme_picture_is_what_draw_makes_today(tmp_path):
    picture = tmp_path / "course.svg"
    net = str(SAMPLES / "course-network.json")
    assert (
        invoke(
            "compute", "--network", net, "--input", "2,3", "--target", "7", "--draw", str(picture)
        ).exit_code
        == 0
    )
    assert picture.read_text() == (SAMPLES.parent / "docs" / "course-network.svg").read_text()


def test_the_json_path_of_a_network_imports_neither_rich_nor_pyarrow(tmp_path):
    from test_layering import loaded_after

    net, picture = written(tmp_path, WORKED), tmp_path / "net.svg"
    loaded = loaded_after(
        "from slopecli.cli import app\n"
        "from typer.main import get_command\n"
        f"code = get_command(app).main(['compute', '--network', {net!r}, '-x', '3,5', '-y', '1', '--json',"
        f" '--draw', {str(picture)!r}], standalone_mode=False)\n"
        "assert code == 0, code"
    )
    assert "numpy" in loaded and "rich" not in loaded and "pyarrow" not in loaded
    assert picture.exists()


def test_a_header_of_numbers_is_warned_about_as_for_the_linear_model(tmp_path):
    csv = tmp_path / "numbers.csv"
    csv.write_text("1,2,3\n4,5,6\n")
    run = invoke("compute", str(csv), "--network", written(tmp_path, COURSE), "--json")
    assert run.exit_code == 0 and "the header row looks like data" in run.stderr


def test_hostile_network_paths_fail_with_one_line(tmp_path):
    """Not files of JSON: each run ends with one line naming --network and the file, exit 1 (or
    2 for the flag's value "-", which names stdin: the data's, not the network's)."""
    data = ("-x", "2,3", "-y", "9")
    (tmp_path / "folder.json").mkdir()
    cases = [
        (
            "-",
            2,
            "--network -: give the network as a file; '-' reads standard input only as the data (FILE -)",
        ),
        (str(tmp_path / "folder.json"), 1, "cannot open it"),
        ("/dev/null", 1, "--network /dev/null:1:1: not valid JSON"),
    ]
    for path, code, message in cases:
        run = invoke("compute", "--network", path, *data)
        assert (run.exit_code, run.stdout) == (code, ""), (path, run.stderr)
        assert len(run.stderr.splitlines()) == 1 and message in run.stderr, (path, run.stderr)


def test_a_network_from_a_fifo_or_with_a_bom_reads_as_a_file(tmp_path):
    import os
    import threading

    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(COURSE).encode())
    assert invoke("compute", "--network", str(bom), "-x", "2,3", "-y", "9", "--json").json()["loss"] == 0
    fifo = tmp_path / "net.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(json.dumps(COURSE)))
    writer.start()
    run = invoke("compute", "--network", str(fifo), "-x", "2,3", "-y", "9", "--json")
    writer.join()
    assert run.exit_code == 0 and run.json()["loss"] == 0


def test_output_paths_that_cannot_be_resolved_or_named_are_usage_errors(tmp_path):
    net = written(tmp_path, WORKED)
    data = ("-x", "3,5", "-y", "1", "--lr", "0.001", "--json")
    long = tmp_path / ("n" * 300 + ".json")
    run = invoke("step", "--network", net, *data, "--save-network", str(long))
    assert (run.exit_code, run.stdout) == (2, "") and run.stderr.startswith(
        "slopecli: error: --save-network: "
    )
    # A symlink loop made Path.resolve raise RuntimeError: a traceback. The file is replaced, as
    # any output file is (atomically).
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    run = invoke("step", "--network", net, *data, "--save-network", str(loop))
    assert run.exit_code == 0, run.stderr
    assert json.loads(loop.read_text())["layers"][0]["weights"]


def test_features_that_name_a_second_target_say_so(tmp_path):
    # The extra targets ride along as feature columns: naming one in --features made the reader
    # say "'t2' is named more than once", though the user had named it once.
    two = written(tmp_path, {"layers": [{"weights": [[1.0], [1.0]]}]})
    csv = tmp_path / "d.csv"
    csv.write_text("a,t1,t2\n1,2,3\n")
    run = invoke("compute", str(csv), "--network", two, "--target-column", "t1,t2", "--features", "t2")
    assert (run.exit_code, run.stdout) == (1, "")
    assert (
        run.stderr
        == f"slopecli: error: {csv}: --features: 't2' is a target column (--target-column), not a feature\n"
    )
    ok = invoke(
        "compute", str(csv), "--network", two, "--target-column", "t1,t2", "--features", "a", "--json"
    )
    assert ok.exit_code == 0 and ok.json()["loss"] == 2.5  # errors 1 − 2 and 1 − 3: (1 + 4) / 2


NAMED = "a,b,target\n1,2,3\n4,5,6\n2,1,1\n"
SWAPPED = "b,a,target\n2,1,3\n5,4,6\n1,2,1\n"  # the same rows, the columns in another order


def test_a_saved_network_reads_its_inputs_by_name(tmp_path):
    net, saved = written(tmp_path, WORKED), tmp_path / "next.json"
    named, swapped = tmp_path / "named.csv", tmp_path / "swapped.csv"
    named.write_text(NAMED)
    swapped.write_text(SWAPPED)
    run = invoke(
        "step", str(named), "--network", net, "--lr", "0.001", "--save-network", str(saved), "--json"
    )
    assert run.exit_code == 0, run.stderr
    assert json.loads(saved.read_text())["features"] == ["a", "b"]
    # Same rows, columns swapped: the same loss, and the weights still named after a and b.
    for data in (named, swapped):
        again = invoke("compute", str(data), "--network", str(saved), "--json", "--summary")
        assert again.exit_code == 0, again.stderr
        assert again.json()["loss"] == run.json()["loss_after"]
        assert again.json()["features"] == ["a", "b"]
    # Positionally, the swapped file would give another loss: the test can tell the difference.
    unnamed = tmp_path / "unnamed.json"
    unnamed.write_text(json.dumps({"layers": json.loads(saved.read_text())["layers"]}))
    positional = invoke("compute", str(swapped), "--network", str(unnamed), "--json", "--summary")
    assert positional.json()["loss"] != run.json()["loss_after"]


def test_data_with_other_features_than_a_saved_network_is_refused(tmp_path):
    saved = tmp_path / "net.json"
    saved.write_text(json.dumps({"features": ["a", "b"], **WORKED}))
    other = tmp_path / "other.csv"
    other.write_text("a,c,target\n1,2,3\n")
    run = invoke("compute", str(other), "--network", str(saved), "--json")
    assert run.exit_code == 1 and run.stdout == ""
    assert run.stderr == (
        f"slopecli: error: {other}: features (a, c) differ from (a, b) that --network {saved} was saved"
        " for; the network's inputs follow features by name\n"
    )
    flags = invoke("compute", "--network", str(saved), "-x", "3,5", "-y", "1", "--json")
    assert flags.exit_code == 1
    assert "--input: features (x1, x2) differ from (a, b)" in flags.stderr


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ('"a,b"', '"features" must be a list of column names, as --save-network writes it'),
        ("[1, 2]", '"features" must be a list of column names, as --save-network writes it'),
        ('["a"]', '"features" names 1 column, but layers[0] has 2 weights per node'),
    ],
)
def test_a_network_file_with_bad_feature_names_is_refused(tmp_path, features, message):
    layers = WORKED["layers"]
    net = tmp_path / "net.json"
    net.write_text(f'{{"features": {features}, "layers": {json.dumps(layers)}}}')
    run = invoke("compute", "--network", str(net), "-x", "3,5", "-y", "1", "--json")
    assert run.exit_code == 1 and run.stdout == ""
    assert run.stderr == f"slopecli: error: --network {net}: {message}\n"


def test_a_saved_network_with_two_outputs_reads_inputs_and_targets_by_name(tmp_path):
    net = tmp_path / "net.json"
    layers = [
        {"weights": [[1, 1], [-1, 1]], "activation": "relu"},
        {"weights": [[2, -1], [1, 1]], "activation": "identity"},
    ]
    net.write_text(json.dumps({"features": ["a", "b"], "layers": layers}))
    files = {"in order": "a,b,t1,t2\n1,2,3,1\n4,5,6,2\n", "shuffled": "t2,b,t1,a\n1,2,3,1\n2,5,6,4\n"}
    losses = []
    for name, text in files.items():
        data = tmp_path / f"{name}.csv"
        data.write_text(text)
        run = invoke("compute", str(data), "--network", str(net), "--target-column", "t1,t2", "--json")
        assert run.exit_code == 0, run.stderr
        assert (run.json()["features"], run.json()["targets"]) == (["a", "b"], ["t1", "t2"])
        losses.append(run.json()["loss"])
    # Row 1: hidden relu(1+2, -1+2) = (3, 1); outputs 2·3−1 = 5 and 3+1 = 4; errors 2 and 3.
    # Row 2: hidden (9, 1); outputs 17 and 10; errors 11 and 8. Loss: (4+9+121+64)/4.
    assert losses == [49.5, 49.5]


def test_step_csv_ends_with_every_weight_before_its_gradient_and_after(tmp_path):
    # As the linear model's step: the rows, a blank line, then one line per weight and bias.
    net = written(tmp_path, WORKED)
    args = ("step", "--network", net, "-x", "3,5", "-x", "1,2", "-y", "1", "-y", "2", "--lr", "0.0001")
    table = invoke(*args, "--format", "csv")
    assert table.exit_code == 0, table.stderr
    rows, step = table.stdout.split("\n\n")
    assert rows.splitlines()[0] == "row,preds_before,error_before,preds_after,error_after"
    lines = [line.split(",") for line in step.splitlines()]
    assert lines[0] == ["parameter", "weight", "gradient", "weight_updated"]
    document = invoke(*args, "--json").json()
    flat = [
        (f"layers[{i}].{key}{index}", value)
        for i, layer in enumerate(document["gradients"])
        for key in ("weights", "bias")
        for index, value in _entries(layer.get(key, []))
    ]
    updated = [
        value
        for layer in document["network_updated"]["layers"]
        for key in ("weights", "bias")
        for _, value in _entries(layer.get(key, []))
    ]
    assert [(name, float(g), float(after)) for name, _, g, after in lines[1:]] == [
        (name, g, after) for (name, g), after in zip(flat, updated, strict=True)
    ]
    assert [float(w) for _, w, _, _ in lines[1:]] == [
        value
        for layer in WORKED["layers"]
        for key in ("weights", "bias")
        for _, value in _entries(layer.get(key, []))
    ]


def _entries(values: list) -> list[tuple[str, float]]:
    """``[[1, 2], [3, 4]]`` as ``("[0][0]", 1), ("[0][1]", 2), …``; ``[5, 6]`` as ``("[0]", 5), …``."""
    if values and isinstance(values[0], list):
        return [(f"[{j}][{m}]", v) for j, row in enumerate(values) for m, v in enumerate(row)]
    return [(f"[{j}]", v) for j, v in enumerate(values)]
