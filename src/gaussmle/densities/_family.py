"""The interface every family of class densities implements, and the compiled-kernel adapters.

A *family* holds the parameters of k class densities of one covariance
structure and evaluates them on one chunk of rows (numpy, exact); it knows
nothing about class weights, row chunks, threads or normalisation, which
belong to :class:`gaussmle.densities.DensityEvaluator`. A family may offer a
compiled kernel (:meth:`Family.compiled`) that evaluates whole arrays.

The class-level part of the interface describes the covariance structure
itself (which statistics it needs, how many parameters it has), so that the
estimators need not branch on the name of the structure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ..covariance import Structure
from ..kernels import _kernels


def scaled_deviations(X: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deviations ``x - mean`` divided by each row's largest magnitude, and that scale."""
    dev = np.subtract(X, mean, dtype=np.float64)
    scale = np.abs(dev).max(axis=1) if dev.shape[1] else np.ones(dev.shape[0])
    scale = np.where(scale > 0, scale, 1.0)
    return dev / scale[:, None], scale


def log_q(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """log(scale^2 q): the log squared distance of deviations scaled by ``scale``."""
    with np.errstate(divide="ignore"):
        return 2.0 * np.log(scale) + np.log(q)


class Family:
    """Base class of the density families: k densities on d features.

    Subclasses set ``means`` (k, d), ``reference`` (d,) and ``log_norm`` (k,)
    and implement :meth:`log_density`, :meth:`log_mahalanobis` and
    :meth:`marginal`; they may override :meth:`ranking`, :meth:`far_ranking`
    and :meth:`compiled`.
    """

    #: The covariance structure (:mod:`gaussmle.covariance`) of a Gaussian family; the
    #: class-level part of the interface (shapes, parameter counts, the statistics it
    #: needs) is the structure's.
    structure: ClassVar[Structure]
    #: Statistics kind the structure is estimated from ("diag" or "full").
    stats_kind: ClassVar[str] = "diag"
    #: Whether the features are independent given the class (diag, spherical): the log
    #: density is then a sum of per-feature terms.
    independent_features: ClassVar[bool] = False
    means: np.ndarray
    reference: np.ndarray
    log_norm: np.ndarray

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "structure" in cls.__dict__:  # a Gaussian family: its structure says
            cls.stats_kind = cls.structure.stats_kind
            cls.independent_features = cls.structure.independent_features

    @property
    def n_classes(self) -> int:
        """k, the number of densities."""
        return int(self.means.shape[0])

    @property
    def n_features(self) -> int:
        """d, the number of features."""
        return int(self.means.shape[1])

    # ------------------------------------------------------------ one chunk of rows
    def log_density(self, X: np.ndarray) -> np.ndarray:
        """log p_c(x) for every row and density, shape (n, k): exact, numpy."""
        raise NotImplementedError

    def ranking(self, X: np.ndarray) -> np.ndarray:
        """:meth:`log_density` up to a per-row constant: enough to rank and normalise."""
        return self.log_density(X)

    def log_mahalanobis(self, X: np.ndarray) -> np.ndarray:
        """log of the squared Mahalanobis distances (n, k), safe from overflow."""
        raise NotImplementedError

    def far_ranking(self, X: np.ndarray) -> np.ndarray:
        """Scores (n, k) of rows so far away that every density underflows.

        In that limit the density with the largest score takes all the
        probability. By default the negated log Mahalanobis distance.
        """
        return -self.log_mahalanobis(X)

    def marginal(self, observed: np.ndarray) -> Family:
        """The same family on the features where ``observed`` (bool, (d,)) is True."""
        raise NotImplementedError

    def compiled(self, log_weight: np.ndarray) -> Kernel | None:
        """A compiled kernel for whole arrays with these class weights, or None."""
        return None

    # ------------------------------------------------------------ the structure itself
    @classmethod
    def from_parameters(
        cls, means: np.ndarray, covariances: np.ndarray, reference: np.ndarray, labels: Any = None
    ) -> Family:
        """The densities of GaussianMixture-shaped parameters, shifted by ``reference``.

        ``labels`` name the densities in error messages (a singular covariance).
        """
        return cls(means, covariances, reference, labels)  # type: ignore[call-arg]

    @classmethod
    def student(
        cls, location: np.ndarray, scale: np.ndarray, df: np.ndarray, labels: Any = None
    ) -> Family:
        """The posterior predictive (Student t) densities of this structure."""
        raise NotImplementedError

    @classmethod
    def n_covariance_parameters(cls, n_classes: int, n_features: int) -> int:
        """Free covariance parameters of k densities on d features."""
        return cls.structure.n_parameters(n_classes, n_features)

    @classmethod
    def placeholder(cls, n_features: int) -> Any:
        """A harmless covariance for a density that has no data (k >= 1 slot)."""
        return cls.structure.placeholder(n_features)

    @classmethod
    def variances(cls, covariances: np.ndarray) -> np.ndarray:
        """The variances (diagonals), one row per density: (k, d) or (1, d) when shared."""
        return cls.structure.variances(covariances)

    @classmethod
    def variances_of(cls, covariances: np.ndarray, seen: np.ndarray) -> np.ndarray:
        """The variances of the densities where ``seen`` (k,) is True (a shared matrix: all)."""
        return cls.structure.variances_of(covariances, seen)

    @classmethod
    def covariance_shape(cls, n_classes: int, n_features: int) -> tuple[int, ...]:
        """The shape of the covariances of k densities on d features."""
        return cls.structure.parameter_shape(n_classes, n_features)


class Kernel:
    """A compiled evaluation of whole arrays, in the modes of :mod:`gaussmle.kernels._modes`.

    Float modes return (n, k); a row the kernel could not resolve (NaN or
    infinity in it, every density underflowed, a failed rounding guard) has
    NaN in column 0 (``JOINT``: non-finite entries). ``BEST`` returns (n,)
    indices, negative where unresolved. ``modes`` lists the modes it serves.
    """

    modes: frozenset[int] = frozenset(
        (_kernels.JOINT, _kernels.LOG_POSTERIOR, _kernels.POSTERIOR, _kernels.BEST)
    )

    def __call__(self, X: np.ndarray, mode: int) -> np.ndarray:
        raise NotImplementedError


class DirectKernel(Kernel):
    """Direct log densities ``const_c - q_c(x) / 2`` from compiled row and best functions.

    ``rows(X, means, params, const, mode)`` and ``best(X, means, params,
    const)`` are the front-end functions of one family (diag: precisions;
    full: Cholesky factors).
    """

    def __init__(
        self,
        rows: Callable[..., np.ndarray],
        best: Callable[..., np.ndarray],
        means: np.ndarray,
        params: np.ndarray,
        const: np.ndarray,
    ) -> None:
        self._rows, self._best = rows, best
        self._args = (means, params, const)

    def __call__(self, X: np.ndarray, mode: int) -> np.ndarray:
        if mode == _kernels.BEST:
            return self._best(X, *self._args)
        return self._rows(X, *self._args, mode)


class LinearKernel(Kernel):
    """Tied covariances: the compiled linear discriminant, guarded by its rounding bound."""

    modes = frozenset((_kernels.LOG_POSTERIOR, _kernels.POSTERIOR, _kernels.BEST))

    def __init__(
        self,
        reference: np.ndarray,
        W: np.ndarray,
        bias: np.ndarray,
        guard: tuple[np.ndarray, np.ndarray, float],
    ) -> None:
        self._args = (reference, W, bias, guard)

    def __call__(self, X: np.ndarray, mode: int) -> np.ndarray:
        return _kernels.linear_rows(X, *self._args, mode)
