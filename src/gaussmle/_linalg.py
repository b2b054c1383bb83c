"""The low-level covariance arithmetic: Cholesky factors, whitening, the duplication matrix.

Full and tied covariances are only ever used through their Cholesky factor
``L`` (``Sigma = L L^T``): a point is whitened by the triangular solve
``L z = x - mu`` and its squared Mahalanobis distance is ``|z|^2``. No inverse
is formed. The structures (:mod:`gaussmle.structures`) build on these;
:mod:`gaussmle.covariance` re-exports them.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

LOG_2PI = float(np.log(2.0 * np.pi))


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


def inverse_factors(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transposed inverse Cholesky factors of covariances (m, d, d), and their log pivots.

    The log pivots ``2 log L_jj`` (m, d) sum to the log-determinant.

    Examples
    --------
    >>> W, pivots = inverse_factors(np.array([[[4.0, 0.0], [0.0, 1.0]]]))
    >>> W.tolist(), pivots.round(4).tolist()
    ([[[0.5, 0.0], [0.0, 1.0]]], [[1.3863, 0.0]])
    """
    factors = cholesky(cov)
    eye = np.eye(cov.shape[-1])
    inverse = np.stack([solve_triangular(f, eye, lower=True) for f in factors])
    pivots = 2.0 * np.log(np.diagonal(factors, axis1=1, axis2=2))
    return inverse.transpose(0, 2, 1).copy(), pivots


def _label(labels: list[str] | None, i: int) -> str:
    return f"class {labels[i]!r}" if labels is not None else f"component {i}"


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


def duplication_matrix(d: int) -> np.ndarray:
    """The duplication matrix D with ``vec(S) = D vech(S)`` for symmetric S.

    ``vech`` lists the lower triangle in ``np.tril_indices(d)`` order; ``vec``
    is row-major (C order).

    Examples
    --------
    >>> duplication_matrix(2).astype(int).tolist()
    [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]]
    """
    rows, cols = np.tril_indices(d)
    dup = np.zeros((d * d, rows.size))
    for k, (i, j) in enumerate(zip(rows, cols, strict=True)):
        dup[i * d + j, k] = 1.0
        dup[j * d + i, k] = 1.0
    return dup
