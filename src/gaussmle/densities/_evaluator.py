"""One evaluator for every family of densities: chunks, threads, kernels, normalisation.

:class:`DensityEvaluator` combines a :class:`~gaussmle.densities._family.Family`
with class weights (log priors, or a mixture's log weights) and evaluates
joint log densities, log posteriors, posteriors (a mixture's
responsibilities) and the best class of whole arrays. It owns what every
family shares:

- the choice between the family's compiled kernel and the numpy path;
- row chunks of about 8 MiB of work space, run in threads with BLAS on one
  thread;
- log-sum-exp normalisation, in place;
- the far-point fallback (rows whose densities all underflow);
- the finiteness checks (the numpy path checks X first; a compiled kernel
  reports the rows it could not resolve, which are then checked).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._validation import check_finite
from ..kernels import _kernels
from ._family import Family
from ._gaussian import NoFeatures

#: Float64 work space per chunk of rows (bytes).
CHUNK_BYTES = 1 << 23


def _usable_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def require_finite_rows(X: np.ndarray, rows: np.ndarray) -> None:
    """Raise the usual NaN/infinity error if any of ``rows`` of X is not finite.

    Examples
    --------
    >>> require_finite_rows(np.array([[1.0], [np.nan]]), np.array([1]))
    Traceback (most recent call last):
    ...
    ValueError: X contains NaN at row 1, column 0; remove or impute missing values first
    """
    part = X[rows]
    bad = ~np.isfinite(part)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(part[i, j]) else "infinity (inf)"
        raise ValueError(
            f"X contains {what} at row {rows[i]}, column {j}; remove or impute missing values first"
        )


class DensityEvaluator:
    """Joint, posterior and best class of k weighted densities, on whole arrays.

    Parameters
    ----------
    family : Family
        The densities (their parameters and how to evaluate one chunk).
    log_weight : ndarray (k,), optional
        Added to each log density by :meth:`joint`: log priors, or a
        mixture's log weights (-inf for a density that must never win).
        Zeros by default.

    Examples
    --------
    >>> from gaussmle.densities import DiagFamily
    >>> fam = DiagFamily(np.array([[0.0], [2.0]]), np.ones((2, 1)), np.array([1.0]))
    >>> ev = DensityEvaluator(fam, np.log([0.5, 0.5]))
    >>> ev.posterior(np.array([[1.0]])).tolist(), ev.best(np.array([[1.9]])).tolist()
    ([[0.5, 0.5]], [1])
    """

    def __init__(self, family: Family, log_weight: np.ndarray | None = None) -> None:
        self.family = family
        k = family.n_classes
        self.log_weight = np.zeros(k) if log_weight is None else np.asarray(log_weight, float)
        self._kernel = family.compiled(self.log_weight)

    # -------------------------------------------------------------- what it holds
    @property
    def means(self) -> np.ndarray:
        """The means (k, d) (locations, for Student t)."""
        return self.family.means

    @property
    def reference(self) -> np.ndarray:
        """The shift point (d,)."""
        return self.family.reference

    @property
    def n_features(self) -> int:
        return self.family.n_features

    def with_weights(self, log_weight: np.ndarray) -> DensityEvaluator:
        """The same densities with other weights (e.g. a mixture's next E-step)."""
        return DensityEvaluator(self.family, log_weight)

    def marginal(self, observed: np.ndarray) -> DensityEvaluator:
        """The densities of the features where ``observed`` is True, same weights."""
        if not np.any(observed):
            return DensityEvaluator(NoFeatures(self.family.n_classes), self.log_weight)
        return DensityEvaluator(self.family.marginal(observed), self.log_weight)

    def _uses(self, mode: int) -> bool:
        # asked per evaluation, not only when the family was built: switching the
        # compiled kernels off (GAUSSMLE_NO_NUMBA) takes effect for fitted models too
        return self._kernel is not None and mode in self._kernel.modes and _kernels.available()

    # -------------------------------------------------------------- evaluations
    def log_density(self, X: np.ndarray) -> np.ndarray:
        """log p_c(x) without the weights, shape (n, k); -inf where a square overflows."""
        check_finite(X)
        out = np.empty((X.shape[0], self.family.n_classes))
        return self._map_rows(X, self._log_density_chunk, out)

    def joint(self, X: np.ndarray) -> np.ndarray:
        """log weight_c + log p_c(x), shape (n, k)."""
        if self._uses(_kernels.JOINT):
            out = self._kernel(X, _kernels.JOINT)
            if np.isfinite(np.add.reduce(out, axis=None)):
                return out  # a finite sum: every entry finite (one cheap pass)
            lost = ~np.isfinite(out.max(axis=1))  # NaN, or every density underflowed
            if lost.any():
                require_finite_rows(X, np.flatnonzero(lost))
            # NaN only from squares that overflowed (|x| > 1e154): a density of 0
            np.nan_to_num(out, copy=False, nan=-np.inf, posinf=-np.inf, neginf=-np.inf)
            return out
        check_finite(X)
        out = np.empty((X.shape[0], self.family.n_classes))
        return self._map_rows(X, self._joint_chunk, out)

    def log_posterior(self, X: np.ndarray) -> np.ndarray:
        """Normalised log posterior by log-sum-exp, shape (n, k)."""
        return self._normalised(X, _kernels.LOG_POSTERIOR)

    def posterior(self, X: np.ndarray) -> np.ndarray:
        """Posterior probabilities (a mixture's responsibilities), shape (n, k); rows sum to 1."""
        return self._normalised(X, _kernels.POSTERIOR)

    def best(self, X: np.ndarray) -> np.ndarray:
        """Index of the density with the largest joint log density, shape (n,)."""
        if self._uses(_kernels.BEST):
            best = self._kernel(X, _kernels.BEST)
            lost = best < 0
            if lost.any():
                rows = np.flatnonzero(lost)
                require_finite_rows(X, rows)
                best[rows] = self._best_chunk(X[rows])
            return best
        check_finite(X)
        return self._map_rows(X, self._best_chunk, np.empty(X.shape[0], dtype=np.intp))

    # -------------------------------------------------------------- the machinery
    def _normalised(self, X: np.ndarray, mode: int) -> np.ndarray:
        """Log posteriors or posteriors (``mode``), kernel first, exact path for the rest."""
        if self._uses(mode):
            out = self._kernel(X, mode)
            lost = np.isnan(out[:, 0])
            if lost.any():
                rows = np.flatnonzero(lost)
                require_finite_rows(X, rows)
                logp = self._log_posterior_chunk(X[rows])
                out[rows] = logp if mode == _kernels.LOG_POSTERIOR else np.exp(logp)
            return out
        check_finite(X)
        out = np.empty((X.shape[0], self.family.n_classes))
        self._map_rows(X, self._log_posterior_chunk, out)
        if mode == _kernels.POSTERIOR:
            np.exp(out, out=out)
        return out

    def _log_density_chunk(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.family.log_density(X)
        # NaN can only come from squares that overflowed (|x| > 1e154): such a
        # density is 0, so its log is -inf
        np.nan_to_num(out, copy=False, nan=-np.inf, posinf=-np.inf, neginf=-np.inf)
        return out

    def _joint_chunk(self, X: np.ndarray) -> np.ndarray:
        out = self._log_density_chunk(X)
        out += self.log_weight
        return out

    def _ranking_chunk(self, X: np.ndarray) -> np.ndarray:
        """Joint log densities up to a per-row constant (enough to rank and normalise)."""
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.family.ranking(X)
        np.nan_to_num(out, copy=False, nan=-np.inf, posinf=-np.inf, neginf=-np.inf)
        out += self.log_weight
        return out

    def _best_chunk(self, X: np.ndarray) -> np.ndarray:
        J = self._ranking_chunk(X)
        lost = ~np.isfinite(J.max(axis=1))
        if lost.any():
            J[lost] = self._far_rows(X[lost])
        return J.argmax(axis=1)

    def _log_posterior_chunk(self, X: np.ndarray) -> np.ndarray:
        """Log-sum-exp normalisation of the rankings of a chunk, in place."""
        J = self._ranking_chunk(X)
        top = J.max(axis=1)
        lost = ~np.isfinite(top)
        if lost.any():
            J[lost] = self._far_rows(X[lost])
            top[lost] = 0.0
        J -= top[:, None]
        with np.errstate(under="ignore"):
            norm = np.log(np.exp(J).sum(axis=1))
        J -= norm[:, None]
        return J

    def _far_rows(self, X: np.ndarray) -> np.ndarray:
        """Log posterior of points so far away that every density underflows to 0.

        In that limit the density with the best far-point score (the smallest
        Mahalanobis distance, compared in log space) takes all the probability.
        """
        score = self.family.far_ranking(X)
        score[:, ~np.isfinite(self.log_weight)] = -np.inf
        winner = np.argmax(score, axis=1)
        out = np.full(score.shape, -np.inf)
        out[np.arange(X.shape[0]), winner] = 0.0
        return out

    def _rows(self, n: int) -> Iterator[slice]:
        """Row slices sized so that one chunk's work space is about 8 MiB."""
        width = max(self.family.n_features, self.family.n_classes, 1)
        step = max(256, CHUNK_BYTES // (8 * width * 4))
        for start in range(0, n, step):
            yield slice(start, min(start + step, n))

    def _map_rows(
        self, X: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], out: np.ndarray
    ) -> np.ndarray:
        """out[rows] = fn(X[rows]) chunk by chunk, on all cores with BLAS on one thread.

        Row chunks in threads (numpy releases the GIL) beat multi-threaded BLAS
        on these small matrix products, whose threads mostly wait on each other.
        """
        chunks = list(self._rows(X.shape[0]))
        workers = min(len(chunks), _usable_cores())

        def run(rows: slice) -> None:
            out[rows] = fn(X[rows])

        if workers <= 1:
            for rows in chunks:
                run(rows)
            return out
        with _kernels.one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(run, chunks):
                pass
        return out
