"""Fitting: sufficient statistics of Dask collections, whole or per class.

:func:`stats_from_dask` summarises the rows of a Dask array or DataFrame into one
:class:`GaussianStats`; :func:`fit_classifier_stats` does so per class for
:meth:`GaussianClassifier.fit` and ``partial_fit``. Both build the per-block work of
:mod:`gaussmle.dask_backend._blocks` and compute only the merged statistics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import COVARIANCE_TYPES, check_choice, shown_labels
from ..stats import GaussianStats
from ._blocks import (
    _blockwise_parts,
    _class_block_stats,
    _finish,
    _merge_parts,
    _plain_block_stats,
    _tree_reduce,
)
from ._convert import _as_dask_matrix, _as_dask_vector, _check_features, _is_dask_frame, _n_rows

if TYPE_CHECKING:  # pragma: no cover - typing only
    from ..classifier import GaussianClassifier


def stats_from_dask(X: Any, sample_weight: Any = None, kind: str = "diag") -> GaussianStats:
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
    return stats


def fit_classifier_stats(
    model: GaussianClassifier,
    X: Any,
    y: Any,
    sample_weight: Any,
    first: bool,
    classes: Any = None,
) -> GaussianClassifier:
    """Fit (or update) a :class:`~gaussmle.GaussianClassifier` from Dask collections.

    This is the hook behind ``GaussianClassifier.fit`` and ``partial_fit``
    when ``X`` is a Dask array or DataFrame; call those instead.

    Parameters
    ----------
    model : GaussianClassifier
        Updated in place; on the first call it must hold no fitted state.
    X : dask array (n, d) or dask DataFrame
        Numeric features. A DataFrame's string column names become
        ``feature_names_in_`` (as scikit-learn does for pandas).
    y : dask array (n,), dask Series, one-column dask DataFrame, or array-like
        Class labels, aligned with the rows of ``X`` (re-chunked to ``X``'s
        row blocks when they differ).
    sample_weight : same kinds as ``y``, scalar, or None
        Non-negative weights.
    first : bool
        True for ``fit`` and the first ``partial_fit``: ``n_features_in_``
        and ``feature_names_in_`` are set rather than checked.
    classes : array-like, optional
        Every label that can occur. When ``first`` and ``classes`` is None
        (``fit``), the labels are found in the same pass over the data: each
        block reports its own labels and the merge unites them. Later calls
        use the model's ``classes_``.

    Returns
    -------
    GaussianClassifier
        ``model``, fitted, with ordinary NumPy attributes.

    Raises
    ------
    ValueError
        For invalid input; NaN or infinity in a block is reported, with its
        global row and column, when the blocks are computed.
    """
    import dask
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import column_or_1d

    check_choice(model.covariance_type, COVARIANCE_TYPES, name="covariance_type")
    meta = X._meta if _is_dask_frame(X) else None
    X = _as_dask_matrix(X, allow_1d=False)
    _check_features(model, meta, int(X.shape[1]), reset=first)
    y = _as_dask_vector(y, X, name="y", numeric=False)
    w = _as_dask_vector(sample_weight, X, name="sample_weight", numeric=True)
    if _n_rows(X) == 0:
        raise ValueError("X is empty (0 samples); pass at least one row of data")

    if not first:
        known = model.classes_
        if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), known):
            raise ValueError(
                f"classes={shown_labels(classes)} differs from the classes of the first "
                f"call to partial_fit {shown_labels(known)}; pass the same classes or none"
            )
    elif classes is not None:
        known = np.unique(column_or_1d(np.asarray(classes)))
        check_classification_targets(known)
    else:
        known = None

    kind = model._stats_kind()
    missing = "ignore" if model._allow_nan() else "error"  # NaN marks a missing value
    parts = _blockwise_parts(_class_block_stats, X, y, w, classes=known, kind=kind, missing=missing)
    root = _tree_reduce(parts, _merge_parts)
    labels, stats = _finish(dask.compute(root)[0])
    if known is None:
        check_classification_targets(labels)
        known = labels
    if float(np.sum(stats.count)) <= 0:
        raise ValueError("sample_weight is all zero; at least one sample needs a positive weight")
    return model._absorb(stats, known)
