"""Block work: per-block statistics relative to a reference row, and their tree merge.

Each block is summarised (``_plain_block_stats``, ``_class_block_stats``) relative to a
reference row per class, so its means are small; ``_merge_parts`` merges blocks in the
coordinates of one reference and ``_tree_reduce`` combines ``SPLIT_EVERY`` partial results
at a time. Non-finite values are reported by their global row (``_located``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._labels import encode_labels, labels_and_codes
from ..labelled import LabelledStats, positions, union_classes
from ..stats import GaussianStats
from ._convert import _n_rows

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.array as da

#: How many partial statistics one node of the merge tree combines.
SPLIT_EVERY = 8


def _blockwise_parts(
    func: Callable[..., Any],
    X: da.Array,
    y: da.Array | None,
    w: da.Array | None,
    *,
    classes: np.ndarray | None,
    kind: str,
    missing: str = "error",
) -> list[Any]:
    """One delayed partial result per row block of ``X`` (with its ``y`` and ``w`` blocks).

    ``func(X, rows, y, w, classes, kind, missing)`` summarises one block;
    ``rows`` holds the global row numbers, for error messages.
    """
    import dask.array as da

    # the first global row of each block, for error messages
    rows = da.arange(_n_rows(X), chunks=(X.chunks[0],), dtype=np.int64)
    args: list[Any] = [X, "ij", rows, "i"]
    args += [None, None] if y is None else [y, "i"]
    args += [None, None] if w is None else [w, "i"]
    out = da.blockwise(
        func,
        "i",
        *args,
        classes,
        None,
        kind,
        None,
        missing,
        None,
        concatenate=True,
        adjust_chunks={"i": 1},
        dtype=object,
        meta=np.empty((0,), dtype=object),
    )
    return list(out.to_delayed())


def _boxed(value: Any) -> np.ndarray:
    box = np.empty(1, dtype=object)
    box[0] = value
    return box


def _block_numbers(X: np.ndarray) -> np.ndarray:
    """A block as a numeric array (object blocks converted to float64)."""
    X = np.asarray(X)
    if X.dtype.kind == "O":
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                "X holds non-numeric values; convert every feature to numbers first"
            ) from exc
    return X


def _raise_if_non_finite(X: np.ndarray, rows: np.ndarray, allow_nan: bool = False) -> None:
    """Raise a ValueError naming the global row and column of the first NaN or infinity.

    With ``allow_nan`` (NaN marks a missing value) only infinities are reported.
    """
    if X.dtype.kind not in "fc":
        return
    bad = np.isinf(X) if allow_nan else ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(X[r, c]) else "infinity (inf)"
        raise ValueError(
            f"X contains {what} at row {int(rows[r])}, column {int(c)}; remove or impute "
            "missing values first"
        )


def _located(
    compute: Callable[[], Any], X: np.ndarray, rows: np.ndarray, allow_nan: bool = False
) -> Any:
    """``compute()``; a ValueError caused by NaN or infinity is re-raised with global rows.

    The statistics and the prediction code detect non-finite input themselves
    (from their results, without an extra pass), but they only know rows
    within the block; the block is searched only when they fail.
    """
    try:
        return compute()
    except ValueError:
        _raise_if_non_finite(X, rows, allow_nan)
        raise


def _block_weights(w: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    if w is None:
        return None
    w = np.asarray(w, dtype=np.float64)
    bad = ~np.isfinite(w)
    if bad.any():
        raise ValueError(
            f"sample_weight contains NaN or infinity at row {int(rows[np.argmax(bad)])}; "
            "pass finite weights"
        )
    if (w < 0).any():
        raise ValueError(
            f"sample_weight has negative values (first at row {int(rows[np.argmax(w < 0)])}); "
            "weights must be >= 0"
        )
    return w


def _plain_block_stats(
    X: np.ndarray,
    rows: np.ndarray,
    _y: None,
    w: np.ndarray | None,
    _classes: None,
    kind: str,
    _missing: str = "error",
) -> np.ndarray:
    """Statistics of one block (one group), boxed as ``(None, ref, stats)``.

    ``stats`` are those of ``X - ref`` with ``ref`` the block's first row: the
    mean stays small, so it carries no rounding of a large offset into the
    merge (see :func:`_merge_parts`).
    """
    d = X.shape[1]
    if X.shape[0] == 0:
        return _boxed((None, np.zeros(d), GaussianStats.empty(d, kind)))
    X = _block_numbers(X)
    w = _block_weights(w, rows)
    ref = X[0].astype(np.float64)
    if not np.isfinite(ref).all():
        _raise_if_non_finite(X, rows)
    if w is not None and not (w > 0).any():
        return _boxed((None, ref, GaussianStats.empty(d, kind)))
    with np.errstate(invalid="ignore", over="ignore"):
        Z = np.subtract(X, ref, dtype=np.float64)
    stats = _located(lambda: GaussianStats.from_data(Z, w, kind=kind), X, rows)
    return _boxed((None, ref, stats))


def _class_block_stats(
    X: np.ndarray,
    rows: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    classes: np.ndarray | None,
    kind: str,
    missing: str = "error",
) -> np.ndarray:
    """Per-class statistics of one block, boxed as ``(labels, ref, stats)``.

    With ``classes`` given the labels are encoded against them (unknown labels
    are an error); without, the block's own sorted labels are used and the
    merge unites them. ``ref`` (k, d) holds the first row of each class in the
    block and ``stats`` are those of the rows minus their class's ``ref``.
    With ``missing="ignore"`` NaN marks a missing value: ``ref`` then holds,
    per class and feature, some observed value (0 where there is none) and the
    statistics carry per-feature counts.
    """
    d = X.shape[1]
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"a block of X has {X.shape[0]} rows but its block of y has {y.shape[0]}; align "
            "the partitions of X and y"
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(
            f"y contains NaN at row {int(rows[np.argmax(np.isnan(y))])}; every sample needs a label"
        )
    if classes is None:
        try:  # by hashing: only the block's distinct labels are sorted
            labels, codes = labels_and_codes(y)
        except TypeError as exc:
            raise ValueError(
                "y holds labels that cannot be sorted together (missing values or mixed "
                "types such as numbers and strings); use one type of label"
            ) from exc
    else:
        labels = classes
        codes = encode_labels(y, classes) if y.size else np.zeros(0, dtype=np.intp)
    k = len(labels)
    ref = np.zeros((k, d))
    if X.shape[0] == 0:
        return _boxed((labels, ref, GaussianStats.empty(d, kind, (k,))))
    X = _block_numbers(X)
    w = _block_weights(w, rows)
    gaps = missing == "ignore" and X.dtype.kind == "f" and bool(np.isnan(X).any())
    ref = _observed_references(X, codes, k) if gaps else _reference_rows(X, codes, k)
    if not np.isfinite(ref).all():
        _raise_if_non_finite(X, rows, allow_nan=gaps)
    if w is not None and not (w > 0).any():
        return _boxed((labels, ref, GaussianStats.empty(d, kind, (k,))))
    Z = np.take(ref, codes, axis=0)
    with np.errstate(invalid="ignore", over="ignore"):
        np.subtract(X, Z, out=Z)
    skip = "ignore" if gaps else "error"
    stats = _located(
        lambda: GaussianStats.from_groups(Z, codes, k, w, kind=kind, missing=skip), X, rows, gaps
    )
    return _boxed((labels, ref, stats))


def _reference_rows(X: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Some row of each class present (which one does not matter); zeros for the others."""
    ref = np.zeros((k, X.shape[1]))
    position = np.full(k, -1, dtype=np.intp)
    position[codes] = np.arange(codes.shape[0])
    present = position >= 0
    ref[present] = X[position[present]]
    return ref


def _observed_references(X: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Per class and feature some observed (non-NaN) value; zero where none is observed."""
    ref = np.zeros((k, X.shape[1]))
    for j in range(X.shape[1]):
        seen = np.flatnonzero(~np.isnan(X[:, j]))
        position = np.full(k, -1, dtype=np.intp)
        position[codes[seen]] = seen
        present = position >= 0
        ref[present, j] = X[position[present], j]
    return ref


def _merge_parts(boxes: list[Any]) -> np.ndarray:
    """Merge ``(labels, ref, stats)`` parts exactly into one.

    Labels (None for one group) are united and every part aligned to them.
    Two parts are merged in the coordinates of the first one's reference
    point: the difference of the references is exact (or nearly) and small,
    so the pairwise update works on small numbers, and the large offset is
    added back only once, at the very end (:func:`_finish`).
    """
    parts = [_unbox(b) for b in boxes]
    labels = parts[0][0]
    if labels is not None:
        labels = union_classes(*(p[0] for p in parts))
        parts = [(labels,) + _align(ref, st, lab, labels) for lab, ref, st in parts]
    _, ref, total = parts[0]
    for _, ref_b, stats_b in parts[1:]:
        seen = total.n_per_feature > 0 if total.kind == "diag" else (total.count > 0)[..., None]
        new_ref = np.where(seen, ref, ref_b)
        total = _moved(total, ref - new_ref).merge(_moved(stats_b, ref_b - new_ref))
        ref = new_ref
    return _boxed((labels, ref, total))


def _moved(stats: GaussianStats, shift: np.ndarray) -> GaussianStats:
    """The same statistics with ``shift`` added to the mean of every non-empty group."""
    if not np.any(shift):
        return stats
    return stats.shifted(shift)


def _finish(part: tuple[Any, np.ndarray, GaussianStats]) -> tuple[Any, GaussianStats]:
    """Labels and statistics in the data's own coordinates (a local, read-only copy)."""
    labels, ref, stats = part
    return labels, _moved(stats, ref) if np.any(ref) else _fresh(stats)


def _unbox(box: Any) -> Any:
    return box[0] if isinstance(box, np.ndarray) and box.dtype == object else box


def _align(
    ref: np.ndarray, stats: GaussianStats, labels: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, GaussianStats]:
    """Reference rows and per-class statistics re-indexed from ``labels`` to ``target``."""
    aligned = LabelledStats(labels, stats).align(target)
    if aligned.stats is stats:
        return ref, stats
    new_ref = np.zeros((len(target),) + ref.shape[1:])
    new_ref[positions(labels, target)] = ref
    return new_ref, aligned.stats


def _tree_reduce(parts: list[Any], combine: Callable[[list[Any]], Any]) -> Any:
    """Merge delayed partial results ``SPLIT_EVERY`` at a time until one is left."""
    import dask

    task = dask.delayed(combine, pure=True)
    while len(parts) > 1:
        parts = [task(parts[i : i + SPLIT_EVERY]) for i in range(0, len(parts), SPLIT_EVERY)]
    return dask.delayed(_unbox, pure=True)(parts[0])


def _fresh(stats: GaussianStats) -> GaussianStats:
    """A local copy (read-only arrays again, whatever the transport did to them)."""
    return dataclasses.replace(stats)
