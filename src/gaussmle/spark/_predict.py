"""Predicting with a fitted classifier on a Spark DataFrame, lazily."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._columns import feature_input, feature_list, free_name, quoted, vector_column
from ._threads import in_one_thread


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


def output_labels(model: Any) -> np.ndarray:
    """A classifier's ``classes_``, or a mixture's component numbers 0, 1, ...

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> output_labels(SimpleNamespace(weights_=np.array([0.5, 0.5]))).tolist()
    [0, 1]
    """
    classes = getattr(model, "classes_", None)
    if classes is not None:
        return np.asarray(classes)
    return np.arange(len(model.weights_), dtype=np.int64)


def model_from_text(text: Any) -> Any:
    """The model from its (broadcast) model file text, for columns passed by position.

    The model's feature names were checked on the driver; the executors get
    the columns in that order, unnamed.

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> from gaussmle.persist import dumps
    >>> m = GaussianClassifier().fit(np.array([[0.0], [1.0], [5.0], [6.0]]), [0, 0, 1, 1])
    >>> model_from_text(dumps(m)).predict(np.array([[0.2]])).tolist()
    [0]
    """
    from gaussmle.persist import loads

    model = loads(text.value if hasattr(text, "value") else text)
    if hasattr(model, "feature_names_in_"):
        del model.feature_names_in_
    return model


def broadcast_model(df: Any, model: Any) -> Any:
    """The model's file text (:func:`gaussmle.persist.dumps`) broadcast once (plain JSON).

    On Spark Connect, which has no SparkContext, the text travels in the closure.
    """
    from ..persist import dumps

    text = dumps(model)
    try:
        return df.sparkSession.sparkContext.broadcast(text)
    except Exception:  # Spark Connect has no SparkContext: the closure carries the text
        return text


def _predictor(text: Any, n_features: int, proba: bool, label_type: Any) -> Any:
    """The function the Arrow UDF runs: an iterator of feature-column batches in,
    an iterator of predictions (a struct with ``probability`` when ``proba``) out.

    ``text`` is a broadcast of the model file text (:func:`gaussmle.persist.dumps`):
    plain JSON, read once per task.
    """

    def predict_batches(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        model = model_from_text(text)
        classes = output_labels(model)
        k = len(classes)
        for columns in batches:
            columns = columns if isinstance(columns, tuple) else (columns,)
            X = np.empty((len(columns[0]), n_features))
            for j, col in enumerate(columns):
                X[:, j] = col.to_numpy(zero_copy_only=False)
            if not proba:
                labels = model.predict(X) if X.shape[0] else classes[:0]
                yield pa.array(labels, type=label_type)
                continue
            p = model.predict_proba(X) if X.shape[0] else np.empty((0, k))
            labels = classes[np.argmax(p, axis=1)]
            probability = pa.ListArray.from_arrays(
                pa.array(np.arange(0, p.size + 1, k, dtype=np.int32)), pa.array(p.ravel())
            )
            yield pa.StructArray.from_arrays(
                [pa.array(labels, type=label_type), probability],
                names=["prediction", "probability"],
            )

    return in_one_thread(predict_batches)


def predict(model: Any, df: Any, features: Any = None, proba: bool = False) -> Any:
    """The DataFrame with a ``prediction`` column (and a ``probability`` column), lazily.

    The model travels to the executors once, as a broadcast of its model file
    text (:func:`gaussmle.persist.dumps`, plain JSON, never a pickle), read once
    per task by an iterator Arrow UDF that receives only the feature columns
    (the other columns stay in Spark). The labels of diag, spherical and tied
    classifiers (``proba=False``) are computed in the JVM instead, with no
    rows sent to Python (:mod:`gaussmle.spark._sql_predict`: MLlib's own
    prediction code, a naive Bayes or multinomial logistic model carrying our
    parameters, picks the class); a model that cannot be written so uses the
    Arrow UDF. Nothing runs until an action.

    Parameters
    ----------
    model : GaussianClassifier or GaussianMixture
        A fitted classifier (or mixture).
    df : pyspark.sql.DataFrame
    features : str or sequence of str, optional
        The feature columns, in the model's order, or one MLlib vector column
        holding them (``VectorAssembler``'s output; a naive Bayes model then
        reads it as it is); by default the model's ``feature_names_in_``.
    proba : bool
        Add ``probability``: an array of the posterior class probabilities in
        the order of ``model.classes_`` (the prediction is the most probable).
        A :class:`~gaussmle.GaussianMixture` predicts its component numbers
        (and their posterior probabilities).

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
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, DoubleType, StructField, StructType

    from ._fit import _arrow_type

    if not hasattr(model, "classes_") and not hasattr(model, "weights_"):
        raise ValueError("the model is not fitted; fit it first (gaussmle.spark.fit)")
    known = getattr(model, "feature_names_in_", None)
    if features is None:
        if known is None:
            raise ValueError("the model has no feature names; pass features=[column names]")
        features = [str(n) for n in known]
    vector = vector_column(df, features)
    n_features = model.n_features_in_
    if vector is None:
        names = feature_list(features)
        if len(names) != n_features:
            raise ValueError(
                f"X has {len(names)} features, but {type(model).__name__} is expecting "
                f"{n_features} features as input"
            )
        if known is not None and [str(n) for n in known] != names:
            raise ValueError(
                f"features {names} differ from the model's feature names {list(known)}; pass "
                "the columns the model was fitted on, in that order"
            )
    inputs = feature_input(df, features, n_features=n_features)
    for taken in ("prediction", "probability"):
        if taken in df.columns:
            raise ValueError(f"the DataFrame already has a {taken!r} column; rename or drop it")
    from pyspark.sql.functions import ArrowUDFType, arrow_udf

    label_type = _spark_type_of(output_labels(model))
    if not proba:  # diag, spherical and tied classifiers: in the JVM, no Python workers
        from ._sql_predict import with_labels

        labelled = with_labels(df, model, inputs, label_type)
        if labelled is not None:
            return labelled
    out_type: Any = label_type
    if proba:
        out_type = StructType(
            [
                StructField("prediction", label_type),
                StructField("probability", ArrayType(DoubleType())),
            ]
        )
    fn = _predictor(broadcast_model(df, model), n_features, proba, _arrow_type(label_type))
    with warnings.catch_warnings():  # pyspark prefers type hints to the explicit type
        warnings.filterwarnings("ignore", "It is preferred to specify type hints")
        udf = arrow_udf(fn, out_type, ArrowUDFType.SCALAR_ITER)
    keep = [F.col(quoted(c)) for c in df.columns]
    out = free_name(inputs.frame.columns, "out")
    result = inputs.frame.withColumn(out, udf(*[F.expr(c) for c in inputs.columns]))
    if not proba:
        return result.select(*keep, F.col(quoted(out)).alias("prediction"))
    return result.select(
        *keep,
        F.col(f"{quoted(out)}.prediction").alias("prediction"),
        F.col(f"{quoted(out)}.probability").alias("probability"),
    )
