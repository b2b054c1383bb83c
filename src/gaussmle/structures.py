"""The covariance structures: from statistics, floor, factor, log-determinant, whitening.

Everything that differs between the four structures lives here, in one small
immutable class each (:class:`Diag`, :class:`Spherical`, :class:`Full`,
:class:`Tied`), and :func:`structure_for` is the one mapping from the public
string ``covariance_type`` to a structure. Callers ask the structure instead
of comparing strings: shapes and parameter counts, covariances from the
statistics, precisions, floors of degenerate components, sampling, one
Gaussian's standard errors and the conjugate prior's algebra.

Shapes follow scikit-learn's GaussianMixture for a batch of ``k`` components:
``"full"`` (k, d, d), ``"tied"`` (d, d) shared by all, ``"diag"`` (k, d) and
``"spherical"`` (k,). A single Gaussian uses the same structures with ``k``
dropped: full (d, d), diag (d,), spherical a scalar.

Full and tied covariances are only ever used through their Cholesky factor
(:mod:`gaussmle._linalg`). :mod:`gaussmle.covariance` re-exports every name.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.linalg import cho_solve, solve_triangular

from ._linalg import cholesky, duplication_matrix, inverse_factors, whiten
from ._validation import COVARIANCE_TYPES, check_choice
from .stats import GaussianStats


def covariances_from_stats(
    stats: GaussianStats, covariance_type: str | Structure, epsilon: float = 0.0
) -> np.ndarray:
    """MLE covariances (divisor N) of a batch of groups, plus ``epsilon`` on the variances.

    ``"tied"`` pools the within-group scatter of all groups and divides by the
    total weight; ``"spherical"`` averages the per-feature variances
    (:meth:`Structure.covariances`).

    Examples
    --------
    >>> s = GaussianStats.from_groups([[0.0, 0.0], [2.0, 4.0], [5.0, 5.0], [7.0, 5.0]],
    ...                               [0, 0, 1, 1], 2, kind="full")
    >>> covariances_from_stats(s, "diag").tolist()
    [[1.0, 4.0], [1.0, 0.0]]
    >>> covariances_from_stats(s, "spherical").tolist()
    [2.5, 0.5]
    >>> covariances_from_stats(s, "tied").tolist()
    [[1.0, 1.0], [1.0, 2.0]]
    """
    return structure_for(covariance_type).covariances(stats, epsilon)


def log_det(
    cov_or_factor: np.ndarray, covariance_type: str | Structure, n_features: int
) -> np.ndarray:
    """log |Sigma|; for full/tied pass the Cholesky factor, otherwise the variances.

    Examples
    --------
    >>> float(log_det(np.array([2.0, 8.0]), "diag", 2)) == float(np.log(16.0))
    True
    >>> float(log_det(np.array(2.0), "spherical", 3)) == float(3 * np.log(2.0))
    True
    """
    return structure_for(covariance_type).log_det(cov_or_factor, n_features)


def mahalanobis_sq(
    X: np.ndarray, mean: np.ndarray, cov_or_factor: np.ndarray, covariance_type: str | Structure
) -> np.ndarray:
    """Squared Mahalanobis distance of each row of X to one Gaussian, shape (n,).

    For full/tied pass the Cholesky factor; for diag the variances (d,); for
    spherical the scalar variance. Deviations are taken before squaring, so
    the result is accurate far from the origin.

    Examples
    --------
    >>> mahalanobis_sq(np.array([[1.0, 2.0]]), np.zeros(2), np.array([1.0, 4.0]), "diag")
    array([2.])
    """
    return structure_for(covariance_type).mahalanobis_sq(X, mean, cov_or_factor)


# ---------------------------------------------------------------------- the structures
#: The key of a shared (tied) covariance in the floors :meth:`Structure.floor` reports.
SHARED = -1
_EPS = float(np.finfo(np.float64).eps)
#: Floors tried on a singular matrix: the first relative floor, then ten times more, ...
_FLOOR_TRIES = 12


class Structure:
    """One covariance structure: all that differs between diag, spherical, full and tied.

    A structure holds no data: there is one immutable instance per structure,
    from :func:`structure_for`, and its methods take the parameters.
    Covariances of ``k`` components have the shapes of scikit-learn's
    GaussianMixture (:meth:`parameter_shape`); a single Gaussian drops ``k``
    (:meth:`single_shape`). Full and tied matrices are used through their
    Cholesky factor, the others through their variances (:meth:`metric`).

    Examples
    --------
    >>> s = structure_for("tied")
    >>> s.name, s.stats_kind, s.per_component, s.parameter_shape(3, 2), s.n_parameters(3, 2)
    ('tied', 'full', False, (2, 2), 3)
    """

    __slots__ = ()
    #: The public name, the ``covariance_type`` users pass.
    name: ClassVar[str]
    #: The statistics the structure is estimated from ("diag" or "full").
    stats_kind: ClassVar[str]
    #: Whether each component has its own covariance (False: one shared matrix).
    per_component: ClassVar[bool] = True
    #: Whether the features are independent given the component (diag, spherical).
    independent_features: ClassVar[bool]
    #: Whether one variance serves all features (spherical).
    one_variance: ClassVar[bool] = False
    #: The ``covariance_type`` of one component as a single Gaussian (tied: "full").
    gaussian_type: ClassVar[str]

    def __repr__(self) -> str:
        return f"structure_for({self.name!r})"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return structure_for, (self.name,)  # copies and pickles are the one instance

    # ------------------------------------------------------------ shapes and counts
    def parameter_shape(self, k: int, d: int) -> tuple[int, ...]:
        """The shape of the covariances of ``k`` components on ``d`` features."""
        raise NotImplementedError

    def single_shape(self, d: int) -> tuple[int, ...]:
        """The shape of one Gaussian's covariance on ``d`` features."""
        raise NotImplementedError

    def n_parameters(self, k: int, d: int) -> int:
        """Free covariance parameters of ``k`` components on ``d`` features."""
        raise NotImplementedError

    def pooled_values(self, d: int) -> int:
        """How many values of one row each variance is estimated from (spherical: d)."""
        return 1

    # ------------------------------------------------------------ from statistics
    def covariances(self, stats: GaussianStats, epsilon: float = 0.0) -> np.ndarray:
        """MLE covariances (divisor N) of a batch of groups, plus ``epsilon`` on the variances."""
        raise NotImplementedError

    def variances(self, covariances: np.ndarray) -> np.ndarray:
        """The variances, one row per component: (k, d), or (1, d) for a shared matrix."""
        raise NotImplementedError

    def variances_of(self, covariances: np.ndarray, seen: np.ndarray) -> np.ndarray:
        """The variances of the components where ``seen`` (k,) is True (a shared matrix: all)."""
        return self.variances(covariances)[seen]

    def single_variance(self, covariance: np.ndarray, d: int) -> np.ndarray:
        """The per-feature variances (d,) of one Gaussian's covariance (a copy)."""
        raise NotImplementedError

    def single_m2(self, covariance: np.ndarray, d: int) -> np.ndarray:
        """One Gaussian's covariance in the form of its statistics' M2 per unit weight."""
        return self.single_variance(covariance, d)

    def single_marginal(self, covariance: np.ndarray, features: list[int]) -> np.ndarray:
        """One Gaussian's covariance matrix on some of its features, (m, m)."""
        return np.diag(covariance[features])

    def add_to_variances(self, covariance: np.ndarray, epsilon: float) -> np.ndarray:
        """``epsilon`` added to every variance of one Gaussian's covariance."""
        raise NotImplementedError

    def placeholder(self, d: int) -> Any:
        """A harmless covariance for a component without data (None: nothing to replace)."""
        raise NotImplementedError

    def component(self, covariances: np.ndarray, c: int) -> np.ndarray:
        """The covariance of component ``c`` (the shared matrix for every ``c``)."""
        return covariances[c]

    # ------------------------------------------------------------ factors and distances
    def factor(self, covariance: np.ndarray, labels: list[str] | None = None) -> np.ndarray:
        """The square-root factor: standard deviations, or the lower Cholesky factor.

        Refuses a covariance that is not positive (definite) with one sentence.
        """
        raise NotImplementedError

    def metric(self, covariance: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """What :meth:`log_det` and :meth:`mahalanobis_sq` take: variances or the factor."""
        raise NotImplementedError

    def whitening(
        self, covariances: np.ndarray, seen: np.ndarray, d: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per component, what whitens a deviation, and log terms (k, d) summing to log |Sigma|.

        Inverse standard deviations (k, d), or transposed inverse Cholesky
        factors (k, d, d) (tied: one, (1, d, d)). A component not ``seen``
        (k,) gets unit variances.
        """
        raise NotImplementedError

    def log_det(self, cov_or_factor: np.ndarray, d: int) -> np.ndarray:
        """log |Sigma| from :meth:`metric`'s result."""
        raise NotImplementedError

    def mahalanobis_sq(
        self, X: np.ndarray, mean: np.ndarray, cov_or_factor: np.ndarray
    ) -> np.ndarray:
        """Squared Mahalanobis distance of each row of X to one Gaussian, shape (n,)."""
        raise NotImplementedError

    def whiten(self, X: np.ndarray, mean: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """Whitened deviations of the rows of X from one Gaussian (its :meth:`factor`)."""
        raise NotImplementedError

    def colour(self, Z: np.ndarray, factor: np.ndarray) -> np.ndarray:
        """Standard normal rows Z coloured by one Gaussian's :meth:`factor`."""
        raise NotImplementedError

    # ------------------------------------------------------------ precisions
    def precision_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        """scikit-learn's ``precisions_cholesky_``: ``P = U U^T`` (U upper) for matrices."""
        raise NotImplementedError

    def precisions(self, precision_cholesky: np.ndarray) -> np.ndarray:
        """Precisions from :meth:`precision_cholesky`'s result."""
        raise NotImplementedError

    def from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        """Covariances from precisions (matrices through their Cholesky factor, no inverse)."""
        raise NotImplementedError

    def check_precisions(self, precisions: np.ndarray, name: str) -> None:
        """Refuse user-given precisions that are not positive (definite)."""
        raise NotImplementedError

    def invalid_covariances(self, covariances: np.ndarray) -> str | None:
        """What is wrong with (read, finite) covariances of this shape, or None.

        The answer completes a sentence that starts with the covariances' name.
        """
        raise NotImplementedError

    # ------------------------------------------------------------ degenerate components
    def floor(
        self, covariances: np.ndarray, scale: np.ndarray, relative: float
    ) -> tuple[np.ndarray, dict[int, float]]:
        """Floor covariances singular at rounding level, relative to the data's variances.

        ``scale`` (d,) holds the data's variances. A variance not above
        ``d * eps`` times the data's gets ``relative`` times the data's
        variance added; a matrix whose Cholesky factor fails gets ``relative``
        times the largest data variance added to its diagonal (then ten times
        more, until it factorises). Returns the covariances (untouched where
        nothing was floored) and the amount added per component (key
        ``SHARED`` for a shared matrix).
        """
        raise NotImplementedError

    # ------------------------------------------------------------ simulation
    def draw(
        self, rng: Any, mean: np.ndarray, covariances: np.ndarray, c: int, m: int
    ) -> np.ndarray:
        """``m`` rows of component ``c`` (scikit-learn's GaussianMixture's random stream)."""
        raise NotImplementedError

    # ------------------------------------------------------------ one Gaussian's inference
    def score(
        self, dev: np.ndarray, w: np.ndarray, covariance: np.ndarray, factor: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Gradient of the log-likelihood (see :meth:`gaussmle.Gaussian.score`)."""
        raise NotImplementedError

    def fisher_information(
        self, n: float, covariance: np.ndarray, factor: np.ndarray, d: int
    ) -> dict[str, np.ndarray]:
        """Expected Fisher information (see :meth:`gaussmle.Gaussian.fisher_information`)."""
        raise NotImplementedError

    def standard_errors(self, n: float, covariance: np.ndarray, d: int) -> dict[str, np.ndarray]:
        """Asymptotic standard errors (see :meth:`gaussmle.Gaussian.standard_errors`)."""
        raise NotImplementedError

    def covariance_interval(
        self, covariance: np.ndarray, n: float, d: int, chi: tuple[float, float], alpha: float
    ) -> np.ndarray:
        """Intervals of the covariance parameters, a trailing axis of (lower, upper).

        ``chi`` holds the chi-square quantiles (upper, lower) of the variances.
        """
        raise NotImplementedError

    # ------------------------------------------------------------ conjugate priors
    def conjugate_posterior(
        self, stats: GaussianStats, m0: np.ndarray, s0: np.ndarray, kappa0: float, nu: float
    ) -> dict[str, Any]:
        """Posterior hyperparameters of the conjugate prior (see :mod:`gaussmle.prior`)."""
        raise NotImplementedError

    def map_covariance(self, posterior: dict[str, Any], d: int) -> np.ndarray:
        """The covariance of the posterior's joint mode over (mean, covariance)."""
        raise NotImplementedError

    def predictive(self, posterior: dict[str, Any], d: int) -> tuple[np.ndarray, np.ndarray]:
        """Scale and degrees of freedom of the Student t posterior predictive."""
        raise NotImplementedError


class Diag(Structure):
    """Diagonal covariances (naive Bayes): variances (k, d); one Gaussian (d,).

    Examples
    --------
    >>> Diag().parameter_shape(3, 2), Diag().n_parameters(3, 2)
    ((3, 2), 6)
    """

    __slots__ = ()
    name: ClassVar[str] = "diag"
    gaussian_type: ClassVar[str] = "diag"
    stats_kind: ClassVar[str] = "diag"
    independent_features: ClassVar[bool] = True

    def parameter_shape(self, k: int, d: int) -> tuple[int, ...]:
        return (k, d)

    def single_shape(self, d: int) -> tuple[int, ...]:
        return (d,)

    def n_parameters(self, k: int, d: int) -> int:
        return k * d

    def covariances(self, stats: GaussianStats, epsilon: float = 0.0) -> np.ndarray:
        return stats.variance + epsilon

    def variances(self, covariances: np.ndarray) -> np.ndarray:
        return covariances

    def single_variance(self, covariance: np.ndarray, d: int) -> np.ndarray:
        return np.broadcast_to(covariance, (d,)).copy()

    def add_to_variances(self, covariance: np.ndarray, epsilon: float) -> np.ndarray:
        return covariance + epsilon

    def placeholder(self, d: int) -> Any:
        return np.ones(d)

    def factor(self, covariance: np.ndarray, labels: list[str] | None = None) -> np.ndarray:
        if not np.all(covariance > 0):
            raise ValueError(
                "the variance is zero for some feature (a constant feature, or a single "
                "sample); pass more data or var_smoothing > 0"
            )
        return np.sqrt(covariance)

    def metric(self, covariance: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return covariance

    def whitening(
        self, covariances: np.ndarray, seen: np.ndarray, d: int
    ) -> tuple[np.ndarray, np.ndarray]:
        variances = np.where(seen[:, None], covariances, 1.0)
        return 1.0 / np.sqrt(variances), np.log(variances)

    def log_det(self, cov_or_factor: np.ndarray, d: int) -> np.ndarray:
        return np.log(cov_or_factor).sum(axis=-1)

    def mahalanobis_sq(
        self, X: np.ndarray, mean: np.ndarray, cov_or_factor: np.ndarray
    ) -> np.ndarray:
        dev = np.subtract(X, mean, dtype=np.float64)
        return np.einsum("ij,ij->i", dev, dev / cov_or_factor)

    def whiten(self, X: np.ndarray, mean: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return np.subtract(X, mean, dtype=np.float64) / factor

    def colour(self, Z: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return Z * factor

    def precision_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        return 1.0 / np.sqrt(covariances)

    def precisions(self, precision_cholesky: np.ndarray) -> np.ndarray:
        return precision_cholesky**2

    def from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        return 1.0 / precisions

    def check_precisions(self, precisions: np.ndarray, name: str) -> None:
        if not (precisions > 0).all():
            raise ValueError(f"{name} must be positive for covariance_type={self.name!r}")

    def invalid_covariances(self, covariances: np.ndarray) -> str | None:
        return None if (covariances > 0).all() else "has a variance that is not positive"

    def floor(
        self, covariances: np.ndarray, scale: np.ndarray, relative: float
    ) -> tuple[np.ndarray, dict[int, float]]:
        d = scale.shape[0]
        ref = self._floor_reference(scale)
        bad = ~(covariances > d * _EPS * ref)
        floored: dict[int, float] = {}
        if bad.any():
            covariances = np.where(bad, covariances + relative * ref, covariances)
            for c in np.flatnonzero(bad.reshape(covariances.shape[0], -1).any(axis=1)):
                amount = relative * (ref if np.ndim(ref) == 0 else ref.max())
                floored[int(c)] = float(amount)
        return covariances, floored

    def _floor_reference(self, scale: np.ndarray) -> Any:
        return scale

    def draw(
        self, rng: Any, mean: np.ndarray, covariances: np.ndarray, c: int, m: int
    ) -> np.ndarray:
        sd = np.sqrt(covariances[c])
        return mean + rng.standard_normal(size=(m, mean.shape[0])) * sd

    def score(
        self, dev: np.ndarray, w: np.ndarray, covariance: np.ndarray, factor: np.ndarray
    ) -> dict[str, np.ndarray]:
        N = float(w.sum())
        s2 = covariance
        ss = w @ (dev * dev)
        return {"mean": (w @ dev) / s2, "covariance": (-N + ss / s2) / (2.0 * s2)}

    def fisher_information(
        self, n: float, covariance: np.ndarray, factor: np.ndarray, d: int
    ) -> dict[str, np.ndarray]:
        s2 = covariance
        return {"mean": n / s2, "covariance": n / (2.0 * s2 * s2)}

    def standard_errors(self, n: float, covariance: np.ndarray, d: int) -> dict[str, np.ndarray]:
        s2 = covariance
        return {"mean": np.sqrt(s2 / n), "covariance": s2 * np.sqrt(2.0 / n)}

    def covariance_interval(
        self, covariance: np.ndarray, n: float, d: int, chi: tuple[float, float], alpha: float
    ) -> np.ndarray:
        # chi-square interval of a variance: total sum of squares / quantiles
        ss = np.asarray(covariance) * self._dof_sum(n, d)
        return np.stack([ss / chi[0], ss / chi[1]], axis=-1)

    def _dof_sum(self, n: float, d: int) -> float:
        return n

    def conjugate_posterior(
        self, stats: GaussianStats, m0: np.ndarray, s0: np.ndarray, kappa0: float, nu: float
    ) -> dict[str, Any]:
        """Normal-Inverse-Gamma per feature (each feature its own count when values miss)."""
        dev = stats.mean - m0
        n = stats.to_diag().n_per_feature
        kappa = kappa0 + n
        mean = (kappa0 * m0 + n * stats.mean) / kappa
        shrink = kappa0 * n / kappa
        beta = 0.5 * nu * s0 + 0.5 * stats.to_diag().m2 + 0.5 * shrink * dev * dev
        alpha = 0.5 * nu + 0.5 * n
        return {
            "kappa": kappa,
            "mean": mean,
            "alpha": self._pool_features(alpha),
            "beta": self._pool_features(beta),
        }

    def _pool_features(self, value: np.ndarray) -> np.ndarray:
        return value

    def map_covariance(self, posterior: dict[str, Any], d: int) -> np.ndarray:
        return posterior["beta"] / (posterior["alpha"] + 1.5)

    def predictive(self, posterior: dict[str, Any], d: int) -> tuple[np.ndarray, np.ndarray]:
        kappa = posterior["kappa"]
        ratio = (kappa + 1.0) / kappa
        alpha, beta = posterior["alpha"], posterior["beta"]
        return beta * ratio / alpha, 2.0 * alpha


class Spherical(Diag):
    """One variance per component: (k,); one Gaussian a scalar.

    Examples
    --------
    >>> Spherical().parameter_shape(3, 2), Spherical().variances(np.array([2.0])).tolist()
    ((3,), [[2.0]])
    """

    __slots__ = ()
    name: ClassVar[str] = "spherical"
    gaussian_type: ClassVar[str] = "spherical"
    one_variance: ClassVar[bool] = True

    def parameter_shape(self, k: int, d: int) -> tuple[int, ...]:
        return (k,)

    def single_shape(self, d: int) -> tuple[int, ...]:
        return ()

    def n_parameters(self, k: int, d: int) -> int:
        return k

    def pooled_values(self, d: int) -> int:
        return d

    def covariances(self, stats: GaussianStats, epsilon: float = 0.0) -> np.ndarray:
        return stats.variance.mean(axis=-1) + epsilon

    def variances(self, covariances: np.ndarray) -> np.ndarray:
        return np.asarray(covariances)[:, None]

    def placeholder(self, d: int) -> Any:
        return 1.0

    def log_det(self, cov_or_factor: np.ndarray, d: int) -> np.ndarray:
        return d * np.log(cov_or_factor)

    def mahalanobis_sq(
        self, X: np.ndarray, mean: np.ndarray, cov_or_factor: np.ndarray
    ) -> np.ndarray:
        dev = np.subtract(X, mean, dtype=np.float64)
        return np.einsum("ij,ij->i", dev, dev) / cov_or_factor

    def _floor_reference(self, scale: np.ndarray) -> Any:
        return np.float64(scale.mean())

    def single_marginal(self, covariance: np.ndarray, features: list[int]) -> np.ndarray:
        return float(covariance) * np.eye(len(features))

    def whitening(
        self, covariances: np.ndarray, seen: np.ndarray, d: int
    ) -> tuple[np.ndarray, np.ndarray]:
        variances = np.broadcast_to(np.where(seen, covariances, 1.0)[:, None], (seen.size, d))
        return 1.0 / np.sqrt(variances), np.log(variances)

    def score(
        self, dev: np.ndarray, w: np.ndarray, covariance: np.ndarray, factor: np.ndarray
    ) -> dict[str, np.ndarray]:
        N = float(w.sum())
        s2 = float(covariance)
        ss = float(w @ np.einsum("ij,ij->i", dev, dev))
        d = dev.shape[1]
        return {"mean": (w @ dev) / s2, "covariance": np.array((-N * d + ss / s2) / (2 * s2))}

    def fisher_information(
        self, n: float, covariance: np.ndarray, factor: np.ndarray, d: int
    ) -> dict[str, np.ndarray]:
        s2 = float(covariance)
        return {"mean": np.full(d, n / s2), "covariance": np.array(n * d / (2.0 * s2 * s2))}

    def standard_errors(self, n: float, covariance: np.ndarray, d: int) -> dict[str, np.ndarray]:
        s2 = float(covariance)
        return {
            "mean": np.full(d, np.sqrt(s2 / n)),
            "covariance": np.array(s2 * np.sqrt(2.0 / (n * d))),
        }

    def _dof_sum(self, n: float, d: int) -> float:
        return n * d

    def _pool_features(self, value: np.ndarray) -> np.ndarray:
        # one variance: Inverse-Gamma(d nu / 2, nu sum(s0^2) / 2)
        return value.sum(axis=-1)

    def map_covariance(self, posterior: dict[str, Any], d: int) -> np.ndarray:
        return posterior["beta"] / (posterior["alpha"] + 1.0 + 0.5 * d)

    def predictive(self, posterior: dict[str, Any], d: int) -> tuple[np.ndarray, np.ndarray]:
        # a d-variate t with diagonal scale (per-feature kappa when values are missing)
        kappa = posterior["kappa"]
        ratio = (kappa + 1.0) / kappa
        alpha, beta = posterior["alpha"], posterior["beta"]
        return (beta / alpha)[..., None] * ratio, 2.0 * alpha


class Full(Structure):
    """A covariance matrix per component (QDA): (k, d, d); one Gaussian (d, d).

    Examples
    --------
    >>> Full().parameter_shape(3, 2), Full().n_parameters(3, 2)
    ((3, 2, 2), 9)
    """

    __slots__ = ()
    name: ClassVar[str] = "full"
    gaussian_type: ClassVar[str] = "full"
    stats_kind: ClassVar[str] = "full"
    independent_features: ClassVar[bool] = False

    def parameter_shape(self, k: int, d: int) -> tuple[int, ...]:
        return (k, d, d)

    def single_shape(self, d: int) -> tuple[int, ...]:
        return (d, d)

    def n_parameters(self, k: int, d: int) -> int:
        return k * d * (d + 1) // 2

    def covariances(self, stats: GaussianStats, epsilon: float = 0.0) -> np.ndarray:
        self._require_full(stats)
        return stats.covariance + epsilon * np.eye(stats.n_features)

    def _require_full(self, stats: GaussianStats) -> None:
        if stats.kind != self.stats_kind:
            raise ValueError(f"covariance_type {self.name!r} needs kind='full' statistics")

    def variances(self, covariances: np.ndarray) -> np.ndarray:
        return np.diagonal(covariances, axis1=1, axis2=2)

    def single_variance(self, covariance: np.ndarray, d: int) -> np.ndarray:
        return np.diagonal(covariance).copy()

    def single_m2(self, covariance: np.ndarray, d: int) -> np.ndarray:
        return covariance

    def single_marginal(self, covariance: np.ndarray, features: list[int]) -> np.ndarray:
        return covariance[np.ix_(features, features)]

    def add_to_variances(self, covariance: np.ndarray, epsilon: float) -> np.ndarray:
        return covariance + epsilon * np.eye(covariance.shape[-1])

    def placeholder(self, d: int) -> Any:
        return np.eye(d)

    def factor(self, covariance: np.ndarray, labels: list[str] | None = None) -> np.ndarray:
        return cholesky(covariance, labels)

    def metric(self, covariance: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return factor

    def whitening(
        self, covariances: np.ndarray, seen: np.ndarray, d: int
    ) -> tuple[np.ndarray, np.ndarray]:
        return inverse_factors(np.where(seen[:, None, None], covariances, np.eye(d)))

    def log_det(self, cov_or_factor: np.ndarray, d: int) -> np.ndarray:
        diag = np.diagonal(cov_or_factor, axis1=-2, axis2=-1)
        return 2.0 * np.log(diag).sum(axis=-1)

    def mahalanobis_sq(
        self, X: np.ndarray, mean: np.ndarray, cov_or_factor: np.ndarray
    ) -> np.ndarray:
        z = whiten(X, mean, cov_or_factor)
        return np.einsum("ij,ij->i", z, z)

    def whiten(self, X: np.ndarray, mean: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return whiten(X, mean, factor)

    def colour(self, Z: np.ndarray, factor: np.ndarray) -> np.ndarray:
        return Z @ factor.T

    def precision_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        batch = covariances.reshape((-1,) + covariances.shape[-2:])
        eye = np.eye(covariances.shape[-1])
        factors = [solve_triangular(np.linalg.cholesky(c), eye, lower=True).T for c in batch]
        return np.stack(factors).reshape(covariances.shape)

    def precisions(self, precision_cholesky: np.ndarray) -> np.ndarray:
        return precision_cholesky @ np.swapaxes(precision_cholesky, -1, -2)

    def from_precisions(self, precisions: np.ndarray) -> np.ndarray:
        batch = precisions.reshape((-1,) + precisions.shape[-2:])
        eye = np.eye(precisions.shape[-1])
        out = []
        for p in batch:
            cov = cho_solve((np.linalg.cholesky(p), True), eye)
            out.append(0.5 * (cov + cov.T))
        return np.stack(out).reshape(precisions.shape)

    def check_precisions(self, precisions: np.ndarray, name: str) -> None:
        for i, p in enumerate(precisions.reshape((-1,) + precisions.shape[-2:])):
            which = name if precisions.ndim == 2 else f"{name}[{i}]"
            if not np.allclose(p, p.T):
                raise ValueError(f"{which} is not symmetric; pass symmetric precision matrices")
            try:
                np.linalg.cholesky(p)
            except np.linalg.LinAlgError:
                raise ValueError(
                    f"{which} is not positive definite; pass inverse covariance matrices"
                ) from None

    def invalid_covariances(self, covariances: np.ndarray) -> str | None:
        if not np.array_equal(covariances, np.swapaxes(covariances, -1, -2)):
            return "is not symmetric"
        try:
            cholesky(covariances)
        except ValueError:
            return "is not positive definite"
        return None

    def floor(
        self, covariances: np.ndarray, scale: np.ndarray, relative: float
    ) -> tuple[np.ndarray, dict[int, float]]:
        d = scale.shape[0]
        batch = covariances.reshape((-1, d, d)).copy()
        floored: dict[int, float] = {}
        for c in range(batch.shape[0]):
            amount = 0.0
            for _ in range(_FLOOR_TRIES):
                try:
                    cholesky(batch[c] + amount * np.eye(d))
                    break
                except ValueError:
                    amount = relative * float(scale.max()) if amount == 0.0 else 10.0 * amount
            if amount:
                batch[c] += amount * np.eye(d)
                floored[c if self.per_component else SHARED] = amount
        return batch.reshape(covariances.shape), floored

    def draw(
        self, rng: Any, mean: np.ndarray, covariances: np.ndarray, c: int, m: int
    ) -> np.ndarray:
        return rng.multivariate_normal(mean, self.component(covariances, c), int(m))

    def score(
        self, dev: np.ndarray, w: np.ndarray, covariance: np.ndarray, factor: np.ndarray
    ) -> dict[str, np.ndarray]:
        N = float(w.sum())
        sum_dev = w @ dev
        precision = cho_solve((factor, True), np.eye(dev.shape[1]), check_finite=False)
        scatter = (dev * w[:, None]).T @ dev
        p_s_p = precision @ scatter @ precision
        grad_cov = 0.5 * (-N * precision + p_s_p)
        return {"mean": precision @ sum_dev, "covariance": 0.5 * (grad_cov + grad_cov.T)}

    def fisher_information(
        self, n: float, covariance: np.ndarray, factor: np.ndarray, d: int
    ) -> dict[str, np.ndarray]:
        precision = cho_solve((factor, True), np.eye(d), check_finite=False)
        dup = duplication_matrix(d)
        info_cov = 0.5 * n * dup.T @ np.kron(precision, precision) @ dup
        return {"mean": n * precision, "covariance": info_cov}

    def standard_errors(self, n: float, covariance: np.ndarray, d: int) -> dict[str, np.ndarray]:
        var = np.diagonal(covariance)
        return {
            "mean": np.sqrt(var / n),
            "covariance": np.sqrt((np.outer(var, var) + covariance * covariance) / n),
        }

    def covariance_interval(
        self, covariance: np.ndarray, n: float, d: int, chi: tuple[float, float], alpha: float
    ) -> np.ndarray:
        """Off-diagonal: the asymptotic normal interval; variances: the chi-square one."""
        from scipy import stats as sps  # deferred: scipy.stats is slow to import

        z = sps.norm.ppf(1.0 - alpha / 2.0)
        se = self.standard_errors(n, covariance, d)["covariance"]
        cov_ci = np.stack([covariance - z * se, covariance + z * se], axis=-1)
        var = np.diagonal(covariance)
        idx = np.arange(d)
        cov_ci[idx, idx, 0] = n * var / chi[0]
        cov_ci[idx, idx, 1] = n * var / chi[1]
        return cov_ci

    def conjugate_posterior(
        self, stats: GaussianStats, m0: np.ndarray, s0: np.ndarray, kappa0: float, nu: float
    ) -> dict[str, Any]:
        """Normal-Inverse-Wishart: ``nu`` and ``psi`` (d, d) per group."""
        d = stats.n_features
        dev = stats.mean - m0
        n = stats.count
        kappa_n = kappa0 + n
        mu_n = (kappa0 * m0 + n[..., None] * stats.mean) / kappa_n[..., None]
        shrink = kappa0 * n / kappa_n
        out: dict[str, Any] = {"kappa": kappa_n, "mean": mu_n}
        if stats.kind != self.stats_kind:
            raise ValueError(f"a {self.name!r} prior needs kind='full' statistics")
        nu0 = nu + d - 1.0
        psi0 = np.diag(nu * s0)
        outer = dev[..., :, None] * dev[..., None, :]
        psi = psi0 + stats.m2 + shrink[..., None, None] * outer
        out.update(self._wishart(stats, psi0, psi, nu0))
        return out

    def _wishart(
        self, stats: GaussianStats, psi0: np.ndarray, psi: np.ndarray, nu0: float
    ) -> dict[str, Any]:
        return {"nu": nu0 + stats.count, "psi": psi}

    def map_covariance(self, posterior: dict[str, Any], d: int) -> np.ndarray:
        return posterior["psi"] / (posterior["nu"] + d + 2.0)[..., None, None]

    def predictive(self, posterior: dict[str, Any], d: int) -> tuple[np.ndarray, np.ndarray]:
        kappa = posterior["kappa"]
        ratio = (kappa + 1.0) / kappa
        df = np.broadcast_to(posterior["nu"] - d + 1.0, kappa.shape).astype(float)
        return self._predictive_scale(posterior["psi"], ratio, df), df

    def _predictive_scale(self, psi: np.ndarray, ratio: np.ndarray, df: np.ndarray) -> np.ndarray:
        return psi * (ratio / df)[..., None, None]


class Tied(Full):
    """One covariance matrix shared by all components (LDA): (d, d).

    Examples
    --------
    >>> Tied().parameter_shape(3, 2), Tied().per_component, Tied().placeholder(2) is None
    ((2, 2), False, True)
    """

    __slots__ = ()
    name: ClassVar[str] = "tied"
    per_component: ClassVar[bool] = False

    def parameter_shape(self, k: int, d: int) -> tuple[int, ...]:
        return (d, d)

    def n_parameters(self, k: int, d: int) -> int:
        return d * (d + 1) // 2

    def covariances(self, stats: GaussianStats, epsilon: float = 0.0) -> np.ndarray:
        self._require_full(stats)
        total = float(stats.count.sum())
        scatter = stats.m2.reshape((-1,) + stats.m2.shape[-2:]).sum(axis=0)
        return scatter / (total if total > 0 else 1.0) + epsilon * np.eye(stats.n_features)

    def variances(self, covariances: np.ndarray) -> np.ndarray:
        return np.diagonal(covariances)[None, :]

    def placeholder(self, d: int) -> Any:
        return None  # one shared matrix: a component without data has nothing to replace

    def component(self, covariances: np.ndarray, c: int) -> np.ndarray:
        return covariances

    def variances_of(self, covariances: np.ndarray, seen: np.ndarray) -> np.ndarray:
        return self.variances(covariances)

    def whitening(
        self, covariances: np.ndarray, seen: np.ndarray, d: int
    ) -> tuple[np.ndarray, np.ndarray]:
        scale, pivots = inverse_factors(covariances[None])
        return scale, np.repeat(pivots, seen.size, axis=0)

    def _wishart(
        self, stats: GaussianStats, psi0: np.ndarray, psi: np.ndarray, nu0: float
    ) -> dict[str, Any]:
        d = stats.n_features
        pooled = psi0 + (psi - psi0).reshape((-1, d, d)).sum(axis=0)
        return {"nu": nu0 + float(stats.count.sum()), "psi": pooled, "n_groups": stats.count.size}

    def map_covariance(self, posterior: dict[str, Any], d: int) -> np.ndarray:
        return posterior["psi"] / (posterior["nu"] + d + 1.0 + posterior["n_groups"])

    def _predictive_scale(self, psi: np.ndarray, ratio: np.ndarray, df: np.ndarray) -> np.ndarray:
        return psi[None] * (ratio / df)[:, None, None]


#: One instance per structure, in the order of the covariance choices.
STRUCTURES: tuple[Structure, ...] = (Diag(), Full(), Tied(), Spherical())


def structure_for(covariance_type: str | Structure) -> Structure:
    """The structure of a ``covariance_type``: the one mapping from the public string.

    A structure passes through unchanged.

    Examples
    --------
    >>> structure_for("spherical").parameter_shape(3, 2)
    (3,)
    >>> structure_for(structure_for("full")).name
    'full'
    >>> structure_for("banana")
    Traceback (most recent call last):
    ...
    ValueError: covariance_type must be one of 'diag', 'full', 'tied', 'spherical'; got 'banana'
    """
    if isinstance(covariance_type, Structure):
        return covariance_type
    name = check_choice(covariance_type, COVARIANCE_TYPES, name="covariance_type")
    return next(s for s in STRUCTURES if s.name == name)
