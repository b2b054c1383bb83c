"""LabelledStats (classes + per-class statistics) and the streaming fit built on it."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmle import GaussianClassifier
from gaussmle.labelled import LabelledStats, stats_of_batches

TYPES = ["diag", "full", "tied", "spherical"]


def test_merge_discovers_classes_and_unites_label_types():
    a = LabelledStats.from_batch(np.array([[1.0], [2.0]]), np.array([1, 1]))
    b = LabelledStats.from_batch(
        np.array([[5.0], [7.0], [3.0]]), np.array(["x", "x", "1"], dtype=object)
    )
    merged = a.merge(b)
    assert merged.classes.tolist() == ["1", "x"]
    assert merged.stats.count.tolist() == [3.0, 2.0]
    np.testing.assert_allclose(merged.stats.mean[:, 0], [2.0, 6.0])


@pytest.mark.parametrize("kind", ["diag", "full"])
def test_any_split_into_batches_gives_the_statistics_of_all_rows(kind):
    rng = np.random.default_rng(3)
    X = 1e6 + rng.normal(size=(300, 3))
    y = rng.choice(np.array(["a", "b", "c", "d"]), 300)
    w = rng.uniform(0.5, 2.0, 300)
    whole = LabelledStats.from_batch(X, y, w, kind=kind)
    cuts = [0, 7, 8, 100, 250, 300]  # the first batches miss some classes
    parts = [(X[i:j], y[i:j], w[i:j]) for i, j in zip(cuts[:-1], cuts[1:], strict=True)]
    streamed = stats_of_batches(parts, kind=kind)
    assert streamed.classes.tolist() == whole.classes.tolist()
    assert streamed.stats.allclose(whole.stats, rtol=1e-12)


def test_align_places_groups_and_refuses_a_bad_batch_shape():
    s = LabelledStats.from_batch([[1.0], [3.0]], ["b", "d"]).align(np.array(["a", "b", "c", "d"]))
    assert s.stats.count.tolist() == [0.0, 1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="3 classes need statistics of batch shape"):
        LabelledStats(np.array([1, 2, 3]), s.stats)


def test_merge_with_empty_is_the_identity():
    s = LabelledStats.from_batch([[1.0], [3.0]], [0, 1])
    assert s.merge(LabelledStats.empty(1)) is s
    assert LabelledStats.empty(1).merge(s) is s


@pytest.mark.parametrize("covariance_type", TYPES)
def test_fit_batches_equals_fit(covariance_type):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 3)) + 1e4
    y = rng.integers(0, 3, 200)
    w = rng.uniform(0.1, 1.0, 200)
    want = GaussianClassifier(covariance_type=covariance_type).fit(X, y, sample_weight=w)
    batches = ((X[i : i + 37], y[i : i + 37], w[i : i + 37]) for i in range(0, 200, 37))
    got = GaussianClassifier(covariance_type=covariance_type).fit_batches(batches)
    assert got.classes_.tolist() == want.classes_.tolist()
    assert got.class_stats_.allclose(want.class_stats_, rtol=1e-12)
    np.testing.assert_allclose(got.predict_proba(X), want.predict_proba(X), rtol=0, atol=1e-12)


def test_fit_batches_checks_features_and_refuses_no_rows():
    clf = GaussianClassifier()
    with pytest.raises(ValueError, match="X has 1 features, but GaussianClassifier is expecting 2"):
        clf.fit_batches([(np.ones((2, 2)), [0, 1]), (np.ones((2, 1)), [0, 1])])
    with pytest.raises(ValueError, match="batches gave no rows"):
        clf.fit_batches([])
