"""The covariance structures: from statistics, floor, factor, log-determinant, whitening.

Shapes follow scikit-learn's GaussianMixture for a batch of ``k`` components:
``"full"`` (k, d, d), ``"tied"`` (d, d) shared by all, ``"diag"`` (k, d) and
``"spherical"`` (k,). A single Gaussian uses the same functions with ``k``
dropped: full (d, d), diag (d,), spherical a scalar.

Full and tied covariances are only ever used through their Cholesky factor
``L`` (``Sigma = L L^T``): a point is whitened by the triangular solve
``L z = x - mu`` and its squared Mahalanobis distance is ``|z|^2``. No inverse
is formed.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from .stats import GaussianStats

LOG_2PI = float(np.log(2.0 * np.pi))


def covariances_from_stats(
    stats: GaussianStats, covariance_type: str, epsilon: float = 0.0
) -> np.ndarray:
    """MLE covariances (divisor N) of a batch of groups, plus ``epsilon`` on the variances.

    ``"tied"`` pools the within-group scatter of all groups and divides by the
    total weight; ``"spherical"`` averages the per-feature variances.

    Examples
    --------
    >>> s = GaussianStats.from_groups([[0.0, 0.0], [2.0, 4.0], [5.0, 5.0], [7.0, 5.0]],
    ...                               [0, 0, 1, 1], 2, kind="full")
    >>> covariances_from_stats(s, "diag").tolist()
    [[1.0, 4.0], [1.0, 0.0]]
    >>> covariances_from_stats(s, "spherical").tolist()
    [2.5, 0.5]
    >>> covariances_from_stats(s, "tied").tolist()
    [[1.0, 1.0], [1.0, 2.0]]
    """
    if covariance_type == "diag":
        return stats.variance + epsilon
    if covariance_type == "spherical":
        return stats.variance.mean(axis=-1) + epsilon
    if stats.kind != "full":
        raise ValueError(f"covariance_type {covariance_type!r} needs kind='full' statistics")
    eye = np.eye(stats.n_features)
    if covariance_type == "full":
        return stats.covariance + epsilon * eye
    if covariance_type == "tied":
        total = float(stats.count.sum())
        scatter = stats.m2.reshape((-1,) + stats.m2.shape[-2:]).sum(axis=0)
        return scatter / (total if total > 0 else 1.0) + epsilon * eye
    raise ValueError(
        f"covariance_type must be 'diag', 'full', 'tied' or 'spherical'; got {covariance_type!r}"
    )


def cholesky(cov: np.ndarray, labels: list[str] | None = None) -> np.ndarray:
    """Lower Cholesky factors of one (d, d) or a batch (k, d, d) of covariances.

    Raises a ValueError naming the offending component when a matrix is not
    positive definite.

    Examples
    --------
    >>> cholesky(np.array([[4.0, 2.0], [2.0, 2.0]])).tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    batch = cov.reshape((-1,) + cov.shape[-2:])
    factors = np.empty_like(batch)
    # A pivot this small relative to the largest variance is rounding noise:
    # the matrix is singular in all but name, and its density would be garbage.
    tiny = cov.shape[-1] * np.finfo(np.float64).eps
    for i, matrix in enumerate(batch):
        try:
            factors[i] = np.linalg.cholesky(matrix)
            pivots = np.diagonal(factors[i]) ** 2
            if not pivots.min() > tiny * np.diagonal(matrix).max():
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            who = "the covariance" if cov.ndim == 2 else f"the covariance of {_label(labels, i)}"
            raise ValueError(
                f"{who} is singular (not positive definite): some features are constant "
                "or linearly dependent; add variance smoothing (var_smoothing > 0), drop the "
                "redundant features or use covariance_type='diag'"
            ) from None
    return factors.reshape(cov.shape)


def _label(labels: list[str] | None, i: int) -> str:
    return f"class {labels[i]!r}" if labels is not None else f"component {i}"


def log_det(cov_or_factor: np.ndarray, covariance_type: str, n_features: int) -> np.ndarray:
    """log |Sigma|; for full/tied pass the Cholesky factor, otherwise the variances.

    Examples
    --------
    >>> float(log_det(np.array([2.0, 8.0]), "diag", 2)) == float(np.log(16.0))
    True
    >>> float(log_det(np.array(2.0), "spherical", 3)) == float(3 * np.log(2.0))
    True
    """
    if covariance_type == "diag":
        return np.log(cov_or_factor).sum(axis=-1)
    if covariance_type == "spherical":
        return n_features * np.log(cov_or_factor)
    diag = np.diagonal(cov_or_factor, axis1=-2, axis2=-1)
    return 2.0 * np.log(diag).sum(axis=-1)


def whiten(X: np.ndarray, mean: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Whitened deviations ``L^{-1} (x - mu)`` of the rows of X, shape (n, d).

    Examples
    --------
    >>> L = np.array([[2.0, 0.0], [1.0, 1.0]])
    >>> whiten(np.array([[2.0, 2.0]]), np.zeros(2), L).tolist()
    [[1.0, 1.0]]
    """
    dev = np.subtract(X, mean, dtype=np.float64)
    return solve_triangular(factor, dev.T, lower=True, check_finite=False).T


def mahalanobis_sq(
    X: np.ndarray, mean: np.ndarray, cov_or_factor: np.ndarray, covariance_type: str
) -> np.ndarray:
    """Squared Mahalanobis distance of each row of X to one Gaussian, shape (n,).

    For full/tied pass the Cholesky factor; for diag the variances (d,); for
    spherical the scalar variance. Deviations are taken before squaring, so
    the result is accurate far from the origin.

    Examples
    --------
    >>> mahalanobis_sq(np.array([[1.0, 2.0]]), np.zeros(2), np.array([1.0, 4.0]), "diag")
    array([2.])
    """
    if covariance_type in ("full", "tied"):
        z = whiten(X, mean, cov_or_factor)
        return np.einsum("ij,ij->i", z, z)
    dev = np.subtract(X, mean, dtype=np.float64)
    if covariance_type == "diag":
        return np.einsum("ij,ij->i", dev, dev / cov_or_factor)
    return np.einsum("ij,ij->i", dev, dev) / cov_or_factor


def variance_floor(largest_variance: float, var_smoothing: float) -> float:
    """The smoothing added to every variance: the one rule of ``fit`` and the classifier.

    scikit-learn's GaussianNB epsilon, ``var_smoothing`` times the largest
    variance of all data seen. When every feature is constant (the largest
    variance is 0) there is no scale to borrow, and the smoothing is taken
    in the data's own units: ``var_smoothing`` itself. ``var_smoothing=0``
    means no smoothing at all.

    Examples
    --------
    >>> variance_floor(4.0, 1e-9)
    4e-09
    >>> variance_floor(0.0, 1e-9)  # all data constant
    1e-09
    """
    largest = float(largest_variance)
    if largest == 0.0:
        return float(var_smoothing)
    return float(var_smoothing) * largest
