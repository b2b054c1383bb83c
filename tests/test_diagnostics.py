"""Diagnostics: normality tests, out-of-distribution scores, per-feature explanations."""

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.datasets import load_iris

from gaussmle import GaussianClassifier
from gaussmle.diagnostics import (
    Explanation,
    NormalityTest,
    explain,
    normality_tests,
    ood_score,
    ood_threshold,
    warnings_for,
)

TYPES = ["diag", "full", "tied", "spherical"]


# ---------------------------------------------------------------------- normality
def test_flags_exponential_and_uniform_not_gaussian():
    rng = np.random.default_rng(0)
    n = 500
    X = np.column_stack([rng.exponential(size=n), rng.uniform(size=n), rng.normal(size=n)])
    y = np.zeros(n, dtype=int)
    results = normality_tests(X, y, feature_names=["expo", "unif", "gauss"])
    by_name = {r.feature: r for r in results}
    assert by_name["expo"].far_from_gaussian and by_name["expo"].p_value < 1e-10
    assert by_name["unif"].far_from_gaussian and by_name["unif"].p_value < 1e-5
    assert not by_name["gauss"].far_from_gaussian
    assert all(r.test == "Shapiro-Wilk" and r.n == n for r in results)
    assert by_name["expo"].skewness == pytest.approx(2.0, abs=0.6)
    assert by_name["unif"].excess_kurtosis == pytest.approx(-1.2, abs=0.2)
    assert abs(by_name["gauss"].skewness) < 0.3


def test_false_positive_rate_is_about_alpha():
    rng = np.random.default_rng(1)
    n_features, n_classes, n = 100, 4, 60
    X = rng.normal(3.0, 2.0, size=(n_classes * n, n_features))
    y = np.repeat(np.arange(n_classes), n)
    for alpha in (0.01, 0.05):
        results = normality_tests(X, y, alpha=alpha)
        assert len(results) == n_features * n_classes
        rate = np.mean([r.far_from_gaussian for r in results])
        # 400 tests: expected 4 and 20 flags; generous bounds
        assert rate <= 3 * alpha
        if alpha == 0.05:
            assert rate >= alpha / 3
        assert all(r.far_from_gaussian == (r.p_value < alpha) for r in results)


def test_large_classes_use_dagostino():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.normal(size=6000), rng.lognormal(size=6000)])
    results = normality_tests(X, np.zeros(6000))
    assert {r.test for r in results} == {"D'Agostino-Pearson"}
    assert not results[0].far_from_gaussian
    assert results[1].far_from_gaussian


def test_small_classes_are_skipped_with_a_note():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(22, 2))
    y = np.array(["big"] * 20 + ["tiny"] * 2)
    results = normality_tests(X, y)
    tiny = [r for r in results if r.class_label == "tiny"]
    assert len(tiny) == 2
    assert all(r.test is None and np.isnan(r.p_value) and not r.far_from_gaussian for r in tiny)
    assert "only 2 samples" in tiny[0].note
    sentences = warnings_for(results)
    assert sum("tiny" in s for s in sentences) == 1  # one note per class, not per feature


def test_constant_feature_noted_not_tested():
    X = np.column_stack([np.random.default_rng(4).normal(size=30), np.full(30, 7.0)])
    results = normality_tests(X, np.zeros(30), feature_names=["a", "b"])
    assert results[1].test is None and "constant" in results[1].note
    assert any("constant" in s for s in warnings_for(results))


def test_warning_sentence():
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.normal(size=200), rng.exponential(size=200)])
    y = np.repeat(["purple", "yellow"], 100)
    results = normality_tests(X, y, feature_names=["aromatic lift", "elegance"])
    sentences = warnings_for(results)
    assert len(sentences) == 2
    assert sentences[1].startswith("class 'yellow', feature 'elegance': far from Gaussian")
    assert "Shapiro-Wilk p = " in sentences[1] and "skewness" in sentences[1]
    assert sentences[1].endswith("consider a transformation")


def test_zero_p_value_sentence():
    r = NormalityTest("a", "x", "Shapiro-Wilk", 0.1, 0.0, 5000, 3.0, 20.0, True)
    assert "p < 1e-300" in warnings_for([r])[0]
    assert r.to_dict()["feature"] == "x"


def test_normality_feature_names_from_dataframe_and_errors():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(6)
    frame = pd.DataFrame(rng.normal(size=(30, 2)), columns=["left", "right"])
    results = normality_tests(frame, np.zeros(30))
    assert [r.feature for r in results] == ["left", "right"]
    with pytest.raises(ValueError, match="feature_names has 1 names"):
        normality_tests(frame, np.zeros(30), feature_names=["only"])
    with pytest.raises(ValueError, match="alpha"):
        normality_tests(frame, np.zeros(30), alpha=1.5)
    with pytest.raises(ValueError, match="rows but y has"):
        normality_tests(frame, np.zeros(29))


# ---------------------------------------------------------------------- out of distribution
def scipy_class_logpdf(model, X, c):
    d = model.n_features_in_
    cov = model.covariances_
    sigma = {
        "diag": lambda: np.diag(cov[c]),
        "spherical": lambda: cov[c] * np.eye(d),
        "tied": lambda: cov,
        "full": lambda: cov[c],
    }[model.covariance_type]()
    return sps.multivariate_normal(model.means_[c], sigma).logpdf(X)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_ood_score_is_max_class_logpdf(iris, covariance_type):
    X, y = iris
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    rng = np.random.default_rng(7)
    points = np.vstack([X[::7], X.mean(axis=0) + rng.normal(0, 3, size=(20, 4))])
    expected = np.max([scipy_class_logpdf(model, points, c) for c in range(3)], axis=0)
    np.testing.assert_allclose(ood_score(model, points), expected, rtol=1e-10, atol=1e-9)


def test_ood_score_ignores_priors_but_skips_zero_prior_classes(iris):
    X, y = iris
    base = GaussianClassifier().fit(X, y)
    skewed = GaussianClassifier(priors=[0.98, 0.01, 0.01]).fit(X, y)
    np.testing.assert_allclose(ood_score(base, X), ood_score(skewed, X), rtol=1e-12)
    without = GaussianClassifier(priors=[0.5, 0.5, 0.0]).fit(X, y)
    expected = np.max([scipy_class_logpdf(without, X, c) for c in range(2)], axis=0)
    np.testing.assert_allclose(ood_score(without, X), expected, rtol=1e-10)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_far_points_score_much_lower(iris, covariance_type):
    X, y = iris
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    train = ood_score(model, X)
    far = ood_score(model, X[:5] + np.array([30.0, -20.0, 40.0, 25.0]))
    assert far.max() < train.min() - 100
    threshold = ood_threshold(model, X)
    assert far.max() < threshold <= np.quantile(train, 0.01)
    assert threshold >= train.min()


def test_ood_threshold_quantile():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(2000, 3))
    y = rng.integers(0, 2, 2000)
    model = GaussianClassifier().fit(X, y)
    scores = ood_score(model, X)
    for q in (0.001, 0.01, 0.1):
        t = ood_threshold(model, X, quantile=q)
        assert np.mean(scores < t) == pytest.approx(q, abs=1.5 / len(X))
    assert ood_threshold(model, X, quantile=0.0) == scores.min()
    with pytest.raises(ValueError, match="quantile"):
        ood_threshold(model, X, quantile=2.0)


def test_ood_extremely_far_is_minus_inf_not_nan():
    model = GaussianClassifier().fit([[0.0], [1.0], [5.0], [6.0]], [0, 0, 1, 1])
    score = ood_score(model, [[1e200]])
    assert not np.isnan(score).any() and score[0] < -1e300


# ---------------------------------------------------------------------- explanations
@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_explain_contributions_sum_to_joint_log_odds(iris, covariance_type):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, names)
    rng = np.random.default_rng(9)
    points = np.vstack([X, X.mean(axis=0) + rng.normal(0, 2, size=(30, 4))])
    e = explain(model, points)
    joint = model.predict_joint_log_proba(points)
    idx = {c: i for i, c in enumerate(model.classes_)}
    a = np.array([idx[c] for c in e.top_class])
    b = np.array([idx[c] for c in e.runner_up])
    rows = np.arange(len(points))
    np.testing.assert_allclose(e.log_odds, joint[rows, a] - joint[rows, b], rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        e.prior_term + e.contributions.sum(axis=1), e.log_odds, rtol=0, atol=1e-12
    )
    # the two classes are the top two of the joint
    order = np.argsort(-joint, axis=1)
    assert np.array_equal(a, order[:, 0]) and np.array_equal(b, order[:, 1])
    assert np.array_equal(e.top_class, model.predict(points))
    assert (e.log_odds >= 0).all()
    assert e.contributions.shape == (len(points), 4) and len(e) == len(points)
    total = np.abs(e.shares).sum(axis=1) + np.abs(e.prior_share)
    np.testing.assert_allclose(total, 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        e.shares * (np.abs(e.contributions).sum(axis=1) + np.abs(e.prior_term))[:, None],
        e.contributions,
        rtol=1e-12,
        atol=1e-15,
    )


def test_explain_contribution_is_difference_of_univariate_logpdfs():
    rng = np.random.default_rng(10)
    X = np.vstack([rng.normal([0, 0, 0], [1, 2, 3], (40, 3)), rng.normal([2, 1, 0], 1, (20, 3))])
    y = np.repeat(["purple", "yellow"], [40, 20])
    model = GaussianClassifier().fit(X, y)
    x = np.array([[1.5, -0.5, 2.0]])
    e = explain(model, x)
    c1 = list(model.classes_).index(e.top_class[0])
    c2 = 1 - c1
    sd = np.sqrt(model.covariances_)
    expected = sps.norm(model.means_[c1], sd[c1]).logpdf(x[0]) - sps.norm(
        model.means_[c2], sd[c2]
    ).logpdf(x[0])
    np.testing.assert_allclose(e.contributions[0], expected, rtol=1e-12)
    prior = np.log(model.class_prior_[c1]) - np.log(model.class_prior_[c2])
    assert e.prior_term[0] == pytest.approx(prior)


def test_explain_is_exact_far_from_the_origin():
    rng = np.random.default_rng(11)
    offset = 1e8
    X = offset + np.vstack([rng.normal(0, 1e-3, (30, 2)), rng.normal(2e-3, 1e-3, (30, 2))])
    y = np.repeat([0, 1], 30)
    model = GaussianClassifier().fit(X, y)
    e = explain(model, X)
    joint = model.predict_joint_log_proba(X)
    top = np.sort(joint, axis=1)
    np.testing.assert_allclose(e.log_odds, top[:, 1] - top[:, 0], atol=1e-6)


def test_explain_text():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal([0, 0], 1.0, (60, 2)), rng.normal([3, 1], 1.0, (40, 2))])
    y = np.repeat(["purple", "yellow"], [60, 40])
    model = GaussianClassifier().fit(X, y)
    e = explain(model, [[2.5, 0.5]], feature_names=["aromatic lift", "elegance"])
    text = e.to_text(0)
    assert text.startswith("yellow over purple by log-odds 3.0: aromatic lift +3.4 (88%)")
    assert "prior -0.4" in text and "elegance" in text


def test_explain_text_summarises_many_features():
    X, y = load_iris(return_X_y=True)
    model = GaussianClassifier().fit(X, y)
    e = explain(model, X[60:61], feature_names=["sl", "sw", "pl", "pw"])
    text = e.to_text(0, top=2)
    assert "3 other terms" in text and "together" in text
    assert isinstance(e, Explanation)


def test_explain_uses_model_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    model = GaussianClassifier().fit(frame, y)
    e = explain(model, frame.iloc[:3])
    assert e.feature_names == ("sl", "sw", "pl", "pw")
    assert "x0" not in e.to_text(0)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_explain_refuses_full_and_tied(iris, covariance_type):
    X, y = iris
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    with pytest.raises(ValueError, match="needs a diagonal model") as info:
        explain(model, X[:2])
    assert repr(covariance_type) in str(info.value)


def test_explain_other_errors(iris):
    X, y = iris
    model = GaussianClassifier().fit(X, y)
    with pytest.raises(ValueError, match="4 features|fitted on 4"):
        explain(model, X[:2, :3])
    with pytest.raises(ValueError, match="feature_names has 2 names"):
        explain(model, X[:2], feature_names=["a", "b"])
    single = GaussianClassifier().fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="at least two classes"):
        explain(single, X[:2])
