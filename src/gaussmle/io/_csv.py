"""CSV files and standard input, read a bounded piece at a time.

The text is read a piece of about ``batch_rows`` rows at a time, cut at a line
end and parsed by pyarrow (pyarrow's own streaming CSV reader reads ahead
without limit when batches are consumed slowly, so memory would grow with the
file). Each column's type is one decision for the whole input: the columns a
caller declares (:class:`ColumnTypes`) as text are read as text (an empty cell is
the empty string), those declared as numbers as float64 (or booleans, when the
first piece holds booleans) and a value that does not fit is an error naming the
row. Other columns are inferred from the first piece and widened if a later
value does not fit (int64 to float64, numbers to text).

Number syntax (features): an optional sign, decimal digits with an optional
decimal point and an optional exponent (``12``, ``-0.5``, ``.5``, ``1e3``),
``inf``/``-inf``; no thousands separators, underscores or hexadecimal. Empty
cells and pyarrow's null strings (``NA``, ``NaN``, ``null``, ``N/A``, ...) are
missing values in number columns.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._sources import DataError, _check_unique, _codec, _name, _not_found, _read_error

_MIN_BLOCK = 1 << 16
_MAX_BLOCK = 1 << 28
_CONVERSION_ERROR = re.compile(
    r"In CSV column #(\d+): .*?CSV conversion error to ([^:]+): invalid value '(.*)'", re.S
)


@dataclass(frozen=True)
class ColumnTypes:
    """Columns whose type is fixed for the whole input, whatever the batch size.

    ``text`` columns are read as text (no null strings: an empty cell is ``""``);
    ``numbers`` as float64, or as booleans when the first piece of the file
    holds booleans there. A value that does not fit is a :class:`DataError`.
    """

    text: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()


_NO_TYPES = ColumnTypes()


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


def _parse_chunk(
    data: bytes,
    names: list[str],
    want: list[str],
    types: dict[str, Any],
    src: str,
    declared: ColumnTypes = _NO_TYPES,
    first_row: int = 0,
):
    """Parse one piece of CSV text (no header) into a table of the wanted columns.

    ``types`` holds the column types fixed so far; it is updated in place when a
    value of an undeclared column does not fit its column's type (an integer
    column that turns out to hold decimals, a number column with text further
    down). A value that does not fit a declared number column is an error
    naming its row (``first_row`` is the 0-based data row of the piece's start).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    block = max(len(data) // 2 + 1, 1 << 20)
    for _ in range(4 * len(want) + 4):
        read = pacsv.ReadOptions(column_names=names, block_size=block, use_threads=True)
        convert = pacsv.ConvertOptions(
            include_columns=want, column_types=dict(types), strings_can_be_null=False
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
            if name in declared.numbers:
                booleans = name in types and pa.types.is_boolean(types[name])
                raise _not_a_number(
                    data, names, name, match.group(3), src, first_row, booleans
                ) from None
            if name not in want or not _widen(types, name, match.group(3)):
                raise _read_error(src, err) from None
    raise DataError(f"cannot read {_name(src)}: column types keep changing; check the file")


def _not_a_number(
    data: bytes,
    names: list[str],
    name: str,
    value: str,
    src: str,
    first_row: int,
    booleans: bool = False,
) -> DataError:
    """The error for a value of a number column that is not a number, with its row."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    read = pacsv.ReadOptions(column_names=names)
    convert = pacsv.ConvertOptions(include_columns=[name], column_types={name: pa.string()})
    row = None
    try:
        values = pacsv.read_csv(pa.BufferReader(data), read_options=read, convert_options=convert)
        found = values.column(name).to_pylist().index(value)
        row = first_row + found + 1
    except (pa.ArrowInvalid, ValueError):
        pass
    where = f" at row {row} (1-based data row)" if row is not None else ""
    shown = value if len(value) <= 40 else value[:37] + "..."
    if booleans:
        return DataError(
            f"column '{name}' in {_name(src)} holds true/false values, then '{shown}'{where}; "
            "write one kind of value per feature column (true/false, or numbers)"
        )
    return DataError(
        f"column '{name}' in {_name(src)} is not numeric (found '{shown}'{where}); feature "
        "values are decimal numbers such as 12, -0.5 or 1e3 (no thousands separators, "
        "underscores or hexadecimal); fix the value or choose numeric feature columns with "
        "--features"
    )


def _fix_types(table: Any, want: list[str], types: dict[str, Any], declared: ColumnTypes) -> bool:
    """Fix the column types after the first piece; True if the piece must be parsed again.

    Declared number columns become float64 unless the piece holds booleans
    there; other columns keep the type inferred from the piece.
    """
    import pyarrow as pa

    again = False
    for name in want:
        if name in types:
            continue
        dtype = table.schema.field(name).type
        if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
            return False
        if name in declared.numbers and not pa.types.is_boolean(dtype):
            again = again or dtype != pa.float64()
            dtype = pa.float64()
        types[name] = dtype
    return again


def _empty_text_as_null(table: Any, declared: ColumnTypes) -> Any:
    """Empty cells of the undeclared text columns as nulls (declared text keeps ``""``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, field in enumerate(table.schema):
        if field.name in declared.text or not pa.types.is_string(field.type):
            continue
        col = table.column(i)
        empty = pc.equal(col, "")
        if pc.any(empty).as_py():
            table = table.set_column(i, field, pc.if_else(empty, None, col))
    return table


def _iter_csv(
    path: str,
    src: str,
    columns: list[str] | None,
    batch_rows: int,
    declared: ColumnTypes = _NO_TYPES,
) -> Iterator[tuple[Any, float | None]]:
    """Yield (record batch, fraction of the file read) pairs.

    The text is read a piece at a time (about ``batch_rows`` rows), cut at a
    line end and parsed on its own, so memory stays bounded by the batch size
    however slowly the batches are consumed. ``declared`` columns have one
    type for the whole input; the types of the others come from the first
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
        types: dict[str, Any] = {name: pa.string() for name in want if name in declared.text}
        done = 0
        for data in _text_chunks(rest, source.read, target):
            table = _parse_chunk(data, names, want, types, src, declared, done)
            if table is None:
                continue
            if len(types) < len(want):
                if _fix_types(table, want, types, declared):
                    table = _parse_chunk(data, names, want, types, src, declared, done)
                for name in want:
                    dtype = table.schema.field(name).type
                    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
                        raise DataError(
                            f"column '{name}' of {_name(src)} is not valid UTF-8 text; convert "
                            "the file to UTF-8"
                        )
                    types.setdefault(name, dtype)
            table = _empty_text_as_null(table, declared)
            done += table.num_rows
            frac = source.fraction()
            for batch in table.to_batches():
                if batch.num_rows:
                    yield batch, frac
    except OSError as err:
        raise _read_error(src, err) from None
    finally:
        source.close()
