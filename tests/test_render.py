"""Renderers: exact text from a fixed-width console, and the number formatting they share."""

from __future__ import annotations

import io
import json
from io import StringIO

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from slopecli.evaluation import evaluate
from slopecli.readers.chunk import Chunk
from slopecli.render.machine import CsvWriter, RowsWriter
from slopecli.render.numbers import elide, factor, num, squared, vec
from slopecli.render.tables import TableWriter

COURSE_TABLE = """\
course · 1 row · 3 weights
┏━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┓
┃ Step ┃ Quantity ┃ Formula                ┃ With numbers       ┃        Value ┃
┡━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━┩
│    1 │ preds    │ Σ w·x                  │ 0·1 + 2·2 + 1·3    │            7 │
│    2 │ error    │ preds − target         │ 7 − 0              │            7 │
│    3 │ slope    │ 2·x·error              │ 2·[1, 2, 3]·7      │ [14, 28, 42] │
│    4 │ gradient │ mean of the row slopes │ one row: its slope │ [14, 28, 42] │
│    5 │ mse      │ mean(error²)           │ 7²                 │           49 │
└──────┴──────────┴────────────────────────┴────────────────────┴──────────────┘
Per weight
┏━━━━━━━━━┳━━━┳━━━┳━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Feature ┃ w ┃ x ┃ w·x ┃ slope = 2·x·error ┃
┡━━━━━━━━━╇━━━╇━━━╇━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ x1      │ 0 │ 1 │   0 │                14 │
│ x2      │ 2 │ 2 │   4 │                28 │
│ x3      │ 1 │ 3 │   3 │                42 │
└─────────┴───┴───┴─────┴───────────────────┘
"""

AGGREGATE_TABLE = """\
two · 3 rows · 2 weights
┏━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┓
┃ Step ┃ Quantity ┃ Formula         ┃ With numbers       ┃          Value ┃
┡━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━┩
│    1 │ gradient │ (2/n)·Σ x·error │ (2/3)·[-3.1, 1.27] │ [-2.07, 0.844] │
│    2 │ mse      │ (1/n)·Σ error²  │ (1/3)·8.41         │            2.8 │
└──────┴──────────┴─────────────────┴────────────────────┴────────────────┘
Per weight
┏━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━┓
┃ Feature ┃     w ┃ Σ x·error ┃ gradient ┃
┡━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━┩
│ [bold]a │  -0.5 │      -3.1 │    -2.07 │
│ b       │ 0.333 │      1.27 │    0.844 │
└─────────┴───────┴───────────┴──────────┘
"""


def draw(features, weights, X, y, width=100, **options) -> str:
    console = Console(file=StringIO(), width=width, color_system=None)
    writer = TableWriter(console, **options)
    w = np.asarray(weights, dtype=float)
    writer.begin(features, w)
    writer.end(evaluate([Chunk(np.asarray(X, dtype=float), np.asarray(y, dtype=float), 0)], w, writer.rows))
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines()) + "\n"


def test_course_example_step_by_step():
    assert draw(["x1", "x2", "x3"], [0, 2, 1], [[1, 2, 3]], [0], title="course") == COURSE_TABLE


def test_aggregate_with_markup_in_a_column_name_and_precision():
    text = draw(
        ["[bold]a", "b"],
        [-0.5, 1 / 3],
        [[1, 2], [3, 4.5], [0.1, -2]],
        [0, 1, 2],
        title="two",
        precision=3,
        show_rows=0,
    )
    assert text == AGGREGATE_TABLE


def test_per_row_table_lists_first_rows_then_says_how_many_more():
    text = draw(["a"], [1], [[i] for i in range(12)], [0] * 12, show_rows=2)
    assert "│   1 │ [0]   │      0 │     0 │       0 │ [0]       │" in text
    assert "│   2 │ [1]   │      0 │     1 │       1 │ [2]       │" in text
    assert "│   3 │" not in text
    assert "… 10 more rows (--all-rows shows them)" in text


def test_few_rows_show_the_mean_of_every_slope():
    text = draw(["x1", "x2", "x3"], [0, 2, 1], [[1, 2, 3], [4, 5, 6]], [0, 1], width=200)
    assert "(1/2)·([14, 28, 42] + [120, 150, 180])" in text
    assert "(1/2)·(7² + 15²)" in text
    assert "[67, 89, 111]" in text
    assert "137" in text


def test_negative_factors_are_parenthesised():
    text = draw(["a", "b"], [-1, 2], [[3, -4]], [-2])
    assert "(-1)·3 + 2·(-4)" in text
    assert "-11 − (-2)" in text
    assert "2·[3, -4]·(-9)" in text


def test_long_models_elide_the_middle():
    d = 30
    text = draw([f"f{i}" for i in range(d)], np.zeros(d), [np.arange(d)], [-0.5], width=200)
    assert "2·[0, 1, 2, …, 27, 28, 29]·0.5" in text
    assert "0·0 + 0·1 + 0·2 + … + 0·27 + 0·28 + 0·29" in text
    assert "│ f9 " in text and "│ f20 " in text and "│ f10 " not in text
    assert "│ …" in text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7.0, "7"),
        (-0.0, "0"),
        (5.04, "5.04"),
        (1 / 3, "0.333333"),
        (1e20, "1e+20"),
        (-2.5, "-2.5"),
        (1.7200000000000002, "1.72"),
    ],
)
def test_num(value, text):
    assert num(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.1, "1.1"),
        (-2.5e-7, "-2.5e-07"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1 / 3, "0.3333333333333333"),
        (1.2e15, "1200000000000000"),  # in full, as %.17g writes it: no exponent for fewer digits
        (1e300, "1e+300"),
    ],
)
def test_at_17_digits_a_number_shows_no_more_digits_than_it_has(value, text):
    assert num(value, precision=17) == text
    assert float(text) == value


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(1, 17))
def test_fewer_digits_shown_than_asked_never_change_the_number_shown(value, precision):
    # The digits come from %g at the asked precision, unless the value's shortest form has fewer.
    shown = num(value, precision)
    if not (abs(value) < 1e15 and value == int(value)):
        assert float(shown) == float(f"{value:.{precision}g}")


def test_factor_vec_elide():
    assert factor(-1.5) == "(-1.5)"
    assert factor(2) == "2"
    assert vec([1, 2, 3]) == "[1, 2, 3]"
    assert vec(range(10)) == "[0, 1, 2, …, 7, 8, 9]"
    assert elide(list("abcdefgh")) == list("abcdefgh")
    assert num(1 / 3, precision=2) == "0.33"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7, "7²"),
        (2.5, "2.5²"),
        (-3, "(-3)²"),
        (1e-5, "(1e-05)²"),
        (-2.5e-7, "(-2.5e-07)²"),
        (1e20, "(1e+20)²"),
    ],
)
def test_a_square_has_its_base_in_parentheses_where_it_would_read_otherwise(value, text):
    # 1e-05² reads as 1e-(05²).
    assert squared(value) == text


def run_writer(writer_cls, **kwargs):
    out = io.BytesIO()
    writer = writer_cls(out, **kwargs)
    w = np.array([0.0, 2.0, 1.0])
    writer.begin(["a", "b", "c"], w)
    chunks = [
        Chunk(np.array([[1.0, 2, 3]]), np.array([0.0]), 0),
        Chunk(np.array([[4.0, 5, 6]]), np.array([1.0]), 1),
    ]
    writer.end(evaluate(chunks, w, writer.rows))
    return out.getvalue().decode()


def test_json_writer_streams_one_document():
    doc = json.loads(run_writer(RowsWriter, fmt="json"))
    assert doc["format_version"] == 1
    assert [r["row"] for r in doc["rows"]] == [1, 2]
    assert doc["rows"][1]["slope"] == [120.0, 150.0, 180.0]
    assert doc["n"] == 2
    assert doc["gradient"] == [67.0, 89.0, 111.0]


def test_json_writer_without_rows():
    doc = json.loads(run_writer(RowsWriter, fmt="json", with_rows=False))
    assert "rows" not in doc
    assert doc["mse"] == 137.0


def test_jsonl_writer():
    lines = [json.loads(line) for line in run_writer(RowsWriter, fmt="jsonl").splitlines()]
    assert [line["kind"] for line in lines] == ["row", "row", "summary"]
    assert lines[-1]["features"] == ["a", "b", "c"]


def test_csv_writer_shortest_round_trip_numbers():
    assert run_writer(CsvWriter) == "preds,error,slope_a,slope_b,slope_c\n7,7,14,28,42\n16,15,120,150,180\n"
