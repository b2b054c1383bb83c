"""Maximum likelihood estimation of one Gaussian from data or from statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._spread import TINY_VARIANCE, check_spread, tiny_spreads
from ._validation import check_choice
from .covariance import structure_for, variance_floor
from .gaussian import GAUSSIAN_TYPES, Gaussian
from .prior import map_estimate
from .stats import GaussianStats


def fit(
    X: Any,
    covariance_type: str = "diag",
    sample_weight: Any = None,
    *,
    var_smoothing: float = 0.0,
    unbiased: bool = False,
    estimator: str = "mle",
    prior: Any = None,
) -> Gaussian:
    """Maximum likelihood (or MAP) estimate of a Gaussian.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features) or (n_samples,)
        The data; a 1-D array is one feature. float32 stays float32 in memory
        but the statistics are accumulated in float64.
    covariance_type : {"diag", "full", "spherical"}
        Independent features with their own variances, a full covariance
        matrix, or one variance shared by all features.
    sample_weight : array-like, shape (n_samples,), optional
        Non-negative weights; an integer weight counts as that many copies of the row.
    var_smoothing : float, default 0
        Adds ``var_smoothing * (largest variance)`` to every variance, as in
        scikit-learn's GaussianNB; keeps a constant feature usable. When all
        data are constant, adds ``var_smoothing`` itself: the same rule as
        :class:`~gaussmle.GaussianClassifier`
        (:func:`gaussmle.covariance.variance_floor`).
    unbiased : bool, default False
        Divide by ``N - 1`` instead of ``N``. This is *not* the MLE; use it
        only when you want the unbiased estimator of the variance.
    estimator : {"mle", "map"}, default "mle"
        ``"map"`` gives the posterior mode under a conjugate ``prior``
        (Normal-Inverse-Gamma for diag/spherical, Normal-Inverse-Wishart for
        full; see :mod:`gaussmle.prior`); by default a weak prior centred on
        the data itself, so a single sample still gets a positive variance.
    prior : ConjugatePrior or dict, optional

    Returns
    -------
    Gaussian

    Examples
    --------
    >>> import gaussmle
    >>> g = gaussmle.fit([[1.0, 10.0], [2.0, 10.5], [3.0, 11.5]])
    >>> g.mean.tolist()
    [2.0, 10.666666666666666]
    >>> g.covariance.round(4).tolist()
    [0.6667, 0.3889]
    """
    check_choice(covariance_type, GAUSSIAN_TYPES, name="covariance_type")
    if _is_dask(X):
        from .dask_backend import stats_from_dask

        kind = _stats_kind(covariance_type)
        stats = stats_from_dask(X, sample_weight, kind=kind, refuse_tiny_spread=True)
    else:
        stats = GaussianStats.from_data(X, sample_weight, kind=_stats_kind(covariance_type))
        variance = stats.to_diag().variance
        if np.any(variance < TINY_VARIANCE):  # values that differ by too little to square
            check_spread(tiny_spreads(np.asarray(X, dtype=np.float64), variance), variance)
    check_choice(estimator, ("mle", "map"), name="estimator")
    if estimator == "map":
        mean, cov = map_estimate(stats, covariance_type, prior)
        g = Gaussian(mean, cov, covariance_type, n=float(stats.count))
        object.__setattr__(g, "estimator", "map")  # as a loaded model file marks it
        return g
    return gaussian_from_stats(
        stats, covariance_type, var_smoothing=var_smoothing, unbiased=unbiased
    )


def _stats_kind(covariance_type: str) -> str:
    return structure_for(covariance_type).stats_kind


def _is_dask(X: Any) -> bool:
    return type(X).__module__.startswith("dask.")


def gaussian_from_stats(
    stats: GaussianStats,
    covariance_type: str = "diag",
    *,
    var_smoothing: float = 0.0,
    unbiased: bool = False,
) -> Gaussian:
    """The MLE Gaussian of single-group statistics.

    Raises a ValueError when the data cannot define a Gaussian: no weight,
    one sample, or a zero variance without smoothing.

    Examples
    --------
    >>> s = GaussianStats.from_data([[0.0], [2.0]])
    >>> gaussian_from_stats(s).covariance.tolist()
    [1.0]
    """
    check_choice(covariance_type, GAUSSIAN_TYPES, name="covariance_type")
    if stats.batch_shape:
        raise ValueError("gaussian_from_stats takes the statistics of one group")
    n = float(stats.count)
    if n <= 0:
        raise ValueError("no data: the statistics hold zero total weight; pass some samples")
    epsilon = variance_floor(float(np.max(stats.variance)), var_smoothing)
    structure = structure_for(covariance_type)
    cov = structure.covariances(stats, 0.0)
    if unbiased:
        if n <= 1:
            raise ValueError("the unbiased variance needs more than one sample")
        cov = cov * (n / (n - 1.0))
    cov = structure.add_to_variances(cov, epsilon)
    variances = structure.single_variance(cov, stats.n_features)
    if not np.all(variances > 0):
        if np.all(stats.m2 == 0) and np.isclose(n, 1.0):
            why = "there is only one sample, so the variance is zero"
        else:
            j = int(np.argmin(variances))
            why = f"feature {j} is constant, so its variance is zero"
        raise ValueError(
            f"cannot estimate a Gaussian: {why}; add more varied data or pass "
            "var_smoothing > 0 (e.g. 1e-9)"
        )
    return Gaussian(stats.mean, cov, covariance_type, n=n)
