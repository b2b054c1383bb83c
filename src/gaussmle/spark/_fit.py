"""Fitting a :class:`~gaussmle.GaussianClassifier` from a Spark DataFrame."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._validation import COVARIANCE_TYPES, STATS_KINDS, check_choice, check_sample_weight
from ..classifier import GaussianClassifier
from ..covariance import structure_for
from ..stats import GaussianStats
from ._columns import check_columns, check_numeric, feature_input, quoted
from ._summary import (
    batch_stats,
    error_batch,
    features_of,
    labels_of,
    merge_by_label,
    nan_message,
    stats_from_rows,
    stats_to_arrow,
)
from ._threads import in_one_thread

_MISSING = ("error", "marginalize")


def _stats_kind(covariance_type: str) -> str:
    return structure_for(covariance_type).stats_kind


def _partition_summaries(
    features: Sequence[str],
    label: str,
    kind: str,
    allow_nan: bool,
    weighted: bool,
    label_type: Any,
    packed: bool = False,
) -> Any:
    """The function ``mapInArrow`` runs on each partition (plain values in its closure).

    ``packed``: the features arrive as one array column (a vector's values).
    """
    d = len(features)
    at = 1 if packed else d  # the label's column

    def summarise(batches: Iterator[Any]) -> Iterator[Any]:
        merged: dict[Any, Any] = {}
        for batch in batches:
            if batch.num_rows == 0:
                continue
            try:
                X = features_of(batch, d, packed)
                labels = labels_of(batch.column(at), label)
                w = None
                if weighted:
                    w = batch.column(at + 1).to_numpy(zero_copy_only=False).astype(np.float64)
                    if np.any(w != 0):  # a batch of zero weights is fine; all zero is not
                        w = check_sample_weight(w, batch.num_rows)
                if not allow_nan:
                    message = nan_message(X, features)
                    if message is not None:
                        raise ValueError(message)
                merged = merge_by_label(merged, batch_stats(X, labels, w, kind, allow_nan))
            except ValueError as exc:
                yield error_batch(str(exc), label_type)
                return
        if merged:
            yield stats_to_arrow(merged, label_type)

    return in_one_thread(summarise)


def fit(
    df: Any,
    features: Any,
    label: str,
    covariance_type: str = "diag",
    priors: Any = None,
    var_smoothing: float = 1e-9,
    sample_weight: str | None = None,
    missing: str = "error",
) -> GaussianClassifier:
    """Fit a :class:`~gaussmle.GaussianClassifier` to a Spark DataFrame, exactly.

    Each partition's Arrow batches become per-class sufficient statistics
    (:meth:`GaussianStats.from_groups`, float64, two-pass), merged exactly
    within the partition; only one row of plain float arrays per class and
    partition reaches the driver, which merges them in a pairwise tree. Rows
    are never collected. The result equals ``GaussianClassifier.fit`` on the
    same rows (to rounding), whatever the partitioning.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
    features : str or sequence of str
        Numeric feature columns (they become ``feature_names_in_``; a null is
        a missing value, NaN), or one MLlib vector column (``VectorAssembler``'s
        output: the names are its input columns, from the column's metadata).
    label : str
        The class label column (numbers, strings or booleans; no nulls).
    covariance_type, priors, var_smoothing, missing
        As for :class:`~gaussmle.GaussianClassifier` (``missing`` is
        ``"error"`` or ``"marginalize"``).
    sample_weight : str, optional
        A numeric column of non-negative weights.

    Returns
    -------
    GaussianClassifier
        A normal fitted classifier (NumPy attributes), built with
        ``GaussianClassifier.from_stats``.

    Raises
    ------
    ValueError
        For a missing or non-numeric column, NaN or null without
        ``missing="marginalize"``, bad weights, or an empty DataFrame.

    Examples
    --------
    Spark is needed; docs/spark.md shows a session. The per-partition summary
    is :func:`gaussmle.spark._summary.batch_stats`:

    >>> from gaussmle.spark._summary import batch_stats
    >>> s = batch_stats(np.array([[1.0], [3.0]]), np.array([0, 0]), None, "diag", False)
    >>> s[0].m2.tolist()
    [2.0]
    """
    check_choice(covariance_type, COVARIANCE_TYPES, name="covariance_type")
    classes, stats, names = class_stats(
        df, features, label, _stats_kind(covariance_type), sample_weight, missing
    )
    return GaussianClassifier.from_stats(
        stats,
        classes,
        feature_names=names,
        covariance_type=covariance_type,
        priors=priors,
        var_smoothing=var_smoothing,
        missing=missing,
    )


def class_stats(
    df: Any,
    features: Any,
    label: str,
    kind: str = "diag",
    sample_weight: str | None = None,
    missing: str = "error",
) -> tuple[np.ndarray, GaussianStats, list[str]]:
    """``(classes, statistics, feature names)`` of a Spark DataFrame, for ``from_stats``.

    The shape the Dask backend returns: the sorted classes, their
    :class:`GaussianStats` (batch ``(k,)``, ``kind`` "diag" or "full") and the
    feature column names. :func:`fit` builds the classifier from them.
    """
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    check_choice(kind, STATS_KINDS, name="kind")
    check_choice(missing, _MISSING, name="missing")
    extra = [sample_weight] if sample_weight is not None else []
    check_columns(df, [label, *extra])
    inputs = feature_input(df, features)
    names = inputs.names
    check_numeric(df, extra, what="sample_weight")
    if label in names or label == inputs.vector:
        raise ValueError(f"the label column {label!r} is also a feature; leave it out of features")
    label_field = df.schema[label]
    packed = inputs.vector is not None  # a vector: its values travel as one array column
    columns = (
        [vector_to_array(F.col(quoted(inputs.vector))).alias("f")]
        if packed
        else [F.expr(c).alias(f"f{j}") for j, c in enumerate(inputs.columns)]
    )
    columns.append(F.col(quoted(label)).alias("label"))
    if sample_weight is not None:
        columns.append(F.col(quoted(sample_weight)).cast("double").alias("w"))
    label_type = _arrow_type(label_field.dataType)
    fn = _partition_summaries(
        names, label, kind, missing != "error", sample_weight is not None, label_type, packed
    )
    summaries = df.select(*columns).mapInArrow(fn, _summary_schema(label_field.dataType))
    labels, stats = stats_from_rows((r.asDict() for r in summaries.collect()), kind)
    if float(stats.count.sum()) <= 0:
        raise ValueError("sample_weight is all zero; at least one sample needs a positive weight")
    return _classes_array(labels), stats, names


def _classes_array(labels: list[Any]) -> np.ndarray:
    """The sorted labels as the array ``np.unique`` gives for in-memory labels."""
    if all(isinstance(v, str) for v in labels):
        return np.array(labels, dtype=str)
    return np.asarray(labels)


def _summary_schema(label_type: Any) -> Any:
    from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

    floats = ArrayType(DoubleType())
    return StructType(
        [
            StructField("label", label_type),
            StructField("count", DoubleType()),
            StructField("mean", floats),
            StructField("mean_lo", floats),
            StructField("m2", floats),
            StructField("feature_count", floats),
            StructField("error", StringType()),
        ]
    )


def _arrow_type(spark_type: Any) -> Any:
    from pyspark.sql.pandas.types import to_arrow_type

    return to_arrow_type(spark_type)
