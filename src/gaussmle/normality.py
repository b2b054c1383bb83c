"""Tests of multivariate normality from the rows: Mardia and Henze-Zirkler.

Unlike the tests of :mod:`gaussmle.inference`, which need only a model's
sufficient statistics, these need the rows themselves. They whiten the data
once with the Cholesky factor of its MLE covariance and sum over pairs of
rows block by block (:data:`BLOCK_ROWS` rows a side), so the n x n matrix of
distances never exists. :func:`normality_rows` runs both on each class of a
model (complete rows only, at most :data:`NORMALITY_MAX_ROWS` per class) for
:func:`gaussmle.inference.model_tests`, which re-exports this module's tests.

Examples
--------
>>> X = np.random.default_rng(3).exponential(size=(150, 2))
>>> r = mardia(X)
>>> r.skewness.method, bool(r.skewness.pvalue < 1e-6)
('Mardia skewness', True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._inference_common import MultivariateResult, TestResult, TestRow, attempt, scatter_factor
from ._validation import as_float_array
from .gaussian import Gaussian
from .stats import GaussianStats

__all__ = ["MardiaResult", "henze_zirkler", "mardia", "normality_rows"]

#: Rows per block when summing over pairs of rows (a block pair is BLOCK x BLOCK floats).
BLOCK_ROWS = 1024
#: model_tests runs the normality tests (n^2 pair sums) on at most this many rows per class,
#: a fixed random sample of larger classes (the group then says so).
NORMALITY_MAX_ROWS = 2000


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class MardiaResult:
    """Mardia's tests: multivariate skewness (chi-square) and kurtosis (normal)."""

    skewness: MultivariateResult
    kurtosis: MultivariateResult

    def results(self) -> tuple[MultivariateResult, ...]:
        """Both tests."""
        return (self.skewness, self.kurtosis)


# ---------------------------------------------------------------------- the tests
def _whitened(X: Any, what: str) -> np.ndarray:
    """Rows of X whitened by their own mean and MLE covariance (divisor n)."""
    X = as_float_array(X)
    n, p = X.shape
    if n < 3 or p < 1:
        raise ValueError(f"{what} needs at least 3 rows; got {n}")
    s = GaussianStats.from_data(X, kind="full")
    factor = scatter_factor(s.m2 / n, "the data")
    from .covariance import whiten

    return whiten(X, s.mean, factor)


def _blocks(n: int) -> Iterator[slice]:
    size = BLOCK_ROWS  # read at call time (tests shrink it)
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def _pair_sum(Z: np.ndarray, term: Callable[[np.ndarray], np.ndarray]) -> float:
    """``sum_{j,k} term(z_j . z_k)`` over all ordered pairs, block by block."""
    total = 0.0
    for a in _blocks(Z.shape[0]):
        for b in _blocks(Z.shape[0]):
            total += float(term(Z[a] @ Z[b].T).sum())
    return total


def mardia(X: Any) -> MardiaResult:
    """Mardia's tests of multivariate normality: skewness and kurtosis.

    With ``g_jk = (x_j - m)' S^-1 (x_k - m)`` (``S`` the MLE covariance):
    skewness ``b1 = sum g_jk^3 / n^2``, ``n b1 / 6`` against chi-square on
    ``p (p + 1) (p + 2) / 6`` degrees of freedom; kurtosis
    ``b2 = sum g_jj^2 / n``, ``(b2 - p (p + 2)) / sqrt(8 p (p + 2) / n)``
    against the standard normal (two-sided). The pairs are summed block by
    block. ``value`` holds ``b1`` and ``b2``.

    Examples
    --------
    >>> X = np.random.default_rng(1).normal(size=(200, 2))
    >>> r = mardia(X)
    >>> r.skewness.df, round(r.skewness.value, 4), round(r.kurtosis.value, 4)
    (4.0, 0.0395, 9.5721)
    """
    from scipy import stats as sps

    Z = _whitened(X, "Mardia's test")
    n, p = Z.shape
    b1 = _pair_sum(Z, lambda g: g**3) / (n * n)
    sq = np.einsum("ij,ij->i", Z, Z)
    b2 = float(np.mean(sq * sq))
    df = p * (p + 1) * (p + 2) / 6
    skew = n * b1 / 6
    z = (b2 - p * (p + 2)) / np.sqrt(8 * p * (p + 2) / n)
    return MardiaResult(
        skewness=MultivariateResult(
            float(skew), float(sps.chi2.sf(skew, df)), float(df), "Mardia skewness",
            "chi-square (asymptotic)", float(b1),
        ),
        kurtosis=MultivariateResult(
            float(z), float(2 * sps.norm.sf(abs(z))), None, "Mardia kurtosis",
            "normal (asymptotic, two-sided)", b2,
        ),
    )  # fmt: skip


def henze_zirkler(X: Any) -> TestResult:
    """The Henze-Zirkler test of multivariate normality.

    ``HZ = n [ (1/n^2) sum_jk exp(-b^2 D_jk / 2)
    - 2 (1 + b^2)^(-p/2) (1/n) sum_j exp(-b^2 D_j / (2 (1 + b^2)))
    + (1 + 2 b^2)^(-p/2) ]`` with ``D_jk`` the squared Mahalanobis distance
    between rows j and k, ``D_j`` that of row j to the mean (MLE covariance)
    and ``b`` the usual smoothing parameter; the p-value comes from the
    log-normal approximation of Henze and Zirkler (1990). The pair sum runs
    block by block on the whitened rows. Equals pingouin's
    ``multivariate_normality`` (whose singular-covariance case, HZ = 4n, is
    kept).

    Examples
    --------
    >>> X = np.random.default_rng(1).normal(size=(200, 2))
    >>> r = henze_zirkler(X)
    >>> r.method, bool(r.pvalue > 0.01)
    ('Henze-Zirkler', True)
    """
    from scipy import stats as sps

    X = as_float_array(X)
    n, p = X.shape
    b2 = ((2 * p + 1) / 4) ** (2 / (p + 4)) * n ** (2 / (p + 4)) / 2  # b squared
    try:
        Z = _whitened(X, "the Henze-Zirkler test")
    except ValueError:
        if n < 3:
            raise
        hz = 4.0 * n  # singular covariance: the convention of MVN and pingouin
    else:
        sq = np.einsum("ij,ij->i", Z, Z)
        pairs = 0.0
        for a in _blocks(n):
            for b in _blocks(n):
                dist = sq[a, None] + sq[None, b] - 2.0 * (Z[a] @ Z[b].T)
                pairs += float(np.exp(-b2 / 2 * dist).sum())
        centre = float(np.exp(-b2 / (2 * (1 + b2)) * sq).sum())
        hz = n * (pairs / n**2 - 2 * (1 + b2) ** (-p / 2) * centre / n + (1 + 2 * b2) ** (-p / 2))
    mu, si2 = _hz_moments(b2, p)
    pmu = np.log(np.sqrt(mu**4 / (si2 + mu**2)))
    psi = np.sqrt(np.log1p(si2 / mu**2))
    return TestResult(
        statistic=float(hz),
        pvalue=float(sps.lognorm.sf(hz, psi, scale=np.exp(pmu))),
        df=None,
        method="Henze-Zirkler",
        approximation="log-normal (Henze and Zirkler 1990)",
    )


def _hz_moments(b2: float, p: int) -> tuple[float, float]:
    """Mean and variance of HZ under normality (b2 = b squared)."""
    b4, b8 = b2 * b2, b2**4
    a = 1 + 2 * b2
    wb = (1 + b2) * (1 + 3 * b2)
    mu = 1 - a ** (-p / 2) * (1 + p * b2 / a + p * (p + 2) * b4 / (2 * a * a))
    si2 = (
        2 * (1 + 4 * b2) ** (-p / 2)
        + 2 * a ** (-p) * (1 + 2 * p * b4 / a**2 + 3 * p * (p + 2) * b8 / (4 * a**4))
        - 4 * wb ** (-p / 2) * (1 + 3 * p * b4 / (2 * wb) + p * (p + 2) * b8 / (2 * wb**2))
    )
    return float(mu), float(si2)


# ---------------------------------------------------------------------- per class of a model
def normality_rows(model: Any, X: Any, y: Any) -> list[TestRow]:
    """Mardia and Henze-Zirkler on each class of a model (or a Gaussian's data), as rows.

    Each class's complete rows (without NaN), at most :data:`NORMALITY_MAX_ROWS`
    of them (a fixed random sample of a larger class); the group's name says
    when rows were left out. A test that cannot run gives a row with the
    reason. Labels ``y`` are needed for a classifier, not for a Gaussian.

    Examples
    --------
    >>> import gaussmle
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> X[0, 1] = np.nan
    >>> rows = normality_rows(gaussmle.fit(X[1:]), X, None)
    >>> [(r.test, r.group) for r in rows]
    [('Mardia skewness', 'the Gaussian (49 complete rows of 50)'),
     ('Mardia kurtosis', 'the Gaussian (49 complete rows of 50)'),
     ('Henze-Zirkler', 'the Gaussian (49 complete rows of 50)')]
    """
    X = as_float_array(X, finite=False)
    if isinstance(model, Gaussian):
        groups = [("the Gaussian", X)]
    else:
        if y is None:
            raise ValueError("the per-class normality tests need the labels y with X")
        y = np.asarray(y)
        groups = [(f"class {str(c)!r}", X[y == c]) for c in model.classes_ if np.any(y == c)]
    rows: list[TestRow] = []
    for name, part in groups:
        name, part = _complete_rows(name, part)
        name, part = _at_most(name, part, NORMALITY_MAX_ROWS)
        rows += attempt("Mardia", name, lambda part=part: mardia(part))
        rows += attempt("Henze-Zirkler", name, lambda part=part: henze_zirkler(part))
    return rows


def _at_most(name: str, X: np.ndarray, limit: int) -> tuple[str, np.ndarray]:
    """At most ``limit`` rows of X (a fixed random sample; the pair sums grow as n^2)."""
    if X.shape[0] <= limit:
        return name, X
    pick = np.sort(np.random.default_rng(0).choice(X.shape[0], limit, replace=False))
    return f"{name} ({limit:,} of {X.shape[0]:,} rows)", X[pick]


def _complete_rows(name: str, X: np.ndarray) -> tuple[str, np.ndarray]:
    """The rows without missing values (NaN), saying so when some were left out."""
    complete = ~np.isnan(X).any(axis=1)
    if complete.all():
        return name, X
    return f"{name} ({int(complete.sum()):,} complete rows of {X.shape[0]:,})", X[complete]
