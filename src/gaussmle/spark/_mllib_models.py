"""MLlib models in the JVM carrying a classifier's scores, built once per fitted model.

The score of class c (its joint log-likelihood, up to terms common to every
class) of a diag or spherical classifier is MLlib's gaussian naive Bayes
score, ``log prior_c - sum_j ((x_j - mu_cj)^2 / var_cj + log var_cj) / 2``: a
``NaiveBayesModel`` with our parameters (:func:`naive_bayes_model`; it squares
differences, exact far from the origin). Where it cannot serve (a tied
classifier; a model that marginalises missing values) the scores are written
linear in ``z = x - r`` (``r`` the mean of all training data, so nothing cancels
far from the origin), ``z^2`` and which features are observed
(:func:`independent_scores`, :func:`tied_scores`: ``w_c = Sigma^-1 (mu_c - r)``
by a Cholesky solve, no inverse), and a multinomial
``LogisticRegressionModel`` with those coefficients picks the class
(:func:`linear_model`). Both pick the first class with the largest score, as
NumPy's ``argmax`` does. The parameters are computed in float64 on the driver
and travel as text, exactly; the JVM objects are cached per JVM by a digest of
the parameters (:func:`jvm_classifier`). Spark-free except for the JVM calls.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._linalg import LOG_2PI


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


def java_number(value: float) -> str:
    """A float as Java's ``Double.parseDouble`` reads it back exactly.

    Examples
    --------
    >>> java_number(0.1), java_number(-np.inf), java_number(np.nan)
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
        return parse("[" + ",".join(java_number(v) for v in values.ravel()) + "]").asML()

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
        return parse("[" + ",".join(java_number(v) for v in values.ravel()) + "]").asML()

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


def jvm_classifier(session: Any, model: Any, scores: Scores, direct: bool) -> Any:
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
