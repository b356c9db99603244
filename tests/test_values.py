"""Numbers typed by people: one number, a comma-separated vector, a weights file."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slopecli.errors import InputError
from slopecli.values import parse_number, parse_vector, parse_weights_file

FINITE = st.floats(allow_nan=False, allow_infinity=False)


def input_error(call: Callable[..., object], *args: str) -> str:
    """The message of the InputError that ``call(*args)`` raises."""
    with pytest.raises(InputError) as caught:
        call(*args)
    return str(caught.value)


# ---------------------------------------------------------------------------------------------
# parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0.0),
        ("7", 7.0),
        ("-1.5e3", -1500.0),
        ("  -1.5e3\t", -1500.0),
        ("+2", 2.0),
        (".5", 0.5),
        ("1e-3", 0.001),
        ("-0", -0.0),
        ("1.7976931348623157e308", 1.7976931348623157e308),
    ],
)
def test_parse_number_reads_finite_numbers(text: str, expected: float) -> None:
    assert parse_number(text, "--target 1") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "--target 1: expected a number, got an empty value"),
        ("   ", "--target 1: expected a number, got an empty value"),
        ("abc", "--target 1: 'abc' is not a number"),
        (" 1,5 ", "--target 1: '1,5' is not a number"),
        ("0x10", "--target 1: '0x10' is not a number"),
        ("nan", "--target 1: 'nan' is not a finite number"),
        ("-inf", "--target 1: '-inf' is not a finite number"),
        ("Infinity", "--target 1: 'Infinity' is not a finite number"),
        ("1e999", "--target 1: '1e999' is not a finite number"),  # overflows to inf
    ],
)
def test_parse_number_rejects_with_the_place_and_the_text(text: str, message: str) -> None:
    assert input_error(parse_number, text, "--target 1") == message


@given(FINITE)
def test_parse_number_round_trips_every_finite_float(value: float) -> None:
    assert parse_number(repr(value), "x") == value


# ---------------------------------------------------------------------------------------------
# parse_vector


def test_parse_vector_reads_the_course_weights() -> None:
    vector = parse_vector("0,2,1", "--weights")
    assert vector.dtype == np.float64
    assert vector.tolist() == [0.0, 2.0, 1.0]


def test_parse_vector_allows_spaces_and_exponents() -> None:
    assert parse_vector(" 0, 2 , -1e-3 ", "--weights").tolist() == [0.0, 2.0, -0.001]


def test_parse_vector_of_one_number() -> None:
    assert parse_vector("5", "--weights").tolist() == [5.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "--weights: expected comma-separated numbers, got an empty value"),
        ("  ", "--weights: expected comma-separated numbers, got an empty value"),
        ("1,,3", "--weights: item 2 of '1,,3': expected a number, got an empty value"),
        ("1,2,", "--weights: item 3 of '1,2,': expected a number, got an empty value"),
        (",1", "--weights: item 1 of ',1': expected a number, got an empty value"),
        (" 1,x ", "--weights: item 2 of '1,x': 'x' is not a number"),
        ("1;2", "--weights: item 1 of '1;2': '1;2' is not a number"),
        ("1, nan", "--weights: item 2 of '1, nan': 'nan' is not a finite number"),
        ("inf,0", "--weights: item 1 of 'inf,0': 'inf' is not a finite number"),
        # float() alone would take these.
        ("1,1_000", "--weights: item 2 of '1,1_000': '1_000' is not a number"),
        ("\x0b1,2", "--weights: item 1 of '\\x0b1,2': '\\x0b1' is not a number"),
    ],
)
def test_parse_vector_names_the_bad_item(text: str, message: str) -> None:
    assert input_error(parse_vector, text, "--weights") == message


@given(st.lists(FINITE, min_size=1, max_size=10))
def test_parse_vector_round_trips_finite_floats(values: list[float]) -> None:
    assert parse_vector(",".join(map(repr, values)), "--weights").tolist() == values


@given(st.lists(st.text(alphabet="0123456789+-.eEinfatyINF \t_\x0b", max_size=6), min_size=1, max_size=6))
def test_parse_vector_reads_what_parse_number_reads_item_by_item(items: list[str]) -> None:
    # Its one pass of float() over the whole vector must accept no more than the item-by-item check.
    try:
        want = [repr(parse_number(item, "")) for item in items]
    except InputError:
        with pytest.raises(InputError):
            parse_vector(",".join(items), "--weights")
    else:
        assert [repr(v) for v in parse_vector(",".join(items), "--weights").tolist()] == want


# ---------------------------------------------------------------------------------------------
# parse_weights_file


@pytest.mark.parametrize(
    "text",
    [
        '{"weights": [0, 2, 1]}',
        "[0, 2, 1]",
        "  [0,\n 2,\n 1]\n",  # JSON may span lines
        "0,2,1",
        "0, 2, 1\n",
        "\n  0,2,1  \n\n",
    ],
)
def test_parse_weights_file_reads_each_format(text: str) -> None:
    saved = parse_weights_file(text, "w.json")
    assert saved.weights.dtype == np.float64
    assert (saved.weights.tolist(), saved.features) == ([0.0, 2.0, 1.0], None)


def test_parse_weights_file_reads_the_features_saved_with_them() -> None:
    text = '{"weights": [0.0, 2.0, 1.0], "features": ["size", "rooms", "age"]}'  # what --save-weights writes
    saved = parse_weights_file(text, "w.json")
    assert (saved.weights.tolist(), saved.features) == ([0.0, 2.0, 1.0], ("size", "rooms", "age"))


def test_parse_weights_file_keeps_full_precision() -> None:
    assert parse_weights_file("[0.1, -1e-300, 12345678901234567]", "w.json").weights.tolist() == [
        0.1,
        -1e-300,
        12345678901234567.0,
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "w.json: the weights file is empty"),
        (" \n\t\n", "w.json: the weights file is empty"),
        ("0,2,1\n3,4,5\n", "w.json: expected one line of comma-separated weights, found 2 lines"),
        ("0,x,1", "w.json: item 2 of '0,x,1': 'x' is not a number"),
        ('"abc"', "w.json: item 1 of '\"abc\"': '\"abc\"' is not a number"),
        ("[1, 2", "w.json:1:6: not valid JSON: Expecting ',' delimiter"),
        ('{"weights": [1,]}', "w.json:1:16: not valid JSON: Expecting value"),
        ("[\n1,\n2,,\n]", "w.json:3:3: not valid JSON: Expecting value"),
        ('{"features": ["a"]}', 'w.json: the JSON object has no "weights" key'),
        # A key it would ignore is refused: a typo of "features" would drop the check by name.
        ('{"w": [1]}', 'w.json: unknown key \'w\' (a weights file has "weights" and "features")'),
        (
            '{"weights": [1], "mse": 49.0}',
            'w.json: unknown key \'mse\' (a weights file has "weights" and "features")',
        ),
        (
            '{"weights": [1], "feature": ["a"]}',
            'w.json: unknown key \'feature\' (a weights file has "weights" and "features")',
        ),
        (
            '{"weights": [1], "features": "a"}',
            'w.json: "features" must be a list of column names, as --save-weights writes it',
        ),
        (
            '{"weights": [1], "features": [1]}',
            'w.json: "features" must be a list of column names, as --save-weights writes it',
        ),
        (
            '{"weights": [1], "features": ["a", "b"]}',
            'w.json: "features" names 2 columns, but the file has 1 weight',
        ),
        # The weights file is at fault, not the data it was then matched against.
        (
            '{"weights": [1, 1, 1], "features": ["a", "b", "a"]}',
            "w.json: \"features\" names 'a' twice; each weight is for a column of its own",
        ),
        ("[]", "w.json: weights must be a non-empty JSON array of numbers"),
        ('{"weights": []}', "w.json: weights must be a non-empty JSON array of numbers"),
        ('{"weights": 3}', "w.json: weights must be a non-empty JSON array of numbers"),
        ('{"weights": "0,2,1"}', "w.json: weights must be a non-empty JSON array of numbers"),
        ('[1, "2"]', 'w.json: weight 2 is "2", not a number'),
        ("[true]", "w.json: weight 1 is true, not a number"),  # bool is an int to Python, not to us
        ("[0, false]", "w.json: weight 2 is false, not a number"),
        ("[null]", "w.json: weight 1 is null, not a number"),
        ('[{"a": 1}]', 'w.json: weight 1 is {"a": 1.0}, not a number'),
        ("[NaN]", "w.json: weight 1 is not a finite number"),
        ("[1, -Infinity]", "w.json: weight 2 is not a finite number"),
        ("[1e400]", "w.json: weight 1 is not a finite number"),
        # An integer too large for a float64, written out: rejected like 1e400, not a traceback
        # (OverflowError from math.isfinite, or ValueError past Python's 4300-digit limit).
        ("[1" + "0" * 400 + "]", "w.json: weight 1 is not a finite number"),
        ("[" + "9" * 5000 + "]", "w.json: weight 1 is not a finite number"),
    ],
)
def test_parse_weights_file_rejects_with_a_precise_message(text: str, message: str) -> None:
    assert input_error(parse_weights_file, text, "w.json") == message


@given(st.lists(FINITE, min_size=1, max_size=10))
def test_parse_weights_file_round_trips_what_json_writes(values: list[float]) -> None:
    text = json.dumps({"weights": values}, allow_nan=False)
    assert parse_weights_file(text, "w.json").weights.tolist() == values
