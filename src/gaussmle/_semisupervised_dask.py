"""Semi-supervised EM of a GaussianClassifier on Dask arrays and DataFrames.

The same EM as :mod:`gaussmle.semisupervised`, with the data left in their
blocks: one pass finds the classes and the statistics of the labelled rows (the
labelled-only fit EM starts from) and of the unlabelled rows (their mean is the
reference point of the E-steps); then each iteration is one map-reduce
(:func:`gaussmle.dask_backend._semisupervised.labelled_pass_dask`) in which
every block runs the in-memory E- and M-step on its rows with the current
model, and the client merges the statistics exactly and updates the model. The
model travels to the workers once per iteration; only statistics come back.

Examples
--------
>>> import numpy as np
>>> import dask.array as da
>>> from gaussmle import GaussianClassifier
>>> X = da.from_array(np.array([[0.0], [0.2], [0.4], [5.0], [5.2], [5.4]]), chunks=4)
>>> y = da.from_array(np.array([0, -1, -1, 1, -1, -1]), chunks=4)
>>> clf = GaussianClassifier(unlabelled=-1).fit(X, y)
>>> clf.means_.round(3).ravel().tolist(), clf.class_prior_.round(3).tolist(), clf.converged_
([0.2, 5.2], [0.5, 0.5], True)
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ._labels import encode_labels
from .kernels import _kernels
from .semisupervised import (
    _e_and_m,
    _set_em_attributes,
    check_em_parameters,
    iterate_em,
    unlabelled_mask,
)
from .stats import GaussianStats

if TYPE_CHECKING:
    from .classifier import GaussianClassifier


def split_labels(y: np.ndarray, sentinel: Any) -> tuple[np.ndarray, np.ndarray]:
    """Which labels mark unlabelled rows, and the labels of the other rows.

    Object labels that are all integers (or all strings) once the unlabelled
    rows are left out become an integer (string) array, as in memory.

    Examples
    --------
    >>> mask, labels = split_labels(np.array([3, None, 4], dtype=object), None)
    >>> mask.tolist(), labels.tolist(), labels.dtype.kind
    ([False, True, False], [3, 4], 'i')
    """
    unlabelled = unlabelled_mask(y, sentinel)
    labels = np.asarray(y)[~unlabelled]
    if labels.dtype.kind == "O" and labels.size:
        inferred = np.array(labels.tolist())
        labels = inferred if inferred.dtype.kind in "iubUS" else labels
    return unlabelled, labels


def fit_semisupervised_dask(
    clf: GaussianClassifier, X: Any, y: Any, sample_weight: Any
) -> GaussianClassifier:
    """Fit ``clf`` by semi-supervised EM on Dask collections; the plain fit without unlabelled rows.

    ``y`` (and ``sample_weight``) may be Dask arrays or Series, or in memory.
    """
    from .dask_backend._fit import refuse_tiny_spreads
    from .dask_backend._semisupervised import labelled_inputs, split_stats_dask

    weight, max_iter, tol = check_em_parameters(clf)
    if clf._allow_nan():
        raise ValueError(
            "missing='marginalize' with unlabelled rows is not supported on Dask collections; "
            "impute or drop the rows with missing values, or set unlabelled=None"
        )
    kind = clf._stats_kind()
    X, y, w = labelled_inputs(clf, X, y, sample_weight)
    split = partial(split_labels, sentinel=clf.unlabelled)
    classes, labelled, unlabelled, unlabelled_weight = split_stats_dask(X, y, w, split, kind=kind)
    if len(classes) == 0:
        raise ValueError(
            f"every label is the unlabelled sentinel {clf.unlabelled!r}; label at least one "
            "row of each class"
        )
    _check_classes(classes)
    if float(labelled.count.sum()) + unlabelled_weight <= 0:
        raise ValueError("sample_weight is all zero; at least one sample needs a positive weight")
    labelled_rows = y.map_blocks(_labelled_rows, split, dtype=bool)
    refuse_tiny_spreads(X, labelled.to_diag().pooled().variance, rows=labelled_rows)
    clf._absorb(labelled, classes)  # the fit on the labelled rows: EM starts here
    if float(unlabelled.count) == 0 or weight == 0.0:
        _set_em_attributes(clf, 1, True, np.nan)  # as the plain fit
        return clf
    total_weight = float(labelled.count.sum()) + weight * unlabelled_weight
    small = X.shape[1] <= _kernels.SMALL_ALGEBRA_FEATURES
    with _kernels.one_blas_thread() if small else nullcontext():  # small solves: no BLAS threads
        _run_em(clf, (X, y, w), split, unlabelled.mean, weight, total_weight, max_iter, tol)
    return clf


def _check_classes(classes: np.ndarray) -> None:
    from sklearn.utils.multiclass import check_classification_targets

    check_classification_targets(classes)


def _labelled_rows(y: np.ndarray, split: Any) -> np.ndarray:
    return ~split(np.asarray(y))[0]


def _run_em(
    clf: GaussianClassifier,
    data: tuple[Any, Any, Any],
    split: Any,
    reference: np.ndarray,
    weight: float,
    total_weight: float,
    max_iter: int,
    tol: float,
) -> None:
    """EM from the labelled-only fit in ``clf``: one map-reduce over the blocks per iteration."""
    from .dask_backend._semisupervised import labelled_pass_dask

    fixed = clf.class_stats_  # the labelled rows' statistics: every M-step starts from them
    block = partial(block_pass, model=clf, split=split, weight=weight, reference=reference)

    def one_pass() -> tuple[Any, float]:
        unlabelled_stats, loglik = labelled_pass_dask(*data, block)
        return unlabelled_stats, loglik / total_weight

    iterate_em(clf, fixed, one_pass, max_iter, tol, stacklevel=5)


def block_pass(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None,
    *,
    model: GaussianClassifier,
    split: Any,
    weight: float,
    reference: np.ndarray,
) -> tuple[GaussianStats, float]:
    """One block's E- and M-step under ``model``: what the in-memory EM computes on its rows.

    Returns the per-class statistics of the block's unlabelled rows, weighted by
    ``weight * sample_weight * posterior``, and the block's weighted sum of
    log-likelihoods (labelled rows: log p(x, y); unlabelled rows: ``weight``
    times log p(x)).
    """
    unlabelled, labels = split(y)
    keep = ~unlabelled
    kind = model.class_stats_.kind
    total = 0.0
    if keep.any():
        codes = encode_labels(labels, model.classes_)
        joint = model._densities.joint(X[keep])[np.arange(codes.shape[0]), codes]
        total = float(np.ones(codes.shape[0]) @ joint if w is None else w[keep] @ joint)
    if not unlabelled.any():
        return GaussianStats.empty(X.shape[1], kind, (len(model.classes_),)), total
    wU = weight * (np.ones(int(unlabelled.sum())) if w is None else w[unlabelled])
    stats, loglik = _e_and_m(model, X[unlabelled], wU, kind, reference)
    return stats, total + loglik
