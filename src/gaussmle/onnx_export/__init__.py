"""Export a fitted :class:`~gaussmle.GaussianClassifier` to ONNX, for onnxruntime and friends.

A fitted :class:`~gaussmle.GaussianMixture` exports the same graph with its
components as the classes (labels 0 .. k-1) and its weights as the priors:
``label`` is the component, ``probabilities`` the responsibilities, and
``log_likelihood`` is log p(x) per row (n,), the log-sum-exp of the joint
over the components (what ``score_samples`` returns; -inf for a row beyond
the far-point limit below, where ``score_samples`` raises).

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
   float64 by a triangular solve, then rounded).

   **Error bound** (to first order in ``u``, the unit roundoff of the graph's
   dtype: 2**-24 for float32, 2**-53 for float64; ``|.|`` elementwise;
   ``dev = x - mu_c``, ``w = L^-1 dev``). The deviation is formed with an
   error of at most ``u (|dev| + |mu_c - r|)`` (plus ``u |x - r|`` where
   ``x`` is not within a factor 2 of ``r``); the rounded ``L^-1`` and the
   d-term dot products add ``(d + 1) u |L^-1| |dev|``. So::

       |w_hat - w| <= u |L^-1| ((d + 2) |dev| + |mu_c - r| + |x - r|)

   and, as ``|L^-1| |dev| <= |L^-1| |L| |w|``, the squared Mahalanobis
   distance ``q = |w|^2`` is off by at most about
   ``(2 (d + 2) kappa(L) + d) u q`` plus ``2 u |w| || |L^-1| (|mu_c - r| +
   |x - r|) ||`` from the centring, with ``kappa(L) = || |L^-1| |L| ||`` the
   condition number of the factor (about the square root of the
   covariance's); gaussmle's own float64 triangular solve is off by about
   ``2 d u kappa(L) q`` with the float64 ``u``. The float64 inverse's own error
   (``d u64 |L^-1| |L| |L^-1|``) is negligible in a float32 graph. Diagonal
   and spherical models are the case ``L = diag(sigma)``, ``kappa(L) = 1``.
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

Diag and spherical models (classifiers and mixtures) fitted with
``missing="marginalize"`` integrate NaN features out in the graph, exactly as
gaussmle does (their terms drop out of
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
from typing import TYPE_CHECKING, Any

import numpy as np

from ._graph import build_graph
from ._parameters import (
    DTYPES,
    GraphParameters,
    check_dtype,
    graph_parameters,
    mixture_parameters,
)

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    import onnx

#: The ONNX operator set the graphs use (every operator here is stable since opset 13).
OPSET = 17
#: The ONNX IR version written (that of opset 17), so older runtimes read the files too.
IR_VERSION = 8

__all__ = [
    "DTYPES",
    "IR_VERSION",
    "OPSET",
    "GraphParameters",
    "build_graph",
    "graph_parameters",
    "mixture_parameters",
    "require_onnx",
    "to_onnx",
]


def require_onnx() -> None:
    """Raise an ImportError that says how to install ``onnx`` when it is missing."""
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "exporting to ONNX needs the onnx package, which is not installed; install it "
            "with pip install 'gaussmle[onnx]'"
        ) from exc


def _metadata(model: Any, dtype: np.dtype, classes: np.ndarray) -> dict[str, str]:
    from .. import __version__

    names = getattr(model, "feature_names_in_", None)
    features = [f"x{j}" for j in range(model.n_features_in_)] if names is None else names
    return {
        "producer": "gaussmle",
        "gaussmle_version": __version__,
        "covariance_type": str(model.covariance_type),
        "dtype": dtype.name,
        "feature_names": json.dumps([str(f) for f in features]),
        "classes": json.dumps([_plain(c) for c in np.asarray(classes)]),
    }


def _plain(label: Any) -> Any:
    """A class label as a JSON value (numbers stay numbers)."""
    value = label.item() if isinstance(label, np.generic) else label
    return value if isinstance(value, int | float | bool) else str(value)


def _export_of(model: Any, dtype: np.dtype) -> tuple[GraphParameters, bool, str]:
    """The graph parameters of a model, whether its log-likelihood is per row, its doc string.

    A GaussianMixture's components are the graph's classes (weights as
    priors) and its ``log_likelihood`` is log p(x) per row; anything else
    goes to :func:`graph_parameters` (a classifier, or its refusal).
    """
    from ..mixture import GaussianMixture

    where = f"(covariance_type={getattr(model, 'covariance_type', None)!r}) in {dtype.name}"
    if isinstance(model, GaussianMixture):
        doc = (
            f"gaussmle GaussianMixture {where}: label (the most probable component), "
            "probabilities (the responsibilities of the components) and the log-likelihood "
            "log p(x) of each row"
        )
        return mixture_parameters(model, dtype), True, doc
    doc = (
        f"gaussmle GaussianClassifier {where}: label, probabilities (in the order of "
        "classes) and the joint log-likelihood log p(x, c)"
    )
    return graph_parameters(model, dtype), False, doc


def to_onnx(
    model: Any, dtype: Any = "float64", path: str | os.PathLike[str] | None = None
) -> onnx.ModelProto:
    """An ONNX model (``onnx.ModelProto``) computing a fitted classifier's predictions.

    Parameters
    ----------
    model : GaussianClassifier or GaussianMixture
        Fitted, any ``covariance_type``; a classifier also with
        ``predictive=True`` (Student t); ``missing="marginalize"`` only for
        diag and spherical Gaussian models (the others are refused with a
        ValueError). A mixture's components are the graph's classes (labels
        0 .. k-1, the weights as priors).
    dtype : {"float32", "float64"}, default "float64"
        The type of the input ``X`` and of all arithmetic in the graph.
    path : str or path-like, optional
        Also write the model there (atomically: a temporary file and a rename).

    Returns
    -------
    onnx.ModelProto
        Input ``X`` (n, d); outputs ``label`` (n,), ``probabilities`` (n, k)
        and ``log_likelihood`` (n, k), the joint log-likelihood; for a
        mixture ``label`` is the component (``predict``), ``probabilities``
        the responsibilities (``predict_proba``) and ``log_likelihood`` (n,)
        is log p(x) (``score_samples``). The model's metadata holds the
        feature names and classes (components), as JSON lists.

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> clf = GaussianClassifier("full").fit([[0, 1], [1, 0], [1, 1], [5, 6], [6, 5], [6, 6]],
    ...                                      [1, 1, 1, 2, 2, 2])
    >>> proto = to_onnx(clf, dtype="float32")
    >>> [o.name for o in proto.graph.output], proto.opset_import[0].version
    (['label', 'probabilities', 'log_likelihood'], 17)
    >>> import onnxruntime as ort
    >>> from gaussmle import GaussianMixture
    >>> X = np.array([[0.0], [0.2], [0.4], [10.0], [10.2], [10.4]])
    >>> gm = GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
    >>> session = ort.InferenceSession(to_onnx(gm).SerializeToString())
    >>> label, resp, logp = session.run(None, {"X": np.array([[0.1], [10.1]])})
    >>> label.tolist() == gm.predict([[0.1], [10.1]]).tolist(), logp.shape
    (True, (2,))
    >>> bool(np.abs(logp - gm.score_samples([[0.1], [10.1]])).max() < 1e-10)
    True
    """
    require_onnx()
    from onnx import checker, helper

    dtype = check_dtype(dtype)
    params, per_sample, doc = _export_of(model, dtype)
    graph = build_graph(
        params, dtype, name=f"gaussmle_{model.covariance_type}", per_sample=per_sample
    )
    proto = helper.make_model(
        graph,
        producer_name="gaussmle",
        opset_imports=[helper.make_opsetid("", OPSET)],
        doc_string=doc,
    )
    proto.ir_version = IR_VERSION
    helper.set_model_props(proto, _metadata(model, dtype, params.classes))
    checker.check_model(proto)
    if path is not None:
        from ..persist import atomic_write

        atomic_write(path, proto.SerializeToString(), what="the ONNX model")
    return proto
