"""Parquet files (row group by row group) and NumPy ``.npy`` files (memory-mapped)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._convert import _numpy_column
from ._sources import DataError, _check_unique, _name, _not_found, _read_error


def _parquet_file(path: str, src: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as err:
        if os.path.getsize(path) == 0:
            raise DataError(f"{_name(src)} is empty: it is not a Parquet file") from None
        raise _read_error(src, err) from None


def _iter_parquet(
    path: str, src: str, columns: list[str] | None, batch_rows: int
) -> Iterator[tuple[Any, float | None]]:
    import pyarrow as pa

    pf = _parquet_file(path, src)
    try:
        names = list(pf.schema_arrow.names)
        _check_unique(names, src)
        want = names if columns is None else list(columns)
        missing = [c for c in want if c not in names]
        if missing:
            raise _not_found(missing, names, src)
        total = pf.metadata.num_rows
        done = 0
        try:
            for batch in pf.iter_batches(batch_size=batch_rows, columns=want):
                if batch.num_rows == 0:
                    continue
                done += batch.num_rows
                yield batch, (done / total if total else 1.0)
        except (OSError, pa.ArrowException) as err:
            raise _read_error(src, err) from None
    finally:
        pf.close()


def _npy_open(path: str, src: str) -> tuple[np.ndarray, list[str]]:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        if os.path.getsize(path) == 0:
            raise DataError(f"{_name(src)} is empty: it is not a .npy file") from None
        raise _read_error(src, err) from None
    if not isinstance(arr, np.ndarray):
        raise DataError(f"{_name(src)} is not a single .npy array; save one array with np.save")
    if arr.dtype.names is not None:
        if arr.ndim != 1:
            raise DataError(
                f"{_name(src)} holds a structured array with {arr.ndim} dimensions; save a "
                "one-dimensional structured array"
            )
        return arr, list(arr.dtype.names)
    if arr.ndim == 1:
        return arr, ["x0"]
    if arr.ndim == 2:
        return arr, [f"x{j}" for j in range(arr.shape[1])]
    raise DataError(
        f"{_name(src)} holds an array with {arr.ndim} dimensions; save a 1-D or 2-D array "
        "(rows by columns)"
    )


def _iter_npy(
    path: str, src: str, columns: list[str] | None, batch_rows: int
) -> Iterator[tuple[dict[str, np.ndarray], float | None]]:
    arr, names = _npy_open(path, src)
    want = names if columns is None else list(columns)
    missing = [c for c in want if c not in names]
    if missing:
        raise _not_found(missing, names, src)
    n = arr.shape[0]
    index = {name: j for j, name in enumerate(names)}
    for start in range(0, n, batch_rows):
        stop = min(start + batch_rows, n)
        part = arr[start:stop]
        if arr.dtype.names is not None:
            out = {c: _numpy_column(part[c]) for c in want}
        elif arr.ndim == 1:
            out = {want[0]: _numpy_column(part)} if want else {}
        else:
            out = {c: _numpy_column(part[:, index[c]]) for c in want}
        yield out, stop / n
