"""What a fitted model says, in one object: fit statistics, estimates, tests; text, HTML, LaTeX.

:func:`summarize` (``model.summary()``) builds a :class:`Summary` from a
fitted :class:`~gaussmle.GaussianClassifier` or :class:`~gaussmle.Gaussian`
(a :class:`~gaussmle.GaussianMixture` gets its fit statistics, with EM's
convergence, and its weights, means and covariances per component):

* the fit statistics (rows, features, classes, free parameters, the
  log-likelihood of the training data with AIC and BIC, the smoothing or the
  prior used); for a classifier the log-likelihood comes from the per-class
  sufficient statistics, so it needs no data;
* the estimates with standard errors and intervals (t for means, chi-square
  for variances), per class and feature;
* the tests of :mod:`gaussmle.inference` (Box's M, MANOVA, Hotelling, the
  covariance-structure tests; with data, the normality tests).

A summary is a title and a sequence of blocks (paragraphs and tables of
text); ``as_text``, ``as_html`` and ``as_latex`` render the same blocks, and
``gaussmle describe`` prints ``as_text()``. The blocks and their renderers
live in :mod:`gaussmle._summary_render` (re-exported here); this module holds
the builders. A new model type needs one builder function registered on
:func:`summarize`.

Examples
--------
>>> from gaussmle import GaussianClassifier
>>> clf = GaussianClassifier().fit([[0.0], [1.0], [2.0], [9.0], [10.0], [12.0]],
...                                [0, 0, 0, 1, 1, 1])
>>> s = clf.summary()
>>> s.fit["rows"], s.fit["n_parameters"], round(s.fit["loglik"], 4)
(6.0, 5, -12.7271)
>>> print(s.as_text().splitlines()[0])
GaussianClassifier: one Gaussian per class, covariance diag, 2 classes, 1 features,
"""

from __future__ import annotations

import copy
from functools import singledispatch
from typing import Any

import numpy as np

from ._estimates import ESTIMATE_HEADER, class_estimates, feature_names
from ._summary_render import Paragraph, Summary, Table, _p_text, table_of_tests
from ._summary_render import block_text as block_text  # re-exported (cli, tests)
from ._summary_render import latex_escape as latex_escape  # re-exported
from ._text import (
    decimals,
    estimate_cells,
    estimate_rows,
    fmt_count,
    fmt_fixed,
    fmt_num,
    wrap,
)
from .classifier import GaussianClassifier
from .covariance import LOG_2PI, structure_for
from .gaussian import Gaussian
from .inference import model_tests
from .mixture import GaussianMixture

__all__ = [
    "Paragraph",
    "Summary",
    "Table",
    "data_checks",
    "mixture_variances",
    "prior_text",
    "summarize",
]


# ---------------------------------------------------------------------- log-likelihood
def _diag_loglik_sum(n: np.ndarray, delta: np.ndarray, m2: np.ndarray, var: np.ndarray) -> float:
    """sum over rows of log N(x | mu, diag(var)), per feature from (weights, mean - mu, m2)."""
    quad = (m2 + n * delta * delta) / var
    return float(-0.5 * np.sum(n * (LOG_2PI + np.log(var)) + quad))


def _full_loglik_sum(n: float, delta: np.ndarray, m2: np.ndarray, cov: np.ndarray) -> float:
    """sum over rows of log N(x | mu, Sigma) from (weight, mean - mu, scatter matrix)."""
    from scipy.linalg import solve_triangular

    L = np.linalg.cholesky(cov)
    half = solve_triangular(L, m2, lower=True, check_finite=False)
    trace = float(np.trace(solve_triangular(L, half.T, lower=True, check_finite=False)))
    z = solve_triangular(L, delta, lower=True, check_finite=False)
    logdet = 2.0 * float(np.log(np.diagonal(L)).sum())
    return float(-0.5 * (n * (cov.shape[0] * LOG_2PI + logdet) + trace + n * float(z @ z)))


def training_loglik(model: GaussianClassifier) -> float | None:
    """log p(X, y) of the training data from the per-class statistics (None: predictive).

    ``sum_c [n_c log prior_c + sum_rows log N(x | mu_c, Sigma_c)]``, where the
    second sum is ``-1/2 (n_c (d log 2 pi + log|Sigma_c|) + tr(Sigma_c^-1 M2_c)
    + n_c |mean_c - mu_c|^2_Sigma_c)``: exact for any estimate (smoothing,
    MAP), per observed feature with missing values. Equals
    ``model.loglik(X, y)`` on the training data.

    Examples
    --------
    >>> X, y = [[0.0], [2.0], [10.0], [12.0]], [0, 0, 1, 1]
    >>> clf = GaussianClassifier().fit(X, y)
    >>> round(training_loglik(clf), 6) == round(clf.loglik(X, y), 6)
    True
    """
    if getattr(model, "predictive", False):
        return None
    stats = model.class_stats_
    structure = structure_for(model.covariance_type)
    total = 0.0
    for c in np.flatnonzero(stats.count > 0):
        s = stats[c]
        delta = (s.mean - model.means_[c]) + s.lo
        n_c = float(s.count)
        if not structure.independent_features:  # full, tied
            cov = structure.component(model.covariances_, c)
            part = _full_loglik_sum(n_c, delta, s.m2, cov)
        else:
            var = np.broadcast_to(model.covariances_[c], delta.shape)
            m2 = s.m2 if s.kind == "diag" else np.diagonal(s.m2)
            part = _diag_loglik_sum(s.n_per_feature, delta, m2, var)
        total += n_c * float(np.log(model.class_prior_[c])) + part
    return total


def gaussian_loglik(gaussian: Gaussian) -> float | None:
    """The log-likelihood of a Gaussian's own data at its MLE (None for a MAP estimate).

    At the MLE the Mahalanobis terms add up to ``n d``, so
    ``LL = -n/2 (d log(2 pi) + log|Sigma| + d)``.

    Examples
    --------
    >>> import gaussmle
    >>> X = [[0.0], [1.0], [3.0]]
    >>> round(gaussian_loglik(gaussmle.fit(X)), 9) == round(gaussmle.fit(X).loglik(X), 9)
    True
    """
    if getattr(gaussian, "estimator", "mle") == "map" or not np.isfinite(gaussian.n):
        return None
    n, d = gaussian.n, gaussian.n_features
    if not structure_for(gaussian.covariance_type).independent_features:  # full
        logdet = 2.0 * float(np.log(np.diagonal(np.linalg.cholesky(gaussian.covariance))).sum())
    else:
        logdet = float(np.sum(np.log(gaussian.variance)))
    return float(-0.5 * n * (d * LOG_2PI + logdet + d))


def _criteria(loglik: float | None, p: int, n: float) -> dict[str, float | None]:
    if loglik is None:
        return {"loglik": None, "aic": None, "bic": None}
    return {
        "loglik": loglik,
        "aic": 2.0 * p - 2.0 * loglik,
        "bic": p * float(np.log(n)) - 2.0 * loglik,
    }


def _fit_table(fit: dict[str, Any], title: str) -> Table:
    names = [("rows", "rows"), ("features", "features")]
    if fit.get("classes") is not None:
        names.append(("classes", "classes"))
    names.append(("free parameters", "n_parameters"))
    if fit["loglik"] is not None:
        names += [("log-likelihood", "loglik"), ("AIC", "aic"), ("BIC", "bic")]
    cells = []
    for _, key in names:
        v = fit[key]
        counted = key in ("rows", "features", "classes", "n_parameters")
        cells.append(fmt_count(v) if counted else fmt_num(v, 7))
    return Table(title, tuple(h for h, _ in names), (tuple(cells),), "r" * len(names))


# ---------------------------------------------------------------------- prior and settings
def prior_text(prior: Any) -> str:
    """One sentence on the conjugate prior (None: the default one).

    Examples
    --------
    >>> print(prior_text(None))
    Prior: the means are centred on the mean of all the data, worth 0.01 observations; the variances on the variance of all the data, worth 1 observation.
    """  # noqa: E501
    from .prior import coerce_prior

    p = coerce_prior(prior)

    def worth(n: float) -> str:
        return f"worth {n:g} observation{'' if n == 1 else 's'}"

    where_mean = "the mean of all the data" if p.mean is None else f"{_short(p.mean)} (given)"
    where_var = (
        "the variance of all the data" if p.variance is None else f"{_short(p.variance)} (given)"
    )
    return (
        f"Prior: the means are centred on {where_mean}, {worth(p.mean_strength)}; the "
        f"variances on {where_var}, {worth(p.variance_strength)}."
    )


def _short(values: Any) -> str:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    return "[" + ", ".join(f"{v:.4g}" for v in arr[:6]) + (", ...]" if arr.size > 6 else "]")


def _prior_in_use(model: GaussianClassifier) -> str | None:
    """The conjugate prior as a sentence, or None for a plain MLE model."""
    bayesian = getattr(model, "estimator", "mle") == "map" or getattr(model, "predictive", False)
    return prior_text(model.prior) if bayesian else None


def missing_values(model: GaussianClassifier) -> float:
    """Feature values missing from the training data (weighted), from the statistics."""
    stats = model.class_stats_
    if stats.feature_count is None:
        return 0.0
    return float(np.sum(stats.count[:, None] - stats.feature_count))


def settings_lines(model: GaussianClassifier) -> list[str]:
    """Sentences on the estimator, the prior, the densities and missing values."""
    estimator = str(getattr(model, "estimator", "mle"))
    predictive = bool(getattr(model, "predictive", False))
    lines = []
    if estimator == "mle" and not predictive:
        lines.append(
            f"Estimator: mle; var_smoothing {float(model.var_smoothing):g} adds epsilon = "
            f"{float(model.epsilon_):.3g} to every variance."
        )
    else:
        implied = " (implied by the predictive densities)" if estimator != "map" else ""
        lines.append(f"Estimator: map{implied}, under a conjugate prior (no var_smoothing).")
        lines.append(prior_text(model.prior))
    if predictive:
        lines.append(
            "Prediction: posterior predictive densities (Student t), wider than the plug-in "
            "Gaussians for classes with few rows."
        )
    if str(getattr(model, "missing", "error")) == "marginalize":
        gaps = missing_values(model)
        seen = f"; {fmt_count(gaps)} training values were missing" if gaps else ""
        lines.append(
            f"Missing values: marginalised when predicting{seen} (each feature was fitted from "
            "the rows where it is observed)."
        )
    else:
        lines.append("Missing values: an error (fitted with --missing error).")
    return lines


# ---------------------------------------------------------------------- data checks
def data_checks(model: GaussianClassifier, X: Any, y: Any) -> dict[str, Any]:
    """Log-likelihood, AIC, BIC, an OOD threshold and per-feature normality on labelled data.

    ``y`` must hold only the model's classes. These are the numbers of
    ``gaussmle describe --data`` (its ``--json`` prints this dict).

    Examples
    --------
    >>> X, y = [[0.0], [1.0], [3.0], [9.0], [10.0], [12.0]], [0, 0, 0, 1, 1, 1]
    >>> checks = data_checks(GaussianClassifier().fit(X, y), X, y)
    >>> checks["rows"], round(checks["loglik"], 4), len(checks["normality"])
    (6, -13.998, 2)
    """
    from .diagnostics import ood_threshold, warnings_for

    names = feature_names(model)
    model = for_plain_arrays(model, X)  # plain arrays: checked by shape, without name warnings
    X_arr, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    tests = _normality(X_arr, y, names)
    return {
        "rows": int(X_arr.shape[0]),
        "loglik": float(model.loglik(X, y)),
        "aic": float(model.aic(X, y)),
        "bic": float(model.bic(X, y)),
        "ood_threshold": float(ood_threshold(model, X, quantile=0.001)),
        "normality": [t.to_dict() for t in tests],
        "warnings": warnings_for(tests),
    }


def _normality(X: np.ndarray, y: np.ndarray, names: list[str]) -> list[Any]:
    """Normality tests per class and feature, each feature on the rows where it is observed."""
    from .diagnostics import normality_tests

    gaps = np.isnan(X)
    if not gaps.any():
        return normality_tests(X, y, feature_names=names)
    order = {label: i for i, label in enumerate(np.unique(y).tolist())}
    tests = []
    for j, name in enumerate(names):
        seen = ~gaps[:, j]
        tests += normality_tests(X[seen, j : j + 1], y[seen], feature_names=[name])
    position = {name: j for j, name in enumerate(names)}
    return sorted(tests, key=lambda t: (order[t.class_label], position[t.feature]))


def _column(values: Any) -> list[str]:
    """Numbers sharing one number of decimals (4 significant digits of the largest)."""
    values = [float(v) for v in values]
    places = decimals(values)
    return [fmt_fixed(v, places) for v in values]


def _data_blocks(data: dict[str, Any], data_name: str, dropped: int) -> list[Paragraph | Table]:
    gone = f" ({dropped:,} dropped with missing values)" if dropped else ""
    intro = Paragraph(
        (
            "",
            f"On {data['rows']:,} rows of {data_name}{gone}:",
            f"  log-likelihood {fmt_num(data['loglik'], 6)}, AIC {fmt_num(data['aic'], 6)}, "
            f"BIC {fmt_num(data['bic'], 6)}",
            f"  0.1% of these rows have an ood_score below {data['ood_threshold']:.4g}: a "
            "threshold for predict --ood-threshold",
        )
    )
    rows = []
    previous = object()
    skew = _column(t["skewness"] for t in data["normality"])
    kurt = _column(t["excess_kurtosis"] for t in data["normality"])
    for t, sk, ku in zip(data["normality"], skew, kurt, strict=True):
        shown = "" if t["class_label"] == previous else str(t["class_label"])
        previous = t["class_label"]
        verdict = (
            "far from Gaussian"
            if t["far_from_gaussian"]
            else ("not tested" if t["test"] is None else "ok")
        )
        rows.append(
            (
                shown,
                t["feature"],
                fmt_count(t["n"]),
                _p_text(t["p_value"]),
                sk,
                ku,
                verdict,
            )
        )
    notes = tuple(wrap(f"warning: {w}", indent=2) for w in data["warnings"])
    table = Table(
        "Normality per class and feature (Shapiro-Wilk up to 5000 rows, else D'Agostino-Pearson)",
        ("class", "feature", "rows", "p-value", "skewness", "excess kurtosis", "verdict"),
        tuple(rows),
        "llrrrrl",
        (("",) + notes) if notes else (),
    )
    return [intro, table]


# ---------------------------------------------------------------------- builders
@singledispatch
def summarize(model: Any, X: Any = None, y: Any = None, **options: Any) -> Summary:
    """The :class:`Summary` of a fitted model.

    Parameters
    ----------
    model : GaussianClassifier, Gaussian or GaussianMixture
        Fitted.
    X, y : array-like, optional
        Data (labelled, for a classifier) for the normality tests; for a
        classifier also the log-likelihood, AIC, BIC and per-feature
        normality on that data.
    level : float, default 0.95
        Confidence level of the intervals.
    name : str, optional
        What to call the model (default: its class name).
    data_name : str, optional
        What to call the data (default ``"the data"``); ``dropped``: rows
        dropped from it for missing values.

    Returns
    -------
    Summary

    Examples
    --------
    >>> import gaussmle
    >>> s = summarize(gaussmle.fit([[0.0, 1.0], [1.0, 3.0], [2.0, 2.0], [4.0, 1.0]], "full"))
    >>> s.fit["n_parameters"], round(s.fit["aic"], 4), [r.test for r in s.tests]
    (5, 34.0667, ['spherical < diag', 'diag < full'])
    """
    raise TypeError(f"cannot summarise a {type(model).__name__}; fit a gaussmle model first")


@summarize.register
def _(
    model: GaussianClassifier,
    X: Any = None,
    y: Any = None,
    *,
    level: float = 0.95,
    name: str | None = None,
    data_name: str = "the data",
    dropped: int = 0,
) -> Summary:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "class_stats_")
    title = name or "GaussianClassifier"
    names = feature_names(model)
    k, d = len(model.classes_), len(names)
    rows = float(np.sum(model.class_count_))
    p = int(model.n_parameters)
    fit = {
        "rows": rows,
        "features": d,
        "classes": k,
        "n_parameters": p,
        **_criteria(training_loglik(model), p, rows),
        "covariance_type": model.covariance_type,
        "estimator": str(getattr(model, "estimator", "mle")),
        "var_smoothing": float(model.var_smoothing),
        "epsilon": float(model.epsilon_),
        "prior": _prior_in_use(model),
    }
    per_class = class_estimates(model, level)
    estimates = tuple(
        {"class": e["class"], **f, "count": e["count"], "prior": e["prior"]}
        for e in per_class
        for f in e["features"]
    )
    blocks: list[Paragraph | Table] = [
        Paragraph(
            (
                f"{title}: one Gaussian per class, covariance {model.covariance_type}, "
                f"{k} classes, {d} features,",
                f"fitted on {fmt_count(rows)} rows; {p} free parameters.",
            ),
            joined=True,
        ),
        Paragraph(tuple(settings_lines(model)), wrapped=True),
        _fit_table(fit, "Fit (training data, from the class statistics)"),
        _classes_table(model),
        _estimates_block(per_class, model.covariance_type, level),
        *_correlation_blocks(model, names),
    ]
    X_arr = None if X is None else np.asarray(X, dtype=np.float64)
    tests = model_tests(model, X_arr, None if y is None else np.asarray(y))
    blocks.append(table_of_tests(tests))
    if X is not None and y is not None:
        data = data_checks(model, X, y)
        blocks += _data_blocks(data, data_name, dropped)
        fit["data"] = data
    return Summary(title, fit, estimates, tuple(tests), tuple(blocks))


def _classes_table(model: GaussianClassifier) -> Table:
    places = decimals(model.class_prior_)
    rows = tuple(
        (str(c.item() if isinstance(c, np.generic) else c), fmt_count(n), fmt_fixed(p, places))
        for c, n, p in zip(model.classes_, model.class_count_, model.class_prior_, strict=True)
    )
    return Table("Classes", ("class", "rows", "prior"), rows, "lrr")


def _interval_header(level: float) -> tuple[str, ...]:
    h = ESTIMATE_HEADER
    return (h[0], h[1], f"{level:.0%} interval", h[3], h[4], f"{level:.0%} interval")


def _estimates_block(per_class: list[dict[str, Any]], ctype: str, level: float) -> Table:
    flat = [(entry["class"], f) for entry in per_class for f in entry["features"]]
    cells = estimate_cells([f for _, f in flat])
    rows = []
    previous = object()
    for (label, f), c in zip(flat, cells, strict=True):
        rows.append((("" if label == previous else str(label)), f["feature"], *c))
        previous = label
    structure = structure_for(ctype)
    notes: tuple[str, ...] = ()
    if not structure.per_component:
        notes = ("  (tied: one covariance matrix shared by all classes, estimated from all rows)",)
    elif structure.one_variance:
        notes = ("  (spherical: one variance per class, shared by its features)",)
    header = ("class", "feature", *_interval_header(level))
    title = (
        f"Estimates (SE: standard error; {level:.0%} intervals: t for means, chi-square for "
        "variances)"
    )
    return Table(title, header, tuple(rows), "llrrrrrr", notes)


def _correlation_blocks(model: GaussianClassifier, names: list[str]) -> list[Table]:
    structure = structure_for(model.covariance_type)
    if structure.independent_features or len(names) < 2:
        return []
    if not structure.per_component:
        return [_corr_table("Correlations (all classes)", model.covariances_, names)]
    return [
        _corr_table(f"Correlations within class {c}", cov, names)
        for c, cov in zip(model.classes_, model.covariances_, strict=True)
    ]


def _corr_table(title: str, cov: np.ndarray, names: list[str]) -> Table:
    cov = np.asarray(cov, dtype=float)
    sd = np.sqrt(np.diagonal(cov))
    corr = cov / np.outer(sd, sd)
    rows = tuple((n, *[f"{v:.4f}" for v in corr[i]]) for i, n in enumerate(names))
    return Table(title, ("", *names), rows, "l" + "r" * len(names))


@summarize.register
def _(
    model: Gaussian,
    X: Any = None,
    y: Any = None,
    *,
    level: float = 0.95,
    name: str | None = None,
    data_name: str = "the data",
    dropped: int = 0,
) -> Summary:
    title = name or "Gaussian"
    saved = getattr(model, "feature_names_in_", None)  # kept by gaussmle estimate -o
    names = [f"x{j}" for j in range(model.n_features)] if saved is None else list(map(str, saved))
    estimator = getattr(model, "estimator", None)
    p = int(model.n_parameters)
    loglik = gaussian_loglik(model)
    fit = {
        "rows": float(model.n),
        "features": model.n_features,
        "classes": None,
        "n_parameters": p,
        **_criteria(loglik, p, float(model.n)),
        "covariance_type": model.covariance_type,
        "estimator": estimator or "mle",
        "var_smoothing": None,
        "epsilon": None,
        "prior": None,
    }
    part = estimate_rows(model, level)
    estimates = tuple(
        {"feature": fname, **{key: part[key][j] for key in part}} for j, fname in enumerate(names)
    )
    how = " by MAP" if estimator == "map" else ""
    closing = (
        "(A MAP estimate: its log-likelihood needs the data; see gaussmle estimate.)"
        if loglik is None
        else f"Log-likelihood at the MLE: {fmt_num(loglik, 6)}."
    )
    blocks: list[Paragraph | Table] = [
        Paragraph(
            (
                f"{title}: one Gaussian (covariance {model.covariance_type}) of "
                f"{model.n_features} features, estimated{how} from {fmt_count(model.n)} rows.",
            )
        ),
        Table(
            "",
            ("feature", *_interval_header(level)),
            tuple(
                (e["feature"], *c)
                for e, c in zip(estimates, estimate_cells(estimates), strict=True)
            ),
            "lrrrrrr",
        ),
        Paragraph(("", closing)),
        _fit_table(fit, "Fit"),
    ]
    if not structure_for(model.covariance_type).independent_features and model.n_features > 1:
        blocks.append(_corr_table("Correlations", model.covariance, names))
    tests = model_tests(model, None if X is None else np.asarray(X, dtype=np.float64))
    blocks.append(table_of_tests(tests))
    del data_name, dropped, y
    return Summary(title, fit, estimates, tuple(tests), tuple(blocks))


# ---------------------------------------------------------------------- mixtures
def mixture_variances(model: GaussianMixture) -> np.ndarray:
    """Per-component, per-feature variances (k, d) of a fitted mixture, any covariance type.

    Examples
    --------
    >>> gm = GaussianMixture(2, covariance_type="spherical", random_state=0)
    >>> gm = gm.fit([[0.0, 1.0], [0.2, 1.0], [9.0, 5.0], [9.2, 5.4]])
    >>> mixture_variances(gm).shape
    (2, 2)
    """
    cov = np.asarray(model.covariances_, dtype=np.float64)
    variances = structure_for(model.covariance_type).variances(cov)  # (k|1, d|1)
    return np.broadcast_to(variances, np.shape(model.means_)).copy()


def for_plain_arrays(model: Any, X: Any) -> Any:
    """The model, or a shallow copy without ``feature_names_in_`` when X has no column names.

    Plain arrays are checked by shape (scikit-learn would warn that X has no
    feature names, as ``gaussmle report`` passes the rows it read).

    Examples
    --------
    >>> import pandas as pd
    >>> from gaussmle import GaussianMixture
    >>> gm = GaussianMixture(1).fit(pd.DataFrame({"a": [0.0, 1.0, 3.0]}))
    >>> plain = for_plain_arrays(gm, [[1.0]])
    >>> hasattr(plain, "feature_names_in_"), hasattr(gm, "feature_names_in_")
    (False, True)
    """
    if hasattr(model, "feature_names_in_") and not hasattr(X, "columns"):
        model = copy.copy(model)
        del model.feature_names_in_
    return model


def _mixture_fit(model: GaussianMixture, X: Any) -> dict[str, Any]:
    """The fit statistics: on X when given (exact), else from the last E-step."""
    stats = model.component_stats_
    p = int(model._n_parameters())
    if X is not None:
        logp = for_plain_arrays(model, X).score_samples(X)
        rows, loglik, source = float(logp.shape[0]), float(np.sum(logp)), "data"
    else:
        rows = float("nan") if stats is None else float(np.sum(stats.count))
        loglik = float(model.lower_bound_) * rows if np.isfinite(rows) else None
        source = "last E-step"
    criteria = _criteria(loglik, p, rows) if loglik is not None and np.isfinite(loglik) else {}
    return {
        "rows": rows,
        "features": int(model.n_features_in_),
        "components": len(model.weights_),
        "n_parameters": p,
        **{"loglik": None, "aic": None, "bic": None, **criteria},
        "loglik_source": source,
        "converged": bool(model.converged_),
        "n_iter": int(model.n_iter_),
        "covariance_type": model.covariance_type,
        "reg_covar": float(model.reg_covar),
    }


def _mixture_fit_table(fit: dict[str, Any], title: str) -> Table:
    names = [
        ("rows", "rows"),
        ("features", "features"),
        ("components", "components"),
        ("free parameters", "n_parameters"),
    ]
    if fit["loglik"] is not None:
        names += [("log-likelihood", "loglik"), ("AIC", "aic"), ("BIC", "bic")]
    cells = [
        fmt_num(fit[key], 7) if key in ("loglik", "aic", "bic") else fmt_count(fit[key])
        for _, key in names
    ]
    names.append(("EM", "converged"))
    cells.append(
        f"{'converged' if fit['converged'] else 'not converged'} ({fit['n_iter']} iterations)"
    )
    return Table(title, tuple(h for h, _ in names), (tuple(cells),), "r" * len(names))


def _components_table(model: GaussianMixture) -> Table:
    stats = model.component_stats_
    places = decimals(model.weights_)
    rows = tuple(
        (
            str(c),
            fmt_fixed(w, places),
            "-" if stats is None else fmt_count(float(stats.count[c])),
        )
        for c, w in enumerate(model.weights_)
    )
    return Table("Components", ("component", "weight", "weighted rows"), rows, "lrr")


def _covariance_tables(model: GaussianMixture, names: list[str]) -> list[Table]:
    structure = structure_for(model.covariance_type)
    if structure.independent_features:
        return []
    cov = np.asarray(model.covariances_, dtype=np.float64)
    pairs = (
        [("Covariance (shared by all components)", cov)]
        if not structure.per_component
        else [(f"Covariance of component {c}", m) for c, m in enumerate(cov)]
    )
    d = len(names)
    tables = []
    for title, matrix in pairs:
        cells = _column(matrix.ravel())  # one number of decimals for the whole matrix
        rows = tuple((n, *cells[i * d : (i + 1) * d]) for i, n in enumerate(names))
        tables.append(Table(title, ("", *names), rows, "l" + "r" * d))
    return tables


@summarize.register
def _(
    model: GaussianMixture,
    X: Any = None,
    y: Any = None,
    *,
    level: float = 0.95,
    name: str | None = None,
    data_name: str = "the data",
    dropped: int = 0,
) -> Summary:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "weights_")
    title = name or "GaussianMixture"
    names = feature_names(model)
    fit = _mixture_fit(model, X)
    variances = mixture_variances(model)
    estimates = tuple(
        {
            "component": c,
            "weight": float(model.weights_[c]),
            "feature": feature,
            "mean": float(model.means_[c, j]),
            "variance": float(variances[c, j]),
        }
        for c in range(len(model.weights_))
        for j, feature in enumerate(names)
    )
    mean_cells = _column(e["mean"] for e in estimates)
    var_cells = _column(e["variance"] for e in estimates)
    d = len(names)
    rows = tuple(
        (str(e["component"]) if i % d == 0 else "", e["feature"], m, v)
        for i, (e, m, v) in enumerate(zip(estimates, mean_cells, var_cells, strict=True))
    )
    where = (
        f"on {fmt_count(fit['rows'])} rows of {data_name}"
        if fit["loglik_source"] == "data"
        else "at the last E-step of the fit (pass X for the value at the fitted parameters)"
    )
    state = "converged" if fit["converged"] else "did not converge"
    blocks: list[Paragraph | Table] = [
        Paragraph(
            (
                f"{title}: a mixture of {fit['components']} Gaussians, covariance "
                f"{model.covariance_type}, {fit['features']} features,",
                f"fitted by EM ({state} after {fit['n_iter']} iterations); "
                f"{fit['n_parameters']} free parameters.",
            ),
            joined=True,
        ),
        Paragraph((f"Log-likelihood, AIC and BIC {where}.",), wrapped=True),
        _mixture_fit_table(fit, "Fit"),
        _components_table(model),
        Table(
            "Means and variances per component",
            ("component", "feature", "mean", "variance"),
            rows,
            "llrr",
        ),
        *_covariance_tables(model, names),
    ]
    del level, y, dropped
    return Summary(title, fit, estimates, (), tuple(blocks))
