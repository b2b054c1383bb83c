"""The density families and their evaluator: far points, mixtures' weights, the interface."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from gaussmle import GaussianClassifier
from gaussmle.densities import ClassDensities, DensityEvaluator, family_for

TYPES = ["diag", "spherical", "tied", "full"]


def _full_matrices(model: GaussianClassifier) -> list[np.ndarray]:
    """Each class's covariance as a (d, d) matrix, whatever the structure."""
    k, d = model.means_.shape
    cov = np.asarray(model.covariances_)
    return [
        {
            "diag": lambda c: np.diag(cov[c]),
            "spherical": lambda c: cov[c] * np.eye(d),
            "tied": lambda c: cov,
            "full": lambda c: cov[c],
        }[model.covariance_type](c)
        for c in range(k)
    ]


def _solve(A: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    """Exact Gaussian elimination (A small and positive definite)."""
    n = len(b)
    M = [row[:] + [b[i]] for i, row in enumerate(A)]
    for i in range(n):
        for r in range(i + 1, n):
            f = M[r][i] / M[i][i]
            M[r] = [a - f * p for a, p in zip(M[r], M[i], strict=True)]
    x = [Fraction(0)] * n
    for i in reversed(range(n)):
        x[i] = (M[i][n] - sum(M[i][j] * x[j] for j in range(i + 1, n))) / M[i][i]
    return x


def exact_best(model: GaussianClassifier, x: np.ndarray) -> tuple[int, Fraction]:
    """The class of the largest joint log density at x in exact arithmetic, and its lead.

    The squared distances are exact rationals of the float parameters; the
    log priors and log determinants (order 1) are added as floats.
    """
    scores = []
    for c, S in enumerate(_full_matrices(model)):
        dev = [
            Fraction(float(v)) - Fraction(float(m)) for v, m in zip(x, model.means_[c], strict=True)
        ]
        A = [[Fraction(float(v)) for v in row] for row in S]
        q = sum(a * b for a, b in zip(dev, _solve(A, dev), strict=True))
        const = np.log(model.class_prior_[c]) - 0.5 * np.linalg.slogdet(S)[1]
        scores.append(Fraction(float(const)) - q / 2)
    order = sorted(range(len(scores)), key=lambda c: scores[c], reverse=True)
    return order[0], scores[order[0]] - scores[order[1]]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(17)
    y = np.repeat([0, 1, 2], 60)
    X = rng.normal(size=(180, 2)) * [1.0, 0.5] + np.array([[0, 0], [2, 1], [-1, 3]])[y]
    return X, y


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("distance", [1e3, 1e17, 1e20, 1e100, 1e200, 1e300])
def test_far_points_get_the_exact_class(data, covariance_type, distance):
    """Issue 17 item 4: tied gave [0.5, 0.5] and class 0 from 1e17 on (LDA: class 1)."""
    X, y = data
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    angles = np.linspace(0.1, 2 * np.pi, 12, endpoint=False)
    P = distance * np.column_stack([np.cos(angles), np.sin(angles)])
    want = [exact_best(model, p) for p in P]
    proba = model.predict_proba(P)
    log_proba = model.predict_log_proba(P)
    for i, (best, lead) in enumerate(want):
        assert lead > 50  # far from the boundaries: the posterior is 0 or 1
        assert model.predict(P[i : i + 1])[0] == best
        assert proba[i, best] == 1.0
        assert log_proba[i, best] == 0.0


def test_tied_far_points_agree_with_lda(data):
    """The report's check: scikit-learn's LDA (exact here) against the tied model."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    X, y = data
    model = GaussianClassifier(covariance_type="tied").fit(X, y)
    lda = LinearDiscriminantAnalysis(solver="lsqr").fit(X, y)
    P = np.array([[1e17, 0.3e17], [-1e18, 2e17], [1e15, 1e17], [3e19, -1e19]])
    np.testing.assert_array_equal(model.predict(P), lda.predict(P))


@pytest.mark.parametrize("covariance_type", TYPES)
def test_ranking_orders_classes_as_the_joint(data, covariance_type):
    X, y = data
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    family = model._densities.family
    Q = X[:40] + 0.5
    rank, joint = family.ranking(Q), family.log_density(Q)
    # the same up to a per-row constant
    diff = rank - joint
    np.testing.assert_allclose(diff - diff[:, :1], 0.0, atol=1e-9)


def test_evaluator_serves_a_mixture_with_any_weights():
    """Responsibilities for arbitrary weights and parameters, against a direct computation."""
    from scipy.stats import multivariate_normal

    means = np.array([[0.0, 0.0], [3.0, 1.0], [-2.0, 4.0]])
    covs = np.array(
        [[[1.0, 0.3], [0.3, 2.0]], [[0.5, 0.0], [0.0, 0.5]], [[2.0, -0.4], [-0.4, 1.0]]]
    )
    weights = np.array([0.2, 0.5, 0.3])
    X = np.random.default_rng(2).normal(size=(50, 2)) * 3
    dens = ClassDensities(means, covs, "full", X.mean(axis=0), np.log(weights))
    joint = np.column_stack(
        [
            np.log(w) + multivariate_normal(m, c).logpdf(X)
            for m, c, w in zip(means, covs, weights, strict=True)
        ]
    )
    want = np.exp(joint - np.logaddexp.reduce(joint, axis=1, keepdims=True))
    np.testing.assert_allclose(dens.joint(X), joint, rtol=1e-12)
    np.testing.assert_allclose(dens.posterior(X), want, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(np.exp(dens.log_posterior(X)), want, rtol=1e-10, atol=1e-15)
    # new weights, same densities: only the weights change
    other = dens.with_weights(np.log([0.6, 0.2, 0.2]))
    shift = np.log([0.6, 0.2, 0.2]) - np.log(weights)
    np.testing.assert_allclose(other.joint(X), joint + shift, rtol=1e-12)


def test_family_for_maps_each_type_once_and_refuses_others():
    assert {family_for(t).__name__ for t in TYPES} == {
        "DiagFamily",
        "SphericalFamily",
        "TiedFamily",
        "FullFamily",
    }
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        family_for("banana")


def test_marginal_with_nothing_observed_leaves_the_weights():
    dens = ClassDensities(
        np.zeros((2, 2)), np.ones((2, 2)), "diag", np.zeros(2), np.log([0.25, 0.75])
    )
    none = dens.marginal(np.array([False, False]))
    assert isinstance(none, DensityEvaluator)
    np.testing.assert_allclose(none.posterior(np.zeros((3, 0))), [[0.25, 0.75]] * 3)
    assert none.best(np.zeros((2, 0))).tolist() == [1, 1]
