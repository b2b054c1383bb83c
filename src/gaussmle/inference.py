"""Hypothesis tests from sufficient statistics: Box's M, Hotelling, MANOVA, LR tests, normality.

Box's M, Hotelling's T^2, one-way MANOVA and the likelihood-ratio tests of
nested covariance structures need only each class's weight, mean and scatter
matrix, which every fitted :class:`~gaussmle.GaussianClassifier` keeps
(``class_stats_``). So they work on data of any size, on models fitted with
Dask or merged from many machines, and on a saved model without its data.
Every determinant is a log-determinant from a Cholesky factor (never a
product of determinants, which overflows: pingouin's ``box_m`` returns
chi^2 = inf at d = 150). Mardia's and Henze-Zirkler's normality tests need
the rows themselves: they live in :mod:`gaussmle.normality` and are
re-exported here, and :func:`model_tests` runs them on each class when given
the data.

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

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._inference_common import (
    MultivariateResult,
    TestResult,
    TestRow,
    attempt,
    scatter_factor,
    singular_scatter,
)
from ._validation import as_float_array
from .covariance import Structure, structure_for
from .gaussian import Gaussian
from .normality import MardiaResult, henze_zirkler, mardia, normality_rows
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


# ---------------------------------------------------------------------- results
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


def _logdet(matrix: np.ndarray, who: str) -> float:
    """log |A| of a symmetric positive definite matrix, from its Cholesky factor."""
    return float(2.0 * np.log(np.diagonal(scatter_factor(matrix, who))).sum())


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
        z = _solve_lower(scatter_factor(scatter, who), diff)
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
        factor = scatter_factor(within, "the within-class scatter")
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
    return singular_scatter(who)


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


# ---------------------------------------------------------------------- all at once
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
        rows += attempt("Box's M", "all classes", lambda: box_m(model))
        rows += attempt("MANOVA", "all classes", lambda: manova(model))
        stats, names = class_statistics(model)
        if len(names) == 2 and stats.kind == "full":
            pair = (stats[0], stats[1])
            rows += attempt(
                "Hotelling's T^2", f"{names[0]} vs {names[1]}", lambda: _hotelling_stats(*pair)
            )
    try:
        structures = covariance_structure_tests(model)
    except ValueError as exc:
        rows.append(TestRow("covariance structure", "all", None, str(exc)))
    else:
        rows += [TestRow(f"{t.null} < {t.alternative}", t.group, t) for t in structures]
    if X is not None:
        rows += normality_rows(model, X, y)
    return rows


def _hotelling_stats(a: GaussianStats, b: GaussianStats) -> HotellingResult:
    t2, df2, scale = _two_sample_t2(a, b)
    return _hotelling_result(t2, df2, scale, a.n_features, "Hotelling's two-sample T^2")
