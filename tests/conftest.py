"""Fixtures shared by the test modules: the skittles data and model on disk, and a
copy with gaps."""

from __future__ import annotations

import numpy as np
import pytest
from cli_support import csv_with_gaps, run
from io_support import small_table, write_parquet

from gaussmle.datasets import make_skittles
from gaussmle.io import write_table


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
