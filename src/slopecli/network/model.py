"""A small network as a file: its layers, read from either of two JSON forms, and written back.

The layered form mirrors the arrays::

    {"layers": [{"weights": [[2, 4], [4, -5]], "bias": [0, 0], "activation": "relu"},
                {"weights": [[2, 7]], "activation": "identity"}]}

``weights[j]`` holds node j's incoming weights, one per node (or input) of the layer before. A
``"features"`` list beside the layers names the inputs in that order (``--save-network`` writes
it), so that the data's columns are read by name. The course's dictionary form is accepted
too: ``{"node_0": [2, 4], "node_1": [4, -5], "output": [2, 7]}`` for one hidden layer,
``node_<layer>_<index>`` for several; ``output`` may be a list of lists. Every shape error names
the layer, the node and both counts.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from slopecli.core import Matrix, Vector
from slopecli.errors import InputError
from slopecli.text import count
from slopecli.values import saved_features, unique_keys, unknown_key

ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")
_ABSENT = object()
# ASCII digits without leading zeros: "node_01" or "node_١" would silently be node 1 (or clash
# with "node_1"), so they are unknown keys.
_INDEX = "(0|[1-9][0-9]*)"
_NODE = re.compile(f"node_{_INDEX}(?:_{_INDEX})?")
_LONG_INTEGER = 20
"""Integers with more digits than this are read as floats: Python refuses to parse ints beyond
4,300 digits, and a weight is a float anyway."""


@dataclass(frozen=True, eq=False)
class Layer:
    """One layer: ``weights`` (nodes × inputs), an optional ``bias`` (one per node), its activation."""

    weights: Matrix
    bias: Vector | None
    activation: str

    @property
    def nodes(self) -> int:
        return int(self.weights.shape[0])

    @property
    def inputs(self) -> int:
        return int(self.weights.shape[1])


@dataclass(frozen=True, eq=False)
class Network:
    """Layers from the first hidden layer to the output layer, and the names of the inputs the
    first layer's weights follow, when the file gave them (``--save-network`` does)."""

    layers: tuple[Layer, ...]
    features: tuple[str, ...] | None = None

    @property
    def inputs(self) -> int:
        return self.layers[0].inputs

    @property
    def outputs(self) -> int:
        return self.layers[-1].nodes

    @property
    def parameters(self) -> int:
        return sum(
            layer.weights.size + (0 if layer.bias is None else layer.bias.size) for layer in self.layers
        )

    def flat(self) -> Vector:
        """Every parameter in one vector: each layer's weights (row by row), then its bias."""
        parts: list[Vector] = []
        for layer in self.layers:
            parts.append(layer.weights.ravel())
            if layer.bias is not None:
                parts.append(layer.bias)
        return np.concatenate(parts)

    def with_flat(self, values: Vector) -> Network:
        """The same network with its parameters taken from ``values`` (the order of :meth:`flat`)."""
        layers = []
        at = 0
        for layer in self.layers:
            size = layer.weights.size
            weights = values[at : at + size].reshape(layer.weights.shape)
            at += size
            bias = None
            if layer.bias is not None:
                bias = values[at : at + layer.nodes]
                at += layer.nodes
            layers.append(Layer(weights, bias, layer.activation))
        return Network(tuple(layers), self.features)

    def parameter_names(self) -> list[str]:
        """How messages and tables name each parameter of :meth:`flat`: ``layers[1].weights[0][2]``."""
        names = []
        for i, layer in enumerate(self.layers):
            names += [
                f"layers[{i}].weights[{j}][{m}]" for j in range(layer.nodes) for m in range(layer.inputs)
            ]
            if layer.bias is not None:
                names += [f"layers[{i}].bias[{j}]" for j in range(layer.nodes)]
        return names

    def to_json(self) -> dict[str, Any]:
        """The layered form of the layers, as ``--network`` reads it."""
        layers: list[dict[str, Any]] = []
        for layer in self.layers:
            entry: dict[str, Any] = {"weights": layer.weights.tolist()}
            if layer.bias is not None:
                entry["bias"] = layer.bias.tolist()
            entry["activation"] = layer.activation
            layers.append(entry)
        return {"layers": layers}

    def saved(self, features: tuple[str, ...]) -> dict[str, Any]:
        """The file ``--save-network`` writes: the layers and the input columns they follow, in
        the first layer's order, so that a later run reads its data's columns by name."""
        return {"features": list(features), **self.to_json()}


def parse_network(text: str, where: str) -> Network:
    """A network from a file's text, in either form.

    Raises:
        InputError: the text is not JSON, or not a network: naming the layer, node and counts.
    """
    try:
        document = json.loads(text, parse_int=_integer, object_pairs_hook=unique_keys(where))
    except json.JSONDecodeError as exc:
        msg = f"{where}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        raise InputError(msg) from None
    except RecursionError:
        msg = f"{where}: the JSON is nested too deeply to be a network"
        raise InputError(msg) from None
    if not isinstance(document, dict):
        msg = f'{where}: expected a JSON object with "layers" (or the course\'s "node_0", …, "output")'
        raise InputError(msg)
    if "layers" in document:
        others = sorted(set(document) - {"layers", "features"})
        if others:
            raise unknown_key(
                where,
                others[0],
                'beside "layers" a network has only "features": give the layers alone, or the course\'s form',
            )
        network = _layered(document["layers"], where)
        if "features" not in document:
            return network
        holds = f"layers[0] has {count(network.inputs, 'weight')} per node"
        names = saved_features(document["features"], network.inputs, where, "--save-network", holds)
        return Network(network.layers, names)
    return _course(document, where)


def _integer(text: str) -> int | float:
    return int(text) if len(text) <= _LONG_INTEGER else float(text)


def _layered(layers: Any, where: str) -> Network:
    if not isinstance(layers, list) or not layers:
        msg = f'{where}: "layers" must be a non-empty list of layers'
        raise InputError(msg)
    built: list[Layer] = []
    for i, entry in enumerate(layers):
        name = f"layers[{i}]"
        if not isinstance(entry, dict) or "weights" not in entry:
            msg = f'{where}: {name}: expected an object with "weights"'
            raise InputError(msg)
        unknown = sorted(set(entry) - {"weights", "bias", "activation"})
        if unknown:
            raise unknown_key(f"{where}: {name}", unknown[0], 'a layer has "weights", "bias", "activation"')
        rows = entry["weights"]
        if not isinstance(rows, list) or not rows:
            msg = f"{where}: {name}: weights must be a non-empty list, one list per node"
            raise InputError(msg)
        weights = [_vector(row, f"{where}: {name} node {j}") for j, row in enumerate(rows)]
        bias = None
        if "bias" in entry:
            bias = _vector(entry["bias"], f"{where}: {name} bias")
            if len(bias) != len(weights):
                msg = (
                    f"{where}: {name} bias: {count(len(bias), 'value')}, but the layer has"
                    f" {count(len(weights), 'node')}"
                )
                raise InputError(msg)
        last = i == len(layers) - 1
        activation = _activation(entry.get("activation", _ABSENT), last, f"{where}: {name}")
        built.append(_layer(weights, bias, activation, where, name, built))
    return Network(tuple(built))


def _course(document: dict[str, Any], where: str) -> Network:
    if "output" not in document:
        msg = f'{where}: expected "layers", or the course\'s form with "node_0", …, and "output"'
        raise InputError(msg)
    hidden: dict[int, dict[int, Any]] = {}
    forms = set()
    for key, value in document.items():
        if key == "output":
            continue
        match = _NODE.fullmatch(key)
        if match is None:
            raise unknown_key(where, key, 'expected "node_<index>", "node_<layer>_<index>" or "output"')
        if match.group(2) is None:
            forms.add("single")
            layer, node = 0, int(match.group(1))
        else:
            forms.add("layered")
            layer, node = int(match.group(1)), int(match.group(2))
        hidden.setdefault(layer, {})[node] = value
    if len(forms) > 1:
        msg = f'{where}: mixes "node_<index>" and "node_<layer>_<index>" keys; use one form'
        raise InputError(msg)
    single = forms == {"single"}
    layers: list[Layer] = []
    for layer in range(len(hidden)):
        if layer not in hidden:
            msg = f"{where}: no node_{layer}_0: hidden layers are numbered from 0 without gaps"
            raise InputError(msg)
        nodes = hidden[layer]
        for j in range(len(nodes)):
            if j not in nodes:
                key = f"node_{j}" if single else f"node_{layer}_{j}"
                msg = f"{where}: no {key}: nodes are numbered from 0 without gaps"
                raise InputError(msg)
        names = [f"node_{j}" if single else f"node_{layer}_{j}" for j in range(len(nodes))]
        weights = [_vector(nodes[j], f"{where}: {names[j]}") for j in range(len(nodes))]
        layers.append(_layer(weights, None, "relu", where, names, layers, hidden_layer=layer))
    output = document["output"]
    rows = output if isinstance(output, list) and output and isinstance(output[0], list) else [output]
    weights = [
        _vector(row, f"{where}: output" + (f" {j}" if len(rows) > 1 else "")) for j, row in enumerate(rows)
    ]
    names = ["output" + (f" {j}" if len(rows) > 1 else "") for j in range(len(rows))]
    layers.append(_layer(weights, None, "identity", where, names, layers, hidden_layer=len(hidden)))
    return Network(tuple(layers))


def _layer(
    weights: list[Vector],
    bias: Vector | None,
    activation: str,
    where: str,
    name: str | list[str],
    before: list[Layer],
    hidden_layer: int | None = None,
) -> Layer:
    """A layer whose nodes have as many weights as the layer before has nodes (the first: as each other)."""
    expected = before[-1].nodes if before else len(weights[0])
    for j, row in enumerate(weights):
        if len(row) != expected:
            node = name[j] if isinstance(name, list) else f"{name} node {j}"
            if before:
                what = (
                    f"hidden layer {hidden_layer - 1}"
                    if hidden_layer is not None
                    else f"layers[{len(before) - 1}]"
                )
                why = f"{what} has {count(expected, 'node')}"
            else:
                first = name[0] if isinstance(name, list) else f"{name} node 0"
                why = f"{first} has {count(expected, 'weight')} (one per input)"
            msg = f"{where}: {node}: {count(len(row), 'weight')}, but {why}"
            raise InputError(msg)
    return Layer(np.array(weights, dtype=np.float64), bias, activation)


def _activation(value: Any, last: bool, where: str) -> str:
    if value is _ABSENT:
        return "identity" if last else "relu"
    if not isinstance(value, str) or value not in ACTIVATIONS:
        msg = f"{where}: activation {json.dumps(value)}: expected one of {', '.join(ACTIVATIONS)}"
        raise InputError(msg)
    return str(value)


def _vector(value: Any, where: str) -> Vector:
    if not isinstance(value, list) or not value:
        msg = f"{where}: expected a non-empty list of numbers, got {json.dumps(value)[:40]}"
        raise InputError(msg)
    for m, item in enumerate(value):
        # bool is an int subclass in Python, but true/false are not weights.
        if isinstance(item, bool) or not isinstance(item, int | float):
            msg = f"{where}: value {m} is {json.dumps(item)[:40]}, not a number"
            raise InputError(msg)
        if not math.isfinite(item):
            msg = f"{where}: value {m} is not a finite number"
            raise InputError(msg)
    return np.array(value, dtype=np.float64)
