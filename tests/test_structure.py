"""The covariance structures (gaussmle.covariance): one object per covariance_type.

Each structure is checked against a direct computation from the rows (numpy,
scipy) or against scikit-learn's GaussianMixture helpers, not against itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.mixture._gaussian_mixture import (
    _compute_precision_cholesky,
    _estimate_gaussian_covariances_diag,
    _estimate_gaussian_covariances_full,
    _estimate_gaussian_covariances_spherical,
    _estimate_gaussian_covariances_tied,
)

from gaussmle.covariance import SHARED, STRUCTURES, Structure, structure_for
from gaussmle.stats import GaussianStats

TYPES = ("diag", "full", "tied", "spherical")


@pytest.fixture(scope="module")
def grouped():
    """Rows of three groups, their one-hot responsibilities and full statistics."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3)) @ np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.5]])
    y = np.repeat(np.arange(3), 20)
    X += y[:, None] * 3.0
    R = np.eye(3)[y]
    stats = GaussianStats.from_groups(X, y, 3, kind="full")
    return X, R, stats


def test_one_object_per_name_and_refusal_in_one_sentence():
    assert [s.name for s in STRUCTURES] == list(TYPES)
    for name in TYPES:
        s = structure_for(name)
        assert isinstance(s, Structure) and s.name == name
        assert structure_for(name) is s  # one instance each
        assert structure_for(s) is s
    with pytest.raises(ValueError, match=r"^covariance_type must be one of 'diag', 'full'"):
        structure_for("Full")
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        structure_for(None)


def test_structures_are_immutable():
    s = structure_for("diag")
    with pytest.raises(AttributeError):
        s.name = "full"
    with pytest.raises(AttributeError):
        s.extra = 1


@pytest.mark.parametrize("name", TYPES)
def test_covariances_equal_scikit_learn(name, grouped):
    X, R, stats = grouped
    nk = R.sum(axis=0)
    means = (R.T @ X) / nk[:, None]
    reference = {
        "diag": _estimate_gaussian_covariances_diag,
        "full": _estimate_gaussian_covariances_full,
        "tied": _estimate_gaussian_covariances_tied,
        "spherical": _estimate_gaussian_covariances_spherical,
    }[name](R, X, nk, means, 1e-6)
    s = structure_for(name)
    cov = s.covariances(stats if s.stats_kind == "full" else stats.to_diag(), 1e-6)
    assert cov.shape == s.parameter_shape(3, 3) == reference.shape
    np.testing.assert_allclose(cov, reference, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["full", "tied"])
def test_matrix_structures_refuse_diag_statistics(name, grouped):
    with pytest.raises(ValueError, match="needs kind='full' statistics"):
        structure_for(name).covariances(grouped[2].to_diag())


@pytest.mark.parametrize("name", TYPES)
def test_precisions_round_trip_and_equal_scikit_learn(name, grouped):
    s = structure_for(name)
    stats = grouped[2]
    cov = s.covariances(stats if s.stats_kind == "full" else stats.to_diag(), 1e-6)
    chol = s.precision_cholesky(cov)
    np.testing.assert_allclose(chol, _compute_precision_cholesky(cov, name), rtol=1e-12)
    prec = s.precisions(chol)
    np.testing.assert_allclose(s.from_precisions(prec), cov, rtol=1e-10)


def test_parameter_counts_match_the_shapes():
    k, d = 4, 3
    for s in STRUCTURES:
        n_values = int(np.prod(s.parameter_shape(k, d)))
        symmetric = s.stats_kind == "full"
        expected = n_values - (k if s.per_component else 1) * d * (d - 1) // 2 * symmetric
        assert s.n_parameters(k, d) == expected, s.name


@pytest.mark.parametrize("name", ["diag", "full", "spherical"])
def test_one_gaussian_log_density_equals_scipy(name):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 3))
    mean = np.array([0.5, -1.0, 2.0])
    full = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]])
    cov = {"diag": np.diagonal(full).copy(), "full": full, "spherical": np.array(0.7)}[name]
    dense = {"diag": np.diag(np.diagonal(full)), "full": full, "spherical": 0.7 * np.eye(3)}[name]
    s = structure_for(name)
    assert cov.shape == s.single_shape(3)
    metric = s.metric(cov, s.factor(cov))
    logpdf = -0.5 * (
        3 * np.log(2 * np.pi) + s.log_det(metric, 3) + s.mahalanobis_sq(X, mean, metric)
    )
    np.testing.assert_allclose(logpdf, multivariate_normal(mean, dense).logpdf(X), rtol=1e-12)
    np.testing.assert_allclose(s.single_variance(cov, 3), np.diagonal(dense), rtol=0)
    # whitening then colouring gives the deviations back
    factor = s.factor(cov)
    np.testing.assert_allclose(s.colour(s.whiten(X, mean, factor), factor), X - mean, atol=1e-12)


def test_diag_factor_refuses_a_zero_variance():
    with pytest.raises(ValueError, match="the variance is zero for some feature"):
        structure_for("diag").factor(np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="singular"):
        structure_for("full").factor(np.zeros((2, 2)))


def test_floor_only_what_is_singular_and_report_it():
    scale = np.array([4.0, 1.0])
    cov, floored = structure_for("diag").floor(np.array([[1.0, 0.0], [1.0, 1.0]]), scale, 1e-9)
    assert cov.tolist() == [[1.0, 1e-9], [1.0, 1.0]] and floored == {0: 4e-9}
    untouched = np.array([[1.0, 1.0]])
    cov, floored = structure_for("diag").floor(untouched, scale, 1e-9)
    assert cov is untouched and floored == {}
    cov, floored = structure_for("spherical").floor(np.array([0.0, 2.0]), scale, 1e-9)
    assert cov.tolist() == [2.5e-9, 2.0] and floored == {0: 2.5e-9}
    singular = np.ones((2, 2))
    cov, floored = structure_for("tied").floor(singular, scale, 1e-9)
    assert list(floored) == [SHARED] and np.linalg.eigvalsh(cov)[0] > 0
    cov, floored = structure_for("full").floor(np.stack([np.eye(2), singular]), scale, 1e-9)
    assert list(floored) == [1] and (cov[0] == np.eye(2)).all()


@pytest.mark.parametrize("name", TYPES)
def test_component_and_per_component(name):
    s = structure_for(name)
    cov = np.ones(s.parameter_shape(3, 2))
    assert s.per_component == (name != "tied")
    assert s.component(cov, 2).shape == ((2, 2) if s.stats_kind == "full" else cov.shape[1:])
    # spherical keeps one variance per component, broadcast over the features
    width = 1 if name == "spherical" else 2
    assert s.variances(cov).shape == (3 if s.per_component else 1, width)


def test_check_precisions_refuses_in_one_sentence():
    with pytest.raises(ValueError, match=r"^p must be positive for covariance_type='spherical'$"):
        structure_for("spherical").check_precisions(np.array([1.0, 0.0]), "p")
    with pytest.raises(ValueError, match=r"^p\[1\] is not symmetric"):
        structure_for("full").check_precisions(np.array([np.eye(2), [[1, 0.5], [0, 1]]]), "p")
    with pytest.raises(ValueError, match=r"^p is not positive definite"):
        structure_for("tied").check_precisions(-np.eye(2), "p")


def test_copies_and_pickles_are_the_one_instance():
    import copy
    import pickle

    for s in STRUCTURES:
        assert copy.copy(s) is s and copy.deepcopy(s) is s
        assert pickle.loads(pickle.dumps(s)) is s
    assert repr(structure_for("tied")) == "structure_for('tied')"
