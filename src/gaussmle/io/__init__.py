"""Read tabular data in row batches and write tables and text files atomically.

This module only moves data; it computes no statistics. Supported inputs:

* CSV files (``.csv``, also compressed ``.csv.gz``, ``.csv.bz2``, ``.csv.zst``,
  ``.csv.lz4``): the text is read a piece of about ``batch_rows`` rows at a
  time, cut at a line end and parsed by pyarrow (pyarrow's own streaming CSV
  reader reads ahead without limit when batches are consumed slowly, so memory
  would grow with the file). Each feature and target column has one type for
  the whole input: features are numbers (an optional sign, digits, an optional
  decimal point and exponent: ``12``, ``-0.5``, ``1e3``, ``inf``; no thousands
  separators, underscores or hexadecimal) or a :class:`DataError` naming the
  row; labels are text, numbers only when every label of the input is one
  (:func:`label_values`); only an empty cell is a missing label unless
  ``na_values`` says otherwise. Other columns are inferred from the first piece
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
``gaussmle`` stays fast. The package's modules: ``_sources`` (paths, globs,
standard input, :class:`DataError`), ``_csv`` (CSV reading), ``_columnar``
(Parquet and ``.npy``), ``_convert`` (columns to NumPy), ``_read`` (batches
of several inputs), ``_xy`` (features, labels and kept columns) and
``_write`` (atomic writing).

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

from ._read import iter_batches, table_columns
from ._sources import DEFAULT_BATCH_ROWS as DEFAULT_BATCH_ROWS
from ._sources import DataError, expand_sources, source_size_bytes
from ._write import TableWriter, atomic_write_text, write_table
from ._xy import XYBatch, iter_xy, label_values, read_xy

__all__ = [
    "DataError",
    "TableWriter",
    "XYBatch",
    "atomic_write_text",
    "expand_sources",
    "iter_batches",
    "iter_xy",
    "label_values",
    "read_xy",
    "source_size_bytes",
    "table_columns",
    "write_table",
]

# The public classes are shown as gaussmle.io.X (in tracebacks and reprs), where users
# import them from.
for _cls in (DataError, TableWriter, XYBatch):
    _cls.__module__ = __name__
del _cls
