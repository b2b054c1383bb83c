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

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.linalg import solve_triangular

from . import _kernels
from .covariance import LOG_2PI, cholesky, log_det

EPS = float(np.finfo(np.float64).eps)
#: Allowed worst-case rounding error of one class's log density (absolute).
ABS_TOL = 1e-11
#: Safety factor on the rounding bound of the expanded square.
SAFETY = 8.0
#: Float64 work space per chunk of rows (bytes).
CHUNK_BYTES = 1 << 23
#: Up to this many classes the compiled direct loop beats two matrix products.
DIRECT_MAX_CLASSES = 128


def _usable_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def require_finite_rows(X: np.ndarray, rows: np.ndarray) -> None:
    """Raise the usual NaN/infinity error if any of ``rows`` of X is not finite.

    Examples
    --------
    >>> require_finite_rows(np.array([[1.0], [np.nan]]), np.array([1]))
    Traceback (most recent call last):
    ...
    ValueError: X contains NaN at row 1, column 0; remove or impute missing values first
    """
    part = X[rows]
    bad = ~np.isfinite(part)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(part[i, j]) else "infinity (inf)"
        raise ValueError(
            f"X contains {what} at row {rows[i]}, column {j}; remove or impute missing values first"
        )


class ClassDensities:
    """Evaluates log N(x | mu_c, Sigma_c) for all classes on chunks of rows.

    Parameters
    ----------
    means : ndarray (k, d)
    covariances : ndarray in GaussianMixture shapes for ``covariance_type``
    covariance_type : {"diag", "spherical", "full", "tied"}
    reference : ndarray (d,)
        The shift point; the mean of all training data is a good choice.
    log_weight : ndarray (k,), optional
        Added to each class's log density by :meth:`joint` (the log priors;
        -inf for a class that must never win). Zeros by default.
    labels : list of str, optional
        Class names, used in error messages.

    Examples
    --------
    >>> dens = ClassDensities(np.array([[0.0], [2.0]]), np.array([[1.0], [1.0]]),
    ...                       "diag", np.array([1.0]))
    >>> dens.log_density(np.array([[0.0]])).round(4).tolist()
    [[-0.9189, -2.9189]]
    >>> dens.posterior(np.array([[1.0]])).tolist()
    [[0.5, 0.5]]
    """

    def __init__(
        self,
        means: np.ndarray,
        covariances: np.ndarray,
        covariance_type: str,
        reference: np.ndarray,
        log_weight: np.ndarray | None = None,
        labels: list[str] | None = None,
    ) -> None:
        k, d = self._set_classes(means, covariance_type, reference, log_weight)
        self.shifted_means = self.means - self.reference  # (k, d)
        if covariance_type in ("diag", "spherical"):
            var = np.asarray(covariances, dtype=np.float64)
            var = np.broadcast_to(var[:, None] if var.ndim == 1 else var, (k, d))
            self.covariances = var  # per-feature variances (k, d)
            self.precision = 1.0 / var  # (k, d)
            self.log_norm = -0.5 * (d * LOG_2PI + log_det(var, "diag", d))
            self._prepare_expanded(self.shifted_means, self.precision)
        elif covariance_type == "tied":
            self.covariances = np.asarray(covariances, dtype=np.float64)
            self.factor = cholesky(self.covariances)
            logdet = log_det(self.factor, "tied", d)
            self.log_norm = np.full(k, -0.5 * (d * LOG_2PI + logdet))
            # whitened shifted means, (k, d): L^{-1} (mu_c - r)
            white = solve_triangular(self.factor, self.shifted_means.T, lower=True).T
            self.white_means = white
            self._prepare_expanded(white, np.ones((k, d)))
            # the linear discriminant: joint = z @ W + b - |L^-1 z|^2 / 2, and the last
            # term is shared by all classes, so rankings and posteriors need only z @ W + b
            self._lin_W = solve_triangular(self.factor, white.T, lower=True, trans="T")  # (d, k)
            self._lin_b = -0.5 * np.einsum("kd,kd->k", white, white)
            # rounding bound of z @ W + b: SAFETY * EPS * (max|z| @ |W| + |b|)
            scale = SAFETY * EPS
            self._lin_guard = (scale * np.abs(self._lin_W), scale * np.abs(self._lin_b))
        elif covariance_type == "full":
            self.covariances = np.asarray(covariances, dtype=np.float64)
            self.factors = cholesky(self.covariances, labels)
            self.log_norm = -0.5 * (d * LOG_2PI + log_det(self.factors, "full", d))
        else:
            raise ValueError(f"unknown covariance_type {covariance_type!r}")

    def _set_classes(
        self,
        means: np.ndarray,
        covariance_type: str,
        reference: np.ndarray,
        log_weight: np.ndarray | None,
    ) -> tuple[int, int]:
        """Store what every kind of class density shares; returns (k, d)."""
        self.covariance_type = covariance_type
        self.means = np.asarray(means, dtype=np.float64)
        k, d = self.means.shape
        self.n_features = d
        self.reference = np.asarray(reference, dtype=np.float64)
        self.log_weight = np.zeros(k) if log_weight is None else np.asarray(log_weight, float)
        return k, d

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
        # a class whose whole bound is within tolerance needs nothing; in the others,
        # the features carrying more than their share go direct
        over = bound.sum(axis=0) > ABS_TOL  # (k,)
        bad = (bound > ABS_TOL / self.n_features) & over
        tied = self.covariance_type == "tied"
        if tied:
            bad[:, over] = True
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

    # -------------------------------------------------------------- whole arrays
    def _use_kernel(self) -> bool:
        """Whether a compiled direct loop serves this model (numba present)."""
        if self.covariance_type == "full":
            return _kernels.available()
        return (
            self.covariance_type in ("diag", "spherical")
            and self.means.shape[0] <= DIRECT_MAX_CLASSES
            and _kernels.available()
        )

    def _rows(self, n: int) -> Iterator[slice]:
        """Row slices sized so that one chunk's work space is about 8 MiB."""
        width = max(self.n_features, self.means.shape[0])
        step = max(256, CHUNK_BYTES // (8 * width * 4))
        for start in range(0, n, step):
            yield slice(start, min(start + step, n))

    def _joint_chunk(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.log_density(X)
        # NaN can only come from squares that overflowed (|x| > 1e154): such a
        # density is 0, so its log is -inf
        np.nan_to_num(out, copy=False, nan=-np.inf, posinf=-np.inf, neginf=-np.inf)
        out += self.log_weight
        return out

    def joint(self, X: np.ndarray) -> np.ndarray:
        """log weight_c + log N(x | mu_c, Sigma_c), shape (n, k)."""
        if self._use_kernel():
            return self._kernel(X, _kernels.JOINT)
        out = np.empty((X.shape[0], self.means.shape[0]))
        return self._map_rows(X, self._joint_chunk, out)

    def log_posterior(self, X: np.ndarray) -> np.ndarray:
        """Normalised log posterior by log-sum-exp, shape (n, k)."""
        if self._use_linear_kernel():
            return self._linear(X, _kernels.LOG_POSTERIOR)
        if self._use_kernel():
            return self._kernel(X, _kernels.LOG_POSTERIOR)
        out = np.empty((X.shape[0], self.means.shape[0]))
        return self._map_rows(X, lambda rows: self._normalise(self._ranking_chunk(rows), rows), out)

    def posterior(self, X: np.ndarray) -> np.ndarray:
        """Posterior probabilities, shape (n, k); rows sum to one."""
        if self._use_linear_kernel():
            return self._linear(X, _kernels.POSTERIOR)
        if self._use_kernel():
            return self._kernel(X, _kernels.POSTERIOR)
        out = self.log_posterior(X)
        np.exp(out, out=out)
        return out

    def best(self, X: np.ndarray) -> np.ndarray:
        """Index of the class with the largest joint log density, shape (n,)."""
        if self._use_linear_kernel():
            return self._linear(X, _kernels.BEST)
        if self._use_kernel():
            const = self.log_norm + self.log_weight
            if self.covariance_type == "full":
                best = _kernels.full_best(X, self.means, self.factors, const)
            else:
                best = _kernels.diag_best(X, self.means, self.precision, const)
            lost = best < 0
            if lost.any():
                require_finite_rows(X, np.flatnonzero(lost))
                best[lost] = np.argmax(self._far_rows(X[lost]), axis=1)
            return best

        return self._map_rows(X, self._best_chunk, np.empty(X.shape[0], dtype=np.intp))

    def _best_chunk(self, rows: np.ndarray) -> np.ndarray:
        J = self._ranking_chunk(rows)
        lost = ~np.isfinite(J.max(axis=1))
        if lost.any():
            J[lost] = self._far_rows(rows[lost])
        return J.argmax(axis=1)

    def _use_linear_kernel(self) -> bool:
        """Whether tied posteriors and labels come from the compiled linear discriminant."""
        return (
            self.covariance_type == "tied"
            and self.means.shape[0] <= DIRECT_MAX_CLASSES
            and _kernels.available()
        )

    def _linear(self, X: np.ndarray, mode: int) -> np.ndarray:
        """Tied models through the compiled linear discriminant, in ``mode``.

        The rows it leaves (a block whose rounding bound fails, NaN or
        infinity) take the exact numpy path: whitening by the Cholesky factor.
        """
        guard = (*self._lin_guard, ABS_TOL)
        bias = self._lin_b + self.log_weight
        out = _kernels.linear_rows(X, self.reference, self._lin_W, bias, guard, mode)
        lost = out < 0 if mode == _kernels.BEST else np.isnan(out[:, 0])
        if not lost.any():
            return out
        rows = np.flatnonzero(lost)
        require_finite_rows(X, rows)
        part = X[rows]
        if mode == _kernels.BEST:
            out[rows] = self._best_chunk(part)
            return out
        logp = self._normalise(self._ranking_chunk(part), part)
        out[rows] = logp if mode == _kernels.LOG_POSTERIOR else np.exp(logp)
        return out

    def _map_rows(
        self, X: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], out: np.ndarray
    ) -> np.ndarray:
        """out[rows] = fn(X[rows]) chunk by chunk, on all cores with BLAS on one thread.

        Row chunks in threads (numpy releases the GIL) beat multi-threaded BLAS
        on these small matrix products, whose threads mostly wait on each other.
        """
        chunks = list(self._rows(X.shape[0]))
        workers = min(len(chunks), _usable_cores())

        def run(rows: slice) -> None:
            out[rows] = fn(X[rows])

        if workers <= 1:
            for rows in chunks:
                run(rows)
            return out
        with _kernels.one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(run, chunks):
                pass
        return out

    def _ranking_chunk(self, X: np.ndarray) -> np.ndarray:
        """Joint log densities up to a per-row constant (enough to rank and normalise).

        For tied covariances this is the linear discriminant, one matrix
        product, whenever its rounding bound allows; otherwise the joint.
        """
        if self.covariance_type != "tied":
            return self._joint_chunk(X)
        Z = np.subtract(X, self.reference, dtype=np.float64)
        zmax = np.abs(Z).max(axis=0)
        bound = SAFETY * EPS * (zmax @ np.abs(self._lin_W) + np.abs(self._lin_b))
        if not np.all(bound <= ABS_TOL):
            return self._joint_chunk(X)
        out = Z @ self._lin_W
        out += self._lin_b + self.log_weight
        return out

    def _kernel(self, X: np.ndarray, mode: int) -> np.ndarray:
        """The compiled direct loop; rows it could not resolve come back as NaN."""
        const = self.log_norm + self.log_weight
        if self.covariance_type == "full":
            out = _kernels.full_rows(X, self.means, self.factors, const, mode)
        else:
            out = _kernels.diag_rows(X, self.means, self.precision, const, mode)
        if mode == _kernels.JOINT:
            if np.isfinite(np.add.reduce(out, axis=None)):
                return out  # a finite sum: every entry finite (one cheap pass)
            lost = ~np.isfinite(out.max(axis=1))  # NaN, or every density underflowed
            if lost.any():
                require_finite_rows(X, np.flatnonzero(lost))
            # NaN only from squares that overflowed (|x| > 1e154): a density of 0
            np.nan_to_num(out, copy=False, nan=-np.inf, posinf=-np.inf, neginf=-np.inf)
            return out
        lost = np.isnan(out[:, 0])
        if lost.any():
            require_finite_rows(X, np.flatnonzero(lost))
            far = self._far_rows(X[lost])
            out[lost] = far if mode == _kernels.LOG_POSTERIOR else np.exp(far)
        return out

    def checks_input(self, evaluation: str) -> bool:
        """True when ``evaluation`` itself detects NaN and infinity in X (and says where).

        ``evaluation`` names the method: "joint", "log_posterior", "posterior"
        or "best".
        """
        if self._use_linear_kernel():
            return evaluation in ("log_posterior", "posterior", "best")
        return self._use_kernel()

    def _normalise(self, J: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Log-sum-exp normalisation of joint log densities, in place."""
        top = J.max(axis=1)
        lost = ~np.isfinite(top)
        if lost.any():
            J[lost] = self._far_rows(X[lost])
            top[lost] = 0.0
        J -= top[:, None]
        with np.errstate(under="ignore"):
            norm = np.log(np.exp(J).sum(axis=1))
        J -= norm[:, None]
        return J

    def _far_rows(self, X: np.ndarray) -> np.ndarray:
        """Log posterior of points so far away that every density underflows to 0.

        In that limit the class with the smallest Mahalanobis distance takes
        all the probability; the distances are compared in log space.
        """
        logq = self.log_mahalanobis(X)
        logq[:, ~np.isfinite(self.log_weight)] = np.inf
        winner = np.argmin(logq, axis=1)
        out = np.full(logq.shape, -np.inf)
        out[np.arange(X.shape[0]), winner] = 0.0
        return out
