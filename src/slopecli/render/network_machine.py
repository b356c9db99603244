"""Machine output of ``--network`` runs: their records, written through the one streaming :class:`Document`.

The shapes mirror the network file: per row ``"layers": [{"z": […], "a": […]}, …]`` from the first
hidden layer to the output, ``"gradients": [{"weights": [[…]], "bias": […]}, …]`` in the same
order, and ``"network_updated"``/``"network_final"`` in the form ``--network`` reads. Targets,
predictions and errors are lists, one entry per output. Never via Rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from slopecli.render.machine import step_records
from slopecli.render.stream import ByteStream, Document, Record, csv_line

if TYPE_CHECKING:
    from slopecli.descent import Descent
    from slopecli.descent import Record as StepRecord
    from slopecli.network.core import NetSums
    from slopecli.network.model import Network
    from slopecli.network.train import NetRows, NetStep


def head(network: Network, features: Sequence[str], targets: Sequence[str]) -> Record:
    return {"network": network.to_json(), "features": list(features), "targets": list(targets)}


def gradients(sums: NetSums) -> list[Record]:
    """Per layer ``{"weights": [[…]], "bias": […]}`` (``bias`` only where the layer has one)."""
    out: list[Record] = []
    for w, b in sums.gradients:
        entry: Record = {"weights": w.tolist()}
        if b is not None:
            entry["bias"] = b.tolist()
        out.append(entry)
    return out


def summary(sums: NetSums) -> Record:
    return {"n": sums.n, "gradients": gradients(sums), "loss": sums.loss}


def row_records(rows: NetRows) -> list[Record]:
    """The per-row records of one block: inputs, targets, each layer's z and a, preds and errors."""
    layers = [(z.tolist(), a.tolist()) for z, a in zip(rows.passed.z, rows.passed.a, strict=True)]
    return [
        {
            "row": rows.first_row + i + 1,
            "input": x,
            "target": y,
            "layers": [{"z": z[i], "a": a[i]} for z, a in layers],
            "preds": p,
            "error": e,
        }
        for i, (x, y, p, e) in enumerate(
            zip(
                rows.X.tolist(), rows.Y.tolist(), rows.passed.preds.tolist(), rows.error.tolist(), strict=True
            )
        )
    ]


def _outputs(prefix: str, k: int) -> list[str]:
    return [prefix] if k == 1 else [f"{prefix}_{j}" for j in range(1, k + 1)]


class NetworkRowsWriter:
    """``compute --network``: JSON (``rows``, then the summary), JSON Lines, or per-row CSV
    (``row``, each node's ``z<layer>_<node>`` and ``a<layer>_<node>``, ``preds`` and ``error``)."""

    def __init__(self, out: ByteStream, fmt: str, network: Network, with_rows: bool = True) -> None:
        columns = ["row"]
        for i, layer in enumerate(network.layers):
            columns += [f"z{i}_{j}" for j in range(layer.nodes)] + [f"a{i}_{j}" for j in range(layer.nodes)]
        k = network.outputs
        columns += _outputs("preds", k) + _outputs("error", k)

        key = "rows" if with_rows else None
        self._document = Document(out, fmt, key=key, columns=columns)
        self._with_rows = with_rows
        self._csv = fmt == "csv"

    def begin(self, network: Network, features: Sequence[str], targets: Sequence[str]) -> None:
        self._document.begin(head(network, features, targets))

    def rows(self, rows: NetRows) -> None:
        if self._csv:
            # A chunk's columns at once (render.csv_rows): a million rows need no Python record each.
            import numpy as np

            n = len(rows.error)
            columns = [np.arange(rows.first_row + 1, rows.first_row + n + 1, dtype=np.float64)]
            for z, a in zip(rows.passed.z, rows.passed.a, strict=True):
                columns += [*z.T, *a.T]
            self._document.add_columns([*columns, *rows.passed.preds.T, *rows.error.T])
        elif self._with_rows:
            self._document.add(row_records(rows))

    def end(self, sums: NetSums) -> None:
        self._document.end(summary(sums))


def step_rows(old: NetRows, new: NetRows) -> list[Record]:
    return step_records(old.first_row, old.X, old.Y, old.passed.preds, old.error, new.passed.preds, new.error)


STEP_PARAMETER_COLUMNS = ("parameter", "weight", "gradient", "weight_updated")


class NetworkStepWriter:
    """``step --network``: each row before and after, then the gradients, ``network_updated`` and
    the loss before and after. CSV: ``row``, then ``preds``/``error`` before and after per output;
    then a blank line and the step itself, one line per weight and bias (``STEP_PARAMETER_COLUMNS``,
    each named as ``check`` names it: ``layers[0].weights[1][0]``), as the linear model's step."""

    def __init__(self, out: ByteStream, fmt: str, network: Network, with_rows: bool = True) -> None:
        self._out = out
        self._csv = fmt == "csv"
        k = network.outputs
        names = ("preds_before", "error_before", "preds_after", "error_after")
        columns = ["row", *(c for name in names for c in _outputs(name, k))]

        def flatten(r: Record) -> list[Any]:
            return [r["row"], *(v for name in names for v in r[name])]

        key = "rows" if with_rows else None
        self._document = Document(out, fmt, key=key, columns=columns, flatten=flatten)
        self._with_rows = with_rows

    def begin(
        self, network: Network, features: Sequence[str], targets: Sequence[str], learning_rate: float
    ) -> None:
        self._document.begin({**head(network, features, targets), "learning_rate": learning_rate})

    def rows(self, old: NetRows, new: NetRows) -> None:
        if self._with_rows:
            self._document.add(step_rows(old, new))

    def end(self, result: NetStep) -> None:
        if self._csv:
            lines = [b"\n", csv_line(STEP_PARAMETER_COLUMNS)]
            before, gradient = result.network.flat().tolist(), result.before.flat_gradient().tolist()
            names, after = result.network.parameter_names(), result.updated.flat().tolist()
            lines += [csv_line(v) for v in zip(names, before, gradient, after, strict=True)]
            self._out.write(b"".join(lines))
            return
        self._document.end(
            {
                "n": result.before.n,
                "gradients": gradients(result.before),
                "network_updated": result.updated.to_json(),
                "loss_before": result.before.loss,
                "loss_after": result.after.loss,
                "improved": result.improved,
            }
        )


class NetworkDescentWriter:
    """``descend --network``: one record per step (``step``, ``loss``, ``gradient_norm`` and every
    weight and bias as ``parameters``, in the order ``parameter_names`` gives), then the final
    network; CSV: ``step,loss,gradient_norm`` and a column per parameter, named as in the file."""

    def __init__(self, out: ByteStream, fmt: str) -> None:
        self._out = out
        self._fmt = fmt
        self._document: Document | None = None

    def begin(
        self,
        network: Network,
        features: Sequence[str],
        targets: Sequence[str],
        learning_rate: float,
        steps: int,
        tol: float | None,
    ) -> None:
        names = network.parameter_names()
        self._document = Document(
            self._out,
            self._fmt,
            key="history",
            kind="step",
            columns=["step", "loss", "gradient_norm", *names],
            flatten=lambda r: [r["step"], r["loss"], r["gradient_norm"], *r["parameters"]],
        )
        self._document.begin(
            {
                **head(network, features, targets),
                "parameter_names": names,
                "learning_rate": learning_rate,
                "max_steps": steps,
                "tol": tol,
            }
        )

    def step(self, entry: StepRecord) -> None:
        assert self._document is not None, "begin() comes first"
        record = {
            "step": entry.step,
            "loss": entry.mse,
            "gradient_norm": entry.gradient_norm,
            "parameters": entry.weights.tolist(),
        }
        self._document.add([record])

    def end(self, run: Descent, final: Network) -> None:
        assert self._document is not None, "begin() comes first"
        self._document.end(
            {
                "steps": run.final.step,
                "stopped": run.stopped,
                "network_final": final.to_json(),
                "loss": run.final.mse,
                "gradient_norm": run.final.gradient_norm,
            }
        )
