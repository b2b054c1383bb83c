"""Class densities: one small class per covariance family, one evaluator for all.

- :mod:`._family`: the interface (:class:`Family`) and the adapters of the
  compiled kernels;
- :mod:`._gaussian`: Gaussian families (:class:`DiagFamily`,
  :class:`SphericalFamily`, :class:`TiedFamily`, :class:`FullFamily`);
- :mod:`._student`: posterior predictive Student t families;
- :mod:`._evaluator`: :class:`DensityEvaluator`, which owns row chunks,
  threads, the choice of kernel, log-sum-exp normalisation, the far-point
  fallback and the finiteness checks. A classifier uses it with log priors,
  a mixture with log mixing weights (its posteriors are the E-step's
  responsibilities).

The public string ``covariance_type`` becomes a structure in
:func:`gaussmle.covariance.structure_for`, and a structure becomes its family
class here (:func:`family_for`).

Examples
--------
>>> dens = ClassDensities(np.array([[0.0], [2.0]]), np.array([[1.0], [1.0]]),
...                       "diag", np.array([1.0]))
>>> dens.log_density(np.array([[0.0]])).round(4).tolist()
[[-0.9189, -2.9189]]
>>> dens.posterior(np.array([[1.0]])).tolist()
[[0.5, 0.5]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..covariance import Structure, structure_for
from ._evaluator import DensityEvaluator
from ._family import Family
from ._gaussian import DiagFamily, FullFamily, SphericalFamily, TiedFamily

#: The Gaussian families, one per covariance structure.
_FAMILIES: tuple[type[Family], ...] = (DiagFamily, SphericalFamily, TiedFamily, FullFamily)


def family_for(covariance_type: str | Structure) -> type[Family]:
    """The family class of a ``covariance_type`` ("diag", "spherical", "tied", "full").

    Examples
    --------
    >>> family_for("tied").__name__, family_for("tied").stats_kind
    ('TiedFamily', 'full')
    """
    structure = structure_for(covariance_type)
    return next(family for family in _FAMILIES if family.structure is structure)


def ClassDensities(  # noqa: N802 - a factory named for the object it builds
    means: np.ndarray,
    covariances: np.ndarray,
    covariance_type: str,
    reference: np.ndarray,
    log_weight: np.ndarray | None = None,
    labels: Any = None,
) -> DensityEvaluator:
    """The weighted Gaussian densities of GaussianMixture-shaped parameters.

    ``covariances`` has the shape of ``covariance_type``: full (k, d, d),
    tied (d, d), diag (k, d), spherical (k,). ``reference`` (d,) is the shift
    point of the numerics (the mean of all data is a good choice);
    ``log_weight`` (k,) the log priors or mixing weights (zeros by default);
    ``labels`` name the classes in error messages. The result has
    ``joint``, ``log_posterior``, ``posterior``, ``best`` and ``log_density``.
    """
    family = family_for(covariance_type).from_parameters(means, covariances, reference, labels)
    return DensityEvaluator(family, log_weight)


def StudentDensities(  # noqa: N802 - a factory named for the object it builds
    location: np.ndarray,
    scale: np.ndarray,
    df: np.ndarray,
    covariance_type: str,
    log_weight: np.ndarray | None = None,
    labels: Any = None,
) -> DensityEvaluator:
    """Posterior predictive (Student t) densities of a ``covariance_type``.

    ``scale`` is per feature (k, d) for diag and spherical and scale matrices
    (k, d, d) for full and tied; ``df`` the degrees of freedom, (k,) or (k, d).

    Examples
    --------
    >>> dens = StudentDensities(np.zeros((1, 1)), np.ones((1, 1)), np.array([[3.0]]), "diag")
    >>> round(float(dens.log_density(np.array([[1.0]]))[0, 0]), 6)  # scipy: t(3).logpdf(1)
    -1.576253
    """
    family = family_for(covariance_type).student(location, scale, df, labels)
    return DensityEvaluator(family, log_weight)


__all__ = [
    "ClassDensities",
    "DensityEvaluator",
    "DiagFamily",
    "Family",
    "FullFamily",
    "SphericalFamily",
    "StudentDensities",
    "TiedFamily",
    "family_for",
]
