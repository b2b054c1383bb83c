"""Feature matrices, labels and carried-along columns, batch by batch."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._csv import ColumnTypes
from ._read import _iter_chunks, table_columns
from ._sources import (
    DEFAULT_BATCH_ROWS,
    DataError,
    _check_batch_rows,
    _name,
    _not_found,
    expand_sources,
)


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
    y_untyped : bool
        True when the labels are text read from a format without column types
        (CSV): whether they are numbers is one decision over the whole input,
        which the reader of all batches makes with :func:`label_values`.
    """

    X: np.ndarray
    y: np.ndarray | None
    kept: dict[str, np.ndarray] = field(default_factory=dict)
    n_dropped: int = 0
    row_offset: int = 0
    fraction_done: float | None = None
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    y_untyped: bool = False

    @property
    def n_rows(self) -> int:
        """Number of rows in the batch (after dropping)."""
        return int(self.X.shape[0])


def _is_missing_labels(y: np.ndarray, na_values: frozenset[str] = frozenset()) -> np.ndarray:
    """Missing labels: NaN, null, the empty text, and the text values in ``na_values``."""
    if y.dtype.kind == "f":
        return np.isnan(y)
    if y.dtype.kind in "OU":
        missing = np.equal(y, None) | np.equal(y, "") if y.dtype.kind == "O" else y == ""
        for value in na_values:
            missing |= np.equal(y, value)
        return np.asarray(missing, dtype=bool)
    return np.zeros(len(y), dtype=bool)


_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_INT64 = (-(2**63), 2**63 - 1)


def label_values(labels: np.ndarray) -> np.ndarray:
    """Text labels as numbers when every one of them is a number, else unchanged.

    The decision is one for all the labels given: int64 when every label is
    a decimal integer (within int64), float64 when every label is a decimal
    number (``2.5``, ``1e3``), otherwise the text labels unchanged. Give it the
    labels (or the distinct labels) of the whole input, so that the type does
    not depend on how the input was cut into batches.

    Examples
    --------
    >>> label_values(np.array(["2", "10", "-1"])).tolist()
    [2, 10, -1]
    >>> label_values(np.array(["2", "2.5"])).tolist()
    [2.0, 2.5]
    >>> label_values(np.array(["2", "true"])).tolist()
    ['2', 'true']
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "UO" or labels.size == 0:
        return labels
    if not all(isinstance(v, str) for v in labels.tolist()):
        return labels
    text = [str(v) for v in labels.tolist()]
    if all(_INTEGER.match(v) for v in text):
        ints = [int(v) for v in text]
        if all(_INT64[0] <= i <= _INT64[1] for i in ints):
            return np.array(ints, dtype=np.int64)
    if all(_DECIMAL.match(v) for v in text):
        return np.array([float(v) for v in text], dtype=np.float64)
    return labels


def _decide_labels(y: np.ndarray) -> np.ndarray:
    """:func:`label_values` of a whole column, deciding on its distinct values."""
    if y.dtype.kind not in "UO" or y.size == 0:
        return y
    try:
        distinct, where = np.unique(y, return_inverse=True)
    except TypeError:
        return y
    values = label_values(distinct)
    return y if values is distinct else values[where.ravel()]


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
    na_values: Sequence[str] = (),
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
    na_values : sequence of str, default ()
        Text values of the target column that mean a missing label, besides
        the empty cell (only an empty cell by default: ``NA`` or ``null`` are
        labels like any other).

    Notes
    -----
    With CSV input, features are numbers in one syntax (see
    :mod:`gaussmle.io`) or a :class:`DataError`, and labels are read as text
    (``y_untyped`` is True): call :func:`label_values` on the labels of all
    batches to get numbers where every label is one (:func:`read_xy` does).

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
    >>> from gaussmle.io import atomic_write_text
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> atomic_write_text(path, "id,a,b,label\\n7,1,2,u\\n8,,4,v\\n9,5,6,u\\n")
    >>> batches = list(iter_xy(path, target="label", keep=["id"], drop_missing=True))
    >>> b = batches[0]
    >>> b.X.tolist(), b.y.tolist(), b.kept["id"].tolist(), b.n_dropped
    ([[1.0, 2.0], [5.0, 6.0]], ['u', 'u'], [7, 9], 1)
    >>> next(iter_xy(path, target="label", keep=["id"], missing="keep")).X.tolist()
    [[1.0, 2.0], [nan, 4.0], [5.0, 6.0]]
    """
    plan = _plan_xy(source, features, target, keep, na_values)
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
    na_values: frozenset[str] = frozenset()

    @property
    def declared(self) -> ColumnTypes:
        """CSV column types: the features are numbers, the target text."""
        text = frozenset() if self.target is None else frozenset([self.target])
        return ColumnTypes(text=text, numbers=frozenset(self.feats))


def _plan_xy(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    features: Sequence[str] | None,
    target: str | None,
    keep: Sequence[str],
    na_values: Sequence[str] = (),
) -> _XYPlan:
    """Check the column arguments of :func:`iter_xy` and decide which columns to read."""
    if isinstance(na_values, str):
        na_values = [na_values]
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
    return _XYPlan(sources, feats, target, keep, needed, frozenset(na_values))


def _iter_xy(plan: _XYPlan, batch_rows: int, rule: _MissingRule) -> Iterator[XYBatch]:
    feats, target, keep = plan.feats, plan.target, plan.keep
    d = len(feats)
    for chunk in _iter_chunks(plan.sources, plan.needed, batch_rows, plan.declared):
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
            bad_y = _is_missing_labels(y, plan.na_values)
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
            y_untyped=y is not None and chunk.untyped,
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
    na_values: Sequence[str] = (),
) -> XYBatch:
    """Read a whole (small) source into one :class:`XYBatch`.

    Takes the same arguments as :func:`iter_xy` and concatenates its batches;
    CSV labels are numbers when every label of the input is one
    (:func:`label_values`), text otherwise.

    Examples
    --------
    >>> import os, tempfile
    >>> from gaussmle.io import atomic_write_text
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> atomic_write_text(path, "a,b\\n1,2\\n3,4\\n5,6\\n")
    >>> read_xy(path, features=["b"], batch_rows=2).X.ravel().tolist()
    [2.0, 4.0, 6.0]
    """
    plan = _plan_xy(source, features, target, keep, na_values)
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
        if any(b.y_untyped for b in batches):
            y = _decide_labels(y)
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
