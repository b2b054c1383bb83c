"""MAP, predictive and missing-value options of ``fit``, ``predict`` and ``estimate``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import FEATURES, assert_bad_input, run

import gaussmle
from gaussmle import GaussianClassifier
from gaussmle.persist import load, save
from gaussmle.prior import ConjugatePrior


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
