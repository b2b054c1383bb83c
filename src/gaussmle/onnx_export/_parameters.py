"""The numbers an exported graph holds, computed in float64 from a fitted classifier or mixture.

Only the model's public fitted attributes are read (``means_``,
``covariances_``, ``class_prior_``, ``class_count_``, ``classes_``; for
``predictive=True`` the public ``class_stats_`` and ``prior`` through
:func:`gaussmle.prior.predictive_parameters`). No onnx import here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..covariance import LOG_2PI, inverse_factors, structure_for

#: The dtypes a graph can compute in.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@dataclass(frozen=True)
class GraphParameters:
    """Everything the graph needs, in float64, with ``reference`` exact in the graph's dtype.

    Attributes
    ----------
    reference : ndarray (d,)
        The point subtracted from X first.
    shifted_means : ndarray (k, d)
        ``means_ - reference`` (unseen classes: zeros).
    scale : ndarray
        Per-feature inverse standard deviations (k, d), or the transposed
        inverse Cholesky factors (k, d, d) (tied: (1, d, d)).
    log_const : ndarray (k,)
        ``log prior - (d log 2 pi + log det Sigma) / 2`` (-inf: a class that never wins);
        for a marginalising model the log priors alone.
    classes : ndarray (k,)
    feature_log_norm : ndarray (k, d) or None
        For a model that marginalises missing features (diag and spherical):
        ``-(log 2 pi + log var_cj) / 2``, added for the observed features only.
    inv_df, tail : ndarray or None
        For Student t predictive densities: ``1 / df`` and the exponent
        ``-(df + 1) / 2`` per feature (k, d) for a product of univariate t
        (diag), or ``1 / df`` and ``-(df + d) / 2`` per class (k,) for a
        d-variate t. The log kernel is then ``tail * log1p(q * inv_df)``
        instead of ``-q / 2``. None for Gaussian densities.
    far_weight : ndarray (k,) or None
        Multiplies each class's log distance when far points are ranked
        (t densities fall like ``-(df + d) / 2 log q``); None means 1.
    linear_weights, linear_bias : ndarray (d, k) and (k,), or None
        For Gaussians sharing one covariance (tied): the linear discriminant
        ``z @ W + b`` of the centred row ``z``, ``W = Sigma^-1 (mu_c - r)`` and
        ``b = -|L^-1 (mu_c - r)|^2 / 2``. It differs from the joint
        log-likelihood minus ``log_const`` by a per-row constant, so it ranks
        the classes as the joint does; far rows are ranked by it, as gaussmle
        does (the squared distances overflow or their class differences drown
        in rounding). None for per-class covariances.
    """

    reference: np.ndarray
    shifted_means: np.ndarray
    scale: np.ndarray
    log_const: np.ndarray
    classes: np.ndarray
    feature_log_norm: np.ndarray | None = None
    inv_df: np.ndarray | None = None
    tail: np.ndarray | None = None
    far_weight: np.ndarray | None = None
    linear_weights: np.ndarray | None = None
    linear_bias: np.ndarray | None = None

    @property
    def triangular(self) -> bool:
        """Whether whitening is a matrix product (full and tied) rather than a scaling."""
        return self.scale.ndim == 3


# ---------------------------------------------------------------------- parameters
def _linear_discriminant(scale: np.ndarray, shifted: np.ndarray) -> dict[str, np.ndarray]:
    """The linear discriminant (GraphParameters fields) of a shared whitening, else nothing.

    ``scale`` is a whitening (see GraphParameters.scale); only one shared by
    all classes, (1, d, d), has a discriminant linear in the row.
    """
    if scale.ndim != 3 or scale.shape[0] != 1:
        return {}
    white = shifted @ scale[0]  # (k, d): whitened shifted means
    return {
        "linear_weights": scale[0] @ white.T,  # (d, k) = Sigma^-1 (mu_c - r)
        "linear_bias": -0.5 * np.einsum("kd,kd->k", white, white),
    }


def _check_exportable(model: Any) -> None:
    """Refuse what the graph cannot compute exactly, with what to do instead."""
    from ..classifier import GaussianClassifier

    if not isinstance(model, GaussianClassifier):
        raise ValueError(
            "to_onnx exports a fitted GaussianClassifier or GaussianMixture, not "
            f"{type(model).__name__}; fit one (or load one with gaussmle.load) first"
        )
    check_is_fitted(model, ["means_", "covariances_", "class_prior_", "classes_"])
    if model.predictive and model.missing == "marginalize":
        raise ValueError(
            "to_onnx cannot export a model with both predictive=True and "
            "missing='marginalize' (marginal Student t densities are not in the graph); "
            "impute missing values before serving and export a copy with "
            "set_params(missing='error'), or fit with predictive=False"
        )


def graph_parameters(model: Any, dtype: Any = "float64") -> GraphParameters:
    """The float64 parameters of the graph of a fitted classifier, for the graph's ``dtype``.

    Only public fitted attributes are used: ``means_``, ``covariances_``
    (which include ``epsilon_``), ``class_prior_``, ``class_count_`` and
    ``classes_``. The reference point is the training mean (the
    count-weighted mean of the class means) rounded to ``dtype``. A diag or
    spherical model with ``missing="marginalize"`` gets ``feature_log_norm``
    (the graph then integrates NaN features out); a full or tied one is refused.

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> X, y = [[0.0], [2.0], [10.0], [12.0]], [0, 0, 1, 1]
    >>> p = graph_parameters(GaussianClassifier(var_smoothing=0.0).fit(X, y))
    >>> p.reference.tolist(), p.shifted_means.tolist(), p.scale.tolist()
    ([6.0], [[-5.0], [5.0]], [[1.0], [1.0]])
    >>> p.log_const.round(4).tolist(), p.linear_weights is None
    ([-1.6121, -1.6121], True)
    >>> t = graph_parameters(GaussianClassifier("tied", var_smoothing=0.0).fit(X, y))
    >>> t.linear_weights.tolist(), t.linear_bias.tolist()
    ([[-5.0, 5.0]], [-12.5, -12.5])
    """
    _check_exportable(model)
    dtype = check_dtype(dtype)
    counts = np.asarray(model.class_count_, dtype=np.float64)
    seen = counts > 0
    means = np.asarray(model.means_, dtype=np.float64)
    k, d = means.shape
    reference = (counts[seen] @ means[seen]) / counts[seen].sum()
    reference = reference.astype(dtype).astype(np.float64)
    shifted = np.where(seen[:, None], means - reference, 0.0)
    with np.errstate(divide="ignore"):
        log_prior = np.where(
            seen, np.log(np.asarray(model.class_prior_, dtype=np.float64)), -np.inf
        )
    classes = np.asarray(model.classes_)
    if model.predictive:
        return _student_parameters(model, reference, log_prior)
    cov = np.asarray(model.covariances_, dtype=np.float64)
    scale, log_terms = structure_for(model.covariance_type).whitening(cov, seen, d)
    return _gaussian_parameters(model, reference, shifted, scale, log_terms, log_prior, classes)


def _gaussian_parameters(
    model: Any,
    reference: np.ndarray,
    shifted: np.ndarray,
    scale: np.ndarray,
    log_terms: np.ndarray,
    log_prior: np.ndarray,
    classes: np.ndarray,
) -> GraphParameters:
    """The parameters of plug-in Gaussians (a classifier's or a mixture's, ``log_prior`` their
    log priors or weights); with ``missing="marginalize"`` the per-feature normalisers that
    integrate NaN features out (diag, spherical), or a refusal (full, tied)."""
    d = reference.shape[0]
    if getattr(model, "missing", "error") != "marginalize":
        log_const = log_prior - 0.5 * (d * LOG_2PI + log_terms.sum(axis=1))
        linear = _linear_discriminant(scale, shifted)
        return GraphParameters(reference, shifted, scale, log_const, classes, **linear)
    params = GraphParameters(
        reference, shifted, scale, log_prior, classes, -0.5 * (LOG_2PI + log_terms)
    )
    if params.triangular:
        raise ValueError(
            f"to_onnx cannot export a {model.covariance_type!r} model with "
            "missing='marginalize': the marginal of each missing-value pattern needs its own "
            "Cholesky factor, which the graph does not compute; impute missing values before "
            "serving and export a copy with set_params(missing='error') (it scores complete "
            "rows identically), or use covariance_type='diag'"
        )
    return params


def mixture_parameters(model: Any, dtype: Any = "float64") -> GraphParameters:
    """The float64 parameters of the graph of a fitted GaussianMixture, for ``dtype``.

    The components are the graph's classes (labelled 0 .. k-1), the mixture
    weights its priors: the joint log-likelihood of component ``c`` is
    ``log w_c + log N(x | mu_c, Sigma_c)``, as the mixture's E-step computes it.
    Only public fitted attributes are read (``weights_``, ``means_``,
    ``covariances_``, which include ``reg_covar``). The reference point is the
    weighted mean of the component means, rounded to ``dtype``; a component
    of weight 0 never wins. A diag or spherical mixture with
    ``missing="marginalize"`` gets ``feature_log_norm`` (the graph integrates
    NaN features out, as the classifier's does); a full or tied one is refused.

    Examples
    --------
    >>> from gaussmle import GaussianMixture
    >>> gm = GaussianMixture(2, covariance_type="diag", reg_covar=0.0, random_state=0)
    >>> p = mixture_parameters(gm.fit([[0.0], [2.0], [10.0], [12.0]]))
    >>> p.reference.tolist(), sorted(p.shifted_means.ravel().tolist()), p.scale.tolist()
    ([6.0], [-5.0, 5.0], [[1.0], [1.0]])
    >>> p.classes.tolist(), p.log_const.round(4).tolist()
    ([0, 1], [-1.6121, -1.6121])
    """
    check_is_fitted(model, ["weights_", "means_", "covariances_"])
    dtype = check_dtype(dtype)
    weights = np.asarray(model.weights_, dtype=np.float64)
    seen = weights > 0
    means = np.asarray(model.means_, dtype=np.float64)
    k, d = means.shape
    reference = (weights[seen] @ means[seen]) / weights[seen].sum()
    reference = reference.astype(dtype).astype(np.float64)
    shifted = np.where(seen[:, None], means - reference, 0.0)
    with np.errstate(divide="ignore"):
        log_weight = np.where(seen, np.log(weights), -np.inf)
    cov = np.asarray(model.covariances_, dtype=np.float64)
    scale, log_terms = structure_for(model.covariance_type).whitening(cov, seen, d)
    return _gaussian_parameters(
        model, reference, shifted, scale, log_terms, log_weight, np.arange(k)
    )


# ---------------------------------------------------------------------- Student t
#: A t density's whitening, log normalisers (k,), and the GraphParameters t fields.
_TDensity = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]


def _t_per_feature(scale: np.ndarray, df: np.ndarray, d: int) -> _TDensity:
    """diag: a product of univariate t densities, df per feature (k, d)."""
    from scipy.special import gammaln

    log_norm = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * np.log(df * np.pi * scale)
    extra = {"inv_df": 1.0 / df, "tail": -(df + 1.0) / 2, "far_weight": df.mean(axis=1) + 1}
    return 1.0 / np.sqrt(scale), log_norm.sum(axis=1), extra


def _t_multivariate(
    whitening: np.ndarray, log_det_scale: np.ndarray, df: np.ndarray, d: int
) -> _TDensity:
    """A d-variate t per class, df (k,)."""
    from scipy.special import gammaln

    log_norm = (
        gammaln((df + d) / 2) - gammaln(df / 2) - 0.5 * d * np.log(df * np.pi) - log_det_scale / 2
    )
    extra = {"inv_df": 1.0 / df, "tail": -(df + d) / 2, "far_weight": df + d}
    return whitening, log_norm, extra


def _t_diagonal_scale(scale: np.ndarray, df: np.ndarray, d: int) -> _TDensity:
    """spherical: a d-variate t with a diagonal scale (k, d)."""
    return _t_multivariate(1.0 / np.sqrt(scale), np.log(scale).sum(axis=1), df, d)


def _t_scale_matrix(scale: np.ndarray, df: np.ndarray, d: int) -> _TDensity:
    """full and tied: a d-variate t with a scale matrix per class (k, d, d)."""
    whitening, pivots = inverse_factors(scale)
    return _t_multivariate(whitening, pivots.sum(axis=1), df, d)


def _t_density(scale: np.ndarray, df: np.ndarray, d: int) -> _TDensity:
    """The t density the predictive's shapes describe (see ``predictive_parameters``).

    Degrees of freedom per feature (k, d) make independent per-feature t's
    (diag); otherwise a d-variate t with a diagonal scale (k, d) (spherical) or
    scale matrices (k, d, d) (full, tied).
    """
    if df.ndim == 2:
        return _t_per_feature(scale, df, d)
    if scale.ndim == 2:
        return _t_diagonal_scale(scale, df, d)
    return _t_scale_matrix(scale, df, d)


def _student_parameters(
    model: Any, reference: np.ndarray, log_prior: np.ndarray
) -> GraphParameters:
    """Graph parameters of the posterior predictive (Student t) class densities.

    The predictive parameters come from the model's public ``class_stats_``
    and ``prior`` through :func:`gaussmle.prior.predictive_parameters`, as
    the classifier computes them.
    """
    from ..prior import predictive_parameters

    stats = model.class_stats_  # per-feature (diag) statistics for diag and spherical
    location, scale, df = predictive_parameters(
        stats, model.covariance_type, model.prior, stats.pooled()
    )
    location = np.asarray(location, dtype=np.float64)
    d = location.shape[1]
    df = np.asarray(df, dtype=np.float64)
    whitening, log_norm, extra = _t_density(np.asarray(scale, dtype=np.float64), df, d)
    return GraphParameters(
        reference,
        location - reference,
        whitening,
        log_prior + log_norm,
        np.asarray(model.classes_),
        **extra,
    )


def check_dtype(dtype: Any) -> np.dtype:
    try:
        resolved = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    return resolved
