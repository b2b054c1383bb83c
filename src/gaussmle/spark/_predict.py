"""Predicting with a fitted classifier on a Spark DataFrame, lazily."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ._columns import check_columns, check_numeric, feature_list


def _spark_type_of(classes: np.ndarray) -> Any:
    """The Spark type that holds ``model.classes_``."""
    from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType

    kind = classes.dtype.kind
    if kind == "b":
        return BooleanType()
    if kind in "iu":
        return LongType()
    if kind == "f":
        return DoubleType()
    return StringType()


def _predictor(text: Any, features: Sequence[str], proba: bool, label_type: Any) -> Any:
    """The function ``mapInArrow`` runs on each partition.

    ``text`` is a broadcast of the model file text (:func:`gaussmle.persist.dumps`):
    plain JSON, read once per task.
    """
    names = list(features)

    def predict_batches(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        from gaussmle.persist import loads

        model = loads(text.value if hasattr(text, "value") else text)
        # the columns arrive by position; the model's names were checked on the driver
        if hasattr(model, "feature_names_in_"):
            del model.feature_names_in_
        for batch in batches:
            X = np.column_stack(
                [batch.column(n).to_numpy(zero_copy_only=False) for n in names]
            ).astype(np.float64, copy=False)
            if batch.num_rows == 0:
                X = np.empty((0, len(names)))
            if proba:
                p = model.predict_proba(X) if X.shape[0] else np.empty((0, len(model.classes_)))
                labels = model.classes_[np.argmax(p, axis=1)] if X.shape[0] else model.classes_[:0]
                prob_col = pa.FixedSizeListArray.from_arrays(pa.array(p.ravel()), p.shape[1])
            else:
                labels = model.predict(X) if X.shape[0] else model.classes_[:0]
            out = batch.append_column("prediction", pa.array(labels.tolist(), type=label_type))
            if proba:
                out = out.append_column("probability", prob_col.cast(pa.list_(pa.float64())))
            yield out

    return predict_batches


def predict(model: Any, df: Any, features: Any = None, proba: bool = False) -> Any:
    """The DataFrame with a ``prediction`` column (and a ``probability`` column), lazily.

    The model travels to the executors once, as a broadcast of its model file
    text (:func:`gaussmle.persist.dumps`, plain JSON, never a pickle); each
    Arrow batch is classified by ``mapInArrow``. Nothing runs until an action.

    Parameters
    ----------
    model : GaussianClassifier
        A fitted classifier.
    df : pyspark.sql.DataFrame
    features : str or sequence of str, optional
        The feature columns, in the model's order; by default the model's
        ``feature_names_in_``.
    proba : bool
        Add ``probability``: an array of the posterior class probabilities in
        the order of ``model.classes_`` (the prediction is the most probable).

    Returns
    -------
    pyspark.sql.DataFrame
        ``df``'s columns, ``prediction`` (the class label, MLlib's name) and,
        with ``proba``, ``probability``.

    Examples
    --------
    Spark is needed; docs/spark.md shows a session. The column type of the
    predictions follows the classes:

    >>> _spark_type_of(np.array(["a", "b"])).simpleString()
    'string'
    """
    from pyspark.sql.types import ArrayType, DoubleType, StructField, StructType

    from ..persist import dumps
    from ._fit import _arrow_type

    if not hasattr(model, "classes_"):
        raise ValueError("the model is not fitted; fit it first (gaussmle.spark.fit)")
    known = getattr(model, "feature_names_in_", None)
    if features is None:
        if known is None:
            raise ValueError("the model has no feature names; pass features=[column names]")
        features = [str(n) for n in known]
    names = feature_list(features)
    if len(names) != model.n_features_in_:
        raise ValueError(
            f"X has {len(names)} features, but {type(model).__name__} is expecting "
            f"{model.n_features_in_} features as input"
        )
    if known is not None and [str(n) for n in known] != names:
        raise ValueError(
            f"features {names} differ from the model's feature names {list(known)}; pass "
            "the columns the model was fitted on, in that order"
        )
    check_columns(df, names)
    check_numeric(df, names)
    for taken in ("prediction", "probability"):
        if taken in df.columns:
            raise ValueError(f"the DataFrame already has a {taken!r} column; rename or drop it")
    label_type = _spark_type_of(np.asarray(model.classes_))
    fields = [*df.schema.fields, StructField("prediction", label_type)]
    if proba:
        fields.append(StructField("probability", ArrayType(DoubleType())))
    text = dumps(model)
    try:
        shared: Any = df.sparkSession.sparkContext.broadcast(text)
    except Exception:  # Spark Connect has no SparkContext: the closure carries the text
        shared = text
    fn = _predictor(shared, names, proba, _arrow_type(label_type))
    return df.mapInArrow(fn, StructType(fields))
