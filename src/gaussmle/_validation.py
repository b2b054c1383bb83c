"""Input checks and their error messages, in one place.

Every check raises :class:`ValueError` (or :class:`TypeError` for a wrong type)
with one sentence that says what is wrong and what to do about it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

COVARIANCE_TYPES = ("diag", "full", "tied", "spherical")
STATS_KINDS = ("diag", "full")
#: The largest total weight (count) a model keeps: float64 holds every whole number
#: up to 2^53 exactly, and model files refuse larger counts.
MAX_TOTAL_WEIGHT = 2.0**53
#: Class lists longer than this are cut in messages.
_SHOWN_LABELS = 8
#: Bytes of per-class results (rows x classes) one batch of rows may take: with
#: many classes, batches are sized by this, not by a number of rows.
OUTPUT_BYTES = 32 << 20


def rows_for_output(n_classes: int, bytes_per_value: int = 8, most: int | None = None) -> int:
    """Rows per batch so that a batch's rows x classes results take at most OUTPUT_BYTES.

    ``bytes_per_value`` is what one (row, class) value costs (8 for a float64
    array; more for text output); ``most`` caps the result (a requested batch size).

    Examples
    --------
    >>> rows_for_output(10, most=65536)
    65536
    >>> rows_for_output(10_000)
    419
    """
    rows = max(1, OUTPUT_BYTES // max(1, int(n_classes) * int(bytes_per_value)))
    return rows if most is None else max(1, min(rows, int(most)))


def plain(value: Any) -> str:
    """A value as a message shows it: Python's repr of the plain value, not numpy's.

    Examples
    --------
    >>> plain(np.str_("x")), plain(np.int64(0)), plain(np.float64(0.5))
    ("'x'", '0', '0.5')
    """
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def shown_labels(labels: Any, limit: int = _SHOWN_LABELS) -> str:
    """A list of labels as a message shows it, cut in the middle when long.

    Examples
    --------
    >>> shown_labels(np.arange(42))
    '[0, 1, 2, ..., 41] (42 classes)'
    >>> shown_labels(["a", "b"])
    "['a', 'b']"
    """
    values = (
        list(np.asarray(labels, dtype=object).ravel()) if not isinstance(labels, list) else labels
    )
    if len(values) <= limit:
        return "[" + ", ".join(plain(v) for v in values) + "]"
    head = ", ".join(plain(v) for v in values[:3])
    return f"[{head}, ..., {plain(values[-1])}] ({len(values)} classes)"


def _is_missing_label(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return type(value).__name__ in ("NAType", "NaTType")  # pandas' NA and NaT


def _missing_objects(values: np.ndarray) -> np.ndarray:
    """Which entries of an object array are None, NaN, pandas' NA or NaT.

    pandas' ``isna`` looks at each object in compiled code (a Python loop over
    1e6 labels took 0.5 s, twenty times the rest of a fit); without pandas,
    the loop.

    Examples
    --------
    >>> _missing_objects(np.array(["a", None, float("nan"), 2], dtype=object)).tolist()
    [False, True, True, False]
    """
    try:
        from pandas import isna
    except ImportError:
        return np.fromiter(map(_is_missing_label, values), bool, values.size)
    return np.asarray(isna(values), dtype=bool)


def has_missing_label(values: np.ndarray) -> bool:
    """Whether a float or object array holds a missing label (None, NaN, pandas' NA).

    Examples
    --------
    >>> has_missing_label(np.array(["a", None], dtype=object)), has_missing_label(np.arange(2.0))
    (True, False)
    """
    if values.dtype.kind == "f":
        return bool(np.isnan(values).any())
    return values.dtype.kind == "O" and bool(_missing_objects(values.ravel()).any())


def check_labels_present(y: Any) -> None:
    """Refuse labels that are missing (None, NaN, pandas' NA), naming the first.

    Examples
    --------
    >>> check_labels_present(["a", None])
    Traceback (most recent call last):
    ...
    ValueError: y has a missing label (None) at index 1; drop the unlabelled rows first, or fit them as unlabelled rows with unlabelled=gaussmle.MISSING_LABEL
    """  # noqa: E501
    if y is None:
        return  # no labels at all: the caller's check says so
    if hasattr(y, "isna") and hasattr(y, "to_numpy"):
        missing = np.asarray(y.isna()).ravel()
        values = np.asarray(y.to_numpy(dtype=object)).ravel()
    else:
        try:
            values = np.asarray(y)
        except (TypeError, ValueError):
            return  # let the usual checks explain
        if values.dtype.kind == "f":
            missing = np.isnan(values).ravel()
        elif values.dtype.kind == "O":
            values = values.ravel()
            missing = _missing_objects(values)
        else:
            return
    if missing.any():
        i = int(np.argmax(missing))
        shown = "NaN" if values.dtype.kind == "f" else str(values[i])
        raise ValueError(
            f"y has a missing label ({shown}) at index {i}; drop the unlabelled rows first, "
            "or fit them as unlabelled rows with unlabelled=gaussmle.MISSING_LABEL"
        )


def check_var_smoothing(value: Any) -> float:
    """var_smoothing as a float: a finite number >= 0.

    Examples
    --------
    >>> check_var_smoothing(1e-9)
    1e-09
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    if not ok or not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(
            f"var_smoothing must be a finite number >= 0 (the default is 1e-9); got {plain(value)}"
        )
    return float(value)


def priors_for_classes(priors: Any, classes: np.ndarray) -> Any:
    """Priors given as a mapping from class to prior, as an array in the classes' order.

    Anything else is returned as it is (an array-like of one prior per class).

    Examples
    --------
    >>> priors_for_classes({"b": 0.75, "a": 0.25}, np.array(["a", "b"])).tolist()
    [0.25, 0.75]
    """
    if not isinstance(priors, Mapping):
        return priors
    keys = {(k.item() if isinstance(k, np.generic) else k): v for k, v in priors.items()}
    out = []
    for label in classes:
        key = label.item() if isinstance(label, np.generic) else label
        if key not in keys:
            raise ValueError(
                f"priors has no prior for the class {plain(key)}; give one for each class "
                f"of {shown_labels(classes)}"
            )
        out.append(keys.pop(key))
    if keys:
        extra = next(iter(keys))
        raise ValueError(
            f"priors names {plain(extra)}, which is not a class; the classes are "
            f"{shown_labels(classes)}"
        )
    try:
        return np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("priors must map each class to a number") from None


def as_float_array(
    X: Any, *, name: str = "X", allow_1d: bool = True, finite: bool = True
) -> np.ndarray:
    """Return ``X`` as a 2-D floating array, refusing anything that is not numbers.

    float32 input stays float32 (statistics are still accumulated in float64);
    every other numeric dtype becomes float64. A 1-D array is one feature when
    ``allow_1d`` is true. ``finite=False`` skips the check for NaN and
    infinity, for callers that detect them more cheaply in their own results
    (and then call :func:`check_finite` for the message).

    Examples
    --------
    >>> as_float_array([1, 2, 3]).shape
    (3, 1)
    >>> as_float_array([[1.0, 2.0]], allow_1d=False).dtype
    dtype('float64')
    """
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()
    try:
        arr = np.asarray(X)
    except ValueError as exc:  # numpy refuses ragged nested sequences
        raise ValueError(
            f"{name} is ragged (its rows have different lengths); pass a rectangular "
            "array with one row per sample"
        ) from exc
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} holds non-numeric values; convert every feature to numbers first"
            ) from exc
    if arr.dtype.kind in "USV" or arr.dtype.kind == "M" or arr.dtype.kind == "m":
        raise ValueError(
            f"{name} holds non-numeric values (dtype {arr.dtype}); convert every feature "
            "to numbers first"
        )
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} is complex; pass real numbers")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64, copy=False)
    if arr.ndim == 1 and allow_1d:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        hint = " (a 1-D array needs reshape(-1, 1) for one feature)" if arr.ndim == 1 else ""
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got {arr.ndim}-D "
            f"with shape {arr.shape}{hint}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 samples); pass at least one row of data")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 features; pass at least one column")
    if finite:
        check_finite(arr, name=name)
    return arr


def check_finite(arr: np.ndarray, *, name: str = "X") -> None:
    """Raise a ValueError that locates the first NaN or infinity in ``arr``.

    Examples
    --------
    >>> check_finite(np.array([[1.0, np.nan]]))
    Traceback (most recent call last):
    ...
    ValueError: X contains NaN at row 0, column 1; remove or impute missing values first
    """
    if np.isfinite(np.add.reduce(arr, axis=None)):
        return  # a finite sum proves every element is finite (cheap, one pass)
    bad = ~np.isfinite(arr)
    if not bad.any():
        return  # the sum overflowed but every value is finite
    where = np.argwhere(bad)[0]
    value = arr[tuple(where)]
    what = "NaN" if np.isnan(value) else "infinity (inf)"
    loc = f"row {where[0]}" + (f", column {where[1]}" if arr.ndim == 2 else "")
    raise ValueError(f"{name} contains {what} at {loc}; remove or impute missing values first")


def check_finite_result(arrays: tuple[np.ndarray, ...], X: np.ndarray, *, name: str = "X") -> None:
    """After a computation on X: if a result is not finite, say why.

    Non-finite statistics from X mean X holds NaN or infinity (located by
    :func:`check_finite`), or values so large that their squares overflow.

    Examples
    --------
    >>> check_finite_result((np.array([1.0]),), np.array([[1.0]]))
    """
    if all(np.isfinite(a).all() for a in arrays):
        return
    check_finite(X, name=name)
    raise ValueError(
        f"{name} has values too large to square in float64 (about 1e154 or more); "
        "rescale the data first"
    )


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """Validate weights: shape (n_samples,), finite, non-negative, not all zero.

    Returns float64 weights, or None when ``sample_weight`` is None.

    Examples
    --------
    >>> check_sample_weight([1, 2], 2)
    array([1., 2.])
    """
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("sample_weight must be numbers, one per sample") from exc
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {w.shape} but X has {n_samples} samples; pass one "
            "weight per row, shape (n_samples,)"
        )
    if not np.isfinite(w).all():
        raise ValueError("sample_weight contains NaN or infinity; pass finite weights")
    if (w < 0).any():
        raise ValueError(
            f"sample_weight has negative values (first at index {int(np.argmax(w < 0))}); "
            "weights must be >= 0"
        )
    if not (w > 0).any():
        raise ValueError("sample_weight is all zero; at least one sample needs a positive weight")
    total = float(np.sum(w))
    if not total <= MAX_TOTAL_WEIGHT:
        raise ValueError(
            f"sample_weight sums to {total:.3g}, more than 2^53 (about 9.0e15), the largest "
            "count a model keeps exactly; divide the weights by a constant (only their ratios "
            "matter, except under a prior)"
        )
    return w


def check_choice(value: Any, choices: Sequence[str], *, name: str) -> str:
    """Check that ``value`` is one of ``choices``.

    Examples
    --------
    >>> check_choice("full", ("diag", "full"), name="covariance_type")
    'full'
    """
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value


def check_n_features(n_features: int, expected: int, *, what: str = "the model") -> None:
    """Raise when the number of columns differs from what a model was fitted on.

    Examples
    --------
    >>> check_n_features(3, 2)
    Traceback (most recent call last):
    ...
    ValueError: X has 3 features, but the model is expecting 2 features as input
    """
    if n_features != expected:
        raise ValueError(
            f"X has {n_features} features, but {what} is expecting {expected} features as input"
        )


def check_level(level: float) -> float:
    """Check a confidence level in (0, 1).

    Examples
    --------
    >>> check_level(0.95)
    0.95
    """
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (e.g. 0.95); got {level}")
    return level


def feature_names_or_default(names: list[str] | None, d: int) -> list[str]:
    """The given feature names checked against ``d``, or x0, x1, ... when there are none.

    Examples
    --------
    >>> feature_names_or_default(None, 2)
    ['x0', 'x1']
    """
    if names is None:
        return [f"x{j}" for j in range(d)]
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} names but X has {d} features")
    return names
