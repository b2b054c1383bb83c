"""The tiny-spread rule: features that vary too little for float64 squares are refused.

A feature whose values differ by less than about 1e-152 has a variance below
:data:`TINY_VARIANCE`, where squares underflow and the fitted variance (and every
density) loses its precision. Every fit (``gaussmle.fit``, the classifier in memory,
streaming and on Dask, mixtures) applies the same rule with the same message:
a feature is refused when its variance is tiny but its values are not all equal
(an exactly constant feature is smoothed as documented, not refused). The
statistics only say that a variance is tiny; the spread (max - min) is looked up
from the rows, or combined from per-batch spreads without reading them again.
"""

from __future__ import annotations

import numpy as np

from .stats import GaussianStats

#: Variances below this lose float64 precision in their squares (sd below about 1e-152).
TINY_VARIANCE = 1e-304


def tiny_spreads(X: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Per feature, the spread (max - min) of X where ``variance`` is tiny; 0 elsewhere.

    ``variance`` (d,) comes from the statistics, so only features whose
    variance is below :data:`TINY_VARIANCE` (rare) cost a look at ``X``.

    Examples
    --------
    >>> tiny_spreads(np.array([[0.0, 0.0], [1e-160, 1.0]]), np.array([0.0, 0.25])).tolist()
    [1e-160, 0.0]
    """
    out = np.zeros(np.shape(variance))
    for j in np.flatnonzero(np.asarray(variance) < TINY_VARIANCE):
        column = X[:, j]
        column = column[np.isfinite(column)]
        out[j] = float(column.max() - column.min()) if column.size else 0.0
    return out


def batch_spread(X: np.ndarray, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """What one batch tells about each feature's spread, (3, d): lowest, highest, within.

    ``mean`` and ``variance`` (d,) are the batch's pooled statistics. The
    batch's mean is both its lowest and highest "value" (a constant batch's
    mean is its value, exactly); ``within`` is its spread where its variance
    is tiny (:func:`tiny_spreads`) and elsewhere twice its standard deviation,
    a lower bound of its range. Folded over batches by
    :func:`merge_batch_spreads`, :func:`spread_of_batches` then gives a spread
    that is positive exactly when the values of all batches are not all equal,
    without a second look at the data.

    Examples
    --------
    >>> batch_spread(np.array([[0.0, 1.0], [0.0, 3.0]]), np.array([0.0, 2.0]), np.array([0.0, 1.0]))
    array([[0., 2.],
           [0., 2.],
           [0., 2.]])
    """
    variance = np.asarray(variance, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        wide = variance >= TINY_VARIANCE
    within = np.where(wide, 2.0 * np.sqrt(np.where(wide, variance, 0.0)), tiny_spreads(X, variance))
    mean = np.asarray(mean, dtype=np.float64)
    return np.stack([mean, mean, within])


def judged_spread(mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """What data already judged tell about each feature's spread, (3, d), as :func:`batch_spread`.

    ``mean`` and ``variance`` (d,) are the pooled statistics of data that
    passed :func:`check_spread`, so a feature whose variance is tiny was
    constant there: its ``within`` is 0 and its value is the mean. Merged with
    a new batch's :func:`batch_spread` it judges the batch against all data
    seen without reading them again (a model's ``partial_fit``).

    Examples
    --------
    >>> seen = judged_spread(np.array([0.0, 2.0]), np.array([0.0, 1.0]))
    >>> seen.tolist()
    [[0.0, 2.0], [0.0, 2.0], [0.0, 2.0]]
    >>> new = batch_spread(np.full((2, 2), 1e-160), np.full(2, 1e-160), np.zeros(2))
    >>> spread_of_batches(merge_batch_spreads(seen, new)).tolist()
    [1e-160, 2.0]
    """
    return batch_spread(np.empty((0, np.shape(mean)[-1])), mean, variance)


def merge_batch_spreads(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    """Two :func:`batch_spread` results as one (NaN, a feature without values, ignored)."""
    if a is None:
        return b
    return np.stack([np.fmin(a[0], b[0]), np.fmax(a[1], b[1]), np.fmax(a[2], b[2])])


def spread_of_batches(spreads: np.ndarray) -> np.ndarray:
    """Per feature, a lower bound of the spread of all batches, 0 only when constant.

    Examples
    --------
    >>> a = batch_spread(np.zeros((2, 1)), np.zeros(1), np.zeros(1))
    >>> b = batch_spread(np.full((2, 1), 1e-160), np.full(1, 1e-160), np.zeros(1))
    >>> spread_of_batches(merge_batch_spreads(a, b)).tolist()
    [1e-160]
    """
    with np.errstate(invalid="ignore"):
        between = np.nan_to_num(spreads[1] - spreads[0], nan=0.0)
    return np.fmax(np.nan_to_num(spreads[2], nan=0.0), between)


def check_spread(spread: np.ndarray, variance: np.ndarray) -> None:
    """Refuse features whose spread is too small for float64 squares (not constant, not usable).

    ``spread`` (d,) is what :func:`tiny_spreads` found in the data (the largest
    over batches), ``variance`` (d,) the variance of all data from their
    statistics. A feature whose variance is below :data:`TINY_VARIANCE` (its
    squared deviations are subnormal or zero) but whose values are not all
    equal would give a model that cannot tell its classes apart.

    Examples
    --------
    >>> try:
    ...     check_spread(np.array([1e-160]), np.array([0.0]))
    ... except ValueError as exc:
    ...     print(str(exc).split(",")[0])
    feature 0 of X varies by only about 1e-160
    >>> check_spread(np.array([0.0]), np.array([0.0]))  # constant: fine
    """
    bad = np.flatnonzero((np.asarray(variance) < TINY_VARIANCE) & (np.asarray(spread) > 0.0))
    if bad.size:
        j = int(bad[0])
        factor = 10.0 ** -np.floor(np.log10(spread[j]))
        raise ValueError(
            f"feature {j} of X varies by only about {spread[j]:.0e}, too little for float64 "
            f"arithmetic on its squares (variances below {TINY_VARIANCE:.0e} underflow); "
            f"rescale X first, e.g. multiply it by {factor:.0e}"
        )


def refuse_tiny_spreads_seen(
    X: np.ndarray, batch: GaussianStats, seen: GaussianStats | None
) -> GaussianStats:
    """The tiny-spread rule on a batch judged with all data seen before; their pooled statistics.

    ``batch`` holds the statistics of the rows ``X``, ``seen`` the pooled
    statistics (diag) of the data seen before (None: none known). A feature is
    refused when the variance of all data together is tiny but their values
    are not all equal, within the batch or between it and the data seen (the
    streaming classifier's rule, :func:`gaussmle._spread.batch_spread`);
    ``seen`` passed the rule, so it needs no second look at its rows.

    Returns
    -------
    GaussianStats
        The pooled statistics (diag, one group) of the data seen and the batch.

    Examples
    --------
    >>> zeros = np.zeros((2, 1))
    >>> seen = refuse_tiny_spreads_seen(zeros, GaussianStats.from_data(zeros), None)
    >>> later = np.full((2, 1), 1e-160)
    >>> refuse_tiny_spreads_seen(later, GaussianStats.from_data(later), seen)
    Traceback (most recent call last):
    ...
    ValueError: feature 0 of X varies by only about 1e-160, too little for float64 arithmetic on its squares (variances below 1e-304 underflow); rescale X first, e.g. multiply it by 1e+160
    """  # noqa: E501
    batch = batch.to_diag().pooled()
    found = batch_spread(X, batch.mean, batch.variance)
    if seen is None:
        total, spreads = batch, found
    else:
        total = seen.merge(batch)
        spreads = merge_batch_spreads(judged_spread(seen.mean, seen.variance), found)
    check_spread(spread_of_batches(spreads), total.variance)
    return total
