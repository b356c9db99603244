"""The terminal loss chart: exact lines for hand-worked cases, and the shape of the columns."""

from __future__ import annotations

import math

import pytest

from slopecli.render.chart import BLOCKS, loss_chart, wants_log_scale


def heights(lines: list[str], height: int) -> list[int]:
    """Eighths filled in each column, read back from the drawn rows."""
    rows = [line.split("┤" if "┤" in line else "│", 1)[1] for line in lines[:height]]
    columns = lines[height].count("─")  # rows lose trailing blanks; the axis keeps every column
    return [sum(BLOCKS.index(row[c]) for row in rows if c < len(row)) for c in range(columns)]


def test_hand_worked_linear():
    # Levels 1 + round((v − 1)/7 · 31) of 32 eighths: 8 → 32, 4 → 14, 2 → 5, 1 → 1.
    assert loss_chart([8, 4, 2, 1], width=4, height=4, log_scale=False) == [
        "8 ┤█",
        "  │█",
        "  │█▆",
        "1 ┤██▅▁",
        "  └────",
        "   0  3",
    ]


def test_hand_worked_log_scale_is_chosen_automatically():
    # log10 gives 3, 2, 1, 0: levels 32, 1 + round(2/3 · 31) = 22, 1 + round(1/3 · 31) = 11, 1.
    expected = [
        "1e+03 ┤█",
        "      │█▆",
        "      │██▃",
        "    1 ┤███▁",
        "      └────",
        "       0  3",
    ]
    assert loss_chart([1000, 100, 10, 1], width=4, height=4) == expected
    assert loss_chart([1000, 100, 10, 1], width=4, height=4, log_scale=True) == expected
    assert heights(loss_chart([1000, 100, 10, 1], width=4, height=4, log_scale=False), 4) == [32, 4, 1, 1]


def test_hand_worked_binning_takes_the_mean_of_each_bin():
    # Six steps in three columns: bins (4, 2), (3, 1), (1, 1) have means 3, 2, 1 on an axis from 1 to 4.
    assert loss_chart([4, 2, 3, 1, 1, 1], width=3, height=2, log_scale=False) == [
        "4 ┤▃",
        "1 ┤█▆▁",
        "  └───",
        "   0 5",
    ]


@pytest.mark.parametrize("steps", [1, 7, 60, 61, 1000])
def test_one_column_per_step_up_to_the_width(steps):
    lines = loss_chart([100.0 - i / steps for i in range(steps)], width=60, height=5)
    assert lines[-2].strip() == "└" + "─" * min(steps, 60)
    levels = heights(lines, 5)
    assert len(levels) == min(steps, 60)
    assert min(levels) >= 1  # every column drawn: the smallest value still fills one eighth
    assert lines[-1].split() == (["0"] if steps == 1 else ["0", str(steps - 1)])


@pytest.mark.parametrize("steps", [5, 40, 3000])
@pytest.mark.parametrize("log_scale", [False, True])
def test_falling_data_gives_falling_columns(steps, log_scale):
    levels = heights(
        loss_chart([50 * 0.99**i for i in range(steps)], width=40, height=6, log_scale=log_scale), 6
    )
    assert levels == sorted(levels, reverse=True)
    assert levels[-1] >= 1
    if steps <= 40:  # unbinned: the extremes are exactly full and one eighth
        assert (levels[0], levels[-1]) == (6 * 8, 1)


def test_rising_data_gives_rising_columns():
    levels = heights(loss_chart([float(i * i) for i in range(20)], width=20, height=4), 4)
    assert levels == sorted(levels)
    assert levels[0] < levels[-1]


def test_constant_data_fills_every_column_and_labels_once():
    lines = loss_chart([2.5] * 5, width=10, height=3)
    assert lines == ["2.5 ┤█████", "    │█████", "    │█████", "    └─────", "     0   4"]


def test_single_value():
    assert loss_chart([49.0], height=2) == ["49 ┤█", "   │█", "   └─", "    0"]


def test_compact_labels():
    lines = loss_chart([1234.5, 0.0012], width=2, height=3, log_scale=False)
    assert lines[0].startswith("1.23e+03 ┤")
    assert lines[2].startswith("  0.0012 ┤")


def test_zeros_fall_back_to_linear_even_when_log_is_asked_for():
    assert loss_chart([4, 2, 0], log_scale=True) == loss_chart([4, 2, 0], log_scale=False)


def test_diverged_run_infinity_fills_nan_is_empty():
    lines = loss_chart([4, 2, math.inf, math.nan], width=4, height=2)
    assert heights(lines, 2) == [16, 1, 16, 0]
    assert lines[0] == "4 ┤█ █"


def test_plain_text_only():
    text = "\n".join(loss_chart([10 / (i + 1) for i in range(500)]))
    assert "\x1b" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


@pytest.mark.parametrize(("values", "log_scale", "expected"), [
    ([1000, 10], None, False),  # a factor of 100 exactly is not more than 100
    ([1001, 10], None, True),
    ([1001, 10, math.inf, math.nan], None, True),  # only finite values decide
    ([1001, 0], None, False),
    ([1001, -1], True, False),
    ([2, 1], True, True),
    ([1e9, 1], False, False),
])  # fmt: skip
def test_wants_log_scale(values, log_scale, expected):
    assert wants_log_scale(values, log_scale) is expected


@pytest.mark.parametrize(
    ("mse", "options"),
    [([], {}), ([math.nan, math.inf], {}), ([1.0], {"width": 0}), ([1.0], {"height": 1})],
)
def test_nothing_to_draw_raises(mse, options):
    with pytest.raises(ValueError, match=r"chart needs|no finite"):
        loss_chart(mse, **options)
