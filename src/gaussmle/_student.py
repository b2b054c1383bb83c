"""Posterior predictive (Student t) class densities, for ``predictive=True``.

The same interface as :class:`gaussmle._jll.ClassDensities` (joint, posterior,
best, ...), evaluated directly in row chunks: a product of univariate t
densities for diag, a d-variate t (through its Cholesky factor) otherwise.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ._jll import ClassDensities
from .covariance import cholesky, log_det


class StudentDensities(ClassDensities):
    """Posterior predictive (Student t) class densities, same interface.

    ``scale`` is per feature (k, d) for ``"diag"`` (a product of univariate
    t densities), a scalar per class (k,) for ``"spherical"`` and scale
    matrices (k, d, d) for ``"full"`` and ``"tied"`` (a d-variate t each);
    ``df`` (k,) the degrees of freedom. Evaluated directly, in row chunks.

    Examples
    --------
    >>> dens = StudentDensities(np.zeros((1, 1)), np.ones((1, 1)), np.array([[3.0]]), "diag")
    >>> round(float(dens.log_density(np.array([[1.0]]))[0, 0]), 6)  # scipy: t(3).logpdf(1)
    -1.576253
    """

    def __init__(
        self,
        means: np.ndarray,
        scale: np.ndarray,
        df: np.ndarray,
        covariance_type: str,
        log_weight: np.ndarray | None = None,
        labels: list[str] | None = None,
    ) -> None:
        from scipy.special import gammaln

        centre = np.asarray(means, dtype=np.float64).mean(axis=0)
        k, d = self._set_classes(means, covariance_type, centre, log_weight)
        if covariance_type == "diag":
            nu = np.broadcast_to(np.asarray(df, dtype=np.float64), (k, d)).copy()
            self.df = nu
            self.scale = np.asarray(scale, dtype=np.float64).reshape(k, d)
            self.precision = 1.0 / self.scale  # for the far-point fallback
            per_feature = (
                gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * np.pi * self.scale)
            )
            self.log_norm = per_feature.sum(axis=1)
        else:
            self.df = nu = np.asarray(df, dtype=np.float64).reshape(k)
            if covariance_type == "spherical":
                s = np.asarray(scale, dtype=np.float64).reshape(k, d)
                matrices = s[:, :, None] * np.eye(d)
            else:
                matrices = np.asarray(scale, dtype=np.float64).reshape(k, d, d)
            self.covariances = matrices  # the scale matrices
            self.factors = cholesky(matrices, labels)
            self.covariance_type = "full"  # evaluated as a full t from here on
            self._shape_type = covariance_type
            logdet = log_det(self.factors, "full", d)
            self.log_norm = (
                gammaln((nu + d) / 2)
                - gammaln(nu / 2)
                - 0.5 * d * np.log(nu * np.pi)
                - 0.5 * logdet
            )

    def _use_kernel(self) -> bool:
        return False

    def _ranking_chunk(self, X: np.ndarray) -> np.ndarray:
        return self._joint_chunk(X)

    def log_density(self, X: np.ndarray) -> np.ndarray:
        """log t(x | mu_c, scale_c, df_c), shape (n, k), for one chunk of rows."""
        k = self.means.shape[0]
        out = np.empty((X.shape[0], k))
        for c in range(k):
            dev = np.subtract(X, self.means[c], dtype=np.float64)
            nu = self.df[c]
            if self.covariance_type == "diag":
                terms = np.log1p(dev * dev / (nu * self.scale[c]))
                out[:, c] = -0.5 * (terms @ (nu + 1.0))
            else:
                white = solve_triangular(self.factors[c], dev.T, lower=True, check_finite=False)
                q = np.einsum("ij,ij->j", white, white)
                out[:, c] = -0.5 * (nu + self.n_features) * np.log1p(q / nu)
        out += self.log_norm
        return out

    def log_mahalanobis(self, X: np.ndarray) -> np.ndarray:
        """Far-point ranking for t densities, whose logs fall like -(df + d)/2 log q."""
        base = ClassDensities.log_mahalanobis(self, X)
        if self.covariance_type == "diag":
            return base * (self.df.mean(axis=1) + 1.0)
        return base * (self.df + self.n_features)
