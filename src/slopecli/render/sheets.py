"""What ``compute`` shows a learner, as sheets for :mod:`slopecli.render.layout`: one row's steps
with the numbers substituted into each formula, the gradient and MSE of many rows, the per-weight
view, and the per-row table's cells. Laid out and drawn by :mod:`slopecli.render.tables`."""

from __future__ import annotations

from collections.abc import Sequence

from slopecli.core import Sums, Vector
from slopecli.evaluation import RowBatch
from slopecli.render.layout import Cell, Column, Gap, Row, Sheet
from slopecli.render.numbers import ELLIPSIS, elide, factor, num, squared, vec
from slopecli.text import count

EXPLICIT_MEAN_ROWS = 4
"""Up to this many rows, the gradient and MSE are shown as explicit sums of every row."""

ROWS_LIMIT = 100_000
"""The most rows a per-row table lists, whatever ``--all-rows`` or ``--show-rows`` ask: past
this a table is slower to read than to scroll, and machine output is the tool."""

ELIDE_WEIGHTS = 20
"""A per-weight table of more weights than this shows the first and last 10."""

STEP_COLUMNS = (
    Column("Step", "right", "dim", key=True),
    Column("Quantity", style="bold", label="", key=True),
    Column("Formula"),
    Column("With numbers"),
    Column("Value", "right", "bold"),
)
ROW_COLUMNS = (
    Column("Row", "right", "dim", key=True),
    Column("input\nx", label="input x"),
    Column("target\ny", "right", label="target y"),
)
"""The first columns of every per-row table: which row, its inputs and its target."""
PER_ROW_COLUMNS = (
    *ROW_COLUMNS,
    Column("preds\nΣ w·x", "right", label="preds = Σ w·x"),
    Column("error\npreds −\ntarget", "right", label="error = preds − target"),
    Column("slope\n2·x·error", label="slope = 2·x·error"),
)
FEATURE = Column("Feature", prose=True, label="", key=True)


def row_limit(show_rows: int | None) -> tuple[int, bool]:
    """How many rows to list (None: all), and whether ``ROWS_LIMIT`` cut what was asked."""
    if show_rows is None or show_rows > ROWS_LIMIT:
        return ROWS_LIMIT, True
    return show_rows, False


def rows_note(more: int, capped: bool) -> str:
    """The line under a per-row table that leaves ``more`` rows out."""
    if capped:
        return (
            f"{ELLIPSIS} {count(more, 'more row')} not listed: a table stops at {ROWS_LIMIT:,} rows;"
            " for every row use --format csv or --format jsonl"
        )
    return f"{ELLIPSIS} {count(more, 'more row')} (--all-rows shows them)"


def per_row_cells(batch: RowBatch, precision: int) -> list[Sequence[Cell]]:
    """The per-row table's cells of one batch, formatted at ``precision``."""
    p = precision
    X, slopes = batch.X.tolist(), batch.slopes.tolist()
    y, preds, err = batch.y.tolist(), batch.preds.tolist(), batch.error.tolist()
    first = batch.first_row + 1
    return [
        [str(first + i), vec(X[i], p), num(y[i], p), num(preds[i], p), num(err[i], p), vec(slopes[i], p)]
        for i in range(len(y))
    ]


def steps_one_row(
    row: RowBatch, weights: Vector, precision: int, title: str, *, of_many: bool = False
) -> Sheet:
    """preds, error, slope, gradient and MSE of one data point, each with its numbers.

    ``of_many``: the row is one of a file's (``--row N``): its own squared error closes the
    steps, not the data's gradient or MSE.
    """
    p = precision
    x = row.X[0]
    products = elide([f"{factor(wi, p)}·{factor(xi, p)}" for wi, xi in zip(weights, x, strict=True)])
    preds, err, y = float(row.preds[0]), float(row.error[0]), float(row.y[0])
    slope = vec(row.slopes[0], p)
    rows: list[Row] = [
        ["1", "preds", "Σ w·x", " + ".join(products), num(preds, p)],
        ["2", "error", "preds − target", f"{num(preds, p)} − {factor(y, p)}", num(err, p)],
        ["3", "slope", "2·x·error", f"2·{vec(x, p)}·{factor(err, p)}", slope],
    ]
    if of_many:
        rows.append(["4", "error²", "(preds − target)²", squared(err, p), num(err * err, p)])
    else:
        rows.append(["4", "gradient", "mean of the row slopes", "one row: its slope", slope])
        rows.append(["5", "mse", "mean(error²)", squared(err, p), num(err * err, p)])
    return Sheet(STEP_COLUMNS, rows, title=title)


def per_weight_one_row(row: RowBatch, weights: Vector, features: Sequence[str], precision: int) -> Sheet:
    """Each weight of one data point: w, x, their product and the slope."""
    p = precision
    columns = [FEATURE, *(Column(name, "right") for name in ("w", "x", "w·x", "slope = 2·x·error"))]
    x, s = row.X[0], row.slopes[0]
    rows: list[Row] = []
    for i in weight_positions(len(weights)):
        if i is None:
            rows.append(_elided(len(weights), 5))
            continue
        wi, xi, si = float(weights[i]), float(x[i]), float(s[i])
        rows.append([features[i], num(wi, p), num(xi, p), num(wi * xi, p), num(si, p)])
    return Sheet(columns, rows, title="Per weight")


def aggregate(sums: Sums, precision: int, title: str, listed: Sequence[RowBatch] | None) -> Sheet:
    """The gradient and MSE of many rows; ``listed``: every row, when they are few and shown."""
    p, n = precision, sums.n
    if listed is not None:
        slopes = [vec(s, p) for b in listed for s in b.slopes]
        squares = [squared(float(e), p) for b in listed for e in b.error]
        grad_formula, grad_numbers = "(1/n)·Σ slope", f"(1/{n})·({' + '.join(slopes)})"
        mse_numbers = f"(1/{n})·({' + '.join(squares)})"
    else:
        # Σ slope = 2·Σ x·error: the sums are all a stream keeps, and they say the same.
        grad_formula, grad_numbers = "(2/n)·Σ x·error", f"(2/{n:,})·{vec(sums.xte, p)}"
        mse_numbers = f"(1/{n:,})·{num(sums.sse, p)}"
    rows: list[Row] = [
        ["1", "gradient", grad_formula, grad_numbers, vec(sums.gradient, p)],
        ["2", "mse", "(1/n)·Σ error²", mse_numbers, num(sums.mse, p)],
    ]
    return Sheet(STEP_COLUMNS, rows, title=title)


def per_weight(sums: Sums, weights: Vector, features: Sequence[str], precision: int) -> Sheet:
    """Each weight's Σ x·error and gradient."""
    p = precision
    columns = [FEATURE, *(Column(name, "right") for name in ("w", "Σ x·error", "gradient"))]
    rows: list[Row] = []
    for i in weight_positions(len(weights)):
        if i is None:
            rows.append(_elided(len(weights), 4))
            continue
        values = (float(v[i]) for v in (weights, sums.xte, sums.gradient))
        rows.append([features[i], *(num(v, p) for v in values)])
    return Sheet(columns, rows, title="Per weight")


def _elided(d: int, columns: int) -> Gap:
    more = f"{d - ELIDE_WEIGHTS:,} more"
    return Gap(f"{more} weights", (f"{ELLIPSIS} {more}", *(ELLIPSIS,) * (columns - 1)))


def weight_positions(d: int) -> list[int | None]:
    """Rows of a per-weight table; the middle of a long model is elided (None) like a vector."""
    if d <= ELIDE_WEIGHTS:
        return list(range(d))
    half = ELIDE_WEIGHTS // 2
    return [*range(half), None, *range(d - half, d)]


def caption(title: str | None, rows: str, weights: int) -> str:
    """``source · 5 rows · 3 weights``."""
    what = f"{rows} · {count(weights, 'weight')}"
    return f"{title} · {what}" if title else what
