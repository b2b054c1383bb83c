"""Semi-supervised fits on Dask: labelled and unlabelled rows summarised block by block.

Nothing here knows the classifier. The estimator hands over a ``split`` function
(a block of labels in; which rows are unlabelled, and the labels of the others,
out) and, per EM iteration, a ``block_pass`` function (a block of rows, labels and
weights in; its weighted statistics and summed log-likelihood out). Every row
block runs it, a tree reduction merges the results exactly
(:meth:`GaussianStats.merge`, in block order), and only statistics and sums reach
the client:

- :func:`split_stats_dask`, once before EM: per-class statistics of the labelled
  rows (relative to reference rows, as :func:`~gaussmle.dask_backend.class_stats_from_dask`
  computes them), unweighted statistics of the unlabelled rows (their mean is
  the reference point of the E-steps) and the unlabelled rows' total weight;
- :func:`labelled_pass_dask`, once per EM iteration.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..stats import GaussianStats
from ._blocks import (
    _block_numbers,
    _block_weights,
    _boxed,
    _class_block_stats,
    _finish,
    _located,
    _merge_parts,
    _plain_block_stats,
    _tree_reduce,
    _unbox,
)
from ._convert import _as_dask_vector, _n_rows
from ._mixture import dask_inputs

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.array as da

#: ``split(y_block)``: which rows are unlabelled, and the labels of the other rows.
Split = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
#: ``block_pass(X_block, y_block, w_block)``: weighted statistics and summed log-likelihood.
LabelledPass = Callable[[np.ndarray, np.ndarray, np.ndarray | None], tuple[GaussianStats, float]]


def labelled_inputs(
    model: Any, X: Any, y: Any, sample_weight: Any
) -> tuple[da.Array, da.Array, da.Array | None]:
    """``X``, ``y`` and the weights as dask arrays with the same row chunks, for ``model.fit``.

    ``n_features_in_`` and ``feature_names_in_`` are set on ``model`` as
    scikit-learn does.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.base import BaseEstimator
    >>> model = BaseEstimator()
    >>> X, y, w = labelled_inputs(model, da.ones((5, 2), chunks=2), np.arange(5), None)
    >>> y.chunks, w, model.n_features_in_
    (((2, 2, 1),), None, 2)
    """
    X, w = dask_inputs(model, X, sample_weight, reset=True)
    y = _as_dask_vector(y, X, name="y", numeric=False)
    if _n_rows(X) == 0:
        raise ValueError("X is empty (0 samples); pass at least one row of data")
    return X, y, w


def split_stats_dask(
    X: da.Array, y: da.Array, w: da.Array | None, split: Split, *, kind: str
) -> tuple[np.ndarray, GaussianStats, GaussianStats, float]:
    """Statistics of the labelled rows per class, and of the unlabelled rows, in one pass.

    Returns
    -------
    classes : ndarray (k,)
        The sorted labels of the labelled rows (empty when there are none).
    labelled : GaussianStats
        Their per-class weighted statistics, batch shape (k,).
    unlabelled : GaussianStats
        Unweighted statistics of the unlabelled rows (one group; ``count`` is
        their number).
    unlabelled_weight : float
        The sum of the unlabelled rows' weights (their number without weights).

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.array([[0.0], [1.0], [5.0], [7.0], [9.0]]), chunks=2)
    >>> y = da.from_array(np.array([0, -1, 1, 1, -1]), chunks=2)
    >>> split = lambda yb: (yb == -1, yb[yb != -1])
    >>> classes, lab, unl, weight = split_stats_dask(X, y, None, split, kind="diag")
    >>> classes.tolist(), lab.mean.ravel().tolist(), unl.mean.tolist(), weight
    ([0, 1], [0.0, 6.0], [5.0], 2.0)
    """
    import dask

    one = dask.delayed(_split_block, pure=True)
    fn = dask.delayed(split, name=f"gaussmle-split-{uuid.uuid4().hex}")
    parts = [one(xb, yb, wb, start, fn, kind) for xb, yb, wb, start in _row_blocks(X, y, w)]
    labelled, unlabelled, weight = _tree_reduce(parts, _merge_split).compute()
    classes, labelled_stats = _finish(_unbox(labelled))
    _, unlabelled_stats = _finish(_unbox(unlabelled))
    if classes is None or len(classes) == 0:
        classes = np.array([])
        labelled_stats = GaussianStats.empty(int(X.shape[1]), kind, (0,))
    return np.asarray(classes), labelled_stats, unlabelled_stats, float(weight)


def labelled_pass_dask(
    X: da.Array, y: da.Array, w: da.Array | None, block_pass: LabelledPass
) -> tuple[GaussianStats, float]:
    """``block_pass`` on every row block, merged exactly: the statistics and the summed log p.

    The function (with the model it carries) is sent to the workers once per
    call; NaN or infinity in a block is reported by its global row.

    Examples
    --------
    >>> import dask.array as da
    >>> X = da.from_array(np.array([[1.0], [2.0], [3.0]]), chunks=2)
    >>> y = da.from_array(np.array([0, 1, 0]), chunks=2)
    >>> def block_pass(Xb, yb, wb):
    ...     return GaussianStats.from_groups(Xb, yb, 2), float(Xb.sum())
    >>> stats, total = labelled_pass_dask(X, y, None, block_pass)
    >>> stats.mean.ravel().tolist(), total
    ([2.0, 2.0], 6.0)
    """
    import dask

    one = dask.delayed(_pass_block, pure=True)
    fn = dask.delayed(block_pass, name=f"gaussmle-labelled-pass-{uuid.uuid4().hex}")
    parts = [one(xb, yb, wb, start, fn) for xb, yb, wb, start in _row_blocks(X, y, w)]
    return _tree_reduce(parts, _merge_pass).compute()


def _row_blocks(X: da.Array, y: da.Array, w: da.Array | None) -> list[tuple[Any, ...]]:
    """Per row block: the delayed blocks of X, y and w and the block's first global row."""
    x_blocks = X.to_delayed().ravel()
    y_blocks = y.to_delayed().ravel()
    w_blocks = [None] * len(x_blocks) if w is None else list(w.to_delayed().ravel())
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int).tolist()
    return list(zip(x_blocks, y_blocks, w_blocks, starts, strict=True))


def _split_block(
    X: np.ndarray, y: np.ndarray, w: np.ndarray | None, start: int, split: Split, kind: str
) -> np.ndarray:
    """One block: ``(labelled part, unlabelled part, unlabelled weight)``, boxed.

    The parts are those of :func:`_class_block_stats` and :func:`_plain_block_stats`.
    """
    y = np.asarray(y)
    rows = np.arange(start, start + X.shape[0])
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"a block of X has {X.shape[0]} rows but its block of y has {y.shape[0]}; align "
            "the partitions of X and y"
        )
    unlabelled, labels = split(y)
    keep = ~unlabelled
    wk = None if w is None else np.asarray(w)[keep]
    labelled = _class_block_stats(X[keep], rows[keep], labels, wk, None, kind)
    others = _plain_block_stats(X[unlabelled], rows[unlabelled], None, None, None, kind)
    if w is None:
        weight = float(np.count_nonzero(unlabelled))
    else:
        wu = _block_weights(np.asarray(w)[unlabelled], rows[unlabelled])
        weight = float(wu.sum())
    return _boxed((labelled, others, weight))


def _merge_split(boxes: list[Any]) -> np.ndarray:
    """Merge consecutive blocks' split parts (statistics exactly, weights summed)."""
    parts = [_unbox(b) for b in boxes]
    # a block without labelled rows carries no labels (of whatever dtype its y had)
    labelled = [p[0] for p in parts if len(_unbox(p[0])[0])] or [parts[0][0]]
    merged = _merge_parts(labelled), _merge_parts([p[1] for p in parts])
    return _boxed((*merged, sum(p[2] for p in parts)))


def _pass_block(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    start: int,
    block_pass: LabelledPass,
) -> tuple[GaussianStats, float]:
    """One block's pass; NaN or infinity in it reported by global row."""
    X = _block_numbers(X)
    w = None if w is None else np.asarray(w, dtype=np.float64)
    rows = np.arange(start, start + X.shape[0])
    return _located(lambda: block_pass(X, np.asarray(y), w), X, rows)


def _merge_pass(parts: list[tuple[GaussianStats, float]]) -> tuple[GaussianStats, float]:
    """Results of consecutive blocks merged in order (statistics exactly, sums added)."""
    stats, total = parts[0]
    for stats_b, total_b in parts[1:]:
        stats = stats.merge(stats_b)
        total += total_b
    return stats, total
