"""Inputs: paths, glob patterns and standard input, and the messages about them.

Every problem with the user's input raises :class:`DataError`, whose message
is one sentence that says what is wrong and what to do about it.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Sequence

import numpy as np

#: Rows per batch unless told otherwise.
DEFAULT_BATCH_ROWS = 65536

_GLOB_CHARS = re.compile(r"[*?\[]")
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}
_MAX_LISTED_COLUMNS = 30


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
    >>> from gaussmle.io import atomic_write_text
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


def _check_batch_rows(batch_rows: int) -> int:
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, (int, np.integer)):
        raise TypeError("batch_rows must be an integer")
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
    return int(batch_rows)
