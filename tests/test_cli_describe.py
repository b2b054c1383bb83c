"""``gaussmle describe`` and ``gaussmle estimate``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import FEATURES, run

import gaussmle
from gaussmle import GaussianClassifier
from gaussmle.persist import load


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
