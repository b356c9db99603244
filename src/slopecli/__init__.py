"""slopecli: gradients of a linear model under squared error.

The library API needs neither Typer nor Rich::

    >>> import numpy as np, slopecli
    >>> X, y, w = np.array([[1.0, 2.0, 3.0]]), np.array([0.0]), np.array([0.0, 2.0, 1.0])
    >>> slopecli.gradient(X, y, w).tolist()
    [14.0, 28.0, 42.0]

Names are loaded on first use, so that ``slopecli --help`` does not pay for numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "predict": "slopecli.core",
    "error": "slopecli.core",
    "slope": "slopecli.core",
    "gradient": "slopecli.core",
    "mse": "slopecli.core",
    "update": "slopecli.core",
    "Sums": "slopecli.core",
    "evaluate": "slopecli.evaluation",
    "RowBatch": "slopecli.evaluation",
    "DataOptions": "slopecli.dataset",
    "open_dataset": "slopecli.dataset",
    "open_table": "slopecli.readers.table",
    "CsvTable": "slopecli.readers.delimited",
    "ReadOptions": "slopecli.readers.layout",
    "Chunk": "slopecli.readers.chunk",
    "SlopeError": "slopecli.errors",
    "InputError": "slopecli.errors",
    "DataError": "slopecli.errors",
    "NumericError": "slopecli.errors",
    "UsageError": "slopecli.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    msg = f"module 'slopecli' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)
