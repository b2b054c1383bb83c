"""Small validators of parsed JSON values, used while reading a model document.

Each checks one value (a key's presence, an object's keys, a finite number, a numeric
array of a given shape, a list of numbers) and raises ``_Invalid`` with the value's
dotted place in the document; :func:`_json_type` names a value's JSON type for messages.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._format import _Invalid


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, numbers.Number):
        return "number"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _name(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _get(obj: dict[str, Any], key: str, at: str = "") -> Any:
    if key not in obj:
        raise _Invalid(f"the key {_name(at, key)!r} is missing")
    return obj[key]


def _check_keys(
    obj: Any, keys: tuple[str, ...], at: str, optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``obj`` must be an object with exactly ``keys``, plus any of ``optional``."""
    if not isinstance(obj, dict):
        raise _Invalid(f"{at} must be an object, not a JSON {_json_type(obj)}")
    for key in keys:
        _get(obj, key, at)
    extra = [k for k in obj if k not in keys and k not in optional]
    if extra:
        place = f"{at!r} has" if at else "it has"
        raise _Invalid(f"{place} an unknown key {extra[0]!r}")
    return obj


def _number(value: Any, at: str, *, minimum: float | None = None) -> float:
    if not _is_number(value):
        raise _Invalid(f"{at} must be a number, not a JSON {_json_type(value)}")
    try:
        out = float(value)
    except OverflowError:
        out = float("inf")
    if not np.isfinite(out):
        raise _Invalid(f"{at} is not finite")
    if minimum is not None and out < minimum:
        raise _Invalid(f"{at} is {out!r}, but it cannot be below {minimum!r}")
    return out


def _array(value: Any, shape: tuple[int, ...], at: str) -> np.ndarray:
    """A finite float64 array of exactly ``shape`` from nested lists of numbers."""
    if not shape:
        return np.array(_number(value, at))
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise _Invalid(f"{at} must be an array of shape {shape}, not a JSON {_json_type(value)}")
    try:
        obj = np.array(value, dtype=object)
    except ValueError:
        obj = None
    if obj is None or obj.shape != shape:
        got = "a ragged array" if obj is None else f"shape {obj.shape}"
        raise _Invalid(f"{at} has {got}, but it must have shape {shape}")
    types = set(map(type, obj.ravel().tolist()))
    if not all(issubclass(t, numbers.Real) and not issubclass(t, bool) for t in types):
        raise _Invalid(f"{at} must hold only numbers")
    try:
        out = obj.astype(np.float64)
    except OverflowError:
        raise _Invalid(f"{at} contains a value that is not finite") from None
    if not np.isfinite(out).all():
        raise _Invalid(f"{at} contains a value that is not finite")
    return out


def _floats_in(value: Any, at: str) -> list[float]:
    if not isinstance(value, list) or not all(_is_number(v) for v in value):
        raise _Invalid(f"{at} must be null or an array of numbers")
    out = np.asarray(value, dtype=np.float64)
    if not np.isfinite(out).all():
        raise _Invalid(f"{at} contains a value that is not finite")
    return out.tolist()
