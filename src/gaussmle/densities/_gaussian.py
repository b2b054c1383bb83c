"""Gaussian class densities, one class per covariance structure.

- diag / spherical (:class:`DiagFamily`, :class:`SphericalFamily`): the data
  and every mean are shifted by one reference point ``r`` (the mean of all
  training data), and the expanded square becomes two matrix products,
  ``Z^2 @ A + Z @ B + const``. Where that form would lose accuracy (a
  variance tiny next to the squared distances: the rounding error of each
  term is about ``eps * (z^2 + m^2) / var``), the affected (feature, class)
  terms are evaluated directly as ``(z - m)^2 / var``. The bound is computed
  per chunk from the statistics, so fast is never wrong.
- tied (:class:`TiedFamily`): one Cholesky factor, each chunk whitened once
  by a triangular solve; distances by the same expanded form in whitened
  coordinates with the same guard; rankings by the linear discriminant.
- full (:class:`FullFamily`): one Cholesky factor per class; each chunk's
  deviations from the class mean are whitened by a triangular solve. No
  inverse is ever formed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.linalg import solve_triangular

from ..covariance import LOG_2PI, Structure, cholesky, structure_for
from ..kernels import _kernels
from ._family import DirectKernel, Family, Kernel, LinearKernel, log_q, scaled_deviations
from ._student import StudentDiag, StudentFull

EPS = float(np.finfo(np.float64).eps)
#: Allowed worst-case rounding error of one class's log density (absolute).
ABS_TOL = 1e-11
#: Safety factor on the rounding bound of the expanded square.
SAFETY = 8.0
#: The structure of per-feature variances (k, d): how a diag family evaluates.
_PER_FEATURE = structure_for("diag")
#: Up to this many classes the compiled direct loop beats two matrix products.
DIRECT_MAX_CLASSES = 128


class _Expanded:
    """Coefficients of ``sum_j p_cj (z_j - m_cj)^2 = z^2 @ A + z @ B + c``, with its guard.

    ``per_class``: a term that fails the guard sends its whole class to the
    direct evaluation (tied: whitening mixes the features), else only the
    failing (feature, class) terms go direct.
    """

    def __init__(self, m: np.ndarray, p: np.ndarray, per_class: bool) -> None:
        self.m, self.p, self.per_class = m, p, per_class
        self.A = (-0.5 * p).T.copy()  # (d, k)
        self.B = (m * p).T.copy()  # (d, k)
        self.term_const = -0.5 * m * m * p  # (k, d): the constant part of each term
        self.const = self.term_const.sum(axis=1)  # (k,)
        self.m2p = (m * m * p).T  # (d, k) for the error bound

    def __call__(self, Z: np.ndarray, direct: Any) -> np.ndarray:
        """-0.5 * sum_j p_cj (z_j - m_cj)^2 for every row and class, guarded.

        Terms whose rounding bound exceeds the tolerance are left out of the
        matrix products (their coefficients zeroed for this chunk) and
        evaluated by ``direct(c, cols)`` instead, which returns
        -0.5 * (their sum) for class c from the raw rows.
        """
        d = Z.shape[1]
        zmax2 = np.square(np.abs(Z).max(axis=0)) if Z.shape[0] else np.zeros(d)
        bound = SAFETY * EPS * (zmax2[:, None] * self.p.T + self.m2p)  # (d, k)
        # a class whose whole bound is within tolerance needs nothing; in the others,
        # the features carrying more than their share go direct
        over = bound.sum(axis=0) > ABS_TOL  # (k,)
        bad = (bound > ABS_TOL / max(d, 1)) & over
        if self.per_class:
            bad[:, over] = True
        A, B, const = self.A, self.B, self.const
        if bad.any():
            A = np.where(bad, 0.0, A)
            B = np.where(bad, 0.0, B)
            # summed afresh: subtracting the bad terms from the full sum would cancel
            const = np.where(bad.T, 0.0, self.term_const).sum(axis=1)
        out = (Z * Z) @ A
        out += Z @ B
        out += const
        for c in np.flatnonzero(bad.any(axis=0)):
            out[:, c] += direct(c, np.flatnonzero(bad[:, c]))
        return out


class DiagFamily(Family):
    """Gaussians with diagonal covariances (naive Bayes): variances (k, d).

    Examples
    --------
    >>> fam = DiagFamily(np.array([[0.0], [2.0]]), np.array([[1.0], [1.0]]), np.array([1.0]))
    >>> fam.log_density(np.array([[0.0]])).round(4).tolist()
    [[-0.9189, -2.9189]]
    """

    structure: ClassVar[Structure] = structure_for("diag")

    def __init__(
        self, means: np.ndarray, variances: np.ndarray, reference: np.ndarray, labels: Any = None
    ) -> None:
        self.means = np.asarray(means, dtype=np.float64)
        k, d = self.means.shape
        self.reference = np.asarray(reference, dtype=np.float64)
        var = np.broadcast_to(np.asarray(variances, dtype=np.float64), (k, d))
        self.covariances = var  # per-feature variances (k, d)
        self.precision = 1.0 / var  # (k, d)
        # per-feature variances (k, d), spherical ones too (broadcast)
        self.log_norm = -0.5 * (d * LOG_2PI + _PER_FEATURE.log_det(var, d))
        self._expanded = _Expanded(self.means - self.reference, self.precision, per_class=False)

    def log_density(self, X: np.ndarray) -> np.ndarray:
        Z = np.subtract(X, self.reference, dtype=np.float64)

        def direct(c: int, cols: np.ndarray) -> np.ndarray:
            dev = np.subtract(X[:, cols], self.means[c, cols], dtype=np.float64)
            return -0.5 * ((dev * dev) @ self.precision[c, cols])

        out = self._expanded(Z, direct)
        out += self.log_norm
        return out

    def log_mahalanobis(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_classes))
        for c in range(self.n_classes):
            u, scale = scaled_deviations(X, self.means[c])
            out[:, c] = log_q(np.einsum("ij,ij->i", u * self.precision[c], u), scale)
        return out

    def marginal(self, observed: np.ndarray) -> DiagFamily:
        obs = np.flatnonzero(observed)
        return DiagFamily(self.means[:, obs], self.covariances[:, obs], self.reference[obs])

    def compiled(self, log_weight: np.ndarray) -> Kernel | None:
        if self.n_classes > DIRECT_MAX_CLASSES or not _kernels.available():
            return None
        const = self.log_norm + log_weight
        return DirectKernel(
            _kernels.diag_rows, _kernels.diag_best, self.means, self.precision, const
        )

    @classmethod
    def student(
        cls, location: np.ndarray, scale: np.ndarray, df: np.ndarray, labels: Any = None
    ) -> Family:
        """The posterior predictive (Student t) densities of this structure."""
        return StudentDiag(location, scale, df)


class SphericalFamily(DiagFamily):
    """Gaussians with one variance per class: variances (k,), evaluated as diag."""

    structure: ClassVar[Structure] = structure_for("spherical")

    @classmethod
    def from_parameters(
        cls, means: np.ndarray, covariances: np.ndarray, reference: np.ndarray, labels: Any = None
    ) -> DiagFamily:
        """From GaussianMixture-shaped parameters (spherical: one variance per class, (k,))."""
        return cls(means, np.asarray(covariances, dtype=np.float64)[:, None], reference)

    @classmethod
    def student(
        cls, location: np.ndarray, scale: np.ndarray, df: np.ndarray, labels: Any = None
    ) -> Family:
        """d-variate t densities with scale matrices ``s_c I``."""
        k, d = np.shape(location)
        s = np.asarray(scale, dtype=np.float64).reshape(k, d)
        return StudentFull(location, s[:, :, None] * np.eye(d), df, labels)


class TiedFamily(Family):
    """Gaussians sharing one covariance matrix (LDA): covariance (d, d).

    Rankings and posteriors use the linear discriminant
    ``joint = z @ W + b - |L^-1 z|^2 / 2`` without its last term, which all
    classes share, wherever its rounding bound allows.

    Examples
    --------
    >>> fam = TiedFamily(np.array([[0.0], [2.0]]), np.array([[1.0]]), np.array([1.0]))
    >>> fam.log_density(np.array([[0.0]])).round(4).tolist()
    [[-0.9189, -2.9189]]
    """

    structure: ClassVar[Structure] = structure_for("tied")

    def __init__(
        self, means: np.ndarray, covariance: np.ndarray, reference: np.ndarray, labels: Any = None
    ) -> None:
        self.means = np.asarray(means, dtype=np.float64)
        k, d = self.means.shape
        self.reference = np.asarray(reference, dtype=np.float64)
        self.covariances = np.asarray(covariance, dtype=np.float64)
        self.factor = cholesky(self.covariances)
        self.log_norm = np.full(k, -0.5 * (d * LOG_2PI + self.structure.log_det(self.factor, d)))
        # whitened shifted means, (k, d): L^{-1} (mu_c - r)
        white = solve_triangular(self.factor, (self.means - self.reference).T, lower=True).T
        self._expanded = _Expanded(white, np.ones((k, d)), per_class=True)
        # the linear discriminant: joint = z @ W + b - |L^-1 z|^2 / 2, and the last
        # term is shared by all classes, so rankings and posteriors need only z @ W + b
        self.lin_W = solve_triangular(self.factor, white.T, lower=True, trans="T")  # (d, k)
        self.lin_b = -0.5 * np.einsum("kd,kd->k", white, white)
        # rounding bound of z @ W + b: SAFETY * EPS * (max|z| @ |W| + |b|)
        scale = SAFETY * EPS
        self.lin_guard = (scale * np.abs(self.lin_W), scale * np.abs(self.lin_b))

    def _whitened_sq(self, X: np.ndarray, c: int) -> np.ndarray:
        dev = np.subtract(X, self.means[c], dtype=np.float64)
        white = solve_triangular(self.factor, dev.T, lower=True, check_finite=False)
        return np.einsum("ij,ij->j", white, white)

    def log_density(self, X: np.ndarray) -> np.ndarray:
        Z = np.subtract(X, self.reference, dtype=np.float64)
        W = solve_triangular(self.factor, Z.T, lower=True, check_finite=False).T
        out = self._expanded(
            np.ascontiguousarray(W), lambda c, cols: -0.5 * self._whitened_sq(X, c)
        )
        out += self.log_norm
        return out

    def ranking(self, X: np.ndarray) -> np.ndarray:
        """The linear discriminant ``z @ W + b`` or the joint, per row the more exact.

        Both rank the classes exactly as the joint log density does (they
        differ by a per-row constant). The rounding error of the linear form
        grows like ``|z| |W|``, that of the joint like the squared distance
        ``q``: near the classes the joint (its guard passes), far from them
        the linear form, where the joint's class differences drown in its
        rounding (at 1e17 from the data every class had the same joint) or
        its squares overflow.
        """
        Z = np.subtract(X, self.reference, dtype=np.float64)
        lin = Z @ self.lin_W
        lin += self.lin_b
        # rounding bound of the linear form, SAFETY * EPS * (|z| @ |W| + |b|): first for
        # the whole chunk (cheap), then, only where that fails, row by row
        zmax = np.abs(Z).max(axis=0) if Z.shape[0] else np.zeros(self.n_features)
        if np.all(zmax @ self.lin_guard[0] + self.lin_guard[1] <= ABS_TOL):
            return lin
        lin_err = (np.abs(Z) @ self.lin_guard[0] + self.lin_guard[1]).max(axis=1, initial=0.0)
        J = self.log_density(X)
        with np.errstate(invalid="ignore"):
            q = -2.0 * (J - self.log_norm)  # squared distances; inf where they overflowed
            joint_err = SAFETY * EPS * self.n_features * q.max(axis=1, initial=0.0)
            use_lin = lin_err < np.where(np.isnan(joint_err), np.inf, joint_err)
        J[use_lin] = lin[use_lin]
        # a score that overflowed ranks nothing: the whole row goes to far_ranking
        J[~np.isfinite(J).all(axis=1)] = -np.inf
        return J

    def far_ranking(self, X: np.ndarray) -> np.ndarray:
        """Where even ``z @ W`` overflows: the linear form of ``z / max|z|``, its limit."""
        u, scale = scaled_deviations(X, self.reference)
        return u @ self.lin_W + self.lin_b / scale[:, None]

    def log_mahalanobis(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_classes))
        for c in range(self.n_classes):
            u, scale = scaled_deviations(X, self.means[c])
            w = solve_triangular(self.factor, u.T, lower=True, check_finite=False)
            out[:, c] = log_q(np.einsum("ij,ij->j", w, w), scale)
        return out

    def marginal(self, observed: np.ndarray) -> TiedFamily:
        obs = np.flatnonzero(observed)
        cov = self.covariances[obs][:, obs]
        return TiedFamily(self.means[:, obs], cov, self.reference[obs])

    def compiled(self, log_weight: np.ndarray) -> Kernel | None:
        if self.n_classes > DIRECT_MAX_CLASSES or not _kernels.available():
            return None
        guard = (*self.lin_guard, ABS_TOL)
        return LinearKernel(self.reference, self.lin_W, self.lin_b + log_weight, guard)

    @classmethod
    def student(
        cls, location: np.ndarray, scale: np.ndarray, df: np.ndarray, labels: Any = None
    ) -> Family:
        """The posterior predictive (d-variate t) densities of this structure."""
        return StudentFull(location, scale, df, labels)


class FullFamily(Family):
    """Gaussians with a covariance matrix each (QDA): covariances (k, d, d).

    Examples
    --------
    >>> fam = FullFamily(np.array([[0.0], [2.0]]), np.ones((2, 1, 1)), np.array([1.0]))
    >>> fam.log_density(np.array([[0.0]])).round(4).tolist()
    [[-0.9189, -2.9189]]
    """

    structure: ClassVar[Structure] = structure_for("full")

    def __init__(
        self, means: np.ndarray, covariances: np.ndarray, reference: np.ndarray, labels: Any = None
    ) -> None:
        self.means = np.asarray(means, dtype=np.float64)
        d = self.means.shape[1]
        self.reference = np.asarray(reference, dtype=np.float64)
        self.covariances = np.asarray(covariances, dtype=np.float64)
        self.factors = cholesky(self.covariances, labels)
        self.log_norm = -0.5 * (d * LOG_2PI + self.structure.log_det(self.factors, d))

    def log_density(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_classes))
        for c, factor in enumerate(self.factors):
            dev = np.subtract(X, self.means[c], dtype=np.float64)
            white = solve_triangular(factor, dev.T, lower=True, check_finite=False)
            out[:, c] = -0.5 * np.einsum("ij,ij->j", white, white)
        out += self.log_norm
        return out

    def log_mahalanobis(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((X.shape[0], self.n_classes))
        for c, factor in enumerate(self.factors):
            u, scale = scaled_deviations(X, self.means[c])
            w = solve_triangular(factor, u.T, lower=True, check_finite=False)
            out[:, c] = log_q(np.einsum("ij,ij->j", w, w), scale)
        return out

    def marginal(self, observed: np.ndarray) -> FullFamily:
        obs = np.flatnonzero(observed)
        cov = self.covariances[:, obs][:, :, obs]
        return FullFamily(self.means[:, obs], cov, self.reference[obs])

    def compiled(self, log_weight: np.ndarray) -> Kernel | None:
        if not _kernels.available():
            return None
        const = self.log_norm + log_weight
        return DirectKernel(_kernels.full_rows, _kernels.full_best, self.means, self.factors, const)

    @classmethod
    def student(
        cls, location: np.ndarray, scale: np.ndarray, df: np.ndarray, labels: Any = None
    ) -> Family:
        """The posterior predictive (d-variate t) densities of this structure."""
        return StudentFull(location, scale, df, labels)


class NoFeatures(Family):
    """k densities on no features (every feature of a row missing): log density 0.

    Evaluated, only the class weights speak.
    """

    def __init__(self, n_classes: int) -> None:
        self.means = np.zeros((n_classes, 0))
        self.reference = np.zeros(0)
        self.log_norm = np.zeros(n_classes)

    def log_density(self, X: np.ndarray) -> np.ndarray:
        return np.zeros((X.shape[0], self.n_classes))

    def log_mahalanobis(self, X: np.ndarray) -> np.ndarray:
        return np.full((X.shape[0], self.n_classes), -np.inf)

    def marginal(self, observed: np.ndarray) -> NoFeatures:
        return self
