"""Checks of a Spark DataFrame's columns, with the in-memory path's messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def check_columns(df: Any, names: Sequence[str]) -> None:
    """Raise a ValueError naming every column of ``names`` that ``df`` lacks."""
    available = list(df.columns)
    missing = [n for n in names if n not in available]
    if not missing:
        return
    if len(missing) == 1:
        what = f"column {missing[0]!r} not found"
    else:
        what = "columns " + ", ".join(repr(m) for m in missing) + " not found"
    raise ValueError(f"{what} in the DataFrame; available columns: {', '.join(available)}")


def check_numeric(df: Any, names: Sequence[str], what: str = "X") -> None:
    """Raise the in-memory path's ValueError when a column is not numeric."""
    from pyspark.sql.types import NumericType

    for name in names:
        dtype = df.schema[name].dataType
        if not isinstance(dtype, NumericType):
            raise ValueError(
                f"{what} holds non-numeric values (column {name!r} is "
                f"{dtype.simpleString()}); convert every feature to numbers first"
            )


def feature_list(features: Any) -> list[str]:
    """``features`` as a non-empty list of column names (one name is one feature).

    Examples
    --------
    >>> feature_list("a"), feature_list(("a", "b"))
    (['a'], ['a', 'b'])
    """
    names = [features] if isinstance(features, str) else list(features)
    if not names:
        raise ValueError("X has 0 features; pass at least one column")
    if len(set(names)) != len(names):
        raise ValueError("features names a column more than once; name each column once")
    return names


def quoted(name: str) -> str:
    """A column name quoted for Spark SQL (dots and spaces kept literally).

    Examples
    --------
    >>> quoted("a.b")
    '`a.b`'
    """
    return "`" + name.replace("`", "``") + "`"
