"""Class labels to integer codes and back: any sortable labels, fast for integers and strings.

Integer labels over a small span are encoded by table lookup. Strings are
encoded by hashing, and only the k distinct labels are sorted: fixed-width
numpy strings (``<U``, ``S``) by a vectorised hash of their bytes as words (every
row then compared with its class's label, so a hash collision cannot go
unnoticed), object arrays (what a DataFrame column gives) by
``pandas.factorize`` where pandas is installed, else by Arrow's dictionary
encoding (strings only). Everything else, and labels with missing values, go
through ``np.unique``, which sorts every row (as Python objects, for an object
array: the slow way that this module avoids).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ._validation import shown_labels

#: Integer labels spanning fewer values than this are encoded by table lookup.
_LOOKUP_SPAN = 1 << 20
#: Multiplier of the fixed-width string hash (FNV-style: multiply, then xor a word).
_HASH_PRIME = np.uint64(0x100000001B3)


def _integer_span(*arrays: np.ndarray) -> tuple[int, int] | None:
    """(low, high) of integer arrays when a lookup table over that span is cheap."""
    if not all(a.dtype.kind in "iu" and a.size for a in arrays):
        return None
    low = min(int(a.min()) for a in arrays)
    high = max(int(a.max()) for a in arrays)
    return (low, high) if high - low < _LOOKUP_SPAN else None


def _words(y: np.ndarray) -> np.ndarray:
    """The rows of fixed-width strings as rows of the widest unsigned words that fit."""
    y = np.ascontiguousarray(y)
    size = y.dtype.itemsize
    unit = np.uint64 if size % 8 == 0 else np.uint32 if size % 4 == 0 else np.uint8
    return y.view(unit).reshape(y.shape[0], -1)


def _row_hash(words: np.ndarray) -> np.ndarray:
    """One uint64 per row of words (FNV-style: multiply, then xor a word)."""
    h = words[:, 0].astype(np.uint64)
    for j in range(1, words.shape[1]):
        h *= _HASH_PRIME
        h ^= words[:, j]
    return h


def _hash_codes(h: np.ndarray) -> np.ndarray:
    """Codes of the distinct hashes, numbered in order of first appearance.

    pandas' hash table where installed; else ``np.unique`` (a sort of the hashes).
    """
    pd = _pandas()
    if pd is not None:
        return pd.factorize(h)[0].astype(np.intp, copy=False)
    _, first, codes = np.unique(h, return_index=True, return_inverse=True)
    rank = np.empty(first.shape[0], dtype=np.intp)  # renumber by first appearance
    rank[np.argsort(first, kind="stable")] = np.arange(first.shape[0])
    return rank[codes.reshape(-1)]


def _hash_fixed_width(y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(uniques, codes) of fixed-width strings by hashing; None after a hash collision.

    Every row is then compared, word by word, with the first row of its code,
    so two labels with one hash cannot go unnoticed.
    """
    words = _words(y)
    codes = _hash_codes(_row_hash(words))
    k = int(codes.max()) + 1
    # codes number the hashes by first appearance, so the running maximum of the
    # codes is sorted and first reaches j at the first row of code j
    first = np.searchsorted(np.maximum.accumulate(codes), np.arange(k))
    if not np.array_equal(words[first].take(codes, axis=0), words):  # a collision: rare
        return None
    return y[first], codes


def _pandas() -> ModuleType | None:
    """pandas, where installed (an optional dependency: imported on first use)."""
    try:
        import pandas
    except ImportError:
        return None
    return pandas


def _factorize_objects(y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(uniques, codes) of an object array by hashing; None with missing values or
    where neither pandas nor Arrow can hash the values."""
    pd = _pandas()
    if pd is None:
        return _arrow_strings(y)
    try:
        codes, uniques = pd.factorize(y)
    except TypeError:  # unhashable values
        return None
    if codes.size and codes.min() < 0:  # None or NaN: np.unique decides what they mean
        return None
    return np.asarray(uniques, dtype=object), codes.astype(np.intp, copy=False)


def _arrow_strings(y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(uniques, codes) of an object array of strings by Arrow's dictionary encoding."""
    import pyarrow as pa

    try:
        encoded = pa.array(y).dictionary_encode()
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if encoded.null_count or not pa.types.is_string(encoded.dictionary.type):
        return None  # missing values, or not strings: np.unique keeps the dtype
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    return np.array(encoded.dictionary.to_pylist(), dtype=object), codes


def _factorize(y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct labels (unsorted) and the code of each row among them, by hashing.

    None where hashing does not apply (numbers, empty or 0-wide labels,
    missing values): the caller then uses ``np.unique``.
    """
    if y.ndim != 1 or y.shape[0] == 0:
        return None
    if y.dtype.kind in "US" and y.dtype.itemsize:
        return _hash_fixed_width(y)
    if y.dtype.kind == "O":
        return _factorize_objects(y)
    return None


def _sorted(uniques: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort the k distinct labels and renumber the codes to match."""
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(order.shape[0], dtype=np.intp)
    rank[order] = np.arange(order.shape[0])
    return uniques[order], rank[codes]


def unique_labels(y: np.ndarray) -> np.ndarray:
    """The sorted distinct labels of y (a counting pass for small integer labels).

    Examples
    --------
    >>> unique_labels(np.array([3, 1, 3, 7])).tolist()
    [1, 3, 7]
    >>> unique_labels(np.array(["b", "a", "b"], dtype=object)).tolist()
    ['a', 'b']
    """
    span = _integer_span(y)
    if span is not None:
        seen = np.bincount((y - span[0]).astype(np.intp, copy=False), minlength=1) > 0
        return (np.flatnonzero(seen) + span[0]).astype(y.dtype)
    factorized = _factorize(y)
    if factorized is None:
        return np.unique(y)
    return np.sort(factorized[0], kind="stable")


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
        factorized = _factorize(y)
        if factorized is not None:
            return _sorted(*factorized)
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
    y = np.asarray(y)
    span = _integer_span(y, classes)
    if span is not None:
        table = np.full(span[1] - span[0] + 1, -1, dtype=np.intp)
        table[classes - span[0]] = np.arange(classes.size)
        codes = table[y - span[0]]
        if codes.min() >= 0:
            return codes
    factorized = _factorize(y)
    if factorized is None:
        return _search(y, classes)
    uniques, codes = factorized
    return _search(uniques, classes)[codes]  # only the distinct labels are searched


def _search(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Codes of ``y`` in the sorted ``classes`` by binary search; unknown labels are an error."""
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
