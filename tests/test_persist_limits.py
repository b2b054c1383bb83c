"""Model files: counts, huge scatter values and size limits (issue 17, items 5 and 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gaussmle import GaussianClassifier
from gaussmle.persist import ModelFileError, load, save, to_dict
from gaussmle.stats import GaussianStats


def _fitted(covariance_type: str, missing: str = "error") -> GaussianClassifier:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    if missing == "marginalize":
        X[3, 1] = np.nan
    y = np.repeat(["a", "b"], 20)
    return GaussianClassifier(covariance_type=covariance_type, missing=missing).fit(X, y)


def _consistent_file(tmp_path: Path, clf: GaussianClassifier, **fields: Any) -> Path:
    """A model file whose statistics are edited and whose derived parameters agree with them.

    Only a file's statistics are edited by hand in the attacks of issue 17; the
    parameters are then re-derived, so the consistency check of the parameters
    cannot be what refuses the file.
    """
    s = clf.class_stats_
    values = {
        "count": s.count,
        "mean": s.mean,
        "m2": s.m2,
        "feature_count": s.feature_count,
    }
    values.update(fields)
    stats = GaussianStats(
        np.asarray(values["count"], dtype=float),
        values["mean"],
        values["m2"],
        s.kind,
        values["feature_count"],
    )
    params = clf.get_params()
    with np.errstate(all="ignore"):
        model = GaussianClassifier.from_stats(stats, clf.classes_, **params)
        doc = to_dict(model)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    return path


def _refused(path: Path, *fragments: str) -> str:
    with pytest.raises(ModelFileError) as info:
        load(path)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message, message
    return message


@pytest.mark.parametrize("count", [1e308, 2.0**53 + 2, 1e20])
@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_counts_above_two_to_the_53_are_refused(tmp_path, count, covariance_type):
    clf = _fitted(covariance_type)
    counts = clf.class_stats_.count.copy()
    counts[0] = count
    _refused(_consistent_file(tmp_path, clf, count=counts), "per_class[0].count", "2^53")


def test_count_below_a_feature_count_is_refused(tmp_path):
    clf = _fitted("diag", missing="marginalize")
    fc = clf.class_stats_.feature_count.copy()
    fc[0, 2] = 25.0
    path = _consistent_file(tmp_path, clf, feature_count=fc)
    _refused(path, "per_class[0].feature_count", "above the class count")


def test_zero_count_with_a_scatter_is_refused(tmp_path):
    clf = _fitted("diag")
    counts = clf.class_stats_.count.copy()
    counts[0] = 0.0
    _refused(_consistent_file(tmp_path, clf, count=counts), "per_class[0]", "count is 0")


def test_huge_scatter_diagonal_is_a_model_file_error(tmp_path):
    clf = _fitted("full")
    m2 = clf.class_stats_.m2.copy()
    m2[0] = np.diag([1e308, 1e308, 1e308])
    _refused(_consistent_file(tmp_path, clf, m2=m2), "per_class[0].m2")


def test_model_file_above_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = save(_fitted("diag"), tmp_path / "m.json")
    size = path.stat().st_size
    monkeypatch.setenv("GAUSSMLE_MAX_MODEL_BYTES", str(size - 1))
    calls = []
    monkeypatch.setattr("json.loads", lambda *a, **k: calls.append(1))
    message = _refused(path, "larger than the limit", "GAUSSMLE_MAX_MODEL_BYTES")
    assert f"{size - 1:,} bytes" in message and not calls
    monkeypatch.undo()
    monkeypatch.setenv("GAUSSMLE_MAX_MODEL_BYTES", str(size))
    assert load(path).classes_.tolist() == ["a", "b"]


def test_default_size_limit_is_documented_and_large_enough(tmp_path):
    from gaussmle.persist import MAX_MODEL_BYTES

    assert MAX_MODEL_BYTES == 1 << 30
    assert "GAUSSMLE_MAX_MODEL_BYTES" in load.__doc__


def test_bad_size_limit_setting_is_a_clear_error(tmp_path, monkeypatch):
    path = save(_fitted("diag"), tmp_path / "m.json")
    monkeypatch.setenv("GAUSSMLE_MAX_MODEL_BYTES", "lots")
    _refused(path, "GAUSSMLE_MAX_MODEL_BYTES is 'lots'", "a whole number of bytes")


def test_header_is_checked_before_the_arrays_are_parsed(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    path.write_text('{"format": "other", "data": [' + ", ".join(["1.5"] * 300_000) + "]}")
    calls = []
    monkeypatch.setattr("json.loads", lambda *a, **k: calls.append(1))
    _refused(path, "its format is 'other', not 'gaussmle-model'")
    assert not calls
    path.write_text('{"data": [' + ", ".join(["1.5"] * 300_000) + "]}")
    _refused(path, "no 'format' key")
    assert not calls


def test_full_fit_with_many_features_warns_about_the_model_size(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gaussmle.cli import cli
    from gaussmle.cli._train import _warn_model_size

    # the default threshold (100 MB per class) is reached at about 1,415 features
    with pytest.MonkeyPatch.context() as patch:
        lines: list[str] = []
        patch.setattr("gaussmle.cli._train.tell", lines.append)
        _warn_model_size("full", 1414)
        assert lines == []
        _warn_model_size("full", 1500)
        assert "2,250,000 numbers per class" in lines[0] and "112 MB per class" in lines[0]
    # the command warns before fitting (a lower threshold keeps the test small)
    monkeypatch.setattr("gaussmle.cli._train._WARN_CLASS_BYTES", 1_000_000)
    rng = np.random.default_rng(0)
    d = 200
    X = rng.normal(size=(6, d))
    header = ",".join(f"f{j}" for j in range(d)) + ",label\n"
    rows = "".join(",".join(f"{v:.3f}" for v in row) + f",{i % 2}\n" for i, row in enumerate(X))
    data = tmp_path / "wide.csv"
    data.write_text(header + rows)
    result = CliRunner().invoke(
        cli,
        ["fit", str(data), "--target", "label", "--covariance", "full", "-o",
         str(tmp_path / "m.json"), "--no-progress"],
    )  # fmt: skip
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert result.exit_code == 0 and len(warnings) == 1, result.stderr
    assert "200 features" in warnings[0] and "40,000 numbers per class" in warnings[0]
    assert "--covariance diag" in warnings[0] and "2 MB per class" in warnings[0]
    quiet = CliRunner().invoke(
        cli,
        ["fit", str(data), "--target", "label", "--covariance", "diag", "-o",
         str(tmp_path / "d.json"), "--no-progress"],
    )  # fmt: skip
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr
