"""A fitted Gaussian: densities, the score, Fisher information and uncertainty.

For a sample ``x_1..x_N`` the log-likelihood of a diagonal Gaussian is

    LL(mu, s2) = -N/2 log(2 pi) - N/2 sum_j log s2_j - sum_n sum_j (x_nj - mu_j)^2 / (2 s2_j)

Its gradient (the *score*) is ``dLL/dmu = sum (x - mu) / s2`` and
``dLL/ds2 = (1 / (2 s2)) (-N + sum (x - mu)^2 / s2)``; both vanish at
``mu = mean(x)`` and ``s2 = mean((x - mu)^2)``, the MLE (divisor N). The
log-likelihood is concave in ``mu`` and in the precision ``1/s2``, so this
stationary point is the maximum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import (
    as_float_array,
    check_choice,
    check_level,
    check_n_features,
    check_sample_weight,
)
from .covariance import LOG_2PI, cholesky, log_det, mahalanobis_sq, whiten

GAUSSIAN_TYPES = ("diag", "full", "spherical")


@dataclass(frozen=True, eq=False)
class Gaussian:
    """A multivariate Gaussian with a diagonal, full or spherical covariance.

    Usually made by :func:`gaussmle.fit`. ``n`` is the (weighted) number of
    samples it was estimated from; it sets the standard errors.

    Parameters
    ----------
    mean : ndarray, shape (d,)
    covariance : ndarray
        (d,) variances for ``"diag"``, (d, d) for ``"full"``, a scalar for ``"spherical"``.
    covariance_type : {"diag", "full", "spherical"}
    n : float
        Sum of the sample weights behind the estimate.

    Examples
    --------
    >>> g = Gaussian(np.array([0.0]), np.array([1.0]), "diag", n=10)
    >>> round(float(g.logpdf([[0.0]])[0]), 6)
    -0.918939
    >>> g
    Gaussian(mean=[0.], covariance(diag)=[1.], n=10)
    """

    mean: np.ndarray
    covariance: np.ndarray
    covariance_type: str = "diag"
    n: float = float("nan")
    _factor: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_choice(self.covariance_type, GAUSSIAN_TYPES, name="covariance_type")
        mean = np.array(self.mean, dtype=np.float64).reshape(-1)
        cov = np.array(self.covariance, dtype=np.float64)
        d = mean.shape[0]
        expected = {"diag": (d,), "full": (d, d), "spherical": ()}[self.covariance_type]
        if self.covariance_type == "spherical":
            cov = cov.reshape(())
        if cov.shape != expected:
            raise ValueError(
                f"a {self.covariance_type!r} covariance for {d} features must have shape "
                f"{expected}, got {cov.shape}"
            )
        if self.covariance_type == "full":
            factor = cholesky(cov)
        else:
            if not np.all(cov > 0):
                raise ValueError(
                    "the variance is zero for some feature (a constant feature, or a single "
                    "sample); pass more data or var_smoothing > 0"
                )
            factor = np.sqrt(cov)
        for _name, value in (("mean", mean), ("covariance", cov)):
            value.flags.writeable = False
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "covariance", cov)
        object.__setattr__(self, "n", float(self.n))
        object.__setattr__(self, "_factor", factor)

    # ------------------------------------------------------------------ basics
    @property
    def n_features(self) -> int:
        """Number of features ``d``."""
        return int(self.mean.shape[0])

    @property
    def variance(self) -> np.ndarray:
        """Per-feature variances, shape (d,)."""
        if self.covariance_type == "full":
            return np.diagonal(self.covariance).copy()
        return np.broadcast_to(self.covariance, (self.n_features,)).copy()

    @property
    def n_parameters(self) -> int:
        """Free parameters: diag 2d, full d + d(d+1)/2, spherical d + 1.

        Examples
        --------
        >>> Gaussian(np.zeros(3), np.eye(3), "full").n_parameters
        9
        """
        d = self.n_features
        return {"diag": 2 * d, "full": d + d * (d + 1) // 2, "spherical": d + 1}[
            self.covariance_type
        ]

    def __repr__(self) -> str:
        def fmt(a: np.ndarray) -> str:
            return np.array2string(np.asarray(a), precision=4, separator=", ", threshold=12)

        n = int(self.n) if float(self.n).is_integer() else round(self.n, 3)
        return (
            f"Gaussian(mean={fmt(self.mean)}, covariance({self.covariance_type})="
            f"{fmt(self.covariance)}, n={n})"
        )

    def _check_X(self, X: Any) -> np.ndarray:
        X = as_float_array(X)
        check_n_features(X.shape[1], self.n_features, what="this Gaussian")
        return X

    # ------------------------------------------------------------------ densities
    def logpdf(self, X: Any) -> np.ndarray:
        """Log density of each row of X, shape (n,).

        Examples
        --------
        >>> g = Gaussian(np.zeros(2), np.eye(2), "full")
        >>> round(float(g.logpdf([[0.0, 0.0]])[0]), 6)
        -1.837877
        """
        X = self._check_X(X)
        d = self.n_features
        maha = mahalanobis_sq(X, self.mean, self._factor_or_cov(), self.covariance_type)
        logdet = log_det(self._factor_or_cov(), self.covariance_type, d)
        return -0.5 * (d * LOG_2PI + logdet + maha)

    def _factor_or_cov(self) -> np.ndarray:
        return self._factor if self.covariance_type == "full" else self.covariance

    def loglik(self, X: Any, sample_weight: Any = None) -> float:
        """Total (weighted) log-likelihood of the rows of X.

        Examples
        --------
        >>> g = Gaussian(np.zeros(1), np.ones(1), "diag")
        >>> round(g.loglik([[0.0], [0.0]]), 6)
        -1.837877
        """
        lp = self.logpdf(X)
        w = check_sample_weight(sample_weight, lp.shape[0])
        return float(lp.sum() if w is None else w @ lp)

    def aic(self, X: Any) -> float:
        """Akaike information criterion ``2 p - 2 LL`` on X."""
        return 2.0 * self.n_parameters - 2.0 * self.loglik(X)

    def bic(self, X: Any) -> float:
        """Bayesian information criterion ``p log(N) - 2 LL`` on X (N rows)."""
        X = self._check_X(X)
        return self.n_parameters * float(np.log(X.shape[0])) - 2.0 * self.loglik(X)

    # ------------------------------------------------------------------ the derivation
    def score(self, X: Any, sample_weight: Any = None) -> dict[str, np.ndarray]:
        """Gradient of the total log-likelihood of X at these parameters.

        Returns ``{"mean": dLL/dmu, "covariance": dLL/dSigma}`` with the
        covariance derivative in the shape of :attr:`covariance`:

        - diag: ``dLL/ds2_j = (1/(2 s2_j)) (-N + sum (x_j - mu_j)^2 / s2_j)``;
        - spherical: ``dLL/ds2 = (1/(2 s2)) (-N d + sum |x - mu|^2 / s2)``;
        - full: ``dLL/dSigma = (1/2) (-N P + P S P)`` with ``P = Sigma^-1`` and
          ``S`` the scatter about ``mu`` (the derivative with respect to a
          symmetric matrix treated entrywise as free).

        Both parts are zero at the MLE of the same data.

        Examples
        --------
        >>> X = np.array([[1.0], [2.0], [6.0]])
        >>> g = Gaussian(X.mean(0), X.var(0), "diag", n=3)
        >>> {k: bool(np.abs(v).max() < 1e-12) for k, v in g.score(X).items()}
        {'mean': True, 'covariance': True}
        """
        X = self._check_X(X)
        w = check_sample_weight(sample_weight, X.shape[0])
        w = np.ones(X.shape[0]) if w is None else w
        N = float(w.sum())
        dev = np.subtract(X, self.mean, dtype=np.float64)
        sum_dev = w @ dev
        if self.covariance_type == "diag":
            s2 = self.covariance
            ss = w @ (dev * dev)
            return {"mean": sum_dev / s2, "covariance": (-N + ss / s2) / (2.0 * s2)}
        if self.covariance_type == "spherical":
            s2 = float(self.covariance)
            ss = float(w @ np.einsum("ij,ij->i", dev, dev))
            d = self.n_features
            return {"mean": sum_dev / s2, "covariance": np.array((-N * d + ss / s2) / (2 * s2))}
        eye = np.eye(self.n_features)
        precision = _cho_solve(self._factor, eye)
        scatter = (dev * w[:, None]).T @ dev
        p_s_p = precision @ scatter @ precision
        grad_cov = 0.5 * (-N * precision + p_s_p)
        return {"mean": precision @ sum_dev, "covariance": 0.5 * (grad_cov + grad_cov.T)}

    def fisher_information(self) -> dict[str, np.ndarray]:
        """Expected Fisher information of ``n`` observations, per parameter block.

        Mean and covariance parameters are orthogonal (the cross block is zero).

        - diag: ``{"mean": n / s2, "covariance": n / (2 s2^2)}`` (the diagonals
          of diagonal matrices), shape (d,) each;
        - spherical: ``{"mean": n / s2 (d,), "covariance": n d / (2 s2^2)}``;
        - full: ``{"mean": n Sigma^-1}`` (d, d) and ``{"covariance": ...}`` of shape
          (m, m), m = d(d+1)/2, over the lower-triangle entries of Sigma in
          ``np.tril_indices(d)`` order: ``(n/2) D^T (P kron P) D`` with ``D`` the
          duplication matrix.

        Examples
        --------
        >>> g = Gaussian(np.zeros(1), np.array([2.0]), "diag", n=10)
        >>> {k: v.tolist() for k, v in g.fisher_information().items()}
        {'mean': [5.0], 'covariance': [1.25]}
        """
        n = self._require_n()
        if self.covariance_type == "diag":
            s2 = self.covariance
            return {"mean": n / s2, "covariance": n / (2.0 * s2 * s2)}
        if self.covariance_type == "spherical":
            s2 = float(self.covariance)
            d = self.n_features
            return {
                "mean": np.full(d, n / s2),
                "covariance": np.array(n * d / (2.0 * s2 * s2)),
            }
        precision = _cho_solve(self._factor, np.eye(self.n_features))
        dup = duplication_matrix(self.n_features)
        info_cov = 0.5 * n * dup.T @ np.kron(precision, precision) @ dup
        return {"mean": n * precision, "covariance": info_cov}

    def standard_errors(self) -> dict[str, np.ndarray]:
        """Asymptotic standard errors of the MLE (inverse Fisher information).

        - diag: ``SE(mu) = s / sqrt(n)``, ``SE(s2) = s2 sqrt(2 / n)``;
        - spherical: ``SE(mu_j) = s / sqrt(n)``, ``SE(s2) = s2 sqrt(2 / (n d))``;
        - full: ``SE(mu_j) = sqrt(Sigma_jj / n)``,
          ``SE(Sigma_ij) = sqrt((Sigma_ii Sigma_jj + Sigma_ij^2) / n)`` (d, d).

        Examples
        --------
        >>> g = Gaussian(np.zeros(1), np.array([4.0]), "diag", n=8)
        >>> {k: v.tolist() for k, v in g.standard_errors().items()}
        {'mean': [0.7071067811865476], 'covariance': [2.0]}
        """
        n = self._require_n()
        if self.covariance_type == "diag":
            s2 = self.covariance
            return {"mean": np.sqrt(s2 / n), "covariance": s2 * np.sqrt(2.0 / n)}
        if self.covariance_type == "spherical":
            s2 = float(self.covariance)
            d = self.n_features
            return {
                "mean": np.full(d, np.sqrt(s2 / n)),
                "covariance": np.array(s2 * np.sqrt(2.0 / (n * d))),
            }
        cov = self.covariance
        var = np.diagonal(cov)
        return {
            "mean": np.sqrt(var / n),
            "covariance": np.sqrt((np.outer(var, var) + cov * cov) / n),
        }

    def confidence_intervals(self, level: float = 0.95) -> dict[str, np.ndarray]:
        """Confidence intervals for the mean and covariance parameters.

        Exact where the sampling distribution is known (data truly Gaussian,
        unit weights): each mean uses Student's t with ``n - 1`` degrees of
        freedom (``d (n - 1)`` for spherical, whose variance is pooled), and
        each variance uses the chi-square law of ``n s2_mle / s2``. The
        off-diagonal covariances of a full model use the asymptotic normal
        interval ``Sigma_ij +- z SE(Sigma_ij)``. Each array has a trailing
        axis of (lower, upper).

        Examples
        --------
        >>> X = np.array([[1.0], [2.0], [3.0], [4.0]])
        >>> ci = Gaussian(X.mean(0), X.var(0), "diag", n=4).confidence_intervals()
        >>> ci["mean"].round(3).tolist()
        [[0.446, 4.554]]
        """
        from scipy import stats as sps  # deferred: scipy.stats is slow to import

        level = check_level(level)
        n = self._require_n()
        if n <= 1:
            raise ValueError(
                f"confidence intervals need more than one sample (n = {n:g}); add data"
            )
        alpha = 1.0 - level
        d = self.n_features
        df = d * (n - 1.0) if self.covariance_type == "spherical" else n - 1.0
        t = sps.t.ppf(1.0 - alpha / 2.0, df)
        chi_lo, chi_hi = sps.chi2.ppf([1.0 - alpha / 2.0, alpha / 2.0], df)
        # unbiased scale of each mean: s2_mle * n / df_pooled, divided by n
        mean_var = self.variance * (n * (d if self.covariance_type == "spherical" else 1))
        mean_half = t * np.sqrt(mean_var / df / n)
        mean_ci = np.stack([self.mean - mean_half, self.mean + mean_half], axis=-1)
        # chi-square interval of a variance: total sum of squares / quantiles
        dof_sum = (n * d) if self.covariance_type == "spherical" else n
        if self.covariance_type == "full":
            cov = self.covariance
            z = sps.norm.ppf(1.0 - alpha / 2.0)
            se = self.standard_errors()["covariance"]
            cov_ci = np.stack([cov - z * se, cov + z * se], axis=-1)
            var = np.diagonal(cov)
            idx = np.arange(d)
            cov_ci[idx, idx, 0] = n * var / chi_lo
            cov_ci[idx, idx, 1] = n * var / chi_hi
        else:
            ss = np.asarray(self.covariance) * dof_sum
            cov_ci = np.stack([ss / chi_lo, ss / chi_hi], axis=-1)
        return {"mean": mean_ci, "covariance": cov_ci}

    def _require_n(self) -> float:
        if not np.isfinite(self.n) or self.n <= 0:
            raise ValueError(
                "this Gaussian does not know how many samples it was estimated from; "
                "create it with gaussmle.fit or pass n="
            )
        return self.n

    def summary(self, X: Any = None, *, level: float = 0.95) -> Any:
        """Fit statistics, estimates with SEs and intervals, and tests (a ``Summary``)."""
        from .summary import summarize

        return summarize(self, X, level=level)

    # ------------------------------------------------------------------ simulation
    def sample(self, n_samples: int, random_state: Any = None) -> np.ndarray:
        """Draw ``n_samples`` rows from this Gaussian, shape (n_samples, d).

        Examples
        --------
        >>> g = Gaussian(np.array([5.0, 0.0]), np.array([1.0, 1.0]), "diag")
        >>> g.sample(3, random_state=0).shape
        (3, 2)
        """
        rng = np.random.default_rng(random_state)
        z = rng.standard_normal((int(n_samples), self.n_features))
        if self.covariance_type == "full":
            return self.mean + z @ self._factor.T
        return self.mean + z * self._factor

    def whiten(self, X: Any) -> np.ndarray:
        """Whitened deviations: standard normal rows if X comes from this Gaussian."""
        X = self._check_X(X)
        if self.covariance_type == "full":
            return whiten(X, self.mean, self._factor)
        return np.subtract(X, self.mean, dtype=np.float64) / self._factor


def _cho_solve(factor: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``(L L^T) Y = B`` with two triangular solves."""
    from scipy.linalg import cho_solve

    return cho_solve((factor, True), B, check_finite=False)


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
