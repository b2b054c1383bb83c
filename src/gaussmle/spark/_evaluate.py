"""Scoring a fitted classifier on a labelled Spark DataFrame, from per-partition counts.

Each partition predicts its rows (Arrow batches, the model broadcast as its
JSON model file text) and sends the driver, per distinct true label, the
number of its rows predicted as each class and the sums of
``-log(clip(p_j, eps, 1))`` over its rows for every class ``j``: a few
numbers per label, never the rows. The driver adds them up per label
(:class:`LabelCounts`); matching the true labels with the model's classes
(and the log loss, the confusion matrix, ...) is left to the caller, so it is
exactly the in-memory evaluation's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._columns import check_columns, feature_input, quoted
from ._summary import features_of, labels_of, nan_message
from ._threads import in_one_thread

#: Smallest probability in the log loss (scikit-learn's ``log_loss`` clips there too).
EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class LabelCounts:
    """Per distinct true label: predictions per class and sums of ``-log p``.

    Attributes
    ----------
    labels : list
        The distinct true labels, in the order they first occur in the
        DataFrame (partition by partition, row by row).
    predicted : ndarray of shape (m, k), int64
        ``predicted[i, j]``: rows of label ``labels[i]`` predicted as ``classes_[j]``.
    neg_log : ndarray of shape (m, k), float64
        ``neg_log[i, j]``: the sum over the rows of label ``labels[i]`` of
        ``-log(clip(p_j, eps, 1))``, ``p_j`` the posterior probability of class j.

    Examples
    --------
    >>> c = LabelCounts(["a"], np.array([[2, 1]]), np.array([[0.5, 3.0]]))
    >>> c.rows
    3
    """

    labels: list[Any]
    predicted: np.ndarray
    neg_log: np.ndarray

    @property
    def rows(self) -> int:
        """The number of rows counted."""
        return int(self.predicted.sum())


def batch_counts(
    labels: np.ndarray, proba: np.ndarray
) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct label of one batch: first row, predictions per class, ``-log p`` sums.

    The prediction is the most probable class (as the in-memory evaluation takes it).

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.4, 0.6], [0.5, 0.5]])
    >>> keys, first, counts, sums = batch_counts(np.array(["b", "a", "b"]), p)
    >>> keys, first.tolist(), counts.tolist()
    (['a', 'b'], [1, 0], [[0, 1], [2, 0]])
    >>> np.round(sums, 4).tolist()
    [[0.9163, 0.5108], [0.7985, 2.9957]]
    """
    k = proba.shape[1]
    uniques, first, codes = np.unique(labels, return_index=True, return_inverse=True)
    codes = codes.reshape(-1)
    m = len(uniques)
    predicted = np.argmax(proba, axis=1)
    counts = np.bincount(codes * k + predicted, minlength=m * k).reshape(m, k)
    neg_log = -np.log(np.clip(proba, EPS, 1.0))
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(m))
    sums = np.add.reduceat(neg_log[order], starts, axis=0)
    keys = [value.item() if hasattr(value, "item") else value for value in uniques]
    return keys, first.astype(np.int64), counts.astype(np.int64), sums


def _partition_counts(text: Any, features: list[str], label: str, label_type: Any) -> Any:
    """The function ``mapInArrow`` runs on each partition (plain values in its closure)."""
    d = len(features)

    def count(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa
        from pyspark import TaskContext

        from gaussmle.spark._predict import model_from_text

        context = TaskContext.get()
        partition = context.partitionId() if context is not None else 0
        model = model_from_text(text)
        marginalize = getattr(model, "missing", "error") == "marginalize"
        seen: dict[Any, list[Any]] = {}  # label -> [first row, counts, sums]
        offset = 0
        for batch in batches:
            if batch.num_rows == 0:
                continue
            try:
                X = features_of(batch, d)
                labels = labels_of(batch.column(d), label)
                message = None if marginalize else nan_message(X, features)
                if message is not None:
                    raise ValueError(message)
                keys, first, counts, sums = batch_counts(labels, model.predict_proba(X))
            except ValueError as exc:
                yield _error_batch(str(exc), label_type, partition)
                return
            for i, key in enumerate(keys):
                if key in seen:
                    seen[key][1] += counts[i]
                    seen[key][2] += sums[i]
                else:
                    seen[key] = [offset + int(first[i]), counts[i].copy(), sums[i].copy()]
            offset += batch.num_rows
        if seen:
            keys = list(seen)
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(keys, type=label_type),
                    pa.array([partition] * len(keys), type=pa.int64()),
                    pa.array([seen[key][0] for key in keys], type=pa.int64()),
                    pa.array([seen[key][1].tolist() for key in keys], type=pa.list_(pa.int64())),
                    pa.array([seen[key][2].tolist() for key in keys], type=pa.list_(pa.float64())),
                    pa.array([None] * len(keys), type=pa.string()),
                ],
                names=list(_FIELDS),
            )

    return in_one_thread(count)


_FIELDS = ("label", "partition", "first", "predicted", "neg_log", "error")


def _error_batch(message: str, label_type: Any, partition: int) -> Any:
    import pyarrow as pa

    return pa.RecordBatch.from_arrays(
        [
            pa.array([None], type=label_type),
            pa.array([partition], type=pa.int64()),
            pa.array([0], type=pa.int64()),
            pa.array([None], type=pa.list_(pa.int64())),
            pa.array([None], type=pa.list_(pa.float64())),
            pa.array([message], type=pa.string()),
        ],
        names=list(_FIELDS),
    )


def _schema(label_type: Any) -> Any:
    from pyspark.sql.types import (
        ArrayType,
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    types = (label_type, LongType(), LongType(), ArrayType(LongType()), ArrayType(DoubleType()))
    fields = [StructField(name, t) for name, t in zip(_FIELDS, types, strict=False)]
    return StructType([*fields, StructField("error", StringType())])


def merge_counts(rows: Iterable[dict[str, Any]], n_classes: int) -> LabelCounts:
    """The partitions' rows added up per label, labels in order of first occurrence.

    Raises the first executor's error message as a ValueError, and the
    in-memory message when there are no rows at all.

    Examples
    --------
    >>> rows = [
    ...     {"label": "b", "partition": 1, "first": 0, "predicted": [1, 0], "neg_log": [0.1, 2.0],
    ...      "error": None},
    ...     {"label": "a", "partition": 0, "first": 5, "predicted": [0, 2], "neg_log": [4.0, 0.2],
    ...      "error": None},
    ...     {"label": "b", "partition": 0, "first": 7, "predicted": [1, 1], "neg_log": [1.0, 1.0],
    ...      "error": None}]
    >>> c = merge_counts(rows, 2)
    >>> c.labels, c.predicted.tolist(), c.neg_log.tolist()
    (['a', 'b'], [[0, 2], [2, 1]], [[4.0, 0.2], [1.1, 3.0]])
    """
    first: dict[Any, tuple[int, int]] = {}
    predicted: dict[Any, np.ndarray] = {}
    neg_log: dict[Any, np.ndarray] = {}
    for row in sorted(
        (dict(r) for r in rows), key=lambda r: (r["error"] is None, r["partition"], r["first"])
    ):
        if row["error"] is not None:
            raise ValueError(row["error"])
        key = row["label"]
        where = (row["partition"], row["first"])
        if key not in first:
            first[key] = where
            predicted[key] = np.zeros(n_classes, dtype=np.int64)
            neg_log[key] = np.zeros(n_classes)
        first[key] = min(first[key], where)
        predicted[key] += np.asarray(row["predicted"], dtype=np.int64)
        neg_log[key] += np.asarray(row["neg_log"], dtype=np.float64)
    if not first:
        raise ValueError("X is empty (0 samples); pass at least one row of data")
    labels = sorted(first, key=first.__getitem__)
    return LabelCounts(
        labels,
        np.array([predicted[key] for key in labels]).reshape(-1, n_classes),
        np.array([neg_log[key] for key in labels]).reshape(-1, n_classes),
    )


def label_counts(model: Any, df: Any, features: Any, label: str) -> LabelCounts:
    """Predictions per class and ``-log p`` sums per true label of a Spark DataFrame.

    What an evaluation needs (accuracy, log loss, confusion matrix), computed
    per partition from the model broadcast once as its JSON model file text;
    a few numbers per label and partition reach the driver, never the rows.

    Parameters
    ----------
    model : GaussianClassifier
        A fitted classifier.
    df : pyspark.sql.DataFrame
    features : str or sequence of str
        The feature columns, in the model's order, or one MLlib vector column.
    label : str
        The column of true labels (no nulls).

    Returns
    -------
    LabelCounts
        Per distinct true label (as Spark holds it), the rows predicted as
        each of ``model.classes_`` and the sums of ``-log p`` per class.

    Raises
    ------
    ValueError
        For a missing or non-numeric column, a null label, NaN with a model
        fitted without ``missing="marginalize"``, or an empty DataFrame.

    Examples
    --------
    Spark is needed (docs/spark.md). On one batch the counts are
    :func:`batch_counts`'s:

    >>> batch_counts(np.array([1, 1]), np.array([[0.2, 0.8], [0.7, 0.3]]))[2].tolist()
    [[1, 1]]
    """
    from pyspark.sql import functions as F

    from ._fit import _arrow_type
    from ._predict import broadcast_model

    if not hasattr(model, "classes_"):
        raise ValueError("the model is not fitted; fit it first (gaussmle.spark.fit)")
    check_columns(df, [label])
    inputs = feature_input(df, features, n_features=model.n_features_in_)
    names = inputs.names
    if len(names) != model.n_features_in_:
        raise ValueError(
            f"X has {len(names)} features, but {type(model).__name__} is expecting "
            f"{model.n_features_in_} features as input"
        )
    if label in names or label == inputs.vector:
        raise ValueError(f"the label column {label!r} is also a feature; leave it out of features")
    label_field = df.schema[label]
    columns = [F.expr(c).alias(f"f{j}") for j, c in enumerate(inputs.columns)]
    columns.append(F.col(quoted(label)).alias("label"))
    fn = _partition_counts(
        broadcast_model(df, model), names, label, _arrow_type(label_field.dataType)
    )
    rows = inputs.frame.select(*columns).mapInArrow(fn, _schema(label_field.dataType)).collect()
    return merge_counts((r.asDict() for r in rows), len(model.classes_))
