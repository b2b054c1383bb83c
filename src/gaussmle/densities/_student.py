"""Posterior predictive (Student t) class densities, for ``predictive=True``.

Evaluated directly in row chunks (no compiled kernel): a product of
univariate t densities for diag (:class:`StudentDiag`), a d-variate t through
its Cholesky factor otherwise (:class:`StudentFull`, also for spherical and
tied scales).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import solve_triangular
from scipy.special import gammaln

from ..covariance import cholesky, structure_for
from ._family import Family, log_q, scaled_deviations


class StudentDiag(Family):
    """Products of univariate t densities: scale and degrees of freedom per feature (k, d).

    Examples
    --------
    >>> fam = StudentDiag(np.zeros((1, 1)), np.ones((1, 1)), np.array([[3.0]]))
    >>> round(float(fam.log_density(np.array([[1.0]]))[0, 0]), 6)  # scipy: t(3).logpdf(1)
    -1.576253
    """

    def __init__(self, means: np.ndarray, scale: np.ndarray, df: np.ndarray) -> None:
        self.means = np.asarray(means, dtype=np.float64)
        k, d = self.means.shape
        self.reference = self.means.mean(axis=0)
        self.df = nu = np.broadcast_to(np.asarray(df, dtype=np.float64), (k, d)).copy()
        self.scale = np.asarray(scale, dtype=np.float64).reshape(k, d)
        per_feature = (
            gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * np.pi * self.scale)
        )
        self.log_norm = per_feature.sum(axis=1)

    def log_density(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_classes))
        for c in range(self.n_classes):
            dev = np.subtract(X, self.means[c], dtype=np.float64)
            nu = self.df[c]
            terms = np.log1p(dev * dev / (nu * self.scale[c]))
            out[:, c] = -0.5 * (terms @ (nu + 1.0))
        out += self.log_norm
        return out

    def log_mahalanobis(self, X: np.ndarray) -> np.ndarray:
        """Far-point ranking: log densities fall like -(df + 1)/2 log q per feature."""
        out = np.empty((X.shape[0], self.n_classes))
        for c in range(self.n_classes):
            u, scale = scaled_deviations(X, self.means[c])
            out[:, c] = log_q(np.einsum("ij,ij->i", u / self.scale[c], u), scale)
        return out * (self.df.mean(axis=1) + 1.0)

    def marginal(self, observed: np.ndarray) -> StudentDiag:
        obs = np.flatnonzero(observed)
        return StudentDiag(self.means[:, obs], self.scale[:, obs], self.df[:, obs])


class StudentFull(Family):
    """d-variate t densities: scale matrices (k, d, d), degrees of freedom (k,).

    Examples
    --------
    >>> fam = StudentFull(np.zeros((1, 1)), np.ones((1, 1, 1)), np.array([3.0]))
    >>> round(float(fam.log_density(np.array([[1.0]]))[0, 0]), 6)  # scipy: t(3).logpdf(1)
    -1.576253
    """

    def __init__(
        self, means: np.ndarray, scale: np.ndarray, df: np.ndarray, labels: Any = None
    ) -> None:
        self.means = np.asarray(means, dtype=np.float64)
        k, d = self.means.shape
        self.reference = self.means.mean(axis=0)
        self.df = nu = np.asarray(df, dtype=np.float64).reshape(k)
        self.covariances = np.asarray(scale, dtype=np.float64).reshape(k, d, d)
        self.factors = cholesky(self.covariances, labels)
        logdet = structure_for("full").log_det(self.factors, d)
        self.log_norm = (
            gammaln((nu + d) / 2) - gammaln(nu / 2) - 0.5 * d * np.log(nu * np.pi) - 0.5 * logdet
        )

    def log_density(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_classes))
        for c, factor in enumerate(self.factors):
            dev = np.subtract(X, self.means[c], dtype=np.float64)
            white = solve_triangular(factor, dev.T, lower=True, check_finite=False)
            q = np.einsum("ij,ij->j", white, white)
            out[:, c] = -0.5 * (self.df[c] + self.n_features) * np.log1p(q / self.df[c])
        out += self.log_norm
        return out

    def log_mahalanobis(self, X: np.ndarray) -> np.ndarray:
        """Far-point ranking: log densities fall like -(df + d)/2 log q."""
        out = np.empty((X.shape[0], self.n_classes))
        for c, factor in enumerate(self.factors):
            u, scale = scaled_deviations(X, self.means[c])
            w = solve_triangular(factor, u.T, lower=True, check_finite=False)
            out[:, c] = log_q(np.einsum("ij,ij->j", w, w), scale)
        return out * (self.df + self.n_features)

    def marginal(self, observed: np.ndarray) -> StudentFull:
        obs = np.flatnonzero(observed)
        block = self.covariances[:, obs][:, :, obs]
        return StudentFull(self.means[:, obs], block, self.df)
