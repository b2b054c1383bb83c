"""The labels of a diag or spherical classifier as one Spark SQL expression (no Python workers).

For independent features the joint log-likelihood of class c is a sum of one
term per feature, ``log N(x_j | mu_cj, var_cj)``, plus ``log prior_c``: Spark
evaluates it in the JVM (generated code), and the label is the class with the
largest value (the first on ties, as NumPy's ``argmax``), picked with
``greatest`` over ``(value, -c, label)`` structs. Each term is computed
directly, ``(x_j - mu_cj)^2 * (-0.5 / var_cj)``, with no expanded square, so
it is exact far from the origin. Moving rows to Python and back (Arrow) costs
more than this whole evaluation, which is why the labels of these models take
this path; probabilities, full and tied covariances, Student-t predictive
models and mixtures use the Arrow UDF.

NaN, null and infinity behave as in memory: an error (``raise_error``, with the
in-memory message) unless the model marginalises missing values, where a
NaN or null feature drops out of every class's sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._columns import quoted

LOG_2PI = float(np.log(2.0 * np.pi))


def independent_parameters(model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(log prior (k,), means (k, d), variances (k, d))``, or None where SQL does not apply.

    Unseen classes have a log prior of -inf.

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> X = np.array([[0.0, 1.0], [1.0, 3.0], [5.0, 6.0], [6.0, 8.0]])
    >>> clf = GaussianClassifier(covariance_type="spherical").fit(X, [0, 0, 1, 1])
    >>> log_prior, means, var = independent_parameters(clf)
    >>> np.exp(log_prior).tolist(), var.shape
    ([0.5, 0.5], (2, 2))
    >>> independent_parameters(GaussianClassifier(covariance_type="full").fit(X, [0, 0, 1, 1]))
    """
    from ..classifier import GaussianClassifier

    if not isinstance(model, GaussianClassifier):
        return None
    if model.covariance_type not in ("diag", "spherical") or getattr(model, "predictive", False):
        return None
    means = np.asarray(model.means_, dtype=np.float64)
    cov = np.asarray(model.covariances_, dtype=np.float64)
    var = cov if cov.ndim == 2 else np.repeat(cov[:, None], means.shape[1], axis=1)
    seen = np.asarray(model.class_stats_.count) > 0
    with np.errstate(divide="ignore"):
        log_prior = np.where(
            seen, np.log(np.asarray(model.class_prior_, dtype=np.float64)), -np.inf
        )
    return log_prior, means, var


def _bad_value(x: Any, name: str, marginalize: bool) -> list[tuple[Any, str]]:
    """(condition, message) pairs that make a feature value an error."""
    from pyspark.sql import functions as F

    checks = [
        (
            F.abs(x) == F.lit(float("inf")),
            f"X contains infinity (inf) in column {name!r}; remove it first",
        )
    ]
    if not marginalize:
        checks.insert(
            0,
            (
                x.isNull() | F.isnan(x),
                f"X contains NaN (or null) in column {name!r}; remove or impute missing "
                "values first, or fit with missing='marginalize'",
            ),
        )
    return checks


def label_expression(model: Any, names: Sequence[str], label_type: Any) -> Any | None:
    """The model's prediction for the columns ``names`` as a Spark Column, or None.

    None where :func:`independent_parameters` is None (the caller uses the
    Arrow UDF then).
    """
    from pyspark.sql import functions as F

    parameters = independent_parameters(model)
    if parameters is None:
        return None
    log_prior, means, var = parameters
    marginalize = getattr(model, "missing", "error") == "marginalize"
    xs = [F.col(quoted(n)).cast("double") for n in names]
    half_precision = -0.5 / var
    log_norm = -0.5 * (LOG_2PI + np.log(var))  # (k, d)
    structs = []
    for c, label in enumerate(np.asarray(model.classes_).tolist()):
        if np.isinf(log_prior[c]):
            value = F.lit(float("-inf"))
        elif marginalize:
            value = F.lit(float(log_prior[c]))
            for j, x in enumerate(xs):
                d = x - F.lit(float(means[c, j]))
                term = d * d * F.lit(float(half_precision[c, j])) + F.lit(float(log_norm[c, j]))
                value = value + F.when(x.isNull() | F.isnan(x), F.lit(0.0)).otherwise(term)
        else:
            value = F.lit(float(log_prior[c] + log_norm[c].sum()))
            for j, x in enumerate(xs):
                d = x - F.lit(float(means[c, j]))
                value = value + d * d * F.lit(float(half_precision[c, j]))
        structs.append(
            F.struct(
                value.alias("value"),
                F.lit(-c).alias("order"),
                F.lit(label).cast(label_type).alias("label"),
            )
        )
    best = (F.greatest(*structs) if len(structs) > 1 else structs[0]).getField("label")
    checks = [
        check for x, n in zip(xs, names, strict=True) for check in _bad_value(x, n, marginalize)
    ]
    expression = None
    for condition, message in checks:
        raised = F.raise_error(F.lit(message)).cast(label_type)
        expression = (
            F.when(condition, raised) if expression is None else expression.when(condition, raised)
        )
    return best if expression is None else expression.otherwise(best)
