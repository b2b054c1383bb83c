"""Prediction: a fitted classifier mapped lazily over the row blocks of a Dask collection.

:func:`predict_blocks` checks the features and maps one of ``PREDICT_METHODS`` over the
blocks; ``_predict_block`` runs it on one block and reports NaN or infinity by global row.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_choice
from ._blocks import _block_numbers, _located
from ._convert import _as_dask_matrix, _check_features, _is_dask_frame

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.array as da

    from ..classifier import GaussianClassifier

#: Prediction methods that :func:`predict_blocks` maps over the row blocks.
PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")


def predict_blocks(model: GaussianClassifier, X: Any, method: str) -> da.Array:
    """A lazy Dask array of ``model.<method>(X)``, mapped over the row blocks of ``X``.

    Parameters
    ----------
    model : GaussianClassifier
        A fitted model; it is sent to the workers once (one task in the graph).
    X : dask array (n, d) or dask DataFrame
        Rechunked to a single column block if needed; a DataFrame is converted
        with its partition lengths computed, and its column names are checked
        against ``feature_names_in_``. A Dask array carries no names, so only
        its number of columns is checked (no warning for a model fitted with
        names: :func:`read_parquet_xy` selects the columns by name).
    method : {"predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba"}

    Returns
    -------
    dask.array.Array
        ``predict``: shape (n,), the dtype of ``classes_``; the others:
        shape (n, k), float64. Nothing is computed until you ask.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from gaussmle import GaussianClassifier
    >>> clf = GaussianClassifier().fit([[0.0], [1.0], [5.0], [6.0]], [0, 0, 1, 1])
    >>> p = predict_blocks(clf, da.from_array(np.array([[0.5], [5.5], [3.0]]), chunks=2),
    ...                    "predict_proba")
    >>> p.shape, p.chunks
    ((3, 2), ((2, 1), (2,)))
    >>> p.compute().argmax(axis=1).tolist()
    [0, 1, 0]
    """
    import dask
    import dask.array as da
    from sklearn.utils.validation import check_is_fitted

    check_choice(method, PREDICT_METHODS, name="method")
    check_is_fitted(model, "class_stats_")
    meta = X._meta if _is_dask_frame(X) else None
    X = _as_dask_matrix(X, allow_1d=False)
    _check_features(model, meta, int(X.shape[1]), reset=False)
    # The names were checked here, once; the workers get a copy without them so
    # that the NumPy blocks they see raise no feature-name warnings.
    worker_model = copy.copy(model)
    if hasattr(worker_model, "feature_names_in_"):
        del worker_model.feature_names_in_
    model_task = dask.delayed(worker_model, name=f"gaussmle-model-{uuid.uuid4().hex}")
    k = len(model.classes_)
    # the public name becomes the model's method here, once; the blocks get the function
    evaluate = getattr(type(model), method)
    if method == "predict":
        dtype = model.classes_.dtype
        return da.map_blocks(
            _predict_block,
            X,
            model_task,
            evaluate,
            True,
            dtype=dtype,
            drop_axis=1,
            chunks=(X.chunks[0],),
            meta=np.empty((0,), dtype=dtype),
        )
    return da.map_blocks(
        _predict_block,
        X,
        model_task,
        evaluate,
        False,
        dtype=np.float64,
        chunks=(X.chunks[0], (k,)),
        meta=np.empty((0, 0), dtype=np.float64),
    )


def _predict_block(
    X: np.ndarray,
    model: GaussianClassifier,
    evaluate: Callable[[Any, np.ndarray], np.ndarray],
    labels: bool,
    block_info: Any = None,
) -> np.ndarray:
    """``evaluate(model, X)`` on one block; NaN or infinity reported by global row.

    ``labels``: the result is one label per row (else one row of k values).
    """
    start = block_info[0]["array-location"][0][0] if block_info else 0
    if X.shape[0] == 0:
        if labels:
            return np.empty((0,), dtype=model.classes_.dtype)
        return np.empty((0, len(model.classes_)))
    X = _block_numbers(X)
    rows = np.arange(start, start + X.shape[0])
    return _located(lambda: evaluate(model, X), X, rows)
