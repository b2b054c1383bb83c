"""MAP estimation with conjugate priors, and the Student-t posterior predictive."""

import numpy as np
import pytest
from scipy import optimize
from scipy import stats as sps
from sklearn.utils.estimator_checks import parametrize_with_checks

import gaussmle
from gaussmle import GaussianClassifier, GaussianStats
from gaussmle.prior import ConjugatePrior, map_estimate, predictive_parameters

PRIOR = ConjugatePrior(
    mean=[0.5, -1.0], mean_strength=2.0, variance=[2.0, 0.5], variance_strength=3.0
)


@pytest.fixture
def X():
    return np.random.default_rng(0).normal([1.0, 2.0], [1.0, 0.5], size=(12, 2))


def _maximise(neg_log_post, start):
    res = optimize.minimize(neg_log_post, start, method="BFGS", options={"gtol": 1e-10})
    return res.x


def test_diag_map_is_the_posterior_mode(X):
    m0, s0 = np.array(PRIOR.mean), np.array(PRIOR.variance)
    k0, nu = PRIOR.mean_strength, PRIOR.variance_strength

    def neg(theta):
        mu, var = theta[:2], np.exp(theta[2:])
        lp = sps.invgamma(nu / 2, scale=nu * s0 / 2).logpdf(var).sum()
        lp += sps.norm(m0, np.sqrt(var / k0)).logpdf(mu).sum()
        lp += sps.norm(mu, np.sqrt(var)).logpdf(X).sum()
        return -lp

    theta = _maximise(neg, np.zeros(4))
    mean, var = map_estimate(GaussianStats.from_data(X), "diag", PRIOR)
    np.testing.assert_allclose(mean, theta[:2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, np.exp(theta[2:]), rtol=1e-5)


def test_spherical_map_is_the_posterior_mode(X):
    m0, s0 = np.array(PRIOR.mean), np.array(PRIOR.variance)
    k0, nu, d = PRIOR.mean_strength, PRIOR.variance_strength, 2

    def neg(theta):
        mu, var = theta[:2], np.exp(theta[2])
        lp = sps.invgamma(nu * d / 2, scale=nu * s0.sum() / 2).logpdf(var)
        lp += sps.norm(m0, np.sqrt(var / k0)).logpdf(mu).sum()
        lp += sps.norm(mu, np.sqrt(var)).logpdf(X).sum()
        return -lp

    theta = _maximise(neg, np.zeros(3))
    mean, var = map_estimate(GaussianStats.from_data(X), "spherical", PRIOR)
    np.testing.assert_allclose(mean, theta[:2], rtol=1e-5, atol=1e-6)
    assert float(var) == pytest.approx(np.exp(theta[2]), rel=1e-5)


def _cov_from(theta):
    L = np.array([[np.exp(theta[0]), 0.0], [theta[1], np.exp(theta[2])]])
    return L @ L.T


def _niw_parts():
    m0, s0 = np.array(PRIOR.mean), np.array(PRIOR.variance)
    nu, d = PRIOR.variance_strength, 2
    return m0, sps.invwishart(df=nu + d - 1, scale=np.diag(nu * s0))


def test_full_map_is_the_posterior_mode(X):
    m0, iw = _niw_parts()
    k0 = PRIOR.mean_strength

    def neg(theta):
        mu, cov = theta[:2], _cov_from(theta[2:])
        lp = iw.logpdf(cov) + sps.multivariate_normal(m0, cov / k0).logpdf(mu)
        lp += sps.multivariate_normal(mu, cov).logpdf(X).sum()
        return -lp

    theta = _maximise(neg, np.zeros(5))
    mean, cov = map_estimate(GaussianStats.from_data(X, kind="full"), "full", PRIOR)
    np.testing.assert_allclose(mean, theta[:2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cov, _cov_from(theta[2:]), rtol=1e-4, atol=1e-6)


def test_tied_map_is_the_posterior_mode(X):
    m0, iw = _niw_parts()
    k0 = PRIOR.mean_strength
    groups = np.arange(len(X)) % 2

    def neg(theta):
        mus, cov = theta[:4].reshape(2, 2), _cov_from(theta[4:])
        lp = iw.logpdf(cov)
        for c in range(2):
            lp += sps.multivariate_normal(m0, cov / k0).logpdf(mus[c])
            lp += sps.multivariate_normal(mus[c], cov).logpdf(X[groups == c]).sum()
        return -lp

    theta = _maximise(neg, np.zeros(7))
    stats = GaussianStats.from_groups(X, groups, 2, kind="full")
    means, cov = map_estimate(stats, "tied", PRIOR)
    np.testing.assert_allclose(means, theta[:4].reshape(2, 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cov, _cov_from(theta[4:]), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical"])
def test_map_tends_to_the_mle_with_data_and_to_the_prior_when_strong(covariance_type):
    rng = np.random.default_rng(1)
    big = rng.normal([3.0, -2.0], [2.0, 0.5], size=(200_000, 2))
    mle = gaussmle.fit(big, covariance_type)
    map_ = gaussmle.fit(big, covariance_type, estimator="map", prior=PRIOR)
    np.testing.assert_allclose(map_.mean, mle.mean, rtol=1e-4)
    np.testing.assert_allclose(map_.covariance, mle.covariance, rtol=1e-3, atol=1e-4)
    strong = ConjugatePrior(
        mean=[0.5, -1.0], mean_strength=1e9, variance=[2.0, 0.5], variance_strength=1e9
    )
    prior_mode = gaussmle.fit(big[:50], covariance_type, estimator="map", prior=strong)
    np.testing.assert_allclose(prior_mode.mean, [0.5, -1.0], atol=1e-6)
    expected = {"diag": [2.0, 0.5], "full": np.diag([2.0, 0.5]), "spherical": 1.25}
    np.testing.assert_allclose(
        prior_mode.covariance, expected[covariance_type], rtol=1e-5, atol=1e-6
    )


def test_one_sample_and_constant_classes_need_no_epsilon():
    X = np.array([[0.0, 5.0], [0.0, 6.0], [0.0, 7.0], [10.0, 1.0]])
    y = np.array([0, 0, 0, 1])  # feature 0 constant in class 0; class 1 has one sample
    for covariance_type in ("diag", "full", "tied", "spherical"):
        model = GaussianClassifier(
            covariance_type=covariance_type, estimator="map", var_smoothing=0.0
        ).fit(X, y)
        assert model.epsilon_ == 0.0
        proba = model.predict_proba(X)
        assert np.isfinite(proba).all()
        assert model.predict(X).tolist() == y.tolist()
    with pytest.raises(ValueError, match="var_smoothing"):
        GaussianClassifier(var_smoothing=0.0).fit(X, y)


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied", "spherical"])
def test_map_classifier_partial_fit_equals_fit(covariance_type):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3)) + 100.0
    y = rng.integers(0, 3, 300)
    whole = GaussianClassifier(covariance_type=covariance_type, estimator="map").fit(X, y)
    parts = GaussianClassifier(covariance_type=covariance_type, estimator="map")
    for rows in np.array_split(np.arange(300), 4):
        parts.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    np.testing.assert_allclose(parts.covariances_, whole.covariances_, rtol=1e-10)
    np.testing.assert_allclose(parts.means_, whole.means_, rtol=1e-12)


def test_predictive_densities_are_student_t():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2)) * [1.0, 3.0]
    y = np.repeat([0, 1], 20)
    probe = rng.normal(size=(10, 2)) * 4
    for covariance_type in ("diag", "full", "spherical", "tied"):
        model = GaussianClassifier(covariance_type=covariance_type, predictive=True).fit(X, y)
        kind = "full" if covariance_type in ("full", "tied") else "diag"
        stats = GaussianStats.from_groups(X, y, 2, kind=kind)
        loc, scale, df = predictive_parameters(stats, covariance_type)
        joint = model.predict_joint_log_proba(probe)
        for c in range(2):
            if covariance_type == "diag":
                expected = sps.t(df[c], loc[c], np.sqrt(scale[c])).logpdf(probe).sum(axis=1)
            else:
                shape = scale[c] if scale.ndim == 3 else scale[c] * np.eye(2)
                expected = sps.multivariate_t(loc[c], shape, df=df[c]).logpdf(probe)
            np.testing.assert_allclose(joint[:, c] - np.log(0.5), expected, rtol=1e-10)
        np.testing.assert_allclose(model.predict_proba(probe).sum(axis=1), 1.0, atol=1e-12)


def test_prior_validation():
    with pytest.raises(ValueError, match="pseudo-observations"):
        ConjugatePrior(mean_strength=0.0)
    with pytest.raises(ValueError, match="positive"):
        ConjugatePrior(variance=[1.0, -1.0])
    with pytest.raises(ValueError, match="estimator must be one of"):
        GaussianClassifier(estimator="bayes").fit([[0.0], [1.0]], [0, 1])


@parametrize_with_checks(
    [
        GaussianClassifier(estimator="map"),
        GaussianClassifier(covariance_type="full", predictive=True),
    ]
)
def test_bayesian_variants_are_scikit_learn_estimators(estimator, check):
    check(estimator)
