"""GaussianClassifier: one Gaussian per class, fitted by maximum likelihood.

``covariance_type="diag"`` is Gaussian naive Bayes, ``"full"`` is quadratic
discriminant analysis, ``"tied"`` is linear discriminant analysis and
``"spherical"`` is a nearest-mean classifier with one variance per class.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import _kernels
from ._jll import ClassDensities
from ._labels import encode_labels, labels_and_codes, labels_of_codes, unique_labels
from ._student import StudentDensities
from ._validation import (
    COVARIANCE_TYPES,
    check_choice,
    check_finite,
    check_labels_present,
    check_sample_weight,
    check_var_smoothing,
    plain,
    priors_for_classes,
    shown_labels,
)
from .covariance import covariances_from_stats
from .prior import map_estimate, predictive_parameters
from .stats import GaussianStats


class GaussianClassifier(ClassifierMixin, BaseEstimator):
    """Generative classifier with one maximum likelihood Gaussian per class.

    Parameters
    ----------
    covariance_type : {"diag", "full", "tied", "spherical"}, default "diag"
        ``"diag"``: independent features (Gaussian naive Bayes);
        ``"full"``: a covariance matrix per class (QDA);
        ``"tied"``: one covariance matrix shared by all classes (LDA), the
        within-class scatter of all classes divided by the total weight;
        ``"spherical"``: one variance per class.
    priors : array-like of shape (n_classes,) or mapping, optional
        Class prior probabilities, in the order of ``classes_`` or as a mapping
        from class to prior; by default the weighted class frequencies.
    var_smoothing : float, default 1e-9
        ``epsilon_ = var_smoothing * (largest per-feature variance of all data
        seen)`` is added to every variance (the diagonal, for full/tied), as in
        scikit-learn's GaussianNB, but computed from the merged statistics of
        all data seen, so ``fit`` and any sequence of ``partial_fit`` agree.
        Applies to the MLE only: the MAP needs no smoothing.
    estimator : {"mle", "map"}, default "mle"
        Maximum likelihood, or the maximum a posteriori estimate under the
        conjugate ``prior`` (see :mod:`gaussmle.prior`).
    prior : ConjugatePrior or dict, optional
        The conjugate prior for ``estimator="map"`` or ``predictive=True``;
        by default weak (0.01 pseudo-observations for the means, 1 for the
        variances) and centred on the pooled data.
    predictive : bool, default False
        Classify with the posterior predictive class densities (Student t)
        instead of plugging in point estimates; means_ and covariances_ then
        report the MAP.
    missing : {"error", "marginalize"}, default "error"
        What NaN in X means. ``"error"``: a clear error. ``"marginalize"``:
        a missing value. Prediction then uses the exact marginal density of
        the observed features (diag/spherical: the missing terms drop out;
        full/tied: the marginal Gaussian of the observed block). Fitting
        (diag and spherical only) keeps available-case statistics per
        feature, which are valid when values are missing at random.

    Attributes
    ----------
    classes_ : ndarray (k,)
    class_count_ : ndarray (k,) -- sum of sample weights per class
    class_prior_ : ndarray (k,)
    means_ : ndarray (k, d)
    covariances_ : ndarray -- full (k, d, d), tied (d, d), diag (k, d), spherical (k,)
    epsilon_ : float
    class_stats_ : GaussianStats -- the per-class sufficient statistics, batch (k,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str, when fitted on a DataFrame

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmle import GaussianClassifier
    >>> X = np.array([[-1.0, -1.2], [-0.8, -1.0], [-1.1, -0.7], [1.0, 1.1], [0.9, 1.3], [1.2, 0.8]])
    >>> y = np.array(["purple"] * 3 + ["yellow"] * 3)
    >>> clf = GaussianClassifier().fit(X, y)
    >>> clf.predict([[-1.0, -0.9], [1.1, 1.0]]).tolist()
    ['purple', 'yellow']
    >>> clf.predict_proba([[0.0, 0.1]]).round(3).tolist()
    [[0.867, 0.133]]
    """

    def __init__(
        self,
        covariance_type: str = "diag",
        priors: Any = None,
        var_smoothing: float = 1e-9,
        estimator: str = "mle",
        prior: Any = None,
        predictive: bool = False,
        missing: str = "error",
    ) -> None:
        self.covariance_type = covariance_type
        self.priors = priors
        self.var_smoothing = var_smoothing
        self.estimator = estimator
        self.prior = prior
        self.predictive = predictive
        self.missing = missing

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GaussianClassifier:
        """Fit one Gaussian per class to labelled data.

        Parameters
        ----------
        X : array-like (n, d), a DataFrame, or a dask array / DataFrame
        y : array-like (n,) of labels (ints, strings or any sortable values)
        sample_weight : array-like (n,), optional

        Returns
        -------
        self
        """
        self._reset()
        if _is_dask(X):
            from .dask_backend import fit_classifier_stats

            return fit_classifier_stats(self, X, y, sample_weight, first=True)
        X, y = self._validate(X, y, reset=True)
        classes, codes = labels_and_codes(y)
        return self._update(X, codes, classes, sample_weight, encoded=True)

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> GaussianClassifier:
        """Update the model with another batch of labelled data.

        ``classes`` (all labels that will ever appear) is required on the first
        call. The statistics of the batch are merged exactly with those seen
        so far, so any sequence of batches gives the model ``fit`` gives on
        their union.

        Examples
        --------
        >>> import numpy as np
        >>> X, y = np.array([[0.0], [1.0], [5.0], [6.0]]), np.array([0, 0, 1, 1])
        >>> clf = GaussianClassifier().partial_fit(X[:3], y[:3], classes=[0, 1])
        >>> clf.partial_fit(X[3:], y[3:]).means_.ravel().tolist()
        [0.5, 5.5]
        """
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit; pass every "
                "label that can occur, e.g. classes=np.unique(y_all)"
            )
        if _is_dask(X):
            from .dask_backend import fit_classifier_stats

            if first:
                self._reset()
            return fit_classifier_stats(self, X, y, sample_weight, first=first, classes=classes)
        X, y = self._validate(X, y, reset=first)
        if first:
            classes = np.unique(column_or_1d(np.asarray(classes)))
        elif classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), self.classes_
        ):
            raise ValueError(
                f"classes={shown_labels(classes)} differs from the classes of the first "
                f"call to partial_fit {shown_labels(self.classes_)}; pass the same classes or none"
            )
        return self._update(X, y, self.classes_ if not first else classes, sample_weight)

    def _reset(self) -> None:
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("__"):
                delattr(self, name)

    def _validate(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        check_choice(self.covariance_type, COVARIANCE_TYPES, name="covariance_type")
        check_labels_present(y)
        # NaN and infinity are caught by the statistics (one pass saved)
        X, y = validate_data(
            self, X, y, reset=reset, dtype=(np.float64, np.float32), ensure_all_finite=False
        )
        if y.dtype.kind not in "iubUS":  # integers and strings are labels by nature
            check_classification_targets(y)
        return X, y

    def _update(
        self,
        X: np.ndarray,
        y: np.ndarray,
        classes: np.ndarray,
        sample_weight: Any,
        *,
        encoded: bool = False,
    ) -> GaussianClassifier:
        """Merge the statistics of (X, y) into the model; ``encoded``: y holds class codes."""
        codes = y if encoded else encode_labels(y, classes)
        w = check_sample_weight(sample_weight, X.shape[0])
        skip = "ignore" if self._allow_nan() and np.isnan(X).any() else "error"
        batch = GaussianStats.from_groups(
            X, codes, len(classes), w, kind=self._stats_kind(), missing=skip
        )
        return self._absorb(batch, classes)

    def _allow_nan(self) -> bool:
        return check_choice(self.missing, ("error", "marginalize"), name="missing") != "error"

    def _stats_kind(self) -> str:
        return "full" if self.covariance_type in ("full", "tied") else "diag"

    def _absorb(self, batch: GaussianStats, classes: np.ndarray) -> GaussianClassifier:
        """Merge per-class statistics into the model and refresh the parameters."""
        if hasattr(self, "class_stats_"):
            batch = self.class_stats_.merge(batch)
        self.classes_ = np.asarray(classes)
        self.class_stats_ = batch
        small = batch.n_features <= _kernels.SMALL_ALGEBRA_FEATURES
        with _kernels.one_blas_thread() if small else nullcontext():
            self._refresh()
        return self

    def _refresh(self) -> None:
        """Derive every fitted parameter from ``class_stats_`` (the only state)."""
        stats = self.class_stats_
        k = len(self.classes_)
        self.n_features_in_ = stats.n_features
        self.class_count_ = stats.count.copy()
        self.class_prior_ = self._priors(stats.count)
        pooled = stats.pooled()
        check_choice(self.estimator, ("mle", "map"), name="estimator")
        bayesian = self.estimator == "map" or bool(self.predictive)
        cov_stats = stats if self.covariance_type != "diag" else stats.to_diag()
        if bayesian:
            self.epsilon_ = 0.0
            self.means_, self.covariances_ = map_estimate(
                cov_stats, self.covariance_type, self.prior, pooled
            )
        else:
            self.epsilon_ = self._epsilon(pooled)
            self.means_ = stats.mean.copy()
            self.covariances_ = covariances_from_stats(
                cov_stats, self.covariance_type, self.epsilon_
            )
            self._check_positive_variances()
        self._check_observed_features()
        seen = stats.count > 0
        with np.errstate(divide="ignore"):
            log_prior = np.where(seen, np.log(self.class_prior_), -np.inf)
        labels = [str(c) for c in self.classes_]
        if self.predictive:
            location, scale, df = predictive_parameters(
                cov_stats, self.covariance_type, self.prior, pooled
            )
            self._densities = StudentDensities(
                location, scale, df, self.covariance_type, log_prior, labels
            )
            return
        reference = pooled.mean
        self._densities = ClassDensities(
            np.where(seen[:, None], self.means_, reference),
            self._covariances_for_scoring(seen, k),
            self.covariance_type,
            reference,
            log_prior,
            labels,
        )

    def _epsilon(self, pooled: GaussianStats) -> float:
        """var_smoothing times the largest variance of all data seen."""
        smoothing = check_var_smoothing(self.var_smoothing)
        largest = float(np.max(pooled.variance))
        if largest == 0.0:
            # every feature is constant in all data seen: no scale to borrow, so the
            # smoothing is taken in the data's own units
            return smoothing
        return smoothing * largest

    def _covariances_for_scoring(self, seen: np.ndarray, k: int) -> np.ndarray:
        """Covariances with unseen classes replaced by a harmless placeholder."""
        cov = self.covariances_
        if seen.all() or self.covariance_type == "tied":
            return cov
        placeholder = {
            "diag": np.ones(self.n_features_in_),
            "spherical": 1.0,
            "full": np.eye(self.n_features_in_),
        }[self.covariance_type]
        mask = seen.reshape((k,) + (1,) * (cov.ndim - 1))
        return np.where(mask, cov, placeholder)

    def _check_observed_features(self) -> None:
        """With missing values, every class needs each feature observed at least once."""
        stats = self.class_stats_
        if stats.feature_count is None:
            return
        never = (stats.feature_count == 0) & (stats.count > 0)[:, None]
        if never.any():
            c, j = np.argwhere(never)[0]
            raise ValueError(
                f"class {plain(self.classes_[c])} has no observed value of feature {j} (all "
                "missing); its distribution cannot be estimated: add data or drop the feature"
            )

    def _check_positive_variances(self) -> None:
        seen = self.class_stats_.count > 0
        cov = self.covariances_
        if self.covariance_type == "tied":
            var = np.diagonal(cov)[None, :]
        elif self.covariance_type == "full":
            var = np.diagonal(cov, axis1=1, axis2=2)[seen]
        else:
            var = np.atleast_2d(cov.T).T[seen] if cov.ndim == 1 else cov[seen]
        if not np.all(var > 0):
            raise ValueError(
                "some class has a zero variance (a constant feature or a single sample) and "
                "var_smoothing is 0; set var_smoothing > 0 (the default is 1e-9)"
            )

    def _priors(self, counts: np.ndarray) -> np.ndarray:
        k = counts.shape[0]
        if self.priors is None:
            return counts / counts.sum()
        priors = np.asarray(priors_for_classes(self.priors, self.classes_), dtype=np.float64)
        if priors.shape != (k,):
            raise ValueError(
                f"priors has {priors.size} values but there are {k} classes; pass one "
                "prior per class, in the order of classes_"
            )
        if not np.isfinite(priors).all() or (priors < 0).any():
            raise ValueError("priors must be finite and non-negative")
        if not np.isclose(priors.sum(), 1.0, rtol=0, atol=1e-8):
            raise ValueError(f"priors must sum to 1; they sum to {priors.sum():.10g}")
        return priors

    # ------------------------------------------------------------------ predicting
    def _check_X(self, X: Any, evaluation: str = "joint") -> np.ndarray:
        """X validated for ``evaluation`` (a ClassDensities method name)."""
        check_is_fitted(self, "class_stats_")
        X = validate_data(
            self, X, reset=False, dtype=(np.float64, np.float32), ensure_all_finite=False
        )
        if self._allow_nan():
            check_finite(np.nan_to_num(X, nan=0.0, posinf=np.inf, neginf=-np.inf))
        elif not self._densities.checks_input(evaluation):  # compiled kernels check as they go
            check_finite(X)
        return X

    def _evaluate(self, X: np.ndarray, method: str) -> np.ndarray:
        """Run a ClassDensities method, marginalising missing features row group by group."""
        if not self._allow_nan():
            return getattr(self._densities, method)(X)
        missing = np.isnan(X)
        incomplete = missing.any(axis=1)
        if not incomplete.any():
            return getattr(self._densities, method)(X)
        from ._missing import evaluate_with_missing

        return evaluate_with_missing(self, X, missing, incomplete, method)

    def predict_joint_log_proba(self, X: Any) -> np.ndarray:
        """log p(x, c) = log prior_c + log N(x | mu_c, Sigma_c), shape (n, k).

        Classes never seen in training get -inf.
        """
        X = self._with_dask(X, "predict_joint_log_proba")
        return X if not isinstance(X, np.ndarray) else self._evaluate(X, "joint")

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log p(c | x) by log-sum-exp, shape (n, k); rows are normalised.

        Examples
        --------
        >>> import numpy as np
        >>> clf = GaussianClassifier().fit([[0.0], [1.0], [9.0], [10.0]], [0, 0, 1, 1])
        >>> p = np.exp(clf.predict_log_proba([[1e6]]))  # far from every class
        >>> p.tolist(), bool(np.isfinite(p).all())
        ([[0.0, 1.0]], True)
        """
        X = self._with_dask(X, "predict_log_proba")
        return X if not isinstance(X, np.ndarray) else self._evaluate(X, "log_posterior")

    def predict_proba(self, X: Any) -> np.ndarray:
        """p(c | x), shape (n, k); each row sums to 1. Computed in row chunks in place."""
        X = self._with_dask(X, "predict_proba")
        return X if not isinstance(X, np.ndarray) else self._evaluate(X, "posterior")

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        X = self._with_dask(X, "predict")
        if not isinstance(X, np.ndarray):
            return X
        return labels_of_codes(self.classes_, self._evaluate(X, "best"))

    def _with_dask(self, X: Any, method: str) -> Any:
        if _is_dask(X):
            check_is_fitted(self, "class_stats_")
            from .dask_backend import predict_blocks

            return predict_blocks(self, X, method)
        return self._check_X(X, _EVALUATION[method])

    # ------------------------------------------------------------------ beyond sklearn
    def loglik(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Total log-likelihood log p(x, y) of labelled data under the model.

        Examples
        --------
        >>> clf = GaussianClassifier().fit([[0.0], [2.0], [10.0], [12.0]], [0, 0, 1, 1])
        >>> round(clf.loglik([[0.0], [2.0], [10.0], [12.0]], [0, 0, 1, 1]), 4)
        -8.4483
        """
        X = self._check_X(X)
        y = column_or_1d(np.asarray(y))
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
        codes = encode_labels(y, self.classes_)
        w = check_sample_weight(sample_weight, X.shape[0])
        joint = self._evaluate(X, "joint")
        picked = joint[np.arange(X.shape[0]), codes]
        return float(picked.sum() if w is None else w @ picked)

    @property
    def n_parameters(self) -> int:
        """Free parameters: k - 1 priors, k d means and the covariance parameters.

        Covariances: diag k d, spherical k, full k d (d + 1) / 2, tied d (d + 1) / 2.
        Priors fixed by the user are not counted.
        """
        check_is_fitted(self, "class_stats_")
        k, d = len(self.classes_), self.n_features_in_
        cov = {
            "diag": k * d,
            "spherical": k,
            "full": k * d * (d + 1) // 2,
            "tied": d * (d + 1) // 2,
        }[self.covariance_type]
        priors = (k - 1) if self.priors is None else 0
        return priors + k * d + cov

    def aic(self, X: Any, y: Any) -> float:
        """Akaike information criterion ``2 p - 2 LL`` of labelled data."""
        return 2.0 * self.n_parameters - 2.0 * self.loglik(X, y)

    def bic(self, X: Any, y: Any) -> float:
        """Bayesian information criterion ``p log(N) - 2 LL`` (N rows)."""
        n = np.asarray(X).shape[0] if not hasattr(X, "shape") else X.shape[0]
        return self.n_parameters * float(np.log(n)) - 2.0 * self.loglik(X, y)

    def merge(self, other: GaussianClassifier) -> GaussianClassifier:
        """A new model trained on the union of both models' training data.

        Classes are united; hyperparameters come from ``self``.

        Examples
        --------
        >>> import numpy as np
        >>> a = GaussianClassifier().fit([[0.0], [1.0], [5.0], [6.0]], [0, 0, 1, 1])
        >>> b = GaussianClassifier().fit([[2.0], [3.0], [9.0], [9.5]], [0, 0, 2, 2])
        >>> m = a.merge(b)
        >>> m.classes_.tolist(), m.class_count_.tolist(), m.means_.ravel().tolist()
        ([0, 1, 2], [4.0, 2.0, 2.0], [1.5, 5.5, 9.25])
        """
        check_is_fitted(self, "class_stats_")
        check_is_fitted(other, "class_stats_")
        if other.n_features_in_ != self.n_features_in_:
            raise ValueError(
                f"cannot merge a model of {other.n_features_in_} features into one of "
                f"{self.n_features_in_}; the features must match"
            )
        names_a = getattr(self, "feature_names_in_", None)
        names_b = getattr(other, "feature_names_in_", None)
        if names_a is not None and names_b is not None and list(names_a) != list(names_b):
            raise ValueError("cannot merge models fitted on different feature names")
        mine, theirs = self.class_stats_, other.class_stats_
        if mine.kind != theirs.kind:
            if self._stats_kind() == "full":
                raise ValueError(
                    f"cannot merge a {other.covariance_type!r} model into a "
                    f"{self.covariance_type!r} one: it lacks the full scatter matrices"
                )
            theirs = theirs.to_diag()
        classes = np.union1d(self.classes_, other.classes_)
        merged = _align(mine, self.classes_, classes).merge(_align(theirs, other.classes_, classes))
        new = type(self)(**self.get_params())
        if names_a is not None or names_b is not None:
            new.feature_names_in_ = names_a if names_a is not None else names_b
        return new._absorb(merged, classes)

    @classmethod
    def from_stats(
        cls,
        class_stats: GaussianStats,
        classes: Any,
        feature_names: Any = None,
        **params: Any,
    ) -> GaussianClassifier:
        """A fitted classifier from per-class statistics (e.g. loaded from a file).

        Examples
        --------
        >>> s = GaussianStats.from_groups([[0.0], [1.0], [4.0], [6.0]], [0, 0, 1, 1], 2)
        >>> GaussianClassifier.from_stats(s, ["a", "b"]).means_.ravel().tolist()
        [0.5, 5.0]
        """
        model = cls(**params)
        if class_stats.kind != model._stats_kind() and model._stats_kind() == "full":
            raise ValueError(f"a {model.covariance_type!r} model needs kind='full' statistics")
        if class_stats.kind != model._stats_kind():
            class_stats = class_stats.to_diag()
        classes = np.asarray(classes)
        if class_stats.batch_shape != (len(classes),):
            raise ValueError("one statistics group per class is needed")
        if feature_names is not None:
            model.feature_names_in_ = np.asarray(feature_names, dtype=object)
        return model._absorb(class_stats, classes)

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _align(stats: GaussianStats, classes: np.ndarray, target: np.ndarray) -> GaussianStats:
    """Per-class statistics re-indexed to ``target`` classes (missing ones empty)."""
    return stats.regroup(np.searchsorted(target, classes), len(target))


def _is_dask(X: Any) -> bool:
    return type(X).__module__.startswith("dask.")


#: The ClassDensities evaluation behind each prediction method.
_EVALUATION = {
    "predict_joint_log_proba": "joint",
    "predict_log_proba": "log_posterior",
    "predict_proba": "posterior",
    "predict": "best",
}

__all__ = ["GaussianClassifier", "encode_labels", "unique_labels"]
