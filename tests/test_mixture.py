"""GaussianMixture: parity with scikit-learn, exact statistics, degenerate data, bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture
from sklearn.utils.estimator_checks import parametrize_with_checks

from gaussmle import DegenerateComponentWarning, GaussianMixture, mixture

TYPES = ["full", "tied", "diag", "spherical"]


def three_blobs(seed=0, n=(120, 90, 90)):
    rng = np.random.default_rng(seed)
    return np.vstack(
        [
            rng.normal(0.0, 1.0, (n[0], 3)),
            rng.normal(4.0, 0.5, (n[1], 3)),
            rng.normal([0.0, 5.0, 0.0], 1.0, (n[2], 3)),
        ]
    )


def unit_precisions(covariance_type, k=3, d=3):
    """Identity precisions in the shape of ``covariance_type``."""
    return {
        "full": np.array([np.eye(d)] * k),
        "tied": np.eye(d),
        "diag": np.ones((k, d)),
        "spherical": np.ones(k),
    }[covariance_type]


def quiet_fit(model, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, **kw)


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


# ---------------------------------------------------------------------- parity
@pytest.mark.parametrize("covariance_type", TYPES)
def test_parity_with_sklearn_from_the_same_start(covariance_type, path):
    X = three_blobs()
    start = quiet_fit(
        SklearnMixture(3, covariance_type=covariance_type, max_iter=1, random_state=0), X
    )
    kw = dict(
        covariance_type=covariance_type,
        weights_init=start.weights_,
        means_init=start.means_,
        precisions_init=start.precisions_,
        tol=0.0,
        max_iter=15,
    )
    ref = quiet_fit(SklearnMixture(3, **kw), X)
    ours = quiet_fit(GaussianMixture(3, **kw), X)
    assert ours.n_iter_ == ref.n_iter_ == 15
    assert ours.converged_ is False
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(ours, name).shape == getattr(ref, name).shape
        assert rel(getattr(ours, name), getattr(ref, name)) < 1e-8, name
    # lower_bound_: the mean log-likelihood at the last E-step (before the last M-step)
    assert abs(ours.lower_bound_ - ref.lower_bound_) < 1e-10
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.score_samples(X), ref.score_samples(X), rtol=1e-8)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-8)
    assert np.array_equal(ours.predict(X), ref.predict(X))
    assert ours.bic(X) == pytest.approx(ref.bic(X), rel=1e-10)
    assert ours.aic(X) == pytest.approx(ref.aic(X), rel=1e-10)


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_parity_with_sklearn_initialisation(init_params):
    """The same random_state gives scikit-learn's start (its KMeans, its random stream)."""
    X = three_blobs(1)
    kw = dict(covariance_type="full", init_params=init_params, random_state=3, tol=0.0, max_iter=5)
    ref = quiet_fit(SklearnMixture(3, **kw), X)
    ours = quiet_fit(GaussianMixture(3, **kw), X)
    assert rel(ours.means_, ref.means_) < 1e-8
    assert rel(ours.covariances_, ref.covariances_) < 1e-8
    assert abs(ours.lower_bound_ - ref.lower_bound_) < 1e-10


def test_converges_and_stops_like_sklearn():
    X = three_blobs(2)
    ref = SklearnMixture(3, random_state=0).fit(X)
    ours = GaussianMixture(3, random_state=0).fit(X)
    assert ours.converged_ and ref.converged_
    assert ours.n_iter_ == ref.n_iter_
    assert rel(ours.means_, ref.means_) < 1e-8


def test_sample_matches_sklearn_stream():
    X = three_blobs(3)
    for t in TYPES:
        ref = SklearnMixture(3, covariance_type=t, random_state=5).fit(X)
        ours = GaussianMixture(3, covariance_type=t, random_state=5).fit(X)
        xs, ys = ours.sample(50)
        xr, yr = ref.sample(50)
        assert np.array_equal(ys, yr)
        np.testing.assert_allclose(xs, xr, rtol=1e-7, atol=1e-7)


# ---------------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    k=st.integers(1, 4),
    d=st.integers(1, 3),
    covariance_type=st.sampled_from(TYPES),
)
def test_log_likelihood_never_decreases(seed, k, d, covariance_type):
    """EM with the exact M-step (reg_covar=0) is monotone, up to rounding."""
    rng = np.random.default_rng(seed)
    n = 40
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, d) + rng.integers(0, 3, (n, 1)) * 3.0
    model = GaussianMixture(
        k, covariance_type=covariance_type, reg_covar=0.0, tol=0.0, max_iter=25,
        init_params="random", random_state=seed,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X)
    # a floored or re-seeded component changes the model outside EM: not this property
    assume(not any(issubclass(w.category, DegenerateComponentWarning) for w in caught))
    bounds = np.array(model.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-12 * np.maximum(1.0, np.abs(bounds[1:])))


@pytest.mark.parametrize("covariance_type", TYPES)
def test_far_from_the_origin_fits_like_at_the_origin(covariance_type, path):
    rng = np.random.default_rng(1)
    base = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(5, 1, (100, 2))]) * 1e-3
    grid = 2.0**-20  # values exact both at 0 and at 1e9: the data sets are the same
    base = np.round(base / grid) * grid
    far = base + 1e9
    assert np.array_equal(far - 1e9, base)
    means = np.array([[0.0, 0.0], [5e-3, 5e-3]])
    kw = dict(covariance_type=covariance_type, reg_covar=1e-14, tol=0.0, max_iter=30)
    near = quiet_fit(GaussianMixture(2, means_init=means, **kw), base)
    away = quiet_fit(GaussianMixture(2, means_init=means + 1e9, **kw), far)
    assert rel(away.covariances_, near.covariances_) < 1e-6
    assert rel(away.weights_, near.weights_) < 1e-9
    assert np.max(np.abs(away.means_ - 1e9 - near.means_)) <= 1.2e-7  # half an ulp at 1e9


# ---------------------------------------------------------------------- degenerate data
def fit_recording(model, X):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X)
    return [w for w in caught if issubclass(w.category, DegenerateComponentWarning)]


@pytest.mark.parametrize("covariance_type", TYPES)
def test_more_components_than_distinct_points(covariance_type):
    rng = np.random.default_rng(0)
    X = np.repeat(rng.normal(size=(3, 2)), 20, axis=0)
    model = GaussianMixture(5, covariance_type=covariance_type, random_state=0)
    said = fit_recording(model, X)
    assert len(said) == 1
    assert "re-seeded" in str(said[0].message)
    assert np.isfinite(model.covariances_).all() and np.isfinite(model.lower_bound_)
    assert model.weights_.sum() == pytest.approx(1.0)
    assert np.isfinite(model.score_samples(X)).all()
    assert np.isfinite(model.predict_proba(X)).all()


@pytest.mark.parametrize("covariance_type", TYPES)
def test_constant_feature_far_out_fits(covariance_type):
    """scikit-learn's raw moments give a negative variance here (diag, tied) and it raises."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=60), np.full(60, 1e5)])
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    if covariance_type in ("full", "diag"):
        cov = model.covariances_
        var = cov if covariance_type == "diag" else np.diagonal(cov, axis1=1, axis2=2)
        np.testing.assert_allclose(var[:, 1], 1e-6, rtol=1e-9)  # exactly reg_covar
    assert np.isfinite(model.score_samples(X)).all()


def test_sklearn_fails_where_we_floor():
    """Collinear features at a large scale (t, 2t, t ~ 1e5): singular beyond reg_covar."""
    t = np.random.default_rng(0).normal(size=60) * 1e5
    X = np.column_stack([t, 2 * t])
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        SklearnMixture(2, covariance_type="full", random_state=0).fit(X)
    model = GaussianMixture(2, covariance_type="full", random_state=0)
    said = fit_recording(model, X)
    assert len(said) == 1 and "floor" in str(said[0].message)
    assert np.isfinite(model.lower_bound_)
    np.linalg.cholesky(model.covariances_)  # positive definite


def test_component_losing_all_weight_is_reseeded():
    X = three_blobs(4)
    # the first start explains nothing: it is far from every point, and narrow
    far = np.array([[1e3, 1e3, 1e3], [0.0, 0.0, 0.0], [4.0, 4.0, 4.0]])
    model = GaussianMixture(
        3, covariance_type="diag", means_init=far, precisions_init=np.full((3, 3), 100.0),
        weights_init=[1 / 3] * 3, max_iter=50,
    )  # fmt: skip
    said = fit_recording(model, X)
    assert len(said) == 1 and "re-seeded" in str(said[0].message)
    assert np.all(model.weights_ > 0.1)  # the re-seeded component found a blob
    assert np.all(np.abs(model.means_).max(axis=1) < 10)


def test_floor_covariances_reports():
    log = mixture._Log()
    cov = mixture.floor_covariances(np.zeros((1, 2, 2)), "full", np.ones(2), log)
    np.linalg.cholesky(cov[0])
    assert list(log.floored) == [0]
    assert "floor" in log.message()
    tied = mixture._Log()
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    cov = mixture.floor_covariances(singular, "tied", np.ones(2), tied)
    np.linalg.cholesky(cov)
    assert "the tied covariance (+1e-09)" in tied.message()


# ---------------------------------------------------------------------- sample weights
@pytest.mark.parametrize("covariance_type", TYPES)
def test_integer_weights_equal_repeated_rows(covariance_type, path):
    X = three_blobs(5, n=(30, 30, 30))
    counts = np.random.default_rng(0).integers(1, 4, X.shape[0])
    start = dict(
        means_init=X[[0, 40, 80]], weights_init=[0.3, 0.3, 0.4], tol=0.0, max_iter=10,
        precisions_init=unit_precisions(covariance_type),
    )  # fmt: skip
    a = quiet_fit(
        GaussianMixture(3, covariance_type=covariance_type, **start), X, sample_weight=counts
    )
    b = quiet_fit(
        GaussianMixture(3, covariance_type=covariance_type, **start), np.repeat(X, counts, axis=0)
    )
    for name in ("weights_", "means_", "covariances_"):
        assert rel(getattr(a, name), getattr(b, name)) < 1e-10
    assert a.lower_bound_ == pytest.approx(b.lower_bound_, rel=1e-12)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_zero_weight_equals_removing_the_row(covariance_type):
    X = three_blobs(6, n=(30, 30, 30))
    w = np.ones(X.shape[0])
    w[::7] = 0.0
    X_out = X.copy()
    X_out[::7] = 1e6  # outliers that must not matter at weight 0
    start = dict(
        means_init=X[[1, 41, 81]], weights_init=[0.3, 0.3, 0.4], tol=0.0, max_iter=10,
        precisions_init=unit_precisions(covariance_type),
    )  # fmt: skip
    a = quiet_fit(
        GaussianMixture(3, covariance_type=covariance_type, **start), X_out, sample_weight=w
    )
    b = quiet_fit(GaussianMixture(3, covariance_type=covariance_type, **start), X[w > 0])
    for name in ("weights_", "means_", "covariances_"):
        assert rel(getattr(a, name), getattr(b, name)) < 1e-10


def test_chunking_does_not_change_the_fit(monkeypatch):
    X = three_blobs(7)
    kw = dict(
        means_init=X[[0, 150, 250]], weights_init=[0.4, 0.3, 0.3], tol=0.0, max_iter=5,
        precisions_init=unit_precisions("full"),
    )  # fmt: skip
    whole = quiet_fit(GaussianMixture(3, **kw), X)
    monkeypatch.setenv("GAUSSMLE_MIXTURE_CHUNK_ROWS", "17")
    chunked = quiet_fit(GaussianMixture(3, **kw), X)
    assert rel(chunked.covariances_, whole.covariances_) < 1e-12
    assert rel(chunked.component_stats_.m2, whole.component_stats_.m2) < 1e-12


# ---------------------------------------------------------------------- the M-step kernel
@pytest.mark.compiled
@pytest.mark.parametrize("kind", ["diag", "full"])
def test_kernel_matches_numpy_path(kind):
    from gaussmle.kernels import _numba_mixture

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(5000, 6)) * rng.uniform(0.01, 10, 6) + 3.0
    R = rng.dirichlet(np.ones(4), 5000) * rng.uniform(0, 2, (5000, 1))
    R[:, 3] = 0.0  # an empty component
    R[::3, 1] = 0.0
    kernel = _numba_mixture.weighted_diag if kind == "diag" else _numba_mixture.weighted_full
    count, mean, m2 = kernel(Z, R)
    count_np, mean_np, m2_np = mixture.weighted_moments_numpy(Z, R, kind)
    np.testing.assert_allclose(count, count_np, rtol=1e-12)
    assert count[3] == 0.0 and not m2[3].any()
    np.testing.assert_allclose(mean, mean_np, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(m2, m2_np, rtol=1e-11, atol=1e-11 * np.abs(m2_np).max())
    if kind == "full":
        assert np.array_equal(m2, np.swapaxes(m2, 1, 2))


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "X", "match"),
    [
        ({"n_components": 0}, None, "n_components must be an integer >= 1"),
        ({"n_components": 400}, None, "more than the 300 rows"),
        ({"covariance_type": "banana"}, None, "covariance_type must be one of"),
        ({"init_params": "psychic"}, None, "init_params must be one of"),
        ({"reg_covar": -1.0}, None, "reg_covar must be a finite number >= 0"),
        (
            {"n_components": 3, "means_init": np.zeros((2, 3))},
            None,
            r"means_init has shape \(2, 3\)",
        ),
        ({"n_components": 2, "weights_init": [0.5, 0.6]}, None, "weights_init must sum to 1"),
        (
            {"n_components": 2, "precisions_init": np.ones((2, 2))},
            None,
            r"precisions_init has shape",
        ),
        (
            {"n_components": 2, "precisions_init": np.array([np.eye(3), -np.eye(3)])},
            None,
            r"precisions_init\[1\] is not positive definite",
        ),
        (
            {"n_components": 2, "covariance_type": "diag", "precisions_init": -np.ones((2, 3))},
            None,
            "precisions_init must be positive",
        ),
        ({}, "nan", "X contains NaN at row 5, column 1"),
    ],
)
def test_bad_input_says_what_is_wrong(kwargs, X, match):
    data = three_blobs(8)
    if X == "nan":
        data[5, 1] = np.nan
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**kwargs).fit(data)


def test_predict_before_fit_and_wrong_width():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GaussianMixture().predict([[0.0]])
    model = GaussianMixture(2, random_state=0).fit(three_blobs())
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="sample_weight has negative values"):
        GaussianMixture(2).fit(three_blobs(), sample_weight=-np.ones(300))


@parametrize_with_checks([GaussianMixture(covariance_type=t, random_state=0) for t in TYPES])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# ---------------------------------------------------------------------- model files
@pytest.mark.parametrize("covariance_type", TYPES)
def test_model_file_round_trip_is_bit_identical(covariance_type, tmp_path):
    from gaussmle import load, save

    X = three_blobs(9) + 1e6
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    path = save(model, tmp_path / "mixture.json")
    again = load(path)
    assert isinstance(again, GaussianMixture)
    assert again.get_params() == model.get_params()
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert np.array_equal(getattr(again, name), getattr(model, name)), name
    assert np.array_equal(again.component_stats_.m2, model.component_stats_.m2)
    assert np.array_equal(again.component_stats_.lo, model.component_stats_.lo)
    assert (again.converged_, again.n_iter_, again.lower_bound_, again.lower_bounds_) == (
        model.converged_, model.n_iter_, model.lower_bound_, model.lower_bounds_,
    )  # fmt: skip
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))
    assert np.array_equal(again.score_samples(X), model.score_samples(X))
    assert save(again, tmp_path / "again.json").read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["parameters"].update(weights=[0.5, 0.6, -0.1]), "weights must lie in"),
        (lambda d: d["parameters"].update(weights=[0.5, 0.6, 0.1]), "weights sum to"),
        (lambda d: d["parameters"]["means"].pop(), r"means has shape \(2,"),
        (
            lambda d: d["parameters"]["covariances"][1][0].__setitem__(0, -5.0),
            "not symmetric|not positive definite",
        ),
        (
            lambda d: d["statistics"]["per_component"][0].update(count=-1.0),
            "cannot be below",
        ),
        (lambda d: d["hyperparameters"].update(covariance_type="round"), "covariance_type"),
        (lambda d: d["fit"].update(n_iter=-1), "fit.n_iter"),
        (lambda d: d.update(extra=1), "unknown key 'extra'"),
    ],
)
def test_model_file_validation(edit, match):
    from gaussmle import ModelFileError, from_dict, to_dict

    model = GaussianMixture(3, random_state=0).fit(three_blobs(10))
    doc = to_dict(model)
    edit(doc)
    with pytest.raises(ModelFileError, match=match):
        from_dict(doc)


@pytest.mark.compiled
def test_normalise_kernel_matches_numpy_path():
    from gaussmle.kernels import _numba_mixture

    rng = np.random.default_rng(1)
    J = rng.normal(0, 50, (1000, 5)) - 700.0
    J[::4, 2] = -np.inf  # a component with weight 0
    a, b = J.copy(), J.copy()
    logp_kernel = _numba_mixture.normalise_rows(a)
    logp_numpy = mixture.normalise_rows_numpy(b)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(logp_kernel, logp_numpy, rtol=1e-14)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_threads_do_not_change_the_fit(covariance_type, monkeypatch, path):
    """Chunks in threads are merged in chunk order: bit for bit the one-thread result."""
    X = three_blobs(11)
    kw = dict(
        covariance_type=covariance_type, means_init=X[[0, 150, 250]], weights_init=[0.4, 0.3, 0.3],
        precisions_init=unit_precisions(covariance_type), tol=0.0, max_iter=4,
    )  # fmt: skip
    monkeypatch.setenv("GAUSSMLE_MIXTURE_CHUNK_ROWS", "23")
    monkeypatch.setenv("GAUSSMLE_MIXTURE_THREADS", "1")
    one = quiet_fit(GaussianMixture(3, **kw), X)
    monkeypatch.setenv("GAUSSMLE_MIXTURE_THREADS", "3")
    monkeypatch.setattr(mixture.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    many = quiet_fit(GaussianMixture(3, **kw), X)
    assert mixture._workers(20) == 3
    for name in ("weights_", "means_", "covariances_"):
        assert np.array_equal(getattr(many, name), getattr(one, name)), name
    assert many.lower_bounds_ == one.lower_bounds_
