"""The EM arithmetic of :class:`~gaussmle.GaussianMixture` that needs no estimator.

The numpy reference paths of the fused pass's two compiled loops (the
per-component weighted moments and the row-wise log-sum-exp), what a pass
keeps of its chunks (the worst-explained rows, one chunk's result), the
number of threads of a pass, the covariance/precision conversions, and the
online-EM step-size schedule with its running average of statistics.

:mod:`gaussmle.mixture` imports everything here and re-exports the names it
always had; the kernel-or-numpy choice (``use_kernel``) and the fused pass
that reads it stay there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._moments import centred_moments
from .covariance import Structure, structure_for
from .stats import GaussianStats


# ---------------------------------------------------------------------- the fused pass
def weighted_moments_numpy(
    Z: np.ndarray, R: np.ndarray, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-component (count, mean, m2) of rows ``Z`` with weights ``R`` (n, k), float64.

    The reference path of the fused kernel: for each component the corrected
    two-pass moments of :func:`gaussmle._moments.centred_moments`.

    Examples
    --------
    >>> Z = np.array([[0.0], [2.0], [4.0]])
    >>> R = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    >>> count, mean, m2 = weighted_moments_numpy(Z, R, "diag")
    >>> count.tolist(), mean.ravel().round(4).tolist(), m2.ravel().round(4).tolist()
    ([1.5, 1.5], [0.6667, 3.3333], [1.3333, 1.3333])
    """
    k, d = R.shape[1], Z.shape[1]
    count = np.zeros(k)
    mean = np.zeros((k, d))
    m2 = np.zeros((k, d) if kind == "diag" else (k, d, d))
    for c in range(k):
        r = np.ascontiguousarray(R[:, c])
        n_c, mean_c, m2_c = centred_moments(Z.copy(), r, kind)
        if n_c > 0:
            count[c], mean[c], m2[c] = n_c, mean_c, m2_c
    if kind == "diag":
        np.maximum(m2, 0.0, out=m2)  # rounding of the correction term, never below zero
    return count, mean, m2


def normalise_rows_numpy(J: np.ndarray) -> np.ndarray:
    """Joint log densities (n, k) to responsibilities in place, by log-sum-exp; log p(x) (n,).

    The reference path of the compiled :func:`gaussmle.kernels._numba_mixture.normalise_rows`.

    Examples
    --------
    >>> J = np.log(np.array([[1.0, 3.0]]))
    >>> logp = normalise_rows_numpy(J)
    >>> J.tolist(), round(float(np.exp(logp[0])), 12)
    ([[0.25, 0.75]], 4.0)
    """
    top = J.max(axis=1)
    with np.errstate(invalid="ignore"):  # a row of -inf: NaN, reported by the caller
        J -= top[:, None]
    np.exp(J, out=J)
    total = J.sum(axis=1)
    J /= total[:, None]
    return top + np.log(total)


@dataclass
class _Worst:
    """The rows with the smallest log p(x) seen in a pass (candidates for re-seeding)."""

    size: int
    logp: np.ndarray = field(default_factory=lambda: np.empty(0))
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))

    def add(self, logp: np.ndarray, rows: np.ndarray) -> None:
        """Keep the ``size`` smallest of what was kept and ``logp`` (for ``rows``)."""
        logp = np.concatenate([self.logp, logp])
        rows = np.concatenate([self.rows, rows])
        if logp.shape[0] > self.size:
            keep = np.argpartition(logp, self.size - 1)[: self.size]
            logp, rows = logp[keep], rows[keep]
        order = np.argsort(logp, kind="stable")
        self.logp, self.rows = logp[order], rows[order]


@dataclass(frozen=True)
class _ChunkResult:
    """What one chunk of rows contributes to a pass."""

    stats: GaussianStats
    loglik: float
    worst_logp: np.ndarray
    worst_rows: np.ndarray


def _workers(n_chunks: int) -> int:
    """Threads for a pass: one per usable core, at most one per chunk."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(n_chunks, cores, int(os.environ.get("GAUSSMLE_MIXTURE_THREADS", cores))))


# ---------------------------------------------------------------------- covariances and precisions
def _data_scale(data: GaussianStats) -> np.ndarray:
    """Per-feature variance of all the data (ones where every feature is constant)."""
    var = np.asarray(data.variance, dtype=np.float64)
    top = float(var.max())
    return np.full_like(var, 1.0) if top == 0.0 else np.where(var > 0, var, top)


def _precision_cholesky(cov: np.ndarray, covariance_type: str | Structure) -> np.ndarray:
    """scikit-learn's ``precisions_cholesky_``: ``P = U U^T`` (U upper) for full/tied."""
    return structure_for(covariance_type).precision_cholesky(cov)


def _precisions(prec_chol: np.ndarray, covariance_type: str | Structure) -> np.ndarray:
    return structure_for(covariance_type).precisions(prec_chol)


def covariances_from_precisions(
    precisions: np.ndarray, covariance_type: str | Structure
) -> np.ndarray:
    """Invert precisions (through their Cholesky factor; no explicit inverse of the matrix).

    Examples
    --------
    >>> covariances_from_precisions(np.array([[4.0, 0.0], [0.0, 0.25]]), "tied").tolist()
    [[0.25, 0.0], [0.0, 4.0]]
    """
    return structure_for(covariance_type).from_precisions(precisions)


# ---------------------------------------------------------------------- online EM
def _check_schedule(decay: Any, offset: Any) -> None:
    """Refuse a step-size schedule outside 0.5 < learning_decay <= 1, learning_offset >= 0."""
    if not np.isscalar(decay) or not np.isfinite(decay) or not 0.5 < decay <= 1.0:
        raise ValueError(
            f"learning_decay must be a number in (0.5, 1] (the step size is "
            f"(t + learning_offset) ** -learning_decay); got {decay!r}"
        )
    if not np.isscalar(offset) or not np.isfinite(offset) or offset < 0:
        raise ValueError(f"learning_offset must be a finite number >= 0; got {offset!r}")


def step_size(t: int, decay: float, offset: float) -> float:
    """The online-EM step size of batch ``t`` (1-based): ``min(1, (t + offset) ** -decay)``.

    The first batch has step 1 (nothing to average with yet).

    Examples
    --------
    >>> [step_size(t, 1.0, 0.0) for t in (1, 2, 4)]
    [1.0, 0.5, 0.25]
    >>> round(step_size(2, 0.75, 14.0), 6)
    0.125
    """
    if t <= 1:
        return 1.0
    return min(1.0, float((t + offset) ** -decay))


def scaled_stats(stats: GaussianStats, factor: float) -> GaussianStats:
    """The statistics of the same data with every weight multiplied by ``factor``.

    Means are unchanged (with their rounding residue); counts and m2 scale.

    Examples
    --------
    >>> s = scaled_stats(GaussianStats.from_data([[0.0], [2.0]]), 0.25)
    >>> float(s.count), s.mean.tolist(), s.m2.tolist()
    (0.5, [1.0], [0.5])
    """
    fc = None if stats.feature_count is None else stats.feature_count * factor
    return GaussianStats(
        stats.count * factor, stats.mean, stats.m2 * factor, stats.kind, fc, stats.mean_lo
    )


def running_average(
    previous: GaussianStats | None, batch: GaussianStats, gamma: float
) -> GaussianStats:
    """``(1 - gamma) * previous + gamma * batch``, each normalised to total weight one.

    Cappe and Moulines' stepwise update of the expected sufficient statistics,
    done on centred statistics: both operands are rescaled (counts and m2) and
    merged exactly, so the result has counts summing to one and is the
    weighted union of the two. ``previous`` None (or ``gamma`` 1) gives the batch.

    Examples
    --------
    >>> a = GaussianStats.from_data([[0.0], [2.0]])
    >>> b = GaussianStats.from_data([[4.0], [6.0], [8.0], [10.0]])
    >>> s = running_average(a, b, 0.5)
    >>> float(s.count), s.mean.tolist(), s.m2.tolist()
    (1.0, [4.0], [12.0])
    """
    new = scaled_stats(batch, gamma / float(np.sum(batch.count)))
    if previous is None or gamma >= 1.0:
        return new
    old = scaled_stats(previous, (1.0 - gamma) / float(np.sum(previous.count)))
    return old.merge(new)
