"""The labels of diag, spherical and tied classifiers computed in the JVM (no Python workers).

Moving the rows from the JVM to Python (an Arrow UDF) costs more than the whole
evaluation of these models, so their labels never leave the JVM. The score of
class c (its joint log-likelihood, up to terms common to every class) is, with
``z = x - r`` and ``r`` the mean of all training data:

- independent features (diag, spherical): ``b_c + sum_j (a_cj z_j^2 + w_cj z_j)``
  with ``a = -0.5 / var`` and ``w = (mu - r) / var`` (the expanded square of
  the in-memory evaluator, centred at ``r`` so nothing cancels far from the
  origin), or its direct form;
- one shared covariance (tied): the linear discriminant ``b_c + w_c . z``
  with ``w_c = Sigma^-1 (mu_c - r)`` (a Cholesky solve, no inverse); the
  quadratic term common to every class drops out.

The parameters are computed in float64 on the driver, and MLlib's own
prediction code evaluates them in the JVM, picking the first class with the
largest score as NumPy's ``argmax`` does on ties: for diag and spherical, a
gaussian ``NaiveBayesModel`` with our log priors, centred means and variances
on ``z`` (the direct form ``(z_j - (mu_cj - r_j))^2 / var_cj``, exact);
otherwise (tied, or marginalising) a multinomial ``LogisticRegressionModel``,
as the scores are linear in ``z``, ``z^2`` and which features are observed.
NaN, null and infinity give the fit's messages (``raise_error``), unless the
model marginalises missing values: a NaN or null feature then drops out of
every class's score (independent features only).
Everything else (probabilities, full covariances, Student-t predictive
models, mixtures, tied models that marginalise, one class) uses the Arrow UDF.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._columns import FeatureInput, free_name, quoted

LOG_2PI = float(np.log(2.0 * np.pi))

#: A row whose features are finite yet no class can score it (squares beyond float64).
TOO_LARGE = (
    "X holds values too large for float64 squares (every class scores -inf); rescale the "
    "features first"
)


@dataclass(frozen=True)
class Scores:
    """Per class ``const + sum_j (quad_cj z_j^2 + lin_cj z_j)`` on ``z = x - shift``.

    ``quad`` is None for a linear score; ``lognorm`` (k, d) is the
    per-feature part of ``const`` that drops out with a missing feature (None:
    the model does not marginalise here). A class whose ``const`` is -inf
    never wins (an unseen class, or a prior of zero).
    """

    const: np.ndarray
    shift: np.ndarray
    lin: np.ndarray
    quad: np.ndarray | None = None
    lognorm: np.ndarray | None = None


def _log_prior(model: Any) -> np.ndarray:
    seen = np.asarray(model.class_stats_.count) > 0
    with np.errstate(divide="ignore"):
        return np.where(seen, np.log(np.asarray(model.class_prior_, dtype=np.float64)), -np.inf)


def independent_scores(model: Any, marginalize: bool) -> Scores:
    """The quadratic scores of a diag or spherical classifier, centred at the training mean.

    The expanded square of the in-memory evaluator, on ``z = x - r`` with ``r``
    the mean of all training data (so nothing cancels far from the origin).

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> X = np.array([[0.0, 1.0], [1.0, 3.0], [5.0, 6.0], [6.0, 8.0]])
    >>> s = independent_scores(GaussianClassifier().fit(X, [0, 0, 1, 1]), False)
    >>> s.shift.tolist(), s.quad.round(3).tolist(), s.lin.round(3).tolist()
    ([3.0, 4.5], [[-2.0, -0.5], [-2.0, -0.5]], [[-10.0, -2.5], [10.0, 2.5]])
    """
    from ..covariance import structure_for

    reference = np.asarray(model.class_stats_.pooled().mean, dtype=np.float64)
    seen = np.asarray(model.class_stats_.count) > 0
    means = np.where(seen[:, None], np.asarray(model.means_, dtype=np.float64), reference)
    var = structure_for(model.covariance_type).variances(np.asarray(model.covariances_))
    var = np.broadcast_to(np.asarray(var, dtype=np.float64), means.shape)
    var = np.where(seen[:, None], var, 1.0)
    delta = means - reference
    # the part of each feature's term that does not depend on x
    per_feature = -0.5 * (LOG_2PI + np.log(var)) - 0.5 * delta**2 / var
    const = _log_prior(model) + (0.0 if marginalize else per_feature.sum(axis=1))
    return Scores(
        const=const,
        shift=reference,
        lin=delta / var,
        quad=-0.5 / var,
        lognorm=per_feature if marginalize else None,
    )


def tied_scores(model: Any) -> Scores:
    """The linear discriminant of a tied classifier, centred at the mean of all training data.

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> X = np.array([[0.0, 1.0], [1.0, 3.0], [5.0, 6.0], [6.0, 8.0]])
    >>> s = tied_scores(GaussianClassifier(covariance_type="tied").fit(X, [0, 0, 1, 1]))
    >>> s.shift.tolist(), (s.lin[0] + s.lin[1]).round(12).tolist()
    ([3.0, 4.5], [0.0, 0.0])
    """
    from scipy.linalg import cho_solve

    from ..covariance import cholesky

    reference = np.asarray(model.class_stats_.pooled().mean, dtype=np.float64)
    seen = np.asarray(model.class_stats_.count) > 0
    means = np.where(seen[:, None], np.asarray(model.means_, dtype=np.float64), reference)
    delta = means - reference
    factor = cholesky(np.asarray(model.covariances_, dtype=np.float64))
    lin = cho_solve((factor, True), delta.T).T  # Sigma^-1 (mu_c - r), no inverse
    const = _log_prior(model) - 0.5 * np.einsum("cj,cj->c", lin, delta)
    return Scores(const=const, shift=reference, lin=lin)


def scores_of(model: Any) -> Scores | None:
    """The model's JVM scores, or None where the Arrow UDF is needed.

    Chosen by the model's covariance structure (:func:`gaussmle.covariance.structure_for`).

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> X = np.array([[0.0, 1.0], [1.0, 3.0], [5.0, 6.0], [6.0, 8.0]])
    >>> scores_of(GaussianClassifier(covariance_type="full").fit(X, [0, 0, 1, 1])) is None
    True
    """
    from ..classifier import GaussianClassifier
    from ..covariance import structure_for

    if not isinstance(model, GaussianClassifier) or getattr(model, "predictive", False):
        return None
    structure = structure_for(model.covariance_type)
    marginalize = getattr(model, "missing", "error") == "marginalize"
    if structure.independent_features:
        return independent_scores(model, marginalize)
    if not structure.per_component and not marginalize:
        return tied_scores(model)
    return None


def _java_number(value: float) -> str:
    """A float as Java's ``Double.parseDouble`` reads it back exactly.

    Examples
    --------
    >>> _java_number(0.1), _java_number(-np.inf), _java_number(np.nan)
    ('0.1', '-Infinity', 'NaN')
    """
    value = float(value)
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def linear_model(session: Any, coefficients: np.ndarray, intercepts: np.ndarray) -> Any:
    """An MLlib multinomial ``LogisticRegressionModel`` (in the JVM) whose margins are our scores.

    Its prediction is the index of the largest margin, the first on ties
    (MLlib's ``argmax``). The numbers travel as text (``Vectors.parse``),
    exactly. Raises where there is no JVM to reach (Spark Connect).
    """
    jvm = session.sparkContext._jvm
    parse = jvm.org.apache.spark.mllib.linalg.Vectors.parse

    def vector(values: np.ndarray) -> Any:
        return parse("[" + ",".join(_java_number(v) for v in values.ravel()) + "]").asML()

    k, m = coefficients.shape
    matrix = jvm.org.apache.spark.ml.linalg.DenseMatrix(k, m, vector(coefficients).toArray(), True)
    return jvm.org.apache.spark.ml.classification.LogisticRegressionModel(
        "gaussmle_scores", matrix, vector(intercepts), k, True
    )


def naive_bayes_model(session: Any, model: Any) -> Any:
    """MLlib's gaussian ``NaiveBayesModel`` (in the JVM) with our parameters and a sentinel.

    Its scores are ``log prior_c - sum_j ((x_j - mu_cj)^2 / var_cj + log var_cj) / 2``,
    each square of the difference itself: the direct form, exact far from the
    origin, and MLlib's own prediction path (one vector of d values per row).
    Class 0 is a sentinel with a log prior of -inf, our classes follow: it
    never wins on finite features, and it is MLlib's answer when every score
    is NaN or -inf (a NaN, null or infinite feature), so the prediction 0
    marks a bad row at no cost per row.
    """
    from ..covariance import structure_for

    jvm = session.sparkContext._jvm
    parse = jvm.org.apache.spark.mllib.linalg.Vectors.parse

    def vector(values: np.ndarray) -> Any:
        return parse("[" + ",".join(_java_number(v) for v in values.ravel()) + "]").asML()

    seen = np.asarray(model.class_stats_.count) > 0
    means = np.where(seen[:, None], np.asarray(model.means_, dtype=np.float64), 0.0)
    var = structure_for(model.covariance_type).variances(np.asarray(model.covariances_))
    var = np.where(seen[:, None], np.broadcast_to(np.asarray(var, np.float64), means.shape), 1.0)
    k, d = means.shape
    means = np.vstack([np.zeros(d), means])
    var = np.vstack([np.ones(d), var])
    log_prior = np.concatenate([[-np.inf], _log_prior(model)])
    linalg = jvm.org.apache.spark.ml.linalg
    theta = linalg.DenseMatrix(k + 1, d, vector(means).toArray(), True)
    sigma = linalg.DenseMatrix(k + 1, d, vector(var).toArray(), True)
    nb = jvm.org.apache.spark.ml.classification.NaiveBayesModel(
        "gaussmle_scores", vector(log_prior), theta, sigma
    )
    return nb.set(nb.modelType(), "gaussian")


def _sql_number(value: float) -> str:
    """A float as an exact Spark SQL double literal.

    Examples
    --------
    >>> _sql_number(0.1), _sql_number(-np.inf)
    ("CAST('0.1' AS DOUBLE)", "CAST('-Infinity' AS DOUBLE)")
    """
    return f"CAST('{_java_number(value)}' AS DOUBLE)"


def _sql_string(text: str) -> str:
    """A Spark SQL string literal.

    Examples
    --------
    >>> print(_sql_string("column 'a'"))
    'column \\'a\\''
    """
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def bad_value_error(xs: list[str], names: Sequence[str], marginalize: bool, sql_type: str) -> str:
    """The fit's message for the first NaN, null or infinite feature of a row (``raise_error``).

    SQL text of an expression of ``sql_type`` that raises, for a row that has
    such a feature. One pass over the features (a higher-order function,
    evaluated only for such a row) finds ``2 j`` for a NaN or null feature j
    (not when marginalising) and ``2 j + 1`` for an infinite one; the smallest
    picks the message. Small on purpose: Spark analyses the whole expression
    on every call.
    """
    from ._summary import nan_message

    messages = []
    for j in range(len(names)):
        for bad in (np.nan, np.inf):
            row = np.zeros((1, len(names)))
            row[0, j] = bad
            messages.append(_sql_string(nan_message(row, names)))
    messages.append(_sql_string(TOO_LARGE))
    none = 2 * len(names)  # no such feature (never the smallest when one is bad)
    nan = str(none) if marginalize else "2 * i"
    code = (
        f"array_min(transform(array({', '.join(xs)}), (v, i) -> CASE WHEN v IS NULL OR "
        f"isnan(v) THEN {nan} WHEN abs(v) = {_sql_number(np.inf)} THEN 2 * i + 1 "
        f"ELSE {none} END))"
    )
    return f"CAST(raise_error(element_at(array({', '.join(messages)}), {code} + 1)) AS {sql_type})"


def row_is_fine(xs: Sequence[str], marginalize: bool) -> str:
    """SQL text: the row's features are all finite (marginalising: none is infinite).

    A NaN compares false and a null compares null: the one ``coalesce``
    counts both as bad (marginalising, as fine).

    Examples
    --------
    >>> print(row_is_fine(["a", "b"], False))
    coalesce(abs(a) < CAST('Infinity' AS DOUBLE) AND abs(b) < CAST('Infinity' AS DOUBLE), false)
    """
    inf = _sql_number(np.inf)
    if marginalize:
        return f"NOT coalesce({' OR '.join(f'abs({x}) = {inf}' for x in xs)}, false)"
    return f"coalesce({' AND '.join(f'abs({x}) < {inf}' for x in xs)}, false)"


def _label_literal(value: Any, label_type: Any) -> str:
    """One class label as an exact Spark SQL literal of ``label_type``.

    Examples
    --------
    >>> from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType
    >>> [_label_literal(v, t) for v, t in ((3, LongType()), (0.1, DoubleType()),
    ...                                    ("it's", StringType()), (True, BooleanType()))]
    ['CAST(3 AS BIGINT)', "CAST('0.1' AS DOUBLE)", "'it\\\\'s'", 'true']
    """
    from pyspark.sql.types import BooleanType, DoubleType, LongType

    if isinstance(label_type, BooleanType):
        return "true" if bool(value) else "false"
    if isinstance(label_type, LongType):
        return f"CAST({int(value)} AS BIGINT)"
    if isinstance(label_type, DoubleType):
        return _sql_number(value)
    return _sql_string(str(value))


def _fingerprint(*arrays: Any) -> bytes:
    """A digest of arrays (their shapes and float64 bytes, or text): a JVM cache key."""
    digest = hashlib.sha256()
    for array in arrays:
        if isinstance(array, str):
            digest.update(array.encode() + b"\0")
            continue
        array = np.ascontiguousarray(array, dtype=np.float64)
        digest.update(repr(array.shape).encode())
        digest.update(array.tobytes())
    return digest.digest()


#: JVM objects (MLlib models) built for earlier calls, by (gateway, key):
#: built once (dozens of calls to the JVM each), reused. Small: one entry per model in use.
_JVM_OBJECTS: dict[tuple[int, bytes], tuple[Any, Any]] = {}
_JVM_OBJECTS_KEPT = 32


def _cached(session: Any, key: bytes, build: Any) -> Any:
    """The JVM object for ``key``, built with ``build()`` the first time on this JVM."""
    gateway = session.sparkContext._gateway
    entry = _JVM_OBJECTS.get((id(gateway), key))
    if entry is not None and entry[0] is gateway:
        return entry[1]
    built = build()
    if len(_JVM_OBJECTS) >= _JVM_OBJECTS_KEPT:
        _JVM_OBJECTS.pop(next(iter(_JVM_OBJECTS)))
    _JVM_OBJECTS[(id(gateway), key)] = (gateway, built)
    return built


def _jvm_classifier(session: Any, model: Any, scores: Scores, direct: bool) -> Any:
    """MLlib's naive Bayes (``direct``, on the raw features) or logistic model carrying
    ``scores`` (on their centred form), built once per model."""
    if direct:
        key = _fingerprint("naive bayes", np.asarray(model.means_),
                           np.asarray(model.covariances_), _log_prior(model))  # fmt: skip
        return _cached(session, key, lambda: naive_bayes_model(session, model))
    parts = [scores.lin] + [p for p in (scores.quad, scores.lognorm) if p is not None]
    coefficients = np.hstack(parts)
    key = _fingerprint("linear", coefficients, scores.const)
    return _cached(session, key, lambda: linear_model(session, coefficients, scores.const))


def vector_entries(scores: Scores, xs: Sequence[str], direct: bool) -> list[str]:
    """SQL text of each entry of the vector the linear model reads (or naive Bayes, ``direct``).

    ``direct``: the features. Otherwise the centred features ``z = x - r``,
    their squares (a quadratic score) and which features are observed (a
    model that marginalises: a NaN or null feature has ``z = 0``).

    Examples
    --------
    >>> s = Scores(const=np.zeros(2), shift=np.array([1.0]), lin=np.ones((2, 1)))
    >>> vector_entries(s, ["a"], direct=False)
    ["(a - CAST('1.0' AS DOUBLE))"]
    """
    if direct:
        return list(xs)
    marginalize = scores.lognorm is not None
    centred, observed = [], []
    for j, x in enumerate(xs):
        z = f"({x} - {_sql_number(scores.shift[j])})"
        if marginalize:
            missing = f"({x} IS NULL OR isnan({x}))"
            z = f"(CASE WHEN {missing} THEN 0.0D ELSE {z} END)"
            observed.append(f"CASE WHEN {missing} THEN 0.0D ELSE 1.0D END")
        centred.append(z)
    squares = [f"{z} * {z}" for z in centred] if scores.quad is not None else []
    return [*centred, *squares, *observed]


def with_labels(df: Any, model: Any, features: FeatureInput, label_type: Any) -> Any | None:
    """``df`` with the ``prediction`` column computed in the JVM, or None (use the Arrow UDF).

    The features (or their centred form, squares and which are observed)
    become one vector (``array_to_vector`` of one SQL array), unless they are
    one already; MLlib's naive Bayes with our parameters (:func:`naive_bayes_model`)
    or a multinomial logistic model with our scores' coefficients
    (:func:`linear_model`) picks the class, MLlib's own prediction path. (Spark
    SQL expressions for the k scores, 2 k d terms, compile to methods too large
    for the JVM's compiler and ran 10 to 50 times slower.) A row with a NaN,
    null or infinite feature raises the fit's message in the last projection.
    The JVM objects are built once per model, and every step is SQL text or
    one call: calls from Python to the JVM cost more than the rows of a
    million-row table.
    """
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    scores = scores_of(model)
    if scores is None or len(scores.const) < 2:
        return None
    session = df.sparkSession
    direct = scores.quad is not None and scores.lognorm is None
    marginalize = scores.lognorm is not None
    try:  # the JVM objects
        classifier = _jvm_classifier(session, model, scores, direct)
    except Exception:  # no JVM to reach (Spark Connect): the Arrow UDF
        return None
    xs = features.columns
    taken = [*df.columns, *([features.array] if features.array is not None else [])]
    vector, index = free_name(taken, "vector"), free_name(taken, "index")
    helpers: list[str] = [vector]
    if direct and features.vector is not None:  # the features are a vector already
        staged, vector, helpers = df._jdf, features.vector, []
    else:  # one array of the entries (SQL, compiled), as one vector
        nan = _sql_number(np.nan)  # a vector holds no null: NaN, a bad row either way
        entries = ", ".join(f"coalesce({e}, {nan})" for e in vector_entries(scores, xs, direct))
        values = array_to_vector(F.expr(f"array({entries})"))
        staged = features.frame.select("*", values.alias(vector))._jdf
    classifier.setFeaturesCol(vector).setPredictionCol(index)
    classifier.setProbabilityCol("").setRawPredictionCol("")
    scored = DataFrame(classifier.transform(staged), session)
    helpers += [index] + ([features.array] if features.array is not None and not direct else [])
    sql_type = label_type.simpleString()
    classes = np.asarray(model.classes_).tolist()
    labels = ", ".join(_label_literal(v, label_type) for v in classes)
    if direct:  # class 0 is naive Bayes's sentinel: a row with a bad feature
        fine = f"{quoted(index)} > 0"
        label = f"element_at(array({labels}), CAST({quoted(index)} AS INT))"
        if features.vector is not None:
            error = _sql_string(
                f"a row of the vector column {features.vector!r} holds NaN or infinity; "
                "remove or impute those values first"
            )
            error = f"CAST(raise_error({error}) AS {sql_type})"
        else:
            error = bad_value_error(xs, features.names, False, sql_type)
    else:
        fine = row_is_fine(xs, marginalize)
        label = f"element_at(array({labels}), CAST({quoted(index)} AS INT) + 1)"
        error = bad_value_error(xs, features.names, marginalize, sql_type)
    return scored.selectExpr(
        f"* EXCEPT ({', '.join(quoted(h) for h in helpers)})",
        f"CASE WHEN {fine} THEN {label} ELSE {error} END AS prediction",
    )
