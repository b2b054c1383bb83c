"""Export a fitted :class:`~gaussmle.GaussianClassifier` to ONNX, for onnxruntime and friends.

:func:`to_onnx` builds the graph with ``onnx.helper`` directly (the ``onnx``
package is only imported when a graph is built; install ``gaussmle[onnx]``).
The graph has one input and three outputs, all plain tensors (no ZipMap):

- ``X`` (n, d), float32 or float64 (the ``dtype`` of the export);
- ``label`` (n,): the most probable class, as int64, float64, bool or string
  (whatever ``classes_`` holds);
- ``probabilities`` (n, k): p(c | x), in the order of ``classes_``;
- ``log_likelihood`` (n, k): the joint log-likelihood
  ``log prior_c + log N(x | mu_c, Sigma_c)``, what
  :meth:`~gaussmle.GaussianClassifier.predict_joint_log_proba` returns.

The graph evaluates the densities the way gaussmle does:

1. **Centred first.** ``z = x - r`` with ``r`` the training mean, rounded to
   the graph's dtype; the class means are shifted by ``r`` in float64 and only
   then rounded. In float32, ``x - r`` is exact wherever ``x`` lies within a
   factor 2 of ``r`` (Sterbenz), so data far from the origin (an offset of
   1e4, say) keep every digit of their spread; a graph that rounds the means
   to float32 without centring loses about 5e-4 of each mean there.
2. **Whitened directly.** The deviations ``z - (mu_c - r)`` are formed before
   anything is squared (never the expanded square). Diagonal and spherical
   models multiply them by ``1 / sigma``; full and tied models multiply them by
   the transposed inverse ``L^-1`` of the Cholesky factor (computed once in
   float64 by a triangular solve, then rounded). **Error bound:** with ``u``
   the unit roundoff of the graph's dtype (2**-24 for float32, 2**-53 for
   float64) and ``dev = x - mu_c``, the whitened vector satisfies, elementwise,
   ``|w_hat - w| <= (d + 2) u |L^-1| |dev|`` (to first order: rounding the
   inverse, the d-term dot products, and the float64 inverse itself, whose
   error ``d u64 |L^-1| |L| |L^-1|`` is negligible next to float32). Hence
   the squared Mahalanobis distance ``q = |w|^2`` is off by at most about
   ``2 (d + 2) u kappa(L) q`` with ``kappa(L) = || |L^-1| |L| ||`` the
   condition number of the factor (the square root of that of the covariance),
   compared with ``2 d u kappa(L) q`` for the triangular solve gaussmle uses.
3. **Log-sum-exp.** ``probabilities = exp(J - max J - log sum exp(J - max J))``
   row by row, and ``label = classes_[argmax J]``.

Classes without training data (or with prior 0) get a joint log-likelihood of
-inf and probability 0, as in gaussmle. A point so far away that every
squared distance overflows the dtype (beyond about 1e19 standard deviations
in float32, 1e154 in float64) has log-likelihood -inf for every class; as in
gaussmle, it goes wholly to the class with the smallest Mahalanobis distance,
compared in log space from rescaled deviations (an ``If`` branch that only
runs for a batch holding such a row). The graph does not raise: a row with NaN
or infinity in ``X`` gets NaN probabilities and log-likelihoods (and an
arbitrary label), where gaussmle raises.

Diag and spherical models fitted with ``missing="marginalize"`` integrate NaN
features out in the graph, exactly as gaussmle does (their terms drop out of
the distance and of the normaliser; a row with nothing observed gets the
priors). Full and tied ones are refused (each missing-value pattern would
need its own Cholesky factor), with a message that says what to do.

Models with ``predictive=True`` export their Student t posterior predictive
densities: the same centring and whitening (by the t scale), then
``-(df + 1)/2 log1p(z^2 / df)`` per feature (diag) or
``-(df + d)/2 log1p(q / df)`` per class, with ``log1p`` built from ``Log`` by
Goldberg's trick (ONNX has no Log1p; a plain ``log(1 + x)`` would lose all
digits of small ``x``). In float32, a point beyond about 1e19 scale units
overflows the squared distance and takes the far-point rule, where gaussmle
(in float64) still has finite t densities.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from gaussmle import GaussianClassifier, to_onnx
>>> X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.4], [5.0, 6.0], [6.0, 5.0], [5.2, 5.7]])
>>> clf = GaussianClassifier().fit(X, ["a", "a", "a", "b", "b", "b"])
>>> session = ort.InferenceSession(to_onnx(clf).SerializeToString())
>>> label, proba, joint = session.run(None, {"X": np.array([[0.2, 0.3], [5.5, 5.5]])})
>>> label.tolist(), proba.round(6).tolist()
(['a', 'b'], [[1.0, 0.0], [0.0, 1.0]])
>>> bool(np.abs(joint - clf.predict_joint_log_proba([[0.2, 0.3], [5.5, 5.5]])).max() < 1e-12)
True
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.linalg import solve_triangular
from sklearn.utils.validation import check_is_fitted

from .covariance import LOG_2PI, cholesky

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    import onnx

#: The ONNX operator set the graphs use (every operator here is stable since opset 13).
OPSET = 17
#: The ONNX IR version written (that of opset 17), so older runtimes read the files too.
IR_VERSION = 8
#: The dtypes a graph can compute in.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

__all__ = [
    "DTYPES",
    "GraphParameters",
    "build_graph",
    "graph_parameters",
    "require_onnx",
    "to_onnx",
]


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

    @property
    def triangular(self) -> bool:
        """Whether whitening is a matrix product (full and tied) rather than a scaling."""
        return self.scale.ndim == 3


# ---------------------------------------------------------------------- parameters
def _per_feature(variances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse standard deviations and log-variances of per-feature variances (k, d)."""
    return 1.0 / np.sqrt(variances), np.log(variances)


def _diag_whitening(cov: np.ndarray, seen: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    return _per_feature(np.where(seen[:, None], cov, 1.0))


def _spherical_whitening(
    cov: np.ndarray, seen: np.ndarray, d: int
) -> tuple[np.ndarray, np.ndarray]:
    variances = np.broadcast_to(np.where(seen, cov, 1.0)[:, None], (seen.size, d))
    return _per_feature(variances)


def _inverse_factors(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transposed inverse Cholesky factors of covariances (m, d, d), and their log pivots.

    The log pivots ``2 log L_jj`` (m, d) sum to the log-determinant.
    """
    factors = cholesky(cov)
    eye = np.eye(cov.shape[-1])
    inverse = np.stack([solve_triangular(f, eye, lower=True) for f in factors])
    pivots = 2.0 * np.log(np.diagonal(factors, axis1=1, axis2=2))
    return inverse.transpose(0, 2, 1).copy(), pivots


def _full_whitening(cov: np.ndarray, seen: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    return _inverse_factors(np.where(seen[:, None, None], cov, np.eye(d)))


def _tied_whitening(cov: np.ndarray, seen: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    scale, pivots = _inverse_factors(cov[None])
    return scale, np.repeat(pivots, seen.size, axis=0)


#: How each covariance type whitens a deviation (the one place that looks at the type):
#: the whitening (see GraphParameters.scale) and per-feature log terms (k, d) that sum to
#: the log-determinants.
_WHITENING = {
    "diag": _diag_whitening,
    "spherical": _spherical_whitening,
    "full": _full_whitening,
    "tied": _tied_whitening,
}


def _check_exportable(model: Any) -> None:
    """Refuse what the graph cannot compute exactly, with what to do instead."""
    from .classifier import GaussianClassifier

    if not isinstance(model, GaussianClassifier):
        raise ValueError(
            f"to_onnx exports a fitted GaussianClassifier, not {type(model).__name__}; "
            "fit a GaussianClassifier (or load one with gaussmle.load) first"
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
    >>> clf = GaussianClassifier().fit([[0.0], [2.0], [10.0], [12.0]], [0, 0, 1, 1])
    >>> p = graph_parameters(clf)
    >>> p.reference.tolist(), p.shifted_means.tolist(), p.scale.tolist()
    ([6.0], [[-5.0], [5.0]], [[1.0], [1.0]])
    >>> p.log_const.round(4).tolist()
    [-1.6121, -1.6121]
    """
    _check_exportable(model)
    dtype = _check_dtype(dtype)
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
    scale, log_terms = _WHITENING[model.covariance_type](cov, seen, d)
    if model.missing != "marginalize":
        log_const = log_prior - 0.5 * (d * LOG_2PI + log_terms.sum(axis=1))
        return GraphParameters(reference, shifted, scale, log_const, classes)
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


# ---------------------------------------------------------------------- Student t
def _t_per_feature(location, scale, df, d):
    """diag: a product of univariate t densities, df per feature (k, d)."""
    from scipy.special import gammaln

    log_norm = gammaln((df + 1) / 2) - gammaln(df / 2) - 0.5 * np.log(df * np.pi * scale)
    extra = {"inv_df": 1.0 / df, "tail": -(df + 1.0) / 2, "far_weight": df.mean(axis=1) + 1}
    return 1.0 / np.sqrt(scale), log_norm.sum(axis=1), extra


def _t_multivariate(scale_whitening, log_det_scale, df, d):
    """A d-variate t per class, df (k,)."""
    from scipy.special import gammaln

    log_norm = (
        gammaln((df + d) / 2) - gammaln(df / 2) - 0.5 * d * np.log(df * np.pi) - log_det_scale / 2
    )
    extra = {"inv_df": 1.0 / df, "tail": -(df + d) / 2, "far_weight": df + d}
    return scale_whitening, log_norm, extra


def _t_diagonal_scale(location, scale, df, d):
    """spherical: a d-variate t with a diagonal scale (k, d)."""
    return _t_multivariate(1.0 / np.sqrt(scale), np.log(scale).sum(axis=1), df, d)


def _t_scale_matrix(location, scale, df, d):
    """full and tied: a d-variate t with a scale matrix per class (k, d, d)."""
    whitening, pivots = _inverse_factors(scale)
    return _t_multivariate(whitening, pivots.sum(axis=1), df, d)


#: The Student t predictive density of each covariance type.
_STUDENT = {
    "diag": _t_per_feature,
    "spherical": _t_diagonal_scale,
    "full": _t_scale_matrix,
    "tied": _t_scale_matrix,
}


def _student_parameters(
    model: Any, reference: np.ndarray, log_prior: np.ndarray
) -> GraphParameters:
    """Graph parameters of the posterior predictive (Student t) class densities.

    The predictive parameters come from the model's public ``class_stats_``
    and ``prior`` through :func:`gaussmle.prior.predictive_parameters`, as
    the classifier computes them.
    """
    from .prior import predictive_parameters

    stats = model.class_stats_
    if model.covariance_type == "diag":
        stats = stats.to_diag()
    location, scale, df = predictive_parameters(
        stats, model.covariance_type, model.prior, model.class_stats_.pooled()
    )
    location = np.asarray(location, dtype=np.float64)
    d = location.shape[1]
    df = np.asarray(df, dtype=np.float64)
    whitening, log_norm, extra = _STUDENT[model.covariance_type](
        location, np.asarray(scale, dtype=np.float64), df, d
    )
    return GraphParameters(
        reference,
        location - reference,
        whitening,
        log_prior + log_norm,
        np.asarray(model.classes_),
        **extra,
    )


def require_onnx() -> None:
    """Raise an ImportError that says how to install ``onnx`` when it is missing."""
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "exporting to ONNX needs the onnx package, which is not installed; install it "
            "with pip install 'gaussmle[onnx]'"
        ) from exc


def _check_dtype(dtype: Any) -> np.dtype:
    try:
        resolved = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    return resolved


# ---------------------------------------------------------------------- graph
def _class_tensor(classes: np.ndarray) -> onnx.TensorProto:
    """The constant tensor of class labels that ``label`` gathers from."""
    from onnx import TensorProto, helper, numpy_helper

    kind = classes.dtype.kind
    if kind in "iu" and (classes.size == 0 or int(classes.max()) <= np.iinfo(np.int64).max):
        return numpy_helper.from_array(classes.astype(np.int64), "classes")
    if kind in "fb":
        values = classes.astype(np.float64 if kind == "f" else np.bool_)
        return numpy_helper.from_array(values, "classes")
    if kind in "US" or (kind == "O" and all(isinstance(c, str) for c in classes)):
        text = [str(c).encode("utf-8") for c in classes]
        return helper.make_tensor("classes", TensorProto.STRING, [len(text)], text)
    raise ValueError(
        f"to_onnx cannot write class labels of type {classes.dtype} into a graph; "
        "use integer, float, boolean or string labels"
    )


def _whitening_nodes(params: GraphParameters, source: str, target: str) -> list[onnx.NodeProto]:
    """Deviations ``source`` (n, k, d) -> whitened ``target`` (n, k, d)."""
    from onnx import helper

    if not params.triangular:
        return [helper.make_node("Mul", [source, "scale"], [target])]
    # (k, n, d) @ (k or 1, d, d): one matrix product per class, batched
    return [
        helper.make_node("Transpose", [source], [f"{source}_by_class"], perm=[1, 0, 2]),
        helper.make_node("MatMul", [f"{source}_by_class", "scale"], [f"{target}_by_class"]),
        helper.make_node("Transpose", [f"{target}_by_class"], [target], perm=[1, 0, 2]),
    ]


def _far_branch(params: GraphParameters, elem: int) -> onnx.GraphProto:
    """The If branch for a batch with far rows: every class density underflowed to 0.

    As gaussmle does, such a row goes wholly to the class with the smallest
    Mahalanobis distance, compared in log space from deviations scaled by
    their largest magnitude (so nothing overflows); classes that can never
    win are left out.
    """
    from onnx import TensorProto, helper

    node = helper.make_node
    nodes = [
        node("Abs", ["deviations"], ["far_abs"]),
        node("ReduceMax", ["far_abs"], ["far_top"], axes=[2], keepdims=1),  # (n, k, 1)
        node("Greater", ["far_top", "zero"], ["far_positive"]),
        node("Where", ["far_positive", "far_top", "one"], ["far_scale"]),
        node("Div", ["deviations", "far_scale"], ["far_unit"]),
        *_whitening_nodes(params, "far_unit", "far_white"),
        node("Mul", ["far_white", "far_white"], ["far_squares"]),
        node("ReduceSum", ["far_squares", "axis_2"], ["far_q"], keepdims=0),  # (n, k)
        node("Squeeze", ["far_scale", "axis_2"], ["far_scale_2d"]),
        node("Log", ["far_scale_2d"], ["far_log_scale"]),
        node("Add", ["far_log_scale", "far_log_scale"], ["far_log_scale_sq"]),
        node("Log", ["far_q"], ["far_log_q"]),
        node("Add", ["far_log_scale_sq", "far_log_q"], ["far_log_distance"]),
        node("Mul", ["far_log_distance", "far_weight"], ["far_weighted"]),
        node("Add", ["far_weighted", "never"], ["far_rank"]),
        node("ArgMin", ["far_rank"], ["far_winner"], axis=1, keepdims=1),  # (n, 1)
        node("Equal", ["far_winner", "class_index"], ["far_onehot"]),  # (n, k)
        node("Where", ["far_onehot", "zero", "minus_inf"], ["far_log_posterior"]),
        node("Where", ["far_rows", "far_log_posterior", "main_log_posterior"], ["out_post"]),
        node("Squeeze", ["far_winner", "axis_1"], ["far_code"]),
        node("Squeeze", ["far_rows", "axis_1"], ["far_flags"]),
        node("Where", ["far_flags", "far_code", "main_code"], ["out_code"]),
    ]
    outputs = [
        helper.make_tensor_value_info("out_code", TensorProto.INT64, None),
        helper.make_tensor_value_info("out_post", elem, None),
    ]
    return helper.make_graph(nodes, "far_rows_present", [], outputs)


def _near_branch(elem: int) -> onnx.GraphProto:
    """The If branch for a batch without far rows: the main results as they are."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Identity", ["main_code"], ["same_code"]),
        helper.make_node("Identity", ["main_log_posterior"], ["same_post"]),
    ]
    outputs = [
        helper.make_tensor_value_info("same_code", TensorProto.INT64, None),
        helper.make_tensor_value_info("same_post", elem, None),
    ]
    return helper.make_graph(nodes, "no_far_rows", [], outputs)


def _deviation_nodes(params: GraphParameters, elem: int) -> list[onnx.NodeProto]:
    """X -> ``x_used`` (what the poison check sees) and ``deviations`` (n, k, d).

    A marginalising graph replaces NaN by the reference point and zeroes the
    deviations of missing features, so they drop out of every distance.
    """
    from onnx import helper

    node = helper.make_node
    common = [
        node("Sub", ["x_used", "reference"], ["centred"]),
        node("Unsqueeze", ["centred", "axis_1"], ["centred_rows"]),  # (n, 1, d)
    ]
    if params.feature_log_norm is None:
        return [
            node("Identity", ["X"], ["x_used"]),
            *common,
            node("Sub", ["centred_rows", "shifted_means"], ["deviations"]),
        ]
    return [
        node("IsNaN", ["X"], ["x_missing"]),
        node("Where", ["x_missing", "reference", "X"], ["x_used"]),
        node("Not", ["x_missing"], ["x_observed"]),
        node("Cast", ["x_observed"], ["observed"], to=elem),  # (n, d) of 0/1
        node("Unsqueeze", ["observed", "axis_1"], ["observed_rows"]),
        *common,
        node("Sub", ["centred_rows", "shifted_means"], ["all_deviations"]),
        node("Mul", ["all_deviations", "observed_rows"], ["deviations"]),
    ]


def _log1p_nodes(source: str, target: str) -> list[onnx.NodeProto]:
    """``target = log(1 + source)``, accurate for small values (ONNX has no Log1p).

    Goldberg's trick: with ``u = 1 + x`` rounded, ``log(u) * x / (u - 1)``
    is within a few units in the last place of ``log1p(x)``; ``x`` itself
    where ``u`` rounds to 1.
    """
    from onnx import helper

    node = helper.make_node
    return [
        node("Add", [source, "one"], [f"{target}_u"]),
        node("Sub", [f"{target}_u", "one"], [f"{target}_du"]),
        node("Log", [f"{target}_u"], [f"{target}_log_u"]),
        node("Div", [source, f"{target}_du"], [f"{target}_ratio"]),
        node("Mul", [f"{target}_log_u", f"{target}_ratio"], [f"{target}_general"]),
        node("Equal", [f"{target}_du", "zero"], [f"{target}_tiny"]),
        node("Where", [f"{target}_tiny", source, f"{target}_general"], [target]),
    ]


def _kernel_nodes(params: GraphParameters) -> list[onnx.NodeProto]:
    """``squares`` (n, k, d) of whitened deviations -> ``log_kernel`` (n, k).

    Gaussian: ``-q / 2``. Student t: ``tail * log1p(q / df)``, per feature
    (then summed) for a product of univariate t, per class for a d-variate t.
    """
    from onnx import helper

    node = helper.make_node
    if params.tail is None:
        return [
            node("ReduceSum", ["squares", "axis_2"], ["distances"], keepdims=0),
            node("Mul", ["distances", "minus_half"], ["log_kernel"]),
        ]
    if params.tail.ndim == 2:  # one t per feature
        return [
            node("Mul", ["squares", "inv_df"], ["t_ratio"]),
            *_log1p_nodes("t_ratio", "t_log1p"),
            node("Mul", ["t_log1p", "tail"], ["t_terms"]),
            node("ReduceSum", ["t_terms", "axis_2"], ["log_kernel"], keepdims=0),
        ]
    return [
        node("ReduceSum", ["squares", "axis_2"], ["distances"], keepdims=0),
        node("Mul", ["distances", "inv_df"], ["t_ratio"]),
        *_log1p_nodes("t_ratio", "t_log1p"),
        node("Mul", ["t_log1p", "tail"], ["log_kernel"]),
    ]


def _normaliser_nodes(params: GraphParameters) -> list[onnx.NodeProto]:
    """``log_kernel`` (n, k) -> ``joint_raw``: plus the log priors and normalisers."""
    from onnx import helper

    if params.feature_log_norm is None:
        return [helper.make_node("Add", ["log_kernel", "log_const"], ["joint_raw"])]
    return [
        helper.make_node("MatMul", ["observed", "feature_log_norm"], ["observed_norm"]),
        helper.make_node("Add", ["log_kernel", "observed_norm"], ["log_density"]),
        helper.make_node("Add", ["log_density", "log_const"], ["joint_raw"]),
    ]


def _optional_const(
    value: np.ndarray | None, name: str, dtype: np.dtype, transpose: bool = False
) -> list[onnx.TensorProto]:
    """A constant tensor, or none when ``value`` is None."""
    from onnx import numpy_helper

    if value is None:
        return []
    array = np.asarray(value.T if transpose else value, dtype=dtype)
    return [numpy_helper.from_array(np.ascontiguousarray(array), name)]


def build_graph(params: GraphParameters, dtype: Any, name: str = "gaussmle") -> onnx.GraphProto:
    """The ONNX graph (``onnx.GraphProto``) evaluating ``params`` in ``dtype``.

    The main path: centre, deviations from every class mean, whiten, sum of
    squares, joint log-likelihood, log-sum-exp. Rows whose densities all
    underflow (only far beyond the data: the squared distance overflows the
    dtype) take the far-point rule in an ``If`` branch that runs only when a
    batch has such rows. Rows with NaN or infinity in X get NaN
    probabilities and log-likelihoods, except that a marginalising graph
    (``params.feature_log_norm`` set) integrates NaN features out.
    """
    from onnx import helper, numpy_helper

    dtype = _check_dtype(dtype)
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    k, d = params.shifted_means.shape
    label_tensor = _class_tensor(params.classes)

    def const(value: Any, const_name: str, as_dtype: Any = dtype) -> Any:
        return numpy_helper.from_array(np.asarray(value, dtype=as_dtype), const_name)

    never = np.where(np.isfinite(params.log_const), 0.0, np.inf)
    initializers = [
        const(params.reference, "reference"),
        const(params.shifted_means, "shifted_means"),
        const(params.scale, "scale"),
        const(params.log_const, "log_const"),
        *_optional_const(params.feature_log_norm, "feature_log_norm", dtype, transpose=True),
        *_optional_const(params.inv_df, "inv_df", dtype),
        *_optional_const(params.tail, "tail", dtype),
        const(np.ones(k) if params.far_weight is None else params.far_weight, "far_weight"),
        const(never, "never"),
        *_optional_const(None if params.tail is not None else np.array(-0.5), "minus_half", dtype),
        const(0.0, "zero"),
        const(1.0, "one"),
        const(-np.inf, "minus_inf"),
        const([1], "axis_1", np.int64),
        const([2], "axis_2", np.int64),
        const(np.arange(k), "class_index", np.int64),
        label_tensor,
    ]
    node = helper.make_node
    nodes = [
        *_deviation_nodes(params, elem),  # (n, k, d)
        # 0 for a finite row, NaN for a row with NaN or infinity (added to the outputs)
        node("Mul", ["x_used", "zero"], ["x_zeros"]),
        node("ReduceSum", ["x_zeros", "axis_1"], ["poison"], keepdims=1),  # (n, 1)
        *_whitening_nodes(params, "deviations", "whitened"),
        node("Mul", ["whitened", "whitened"], ["squares"]),
        *_kernel_nodes(params),  # (n, k)
        *_normaliser_nodes(params),
        # NaN here only from overflowed products (inf - inf): a density of 0
        node("IsNaN", ["joint_raw"], ["joint_nan"]),
        node("Where", ["joint_nan", "minus_inf", "joint_raw"], ["joint"]),
        node("Add", ["joint", "poison"], ["log_likelihood"]),
        node("ArgMax", ["joint"], ["main_code"], axis=1, keepdims=0),
        node("ReduceMax", ["joint"], ["top"], axes=[1], keepdims=1),
        node("Sub", ["joint", "top"], ["relative"]),
        node("Exp", ["relative"], ["relative_exp"]),
        node("ReduceSum", ["relative_exp", "axis_1"], ["total"], keepdims=1),
        node("Log", ["total"], ["log_total"]),
        node("Sub", ["relative", "log_total"], ["main_log_posterior"]),
        node("IsInf", ["top"], ["far_rows"], detect_positive=0),  # (n, 1)
        node("Cast", ["far_rows"], ["far_count_each"], to=elem),
        node("ReduceSum", ["far_count_each"], ["far_count"], keepdims=0),
        node("Greater", ["far_count", "zero"], ["any_far"]),
        node(
            "If",
            ["any_far"],
            ["code", "log_posterior"],
            then_branch=_far_branch(params, elem),
            else_branch=_near_branch(elem),
        ),
        node("Gather", ["classes", "code"], ["label"], axis=0),
        node("Add", ["log_posterior", "poison"], ["log_posterior_checked"]),
        node("Exp", ["log_posterior_checked"], ["probabilities"]),
    ]
    inputs = [helper.make_tensor_value_info("X", elem, ["n", d])]
    outputs = [
        helper.make_tensor_value_info("label", label_tensor.data_type, ["n"]),
        helper.make_tensor_value_info("probabilities", elem, ["n", k]),
        helper.make_tensor_value_info("log_likelihood", elem, ["n", k]),
    ]
    return helper.make_graph(nodes, name, inputs, outputs, initializers)


def _metadata(model: Any, dtype: np.dtype) -> dict[str, str]:
    from . import __version__

    names = getattr(model, "feature_names_in_", None)
    features = [f"x{j}" for j in range(model.n_features_in_)] if names is None else names
    return {
        "producer": "gaussmle",
        "gaussmle_version": __version__,
        "covariance_type": str(model.covariance_type),
        "dtype": dtype.name,
        "feature_names": json.dumps([str(f) for f in features]),
        "classes": json.dumps([_plain(c) for c in np.asarray(model.classes_)]),
    }


def _plain(label: Any) -> Any:
    """A class label as a JSON value (numbers stay numbers)."""
    value = label.item() if isinstance(label, np.generic) else label
    return value if isinstance(value, int | float | bool) else str(value)


def to_onnx(
    model: Any, dtype: Any = "float64", path: str | os.PathLike[str] | None = None
) -> onnx.ModelProto:
    """An ONNX model (``onnx.ModelProto``) computing a fitted classifier's predictions.

    Parameters
    ----------
    model : GaussianClassifier
        Fitted, any ``covariance_type``, also ``predictive=True`` (Student t);
        ``missing="marginalize"`` only for diag and spherical Gaussian
        models (the others are refused with a ValueError).
    dtype : {"float32", "float64"}, default "float64"
        The type of the input ``X`` and of all arithmetic in the graph.
    path : str or path-like, optional
        Also write the model there (atomically: a temporary file and a rename).

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (n, d); outputs ``label`` (n,), ``probabilities`` (n, k)
        and ``log_likelihood`` (n, k), the joint log-likelihood. The model's
        metadata holds the feature names and classes (as JSON lists).

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> clf = GaussianClassifier("full").fit([[0, 1], [1, 0], [1, 1], [5, 6], [6, 5], [6, 6]],
    ...                                      [1, 1, 1, 2, 2, 2])
    >>> proto = to_onnx(clf, dtype="float32")
    >>> [o.name for o in proto.graph.output], proto.opset_import[0].version
    (['label', 'probabilities', 'log_likelihood'], 17)
    """
    require_onnx()
    from onnx import checker, helper

    dtype = _check_dtype(dtype)
    params = graph_parameters(model, dtype)
    graph = build_graph(params, dtype, name=f"gaussmle_{model.covariance_type}")
    proto = helper.make_model(
        graph,
        producer_name="gaussmle",
        opset_imports=[helper.make_opsetid("", OPSET)],
        doc_string=(
            f"gaussmle GaussianClassifier (covariance_type={model.covariance_type!r}) in "
            f"{dtype.name}: label, probabilities (in the order of classes) and the joint "
            "log-likelihood log p(x, c)"
        ),
    )
    proto.ir_version = IR_VERSION
    helper.set_model_props(proto, _metadata(model, dtype))
    checker.check_model(proto)
    if path is not None:
        from .persist import atomic_write

        atomic_write(path, proto.SerializeToString(), what="the ONNX model")
    return proto
