"""Batches of rows from any number of inputs of any supported format, as NumPy columns."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._columnar import _iter_npy, _iter_parquet, _npy_open, _parquet_file
from ._convert import _arrow_to_numpy, _is_text_type
from ._csv import _NO_TYPES, ColumnTypes, _csv_columns, _iter_csv
from ._sources import (
    DEFAULT_BATCH_ROWS,
    _check_batch_rows,
    _check_unique,
    _kind,
    _read_error,
    expand_sources,
)


def _file_columns(path: str, src: str) -> list[str]:
    kind = _kind(path if src != "-" else "-")
    if kind == "csv":
        return _csv_columns(path, src)
    if kind == "parquet":
        pf = _parquet_file(path, src)
        try:
            names = list(pf.schema_arrow.names)
        finally:
            pf.close()
        _check_unique(names, src)
        return names
    return _npy_open(path, src)[1]


@dataclass
class _Chunk:
    columns: dict[str, np.ndarray]
    n_rows: int
    src: str
    file_row: int
    row_offset: int
    fraction: float | None
    #: columns read from an Arrow text type (their values are str or None);
    #: None when the reader cannot tell (NumPy files)
    text: frozenset[str] | None = None
    #: whether the source has no column types of its own (CSV), so that the
    #: type of its text columns is for the reader of the whole input to decide
    untyped: bool = False


def _rebatch(pieces: Iterator[tuple[Any, float | None]], batch_rows: int):
    """Regroup arrow record batches into tables of exactly ``batch_rows`` rows.

    Only the last table of the stream, or one just before a change of column
    types, may be shorter. The last table reports a fraction of 1.
    """
    import pyarrow as pa

    pending: list[Any] = []
    count = 0
    frac: float | None = None
    for batch, frac in pieces:
        if pending and not batch.schema.equals(pending[0].schema):
            yield pa.Table.from_batches(pending), frac
            pending, count = [], 0
        pending.append(batch)
        count += batch.num_rows
        while count > batch_rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, batch_rows), frac
            pending = table.slice(batch_rows).to_batches()
            count -= batch_rows
    if count:
        yield pa.Table.from_batches(pending), (None if frac is None else 1.0)


def _iter_file(
    path: str,
    src: str,
    columns: list[str] | None,
    batch_rows: int,
    declared: ColumnTypes = _NO_TYPES,
) -> Iterator[tuple[dict[str, np.ndarray], int, float | None, frozenset[str] | None]]:
    """Yield (columns as numpy arrays, number of rows, fraction read, text columns).

    ``declared`` fixes the types of some CSV columns (the other formats have types).
    """
    kind = _kind(src)
    if kind == "npy":
        for cols, frac in _iter_npy(path, src, columns, batch_rows):
            yield cols, len(next(iter(cols.values()))) if cols else 0, frac, None
        return
    if kind == "csv":
        pieces = _iter_csv(path, src, columns, batch_rows, declared)
    else:
        pieces = _iter_parquet(path, src, columns, batch_rows)
    for table, frac in _rebatch(pieces, batch_rows):
        cols = {name: _arrow_to_numpy(table.column(name)) for name in table.column_names}
        text = frozenset(f.name for f in table.schema if _is_text_type(f.type))
        yield cols, table.num_rows, frac, text


def _iter_chunks(
    sources: list[str],
    columns: list[str] | None,
    batch_rows: int,
    declared: ColumnTypes = _NO_TYPES,
) -> Iterator[_Chunk]:
    """Batches of all sources in order; ``columns`` None means those of the first file."""
    sizes = [0 if s == "-" else os.path.getsize(s) for s in sources]
    total_size = sum(sizes)
    any_stdin = "-" in sources
    done_size = 0
    row_offset = 0
    for src, size in zip(sources, sizes, strict=True):
        path = src
        file_row = 0
        try:
            for cols, n, frac, text in _iter_file(path, src, columns, batch_rows, declared):
                if any_stdin or frac is None:
                    fraction = None
                elif total_size:
                    fraction = min((done_size + frac * size) / total_size, 1.0)
                else:
                    fraction = 1.0
                untyped = _kind(src) == "csv"
                yield _Chunk(cols, n, src, file_row, row_offset, fraction, text, untyped)
                file_row += n
                row_offset += n
        except OSError as err:
            raise _read_error(src, err) from None
        done_size += size


def table_columns(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """Column names of a source (of its first file, for several files).

    For ``.npy`` files the names are ``x0`` ... ``x{d-1}`` (``x0`` for a 1-D
    array), or the field names of a structured array.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "m.npy")
    >>> np.save(path, np.zeros((4, 3)))
    >>> table_columns(path)
    ['x0', 'x1', 'x2']
    """
    src = expand_sources(source)[0]
    try:
        return _file_columns(src, src)
    except OSError as err:
        raise _read_error(src, err) from None


def iter_batches(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    columns: Sequence[str] | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> Iterator[dict[str, np.ndarray]]:
    """Read a source in batches of rows, as dicts of numpy column arrays.

    Parameters
    ----------
    source : str, path-like or sequence of them
        See :func:`expand_sources`.
    columns : sequence of str, optional
        Columns to read, in this order; all columns (of the first file) by default.
    batch_rows : int, default 65536
        Rows per batch. Every batch has at least 1 and at most ``batch_rows``
        rows; within one file, all batches but the last have exactly
        ``batch_rows`` rows (barring a rare change of inferred CSV types).

    Yields
    ------
    dict of str to numpy.ndarray
        Numeric columns as float64 or int64 (float64 with NaN for nulls),
        booleans as bool, text as object arrays of str (None for nulls).
        With CSV, a column's type is inferred from the first rows, and a later
        batch may come back wider (int64 then float64, or text).

    Raises
    ------
    DataError
        For missing or unreadable files and unknown columns. Problems with
        the arguments and missing files are raised at the call; problems found
        in the data as the batches are read.

    Examples
    --------
    >>> import os, tempfile
    >>> from gaussmle.io import atomic_write_text
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> atomic_write_text(path, "a,b\\n1,x\\n2,y\\n3,z\\n")
    >>> [batch["a"].tolist() for batch in iter_batches(path, batch_rows=2)]
    [[1, 2], [3]]
    >>> next(iter_batches(path, columns=["b"]))["b"]
    array(['x', 'y', 'z'], dtype=object)
    """
    sources = expand_sources(source)
    batch_rows = _check_batch_rows(batch_rows)
    if columns is None:
        if len(sources) > 1:
            columns = table_columns(sources)
    else:
        columns = [columns] if isinstance(columns, str) else list(columns)
        if not columns:
            raise ValueError("columns must name at least one column, or be None for all")
    return (chunk.columns for chunk in _iter_chunks(sources, columns, batch_rows))
