"""``gaussmle cluster`` and the commands that read mixture files (predict, describe, evaluate)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_support import assert_bad_input, run

from gaussmle import GaussianMixture
from gaussmle.datasets import make_skittles
from gaussmle.io import write_table
from gaussmle.persist import load

FEATURES = "aromatic lift,elegance"
SCRIPT = Path(sys.executable).with_name("gaussmle")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    ds = make_skittles(random_state=3)
    data = root / "skittles.csv"
    write_table(data, ds.to_columns())
    model = root / "mixture.json"
    out = run("cluster", data, "--components", 2, "--features", FEATURES, "-o", model).output
    return {"root": root, "ds": ds, "data": data, "model": model, "out": out}


def test_cluster_equals_in_memory_fit_and_reports(files):
    ds = files["ds"]
    model = load(files["model"])
    assert isinstance(model, GaussianMixture)
    expected = GaussianMixture(2, random_state=0).fit(ds.X)
    np.testing.assert_array_equal(model.means_, expected.means_)
    np.testing.assert_array_equal(model.covariances_, expected.covariances_)
    assert list(model.feature_names_in_) == FEATURES.split(",")
    out = files["out"]
    assert "Read 200 rows of 2 features" in out
    assert f"after {model.n_iter_} iterations" in out
    assert "Saved the model to" in out


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_em_recovers_the_colours(files):
    """The mystery skittles without labels: EM finds the two colours."""
    report = json.loads(
        run("evaluate", files["model"], files["data"], "--target", "colour", "--json").output
    )
    assert report["rows"] == 200
    assert report["adjusted_rand_index"] > 0.8
    model = load(files["model"])
    ll = float(model.score_samples(files["ds"].X).sum())
    assert report["log_likelihood"] == pytest.approx(ll, rel=1e-12)
    assert report["bic"] == pytest.approx(model.bic(files["ds"].X), rel=1e-12)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_cluster_json_and_predict(files):
    out = files["root"] / "diag.json"
    args = ("cluster", files["data"], "-k", 2, "--features", FEATURES, "--covariance", "diag")
    report = json.loads(run(*args, "-o", out, "--json").output)
    assert report["covariance_type"] == "diag" and len(report["components"]) == 2
    assert sum(c["rows"] for c in report["components"]) == 200
    text = run("predict", out, files["data"], "--proba").output.splitlines()
    assert text[0] == "predicted,proba_0,proba_1"
    assert len(text) == 201
    model = load(out)
    first = np.array([float(v) for v in text[1].split(",")])
    expected = model.predict_proba(files["ds"].X[:1])[0]
    assert first[0] == model.predict(files["ds"].X[:1])[0]
    np.testing.assert_allclose(first[1:], expected, rtol=1e-12)


def test_describe_mixture(files):
    text = run("describe", files["model"]).output
    assert "a mixture of 2 Gaussians (covariance full" in text
    report = json.loads(run("describe", files["model"], "--json").output)
    model = load(files["model"])
    assert [c["weight"] for c in report["components"]] == model.weights_.tolist()
    assert report["components"][0]["variance"] == np.diagonal(model.covariances_[0]).tolist()


def test_degenerate_data_gives_a_note_not_a_crash(files):
    data = files["root"] / "dup.csv"
    rows = np.repeat(np.array([[0.0, 1.0], [5.0, 5.0], [9.0, 0.0]]), 10, axis=0)
    write_table(data, {"a": rows[:, 0], "b": rows[:, 1]})
    result = run("cluster", data, "-k", 5, "-o", files["root"] / "dup.json")
    assert "note: GaussianMixture: components lost all their weight" in result.stderr
    assert "Saved the model" in result.stdout


def test_bad_input_one_line_errors(files):
    assert_bad_input(
        run("cluster", files["data"], "-k", 2, "-o", files["root"] / "x.json", ok=False),
        "column 'colour'",
        "not numeric",
    )
    assert_bad_input(
        run("cluster", files["data"], "-k", 500, "--features", FEATURES, "-o", "m.json", ok=False),
        "fewer than the 500 components",
    )
    assert_bad_input(
        run("predict", files["model"], files["data"], "--explain", ok=False),
        "--explain is for classifiers",
    )
    assert_bad_input(
        run("cluster", files["data"], "-k", 0, "-o", "m.json", ok=False), "--components"
    )


def test_console_script_exit_code(files, tmp_path):
    proc = subprocess.run(
        [str(SCRIPT), "cluster", str(files["data"]), "-k", "2", "-o", str(tmp_path / "m.json")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_demo_tells_the_em_chapter(tmp_path):
    text = run("demo", "--out", tmp_path, "--no-plots").stdout
    assert "5. Without the labels: EM on the skittles" in text
    assert "adjusted Rand index of 0.98" in text
    payload = json.loads(run("demo", "--out", tmp_path, "--no-plots", "--json").stdout)
    mixture = payload["mixture"]
    assert mixture["n_components"] == 2 and mixture["adjusted_rand_index"] > 0.9
    assert np.all(np.diff(mixture["lower_bounds"]) >= 0)


def test_classifier_commands_refuse_a_mixture_clearly(files):
    assert_bad_input(
        run("plot", files["model"], files["data"], "--target", "colour", "-o", "p.png", ok=False),
        "holds a Gaussian mixture (from gaussmle cluster), not a classifier",
    )
    assert_bad_input(
        run("merge", files["model"], files["model"], "-o", "m.json", ok=False),
        "holds a Gaussian mixture",
    )
