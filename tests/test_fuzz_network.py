"""The fuzzer for ``--network FILE``: generated network files (valid and mutated, in both forms),
data (flags and small CSV files) and commands in every format, each run held to the contract.

The contract is tests/fuzzing.py's (one stderr line on failure, no traceback, nothing on stdout,
an allowed exit code), with the network's own JSON Schemas (``schemas/network/``) for output. The
oracle is a plain-Python forward and backward pass in exact rationals (:class:`fractions.Fraction`)
over the document as the README describes it, never slopecli's parser or numpy: weights and
inputs are multiples of 1/4, so every ``identity`` and ``relu`` value is exact in float64 too, and a
ReLU sees the same sign of ``z`` in both. ``sigmoid`` and ``tanh`` are applied with :mod:`math` to
the exact ``z`` (rounded once), and may only follow, never precede, a ReLU-free stretch.
Successful runs must match the oracle's n, loss and every gradient to 1e-9 relative to the
magnitudes they are summed from; ``step`` its updated network; ``check`` its verdict.

CI runs a bounded sample; the ``slow`` test and ``HYPOTHESIS_PROFILE=release`` run more, and
``python bench/fuzz.py --categories network`` many more.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzzing import (
    ERROR_LINE,
    WARNING_LINE,
    Case,
    File,
    Outcome,
    fuzz_settings,
    json_lines,
    output_format,
    run_case,
    stderr_lines,
    strict_json,
)

ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")
SMOOTH = ("sigmoid", "tanh")
REL = 1e-9

# ----------------------------------------------------------------------------------------------
# The oracle: a document as the README reads it, and the exact passes.


@dataclass(frozen=True)
class NetCase(Case):
    """A network run, with what the oracle knows of it.

    ``layers`` is the network as the README defines it (None: the document is not a network);
    ``X``/``Y`` the rows (None: the data does not fit it, or the flags are wrong); ``verdict``
    ``accept``, ``reject`` or ``either``.
    """

    layers: tuple[tuple[tuple[tuple[Fraction, ...], ...], tuple[Fraction, ...] | None, str], ...] | None = (
        None
    )
    X: tuple[tuple[Fraction, ...], ...] | None = None
    Y: tuple[tuple[Fraction, ...], ...] | None = None
    verdict: str = "either"
    learning_rate: Fraction | None = None


def _f(z: Fraction, activation: str) -> Fraction:
    if activation == "identity":
        return z
    if activation == "relu":
        return max(z, Fraction(0))
    if activation == "sigmoid":
        return Fraction(1 / (1 + math.exp(-float(z))))
    return Fraction(math.tanh(float(z)))


def _df_scale(z: Fraction, a: Fraction, activation: str) -> Fraction:
    """What ``f'(z)``'s rounding is relative to. A saturated sigmoid or tanh computes its slope as
    ``1 − a²`` (or ``a·(1 − a)``) from a rounded ``a``: the error is a few ε absolute, not
    relative, and 1e-9 of 1e-6 covers it."""
    slope = abs(_df(z, a, activation))
    return slope + Fraction(1, 10**6) if activation in SMOOTH else slope


def _df(z: Fraction, a: Fraction, activation: str) -> Fraction:
    if activation == "identity":
        return Fraction(1)
    if activation == "relu":
        return Fraction(1 if z > 0 else 0)
    if activation == "sigmoid":
        return a * (1 - a)
    return 1 - a * a


@dataclass(frozen=True)
class Exact:
    n: int
    loss: Fraction
    gradient: list[Fraction]
    """In the order of the README's parameters: each layer's weights row by row, then its bias."""
    scale: list[Fraction]
    """The same gradient computed from magnitudes (|W|, |a|, and |e| + |y| + the magnitudes the
    outputs are summed from, at the output): what its rounding is relative to."""
    kink: bool
    """A ReLU's z is exactly 0 on some row: check may rightly report it."""
    loss_scale: Fraction
    """What the loss's rounding is relative to: each e² to 2|e|·(|preds| + |y|), and at least a
    few ε² of (|preds| + |y|)² (an oracle's sigmoid may differ from numpy's in the last bit)."""


def passes(layers: Any, x: Any) -> tuple[list[list[Fraction]], list[list[Fraction]], list[Fraction]]:
    """Each layer's z, the activations from the inputs to the output, and the magnitudes the
    outputs are computed from (``|W|·m + |b|`` layer by layer, as the linear oracle's
    ``|x|·|w| + |y|``: a sum that cancels is rounded relative to its terms), for one row."""
    acts, zs = [list(x)], []
    mags = [abs(v) for v in x]
    for ws, bias, activation in layers:
        z = [sum((w * a for w, a in zip(row, acts[-1], strict=True)), Fraction(0)) for row in ws]
        m = [sum((abs(w) * v for w, v in zip(row, mags, strict=True)), Fraction(0)) for row in ws]
        if bias is not None:
            z = [v + b for v, b in zip(z, bias, strict=True)]
            m = [v + abs(b) for v, b in zip(m, bias, strict=True)]
        zs.append(z)
        acts.append([_f(v, activation) for v in z])
        mags = [abs(a) + v for a, v in zip(acts[-1], m, strict=True)] if activation in SMOOTH else m
    return zs, acts, mags


def exact(layers: Any, X: Any, Y: Any) -> Exact:
    """Forward, loss and backward, one row and one node at a time, in rationals."""
    k = len(Y[0])
    n = len(X)
    grads = [([[Fraction(0)] * len(row) for row in ws], [Fraction(0)] * len(ws)) for ws, _, _ in layers]
    mags = [([[Fraction(0)] * len(row) for row in ws], [Fraction(0)] * len(ws)) for ws, _, _ in layers]
    sse = sse_scale = Fraction(0)
    kink = False
    for x, y in zip(X, Y, strict=True):
        zs, acts, mags_out = passes(layers, x)
        kink |= any(activation == "relu" and 0 in z for (_, _, activation), z in zip(layers, zs, strict=True))
        err = [p - t for p, t in zip(acts[-1], y, strict=True)]
        sse += sum(e * e for e in err)
        # e is rounded relative to m = |preds| + |y|: e² is off by 2|e|·εm, or (εm)² where e is 0.
        sse_scale += sum(
            2 * abs(e) * (m + abs(t)) + (m + abs(t)) ** 2 / 10**20
            for e, m, t in zip(err, mags_out, y, strict=True)
        )
        delta = [e * _df(z, a, layers[-1][2]) for e, z, a in zip(err, zs[-1], acts[-1], strict=True)]
        size = [
            (abs(e) + m + abs(t)) * _df_scale(z, p, layers[-1][2])
            for e, p, m, t, z in zip(err, acts[-1], mags_out, y, zs[-1], strict=True)
        ]
        for i in range(len(layers) - 1, -1, -1):
            ws, bias, _ = layers[i]
            for j, row in enumerate(ws):
                for m in range(len(row)):
                    grads[i][0][j][m] += delta[j] * acts[i][m]
                    mags[i][0][j][m] += size[j] * abs(acts[i][m])
                grads[i][1][j] += delta[j]
                mags[i][1][j] += size[j]
            if i:
                act = layers[i - 1][2]
                below = range(len(ws[0]))
                delta = [
                    _df(zs[i - 1][m], acts[i][m], act) * sum(ws[j][m] * delta[j] for j in range(len(ws)))
                    for m in below
                ]
                size = [
                    (abs(_df(zs[i - 1][m], acts[i][m], act)) + 1)
                    * sum(abs(ws[j][m]) * size[j] for j in range(len(ws)))
                    for m in below
                ]
    scale = Fraction(2, n * k)
    flat: list[Fraction] = []
    flat_scale: list[Fraction] = []
    for (_, bias, _), (gw, gb), (mw, mb) in zip(layers, grads, mags, strict=True):
        for row, mrow in zip(gw, mw, strict=True):
            flat += [g * scale for g in row]
            flat_scale += [m * scale for m in mrow]
        if bias is not None:
            flat += [g * scale for g in gb]
            flat_scale += [m * scale for m in mb]
    return Exact(n, sse / (n * k), flat, flat_scale, kink, sse_scale / (n * k))


def near(got: float, want: Fraction, scale: Fraction) -> bool:
    if not math.isfinite(got):
        return False
    return abs(Fraction(got) - want) <= Fraction(REL) * (scale + abs(want)) + Fraction(1, 10**300)


def flat_gradients(gradients: list[dict[str, Any]]) -> list[float]:
    values: list[float] = []
    for layer in gradients:
        values += [g for row in layer["weights"] for g in row]
        values += layer.get("bias", [])
    return values


def flat_network(network: dict[str, Any]) -> list[float]:
    return flat_gradients(network["layers"])


# ----------------------------------------------------------------------------------------------
# The contract, with the network's schemas.


@cache
def validator(name: str) -> Any:
    import jsonschema

    text = resources.files("slopecli").joinpath("schemas", "network", name).read_text()
    return jsonschema.Draft202012Validator(json.loads(text))


def network_problems(case: NetCase, run: Outcome) -> list[str]:
    """Every way ``run`` broke the contract or disagreed with the oracle; empty when it kept both."""
    if run.exception is not None:
        return [f"an exception escaped: {run.exception.strip().splitlines()[-1]}"]
    found: list[str] = []
    command = case.command
    allowed = {0, 1, 2, 3} if command == "check" else {0, 1, 2}
    if run.exit_code not in allowed:
        return [f"exit code {run.exit_code} not in {sorted(allowed)}"]
    if "Traceback" in run.stderr or "Traceback" in run.stdout:
        found.append("a traceback was printed")
    lines = stderr_lines(run.stderr)
    fmt = output_format(case.args)
    if run.exit_code in (1, 2):
        if len(lines) != 1 or not ERROR_LINE.fullmatch(lines[0]):
            found.append(f"a failure must print exactly one error line on stderr, got {run.stderr!r}")
        streamed = fmt == "jsonl" and command in ("compute", "descend")
        if run.stdout and not streamed:
            found.append(f"a failure printed on stdout: {run.stdout[:200]!r}")
        elif run.stdout:  # the lines streamed before the failure: each whole and valid
            found += _invalid(
                lambda: [_valid(f"{command}-jsonl", strict_json(line)) for line in json_lines(run.stdout)]
            )
        if case.verdict == "accept" and not (command in ("step", "descend") and "overflow" in run.stderr):
            found.append(f"rejected what the oracle accepts: {run.stderr.strip()!r}")
        return found
    if run.exit_code == 0 and any(not WARNING_LINE.fullmatch(line) for line in lines):
        found.append(f"a successful run printed on stderr: {lines[:3]!r}")
    if run.exit_code == 3 and (len(lines) != 1 or not ERROR_LINE.fullmatch(lines[0])):
        found.append(f"a failed check must print exactly one error line on stderr, got {run.stderr!r}")
    if case.verdict == "reject":
        found.append("accepted what the oracle rejects")
    if fmt not in ("json", "jsonl"):
        if not run.stdout:
            found.append("a successful run printed nothing")
        return found
    if fmt == "json":
        parsed: list[Any] = []
        found += _invalid(lambda: parsed.append(_valid(command, strict_json(run.stdout))))
        if found:
            return found
        doc, rows = parsed[0], parsed[0].get("checks")
    else:
        records: list[Any] = []
        found += _invalid(
            lambda: records.extend(
                _valid(f"{command}-jsonl", strict_json(line)) for line in json_lines(run.stdout)
            )
        )
        if found:
            return found
        if not records or (command != "check" and records[-1].get("kind") != "summary"):
            return ["JSON Lines do not end with a summary"]
        doc, rows = records[-1], records if records[-1].get("kind") == "check" else records[:-1]
    if case.layers is None or case.X is None or case.Y is None:
        return found
    return _against_oracle(case, run, doc, rows)


def _valid(schema: str, document: Any) -> Any:
    validator(f"{schema}.schema.json").validate(document)
    return document


def _invalid(parse: Any) -> list[str]:
    """What is wrong with the output ``parse()`` reads and validates: nothing, or one problem."""
    import jsonschema

    try:
        parse()
    except (ValueError, jsonschema.ValidationError) as exc:  # not (strict) JSON, or not the schema's
        return [f"the output is not valid: {type(exc).__name__}: {str(exc)[:300]}"]
    return []


def _against_oracle(case: NetCase, run: Outcome, doc: dict[str, Any], rows: Any) -> list[str]:
    assert case.layers is not None and case.X is not None and case.Y is not None
    want = exact(case.layers, case.X, case.Y)
    command = case.command
    found = []
    if command == "check":
        analytic = [row["analytic"] for row in rows or [] if "analytic" in row]
        if run.exit_code == 3 and not want.kink:
            found.append("check reported a disagreement (exit 3) with its default tolerances: a false alarm")
    else:
        if doc.get("n", want.n) != want.n:
            found.append(f"n {doc.get('n')}, the oracle says {want.n}")
        loss = doc.get("loss", doc.get("loss_before"))
        if command == "descend":
            loss = None  # the summary's loss is the last step's; compare step 0 below
            history = [r for r in (rows or doc.get("history", [])) if r.get("step") == 0]
            if history and not near(history[0]["loss"], want.loss, want.loss_scale):
                found.append(f"step 0 loss {history[0]['loss']!r}, the oracle says {float(want.loss)!r}")
        if loss is not None and not near(loss, want.loss, want.loss_scale):
            found.append(f"loss {loss!r}, the oracle says {float(want.loss)!r}")
        analytic = flat_gradients(doc["gradients"]) if "gradients" in doc else []
        if command == "step" and case.learning_rate is not None:
            updated = flat_network(doc["network_updated"])
            theta = _flat_theta(case)
            for got, t, g, s in zip(updated, theta, want.gradient, want.scale, strict=True):
                target = t - case.learning_rate * g
                if not near(got, target, abs(t) + case.learning_rate * (s + abs(g))):
                    found.append(f"updated parameter {got!r}, the oracle says {float(target)!r}")
                    break
    if analytic and len(analytic) != len(want.gradient):
        return [*found, f"{len(analytic)} gradients, the oracle has {len(want.gradient)} parameters"]
    for i, (got, g, s) in enumerate(zip(analytic, want.gradient, want.scale, strict=False)):
        if not near(got, g, s):
            found.append(f"gradient {i} is {got!r}, the oracle says {float(g)!r}")
            break
    return found


def _flat_theta(case: NetCase) -> list[Fraction]:
    assert case.layers is not None
    values: list[Fraction] = []
    for ws, bias, _ in case.layers:
        values += [v for row in ws for v in row]
        values += list(bias or ())
    return values


# ----------------------------------------------------------------------------------------------
# Generators.

quarter = st.integers(-12, 12).map(lambda q: Fraction(q, 4))


def number(value: Fraction) -> float | int:
    return int(value) if value.denominator == 1 else float(value)


@st.composite
def networks(draw: st.DrawFn, inputs: int | None = None) -> Any:
    """A network as the oracle holds it: layers of (weights, bias or None, activation)."""
    d = inputs or draw(st.integers(1, 3))
    sizes = [d, *draw(st.lists(st.integers(1, 3), max_size=2)), draw(st.integers(1, 2))]
    layers = []
    smooth = False
    for i in range(1, len(sizes)):
        # A ReLU only where its z is exact: before any sigmoid or tanh.
        choices = ("identity", *SMOOTH) if smooth else ACTIVATIONS
        activation = draw(st.sampled_from(choices))
        smooth |= activation in SMOOTH
        weights = tuple(tuple(draw(quarter) for _ in range(sizes[i - 1])) for _ in range(sizes[i]))
        bias = tuple(draw(quarter) for _ in range(sizes[i])) if draw(st.booleans()) else None
        layers.append((weights, bias, activation))
    return tuple(layers)


def layered_document(layers: Any, explicit: bool) -> dict[str, Any]:
    out = []
    for i, (ws, bias, activation) in enumerate(layers):
        entry: dict[str, Any] = {"weights": [[number(v) for v in row] for row in ws]}
        if bias is not None:
            entry["bias"] = [number(v) for v in bias]
        default = "identity" if i == len(layers) - 1 else "relu"
        if explicit or activation != default:
            entry["activation"] = activation
        out.append(entry)
    return {"layers": out}


def course_document(layers: Any) -> dict[str, Any] | None:
    """The course's form, when the network has one: no biases, ReLU hidden layers, identity output."""
    *hidden, last = layers
    if (
        any(b is not None for _, b, _ in layers)
        or any(a != "relu" for _, _, a in hidden)
        or last[2] != "identity"
    ):
        return None
    document: dict[str, Any] = {}
    for i, (ws, _, _) in enumerate(hidden):
        for j, row in enumerate(ws):
            key = f"node_{j}" if len(hidden) == 1 else f"node_{i}_{j}"
            document[key] = [number(v) for v in row]
    rows = [[number(v) for v in row] for row in last[0]]
    document["output"] = rows[0] if len(rows) == 1 else rows
    return document


MUTATIONS = (
    "truncate", "drop-layers", "extra-weight", "unknown-activation", "string", "null", "true", "nan",
    "huge", "empty-layers", "empty-row", "unknown-key", "duplicate-key", "nested", "not-utf8", "bom",
    "leading-zero", "top-list", "mixed", "bias-count",
)  # fmt: skip
HARMLESS = {"bom"}
"""Mutations that leave a network the README accepts: the run must match the oracle."""


def mutate(text: str, layered: bool, draw: st.DrawFn) -> tuple[bytes, str]:
    """The document's text, broken one way (or, for ``bom``, not at all)."""
    kind = draw(st.sampled_from(MUTATIONS))
    document = json.loads(text)
    first_number = next((i for i, c in enumerate(text) if c in "-0123456789" and text[i - 1] in "[ ,"), None)

    def replace_number(by: str) -> str:
        if first_number is None:
            return text
        end = first_number
        while end < len(text) and text[end] in "-0123456789.e":
            end += 1
        return text[:first_number] + by + text[end:]

    if kind == "truncate":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))].encode(), kind
    if kind == "string":
        return replace_number('"1"').encode(), kind
    if kind in ("null", "true"):
        return replace_number(kind).encode(), kind
    if kind == "nan":
        return replace_number(draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))).encode(), kind
    if kind == "huge":
        return replace_number(draw(st.sampled_from(["1e400", "-1e999", "1" + "0" * 400]))).encode(), kind
    if kind == "nested":
        return ("[" * draw(st.sampled_from([100, 100_000]))).encode(), kind
    if kind == "not-utf8":
        return text.encode()[:1] + b"\xff\xfe" + text.encode()[1:], kind
    if kind == "bom":
        return b"\xef\xbb\xbf" + text.encode(), kind
    if kind == "top-list":
        return json.dumps([document]).encode(), kind
    if kind == "duplicate-key":
        key = next(iter(document))
        return (text[:-1] + f", {json.dumps(key)}: {json.dumps(document[key])}}}").encode(), kind
    if kind == "mixed":
        return json.dumps(
            {**document, **({"node_0": [1], "output": [1]} if layered else {"layers": []})}
        ).encode(), kind
    if kind == "leading-zero":
        return json.dumps(
            {"node_00": [1], **document} if not layered else {"node_01": [1], "output": [1]}
        ).encode(), kind
    if kind == "unknown-key":
        if layered:
            document["layers"][0]["weight"] = [[1]]
        else:
            document["nodes"] = [1]
        return json.dumps(document).encode(), kind
    if layered:
        layer = document["layers"][draw(st.integers(0, len(document["layers"]) - 1))]
        if kind == "drop-layers":
            return json.dumps({"layer": document["layers"]}).encode(), kind
        if kind == "extra-weight":
            layer["weights"][-1].append(1)
        elif kind == "unknown-activation":
            layer["activation"] = draw(st.sampled_from(["softmax", "ReLU", "", 1, None]))
        elif kind == "empty-layers":
            document["layers"] = []
        elif kind == "empty-row":
            layer["weights"][0] = []
        elif kind == "bias-count":
            layer["bias"] = [0] * (len(layer["weights"]) + 1)
        return json.dumps(document).encode(), kind
    keys = [k for k in document if k != "output"]
    if kind == "drop-layers":
        del document["output"]
    elif kind in ("extra-weight", "bias-count") and keys:
        document[keys[-1]] = [*document[keys[-1]], 1]
    elif kind == "empty-row":
        document["output"] = []
    elif kind == "empty-layers":
        document = {"output": document["output"], "node_1": [1]}
    else:
        document["output"] = "relu"
    return json.dumps(document).encode(), kind


def _csv(X: Any, Y: Any, k: int, shuffle: bool) -> tuple[bytes, str | None]:
    d = len(X[0])
    names = [f"in{m}" for m in range(d)]
    targets = [f"t{j}" for j in range(k)] if k > 1 else ["target"]
    header = [*names, *targets]
    if shuffle:  # targets first: the reader finds them by name
        header = [*targets, *names]
    lines = [",".join(header)]
    for x, y in zip(X, Y, strict=True):
        values = dict(zip(names, x, strict=True)) | dict(zip(targets, y, strict=True))
        lines.append(",".join(repr(number(values[h])) for h in header))
    return ("\n".join(lines) + "\n").encode(), ",".join(targets) if (k > 1 or shuffle) else None


COMMANDS = {
    "compute": (("--json",), ("-f", "jsonl"), ("-f", "csv"), ("-f", "table"), ("--summary", "--json")),
    "step": (("--lr", "0.01", "--json"), ("--lr", "0.01", "-f", "jsonl"), ("--lr", "0.01", "-f", "table")),
    "descend": (
        ("--lr", "0.001", "--steps", "3", "--json"),
        ("--lr", "0.001", "--steps", "2", "-f", "jsonl"),
    ),
    "check": (("--json",), ("-f", "jsonl"), ("-f", "csv")),
}


@st.composite
def network_cases(draw: st.DrawFn) -> NetCase:
    """One run of ``--network``: a valid or mutated file in either form, data from flags or a CSV,
    and sometimes a flag that does not fit (a wrong count, a conflicting flag)."""
    layers = draw(networks())
    d, k = len(layers[0][0][0]), len(layers[-1][0])
    course = course_document(layers)
    layered = course is None or draw(st.booleans())
    document = layered_document(layers, draw(st.booleans())) if layered else course
    assert document is not None
    text = json.dumps(document, indent=draw(st.sampled_from([None, 2])))
    verdict = "accept"
    if draw(st.integers(0, 3)) == 0:
        data, kind = mutate(text, layered, draw)
        verdict = "accept" if kind in HARMLESS else "reject"
    else:
        data = text.encode()
    n = draw(st.integers(1, 5))
    X = tuple(tuple(draw(quarter) * 4 for _ in range(d)) for _ in range(n))
    Y = tuple(tuple(draw(quarter) for _ in range(k)) for _ in range(n))
    if draw(st.integers(0, 3)) == 0:  # targets the network fits (to float64): errors that cancel
        Y = tuple(tuple(Fraction(float(v)) for v in passes(layers, x)[1][-1]) for x in X)
    mutated = verdict == "reject"
    command = draw(st.sampled_from(sorted(COMMANDS)))
    args: list[str | File] = [command, "--network", File("net.json")]
    files = [("net.json", data)]
    # A flaw in the data on top of a mutated file could undo it (one more weight, one more input).
    flaws = ["none"] if mutated else ["none"] * 6 + ["inputs", "targets", "bias", "weights", "dask", "column"]
    flaw = draw(st.sampled_from(flaws))
    flawed = flaw in ("inputs", "bias", "weights", "dask")
    if draw(st.booleans()):
        flawed |= flaw == "targets"
        for x, y in zip(X, Y, strict=True):
            xs = [*x, Fraction(1)] if flaw == "inputs" else x
            ys = [*y, Fraction(0)] if flaw == "targets" else y
            args += ["-x", ",".join(repr(number(v)) for v in xs), "-y", ",".join(repr(number(v)) for v in ys)]
    else:
        csv, column = _csv(X, Y, k, draw(st.booleans()))
        if flaw == "inputs":  # one more column than the first layer has weights per node
            rows = csv.decode().splitlines()
            csv = "\n".join([rows[0] + ",extra", *(row + ",1" for row in rows[1:])]).encode() + b"\n"
        if flaw == "column":
            column = (column or "target") + ",nope"
            flawed = True
        if flaw == "targets" and column and k > 1:
            column = column.split(",")[0]
            flawed = True
        files.append(("data.csv", csv))
        args.append(File("data.csv"))
        if column:
            args += ["--target-column", column]
    args += list(draw(st.sampled_from(COMMANDS[command])))
    extra = {"bias": ["--bias"], "weights": ["-w", "1"], "dask": ["--engine", "dask"]}.get(flaw, [])
    args += extra
    if flawed:
        verdict = "reject"
    lr = Fraction("0.01") if command == "step" else None
    if verdict != "accept":
        return NetCase("network", tuple(args), tuple(files), verdict=verdict)
    return NetCase(
        "network", tuple(args), tuple(files), layers=layers, X=X, Y=Y, verdict=verdict, learning_rate=lr
    )


# ----------------------------------------------------------------------------------------------
# The tests.


def assert_keeps_the_contract(case: NetCase) -> None:
    run = run_case(case)
    found = network_problems(case, run)
    assert not found, (
        "\n".join(found)
        + f"\n--- reproducer ---\n{case.reproducer()}\n--- exit {run.exit_code}"
        + f"\n--- stdout ---\n{run.stdout[:2000]}\n--- stderr ---\n{run.stderr[:2000]}"
    )


@fuzz_settings(30)
@given(network_cases())
def test_network_files_and_data_keep_the_contract(case):
    assert_keeps_the_contract(case)


@pytest.mark.slow
@fuzz_settings(150)
@given(network_cases())
def test_network_files_and_data_keep_the_contract_at_length(case):
    assert_keeps_the_contract(case)
