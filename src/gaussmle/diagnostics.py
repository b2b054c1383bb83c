"""Diagnostics of a Gaussian classifier: is the data Gaussian, is a point familiar, why this class.

* :func:`normality_tests` and :func:`warnings_for`: a test of the Gaussian
  assumption per class and feature, and one plain sentence per feature that
  fails it;
* :func:`ood_score` and :func:`ood_threshold`: how well the best class explains
  a point (the largest class-conditional log density), to flag points that no
  class explains;
* :func:`explain`: for diagonal models, each feature's share of the log-odds
  between the two most probable classes of a row.

Examples
--------
>>> import numpy as np
>>> from gaussmle import GaussianClassifier
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(0.0, 1.0, (50, 2)), rng.normal(4.0, 1.0, (50, 2))])
>>> y = np.repeat(["purple", "yellow"], 50)
>>> model = GaussianClassifier().fit(X, y)
>>> scores = ood_score(model, [[0.0, 0.0], [40.0, -40.0]])
>>> bool(scores[1] < ood_threshold(model, X) < scores[0])
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._explain import Explanation, explain
from ._validation import as_float_array, feature_names_or_default
from .classifier import GaussianClassifier

__all__ = [
    "SHAPIRO_MAX_N",
    "Explanation",
    "NormalityTest",
    "explain",
    "normality_tests",
    "ood_score",
    "ood_threshold",
    "warnings_for",
]

#: Largest sample for the Shapiro-Wilk test; larger ones use D'Agostino-Pearson.
SHAPIRO_MAX_N = 5000
#: Fewest samples a class needs to be tested.
MIN_SAMPLES = 3

SHAPIRO = "Shapiro-Wilk"
DAGOSTINO = "D'Agostino-Pearson"


# ---------------------------------------------------------------------- normality
@dataclass(frozen=True)
class NormalityTest:
    """The result of testing one feature of one class for normality.

    Attributes
    ----------
    class_label : Any
        The class.
    feature : str
        The feature name.
    test : str or None
        ``"Shapiro-Wilk"`` (n <= 5000), ``"D'Agostino-Pearson"`` (n > 5000), or
        ``None`` when the feature was not tested (see ``note``).
    statistic, p_value : float
        The test statistic and its p-value (NaN when not tested).
    n : int
        Samples of the class.
    skewness, excess_kurtosis : float
        Sample skewness and excess kurtosis (0 for a Gaussian; NaN when not
        computable).
    far_from_gaussian : bool
        ``p_value < alpha``.
    note : str or None
        Why the feature was not tested (too few samples, constant values).
    """

    class_label: Any
    feature: str
    test: str | None
    statistic: float
    p_value: float
    n: int
    skewness: float
    excess_kurtosis: float
    far_from_gaussian: bool
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict of plain Python values."""
        return asdict(self)


def normality_tests(
    X: Any, y: Any, feature_names: Any = None, alpha: float = 0.01
) -> list[NormalityTest]:
    """Test every feature of every class for normality.

    The Gaussian classifier assumes each class is Gaussian; for diag models,
    each feature within each class. Shapiro-Wilk is used for classes of at
    most 5000 samples and D'Agostino-Pearson's omnibus test (skewness and
    kurtosis) beyond. Classes with fewer than 3 samples are not tested, nor
    are features constant within a class; their ``note`` says so.

    With many classes and features some Gaussian features are flagged by
    chance (a fraction ``alpha`` of them); a tiny p-value together with a
    large skewness or kurtosis is what deserves attention. With thousands of
    samples even harmless departures reach tiny p-values.

    Parameters
    ----------
    X : array-like of shape (n, d) or a DataFrame
    y : array-like of shape (n,)
        Class labels.
    feature_names : sequence of str, optional
        Defaults to the DataFrame's columns, else ``x0, x1, ...``.
    alpha : float, default 0.01
        Significance level of ``far_from_gaussian``.

    Returns
    -------
    list of NormalityTest
        One per (class, feature), classes in sorted order.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> X = np.column_stack([rng.normal(size=200), rng.exponential(size=200)])
    >>> y = np.repeat(["purple", "yellow"], 100)
    >>> results = normality_tests(X, y, feature_names=["elegance", "aromatic lift"])
    >>> [(r.class_label, r.feature) for r in results if r.far_from_gaussian]
    [('purple', 'aromatic lift'), ('yellow', 'aromatic lift')]
    >>> results[0].test, results[0].n
    ('Shapiro-Wilk', 100)
    """
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha!r}")
    names = _feature_names(X, feature_names)
    X = as_float_array(X)
    y = column_or_1d(np.asarray(y))
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
    names = feature_names_or_default(names, X.shape[1])
    results: list[NormalityTest] = []
    for label in np.unique(y):
        rows = X[y == label]
        label = label.item() if isinstance(label, np.generic) else label
        n = rows.shape[0]
        for j, name in enumerate(names):
            results.append(_test_one(label, name, rows[:, j], n, float(alpha)))
    return results


def _test_one(label: Any, name: str, values: np.ndarray, n: int, alpha: float) -> NormalityTest:
    nan = float("nan")
    if n < MIN_SAMPLES:
        note = (
            f"class '{label}': skipped, only {n} sample{'s' if n != 1 else ''} "
            f"(the tests need at least {MIN_SAMPLES})"
        )
        return NormalityTest(label, name, None, nan, nan, n, nan, nan, False, note)
    values = values.astype(np.float64, copy=False)
    if np.ptp(values) == 0:
        note = (
            f"class '{label}', feature '{name}': constant (all {n} values equal), so not "
            "tested; its variance is only the var_smoothing floor"
        )
        return NormalityTest(label, name, None, nan, nan, n, nan, nan, False, note)
    skewness = float(sps.skew(values))
    kurtosis = float(sps.kurtosis(values, fisher=True))
    if n <= SHAPIRO_MAX_N:
        test, (statistic, p_value) = SHAPIRO, sps.shapiro(values)
    else:
        test, (statistic, p_value) = DAGOSTINO, sps.normaltest(values)
    p_value = float(p_value)
    return NormalityTest(
        label, name, test, float(statistic), p_value, n, skewness, kurtosis, p_value < alpha
    )


def warnings_for(results: list[NormalityTest]) -> list[str]:
    """One plain sentence per (class, feature) far from Gaussian, then the notes.

    Parameters
    ----------
    results : list of NormalityTest
        From :func:`normality_tests`.

    Returns
    -------
    list of str
        Sentences for the flagged features, followed by each distinct note
        (skipped classes, constant features).

    Examples
    --------
    >>> r = NormalityTest("yellow", "elegance", "Shapiro-Wilk", 0.8, 2.1e-05, 40, 1.8, 4.0, True)
    >>> warnings_for([r])
    ["class 'yellow', feature 'elegance': far from Gaussian (Shapiro-Wilk p = 2.1e-05, skewness 1.8); consider a transformation"]
    """  # noqa: E501
    out = []
    for r in results:
        if r.far_from_gaussian:
            p = "p < 1e-300" if r.p_value == 0 else f"p = {r.p_value:.2g}"
            shape = f"skewness {r.skewness:.1f}"
            if abs(r.excess_kurtosis) > 1.0 and abs(r.excess_kurtosis) > 3 * abs(r.skewness):
                shape += f", excess kurtosis {r.excess_kurtosis:.1f}"
            out.append(
                f"class '{r.class_label}', feature '{r.feature}': far from Gaussian "
                f"({r.test} {p}, {shape}); consider a transformation"
            )
    seen: set[str] = set()
    for r in results:
        if r.note and r.note not in seen:
            seen.add(r.note)
            out.append(r.note)
    return out


# ---------------------------------------------------------------------- out of distribution
def ood_score(model: GaussianClassifier, X: Any) -> np.ndarray:
    """Out-of-distribution score: the largest class-conditional log density.

    ``score(x) = max_c log N(x | mu_c, Sigma_c)`` over the classes with a
    positive prior; class priors play no part. Low values flag points that no
    class explains, however confidently the classifier labels them (far from
    every class, ``predict_proba`` still gives one class probability 1).
    Compare with :func:`ood_threshold`.

    Parameters
    ----------
    model : GaussianClassifier
        A fitted model.
    X : array-like of shape (n, d)

    Returns
    -------
    ndarray of shape (n,)
        ``-inf`` where every density underflows (points extremely far away).

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> model = GaussianClassifier().fit([[0.0], [2.0], [10.0], [12.0]], [0, 0, 1, 1])
    >>> ood_score(model, [[1.0], [11.0], [100.0]]).round(2).tolist()
    [-0.92, -0.92, -3961.42]
    """
    check_is_fitted(model, "class_stats_")
    usable = (np.asarray(model.class_prior_) > 0) & (np.asarray(model.class_count_) > 0)
    if not usable.any():
        raise ValueError("the model has no class with a positive prior and training data")
    joint = np.asarray(model.predict_joint_log_proba(X))[:, usable]
    # log p(x, c) - log prior_c = log N(x | c); -inf (underflow) stays -inf
    joint -= np.log(model.class_prior_[usable])
    return joint.max(axis=1)


def ood_threshold(model: GaussianClassifier, X_train: Any, quantile: float = 0.001) -> float:
    """The score below which a fraction ``quantile`` of the training points fall.

    A data-driven default for flagging out-of-distribution points: with the
    default, about 1 training point in 1000 would itself be flagged.

    Parameters
    ----------
    model : GaussianClassifier
    X_train : array-like of shape (n, d)
        The training data (or any data considered in-distribution).
    quantile : float, default 0.001

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmle import GaussianClassifier
    >>> X = np.random.default_rng(0).normal(size=(1000, 1))
    >>> model = GaussianClassifier().fit(X, np.zeros(1000))
    >>> t = ood_threshold(model, X, quantile=0.05)
    >>> float(np.mean(ood_score(model, X) < t))
    0.05
    """
    if not 0.0 <= float(quantile) <= 1.0:
        raise ValueError(f"quantile must be between 0 and 1; got {quantile!r}")
    return float(np.quantile(ood_score(model, X_train), float(quantile)))


# ---------------------------------------------------------------------- explanations
# ---------------------------------------------------------------------- helpers
def _feature_names(X: Any, feature_names: Any) -> list[str] | None:
    if feature_names is not None:
        return [str(name) for name in feature_names]
    columns = getattr(X, "columns", None)
    if columns is not None:
        return [str(name) for name in columns]
    return None
