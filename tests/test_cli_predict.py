"""``gaussmle predict`` and ``gaussmle evaluate``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import assert_bad_input, run

from gaussmle import GaussianClassifier
from gaussmle.io import write_table
from gaussmle.persist import load, save


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


# the saved model knows its feature names; the check below passes a bare array
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_evaluate_counts_agree_with_predict(files, tmp_path):
    report = json.loads(
        run("evaluate", files["model"], files["data"], "--target", "colour", "--json").output
    )
    model = load(files["model"])
    ds = files["ds"]
    assert report["correct"] == int(np.sum(model.predict(ds.X) == ds.y))
