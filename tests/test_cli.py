"""The ``gaussmle`` command line: results, output, and one-line errors with exit code 2.

Most tests run the commands in-process with click's CliRunner; a handful run
the real console script as a subprocess to check the exit code, the
one-line message on standard error and the absence of a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import gaussmle
from gaussmle import GaussianClassifier
from gaussmle.cli import cli
from gaussmle.cli._app import Progress, error_message
from gaussmle.cli._stream import ClassAccumulator
from gaussmle.datasets import make_skittles
from gaussmle.io import write_table
from gaussmle.persist import load, save
from gaussmle.prior import ConjugatePrior

FEATURES = ["aromatic lift", "elegance"]
SCRIPT = Path(sys.executable).with_name("gaussmle")


def run(*args: str, input: str | bytes | None = None, ok: bool = True):
    """Invoke the command line in-process; by default require success."""
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    if ok and result.exit_code != 0:
        raise AssertionError(
            f"gaussmle {' '.join(map(str, args))} failed with {result.exit_code}:\n"
            f"{result.output}\n{result.exception!r}"
        )
    return result


def assert_bad_input(result, *fragments: str) -> str:
    """Exit code 2, one line on stderr starting 'error: ', nothing on stdout."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


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


# ---------------------------------------------------------------------- basics
def test_version_and_help_list_every_command():
    assert run("--version").output.strip() == f"gaussmle, version {gaussmle.__version__}"
    text = run("--help").output
    for name in (
        "demo",
        "fit",
        "predict",
        "evaluate",
        "describe",
        "estimate",
        "merge",
        "select",
        "plot",
    ):
        assert f"  {name} " in text
        assert "Examples:" in run(name, "--help").output


# ---------------------------------------------------------------------- fit
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


def test_class_accumulator_discovers_classes_and_unites_label_types():
    acc = ClassAccumulator(1, "diag")
    acc.add(np.array([[1.0], [2.0]]), np.array([1, 1]))
    acc.add(np.array([[5.0], [7.0], [3.0]]), np.array(["x", "x", "1"], dtype=object))
    classes, stats = acc.result()
    assert classes.tolist() == ["1", "x"]
    assert stats.count.tolist() == [3.0, 2.0]
    np.testing.assert_allclose(stats.mean[:, 0], [2.0, 6.0])


# ---------------------------------------------------------------------- predict
def test_predict_to_stdout_with_id_and_probabilities(files):
    ds = files["ds"]
    result = run("predict", files["model"], files["mystery"], "--proba", "--id", "id")
    lines = result.stdout.strip().split("\n")
    assert lines[0] == "id,predicted,proba_purple,proba_yellow"
    assert len(lines) == 51
    expected = GaussianClassifier().fit(ds.X, ds.y)
    proba = expected.predict_proba(ds.X_new)
    rows = [line.split(",") for line in lines[1:]]
    assert [int(r[0]) for r in rows] == list(range(1, 51))
    assert [r[1] for r in rows] == expected.predict(ds.X_new).tolist()
    np.testing.assert_allclose([[float(r[2]), float(r[3])] for r in rows], proba, rtol=1e-12)


def test_predict_to_file_in_batches(files, tmp_path):
    out = tmp_path / "pred.csv"
    result = run("predict", files["model"], files["mystery"], "--batch-rows", "8", "-o", out)
    assert "Wrote 50 predictions" in result.stdout
    whole = run("predict", files["model"], files["mystery"]).stdout
    assert out.read_text() == whole


def test_predict_explain_and_ood_columns(files):
    result = run("predict", files["model"], files["mystery"], "--explain", "--ood-threshold", "-4")
    header = result.stdout.split("\n", 1)[0]
    assert header == "predicted,ood_score,out_of_distribution,explanation"
    assert " over " in result.stdout and "log-odds" in result.stdout
    far = files["root"] / "far.csv"
    write_table(far, {"aromatic lift": [0.0, 40.0], "elegance": [0.0, -40.0]})
    rows = run("predict", files["model"], far, "--ood-threshold", "-4").stdout.split("\n")
    assert rows[1].endswith(",false") and rows[2].endswith(",true")


def test_predict_with_a_model_without_feature_names(files, tmp_path):
    ds = files["ds"]
    path = tmp_path / "plain.json"
    save(GaussianClassifier().fit(ds.X, ds.y), path)
    result = run("predict", path, files["mystery"], "--id", "id")
    assert result.stdout == run("predict", files["model"], files["mystery"], "--id", "id").stdout
    chosen = run("predict", path, files["mystery"], "--features", "aromatic lift,elegance")
    assert chosen.stdout == run("predict", files["model"], files["mystery"]).stdout
    bad = run("predict", path, files["mystery"], ok=False)  # the id column counts as numeric
    assert_bad_input(bad, "the model has 2 features", "3 numeric columns", "--features")


# ---------------------------------------------------------------------- evaluate
def test_evaluate_matches_scikit_learn(files):
    from sklearn.metrics import accuracy_score, log_loss

    ds = files["ds"]
    result = run(
        "evaluate",
        files["model"],
        files["data"],
        "--target",
        "colour",
        "--json",
        "--batch-rows",
        "30",
    )
    report = json.loads(result.stdout)
    model = GaussianClassifier().fit(ds.X, ds.y)
    assert report["rows"] == 200
    assert report["accuracy"] == pytest.approx(accuracy_score(ds.y, model.predict(ds.X)))
    assert report["log_loss"] == pytest.approx(log_loss(ds.y, model.predict_proba(ds.X)), rel=1e-9)
    counts = np.array(report["confusion_matrix"]["counts"])
    assert counts.sum() == 200 and np.trace(counts) == report["correct"]
    text = run("evaluate", files["model"], files["data"], "--target", "colour").stdout
    assert "accuracy" in text and "true \\ predicted" in text and "precision" in text


def test_evaluate_counts_unseen_labels_as_errors(files, tmp_path):
    path = tmp_path / "odd.csv"
    write_table(
        path,
        {
            "aromatic lift": [-1.0, 1.0, 0.0],
            "elegance": [-1.0, 1.0, 0.0],
            "colour": ["purple", "yellow", "green"],
        },
    )
    report = json.loads(
        run("evaluate", files["model"], path, "--target", "colour", "--json").stdout
    )
    assert report["unseen_labels"] == ["green"] and report["correct"] == 2
    assert "not in the model" in run("evaluate", files["model"], path, "--target", "colour").stdout


# ---------------------------------------------------------------------- describe, estimate
def test_describe_shows_estimates_with_standard_errors(files):
    ds = files["ds"]
    text = run("describe", files["model"]).stdout
    assert "9 free parameters" in text and "95% interval" in text
    report = json.loads(run("describe", files["model"], "--json").stdout)
    purple = ds.X[ds.y == "purple"]
    g = gaussmle.fit(purple)
    row = report["classes"][0]["features"][0]
    assert row["feature"] == "aromatic lift"
    assert row["mean"] == pytest.approx(g.mean[0], rel=1e-12)
    assert row["mean_se"] == pytest.approx(g.standard_errors()["mean"][0], rel=1e-6)
    assert row["variance"] == pytest.approx(g.covariance[0], rel=1e-6)
    low, high = row["mean_ci"]
    assert low < g.mean[0] < high


def test_describe_with_data_tests_normality(files):
    text = run("describe", files["model"], "--data", files["data"], "--target", "colour").stdout
    assert "Shapiro-Wilk" in text and "AIC" in text
    report = json.loads(
        run(
            "describe", files["model"], "--data", files["data"], "--target", "colour", "--json"
        ).stdout
    )
    ds = files["ds"]
    model = GaussianClassifier().fit(ds.X, ds.y)
    assert report["data"]["loglik"] == pytest.approx(model.loglik(ds.X, ds.y), rel=1e-9)
    assert len(report["data"]["normality"]) == 4


def test_describe_tied_and_full_show_correlations(files, tmp_path):
    for covariance in ("tied", "full"):
        out = tmp_path / f"{covariance}.json"
        run("fit", files["data"], "--target", "colour", "--covariance", covariance, "-o", out)
        assert "Correlations" in run("describe", out).stdout


def test_estimate_equals_gaussmle_fit_and_saves(files, tmp_path):
    ds = files["ds"]
    out = tmp_path / "g.json"
    payload = json.loads(
        run(
            "estimate",
            files["data"],
            "--features",
            ",".join(FEATURES),
            "--batch-rows",
            "16",
            "--json",
            "-o",
            out,
        ).stdout
    )
    g = gaussmle.fit(ds.X)
    assert [f["mean"] for f in payload["features"]] == pytest.approx(g.mean.tolist(), rel=1e-12)
    assert payload["loglik"] == pytest.approx(g.loglik(ds.X), rel=1e-12)
    np.testing.assert_allclose(load(out).covariance, g.covariance, rtol=1e-12)
    assert "covariance diag" in run("describe", out).stdout
    text = run(
        "estimate", files["data"], "--features", ",".join(FEATURES), "--covariance", "full"
    ).stdout
    assert "Correlations" in text and "Log-likelihood at the MLE" in text


# ---------------------------------------------------------------------- MAP, predictive, missing
def csv_with_gaps(
    path: Path, X: np.ndarray, y: np.ndarray | None = None, ids: bool = False
) -> Path:
    """Write X (NaN as an empty cell), the labels and optionally an id column as CSV."""
    header = (["id"] if ids else []) + FEATURES + (["colour"] if y is not None else [])
    lines = [",".join(f'"{h}"' if " " in h else h for h in header)]
    for i, row in enumerate(X):
        cells = ([str(i + 1)] if ids else []) + ["" if np.isnan(v) else repr(float(v)) for v in row]
        lines.append(",".join(cells + ([str(y[i])] if y is not None else [])))
    path.write_text("\n".join(lines) + "\n")
    return path


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


# the saved model knows its feature names; the library call below passes a bare array
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_fit_map_with_prior_and_predictive_equals_the_library(files, tmp_path):
    ds = files["ds"]
    out = tmp_path / "map.json"
    args = ["--estimator", "map", "--prior-strength", "5", "--prior-variance-strength", "3"]
    result = run("fit", files["data"], "--target", "colour", *args, "--predictive", "-o", out)
    assert "(covariance diag, MAP estimates, predictive densities)" in result.output
    model = load(out)
    prior = {"mean_strength": 5.0, "variance_strength": 3.0}
    expected = GaussianClassifier(estimator="map", prior=prior, predictive=True).fit(ds.X, ds.y)
    assert (model.estimator, model.prior, model.predictive) == (
        "map",
        ConjugatePrior(**prior),
        True,
    )
    np.testing.assert_allclose(model.means_, expected.means_, rtol=1e-12)
    np.testing.assert_allclose(model.covariances_, expected.covariances_, rtol=1e-12)
    np.testing.assert_allclose(
        model.predict_proba(ds.X_new), expected.predict_proba(ds.X_new), rtol=1e-10
    )
    text = run("describe", out).output
    assert "Estimator: map, under a conjugate prior (no var_smoothing)." in text
    assert "worth 5 observations" in " ".join(text.split())
    assert "Prediction: posterior predictive densities (Student t)" in text
    report = json.loads(run("describe", out, "--json").stdout)
    assert report["estimator"] == "map" and report["predictive"] is True
    assert report["prior"]["mean_strength"] == 5.0
    assert report["prior"]["mean"] == "the mean of all the data"
    fitted = json.loads(
        run(
            "fit", files["data"], "--target", "colour", *args, "--json", "-o", tmp_path / "j.json"
        ).stdout
    )
    assert fitted["estimator"] == "map" and fitted["prior"] == prior


@pytest.mark.parametrize("covariance", ["full", "tied", "spherical"])
def test_fit_map_in_batches_for_every_covariance(files, tmp_path, covariance):
    ds = files["ds"]
    out = tmp_path / f"map-{covariance}.json"
    run(
        "fit",
        files["data"],
        "--target",
        "colour",
        "--covariance",
        covariance,
        "--estimator",
        "map",
        "--batch-rows",
        "9",
        "-o",
        out,
    )
    expected = GaussianClassifier(covariance_type=covariance, estimator="map").fit(ds.X, ds.y)
    np.testing.assert_allclose(load(out).covariances_, expected.covariances_, rtol=1e-10)


def test_prior_options_need_map_or_predictive(files, tmp_path):
    for extra in (["--prior-strength", "2"], ["--prior-variance-strength", "2"]):
        result = run(
            "fit", files["data"], "--target", "colour", *extra, "-o", tmp_path / "m.json", ok=False
        )
        assert_bad_input(result, "--estimator map")
        result = run("estimate", files["data"], "--features", FEATURES[0], *extra, ok=False)
        assert_bad_input(result, "--estimator map")
    result = run(
        "fit",
        files["data"],
        "--target",
        "colour",
        "--prior-strength",
        "0",
        "-o",
        tmp_path / "m.json",
        ok=False,
    )
    assert_bad_input(result, "--prior-strength")
    # the prior of --predictive alone is allowed
    run(
        "fit",
        files["data"],
        "--target",
        "colour",
        "--predictive",
        "--prior-strength",
        "2",
        "-o",
        tmp_path / "p.json",
    )
    assert load(tmp_path / "p.json").prior == ConjugatePrior(mean_strength=2.0)


@pytest.mark.parametrize("covariance", ["diag", "spherical"])
def test_fit_with_empty_cells_marginalizes_and_predicts(gappy, tmp_path, covariance):
    out = tmp_path / f"gaps-{covariance}.json"
    result = run(
        "fit",
        gappy["data"],
        "--target",
        "colour",
        "--covariance",
        covariance,
        "--missing",
        "marginalize",
        "--batch-rows",
        "16",
        "-o",
        out,
    )
    n_incomplete = int(np.isnan(gappy["X"]).any(axis=1).sum())
    assert f"Read 200 rows of 2 features from {gappy['data']}, kept {n_incomplete} with " in (
        result.output
    )
    assert "missing values marginalised" in result.output
    model = load(out)
    expected = GaussianClassifier(covariance_type=covariance, missing="marginalize").fit(
        gappy["X"], gappy["y"]
    )
    assert model.missing == "marginalize"
    assert model.class_count_.tolist() == [100.0, 100.0]
    np.testing.assert_array_equal(
        model.class_stats_.feature_count, expected.class_stats_.feature_count
    )
    np.testing.assert_allclose(model.means_, expected.means_, rtol=1e-12)
    np.testing.assert_allclose(model.covariances_, expected.covariances_, rtol=1e-11)

    lines = run("predict", out, gappy["new"], "--proba", "--id", "id").stdout.strip().split("\n")
    assert lines[0] == "id,predicted,proba_purple,proba_yellow" and len(lines) == 51
    rows = [line.split(",") for line in lines[1:]]
    proba = expected.predict_proba(gappy["X_new"])
    np.testing.assert_allclose([[float(r[2]), float(r[3])] for r in rows], proba, rtol=1e-9)
    assert [r[1] for r in rows] == expected.predict(gappy["X_new"]).tolist()

    report = json.loads(run("evaluate", out, gappy["data"], "--target", "colour", "--json").stdout)
    assert report["rows"] == 200 and report["dropped"] == 0
    assert report["accuracy"] == pytest.approx(expected.score(gappy["X"], gappy["y"]))
    text = " ".join(
        run("describe", out, "--data", gappy["data"], "--target", "colour").output.split()
    )
    n_missing = int(np.isnan(gappy["X"]).sum())
    assert f"Missing values: marginalised when predicting; {n_missing} training values" in text
    # normality is tested on the observed values of each feature
    report = json.loads(
        run("describe", out, "--data", gappy["data"], "--target", "colour", "--json").stdout
    )
    observed = (~np.isnan(gappy["X"][gappy["y"] == "purple", 0])).sum()
    assert report["data"]["normality"][0]["n"] == observed
    first = report["classes"][0]["features"][0]
    assert first["observed"] == observed


def test_marginalize_with_drop_missing_drops_only_unlabelled_rows(gappy, tmp_path):
    path = tmp_path / "unlabelled.csv"
    text = gappy["data"].read_text().splitlines()
    text[5] = text[5].rsplit(",", 1)[0] + ","  # row 5 loses its label
    path.write_text("\n".join(text) + "\n")
    out = tmp_path / "m.json"
    result = run("fit", path, "--target", "colour", "--missing", "marginalize", "-o", out, ok=False)
    assert_bad_input(result, "target column 'colour' has a missing value at row 5")
    result = run(
        "fit", path, "--target", "colour", "--missing", "marginalize", "--drop-missing", "-o", out
    )
    assert "dropped 1 with missing values, kept" in result.output
    assert load(out).class_count_.sum() == 199


def test_gaps_with_full_covariance_are_one_line_errors(gappy, tmp_path):
    for covariance in ("full", "tied"):
        result = run(
            "fit",
            gappy["data"],
            "--target",
            "colour",
            "--covariance",
            covariance,
            "--missing",
            "marginalize",
            "-o",
            tmp_path / "m.json",
            ok=False,
        )
        assert_bad_input(
            result,
            "has a missing value at row 1 ",
            "a full or tied covariance cannot be fitted to incomplete rows",
        )
    assert not (tmp_path / "m.json").exists()


def test_full_model_fitted_on_complete_rows_marginalizes_when_predicting(files, gappy, tmp_path):
    ds = files["ds"]
    out = tmp_path / "full.json"
    run(
        "fit",
        files["data"],
        "--target",
        "colour",
        "--covariance",
        "full",
        "--missing",
        "marginalize",
        "-o",
        out,
    )
    expected = GaussianClassifier(covariance_type="full", missing="marginalize").fit(ds.X, ds.y)
    lines = run("predict", out, gappy["new"], "--proba").stdout.strip().split("\n")[1:]
    got = np.array([[float(v) for v in line.split(",")[1:]] for line in lines])
    np.testing.assert_allclose(got, expected.predict_proba(gappy["X_new"]), rtol=1e-9)


def test_models_without_marginalize_refuse_gaps(files, gappy):
    for args in (
        ("predict", files["model"], gappy["new"]),
        ("evaluate", files["model"], gappy["data"], "--target", "colour"),
    ):
        line = assert_bad_input(run(*args, ok=False), "has a missing value at row")
        assert line.endswith("pass --drop-missing to drop such rows")


def test_explain_refuses_rows_with_gaps(gappy, tmp_path):
    out = tmp_path / "m.json"
    run("fit", gappy["data"], "--target", "colour", "--missing", "marginalize", "-o", out)
    result = run("predict", out, gappy["new"], "--explain", ok=False)
    assert_bad_input(result, "--explain needs every feature", "has a missing value")
    # the out-of-distribution score works with gaps
    lines = run("predict", out, gappy["new"], "--ood-threshold", "-8").stdout.split("\n")
    assert lines[0] == "predicted,ood_score,out_of_distribution"


def test_estimate_map_saves_names_and_estimator(files, tmp_path):
    ds = files["ds"]
    out = tmp_path / "map.json"
    payload = json.loads(
        run(
            "estimate",
            files["data"],
            "--features",
            ",".join(FEATURES),
            "--estimator",
            "map",
            "--covariance",
            "full",
            "--prior-variance-strength",
            "4",
            "--json",
            "-o",
            out,
        ).stdout
    )
    g = load(out)
    prior = {"mean_strength": 0.01, "variance_strength": 4.0}
    expected = gaussmle.fit(ds.X, "full", estimator="map", prior=prior)
    np.testing.assert_allclose(g.mean, expected.mean, rtol=1e-12)
    np.testing.assert_allclose(g.covariance, expected.covariance, rtol=1e-12)
    assert list(g.feature_names_in_) == FEATURES and g.estimator == "map"
    assert payload["estimator"] == "map" and payload["prior"] == prior
    assert payload["loglik"] == pytest.approx(expected.loglik(ds.X), rel=1e-10)
    text = run(
        "estimate", files["data"], "--features", ",".join(FEATURES), "--estimator", "map"
    ).output
    assert text.startswith("Maximum a posteriori Gaussian of 200 rows")
    assert "Log-likelihood at the MAP estimate" in text and "Prior: the means" in text
    described = run("describe", out).output
    assert "estimated by MAP from 200 rows" in described
    assert "aromatic lift" in described and "Log-likelihood" not in described


def test_estimate_output_keeps_the_column_names(files, tmp_path):
    out = tmp_path / "g.json"
    run("estimate", files["data"], "--features", ",".join(FEATURES), "-o", out)
    g = load(out)
    assert list(g.feature_names_in_) == FEATURES and g.estimator == "mle"
    text = run("describe", out).output
    assert "  aromatic lift " in text and "  elegance " in text
    assert "Log-likelihood at the MLE" in text
    report = json.loads(run("describe", out, "--json").stdout)
    assert [f["feature"] for f in report["features"]] == FEATURES
    # a Gaussian saved without names is described with x0, x1, ...
    save(gaussmle.fit(files["ds"].X), tmp_path / "plain.json")
    assert "  x1 " in run("describe", tmp_path / "plain.json").output


# ---------------------------------------------------------------------- merge, select, plot
def test_merge_equals_fit_on_all_rows(files, tmp_path):
    ds = files["ds"]
    halves = []
    for k, rows in enumerate((slice(0, 90), slice(90, None))):
        path = tmp_path / f"half-{k}.csv"
        write_table(
            path, {**{n: ds.X[rows, j] for j, n in enumerate(FEATURES)}, "colour": ds.y[rows]}
        )
        model_path = tmp_path / f"half-{k}.json"
        run("fit", path, "--target", "colour", "-o", model_path)
        halves.append(model_path)
    result = run("merge", *halves, "-o", tmp_path / "merged.json")
    assert "Merged 2 models" in result.stdout
    merged = load(tmp_path / "merged.json")
    np.testing.assert_allclose(merged.means_, load(files["model"]).means_, rtol=1e-12)
    np.testing.assert_allclose(merged.covariances_, load(files["model"]).covariances_, rtol=1e-12)
    assert_bad_input(run("merge", halves[0], "-o", tmp_path / "x.json", ok=False), "at least two")


def test_select_table_and_json(files):
    text = run(
        "select",
        files["data"],
        "--target",
        "colour",
        "--covariance-types",
        "diag,spherical",
        "--cv",
        "3",
    ).stdout
    assert "recommended:" in text and "3-fold" in text
    payload = json.loads(run("select", files["data"], "--target", "colour", "--json").stdout)
    assert payload["recommended"] in ("diag", "full", "tied", "spherical")
    assert len(payload["rows"]) == 4


@pytest.mark.parametrize("kind", ["densities", "decision", "qq"])
def test_plot_writes_png(files, tmp_path, kind):
    out = tmp_path / f"{kind}.png"
    run("plot", files["model"], files["data"], "--target", "colour", "--kind", kind, "-o", out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------- demo
def test_demo_tells_the_story_and_writes_pictures(tmp_path):
    out = tmp_path / "demo"
    text = run("demo", "--out", out).stdout
    for step in (
        "1. The data",
        "2. One Gaussian per colour",
        "3. Checking the derivation",
        "4. The mystery skittles",
        "5. Without the labels: EM on the skittles",
        "6. Files written",
    ):
        assert step in text
    for name in ("labelled.png", "mystery.png", "densities.png", "decision.png", "loglik.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    model = out / "model.json"
    predictions = run("predict", model, out / "mystery.csv", "--id", "id").stdout
    assert predictions.count("\n") == 51


def test_demo_json_and_real_data(tmp_path):
    payload = json.loads(run("demo", "--out", tmp_path / "a", "--no-plots", "--json").stdout)
    for check in payload["derivation"]["per_class"]:
        assert check["score_mean_max"] < 1e-9 and check["score_covariance_max"] < 1e-9
        assert check["loglik_mean_plus_se"] == pytest.approx(check["loglik"] - 1.0)
        assert check["loglik_variance_times_1_1"] < check["loglik"]
    assert payload["derivation"]["optimiser_distance_in_se"]["mean_in_se"] < 1e-4
    assert len(payload["predictions"]) == 50
    text = run(
        "demo", "--dataset", "iris", "--covariance", "full", "--out", tmp_path / "b", "--no-plots"
    ).stdout
    assert "accuracy" in text and "held-out flowers" in text
    assert_bad_input(
        run("demo", "--features", "elegance", "--out", tmp_path / "c", ok=False), "--features"
    )


# ---------------------------------------------------------------------- scale (Dask)
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
    assert_bad_input(result, "contains NaN at row")
    row, column = map(int, re.search(r"row (\d+), column (\d+)", result.stderr).groups())
    assert np.isnan(X[row, column])


# ---------------------------------------------------------------------- bad input
def test_bad_input_is_one_line_with_exit_code_2(files, tmp_path):
    data, model, mystery = files["data"], files["model"], files["mystery"]
    out = tmp_path / "m.json"
    gaps = tmp_path / "gaps.csv"
    gaps.write_text("aromatic lift,elegance,colour\n1,2,purple\n,3,yellow\n")
    one = tmp_path / "one.csv"
    one.write_text("a,label\n1,x\n2,x\n3,x\n")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"format": "gaussmle-model", "classes": [')
    other = tmp_path / "other.csv"
    write_table(other, {"a": [1.0], "b": [2.0]})
    cases = [
        (
            ["fit", tmp_path / "missing.csv", "--target", "colour", "-o", out],
            ["missing.csv", "not found"],
        ),
        (
            ["fit", data, "--target", "color", "-o", out],
            ["'color' not found", "aromatic lift, elegance, colour"],
        ),
        (
            ["fit", data, "--target", "colour", "--features", "elegance,bogus", "-o", out],
            ["'bogus' not found", "available columns"],
        ),
        (
            ["fit", data, "--target", "elegance", "--features", "colour", "-o", out],
            ["'colour'", "not numeric"],
        ),
        (
            ["fit", gaps, "--target", "colour", "-o", out],
            ["missing value at row 2", "--drop-missing"],
        ),
        (["fit", one, "--target", "label", "-o", out], ["only one class", "'x'"]),
        (["predict", model, other], ["do not match", "aromatic lift", "a, b"]),
        (["predict", corrupt, mystery], ["corrupt.json"]),
        (
            ["predict", model, mystery, "-o", tmp_path / "no" / "such" / "p.csv"],
            ["cannot write", "does not exist"],
        ),
        (["fit", data, "--target", "colour", "-o", tmp_path / "no" / "m.json"], ["cannot write"]),
        (["predict", data, mystery], ["skittles.csv"]),
        (["fit", data, "-o", out], ["Missing option '--target'", "gaussmle fit --help"]),
        (["describe", model, "--data", data], ["--data and --target together"]),
    ]
    for args, fragments in cases:
        assert_bad_input(run(*args, ok=False), *fragments)


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed")
def test_console_script_errors_have_no_traceback(files, tmp_path):
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("not json at all")
    nan = tmp_path / "nan.csv"
    nan.write_text("aromatic lift,elegance,colour\n1,nan,purple\n2,3,yellow\n")
    cases = [
        ["fit", str(tmp_path / "nope.csv"), "--target", "colour", "-o", str(tmp_path / "m.json")],
        ["predict", str(corrupt), str(files["mystery"])],
        ["fit", str(nan), "--target", "colour", "-o", str(tmp_path / "m.json")],
        ["fit", str(files["data"]), "--target", "colour", "-o", str(tmp_path / "x" / "m.json")],
    ]
    env = {**os.environ, "GAUSSMLE_DEBUG": ""}
    for args in cases:
        proc = subprocess.run(
            [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
        assert "Traceback" not in proc.stderr


def test_internal_errors_exit_1_with_a_hint(files, monkeypatch):
    import gaussmle.cli._train as train

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(train, "stream_class_stats", broken)
    args = ["fit", str(files["data"]), "--target", "colour", "-o", str(files["root"] / "x.json")]
    result = run(*args, ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("internal error (RuntimeError: boom)")
    assert "GAUSSMLE_DEBUG=1" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setenv("GAUSSMLE_DEBUG", "1")
    assert "Traceback" in run(*args, ok=False).stderr


def test_error_messages_are_single_lines():
    assert error_message(ValueError("two\nlines")) == ("error: two lines", 2)
    assert error_message(PermissionError(13, "Permission denied", "/x"))[1] == 2
    assert error_message(KeyError("k"))[1] == 1


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    import gaussmle.cli._app as app

    with Progress("fitting") as bar:
        bar.update(0.5, 10)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(app, "_isatty", lambda stream: True)
    with Progress("fitting") as bar:
        bar.update(0.5, 1234)
    err = capsys.readouterr().err
    assert "fitting [" in err and "50%" in err and "1,234 rows" in err
    with Progress("fitting", enabled=False) as bar:
        bar.update(0.5, 10)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------- the guide
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide-bayes-missing.md"


def test_guide_bayes_missing_runs_as_written(tmp_path, monkeypatch):
    """docs/guide-bayes-missing.md, run as tests/test_tutorial.py runs the tutorial."""
    import contextlib
    import io
    import shlex

    from test_tutorial import blocks, console_steps, matches

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAUSSMLE_DEBUG", "")
    found = blocks(GUIDE.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": "guide"}
    n_commands = n_outputs = 0
    for index, (lang, body) in enumerate(found):
        if lang == "console":
            for command, expected in console_steps(body):
                words = shlex.split(command)
                assert words[0] == "gaussmle", command
                result = CliRunner().invoke(cli, words[1:])
                code = 2 if any(line.startswith("error: ") for line in expected) else 0
                assert result.exit_code == code, f"$ {command}\n{result.output}"
                assert matches(expected, result.output.splitlines()), (
                    f"$ {command}\n--- the guide shows:\n"
                    + "\n".join(expected)
                    + "\n--- the command printed:\n"
                    + result.output
                )
                n_commands += 1
        elif lang == "python":
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                exec(compile(body, f"{GUIDE.name}[block {index}]", "exec"), namespace)
            following = found[index + 1] if index + 1 < len(found) else ("", "")
            if following[0] == "text":
                assert matches(following[1].splitlines(), captured.getvalue().splitlines()), (
                    f"python block {index} printed:\n{captured.getvalue()}\n"
                    "--- the guide shows:\n" + following[1]
                )
                n_outputs += 1
    assert n_commands >= 8 and n_outputs >= 5
