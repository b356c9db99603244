"""Every table the CLI prints, at 40 to 120 columns: no line wider than the terminal, every
number whole (the numbers on screen are those of the same table drawn without a width limit,
and each value formatted at --precision is among them), every header whole, nothing padded."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from slopecli.batch import FileResult
from slopecli.core import Sums
from slopecli.descent import Descent, Record, WeightCheck, step
from slopecli.evaluation import evaluate
from slopecli.readers.chunk import Chunk
from slopecli.render.batch_table import COLUMNS as BATCH_COLUMNS
from slopecli.render.descent_tables import STEP_ROW_COLUMNS, StepTables, draw_check, draw_descent
from slopecli.render.layout import Column
from slopecli.render.numbers import num
from slopecli.render.sheets import FEATURE, PER_ROW_COLUMNS, STEP_COLUMNS
from slopecli.render.tables import TableWriter

from conftest import SAMPLES, invoke

WIDTHS = (40, 50, 60, 80, 120)
UNLIMITED = 1000
NUMBER = re.compile(r"-?[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?(?:e[+-][0-9]+)?")

# Values of every scale and sign, with many digits: tiny, huge, negative, round.
mantissas = st.floats(-10, 10).filter(lambda m: m == 0 or abs(m) > 1e-3)
values = st.one_of(
    st.builds(lambda m, e: m * 10.0**e, mantissas, st.integers(-60, 60)),
    st.sampled_from([0.0, 1.0, -2.5, 1 / 3, 123456789.123456789, -1e-40]),
)
# Small enough that one step of gradient descent cannot overflow.
moderate = st.builds(lambda m, e: m * 10.0**e, mantissas, st.integers(-15, 15))
# Names without digits (a digit in a name would read as a number), long ones and wide characters.
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_ABCXYZäöß重量", min_size=1, max_size=40)
precisions = st.integers(1, 17)
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Draw = Callable[[Console], None]


def render(draw: Draw, width: int) -> str:
    console = Console(file=StringIO(), width=width, color_system=None)
    draw(console)
    return console.file.getvalue()  # type: ignore[attr-defined]


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def assert_fits(draw: Draw, columns: Sequence[Column], expected: set[str]) -> None:
    """``draw`` at each width: lines fit, headers whole, the numbers those of the unlimited table."""
    reference = numbers(render(draw, UNLIMITED))
    assert expected <= reference, expected - reference
    for width in WIDTHS:
        text = render(draw, width)
        lines = text.splitlines()
        too_wide = [line for line in lines if cell_len(line) > width]
        assert not too_wide, (width, too_wide)
        assert [line for line in lines if line != line.rstrip()] == [], f"padded lines at {width}"
        # A cut or split number shows up as a number the table does not have, or one missing.
        assert numbers(text) == reference, (width, numbers(text) ^ reference, text)
        for token in numbers(text):
            float(token.replace(",", ""))
        for column in columns:
            assert_header_whole(text, column, width)


def assert_header_whole(text: str, column: Column, width: int) -> None:
    """A header appears with each of its lines whole (its words, if it may break), or, in the
    stacked layout, as the label of its values."""
    if column.header_breaks:
        whole = all(word in text for word in column.header.split())
    else:
        whole = all(line in text for line in column.header.split("\n"))
    label = not column.name or f"{column.name}:" in text or column.key
    assert whole or label, (width, column.header, text)


def formatted(vector: Sequence[float], p: int) -> set[str]:
    return {num(float(v), p) for v in vector}


# compute ---------------------------------------------------------------------------------------


def compute_draw(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, features: list[str], p: int, **options: object
) -> tuple[Draw, Sums]:
    chunks = [Chunk(X[:2], y[:2], 0), Chunk(X[2:], y[2:], 2)]
    sums = evaluate(chunks, w)

    def draw(console: Console) -> None:
        writer = TableWriter(console, precision=p, title="data.csv", **options)  # type: ignore[arg-type]
        writer.begin(features, w)
        writer.end(evaluate(chunks, w, writer.rows))

    return draw, sums


@st.composite
def datasets(
    draw: st.DrawFn, rows: tuple[int, int], values: st.SearchStrategy[float] = values
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    d = draw(st.integers(1, 4))
    n = draw(st.integers(*rows))
    X = np.array(draw(st.lists(st.lists(values, min_size=d, max_size=d), min_size=n, max_size=n)))
    y = np.array(draw(st.lists(values, min_size=n, max_size=n)))
    w = np.array(draw(st.lists(values, min_size=d, max_size=d)))
    return X, y, w, draw(st.lists(names, min_size=d, max_size=d))


@SETTINGS
@given(datasets(rows=(1, 1)), precisions)
def test_compute_one_row_and_its_weights(data, p):
    X, y, w, features = data
    draw, sums = compute_draw(X, y, w, features, p)
    one_row = [FEATURE, *(Column(h) for h in ("w", "x", "w·x", "slope = 2·x·error"))]
    expected = formatted(sums.gradient, p) | {num(sums.mse, p)} | formatted(w, p) | formatted(X[0], p)
    assert_fits(draw, [*STEP_COLUMNS, *one_row], expected)


@SETTINGS
@given(datasets(rows=(2, 7)), precisions, st.sampled_from([None, 0, 3]))
def test_compute_many_rows_the_sums_and_per_weight(data, p, show_rows):
    X, y, w, features = data
    draw, sums = compute_draw(X, y, w, features, p, show_rows=show_rows)
    per_weight = [FEATURE, *(Column(h) for h in ("w", "Σ x·error", "gradient"))]
    listed = len(y) if show_rows is None else show_rows
    # The errors as the table's own pass computes them: another matmul (X @ w) may differ in the
    # last bit, and at a decimal tie that is another last digit (house rule 14).
    errors: list[float] = []
    evaluate([Chunk(X[:2], y[:2], 0), Chunk(X[2:], y[2:], 2)], w, lambda batch: errors.extend(batch.error))
    expected = formatted(sums.gradient, p) | formatted(sums.xte, p) | formatted(errors[:listed], p)
    assert_fits(draw, [*(PER_ROW_COLUMNS if listed else ()), *STEP_COLUMNS, *per_weight], expected)


def test_compute_elides_a_long_model_in_every_width():
    d = 25
    rng = np.random.default_rng(5)
    X, y, w = rng.normal(size=(3, d)) * 1e3, rng.normal(size=3), rng.normal(size=d)
    draw, sums = compute_draw(X, y, w, [f"feature_{chr(97 + i % 26)}" for i in range(d)], 6)
    assert_fits(draw, STEP_COLUMNS, {num(float(sums.gradient[0]), 6), num(float(sums.gradient[-1]), 6)})


# step ------------------------------------------------------------------------------------------


def step_draw(X: np.ndarray, y: np.ndarray, w: np.ndarray, p: int, lr: float) -> tuple[Draw, object]:
    def passes():  # type: ignore[no-untyped-def]
        return [Chunk(X, y, 0)]

    result = step(passes, w, lr)

    def draw(console: Console) -> None:
        tables = StepTables(console, p, 10, "data.csv")
        tables.end(step(passes, w, lr, tables.rows))

    return draw, result


@SETTINGS
@given(datasets(rows=(1, 5), values=moderate), precisions, st.sampled_from([0.01, 1e-7]))
def test_step_one_row_and_many(data, p, lr):
    X, y, w, _ = data
    draw, result = step_draw(X, y, w, p, lr)
    expected = formatted(result.updated, p) | formatted(result.gradient, p)  # type: ignore[attr-defined]
    change = [Column("Quantity", key=True), Column("before"), Column("after")]
    calculation = [Column("Step", key=True), Column("Calculation", label="")]
    assert_fits(draw, [*calculation, *change, *(STEP_ROW_COLUMNS if len(y) > 1 else ())], expected)


# descend ---------------------------------------------------------------------------------------


@SETTINGS
@given(
    st.lists(
        st.tuples(st.floats(0, 1e30), st.lists(values, min_size=2, max_size=2)), min_size=1, max_size=14
    ),
    st.lists(names, min_size=2, max_size=2),
    precisions,
    st.sampled_from(["steps", "tol"]),
)
def test_descend_history_and_chart(steps, features, p, stopped):
    history = [Record(k, np.array(ws), mse, np.array(ws[::-1])) for k, (mse, ws) in enumerate(steps)]
    run = Descent(history, 0.01, stopped)

    def draw(console: Console) -> None:
        draw_descent(console, run, features, p)

    expected = {num(history[-1].mse, p)} | formatted(history[-1].weights, p)
    columns = [Column("Step", key=True), Column("MSE"), Column("‖gradient‖")]
    weights = Column("weights (" + ", ".join(features) + ")", label="weights", header_breaks=True)
    assert_fits(draw, [*columns, weights], expected)


# check -----------------------------------------------------------------------------------------

CHECK_COLUMNS = [FEATURE, *(Column(h) for h in ("analytic", "numeric", "h", "|a − n|", "rel.", "tol.", "ok"))]


@SETTINGS
@given(
    st.lists(st.tuples(values, values, st.floats(1e-9, 1e3), st.floats(1e-15, 1e6)), min_size=1, max_size=4),
    st.lists(names, min_size=4, max_size=4),
    st.sampled_from([1e-6, 1e-3]),
)
def test_check(checks, features, rtol):
    weight_checks = [WeightCheck(*c) for c in checks]

    def draw(console: Console) -> None:
        draw_check(console, features[: len(checks)], weight_checks, rtol)

    expected = {f"{c.h:.2g}" for c in weight_checks} | {f"{c.tolerance:.2g}" for c in weight_checks}
    assert_fits(draw, CHECK_COLUMNS, expected)


# batch -----------------------------------------------------------------------------------------


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(1, 10**7), st.lists(values, min_size=3, max_size=3), values),
        min_size=1,
        max_size=4,
    ),
    st.lists(names, min_size=1, max_size=4),
    precisions,
    st.booleans(),
    st.booleans(),
)
def test_batch_with_and_without_combine(files, stems, p, combine, one_fails):
    from slopecli.render.batch_table import BatchTableWriter

    results = [
        FileResult(
            Path(f"data/{stems[i % len(stems)]}.csv"), ("a", "b", "c"), Sums(n, np.array(xte), abs(sse) * n)
        )
        for i, (n, xte, sse) in enumerate(files)
    ]
    if one_fails:
        results.append(
            FileResult(Path("data/bad.csv"), error="data/bad.csv:4:2: column 'b': 'abc' is not a number")
        )
    total = sum((r.sums for r in results if r.sums is not None), Sums.zero(3))

    def draw(console: Console) -> None:
        writer = BatchTableWriter(console, p, combine)
        writer.begin(np.array([0.0, 2.0, 1.0]))
        for result in results:
            writer.file(result)
        writer.end((len(files), int(one_fails)), total if combine else None, ("a", "b", "c"))

    expected = {num(r.sums.mse, p) for r in results if r.sums is not None}
    if combine:
        expected |= formatted(total.gradient, p) | {f"{total.n:,}"}
    assert_fits(draw, BATCH_COLUMNS, expected)


# Through the command line, as a user with a narrow terminal would run it -----------------------

POINTS = str(SAMPLES / "points.csv")
COMMANDS = {
    "check": ("check", POINTS, "--weights", "0,2,1"),
    "compute one row": ("compute", "-w", "0,2,1", "-x", "1,2,3", "-y", "0"),
    "compute": ("compute", POINTS, "-w", "0,2,1", "--all-rows"),
    "step": ("step", POINTS, "-w", "0,2,1", "--lr", "0.001"),
    "descend": ("descend", POINTS, "-w", "0,0,0", "--lr", "0.007", "--steps", "300"),
    "batch": ("batch", str(SAMPLES / "shards"), "-w", "0,2,1", "--combine", "-j", "1"),
}


@pytest.mark.parametrize("width", [40, 50, 60])
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_cli_tables_fit_the_terminal(monkeypatch, name, width):
    monkeypatch.setenv("COLUMNS", str(UNLIMITED))
    wide = invoke(*COMMANDS[name])
    monkeypatch.setenv("COLUMNS", str(width))
    narrow = invoke(*COMMANDS[name])
    assert narrow.exit_code == wide.exit_code == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert all(line == line.rstrip() for line in lines)
    assert numbers(narrow.stdout) == numbers(wide.stdout)


def test_the_issues_check_table_at_60_columns_shows_every_value_whole(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    text = invoke("check", POINTS, "--weights", "0,2,1").stdout
    for value in ("215.73", "244.59", "276.981", "6.1e-06", "1.2e-05", "< 2e-05", "< 1e-07", "0.00022", "✓"):
        assert value in text
    assert "276.98 " not in text and "6.1e-0\n" not in text


SIGMOID_NETWORK = (
    '{"layers": [{"weights": [[0.123456789, -4.98765], [4.1, -5.2]], "bias": [0.3, -0.1],'
    ' "activation": "sigmoid"}, {"weights": [[2.5, 7.25]], "activation": "tanh"}]}'
)
TINY = {
    "network explanation": ("compute", "--network", "{net}", "-x", "-1.23456789e-5,3.3333333", "-y", "0.7777777"),
    "huge and tiny values": ("compute", "--network", str(SAMPLES / "course-network.json"),
                             "--input", "2.123456789,3e-100", "--target", "-7.1234567e+100"),
    "compute at 17 digits": ("compute", POINTS, "-w", "0,2,1", "--precision", "17"),
    "step at 17 digits": ("step", POINTS, "-w", "0,2,1", "--lr", "0.01", "--precision", "17"),
    "step, a 19-character weight": ("step", "-w", "0.1234567890123,2", "-x", "1,2", "-y", "0",
                                     "--precision", "17"),
    "step, a 24-character input": ("step", "-w", "1,3", "-x", "-2.2345678901234567e-200,1", "-y", "0",
                                   "--precision", "17"),
    "a 24-character number": ("compute", "-x", "-1.2345678901234567e-300", "-y", "1.2345678901234567e+150",
                              "-w", "-9.8765432109876543e-100", "--precision", "17"),
}  # fmt: skip


@pytest.mark.parametrize("width", [16, 20, 24, 28, 34])
@pytest.mark.parametrize("name", sorted(TINY))
def test_in_a_tiny_terminal_every_number_stays_whole(monkeypatch, tmp_path, name, width):
    """Narrower than a number and its label, a line may run past the edge (the terminal folds
    it where it must), but slopecli never breaks a number across lines itself."""
    network = tmp_path / "sigmoid.json"
    network.write_text(SIGMOID_NETWORK)
    args = [a.replace("{net}", str(network)) for a in TINY[name]]
    monkeypatch.setenv("COLUMNS", str(UNLIMITED))
    wide = invoke(*args)
    monkeypatch.setenv("COLUMNS", str(width))
    narrow = invoke(*args)
    assert narrow.exit_code == wide.exit_code == 0, narrow.stderr
    assert numbers(narrow.stdout) == numbers(wide.stdout)
    for line in narrow.stdout.splitlines():
        # Only where a number (and a bracket or comma) cannot fit: indentation gives way first,
        # or the terminal would fold the number at its edge.
        if cell_len(line) > width:
            assert cell_len(line.lstrip(" ")) > width, line
            assert max(map(len, NUMBER.findall(line)), default=0) + 2 > width, line
