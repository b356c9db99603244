"""The differential fuzz test: the local engine and the Dask engine read the same generated files.

Both engines read every file with slopecli's own reader (issue 12, item 2), so on every file they
must give the same n, gradient (to 1e-12 relative) and MSE, or the same error message. Files come
from tests/fuzzing.py: CSV dialects, mutated copies of them and Parquet files, 1–3 per run.

The Dask engine runs in process (``--scheduler synchronous``). A second test cuts every file into
pieces of a few bytes, as both engines cut files of many MiB, so that the split reader, where the
bugs of issue 12 hid, is exercised by files small enough to generate.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from fuzzing import Options, _both_right, differences, engine_files, fuzz_settings, split_differences

pytest.importorskip("distributed", reason="the dask extra is part of the test install")


def report(found: list[str], files, options) -> str:
    shown = "\n".join(f"{name}: {data!r}" for name, data in files)
    return "\n".join(found) + f"\n--- files ---\n{shown}\n--- flags ---\n{options.args()}"


@pytest.mark.slow
@fuzz_settings(35)
@given(engine_files())
def test_the_local_and_dask_engines_agree(drawn):
    files, options = drawn
    found = differences(files, options)
    assert not found, report(found, files, options)


@pytest.mark.slow
@fuzz_settings(25)
@given(engine_files())
def test_files_read_in_tiny_pieces_give_what_one_pass_gives(drawn):
    files, options = drawn
    found = split_differences(files, options)
    assert not found, report(found, files, options)


def test_a_line_break_in_a_column_that_is_not_read():
    """Found by the fuzzer: a quoted line break in a column --features leaves out. One pass reads
    the file; cut into pieces at line starts (files of 64 MiB and more), the Dask engine fails
    with "cannot read it on the cluster"."""
    files = [("part-0.csv", b'note,a,target\n"x\ny",1,2\n"x\ny",3,4\n"x\ny",5,6\n')]
    options = Options(weights="1", features="a")
    found = split_differences(files, options)
    assert not found, report(found, files, options)


def test_two_results_that_differ_by_rounding_are_both_right_and_a_wrong_one_is_not():
    """The README's float64 rule, as the differential test applies it: an error that cancels
    (1 − 1e100 + 1 + 1e100) may sum to 0 in one order and to its exact value in another."""
    data = b"a,target\n1,1e100\n1,-1e100\n1,1\n"
    options = Options(weights="1")
    mse = (2e200 + 2) / 3
    assert _both_right(data, options, (3, [0.0], mse), (3, [4 / 3], mse))
    assert not _both_right(data, options, (3, [0.0], mse), (3, [1e142], mse))
    assert not _both_right(data, options, (3, [0.0], mse), "data row 1: the error overflows float64")
    # Near float64's limit, an overflow in one order of the partial sums is right too.
    edge = b"a,target\n1.5e308,1\n1e308,1\n-1e308,1\n"  # with w = 0, Σ x·e passes -2.5e308 on the way
    right = (3, [2 / 3 * -1.5e308], 1.0)
    assert _both_right(edge, Options(weights="0"), right, "the gradient overflows float64")
