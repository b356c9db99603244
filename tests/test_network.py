"""The network's math against independent computations: hand-worked values, the course's forward
example, central finite differences on random networks, and the mergeable reducer."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from slopecli.errors import DivergedError, InputError, NumericError
from slopecli.network.check import check_gradient
from slopecli.network.core import NetSums, forward, update
from slopecli.network.data import Block
from slopecli.network.model import Layer, Network, parse_network
from slopecli.network.train import descend, evaluate, step

COURSE = {"node_0": [1, 1], "node_1": [-1, 1], "output": [2, -1]}
WORKED = {
    "layers": [
        {"weights": [[2, 4], [4, -5]], "bias": [0, 0], "activation": "relu"},
        {"weights": [[2, 7]], "activation": "identity"},
    ]
}


def net(document: dict) -> Network:
    return parse_network(json.dumps(document), "net.json")


def blocks(X, Y, size: int = 0):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if size == 0:
        return lambda: [Block(X, Y, 0)]
    return lambda: [Block(X[i : i + size], Y[i : i + size], i) for i in range(0, len(X), size)]


def test_the_course_forward_example_outputs_9():
    passed = forward(net(COURSE), np.array([[2.0, 3.0]]))
    assert passed.z[0].tolist() == [[5.0, 1.0]]
    assert passed.a[0].tolist() == [[5.0, 1.0]]
    assert passed.preds.tolist() == [[9.0]]


def test_no_rows_sum_to_zero_and_pass_the_finiteness_check():
    total = evaluate(net(WORKED), iter(()))
    assert (total.n, total.sse) == (0, 0.0)
    assert [w.tolist() for w in total.weights] == [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0]]]


def test_the_course_multi_layer_example_outputs_182():
    # The course's two hidden layers: input (3, 5), node_0_0 (2, 4), node_0_1 (4, −5),
    # node_1_0 (−1, 2), node_1_1 (1, 2), output (2, 7): hidden (26, 0), then (0, 26), output 182.
    course = {
        "node_0_0": [2, 4],
        "node_0_1": [4, -5],
        "node_1_0": [-1, 2],
        "node_1_1": [1, 2],
        "output": [2, 7],
    }
    passed = forward(net(course), np.array([[3.0, 5.0]]))
    assert [a.tolist() for a in passed.a] == [[[26.0, 0.0]], [[0.0, 26.0]], [[182.0]]]


def test_a_hand_worked_backward_pass_is_float_exact():
    # x = (3, 5): z = (26, −13), a = (26, 0), preds = 2·26 = 52; target 1: error 51.
    # δ_out = 2·51 = 102; ∂L/∂W₂ = 102·(26, 0); δ_hidden = (1·2·102, 0·7·102) = (204, 0).
    network = net(WORKED)
    sums = evaluate(network, blocks([[3, 5]], [[1]])())
    (w1, b1), (w2, b2) = sums.gradients
    assert w2.tolist() == [[2652.0, 0.0]] and b2 is None
    assert w1.tolist() == [[612.0, 1020.0], [0.0, 0.0]]
    assert b1 is not None and b1.tolist() == [204.0, 0.0]
    assert sums.loss == 51.0**2
    stepped = update(network, sums, 0.5)
    assert stepped.layers[1].weights.tolist() == [[2 - 1326.0, 7.0]]
    assert stepped.layers[0].bias is not None and stepped.layers[0].bias.tolist() == [-102.0, 0.0]


def test_several_outputs_average_over_rows_and_outputs():
    network = Network((Layer(np.array([[1.0, 0.0], [0.0, 1.0]]), None, "identity"),))
    sums = evaluate(network, blocks([[1, 2], [3, 4]], [[0, 0], [3, 0]])())
    # errors: (1, 2), (0, 4): loss = (1 + 4 + 0 + 16) / 4; ∂L/∂W = (2/(n·k))·Σ eᵀ·x.
    assert sums.loss == 21 / 4
    assert sums.gradients[0][0].tolist() == [[0.5, 1.0], [7.0, 10.0]]


def test_relu_has_no_slope_at_zero():
    network = Network((Layer(np.array([[1.0]]), None, "relu"), Layer(np.array([[1.0]]), None, "identity")))
    sums = evaluate(network, blocks([[0.0]], [[1.0]])())
    assert sums.gradients[0][0].tolist() == [[0.0]]


# An independent forward pass: one node at a time, in plain Python.
ACT = {
    "identity": lambda z: z,
    "relu": lambda z: max(z, 0.0),
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "tanh": math.tanh,
}


def plain_loss(document: dict, X: list[list[float]], Y: list[list[float]]) -> tuple[float, list[float]]:
    """The loss, and every z of every ReLU node (to stay away from their kinks)."""
    total = 0.0
    kinks = []
    for x, y in zip(X, Y, strict=True):
        a = x
        for layer in document["layers"]:
            bias = layer.get("bias", [0.0] * len(layer["weights"]))
            z = [
                sum(w * v for w, v in zip(ws, a, strict=True)) + b
                for ws, b in zip(layer["weights"], bias, strict=True)
            ]
            if layer["activation"] == "relu":
                kinks += z
            a = [ACT[layer["activation"]](v) for v in z]
        total += sum((p - t) ** 2 for p, t in zip(a, y, strict=True))
    return total / (len(X) * len(Y[0])), kinks


small = st.floats(-2, 2, allow_nan=False)


@st.composite
def cases(draw):
    hidden = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    outputs = draw(st.integers(1, 3))
    inputs = draw(st.integers(1, 3))
    rows = draw(st.integers(1, 50))
    sizes = [inputs, *hidden, outputs]
    layers = []
    for i in range(1, len(sizes)):
        layer = {
            "weights": [[draw(small) for _ in range(sizes[i - 1])] for _ in range(sizes[i])],
            "activation": draw(st.sampled_from(["identity", "relu", "sigmoid", "tanh"])),
        }
        if draw(st.booleans()):
            layer["bias"] = [draw(small) for _ in range(sizes[i])]
        layers.append(layer)
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (rows, inputs)).tolist()
    Y = rng.uniform(-2, 2, (rows, outputs)).tolist()
    return {"layers": layers}, X, Y


@settings(max_examples=40, deadline=None)
@given(cases())
def test_every_gradient_matches_central_differences(case):
    document, X, Y = case
    network = net(document)
    _, kinks = plain_loss(document, X, Y)
    assume(all(abs(z) > 1e-3 for z in kinks))
    sums = evaluate(network, blocks(X, Y)())
    loss, _ = plain_loss(document, X, Y)
    assert sums.loss == pytest.approx(loss, rel=1e-12, abs=1e-12)
    analytic = sums.flat_gradient()
    theta = network.flat()
    h = 1e-6
    for i in range(len(theta)):
        moved = []
        for sign in (1, -1):
            values = theta.copy()
            values[i] += sign * h
            moved.append(plain_loss(network.with_flat(values).to_json(), X, Y)[0])
        numeric = (moved[0] - moved[1]) / (2 * h)
        assert analytic[i] == pytest.approx(numeric, rel=1e-5, abs=1e-6), network.parameter_names()[i]


@settings(max_examples=20, deadline=None)
@given(cases(), st.integers(1, 7))
def test_chunk_sums_merge_to_one_pass(case, size):
    document, X, Y = case
    network = net(document)
    whole = evaluate(network, blocks(X, Y)())
    parts = evaluate(network, blocks(X, Y, size)())
    assert parts.n == whole.n
    np.testing.assert_allclose(parts.flat_gradient(), whole.flat_gradient(), rtol=1e-9, atol=1e-12)
    assert parts.loss == pytest.approx(whole.loss, rel=1e-9, abs=1e-15)


def test_parsing_both_forms_gives_the_same_network():
    course = net({"node_0_0": [1, 1], "node_0_1": [-1, 1], "node_1_0": [2, 0], "output": [[2], [1]]})
    layered = net(
        {
            "layers": [
                {"weights": [[1, 1], [-1, 1]]},
                {"weights": [[2, 0]]},
                {"weights": [[2], [1]], "activation": "identity"},
            ]
        }
    )
    assert [layer.activation for layer in course.layers] == ["relu", "relu", "identity"]
    assert course.to_json() == layered.to_json()
    assert net(course.to_json()).to_json() == course.to_json()
    assert course.outputs == 2 and course.inputs == 2 and course.parameters == 8


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"node_0": [1, 1], "node_1": [-1], "output": [2, -1]}, "node_1: 1 weight, but node_0 has 2 weights"),
        ({"node_0": [1, 1], "output": [2, -1, 3]}, "output: 3 weights, but hidden layer 0 has 1 node"),
        (
            {"node_0_0": [1], "node_1_0": [1, 2], "output": [1]},
            "node_1_0: 2 weights, but hidden layer 0 has 1 node",
        ),
        (
            {"layers": [{"weights": [[1, 2]]}, {"weights": [[1, 2]]}]},
            "layers[1] node 0: 2 weights, but layers[0] has 1 node",
        ),
        (
            {"layers": [{"weights": [[1, 2]], "bias": [1, 2]}]},
            "layers[0] bias: 2 values, but the layer has 1 node",
        ),
        ({"layers": [{"weights": [[1]], "activation": "softmax"}]}, 'activation "softmax": expected one of'),
        ({"layers": [{"weights": [[1]], "act": "relu"}]}, "unknown key 'act'"),
        ({"layers": [{"weights": [[True]]}]}, "value 0 is true, not a number"),
        ({"layers": []}, '"layers" must be a non-empty list'),
        ({"layers": [3]}, 'expected an object with "weights"'),
        ({"layers": [{"weights": []}]}, "weights must be a non-empty list"),
        ({"layers": [{"weights": [[]]}]}, "expected a non-empty list of numbers"),
        ({"node_0": [1]}, 'expected "layers", or the course'),
        ({"node_0": [1], "node_0_0": [1], "output": [1]}, "mixes"),
        ({"node_1": [1], "output": [1]}, "no node_0: nodes are numbered"),
        ({"node_1_0": [1], "output": [1]}, "no node_0_0: hidden layers are numbered"),
        ({"nodes": [1], "output": [1]}, "unknown key 'nodes'"),
        ({"layers": [{"weights": [[1e308 * 10]]}]}, "not a finite number"),
    ],
)
def test_a_malformed_network_is_named_with_layer_node_and_counts(document, message):
    text = json.dumps(document).replace("Infinity", "1e999")
    with pytest.raises(InputError, match=r"^net\.json: ") as caught:
        parse_network(text, "net.json")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [("[1]", "expected a JSON object"), ("{", "not valid JSON"), ("[" * 10**5, "too deeply")],
)
def test_a_file_that_is_no_network_says_so(text, message):
    with pytest.raises(InputError, match=message):
        parse_network(text, "net.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # A key given twice: json keeps the last one, and a pasted node_0 would vanish unseen.
        ('{"node_0": [1, 2], "node_0": [3, 4], "output": [1]}', "the key 'node_0' is given twice"),
        ('{"layers": [{"weights": [[1]]}], "layers": [{"weights": [[2]]}]}', "'layers' is given twice"),
        # Both forms at once, or a stray key beside "layers": one of them would be ignored.
        (
            '{"layers": [{"weights": [[1]]}], "node_0": [1], "output": [1]}',
            'unknown key \'node_0\' (beside "layers" a network has only "features"',
        ),
        (
            '{"layers": [{"weights": [[1]]}], "comment": 1}',
            'unknown key \'comment\' (beside "layers" a network has only "features"',
        ),
        # node_01 would be node 1 (and clash with node_1); a non-ASCII digit is no index either.
        ('{"node_0": [1], "node_01": [1], "output": [1, 1]}', "unknown key 'node_01'"),
        ('{"node_\u0660": [1], "output": [1]}', "unknown key 'node_\u0660'"),
        ('{"node_0_00": [1], "output": [1]}', "unknown key 'node_0_00'"),
        # null is not an activation's name (a missing key is the default).
        ('{"layers": [{"weights": [[1]], "activation": null}]}', "activation null: expected one of"),
        # Integers are shown as written, not as 3.0.
        ('{"layers": [{"weights": [[1]], "activation": 3}]}', "activation 3: expected"),
        ('{"layers": [{"weights": [[1]], "bias": 7}]}', "got 7"),
        ('{"layers": [{"weights": [[1' + "0" * 5000 + "]]}]}", "value 0 is not a finite number"),
    ],
)
def test_hostile_network_files_fail_with_one_clear_message(text, message):
    with pytest.raises(InputError, match=r"^net\.json: ") as caught:
        parse_network(text, "net.json")
    assert message in str(caught.value)


def test_large_integers_and_keys_in_any_order_still_read():
    network = parse_network('{"output": [12345678901234567890123, 1], "node_1": [3], "node_0": [2]}', "n")
    assert network.layers[0].weights.tolist() == [[2.0], [3.0]]
    assert network.layers[1].weights[0, 0] == 12345678901234567890123.0


def test_sigmoid_does_not_overflow_far_from_zero():
    network = Network((Layer(np.array([[1.0]]), None, "sigmoid"),))
    passed = forward(network, np.array([[-800.0], [800.0]]))
    assert passed.preds.tolist() == [[0.0], [1.0]]


def test_step_lowers_the_loss_and_reports_before_and_after():
    network = net(WORKED)
    data = blocks([[3, 5], [1, 1]], [[1], [2]])
    seen = []
    result = step(data, network, 1e-4, on_rows=lambda old, new: seen.append((old, new)))
    assert result.improved and result.after.loss < result.before.loss
    plain = step(data, network, 1e-4)
    assert plain.after.loss == result.after.loss
    np.testing.assert_array_equal(
        result.updated.flat(), network.flat() - 1e-4 * result.before.flat_gradient()
    )
    assert (
        len(seen) == 1
        and seen[0][1].passed.preds.tolist()
        == forward(result.updated, np.array([[3.0, 5], [1, 1]])).preds.tolist()
    )


def test_step_too_large_diverges():
    with pytest.raises(DivergedError, match="--learning-rate"):
        step(blocks([[3, 5]], [[1]]), net(WORKED), 1e306)


def test_descend_converges_and_stops_at_the_tolerance():
    network = Network((Layer(np.array([[0.0, 0.0]]), np.array([0.0]), "identity"),))
    data = blocks([[1, 2], [2, 1], [3, 3]], [[3], [3], [6]])
    run, final = descend(data, network, 0.05, 2000, tol=1e-8)
    assert run.stopped == "tol"
    assert evaluate(final, data()).loss < 1e-15
    assert run.history[0].mse == pytest.approx(18.0)


def test_descend_stops_a_diverging_run():
    data = blocks([[1, 2], [2, 1]], [[3], [3]])
    with pytest.raises(DivergedError, match="diverged at step"):
        descend(data, net({"layers": [{"weights": [[0, 0]]}]}), 10.0, 100)
    with pytest.raises(DivergedError, match="overflow"):
        descend(data, net({"layers": [{"weights": [[0, 0]]}]}), 1e300, 100, patience=1000)


def test_check_agrees_on_a_smooth_network_and_flags_a_kink():
    smooth = net(
        {"layers": [{"weights": [[0.5, -1], [1, 0.3]], "activation": "tanh"}, {"weights": [[1, -2]]}]}
    )
    checks = check_gradient(blocks([[1, 2], [0.5, -1]], [[1], [0]]), smooth)
    assert len(checks) == 6 and all(c.ok for c in checks)
    kinked = net(
        {"layers": [{"weights": [[1.0]], "bias": [-1.0], "activation": "relu"}, {"weights": [[1.0]]}]}
    )
    checks = check_gradient(blocks([[1.0]], [[1.0]]), kinked)
    assert not checks[1].ok  # z = 0: relu'(0) = 0, but the differences straddle the kink
    assert checks[1].numeric == pytest.approx(-1.0, abs=1e-4)


def test_a_hidden_z_that_overflows_is_named_even_when_the_output_is_finite():
    saturated = net({"layers": [{"weights": [[1e300]], "activation": "sigmoid"}, {"weights": [[1.0]]}]})
    with pytest.raises(NumericError, match=r"data row 2: the z of layers\[0\] overflows"):
        evaluate(saturated, blocks([[0.0], [1e10]], [[0], [0]])())


def test_values_that_overflow_are_named():
    big = net({"layers": [{"weights": [[1e300]]}, {"weights": [[1e300]]}]})
    with pytest.raises(NumericError, match="data row 1"):
        evaluate(big, blocks([[1e10]], [[0]])())
    # At the largest double, w + h is past float64 (at 1e308 it is not: that checks fine).
    with pytest.raises(NumericError, match="there is no difference"):
        check_gradient(blocks([[1e-300]], [[0]]), net({"layers": [{"weights": [[1.7976931348623157e308]]}]}))
    assert all(
        c.ok for c in check_gradient(blocks([[1e-300]], [[0]]), net({"layers": [{"weights": [[1e308]]}]}))
    )


def test_check_says_when_a_moved_weight_overflows():
    network = net({"layers": [{"weights": [[1.0]], "activation": "tanh"}, {"weights": [[1.0]]}]})
    calls = []

    def data():
        calls.append(1)
        size = 1.0 if len(calls) <= 2 else 1e308  # the differences see values that overflow
        return [Block(np.array([[1.0]]), np.array([[size * 10]]) if size > 1 else np.array([[0.5]]), 0)]

    with pytest.raises(NumericError, match="there is no difference to compare"):
        check_gradient(data, network)


def _worst(checks):
    return max(c.abs_error / c.tolerance for c in checks)


def test_check_has_no_false_alarm_on_a_network_that_fits_its_data():
    # Targets made by the network itself: every error cancels to rounding noise of |y| ~ 100,
    # which the old tolerance (ε·loss/h) took for a disagreement, by a factor of 10^6.
    network = net(
        {
            "layers": [
                {"weights": [[0.5, -1.5], [2, 0.25]], "bias": [0.5, -1], "activation": "tanh"},
                {"weights": [[3, -2]], "bias": [1]},
            ]
        }
    )
    X = np.array([[30.0, 20], [-10, 40], [25, -35]])
    data = blocks(X.tolist(), forward(network, X).preds.tolist())
    checks = check_gradient(data, network)
    assert all(c.ok for c in checks) and _worst(checks) < 0.1


@pytest.mark.parametrize("scale", [1e4, 1e5])
def test_check_has_no_false_alarm_where_large_inputs_curve_the_loss(scale):
    # z = w·x stays moderate, but ∂z/∂w = x is large: the central difference's truncation error
    # (h²·L'''/6) grows as x³, far beyond the old tolerance's guess of h²·loss.
    network = net(
        {"layers": [{"weights": [[4 / scale, 2 / scale]], "activation": "sigmoid"}, {"weights": [[1]]}]}
    )
    data = blocks((np.array([[1, 0.5], [-0.3, 0.8]]) * scale).tolist(), [[0.1], [0.9]])
    checks = check_gradient(data, network)
    assert all(c.ok for c in checks) and _worst(checks) < 0.5


def test_check_still_catches_a_gradient_that_is_off_by_a_little(monkeypatch):
    network = net(WORKED)
    data = blocks([[3, 5], [1, 1], [-2, 0.5]], [[1], [2], [0]])
    assert all(c.ok for c in check_gradient(data, network))
    right = NetSums.flat_gradient
    monkeypatch.setattr(NetSums, "flat_gradient", lambda self: right(self) * (1 + 1e-4))
    wrong = check_gradient(data, network)
    assert not all(c.ok for c in wrong)


@settings(max_examples=20, deadline=None)
@given(cases(), st.integers(-3, 3), st.booleans())
def test_check_has_no_false_alarm_on_random_networks(case, exponent, fitted):
    """Every activation, 1–3 hidden layers, inputs from 10⁻³ to 10³, targets random or the
    network's own outputs (errors that cancel): the default tolerances never cry wolf, away
    from a ReLU kink that the differences at θ ± h straddle (there, rightly, they disagree)."""
    document, X, Y = case
    network = net(document)
    X = (np.array(X) * 10.0**exponent).tolist()
    passed = forward(network, np.array(X))
    relu = [z for layer, z in zip(network.layers, passed.z, strict=True) if layer.activation == "relu"]
    assume(all((np.abs(z) > 0.02 * max(1.0, 10.0**exponent)).all() for z in relu))
    if fitted:
        Y = forward(network, np.array(X)).preds.tolist()
    try:
        checks = check_gradient(blocks(X, Y), network)
    except NumericError:
        return
    bad = [name for name, c in zip(network.parameter_names(), checks, strict=True) if not c.ok]
    assert not bad


def test_check_says_when_a_weight_moved_by_h_leaves_float64():
    network = net(
        {"layers": [{"weights": [[1.7976931348623157e308]], "activation": "tanh"}, {"weights": [[1.0]]}]}
    )
    with pytest.raises(NumericError, match="there is no difference to compare"):
        check_gradient(blocks([[1e-300]], [[0]]), network)


@pytest.mark.parametrize("rows", [False, True])
def test_a_step_that_overshoots_names_the_learning_rate(rows):
    # The data is fine at the start (compute succeeds); only the updated network overflows. This
    # used to say "the values are too large", which sent the learner to the data.
    data = blocks([[-3e-7, 5.5e12], [1, 1]], [[1.2e100], [2]])
    assert math.isfinite(evaluate(net(WORKED), data()).loss)
    on_rows = (lambda old, new: None) if rows else None
    with pytest.raises(DivergedError, match=r"^input: after the step, .*--learning-rate 1e-09 is too large"):
        step(data, net(WORKED), 1e-9, on_rows=on_rows)


@pytest.mark.parametrize(
    ("document", "x"),
    [
        ({"layers": [{"weights": [[1e308]], "activation": "sigmoid"}, {"weights": [[1.0]]}]}, 1.0),
        (
            {
                "layers": [
                    {"weights": [[1e200]], "activation": "tanh"},
                    {"weights": [[1e200]], "activation": "tanh"},
                ]
            },
            1e-100,
        ),
    ],
)
def test_check_works_where_an_activation_saturates_far_from_zero(document, x):
    # z's rounding is huge (ε·10^308) but a sigmoid or tanh is off by at most its range: the
    # error bound used to overflow, and check said "there is no difference to compare".
    checks = check_gradient(blocks([[x]], [[0.5]]), net(document))
    assert all(c.ok and math.isfinite(c.tolerance) for c in checks)


def test_check_takes_an_absolute_tolerance_and_refuses_an_infinite_one():
    data = blocks([[3, 5], [1, 1]], [[1], [2]])
    checks = check_gradient(data, net(WORKED), rtol=0.0, atol=1e-3)
    assert all(c.ok and c.tolerance == 1e-3 for c in checks)
    with pytest.raises(NumericError, match="there is no difference to compare"):
        check_gradient(data, net(WORKED), atol=math.inf)  # it would pass any gradient
