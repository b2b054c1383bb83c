"""Shared fixtures: the internals of kernels and densities (below), and the skittles
data and model on disk with a copy with gaps (at the end).

The tests reach the internals of the compiled kernels and of the class
densities only through the fixtures in the "kernels" and "densities" sections
below (and through ``tests/test_kernels.py``, which tests the kernels
directly): when those modules move, re-point ``KERNELS``, ``EVALUATOR`` and ``FAMILIES`` and
the few names the fixtures patch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from cli_support import csv_with_gaps, run
from io_support import small_table, write_parquet

from gaussmle.datasets import make_skittles
from gaussmle.densities import _evaluator as EVALUATOR
from gaussmle.densities import _gaussian as FAMILIES
from gaussmle.io import write_table
from gaussmle.kernels import _kernels as KERNELS

# ------------------------------------------------------------------ kernels


@pytest.fixture
def numpy_only(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call the returned function to switch the compiled kernels off for the rest of the test."""

    def use_numpy() -> None:
        monkeypatch.setattr(KERNELS, "available", lambda: False)

    return use_numpy


@pytest.fixture(params=["rows", "blocks"])
def layout(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Force the diag kernels' layout: row by row, or transposed blocks of rows."""
    by_rows = request.param == "rows"
    monkeypatch.setattr(KERNELS, "diag_by_rows", lambda n_classes, n_features: by_rows)
    return request.param


@pytest.fixture
def split_rows(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Call the returned function with ``parts`` to split every kernel's rows into that
    many contiguous ranges, one per thread, whatever the number of rows (the kernels
    do so on their own only from ``PARALLEL_MIN_ROWS`` = 262,144 rows)."""

    def split(parts: int) -> None:
        monkeypatch.setattr(KERNELS, "_parts", lambda n_rows: parts)

    return split


#: The row-parallel kernels (a parallel launch each), by compiled module loader.
THREADED_KERNELS = {
    "_compiled_stats": ("group_stats", "group_scatter"),
    "_compiled": ("diag_rows", "diag_best", "full_rows"),
    "_compiled_linear": ("linear_rows",),
}


@pytest.fixture
def threaded_launches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the row-parallel (threaded) kernels called, in order (a spy); their
    serial twins are not recorded."""
    seen: list[str] = []

    def spying(name: str, kernel: Callable[..., object]) -> Callable[..., object]:
        def launch(*args: object) -> object:
            seen.append(name)
            return kernel(*args)

        return launch

    for loader, names in THREADED_KERNELS.items():
        module = getattr(KERNELS, loader)()
        for name in names:
            monkeypatch.setattr(module, name, spying(name, getattr(module, name)))
    return seen


@pytest.fixture
def always_threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kernel call goes through the threaded launch, even with one range of rows."""

    def threaded(kernel: Callable[..., object], serial: object, args: tuple, n: int) -> object:
        return kernel(*args, KERNELS._parts(n))

    monkeypatch.setattr(KERNELS, "_launch", threaded)


@pytest.fixture
def kernel_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the calls into the compiled modules (fit statistics, predict, tied)."""
    calls = {"stats": 0, "predict": 0, "linear": 0}

    def counting(name: str, loader: Callable[[], object]) -> Callable[[], object]:
        def load() -> object:
            calls[name] += 1
            return loader()

        return load

    monkeypatch.setattr(KERNELS, "_compiled_stats", counting("stats", KERNELS._compiled_stats))
    monkeypatch.setattr(KERNELS, "_compiled", counting("predict", KERNELS._compiled))
    monkeypatch.setattr(KERNELS, "_compiled_linear", counting("linear", KERNELS._compiled_linear))
    return calls


@pytest.fixture
def kernels_available() -> bool:
    """Whether the compiled kernels serve fit and predict in this run."""
    return bool(KERNELS.available())


# ------------------------------------------------------------------ densities


@pytest.fixture
def no_accuracy_guard(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call the returned function to drop the numpy path's rounding guard: every term
    of the diag/tied densities then goes through the expanded square."""

    def drop() -> None:
        monkeypatch.setattr(FAMILIES, "ABS_TOL", float("inf"))

    return drop


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[int]]:
    """Call the returned function to make the numpy path evaluate the fewest rows per
    chunk (256); it returns a list that receives each evaluation's number of chunks."""

    def shrink() -> list[int]:
        seen: list[int] = []
        rows = EVALUATOR.DensityEvaluator._rows

        def counted(self: object, n: int) -> list[slice]:
            chunks = list(rows(self, n))
            seen.append(len(chunks))
            return chunks

        monkeypatch.setattr(EVALUATOR, "CHUNK_BYTES", 1)
        monkeypatch.setattr(EVALUATOR.DensityEvaluator, "_rows", counted)
        return seen

    return shrink


@pytest.fixture
def parts_used(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of row ranges (threads) each kernel call chose, in order (a spy)."""
    seen: list[int] = []
    choose = KERNELS._parts

    def spy(n_rows: int) -> int:
        seen.append(choose(n_rows))
        return seen[-1]

    monkeypatch.setattr(KERNELS, "_parts", spy)
    return seen


@pytest.fixture
def kernel_threads() -> int:
    """Threads the compiled kernels may use (numba's setting)."""
    return int(KERNELS.n_threads())


@pytest.fixture
def parallel_min_rows() -> int:
    """From this many rows the kernels split the rows across threads."""
    return int(KERNELS.PARALLEL_MIN_ROWS)


# ------------------------------------------------------------------ mixtures


@pytest.fixture(params=[pytest.param("kernel", marks=pytest.mark.compiled), "numpy"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a mixture test with the compiled M-step kernel and with the numpy reference path."""
    from gaussmle import mixture

    if request.param == "numpy":
        monkeypatch.setattr(mixture, "use_kernel", lambda: False)
    return request.param


# ------------------------------------------------------------------ data on disk


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Skittles data, mystery skittles and a fitted model on disk."""
    root = tmp_path_factory.mktemp("cli")
    ds = make_skittles(random_state=3)
    data = root / "skittles.csv"
    write_table(data, ds.to_columns())
    mystery = root / "mystery.csv"
    write_table(mystery, {"id": np.arange(1, 51), **ds.new_columns()})
    model = root / "model.json"
    run("fit", data, "--target", "colour", "-o", model)
    return {"root": root, "ds": ds, "data": data, "mystery": mystery, "model": model}


@pytest.fixture(scope="module")
def gappy(files):
    """The skittles with about a sixth of the values knocked out, as CSV with empty cells."""
    ds = files["ds"]
    rng = np.random.default_rng(7)
    X = ds.X.copy()
    X[rng.random(X.shape) < 0.17] = np.nan
    X[0] = np.nan  # a row with nothing observed still counts for its class
    X_new = ds.X_new.copy()
    X_new[rng.random(X_new.shape) < 0.3] = np.nan
    root = files["root"]
    return {
        "X": X,
        "y": ds.y,
        "X_new": X_new,
        "data": csv_with_gaps(root / "gaps.csv", X, ds.y),
        "new": csv_with_gaps(root / "gaps-new.csv", X_new, ids=True),
    }


@pytest.fixture
def table_files(tmp_path):
    """The same small table as CSV, Parquet and (numeric part) npy."""
    cols = small_table()
    csv_path = str(tmp_path / "t.csv")
    write_table(csv_path, cols)
    pq_path = write_parquet(tmp_path / "t.parquet", cols, row_group_size=5)
    npy_path = str(tmp_path / "t.npy")
    np.save(npy_path, np.column_stack([cols["a"], cols["b"]]))
    return {"cols": cols, "csv": csv_path, "parquet": pq_path, "npy": npy_path}
