"""Read tabular data in row batches and write tables and text files atomically.

This module only moves data; it computes no statistics. Supported inputs:

* CSV files (``.csv``, also compressed ``.csv.gz``, ``.csv.bz2``, ``.csv.zst``,
  ``.csv.lz4``): the text is read a piece of about ``batch_rows`` rows at a
  time, cut at a line end and parsed by pyarrow (pyarrow's own streaming CSV
  reader reads ahead without limit when batches are consumed slowly, so memory
  would grow with the file). Column types are inferred from the first piece
  and widened if a later value does not fit (int64 to float64, numbers to text);
  values split across lines inside quotes are not supported;
* Parquet files (``.parquet`` or ``.pq``), read row group by row group;
* NumPy ``.npy`` files, memory-mapped and sliced (columns ``x0``, ``x1``, ...,
  or the field names of a structured array);
* ``"-"``: CSV on standard input, streamed. :func:`table_columns` may peek at
  it first; a second full read within the process raises :class:`DataError`;
* a glob pattern such as ``"data/*.parquet"`` or a sequence of any of these,
  read one file after another (glob matches in sorted order).

Memory is bounded by the batch size: no function here holds more than a few
batches of rows at a time, except :func:`read_xy`, which is meant for small
inputs. Batches come in order; row numbers in messages are 1-based data rows
(the header not counted) of the file named. Every problem with the user's
input raises :class:`DataError`, whose message is one sentence that says what
is wrong and what to do about it.

pyarrow is imported inside the functions that need it so that importing
``gaussmle`` stays fast.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "points.csv")
>>> write_table(path, {"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0], "label": ["x", "y", "x"]})
>>> table_columns(path)
['a', 'b', 'label']
>>> batch = read_xy(path, target="label")
>>> batch.X
array([[1., 4.],
       [2., 5.],
       [3., 6.]])
>>> batch.y.tolist()
['x', 'y', 'x']
"""

from __future__ import annotations

import contextlib
import csv
import glob
import io as _io
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

__all__ = [
    "DataError",
    "TableWriter",
    "XYBatch",
    "atomic_write_text",
    "expand_sources",
    "iter_batches",
    "iter_xy",
    "read_xy",
    "source_size_bytes",
    "table_columns",
    "write_table",
]

DEFAULT_BATCH_ROWS = 65536

_GLOB_CHARS = re.compile(r"[*?\[]")
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}
_MIN_BLOCK = 1 << 16
_MAX_BLOCK = 1 << 28
_MAX_LISTED_COLUMNS = 30
_CONVERSION_ERROR = re.compile(
    r"In CSV column #(\d+): .*?CSV conversion error to ([^:]+): invalid value '(.*)'", re.S
)


class DataError(ValueError):
    """A problem with the user's input data, explained in one sentence.

    The message says what is wrong and what to do, so that a command line tool
    can print it as it is.

    Examples
    --------
    >>> try:
    ...     expand_sources("no-such-file.csv")
    ... except DataError as err:
    ...     print(err)
    file 'no-such-file.csv' not found; check the path
    """


# ---------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------


def _name(src: str) -> str:
    """Name of a source as shown in messages, quoted."""
    return "standard input" if src == "-" else f"'{src}'"


def _kind(path: str) -> str:
    low = path.lower()
    root, ext = os.path.splitext(low)
    if ext in _COMPRESSION:
        low = root
    if low.endswith(".csv") or path == "-":
        return "csv"
    if ext in (".parquet", ".pq"):
        return "parquet"
    if ext == ".npy":
        return "npy"
    raise DataError(
        f"cannot read '{path}': unsupported file type; use a .csv, .csv.gz, .parquet, .pq "
        "or .npy file"
    )


def _codec(path: str) -> str | None:
    ext = os.path.splitext(path.lower())[1]
    return _COMPRESSION.get(ext)


def expand_sources(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """Expand a source, glob pattern or sequence of them into a list of inputs.

    Parameters
    ----------
    source : str, path-like or sequence of them
        A file path, ``"-"`` for standard input, or a glob pattern such as
        ``"data/*.parquet"`` (matches are sorted). A path that exists is never
        treated as a pattern, even if its name contains ``*``, ``?`` or ``[``.

    Returns
    -------
    list of str
        The file paths in reading order; ``"-"`` is passed through.

    Raises
    ------
    DataError
        If a file does not exist, is a directory, has an unsupported type, or a
        pattern matches no files.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> for name in ("b.npy", "a.npy"):
    ...     open(os.path.join(d, name), "wb").close()
    >>> [os.path.basename(p) for p in expand_sources(os.path.join(d, "*.npy"))]
    ['a.npy', 'b.npy']
    >>> expand_sources("-")
    ['-']
    """
    if isinstance(source, (str, os.PathLike)):
        items: list[str | os.PathLike[str]] = [source]
    elif isinstance(source, Iterable):
        items = list(source)
        if not items:
            raise DataError("no input files were given; give at least one path")
    else:
        raise TypeError(f"source must be a path or a sequence of paths, not {type(source)!r}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"source must be a path or a sequence of paths, not {type(item)!r}")
        path = os.fspath(item)
        if path == "-":
            out.append(path)
            continue
        if os.path.isfile(path):
            _kind(path)
            out.append(path)
            continue
        if os.path.isdir(path):
            raise DataError(
                f"'{path}' is a directory; give a file or a glob pattern such as "
                f"'{os.path.join(path, '*.parquet')}'"
            )
        if _GLOB_CHARS.search(path):
            matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
            if not matches:
                raise DataError(f"glob '{path}' matched no files; check the pattern")
            for match in matches:
                _kind(match)
            out.extend(matches)
            continue
        raise DataError(f"file '{path}' not found; check the path")
    return out


def source_size_bytes(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> int | None:
    """Total size in bytes of the files of a source, or None when reading stdin.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> atomic_write_text(path, "a\\n1\\n")
    >>> source_size_bytes(path)
    4
    >>> source_size_bytes("-") is None
    True
    """
    total = 0
    for path in expand_sources(source):
        if path == "-":
            return None
        total += os.path.getsize(path)
    return total


def _read_error(src: str, err: Exception) -> DataError:
    if isinstance(err, PermissionError):
        return DataError(f"cannot read {_name(src)}: permission denied; check the file permissions")
    if isinstance(err, FileNotFoundError):
        return DataError(f"file {_name(src)} not found; check the path")
    if isinstance(err, OSError) and err.strerror:
        return DataError(f"cannot read {_name(src)}: {err.strerror}; check the file")
    text = str(err).strip().rstrip(".").replace("\n", " ")
    if "invalid UTF8" in text:
        return DataError(f"{_name(src)} is not valid UTF-8 text; convert it to UTF-8")
    if "CSV parse error:" in text:
        detail = text.split("CSV parse error:", 1)[1].strip()[:200]
        return DataError(f"{_name(src)} is not valid CSV ({detail}); check the file")
    return DataError(f"cannot read {_name(src)}: {text}; check that the file is valid")


# ---------------------------------------------------------------------------
# arrow -> numpy
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# per-format readers
# ---------------------------------------------------------------------------


def _not_found(missing: list[str], available: list[str], src: str) -> DataError:
    shown = ", ".join(available[:_MAX_LISTED_COLUMNS]) if available else "(none)"
    if len(available) > _MAX_LISTED_COLUMNS:
        shown += f", ... ({len(available)} in all)"
    if len(missing) == 1:
        what = f"column '{missing[0]}' not found"
    else:
        what = "columns " + ", ".join(f"'{m}'" for m in missing) + " not found"
    return DataError(f"{what} in {_name(src)}; available columns: {shown}")


def _check_unique(names: list[str], src: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(
                f"column '{name}' appears more than once in {_name(src)}; give the columns "
                "unique names"
            )
        seen.add(name)


class _StdinState:
    """What has been read from one ``sys.stdin`` object.

    Reading the column names peeks at the start of standard input and keeps the
    bytes, so that a later full read still sees them; a second full read is
    refused, since a pipe cannot be rewound.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.binary = getattr(stream, "buffer", stream)
        self.pushback = b""
        self.started = False

    def read_raw(self, n: int) -> bytes:
        data = self.binary.read(n)
        if isinstance(data, str):
            data = data.encode("utf-8")
        return data or b""


_STDIN: list[_StdinState] = []


def _stdin_state() -> _StdinState:
    if not _STDIN or _STDIN[0].stream is not sys.stdin:
        _STDIN[:] = [_StdinState(sys.stdin)]
    return _STDIN[0]


class _StdinReader:
    """Standard input as a byte stream, the peeked bytes first."""

    def __init__(self) -> None:
        state = _stdin_state()
        if state.started:
            raise DataError(
                "standard input has already been read; save the data to a file and pass its path"
            )
        state.started = True
        self.state = state

    def read(self, n: int) -> bytes:
        state = self.state
        if state.pushback:
            data, state.pushback = state.pushback[:n], state.pushback[n:]
            return data
        return state.read_raw(n)

    def close(self) -> None:
        pass


class _CSVInput:
    """A CSV byte stream (decompressed if needed) and how far its file has been read."""

    def __init__(self, path: str, src: str) -> None:
        self.size: int | None = None
        self._raw: Any = None
        if src == "-":
            self.stream: Any = _StdinReader()
            return
        import pyarrow as pa

        self._raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        try:
            self.size = os.fstat(self._raw.fileno()).st_size
            codec = _codec(path)
            if codec is None:
                self.stream = self._raw
            else:
                self.stream = pa.CompressedInputStream(pa.PythonFile(self._raw, mode="r"), codec)
        except BaseException:
            self._raw.close()
            raise

    def read(self, n: int) -> bytes:
        return bytes(self.stream.read(n))

    def fraction(self) -> float | None:
        if not self.size or self._raw is None:
            return None
        return min(self._raw.tell() / self.size, 1.0)

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()


def _split_header(data: bytes, more: Any) -> tuple[bytes, bytes]:
    """Split off the first non-blank line, reading more (``more(n) -> bytes``) as needed."""
    while True:
        while b"\n" not in data:
            extra = more(1 << 16)
            if not extra:
                return data, b""
            data += extra
        cut = data.index(b"\n") + 1
        if data[:cut].strip():
            return data[:cut], data[cut:]
        data = data[cut:]


def _parse_header(header: bytes, src: str) -> list[str]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not header.strip():
        raise DataError(f"{_name(src)} is empty: it has no header row")
    if not header.endswith(b"\n"):
        header += b"\n"
    try:
        table = pacsv.read_csv(pa.BufferReader(header))
    except pa.ArrowInvalid as err:
        raise _read_error(src, err) from None
    names = list(table.column_names)
    _check_unique(names, src)
    return names


def _csv_columns(path: str, src: str) -> list[str]:
    if src == "-":
        state = _stdin_state()
        if state.started:
            raise DataError(
                "standard input has already been read; save the data to a file and pass its path"
            )
        header, _ = _split_header(state.pushback, lambda n: _peek_stdin(state, n))
        return _parse_header(header, src)
    source = _CSVInput(path, src)
    try:
        header, _ = _split_header(source.read(1 << 16), source.read)
    finally:
        source.close()
    return _parse_header(header, src)


def _peek_stdin(state: _StdinState, n: int) -> bytes:
    data = state.read_raw(n)
    state.pushback += data
    return data


def _chunk_bytes(sample: bytes, batch_rows: int) -> int:
    """Bytes of CSV text to parse at a time so that a chunk holds about ``batch_rows`` rows."""
    lines = sample.count(b"\n")
    per_row = len(sample) / lines if lines else max(len(sample), 1 << 12)
    return int(min(max(batch_rows * per_row * 1.05, _MIN_BLOCK), _MAX_BLOCK))


def _text_chunks(first: bytes, read: Any, target: int) -> Iterator[bytes]:
    """Cut a byte stream into pieces of about ``target`` bytes that end at a newline."""
    carry = first
    while True:
        data = read(max(target - len(carry), 1 << 12))
        if not data:
            if carry:
                yield carry
            return
        buf = carry + data if carry else data
        cut = buf.rfind(b"\n")
        if cut < 0 or (cut + 1 < target // 2 and len(buf) < target):
            carry = buf
            continue
        yield buf[: cut + 1]
        carry = buf[cut + 1 :]


def _widen(types: dict[str, Any], name: str, value: str) -> bool:
    """Widen a CSV column type after a value failed to convert; False if it cannot."""
    import pyarrow as pa

    try:
        float(value)
        numeric = True
    except ValueError:
        numeric = False
    old = types.get(name)
    if numeric and (old is None or not pa.types.is_floating(old)):
        if old is not None and pa.types.is_string(old):
            return False
        types[name] = pa.float64()
        return True
    if old is None or not pa.types.is_string(old):
        types[name] = pa.string()
        return True
    return False


def _parse_chunk(data: bytes, names: list[str], want: list[str], types: dict[str, Any], src: str):
    """Parse one piece of CSV text (no header) into a table of the wanted columns.

    ``types`` holds the column types fixed so far; it is updated in place when a
    value does not fit its column's type (an integer column that turns out to
    hold decimals, a number column with text further down).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    block = max(len(data) // 2 + 1, 1 << 20)
    for _ in range(4 * len(want) + 4):
        read = pacsv.ReadOptions(column_names=names, block_size=block, use_threads=True)
        convert = pacsv.ConvertOptions(
            include_columns=want, column_types=dict(types), strings_can_be_null=True
        )
        try:
            return pacsv.read_csv(pa.BufferReader(data), read_options=read, convert_options=convert)
        except pa.ArrowInvalid as err:
            message = str(err)
            if "Empty CSV file" in message:
                return None
            if "straddl" in message and block <= len(data):
                block = len(data) + 1
                continue
            match = _CONVERSION_ERROR.search(message)
            if match is None:
                raise _read_error(src, err) from None
            index = int(match.group(1))
            name = names[index] if index < len(names) else None
            if name not in want or not _widen(types, name, match.group(3)):
                raise _read_error(src, err) from None
    raise DataError(f"cannot read {_name(src)}: column types keep changing; check the file")


def _iter_csv(
    path: str, src: str, columns: list[str] | None, batch_rows: int
) -> Iterator[tuple[Any, float | None]]:
    """Yield (record batch, fraction of the file read) pairs.

    The text is read a piece at a time (about ``batch_rows`` rows), cut at a
    line end and parsed on its own, so memory stays bounded by the batch size
    however slowly the batches are consumed. Column types come from the first
    piece and are widened later if a value does not fit.
    """
    import pyarrow as pa

    source = _CSVInput(path, src)
    try:
        if src == "-":
            header, rest = _split_header(b"", source.read)
        else:
            header, rest = _split_header(source.read(1 << 16), source.read)
        names = _parse_header(header, src)
        want = names if columns is None else list(columns)
        missing = [c for c in want if c not in names]
        if missing:
            raise _not_found(missing, names, src)
        if len(rest) < (1 << 16):
            rest += source.read((1 << 16) - len(rest))
        target = _chunk_bytes(rest, batch_rows)
        types: dict[str, Any] = {}
        for data in _text_chunks(rest, source.read, target):
            table = _parse_chunk(data, names, want, types, src)
            if table is None:
                continue
            if len(types) < len(want):
                for name in want:
                    dtype = table.schema.field(name).type
                    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
                        raise DataError(
                            f"column '{name}' of {_name(src)} is not valid UTF-8 text; convert "
                            "the file to UTF-8"
                        )
                    types.setdefault(name, dtype)
            frac = source.fraction()
            for batch in table.to_batches():
                if batch.num_rows:
                    yield batch, frac
    except OSError as err:
        raise _read_error(src, err) from None
    finally:
        source.close()


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


def _is_text_type(t: Any) -> bool:
    """Whether an Arrow type holds text (also as dictionary values)."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    is_view = getattr(pa.types, "is_string_view", None)
    return bool(
        pa.types.is_string(t) or pa.types.is_large_string(t) or (is_view is not None and is_view(t))
    )


def _iter_file(
    path: str, src: str, columns: list[str] | None, batch_rows: int
) -> Iterator[tuple[dict[str, np.ndarray], int, float | None, frozenset[str] | None]]:
    """Yield (columns as numpy arrays, number of rows, fraction read, text columns)."""
    kind = _kind(src)
    if kind == "npy":
        for cols, frac in _iter_npy(path, src, columns, batch_rows):
            yield cols, len(next(iter(cols.values()))) if cols else 0, frac, None
        return
    reader = _iter_csv if kind == "csv" else _iter_parquet
    for table, frac in _rebatch(reader(path, src, columns, batch_rows), batch_rows):
        cols = {name: _arrow_to_numpy(table.column(name)) for name in table.column_names}
        text = frozenset(f.name for f in table.schema if _is_text_type(f.type))
        yield cols, table.num_rows, frac, text


def _check_batch_rows(batch_rows: int) -> int:
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, (int, np.integer)):
        raise TypeError("batch_rows must be an integer")
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
    return int(batch_rows)


def _iter_chunks(
    sources: list[str], columns: list[str] | None, batch_rows: int
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
            for cols, n, frac, text in _iter_file(path, src, columns, batch_rows):
                if any_stdin or frac is None:
                    fraction = None
                elif total_size:
                    fraction = min((done_size + frac * size) / total_size, 1.0)
                else:
                    fraction = 1.0
                yield _Chunk(cols, n, src, file_row, row_offset, fraction, text)
                file_row += n
                row_offset += n
        except OSError as err:
            raise _read_error(src, err) from None
        done_size += size


# ---------------------------------------------------------------------------
# public readers
# ---------------------------------------------------------------------------


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


@dataclass
class XYBatch:
    """A batch of feature rows, labels and carried-along columns.

    Attributes
    ----------
    X : numpy.ndarray
        float64 array of shape (b, d).
    y : numpy.ndarray or None
        Labels (str for text labels), None when no target was asked for.
    kept : dict of str to numpy.ndarray
        The ``keep`` columns, aligned with the rows of ``X``.
    n_dropped : int
        Rows dropped from this batch for missing values.
    row_offset : int
        Index (0-based) of the batch's first row in the input, counting every
        row read, dropped ones included.
    fraction_done : float or None
        Share of the input consumed after this batch (by bytes for files),
        None when unknown (standard input).
    rows : numpy.ndarray
        int64 0-based input row index of each row of ``X``.
    """

    X: np.ndarray
    y: np.ndarray | None
    kept: dict[str, np.ndarray] = field(default_factory=dict)
    n_dropped: int = 0
    row_offset: int = 0
    fraction_done: float | None = None
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_rows(self) -> int:
        """Number of rows in the batch (after dropping)."""
        return int(self.X.shape[0])


def _is_missing_labels(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind == "f":
        return np.isnan(y)
    if y.dtype.kind == "O":
        # Text columns: null (None) or empty text.
        return np.asarray(np.equal(y, None) | np.equal(y, ""), dtype=bool)
    if y.dtype.kind == "U":
        return y == ""
    return np.zeros(len(y), dtype=bool)


def _labels(y: np.ndarray, text: bool | None = None) -> np.ndarray:
    """Labels as a numpy str array when they are all text.

    ``text`` says whether the column came from an Arrow text type (then its
    values are str, missing ones having been dropped); None when unknown,
    and the values are checked one by one.
    """
    if y.dtype.kind != "O":
        return y
    if text is None:
        text = all(isinstance(v, str) for v in y)
    return y.astype(str) if text else y


def _feature_column(values: np.ndarray, name: str, src: str) -> np.ndarray:
    kind = values.dtype.kind
    if kind in "fiub":
        return values.astype(np.float64, copy=False)
    if kind == "O":
        try:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        except (TypeError, ValueError):
            pass
        example = ""
        for v in values:
            if v is None:
                continue
            try:
                float(v)
            except (TypeError, ValueError):
                example = v
                break
        raise DataError(
            f"column '{name}' in {_name(src)} is not numeric (found text such as "
            f"'{example}'); choose numeric feature columns with --features"
        )
    example = values[0] if len(values) else ""
    raise DataError(
        f"column '{name}' in {_name(src)} is not numeric (found values such as "
        f"'{example}'); choose numeric feature columns with --features"
    )


def iter_xy(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    features: Sequence[str] | None = None,
    target: str | None = None,
    keep: Sequence[str] = (),
    batch_rows: int = DEFAULT_BATCH_ROWS,
    drop_missing: bool = False,
    missing: str = "error",
) -> Iterator[XYBatch]:
    """Read features, labels and extra columns in row batches.

    Parameters
    ----------
    source : str, path-like or sequence of them
        See :func:`expand_sources`.
    features : sequence of str, optional
        Numeric feature columns (booleans count as numeric). By default every
        column except ``target`` and ``keep``.
    target : str, optional
        Label column; ``y`` is None without one.
    keep : sequence of str
        Columns carried along unchanged, for example an id column.
    batch_rows : int, default 65536
        Rows read per batch (see :func:`iter_batches`).
    drop_missing : bool, default False
        Drop rows with a missing feature or target value (counted in
        ``n_dropped``) instead of raising :class:`DataError`; the same as
        ``missing="drop"``. With ``missing="keep"`` only rows with a missing
        target value are dropped.
    missing : {"error", "drop", "keep"}, default "error"
        What a missing feature value (an empty CSV cell, a null, NaN) does:
        ``"error"`` raises :class:`DataError` (unless ``drop_missing``),
        ``"drop"`` drops the row, ``"keep"`` keeps it with NaN in ``X`` (for
        models that marginalise missing values). A missing target value is
        never kept: it is an error, or the row is dropped with
        ``drop_missing``/``"drop"``. Infinite values are always an error.

    Yields
    ------
    XYBatch
        Batches may have zero rows when every row was dropped.

    Raises
    ------
    DataError
        For unknown or non-numeric feature columns, a target that is also a
        feature, missing values (unless dropped or kept), infinite feature
        values, and every error of :func:`iter_batches`.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> atomic_write_text(path, "id,a,b,label\\n7,1,2,u\\n8,,4,v\\n9,5,6,u\\n")
    >>> batches = list(iter_xy(path, target="label", keep=["id"], drop_missing=True))
    >>> b = batches[0]
    >>> b.X.tolist(), b.y.tolist(), b.kept["id"].tolist(), b.n_dropped
    ([[1.0, 2.0], [5.0, 6.0]], ['u', 'u'], [7, 9], 1)
    >>> next(iter_xy(path, target="label", keep=["id"], missing="keep")).X.tolist()
    [[1.0, 2.0], [nan, 4.0], [5.0, 6.0]]
    """
    plan = _plan_xy(source, features, target, keep)
    rule = _missing_rule(missing, drop_missing)
    return _iter_xy(plan, _check_batch_rows(batch_rows), rule)


#: What a missing value does, per ``missing`` argument.
_MISSING_CHOICES = ("error", "drop", "keep")


@dataclass(frozen=True)
class _MissingRule:
    drop: bool  # drop rows with a missing value (of the target, and of a feature unless keep)
    keep: bool  # keep missing feature values as NaN


def _missing_rule(missing: str, drop_missing: bool) -> _MissingRule:
    if missing not in _MISSING_CHOICES:
        raise ValueError(
            f"missing must be one of {', '.join(repr(c) for c in _MISSING_CHOICES)}, not "
            f"{missing!r}"
        )
    return _MissingRule(drop=bool(drop_missing) or missing == "drop", keep=missing == "keep")


@dataclass
class _XYPlan:
    sources: list[str]
    feats: list[str]
    target: str | None
    keep: list[str]
    needed: list[str]


def _plan_xy(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    features: Sequence[str] | None,
    target: str | None,
    keep: Sequence[str],
) -> _XYPlan:
    """Check the column arguments of :func:`iter_xy` and decide which columns to read."""
    sources = expand_sources(source)
    keep = list(keep)
    if isinstance(features, str):
        features = [features]
    if features is None:
        available = table_columns(sources)
        excluded = set(keep) | ({target} if target is not None else set())
        feats = [c for c in available if c not in excluded]
        missing = [
            c for c in [*([target] if target is not None else []), *keep] if c not in available
        ]
        if missing:
            raise _not_found(missing, available, sources[0])
        if not feats:
            raise DataError(
                f"{_name(sources[0])} has no feature columns besides the target and kept "
                "columns; add numeric feature columns"
            )
    else:
        feats = list(features)
        if not feats:
            raise DataError("no feature columns were given; name at least one with --features")
    seen: set[str] = set()
    for name in feats:
        if name in seen:
            raise DataError(f"feature column '{name}' is listed twice; list each feature once")
        seen.add(name)
    if target is not None and target in seen:
        raise DataError(
            f"column '{target}' cannot be both the target and a feature; remove it from "
            "the features"
        )
    needed: list[str] = []
    for name in [*feats, *([target] if target is not None else []), *keep]:
        if name not in needed:
            needed.append(name)
    return _XYPlan(sources, feats, target, keep, needed)


def _iter_xy(plan: _XYPlan, batch_rows: int, rule: _MissingRule) -> Iterator[XYBatch]:
    feats, target, keep = plan.feats, plan.target, plan.keep
    d = len(feats)
    for chunk in _iter_chunks(plan.sources, plan.needed, batch_rows):
        n = chunk.n_rows
        cols = chunk.columns
        X = np.empty((n, d), dtype=np.float64)
        for j, name in enumerate(feats):
            X[:, j] = _feature_column(cols[name], name, chunk.src)
        bad = np.isnan(X)
        y = None
        bad_y = None
        if target is not None:
            y = cols[target]
            bad_y = _is_missing_labels(y)
        row_missing = np.zeros(n, dtype=bool) if rule.keep else bad.any(axis=1)
        if bad_y is not None:
            row_missing |= bad_y
        if row_missing.any() and not rule.drop:
            i = int(np.argmax(row_missing))
            row = chunk.file_row + i + 1
            if bad_y is not None and bad_y[i] and (rule.keep or not bad[i].any()):
                raise DataError(
                    f"target column '{target}' has a missing value at row {row} (1-based data "
                    f"row) of {_name(chunk.src)}; pass --drop-missing to drop such rows"
                )
            name = feats[int(np.argmax(bad[i]))]
            raise DataError(
                f"column '{name}' has a missing value at row {row} (1-based data row) of "
                f"{_name(chunk.src)}; pass --drop-missing to drop such rows"
            )
        infinite = np.isinf(X)
        if infinite.any():
            i, j = (int(v) for v in np.argwhere(infinite)[0])
            raise DataError(
                f"column '{feats[j]}' has an infinite value at row {chunk.file_row + i + 1} "
                f"(1-based data row) of {_name(chunk.src)}; remove or fix that row"
            )
        rows = np.arange(chunk.row_offset, chunk.row_offset + n, dtype=np.int64)
        n_dropped = int(row_missing.sum())
        kept = {name: cols[name] for name in keep}
        if n_dropped:
            ok = ~row_missing
            X = X[ok]
            rows = rows[ok]
            y = None if y is None else y[ok]
            kept = {name: values[ok] for name, values in kept.items()}
        if y is not None:
            y = _labels(y, None if chunk.text is None else target in chunk.text)
        yield XYBatch(
            X=X,
            y=y,
            kept=kept,
            n_dropped=n_dropped,
            row_offset=chunk.row_offset,
            fraction_done=chunk.fraction,
            rows=rows,
        )


def _concat(arrays: list[np.ndarray]) -> np.ndarray:
    kinds = {a.dtype.kind for a in arrays}
    if len(kinds) > 1 and ("O" in kinds or "U" in kinds):
        return np.concatenate([a.astype(object) for a in arrays])
    return np.concatenate(arrays)


def read_xy(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    features: Sequence[str] | None = None,
    target: str | None = None,
    keep: Sequence[str] = (),
    batch_rows: int = DEFAULT_BATCH_ROWS,
    drop_missing: bool = False,
    missing: str = "error",
) -> XYBatch:
    """Read a whole (small) source into one :class:`XYBatch`.

    Takes the same arguments as :func:`iter_xy` and concatenates its batches.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> atomic_write_text(path, "a,b\\n1,2\\n3,4\\n5,6\\n")
    >>> read_xy(path, features=["b"], batch_rows=2).X.ravel().tolist()
    [2.0, 4.0, 6.0]
    """
    plan = _plan_xy(source, features, target, keep)
    rule = _missing_rule(missing, drop_missing)
    batches = list(_iter_xy(plan, _check_batch_rows(batch_rows), rule))
    if not batches:
        return XYBatch(
            X=np.empty((0, len(plan.feats))),
            y=None if target is None else np.empty(0, dtype=str),
            kept={name: np.empty(0, dtype=object) for name in plan.keep},
            fraction_done=None if "-" in plan.sources else 1.0,
        )
    X = np.concatenate([b.X for b in batches]) if len(batches) > 1 else batches[0].X
    y = None
    if target is not None:
        y = _concat([b.y for b in batches if b.y is not None])
    kept = {name: _concat([b.kept[name] for b in batches]) for name in keep}
    return XYBatch(
        X=X,
        y=y,
        kept=kept,
        n_dropped=sum(b.n_dropped for b in batches),
        row_offset=0,
        fraction_done=batches[-1].fraction_done,
        rows=np.concatenate([b.rows for b in batches]),
    )


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


def _write_error(path: str, err: OSError) -> DataError:
    reason = err.strerror or str(err)
    return DataError(f"cannot write '{path}': {reason}; choose a writable path")


def _new_file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def _atomic_binary(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a temporary file next to ``path``; on success fsync and rename it to ``path``.

    On any failure (including KeyboardInterrupt) the temporary file is removed
    and ``path`` is left as it was.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise DataError(f"cannot write '{path}': it is a directory; choose a file path")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(
            prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory
        )
    except OSError as err:
        raise _write_error(path, err) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError) and not isinstance(err, DataError):
            raise _write_error(path, err) from None
        raise
    with contextlib.suppress(OSError, AttributeError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


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
