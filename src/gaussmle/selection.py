"""Choosing a covariance type: likelihood, information criteria and cross-validation.

:func:`select` fits a :class:`~gaussmle.GaussianClassifier` of every requested
``covariance_type`` to labelled data and reports, per type, the log-likelihood,
the number of free parameters, AIC, BIC, and the cross-validated log loss and
accuracy. It recommends the type with the lowest cross-validated log loss (the
quantity a generative classifier is meant to get right: calibrated
probabilities on data it has not seen), ties broken by BIC.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(0.0, 1.0, (60, 2)), rng.normal(3.0, 1.0, (60, 2))])
>>> y = np.repeat(["purple", "yellow"], 60)
>>> result = select(X, y, covariance_types=("diag", "spherical"))
>>> [row["covariance_type"] for row in result.rows]
['diag', 'spherical']
>>> result.recommended in ("diag", "spherical")
True
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import column_or_1d

from ._validation import COVARIANCE_TYPES, as_float_array, rows_for_output
from .classifier import GaussianClassifier

__all__ = ["SelectionResult", "select"]

#: Relative difference of cross-validated log losses treated as a tie.
TIE_RTOL = 1e-9

_COLUMNS = (
    ("covariance_type", "covariance"),
    ("n_parameters", "params"),
    ("loglik", "loglik"),
    ("aic", "AIC"),
    ("bic", "BIC"),
    ("cv_log_loss", "CV log loss"),
    ("cv_accuracy", "CV accuracy"),
)


@dataclass
class SelectionResult:
    """The outcome of :func:`select`: one row per covariance type and a recommendation.

    Attributes
    ----------
    rows : list of dict
        One dict per covariance type with keys ``covariance_type``, ``loglik``,
        ``n_parameters``, ``aic``, ``bic``, ``cv_log_loss`` (mean per-sample
        log loss over the held-out folds), ``cv_accuracy`` and ``error``
        (``None``, or the message of the exception that made the type fail;
        its numbers are then ``None``).
    recommended : str or None
        The recommended covariance type; ``None`` when every type failed.
    reason : str
        One sentence saying why.
    notes : list of str
        Anything the reader should know (e.g. fewer folds than asked for).
    cv_folds : int
        The number of cross-validation folds actually used (0: none).

    Examples
    --------
    >>> r = SelectionResult(
    ...     rows=[{"covariance_type": "diag", "loglik": -10.0, "n_parameters": 5, "aic": 30.0,
    ...            "bic": 32.1, "cv_log_loss": 0.25, "cv_accuracy": 0.9, "error": None}],
    ...     recommended="diag", reason="only one type", notes=[], cv_folds=5)
    >>> print(r.to_table())
      covariance  params  loglik   AIC   BIC  CV log loss  CV accuracy
    * diag             5   -10.0  30.0  32.1       0.2500        0.900
    <BLANKLINE>
    * recommended: diag (only one type)
    """

    rows: list[dict[str, Any]]
    recommended: str | None
    reason: str
    notes: list[str] = field(default_factory=list)
    cv_folds: int = 0

    def row(self, covariance_type: str) -> dict[str, Any]:
        """The row of one covariance type.

        Raises
        ------
        KeyError
            When that type was not evaluated.
        """
        for row in self.rows:
            if row["covariance_type"] == covariance_type:
                return row
        raise KeyError(f"covariance type {covariance_type!r} was not evaluated")

    def to_table(self) -> str:
        """An aligned plain-text table; the recommended row is marked with ``*``.

        Failed types show ``-`` for their numbers and their error below the
        table, followed by the notes and the recommendation.
        """
        body = [[_cell(key, row.get(key)) for key, _ in _COLUMNS] for row in self.rows]
        header = [title for _, title in _COLUMNS]
        marks = ["*" if row["covariance_type"] == self.recommended else " " for row in self.rows]
        lines = aligned_lines(header, body, marks)
        footer = [
            f"{row['covariance_type']} failed: {row['error']}"
            for row in self.rows
            if row.get("error")
        ]
        footer += [f"note: {note}" for note in self.notes]
        if self.recommended is not None:
            footer.append(f"* recommended: {self.recommended} ({self.reason})")
        else:
            footer.append(f"no recommendation: {self.reason}")
        return "\n".join(lines + [""] + footer)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (non-finite numbers become ``None``).

        Examples
        --------
        >>> import json
        >>> r = SelectionResult(rows=[], recommended=None, reason="nothing fitted")
        >>> json.dumps(r.to_dict(), sort_keys=True)
        '{"cv_folds": 0, "notes": [], "reason": "nothing fitted", "recommended": null, "rows": []}'
        """
        return {
            "rows": [{key: plain(value) for key, value in row.items()} for row in self.rows],
            "recommended": self.recommended,
            "reason": self.reason,
            "notes": list(self.notes),
            "cv_folds": int(self.cv_folds),
        }

    def __str__(self) -> str:
        return self.to_table()


def select(
    X: Any,
    y: Any,
    covariance_types: tuple[str, ...] | list[str] = ("diag", "full", "tied", "spherical"),
    cv: int = 5,
    var_smoothing: float = 1e-9,
    random_state: int | None = 0,
) -> SelectionResult:
    """Compare covariance types on labelled data and recommend one.

    Every type is fitted to all of ``(X, y)`` for the log-likelihood, AIC
    (``2 p - 2 LL``) and BIC (``p log n - 2 LL``), and evaluated by stratified,
    shuffled ``cv``-fold cross-validation for the held-out log loss and
    accuracy. The recommendation is the type with the lowest cross-validated
    log loss, ties broken by BIC (by BIC alone when cross-validation is
    impossible). A type that fails (for example a class whose covariance is
    singular) is reported with its error instead of stopping the comparison.

    Parameters
    ----------
    X : array-like of shape (n, d) or a DataFrame
    y : array-like of shape (n,)
        Class labels.
    covariance_types : sequence of str, default ("diag", "full", "tied", "spherical")
    cv : int, default 5
        Number of folds. When the smallest class has fewer members, the folds
        are reduced to its size (at least 2) and a note says so.
    var_smoothing : float, default 1e-9
        Passed to every :class:`~gaussmle.GaussianClassifier`.
    random_state : int or None, default 0
        Seed of the fold shuffling.

    Returns
    -------
    SelectionResult

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> result = select(X, y)
    >>> result.recommended in ("diag", "full", "tied", "spherical")
    True
    >>> result.row("tied")["n_parameters"]  # 2 priors + 12 means + 10 covariances
    24
    """
    types = list(covariance_types)
    if not types:
        raise ValueError("covariance_types is empty; pass at least one covariance type")
    for name in types:
        if name not in COVARIANCE_TYPES:
            raise ValueError(
                f"unknown covariance type {name!r}; choose from {', '.join(COVARIANCE_TYPES)}"
            )
    if len(set(types)) != len(types):
        raise ValueError(f"covariance_types repeats a type: {types}")
    if isinstance(cv, bool) or not isinstance(cv, int | np.integer) or cv < 2:
        raise ValueError(f"cv must be an integer of at least 2 (the number of folds); got {cv!r}")

    X = as_float_array(X)
    y = column_or_1d(np.asarray(y))
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError("y has a single class; model selection needs at least two classes")

    notes: list[str] = []
    folds = _fold_plan(classes, counts, int(cv), notes)
    splits: list[tuple[np.ndarray, np.ndarray]] = []
    if folds:
        with warnings.catch_warnings():
            # a single-member class is announced in the notes already
            warnings.simplefilter("ignore", UserWarning)
            kfold = StratifiedKFold(folds, shuffle=True, random_state=random_state)
            splits = list(kfold.split(X, y))

    rows = [_evaluate(name, X, y, classes, splits, var_smoothing) for name in types]
    recommended, reason = _recommend(rows, folds)
    return SelectionResult(rows, recommended, reason, notes, folds)


def _fold_plan(classes: np.ndarray, counts: np.ndarray, cv: int, notes: list[str]) -> int:
    """The number of folds to use, with a note when it differs from ``cv``."""
    smallest = int(counts.min())
    label = str(classes[int(np.argmin(counts))])
    if smallest >= cv:
        return cv
    if smallest >= 2:
        notes.append(
            f"class '{label}' has only {smallest} members, fewer than cv={cv}: "
            f"cross-validation used {smallest} folds instead"
        )
        return smallest
    if counts.max() >= 2:
        notes.append(
            f"class '{label}' has a single member: cross-validation used 2 folds, and a "
            "held-out member of a class absent from its training fold is left out of the "
            "cross-validated scores"
        )
        return 2
    notes.append("every class has a single member: no cross-validation was possible")
    return 0


def _evaluate(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    classes: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    var_smoothing: float,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "covariance_type": name,
        "loglik": None,
        "n_parameters": None,
        "aic": None,
        "bic": None,
        "cv_log_loss": None,
        "cv_accuracy": None,
        "error": None,
    }
    try:
        model = GaussianClassifier(covariance_type=name, var_smoothing=var_smoothing).fit(X, y)
        loglik = _loglik(model, X, y)
        p = int(model.n_parameters)
        row.update(
            loglik=loglik,
            n_parameters=p,
            aic=2.0 * p - 2.0 * loglik,
            bic=p * math.log(X.shape[0]) - 2.0 * loglik,
        )
        if splits:
            row["cv_log_loss"], row["cv_accuracy"] = _cross_validate(
                name, X, y, classes, splits, var_smoothing
            )
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        row["error"] = str(exc) or type(exc).__name__
    return row


def _cross_validate(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    classes: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    var_smoothing: float,
) -> tuple[float, float]:
    """Mean held-out log loss and accuracy (each row held out once).

    Rows whose class is missing from their training fold are left out.
    """
    loss = np.zeros(X.shape[0])
    correct = np.zeros(X.shape[0], dtype=bool)
    scored = np.ones(X.shape[0], dtype=bool)
    codes = np.searchsorted(classes, y)
    for train, test in splits:
        model = GaussianClassifier(covariance_type=name, var_smoothing=var_smoothing)
        # every class is declared, so the columns line up even when a training
        # fold lacks a class (that class then gets probability 0)
        model.partial_fit(X[train], y[train], classes=classes)
        loss[test], correct[test] = _held_out(model, X[test], codes[test])
        # a held-out row whose class was absent from training says nothing about
        # the covariance type (its clipped log loss of about 36 would swamp the rest)
        scored[test] = np.isin(y[test], y[train])
    if not scored.any():
        raise ValueError("no held-out row has a class seen in its training fold")
    return float(np.mean(loss[scored])), float(np.mean(correct[scored]))


def _held_out(
    model: GaussianClassifier, X: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: log loss (probability clipped at the machine epsilon, as scikit-learn's
    ``log_loss``) and whether the most probable class is the true one.

    Rows are taken in batches whose probabilities fit OUTPUT_BYTES, so memory does not
    grow with rows x classes.
    """
    eps = np.finfo(np.float64).eps
    loss = np.empty(X.shape[0])
    correct = np.empty(X.shape[0], dtype=bool)
    step = rows_for_output(len(model.classes_))
    for start in range(0, X.shape[0], step):
        stop = min(start + step, X.shape[0])
        proba = model.predict_proba(X[start:stop])
        truth = codes[start:stop]
        p_true = proba[np.arange(stop - start), truth]
        loss[start:stop] = -np.log(np.clip(p_true, eps, 1 - eps))
        correct[start:stop] = np.argmax(proba, axis=1) == truth
    return loss, correct


def _loglik(model: GaussianClassifier, X: np.ndarray, y: np.ndarray) -> float:
    """The model's log-likelihood of (X, y), in batches of rows that fit OUTPUT_BYTES."""
    step = rows_for_output(len(model.classes_))
    return float(
        sum(model.loglik(X[start : start + step], y[start : start + step])
            for start in range(0, X.shape[0], step))
    )  # fmt: skip


def _recommend(rows: list[dict[str, Any]], folds: int) -> tuple[str | None, str]:
    ok = [row for row in rows if row["error"] is None]
    if not ok:
        return None, "every covariance type failed to fit"

    def bic_key(row: dict[str, Any]) -> float:
        return row["bic"] if np.isfinite(row["bic"]) else np.inf

    scored = [row for row in ok if row["cv_log_loss"] is not None]
    scored = [row for row in scored if np.isfinite(row["cv_log_loss"])]
    if not scored:
        best = min(ok, key=bic_key)
        why = "no cross-validation was possible" if not folds else "no finite CV log loss"
        return best["covariance_type"], f"it has the lowest BIC ({best['bic']:.1f}); {why}"

    low = min(row["cv_log_loss"] for row in scored)
    tol = TIE_RTOL * max(abs(low), 1e-300)
    tied = [row for row in scored if row["cv_log_loss"] - low <= tol]
    best = min(tied, key=bic_key)
    name, loss = best["covariance_type"], best["cv_log_loss"]
    if len(tied) > 1:
        others = ", ".join(repr(r["covariance_type"]) for r in tied if r is not best)
        return name, (
            f"it ties with {others} on cross-validated log loss ({_loss(loss)} per sample over "
            f"{folds} folds) and has the lower BIC ({best['bic']:.1f})"
        )
    rest = sorted((r for r in scored if r is not best), key=lambda r: r["cv_log_loss"])
    if not rest:
        return name, (
            f"it is the only type with a cross-validated log loss ({_loss(loss)} per sample "
            f"over {folds} folds)"
        )
    runner = rest[0]
    return name, (
        f"it has the lowest cross-validated log loss, {_loss(loss)} per sample over {folds} "
        f"folds, against {_loss(runner['cv_log_loss'])} for '{runner['covariance_type']}'"
    )


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key in ("covariance_type", "n_parameters"):
        return str(value)
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    if key == "cv_log_loss":
        return _loss(value)
    if key == "cv_accuracy":
        return f"{value:.3f}"
    return f"{value:.1f}"


def _loss(value: float) -> str:
    """A log loss with four significant decimals, or in scientific notation when tiny."""
    return f"{value:.4f}" if value == 0 or abs(value) >= 1e-3 else f"{value:.2e}"


def aligned_lines(header: list[str], body: list[list[str]], marks: list[str]) -> list[str]:
    """Table lines: a mark column, the first column left-aligned, the others right-aligned.

    Shared by the selection results (:mod:`gaussmle.mixture_selection` uses it too).

    Examples
    --------
    >>> for line in aligned_lines(["type", "BIC"], [["diag", "1.5"], ["full", "12.0"]], ["*", " "]):
    ...     print(line)
      type   BIC
    * diag   1.5
      full  12.0
    """
    widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]

    def line(cells: list[str], mark: str) -> str:
        parts = [cells[0].ljust(widths[0])]
        parts += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return (f"{mark} " + "  ".join(parts)).rstrip()

    return [line(header, " ")] + [line(c, m) for c, m in zip(body, marks, strict=True)]


def plain(value: Any) -> Any:
    """A JSON-friendly Python value: numpy scalars unwrapped, non-finite floats ``None``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
