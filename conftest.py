"""Rules for the whole test run (tests/ and the doctests in src/).

- scikit-learn's array-API check for estimators without array-API support
  (``check_array_api_input`` with numpy input) needs ``SCIPY_ARRAY_API=1``
  before scipy is first imported; without it the check skips.
- With ``GAUSSMLE_NO_NUMBA=1`` (the second run of ``make test``) the tests
  marked ``compiled`` (compiled kernels against the numpy path) are deselected,
  and the summary says so: with the kernels switched off they would compare the
  numpy path with itself.
- Without numba installed (a dependency, so only in a broken environment) the
  doctest run does not import the modules that import numba at the top, and
  the summary names them; the test that asserts the compiled kernels are
  active then fails in the main run.
- With ``CI=true`` a skipped test, or a test module skipped while it is
  collected (``pytest.importorskip`` at module level), is a failure: CI must
  not pass because an optional dependency is missing.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("SCIPY_ARRAY_API", "1")

NO_NUMBA = bool(os.environ.get("GAUSSMLE_NO_NUMBA"))
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
COMPILED_REASON = "compiled kernels against the numpy path; GAUSSMLE_NO_NUMBA=1 switches them off"


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SUMMARY] = []


_SUMMARY = pytest.StashKey[list]()


def _installed(name: str) -> bool:
    """Whether ``name`` can be imported (found without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


HAVE_NUMBA = _installed("numba")
_IMPORTS_NUMBA = re.compile(r"^(import numba|from numba)\b", re.MULTILINE)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Without numba, leave out the source modules that import it (for the doctests)."""
    if HAVE_NUMBA or collection_path.suffix != ".py" or "src" not in collection_path.parts:
        return None
    if _IMPORTS_NUMBA.search(collection_path.read_text(encoding="utf-8")):
        config.stash[_SUMMARY].append(
            f"not collected {collection_path.name}: it imports numba, which is not installed"
        )
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not NO_NUMBA:
        return
    dropped = [item for item in items if item.get_closest_marker("compiled")]
    if dropped:
        items[:] = [item for item in items if not item.get_closest_marker("compiled")]
        config.hook.pytest_deselected(items=dropped)
        config.stash[_SUMMARY].append(f"deselected {len(dropped)} tests: {COMPILED_REASON}")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_SUMMARY, [])
    for line in lines:
        terminalreporter.write_line(line)
    if NO_NUMBA and not lines:  # with pytest-xdist the workers collect, and count
        terminalreporter.write_line(f"deselected the tests marked compiled: {COMPILED_REASON}")


def _fail_skip_in_ci(report: pytest.CollectReport | pytest.TestReport, what: str) -> None:
    """Turn a skip into a failure that names the skip's reason."""
    if not (IN_CI and report.skipped) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"{what} skipped in CI (CI=true), which counts as a failure: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _fail_skip_in_ci(outcome.get_result(), "test")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _fail_skip_in_ci(outcome.get_result(), "module")
