"""Plain-text formatting: aligned tables, numbers, estimates, JSON (CLI and summaries).

Everything here turns numbers into text; nothing reads data or fits models.

Examples
--------
>>> print(render_table(["class", "count"], [["purple", 100], ["yellow", 1234]]))
  class   count
  purple    100
  yellow  1,234
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "decimals",
    "estimate_rows",
    "fmt_count",
    "fmt_fixed",
    "fmt_interval",
    "fmt_num",
    "json_text",
    "jsonable",
    "render_table",
    "side_by_side",
    "wrap",
]

#: Columns of the estimates table (see :func:`estimate_rows`).
ESTIMATE_HEADER = ["mean", "SE", "95% interval", "variance", "SE", "95% interval"]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def decimals(values: Any, significant: int = 4) -> int | None:
    """Decimals that show the largest of ``values`` with ``significant`` digits.

    None means "use scientific notation" (magnitudes below 1e-3 or from 1e9 up).

    Examples
    --------
    >>> decimals([0.5, -1.25]), decimals([1234.5]), decimals([1e-6]), decimals([0.0])
    (3, 0, None, 2)
    """
    arr = np.abs(np.asarray(values, dtype=np.float64).ravel())
    arr = arr[np.isfinite(arr)]
    if arr.size == 0 or not np.any(arr > 0):
        return 2
    top = float(arr.max())
    if top < 1e-3 or top >= 1e9:
        return None
    exponent = math.floor(math.log10(top))
    return int(min(8, max(0, significant - 1 - exponent)))


def fmt_fixed(value: Any, places: int | None) -> str:
    """A number with ``places`` decimals, or 4 significant digits when ``places`` is None.

    Examples
    --------
    >>> fmt_fixed(1.23456, 2), fmt_fixed(1.5e-7, None), fmt_fixed(float("nan"), 2)
    ('1.23', '1.500e-07', '-')
    """
    if value is None:
        return "-"
    value = float(value)
    if not math.isfinite(value):
        return "-" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if places is None:
        return "0" if value == 0 else f"{value:.3e}"
    text = f"{value:.{places}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text


def fmt_num(value: Any, significant: int = 4) -> str:
    """One number with about ``significant`` digits.

    Examples
    --------
    >>> fmt_num(0.123456), fmt_num(-91.2345), fmt_num(3e-15), fmt_num(12345678.0)
    ('0.1235', '-91.23', '3.000e-15', '12345678')
    """
    return fmt_fixed(value, decimals([value], significant))


def fmt_count(value: Any) -> str:
    """A count with thousands separators; non-integer weights with 4 significant digits.

    Examples
    --------
    >>> fmt_count(1234567), fmt_count(100.0), fmt_count(2.5)
    ('1,234,567', '100', '2.5')
    """
    value = float(value)
    if math.isfinite(value) and value.is_integer():
        return f"{int(value):,}"
    return f"{value:.4g}"


def fmt_interval(low: Any, high: Any, places: int | None) -> str:
    """``[low, high]`` with the given decimals.

    Examples
    --------
    >>> fmt_interval(-1.15, -0.913, 3)
    '[-1.150, -0.913]'
    """
    return f"[{fmt_fixed(low, places)}, {fmt_fixed(high, places)}]"


def render_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    align: str | None = None,
    indent: int = 2,
    gap: int = 2,
) -> str:
    """An aligned plain-text table.

    Text cells are left-aligned and numbers right-aligned, unless ``align``
    gives one letter per column (``"l"`` or ``"r"``). Integers get thousands
    separators; the floats of a column share their number of decimals.

    Examples
    --------
    >>> print(render_table(["x", "p"], [["a", 0.5], ["b", 0.25]]))
      x       p
      a  0.5000
      b  0.2500
    """
    n_cols = len(header)
    columns: list[list[str]] = [[] for _ in range(n_cols)]
    numeric = [False] * n_cols
    for j in range(n_cols):
        cells = [row[j] for row in rows]
        floats = [float(c) for c in cells if _is_number(c) and not isinstance(c, int | np.integer)]
        places = decimals(floats) if floats else 0
        for cell in cells:
            if isinstance(cell, int | np.integer) and not isinstance(cell, bool | np.bool_):
                columns[j].append(f"{int(cell):,}")
                numeric[j] = True
            elif _is_number(cell):
                columns[j].append(fmt_fixed(cell, places))
                numeric[j] = True
            else:
                columns[j].append("-" if cell is None else str(cell))
    widths = [max([len(str(header[j]))] + [len(c) for c in columns[j]]) for j in range(n_cols)]
    how = align or "".join("r" if numeric[j] else "l" for j in range(n_cols))

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if a == "r" else c.ljust(w)
            for c, w, a in zip(cells, widths, how, strict=True)
        ]
        return (" " * indent + (" " * gap).join(parts)).rstrip()

    out = [line([str(h) for h in header])]
    out += [line([columns[j][i] for j in range(n_cols)]) for i in range(len(rows))]
    return "\n".join(out)


def side_by_side(blocks: Sequence[str], gap: int = 4) -> str:
    """Put several blocks of lines next to each other.

    Examples
    --------
    >>> print(side_by_side(["a\\nbb", "c"]))
    a     c
    bb
    """
    split = [b.split("\n") for b in blocks]
    widths = [max(len(x) for x in lines) for lines in split]
    height = max(len(lines) for lines in split)
    out = []
    for i in range(height):
        parts = [
            (lines[i] if i < len(lines) else "").ljust(w)
            for lines, w in zip(split, widths, strict=True)
        ]
        out.append((" " * gap).join(parts).rstrip())
    return "\n".join(out)


def wrap(text: str, width: int = 78, indent: int = 2) -> str:
    """Wrap a paragraph to ``width`` columns, indented.

    Examples
    --------
    >>> print(wrap("one two three", width=9, indent=1))
     one two
     three
    """
    import textwrap

    pad = " " * indent
    return textwrap.fill(text, width=width, initial_indent=pad, subsequent_indent=pad)


def estimate_rows(gaussian: Any, level: float = 0.95) -> dict[str, Any]:
    """Means and variances of a Gaussian with standard errors and intervals, per feature.

    Parameters
    ----------
    gaussian : Gaussian
        With its sample size ``n`` (as :func:`gaussmle.fit` makes it).
    level : float
        Confidence level of the intervals.

    Returns
    -------
    dict
        Lists (one entry per feature) ``mean``, ``mean_se``, ``mean_ci``,
        ``variance``, ``variance_se``, ``variance_ci``; intervals are
        ``(low, high)`` pairs, NaN where they cannot be computed (``n <= 1``).

    Examples
    --------
    >>> import gaussmle
    >>> r = estimate_rows(gaussmle.fit([[1.0], [2.0], [3.0], [4.0]]))
    >>> r["mean"], r["variance"], [round(v, 4) for v in r["mean_ci"][0]]
    ([2.5], [1.25], [0.4457, 4.5543])
    """
    d = gaussian.n_features
    nan = float("nan")
    variance = gaussian.variance
    try:
        se = gaussian.standard_errors()
        mean_se = np.asarray(se["mean"], dtype=float)
        cov_se = np.asarray(se["covariance"], dtype=float)
        var_se = _diagonal(cov_se, d)
    except ValueError:
        mean_se = np.full(d, nan)
        var_se = np.full(d, nan)
    try:
        ci = gaussian.confidence_intervals(level)
        mean_ci = np.asarray(ci["mean"], dtype=float)
        cov_ci = np.asarray(ci["covariance"], dtype=float)
        if cov_ci.ndim == 3:  # a matrix of intervals (full): its diagonal
            var_ci = np.stack([cov_ci[j, j] for j in range(d)])
        else:
            var_ci = np.broadcast_to(cov_ci, (d, 2))
    except ValueError:
        mean_ci = np.full((d, 2), nan)
        var_ci = np.full((d, 2), nan)
    return {
        "mean": [float(v) for v in gaussian.mean],
        "mean_se": [float(v) for v in mean_se],
        "mean_ci": [(float(a), float(b)) for a, b in mean_ci],
        "variance": [float(v) for v in variance],
        "variance_se": [float(v) for v in var_se],
        "variance_ci": [(float(a), float(b)) for a, b in var_ci],
    }


def _diagonal(values: np.ndarray, d: int) -> np.ndarray:
    """The d per-feature values of a matrix (its diagonal), a vector or a scalar."""
    if values.ndim == 2:
        return np.diagonal(values).copy()
    return np.broadcast_to(values, (d,)).copy()


def estimate_cells(rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Table cells (mean, SE, interval, variance, SE, interval) for many estimate dicts.

    Each dict has the scalar fields of one feature (as :func:`estimate_rows`
    makes them, one entry each). Each quantity is shown to the precision of
    its standard error (2 significant digits of the SE), the usual way to
    report an estimate; without a standard error, with 4 significant digits.

    Examples
    --------
    >>> cells = estimate_cells([{"mean": 1.0, "mean_se": 0.06, "mean_ci": (0.88, 1.12),
    ...                          "variance": 0.36, "variance_se": 0.05,
    ...                          "variance_ci": (0.28, 0.48)}])
    >>> cells[0]
    ['1.000', '0.060', '[0.880, 1.120]', '0.360', '0.050', '[0.280, 0.480]']
    """
    out: list[list[str]] = []
    for r in rows:
        cells: list[str] = []
        for key in ("mean", "variance"):
            value, se = r[key], r[f"{key}_se"]
            se_places = decimals([se], 2) if np.isfinite(se) and se > 0 else None
            value_places = se_places if se_places is not None else decimals([value], 4)
            low, high = r[f"{key}_ci"]
            finite = np.isfinite(low) and np.isfinite(high)
            cells += [
                fmt_fixed(value, value_places),
                fmt_fixed(se, se_places),
                fmt_interval(low, high, value_places) if finite else "-",
            ]
        out.append(cells)
    return out


def jsonable(value: Any) -> Any:
    """Plain JSON-ready Python objects: numpy scalars and arrays converted, NaN/inf to None.

    Examples
    --------
    >>> jsonable({"a": np.float64(1.5), "b": np.array([1, 2]), "c": float("nan")})
    {'a': 1.5, 'b': [1, 2], 'c': None}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(value: Any) -> str:
    """Indented JSON text of ``value`` (see :func:`jsonable`)."""
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False)
