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
