"""Thousands of classes: memory bounded by bytes of output, not by rows (issue 17, item 9)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import gaussmle.io
from gaussmle import GaussianClassifier
from gaussmle._validation import OUTPUT_BYTES, rows_for_output
from gaussmle.cli import cli
from gaussmle.selection import select

K = 2000


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """2 rows for each of 2,000 classes (2 features), a diag model of them, and 100 rows
    to predict (few rows keep the tests fast; the batch size is what is checked)."""
    folder = tmp_path_factory.mktemp("many")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(K), 2)
    X = labels[:, None] * 0.5 + rng.normal(scale=0.2, size=(labels.size, 2))
    lines = [f"{x:.4f},{y:.4f},c{c}\n" for (x, y), c in zip(X, labels, strict=True)]
    train = folder / "many.csv"
    train.write_text("a,b,label\n" + "".join(lines))
    data = folder / "probe.csv"
    data.write_text("a,b,label\n" + "".join(lines[::40]))
    model = folder / "m.json"
    result = CliRunner().invoke(cli, ["fit", str(train), "--target", "label", "-o", str(model)])
    assert result.exit_code == 0, result.output
    return {"data": data, "model": model, "X": X, "y": labels, "folder": folder, "n": 100}


def test_rows_for_output_sizes_batches_by_bytes():
    assert rows_for_output(2, most=65536) == 65536
    assert rows_for_output(K, 48, most=65536) * K * 48 <= OUTPUT_BYTES
    assert rows_for_output(10**9) == 1


def test_predict_proba_batches_are_sized_by_output_bytes(many, monkeypatch):
    seen = []
    real = gaussmle.io.iter_xy

    def spy(*args, **kwargs):
        seen.append(kwargs["batch_rows"])
        return real(*args, **kwargs)

    monkeypatch.setattr(gaussmle.io, "iter_xy", spy)
    out = many["folder"] / "p.csv"
    result = CliRunner().invoke(
        cli, ["predict", str(many["model"]), str(many["data"]), "--proba", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len(seen) == 1 and seen[0] * K * 48 <= OUTPUT_BYTES and seen[0] < 65536
    with open(out) as handle:
        header = handle.readline().rstrip("\n").split(",")
        assert len(header) == 1 + K
        assert sum(1 for _ in handle) == many["n"]


def test_evaluate_prints_no_huge_confusion_matrix(many):
    result = CliRunner().invoke(
        cli, ["evaluate", str(many["model"]), str(many["data"]), "--target", "label"]
    )
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) < 15, result.output[:2000]
    assert "too large to print; --json gives it" in result.output
    report = json.loads(
        CliRunner()
        .invoke(
            cli, ["evaluate", str(many["model"]), str(many["data"]), "--target", "label", "--json"]
        )  # fmt: skip
        .output
    )
    cm = report["confusion_matrix"]
    assert "counts" not in cm and len(cm["true_labels"]) == K
    assert sum(c for _, _, c in cm["entries"]) == many["n"]
    assert sum(c for i, j, c in cm["entries"] if i == j) == report["correct"]
    assert len(report["per_class"]) == K


def test_evaluate_keeps_the_dense_matrix_for_few_classes(tmp_path):
    data = tmp_path / "few.csv"
    data.write_text("a,label\n0,x\n0.1,x\n5,y\n5.2,y\n0.2,y\n")
    model = tmp_path / "m.json"
    CliRunner().invoke(cli, ["fit", str(data), "--target", "label", "-o", str(model)])
    result = CliRunner().invoke(cli, ["evaluate", str(model), str(data), "--target", "label",
                                      "--json"])  # fmt: skip
    cm = json.loads(result.output)["confusion_matrix"]
    assert cm["counts"] == [[2, 0], [0, 3]]
    assert cm["entries"] == [[0, 0, 2], [1, 1, 3]]


def test_select_scores_in_batches_of_bounded_bytes(many, monkeypatch):
    """select never asks for more than OUTPUT_BYTES of rows x classes at once (fit's bound)."""
    budget = 4 << 20
    monkeypatch.setattr("gaussmle._validation.OUTPUT_BYTES", budget)
    asked: list[int] = []
    for name in ("predict_proba", "loglik"):
        real = getattr(GaussianClassifier, name)

        def spy(self, X, *args, _real=real, **kwargs):
            asked.append(len(X) * len(self.classes_) * 8)
            return _real(self, X, *args, **kwargs)

        monkeypatch.setattr(GaussianClassifier, name, spy)
    X, y = many["X"], many["y"]
    result = select(X, y, ("diag",), cv=2)
    assert result.row("diag")["error"] is None
    assert len(asked) > 4 and max(asked) <= budget < X.shape[0] * K * 8


def test_select_scores_match_scikit_learn_log_loss():
    from sklearn.datasets import load_iris
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    X, y = load_iris(return_X_y=True)
    row = select(X, y, ("full",), cv=3).row("full")
    proba = np.empty((len(y), 3))
    for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y):
        model = GaussianClassifier(covariance_type="full").fit(X[train], y[train])
        proba[test] = model.predict_proba(X[test])
    assert abs(row["cv_log_loss"] - log_loss(y, proba)) < 1e-12
    assert row["cv_accuracy"] == np.mean(np.argmax(proba, axis=1) == y)
