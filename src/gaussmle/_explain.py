"""Why this class? Per-feature contributions to a diagonal model's log-odds.

:func:`explain` splits, row by row, the log-odds between the two most probable
classes into the prior's share and each feature's share; re-exported by
:mod:`gaussmle.diagnostics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._validation import as_float_array, feature_names_or_default
from .classifier import GaussianClassifier

#: Work space of one row chunk of :func:`explain` (bytes of its (rows, k, d) array).
EXPLAIN_CHUNK_BYTES = 1 << 23


@dataclass(frozen=True, eq=False)
class Explanation:
    """Per-feature contributions to the log-odds between the top two classes of each row.

    For a diagonal model the joint log-odds of the most probable class ``c1``
    over the runner-up ``c2`` splits exactly into a prior term and one term
    per feature: ``log p(x, c1) - log p(x, c2) = [log prior_c1 - log prior_c2]
    + sum_j [log N(x_j | mu_c1j, s2_c1j) - log N(x_j | mu_c2j, s2_c2j)]``.

    Attributes
    ----------
    feature_names : tuple of str
    top_class, runner_up : ndarray (n,)
        The most probable and the second most probable class of each row.
    prior_term : ndarray (n,)
        ``log prior_c1 - log prior_c2``.
    contributions : ndarray (n, d)
        The per-feature terms.
    log_odds : ndarray (n,)
        ``prior_term + contributions.sum(axis=1)`` (>= 0).
    shares : ndarray (n, d)
        ``contributions / (|prior_term| + sum_j |contributions_j|)``.
    prior_share : ndarray (n,)
        ``prior_term`` over the same denominator.
    """

    feature_names: tuple[str, ...]
    top_class: np.ndarray
    runner_up: np.ndarray
    prior_term: np.ndarray
    contributions: np.ndarray
    log_odds: np.ndarray
    shares: np.ndarray
    prior_share: np.ndarray

    def __len__(self) -> int:
        return int(self.log_odds.shape[0])

    def to_text(self, i: int, top: int = 5) -> str:
        """A readable sentence for row ``i``: the largest terms first, with signs and shares.

        Parameters
        ----------
        i : int
            The row.
        top : int, default 5
            How many terms to name; the rest are summed as "other features".

        Examples
        --------
        >>> e = Explanation(("aromatic lift", "elegance"), np.array(["purple"]),
        ...                 np.array(["yellow"]), np.array([0.2]), np.array([[3.1, 0.9]]),
        ...                 np.array([4.2]), np.array([[3.1, 0.9]]) / 4.2, np.array([0.2 / 4.2]))
        >>> e.to_text(0)
        'purple over yellow by log-odds 4.2: aromatic lift +3.1 (74%), elegance +0.9 (21%), prior +0.2 (5%)'
        """  # noqa: E501
        terms = [
            (name, float(v), float(s))
            for name, v, s in zip(
                self.feature_names, self.contributions[i], self.shares[i], strict=True
            )
        ]
        terms.append(("prior", float(self.prior_term[i]), float(self.prior_share[i])))
        terms.sort(key=lambda t: -abs(t[1]))
        shown, rest = terms[:top], terms[top:]
        parts = [f"{name} {_signed(v)} ({abs(s):.0%})" for name, v, s in shown]
        if rest:
            v = sum(t[1] for t in rest)
            s = sum(abs(t[2]) for t in rest)
            parts.append(f"{len(rest)} other terms {_signed(v)} ({s:.0%} together)")
        head = (
            f"{self.top_class[i]} over {self.runner_up[i]} by log-odds "
            f"{_unsigned(float(self.log_odds[i]))}"
        )
        return f"{head}: " + ", ".join(parts)


def explain(model: GaussianClassifier, X: Any, feature_names: Any = None) -> Explanation:
    """Split each row's log-odds between its top two classes into per-feature terms.

    Only diagonal models (``covariance_type`` "diag" or "spherical") separate
    this way; with full or tied covariances the features interact.

    Parameters
    ----------
    model : GaussianClassifier
        A fitted model with a diagonal covariance and at least two classes.
    X : array-like of shape (n, d)
    feature_names : sequence of str, optional
        Defaults to the model's ``feature_names_in_``, else ``x0, x1, ...``.

    Returns
    -------
    Explanation

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmle import GaussianClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal([0, 0], 1.0, (60, 2)), rng.normal([3, 1], 1.0, (40, 2))])
    >>> y = np.repeat(["purple", "yellow"], [60, 40])
    >>> model = GaussianClassifier().fit(X, y)
    >>> e = explain(model, [[2.5, 0.5], [0.0, 0.3]], feature_names=["aromatic lift", "elegance"])
    >>> print(e.to_text(0))
    yellow over purple by log-odds 3.0: aromatic lift +3.4 (88%), prior -0.4 (10%), elegance -0.04 (1%)
    >>> print(e.to_text(1))
    purple over yellow by log-odds 4.7: aromatic lift +4.0 (86%), prior +0.4 (9%), elegance +0.2 (5%)
    """  # noqa: E501
    check_is_fitted(model, "class_stats_")
    from .densities import family_for

    if not family_for(model.covariance_type).independent_features:
        raise ValueError(
            f"explain needs a diagonal model (covariance_type 'diag' or 'spherical'); this one "
            f"is {model.covariance_type!r}, whose correlated features do not split the "
            "log-odds into per-feature terms. Fit GaussianClassifier(covariance_type='diag') "
            "to explain predictions"
        )
    k, d = model.means_.shape
    X = as_float_array(X)
    if X.shape[1] != d:
        raise ValueError(f"X has {X.shape[1]} features but the model was fitted on {d}")
    if k < 2:
        raise ValueError("explain needs a model with at least two classes")
    names = feature_names_or_default(_model_feature_names(model, feature_names), d)
    var = np.asarray(model.covariances_, dtype=np.float64)
    var = np.broadcast_to(var[:, None] if var.ndim == 1 else var, (k, d))
    with np.errstate(divide="ignore"):
        log_prior = np.where(model.class_count_ > 0, np.log(model.class_prior_), -np.inf)
    if np.sum(np.isfinite(log_prior)) < 2:
        raise ValueError("explain needs at least two classes with training data and a prior")

    n = X.shape[0]
    first = np.empty(n, dtype=np.intp)
    second = np.empty(n, dtype=np.intp)
    contributions = np.empty((n, d))
    step = max(1, EXPLAIN_CHUNK_BYTES // (8 * k * d))
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        terms = _feature_terms(X[rows], model.means_, var)  # (m, k, d)
        joint = terms.sum(axis=2) + log_prior
        joint[:, ~np.isfinite(log_prior)] = -np.inf
        order = np.argsort(-joint, axis=1, kind="stable")
        a, b = order[:, 0], order[:, 1]
        first[rows], second[rows] = a, b
        m = np.arange(a.shape[0])
        contributions[rows] = terms[m, a] - terms[m, b]
    prior_term = log_prior[first] - log_prior[second]
    log_odds = prior_term + contributions.sum(axis=1)
    total = np.abs(prior_term) + np.abs(contributions).sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    return Explanation(
        feature_names=tuple(names),
        top_class=model.classes_[first],
        runner_up=model.classes_[second],
        prior_term=prior_term,
        contributions=contributions,
        log_odds=log_odds,
        shares=contributions / safe[:, None],
        prior_share=prior_term / safe,
    )


def _feature_terms(X: np.ndarray, means: np.ndarray, var: np.ndarray) -> np.ndarray:
    """log N(x_j | mu_cj, s2_cj) for every row, class and feature, shape (n, k, d).

    Evaluated directly from ``x - mu``: no cancellation, whatever the offset.
    """
    dev = np.subtract(X[:, None, :], means[None, :, :], dtype=np.float64)
    with np.errstate(over="ignore"):
        out = -0.5 * (dev * dev) / var
    out -= 0.5 * np.log(2.0 * np.pi * var)
    return out


# ---------------------------------------------------------------------- helpers
def _model_feature_names(model: GaussianClassifier, feature_names: Any) -> list[str] | None:
    if feature_names is not None:
        return [str(name) for name in feature_names]
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(name) for name in names]


def _signed(value: float) -> str:
    """A term with its sign: one decimal, more for small values (e.g. +3.1, -0.04)."""
    return "0.0" if value == 0 else _number(value, "+")


def _unsigned(value: float) -> str:
    return _number(value, "")


def _number(value: float, sign: str) -> str:
    size = abs(value)
    if not math.isfinite(value) or value == 0 or size >= 0.05:
        return f"{value:{sign}.1f}"
    if size >= 0.005:
        return f"{value:{sign}.2f}"
    return f"{value:{sign}.1e}"
