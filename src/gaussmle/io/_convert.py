"""Columns read by pyarrow or sliced from NumPy files, as NumPy arrays of a few dtypes."""

from __future__ import annotations

from typing import Any

import numpy as np


def _arrow_to_numpy(col: Any) -> np.ndarray:
    """Convert a pyarrow Array or ChunkedArray to a writable numpy array.

    Integers become int64 (float64 with NaN where there are nulls), floats and
    decimals float64 (nulls as NaN), booleans bool (float64 with NaN where there
    are nulls), strings object arrays of str (nulls as None).
    """
    import pyarrow as pa

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.dictionary_decode()
        t = col.type
    if pa.types.is_null(t):
        return np.full(len(col), np.nan)
    if pa.types.is_integer(t):
        if col.null_count:
            return col.cast(pa.float64()).to_numpy(zero_copy_only=False, writable=True)
        try:
            col = col.cast(pa.int64())
        except pa.ArrowInvalid:
            col = col.cast(pa.float64())
        return col.to_numpy(zero_copy_only=False, writable=True)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False, writable=True)
    if pa.types.is_boolean(t):
        if col.null_count:
            return col.cast(pa.float64()).to_numpy(zero_copy_only=False, writable=True)
        return col.to_numpy(zero_copy_only=False, writable=True)
    return col.to_numpy(zero_copy_only=False, writable=True)


def _numpy_column(arr: np.ndarray) -> np.ndarray:
    """Normalise a numpy column slice: float64 / int64 / bool, a writable copy."""
    if arr.dtype.kind == "f":
        return np.array(arr, dtype=np.float64)
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.dtype.itemsize == 8:
            if arr.size and arr.max() > np.iinfo(np.int64).max:
                return np.array(arr, dtype=np.float64)
        return np.array(arr, dtype=np.int64)
    return np.array(arr)


def _is_text_type(t: Any) -> bool:
    """Whether an Arrow type holds text (also as dictionary values)."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    is_view = getattr(pa.types, "is_string_view", None)
    return bool(
        pa.types.is_string(t) or pa.types.is_large_string(t) or (is_view is not None and is_view(t))
    )
