"""The SVG loss curve: a parseable document whose points, ticks and labels carry the right values."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from slopecli.render.plot import BOTTOM, LEFT, MAX_POINTS, RIGHT, TOP, loss_curve_svg

NS = "{http://www.w3.org/2000/svg}"
WIDTH, HEIGHT = 640, 360
RIGHT_EDGE, BOTTOM_EDGE = WIDTH - RIGHT, HEIGHT - BOTTOM


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def curve(root: ET.Element) -> list[tuple[float, float]]:
    (polyline,) = root.iter(f"{NS}polyline")
    return [(float(x), float(y)) for x, y in (p.split(",") for p in polyline.attrib["points"].split())]


def by_class(root: ET.Element, tag: str, name: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}{tag}") if e.get("class") == name]


def ticks(root: ET.Element, axis: str) -> list[ET.Element]:
    (group,) = by_class(root, "g", f"{axis}-ticks")
    return list(group)


def labels(root: ET.Element, axis: str) -> list[str]:
    return [str(t.text) for t in ticks(root, axis)]


def test_a_standalone_svg_document():
    svg = loss_curve_svg([8, 4, 2, 1])
    root = parse(svg)
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    assert root.tag == f"{NS}svg"
    assert (root.get("version"), root.get("width"), root.get("height")) == ("1.1", "640", "360")
    assert root.get("viewBox") == "0 0 640 360"
    assert root.findtext(f"{NS}title") == "MSE per step"
    assert [e.text for e in by_class(root, "text", "title")] == ["MSE per step"]
    assert [e.text for e in by_class(root, "text", "x-title")] == ["step"]
    assert [e.text for e in by_class(root, "text", "y-title")] == ["MSE"]


def test_hand_worked_points_and_ticks():
    root = parse(loss_curve_svg([8, 4, 2, 1]))
    # Range 7 over four intervals is 1.75, rounded up to a step of 2: ticks 0..8.
    assert labels(root, "y") == ["0", "2", "4", "6", "8"]
    assert labels(root, "x") == ["0", "1", "2", "3"]
    points = curve(root)
    assert [x for x, _ in points] == [LEFT, 250.67, 429.33, RIGHT_EDGE]  # 536 px in thirds
    assert [y for _, y in points] == [TOP, 174, 241, BOTTOM_EDGE - (BOTTOM_EDGE - TOP) / 8]
    # Each value sits level with its tick (tick text is drawn 4 px below the line it labels).
    tick_y = {t.text: float(t.attrib["y"]) - 4 for t in ticks(root, "y")}
    assert [tick_y["8"], tick_y["4"], tick_y["2"]] == [y for _, y in points[:3]]
    assert [e.text for e in by_class(root, "text", "final")] == ["final MSE = 1"]
    (marker,) = by_class(root, "circle", "final")
    assert (float(marker.attrib["cx"]), float(marker.attrib["cy"])) == points[-1]


@pytest.mark.parametrize("log_scale", [False, True])
def test_falling_mse_is_drawn_falling(log_scale):
    mse = [100 * 0.95**i for i in range(50)]  # the last steps still differ by more than a pixel
    points = curve(parse(loss_curve_svg(mse, log_scale=log_scale)))
    assert len(points) == len(mse)
    xs, ys = zip(*points, strict=True)
    assert all(a < b for a, b in pairwise(xs))
    assert all(a < b for a, b in pairwise(ys))  # SVG's y grows downward


def test_log_scale_is_chosen_automatically_and_spaces_decades_evenly():
    root = parse(loss_curve_svg([1000, 100, 10, 1]))
    assert [e.text for e in by_class(root, "text", "y-title")] == ["MSE (log scale)"]
    assert labels(root, "y") == ["1", "10", "100", "1000"]
    ys = [y for _, y in curve(root)]
    assert [b - a for a, b in pairwise(ys)] == pytest.approx([268 / 3] * 3, abs=0.01)
    linear = parse(loss_curve_svg([1000, 100, 10, 1], log_scale=False))
    assert [e.text for e in by_class(linear, "text", "y-title")] == ["MSE"]
    assert (
        parse(loss_curve_svg([1000, 10])).findtext(f".//{NS}text[@class='y-title']") == "MSE"
    )  # ratio 100 exactly


def test_zeros_fall_back_to_linear_even_when_log_is_asked_for():
    assert loss_curve_svg([4, 2, 0], log_scale=True) == loss_curve_svg([4, 2, 0], log_scale=False)


def test_long_log_range_labels_at_most_about_six_powers_of_ten():
    found = labels(parse(loss_curve_svg([1e30, 1e-3])), "y")
    assert 3 <= len(found) <= 7
    exponents = [math.log10(float(label)) for label in found]
    assert all(e == round(e) for e in exponents)
    assert exponents[0] <= -3 and exponents[-1] >= 30


@pytest.mark.parametrize(
    "mse",
    [[0.0031, 0.0012], [1250.5, 1234.5], [3e6, 1e6], [0.3, 0.1, 0.2], [12050, 12000], [5e-9, 4e-9], [-2, 3]],
)
def test_linear_ticks_are_round_distinct_and_cover_the_data(mse):
    found = [float(label) for label in labels(parse(loss_curve_svg(mse, log_scale=False)), "y")]
    assert 3 <= len(found) <= 8
    assert len(set(found)) == len(found)
    gaps = [b - a for a, b in pairwise(found)]
    assert gaps == pytest.approx([gaps[0]] * len(gaps))
    mantissa = gaps[0] / 10 ** math.floor(math.log10(gaps[0]) + 1e-9)
    assert any(mantissa == pytest.approx(m) for m in (1, 2, 5))  # 1, 2 or 5 times a power of ten
    assert found[0] <= min(mse) and found[-1] >= max(mse)


@pytest.mark.parametrize("steps", [MAX_POINTS + 1, 10_000, 100_001])
def test_long_runs_are_thinned_keeping_ends_and_spikes(steps):
    spike = steps // 3
    mse = [50 * 0.9995**i + (0.5 if i % 2 else 0) + (100 if i == spike else 0) for i in range(steps)]
    svg = loss_curve_svg(mse, log_scale=False)
    points = curve(parse(svg))
    assert len(points) <= MAX_POINTS
    xs = [x for x, _ in points]
    assert xs[0] == LEFT and xs[-1] == RIGHT_EDGE
    assert all(a <= b for a, b in pairwise(xs))
    highest = min(points, key=lambda p: p[1])
    assert highest[0] == pytest.approx(LEFT + spike / (steps - 1) * (RIGHT_EDGE - LEFT), abs=0.01)
    assert len(svg) < 40_000


def test_coordinates_have_at_most_two_decimals():
    svg = loss_curve_svg([1 / (i + 3) for i in range(100)])
    numbers = re.findall(r'(?:points|\b[xy][12]?|c[xy])="([^"]*)"', svg)
    decimals = [
        n.split(".")[1] for value in numbers for n in re.findall(r"-?\d+(?:\.\d+)?", value) if "." in n
    ]
    assert decimals and max(len(d) for d in decimals) <= 2


def test_title_is_escaped():
    title = 'a<b & "c"'
    svg = loss_curve_svg([2, 1], title=title)
    assert "a&lt;b &amp;" in svg
    root = parse(svg)
    assert root.findtext(f"{NS}title") == title
    assert [e.text for e in by_class(root, "text", "title")] == [title]


def test_characters_xml_forbids_are_replaced():
    root = parse(loss_curve_svg([2, 1], title="bad\x00\x1bname\ud800"))
    assert root.findtext(f"{NS}title") == "bad\ufffd\ufffdname\ufffd"


def test_single_value_is_one_centred_point():
    root = parse(loss_curve_svg([49.0]))
    assert curve(root) == [((LEFT + RIGHT_EDGE) / 2, BOTTOM_EDGE - 0.49 * (BOTTOM_EDGE - TOP))]
    assert labels(root, "x") == ["0"]
    assert labels(root, "y") == ["0", "50", "100"]
    assert [e.text for e in by_class(root, "text", "final")] == ["final MSE = 49"]


@pytest.mark.parametrize(("value", "log_scale"), [(3.0, None), (3.0, True), (0.0, None), (1.0, True)])
def test_constant_values_are_a_flat_line_inside_the_axis(value, log_scale):
    root = parse(loss_curve_svg([value] * 5, log_scale=log_scale))
    ys = {y for _, y in curve(root)}
    assert len(ys) == 1
    assert TOP <= ys.pop() <= BOTTOM_EDGE
    assert len(labels(root, "y")) >= 2


def test_diverged_run_leaves_non_finite_values_out():
    root = parse(loss_curve_svg([4, 2, math.inf, math.nan]))
    points = curve(root)
    assert len(points) == 2
    assert [e.text for e in by_class(root, "text", "final")] == ["final MSE = nan"]
    assert by_class(root, "circle", "final") == []
    assert labels(root, "x") == ["0", "1", "2", "3"]


def test_other_sizes():
    root = parse(loss_curve_svg([3, 2, 1], width=1200, height=200))
    assert (root.get("width"), root.get("height")) == ("1200", "200")
    xs = [x for x, _ in curve(root)]
    assert (xs[0], xs[-1]) == (LEFT, 1200 - RIGHT)


@pytest.mark.parametrize(
    ("mse", "options"),
    [([], {}), ([math.nan], {}), ([1.0], {"width": 100}), ([1.0], {"height": 100})],
)
def test_nothing_to_plot_raises(mse, options):
    with pytest.raises(ValueError, match=r"plot needs|no finite"):
        loss_curve_svg(mse, **options)
