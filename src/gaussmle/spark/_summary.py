"""Per-class sufficient statistics as plain Arrow columns, and back.

This part knows nothing of Spark: an executor turns each Arrow batch of
features and labels into :class:`~gaussmle.stats.GaussianStats` per label
(:func:`batch_stats`), merges its batches exactly (:func:`merge_by_label`),
and sends one row per label of plain float arrays (:func:`stats_to_arrow`);
the driver reads those rows back (:func:`stats_from_rows`) and merges the
partitions in a pairwise tree (:func:`tree_merge`). Errors found on an
executor travel as a message in the ``error`` column (:func:`error_batch`), so
the driver raises the same one-sentence ValueError as the in-memory path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..stats import GaussianStats

#: Columns of a summary batch besides the label (in this order).
SUMMARY_FIELDS = ("count", "mean", "mean_lo", "m2", "feature_count", "error")


def labels_of(column: Any, label: str) -> np.ndarray:
    """The labels of an Arrow column as a NumPy array, refusing nulls and NaN.

    Examples
    --------
    >>> import pyarrow as pa
    >>> labels_of(pa.array(["a", "b"]), "y").tolist()
    ['a', 'b']
    >>> labels_of(pa.array([1, None]), "y")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: label column 'y' contains null (or NaN); drop those rows or fill in their ...
    >>> labels_of(pa.array([1.0, float("nan")]), "y")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: label column 'y' contains null (or NaN); drop those rows or fill in their ...
    """
    labels = None if column.null_count else np.asarray(column.to_numpy(zero_copy_only=False))
    if labels is None or (labels.dtype.kind == "f" and np.isnan(labels).any()):
        raise ValueError(
            f"label column {label!r} contains null (or NaN); drop those rows or fill in their "
            "labels first"
        )
    return labels


def features_of(batch: Any, d: int, packed: bool = False) -> np.ndarray:
    """An Arrow batch's features as an (n, d) float64 array: its first d columns, or
    (``packed``) its first column of arrays of d values each (a row of
    another length is an error).

    Examples
    --------
    >>> import pyarrow as pa
    >>> batch = pa.record_batch({"f": [[1.0, 2.0], [3.0, 4.0]]})
    >>> features_of(batch, 2, packed=True).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    if packed:
        column = batch.column(0)
        lengths = column.value_lengths().to_numpy(zero_copy_only=False)
        if column.null_count or np.any(lengths != d):
            raise ValueError(
                f"a row of the vector column does not hold {d} values; assemble every row "
                f"from the same {d} features"
            )
        values = column.flatten().to_numpy(zero_copy_only=False)
        return values.astype(np.float64, copy=False).reshape(-1, d)
    columns = [batch.column(j).to_numpy(zero_copy_only=False) for j in range(d)]
    return np.column_stack(columns).astype(np.float64, copy=False)


def nan_message(X: np.ndarray, features: Sequence[str]) -> str | None:
    """The in-memory path's message for NaN or infinity, naming the column; None if finite.

    Examples
    --------
    >>> print(nan_message(np.array([[1.0, np.nan]]), ["a", "b"])[:40])
    X contains NaN (or null) in column 'b';
    """
    bad = ~np.isfinite(X)
    if not bad.any():
        return None
    i, j = np.argwhere(bad)[0]
    if np.isnan(X[i, j]):
        return (
            f"X contains NaN (or null) in column {features[j]!r}; remove or impute missing "
            "values first, or pass missing='marginalize'"
        )
    return f"X contains infinity (inf) in column {features[j]!r}; remove it first"


def batch_stats(
    X: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None,
    kind: str,
    allow_nan: bool,
) -> dict[Any, GaussianStats]:
    """Statistics per label of one batch, with the project's ``from_groups``.

    NaN marks a missing value (available-case diag statistics) when
    ``allow_nan`` and the batch holds one, as in ``GaussianClassifier.fit``.

    Examples
    --------
    >>> s = batch_stats(np.array([[0.0], [2.0], [5.0]]), np.array(["a", "a", "b"]), None,
    ...                 "diag", False)
    >>> {k: (float(v.count), v.mean.tolist()) for k, v in s.items()}
    {'a': (2.0, [1.0]), 'b': (1.0, [5.0])}
    """
    uniques, codes = np.unique(labels, return_inverse=True)
    keys = [value.item() if hasattr(value, "item") else value for value in uniques]
    if weights is not None and not np.any(weights):  # zero weights: the labels, no data
        return {key: GaussianStats.empty(X.shape[1], kind) for key in keys}
    missing = "ignore" if allow_nan and np.isnan(X).any() else "error"
    stats = GaussianStats.from_groups(
        X, codes.reshape(-1), len(uniques), weights, kind=kind, missing=missing
    )
    return {key: stats[i] for i, key in enumerate(keys)}


def merge_by_label(
    into: dict[Any, GaussianStats], more: dict[Any, GaussianStats]
) -> dict[Any, GaussianStats]:
    """Merge statistics per label (a new dict; labels of either side kept).

    Examples
    --------
    >>> a = {"x": GaussianStats.from_data([[1.0]])}
    >>> b = {"x": GaussianStats.from_data([[3.0]]), "y": GaussianStats.from_data([[9.0]])}
    >>> {k: v.mean.tolist() for k, v in merge_by_label(a, b).items()}
    {'x': [2.0], 'y': [9.0]}
    """
    out = dict(into)
    for key, stats in more.items():
        out[key] = out[key].merge(stats) if key in out else stats
    return out


def stats_to_arrow(by_label: dict[Any, GaussianStats], label_type: Any) -> Any:
    """One Arrow row per label: the statistics as plain float arrays.

    Examples
    --------
    >>> import pyarrow as pa
    >>> b = stats_to_arrow({"a": GaussianStats.from_data([[1.0], [3.0]])}, pa.string())
    >>> b.column("m2").to_pylist(), b.column("error").to_pylist()
    ([[2.0]], [None])
    """
    import pyarrow as pa

    keys = list(by_label)
    values = [by_label[k] for k in keys]
    floats = pa.list_(pa.float64())
    return pa.RecordBatch.from_arrays(
        [
            pa.array(keys, type=label_type),
            pa.array([float(s.count) for s in values], type=pa.float64()),
            pa.array([s.mean.tolist() for s in values], type=floats),
            pa.array([s.lo.tolist() for s in values], type=floats),
            pa.array([s.m2.ravel().tolist() for s in values], type=floats),
            pa.array(
                [None if s.feature_count is None else s.feature_count.tolist() for s in values],
                type=floats,
            ),
            pa.array([None] * len(keys), type=pa.string()),
        ],
        names=["label", *SUMMARY_FIELDS],
    )


def error_batch(message: str, label_type: Any) -> Any:
    """A summary batch that carries only an error message to the driver.

    Examples
    --------
    >>> import pyarrow as pa
    >>> error_batch("bad", pa.int64()).column("error").to_pylist()
    ['bad']
    """
    import pyarrow as pa

    floats = pa.list_(pa.float64())
    return pa.RecordBatch.from_arrays(
        [
            pa.array([None], type=label_type),
            pa.array([None], type=pa.float64()),
            pa.array([None], type=floats),
            pa.array([None], type=floats),
            pa.array([None], type=floats),
            pa.array([None], type=floats),
            pa.array([message], type=pa.string()),
        ],
        names=["label", *SUMMARY_FIELDS],
    )


def stats_from_row(row: dict[str, Any], kind: str) -> GaussianStats:
    """A label's statistics from one summary row (a dict of plain values).

    Examples
    --------
    >>> row = {"count": 2.0, "mean": [1.0], "mean_lo": [0.0], "m2": [2.0],
    ...        "feature_count": None}
    >>> stats_from_row(row, "diag").variance.tolist()
    [1.0]
    """
    mean = np.asarray(row["mean"], dtype=np.float64)
    d = mean.shape[0]
    m2 = np.asarray(row["m2"], dtype=np.float64).reshape((d, d) if kind == "full" else (d,))
    fc = row["feature_count"]
    return GaussianStats(
        np.float64(row["count"]),
        mean,
        m2,
        kind,
        None if fc is None else np.asarray(fc, dtype=np.float64),
        np.asarray(row["mean_lo"], dtype=np.float64),
    )


def tree_merge(items: Sequence[GaussianStats]) -> GaussianStats:
    """Merge statistics pairwise, level by level (a balanced tree, as treeAggregate does).

    Examples
    --------
    >>> parts = [GaussianStats.from_data([[float(v)]]) for v in range(5)]
    >>> s = tree_merge(parts)
    >>> float(s.count), s.mean.tolist(), s.m2.tolist()
    (5.0, [2.0], [10.0])
    """
    level = list(items)
    if not level:
        raise ValueError("tree_merge needs at least one GaussianStats")
    while len(level) > 1:
        pairs = [level[i].merge(level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def stats_from_rows(rows: Iterable[dict[str, Any]], kind: str) -> tuple[list[Any], GaussianStats]:
    """Sorted labels and their merged statistics (batch of shape (k,)) from summary rows.

    Raises the first executor's error message as a ValueError, and the in-memory
    message when there are no rows at all.

    Examples
    --------
    >>> rows = [{"label": "b", "count": 1.0, "mean": [4.0], "mean_lo": [0.0], "m2": [0.0],
    ...          "feature_count": None, "error": None},
    ...         {"label": "a", "count": 1.0, "mean": [1.0], "mean_lo": [0.0], "m2": [0.0],
    ...          "feature_count": None, "error": None},
    ...         {"label": "b", "count": 1.0, "mean": [6.0], "mean_lo": [0.0], "m2": [0.0],
    ...          "feature_count": None, "error": None}]
    >>> labels, s = stats_from_rows(rows, "diag")
    >>> labels, s.mean[:, 0].tolist(), s.m2[:, 0].tolist()
    (['a', 'b'], [1.0, 5.0], [0.0, 2.0])
    """
    parts: dict[Any, list[GaussianStats]] = {}
    for row in rows:
        if row["error"] is not None:
            raise ValueError(row["error"])
        parts.setdefault(row["label"], []).append(stats_from_row(row, kind))
    if not parts:
        raise ValueError("X is empty (0 samples); pass at least one row of data")
    labels = sorted(parts)
    return labels, GaussianStats.stack(tree_merge(parts[k]) for k in labels)
