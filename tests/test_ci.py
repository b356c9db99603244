"""CI checks what the house claims: the gates in .ci/run, their pinned tools, and tests that never
depend on the directory they are run from."""

from __future__ import annotations

import ast
import os
import re
import tomllib

import pytest

from conftest import ROOT, SUBPROCESS_COVERAGE

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CI_SCRIPT = ROOT / ".ci" / "run"
# A copy of the project need not bring CI's own script (a source tree without its dot-folders):
# the README's test command must still pass there, so what checks the script is skipped.
CI = CI_SCRIPT.read_text() if CI_SCRIPT.is_file() else ""
needs_ci_script = pytest.mark.skipif(not CI, reason="no .ci/run in this copy of the project")
TESTS = ROOT / "tests"
README = (ROOT / "README.md").read_text()


def test_the_gate_tools_are_pinned_in_the_test_extra():
    pins = {}
    for requirement in PYPROJECT["project"]["optional-dependencies"]["test"]:
        name, _, version = requirement.partition("==")
        pins[name] = version
    for tool in ("ruff", "mypy", "coverage", "pytest-cov"):
        assert re.fullmatch(r"\d+(\.\d+)+", pins.get(tool, "")), f"{tool} is not pinned to one version"


@needs_ci_script
@pytest.mark.parametrize(
    "gate",
    [
        ".venv/bin/python -m pytest -m slow",
        ".venv/bin/coverage report",
        ".venv/bin/ruff check",
        ".venv/bin/ruff format --check",
        ".venv/bin/mypy --strict",
    ],
)
def test_ci_runs_every_gate(gate):
    assert gate in CI


@needs_ci_script
def test_ci_runs_the_readme_test_command():
    setup = re.search(r"## Set up.*?```sh\n(.*?)\n```\s*```sh\n(.*?)\n```", README, flags=re.S)
    assert setup is not None
    install_and_test = setup.group(2)
    assert install_and_test in CI


def test_no_test_pauses_coverage():
    """pytest-cov's no_cover stops and restarts coverage around a test, and coverage 7.17 applies
    its [run] patch again on each restart: one more at-fork hook per paused test, each of which
    restarts coverage in every forked worker. Tried on the property-based tests, it made batch's
    pool tests 3-4 times slower and CI no faster."""
    users = [
        path.name
        for path in TESTS.glob("*.py")
        if path.name != "test_ci.py" and "no_cover" in path.read_text()
    ]
    assert users == []


@needs_ci_script
def test_ci_measures_branch_coverage_of_subprocesses_with_a_floor():
    run = PYPROJECT["tool"]["coverage"]["run"]
    assert run["branch"] is True
    # The console script ends with os._exit, which skips atexit: without "_exit" the installed
    # command's coverage would be lost, without "subprocess" it would not be measured at all.
    assert {"subprocess", "_exit"} <= set(run["patch"])
    assert PYPROJECT["tool"]["coverage"]["report"]["fail_under"] == 95
    assert "--cov" in CI


def test_the_processes_an_unmarked_test_starts_are_not_measured():
    assert SUBPROCESS_COVERAGE not in os.environ


@pytest.mark.process_coverage
def test_the_processes_a_marked_test_starts_are_measured_under_coverage():
    import coverage

    running = coverage.Coverage.current()
    if running is None or "subprocess" not in running.config.patch:
        pytest.skip("not run under coverage, or not measuring subprocesses")
    assert SUBPROCESS_COVERAGE in os.environ


def test_a_plain_pytest_leaves_the_slow_tests_to_ci():
    options = PYPROJECT["tool"]["pytest"]["ini_options"]
    assert "--strict-markers" in options["addopts"]
    assert options["addopts"][options["addopts"].index("-m") + 1] == "not slow and not release"
    assert any(marker.startswith("slow:") for marker in options["markers"])
    assert any(marker.startswith("release:") for marker in options["markers"])


# Calls that resolve a path argument against the current directory.
PATH_TAKERS = {"invoke", "run_installed", "open", "run", "Popen", "check_output", "check_call", "call"}
# (test file, literal) offenders in files whose owners have yet to fix them; keep this empty.
KNOWN: set[tuple[str, str]] = set()


def relative_path_literals() -> set[tuple[str, str]]:
    """String literals that look like relative file paths, passed straight to a call that opens them
    (or hands them to slopecli, which does) instead of being joined to ROOT, SAMPLES or tmp_path."""
    found = set()
    for path in sorted(TESTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in PATH_TAKERS:
                continue
            literals = [arg for arg in node.args if isinstance(arg, ast.Constant)]
            for element in (arg for arg in node.args if isinstance(arg, ast.List | ast.Tuple)):
                literals += [e for e in element.elts if isinstance(e, ast.Constant)]
            for literal in literals:
                value = literal.value
                if (
                    isinstance(value, str)
                    and re.fullmatch(r"[\w.-]+(/[\w.*-]+)*\.?\w*", value)
                    and ("/" in value or re.search(r"\.(csv|tsv|parquet|json|txt|svg)$", value))
                ):
                    found.add((path.name, value))
    return found


def test_tests_name_files_from_the_repository_not_the_current_directory():
    assert relative_path_literals() - KNOWN == set()
