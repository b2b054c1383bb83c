"""Input checks and their error messages, in one place.

Every check raises :class:`ValueError` (or :class:`TypeError` for a wrong type)
with one sentence that says what is wrong and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

COVARIANCE_TYPES = ("diag", "full", "tied", "spherical")
STATS_KINDS = ("diag", "full")


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


#: Variances below this lose float64 precision in their squares (sd below about 1e-152).
TINY_VARIANCE = 1e-304


def tiny_spreads(X: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Per feature, the spread (max - min) of X where ``variance`` is tiny; 0 elsewhere.

    ``variance`` (d,) comes from the statistics, so only features whose
    variance is below :data:`TINY_VARIANCE` (rare) cost a look at ``X``.

    Examples
    --------
    >>> tiny_spreads(np.array([[0.0, 0.0], [1e-160, 1.0]]), np.array([0.0, 0.25])).tolist()
    [1e-160, 0.0]
    """
    out = np.zeros(np.shape(variance))
    for j in np.flatnonzero(np.asarray(variance) < TINY_VARIANCE):
        column = X[:, j]
        column = column[np.isfinite(column)]
        out[j] = float(column.max() - column.min()) if column.size else 0.0
    return out


def check_spread(spread: np.ndarray, variance: np.ndarray) -> None:
    """Refuse features whose spread is too small for float64 squares (not constant, not usable).

    ``spread`` (d,) is what :func:`tiny_spreads` found in the data (the largest
    over batches), ``variance`` (d,) the variance of all data from their
    statistics. A feature whose variance is below :data:`TINY_VARIANCE` (its
    squared deviations are subnormal or zero) but whose values are not all
    equal would give a model that cannot tell its classes apart.

    Examples
    --------
    >>> try:
    ...     check_spread(np.array([1e-160]), np.array([0.0]))
    ... except ValueError as exc:
    ...     print(str(exc).split(",")[0])
    feature 0 of X varies by only about 1e-160
    >>> check_spread(np.array([0.0]), np.array([0.0]))  # constant: fine
    """
    bad = np.flatnonzero((np.asarray(variance) < TINY_VARIANCE) & (np.asarray(spread) > 0.0))
    if bad.size:
        j = int(bad[0])
        factor = 10.0 ** -np.floor(np.log10(spread[j]))
        raise ValueError(
            f"feature {j} of X varies by only about {spread[j]:.0e}, too little for float64 "
            f"arithmetic on its squares (variances below {TINY_VARIANCE:.0e} underflow); "
            f"rescale X first, e.g. multiply it by {factor:.0e}"
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
