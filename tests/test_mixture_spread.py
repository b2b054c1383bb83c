"""Mixtures refuse a feature whose values differ by too little for float64 squares,
with the classifier's message, in memory, over a row source and on Dask."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmle import GaussianClassifier, GaussianMixture
from gaussmle.mixture_sources import ArrayRows

TYPES = ["diag", "spherical", "tied", "full"]
MESSAGE = "feature 0 of X varies by only about 1e-160, too little for float64 arithmetic"


def _data() -> np.ndarray:
    """Two clusters in feature 1; feature 0 is 0 in the first half, 1e-160 in the second."""
    rng = np.random.default_rng(5)
    n = 60
    X = np.column_stack([np.where(np.arange(n) < n // 2, 0.0, 1e-160), rng.normal(size=n)])
    X[n // 2 :, 1] += 8.0
    return X


def _classifier_message(X: np.ndarray) -> str:
    with pytest.raises(ValueError) as info:
        GaussianClassifier().fit(X, np.arange(X.shape[0]) % 2)
    return str(info.value)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_fit_refuses_a_tiny_spread_with_the_classifiers_message(covariance_type):
    X = _data()
    for reg_covar in (1e-6, 0.0):  # reg_covar=0 used to fail as "values too large"
        model = GaussianMixture(2, covariance_type=covariance_type, reg_covar=reg_covar)
        with pytest.raises(ValueError, match=MESSAGE) as info:
            model.fit(X)
        assert str(info.value) == _classifier_message(X)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_fit_source_refuses_a_spread_seen_only_between_batches(covariance_type):
    X = _data()
    model = GaussianMixture(2, covariance_type=covariance_type, random_state=0)
    with pytest.raises(ValueError, match=MESSAGE) as info:  # constant within each batch
        model.fit_source(ArrayRows(X, batch_rows=[30, 30]))
    assert str(info.value) == _classifier_message(X)
    with pytest.raises(ValueError, match=MESSAGE):
        model.fit_source(ArrayRows(X, batch_rows=[7, 40, 13]))


def test_missing_values_and_the_first_partial_fit_refuse_it_too():
    X = _data()
    gaps = X.copy()
    gaps[3, 1] = np.nan
    with pytest.raises(ValueError, match=MESSAGE):
        GaussianMixture(2, missing="marginalize").fit(gaps)
    with pytest.raises(ValueError, match=MESSAGE):
        GaussianMixture(2).partial_fit(X)


def test_dask_fit_refuses_it_too():
    da = pytest.importorskip("dask.array")
    X = _data()
    with pytest.raises(ValueError, match=MESSAGE):
        GaussianMixture(2, random_state=0).fit(da.from_array(X, chunks=30))


def test_a_constant_feature_is_fitted_in_memory_and_from_batches():
    X = _data()
    X[:, 0] = 1e-160  # constant: not a tiny spread
    whole = GaussianMixture(2, random_state=0).fit(X)
    batched = GaussianMixture(2, random_state=0).fit_source(ArrayRows(X, batch_rows=[30, 30]))
    np.testing.assert_allclose(batched.means_, whole.means_, rtol=1e-12)
    assert sorted(whole.means_[:, 1].round(0).tolist()) == [0.0, 8.0]


def test_a_refused_fit_leaves_the_model_as_it_was():
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    X = _data()[:, 1:]
    gm = GaussianMixture(2, random_state=0).fit(X)
    before = gm.predict_proba(X)
    with pytest.raises(ValueError, match=MESSAGE):
        gm.fit(_data())  # two features, the first refused
    assert gm.n_features_in_ == 1
    np.testing.assert_array_equal(gm.predict_proba(X), before)
    unfitted = GaussianMixture(2)
    for step in (unfitted.fit, unfitted.partial_fit):
        with pytest.raises(ValueError, match=MESSAGE):
            step(_data())
        with pytest.raises(NotFittedError):
            check_is_fitted(unfitted)


FEATURE_1 = "feature 1 of X varies by only about 1e-160, too little for float64 arithmetic"


def _batch(seed: int, feature_1: float | np.ndarray) -> np.ndarray:
    """Two clusters in feature 0; feature 1 as given (a value or one per row)."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0, 1, 20), rng.normal(8, 1, 20)])
    return np.column_stack([x, np.broadcast_to(feature_1, x.shape)])


def _state(gm: GaussianMixture) -> tuple:
    return (
        gm.means_.copy(),
        gm.covariances_.copy(),
        gm.n_batches_seen_,
        gm.weight_seen_,
        list(gm.lower_bounds_),
    )


def _assert_same_state(a: tuple, b: tuple) -> None:
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2:] == b[2:]


@pytest.mark.parametrize("covariance_type", TYPES)
def test_partial_fit_refuses_a_spread_seen_only_between_batches(covariance_type):
    gm = GaussianMixture(2, covariance_type=covariance_type, random_state=0)
    gm.partial_fit(_batch(0, 0.0))  # constant 0.0 in feature 1: fine
    before = _state(gm)
    with pytest.raises(ValueError, match=FEATURE_1):
        gm.partial_fit(_batch(1, 1e-160))  # constant within, 1e-160 away from batch 1
    _assert_same_state(_state(gm), before)  # the refused batch left no trace
    gm.partial_fit(_batch(2, 0.0))  # the same constant again: fine
    assert gm.n_batches_seen_ == 2


def test_partial_fit_refuses_a_tiny_spread_within_a_later_batch():
    gm = GaussianMixture(2, covariance_type="diag", random_state=0).partial_fit(_batch(0, 0.0))
    before = _state(gm)
    within = np.where(np.arange(40) % 2, 1e-160, 0.0)
    with pytest.raises(ValueError, match=FEATURE_1):
        gm.partial_fit(_batch(1, within))
    _assert_same_state(_state(gm), before)


@pytest.mark.parametrize("fit", ["fit", "fit_source"])
def test_partial_fit_after_a_fit_judges_against_the_fitted_data(fit):
    gm = GaussianMixture(2, covariance_type="full", random_state=0)
    first = _batch(0, 0.0)
    if fit == "fit":
        gm.fit(first)
    else:
        gm.fit_source(ArrayRows(first, batch_rows=[15, 25]))
    with pytest.raises(ValueError, match=FEATURE_1):
        gm.partial_fit(_batch(1, 1e-160))
    gm.partial_fit(_batch(1, 0.0))


def test_a_model_file_keeps_refusing_the_same_way(tmp_path):
    from gaussmle.persist import load, save

    gm = GaussianMixture(2, covariance_type="diag", random_state=0)
    gm.partial_fit(_batch(0, 0.0)).partial_fit(_batch(1, 0.0))
    save(gm, tmp_path / "gm.json")
    loaded = load(tmp_path / "gm.json")
    assert loaded.data_stats_.allclose(gm.data_stats_, rtol=0.0)
    with pytest.raises(ValueError, match=FEATURE_1):
        loaded.partial_fit(_batch(2, 1e-160))
    loaded.partial_fit(_batch(2, 0.0))
    gm.partial_fit(_batch(2, 0.0))
    np.testing.assert_allclose(loaded.means_, gm.means_, rtol=1e-12)


def test_a_model_file_checks_its_data_statistics_and_older_files_still_load(tmp_path):
    import json

    from gaussmle.persist import ModelFileError, load, save

    gm = GaussianMixture(2, covariance_type="diag", random_state=0).partial_fit(_batch(0, 0.0))
    save(gm, tmp_path / "gm.json")
    doc = json.loads((tmp_path / "gm.json").read_text())
    bad_files = (
        ({"count": 0.0}, "fit.data_statistics.count is 0"),
        ({"mean": [0.0]}, "fit.data_statistics.mean"),
        ({"m2": [1.0, -1.0]}, "fit.data_statistics.m2 has a negative sum of squares"),
    )
    for change, message in bad_files:
        bad = json.loads(json.dumps(doc))
        bad["fit"]["data_statistics"].update(change)
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(ModelFileError, match=message):
            load(tmp_path / "bad.json")
    del doc["fit"]["data_statistics"]  # a file from before it: judged from its next batch on
    (tmp_path / "old.json").write_text(json.dumps(doc))
    old = load(tmp_path / "old.json")
    assert not hasattr(old, "data_stats_")
    old.partial_fit(_batch(1, 1e-160))  # nothing known to compare with: accepted
    with pytest.raises(ValueError, match=FEATURE_1):
        old.partial_fit(_batch(2, 0.0))  # but judged against that batch from then on


def test_the_data_seen_are_the_pooled_statistics_of_every_row():
    batches = [_batch(seed, float(seed)) for seed in range(3)]
    gm = GaussianMixture(2, covariance_type="tied", random_state=0)
    for batch in batches:
        gm.partial_fit(batch)
    whole = np.concatenate(batches)
    np.testing.assert_allclose(gm.data_stats_.mean, whole.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(gm.data_stats_.variance, whole.var(axis=0), rtol=1e-13)
    assert float(gm.data_stats_.count) == whole.shape[0] == gm.weight_seen_
