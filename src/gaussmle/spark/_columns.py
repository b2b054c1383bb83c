"""Checks of a Spark DataFrame's columns, with the in-memory path's messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
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


#: Prefix of helper columns (dropped again); a name of the DataFrame's is never reused.
HELPER = "_gaussmle_"


def free_name(columns: Sequence[str], stem: str) -> str:
    """``HELPER + stem``, with more underscores until no column of ``columns`` has the name.

    Examples
    --------
    >>> free_name(["a", "_gaussmle_s"], "s")
    '__gaussmle_s'
    """
    name = HELPER + stem
    while name in columns:
        name = "_" + name
    return name


@dataclass
class FeatureInput:
    """Where a DataFrame's features are: numeric columns, or one MLlib vector column.

    ``names`` holds one name per feature, ``columns`` each feature as Spark SQL
    text of type DOUBLE (on :attr:`frame`), ``vector`` the vector column's name
    (None for plain columns) and ``array`` the helper column of :attr:`frame`
    holding its values (``values``: that column's expression, which checks the
    length of each row's vector). ``sized``: the vector's metadata gives its
    length (VectorAssembler's output), so it can be read as it is.
    """

    df: Any
    names: list[str]
    columns: list[str]
    vector: str | None = None
    array: str | None = None
    values: Any = None
    sized: bool = False

    @cached_property
    def frame(self) -> Any:
        """The DataFrame to select ``columns`` from: ``df``, with the helper array column
        of a vector's values (built on first use: a naive Bayes model reads the vector)."""
        if self.array is None:
            return self.df
        return self.df.select("*", self.values.alias(self.array))


def vector_column(df: Any, features: Any) -> str | None:
    """The MLlib vector column ``features`` names alone, or None (plain numeric columns)."""
    from pyspark.ml.linalg import VectorUDT

    names = [features] if isinstance(features, str) else list(features)
    if len(names) != 1 or names[0] not in df.columns:
        return None
    return names[0] if isinstance(df.schema[names[0]].dataType, VectorUDT) else None


def _vector_size(df: Any, vector: str) -> int:
    """The vector column's length: from MLlib's metadata (VectorAssembler writes it), else row 1."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    size = df.schema[vector].metadata.get("ml_attr", {}).get("num_attrs")
    if size is not None:
        return int(size)
    first = df.select(F.size(vector_to_array(F.col(quoted(vector))))).first()
    if first is None:
        raise ValueError("the DataFrame is empty (0 samples); fit needs at least one row")
    return int(first[0])


def vector_names(metadata: dict[str, Any], vector: str, size: int) -> list[str]:
    """The features' names MLlib's metadata gives (VectorAssembler's input columns), else
    ``vector[0]``, ``vector[1]``, ...

    Examples
    --------
    >>> attrs = {"numeric": [{"idx": 1, "name": "b"}, {"idx": 0, "name": "a"}]}
    >>> vector_names({"ml_attr": {"attrs": attrs, "num_attrs": 2}}, "v", 2)
    ['a', 'b']
    >>> vector_names({}, "v", 2)
    ['v[0]', 'v[1]']
    """
    found: dict[int, str] = {}
    for group in metadata.get("ml_attr", {}).get("attrs", {}).values():
        for attr in group:
            if "idx" in attr and "name" in attr:
                found[int(attr["idx"])] = str(attr["name"])
    names = [found.get(j) for j in range(size)]
    if None in names or len(set(names)) != size:
        return [f"{vector}[{j}]" for j in range(size)]
    return [str(n) for n in names]


def feature_input(df: Any, features: Any, n_features: int | None = None) -> FeatureInput:
    """The features of ``df``: numeric columns (checked) or one MLlib vector column.

    A vector column (``VectorAssembler``'s output, say) is read through a
    helper array column; a row whose vector does not hold ``n_features``
    values (by default, as many as the metadata or the first row says) is an
    error when it is read, and metadata that says another length is an error
    at once. The features' names are the metadata's (the
    assembled columns), else ``vector[j]``.
    """
    from pyspark.sql import functions as F

    vector = vector_column(df, features)
    if vector is None:
        names = feature_list(features)
        check_columns(df, names)
        check_numeric(df, names)
        return FeatureInput(df, names, [f"CAST({quoted(n)} AS DOUBLE)" for n in names])
    from pyspark.ml.functions import vector_to_array

    declared = df.schema[vector].metadata.get("ml_attr", {}).get("num_attrs")
    size = _vector_size(df, vector) if n_features is None else int(n_features)
    if declared is not None and int(declared) != size:
        raise ValueError(
            f"the vector column {vector!r} holds {int(declared)} values per row (its "
            f"metadata says), but the model is expecting {size}; assemble the features the "
            "model was fitted on"
        )
    array = free_name(df.columns, "values")
    message = (
        f"a row of the vector column {vector!r} does not hold {size} values; assemble "
        f"every row from the same {size} features"
    ).replace("'", "\\'")
    values = vector_to_array(F.col(quoted(vector)))
    checked = F.when(F.size(values) == size, values).otherwise(
        F.expr(f"CAST(raise_error('{message}') AS ARRAY<DOUBLE>)")
    )
    columns = [f"{quoted(array)}[{j}]" for j in range(size)]
    names = vector_names(df.schema[vector].metadata, vector, size)
    return FeatureInput(df, names, columns, vector, array, checked, sized=declared is not None)
