"""Missing values: exact marginal prediction and available-case fitting."""

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.datasets import load_wine

import gaussmle
from gaussmle import GaussianClassifier, GaussianStats

TYPES = ["diag", "full", "tied", "spherical"]


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # comparable scales, fair to "spherical"
    rng = np.random.default_rng(0)
    holes = X.copy()
    holes[rng.random(X.shape) < 0.1] = np.nan  # 10% missing at random
    return X, y, holes


def dense(model, c):
    cov = model.covariances_
    d = model.n_features_in_
    return {
        "diag": lambda: np.diag(cov[c]),
        "spherical": lambda: cov[c] * np.eye(d),
        "tied": lambda: cov,
        "full": lambda: cov[c],
    }[model.covariance_type]()


@pytest.mark.parametrize("covariance_type", TYPES)
def test_prediction_marginalises_exactly(wine, covariance_type):
    X, y, holes = wine
    model = GaussianClassifier(covariance_type=covariance_type, missing="marginalize").fit(X, y)
    joint = model.predict_joint_log_proba(holes[:40])
    for i in range(40):
        obs = ~np.isnan(holes[i])
        for c in range(3):
            cov = dense(model, c)[np.ix_(obs, obs)]
            expected = np.log(model.class_prior_[c]) + sps.multivariate_normal(
                model.means_[c, obs], cov
            ).logpdf(holes[i, obs])
            assert joint[i, c] == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_ten_percent_missing_predicts_like_the_full_data_model(wine, covariance_type):
    X, y, holes = wine
    full = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    fit_on = holes if covariance_type in ("diag", "spherical") else X
    model = GaussianClassifier(covariance_type=covariance_type, missing="marginalize")
    model.fit(fit_on, y)
    agree = (model.predict(holes) == full.predict(X)).mean()
    assert agree > 0.95
    proba = model.predict_proba(holes)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


def test_fit_with_missing_uses_available_cases(wine):
    X, y, holes = wine
    model = GaussianClassifier(missing="marginalize", var_smoothing=0.0).fit(holes, y)
    for c in range(3):
        rows = holes[y == c]
        np.testing.assert_allclose(model.means_[c], np.nanmean(rows, axis=0), rtol=1e-12)
        np.testing.assert_allclose(model.covariances_[c], np.nanvar(rows, axis=0), rtol=1e-10)
    assert model.class_count_.tolist() == np.bincount(y).tolist()  # rows, not values


def test_partial_fit_with_missing_equals_fit(wine):
    _, y, holes = wine
    whole = GaussianClassifier(missing="marginalize").fit(holes, y)
    parts = GaussianClassifier(missing="marginalize")
    for rows in np.array_split(np.arange(len(y)), 5):
        parts.partial_fit(holes[rows], y[rows], classes=[0, 1, 2])
    np.testing.assert_allclose(parts.means_, whole.means_, rtol=1e-12)
    np.testing.assert_allclose(parts.covariances_, whole.covariances_, rtol=1e-10)


def test_missing_statistics_merge_and_shift():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3)) + 1e6
    X[rng.random(X.shape) < 0.2] = np.nan
    whole = GaussianStats.from_data(X, missing="ignore")
    a = GaussianStats.from_data(X[:150], missing="ignore")
    b = GaussianStats.from_data(X[150:], missing="ignore")
    assert (a + b).allclose(whole, rtol=1e-10, atol=1e-9)
    for j in range(3):
        col = X[:, j][~np.isnan(X[:, j])]
        assert whole.feature_count[j] == col.size
        assert whole.variance[j] == pytest.approx(col.var(), rel=1e-9)
    assert float(whole.count) == 400


def test_rows_with_every_feature_missing_get_the_priors(wine):
    X, y, _ = wine
    model = GaussianClassifier(missing="marginalize").fit(X, y)
    proba = model.predict_proba(np.full((2, X.shape[1]), np.nan))
    np.testing.assert_allclose(proba, np.tile(model.class_prior_, (2, 1)), rtol=1e-12)


def test_clear_errors(wine):
    X, y, holes = wine
    with pytest.raises(ValueError, match="NaN at row"):
        GaussianClassifier().fit(holes, y)
    with pytest.raises(ValueError, match="drop the incomplete rows"):
        GaussianClassifier(covariance_type="full", missing="marginalize").fit(holes, y)
    with pytest.raises(ValueError, match="infinity"):
        GaussianClassifier(missing="marginalize").fit(np.where(np.isnan(holes), np.inf, X), y)
    lonely = X.copy()
    lonely[y == 0, 2] = np.nan
    with pytest.raises(ValueError, match="no observed value of feature 2"):
        GaussianClassifier(missing="marginalize").fit(lonely, y)
    with pytest.raises(ValueError, match="missing must be one of"):
        GaussianClassifier(missing="impute").fit(X, y)


def test_model_file_keeps_the_per_feature_counts(wine):
    _, y, holes = wine
    model = GaussianClassifier(missing="marginalize", estimator="map").fit(holes, y)
    loaded = gaussmle.loads(gaussmle.dumps(model))
    assert loaded.missing == "marginalize"
    np.testing.assert_array_equal(
        loaded.class_stats_.feature_count, model.class_stats_.feature_count
    )
    assert np.array_equal(loaded.predict_proba(holes), model.predict_proba(holes))


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinity_is_refused_even_when_nan_means_missing(wine, bad):
    X, y, holes = wine
    model = GaussianClassifier(missing="marginalize").fit(X, y)
    probe = holes[:5].copy()
    probe[2, 3] = bad
    with pytest.raises(ValueError, match="infinity"):
        model.predict_proba(probe)


@pytest.mark.filterwarnings("error")
def test_a_feature_unobserved_in_the_first_rows_gives_no_warning():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(3000, 2))
    X[:2000, 1] = np.nan  # nothing seen of feature 1 in the rows that set the reference
    y = rng.integers(0, 2, 3000)
    model = GaussianClassifier(missing="marginalize", var_smoothing=0.0).fit(X, y)
    observed = ~np.isnan(X[:, 1])
    want = [np.var(X[observed & (y == c), 1]) for c in (0, 1)]
    np.testing.assert_allclose(model.covariances_[:, 1], want, rtol=1e-9)
