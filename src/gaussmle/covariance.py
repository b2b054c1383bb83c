"""Covariance arithmetic and the structures, under one name.

The structures (:class:`Diag`, :class:`Spherical`, :class:`Full`,
:class:`Tied`, :func:`structure_for`, and the convenience functions that
delegate to them: :func:`covariances_from_stats`, :func:`log_det`,
:func:`mahalanobis_sq`) live in :mod:`gaussmle.structures`; the low-level
arithmetic they need (Cholesky factors, whitening, the duplication matrix) in
:mod:`gaussmle._linalg`. This module holds the smoothing rule and re-exports
both, so ``from gaussmle.covariance import ...`` names everything.
"""

from __future__ import annotations

from ._linalg import LOG_2PI, cholesky, duplication_matrix, inverse_factors, whiten
from .structures import (
    SHARED,
    STRUCTURES,
    Diag,
    Full,
    Spherical,
    Structure,
    Tied,
    covariances_from_stats,
    log_det,
    mahalanobis_sq,
    structure_for,
)

__all__ = [
    "LOG_2PI",
    "SHARED",
    "STRUCTURES",
    "Diag",
    "Full",
    "Spherical",
    "Structure",
    "Tied",
    "cholesky",
    "covariances_from_stats",
    "duplication_matrix",
    "inverse_factors",
    "log_det",
    "mahalanobis_sq",
    "structure_for",
    "variance_floor",
    "whiten",
]


def variance_floor(largest_variance: float, var_smoothing: float) -> float:
    """The smoothing added to every variance: the one rule of ``fit`` and the classifier.

    scikit-learn's GaussianNB epsilon, ``var_smoothing`` times the largest
    variance of all data seen. When every feature is constant (the largest
    variance is 0) there is no scale to borrow, and the smoothing is taken
    in the data's own units: ``var_smoothing`` itself. ``var_smoothing=0``
    means no smoothing at all.

    Examples
    --------
    >>> variance_floor(4.0, 1e-9)
    4e-09
    >>> variance_floor(0.0, 1e-9)  # all data constant
    1e-09
    """
    largest = float(largest_variance)
    if largest == 0.0:
        return float(var_smoothing)
    return float(var_smoothing) * largest
