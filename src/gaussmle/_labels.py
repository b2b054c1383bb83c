"""Class labels to integer codes and back: any sortable labels, fast for integers."""

from __future__ import annotations

import numpy as np

from ._validation import shown_labels

#: Integer labels spanning fewer values than this are encoded by table lookup.
_LOOKUP_SPAN = 1 << 20


def _integer_span(*arrays: np.ndarray) -> tuple[int, int] | None:
    """(low, high) of integer arrays when a lookup table over that span is cheap."""
    if not all(a.dtype.kind in "iu" and a.size for a in arrays):
        return None
    low = min(int(a.min()) for a in arrays)
    high = max(int(a.max()) for a in arrays)
    return (low, high) if high - low < _LOOKUP_SPAN else None


def unique_labels(y: np.ndarray) -> np.ndarray:
    """The sorted distinct labels of y (a counting pass for small integer labels).

    Examples
    --------
    >>> unique_labels(np.array([3, 1, 3, 7])).tolist()
    [1, 3, 7]
    """
    span = _integer_span(y)
    if span is None:
        return np.unique(y)
    seen = np.bincount((y - span[0]).astype(np.intp, copy=False), minlength=1) > 0
    return (np.flatnonzero(seen) + span[0]).astype(y.dtype)


def labels_and_codes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct labels of y and the code of each row among them.

    What ``unique_labels`` and ``encode_labels`` give together, with one look
    at the labels instead of two (for labels 0..k-1 the codes are y itself).

    Examples
    --------
    >>> classes, codes = labels_and_codes(np.array([7, 3, 7]))
    >>> classes.tolist(), codes.tolist()
    ([3, 7], [1, 0, 1])
    >>> classes, codes = labels_and_codes(np.array(["b", "a", "b"]))
    >>> classes.tolist(), codes.tolist()
    (['a', 'b'], [1, 0, 1])
    """
    span = _integer_span(y)
    if span is None:
        classes, codes = np.unique(y, return_inverse=True)
        return classes, codes.reshape(-1).astype(np.intp, copy=False)
    shifted = (y if span[0] == 0 else y - span[0]).astype(np.intp, copy=False)
    present = np.bincount(shifted, minlength=1) > 0
    classes = (np.flatnonzero(present) + span[0]).astype(y.dtype)
    if present.all():
        return classes, shifted
    return classes, (np.cumsum(present) - 1)[shifted]


def encode_labels(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Integer codes of ``y`` in the sorted ``classes``; unknown labels are an error.

    Examples
    --------
    >>> encode_labels(np.array(["b", "a", "b"]), np.array(["a", "b"])).tolist()
    [1, 0, 1]
    >>> encode_labels(np.array([7, 3, 7]), np.array([3, 7])).tolist()
    [1, 0, 1]
    """
    classes = np.asarray(classes)
    span = _integer_span(np.asarray(y), classes)
    if span is not None:
        table = np.full(span[1] - span[0] + 1, -1, dtype=np.intp)
        table[classes - span[0]] = np.arange(classes.size)
        codes = table[y - span[0]]
        if codes.min() >= 0:
            return codes
    try:
        codes = np.searchsorted(classes, y)
    except TypeError as exc:
        raise ValueError(
            f"labels of type {y.dtype} cannot be compared with {classes.dtype}"
        ) from exc
    codes = np.clip(codes, 0, len(classes) - 1)
    unknown = classes[codes] != y
    if np.any(unknown):
        extra = np.unique(np.asarray(y)[unknown])
        raise ValueError(
            f"y contains labels not among the classes {shown_labels(classes)}: "
            f"{shown_labels(extra)}; pass every label in classes= on the first call to "
            "partial_fit"
        )
    return codes


def labels_of_codes(classes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``classes[codes]``: the labels of integer codes, for sorted distinct ``classes``.

    When the classes are 0..k-1 in the codes' own dtype the codes are the
    labels, and they are returned as they are (no lookup pass).

    Examples
    --------
    >>> codes = np.array([1, 0, 1], dtype=np.intp)
    >>> labels_of_codes(np.array(["a", "b"]), codes).tolist()
    ['b', 'a', 'b']
    >>> labels_of_codes(np.arange(2, dtype=np.intp), codes) is codes
    True
    """
    k = classes.shape[0]
    if classes.dtype == codes.dtype and k and classes[0] == 0 and classes[k - 1] == k - 1:
        return codes
    return classes.take(codes)
