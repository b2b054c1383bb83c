"""Class-conditional log densities of a batch of Gaussians, fast and exact.

:class:`ClassDensities` prepares, once per fitted model, what evaluating
``log N(x | mu_c, Sigma_c)`` for every class needs, then evaluates it on row
chunks:

- diag / spherical: the data and every mean are shifted by one reference point
  ``r`` (the mean of all training data), and the expanded square becomes two
  matrix products, ``Z^2 @ A + Z @ B + const``. Where that form would lose
  accuracy (a variance tiny next to the squared distances: the rounding error
  of each term is about ``eps * (z^2 + m^2) / var``), the affected
  (feature, class) terms are evaluated directly as ``(z - m)^2 / var``. The
  bound is computed per chunk from the statistics, so fast is never wrong.
- tied: one Cholesky factor, each chunk whitened once by a triangular solve;
  distances by the same expanded form in whitened coordinates with the same
  guard.
- full: one Cholesky factor per class; each chunk's deviations from the class
  mean are whitened by a triangular solve. No inverse is ever formed.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from .covariance import LOG_2PI, cholesky, log_det

EPS = float(np.finfo(np.float64).eps)
#: Allowed worst-case rounding error of one class's log density (absolute).
ABS_TOL = 1e-11
#: Safety factor on the rounding bound of the expanded square.
SAFETY = 8.0


class ClassDensities:
    """Evaluates log N(x | mu_c, Sigma_c) for all classes on chunks of rows.

    Parameters
    ----------
    means : ndarray (k, d)
    covariances : ndarray in GaussianMixture shapes for ``covariance_type``
    covariance_type : {"diag", "spherical", "full", "tied"}
    reference : ndarray (d,)
        The shift point; the mean of all training data is a good choice.
    labels : list of str, optional
        Class names, used in error messages.

    Examples
    --------
    >>> dens = ClassDensities(np.array([[0.0], [2.0]]), np.array([[1.0], [1.0]]),
    ...                       "diag", np.array([1.0]))
    >>> dens.log_density(np.array([[0.0]])).round(4).tolist()
    [[-0.9189, -2.9189]]
    """

    def __init__(
        self,
        means: np.ndarray,
        covariances: np.ndarray,
        covariance_type: str,
        reference: np.ndarray,
        labels: list[str] | None = None,
    ) -> None:
        self.covariance_type = covariance_type
        self.means = np.asarray(means, dtype=np.float64)
        k, d = self.means.shape
        self.n_features = d
        self.reference = np.asarray(reference, dtype=np.float64)
        self.shifted_means = self.means - self.reference  # (k, d)
        if covariance_type in ("diag", "spherical"):
            var = np.asarray(covariances, dtype=np.float64)
            var = np.broadcast_to(var[:, None] if var.ndim == 1 else var, (k, d))
            self.precision = 1.0 / var  # (k, d)
            self.log_norm = -0.5 * (d * LOG_2PI + log_det(var, "diag", d))
            self._prepare_expanded(self.shifted_means, self.precision)
        elif covariance_type == "tied":
            self.factor = cholesky(np.asarray(covariances, dtype=np.float64))
            logdet = log_det(self.factor, "tied", d)
            self.log_norm = np.full(k, -0.5 * (d * LOG_2PI + logdet))
            # whitened shifted means, (k, d): L^{-1} (mu_c - r)
            white = solve_triangular(self.factor, self.shifted_means.T, lower=True).T
            self.white_means = white
            self._prepare_expanded(white, np.ones((k, d)))
        elif covariance_type == "full":
            self.factors = cholesky(np.asarray(covariances, dtype=np.float64), labels)
            self.log_norm = -0.5 * (d * LOG_2PI + log_det(self.factors, "full", d))
        else:
            raise ValueError(f"unknown covariance_type {covariance_type!r}")

    # -------------------------------------------------------------- expanded square
    def _prepare_expanded(self, m: np.ndarray, p: np.ndarray) -> None:
        """Coefficients of sum_j p_cj (z_j - m_cj)^2 = z^2 @ A + z @ B + c."""
        self._m, self._p = m, p
        self._A = (-0.5 * p).T.copy()  # (d, k)
        self._B = (m * p).T.copy()  # (d, k)
        self._term_const = -0.5 * m * m * p  # (k, d): the constant part of each term
        self._const = self._term_const.sum(axis=1)  # (k,)
        self._m2p = (m * m * p).T  # (d, k) for the error bound

    def _expanded(self, Z: np.ndarray, X: np.ndarray) -> np.ndarray:
        """-0.5 * sum_j p_cj (z_j - m_cj)^2 for every row and class, guarded.

        ``Z`` holds the (shifted, for tied also whitened) rows and ``X`` the
        raw rows. Terms whose rounding bound exceeds the tolerance are left
        out of the matrix products (their coefficients zeroed for this chunk)
        and evaluated directly from ``x - mu`` instead: per feature for
        diag/spherical, per class for tied (whitening mixes the features).
        """
        zmax2 = np.square(np.abs(Z).max(axis=0))  # (d,)
        bound = SAFETY * EPS * (zmax2[:, None] * self._p.T + self._m2p)  # (d, k)
        bad = bound > ABS_TOL / self.n_features
        tied = self.covariance_type == "tied"
        if tied:
            bad[:, bad.any(axis=0)] = True
        A, B, const = self._A, self._B, self._const
        if bad.any():
            A = np.where(bad, 0.0, A)
            B = np.where(bad, 0.0, B)
            # summed afresh: subtracting the bad terms from the full sum would cancel
            const = np.where(bad.T, 0.0, self._term_const).sum(axis=1)
        out = (Z * Z) @ A
        out += Z @ B
        out += const
        for c in np.flatnonzero(bad.any(axis=0)):
            if tied:
                dev = np.subtract(X, self.means[c], dtype=np.float64)
                white = solve_triangular(self.factor, dev.T, lower=True, check_finite=False)
                out[:, c] -= 0.5 * np.einsum("ij,ij->j", white, white)
            else:
                cols = np.flatnonzero(bad[:, c])
                dev = np.subtract(X[:, cols], self.means[c, cols], dtype=np.float64)
                out[:, c] -= 0.5 * ((dev * dev) @ self._p[c, cols])
        return out

    # -------------------------------------------------------------- evaluation
    def log_density(self, X: np.ndarray) -> np.ndarray:
        """log N(x | mu_c, Sigma_c), shape (n, k), for one chunk of rows."""
        Z = np.subtract(X, self.reference, dtype=np.float64)
        if self.covariance_type in ("diag", "spherical"):
            out = self._expanded(Z, X)
        elif self.covariance_type == "tied":
            W = solve_triangular(self.factor, Z.T, lower=True, check_finite=False).T
            out = self._expanded(np.ascontiguousarray(W), X)
        else:
            out = np.empty((Z.shape[0], self.means.shape[0]))
            for c, factor in enumerate(self.factors):
                dev = np.subtract(X, self.means[c], dtype=np.float64)
                white = solve_triangular(factor, dev.T, lower=True, check_finite=False)
                out[:, c] = -0.5 * np.einsum("ij,ij->j", white, white)
        out += self.log_norm
        return out

    def log_mahalanobis(self, X: np.ndarray) -> np.ndarray:
        """log of the squared Mahalanobis distances (n, k), safe from overflow.

        Used for points so far away that the distances overflow: each row's
        deviations are scaled by their largest magnitude before squaring.
        """
        k = self.means.shape[0]
        out = np.empty((X.shape[0], k))
        for c in range(k):
            dev = np.subtract(X, self.means[c], dtype=np.float64)
            scale = np.abs(dev).max(axis=1)
            scale = np.where(scale > 0, scale, 1.0)
            u = dev / scale[:, None]
            if self.covariance_type in ("diag", "spherical"):
                q = np.einsum("ij,ij->i", u * self.precision[c], u)
            else:
                factor = self.factor if self.covariance_type == "tied" else self.factors[c]
                w = solve_triangular(factor, u.T, lower=True, check_finite=False)
                q = np.einsum("ij,ij->j", w, w)
            with np.errstate(divide="ignore"):
                out[:, c] = 2.0 * np.log(scale) + np.log(q)
        return out
