"""The one layout rule of every table: where cells break, how columns narrow, the stacked layout,
the per-row table that streams, --row N, and the next step of the course."""

from __future__ import annotations

import re
from io import StringIO

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

from slopecli.dataset import DataOptions
from slopecli.errors import UsageError
from slopecli.evaluation import evaluate
from slopecli.readers.chunk import Chunk
from slopecli.render import layout as lay
from slopecli.render import sheets
from slopecli.render.course import data_arguments, next_command
from slopecli.render.layout import Column, Gap, Sheet, styled
from slopecli.render.sheets import STEP_COLUMNS
from slopecli.render.tables import RowStream, TableWriter, draw, stdout_console, suggest_next
from slopecli.render.wrap import PROSE, TERMS, cells, wrap

AGGREGATE_ROWS = [
    ["1", "gradient", "(2/n)·Σ x·error", "(2/5)·[539.325, 611.475, 692.452]", "[215.73, 244.59, 276.981]"],
    ["2", "mse", "(1/n)·Σ error²", "(1/5)·1748.62", "349.723"],
]


def console(width: int, **options: object) -> Console:
    return Console(file=StringIO(), width=width, color_system=None, **options)  # type: ignore[arg-type]


def text(con: Console) -> str:
    return con.file.getvalue()  # type: ignore[attr-defined]


def lines_of(value: str, width: int, pattern=TERMS) -> list[str]:
    return [" " * indent + value[a:b] for indent, a, b in wrap(value, width, pattern)]


def test_math_breaks_between_terms_only():
    assert lines_of("(2/5)·[539.325, 611.475, 692.452]", 16) == ["(2/5)·[539.325,", "611.475,", "692.452]"]
    assert lines_of("0·1 + 2·2 + 1·3", 9) == ["0·1 + 2·2", "+ 1·3"]
    assert lines_of("mean of the row slopes", 8) == ["mean of", "the row", "slopes"]
    # Σ belongs to its term, "<" to its bound, a number's digits to the number.
    assert lines_of("(2/n)·Σ x·error and more", 15) == ["(2/n)·Σ x·error", "and more"]
    assert lines_of("< 2e-05", 7) == ["< 2e-05"]
    assert lines_of("1748.62 / 20,000", 8) == ["1748.62", "/ 20,000"]


def test_a_derivation_hangs_under_its_right_hand_side():
    value = "weights_updated = weights − lr·slope\n                = [0, 2, 1] − 0.01·[14, 28, 42]"
    assert lines_of(value, 36) == [
        "weights_updated = weights − lr·slope",
        "                = [0, 2, 1]",
        "                  − 0.01·[14, 28,",
        "                  42]",
    ]
    # Too narrow to hang at 18: every line moves left alike.
    assert lines_of(value, 24) == [
        "weights_updated",
        "             = weights",
        "             − lr·slope",
        "           = [0, 2, 1]",
        "             − 0.01·[14,",
        "             28, 42]",
    ]


def test_a_word_wider_than_a_line_breaks_after_a_dot_and_names_fold():
    assert lines_of("(-1.2345e-300)·(-6.789e+100)", 16) == ["(-1.2345e-300)·", "(-6.789e+100)"]
    assert lines_of("< 2e-05 < 3e-05", 8) == ["< 2e-05", "< 3e-05"]
    assert lines_of("a_very_long_feature_name", 10, PROSE) == ["a_very_lon", "g_feature_", "name"]
    assert lines_of("samples/shards/part-1.csv", 16, PROSE) == ["samples/shards/", "part-1.csv"]
    assert lines_of("重量重量重量", 5, PROSE) == ["重量", "重量", "重量"]


def rich_table(rows: list[list[str]], width: int) -> str:
    table = Table(title="t", title_justify="left")
    for column in STEP_COLUMNS:
        table.add_column(column.header, justify=column.justify)
    for row in rows:
        table.add_row(*row)
    con = console(width)
    con.print(table)
    return "".join(line.rstrip() + "\n" for line in text(con).splitlines())


@pytest.mark.parametrize("width", [120, 80, 75])
def test_columns_narrow_as_rich_narrowed_them_where_nothing_is_cut(width):
    mine = lay.text_of(lay.lines(Sheet(STEP_COLUMNS, AGGREGATE_ROWS, title="t"), width))
    assert mine == rich_table(AGGREGATE_ROWS, width)


def test_where_rich_would_cut_a_number_the_columns_stop_at_their_widest_word():
    assert "539.32…" in rich_table(AGGREGATE_ROWS, 70)
    mine = lay.text_of(lay.lines(Sheet(STEP_COLUMNS, AGGREGATE_ROWS, title="t"), 70))
    assert "│ (2/n)·Σ x·error │ (2/5)·[539.325, │     [215.73, │" in mine
    assert max(map(len, mine.splitlines())) == 70


def test_too_narrow_for_any_table_each_row_becomes_a_block():
    sheet = Sheet(
        STEP_COLUMNS,
        [*AGGREGATE_ROWS, Gap("3 steps not shown")],
        title="a title that wraps at forty",
        caption="done",
    )
    assert lay.text_of(lay.lines(sheet, 40)) == (
        "a title that wraps at forty\n"
        "Step 1 · gradient\n"
        "  Formula:      (2/n)·Σ x·error\n"
        "  With numbers: (2/5)·[539.325, 611.475,\n"
        "                692.452]\n"
        "  Value:        [215.73, 244.59,\n"
        "                276.981]\n"
        "Step 2 · mse\n"
        "  Formula:      (1/n)·Σ error²\n"
        "  With numbers: (1/5)·1748.62\n"
        "  Value:        349.723\n"
        "… 3 steps not shown\n"
        "done\n"
    )


def test_a_value_too_wide_beside_its_label_goes_under_it():
    columns = [Column("Key", key=True), Column("a label long enough to leave little room")]
    out = lay.text_of(lay.lines(Sheet(columns, [["k", "[123456.789, 234567.891, 345678.912]"]]), 40))
    # The label itself is wider than the line: it wraps at a space, as a title does.
    assert out == (
        "Key k\n  a label long enough to leave little\n  room:\n    [123456.789, 234567.891, 345678.912]\n"
    )


def test_styled_cells_keep_their_styles_when_wrapped():
    con = Console(file=StringIO(), width=30, force_terminal=True, color_system="standard")
    cell = lay.Styled((lay.Span("= [1, 2, 3] − 0.01·"), lay.Span("[14, 28, 42]", "bold")))
    draw(con, Sheet([Column("Step", key=True), Column("Calculation")], [["1", cell]], rules=True))
    out = text(con)
    assert "\x1b[1m[14, 28, 42]" in out or "\x1b[1m[14," in out
    plain = console(30)
    draw(
        plain,
        Sheet(
            [Column("Step", key=True), Column("Calculation")], [["1", cell], ["2", styled("x")]], rules=True
        ),
    )
    assert "├──────┼" in text(plain)


def test_an_output_that_cannot_encode_box_characters_gets_ascii_boxes():
    class Ascii(StringIO):
        encoding = "ascii"

    con = Console(file=Ascii(), width=40, color_system=None)
    draw(con, Sheet([Column("a"), Column("b", "right")], [["x", "1"]], title="t"))
    table = Table(title="t", title_justify="left")
    table.add_column("a")
    table.add_column("b", justify="right")
    table.add_row("x", "1")
    rich = Console(file=Ascii(), width=40, color_system=None)
    rich.print(table)
    assert text(con) == "".join(line.rstrip() + "\n" for line in text(rich).splitlines())
    assert text(con).splitlines()[1] == "+-------+"


# The per-row table ------------------------------------------------------------------------------


def rows(first: int, values: list[str]) -> list[list[str]]:
    return [[str(first + i), v] for i, v in enumerate(values)]


def test_rows_are_held_until_there_are_enough_then_stream():
    con = console(40)
    stream = RowStream(
        con, [Column("Row", "right", key=True), Column("value")], "Per row", hold=3, widest_key="100"
    )
    stream.add(rows(1, ["a", "b"]))
    assert text(con) == ""
    stream.add(rows(3, ["c"]))
    assert text(con).startswith("Per row\n┏━━━━━┳━━━━━━━┓\n")  # room for row 100 already
    stream.add(rows(4, ["a longer value"]))  # wider: the table closes, and opens wider
    stream.close("… more")
    out = text(con)
    assert out.count("┃ Row ┃") == 2
    assert out.endswith("│   4 │ a longer value │\n└─────┴────────────────┘\n… more\n")


def test_rows_too_wide_for_the_table_continue_as_blocks():
    con = console(40)
    stream = RowStream(con, [Column("Row", "right", key=True), Column("value")], "Per row", hold=1)
    stream.add(rows(1, ["short"]))
    stream.add(rows(2, ["x" * 45]))
    stream.add(rows(3, ["y"]))
    stream.close()
    out = text(con)
    assert (
        "│   1 │ short │\n└─────┴───────┘\nRow 2\n  value:\n    xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n    xxxxxxxxx\n"
        in out
    )
    assert out.endswith("Row 3\n  value: y\n")


def test_a_narrowed_stream_wraps_later_rows_in_its_columns():
    con = console(30)
    stream = RowStream(con, [Column("Row", "right", key=True), Column("value")], "Per row", hold=1)
    stream.add(rows(1, ["[1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]"]))
    stream.add(rows(2, ["[10.5, 20.5, 30.5, 40.5, 50.5, 60.5]"]))
    stream.close()
    out = text(con)
    assert out.count("┃ Row ┃") == 1
    assert max(map(len, out.splitlines())) == 30


def test_nothing_is_drawn_for_no_rows():
    con = console(40)
    RowStream(con, [Column("Row")], "Per row").close("never")
    assert text(con) == ""


def write_rows(n: int, width: int = 80, **options: object) -> str:
    con = console(width)
    writer = TableWriter(con, title="data", **options)  # type: ignore[arg-type]
    w = np.array([1.0, -2.0])
    writer.begin(["a", "b"], w)
    X = np.arange(2.0 * n).reshape(n, 2)
    writer.end(evaluate([Chunk(X, np.ones(n), 0)], w, writer.rows))
    return text(con)


def test_all_rows_stop_at_the_limit_with_a_note(monkeypatch):
    monkeypatch.setattr(sheets, "ROWS_LIMIT", 5)
    out = write_rows(8, 120, show_rows=None)
    assert "│   5 │" in out and "│   6 │" not in out
    assert (
        "… 3 more rows not listed: a table stops at 5 rows; for every row use --format csv or --format jsonl"
        in out
    )
    assert "… 1 more row (--all-rows shows them)" in write_rows(5, show_rows=4)


def test_row_n_explains_one_row_of_many():
    out = write_rows(5, 100, row=3)
    assert out.startswith("data · row 3 of 5 · 2 weights\n")
    assert "│    1 │ preds    │ Σ w·x             │ 1·4 + (-2)·5  │         -6 │" in out
    assert "│    4 │ error²   │ (preds − target)² │ (-7)²         │         49 │" in out
    assert "Per row" not in out and "gradient" not in out
    with pytest.raises(UsageError, match=r"--row 6: data has 5 rows"):
        write_rows(5, row=6)


# The course's next step ---------------------------------------------------------------------------

COURSE = DataOptions(weights="0,2,1", inputs=("1,2,3",), targets=("0",))


def test_the_next_command_of_the_course():
    args = data_arguments(COURSE)
    assert (
        next_command("compute", args)
        == "next: slopecli step --weights 0,2,1 --input 1,2,3 --target 0 --lr 0.01"
    )
    assert next_command("step", args, learning_rate=0.05) == (
        "next: slopecli descend --weights 0,2,1 --input 1,2,3 --target 0 --lr 0.05 --steps 100"
    )
    assert next_command("descend", args) == "next: slopecli check --weights 0,2,1 --input 1,2,3 --target 0"
    assert next_command("check", args) is None
    options = DataOptions(
        file="my data.csv",
        weights_file="w.json",
        header=False,
        target_column="y",
        features="a,b",
        delimiter=";",
        bias=True,
    )
    assert next_command("compute", data_arguments(options)) == (
        "next: slopecli step 'my data.csv' --weights-file w.json --no-header --target-column y"
        " --features a,b --delimiter ';' --bias --lr 0.01"
    )


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_the_hint_is_one_dim_line_on_a_terminal_only():
    terminal = Console(file=Terminal(), color_system="standard", width=200)
    suggest_next("compute", COURSE, console=terminal)
    assert (
        text(terminal)
        == "\x1b[2mnext: slopecli step --weights 0,2,1 --input 1,2,3 --target 0 --lr 0.01\x1b[0m\n"
    )
    suggest_next("check", COURSE, console=terminal)  # the course ends there
    assert text(terminal).count("\n") == 1
    # Not a terminal, even when FORCE_COLOR makes Rich colour it.
    piped = Console(file=StringIO(), force_terminal=True, color_system="standard", width=200)
    suggest_next("compute", COURSE, console=piped)
    assert text(piped) == ""


def test_on_a_narrow_terminal_the_hint_breaks_between_words_as_a_shell_reads_them():
    data = DataOptions(weights="0.125,2,1", inputs=("1,2,3",), targets=("0",))
    narrow = Console(file=Terminal(), color_system=None, width=33)
    suggest_next("step", data, learning_rate=0.03125, console=narrow)
    assert text(narrow) == (
        "next: slopecli descend \\\n"
        "      --weights 0.125,2,1 \\\n"
        "      --input 1,2,3 --target 0 \\\n"
        "      --lr 0.03125 --steps 100\n"
    )
    # The lines are the command: joined as a shell joins them, they are the one-line hint.
    assert text(narrow).replace(" \\\n     ", "").rstrip() == next_command(
        "step", data_arguments(data), learning_rate=0.03125
    )
    # A word wider than the terminal would be split by it anywhere: no hint then.
    tiny = Console(file=Terminal(), color_system=None, width=20)
    suggest_next("step", data, learning_rate=0.03125, console=tiny)
    assert text(tiny) == ""


def test_the_hint_measures_wide_characters_as_the_terminal_does():
    # Each of データ takes two columns: by len() the first line would fit 40, on screen it takes 45.
    data = DataOptions(file="データ/訓練データ.csv", weights="0,2,1")
    narrow = Console(file=Terminal(), color_system=None, width=40)
    suggest_next("compute", data, console=narrow)
    assert text(narrow) == (
        "next: slopecli step \\\n      'データ/訓練データ.csv' \\\n      --weights 0,2,1 --lr 0.01\n"
    )


def test_the_hint_names_a_file_that_looks_like_a_flag_as_a_file():
    assert next_command("compute", data_arguments(DataOptions(file="--dash.csv", weights="1"))) == (
        "next: slopecli step ./--dash.csv --weights 1 --lr 0.01"
    )
    assert next_command("compute", data_arguments(DataOptions(file="-", weights="1"))) == (
        "next: slopecli step - --weights 1 --lr 0.01"
    )


def test_the_hint_gives_the_learning_rate_as_it_was_given():
    assert next_command("step", data_arguments(COURSE), learning_rate=0.0123456789) == (
        "next: slopecli descend --weights 0,2,1 --input 1,2,3 --target 0 --lr 0.0123456789 --steps 100"
    )


def test_a_dumb_terminal_gets_tables_as_wide_as_it_is(monkeypatch):
    # Rich takes any TERM=dumb terminal (Emacs' shell) to be 80 wide, whatever its size.
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setattr("sys.stdout", Terminal())
    assert stdout_console().width == 40
    assert Console().width == 80  # what Rich alone would draw in


def test_writers_say_when_they_explained_one_point():
    con = console(80)
    writer = TableWriter(con)
    w = np.array([0.0, 2.0, 1.0])
    writer.begin(["x1", "x2", "x3"], w)
    writer.end(evaluate([Chunk(np.array([[1.0, 2, 3]]), np.array([0.0]), 0)], w, writer.rows))
    assert writer.single_point


number_texts = st.builds(
    lambda m, e: f"{m * 10.0**e:.17g}", st.floats(-10, 10, allow_nan=False), st.integers(-300, 300)
)
glue = st.sampled_from(["·", "(", ")", "'", "[", ", ", "Σ w·", "sigmoid'(", " = "])


@given(st.lists(st.one_of(number_texts, glue), min_size=1, max_size=8), st.integers(1, 30))
def test_wrapping_never_breaks_a_number_in_any_width(parts, width):
    """A line runs past ``width`` only to keep a number whole, and every number is on one line."""
    text = "".join(parts)
    lines = [text[a:b] for _, a, b in wrap(text, width, TERMS)]
    assert [t for line in lines for t in NUMBER_TOKEN.findall(line)] == NUMBER_TOKEN.findall(text), lines
    for line in lines:
        if cells(line) > width:
            assert max(map(len, NUMBER_TOKEN.findall(line)), default=0) > width - 2, lines


NUMBER_TOKEN = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?")
