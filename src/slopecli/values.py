"""Numbers typed by people: comma-separated vectors on flags and weights files.

Each parser is told ``where`` the text came from (a flag, a file) so that its errors can say so.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from slopecli.core import Vector
from slopecli.errors import InputError
from slopecli.text import count, quoted, repeated

# The decimal syntax Arrow accepts, so a number means the same on a flag and in a file (Python's
# float() alone would also take "1_000" and full-width digits, which Arrow rejects).
BLANKS = " \t"
"""What may surround a number: Arrow trims spaces and tabs from a field, and nothing else."""
NUMBER = re.compile(
    # "\d+(?:\.\d*)?", not "\d+\.?\d*": the latter splits a run of digits both ways, and a long
    # run followed by a letter then took time growing with its length squared (20,000: 12 s).
    r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)",
    re.IGNORECASE | re.ASCII,
)
NUMBER_CHARACTERS = "0123456789+-.eE" + "iInNfFtTyYaA" + BLANKS
"""The characters of NUMBER and of the blanks around it. Over them, Python's float() accepts exactly
NUMBER with blanks around it: what float() takes beyond (``_`` between digits, other white space,
digits of other scripts) is not among them. So text made of them needs float() alone."""
_NUMBERS = re.compile(f"[{re.escape(NUMBER_CHARACTERS)},]*")


def parse_number(text: str, where: str) -> float:
    """One finite number, e.g. ``"-1.5e3"``; spaces and tabs around it are allowed (as in a file).

    Raises:
        InputError: the text is empty, not a number, or NaN/infinite.
    """
    item = text.strip(BLANKS)
    if not item:
        msg = f"{where}: expected a number, got an empty value"
        raise InputError(msg)
    if not NUMBER.fullmatch(item):
        msg = f"{where}: {item!r} is not a number"
        raise InputError(msg)
    value = float(item)
    if not math.isfinite(value):
        msg = f"{where}: {item!r} is not a finite number"
        raise InputError(msg)
    return value


def parse_vector(text: str, where: str) -> Vector:
    """Comma-separated finite numbers, e.g. ``"0, 2, -1e-3"``.

    Raises:
        InputError: naming the item (1-based) that is empty or not a finite number.
    """
    items = text.split(",")
    if len(items) == 1 and not items[0].strip(BLANKS):
        msg = f"{where}: expected comma-separated numbers, got an empty value"
        raise InputError(msg)
    if _NUMBERS.fullmatch(text):
        # The usual case in one pass of float() (40,000 weights: ~10 ms, against ~45 ms item by item);
        # the loop below finds the item to name when this fails.
        with contextlib.suppress(ValueError):
            values = np.fromiter(map(float, items), np.float64, len(items))
            if np.isfinite(values).all():
                return values
    values = np.empty(len(items), dtype=np.float64)
    for i, item in enumerate(items):
        try:
            values[i] = parse_number(item, "")
        except InputError as exc:
            # The message is built for the one bad item only: building it for each would cost the
            # whole text per item (quadratic in the number of weights).
            shown = text.strip(BLANKS)
            shown = shown if len(shown) <= 200 else shown[:200] + "…"
            msg = f"{where}: item {i + 1} of {shown!r}{exc}"
            raise InputError(msg) from None
    return values  # pragma: no cover - float() failed above only where parse_number fails


WEIGHTS_KEYS = ("weights", "features")
"""The keys of a weights file's JSON object: what ``--save-weights`` writes."""


@dataclass(frozen=True)
class SavedWeights:
    """The weights of a weights file, and the feature names they were saved for, if it names them."""

    weights: Vector
    features: tuple[str, ...] | None = None


def parse_weights_file(text: str, where: str) -> SavedWeights:
    """Weights from a file's text: a JSON array, a JSON object with ``"weights"`` (and perhaps
    ``"features"``), or one line of comma-separated numbers (``--save-weights`` writes the object).

    Raises:
        InputError: the text is none of these, holds a value that is not a finite number, or an
            object key that is not one of :data:`WEIGHTS_KEYS` (a typo such as ``"feature"`` would
            otherwise drop the check it asks for, unseen).
    """
    stripped = text.strip()
    if not stripped:
        msg = f"{where}: the weights file is empty"
        raise InputError(msg)
    if stripped[0] not in "[{":
        lines = stripped.splitlines()
        if len(lines) > 1:
            msg = f"{where}: expected one line of comma-separated weights, found {len(lines)} lines"
            raise InputError(msg)
        return SavedWeights(parse_vector(lines[0], where))
    try:
        # Integers parse as floats: a huge one becomes inf (rejected below) instead of an
        # OverflowError in isfinite, or a ValueError past Python's int digit limit.
        document = json.loads(stripped, parse_int=float, object_pairs_hook=unique_keys(where))
    except json.JSONDecodeError as exc:
        msg = f"{where}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        raise InputError(msg) from None
    except RecursionError:
        msg = f"{where}: weights must be a flat JSON array of numbers; this one is nested too deeply"
        raise InputError(msg) from None
    if not isinstance(document, dict):
        return SavedWeights(_weights(document, where))
    unknown = next((key for key in document if key not in WEIGHTS_KEYS), None)
    if unknown is not None:
        raise unknown_key(where, unknown, 'a weights file has "weights" and "features"')
    if "weights" not in document:
        msg = f'{where}: the JSON object has no "weights" key'
        raise InputError(msg)
    weights = _weights(document["weights"], where)
    if "features" not in document:
        return SavedWeights(weights)
    holds = f"the file has {count(len(weights), 'weight')}"
    return SavedWeights(
        weights, saved_features(document["features"], len(weights), where, "--save-weights", holds)
    )


def _weights(document: Any, where: str) -> Vector:
    if not isinstance(document, list) or not document:
        msg = f"{where}: weights must be a non-empty JSON array of numbers"
        raise InputError(msg)
    for i, value in enumerate(document, start=1):
        # bool is an int subclass in Python, but true/false are not weights.
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"{where}: weight {i} is {json.dumps(value)}, not a number"
            raise InputError(msg)
        if not math.isfinite(value):
            msg = f"{where}: weight {i} is not a finite number"
            raise InputError(msg)
    return np.array(document, dtype=np.float64)


def saved_features(names: Any, expected: int, where: str, writer: str, holds: str) -> tuple[str, ...]:
    """The names a model was saved for, one per input (``holds``: "the file has 3 weights"): a
    file that names them is checked by name against the data, so names it could not check must
    not pass for none."""
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        msg = f'{where}: "features" must be a list of column names, as {writer} writes it'
        raise InputError(msg)
    if len(names) != expected:
        msg = f'{where}: "features" names {count(len(names), "column")}, but {holds}'
        raise InputError(msg)
    twice = repeated(names)
    if twice is not None:  # each weight goes to the column of its name: one name cannot take two
        msg = f'{where}: "features" names {quoted(twice)} twice; each weight is for a column of its own'
        raise InputError(msg)
    return tuple(names)


def unknown_key(where: str, key: str, known: str) -> InputError:
    """The one message for a key a JSON file of slopecli's may not have: ``known`` says which it may."""
    return InputError(f"{where}: unknown key {quoted(key)} ({known})")


def unique_keys(where: str) -> Any:
    """A ``json`` object hook that refuses a key given twice: one of them would be lost unseen."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                msg = f"{where}: the key {quoted(key)} is given twice in one object; keep one"
                raise InputError(msg)
            seen[key] = value
        return seen

    return hook
