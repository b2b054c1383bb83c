"""Mixtures on Dask: one map-reduce of weighted statistics per EM pass, and lazy evaluation.

Nothing here knows the mixture. The estimator hands :func:`em_pass_dask` a
``block_pass`` function (one block of rows in, its responsibility-weighted
statistics out); every row block runs it, a tree reduction merges the results
exactly (:meth:`GaussianStats.merge`, in block order) and only the merged
statistics, the summed log-likelihood and the few rows the model explains
worst reach the client. :func:`map_rows` maps a fitted model's method lazily
over the row blocks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..stats import GaussianStats
from ._blocks import _block_numbers, _located, _tree_reduce
from ._convert import _as_dask_matrix, _as_dask_vector, _check_features, _is_dask_frame

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.array as da

#: What a block's pass returns: statistics, sum of log p(x), worst log p(x), their rows.
BlockResult = tuple[GaussianStats, float, np.ndarray, np.ndarray]


def dask_inputs(
    model: Any, X: Any, sample_weight: Any, *, reset: bool
) -> tuple[da.Array, da.Array | None]:
    """``X`` as a 2-D dask array of known row chunks, and its weights, for ``model.fit``.

    ``n_features_in_`` and ``feature_names_in_`` (a DataFrame's columns) are set
    on ``model`` (``reset``) or checked against it, as scikit-learn does.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.base import BaseEstimator
    >>> model = BaseEstimator()
    >>> X, w = dask_inputs(model, da.ones((5, 2), chunks=(2, 1)), None, reset=True)
    >>> X.chunks, w, model.n_features_in_
    (((2, 2, 1), (2,)), None, 2)
    """
    meta = X._meta if _is_dask_frame(X) else None
    X = _as_dask_matrix(X, allow_1d=False)
    _check_features(model, meta, int(X.shape[1]), reset=reset)
    w = _as_dask_vector(sample_weight, X, name="sample_weight", numeric=True)
    return X, w


def em_pass_dask(
    X: da.Array,
    w: da.Array | None,
    block_pass: Callable[[np.ndarray, np.ndarray | None], BlockResult],
    n_worst: int,
) -> BlockResult:
    """``block_pass`` on every row block of ``X``, merged exactly by a tree reduction.

    ``block_pass(X_block, w_block)`` returns the block's statistics, its
    (weighted) sum of log p(x), and the ``n_worst`` smallest log p(x) with their
    rows *within the block*; here those rows become global row numbers. The
    function is sent to the workers once per call (one task in the graph).

    Returns
    -------
    stats, loglik, worst_logp, worst_rows
        The merged statistics, the total log-likelihood, and the ``n_worst``
        smallest log p(x) of all rows (ascending) with their global rows.

    Examples
    --------
    >>> import dask.array as da
    >>> def block_pass(Xb, wb):
    ...     logp = -Xb[:, 0]
    ...     return GaussianStats.from_data(Xb, wb), float(logp.sum()), logp, np.arange(len(Xb))
    >>> X = da.from_array(np.array([[1.0], [2.0], [3.0], [4.0], [5.0]]), chunks=2)
    >>> stats, loglik, worst, rows = em_pass_dask(X, None, block_pass, 2)
    >>> float(stats.count), stats.mean.tolist(), loglik, worst.tolist(), rows.tolist()
    (5.0, [3.0], -15.0, [-5.0, -4.0], [4, 3])
    """
    import dask

    fn = dask.delayed(block_pass, name=f"gaussmle-mixture-pass-{uuid.uuid4().hex}")
    x_blocks = X.to_delayed().ravel()
    w_blocks = [None] * len(x_blocks) if w is None else list(w.to_delayed().ravel())
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).tolist()
    one = dask.delayed(_one_block, pure=True)
    parts = [
        one(xb, wb, int(start), fn, n_worst)
        for xb, wb, start in zip(x_blocks, w_blocks, starts, strict=True)
    ]
    root = _tree_reduce(parts, partial(_merge_results, n_worst=n_worst))
    return dask.compute(root)[0]


def _one_block(
    X: np.ndarray,
    w: np.ndarray | None,
    start: int,
    block_pass: Callable[[np.ndarray, np.ndarray | None], BlockResult],
    n_worst: int,
) -> BlockResult:
    """One block's result with global row numbers; NaN or infinity reported by global row."""
    X = _block_numbers(X)
    w = None if w is None else np.asarray(w, dtype=np.float64)
    rows = np.arange(start, start + X.shape[0])
    stats, loglik, worst, where = _located(lambda: block_pass(X, w), X, rows)
    return stats, loglik, worst[:n_worst], rows[where[:n_worst]]


def _merge_results(parts: list[BlockResult], n_worst: int) -> BlockResult:
    """Results of consecutive blocks merged in order (statistics exactly, logs summed)."""
    stats, loglik, worst, rows = parts[0]
    for stats_b, loglik_b, worst_b, rows_b in parts[1:]:
        stats = stats.merge(stats_b)
        loglik += loglik_b
        worst = np.concatenate([worst, worst_b])
        rows = np.concatenate([rows, rows_b])
    order = np.argsort(worst, kind="stable")[:n_worst]
    return stats, loglik, worst[order], rows[order]


def sample_rows(
    X: da.Array, w: da.Array | None, size: int, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray | None]:
    """Computed rows of ``X`` (and ``w``): all when there are at most ``size``, else a sample.

    The sample is ``size`` distinct rows drawn uniformly by ``rng``, kept in
    their order in ``X``; all rows are taken without drawing anything.

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.arange(10.0).reshape(5, 2), chunks=2)
    >>> Xs, ws = sample_rows(X, None, 10, np.random.RandomState(0))
    >>> Xs.shape, ws
    ((5, 2), None)
    >>> sample_rows(X, None, 3, np.random.RandomState(0))[0].shape
    (3, 2)
    """
    import dask

    n = int(X.shape[0])
    if n <= size:
        Xs, ws = X, w
    else:
        index = np.sort(rng.choice(n, size=size, replace=False))
        Xs, ws = X[index], None if w is None else w[index]
    Xs, ws = dask.compute(Xs, ws)
    return np.asarray(_block_numbers(Xs), dtype=np.float64), ws


def map_rows(
    model: Any,
    X: Any,
    evaluate: Callable[[Any, np.ndarray], np.ndarray],
    width: int | None,
) -> da.Array:
    """A lazy dask array of ``evaluate(model, X)``, mapped over the row blocks of ``X``.

    ``width`` is the number of columns of the result (None: one value per row,
    float64 or integer as ``evaluate`` returns). The features of ``X`` are
    checked against the model's here, once; the model goes to the workers once.

    Examples
    --------
    >>> import dask.array as da
    >>> class Doubler:
    ...     n_features_in_ = 1
    ...     def twice(self, X):
    ...         return 2.0 * X[:, 0]
    >>> out = map_rows(Doubler(), da.from_array(np.array([[1.0], [2.0], [3.0]]), chunks=2),
    ...                Doubler.twice, None)
    >>> out.chunks, out.compute().tolist()
    (((2, 1),), [2.0, 4.0, 6.0])
    """
    import copy

    import dask
    import dask.array as da

    meta = X._meta if _is_dask_frame(X) else None
    X = _as_dask_matrix(X, allow_1d=False)
    _check_features(model, meta, int(X.shape[1]), reset=False)
    worker_model = copy.copy(model)  # names checked here; the blocks are NumPy arrays
    if hasattr(worker_model, "feature_names_in_"):
        del worker_model.feature_names_in_
    model_task = dask.delayed(worker_model, name=f"gaussmle-model-{uuid.uuid4().hex}")
    probe = np.asarray(evaluate(worker_model, np.zeros((1, int(X.shape[1])))))
    if width is None:
        return da.map_blocks(
            _map_block,
            X,
            model_task,
            evaluate,
            empty=np.empty((0,), dtype=probe.dtype),
            dtype=probe.dtype,
            drop_axis=1,
            chunks=(X.chunks[0],),
            meta=np.empty((0,), dtype=probe.dtype),
        )
    return da.map_blocks(
        _map_block,
        X,
        model_task,
        evaluate,
        empty=np.empty((0, width), dtype=probe.dtype),
        dtype=probe.dtype,
        chunks=(X.chunks[0], (width,)),
        meta=np.empty((0, 0), dtype=probe.dtype),
    )


def _map_block(
    X: np.ndarray,
    model: Any,
    evaluate: Callable[[Any, np.ndarray], np.ndarray],
    empty: np.ndarray,
    block_info: Any = None,
) -> np.ndarray:
    """``evaluate(model, X)`` on one block (``empty``: the result of an empty block).

    NaN or infinity is reported by global row.
    """
    if X.shape[0] == 0:
        return empty
    start = block_info[0]["array-location"][0][0] if block_info else 0
    X = _block_numbers(X)
    rows = np.arange(start, start + X.shape[0])
    return _located(lambda: evaluate(model, X), X, rows)
