"""Prediction with missing values: the exact marginal over the observed features.

Rows are grouped by which features they miss; for each pattern the class
densities are rebuilt on the observed features alone
(:meth:`DensityEvaluator.marginal`: diag/spherical: the missing terms drop
out; full/tied: the marginal Gaussian of the observed block, whose
covariance is the observed sub-matrix; Student t: the same, with the same
degrees of freedom; nothing observed: only the class weights speak) and
evaluated with the usual exact machinery.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .densities import DensityEvaluator


def evaluate_with_missing(
    dens: DensityEvaluator,
    X: np.ndarray,
    missing: np.ndarray,
    incomplete: np.ndarray,
    evaluation: Callable[[DensityEvaluator, np.ndarray], np.ndarray],
) -> np.ndarray:
    """``evaluation(dens, X)``, marginalising the NaN features of each row.

    ``evaluation`` is an evaluator method such as ``DensityEvaluator.posterior``.

    Examples
    --------
    >>> from gaussmle.densities import ClassDensities
    >>> dens = ClassDensities(np.array([[0.0, 5.0], [1.0, 9.0]]), np.ones((2, 2)), "diag",
    ...                       np.zeros(2))
    >>> X = np.array([[np.nan, 5.0], [np.nan, np.nan]])
    >>> missing = np.isnan(X)
    >>> p = evaluate_with_missing(dens, X, missing, missing.any(axis=1),
    ...                           DensityEvaluator.posterior)
    >>> p.round(4).tolist()
    [[0.9997, 0.0003], [0.5, 0.5]]
    """
    n = X.shape[0]
    complete = ~incomplete
    first = evaluation(dens, X[complete])  # possibly no rows: it still gives the shape
    out = np.empty((n,) + first.shape[1:], dtype=first.dtype)
    out[complete] = first
    rows = np.flatnonzero(incomplete)
    patterns, which = np.unique(missing[rows], axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        these = rows[which.ravel() == p]
        observed = ~pattern
        sub = dens.marginal(observed)
        out[these] = evaluation(sub, X[np.ix_(these, np.flatnonzero(observed))])
    return out
