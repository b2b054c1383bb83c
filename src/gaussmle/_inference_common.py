"""What both rooms of the hypothesis tests share: results, table rows, a scatter's factor.

:mod:`gaussmle.inference` (tests from sufficient statistics) and
:mod:`gaussmle.normality` (tests from rows) return the same small frozen
results (:class:`TestResult`, :class:`MultivariateResult`), give a model's
table the same :class:`TestRow` (:func:`attempt` turns a test that cannot run
into a row with the reason), and refuse a singular scatter matrix with the
same sentence (:func:`scatter_factor`). Both import this module; it imports
neither.

Examples
--------
>>> rows = attempt("Box's M", "all classes", lambda: TestResult(1.5, 0.25, 2.0, "M", "F"))
>>> [(r.test, r.group, r.result.pvalue, r.note) for r in rows]
[("Box's M", 'all classes', 0.25, None)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "MultivariateResult",
    "TestResult",
    "TestRow",
    "attempt",
    "scatter_factor",
    "singular_scatter",
]


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class TestResult:
    """The outcome of one hypothesis test.

    Attributes
    ----------
    statistic : float
        The test statistic the p-value refers to.
    pvalue : float
    df : float, tuple of float or None
        Degrees of freedom of the reference distribution (two for an F law,
        None for a law without them).
    method : str
        The test, e.g. ``"Box's M"``.
    approximation : str
        The reference distribution behind the p-value, e.g. ``"chi-square (Box)"``.
    """

    __test__ = False  # not a pytest test class

    statistic: float
    pvalue: float
    df: float | tuple[float, float] | None
    method: str
    approximation: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class MultivariateResult(TestResult):
    """One MANOVA criterion: ``value`` is the criterion, ``statistic`` its F approximation."""

    value: float


# ---------------------------------------------------------------------- rows of a table
@dataclass(frozen=True)
class TestRow:
    """One line of a model's tests: the test, what it is about, and its result or why not."""

    __test__ = False  # not a pytest test class

    test: str
    group: str
    result: TestResult | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values: the test, the group and the result's fields (or the note)."""
        out: dict[str, Any] = {"test": self.test, "group": self.group, "note": self.note}
        if self.result is not None:
            out.update(self.result.to_dict())
        return out


def attempt(test: str, group: str, run: Callable[[], Any]) -> list[TestRow]:
    """Rows of one test: its result(s), or a row with the reason it could not run."""
    try:
        value = run()
    except ValueError as exc:
        return [TestRow(test, group, None, str(exc))]
    if isinstance(value, TestResult):
        return [TestRow(test, group, value)]
    return [TestRow(r.method, group, r) for r in value.results()]


# ---------------------------------------------------------------------- scatter matrices
def _cholesky(matrix: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factor, or None when the matrix is singular up to rounding."""
    try:
        factor = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return None
    tiny = matrix.shape[-1] * np.finfo(np.float64).eps * float(np.diagonal(matrix).max())
    return factor if np.diagonal(factor).min() ** 2 > tiny else None


def scatter_factor(matrix: np.ndarray, who: str) -> np.ndarray:
    """The lower Cholesky factor of a scatter matrix; a singular one is refused naming ``who``.

    Examples
    --------
    >>> scatter_factor(np.array([[4.0, 2.0], [2.0, 2.0]]), "class 'a'").tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    >>> scatter_factor(np.ones((2, 2)), "class 'a'")
    Traceback (most recent call last):
    ...
    ValueError: the scatter matrix of class 'a' is singular (fewer rows than features, or
    constant or collinear features); drop redundant features or add rows
    """
    factor = _cholesky(matrix)
    if factor is None:
        raise ValueError(singular_scatter(who))
    return factor


def singular_scatter(who: str) -> str:
    """The sentence that refuses the singular scatter matrix of ``who``."""
    return (
        f"the scatter matrix of {who} is singular (fewer rows than features, or constant "
        "or collinear features); drop redundant features or add rows"
    )
