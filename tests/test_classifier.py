"""GaussianClassifier: agreement with scikit-learn and scipy, streaming, hard data."""

import numpy as np
import pytest
from scipy import stats as sps
from scipy.special import logsumexp
from sklearn import datasets
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from gaussmle import GaussianClassifier, GaussianStats

TYPES = ["diag", "full", "tied", "spherical"]
LOADERS = [
    datasets.load_iris,
    datasets.load_wine,
    datasets.load_breast_cancer,
    datasets.load_digits,
]


@parametrize_with_checks([GaussianClassifier(covariance_type=t) for t in TYPES])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def direct_joint_log_proba(model, X):
    """log prior + scipy's multivariate normal logpdf, class by class."""
    k, d = model.means_.shape
    cov = model.covariances_
    out = np.empty((len(X), k))
    for c in range(k):
        if model.covariance_type == "diag":
            sigma = np.diag(cov[c])
        elif model.covariance_type == "spherical":
            sigma = cov[c] * np.eye(d)
        elif model.covariance_type == "tied":
            sigma = cov
        else:
            sigma = cov[c]
        out[:, c] = np.log(model.class_prior_[c]) + sps.multivariate_normal(
            model.means_[c], sigma
        ).logpdf(X)
    return out


def direct_diag_proba(model, X):
    """(x - mu)^2 / var evaluated term by term, the way GaussianNB does it."""
    J = np.stack(
        [
            np.log(model.class_prior_[c])
            - 0.5 * np.sum(np.log(2 * np.pi * model.covariances_[c]))
            - 0.5 * np.sum((X - model.means_[c]) ** 2 / model.covariances_[c], axis=1)
            for c in range(len(model.classes_))
        ],
        axis=1,
    )
    return np.exp(J - logsumexp(J, axis=1, keepdims=True))


@pytest.mark.parametrize("load", LOADERS, ids=lambda f: f.__name__)
def test_diag_matches_gaussian_nb_on_real_data(load):
    X, y = load(return_X_y=True)
    ours = GaussianClassifier().fit(X, y)
    theirs = GaussianNB().fit(X, y)
    np.testing.assert_allclose(ours.means_, theirs.theta_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.covariances_, theirs.var_, rtol=1e-10)
    np.testing.assert_allclose(ours.class_prior_, theirs.class_prior_, rtol=1e-12)
    assert ours.epsilon_ == pytest.approx(theirs.epsilon_, rel=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-10)
    assert np.array_equal(ours.predict(X), theirs.predict(X))
    # speed never costs accuracy: the direct term-by-term evaluation agrees too
    np.testing.assert_allclose(ours.predict_proba(X), direct_diag_proba(ours, X), atol=1e-10)


def test_digits_needs_the_accuracy_guard():
    """Digits has within-class variances at the epsilon floor: the plain expanded
    square would be off by about 1e-8 there; the guarded kernel is not."""
    X, y = datasets.load_digits(return_X_y=True)
    model = GaussianClassifier().fit(X, y)
    assert (model.covariances_ < 1e-7).any()
    rng = np.random.default_rng(0)
    probe = X + rng.normal(0, 0.3, X.shape)
    np.testing.assert_allclose(
        model.predict_proba(probe), direct_diag_proba(model, probe), atol=1e-10
    )


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("load", [datasets.load_iris, datasets.load_wine], ids=["iris", "wine"])
def test_joint_log_proba_matches_scipy(load, covariance_type):
    X, y = load(return_X_y=True)
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    expected = direct_joint_log_proba(model, X)
    np.testing.assert_allclose(model.predict_joint_log_proba(X), expected, rtol=1e-9, atol=1e-9)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(
        proba, np.exp(expected - logsumexp(expected, axis=1, keepdims=True)), atol=1e-10
    )


def test_full_and_tied_covariances_are_the_mle_plus_epsilon():
    X, y = datasets.load_wine(return_X_y=True)
    full = GaussianClassifier(covariance_type="full").fit(X, y)
    tied = GaussianClassifier(covariance_type="tied").fit(X, y)
    eye = np.eye(X.shape[1])
    pooled = np.zeros((X.shape[1], X.shape[1]))
    for c, label in enumerate(full.classes_):
        Xc = X[y == label]
        cov = np.cov(Xc.T, ddof=0)
        np.testing.assert_allclose(full.covariances_[c], cov + full.epsilon_ * eye, rtol=1e-9)
        pooled += cov * len(Xc)
    np.testing.assert_allclose(tied.covariances_, pooled / len(X) + tied.epsilon_ * eye, rtol=1e-9)
    sph = GaussianClassifier(covariance_type="spherical").fit(X, y)
    expected = [X[y == c].var(axis=0).mean() for c in sph.classes_]
    np.testing.assert_allclose(sph.covariances_, np.array(expected) + sph.epsilon_, rtol=1e-10)
    assert sph.covariances_.shape == (3,)
    assert full.covariances_.shape == (3, 13, 13) and tied.covariances_.shape == (13, 13)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_partial_fit_over_any_chunking_equals_fit(covariance_type):
    rng = np.random.default_rng(1)
    X = rng.normal(1e4, 1.0, size=(600, 4)) + rng.integers(0, 3, (600, 1))
    y = rng.choice(["a", "b", "c"], 600)
    w = rng.uniform(0.2, 2.0, 600)
    whole = GaussianClassifier(covariance_type=covariance_type).fit(X, y, sample_weight=w)
    streamed = GaussianClassifier(covariance_type=covariance_type)
    edges = [0, 1, 7, 150, 151, 420, 600]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        streamed.partial_fit(X[a:b], y[a:b], classes=["a", "b", "c"], sample_weight=w[a:b])
    for name in ("class_count_", "class_prior_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(streamed, name), getattr(whole, name), rtol=1e-10)
    assert streamed.epsilon_ == pytest.approx(whole.epsilon_, rel=1e-10)
    np.testing.assert_allclose(streamed.predict_proba(X), whole.predict_proba(X), atol=1e-10)


def test_epsilon_comes_from_all_data_seen_not_the_last_batch():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(0, 10, (50, 2)), rng.normal(0, 0.1, (50, 2))])
    y = np.tile([0, 1], 50)
    model = GaussianClassifier(var_smoothing=1e-3)
    model.partial_fit(X[:50], y[:50], classes=[0, 1]).partial_fit(X[50:], y[50:])
    assert model.epsilon_ == pytest.approx(1e-3 * X.var(axis=0).max(), rel=1e-10)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_merge_equals_fit_on_the_union(covariance_type):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3)) * [1, 2, 3] + 1e6
    y = rng.integers(0, 4, 300)
    y[:100] = np.where(y[:100] == 3, 0, y[:100])  # the first part never sees class 3
    a = GaussianClassifier(covariance_type=covariance_type).fit(X[:100], y[:100])
    b = GaussianClassifier(covariance_type=covariance_type).fit(X[100:], y[100:])
    merged = a.merge(b)
    whole = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    assert merged.classes_.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(merged.means_, whole.means_, rtol=1e-12)
    np.testing.assert_allclose(merged.covariances_, whole.covariances_, rtol=1e-8)
    assert np.array_equal(merged.predict(X), whole.predict(X))


def test_merge_refuses_different_features():
    a = GaussianClassifier().fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    b = GaussianClassifier().fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="features must match"):
        a.merge(b)


def test_labels_can_be_strings_and_any_sortable_value():
    X = np.array([[0.0], [0.2], [5.0], [5.3], [9.0], [9.1]])
    for y in (
        np.array(["b", "b", "a", "a", "c", "c"]),
        np.array([2.0, 2.0, -1.0, -1.0, 7.0, 7.0]),
        np.array([True, True, False, False, True, True]),
    ):
        model = GaussianClassifier().fit(X, y)
        assert model.classes_.tolist() == sorted(set(y.tolist()))
        assert np.array_equal(model.predict(X[[0, 2]]), y[[0, 2]])
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        GaussianClassifier().fit(X, np.linspace(0, 1, 6))  # a regression target


def test_priors_are_used_and_validated():
    X, y = datasets.load_iris(return_X_y=True)
    model = GaussianClassifier(priors=[0.1, 0.2, 0.7]).fit(X, y)
    assert model.class_prior_.tolist() == [0.1, 0.2, 0.7]
    for priors, message in (
        ([0.5, 0.5], "3 classes"),
        ([0.5, 0.6, -0.1], "non-negative"),
        ([0.3, 0.3, 0.3], "sum to 1"),
    ):
        with pytest.raises(ValueError, match=message):
            GaussianClassifier(priors=priors).fit(X, y)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_hard_data_gives_finite_answers(covariance_type):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 4))
    X[:, 1] = 3.0  # a constant feature
    y = np.repeat([0, 1, 2], 20)
    X[y == 2, 3] = X[y == 2, 2]  # rank-deficient class 2
    X = np.vstack([X, rng.normal(size=(1, 4))])  # a class with one sample
    X[-1, 1] = 3.0
    y = np.append(y, 3)
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    far = np.array([[1e6, -1e6, 1e6, 1e6], [1e150, 1e150, -1e150, 0.0], [0.0, 3.0, 0.0, 0.0]])
    for data in (X, far):
        proba = model.predict_proba(data)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
        assert np.isfinite(model.predict_log_proba(data)).any(axis=1).all()
        assert np.array_equal(model.predict(data), model.classes_[proba.argmax(axis=1)])


def test_float32_input_is_accumulated_in_float64():
    rng = np.random.default_rng(5)
    X = (1e4 + rng.normal(0, 1e-2, (20_000, 3))).astype(np.float32)
    y = rng.integers(0, 2, 20_000)
    model = GaussianClassifier(var_smoothing=0.0).fit(X, y)
    X64 = X.astype(np.float64)
    for c in (0, 1):
        np.testing.assert_allclose(model.covariances_[c], X64[y == c].var(axis=0), rtol=1e-6)
    assert model.means_.dtype == np.float64


@pytest.mark.parametrize("covariance_type", TYPES)
def test_offset_of_1e9(covariance_type):
    rng = np.random.default_rng(6)
    Z = rng.normal(size=(4000, 2))
    y = rng.integers(0, 2, 4000)
    Z[y == 1] += 3.0
    model = GaussianClassifier(covariance_type=covariance_type, var_smoothing=0.0)
    X = 1e9 + 1e-3 * Z
    shifted = model.fit(X, y)
    plain = clone(model).fit(X - 1e9, y)  # exact subtraction: the same data, near 0
    ulp = np.spacing(1e9)  # 1.2e-7: a mean near 1e9 cannot be stored more exactly
    np.testing.assert_allclose(shifted.means_ - 1e9, plain.means_, atol=ulp)
    np.testing.assert_allclose(shifted.covariances_, plain.covariances_, rtol=1e-6)
    probe = X[:500]
    assert np.array_equal(shifted.predict(probe), plain.predict(probe - 1e9))
    # A float64 mean near 1e9 carries up to half an ulp (6e-8) of rounding, which is
    # 6e-5 standard deviations here: probabilities can move by about that much.
    np.testing.assert_allclose(
        shifted.predict_proba(probe), plain.predict_proba(probe - 1e9), atol=1e-4
    )


def test_clear_errors():
    model = GaussianClassifier().fit([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [0, 1, 1])
    with pytest.raises(ValueError, match="X has 3 features, but GaussianClassifier is expecting 2"):
        model.predict([[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match="NaN at row 0, column 1"):
        model.predict([[0.0, np.nan]])
    with pytest.raises(ValueError, match="labels not among the classes"):
        model.partial_fit([[0.0, 1.0]], [7])
    with pytest.raises(ValueError, match="classes must be passed"):
        GaussianClassifier().partial_fit([[0.0, 1.0]], [0])
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        GaussianClassifier(covariance_type="banana").fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="var_smoothing > 0"):
        GaussianClassifier(var_smoothing=0.0).fit([[0.0], [0.0], [1.0], [2.0]], [0, 0, 1, 1])


@pytest.mark.parametrize("covariance_type", TYPES)
def test_loglik_aic_bic_and_parameter_counts(covariance_type):
    X, y = datasets.load_iris(return_X_y=True)
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    k, d = 3, 4
    p = (
        (k - 1)
        + k * d
        + {"diag": k * d, "spherical": k, "full": k * 10, "tied": 10}[covariance_type]
    )
    assert model.n_parameters == p
    joint = direct_joint_log_proba(model, X)
    codes = np.searchsorted(model.classes_, y)
    ll = joint[np.arange(len(y)), codes].sum()
    assert model.loglik(X, y) == pytest.approx(ll, rel=1e-10)
    assert model.aic(X, y) == pytest.approx(2 * p - 2 * ll, rel=1e-10)
    assert model.bic(X, y) == pytest.approx(p * np.log(len(X)) - 2 * ll, rel=1e-10)


def test_bic_prefers_the_true_structure():
    rng = np.random.default_rng(7)
    cov = np.array([[1.0, 0.9], [0.9, 1.0]])
    X = np.vstack(
        [rng.multivariate_normal([0, 0], cov, 500), rng.multivariate_normal([3, 0], cov, 500)]
    )
    y = np.repeat([0, 1], 500)
    bics = {t: GaussianClassifier(covariance_type=t).fit(X, y).bic(X, y) for t in TYPES}
    assert min(bics, key=bics.get) == "tied"


def test_works_in_pipelines_grid_search_and_with_dataframes():
    pd = pytest.importorskip("pandas")
    X, y = datasets.load_iris(return_X_y=True, as_frame=True)
    pipe = make_pipeline(StandardScaler(), GaussianClassifier())
    search = GridSearchCV(pipe, {"gaussianclassifier__covariance_type": TYPES}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.9
    model = GaussianClassifier().fit(X, y)
    assert list(model.feature_names_in_) == list(X.columns)
    assert isinstance(X, pd.DataFrame)
    assert clone(model).get_params() == model.get_params()


def test_class_stats_are_the_sufficient_statistics():
    X, y = datasets.load_iris(return_X_y=True)
    model = GaussianClassifier(covariance_type="full").fit(X, y)
    assert isinstance(model.class_stats_, GaussianStats)
    assert model.class_stats_.kind == "full" and model.class_stats_.batch_shape == (3,)
    rebuilt = GaussianClassifier.from_stats(
        model.class_stats_, model.classes_, covariance_type="full"
    )
    assert np.array_equal(rebuilt.predict_proba(X), model.predict_proba(X))


def test_predict_in_chunks_matches_one_chunk(monkeypatch):
    import gaussmle.densities._evaluator as module

    rng = np.random.default_rng(8)
    X = rng.normal(size=(3000, 5))
    y = rng.integers(0, 7, 3000)
    model = GaussianClassifier(covariance_type="full").fit(X, y)
    whole = model.predict_proba(X)
    monkeypatch.setattr(module, "CHUNK_BYTES", 1)
    chunked = model.predict_proba(X)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-15)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_partial_fit_far_from_the_origin_equals_fit(covariance_type):
    rng = np.random.default_rng(14)
    X = 1e9 + 1e-3 * rng.standard_normal((30_000, 3))
    y = rng.integers(0, 3, 30_000)
    whole = GaussianClassifier(covariance_type=covariance_type, var_smoothing=0.0).fit(X, y)
    parts = GaussianClassifier(covariance_type=covariance_type, var_smoothing=0.0)
    for rows in np.array_split(np.arange(30_000), 17):
        parts.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    np.testing.assert_allclose(parts.covariances_, whole.covariances_, rtol=1e-10)
    np.testing.assert_allclose(parts.means_, whole.means_, rtol=0, atol=np.spacing(1e9))


@pytest.mark.parametrize(
    "y",
    [
        np.array([3, 1, 3, 7, -2, 7]),  # gaps and a negative label
        np.array([0, 2, 1, 1, 0]),  # 0..k-1: the codes are the labels
        np.array([5, 6, 5], dtype=np.uint8),
        np.array([2**40, 1, 2**40]),  # too wide a span for a table
        np.array(["b", "a", "c", "a"]),
        np.array([0.5, -1.0, 0.5]),
        np.array([True, False, True]),
        np.array(["x", "y", "x"], dtype=object),
    ],
)
def test_labels_and_codes_equal_unique_then_encode(y):
    from gaussmle._labels import encode_labels, labels_and_codes, labels_of_codes, unique_labels

    classes, codes = labels_and_codes(y)
    np.testing.assert_array_equal(classes, unique_labels(y))
    assert classes.dtype == unique_labels(y).dtype
    np.testing.assert_array_equal(codes, encode_labels(y, classes))
    np.testing.assert_array_equal(classes[codes], y)
    assert codes.dtype == np.intp
    labels = labels_of_codes(classes, codes)
    np.testing.assert_array_equal(labels, y)
    assert labels.dtype == classes.dtype


@pytest.mark.parametrize("shift", [0, 5, -1])
def test_predict_gives_labels_whether_or_not_they_are_the_codes(shift):
    X, y = datasets.make_classification(
        n_samples=300, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=0
    )
    shifted = GaussianClassifier().fit(X, y + shift)
    plain = GaussianClassifier().fit(X, y)
    predicted = shifted.predict(X)
    np.testing.assert_array_equal(predicted, plain.predict(X) + shift)
    np.testing.assert_array_equal(predicted, shifted.classes_[shifted.predict_proba(X).argmax(1)])
    assert predicted.dtype == shifted.classes_.dtype


def test_fit_does_its_small_algebra_with_blas_on_one_thread(monkeypatch):
    """No spinning BLAS threads left behind to slow the next compiled kernel."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    seen = []
    refresh = GaussianClassifier._refresh

    def watched(self):
        seen.append(blas_threads())
        refresh(self)

    monkeypatch.setattr(GaussianClassifier, "_refresh", watched)
    before = blas_threads()
    X, y = datasets.make_classification(n_samples=200, n_features=4, random_state=0)
    GaussianClassifier(covariance_type="tied").fit(X, y)
    assert seen == [{1}]
    assert blas_threads() == before
