"""``gaussmle fit``: the streamed fit equals the in-memory one, in any batch size and
from any input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import FEATURES, assert_bad_input, run

from gaussmle import GaussianClassifier
from gaussmle.persist import load


def test_fit_equals_in_memory_fit_and_prints_summary(files):
    ds = files["ds"]
    model = load(files["model"])
    expected = GaussianClassifier().fit(ds.X, ds.y)
    assert model.classes_.tolist() == ["purple", "yellow"]
    assert list(model.feature_names_in_) == FEATURES
    np.testing.assert_allclose(model.means_, expected.means_, rtol=1e-12)
    np.testing.assert_allclose(model.covariances_, expected.covariances_, rtol=1e-12)
    out = run("fit", files["data"], "--target", "colour", "-o", files["root"] / "again.json").output
    assert "Read 200 rows of 2 features" in out
    assert "purple   100  50.0%" in out
    assert "Saved the model to" in out


@pytest.mark.parametrize("covariance", ["full", "tied", "spherical"])
def test_fit_in_small_batches_equals_one_fit(files, covariance):
    ds = files["ds"]
    out = files["root"] / f"batches-{covariance}.json"
    run(
        "fit",
        files["data"],
        "--target",
        "colour",
        "--covariance",
        covariance,
        "--batch-rows",
        "7",
        "-o",
        out,
    )
    model = load(out)
    expected = GaussianClassifier(covariance_type=covariance).fit(ds.X, ds.y)
    np.testing.assert_allclose(model.means_, expected.means_, rtol=1e-12)
    np.testing.assert_allclose(model.covariances_, expected.covariances_, rtol=1e-11)
    assert model.epsilon_ == pytest.approx(expected.epsilon_, rel=1e-12)


def test_fit_json_and_features_and_smoothing(files):
    out = files["root"] / "one-feature.json"
    result = run(
        "fit",
        files["data"],
        "--target",
        "colour",
        "--features",
        "elegance",
        "--var-smoothing",
        "0.5",
        "--json",
        "-o",
        out,
    )
    payload = json.loads(result.stdout)
    assert payload["rows"] == 200 and payload["features"] == ["elegance"]
    assert [c["class"] for c in payload["classes"]] == ["purple", "yellow"]
    model = load(out)
    assert model.n_features_in_ == 1 and model.var_smoothing == 0.5


def test_fit_from_stdin_parquet_and_npy(files, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ds = files["ds"]
    text = files["data"].read_text()
    run("fit", "-", "--target", "colour", "-o", tmp_path / "stdin.json", input=text)
    np.testing.assert_allclose(load(tmp_path / "stdin.json").means_, load(files["model"]).means_)

    table = pa.table({**{n: ds.X[:, j] for j, n in enumerate(FEATURES)}, "colour": ds.y})
    pq.write_table(table.slice(0, 120), tmp_path / "part-1.parquet")
    pq.write_table(table.slice(120), tmp_path / "part-2.parquet")
    run("fit", tmp_path / "part-*.parquet", "--target", "colour", "-o", tmp_path / "pq.json")
    np.testing.assert_allclose(load(tmp_path / "pq.json").means_, load(files["model"]).means_)

    codes = (ds.y == "yellow").astype(float)
    np.save(tmp_path / "xy.npy", np.column_stack([ds.X, codes]))
    run("fit", tmp_path / "xy.npy", "--target", "x2", "-o", tmp_path / "npy.json")
    model = load(tmp_path / "npy.json")
    assert model.classes_.tolist() == [0.0, 1.0]
    np.testing.assert_allclose(model.means_, load(files["model"]).means_)


def test_fit_drop_missing_says_how_many(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("a,b,label\n1,2,x\n,3,y\n4,5,x\n6,7,y\n8,,y\n2,1,x\n")
    result = run("fit", path, "--target", "label", "--drop-missing", "-o", tmp_path / "m.json")
    assert "dropped 2 with missing values" in result.output
    assert load(tmp_path / "m.json").class_count_.tolist() == [3.0, 1.0]


def test_streamed_fit_refuses_a_feature_varying_only_between_batches(tmp_path):
    """Constant within each batch of 10 rows, 1e-160 apart between them: refused as by
    the in-memory fit (each batch on its own used to pass)."""
    rows = ["tiny,other,label"]
    for i in range(20):
        rows.append(f"{0.0 if i < 10 else 1e-160!r},{i % 7}.5,{'ab'[i % 2]}")
    data = tmp_path / "tiny.csv"
    data.write_text("\n".join(rows) + "\n")
    result = run(
        "fit", data, "--target", "label", "--batch-rows", "10", "-o", tmp_path / "m.json", ok=False
    )
    assert_bad_input(result, "feature 0 of X varies by only about 1e-160")
    assert not (tmp_path / "m.json").exists()
