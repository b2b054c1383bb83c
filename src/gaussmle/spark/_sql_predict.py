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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._columns import quoted

LOG_2PI = float(np.log(2.0 * np.pi))

#: Prefix of the helper columns (dropped again); a name of the DataFrame's is never reused.
HELPER = "_gaussmle_"


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
    >>> _java_number(0.1), _java_number(-np.inf)
    ('0.1', '-Infinity')
    """
    value = float(value)
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


def naive_bayes_model(session: Any, model: Any, shift: np.ndarray) -> Any:
    """MLlib's gaussian ``NaiveBayesModel`` (in the JVM) with our parameters, centred at ``shift``.

    Its scores are ``log prior_c - sum_j ((z_j - (mu_cj - r_j))^2 / var_cj + log var_cj) / 2``,
    each square of the difference itself: the direct form, exact far from the
    origin, and MLlib's own prediction path (one vector of d values per row).
    """
    from ..covariance import structure_for

    jvm = session.sparkContext._jvm
    parse = jvm.org.apache.spark.mllib.linalg.Vectors.parse

    def vector(values: np.ndarray) -> Any:
        return parse("[" + ",".join(_java_number(v) for v in values.ravel()) + "]").asML()

    seen = np.asarray(model.class_stats_.count) > 0
    means = np.where(seen[:, None], np.asarray(model.means_, dtype=np.float64), shift)
    var = structure_for(model.covariance_type).variances(np.asarray(model.covariances_))
    var = np.where(seen[:, None], np.broadcast_to(np.asarray(var, np.float64), means.shape), 1.0)
    k, d = means.shape
    linalg = jvm.org.apache.spark.ml.linalg
    theta = linalg.DenseMatrix(k, d, vector(means - shift).toArray(), True)
    sigma = linalg.DenseMatrix(k, d, vector(var).toArray(), True)
    nb = jvm.org.apache.spark.ml.classification.NaiveBayesModel(
        "gaussmle_scores", vector(_log_prior(model)), theta, sigma
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


def bad_value_error(xs: list[str], names: Sequence[str], marginalize: bool, values: str) -> str:
    """The fit's message for the first NaN, null or infinite feature of a row (``raise_error``).

    ``values`` where the row has none (a sum of finite features that
    overflowed). Evaluated only for rows whose sum of features is not finite,
    with higher-order functions (small generated code). SQL text.
    """
    from ._summary import nan_message

    messages = []
    for j in range(len(names)):
        for bad in (np.nan, np.inf):
            row = np.zeros((1, len(names)))
            row[0, j] = bad
            messages.append(_sql_string(nan_message(row, names)))
    nan = "0" if marginalize else "1"  # marginalising: NaN and null are allowed
    inf = _sql_number(np.inf)
    kinds = (
        f"transform(array({', '.join(xs)}), v -> CASE WHEN v IS NULL OR isnan(v) THEN {nan} "
        f"WHEN abs(v) = {inf} THEN 2 ELSE 0 END)"
    )
    first = f"array_position(transform({kinds}, c -> c > 0), true)"
    position = f"CAST(({first} - 1) * 2 AS INT) + element_at({kinds}, CAST({first} AS INT))"
    message = f"element_at(array({', '.join(messages)}), {position})"
    return (
        f"CASE WHEN {first} > 0 THEN CAST(raise_error({message}) AS ARRAY<DOUBLE>) "
        f"ELSE {values} END"
    )


def free_name(columns: Sequence[str], stem: str) -> str:
    """``HELPER + stem``, with more underscores until no column of ``columns`` has the name.

    Examples
    --------
    >>> free_name(["a", "_gaussmle_s"], "s")
    '__gaussmle_s'
    """
    name = HELPER + stem
    while name in columns:
        name = "_" + name
    return name


def with_labels(df: Any, model: Any, names: Sequence[str], label_type: Any) -> Any | None:
    """``df`` with the ``prediction`` column computed in the JVM, or None (use the Arrow UDF).

    The shifted features ``z`` (and their squares, and which are observed,
    where the model needs them) become one vector (``array_to_vector``), built
    as SQL text (one call to the JVM, not one per column operation); MLlib's
    naive Bayes with our parameters (:func:`naive_bayes_model`) or a
    multinomial logistic model with our scores' coefficients
    (:func:`linear_model`) picks the class in the JVM, MLlib's own prediction
    path. (Spark SQL expressions for the k scores, 2 k d terms,
    compiled to a method too large for the JVM's compiler and ran 20 to 50
    times slower.) A sum of the features finds NaN, null and infinity; the
    row's error is then the fit's message (:func:`bad_value_error`), raised
    while the vector is built, so a filter on the prediction stays small.
    """
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    scores = scores_of(model)
    if scores is None or len(scores.const) < 2:
        return None
    parts = [scores.lin] + [p for p in (scores.quad, scores.lognorm) if p is not None]
    marginalize = scores.lognorm is not None
    direct = scores.quad is not None and not marginalize
    try:
        if direct:  # independent features: MLlib's naive Bayes with our parameters
            classifier = naive_bayes_model(df.sparkSession, model, scores.shift)
        else:
            classifier = linear_model(df.sparkSession, np.hstack(parts), scores.const)
    except Exception:  # no JVM to reach (Spark Connect): the Arrow UDF
        return None
    d = len(names)
    keep = [quoted(c) for c in df.columns]
    xs = [f"CAST({quoted(n)} AS DOUBLE)" for n in names]
    z_names = [quoted(free_name(df.columns, f"z{j}")) for j in range(d)]
    o_names = [quoted(free_name(df.columns, f"o{j}")) for j in range(d)] if marginalize else []
    check, vector, index = (free_name(df.columns, n) for n in ("check", "vector", "index"))
    first, totals = [], []
    for j, x in enumerate(xs):
        z = f"{x} - {_sql_number(scores.shift[j])}"
        if marginalize:  # a NaN or null feature: z = 0 and not observed
            missing = f"({x} IS NULL OR isnan({x}))"
            z = f"CASE WHEN {missing} THEN 0.0D ELSE {z} END"
            first.append(f"CASE WHEN {missing} THEN 0.0D ELSE 1.0D END AS {o_names[j]}")
        # the sum is not finite where a feature is NaN, null or infinite (only infinite,
        # marginalising)
        totals.append(f"({z})" if marginalize else x)
        first.append(f"coalesce({z}, 0.0D) AS {z_names[j]}")
    staged = df.selectExpr(*keep, *first, f"{' + '.join(totals)} AS {quoted(check)}")
    squares = [f"{z} * {z}" for z in z_names] if scores.quad is not None and not direct else []
    values = f"array({', '.join([*z_names, *squares, *o_names])})"
    t = quoted(check)
    fine = f"{t} IS NOT NULL AND NOT isnan({t}) AND abs({t}) != {_sql_number(np.inf)}"
    error = bad_value_error(xs, names, marginalize, values)
    features = f"CASE WHEN {fine} THEN {values} ELSE {error} END"
    staged = staged.select(
        *[F.col(c) for c in keep], array_to_vector(F.expr(features)).alias(vector)
    )
    classifier.setFeaturesCol(vector).setPredictionCol(index)
    classifier.setProbabilityCol("").setRawPredictionCol("")
    scored = DataFrame(classifier.transform(staged._jdf), df.sparkSession)
    labels = F.array(*[F.lit(v).cast(label_type) for v in np.asarray(model.classes_).tolist()])
    label = F.element_at(labels, F.col(index).cast("int") + 1)
    return scored.select(*[F.col(c) for c in keep], label.alias("prediction"))
