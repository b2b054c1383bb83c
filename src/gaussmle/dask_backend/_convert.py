"""Conversion: Dask arrays, DataFrames and Series to Dask arrays of known chunk lengths.

DataFrames become arrays through their delayed partitions, with the partition lengths
computed on those same partitions (``_frames_to_arrays``, ``_concat_parts``); the dtype
checks refuse non-numeric features, and ``_check_features`` sets or checks
``n_features_in_`` and ``feature_names_in_`` as scikit-learn does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.array as da

_NON_NUMERIC_KINDS = "USVOMm"


def _check_features(model: Any, meta: Any, d: int, *, reset: bool) -> None:
    """Set or check ``n_features_in_`` and ``feature_names_in_`` as scikit-learn does.

    A DataFrame's ``meta`` (empty, with the column names) goes through
    scikit-learn's ``validate_data`` exactly as a pandas DataFrame would. A
    Dask array has no names: on ``reset`` an empty NumPy stand-in does the
    same; otherwise only the number of columns is compared.
    """
    from sklearn.utils.validation import validate_data

    if meta is not None or reset:
        stand_in = meta if meta is not None else np.empty((0, d))
        validate_data(model, stand_in, reset=reset, skip_check_array=True)
        return
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and d != expected:
        raise ValueError(
            f"X has {d} features, but {type(model).__name__} is expecting {expected} features "
            "as input."
        )


def _is_dask_frame(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask.dataframe") and getattr(obj, "ndim", 0) == 2


def _is_dask_series(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask.dataframe") and getattr(obj, "ndim", 0) == 1


def _is_dask_array(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask.array") and hasattr(obj, "chunks")


def _as_dask_matrix(X: Any, *, allow_1d: bool) -> da.Array:
    """``X`` as a 2-D numeric dask array with known row chunks and one column block."""
    if _is_dask_frame(X):
        dtype = _feature_dtype(X._meta)
        X = _frames_to_arrays([X], [(_frame_part_values, (len(X.columns),), dtype, dtype)])[0]
    elif _is_dask_series(X):
        if not allow_1d:
            raise ValueError(
                "Expected a 2D dask DataFrame or array, got a dask Series; use X.to_frame() "
                "for a single feature"
            )
        X = _frames_to_arrays([X], [(_series_part_values, (), np.float64, np.float64)])[0]
    elif not _is_dask_array(X):
        raise TypeError(f"expected a dask array or DataFrame, got {type(X).__name__}")
    _check_numeric_dtype(X.dtype, "X")
    if X.ndim == 1 and allow_1d:
        X = X.reshape((-1, 1)) if not _unknown_rows(X) else X[:, None]
    if X.ndim != 2:
        hint = " (reshape a 1-D array to (-1, 1) for one feature)" if X.ndim == 1 else ""
        raise ValueError(
            f"Expected a 2D array of shape (n_samples, n_features), got a {X.ndim}-D dask "
            f"array of shape {X.shape}{hint}"
        )
    if np.isnan(X.shape[1]) or X.shape[1] == 0:
        raise ValueError(f"X has {X.shape[1]} features; pass at least one (known) column")
    if _unknown_rows(X):
        X = X.copy()  # compute_chunk_sizes works in place; leave the caller's array alone
        X.compute_chunk_sizes()
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _as_dask_vector(v: Any, X: da.Array, *, name: str, numeric: bool) -> da.Array | None:
    """``v`` (labels or weights) as a 1-D dask array with the row chunks of ``X``."""
    import dask.array as da

    if v is None:
        return None
    n = _n_rows(X)
    if _is_dask_frame(v):
        if len(v.columns) != 1:
            raise ValueError(
                f"{name} must be one column; got a dask DataFrame with {len(v.columns)} columns"
            )
        v = v[v.columns[0]]
    if _is_dask_series(v):
        dtype = np.float64 if numeric else _series_meta_dtype(v._meta)
        v = _frames_to_arrays([v], [(_series_part_values, (), dtype, dtype if numeric else None)])[
            0
        ]
    elif _is_dask_array(v):
        if v.ndim == 2 and v.shape[1] == 1:
            v = v[:, 0]
        if _unknown_rows(v):
            v = v.copy()
            v.compute_chunk_sizes()
    elif numeric and np.ndim(v) == 0:
        return da.full((n,), float(v), chunks=(X.chunks[0],), dtype=np.float64)
    else:
        arr = np.asarray(v)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if numeric:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be numbers, one per sample") from exc
        v = da.from_array(arr, chunks=(X.chunks[0],) if arr.shape == (n,) else arr.shape)
    if v.ndim != 1 or v.shape[0] != n:
        raise ValueError(
            f"{name} has shape {v.shape} but X has {n} samples; pass one value per row, "
            "shape (n_samples,)"
        )
    if numeric:
        _check_numeric_dtype(v.dtype, name)
    if v.chunks[0] != X.chunks[0]:
        v = v.rechunk((X.chunks[0],))
    return v


def _unknown_rows(a: Any) -> bool:
    return any(np.isnan(c) for c in a.chunks[0])


def _n_rows(X: da.Array) -> int:
    return int(sum(X.chunks[0]))


def _check_numeric_dtype(dtype: np.dtype, name: str) -> None:
    if dtype.kind == "c":
        raise ValueError(f"{name} is complex; pass real numbers")
    if dtype.kind in _NON_NUMERIC_KINDS and dtype.kind != "O":
        raise ValueError(
            f"{name} holds non-numeric values (dtype {dtype}); convert every feature to "
            "numbers first"
        )


def _feature_dtype(meta: Any) -> np.dtype:
    """float32 when every column is float32, float64 otherwise; non-numeric columns refused."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    dtypes = meta.dtypes
    bad = [str(c) for c, t in dtypes.items() if not (is_numeric_dtype(t) or is_bool_dtype(t))]
    if bad:
        raise ValueError(
            f"feature column(s) {bad} are not numeric; convert them to numbers or leave them "
            "out of the features"
        )
    if len(dtypes) and all(t == np.float32 for t in dtypes):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _series_meta_dtype(meta: Any) -> np.dtype:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(meta.to_numpy()).dtype


def _frame_part_values(part: Any, dtype: np.dtype, columns: Any = None) -> np.ndarray:
    """A pandas partition as a NumPy matrix; missing values (pd.NA) become NaN."""
    if columns is not None:
        part = part[columns]
    return part.to_numpy(dtype=dtype, na_value=np.nan)


def _series_part_values(part: Any, dtype: np.dtype | None = None) -> np.ndarray:
    if dtype is not None and np.dtype(dtype).kind == "f":
        return part.to_numpy(dtype=dtype, na_value=np.nan)
    return np.asarray(part.to_numpy())


def _column_part_values(part: Any, column: str) -> np.ndarray:
    return np.asarray(part[column].to_numpy())


def _concat_parts(
    parts: Sequence[Any],
    lengths: Sequence[int],
    convert: Callable[..., np.ndarray],
    tail: tuple[int, ...],
    dtype: np.dtype,
    *args: Any,
) -> da.Array:
    """One dask array from delayed partitions of known lengths."""
    import dask
    import dask.array as da

    convert_task = dask.delayed(convert, pure=True)
    arrays = [
        da.from_delayed(convert_task(p, *args), shape=(n,) + tail, dtype=dtype)
        for p, n in zip(parts, lengths, strict=True)
    ]
    if not arrays:
        return da.empty((0,) + tail, dtype=dtype)
    return da.concatenate(arrays, axis=0) if len(arrays) > 1 else arrays[0]


def _frames_to_arrays(frames: Sequence[Any], specs: Sequence[tuple[Any, ...]]) -> list[da.Array]:
    """Dask DataFrames / Series as arrays, their partition lengths computed in one pass.

    Each frame is turned into delayed partitions *once*, and the lengths are
    computed on those same partitions, so the chunks always describe the data
    (``to_dask_array(lengths=True)`` can disagree with itself after Dask fuses
    the partitions of a column projection).
    """
    import dask

    parts = [list(f.to_delayed()) for f in frames]
    counts = dask.compute(*[[dask.delayed(len)(p) for p in ps] for ps in parts])
    out = []
    for ps, ns, (convert, tail, dtype, arg) in zip(parts, counts, specs, strict=True):
        args = () if arg is None else (arg,)
        out.append(_concat_parts(ps, [int(n) for n in ns], convert, tail, np.dtype(dtype), *args))
    return out
