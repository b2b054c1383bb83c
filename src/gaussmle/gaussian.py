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
from .covariance import LOG_2PI, Structure, duplication_matrix, structure_for

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
    _structure: Structure = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_choice(self.covariance_type, GAUSSIAN_TYPES, name="covariance_type")
        structure = structure_for(self.covariance_type)
        mean = np.array(self.mean, dtype=np.float64).reshape(-1)
        cov = np.array(self.covariance, dtype=np.float64)
        d = mean.shape[0]
        expected = structure.single_shape(d)
        if not expected:  # spherical: one variance, given in any shape of one value
            cov = cov.reshape(())
        if cov.shape != expected:
            raise ValueError(
                f"a {self.covariance_type!r} covariance for {d} features must have shape "
                f"{expected}, got {cov.shape}"
            )
        factor = structure.factor(cov)
        for _name, value in (("mean", mean), ("covariance", cov)):
            value.flags.writeable = False
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "covariance", cov)
        object.__setattr__(self, "n", float(self.n))
        object.__setattr__(self, "_factor", factor)
        object.__setattr__(self, "_structure", structure)

    # ------------------------------------------------------------------ basics
    @property
    def n_features(self) -> int:
        """Number of features ``d``."""
        return int(self.mean.shape[0])

    @property
    def variance(self) -> np.ndarray:
        """Per-feature variances, shape (d,)."""
        return self._structure.single_variance(self.covariance, self.n_features)

    @property
    def n_parameters(self) -> int:
        """Free parameters: diag 2d, full d + d(d+1)/2, spherical d + 1.

        Examples
        --------
        >>> Gaussian(np.zeros(3), np.eye(3), "full").n_parameters
        9
        """
        d = self.n_features
        return d + self._structure.n_parameters(1, d)

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
        metric = self._structure.metric(self.covariance, self._factor)
        maha = self._structure.mahalanobis_sq(X, self.mean, metric)
        logdet = self._structure.log_det(metric, d)
        return -0.5 * (d * LOG_2PI + logdet + maha)

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
        dev = np.subtract(X, self.mean, dtype=np.float64)
        return self._structure.score(dev, w, self.covariance, self._factor)

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
        return self._structure.fisher_information(n, self.covariance, self._factor, self.n_features)

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
        return self._structure.standard_errors(n, self.covariance, self.n_features)

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
        pooled = self._structure.pooled_values(d)  # values per variance: spherical d
        df = pooled * (n - 1.0)
        t = sps.t.ppf(1.0 - alpha / 2.0, df)
        chi_lo, chi_hi = sps.chi2.ppf([1.0 - alpha / 2.0, alpha / 2.0], df)
        # unbiased scale of each mean: s2_mle * n / df_pooled, divided by n
        mean_var = self.variance * (n * pooled)
        mean_half = t * np.sqrt(mean_var / df / n)
        mean_ci = np.stack([self.mean - mean_half, self.mean + mean_half], axis=-1)
        cov_ci = self._structure.covariance_interval(self.covariance, n, d, (chi_lo, chi_hi), alpha)
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
        return self.mean + self._structure.colour(z, self._factor)

    def whiten(self, X: Any) -> np.ndarray:
        """Whitened deviations: standard normal rows if X comes from this Gaussian."""
        X = self._check_X(X)
        return self._structure.whiten(X, self.mean, self._factor)


__all__ = ["GAUSSIAN_TYPES", "Gaussian", "duplication_matrix"]
