"""Semi-supervised fitting of a GaussianClassifier by EM (Nigam et al. 2000).

``GaussianClassifier(unlabelled=-1)`` marks the rows whose label equals the
sentinel as unlabelled. The fit starts from the classifier fitted on the
labelled rows alone, then alternates:

- E-step: the posterior class probabilities of the unlabelled rows, from the
  classifier's own density evaluator (what ``predict_proba`` computes);
- M-step: per class, the exact centred weighted statistics of the unlabelled
  rows with weights ``unlabelled_weight * sample_weight * posterior``, merged
  with the statistics of the labelled rows (which keep their class with
  weight one); every fitted parameter (and the priors, unless fixed) is
  derived from the merged statistics as in a supervised fit.

It stops when the mean log-likelihood (labelled rows: log p(x, y); unlabelled
rows: ``unlabelled_weight`` times log p(x); divided by the total weight) changes
by less than ``tol``, or after ``max_iter`` iterations (with a warning).

With ``missing="marginalize"`` a NaN in X is a missing value. Incomplete
unlabelled rows take the exact EM for missing coordinates
(:mod:`gaussmle._mixture_missing`: marginal densities in the E-step; in the
M-step the conditional expectation of the missing coordinates given the
observed ones, and their conditional covariance added to the scatter), for
all four covariance types. Incomplete labelled rows: under diag and
spherical covariances they keep the supervised fit's available-case
statistics (each feature from the rows where it is observed); under full and
tied ones they take the same exact EM with their responsibility one-hot on
their class, and the fit then starts from the labelled rows' available-case
means and variances (covariances diagonal). Every row scores by the density
of its observed features, so the log-likelihood is that of the observed
values, which EM never decreases.

Labels that are missing (None, NaN, pandas' NA) are named by the sentinel
:data:`MISSING_LABEL`: ``GaussianClassifier(unlabelled=MISSING_LABEL)``.

Examples
--------
>>> import numpy as np
>>> from gaussmle import GaussianClassifier
>>> X = np.array([[0.0], [0.2], [0.4], [5.0], [5.2], [5.4]])
>>> y = np.array([0, -1, -1, 1, -1, -1])  # one labelled row per class
>>> clf = GaussianClassifier(unlabelled=-1).fit(X, y)
>>> clf.means_.round(3).ravel().tolist(), clf.class_prior_.round(3).tolist(), clf.converged_
([0.2, 5.2], [0.5, 0.5], True)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._labels import labels_and_codes
from ._validation import check_finite, check_sample_weight, plain
from .kernels import _kernels
from .mixture import normalise_rows, weighted_moments
from .stats import GaussianStats, default_chunk_rows

if TYPE_CHECKING:
    from .classifier import GaussianClassifier


class _MissingLabel:
    """The sentinel for "a missing label (None, NaN, pandas' NA) marks an unlabelled row".

    One instance, :data:`MISSING_LABEL`; copies (scikit-learn's ``clone``) are itself.
    """

    def __repr__(self) -> str:
        return "MISSING_LABEL"

    def __copy__(self) -> _MissingLabel:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _MissingLabel:
        return self

    def __reduce__(self) -> str:
        return "MISSING_LABEL"


#: ``unlabelled=MISSING_LABEL``: rows whose label is None, NaN or pandas' NA are unlabelled.
MISSING_LABEL = _MissingLabel()


def _labels_array(y: Any) -> np.ndarray:
    """y as a 1-D numpy array (a pandas Series or a one-column frame through ``to_numpy``)."""
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    return np.asarray(y).reshape(-1) if np.ndim(y) > 1 else np.asarray(y)


def unlabelled_mask(y: Any, sentinel: Any) -> np.ndarray:
    """Which labels mark an unlabelled row: equal to ``sentinel``, or missing for MISSING_LABEL.

    A sentinel of another type than the labels (``"-1"`` for integer labels)
    matches no row.

    Examples
    --------
    >>> unlabelled_mask([0, -1, 1], -1).tolist()
    [False, True, False]
    >>> unlabelled_mask(["a", None, float("nan")], MISSING_LABEL).tolist()
    [False, True, True]
    >>> unlabelled_mask(["a", "?"], -1).tolist()
    [False, False]
    """
    from ._validation import _is_missing_label

    values = _labels_array(y)
    if sentinel is MISSING_LABEL:
        if values.dtype.kind == "f":
            return np.isnan(values)
        if values.dtype.kind != "O":
            return np.zeros(values.shape, dtype=bool)
        return np.fromiter(map(_is_missing_label, values), bool, values.size)
    if values.dtype.kind == "O":
        return np.fromiter((type(v) is type(sentinel) and v == sentinel for v in values), bool)
    numeric_sentinel = isinstance(sentinel, (int, float, np.number)) and not isinstance(
        sentinel, bool
    )
    if values.dtype.kind in "iuf" and numeric_sentinel:
        return values == sentinel
    if values.dtype.kind in "US" and isinstance(sentinel, (str, bytes)):
        return values == sentinel
    return np.zeros(values.shape, dtype=bool)


def check_em_parameters(clf: GaussianClassifier) -> tuple[float, int, float]:
    """(unlabelled_weight, max_iter, tol), checked."""
    weight, max_iter, tol = clf.unlabelled_weight, clf.max_iter, clf.tol
    if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)):
        raise ValueError(f"unlabelled_weight must be a number >= 0, got {weight!r}")
    if not (np.isfinite(weight) and weight >= 0):
        raise ValueError(f"unlabelled_weight must be a finite number >= 0, got {weight!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.number)) or not tol >= 0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    return float(weight), int(max_iter), float(tol)


def refuse_unlabelled(clf: GaussianClassifier, what: str) -> None:
    """A clear error where a path cannot take unlabelled rows (partial_fit, Dask, ...)."""
    if clf.unlabelled is not None:
        raise ValueError(
            f"{what} does not support unlabelled rows (unlabelled={clf.unlabelled!r}); "
            "use fit on in-memory arrays, or set unlabelled=None"
        )


def fit_semisupervised(
    clf: GaussianClassifier, X: Any, y: Any, sample_weight: Any
) -> GaussianClassifier:
    """Fit ``clf`` by semi-supervised EM; the plain fit where no row is unlabelled."""
    weight, max_iter, tol = check_em_parameters(clf)
    mask = unlabelled_mask(y, clf.unlabelled)
    values = _labels_array(y)
    if mask.shape != (np.shape(X)[0],):
        raise ValueError(f"y has {mask.size} labels but X has {np.shape(X)[0]} rows")
    if mask.all():
        raise ValueError(
            f"every label is the unlabelled sentinel {clf.unlabelled!r}; label at least one "
            "row of each class"
        )
    if mask.any():  # a labelled value stands in, so the usual checks see valid labels
        values = values.copy()
        values[mask] = values[np.argmin(mask)]
        if values.dtype.kind == "O":  # e.g. integers with None: integers once the gaps are filled
            inferred = np.array(values.tolist())
            values = inferred if inferred.dtype.kind in "iubUS" else values
    X, values = clf._validate(X, values, reset=True)
    if clf._allow_nan():
        _check_missing_values(clf, X, mask)
    else:
        check_finite(X)
    w = check_sample_weight(sample_weight, X.shape[0])
    labelled = ~mask
    classes, codes = labels_and_codes(values[labelled])
    w_labelled = None if w is None else w[labelled]
    gappy_labels = clf._allow_nan() and _exact_labelled(clf, X[labelled])
    if gappy_labels:  # the EM runs even without unlabelled rows: it fills the labelled gaps
        start = _start_with_gaps(X[labelled], codes, classes, w_labelled)
        clf._absorb(start, classes)
    else:
        clf._update(X[labelled], codes, classes, w_labelled, encoded=True)
    if not gappy_labels and (not mask.any() or weight == 0.0):
        _set_em_attributes(clf, 1, True, np.nan)  # as the plain fit
        return clf
    small = X.shape[1] <= _kernels.SMALL_ALGEBRA_FEATURES
    with _kernels.one_blas_thread() if small else nullcontext():  # small solves: no BLAS threads
        _run_em(clf, X, labelled, codes, w, weight, max_iter, tol)
    return clf


def _check_missing_values(clf: GaussianClassifier, X: np.ndarray, unlabelled: np.ndarray) -> None:
    """With missing="marginalize": no infinity, no unlabelled row without an observed value,
    no plug-in-free (predictive) densities for incomplete unlabelled rows."""
    from ._mixture_missing import check_missing_rows

    missing = np.isnan(X)
    if np.isinf(X).any():
        check_missing_rows(missing, X)  # says where the infinity is
    if _exact_labelled(clf, X[~unlabelled]):
        _check_labelled_gaps(clf, missing, ~unlabelled)
    incomplete = unlabelled & missing.any(axis=1)
    if not incomplete.any():
        return
    if missing[unlabelled].all(axis=1).any():
        row = int(np.flatnonzero(unlabelled & missing.all(axis=1))[0])
        raise ValueError(
            f"unlabelled row {row} of X has no observed value (every feature is NaN); drop "
            "such rows first"
        )
    if clf.predictive:
        raise ValueError(
            "predictive=True cannot fill in the missing values of unlabelled rows (the EM "
            "needs the plug-in Gaussians); set predictive=False or drop the incomplete "
            "unlabelled rows"
        )


def _exact_labelled(clf: GaussianClassifier, XL: np.ndarray) -> bool:
    """True when labelled rows have gaps that the exact EM fills in (full and tied
    covariances; diag and spherical keep available-case statistics)."""
    return clf._stats_kind() == "full" and bool(np.isnan(XL).any())


def _check_labelled_gaps(
    clf: GaussianClassifier, missing: np.ndarray, labelled: np.ndarray
) -> None:
    """Incomplete labelled rows under full/tied: each needs an observed value, and plug-in
    Gaussians (the EM fills their gaps from them)."""
    if missing[labelled].all(axis=1).any():
        row = int(np.flatnonzero(labelled & missing.all(axis=1))[0])
        raise ValueError(
            f"labelled row {row} of X has no observed value (every feature is NaN); drop "
            "such rows first"
        )
    if clf.predictive:
        raise ValueError(
            "predictive=True cannot fill in the missing values of labelled rows (the EM "
            "needs the plug-in Gaussians); set predictive=False or drop the incomplete "
            "labelled rows"
        )


def _start_with_gaps(
    XL: np.ndarray, codes: np.ndarray, classes: np.ndarray, w: np.ndarray | None
) -> GaussianStats:
    """Full statistics to start the EM from when labelled rows have gaps (full and tied).

    Per class, the available-case means and variances of its labelled rows (each
    feature from the rows where it is observed) and no correlation: the scatter
    is ``diag(count * variance)``. A class must observe every feature at least once.
    """
    diag = GaussianStats.from_groups(XL, codes, len(classes), w, kind="diag", missing="ignore")
    seen = diag.n_per_feature
    never = (seen == 0) & (diag.count > 0)[:, None]
    if never.any():
        c, j = np.argwhere(never)[0]
        raise ValueError(
            f"class {plain(classes[c])} has no observed "
            f"value of feature {j} in its labelled rows (all missing); its distribution cannot "
            "be estimated: label more rows or drop the feature"
        )
    variance = diag.m2 / np.where(seen > 0, seen, 1.0)
    m2 = (diag.count[:, None] * variance)[:, :, None] * np.eye(XL.shape[1])
    return GaussianStats(diag.count, diag.mean, m2, "full")


def _own_class(R: np.ndarray) -> np.ndarray:
    """Normalisation of labelled rows under their own class (one column): responsibility
    one, and log p(x_o, y) is the joint log density itself."""
    logp = R[:, 0].copy()
    R[:] = 1.0
    return logp


def _set_em_attributes(clf: GaussianClassifier, n_iter: int, converged: bool, ll: float) -> None:
    clf.n_iter_ = n_iter
    clf.converged_ = converged
    clf.lower_bound_ = ll


def _run_em(
    clf: GaussianClassifier,
    X: np.ndarray,
    labelled: np.ndarray,
    codes: np.ndarray,
    w: np.ndarray | None,
    weight: float,
    max_iter: int,
    tol: float,
) -> None:
    """EM from the labelled-only fit in ``clf`` until the mean log-likelihood settles."""
    kind = clf.class_stats_.kind
    XL, XU = X[labelled], X[~labelled]
    wL = np.ones(XL.shape[0]) if w is None else w[labelled]
    wU = weight * (np.ones(XU.shape[0]) if w is None else w[~labelled])
    total_weight = float(wL.sum() + wU.sum())
    gaps = _Gaps(XL, codes, wL, XU, wU, _exact_labelled(clf, XL)) if clf._allow_nan() else None
    reference = XU.mean(axis=0) if gaps is None else clf.class_stats_.pooled().mean
    # the labelled rows' statistics that every M-step starts from (their complete rows'
    # when the EM fills in their gaps)
    fixed = clf.class_stats_ if gaps is None else gaps.fixed(clf.class_stats_, len(clf.classes_))

    def one_pass() -> tuple[GaussianStats, float]:
        if gaps is None:
            unlabelled_stats, ll_unlabelled = _e_and_m(clf, XU, wU, kind, reference)
            joint = clf._densities.joint(XL)[np.arange(XL.shape[0]), codes]
            ll_labelled = float(wL @ joint)
        else:
            labelled_stats, ll_labelled = gaps.labelled_e_and_m(clf, kind, reference)
            unlabelled_stats, ll_unlabelled = gaps.e_and_m(clf, kind, reference)
            if labelled_stats is not None:
                unlabelled_stats = labelled_stats.merge(unlabelled_stats)
        return unlabelled_stats, (ll_labelled + ll_unlabelled) / total_weight

    iterate_em(clf, fixed, one_pass, max_iter, tol, stacklevel=4)


def iterate_em(
    clf: GaussianClassifier,
    fixed: GaussianStats,
    one_pass: Callable[[], tuple[GaussianStats, float]],
    max_iter: int,
    tol: float,
    *,
    stacklevel: int,
) -> None:
    """The EM loop every semi-supervised fit shares (in memory, on Dask).

    Each iteration, ``one_pass()`` returns the weighted statistics the current
    model gives the rows that are not fixed and the mean log-likelihood; the
    model becomes the fit to ``fixed`` (the labelled rows' statistics) merged
    with them. Stops when the mean log-likelihood changes by less than
    ``tol`` or after ``max_iter`` iterations (a ConvergenceWarning), and sets
    ``n_iter_``, ``converged_`` and the log-likelihood on ``clf``.
    """
    previous = -np.inf
    converged = False
    ll = np.nan
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        added, ll = one_pass()
        del clf.class_stats_  # _absorb merges with what is there: start from the labelled rows
        clf._absorb(fixed.merge(added), clf.classes_)
        if abs(ll - previous) < tol:
            converged = True
            break
        previous = ll
    _set_em_attributes(clf, n_iter, converged, ll)
    if not converged:
        warnings.warn(
            f"semi-supervised EM did not converge in max_iter={max_iter} iterations (the mean "
            f"log-likelihood last changed by {plain(abs(ll - previous))}); raise max_iter or tol",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


def _e_and_m(
    clf: GaussianClassifier, XU: np.ndarray, wU: np.ndarray, kind: str, reference: np.ndarray
) -> tuple[GaussianStats, float]:
    """Per-class weighted statistics of the unlabelled rows and their weighted sum of log p(x).

    Chunk by chunk: the posteriors from the classifier's density evaluator are
    folded into centred weighted statistics (in coordinates shifted by
    ``reference``) and dropped; chunks merge exactly.
    """
    d = XU.shape[1]
    k = len(clf.classes_)
    rows = default_chunk_rows(d)
    total = GaussianStats.empty(d, kind, (k,))
    loglik = 0.0
    for start in range(0, XU.shape[0], rows):
        chunk = XU[start : start + rows]
        wc = wU[start : start + rows]
        R = clf._densities.joint(chunk)
        logp = normalise_rows(R)  # R: the posteriors, in place
        if not np.isfinite(logp).all():
            raise ValueError(
                "an unlabelled row has no finite density under any class (values of about "
                "1e154 or more?); rescale the data first"
            )
        loglik += float(wc @ logp)
        R *= wc[:, None]
        Z = np.subtract(chunk, reference, dtype=np.float64)
        total = total.merge(GaussianStats(*weighted_moments(Z, R, kind), kind))
    return total.shifted(reference), loglik


class _Gaps:
    """The rows of a semi-supervised fit with missing values (``missing="marginalize"``).

    Labelled rows keep their class. Under diag and spherical covariances
    (``exact=False``) they keep their available-case statistics (the
    supervised fit's) and score by their marginal density. Under full and
    tied ones (``exact=True``) the complete ones keep their statistics and the
    incomplete ones take the exact EM for missing coordinates of
    :mod:`gaussmle._mixture_missing` with their responsibility one-hot on their
    class. Unlabelled rows: the complete ones take the usual E- and M-step; the
    incomplete ones the exact EM (marginal densities in the E-step, conditional
    expectations of the missing coordinates and their conditional covariance in
    the M-step).
    """

    def __init__(
        self,
        XL: np.ndarray,
        codes: np.ndarray,
        wL: np.ndarray,
        XU: np.ndarray,
        wU: np.ndarray,
        exact: bool,
    ) -> None:
        from ._mixture_missing import Patterns

        self.XL, self.codes, self.wL, self.missing_L = XL, codes, wL, np.isnan(XL)
        self.exact = exact
        gappy = self.missing_L.any(axis=1)
        self.labelled_complete = ~gappy if exact else np.ones(XL.shape[0], dtype=bool)
        # per class: its incomplete labelled rows (indices into XL) and their patterns
        self.by_class = [
            (rows, Patterns.of(self.missing_L[rows]))
            for rows in (np.flatnonzero(gappy & (codes == c)) for c in np.unique(codes))
        ] if exact else []  # fmt: skip
        missing = np.isnan(XU)
        incomplete = missing.any(axis=1)
        self.complete = (XU[~incomplete], wU[~incomplete])
        self.XI, self.wI, self.missing_I = XU[incomplete], wU[incomplete], missing[incomplete]
        self.patterns = Patterns.of(self.missing_I)

    def fixed(self, start: GaussianStats, k: int) -> GaussianStats:
        """The labelled rows' statistics that do not change between iterations."""
        if not self.exact:
            return start
        keep = self.labelled_complete
        if not keep.any():
            return GaussianStats.empty(self.XL.shape[1], "full", (k,))
        return GaussianStats.from_groups(
            self.XL[keep], self.codes[keep], k, self.wL[keep], kind="full"
        )

    def labelled_joint(self, clf: GaussianClassifier) -> np.ndarray:
        """log prior + log density of each labelled row's observed features (n_L, k)."""
        from ._missing import evaluate_with_missing
        from .densities import DensityEvaluator

        incomplete = self.missing_L.any(axis=1)
        return evaluate_with_missing(
            clf._densities, self.XL, self.missing_L, incomplete, DensityEvaluator.joint
        )

    def labelled_e_and_m(
        self, clf: GaussianClassifier, kind: str, reference: np.ndarray
    ) -> tuple[GaussianStats | None, float]:
        """The incomplete labelled rows' expected statistics (None unless ``exact``) and the
        weighted sum of every labelled row's log p(x_o, y)."""
        from ._mixture_missing import Components, missing_pass

        if not self.exact:
            joint = self.labelled_joint(clf)[np.arange(self.XL.shape[0]), self.codes]
            return None, float(self.wL @ joint)
        keep = self.labelled_complete
        joint = clf._densities.joint(self.XL[keep])[np.arange(int(keep.sum())), self.codes[keep]]
        loglik = float(self.wL[keep] @ joint)
        k, d = len(clf.classes_), self.XL.shape[1]
        comp = _components(clf, kind, reference)
        total = GaussianStats.empty(d, kind, (k,))
        for c, (rows, patterns) in zip(np.unique(self.codes), self.by_class, strict=True):
            if not rows.size:
                continue
            own = Components(
                comp.means[c : c + 1], comp.log_weight[c : c + 1],
                covariances=comp.covariances[c : c + 1],
            )  # fmt: skip
            part = missing_pass(
                self.XL[rows], reference, self.missing_L[rows], self.wL[rows], patterns, own,
                kind, default_chunk_rows(d), 0, weighted_moments, _own_class,
            )  # fmt: skip
            total = total.merge(part.stats.regroup([c], k))
            loglik += part.loglik
        return total.shifted(reference), loglik

    def e_and_m(
        self, clf: GaussianClassifier, kind: str, reference: np.ndarray
    ) -> tuple[GaussianStats, float]:
        """Per-class statistics of the unlabelled rows, and their weighted sum of log p(x_o)."""
        from ._mixture_missing import missing_pass

        XC, wC = self.complete
        stats, loglik = _e_and_m(clf, XC, wC, kind, reference)
        if not self.XI.shape[0]:
            return stats, loglik
        comp = _components(clf, kind, reference)
        part = missing_pass(
            self.XI, reference, self.missing_I, self.wI, self.patterns, comp, kind,
            default_chunk_rows(self.XI.shape[1]), 0, weighted_moments, normalise_rows,
        )  # fmt: skip
        return stats.merge(part.stats.shifted(reference)), loglik + part.loglik


def _components(clf: GaussianClassifier, kind: str, reference: np.ndarray) -> Any:
    """The classes' Gaussians in coordinates shifted by ``reference``, as the missing-value
    steps of :mod:`gaussmle._mixture_missing` take them (priors as mixture weights)."""
    from ._mixture_missing import Components

    seen = clf.class_stats_.count > 0
    with np.errstate(divide="ignore"):
        log_prior = np.where(seen, np.log(clf.class_prior_), -np.inf)
    return Components.of(clf.means_ - reference, clf.covariances_, log_prior, kind)
