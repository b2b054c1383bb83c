"""Prediction with missing values: the exact marginal over the observed features.

Rows are grouped by which features they miss; for each pattern the class
densities are rebuilt on the observed features alone (diag/spherical: the
missing terms drop out; full/tied: the marginal Gaussian of the observed
block, whose covariance is the observed sub-matrix; Student t: the same, with
the same degrees of freedom) and evaluated with the usual exact machinery.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._jll import ClassDensities
from ._student import StudentDensities


def marginal_densities(dens: ClassDensities, observed: np.ndarray) -> ClassDensities:
    """The class densities of the features where ``observed`` is True.

    Examples
    --------
    >>> dens = ClassDensities(np.array([[0.0, 5.0]]), np.array([[1.0, 4.0]]), "diag",
    ...                       np.zeros(2))
    >>> sub = marginal_densities(dens, np.array([False, True]))
    >>> round(float(sub.log_density(np.array([[5.0]]))[0, 0]), 4)  # log N(5 | 5, 4)
    -1.6121
    """
    obs = np.flatnonzero(observed)
    means = dens.means[:, obs]
    labels = None
    if isinstance(dens, StudentDensities):
        if dens.covariance_type == "diag":
            return StudentDensities(
                means, dens.scale[:, obs], dens.df[:, obs], "diag", dens.log_weight, labels
            )
        block = dens.covariances[:, obs][:, :, obs]
        return StudentDensities(means, block, dens.df, "full", dens.log_weight, labels)
    kind = dens.covariance_type
    if kind in ("diag", "spherical"):
        cov = dens.covariances[:, obs]
        kind = "diag"
    elif kind == "tied":
        cov = dens.covariances[obs][:, obs]
    else:
        cov = dens.covariances[:, obs][:, :, obs]
    return ClassDensities(means, cov, kind, dens.reference[obs], dens.log_weight, labels)


def _prior_only(log_weight: np.ndarray, n: int, method: str) -> np.ndarray:
    """Rows with every feature missing: only the class weights speak."""
    finite = np.isfinite(log_weight)
    top = log_weight[finite].max()
    log_post = np.where(finite, log_weight - top, -np.inf)
    log_post -= np.log(np.exp(log_post).sum())
    row = {"joint": log_weight, "log_posterior": log_post, "posterior": np.exp(log_post)}
    if method == "best":
        return np.full(n, int(np.argmax(log_weight)))
    return np.tile(row[method], (n, 1))


def evaluate_with_missing(
    model: Any, X: np.ndarray, missing: np.ndarray, incomplete: np.ndarray, method: str
) -> np.ndarray:
    """``method`` of the model's densities on X, marginalising NaN features per row."""
    dens = model._densities
    k = dens.means.shape[0]
    n = X.shape[0]
    out = np.empty(n, dtype=np.intp) if method == "best" else np.empty((n, k))
    complete = ~incomplete
    if complete.any():
        out[complete] = getattr(dens, method)(X[complete])
    rows = np.flatnonzero(incomplete)
    patterns, which = np.unique(missing[rows], axis=0, return_inverse=True)
    for p, pattern in enumerate(patterns):
        these = rows[which.ravel() == p]
        observed = ~pattern
        if not observed.any():
            out[these] = _prior_only(dens.log_weight, these.size, method)
            continue
        sub = marginal_densities(dens, observed)
        out[these] = getattr(sub, method)(X[np.ix_(these, np.flatnonzero(observed))])
    return out
