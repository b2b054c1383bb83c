"""Issue 17 item 3: the scale of the data must not change the model's answers, or be refused.

scikit-learn's own test says scaling the data by 1e-10 or 1e10 must not change
the predictions. Here: from 1e-150 to 1e150 the predictions are those of the
unscaled data; beyond, where float64 cannot square the deviations (tiny) or
the values (huge), the fit says so instead of returning a useless model
(at a spread of 1e-160 it used to fit silently with accuracy 0.50).
"""

from __future__ import annotations

import numpy as np
import pytest

import gaussmle
from gaussmle import GaussianClassifier

TYPES = ["diag", "spherical", "tied", "full"]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1], 200)
    X = rng.normal(size=(400, 2)) + 3.0 * y[:, None]
    return X, y


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("scale", [1e-150, 1e-100, 1e-10, 1e10, 1e100, 1e150])
def test_scaling_the_data_keeps_the_predictions(data, covariance_type, scale):
    X, y = data
    want = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    got = GaussianClassifier(covariance_type=covariance_type).fit(X * scale, y)
    np.testing.assert_array_equal(got.predict(X * scale), want.predict(X))
    np.testing.assert_allclose(got.predict_proba(X * scale), want.predict_proba(X), atol=1e-9)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("scale", [1e-160, 1e-200, 1e-300])
def test_a_spread_too_small_for_float64_is_refused(data, covariance_type, scale):
    X, y = data
    with pytest.raises(ValueError, match="feature 0 of X varies by only about .* rescale X"):
        GaussianClassifier(covariance_type=covariance_type).fit(X * scale, y)


def test_the_streaming_fit_refuses_a_tiny_spread_too(data):
    X, y = data
    with pytest.raises(ValueError, match="varies by only about"):
        GaussianClassifier().fit_batches([(X * 1e-200, y)])


@pytest.mark.parametrize("covariance_type", TYPES)
def test_a_feature_varying_only_between_batches_is_refused_like_fit(data, covariance_type):
    """Constant within each batch, 1e-160 apart between them: fit refuses, so must the
    streaming fit and partial_fit (they used to judge each batch on its own and accept it)."""
    X, y = data
    X = np.column_stack([np.where(np.arange(len(y)) < len(y) // 2, 0.0, 1e-160), X])
    half = len(y) // 2
    batches = [(X[:half], y[:half]), (X[half:], y[half:])]
    with pytest.raises(ValueError, match="feature 0 of X varies by only about") as whole:
        GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    with pytest.raises(ValueError, match="feature 0 of X varies by only about") as streamed:
        GaussianClassifier(covariance_type=covariance_type).fit_batches(batches)
    assert str(streamed.value) == str(whole.value)
    online = GaussianClassifier(covariance_type=covariance_type)
    online.partial_fit(*batches[0], classes=np.unique(y))
    before = online.class_stats_
    with pytest.raises(ValueError, match="feature 0 of X varies by only about") as partial:
        online.partial_fit(*batches[1])  # judged with the first batch, not alone
    assert str(partial.value) == str(whole.value)
    assert online.class_stats_ is before  # refused: the model is unchanged


def test_a_small_batch_with_spread_then_many_constant_rows_is_refused_like_fit():
    """A feature whose variance is not tiny in a 2-row batch but is over all batches."""
    rng = np.random.default_rng(4)
    first = np.array([[0.0, 0.0], [1e-151, 1.0]])
    rest = np.column_stack([np.zeros(10_000), rng.normal(size=10_000)])
    X, y = np.vstack([first, rest]), np.arange(10_002) % 2
    batches = [(first, y[:2]), (rest, y[2:])]
    with pytest.raises(ValueError, match="feature 0 of X varies by only about") as whole:
        GaussianClassifier().fit(X, y)
    with pytest.raises(ValueError, match="feature 0 of X varies by only about") as streamed:
        GaussianClassifier().fit_batches(batches)
    assert str(streamed.value).split(",")[0] == str(whole.value).split(",")[0]


def test_constant_batches_with_equal_values_are_fine(data):
    X, y = data
    X = np.column_stack([np.full(len(y), 1e-200), X])
    half = len(y) // 2
    streamed = GaussianClassifier().fit_batches([(X[:half], y[:half]), (X[half:], y[half:])])
    np.testing.assert_array_equal(streamed.predict(X), GaussianClassifier().fit(X, y).predict(X))


@pytest.mark.parametrize("scale", [1e160, 1e300])
def test_values_too_large_to_square_are_refused(data, scale):
    X, y = data
    with pytest.raises(ValueError, match="too large to square"):
        GaussianClassifier().fit(X * scale, y)


def test_a_constant_feature_is_not_a_tiny_spread(data):
    X, y = data
    X = np.column_stack([X, np.full(len(y), 1e-200)])
    model = GaussianClassifier().fit(X, y)  # constant: smoothed, as before
    assert (
        model.predict(X).tolist()
        == GaussianClassifier().fit(X[:, :2], y).predict(X[:, :2]).tolist()
    )


def test_a_batch_with_a_tiny_spread_is_judged_on_all_batches(data):
    """A first batch whose feature differs by 1e-160 is fine when later batches spread it."""
    X, y = data
    first = (np.array([[0.0, 1.0], [1e-160, 2.0]]), np.array([0, 1]))
    streamed = GaussianClassifier().fit_batches([first, (X, y)])
    whole = GaussianClassifier().fit(np.vstack([first[0], X]), np.concatenate([first[1], y]))
    np.testing.assert_array_equal(streamed.predict(X), whole.predict(X))
    clf = GaussianClassifier().partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(*first)  # judged with the data seen before: no refusal
    np.testing.assert_array_equal(clf.predict(X), whole.predict(X))


@pytest.mark.parametrize("covariance_type", ["diag", "spherical", "full"])
@pytest.mark.parametrize("scale", [1e-160, 1e-300])
def test_gaussmle_fit_refuses_a_tiny_spread_too(data, covariance_type, scale):
    # it used to return subnormal variances at 1e-160 and call the feature constant at 1e-300
    X, _ = data
    with pytest.raises(ValueError, match=r"feature 0 of X varies by only about .*rescale X"):
        gaussmle.fit(X * scale, covariance_type=covariance_type)


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_gaussmle_fit_scales_with_the_data(data, scale):
    X, _ = data
    plain, scaled = gaussmle.fit(X, covariance_type="full"), gaussmle.fit(X * scale, "full")
    np.testing.assert_allclose(scaled.mean, plain.mean * scale, rtol=1e-12)
    np.testing.assert_allclose(scaled.covariance, plain.covariance * scale**2, rtol=1e-12)
