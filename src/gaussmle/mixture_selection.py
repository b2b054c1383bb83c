"""How many components: BIC, ICL and a bootstrap likelihood-ratio test for mixtures.

:func:`select_components` fits a :class:`~gaussmle.GaussianMixture` for every
number of components ``k`` and covariance type asked for, and reports per fit
the log-likelihood, the number of free parameters ``p``, BIC and ICL:

- ``BIC = -2 LL + p log n`` (scikit-learn's sign: **lower is better**);
- ``ICL = BIC + 2 EN``, with ``EN = -sum_i sum_k z_ik log z_ik >= 0`` the
  classification entropy of the fitted responsibilities ``z`` (Biernacki,
  Celeux and Govaert 2000), so ``ICL >= BIC``: ICL also penalises components
  that overlap, and prefers well-separated clusters.

R's mclust reports the same numbers with the opposite sign (its
``BIC = 2 LL - p log n`` and ``ICL = BIC - 2 EN``, **higher is better**, and
there ``ICL <= BIC``): mclust's value is minus the value here.

The chosen fit has the lowest value of the ``criterion`` (ties: fewer
parameters). Optionally, a parametric bootstrap likelihood-ratio test of ``k``
against ``k + 1`` components (McLachlan 1987; mclust's ``mclustBootstrapLRT``)
is run for the chosen covariance type: the statistic is
``LRT = 2 (LL_{k+1} - LL_k)``; ``B`` data sets of ``n`` rows are drawn from the
fitted ``k``-component model, both models are refitted to each, and the
p-value is ``(1 + #{LRT_b >= LRT}) / (B + 1)``. As in mclust (without its
``maxG``), the tests run for consecutive ``k`` of the list, smallest first, and
stop after the first that does not reject at ``level``.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(0.0, 0.5, (60, 2)), rng.normal(5.0, 0.5, (60, 2))])
>>> result = select_components(X, range(1, 4), random_state=0)
>>> result.best_n_components, result.best_covariance_type
(2, 'full')
>>> [row["n_components"] for row in result.rows]
[1, 2, 3]
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils import check_random_state

from ._validation import COVARIANCE_TYPES, as_float_array, check_sample_weight
from .mixture import GaussianMixture
from .selection import aligned_lines, plain

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["ComponentSelection", "select_components"]

#: The criteria a choice can be made by, and the column of each.
CRITERIA = ("bic", "icl")

_COLUMNS = (
    ("n_components", "k"),
    ("covariance_type", "covariance"),
    ("n_parameters", "params"),
    ("loglik", "loglik"),
    ("bic", "BIC"),
    ("icl", "ICL"),
)
_BOOT_COLUMNS = (("n_components", "k vs k+1"), ("lrt", "LRT"), ("p_value", "p-value"))


@dataclass
class ComponentSelection:
    """The outcome of :func:`select_components`: one row per fit and the chosen one.

    Attributes
    ----------
    rows : list of dict
        One dict per (``n_components``, ``covariance_type``) with keys
        ``n_components``, ``covariance_type``, ``loglik`` (total),
        ``n_parameters``, ``bic``, ``icl``, ``entropy`` (classification
        entropy EN), ``converged``, ``n_iter`` (EM iterations) and ``error``
        (``None``, or the message of the exception that made that fit fail;
        its numbers are then ``None``).
    criterion : str
        ``"bic"`` or ``"icl"``, the criterion the choice was made by (lower is better).
    best_n_components : int or None
    best_covariance_type : str or None
    best_model : GaussianMixture or None
        The chosen fit (fitted on all of X).
    reason : str
        One sentence saying why.
    notes : list of str
        What the fits warned about (degenerate components, no convergence).
    bootstrap : list of dict
        The bootstrap likelihood-ratio tests run (keys ``n_components`` (k of
        the null model), ``covariance_type``, ``lrt``, ``p_value``,
        ``replicates``); empty when none was asked for.
    level : float
        The significance level of the sequential bootstrap tests.

    Examples
    --------
    >>> r = ComponentSelection(
    ...     rows=[{"n_components": 1, "covariance_type": "full", "n_parameters": 5,
    ...            "loglik": -10.0, "bic": 32.1, "icl": 32.1, "entropy": 0.0,
    ...            "converged": True, "error": None}],
    ...     criterion="bic", best_n_components=1, best_covariance_type="full",
    ...     best_model=None, reason="only one fit")
    >>> print(r.to_table())
      k  covariance  params  loglik   BIC   ICL
    * 1  full             5   -10.0  32.1  32.1
    <BLANKLINE>
    * chosen: 1 component, full (only one fit)
    """

    rows: list[dict[str, Any]]
    criterion: str
    best_n_components: int | None
    best_covariance_type: str | None
    best_model: GaussianMixture | None
    reason: str
    notes: list[str] = field(default_factory=list)
    bootstrap: list[dict[str, Any]] = field(default_factory=list)
    level: float = 0.05

    def row(self, n_components: int, covariance_type: str) -> dict[str, Any]:
        """The row of one fit.

        Raises
        ------
        KeyError
            When that fit was not made.
        """
        for row in self.rows:
            if row["n_components"] == n_components and row["covariance_type"] == covariance_type:
                return row
        raise KeyError(f"no fit with {n_components} components of type {covariance_type!r}")

    def _is_best(self, row: dict[str, Any]) -> bool:
        return (row["n_components"], row["covariance_type"]) == (
            self.best_n_components,
            self.best_covariance_type,
        )

    def to_table(self) -> str:
        """An aligned plain-text table (the chosen row marked ``*``), the tests and the reason."""
        header = [title for _, title in _COLUMNS]
        body = [[_cell(key, row.get(key)) for key, _ in _COLUMNS] for row in self.rows]
        marks = ["*" if self._is_best(row) else " " for row in self.rows]
        lines = aligned_lines(header, body, marks)
        if self.bootstrap:
            kind = self.bootstrap[0]["covariance_type"]
            replicates = self.bootstrap[0]["replicates"]
            lines += ["", f"Bootstrap likelihood-ratio tests ({kind}, {replicates} replicates):"]
            header = [title for _, title in _BOOT_COLUMNS]
            body = [
                [
                    f"{t['n_components']} vs {t['n_components'] + 1}",
                    _cell("lrt", t["lrt"]),
                    _cell("p_value", t["p_value"]),
                ]  # fmt: skip
                for t in self.bootstrap
            ]
            lines += aligned_lines(header, body, [" "] * len(body))
        footer = [
            f"k={row['n_components']} {row['covariance_type']} failed: {row['error']}"
            for row in self.rows
            if row.get("error")
        ]
        footer += [f"note: {note}" for note in self.notes]
        if self.best_n_components is None:
            footer.append(f"no choice: {self.reason}")
        else:
            s = "" if self.best_n_components == 1 else "s"
            footer.append(
                f"* chosen: {self.best_n_components} component{s}, {self.best_covariance_type} "
                f"({self.reason})"
            )
        return "\n".join(lines + [""] + footer)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (non-finite numbers become ``None``; no model).

        Examples
        --------
        >>> r = ComponentSelection([], "bic", None, None, None, "nothing fitted")
        >>> sorted(r.to_dict())  # doctest: +NORMALIZE_WHITESPACE
        ['best_covariance_type', 'best_n_components', 'bootstrap', 'criterion', 'level',
         'notes', 'reason', 'rows']
        """
        return {
            "rows": [{key: plain(value) for key, value in row.items()} for row in self.rows],
            "criterion": self.criterion,
            "best_n_components": self.best_n_components,
            "best_covariance_type": self.best_covariance_type,
            "reason": self.reason,
            "notes": list(self.notes),
            "bootstrap": [{key: plain(value) for key, value in t.items()} for t in self.bootstrap],
            "level": self.level,
        }

    def to_frame(self) -> Any:
        """The table as a pandas DataFrame, one row per (k, covariance type).

        Examples
        --------
        >>> r = ComponentSelection(
        ...     rows=[{"n_components": 1, "covariance_type": "diag", "n_parameters": 4,
        ...            "loglik": -1.0, "bic": 2.0, "icl": 2.0, "entropy": 0.0,
        ...            "converged": True, "error": None}],
        ...     criterion="bic", best_n_components=1, best_covariance_type="diag",
        ...     best_model=None, reason="only one fit")
        >>> r.to_frame()[["n_components", "covariance_type", "bic", "chosen"]].values.tolist()
        [[1, 'diag', 2.0, True]]
        """
        import pandas as pd

        frame = pd.DataFrame(self.rows)
        frame["chosen"] = [self._is_best(row) for row in self.rows]
        return frame

    def plot(self, ax: Axes | None = None, path: Any = None) -> Axes:
        """BIC and ICL against k, one line per covariance type, the choice marked.

        Draws on ``ax`` (a new figure when ``None``; written as PNG to ``path``
        when given) and returns the axes. See
        :func:`gaussmle.plot.plot_components`.
        """
        from .plot import plot_components

        return plot_components(self, ax=ax, path=path)

    def __str__(self) -> str:
        return self.to_table()


def select_components(
    X: Any,
    n_components: Iterable[int] = range(1, 11),
    covariance_types: Iterable[str] = ("full",),
    *,
    criterion: str = "bic",
    n_init: int = 1,
    random_state: Any = None,
    bootstrap: int = 0,
    level: float = 0.05,
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    init_params: str = "kmeans",
    progress: Callable[[int, int], None] | None = None,
    sample_weight: Any = None,
) -> ComponentSelection:
    """Fit mixtures with several numbers of components and choose one by BIC or ICL.

    Parameters
    ----------
    X : array-like of shape (n, d) or a DataFrame
    n_components : iterable of int, default range(1, 11)
        The numbers of components to try (each at least 1, at most n).
    covariance_types : iterable of str, default ("full",)
        Any of "full", "tied", "diag", "spherical".
    criterion : {"bic", "icl"}, default "bic"
        What the choice minimises (both lower-is-better; see the module notes
        for mclust's opposite sign).
    n_init : int, default 1
        EM starts per fit (the best log-likelihood is kept).
    random_state : int, RandomState or None
        The seed of every fit (from a RandomState one seed is drawn), so the
        fit for a given k is ``GaussianMixture(k, random_state=...)``'s and
        does not depend on which other k are tried; the bootstrap draws its
        samples from ``check_random_state(random_state)``.
    bootstrap : int, default 0
        Replicates ``B`` of the bootstrap likelihood-ratio test of k against
        k + 1 (0: no test). It costs ``2 B`` fits per k tested.
    level : float, default 0.05
        The sequential tests stop after the first p-value above it.
    tol, reg_covar, max_iter, init_params
        Passed to every :class:`~gaussmle.GaussianMixture`.
    progress : callable, optional
        Called as ``progress(done, planned)`` after each fit (``planned``
        counts every bootstrap fit that may run; the sequential tests can
        stop earlier).
    sample_weight : array-like (n,), optional
        Row weights for every fit; the log-likelihood and the entropy are
        weighted sums and ``n`` in ``log n`` is the sum of the weights, so
        integer weights count as repeated rows. The bootstrap then draws
        ``round(sum of weights)`` unweighted rows per replicate.

    Returns
    -------
    ComponentSelection

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> X = np.vstack([rng.normal(0.0, 0.3, (40, 1)), rng.normal(4.0, 0.3, (40, 1))])
    >>> r = select_components(X, [1, 2], ("diag",), criterion="icl", random_state=0)
    >>> r.best_n_components, r.row(2, "diag")["icl"] >= r.row(2, "diag")["bic"]
    (2, True)
    """
    ks = _check_ks(n_components)
    types = _check_types(covariance_types)
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}; got {criterion!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise ValueError(
            f"bootstrap must be an integer >= 0 (the number of replicates); got {bootstrap!r}"
        )
    if not (isinstance(level, float | int) and 0.0 < level < 1.0):
        raise ValueError(f"level must be a number between 0 and 1; got {level!r}")
    columns = getattr(X, "columns", None)
    names = None if columns is None else np.asarray([str(c) for c in columns], dtype=object)
    X = as_float_array(X)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"X must have at least 2 rows of features; got shape {X.shape}")
    if ks[-1] > X.shape[0]:
        raise ValueError(
            f"n_components goes up to {ks[-1]}, more than the {X.shape[0]} rows of X; try "
            "fewer components"
        )
    w = check_sample_weight(sample_weight, X.shape[0])
    rs = check_random_state(random_state)
    seed = random_state
    if not (seed is None or isinstance(seed, int | np.integer)):
        seed = int(rs.randint(np.iinfo(np.int32).max))
    settings = {
        "n_init": n_init,
        "tol": tol,
        "reg_covar": reg_covar,
        "max_iter": max_iter,
        "init_params": init_params,
        "random_state": seed,
    }
    GaussianMixture(**settings)._check_parameters()  # bad settings fail before any fit
    planned = len(ks) * len(types) + 2 * int(bootstrap) * (len(ks) - 1)
    tick = _Counter(planned, progress)
    rows, models, notes = _fit_all(X, ks, types, settings, w, tick)
    best, reason = _choose(rows, criterion)
    result = ComponentSelection(
        rows=rows,
        criterion=criterion,
        best_n_components=None if best is None else best["n_components"],
        best_covariance_type=None if best is None else best["covariance_type"],
        best_model=None
        if best is None
        else models[(best["n_components"], best["covariance_type"])],
        reason=reason,
        notes=notes,
        level=float(level),
    )
    if bootstrap and best is not None:
        result.bootstrap = _bootstrap_tests(
            X,
            ks,
            best["covariance_type"],
            models,
            settings,
            int(bootstrap),
            float(level),
            rs,
            tick,
            w,
        )
        if not result.bootstrap:
            result.notes.append(
                "no bootstrap test was possible: it needs fits of two consecutive numbers of "
                f"components (k and k + 1) of type {best['covariance_type']!r}"
            )
    if names is not None and result.best_model is not None:
        result.best_model.feature_names_in_ = names  # after every use on the plain array
    return result


class _Counter:
    """Counts fits and reports them to an optional ``progress(done, planned)``."""

    def __init__(self, planned: int, progress: Callable[[int, int], None] | None) -> None:
        self.done, self.planned, self.progress = 0, planned, progress

    def __call__(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.planned)


# ---------------------------------------------------------------------- checks
def _check_ks(n_components: Iterable[int]) -> list[int]:
    """The numbers of components, sorted; each an integer of at least 1, none repeated."""
    if isinstance(n_components, int | np.integer):
        n_components = [int(n_components)]
    ks = list(n_components)
    if not ks:
        raise ValueError("n_components is empty; pass the numbers of components to try")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"n_components must hold integers >= 1; got {k!r}")
    if len(set(ks)) != len(ks):
        raise ValueError(f"n_components repeats a value: {ks}")
    return sorted(int(k) for k in ks)


def _check_types(covariance_types: Iterable[str]) -> list[str]:
    types = [covariance_types] if isinstance(covariance_types, str) else list(covariance_types)
    if not types:
        raise ValueError("covariance_types is empty; pass at least one covariance type")
    for name in types:
        if name not in COVARIANCE_TYPES:
            raise ValueError(
                f"unknown covariance type {name!r}; choose from {', '.join(COVARIANCE_TYPES)}"
            )
    if len(set(types)) != len(types):
        raise ValueError(f"covariance_types repeats a type: {types}")
    return types


# ---------------------------------------------------------------------- fitting
def classification_entropy(proba: np.ndarray, weights: np.ndarray | None = None) -> float:
    """``EN = -sum z log z`` of responsibilities (rows of ``proba``), with ``0 log 0 = 0``.

    With ``weights``, each row's entropy counts ``weights[i]`` times.

    Examples
    --------
    >>> classification_entropy(np.array([[1.0, 0.0], [0.5, 0.5]])) == math.log(2.0)
    True
    """
    z = np.asarray(proba, dtype=np.float64)
    terms = np.where(z > 0, z * np.log(np.where(z > 0, z, 1.0)), 0.0)
    per_row = -terms.sum(axis=1)
    return float(per_row.sum() if weights is None else weights @ per_row)


def criteria(
    model: GaussianMixture, X: np.ndarray, weights: np.ndarray | None = None
) -> dict[str, float]:
    """Total log-likelihood, parameters, BIC, classification entropy and ICL of a fit on X.

    With ``weights``, sums over rows are weighted and ``n`` is their sum.

    Examples
    --------
    >>> X = np.array([[0.0], [0.2], [0.4], [10.0], [10.2], [10.4]])
    >>> gm = GaussianMixture(1, covariance_type="diag").fit(X)
    >>> c = criteria(gm, X)
    >>> c["n_parameters"], c["entropy"], c["icl"] == c["bic"]
    (2, 0.0, True)
    """
    logp = model.score_samples(X)
    n = X.shape[0] if weights is None else float(weights.sum())
    loglik = float(logp.sum() if weights is None else weights @ logp)
    p = int(model._n_parameters())
    bic = -2.0 * loglik + p * math.log(n)
    entropy = classification_entropy(model.predict_proba(X), weights)
    return {
        "loglik": loglik,
        "n_parameters": p,
        "bic": bic,
        "entropy": entropy,
        "icl": bic + 2.0 * entropy,
    }


def _fit(
    X: np.ndarray, k: int, kind: str, settings: dict[str, Any], w: np.ndarray | None = None
) -> tuple[GaussianMixture, list[str]]:
    """One EM fit; what it warned about is returned, not shown."""
    model = GaussianMixture(k, covariance_type=kind, **settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, sample_weight=w)
    return model, [str(c.message) for c in caught]


def _fit_all(
    X: np.ndarray,
    ks: list[int],
    types: list[str],
    settings: dict[str, Any],
    w: np.ndarray | None,
    tick: Callable[[], None],
) -> tuple[list[dict[str, Any]], dict[tuple[int, str], GaussianMixture], list[str]]:
    """A row per (k, type), the fitted models by (k, type), and what the fits warned about."""
    rows: list[dict[str, Any]] = []
    models: dict[tuple[int, str], GaussianMixture] = {}
    notes: list[str] = []
    for kind in types:
        for k in ks:
            row, model, said = _fit_row(X, k, kind, settings, w)
            tick()
            rows.append(row)
            notes += [f"k={k} {kind}: {text}" for text in said]
            if model is not None:
                models[(k, kind)] = model
    return rows, models, notes


def _fit_row(
    X: np.ndarray, k: int, kind: str, settings: dict[str, Any], w: np.ndarray | None
) -> tuple[dict[str, Any], GaussianMixture | None, list[str]]:
    row: dict[str, Any] = {
        "n_components": k,
        "covariance_type": kind,
        "loglik": None,
        "n_parameters": None,
        "bic": None,
        "icl": None,
        "entropy": None,
        "converged": None,
        "n_iter": None,
        "error": None,
    }
    try:
        model, said = _fit(X, k, kind, settings, w)
        row.update(
            criteria(model, X, w), converged=bool(model.converged_), n_iter=int(model.n_iter_)
        )
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        row["error"] = str(exc) or type(exc).__name__
        return row, None, []
    return row, model, said


def _choose(rows: list[dict[str, Any]], criterion: str) -> tuple[dict[str, Any] | None, str]:
    """The row with the lowest criterion (ties: fewer parameters, then fewer components)."""
    ok = [row for row in rows if row["error"] is None and np.isfinite(row[criterion])]
    if not ok:
        return None, "every fit failed"
    ok.sort(key=lambda r: (r[criterion], r["n_parameters"], r["n_components"]))
    best, name = ok[0], criterion.upper()
    if len(ok) == 1:
        return best, f"it is the only fit with a finite {name} ({best[criterion]:.1f})"
    runner = ok[1]
    gap = runner[criterion] - best[criterion]
    return best, (
        f"it has the lowest {name}, {best[criterion]:.1f}, {gap:.1f} below the next best "
        f"(k={runner['n_components']} {runner['covariance_type']}, {runner[criterion]:.1f})"
    )


# ---------------------------------------------------------------------- bootstrap LRT
def _bootstrap_tests(
    X: np.ndarray,
    ks: list[int],
    kind: str,
    models: dict[tuple[int, str], GaussianMixture],
    settings: dict[str, Any],
    replicates: int,
    level: float,
    rs: np.random.RandomState,
    tick: Callable[[], None] | None = None,
    weights: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Sequential bootstrap LRTs of k against k + 1 for consecutive k of ``ks``."""
    tests = []
    for k in ks:
        null, alt = models.get((k, kind)), models.get((k + 1, kind))
        if null is None or alt is None:
            continue
        stat, p_value = bootstrap_lrt(X, null, alt, replicates, settings, rs, tick, weights)
        tests.append(
            {
                "n_components": k,
                "covariance_type": kind,
                "lrt": stat,
                "p_value": p_value,
                "replicates": replicates,
            }
        )
        if p_value > level:
            break
    return tests


def lrt_statistic(
    X: np.ndarray,
    null: GaussianMixture,
    alt: GaussianMixture,
    weights: np.ndarray | None = None,
) -> float:
    """``2 (LL_alt - LL_null)`` on X (total log-likelihoods, weighted by ``weights``)."""
    diff = alt.score_samples(X) - null.score_samples(X)
    return 2.0 * float(diff.sum() if weights is None else weights @ diff)


def bootstrap_lrt(
    X: np.ndarray,
    null: GaussianMixture,
    alt: GaussianMixture,
    replicates: int,
    settings: dict[str, Any],
    random_state: Any = None,
    tick: Callable[[], None] | None = None,
    weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """The LRT of ``null`` (k components) against ``alt`` (k + 1) and its bootstrap p-value.

    Each replicate draws ``n`` rows from the fitted ``null``, refits both
    numbers of components with ``settings`` and computes the statistic (with
    ``weights``: the observed statistic is weighted and each replicate has
    ``round(sum of weights)`` rows); the p-value is
    ``(1 + #{LRT_b >= LRT}) / (B + 1)`` (McLachlan 1987).

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> X = np.vstack([rng.normal(0.0, 0.4, (40, 1)), rng.normal(4.0, 0.4, (40, 1))])
    >>> opts = {"random_state": 0}
    >>> one = GaussianMixture(1, covariance_type="diag", **opts).fit(X)
    >>> two = GaussianMixture(2, covariance_type="diag", **opts).fit(X)
    >>> stat, p = bootstrap_lrt(X, one, two, 9, opts, random_state=0)
    >>> stat > 0, p
    (True, 0.1)
    """
    rs = check_random_state(random_state)
    observed = lrt_statistic(X, null, alt, weights)
    k, kind = null.n_components, null.covariance_type
    n = X.shape[0] if weights is None else max(int(round(float(weights.sum()))), k + 1)
    exceed = 0
    for _ in range(replicates):
        source = copy.copy(null)
        source.random_state = rs
        Xb, _labels = source.sample(n)
        rs.shuffle(Xb)
        fits = []
        for m in (k, k + 1):
            fits.append(_fit(Xb, m, kind, settings)[0])
            if tick is not None:
                tick()
        exceed += lrt_statistic(Xb, *fits) >= observed
    return observed, (1.0 + exceed) / (replicates + 1.0)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in ("covariance_type", "n_parameters", "n_components"):
        return str(value)
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    if key == "p_value":
        return f"{value:.3f}"
    return f"{value:.1f}"
