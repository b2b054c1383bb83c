"""EM for Gaussian mixtures with missing values: the exact E- and M-step (Little and Rubin, ch. 11).

A NaN marks a missing coordinate. For component ``c`` with weight ``pi_c``,
mean ``mu`` and covariance ``S``, and a row whose coordinates split into an
observed block ``o`` and a missing block ``m``:

- **E-step.** The row's density under the component is the marginal Gaussian
  of its observed block, ``N(x_o | mu_o, S_oo)`` (the missing coordinates are
  integrated out). Responsibilities ``r_c`` and ``log p(x_o)`` come from these
  by log-sum-exp; the sum of the (weighted) ``log p(x_o)`` is the
  observed-data log-likelihood, the quantity EM never decreases.
- **M-step.** The expected complete-data sufficient statistics. Given the
  observed block and the component, the missing block is Gaussian with mean
  ``x^_m = mu_m + S_mo S_oo^-1 (x_o - mu_o)`` and covariance
  ``C = S_mm - S_mo S_oo^-1 S_om`` (which does not depend on the row, only on its
  pattern). So, with ``x^`` the row completed by ``x^_m``, a chunk's
  statistics for component ``c`` are the weighted mean of the completed rows
  and ``M2 = sum r (x^ - mean)(x^ - mean)^T + sum r C`` (``C`` placed in the
  missing block). ``S_oo^-1`` is never formed: ``S_oo`` is factorised
  (Cholesky) and ``S_oo^-1 S_om`` solved. For diagonal covariances (diag,
  spherical) the features are independent given the component: ``x^_m = mu_m``
  and ``C`` is the diagonal of the missing variances, so no pattern grouping
  is needed and every incomplete row is handled at once, masked.

The statistics keep the house rules: the completed rows are in coordinates
shifted by a reference point (the data's mean; the caller shifts), the
moments of a chunk are two-pass in float64 (the same ``moments`` function as
the complete-data EM, compiled kernel or numpy), and chunks and patterns are
merged with :meth:`GaussianStats.merge` (exact, Chan et al.). The result is
a batch of ``(k,)`` statistics like the complete-data pass gives, so every
covariance type's M-step (:func:`gaussmle.covariance.covariances_from_stats`)
applies unchanged: full takes each component's expected scatter, tied pools
them, diag takes their per-feature variances and spherical averages those.

Rows with every coordinate missing carry no information about the components
and are refused (:func:`check_missing_rows`).

This module is below the estimators: the mixture and the semi-supervised
classifier pass in their moments and normalisation functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.linalg import cholesky, solve_triangular

from .kernels import _kernels
from .stats import GaussianStats

#: (Z, R, kind) -> per-component (count, mean, m2) of rows Z with weights R (n, k).
Moments = Callable[[np.ndarray, np.ndarray, str], tuple[np.ndarray, np.ndarray, np.ndarray]]
#: Joint log densities (n, k) -> responsibilities in place; returns log p(x) (n,).
Normalise = Callable[[np.ndarray], np.ndarray]


def check_missing_rows(missing: np.ndarray, X: np.ndarray) -> None:
    """Refuse infinity, and rows with every coordinate missing.

    Examples
    --------
    >>> X = np.array([[1.0, np.nan], [np.nan, np.nan]])
    >>> check_missing_rows(np.isnan(X), X)
    Traceback (most recent call last):
    ...
    ValueError: row 1 of X has no observed value (every feature is NaN); drop such rows first
    """
    inf = np.isinf(X)
    if inf.any():
        i, j = np.argwhere(inf)[0]
        raise ValueError(f"X contains infinity (inf) at row {i}, column {j}; remove it first")
    empty = missing.all(axis=1)
    if empty.any():
        raise ValueError(
            f"row {int(np.argmax(empty))} of X has no observed value (every feature is NaN); "
            "drop such rows first"
        )


def filled(X: np.ndarray, missing: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """X (float64) with each missing value replaced by its feature's observed (weighted) mean.

    Only a starting point (k-means, re-seeding, the data's scale); EM never uses it.

    Examples
    --------
    >>> X = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 6.0]])
    >>> filled(X, np.isnan(X), None).tolist()
    [[1.0, 5.0], [3.0, 4.0], [2.0, 6.0]]
    """
    X = np.array(X, copy=True)
    seen = ~missing
    weights = seen if w is None else seen * w[:, None]
    total = weights.sum(axis=0)
    values = np.where(seen, X, 0.0)
    # a reference row (observed values) keeps the mean exact far from the origin
    first = np.where(seen.any(axis=0), values[np.argmax(seen, axis=0), np.arange(X.shape[1])], 0)
    dev = np.subtract(values, first, dtype=np.float64)
    mean = first + (dev * weights).sum(axis=0) / np.where(total > 0, total, 1.0)
    X[missing] = np.broadcast_to(mean, X.shape)[missing]
    return X


@dataclass(frozen=True)
class Patterns:
    """The incomplete rows, grouped by which coordinates they miss.

    ``rows[p]`` are the row indices of pattern ``p`` (ascending), ``observed[p]``
    its observed coordinates (bool, (d,)).

    Examples
    --------
    >>> missing = np.array([[False, True], [False, False], [False, True], [True, False]])
    >>> p = Patterns.of(missing)
    >>> [r.tolist() for r in p.rows], [o.tolist() for o in p.observed]
    ([[0, 2], [3]], [[True, False], [False, True]])
    """

    rows: list[np.ndarray]
    observed: list[np.ndarray]

    @classmethod
    def of(cls, missing: np.ndarray) -> Patterns:
        incomplete = np.flatnonzero(missing.any(axis=1))
        if incomplete.size == 0:
            return cls([], [])
        patterns, which = np.unique(missing[incomplete], axis=0, return_inverse=True)
        which = which.ravel()
        order = np.argsort(which, kind="stable")
        bounds = np.searchsorted(which[order], np.arange(patterns.shape[0] + 1))
        rows = [incomplete[order[a:b]] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        return cls(rows, [~p for p in patterns])


@dataclass(frozen=True)
class MissingPass:
    """What the incomplete rows contribute to one EM pass.

    ``stats``: per-component expected statistics (batch ``(k,)``, in the shifted
    coordinates); ``loglik``: the weighted sum of log p(x_o); ``logp`` and
    ``rows``: the rows the model explains worst (at most ``n_worst``).
    """

    stats: GaussianStats
    loglik: float
    logp: np.ndarray
    rows: np.ndarray


@dataclass(frozen=True)
class Components:
    """The components' parameters in the shifted coordinates, in the form the steps need.

    ``means`` (k, d); ``variances`` (k, d) for diagonal kinds, ``covariances``
    (k, d, d) for full ones (None otherwise); ``log_weight`` (k,).
    """

    means: np.ndarray
    log_weight: np.ndarray
    variances: np.ndarray | None = None
    covariances: np.ndarray | None = None

    @classmethod
    def of(
        cls, means: np.ndarray, covariances: np.ndarray, log_weight: np.ndarray, kind: str
    ) -> Components:
        """From GaussianMixture-shaped covariances (full (k,d,d), tied (d,d), diag (k,d),
        spherical (k,)): broadcast to one per component.

        Examples
        --------
        >>> c = Components.of(np.zeros((2, 3)), np.array([1.0, 2.0]), np.zeros(2), "diag")
        >>> c.variances.tolist()
        [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
        """
        means = np.asarray(means, dtype=np.float64)
        k, d = means.shape
        cov = np.asarray(covariances, dtype=np.float64)
        if kind == "diag":
            var = cov[:, None] if cov.ndim == 1 else cov
            return cls(means, log_weight, variances=np.broadcast_to(var, (k, d)))
        return cls(means, log_weight, covariances=np.broadcast_to(cov, (k, d, d)))


def _top(logp: np.ndarray, rows: np.ndarray, n_worst: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_worst`` smallest ``logp`` and their rows."""
    if logp.shape[0] > n_worst:
        keep = np.argpartition(logp, n_worst)[:n_worst] if n_worst else slice(0, 0)
        return logp[keep], rows[keep]
    return logp, rows


def _stack(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], kind: str) -> GaussianStats:
    """Per-component (count, mean, m2), each of batch (1,), as one batch (k,)."""
    count, mean, m2 = (np.concatenate(values) for values in zip(*parts, strict=True))
    return GaussianStats(count, mean, m2, kind)


def diag_joint(Z: np.ndarray, missing: np.ndarray, comp: Components) -> np.ndarray:
    """log pi_c + log N(z_o | mu_o, diag var_o) of every row (n, k), masked per row.

    Examples
    --------
    >>> comp = Components.of(np.zeros((1, 2)), np.ones((1, 2)), np.zeros(1), "diag")
    >>> Z = np.array([[1.0, np.nan]])
    >>> diag_joint(Z, np.isnan(Z), comp).round(6).tolist()  # N(1 | 0, 1)
    [[-1.418939]]
    """
    var = comp.variances
    seen = (~missing).astype(np.float64)
    J = np.empty((Z.shape[0], comp.means.shape[0]))
    for c in range(comp.means.shape[0]):
        dev = np.where(missing, 0.0, Z - comp.means[c])
        J[:, c] = (dev * dev) @ (1.0 / var[c]) + seen @ np.log(2.0 * np.pi * var[c])
    J *= -0.5
    J += comp.log_weight
    return J


def _diag_chunk(
    Z: np.ndarray,
    missing: np.ndarray,
    w: np.ndarray | None,
    comp: Components,
    moments: Moments,
    normalise: Normalise,
) -> tuple[GaussianStats, np.ndarray]:
    """E- and M-step of incomplete rows under diagonal covariances; (stats, log p(x_o))."""
    R = diag_joint(Z, missing, comp)
    logp = normalise(R)
    if w is not None:
        R *= w[:, None]
    parts = []
    for c in range(comp.means.shape[0]):
        completed = np.where(missing, comp.means[c], Z)
        count, mean, m2 = moments(completed, R[:, c : c + 1], "diag")
        m2 = m2 + (R[:, c] @ missing) * comp.variances[c]  # sum r * (conditional variance)
        parts.append((count, mean, m2))
    return _stack(parts, "diag"), logp


@dataclass(frozen=True)
class Conditional:
    """One component's Gaussian on one missingness pattern: marginal and conditional.

    ``factor``: the lower Cholesky factor of ``S_oo`` (the marginal of the
    observed block); the missing block given the observed one has mean
    ``mu_m + (x_o - mu_o) @ gain`` and covariance ``cov`` (m, m).
    """

    factor: np.ndarray
    gain: np.ndarray
    cov: np.ndarray

    @classmethod
    def of(cls, cov: np.ndarray, observed: np.ndarray) -> Conditional:
        """``S_oo = L L^T``; ``gain = S_oo^-1 S_om`` by two triangular solves;
        ``cov = S_mm - S_mo gain``.

        Examples
        --------
        >>> S = np.array([[2.0, 1.0], [1.0, 2.0]])
        >>> cond = Conditional.of(S, np.array([True, False]))
        >>> cond.gain.round(12).tolist(), cond.cov.round(12).tolist()
        ([[0.5]], [[1.5]])
        """
        o, m = np.flatnonzero(observed), np.flatnonzero(~observed)
        factor = cholesky(cov[np.ix_(o, o)], lower=True)
        half = solve_triangular(factor, cov[np.ix_(o, m)], lower=True)
        gain = solve_triangular(factor, half, lower=True, trans="T")
        cond = cov[np.ix_(m, m)] - half.T @ half
        return cls(factor, gain, 0.5 * (cond + cond.T))

    def log_density(self, dev: np.ndarray) -> np.ndarray:
        """log N(x_o | mu_o, S_oo) of rows with deviations ``dev = x_o - mu_o`` (n, o).

        Examples
        --------
        >>> cond = Conditional.of(np.array([[4.0, 0.0], [0.0, 1.0]]), np.array([True, False]))
        >>> round(float(cond.log_density(np.array([[2.0]]))[0]), 6)  # N(2 | 0, 4)
        -2.112086
        """
        white = solve_triangular(self.factor, dev.T, lower=True, check_finite=False)
        log_det = 2.0 * np.log(np.diagonal(self.factor)).sum()
        q = np.einsum("ij,ij->j", white, white)
        return -0.5 * (dev.shape[1] * np.log(2.0 * np.pi) + log_det + q)


def _full_group(
    Z: np.ndarray,
    missing: np.ndarray,
    w: np.ndarray | None,
    comp: Components,
    moments: Moments,
    normalise: Normalise,
    *,
    observed: np.ndarray,
) -> tuple[GaussianStats, np.ndarray]:
    """E- and M-step of rows sharing one pattern under full covariances; (stats, log p(x_o)).

    One factorisation of ``S_oo`` per component serves every row of the pattern.
    """
    o, m = np.flatnonzero(observed), np.flatnonzero(~observed)
    k = comp.means.shape[0]
    Zo = Z[:, o]
    conds = [Conditional.of(comp.covariances[c], observed) for c in range(k)]
    R = np.empty((Z.shape[0], k))
    for c, cond in enumerate(conds):
        R[:, c] = cond.log_density(Zo - comp.means[c, o])
    R += comp.log_weight
    logp = normalise(R)
    if w is not None:
        R *= w[:, None]
    parts = []
    for c, cond in enumerate(conds):
        completed = Z.copy()
        completed[:, m] = comp.means[c, m] + (Zo - comp.means[c, o]) @ cond.gain
        count, mean, m2 = moments(completed, R[:, c : c + 1], "full")
        m2 = m2.copy()
        m2[0][np.ix_(m, m)] += R[:, c].sum() * cond.cov  # sum r * (conditional covariance)
        parts.append((count, mean, m2))
    return _stack(parts, "full"), logp


def _full_rows(
    Z: np.ndarray,
    missing: np.ndarray,
    w: np.ndarray | None,
    comp: Components,
    moments: Moments,
    normalise: Normalise,
) -> tuple[GaussianStats, np.ndarray]:
    """E- and M-step of rows with any patterns under full covariances, batched over rows.

    For data where nearly every row has its own pattern (many features): per
    row and component, ``S_oo`` padded to ``d x d`` with the identity on the
    missing coordinates, ``B = S_oo (+) I``, and ``G`` the ``S_om`` block padded
    with zeros. One stacked solve ``B^-1 [dev_o | G]`` (LU, no inverse formed)
    gives the Mahalanobis term ``dev_o^T S_oo^-1 dev_o`` and the gain
    ``S_oo^-1 S_om``; ``log det B = log det S_oo``. Same formulas as the
    per-pattern step, evaluated for every row at once.
    """
    n, d = Z.shape
    k = comp.means.shape[0]
    seen = ~missing
    pad = missing[:, :, None] * np.eye(d)  # the identity on the missing coordinates
    observed_pair = seen[:, :, None] & seen[:, None, :]
    missing_pair = missing[:, :, None] & missing[:, None, :]
    cross = seen[:, :, None] & missing[:, None, :]  # (observed row, missing column)
    R = np.empty((n, k))
    solved = []
    for c in range(k):
        S, mean = comp.covariances[c], comp.means[c]
        dev = np.where(missing, 0.0, Z - mean)
        B = np.where(observed_pair, S, 0.0) + pad
        G = np.where(cross, S, 0.0)
        sol = np.linalg.solve(B, np.concatenate([dev[:, :, None], G], axis=2))
        _, log_det = np.linalg.slogdet(B)
        q = np.einsum("ni,ni->n", dev, sol[:, :, 0])
        R[:, c] = -0.5 * (seen.sum(axis=1) * np.log(2.0 * np.pi) + log_det + q)
        solved.append((dev, G, sol[:, :, 1:]))
    R += comp.log_weight
    logp = normalise(R)
    if w is not None:
        R *= w[:, None]
    parts = []
    for c, (dev, G, gain) in enumerate(solved):
        S, mean = comp.covariances[c], comp.means[c]
        filled = mean + (dev[:, None, :] @ gain)[:, 0]  # right on the missing columns
        completed = np.where(missing, filled, Z)
        count, mu, m2 = moments(completed, R[:, c : c + 1], "full")
        cond = np.where(missing_pair, S, 0.0) - np.swapaxes(G, 1, 2) @ gain
        m2 = m2 + np.tensordot(R[:, c], cond, axes=1)  # sum r * (conditional covariance)
        parts.append((count, mu, m2))
    return _stack(parts, "full"), logp


#: Below this many incomplete rows per missingness pattern (on average), full
#: covariances take the row-batched step (:func:`_full_rows`) instead of one
#: factorisation per pattern (:func:`_full_group`).
GROUPED_MIN_ROWS = 16
#: Bytes of each stacked ``rows x d x d`` work array of the row-batched step.
BATCH_BYTES = 1 << 22


def _steps(
    patterns: Patterns, kind: str, n_features: int, chunk_rows: int
) -> list[tuple[np.ndarray, Callable[..., tuple[GaussianStats, np.ndarray]], int]]:
    """(rows, step, rows per chunk) for the incomplete rows: how they are worked through."""
    every = np.sort(np.concatenate(patterns.rows)) if patterns.rows else np.empty(0, np.intp)
    if kind == "diag":
        return [(every, _diag_chunk, chunk_rows)]
    if every.shape[0] < GROUPED_MIN_ROWS * len(patterns.rows):
        batch = max(1, min(chunk_rows, BATCH_BYTES // (8 * n_features * n_features)))
        return [(every, _full_rows, batch)]
    return [
        (rows, partial(_full_group, observed=observed), chunk_rows)
        for rows, observed in zip(patterns.rows, patterns.observed, strict=True)
    ]


def missing_pass(
    X: np.ndarray,
    ref: np.ndarray,
    missing: np.ndarray,
    w: np.ndarray | None,
    patterns: Patterns,
    comp: Components,
    kind: str,
    chunk_rows: int,
    n_worst: int,
    moments: Moments,
    normalise: Normalise,
) -> MissingPass:
    """E-step and expected statistics of the incomplete rows of ``X``, shifted by ``ref``.

    ``missing`` marks the missing entries of ``X`` (whatever they hold: NaN or
    a stand-in value, never read); ``comp`` holds the components in the
    coordinates of ``X - ref``; ``patterns`` groups the incomplete rows.
    Chunks of at most ``chunk_rows`` rows, merged exactly in a fixed order.
    Row indices in the result are rows of ``X``.
    """
    with _kernels.one_blas_thread():  # small factorisations and solves: no BLAS threads
        k, d = comp.means.shape
        total = GaussianStats.empty(d, kind, (k,))
        loglik = 0.0
        worst_logp, worst_rows = np.empty(0), np.empty(0, dtype=np.intp)
        for rows, step, size in _steps(patterns, kind, d, chunk_rows):
            for start in range(0, rows.shape[0], size):
                these = rows[start : start + size]
                wc = None if w is None else w[these]
                Z = np.subtract(X[these], ref, dtype=np.float64)
                stats, logp = step(Z, missing[these], wc, comp, moments, normalise)
                if not np.isfinite(logp).all():
                    raise ValueError(
                        "X has values too large for the mixture's densities (about 1e154 or "
                        "more); rescale the data first"
                    )
                total = total.merge(stats)
                loglik += float(np.add.reduce(logp) if wc is None else wc @ logp)
                if wc is not None:
                    logp, these = logp[wc > 0], these[wc > 0]
                worst_logp, worst_rows = _top(
                    np.concatenate([worst_logp, logp]), np.concatenate([worst_rows, these]), n_worst
                )
        return MissingPass(total, loglik, worst_logp, worst_rows)
