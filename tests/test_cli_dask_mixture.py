"""Mixture model files with ``--scheduler`` (Dask) on Parquet files: ``cluster`` fits on
the scheduler, ``predict`` maps the mixture lazily over the row blocks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import assert_bad_input, run

from gaussmle.persist import load

pd = pytest.importorskip("pandas")
pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    """Two clusters at an offset, in three Parquet files (one of a single row), with ids."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("dask-mixture")
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0.0, 1.0, (70, 2)), rng.normal([5.0, 2.0], 0.5, (60, 2))])
    X = 1e6 + X[rng.permutation(len(X))]
    table = pa.table({"id": np.arange(len(X)), "a": X[:, 0], "b": X[:, 1]})
    for k, (start, stop) in enumerate([(0, 50), (50, 51), (51, len(X))]):
        pq.write_table(table.slice(start, stop - start), root / f"part-{k}.parquet")
    return {"root": root, "pattern": str(root / "part-*.parquet"), "X": X}


def test_cluster_on_a_local_cluster_then_predict_lazily(parts):
    root, pattern = parts["root"], parts["pattern"]
    fitted = root / "mix.json"
    common = ["--features", "a,b", "-k", "2", "--covariance", "full"]
    report = json.loads(
        run("cluster", pattern, *common, "--json", "--scheduler", "local", "-o", fitted).stdout
    )
    assert report["rows"] == len(parts["X"])
    model = load(fitted)
    assert sorted(np.round(model.weights_ * 130).astype(int).tolist()) == [60, 70]
    in_memory = run("predict", fitted, pattern, "--id", "id", "--proba").stdout
    for scheduler in ("synchronous", "local"):
        on_dask = run(
            "predict", fitted, pattern, "--id", "id", "--proba", "--scheduler", scheduler
        ).stdout
        assert on_dask == in_memory, scheduler
    lines = in_memory.splitlines()
    assert lines[0] == "id,predicted,proba_0,proba_1" and len(lines) == 1 + len(parts["X"])
    # the file's predictions are the model's own (the parts hold the rows in order)
    ids = [int(line.split(",")[0]) for line in lines[1:]]
    got = np.array([int(line.split(",")[1]) for line in lines[1:]])
    assert ids == list(range(len(parts["X"])))
    frame = pd.DataFrame(parts["X"], columns=["a", "b"])
    np.testing.assert_array_equal(got, model.predict(frame))


def test_classifier_only_options_are_still_refused_for_a_mixture(parts, tmp_path):
    fitted = tmp_path / "mix.json"
    run("cluster", parts["pattern"], "--features", "a,b", "-k", "2", "-o", fitted)
    result = run(
        "predict", fitted, parts["pattern"], "--explain", "--scheduler", "synchronous", ok=False
    )
    assert_bad_input(result, "--explain is for classifiers")


def test_evaluate_a_mixture_on_dask_equals_in_memory(tmp_path):
    """evaluate --scheduler takes a mixture file as evaluate does in memory (log-likelihood,
    BIC, AIC, and the adjusted Rand index with --target); it refused it before."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(5)
    group = rng.integers(0, 2, 90)
    X = 1e6 + rng.normal(0.0, 1.0, (90, 2)) + 4.0 * group[:, None]
    table = pa.table({"a": X[:, 0], "b": X[:, 1], "group": group.astype(str)})
    for k, (start, stop) in enumerate([(0, 40), (40, 41), (41, 90)]):
        pq.write_table(table.slice(start, stop - start), tmp_path / f"part-{k}.parquet")
    pattern = str(tmp_path / "part-*.parquet")
    fitted = tmp_path / "mix.json"
    run("cluster", pattern, "--features", "a,b", "-k", "2", "-o", fitted)
    for extra in ([], ["--target", "group"]):
        in_memory = json.loads(run("evaluate", fitted, pattern, *extra, "--json").stdout)
        on_dask = json.loads(
            run("evaluate", fitted, pattern, *extra, "--json", "--scheduler", "synchronous").stdout
        )
        assert on_dask["rows"] == in_memory["rows"] == 90
        for key in ("log_likelihood", "bic", "aic"):
            assert on_dask[key] == pytest.approx(in_memory[key], rel=1e-12), key
    assert on_dask["adjusted_rand_index"] == in_memory["adjusted_rand_index"] > 0.8
    text = run("evaluate", fitted, pattern, "--scheduler", "synchronous").stdout
    assert text.startswith("Evaluated the 2-component mixture on 90 rows of")
    result = run(
        "evaluate", fitted, pattern, "--scheduler", "synchronous", "--drop-missing", ok=False
    )
    assert_bad_input(result, "--drop-missing is not available with --scheduler")
