"""Hypothesis tests from sufficient statistics: Box's M, Hotelling, MANOVA, LR tests, normality.

Box's M, Hotelling's T^2, one-way MANOVA and the likelihood-ratio tests of
nested covariance structures need only each class's weight, mean and scatter
matrix, which every fitted :class:`~gaussmle.GaussianClassifier` keeps
(``class_stats_``). So they work on data of any size, on models fitted with
Dask or merged from many machines, and on a saved model without its data.
Every determinant is a log-determinant from a Cholesky factor (never a
product of determinants, which overflows: pingouin's ``box_m`` returns
chi^2 = inf at d = 150). Mardia's and Henze-Zirkler's normality tests need
the rows themselves; they whiten the data once with the Cholesky factor of
its covariance and sum over pairs of rows block by block, so the n x n matrix
of distances never exists.

Each test returns a small frozen result with scipy's names (``statistic``,
``pvalue``, ``df``) plus ``method`` and the ``approximation`` behind the
p-value. With sample weights the class sizes are the sums of the weights
(frequency weights: a weight of 2 counts a row twice).

Examples
--------
>>> import numpy as np
>>> from gaussmle import GaussianClassifier
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(0, 1, (40, 2)), rng.normal(0, 3, (40, 2))])
>>> y = np.repeat(["a", "b"], 40)
>>> result = box_m(GaussianClassifier(covariance_type="full").fit(X, y))
>>> result.method, result.df, bool(result.pvalue < 1e-6)
("Box's M", 3.0, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._validation import as_float_array
from .covariance import Structure, structure_for
from .gaussian import Gaussian
from .stats import GaussianStats

__all__ = [
    "BoxMResult",
    "HotellingResult",
    "ManovaResult",
    "MardiaResult",
    "MultivariateResult",
    "StructureTest",
    "TestResult",
    "TestRow",
    "box_m",
    "class_statistics",
    "covariance_structure_tests",
    "henze_zirkler",
    "hotelling",
    "manova",
    "mardia",
    "model_tests",
]

#: Rows per block when summing over pairs of rows (a block pair is BLOCK x BLOCK floats).
BLOCK_ROWS = 1024
#: model_tests runs the normality tests (n^2 pair sums) on at most this many rows per class,
#: a fixed random sample of larger classes (the group then says so).
NORMALITY_MAX_ROWS = 2000


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
class BoxMResult(TestResult):
    """Box's M test: ``statistic`` is Box's chi-square; the F approximation rides along.

    ``m`` is the uncorrected statistic
    ``(N - k) log|S_pooled| - sum (n_i - 1) log|S_i|``.
    """

    f_statistic: float
    f_pvalue: float
    f_df: tuple[float, float]
    m: float


@dataclass(frozen=True)
class HotellingResult(TestResult):
    """Hotelling's test: ``statistic`` is the F value (as in statsmodels), ``t2`` is T^2."""

    t2: float


@dataclass(frozen=True)
class MultivariateResult(TestResult):
    """One MANOVA criterion: ``value`` is the criterion, ``statistic`` its F approximation."""

    value: float


@dataclass(frozen=True)
class StructureTest(TestResult):
    """A likelihood-ratio test of a covariance structure against a richer one.

    ``statistic`` is ``2 (LL_alternative - LL_null)`` at the maximum likelihood
    estimates (divisor N), referred to a chi-square law.
    """

    group: str
    null: str
    alternative: str


@dataclass(frozen=True)
class ManovaResult:
    """One-way MANOVA of the class means: the four classical criteria."""

    wilks: MultivariateResult
    pillai: MultivariateResult
    hotelling_lawley: MultivariateResult
    roy: MultivariateResult

    def results(self) -> tuple[MultivariateResult, ...]:
        """The four criteria in the usual order."""
        return (self.wilks, self.pillai, self.hotelling_lawley, self.roy)


@dataclass(frozen=True)
class MardiaResult:
    """Mardia's tests: multivariate skewness (chi-square) and kurtosis (normal)."""

    skewness: MultivariateResult
    kurtosis: MultivariateResult

    def results(self) -> tuple[MultivariateResult, ...]:
        """Both tests."""
        return (self.skewness, self.kurtosis)


# ---------------------------------------------------------------------- statistics
def class_statistics(model: Any) -> tuple[GaussianStats, list[str]]:
    """The per-class sufficient statistics of a fitted model, and a name for each class.

    The one place this module reads a model: a classifier's public
    ``class_stats_`` and ``classes_`` (names ``"class 'a'"``), a
    :class:`GaussianStats` batch (``"group 0"``, ...) or a fitted
    :class:`~gaussmle.Gaussian` (one group, its ``n`` rows with the MLE
    scatter ``n Sigma``). Classes without data are left out.

    Examples
    --------
    >>> s = GaussianStats.from_groups([[0.0], [1.0], [5.0]], [0, 0, 2], 3)
    >>> stats, names = class_statistics(s)
    >>> stats.count.tolist(), names
    ([2.0, 1.0], ['group 0', 'group 2'])
    """
    if isinstance(model, Gaussian):
        return _gaussian_statistics(model), ["the Gaussian"]
    if isinstance(model, GaussianStats):
        stats, names = model, [f"group {i}" for i in range(len(model))]
    else:
        stats = getattr(model, "class_stats_", None)
        if stats is None:
            raise ValueError(
                "the model is not fitted (it has no class statistics); fit it first or pass "
                "a GaussianStats batch"
            )
        names = [f"class {str(c)!r}" for c in model.classes_]
    if not stats.batch_shape:
        raise ValueError("these statistics hold one group; the tests compare classes")
    seen = np.flatnonzero(stats.count > 0)
    return stats[seen], [names[i] for i in seen]


def _gaussian_statistics(g: Gaussian) -> GaussianStats:
    """A fitted Gaussian as a batch of one group: n rows, its mean, scatter n Sigma."""
    if not np.isfinite(g.n) or g.n <= 0:
        raise ValueError("this Gaussian does not know its sample size; make it with gaussmle.fit")
    structure = structure_for(g.covariance_type)
    if structure.one_variance:
        raise ValueError(
            "a spherical Gaussian keeps one variance for all features, so its structure "
            "cannot be tested; fit it with covariance_type='diag' or 'full'"
        )
    m2 = g.n * structure.single_m2(g.covariance, g.n_features)
    return GaussianStats(np.array([g.n]), g.mean[None, :], m2[None, ...], structure.stats_kind)


def _algebra(d: int) -> Any:
    """One BLAS thread for small matrices (threads spun up for d x d work only slow it)."""
    from contextlib import nullcontext

    from .kernels import _kernels

    return _kernels.one_blas_thread() if d <= _kernels.SMALL_ALGEBRA_FEATURES else nullcontext()


def _require_full(stats: GaussianStats, test: str) -> None:
    if stats.kind != "full":
        raise ValueError(
            f"{test} needs each class's full scatter matrix, which a diag or spherical model "
            "does not keep; refit with covariance_type='full' or 'tied' (same means and "
            "variances)"
        )


def _cholesky(matrix: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factor, or None when the matrix is singular up to rounding."""
    try:
        factor = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return None
    tiny = matrix.shape[-1] * np.finfo(np.float64).eps * float(np.diagonal(matrix).max())
    return factor if np.diagonal(factor).min() ** 2 > tiny else None


def _factor(matrix: np.ndarray, who: str) -> np.ndarray:
    factor = _cholesky(matrix)
    if factor is None:
        raise ValueError(_singular(who))
    return factor


def _singular(who: str) -> str:
    return (
        f"the scatter matrix of {who} is singular (fewer rows than features, or constant "
        "or collinear features); drop redundant features or add rows"
    )


def _logdet(matrix: np.ndarray, who: str) -> float:
    """log |A| of a symmetric positive definite matrix, from its Cholesky factor."""
    return float(2.0 * np.log(np.diagonal(_factor(matrix, who))).sum())


def _solve_lower(factor: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.linalg import solve_triangular

    return solve_triangular(factor, b, lower=True, check_finite=False)


def _within_scatter(stats: GaussianStats) -> np.ndarray:
    return stats.m2.sum(axis=0)


# ---------------------------------------------------------------------- Box's M
def box_m(model: Any) -> BoxMResult:
    """Box's M test that all classes share one covariance matrix (is LDA enough?).

    With ``S_i`` the unbiased covariance of class i (``n_i`` rows) and ``S``
    the pooled one, ``M = (N - k) log|S| - sum (n_i - 1) log|S_i|``. Box's
    chi-square ``(1 - c1) M`` has ``(k - 1) d (d + 1) / 2`` degrees of
    freedom; the F approximation is Box's too. All log-determinants come from
    Cholesky factors, so the test stays finite in high dimension. Equals
    statsmodels' ``test_cov_oneway``.

    Parameters
    ----------
    model : GaussianClassifier (covariance_type "full" or "tied") or GaussianStats
        Per-class statistics with full scatter matrices.

    Returns
    -------
    BoxMResult

    Examples
    --------
    >>> s = GaussianStats.from_groups([[0.0], [2.0], [1.0], [5.0], [9.0], [4.0]],
    ...                               [0, 0, 0, 1, 1, 1], 2, kind="full")
    >>> r = box_m(s)
    >>> round(r.m, 6), r.df, round(r.pvalue, 4)
    (1.653357, 1.0, 0.2655)
    """
    from scipy import stats as sps

    stats, labels = class_statistics(model)
    _require_full(stats, "Box's M")
    k, d = len(labels), stats.n_features
    if k < 2:
        raise ValueError("Box's M compares classes; the model has fewer than two with data")
    n = stats.count
    if np.any(n <= 1):
        raise ValueError("Box's M needs at least two rows in every class")
    total = float(n.sum())
    with _algebra(d):
        logdet_pooled = _logdet(_within_scatter(stats), "all classes") - d * np.log(total - k)
        logdet_class = np.array([_logdet(stats.m2[i], labels[i]) for i in range(k)])
    logdet_class -= d * np.log(n - 1)
    m = float((total - k) * logdet_pooled - np.sum((n - 1) * logdet_class))
    c1 = (np.sum(1 / (n - 1)) - 1 / (total - k)) * (2 * d * d + 3 * d - 1)
    c1 /= 6 * (d + 1) * (k - 1)
    df = (k - 1) * d * (d + 1) / 2
    chi2 = (1 - c1) * m
    f_stat, f_df = _box_f(m, n, total, k, d, c1, df)
    return BoxMResult(
        statistic=float(chi2),
        pvalue=float(sps.chi2.sf(chi2, df)),
        df=float(df),
        method="Box's M",
        approximation="chi-square (Box)",
        f_statistic=float(f_stat),
        f_pvalue=float(sps.f.sf(f_stat, *f_df)),
        f_df=f_df,
        m=m,
    )


def _box_f(
    m: float, n: np.ndarray, total: float, k: int, d: int, c1: float, a1: float
) -> tuple[float, tuple[float, float]]:
    """Box's F approximation of M (as in statsmodels and Rencher 2012, section 7.3.2)."""
    c2 = (np.sum(1 / (n - 1) ** 2) - 1 / (total - k) ** 2) * (d - 1) * (d + 2) / (6 * (k - 1))
    a2 = (a1 + 2) / abs(c2 - c1**2)
    if c2 > c1**2:
        stat = (1 - c1 - a1 / a2) / a1 * m
    else:
        tmp = (1 - c1 + 2 / a2) / a2 * m
        stat = a2 / a1 * tmp / (1 + tmp)
    return float(stat), (float(a1), float(a2))


# ---------------------------------------------------------------------- Hotelling
def _sample_stats(x: Any, name: str) -> GaussianStats:
    """Full statistics of a sample: rows of an array, or a fitted Gaussian's (n, mean, n Sigma)."""
    if isinstance(x, Gaussian):
        if structure_for(x.covariance_type).independent_features:  # not full
            raise ValueError(
                f"{name} is a {x.covariance_type!r} Gaussian; Hotelling's test needs the full "
                "covariance: fit it with covariance_type='full'"
            )
        return _gaussian_statistics(x)[0]
    X = as_float_array(x)
    return GaussianStats.from_data(X, kind="full")


def hotelling(x: Any, y: Any = None, mean: Any = None) -> HotellingResult:
    """Hotelling's T^2 test of a mean (one sample) or of two means (two samples).

    One sample: H0 ``E[x] = mean`` (default zeros), ``T^2 = n d' S^-1 d``
    with ``S`` the unbiased covariance, ``F = T^2 (n - p) / ((n - 1) p)`` on
    ``(p, n - p)`` degrees of freedom. Two samples: H0 equal means, pooled
    covariance, ``F`` on ``(p, n1 + n2 - 1 - p)``. Matches statsmodels'
    ``test_mvmean`` and ``test_mvmean_2indep``.

    Parameters
    ----------
    x, y : array-like (n, p) or a fitted full :class:`~gaussmle.Gaussian`
        A fitted Gaussian stands for its data: ``n`` rows with that mean and
        MLE covariance.
    mean : array-like (p,), optional
        The hypothesised mean of the one-sample test.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 4.0], [4.0, 4.5]])
    >>> r = hotelling(X, mean=[2.0, 2.0])
    >>> round(r.t2, 6), round(r.statistic, 6), r.df
    (1.149533, 0.383178, (2.0, 2.0))
    """

    sx = _sample_stats(x, "x")
    p = sx.n_features
    if y is not None:
        if mean is not None:
            raise ValueError("pass y (two samples) or mean (one sample), not both")
        sy = _sample_stats(y, "y")
        if sy.n_features != p:
            raise ValueError(f"x has {p} features but y has {sy.n_features}; they must match")
        t2, df2, scale = _two_sample_t2(sx, sy)
        method = "Hotelling's two-sample T^2"
    else:
        mu0 = np.zeros(p) if mean is None else np.asarray(mean, dtype=np.float64).reshape(-1)
        if mu0.shape != (p,):
            raise ValueError(f"mean has {mu0.size} values but the data have {p} features")
        t2, df2, scale = _one_sample_t2(sx, mu0)
        method = "Hotelling's one-sample T^2"
    return _hotelling_result(t2, df2, scale, p, method)


def _hotelling_result(t2: float, df2: float, scale: float, p: int, method: str) -> HotellingResult:
    from scipy import stats as sps

    if df2 <= 0:
        raise ValueError(f"Hotelling's test needs more rows than features ({p}); add rows")
    f_stat = t2 / scale
    return HotellingResult(
        statistic=float(f_stat),
        pvalue=float(sps.f.sf(f_stat, p, df2)),
        df=(float(p), float(df2)),
        method=method,
        approximation="F (exact under normality)",
        t2=float(t2),
    )


def _quadratic(scatter: np.ndarray, diff: np.ndarray, who: str) -> float:
    """``diff' scatter^-1 diff`` through the Cholesky factor of the scatter."""
    with _algebra(diff.shape[0]):
        z = _solve_lower(_factor(scatter, who), diff)
    return float(z @ z)


def _one_sample_t2(s: GaussianStats, mu0: np.ndarray) -> tuple[float, float, float]:
    n, p = float(s.count), s.n_features
    diff = (s.mean - mu0) + s.lo
    t2 = n * (n - 1) * _quadratic(s.m2, diff, "x")
    return t2, n - p, (n - 1) * p / (n - p)


def _two_sample_t2(a: GaussianStats, b: GaussianStats) -> tuple[float, float, float]:
    na, nb, p = float(a.count), float(b.count), a.n_features
    total = na + nb
    diff = (a.mean - b.mean) + (a.lo - b.lo)
    t2 = na * nb / total * (total - 2) * _quadratic(a.m2 + b.m2, diff, "the pooled samples")
    return t2, total - 1 - p, (total - 2) * p / (total - 1 - p)


# ---------------------------------------------------------------------- MANOVA
def manova(model: Any) -> ManovaResult:
    """One-way MANOVA: do the class means differ? Wilks, Pillai, Hotelling-Lawley, Roy.

    With ``W`` the within-class and ``B`` the between-class scatter, the
    eigenvalues ``l`` of ``W^-1 B`` (from the Cholesky factor of ``W``) give
    Wilks' lambda ``prod 1 / (1 + l)`` (summed in log space), Pillai's trace
    ``sum l / (1 + l)``, the Hotelling-Lawley trace ``sum l`` and Roy's
    greatest root ``max l``, each with the F approximation statsmodels'
    ``MANOVA`` uses (SAS's).

    Examples
    --------
    >>> s = GaussianStats.from_groups([[0.0, 1.0], [1.0, 0.0], [1.0, 2.0], [3.0, 3.0],
    ...                                [4.0, 5.0], [5.0, 3.0]], [0, 0, 0, 1, 1, 1], 2,
    ...                               kind="full")
    >>> r = manova(s)
    >>> round(r.wilks.value, 6), r.wilks.df, round(r.pillai.value, 6)
    (0.104869, (2.0, 3.0), 0.895131)
    """
    stats, labels = class_statistics(model)
    _require_full(stats, "MANOVA")
    k, p = len(labels), stats.n_features
    if k < 2:
        raise ValueError("MANOVA compares classes; the model has fewer than two with data")
    within = _within_scatter(stats)
    between = stats.pooled().m2 - within
    with _algebra(p):
        factor = _factor(within, "the within-class scatter")
        half = _solve_lower(factor, between)
        roots = np.linalg.eigvalsh(_solve_lower(factor, half.T))
    roots = np.clip(roots, 0.0, None)[::-1][: min(p, k - 1)]
    dof = _ManovaDof(p=p, q=k - 1, v=float(stats.count.sum()) - k)
    return ManovaResult(
        wilks=_wilks(roots, dof),
        pillai=_pillai(roots, dof),
        hotelling_lawley=_hotelling_lawley(roots, dof),
        roy=_roy(roots, dof),
    )


@dataclass(frozen=True)
class _ManovaDof:
    p: int  # response variables
    q: int  # hypothesis degrees of freedom (k - 1)
    v: float  # error degrees of freedom (N - k)

    @property
    def s(self) -> int:
        return min(self.p, self.q)

    @property
    def m(self) -> float:
        return (abs(self.p - self.q) - 1) / 2

    @property
    def n(self) -> float:
        return (self.v - self.p - 1) / 2


def _criterion(
    name: str, value: float, f: float, df1: float, df2: float, approximation: str = "F"
) -> MultivariateResult:
    from scipy import stats as sps

    return MultivariateResult(
        statistic=float(f),
        pvalue=float(sps.f.sf(f, df1, df2)),
        df=(float(df1), float(df2)),
        method=name,
        approximation=approximation,
        value=float(value),
    )


def _wilks(roots: np.ndarray, dof: _ManovaDof) -> MultivariateResult:
    p, q = dof.p, dof.q
    log_lambda = -float(np.log1p(roots).sum())
    t = np.sqrt((p * p * q * q - 4) / (p * p + q * q - 5)) if p * p + q * q - 5 > 0 else 1.0
    df1 = p * q
    df2 = (dof.v - (p - q + 1) / 2) * t - (p * q - 2) / 2
    root = np.exp(log_lambda / t)  # lambda^(1/t)
    f = -np.expm1(log_lambda / t) / root * df2 / df1
    return _criterion("Wilks' lambda", np.exp(log_lambda), f, df1, df2, "F (Rao)")


def _pillai(roots: np.ndarray, dof: _ManovaDof) -> MultivariateResult:
    s, m, n = dof.s, dof.m, dof.n
    value = float(np.sum(roots / (1 + roots)))
    df1, df2 = s * (2 * m + s + 1), s * (2 * n + s + 1)
    return _criterion("Pillai's trace", value, df2 / df1 * value / (s - value), df1, df2)


def _hotelling_lawley(roots: np.ndarray, dof: _ManovaDof) -> MultivariateResult:
    p, q, s, m, n = dof.p, dof.q, dof.s, dof.m, dof.n
    value = float(roots.sum())
    if n > 0:
        df1 = p * q
        if n == 1:  # b below is infinite; df2 is its limit
            df2 = 4.0
        else:
            b = (p + 2 * n) * (q + 2 * n) / 2 / (2 * n + 1) / (n - 1)
            df2 = 4 + (p * q + 2) / (b - 1)
        f = df2 / df1 * value / ((df2 - 2) / 2 / n)
    else:
        df1, df2 = s * (2 * m + s + 1), s * (s * n + 1)
        f = df2 / df1 / s * value
    return _criterion("Hotelling-Lawley trace", value, f, df1, df2)


def _roy(roots: np.ndarray, dof: _ManovaDof) -> MultivariateResult:
    value = float(roots.max())
    r = max(dof.p, dof.q)
    df2 = dof.v - r + dof.q
    return _criterion("Roy's greatest root", value, df2 / r * value, r, df2)


# ---------------------------------------------------------------------- structures
SPHERICAL, DIAG, FULL, TIED = (
    structure_for(name) for name in ("spherical", "diag", "full", "tied")
)
#: Nested pairs (null, alternative) tested within each class and on the pooled covariance.
NESTED = ((SPHERICAL, DIAG), (DIAG, FULL))


def _scatters(count: np.ndarray, m2: np.ndarray, kind: str) -> GaussianStats:
    """Groups of these weights and scatter: all a structure's MLE covariance reads.

    The means stay zero and per-feature counts out, so every variance is its
    group's M2 over the group's whole weight.
    """
    return GaussianStats(count, np.zeros(count.shape + (m2.shape[-1],)), m2, kind)


def _mle_logdet(structure: Structure, group: GaussianStats, who: str) -> float:
    """log |Sigma_hat| of one group (a batch of one) under ``structure``, asked of it.

    A covariance the structure cannot factor (a constant feature, a singular
    scatter matrix) is refused with one sentence naming ``who``.
    """
    covariance = structure.covariances(group)
    try:
        factor = structure.factor(covariance, [who])
    except ValueError:
        raise ValueError(_degenerate(structure, who)) from None
    return float(structure.log_det(structure.metric(covariance, factor), group.n_features)[0])


def _degenerate(structure: Structure, who: str) -> str:
    """Why the MLE covariance of ``who`` under ``structure`` has no log-determinant."""
    if structure.independent_features:
        return f"{who} has a constant feature (zero variance); drop it first"
    return _singular(who)


def _lr_test(group: str, null: Structure, alt: Structure, stats: GaussianStats) -> StructureTest:
    from scipy import stats as sps

    n, d = float(stats.count[0]), stats.n_features
    stat = max(0.0, n * (_mle_logdet(null, stats, group) - _mle_logdet(alt, stats, group)))
    df = alt.n_parameters(1, d) - null.n_parameters(1, d)
    return _structure_result(group, null.name, alt.name, stat, df, sps.chi2.sf(stat, df))


def _structure_result(
    group: str, null: str, alt: str, stat: float, df: float, pvalue: float
) -> StructureTest:
    return StructureTest(
        statistic=float(stat),
        pvalue=float(pvalue),
        df=float(df),
        method="likelihood ratio",
        approximation="chi-square (Wilks, asymptotic)",
        group=group,
        null=null,
        alternative=alt,
    )


def covariance_structure_tests(model: Any) -> list[StructureTest]:
    """Likelihood-ratio tests of nested covariance structures, per class and pooled.

    Per class, and for the pooled within-class covariance (the one LDA
    uses): spherical < diag and diag < full, then tied < full over all
    classes. Each statistic is ``2 (LL_alt - LL_null)`` at the MLEs, e.g.
    ``n (sum log s_jj - log|S|)`` for diag < full, with a chi-square
    reference on the difference in free parameters. The row ``"all
    classes"`` adds the per-class statistics and degrees of freedom (the
    test of the whole classifier's structure). A diag or spherical model keeps
    no cross-products, so only spherical < diag is tested there.

    Examples
    --------
    >>> s = GaussianStats.from_groups([[0.0, 0.0], [1.0, 3.0], [2.0, 1.0], [5.0, 9.0]],
    ...                               [0, 0, 1, 1], 2)
    >>> [(t.group, t.null, t.alternative, t.df) for t in covariance_structure_tests(s)]
    [('group 0', 'spherical', 'diag', 1.0), ('group 1', 'spherical', 'diag', 1.0), \
('all classes', 'spherical', 'diag', 2.0), ('pooled', 'spherical', 'diag', 1.0)]
    """

    stats, labels = class_statistics(model)
    with _algebra(stats.n_features):
        return _structure_tests(stats, labels)


def _structure_tests(stats: GaussianStats, labels: list[str]) -> list[StructureTest]:
    from scipy import stats as sps

    d = stats.n_features
    pairs = NESTED if stats.kind == "full" else NESTED[:1]
    groups = _scatters(stats.count, stats.m2, stats.kind)
    pooled = _scatters(stats.count.sum(keepdims=True), _within_scatter(stats)[None], stats.kind)
    out: list[StructureTest] = []
    for null, alt in pairs:
        if alt.n_parameters(1, d) == null.n_parameters(1, d):
            continue  # one feature: the structures coincide
        per_class = [
            _lr_test(label, null, alt, groups[i : i + 1]) for i, label in enumerate(labels)
        ]
        if len(labels) == 1:
            out += per_class
            continue
        stat = sum(t.statistic for t in per_class)
        df = sum(float(t.df) for t in per_class)  # type: ignore[arg-type]
        summed = _structure_result(
            "all classes", null.name, alt.name, stat, df, sps.chi2.sf(stat, df)
        )
        out += [*per_class, summed, _lr_test("pooled", null, alt, pooled)]
    if stats.kind == "full" and len(labels) > 1:
        out.append(_tied_test(groups, pooled, labels))
    return out


def _tied_test(groups: GaussianStats, pooled: GaussianStats, labels: list[str]) -> StructureTest:
    """tied < full: one covariance for all classes against one per class (MLE Box's M)."""
    from scipy import stats as sps

    d, k = groups.n_features, len(labels)
    total = float(pooled.count[0])
    each = [
        float(groups.count[i]) * _mle_logdet(FULL, groups[i : i + 1], c)
        for i, c in enumerate(labels)
    ]
    stat = max(0.0, total * _mle_logdet(FULL, pooled, "all classes") - sum(each))
    df = FULL.n_parameters(k, d) - TIED.n_parameters(k, d)
    return _structure_result("all classes", TIED.name, FULL.name, stat, df, sps.chi2.sf(stat, df))


# ---------------------------------------------------------------------- normality
def _whitened(X: Any, what: str) -> np.ndarray:
    """Rows of X whitened by their own mean and MLE covariance (divisor n)."""
    X = as_float_array(X)
    n, p = X.shape
    if n < 3 or p < 1:
        raise ValueError(f"{what} needs at least 3 rows; got {n}")
    s = GaussianStats.from_data(X, kind="full")
    factor = _factor(s.m2 / n, "the data")
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


# ---------------------------------------------------------------------- all at once
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


def _attempt(test: str, group: str, run: Callable[[], Any]) -> list[TestRow]:
    """Rows of one test: its result(s), or a row with the reason it could not run."""
    try:
        value = run()
    except ValueError as exc:
        return [TestRow(test, group, None, str(exc))]
    if isinstance(value, TestResult):
        return [TestRow(test, group, value)]
    return [TestRow(r.method, group, r) for r in value.results()]


def model_tests(model: Any, X: Any = None, y: Any = None) -> list[TestRow]:
    """Every test that applies to a fitted model, as rows (the CLI's and the summary's table).

    From the statistics: Box's M, MANOVA and (two classes) Hotelling's T^2
    for a classifier; the covariance-structure tests for any model. With
    data ``X`` (and labels ``y`` for a classifier): Mardia and Henze-Zirkler
    for each class. A test that cannot run gives a row with the reason.

    Examples
    --------
    >>> import gaussmle
    >>> rows = model_tests(gaussmle.fit([[0.0, 1.0], [1.0, 3.0], [2.0, 2.0]], "full"))
    >>> [(r.test, r.group) for r in rows]
    [('spherical < diag', 'the Gaussian'), ('diag < full', 'the Gaussian')]
    """
    rows: list[TestRow] = []
    if not isinstance(model, Gaussian):
        rows += _attempt("Box's M", "all classes", lambda: box_m(model))
        rows += _attempt("MANOVA", "all classes", lambda: manova(model))
        stats, names = class_statistics(model)
        if len(names) == 2 and stats.kind == "full":
            pair = (stats[0], stats[1])
            rows += _attempt(
                "Hotelling's T^2", f"{names[0]} vs {names[1]}", lambda: _hotelling_stats(*pair)
            )
    try:
        structures = covariance_structure_tests(model)
    except ValueError as exc:
        rows.append(TestRow("covariance structure", "all", None, str(exc)))
    else:
        rows += [TestRow(f"{t.null} < {t.alternative}", t.group, t) for t in structures]
    if X is not None:
        rows += _normality_rows(model, X, y)
    return rows


def _hotelling_stats(a: GaussianStats, b: GaussianStats) -> HotellingResult:
    t2, df2, scale = _two_sample_t2(a, b)
    return _hotelling_result(t2, df2, scale, a.n_features, "Hotelling's two-sample T^2")


def _normality_rows(model: Any, X: Any, y: Any) -> list[TestRow]:
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
        rows += _attempt("Mardia", name, lambda part=part: mardia(part))
        rows += _attempt("Henze-Zirkler", name, lambda part=part: henze_zirkler(part))
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
