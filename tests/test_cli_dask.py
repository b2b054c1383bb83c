"""Commands with ``--scheduler`` (Dask) on Parquet files."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from cli_support import FEATURES, assert_bad_input, run

from gaussmle import GaussianClassifier
from gaussmle.persist import load


def test_scheduler_fit_predict_evaluate_on_parquet(files, tmp_path):
    pytest.importorskip("dask.dataframe")
    import pyarrow as pa
    import pyarrow.parquet as pq

    ds = files["ds"]
    table = pa.table(
        {"id": np.arange(200), **{n: ds.X[:, j] for j, n in enumerate(FEATURES)}, "colour": ds.y}
    )
    for k in range(3):
        pq.write_table(table.slice(70 * k, 70), tmp_path / f"part-{k}.parquet")
    pattern = str(tmp_path / "part-*.parquet")
    out = tmp_path / "dask.json"
    run(
        "fit",
        pattern,
        "--target",
        "colour",
        "--features",
        ",".join(FEATURES),
        "--scheduler",
        "synchronous",
        "-o",
        out,
    )
    streamed = tmp_path / "streamed.json"
    run("fit", pattern, "--target", "colour", "--features", ",".join(FEATURES), "-o", streamed)
    np.testing.assert_allclose(load(out).means_, load(streamed).means_, rtol=1e-12)
    np.testing.assert_allclose(load(out).covariances_, load(streamed).covariances_, rtol=1e-12)
    on_dask = run(
        "predict", out, pattern, "--id", "id", "--proba", "--scheduler", "synchronous"
    ).stdout
    assert on_dask == run("predict", out, pattern, "--id", "id", "--proba").stdout
    report = json.loads(
        run(
            "evaluate", out, pattern, "--target", "colour", "--json", "--scheduler", "synchronous"
        ).stdout
    )
    assert report["rows"] == 200


def test_scheduler_fit_marginalizes_missing_values_in_parquet(gappy, tmp_path):
    pytest.importorskip("dask.dataframe")
    import pyarrow as pa
    import pyarrow.parquet as pq

    X, y = gappy["X"], gappy["y"]
    table = pa.table({"a": X[:, 0], "b": X[:, 1], "colour": y})
    for k in range(3):
        pq.write_table(table.slice(70 * k, 70), tmp_path / f"gaps-{k}.parquet")
    pattern = str(tmp_path / "gaps-*.parquet")
    out = tmp_path / "gaps-dask.json"
    args = ["--target", "colour", "--missing", "marginalize", "--scheduler", "synchronous"]
    run("fit", pattern, *args, "-o", out)
    expected = GaussianClassifier(missing="marginalize").fit(X, y)
    model = load(out)
    assert model.missing == "marginalize"
    np.testing.assert_array_equal(
        model.class_stats_.feature_count, expected.class_stats_.feature_count
    )
    np.testing.assert_allclose(model.means_, expected.means_, rtol=1e-12)
    np.testing.assert_allclose(model.covariances_, expected.covariances_, rtol=1e-11)
    # without --missing marginalize a gap is an error that says where it is
    result = run("fit", pattern, *args[:2], "--scheduler", "synchronous", "-o", out, ok=False)
    line = assert_bad_input(result, "has a missing value (NaN) at row", "--missing marginalize")
    name, row, path = re.search(r"column '(.+)' has .* at row (\d+) .* of '(.+)'", line).groups()
    pd = pytest.importorskip("pandas")
    assert np.isnan(pd.read_parquet(path)[name].to_numpy()[int(row) - 1])
