"""Gaussian and fit: densities, the MLE, the score, Fisher information and intervals."""

import numpy as np
import pytest
from scipy import optimize
from scipy import stats as sps

import gaussmle
from gaussmle import Gaussian
from gaussmle.gaussian import duplication_matrix

TYPES = ["diag", "full", "spherical"]


def dense_cov(g):
    if g.covariance_type == "full":
        return g.covariance
    return np.diag(g.variance)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    A = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [-0.3, 0.2, 0.5]])
    return rng.standard_normal((400, 3)) @ A.T + np.array([5.0, -2.0, 100.0])


@pytest.mark.parametrize("covariance_type", TYPES)
def test_logpdf_matches_scipy(data, covariance_type):
    g = gaussmle.fit(data, covariance_type)
    expected = sps.multivariate_normal(g.mean, dense_cov(g)).logpdf(data)
    np.testing.assert_allclose(g.logpdf(data), expected, rtol=1e-12)
    assert g.loglik(data) == pytest.approx(expected.sum(), rel=1e-12)


def test_univariate_logpdf_matches_scipy_norm():
    x = np.linspace(-30, 30, 101)
    g = Gaussian(np.array([1.5]), np.array([2.25]), "diag", n=10)
    np.testing.assert_allclose(g.logpdf(x), sps.norm(1.5, 1.5).logpdf(x), rtol=1e-12)


def test_fit_matches_numpy_and_scipy(data):
    diag = gaussmle.fit(data)
    np.testing.assert_allclose(diag.mean, data.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(diag.covariance, data.var(axis=0, ddof=0), rtol=1e-12)
    full = gaussmle.fit(data, "full")
    mean_sp, cov_sp = sps.multivariate_normal.fit(data)
    np.testing.assert_allclose(full.mean, mean_sp, rtol=1e-12)
    np.testing.assert_allclose(full.covariance, cov_sp, rtol=1e-10)
    np.testing.assert_allclose(full.covariance, np.cov(data.T, ddof=0), rtol=1e-10)
    sph = gaussmle.fit(data, "spherical")
    assert float(sph.covariance) == pytest.approx(data.var(axis=0).mean(), rel=1e-12)
    assert full.n == 400.0


def test_fit_with_weights_and_unbiased_option(data):
    w = np.random.default_rng(1).uniform(0, 3, len(data))
    g = gaussmle.fit(data, sample_weight=w)
    mean = np.average(data, axis=0, weights=w)
    np.testing.assert_allclose(g.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(g.covariance, np.average((data - mean) ** 2, 0, w), rtol=1e-12)
    u = gaussmle.fit(data, unbiased=True)
    np.testing.assert_allclose(u.covariance, data.var(axis=0, ddof=1), rtol=1e-12)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_score_is_zero_at_the_mle_and_not_elsewhere(data, covariance_type):
    g = gaussmle.fit(data, covariance_type)
    score = g.score(data)
    # the scale: the score after moving every parameter by one standard deviation
    sd = np.sqrt(g.variance)
    moved_cov = g.covariance * 4.0  # sd doubled
    moved = Gaussian(g.mean + sd, moved_cov, covariance_type, n=g.n).score(data)
    for key in ("mean", "covariance"):
        scale = np.abs(moved[key]).max()
        assert scale > 1.0
        assert np.abs(score[key]).max() <= 1e-8 * scale, key


def test_diag_score_formula(data):
    g = Gaussian(np.array([4.0, -1.0, 99.0]), np.array([2.0, 1.5, 0.5]), "diag", n=1)
    s = g.score(data)
    N = len(data)
    dev = data - g.mean
    np.testing.assert_allclose(s["mean"], dev.sum(0) / g.covariance, rtol=1e-12)
    expected = (-N + (dev**2).sum(0) / g.covariance) / (2 * g.covariance)
    np.testing.assert_allclose(s["covariance"], expected, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_score_matches_numeric_gradient(data, covariance_type):
    g0 = gaussmle.fit(data, covariance_type)
    g = Gaussian(
        g0.mean + 0.05,
        dense_cov(g0) * 1.3 if covariance_type == "full" else g0.covariance * 1.3,
        covariance_type,
        n=g0.n,
    )
    s = g.score(data)
    h = 1e-6
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        up = Gaussian(g.mean + e, g.covariance, covariance_type).loglik(data)
        dn = Gaussian(g.mean - e, g.covariance, covariance_type).loglik(data)
        assert s["mean"][j] == pytest.approx((up - dn) / (2 * h), rel=1e-5)
    if covariance_type == "diag":
        for j in range(3):
            e = np.zeros(3)
            e[j] = h
            up = Gaussian(g.mean, g.covariance + e, "diag").loglik(data)
            dn = Gaussian(g.mean, g.covariance - e, "diag").loglik(data)
            assert s["covariance"][j] == pytest.approx((up - dn) / (2 * h), rel=1e-5)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_numeric_optimiser_never_beats_the_closed_form(data, covariance_type):
    X = data[:, :2]
    g = gaussmle.fit(X, covariance_type)
    d = 2

    def unpack(theta):
        mean = theta[:d]
        if covariance_type == "diag":
            return mean, np.diag(np.exp(theta[d:]))
        if covariance_type == "spherical":
            return mean, np.exp(theta[d]) * np.eye(d)
        L = np.array([[np.exp(theta[2]), 0.0], [theta[3], np.exp(theta[4])]])
        return mean, L @ L.T

    def nll(theta):
        mean, cov = unpack(theta)
        try:
            L = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            return np.inf
        z = np.linalg.solve(L, (X - mean).T)
        logdet = 2 * np.log(np.diag(L)).sum()
        return 0.5 * (len(X) * (d * np.log(2 * np.pi) + logdet) + (z * z).sum())

    start = np.zeros({"diag": 4, "spherical": 3, "full": 5}[covariance_type])
    start[:d] = X[0]  # somewhere near the data, not at the answer
    res = optimize.minimize(nll, start, method="BFGS", options={"gtol": 1e-9})
    mean_num, cov_num = unpack(res.x)
    np.testing.assert_allclose(mean_num, g.mean, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(cov_num, dense_cov(g), rtol=1e-3, atol=1e-4)
    assert -res.fun <= g.loglik(X) + 1e-9 * abs(g.loglik(X))


def test_loglik_is_concave_along_random_directions(data):
    g = gaussmle.fit(data)
    rng = np.random.default_rng(2)
    base = g.loglik(data)
    for _ in range(20):
        dm = rng.normal(0, 0.2, 3)
        dv = rng.uniform(-0.3, 0.3, 3) * g.covariance
        other = Gaussian(g.mean + dm, g.covariance + dv, "diag").loglik(data)
        assert other < base


@pytest.mark.parametrize("covariance_type", TYPES)
def test_standard_errors_are_the_inverse_fisher_information(data, covariance_type):
    g = gaussmle.fit(data, covariance_type)
    info = g.fisher_information()
    se = g.standard_errors()
    if covariance_type == "full":
        np.testing.assert_allclose(
            se["mean"], np.sqrt(np.diag(np.linalg.inv(info["mean"]))), rtol=1e-10
        )
        var_vech = np.diag(np.linalg.inv(info["covariance"]))
        rows, cols = np.tril_indices(3)
        np.testing.assert_allclose(se["covariance"][rows, cols], np.sqrt(var_vech), rtol=1e-10)
        np.testing.assert_allclose(se["covariance"], se["covariance"].T)
    else:
        np.testing.assert_allclose(se["mean"], 1 / np.sqrt(info["mean"]), rtol=1e-12)
        np.testing.assert_allclose(se["covariance"], 1 / np.sqrt(info["covariance"]), rtol=1e-12)
    if covariance_type == "diag":
        np.testing.assert_allclose(se["mean"], np.sqrt(g.covariance / 400), rtol=1e-12)
        np.testing.assert_allclose(se["covariance"], g.covariance * np.sqrt(2 / 400), rtol=1e-12)


def test_duplication_matrix_maps_vech_to_vec():
    S = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]])
    rows, cols = np.tril_indices(3)
    assert np.array_equal(duplication_matrix(3) @ S[rows, cols], S.ravel())


@pytest.mark.parametrize("covariance_type", TYPES)
def test_confidence_intervals_cover_the_truth_95_percent(covariance_type):
    rng = np.random.default_rng(2026)
    true_mean = np.array([1.0, -2.0])
    if covariance_type == "full":
        true_cov = np.array([[1.0, 0.5], [0.5, 2.0]])
    elif covariance_type == "diag":
        true_cov = np.diag([1.0, 3.0])
    else:
        true_cov = 2.0 * np.eye(2)
    L = np.linalg.cholesky(true_cov)
    n, sims = 30 if covariance_type != "full" else 200, 2000
    hits_mean = np.zeros(2)
    hits_cov = 0.0
    for _ in range(sims):
        X = true_mean + rng.standard_normal((n, 2)) @ L.T
        ci = gaussmle.fit(X, covariance_type).confidence_intervals(0.95)
        hits_mean += (ci["mean"][:, 0] <= true_mean) & (true_mean <= ci["mean"][:, 1])
        if covariance_type == "full":
            target = true_cov
        elif covariance_type == "diag":
            target = np.diag(true_cov)
        else:
            target = true_cov[0, 0]
        inside = (ci["covariance"][..., 0] <= target) & (target <= ci["covariance"][..., 1])
        hits_cov += np.atleast_1d(inside).astype(float)
    for rate in np.concatenate([hits_mean / sims, np.ravel(hits_cov / sims)]):
        assert 0.93 <= rate <= 0.97, rate


def test_intervals_shape_and_level_check(data):
    ci = gaussmle.fit(data, "full").confidence_intervals(0.9)
    assert ci["mean"].shape == (3, 2)
    assert ci["covariance"].shape == (3, 3, 2)
    assert np.all(ci["covariance"][..., 0] < ci["covariance"][..., 1])
    with pytest.raises(ValueError, match="between 0 and 1"):
        gaussmle.fit(data).confidence_intervals(95)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_parameter_counts_aic_bic(data, covariance_type):
    g = gaussmle.fit(data, covariance_type)
    p = {"diag": 6, "full": 9, "spherical": 4}[covariance_type]
    assert g.n_parameters == p
    ll = g.loglik(data)
    assert g.aic(data) == pytest.approx(2 * p - 2 * ll)
    assert g.bic(data) == pytest.approx(p * np.log(400) - 2 * ll)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_sample_reproduces_the_parameters(data, covariance_type):
    g = gaussmle.fit(data, covariance_type)
    draws = g.sample(200_000, random_state=3)
    np.testing.assert_allclose(draws.mean(axis=0), g.mean, atol=0.02)
    np.testing.assert_allclose(np.cov(draws.T, ddof=0), dense_cov(g), atol=0.03)
    assert np.array_equal(draws, g.sample(200_000, random_state=3))


def test_repr_is_readable(data):
    text = repr(gaussmle.fit(data[:, :2]))
    assert text.startswith("Gaussian(mean=[")
    assert "covariance(diag)" in text and "n=400" in text


def test_float32_offset_fit():
    rng = np.random.default_rng(9)
    X = (1e4 + 1e-2 * rng.standard_normal((50_000, 2))).astype(np.float32)
    g = gaussmle.fit(X)
    exact = X.astype(np.float64)
    np.testing.assert_allclose(g.covariance, exact.var(axis=0), rtol=1e-6)


@pytest.mark.parametrize(
    ("X", "kwargs", "message"),
    [
        ([[1.0, 2.0]], {}, "only one sample"),
        ([[1.0, 2.0], [1.0, 3.0]], {}, "feature 0 is constant"),
        ([[1.0], [np.inf]], {}, "infinity"),
        ([[1.0], [2.0]], {"covariance_type": "tied"}, "covariance_type must be one of"),
        ([[1.0], [2.0]], {"sample_weight": [1.0, 2.0, 3.0]}, "one weight per row"),
        ([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], {"covariance_type": "full"}, "singular"),
    ],
)
def test_fit_refuses_bad_input(X, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gaussmle.fit(X, **kwargs)


def test_var_smoothing_makes_constant_features_usable():
    g = gaussmle.fit([[1.0, 2.0], [1.0, 4.0]], var_smoothing=1e-9)
    assert g.covariance[0] == pytest.approx(1e-9)
    assert np.isfinite(g.logpdf([[1.0, 3.0]])).all()


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical"])
def test_var_smoothing_of_all_constant_data_is_the_classifier_rule(covariance_type):
    """All data constant: fit and the classifier both add var_smoothing itself."""
    from gaussmle import GaussianClassifier

    X = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    g = gaussmle.fit(X, covariance_type, var_smoothing=1e-6)
    clf = GaussianClassifier(covariance_type=covariance_type, var_smoothing=1e-6)
    clf.fit(X, [0, 0, 0])
    assert clf.epsilon_ == 1e-6
    np.testing.assert_array_equal(g.covariance, clf.covariances_[0])
    with pytest.raises(ValueError, match="feature 0 is constant"):
        gaussmle.fit(X, covariance_type)  # var_smoothing=0: no smoothing, a clear error


def test_feature_count_mismatch_is_named(data):
    g = gaussmle.fit(data)
    with pytest.raises(ValueError, match="X has 2 features, but this Gaussian is expecting 3"):
        g.logpdf(data[:, :2])
