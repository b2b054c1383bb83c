"""gaussmle test, and describe printing the summary (the same text as the Python API)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import assert_bad_input, run

import gaussmle
from gaussmle.datasets import make_skittles
from gaussmle.inference import box_m, henze_zirkler, manova
from gaussmle.io import write_table
from gaussmle.persist import load


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("inference")
    ds = make_skittles(random_state=3)
    data = root / "skittles.csv"
    write_table(data, ds.to_columns())
    qda = root / "qda.json"
    run("fit", data, "--target", "colour", "--covariance", "full", "-o", qda)
    nb = root / "nb.json"
    run("fit", data, "--target", "colour", "-o", nb)
    return {"root": root, "ds": ds, "data": data, "qda": qda, "nb": nb}


def test_test_command_prints_the_api_numbers(files):
    model = load(files["qda"])
    text = run("test", files["qda"]).stdout
    assert "Box's M" in text and "Wilks' lambda" in text and "tied < full" in text
    assert f"{box_m(model).statistic:.4g}" in text
    report = json.loads(run("test", files["qda"], "--json").stdout)
    by = {(t["test"], t["group"]): t for t in report["tests"]}
    assert by[("Box's M", "all classes")]["statistic"] == box_m(model).statistic
    assert by[("Box's M", "all classes")]["f_pvalue"] == box_m(model).f_pvalue
    wilks = manova(model).wilks
    assert by[("Wilks' lambda", "all classes")]["value"] == wilks.value
    assert by[("Wilks' lambda", "all classes")]["df"] == list(wilks.df)


def test_test_command_with_data_runs_normality(files):
    ds = files["ds"]
    report = json.loads(
        run("test", files["qda"], "--data", files["data"], "--target", "colour", "--json").stdout
    )
    hz = next(t for t in report["tests"] if t["test"] == "Henze-Zirkler")
    assert hz["group"] == "class 'purple'"
    expected = henze_zirkler(ds.X[ds.y == "purple"])
    assert hz["statistic"] == pytest.approx(expected.statistic, rel=1e-12)


def test_test_command_notes_tests_a_diag_model_cannot_run(files):
    text = run("test", files["nb"]).stdout
    assert "Box's M (all classes): not run" in text and "spherical < diag" in text


def test_test_command_on_a_gaussian(files, tmp_path):
    out = tmp_path / "g.json"
    feats = "aromatic lift,elegance"
    run("estimate", files["data"], "--features", feats, "--covariance", "full", "-o", out)
    report = json.loads(run("test", out, "--data", files["data"], "--json").stdout)
    names = [t["test"] for t in report["tests"]]
    assert names[:2] == ["spherical < diag", "diag < full"] and "Henze-Zirkler" in names
    g = load(out)
    hz = henze_zirkler(files["ds"].X).statistic
    assert report["tests"][-1]["statistic"] == pytest.approx(hz, rel=1e-12)
    assert g.n == 200


def test_test_command_bad_input(files):
    assert_bad_input(run("test", files["qda"], "--data", files["data"], ok=False), "--target")
    assert_bad_input(run("test", files["qda"], "--target", "colour", ok=False), "--data")
    assert_bad_input(run("test", files["root"] / "nope.json", ok=False), "nope.json")


def test_describe_prints_the_summary_text(files):
    model = load(files["qda"])
    text = run("describe", files["qda"]).stdout
    assert (
        text == model.summary().as_text().replace("GaussianClassifier", str(files["qda"]), 1) + "\n"
    )
    ds = files["ds"]
    with_data = run("describe", files["qda"], "--data", files["data"], "--target", "colour").stdout
    expected = gaussmle.summary.summarize(
        model, ds.X, ds.y, name=str(files["qda"]), data_name=f"'{files['data']}'"
    ).as_text()
    assert with_data == expected + "\n"
    assert "Henze-Zirkler" in with_data and "Box's M" in with_data


def test_describe_of_a_gaussian_is_its_summary(files, tmp_path):
    out = tmp_path / "g.json"
    run("estimate", files["data"], "--features", "aromatic lift,elegance", "-o", out)
    g = load(out)
    assert (
        run("describe", out).stdout
        == g.summary().as_text().replace("Gaussian:", f"{out}:", 1) + "\n"
    )
    assert np.isfinite(g.summary().fit["aic"])


def test_test_command_refuses_a_mixture_clearly(files):
    mixture = files["root"] / "mixture.json"
    features = "aromatic lift,elegance"
    run("cluster", files["data"], "--components", "2", "--features", features, "-o", mixture)
    assert_bad_input(run("test", mixture, ok=False), "holds a Gaussian mixture")
