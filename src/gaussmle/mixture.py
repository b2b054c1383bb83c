"""GaussianMixture: maximum likelihood without labels, by expectation-maximisation.

The EM algorithm is the classifier's machinery with the labels replaced by
responsibilities:

- E-step: each row's posterior responsibility for each component, from the
  class-density evaluator with the mixture weights as priors (one function,
  :func:`_component_densities`, is this module's only way to it);
- M-step: the weighted sufficient statistics of :class:`~gaussmle.GaussianStats`
  with the responsibilities (times any sample weights) as weights.

Both are fused per row chunk: a chunk's responsibilities are computed, folded
into the per-component statistics and dropped, so a pass holds no
``n x k`` matrix. Within a chunk the statistics are two-pass on rows shifted by
a reference point (the data mean), in float64; between chunks they are merged
exactly (Chan et al.); raw moments E[x^2] - E[x]^2 are never formed, so data at
an offset of 1e9 fits like data at the origin. The per-chunk statistics come
from a compiled kernel (:mod:`gaussmle.kernels._numba_mixture`) when numba is
available, otherwise from the numpy reference path :func:`gaussmle._em.weighted_moments_numpy`
(the kernel's products are written so that no ``R.T @ X`` with a small
``R.T`` reaches BLAS: see DESIGN.md section 9).

The chunks of a pass run in threads (one per usable core, at most
``GAUSSMLE_MIXTURE_THREADS``); their statistics are merged in chunk order, so
the fit does not depend on the number of threads. ``GAUSSMLE_MIXTURE_CHUNK_ROWS``
overrides the rows per chunk (about 4 MiB of float64 by default).

Degenerate data never crashes the fit: ``reg_covar`` is added to every
variance as in scikit-learn; a covariance still singular at rounding level
(collinear features at a large scale, a component collapsed onto one point)
gets a floor relative to the data's own variance; a component that loses all
its weight is re-seeded at the row the model explains worst. Whatever was done
is said in one :class:`DegenerateComponentWarning`. A feature whose values
differ by too little for float64 squares (not constant, variance below
1e-304) is refused as by the classifier (:func:`refuse_tiny_spreads`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._em import (  # the arithmetic moved there; these names stay importable from here
    _check_schedule,
    _ChunkResult,
    _data_scale,
    _precision_cholesky,
    _precisions,
    _workers,
    _Worst,
    covariances_from_precisions,  # noqa: F401  (re-exported)
    normalise_rows_numpy,
    running_average,
    scaled_stats,
    step_size,
    weighted_moments_numpy,
)
from ._spread import (
    check_spread,
    refuse_tiny_spreads_seen,
    tiny_spreads,
)
from ._validation import COVARIANCE_TYPES, check_choice, check_finite, check_sample_weight
from .covariance import Structure, covariances_from_stats, structure_for
from .densities import ClassDensities, DensityEvaluator
from .kernels import _kernels
from .stats import GaussianStats, default_chunk_rows

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .mixture_sources import RowSource

INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")
#: A component with less weight than this fraction of an average row's is empty.
EMPTY_WEIGHT = 1e-6
#: The first floor added to a singular covariance, relative to the data's variance.
FLOOR = 1e-9
#: How many times (per component and fit) an empty component is re-seeded.
MAX_RESEEDS = 3


class DegenerateComponentWarning(ConvergenceWarning):
    """A component collapsed or lost its weight, and the fit said what it did about it."""


def _component_densities(
    means: np.ndarray,
    covariances: np.ndarray,
    covariance_type: str,
    reference: np.ndarray,
    log_weight: np.ndarray,
) -> ClassDensities:
    """The class-density evaluator for the components (the only call into it)."""
    return ClassDensities(means, covariances, covariance_type, reference, log_weight)


# ---------------------------------------------------------------------- the fused pass
def use_kernel() -> bool:
    """Whether the compiled kernel accumulates the statistics (numba present, not disabled)."""
    return _kernels.available()


def weighted_moments(
    Z: np.ndarray, R: np.ndarray, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-component (count, mean, m2) of one chunk: the compiled kernel, or numpy.

    Examples
    --------
    >>> Z = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> count, mean, m2 = weighted_moments(Z, np.array([[1.0], [1.0]]), "full")
    >>> count.tolist(), mean.tolist(), m2.tolist()
    ([2.0], [[1.0, 2.0]], [[[2.0, 2.0], [2.0, 2.0]]])
    """
    if not use_kernel():
        return weighted_moments_numpy(Z, R, kind)
    from .kernels import _numba_mixture

    kernel = _numba_mixture.weighted_diag if kind == "diag" else _numba_mixture.weighted_full
    return kernel(np.ascontiguousarray(Z), np.ascontiguousarray(R))


def responsibilities(densities: ClassDensities, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Responsibilities (n, k) and log p(x) (n,) of one chunk, by log-sum-exp.

    Examples
    --------
    >>> dens = _component_densities(np.array([[0.0], [2.0]]), np.array([[1.0], [1.0]]),
    ...                             "diag", np.array([1.0]), np.log([0.5, 0.5]))
    >>> R, logp = responsibilities(dens, np.array([[1.0]]))
    >>> R.tolist(), round(float(logp[0]), 6)
    ([[0.5, 0.5]], -1.418939)
    """
    J = densities.joint(X)
    logp = normalise_rows(J)
    if not np.isfinite(logp).all():
        raise ValueError(
            "X has values too large for the mixture's densities (about 1e154 or more); "
            "rescale the data first"
        )
    return J, logp


def normalise_rows(J: np.ndarray) -> np.ndarray:
    """Responsibilities in place and log p(x): the compiled loop, or numpy."""
    if not use_kernel():
        return normalise_rows_numpy(J)
    from .kernels import _numba_mixture

    return _numba_mixture.normalise_rows(J)


def _log_marginal(densities: DensityEvaluator, X: np.ndarray) -> np.ndarray:
    """log p(x) of every row (n,), chunk by chunk (``score_samples``)."""
    out = np.empty(X.shape[0])
    rows = default_chunk_rows(max(X.shape[1], densities.means.shape[0]))
    for start in range(0, X.shape[0], rows):
        part = slice(start, start + rows)
        out[part] = responsibilities(densities, np.asarray(X[part], dtype=np.float64))[1]
    return out


def _chunk_pass(
    X: np.ndarray,
    w: np.ndarray | None,
    densities: ClassDensities,
    kind: str,
    reference: np.ndarray,
    rows: slice,
    n_worst: int,
) -> _ChunkResult:
    """E-step and weighted statistics of one chunk; its responsibilities are dropped here."""
    Z = np.subtract(X[rows], reference, dtype=np.float64)
    R, logp = responsibilities(densities, Z)
    wc = None if w is None else w[rows]
    if wc is None:
        loglik = float(np.add.reduce(logp))
    else:
        loglik = float(wc @ logp)
        R *= wc[:, None]
    stats = GaussianStats(*weighted_moments(Z, R, kind), kind)
    index = np.arange(rows.start, rows.stop)
    if wc is not None:
        logp, index = logp[wc > 0], index[wc > 0]
    if logp.shape[0] > n_worst:
        keep = np.argpartition(logp, n_worst)[:n_worst] if n_worst else slice(0, 0)
        logp, index = logp[keep], index[keep]
    return _ChunkResult(stats, loglik, logp, index)


def em_pass(
    X: np.ndarray,
    w: np.ndarray | None,
    densities: ClassDensities,
    kind: str,
    reference: np.ndarray,
    chunk_rows: int,
    n_worst: int = 0,
) -> tuple[GaussianStats, float, _Worst]:
    """One E-step and M-step accumulation over X, chunk by chunk.

    Everything happens in coordinates shifted by ``reference`` (``X - reference``
    is exact near the reference), so ``densities`` holds the components in
    those coordinates and the statistics come back in them: data far from the
    origin loses nothing to the rounding of the means. Returns the
    per-component weighted statistics (batch ``(k,)``), the (weighted) sum of
    log p(x) under the current parameters, and the ``n_worst`` rows the model
    explains worst.

    Chunks run in threads (the compiled kernels and numpy release the GIL;
    BLAS on one thread meanwhile); their results are merged in chunk order,
    so the result does not depend on the number of threads.
    """
    n, d = X.shape
    k = densities.means.shape[0]
    chunks = [slice(s, min(s + chunk_rows, n)) for s in range(0, n, chunk_rows)]

    def one(rows: slice) -> _ChunkResult:
        return _chunk_pass(X, w, densities, kind, reference, rows, n_worst)

    workers = _workers(len(chunks))
    total = GaussianStats.empty(d, kind, (k,))
    loglik = 0.0
    worst = _Worst(n_worst)
    threaded = workers > 1
    with (
        _kernels.one_blas_thread() if threaded else nullcontext(),
        ThreadPoolExecutor(workers) if threaded else nullcontext() as pool,
    ):
        for part in pool.map(one, chunks) if threaded else map(one, chunks):
            total = total.merge(part.stats)
            loglik += part.loglik
            if n_worst:
                worst.add(part.worst_logp, part.worst_rows)
    return total, loglik, worst


# ---------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class _Params:
    """One state of the mixture: weights, means, covariances and the statistics behind them."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    stats: GaussianStats | None


@dataclass
class _Log:
    """What the fit did about degenerate components (for the one warning)."""

    reseeded: dict[int, int] = field(default_factory=dict)
    floored: dict[int, float] = field(default_factory=dict)
    emptied: set[int] = field(default_factory=set)

    def message(self) -> str | None:
        """One sentence per kind of event, or None when nothing happened."""
        parts = []
        if self.reseeded:
            what = ", ".join(f"{c} ({n}x)" for c, n in sorted(self.reseeded.items()))
            parts.append(
                f"components lost all their weight and were re-seeded at the rows the model "
                f"explained worst: {what}"
            )
        if self.emptied:
            parts.append(
                "components left with weight 0 (kept, never predicted) after "
                f"{MAX_RESEEDS} re-seeds: {sorted(self.emptied)}"
            )
        if self.floored:
            what = ", ".join(
                f"{'the tied covariance' if c < 0 else c} (+{v:.3g})"
                for c, v in sorted(self.floored.items())
            )
            parts.append(
                "covariances singular even with reg_covar (collapsed onto a point or a "
                f"subspace) got a floor added to their diagonal: {what}"
            )
        if not parts:
            return None
        return "GaussianMixture: " + "; ".join(parts) + "."


@contextmanager
def unchanged_on_error(model: Any) -> Iterator[None]:
    """Run a fitting step that leaves ``model`` as it was (all attributes) if it raises.

    A refused batch or source must not leave a fitted model half updated (say
    with the new ``n_features_in_`` and the old parameters), nor an unfitted
    one looking fitted. Fitted attributes are replaced, never changed in
    place, so a shallow copy of the attributes is a snapshot.

    Examples
    --------
    >>> gm = GaussianMixture(1)
    >>> try:
    ...     with unchanged_on_error(gm):
    ...         gm.n_features_in_ = 3
    ...         raise ValueError("refused")
    ... except ValueError:
    ...     pass
    >>> hasattr(gm, "n_features_in_")
    False
    """
    before = dict(vars(model))
    try:
        yield
    except BaseException:
        vars(model).clear()
        vars(model).update(before)
        raise


def refuse_tiny_spreads(X: np.ndarray, data: GaussianStats) -> None:
    """The classifier's rule: a feature whose values differ by too little to square is refused.

    ``data`` holds the pooled statistics of X. A feature whose variance is
    below ``TINY_VARIANCE`` is usable only when constant; otherwise its
    squared deviations underflow and no ``reg_covar`` or floor can give it a
    meaningful variance (:func:`gaussmle._spread.check_spread`). Only such
    columns are read again.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1e-160, 2.0]])
    >>> refuse_tiny_spreads(X, GaussianStats.from_data(X))
    Traceback (most recent call last):
    ...
    ValueError: feature 0 of X varies by only about 1e-160, too little for float64 arithmetic on its squares (variances below 1e-304 underflow); rescale X first, e.g. multiply it by 1e+160
    """  # noqa: E501
    variance = data.to_diag().variance
    check_spread(tiny_spreads(X, variance), variance)


def floor_covariances(
    cov: np.ndarray, covariance_type: str | Structure, scale: np.ndarray, log: _Log
) -> np.ndarray:
    """Covariances made safely positive definite, relative to the data's variance ``scale``.

    A variance (diag, spherical) not above ``n_features * eps`` times the data's
    variance, or a matrix (full, tied) whose Cholesky factor fails that test,
    gets ``FLOOR`` times the data's variance added to its diagonal (then ten
    times more, until it factorises). Others are returned untouched.

    Examples
    --------
    >>> log = _Log()
    >>> floor_covariances(np.array([[1.0, 0.0]]), "diag", np.array([4.0, 4.0]), log).tolist()
    [[1.0, 4e-09]]
    >>> log.floored
    {0: 4e-09}
    """
    cov, floored = structure_for(covariance_type).floor(cov, scale, FLOOR)
    log.floored.update(floored)
    return cov


# ---------------------------------------------------------------------- online EM
def _exact_relative(params: _Params, stats: GaussianStats | None, ref: np.ndarray) -> _Params:
    """``params`` (moved by ``-ref``) with each mean taken from ``stats`` where they agree.

    ``means_`` are float64: far from the origin they are rounded (to about
    1e-7 at 1e9). The statistics keep the mean exactly (``mean + mean_lo``);
    for every component whose float64 mean is the statistics' (all but the
    re-seeded ones) the next E-step uses that exact value.
    """
    if stats is None or stats.mean.shape != params.means.shape:
        return params
    rounded = params.means + ref
    same = np.all(np.abs(stats.mean - rounded) <= 4 * np.spacing(np.abs(rounded)), axis=1)
    exact = (stats.mean - ref) + stats.lo
    means = np.where(same[:, None], exact, params.means)
    return _Params(params.weights, means, params.covariances, params.stats)


# ---------------------------------------------------------------------- the estimator
class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM: scikit-learn's API, exact statistics, sample weights.

    Parameters follow :class:`sklearn.mixture.GaussianMixture` and mean the
    same: ``covariance_type`` in {"full", "tied", "diag", "spherical"},
    ``reg_covar`` added to every variance, ``init_params`` in {"kmeans",
    "k-means++", "random", "random_from_data"} (k-means is scikit-learn's),
    ``weights_init``/``means_init``/``precisions_init`` to start from given
    parameters, ``warm_start`` to continue from the last fit.

    Beyond scikit-learn: ``fit(X, sample_weight=...)`` (integer weights equal
    repeated rows), an M-step from centred float64 statistics merged exactly
    between row chunks (no ``n x k`` matrix is kept), and degenerate
    components handled instead of an error (see :class:`DegenerateComponentWarning`),
    and :meth:`partial_fit`, stepwise online EM over the running averages of
    the statistics, with step size ``(t + learning_offset) ** -learning_decay``
    at batch ``t`` (``0.5 < learning_decay <= 1``, ``learning_offset >= 0``).

    ``fit`` also takes a Dask array or DataFrame (and Dask weights): each EM
    iteration is one map-reduce of the blocks' weighted statistics, merged
    exactly, so it equals the in-memory fit; a start from ``init_params`` is
    computed on at most ``INIT_SAMPLE_ROWS`` rows. :meth:`fit_source` runs the
    same EM over any :class:`gaussmle.mixture_sources.RowSource` (files read
    batch by batch, one pass per iteration; the Dask fit is one such source).
    ``predict``, ``predict_proba`` and ``score_samples`` of a Dask collection
    return lazy Dask arrays.

    ``missing="marginalize"`` makes NaN a missing value (the default,
    ``"error"``, refuses it): ``fit`` runs the exact EM for Gaussians with
    missing data (:mod:`gaussmle._mixture_missing`: each row's marginal density
    in the E-step, the conditional expectation and covariance of its missing
    coordinates in the M-step; the lower bound is the observed-data
    log-likelihood), for every covariance type, and ``predict``,
    ``predict_proba`` and ``score_samples`` evaluate each row by the density
    of its observed features. A row with every feature missing is refused;
    ``partial_fit`` and Dask collections do not take NaN yet.

    Attributes
    ----------
    weights_ : ndarray (k,)
    means_ : ndarray (k, d)
    covariances_ : ndarray -- full (k, d, d), tied (d, d), diag (k, d), spherical (k,)
    precisions_, precisions_cholesky_ : ndarray, shapes as ``covariances_``
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float -- mean log-likelihood per sample at the last E-step
    lower_bounds_ : list of float -- its value at each iteration
    component_stats_ : GaussianStats -- the responsibility-weighted statistics, batch (k,)
        (after :meth:`partial_fit`: their running average, scaled to ``weight_seen_``)
    n_batches_seen_ : int -- batches seen by :meth:`partial_fit` (a fit counts as one)
    weight_seen_ : float -- total sample weight seen by fit and partial_fit
    data_stats_ : GaussianStats -- the pooled statistics (diag, one group) of every row seen
        by fit and partial_fit: each :meth:`partial_fit` batch is judged with them by the
        tiny-spread rule (:func:`gaussmle._spread.refuse_tiny_spreads_seen`)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmle import GaussianMixture
    >>> X = np.array([[0.0], [0.2], [0.4], [10.0], [10.2], [10.4]])
    >>> gm = GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
    >>> sorted(gm.means_.ravel().round(6).tolist())
    [0.2, 10.2]
    >>> gm.predict([[0.1], [9.9]]).tolist() == gm.predict([[0.0], [10.0]]).tolist()
    True
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        warm_start: bool = False,
        random_state: Any = None,
        verbose: int = 0,
        learning_decay: float = 1.0,
        learning_offset: float = 0.0,
        missing: str = "error",
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset
        self.missing = missing

    # ------------------------------------------------------------------ checks
    def _check_parameters(self) -> None:
        check_choice(self.covariance_type, COVARIANCE_TYPES, name="covariance_type")
        check_choice(self.init_params, INIT_PARAMS, name="init_params")
        checks = (
            ("n_components", self.n_components, 1),
            ("n_init", self.n_init, 1),
            ("max_iter", self.max_iter, 0),
        )
        for name, value, low in checks:
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
        for name, value in (("tol", self.tol), ("reg_covar", self.reg_covar)):
            if not np.isscalar(value) or not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
        _check_schedule(self.learning_decay, self.learning_offset)
        check_choice(self.missing, ("error", "marginalize"), name="missing")

    def _checked_inits(
        self, d: int
    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """weights_init, means_init and covariances from precisions_init, validated."""
        k = self.n_components
        weights = _init_array(self.weights_init, (k,), "weights_init")
        if weights is not None:
            if (weights < 0).any() or (weights > 1).any():
                raise ValueError("weights_init must lie in [0, 1]; pass mixture proportions")
            if abs(1.0 - weights.sum()) > 1e-8:
                raise ValueError(
                    f"weights_init must sum to 1; it sums to {weights.sum():.10g}: divide by "
                    "its sum first"
                )
        means = _init_array(self.means_init, (k, d), "means_init")
        shape = structure_for(self.covariance_type).parameter_shape(k, d)
        prec = _init_array(self.precisions_init, shape, "precisions_init")
        cov = None if prec is None else _covariances_of_init(prec, self.covariance_type)
        return weights, means, cov

    def _check_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "weights_")
        X = validate_data(
            self, X, reset=False, dtype=(np.float64, np.float32), ensure_all_finite=False
        )
        if self._marginalize():
            return X  # NaN marks a missing value; infinity is refused where X is evaluated
        check_finite(X)
        return X

    def _marginalize(self) -> bool:
        """Whether NaN marks a missing value (``missing="marginalize"``)."""
        return getattr(self, "missing", "error") == "marginalize"

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixture:
        """Estimate the parameters by EM (``n_init`` starts; the best lower bound wins).

        Parameters
        ----------
        X : array-like (n, d)
        y : ignored
        sample_weight : array-like (n,), optional
            Non-negative weights: an integer weight equals repeating the row,
            weight 0 equals removing it.

        Returns
        -------
        self
        """
        with unchanged_on_error(self):  # a refused X leaves the model as it was
            self._check_parameters()
            warm = bool(self.warm_start) and hasattr(self, "converged_")
            if _is_dask(X):
                if self._marginalize():
                    raise ValueError(
                        "missing='marginalize' is not supported for Dask collections yet; "
                        "compute the data into memory, or drop the rows with missing values"
                    )
                from .dask_backend._mixture import dask_inputs
                from .dask_backend._mixture_rows import DaskRows

                Xd, w = dask_inputs(self, X, sample_weight, reset=not warm)
                ctx: _Fit = _SourceFit.of(self, DaskRows(Xd, w, batch_em_pass))
            else:
                ctx = self._memory_fit(X, sample_weight, reset=not warm)
            return self._run(ctx, warm)

    def fit_source(self, source: RowSource) -> GaussianMixture:
        """Estimate the parameters by EM over a row source: one pass over it per iteration.

        ``source`` is any :class:`gaussmle.mixture_sources.RowSource` (rows in
        files read batch by batch, a Dask collection, Spark partitions...): the
        pooled statistics come from one pass, each EM iteration is one
        :meth:`~gaussmle.mixture_sources.RowSource.em_pass` (the in-memory
        pass on each batch, merged exactly), and a start from ``init_params``
        is computed on at most ``INIT_SAMPLE_ROWS`` rows drawn by
        ``source.sample`` (all rows, in order, when there are no more, so on
        small data this is :meth:`fit`'s start). The result equals
        :meth:`fit` on the same rows whatever the batches. Feature names are
        the caller's to set.

        Parameters
        ----------
        source : RowSource

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmle.mixture_sources import ArrayRows
        >>> X = np.array([[0.0], [0.2], [0.4], [10.0], [10.2], [10.4]])
        >>> gm = GaussianMixture(2, covariance_type="diag", random_state=0)
        >>> gm = gm.fit_source(ArrayRows(X, batch_rows=[1, 4, 1]))
        >>> sorted(gm.means_.ravel().round(6).tolist())
        [0.2, 10.2]
        """
        self._check_parameters()
        warm = bool(self.warm_start) and hasattr(self, "converged_")
        d = int(source.n_features)
        if warm and d != self.n_features_in_:
            raise ValueError(
                f"the source has {d} features, but this mixture was fitted with "
                f"{self.n_features_in_}; pass rows with the same features"
            )
        with unchanged_on_error(self):  # a refused source leaves the model as it was
            ctx = _SourceFit.of(self, source)  # validates the source's rows
            self._run(ctx, warm)
            if not warm:
                self.n_features_in_ = d
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        return self

    def _run(self, ctx: _Fit, warm: bool) -> GaussianMixture:
        """EM in the fit's context ``ctx`` (``n_init`` starts; the best lower bound wins)."""
        inits = self._checked_inits(ctx.n_features)
        rs = check_random_state(self.random_state)
        best: tuple[float, _Params, int, list[float], bool] | None = None
        for init in range(self.n_init if not warm else 1):
            if self.verbose:
                print(f"Initialization {init}")
            ctx.reseeds.clear()  # each start has its own budget of re-seeds
            params = ctx.initial(inits, rs) if not warm else ctx.relative(self._params())
            bound, params, n_iter, history, converged = ctx.iterate(
                params, -np.inf if not warm else self.lower_bound_
            )
            if best is None or bound > best[0]:
                best = (bound, params, n_iter, history, converged)
        assert best is not None
        bound, params, n_iter, history, converged = best
        if not converged and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        message = ctx.log.message()
        if message:
            warnings.warn(message, DegenerateComponentWarning, stacklevel=3)
        self._set_params(ctx.absolute(params))
        self.converged_ = converged
        self.n_iter_ = n_iter
        self.lower_bound_ = float(bound)
        self.lower_bounds_ = history
        self.n_batches_seen_ = 1  # partial_fit continues with the fit as its first step
        self.weight_seen_ = ctx.total_weight
        self.data_stats_ = ctx.data.to_diag().pooled()  # judged by the tiny-spread rule
        return self

    def _memory_fit(self, X: Any, sample_weight: Any, *, reset: bool) -> _Fit:
        """The fit's context for in-memory data: validated X, weights, pooled statistics."""
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=(np.float64, np.float32),
            ensure_min_samples=2,
            ensure_all_finite=False,
        )
        n = X.shape[0]
        _check_rows(n, self.n_components)
        w = check_sample_weight(sample_weight, n)
        if self._marginalize():
            return _MissingFit.of(self, X, w)
        check_finite(X)
        data = GaussianStats.from_data(X, w, structure_for(self.covariance_type).stats_kind)
        refuse_tiny_spreads(X, data)
        return _Fit(X, w, data, self, _Log())

    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixture:
        """One step of stepwise online EM (Cappe and Moulines 2009) on a batch of rows.

        The first call (on an unfitted model) initialises as :meth:`fit` does,
        from this batch with ``init_params`` or from ``weights_init``,
        ``means_init`` and ``precisions_init``. Every call then runs one E-step
        on the batch under the current parameters, giving its per-component
        weighted statistics ``S_t`` (normalised to total weight one), and
        updates their running average

        ``A_t = (1 - gamma_t) A_{t-1} + gamma_t S_t``, with
        ``gamma_t = (t + learning_offset) ** -learning_decay`` (``gamma_1 = 1``),

        ``t`` the number of batches seen, this one included. The average is
        kept as centred statistics (counts and m2 rescaled, merged exactly), and
        the parameters come from it as in :meth:`fit`'s M-step (``reg_covar``,
        floors, re-seeding of empty components). The defaults (decay 1, offset
        0) make ``A_t`` the plain mean of the batches' statistics; a decay below
        1 forgets old batches faster (for drifting streams). After :meth:`fit`
        the fit counts as the first batch.

        Parameters
        ----------
        X : array-like (n, d)
            A batch of rows (on the first call at least ``n_components``).
        y : ignored
        sample_weight : array-like (n,), optional
            Non-negative weights of the batch's rows.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> gm = GaussianMixture(2, covariance_type="diag", random_state=0)
        >>> for _ in range(5):
        ...     batch = np.concatenate([rng.normal(0, 1, (200, 1)), rng.normal(8, 1, (200, 1))])
        ...     gm = gm.partial_fit(batch)
        >>> gm.n_batches_seen_, sorted(np.round(gm.means_.ravel()).astype(int).tolist())
        (5, [0, 8])
        """
        with unchanged_on_error(self):  # a refused batch leaves the model as it was
            self._check_parameters()
            first = not hasattr(self, "weights_")
            X = validate_data(
                self, X, reset=first, dtype=(np.float64, np.float32), ensure_all_finite=False
            )
            if self._marginalize() and np.isnan(X).any():
                raise ValueError(
                    "partial_fit does not support missing values yet (missing='marginalize' works "
                    "with fit); drop or impute the rows with NaN in this batch"
                )
            check_finite(X)
            n, d = X.shape
            if first and n < self.n_components:
                raise ValueError(
                    f"the first batch has {n} rows but n_components={self.n_components}; pass a "
                    "first batch with at least as many rows as components"
                )
            w = check_sample_weight(sample_weight, n)
            kind = structure_for(self.covariance_type).stats_kind
            ctx = _Fit(X, w, GaussianStats.from_data(X, w, kind), self, _Log())
            known = None if first else getattr(self, "data_stats_", None)  # None: an older file
            data_seen = refuse_tiny_spreads_seen(X, ctx.data, known)
            if first:  # later batches only update parameters that this one started
                params = ctx.initial(self._checked_inits(d), check_random_state(self.random_state))
                previous, t = None, 1
            else:
                params = _exact_relative(
                    ctx.relative(self._params()), self.component_stats_, ctx.ref
                )
                previous, t = self.component_stats_, getattr(self, "n_batches_seen_", 1) + 1
            gamma = step_size(t, self.learning_decay, self.learning_offset)
            dens = _densities_of(params, self.covariance_type)
            stats, loglik, worst = em_pass(
                X, w, dens, kind, ctx.ref, ctx.chunk_rows, n_worst=self.n_components
            )
            average = running_average(previous, stats.shifted(ctx.ref), gamma)
            batch_weight = ctx.total_weight
            relative = scaled_stats(average, batch_weight).shifted(-ctx.ref)
            seen = batch_weight + (0.0 if first else self._weight_seen())
            with _kernels.one_blas_thread():  # small factorisations, once per batch
                new = ctx.absolute(ctx._m_step(relative, params, worst))
                kept = scaled_stats(average, seen)
                self._set_params(_Params(new.weights, new.means, new.covariances, kept))
            message = ctx.log.message()
            if message:
                warnings.warn(message, DegenerateComponentWarning, stacklevel=2)
            self.n_batches_seen_ = t
            self.weight_seen_ = seen
            self.data_stats_ = data_seen
            self.lower_bound_ = loglik / batch_weight
            self.lower_bounds_ = ([] if first else list(self.lower_bounds_)) + [self.lower_bound_]
            self.converged_ = False
            self.n_iter_ = 0 if first else self.n_iter_
            return self

    def _weight_seen(self) -> float:
        """Total weight seen so far (a model read from a file: its statistics' weight)."""
        if hasattr(self, "weight_seen_"):
            return float(self.weight_seen_)
        stats = self.component_stats_
        return 0.0 if stats is None else float(np.sum(stats.count))

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> np.ndarray:
        """Fit, then the most probable component of each row of X."""
        return self.fit(X, sample_weight=sample_weight).predict(X)

    def _params(self) -> _Params:
        return _Params(self.weights_, self.means_, self.covariances_, self.component_stats_)

    def _set_params(self, params: _Params) -> None:
        self.weights_ = params.weights
        self.means_ = params.means
        self.covariances_ = params.covariances
        self.component_stats_ = params.stats
        self.precisions_cholesky_ = _precision_cholesky(params.covariances, self.covariance_type)
        self.precisions_ = _precisions(self.precisions_cholesky_, self.covariance_type)
        self._evaluator = _densities_of(params, self.covariance_type)

    def _densities(self) -> ClassDensities:
        return self._evaluator

    # ------------------------------------------------------------------ predicting
    def score_samples(self, X: Any) -> np.ndarray:
        """log p(x) under the mixture, shape (n,)."""
        if _is_dask(X):
            return self._lazy(X, GaussianMixture.score_samples, None)
        return self._evaluate(self._check_X(X), _log_marginal)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean log-likelihood per row (weighted by ``sample_weight`` if given)."""
        logp = self.score_samples(X)
        w = check_sample_weight(sample_weight, logp.shape[0])
        return float(logp.mean() if w is None else (w @ logp) / w.sum())

    def predict_proba(self, X: Any) -> np.ndarray:
        """Responsibilities p(component | x), shape (n, k); rows sum to one."""
        if _is_dask(X):
            return self._lazy(X, GaussianMixture.predict_proba, self.n_components)
        return self._evaluate(self._check_X(X), DensityEvaluator.posterior)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable component of each row."""
        if _is_dask(X):
            return self._lazy(X, GaussianMixture.predict, None)
        return self._evaluate(self._check_X(X), DensityEvaluator.best)

    def _evaluate(
        self, X: np.ndarray, evaluation: Callable[[DensityEvaluator, np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """``evaluation(densities, X)``; rows with NaN (missing="marginalize") by their marginal."""
        dens = self._densities()
        missing = np.isnan(X) if self._marginalize() else None
        if missing is None or not missing.any():
            return evaluation(dens, X)
        from ._missing import evaluate_with_missing

        return evaluate_with_missing(dens, X, missing, missing.any(axis=1), evaluation)

    def _lazy(
        self, X: Any, method: Callable[[GaussianMixture, np.ndarray], np.ndarray], width: int | None
    ) -> Any:
        """``method`` mapped lazily over the row blocks of a Dask collection (a dask array)."""
        from .dask_backend._mixture import map_rows

        check_is_fitted(self, "weights_")
        return map_rows(self, X, method, width)

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw rows from the mixture; scikit-learn's algorithm and random stream.

        Returns ``(X, y)``, y the component of each row (rows grouped by component).
        """
        check_is_fitted(self, "weights_")
        if n_samples < 1:
            raise ValueError(f"n_samples must be at least 1; got {n_samples}")
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        structure = structure_for(self.covariance_type)
        parts = []
        for c, (mean, m) in enumerate(zip(self.means_, counts, strict=True)):
            parts.append(structure.draw(rng, mean, self.covariances_, c, m))
        y = np.concatenate([np.full(m, j, dtype=int) for j, m in enumerate(counts)])
        return np.vstack(parts), y

    # ------------------------------------------------------------------ model selection
    def _n_parameters(self) -> int:
        k, d = self.means_.shape
        cov = structure_for(self.covariance_type).n_parameters(k, d)
        return int(cov + k * d + k - 1)

    def bic(self, X: Any) -> float:
        """Bayesian information criterion ``-2 LL + p log(n)`` (lower is better)."""
        n = np.shape(X)[0]
        return -2.0 * self.score(X) * n + self._n_parameters() * float(np.log(n))

    def aic(self, X: Any) -> float:
        """Akaike information criterion ``-2 LL + 2 p`` (lower is better)."""
        return -2.0 * self.score(X) * np.shape(X)[0] + 2.0 * self._n_parameters()

    def summary(self, X: Any = None, *, data_name: str = "the data") -> Any:
        """Fit statistics, weights, means and covariances per component (a ``Summary``).

        With ``X``, the log-likelihood, AIC and BIC are computed on it; without,
        from the last E-step of the fit (``lower_bound_`` times the weighted rows).

        Examples
        --------
        >>> X = [[0.0], [0.2], [0.4], [10.0], [10.2], [10.4]]
        >>> gm = GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
        >>> s = gm.summary(X)
        >>> s.fit["components"], s.fit["n_parameters"], round(s.fit["loglik"], 4)
        (2, 5, -1.7995)
        """
        from .summary import summarize

        return summarize(self, X, data_name=data_name)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._marginalize()
        return tags


def _init_array(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray | None:
    """A user's initial parameter as float64 of ``shape``, finite."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape} but {shape} is needed for this model")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity; pass finite values")
    return arr


def _covariances_of_init(prec: np.ndarray, covariance_type: str | Structure) -> np.ndarray:
    """Covariances from a validated-shape ``precisions_init``; refuses non-positive-definite."""
    structure = structure_for(covariance_type)
    structure.check_precisions(prec, "precisions_init")
    return structure.from_precisions(prec)


def _densities_of(params: _Params, covariance_type: str) -> ClassDensities:
    """The evaluator of a state: reference point the mixture's mean, log weights as priors."""
    weights = params.weights
    reference = (weights / weights.sum()) @ params.means
    with np.errstate(divide="ignore"):
        log_weight = np.log(weights)
    return _component_densities(
        params.means, params.covariances, covariance_type, reference, log_weight
    )


@dataclass
class _Fit:
    """One call to fit: the data, its pooled statistics and what was done about degeneracy."""

    X: np.ndarray
    w: np.ndarray | None
    data: GaussianStats
    model: GaussianMixture
    log: _Log
    reseeds: dict[int, int] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.model.covariance_type

    @property
    def kind(self) -> str:
        return structure_for(self.type).stats_kind

    @property
    def ref(self) -> np.ndarray:
        """The origin of the fit's coordinates: the (weighted) data mean."""
        return self.data.mean

    def relative(self, params: _Params) -> _Params:
        """A state in absolute coordinates moved to the fit's (shifted by ``ref``)."""
        stats = None if params.stats is None else params.stats.shifted(-self.ref)
        return _Params(params.weights, params.means - self.ref, params.covariances, stats)

    def absolute(self, params: _Params) -> _Params:
        """A state in the fit's coordinates moved back to the data's."""
        stats = None if params.stats is None else params.stats.shifted(self.ref)
        return _Params(params.weights, params.means + self.ref, params.covariances, stats)

    @property
    def total_weight(self) -> float:
        return float(self.data.count)

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def chunk_rows(self) -> int:
        return mixture_chunk_rows(self.n_features)

    # -------------------------------------------------------------- initialisation
    def initial(self, inits: tuple[np.ndarray | None, ...], rs: np.random.RandomState) -> _Params:
        """The starting state: from ``init_params``, overridden by the user's inits."""
        weights_init, means_init, cov_init = inits
        model = self.model
        if means_init is not None:
            means_init = means_init - self.ref
        if weights_init is not None and means_init is not None and cov_init is not None:
            return _Params(weights_init, means_init, cov_init, None)
        stats = self._init_stats(rs)
        n_rows = float(self.n_rows) if self.w is None else self.total_weight
        weights = stats.count / n_rows  # scikit-learn's (not normalised for one-row seeds)
        means = stats.mean.copy()
        cov = covariances_from_stats(stats, self.type, model.reg_covar)
        params = self._repair(_Params(weights, means, cov, stats), None, _Worst(0))
        return _Params(
            params.weights if weights_init is None else weights_init,
            params.means if means_init is None else means_init,
            params.covariances if cov_init is None else cov_init,
            stats,
        )

    def _init_stats(self, rs: np.random.RandomState) -> GaussianStats:
        """Per-component statistics of the initial responsibilities."""
        X, w, k = self.X, self.w, self.model.n_components
        how = self.model.init_params
        if how == "kmeans":
            from sklearn.cluster import KMeans

            with warnings.catch_warnings():  # empty clusters are re-seeded and reported
                warnings.simplefilter("ignore", ConvergenceWarning)
                km = KMeans(n_clusters=k, n_init=1, random_state=rs).fit(X, sample_weight=w)
            return GaussianStats.from_groups(X, km.labels_, k, w, self.kind).shifted(-self.ref)
        if how == "random":
            total = GaussianStats.empty(X.shape[1], self.kind, (k,))
            for start in range(0, X.shape[0], self.chunk_rows):
                rows = slice(start, start + self.chunk_rows)
                part = X[rows]
                R = rs.uniform(size=(part.shape[0], k))
                R /= R.sum(axis=1)[:, None]
                if w is not None:
                    R *= w[rows, None]
                Z = np.subtract(part, self.ref, dtype=np.float64)
                total = total.merge(GaussianStats(*weighted_moments(Z, R, self.kind), self.kind))
            return total
        if how == "k-means++":
            from sklearn.cluster import kmeans_plusplus

            _, idx = kmeans_plusplus(X, k, random_state=rs, sample_weight=w)
        else:  # random_from_data
            p = None if w is None else w / w.sum()
            idx = rs.choice(X.shape[0], size=k, replace=False, p=p)
        seed_w = None if w is None else w[idx]
        seeds = GaussianStats.from_groups(X[idx], np.arange(k), k, seed_w, self.kind)
        return seeds.shifted(-self.ref)

    # -------------------------------------------------------------- EM
    def em_pass(self, dens: ClassDensities) -> tuple[GaussianStats, float, _Worst]:
        """One E-step and M-step accumulation over the data (see :func:`em_pass`)."""
        k = self.model.n_components
        return em_pass(self.X, self.w, dens, self.kind, self.ref, self.chunk_rows, n_worst=k)

    def row(self, index: int) -> np.ndarray:
        """Row ``index`` of the data (a re-seeding candidate)."""
        return self.X[index]

    def iterate(
        self, params: _Params, bound: float
    ) -> tuple[float, _Params, int, list[float], bool]:
        """EM from ``params`` until the lower bound changes by less than tol, or max_iter."""
        model = self.model
        history: list[float] = []
        converged = False
        n_iter = 0
        for n_iter in range(1, model.max_iter + 1):
            previous = bound
            stats, loglik, worst = self.em_pass(_densities_of(params, self.type))
            bound = loglik / self.total_weight
            params = self._m_step(stats, params, worst)
            history.append(bound)
            if model.verbose:
                print(f"  Iteration {n_iter}\t lower bound {bound:.10g}")
            if abs(bound - previous) < model.tol:
                converged = True
                break
        if model.max_iter == 0:
            n_iter = 0
        return bound, params, n_iter, history, converged

    def _m_step(self, stats: GaussianStats, previous: _Params, worst: _Worst) -> _Params:
        """Parameters from the weighted statistics, then degenerate components repaired."""
        count = stats.count
        weights = count / count.sum()
        cov = covariances_from_stats(stats, self.type, self.model.reg_covar)
        return self._repair(_Params(weights, stats.mean.copy(), cov, stats), previous, worst)

    def _repair(self, params: _Params, previous: _Params | None, worst: _Worst) -> _Params:
        """Re-seed empty components, floor singular covariances (both reported in the log)."""
        weights = params.weights.copy()
        means = params.means.copy()
        cov = np.array(params.covariances, copy=True)
        count = params.stats.count if params.stats is not None else weights
        empty = count < EMPTY_WEIGHT * self.total_weight / self.n_rows
        candidates = iter(worst.rows.tolist())
        for c in np.flatnonzero(empty):
            c = int(c)
            done = self.reseeds.get(c, 0)
            if done >= MAX_RESEEDS:
                self.log.emptied.add(c)
                weights[c] = 0.0
                if previous is not None:
                    means[c] = previous.means[c]
                    if structure_for(self.type).per_component:
                        cov[c] = previous.covariances[c]
                continue
            self.reseeds[c] = done + 1
            self.log.reseeded[c] = self.log.reseeded.get(c, 0) + 1
            row = next(candidates, None)
            means[c] = 0.0 if row is None else np.subtract(self.row(row), self.ref)
            if structure_for(self.type).per_component:
                cov[c] = covariances_from_stats(self.data, self.type, self.model.reg_covar)
            weights[c] = 1.0 / len(weights)
        if empty.any():
            weights = weights / weights.sum()
        cov = floor_covariances(cov, self.type, _data_scale(self.data), self.log)
        return _Params(weights, means, cov, params.stats)


# ---------------------------------------------------------------------- missing values
@dataclass
class _MissingFit(_Fit):
    """A fit to rows with missing values (``missing="marginalize"``; NaN marks them).

    EM as in :class:`_Fit`, with the exact E- and M-step for missing
    coordinates of :mod:`gaussmle._mixture_missing` on the incomplete rows
    (the complete rows take the usual pass). ``X`` is the data with each gap
    filled by its feature's observed mean: only the start (``init_params``),
    re-seeding and the data's scale see it.
    """

    missing: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    complete: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    patterns: Any = None

    @classmethod
    def of(cls, model: GaussianMixture, X: np.ndarray, w: np.ndarray | None) -> _MissingFit:
        """The context of ``model.fit(X)`` for in-memory rows that may hold NaN."""
        from ._mixture_missing import Patterns, check_missing_rows, filled

        missing = np.isnan(X)
        check_missing_rows(missing, X)
        complete = np.flatnonzero(~missing.any(axis=1))
        full = filled(X, missing, w)
        data = GaussianStats.from_data(full, w, structure_for(model.covariance_type).stats_kind)
        refuse_tiny_spreads(X, data)  # the observed values (NaN are skipped)
        return cls(full, w, data, model, _Log(), {}, missing, complete, Patterns.of(missing))

    @cached_property
    def _complete_rows(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The complete rows and their weights (copied once per fit)."""
        if self.complete.shape[0] == self.X.shape[0]:
            return self.X, self.w
        return self.X[self.complete], None if self.w is None else self.w[self.complete]

    def em_pass(self, dens: ClassDensities) -> tuple[GaussianStats, float, _Worst]:
        """The usual pass over the complete rows, the missing-value pass over the others."""
        from ._mixture_missing import Components, missing_pass

        k = self.model.n_components
        Xc, wc = self._complete_rows
        stats, loglik, worst = em_pass(Xc, wc, dens, self.kind, self.ref, self.chunk_rows, k)
        worst.rows = self.complete[worst.rows]
        if Xc.shape[0] == self.X.shape[0]:
            return stats, loglik, worst
        comp = Components.of(dens.means, dens.family.covariances, dens.log_weight, self.kind)
        fit = (self.X, self.ref, self.missing, self.w, self.patterns)
        part = missing_pass(
            *fit, comp, self.kind, self.chunk_rows, k, weighted_moments, normalise_rows
        )
        worst.add(part.logp, part.rows)
        return stats.merge(part.stats), loglik + part.loglik, worst


# ---------------------------------------------------------------------- row sources
#: At most this many rows of a row source (a Dask collection, files...) are read to start
#: the fit from ``init_params`` (all of them when there are fewer); the EM passes use every row.
INIT_SAMPLE_ROWS = 10_000


def _is_dask(X: Any) -> bool:
    """Whether ``X`` is a Dask collection (checked without importing Dask)."""
    return type(X).__module__.startswith("dask.")


def _check_rows(n: int, n_components: int) -> None:
    """Refuse fewer rows than components."""
    if n < n_components:
        raise ValueError(
            f"n_components={n_components} is more than the {n} rows of X; pass at "
            "least as many rows as components or use fewer components"
        )


def mixture_chunk_rows(n_features: int) -> int:
    """Rows per chunk of an EM pass: ``GAUSSMLE_MIXTURE_CHUNK_ROWS``, or about 4 MiB of rows.

    Examples
    --------
    >>> mixture_chunk_rows(8) == default_chunk_rows(8)
    True
    """
    rows = os.environ.get("GAUSSMLE_MIXTURE_CHUNK_ROWS")
    return int(rows) if rows else default_chunk_rows(max(n_features, 8))


def batch_em_pass(
    X: np.ndarray,
    w: np.ndarray | None,
    densities: ClassDensities,
    kind: str,
    reference: np.ndarray,
    n_worst: int,
) -> tuple[GaussianStats, float, np.ndarray, np.ndarray]:
    """:func:`em_pass` on one batch of rows, as a row source merges it.

    Returns the batch's per-component statistics, its (weighted) sum of log
    p(x), and the ``n_worst`` smallest log p(x) (ascending) with their rows
    *within the batch*.

    Examples
    --------
    >>> dens = _component_densities(np.array([[0.0], [2.0]]), np.array([[1.0], [1.0]]),
    ...                             "diag", np.zeros(1), np.log([0.5, 0.5]))
    >>> stats, loglik, worst, rows = batch_em_pass(
    ...     np.array([[1.0], [5.0]]), None, dens, "diag", np.zeros(1), 1)
    >>> stats.count.round(4).tolist(), round(loglik, 4), rows.tolist()
    ([0.5003, 1.4997], -7.5307, [1])
    """
    chunk_rows = mixture_chunk_rows(X.shape[1])
    stats, loglik, worst = em_pass(X, w, densities, kind, reference, chunk_rows, n_worst)
    return stats, loglik, worst.logp, worst.rows


@dataclass
class _SourceFit(_Fit):
    """A fit on a row source (:mod:`gaussmle.mixture_sources`): one pass per EM iteration.

    The pooled statistics (the reference point of the coordinates) come from
    one pass before EM; each EM pass is ``source.em_pass`` (the in-memory pass
    on each batch, merged exactly), and the parameters are updated here. A
    start from ``init_params`` is computed on at most ``INIT_SAMPLE_ROWS`` rows
    (``source.sample``: all rows, in order, when there are no more, so on small
    data it is the in-memory fit's start); with ``weights_init``,
    ``means_init`` and ``precisions_init`` all given no row is read for it.
    """

    source: Any = None

    @classmethod
    def of(cls, model: GaussianMixture, source: RowSource) -> _SourceFit:
        """The context of a fit of ``model`` on ``source`` (reads the pooled statistics)."""
        data = source.pooled_stats(structure_for(model.covariance_type).stats_kind)
        n = int(source.n_rows)
        if n < 2:
            raise ValueError(f"X has {n} rows; a mixture needs at least 2")
        _check_rows(n, model.n_components)
        return cls(None, None, data, model, _Log(), source=source)  # type: ignore[arg-type]

    @property
    def n_rows(self) -> int:
        return int(self.source.n_rows)

    @property
    def n_features(self) -> int:
        return int(self.source.n_features)

    def em_pass(self, dens: ClassDensities) -> tuple[GaussianStats, float, _Worst]:
        """One pass over the source: the batches' weighted statistics, merged exactly."""
        k = self.model.n_components
        stats, loglik, logp, rows = self.source.em_pass(dens, self.kind, self.ref, k)
        return stats, loglik, _Worst(k, np.asarray(logp), np.asarray(rows, dtype=np.intp))

    def row(self, index: int) -> np.ndarray:
        """Row ``index`` of the source (only re-seeding asks, for a few rows)."""
        return np.asarray(self.source.row(index), dtype=np.float64)

    def initial(self, inits: tuple[np.ndarray | None, ...], rs: np.random.RandomState) -> _Params:
        """The user's start, or ``init_params`` on sampled rows (see the class docstring)."""
        if all(value is not None for value in inits):
            return super().initial(inits, rs)
        Xs, ws = self.source.sample(INIT_SAMPLE_ROWS, rs)
        Xs = np.asarray(Xs, dtype=np.float64)
        _check_rows(Xs.shape[0], self.model.n_components)
        sample = _Fit(Xs, ws, GaussianStats.from_data(Xs, ws, self.kind), self.model, self.log)
        start = sample.initial(inits, rs)
        # from the sample's coordinates to the fit's by their small difference, not through
        # absolute coordinates (which would round the means to the offset's precision)
        shift = sample.ref - self.ref
        stats = None if start.stats is None else start.stats.shifted(shift)
        return _Params(start.weights, start.means + shift, start.covariances, stats)


__all__ = ["DegenerateComponentWarning", "GaussianMixture"]
