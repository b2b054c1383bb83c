"""Fitting: sufficient statistics of Dask collections, whole or per class.

:func:`stats_from_dask` summarises the rows of a Dask array or DataFrame into one
:class:`GaussianStats`; :func:`class_stats_from_dask` does so per class and returns
``(classes, statistics, feature names)`` for the classifier to absorb (nothing here
imports the classifier). Both build the per-block work of
:mod:`gaussmle.dask_backend._blocks` and compute only the merged statistics.
"""

from __future__ import annotations

import warnings
from functools import reduce
from typing import Any

import numpy as np

from .._spread import TINY_VARIANCE, check_spread
from .._validation import check_choice
from ..stats import GaussianStats
from ._blocks import (
    _block_numbers,
    _blockwise_parts,
    _class_block_stats,
    _finish,
    _merge_parts,
    _plain_block_stats,
    _tree_reduce,
)
from ._convert import _as_dask_matrix, _as_dask_vector, _is_dask_frame, _n_rows


def stats_from_dask(
    X: Any, sample_weight: Any = None, kind: str = "diag", *, refuse_tiny_spread: bool = False
) -> GaussianStats:
    """Sufficient statistics of all rows of a Dask array or DataFrame (one group).

    Each row block is summarised with :meth:`GaussianStats.from_data` (float64
    accumulation) and the summaries are merged by a tree reduction; only the
    statistics reach the client.

    Parameters
    ----------
    X : dask array (n, d) or (n,), or dask DataFrame / Series
        The data; a 1-D array or a Series is one feature.
    sample_weight : dask array / Series, array-like (n,) or scalar, optional
        Non-negative weights, aligned with the rows of ``X``.
    kind : {"diag", "full"}
        Keep per-feature second moments or the full scatter matrix.
    refuse_tiny_spread : bool, default False
        Refuse a feature whose values differ but whose variance is too small
        for float64 squares, as :func:`gaussmle.fit` does in memory (see
        :func:`refuse_tiny_spreads`).

    Returns
    -------
    GaussianStats
        Statistics of one group (no batch shape).

    Raises
    ------
    ValueError
        For non-numeric or empty data, NaN or infinity (reported with the
        global row and column, when the blocks are computed), or bad weights.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> X = da.from_array(np.array([[1.0], [2.0], [3.0], [4.0]]), chunks=3)
    >>> s = stats_from_dask(X)
    >>> float(s.count), s.mean.tolist(), s.m2.tolist()
    (4.0, [2.5], [5.0])
    """
    import dask

    check_choice(kind, ("diag", "full"), name="kind")
    X = _as_dask_matrix(X, allow_1d=True)
    n = _n_rows(X)
    w = _as_dask_vector(sample_weight, X, name="sample_weight", numeric=True)
    if n == 0:
        raise ValueError("X is empty (0 samples); pass at least one row of data")
    parts = _blockwise_parts(_plain_block_stats, X, None, w, classes=None, kind=kind)
    root = _tree_reduce(parts, _merge_parts)
    _, stats = _finish(dask.compute(root)[0])
    if float(stats.count) <= 0:
        raise ValueError("sample_weight is all zero; at least one sample needs a positive weight")
    if refuse_tiny_spread:
        refuse_tiny_spreads(X, stats.to_diag().variance)
    return stats


def class_stats_from_dask(
    X: Any,
    y: Any,
    sample_weight: Any = None,
    *,
    kind: str = "diag",
    missing: bool = False,
    classes: Any = None,
    seen: GaussianStats | None = None,
) -> tuple[np.ndarray, GaussianStats, np.ndarray | None]:
    """Per-class sufficient statistics of Dask collections, for a model to absorb.

    This is the work behind ``GaussianClassifier.fit`` and ``partial_fit``
    when ``X`` is a Dask array or DataFrame; call those instead. Nothing here
    knows the classifier: it returns what the classifier needs.

    Parameters
    ----------
    X : dask array (n, d) or dask DataFrame
        Numeric features.
    y : dask array (n,), dask Series, one-column dask DataFrame, or array-like
        Class labels, aligned with the rows of ``X`` (re-chunked to ``X``'s
        row blocks when they differ).
    sample_weight : same kinds as ``y``, scalar, or None
        Non-negative weights.
    kind : {"diag", "full"}
        The statistics kind.
    missing : bool
        True: NaN in ``X`` marks a missing value (available-case statistics).
    classes : array-like, optional
        Every label that can occur, sorted. Without it the labels are found
        in the same pass over the data: each block reports its own labels and
        the merge unites them.
    seen : GaussianStats, optional
        The pooled statistics (one group, diag) of the data seen before this
        batch, for ``partial_fit``: a feature whose values differ but whose
        variance over all data seen is too small for float64 squares is
        refused (:func:`refuse_tiny_spreads`), as in memory.

    Returns
    -------
    classes : ndarray (k,)
        The sorted labels.
    stats : GaussianStats
        Per-class statistics, batch shape (k,).
    feature_names : ndarray of object or None
        A DataFrame's column labels (None for a Dask array).

    Raises
    ------
    ValueError
        For invalid input; NaN or infinity in a block is reported, with its
        global row and column, when the blocks are computed.

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.array([[0.0], [1.0], [5.0], [7.0]]), chunks=3)
    >>> y = da.from_array(np.array(["a", "a", "b", "b"]), chunks=3)
    >>> labels, stats, names = class_stats_from_dask(X, y)
    >>> labels.tolist(), stats.mean.ravel().tolist(), names
    (['a', 'b'], [0.5, 6.0], None)
    """
    import dask
    from sklearn.utils.multiclass import check_classification_targets

    check_choice(kind, ("diag", "full"), name="kind")
    names = _column_names(X._meta) if _is_dask_frame(X) else None
    X = _as_dask_matrix(X, allow_1d=False)
    y = _as_dask_vector(y, X, name="y", numeric=False)
    w = _as_dask_vector(sample_weight, X, name="sample_weight", numeric=True)
    if _n_rows(X) == 0:
        raise ValueError("X is empty (0 samples); pass at least one row of data")
    skip = "ignore" if missing else "error"  # NaN marks a missing value
    known = None if classes is None else np.asarray(classes)
    parts = _blockwise_parts(_class_block_stats, X, y, w, classes=known, kind=kind, missing=skip)
    root = _tree_reduce(parts, _merge_parts)
    labels, stats = _finish(dask.compute(root)[0])
    if known is None:
        check_classification_targets(labels)
        known = labels
    if float(np.sum(stats.count)) <= 0:
        raise ValueError("sample_weight is all zero; at least one sample needs a positive weight")
    pooled = stats.to_diag().pooled()
    if seen is None:
        refuse_tiny_spreads(X, pooled.variance)
    else:  # judged on all data seen, as partial_fit in memory
        refuse_tiny_spreads(X, pooled.variance, seen.merge(pooled).variance)
    return known, stats, names


def refuse_tiny_spreads(
    X: Any, variance: np.ndarray, judged: np.ndarray | None = None, *, rows: Any = None
) -> None:
    """Refuse a feature of a Dask array whose values differ but whose variance is tiny.

    The rule of the in-memory fits (:func:`gaussmle._spread.check_spread`):
    a feature whose variance is below ``TINY_VARIANCE`` (its squared deviations
    underflow) is only usable when it is constant. ``variance`` is that of
    ``X``; the spread (max - min of the finite values) of the features where it
    is tiny is judged against ``judged`` (the variance of all data seen; by
    default ``variance``). Only those columns are read again, and only when
    there are any, so the common case costs nothing. ``rows`` (a boolean dask
    array with the row chunks of ``X``) limits the look to those rows.

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.array([[0.0, 1.0], [1e-160, 2.0]]), chunks=1)
    >>> refuse_tiny_spreads(X, np.array([2.5e-321, 0.25]))
    Traceback (most recent call last):
    ...
    ValueError: feature 0 of X varies by only about 1e-160, too little for float64 arithmetic on its squares (variances below 1e-304 underflow); rescale X first, e.g. multiply it by 1e+160
    """  # noqa: E501
    import dask

    tiny = np.flatnonzero(np.asarray(variance) < TINY_VARIANCE)
    if not tiny.size:
        return
    x_blocks = X[:, tiny].to_delayed().ravel()
    row_blocks = [None] * len(x_blocks) if rows is None else list(rows.to_delayed().ravel())
    block = dask.delayed(_finite_range, pure=True)
    ranges = dask.compute(*[block(xb, rb) for xb, rb in zip(x_blocks, row_blocks, strict=True)])
    high = reduce(np.fmax, [r[0] for r in ranges])
    low = reduce(np.fmin, [r[1] for r in ranges])
    spread = np.zeros(np.shape(variance))
    with np.errstate(invalid="ignore"):  # no finite value in a column: spread 0, as in memory
        spread[tiny] = np.nan_to_num(high - low, nan=0.0)
    check_spread(spread, variance if judged is None else judged)


def _finite_range(X: np.ndarray, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the largest and smallest finite value (of ``rows``); NaN where none."""
    X = _block_numbers(X)
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if rows is not None:
        X = X[np.asarray(rows, dtype=bool)]
    X = np.where(np.isfinite(X), X, np.nan)
    if X.shape[0] == 0:
        nothing = np.full(X.shape[1], np.nan, dtype=X.dtype)
        return nothing, nothing
    with warnings.catch_warnings():  # a column without a finite value: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(X, axis=0), np.nanmin(X, axis=0)


def _column_names(meta: Any) -> np.ndarray:
    """A DataFrame's column labels, as they are (the model decides what to keep)."""
    names = np.empty(len(meta.columns), dtype=object)
    names[:] = list(meta.columns)
    return names
