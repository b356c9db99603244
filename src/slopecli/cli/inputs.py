"""Opening a command's data through the library, and saying its warnings once the run has succeeded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from slopecli.cli.app import report

if TYPE_CHECKING:
    from slopecli.dataset import DataOptions, Dataset


@contextmanager
def dataset(options: DataOptions) -> Iterator[Dataset]:
    """:func:`slopecli.dataset.open_dataset`; its warnings go to stderr after a run that succeeded,
    so that a failure still prints exactly one line."""
    from slopecli.dataset import open_dataset

    with open_dataset(options) as data:
        yield data
    for warning in data.warnings:
        report(f"slopecli: warning: {warning}")
