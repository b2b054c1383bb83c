"""Dask fits apply the in-memory rule for features whose spread is too small for float64
squares: the same error, or the same model, as the in-memory fit on the same data."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import gaussmle  # noqa: E402
from gaussmle import GaussianClassifier  # noqa: E402

TINY = 1e-160  # squared deviations of about 1e-320: subnormal
MESSAGE = r"feature 0 of X varies by only about 1e-160, too little for float64 arithmetic"


def _data(seed=0, n=12):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) + 5.0
    y = np.arange(n) % 2
    return X, y


def _dask(X, y, chunks=(5, 0, 1, 6)):  # with an empty block
    return da.from_array(X, chunks=(chunks, 2)), da.from_array(y, chunks=(chunks,))


def _blockwise_constant(X):
    """Feature 0 constant within each block of (5, 0, 1, 6) rows but not across blocks."""
    X = X.copy()
    X[:, 0] = 0.0
    X[5:6, 0] = TINY
    return X


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied", "spherical"])
@pytest.mark.parametrize("layout", ["scattered", "per-block"])
def test_classifier_refuses_a_tiny_spread_like_in_memory(covariance_type, layout):
    X, y = _data()
    if layout == "scattered":
        X[:, 0] = np.where(np.arange(len(X)) % 3 == 0, TINY, 0.0)
    else:
        X = _blockwise_constant(X)
    with pytest.raises(ValueError, match=MESSAGE) as in_memory:
        GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    with pytest.raises(ValueError, match=MESSAGE) as on_dask:
        GaussianClassifier(covariance_type=covariance_type).fit(*_dask(X, y))
    assert str(on_dask.value) == str(in_memory.value)


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_a_constant_feature_is_smoothed_like_in_memory(covariance_type):
    X, y = _data()
    X[:, 0] = 3.0
    want = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    got = GaussianClassifier(covariance_type=covariance_type).fit(*_dask(X, y))
    assert want.epsilon_ > 0.0
    np.testing.assert_allclose(got.epsilon_, want.epsilon_, rtol=1e-12, atol=0.0)
    np.testing.assert_allclose(got.covariances_, want.covariances_, rtol=1e-12, atol=0.0)
    np.testing.assert_allclose(got.means_, want.means_, rtol=1e-12, atol=0.0)


def test_partial_fit_judges_the_spread_on_all_data_seen():
    X, y = _data()
    later = X.copy()
    later[:, 0] = np.where(np.arange(len(X)) % 2 == 0, TINY, 0.0)  # tiny in this batch alone
    # the first batch varies: over all data seen feature 0 is fine, in memory and on Dask
    want = GaussianClassifier().partial_fit(X, y, classes=[0, 1]).partial_fit(later, y)
    got = GaussianClassifier().partial_fit(*_dask(X, y), classes=[0, 1])
    got.partial_fit(*_dask(later, y))
    np.testing.assert_allclose(got.covariances_, want.covariances_, rtol=1e-12, atol=0.0)
    # a constant first batch: over all data seen the spread is too small
    first = X.copy()
    first[:, 0] = 0.0
    with pytest.raises(ValueError, match=MESSAGE) as in_memory:
        GaussianClassifier().partial_fit(first, y, classes=[0, 1]).partial_fit(later, y)
    model = GaussianClassifier().partial_fit(*_dask(first, y), classes=[0, 1])
    with pytest.raises(ValueError, match=MESSAGE) as on_dask:
        model.partial_fit(*_dask(later, y))
    assert str(on_dask.value) == str(in_memory.value)


def test_gaussmle_fit_refuses_a_tiny_spread_like_in_memory():
    X = _blockwise_constant(_data()[0])
    with pytest.raises(ValueError, match=MESSAGE) as in_memory:
        gaussmle.fit(X)
    with pytest.raises(ValueError, match=MESSAGE) as on_dask:
        gaussmle.fit(_dask(X, X[:, 0])[0])
    assert str(on_dask.value) == str(in_memory.value)
    X[:, 0] = -2.0  # constant: smoothed, the same Gaussian
    want = gaussmle.fit(X, var_smoothing=1e-9)
    got = gaussmle.fit(_dask(X, X[:, 0])[0], var_smoothing=1e-9)
    np.testing.assert_allclose(got.covariance, want.covariance, rtol=1e-12, atol=0.0)
