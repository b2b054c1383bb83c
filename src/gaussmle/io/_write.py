"""Writing text and CSV tables atomically (a temporary file, fsync, rename)."""

from __future__ import annotations

import contextlib
import csv
import io as _io
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

import numpy as np

from .._atomic import atomic_open
from ._sources import DataError


def _write_error(path: str, err: OSError) -> DataError:
    reason = err.strerror or str(err)
    return DataError(f"cannot write '{path}': {reason}; choose a writable path")


@contextlib.contextmanager
def _atomic_binary(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """:func:`gaussmle._atomic.atomic_open`, its errors as :class:`DataError`."""
    path = os.fspath(path)
    try:
        with atomic_open(path) as handle:
            yield handle
    except OSError as err:
        if isinstance(err, DataError):
            raise
        raise _write_error(path, err) from None


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write text to a file atomically (temporary file, fsync, rename).

    An interrupted or failed write never leaves a half-written file at
    ``path``: the old file, if any, stays as it was and the temporary file is
    removed. ``path`` ``"-"`` writes to standard output.

    Raises
    ------
    DataError
        If the path cannot be written.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "model.json")
    >>> atomic_write_text(path, '{"format": "demo"}\\n')
    >>> open(path).read()
    '{"format": "demo"}\\n'
    """
    data = text.encode(encoding)
    if os.fspath(path) == "-":
        _write_stdout(data)
        return
    with _atomic_binary(path) as handle:
        handle.write(data)


def _write_stdout(data: bytes) -> None:
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        buffer.write(data)
        buffer.flush()
    else:
        out.write(data.decode("utf-8"))
        out.flush()


def _to_arrow_array(name: str, values: Any):
    import pyarrow as pa

    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"column '{name}' must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "O":
        try:
            return pa.array(arr, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.array([None if v is None else str(v) for v in arr], type=pa.string())
    if arr.dtype.kind == "f" and arr.dtype != np.float64:
        arr = arr.astype(np.float64)
    return pa.array(arr)


class TableWriter:
    """Write a CSV table batch by batch, atomically for files.

    Use it as a context manager; the file appears at ``path`` only when the
    block ends without an error. ``path`` None or ``"-"`` writes to standard
    output as the batches come.

    Parameters
    ----------
    path : str, path-like or None
        Output file, or None / ``"-"`` for standard output.
    names : sequence of str, optional
        Column names to write as the header if no batch is written at all
        (so that an empty result is still a valid CSV file with a header).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.csv")
    >>> with TableWriter(path) as w:
    ...     w.write({"id": [1, 2], "p": [0.25, 0.5]})
    ...     w.write({"id": [3], "p": [1.0]})
    >>> print(open(path).read(), end="")
    id,p
    1,0.25
    2,0.5
    3,1
    """

    def __init__(
        self, path: str | os.PathLike[str] | None, names: Sequence[str] | None = None
    ) -> None:
        self.path = None if path is None or os.fspath(path) == "-" else os.fspath(path)
        self._default_names = None if names is None else [str(n) for n in names]
        self._names: list[str] | None = None
        self._schema: Any = None
        self._context: Any = None
        self._handle: IO[bytes] | None = None
        self.n_rows = 0

    def __enter__(self) -> TableWriter:
        if self.path is not None:
            self._context = _atomic_binary(self.path)
            self._handle = self._context.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None and self._names is None and self._default_names is not None:
            self._names = self._default_names
            self._write_header(self._names)
        if self._context is not None:
            context, self._context = self._context, None
            return bool(context.__exit__(exc_type, exc, tb))
        return False

    def _emit(self, data: bytes) -> None:
        if self._handle is not None:
            self._handle.write(data)
        else:
            _write_stdout(data)

    def _write_header(self, names: list[str]) -> None:
        text = _io.StringIO()
        csv.writer(text, lineterminator="\n").writerow(names)
        self._emit(text.getvalue().encode("utf-8"))

    def write(self, columns: Mapping[str, Any]) -> None:
        """Append rows; the first call fixes the column names and writes the header."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        if self.path is not None and self._handle is None:
            raise RuntimeError("use TableWriter as a context manager: with TableWriter(p) as w")
        names = [str(k) for k in columns]
        if not names:
            raise ValueError("columns must hold at least one column")
        arrays = [
            _to_arrow_array(name, columns[key]) for name, key in zip(names, columns, strict=True)
        ]
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise ValueError(f"columns must all have the same length, got lengths {lengths}")
        table = pa.table(dict(zip(names, arrays, strict=True)))
        if self._names is None:
            self._names = names
            self._schema = table.schema
            self._write_header(names)
        elif names != self._names:
            raise ValueError(f"columns changed from {self._names} to {names}")
        else:
            try:
                table = table.cast(self._schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                pass
        try:
            # No quotes unless a value needs them (a delimiter, quote or newline in it).
            sink = pa.BufferOutputStream()
            pacsv.write_csv(
                table, sink, pacsv.WriteOptions(include_header=False, quoting_style="none")
            )
        except pa.ArrowInvalid:
            sink = pa.BufferOutputStream()
            pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
        self._emit(sink.getvalue().to_pybytes())
        self.n_rows += table.num_rows


def write_table(path: str | os.PathLike[str] | None, columns: Mapping[str, Any]) -> None:
    """Write columns as a CSV table, atomically for files.

    Parameters
    ----------
    path : str, path-like or None
        Output file, or None / ``"-"`` for standard output.
    columns : mapping of str to array-like
        One-dimensional columns of equal length, written in mapping order.
        Floats are written with full round-trip precision (NaN as ``nan``),
        None as an empty field; text is quoted only where needed.

    Raises
    ------
    DataError
        If the path cannot be written ("cannot write 'p': <reason>; choose a
        writable path").

    Examples
    --------
    >>> write_table(None, {"x": [0.5, 1.5], "label": ["a", "b"]})
    x,label
    0.5,a
    1.5,b
    """
    with TableWriter(path) as writer:
        writer.write(columns)
