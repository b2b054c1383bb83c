"""Model files: counts, huge scatter values and size limits (issue 17, items 5 and 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gaussmle import GaussianClassifier
from gaussmle.persist import ModelFileError, load, to_dict
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
