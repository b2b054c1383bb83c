"""GaussianClassifier: one Gaussian per class, fitted by maximum likelihood.

``covariance_type="diag"`` is Gaussian naive Bayes, ``"full"`` is quadratic
discriminant analysis, ``"tied"`` is linear discriminant analysis and
``"spherical"`` is a nearest-mean classifier with one variance per class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._labels import encode_labels, labels_and_codes, labels_of_codes, unique_labels
from ._spread import refuse_tiny_spreads_seen
from ._validation import (
    COVARIANCE_TYPES,
    check_choice,
    check_finite,
    check_labels_present,
    check_sample_weight,
    check_var_smoothing,
    has_missing_label,
    plain,
    priors_for_classes,
    shown_labels,
)
from .covariance import covariances_from_stats, variance_floor
from .densities import DensityEvaluator, Family, family_for
from .kernels import _kernels
from .labelled import LabelledStats, stats_of_batches
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
        When all data are constant, ``epsilon_ = var_smoothing`` (the rule of
        :func:`gaussmle.covariance.variance_floor`, shared with
        :func:`gaussmle.fit`). Applies to the MLE only: the MAP needs no smoothing.
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
    unlabelled : label or MISSING_LABEL, optional
        The label that marks an unlabelled row (e.g. ``-1`` or ``"?"``); then
        ``fit`` runs semi-supervised EM (:mod:`gaussmle.semisupervised`):
        labelled rows keep their class, unlabelled rows count for every class
        with their posterior probabilities. ``gaussmle.MISSING_LABEL`` marks
        the rows whose label is missing (None, NaN, pandas' NA). None (the
        default): every row is labelled. With ``missing="marginalize"``
        unlabelled rows may have missing values, for every covariance type
        (exact EM: marginal densities, conditional expectations), and so may
        labelled rows (diag and spherical: as in the supervised fit; full and
        tied: the same exact EM, one-hot on their class). On Dask
        collections each EM iteration is one map-reduce of the blocks'
        statistics (rows without gaps). Not with ``partial_fit`` or
        ``fit_batches``.
    unlabelled_weight : float, default 1.0
        The weight of an unlabelled row relative to a labelled one (0 gives
        the fit on the labelled rows exactly).
    max_iter : int, default 100
        Most EM iterations of the semi-supervised fit.
    tol : float, default 1e-3
        The EM stops when the mean log-likelihood changes by less than this.

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
    n_iter_ : int -- EM iterations of a semi-supervised fit; 1 for the closed-form fit
    converged_, lower_bound_ : bool, float -- after a fit with ``unlabelled`` set: whether
        EM converged, and the final mean log-likelihood (NaN when EM did not run)

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
        unlabelled: Any = None,
        unlabelled_weight: float = 1.0,
        max_iter: int = 100,
        tol: float = 1e-3,
    ) -> None:
        self.covariance_type = covariance_type
        self.priors = priors
        self.var_smoothing = var_smoothing
        self.estimator = estimator
        self.prior = prior
        self.predictive = predictive
        self.missing = missing
        self.unlabelled = unlabelled
        self.unlabelled_weight = unlabelled_weight
        self.max_iter = max_iter
        self.tol = tol

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
        if self.unlabelled is not None:
            return self._fit_semisupervised(X, y, sample_weight)
        if _is_dask(X):
            self._fit_dask(X, y, sample_weight, first=True)
        else:
            X, y = self._validate(X, y, reset=True, check_targets=False, labels_later=True)
            classes, codes = _classes_and_codes(y)
            self._update(X, codes, classes, sample_weight, encoded=True)
        self.n_iter_ = 1  # the closed form: one pass (scikit-learn asks it beside max_iter)
        return self

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
        self._refuse_unlabelled("partial_fit")
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit; pass every "
                "label that can occur, e.g. classes=np.unique(y_all)"
            )
        if _is_dask(X):
            if first:
                self._reset()
            return self._fit_dask(X, y, sample_weight, first=first, classes=classes)
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

    def fit_batches(self, batches: Iterable[tuple[Any, ...]]) -> GaussianClassifier:
        """Fit on an iterable of ``(X, y)`` or ``(X, y, sample_weight)`` batches, in one pass.

        Classes are discovered as the batches come (no ``classes`` argument,
        no first pass); each batch is turned into per-class statistics and
        merged exactly, so memory is bounded by the batch size and the model
        equals :meth:`fit` on all rows at once. This is the streaming fit of
        the command line (``gaussmle fit`` reads files in batches).

        Examples
        --------
        >>> import numpy as np
        >>> def batches():
        ...     yield np.array([[0.0], [1.0]]), np.array(["a", "b"])
        ...     yield np.array([[2.0], [4.0]]), np.array(["a", "b"]), np.array([1.0, 3.0])
        >>> clf = GaussianClassifier().fit_batches(batches())
        >>> clf.classes_.tolist(), clf.class_count_.tolist(), clf.means_.ravel().tolist()
        (['a', 'b'], [2.0, 4.0], [1.0, 3.25])
        """
        self._refuse_unlabelled("fit_batches")
        self._reset()
        kind, missing = self._stats_kind(), self._allow_nan()
        first = True

        def checked() -> Iterator[tuple[Any, ...]]:
            nonlocal first
            for X, y, *rest in batches:
                X, y = self._validate(X, y, reset=first)
                first = False
                yield (X, y, check_sample_weight(rest[0] if rest else None, X.shape[0]))

        total = stats_of_batches(checked(), kind=kind, missing=missing)
        if total is None:
            raise ValueError("batches gave no rows; pass at least one batch of (X, y)")
        return self._absorb(total.stats, total.classes)

    def _fit_semisupervised(self, X: Any, y: Any, sample_weight: Any) -> GaussianClassifier:
        """Semi-supervised EM (labelled and unlabelled rows), in :mod:`gaussmle.semisupervised`."""
        if _is_dask(X):
            from ._semisupervised_dask import fit_semisupervised_dask

            return fit_semisupervised_dask(self, X, y, sample_weight)
        from .semisupervised import fit_semisupervised

        return fit_semisupervised(self, X, y, sample_weight)

    def _refuse_unlabelled(self, what: str) -> None:
        if self.unlabelled is not None:
            from .semisupervised import refuse_unlabelled

            refuse_unlabelled(self, what)

    def _fit_dask(
        self, X: Any, y: Any, sample_weight: Any, *, first: bool, classes: Any = None
    ) -> GaussianClassifier:
        """Fit or update from Dask collections: the backend returns statistics, absorbed here."""
        from .dask_backend import class_stats_from_dask

        check_choice(self.covariance_type, COVARIANCE_TYPES, name="covariance_type")
        known = None
        if not first:
            known = self.classes_
            if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), known):
                raise ValueError(
                    f"classes={shown_labels(classes)} differs from the classes of the first "
                    f"call to partial_fit {shown_labels(known)}; pass the same classes or none"
                )
        elif classes is not None:
            known = np.unique(column_or_1d(np.asarray(classes)))
            check_classification_targets(known)
        labels, stats, names = class_stats_from_dask(
            X,
            y,
            sample_weight,
            kind=self._stats_kind(),
            missing=self._allow_nan(),
            classes=known,
            seen=None if first else self.class_stats_.to_diag().pooled(),
        )
        self._take_features(names, stats.n_features, reset=first)
        return self._absorb(stats, labels)

    def _take_features(self, names: np.ndarray | None, d: int, *, reset: bool) -> None:
        """Set or check ``n_features_in_`` and ``feature_names_in_`` as scikit-learn does.

        ``names`` are a DataFrame's column labels (an empty frame with them goes
        through scikit-learn's checks as the DataFrame would); None for an array.
        """
        if names is None and not reset:
            expected = getattr(self, "n_features_in_", None)
            if expected is not None and d != expected:
                raise ValueError(
                    f"X has {d} features, but {type(self).__name__} is expecting {expected} "
                    "features as input."
                )
            return
        if names is None:
            stand_in: Any = np.empty((0, d))
        else:
            import pandas as pd

            stand_in = pd.DataFrame(columns=list(names))
        validate_data(self, stand_in, reset=reset, skip_check_array=True)

    def _reset(self) -> None:
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("__"):
                delattr(self, name)

    def _validate(
        self,
        X: Any,
        y: Any,
        *,
        reset: bool,
        check_targets: bool = True,
        labels_later: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Check X and y as scikit-learn does; missing labels are refused first.

        ``labels_later``: the caller looks for missing labels among the distinct
        labels it finds (``_classes_and_codes``), which saves a pass over y; they
        are only looked for here when scikit-learn refuses y.
        """
        check_choice(self.covariance_type, COVARIANCE_TYPES, name="covariance_type")
        if not labels_later:
            check_labels_present(y)
        try:  # NaN and infinity in X are caught by the statistics (one pass saved)
            X, y = validate_data(
                self, X, y, reset=reset, dtype=(np.float64, np.float32), ensure_all_finite=False
            )
        except (TypeError, ValueError):
            if labels_later:
                check_labels_present(y)  # a missing label is what to say, if there is one
            raise
        if check_targets:
            _check_targets(y)
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
        seen = self.class_stats_.to_diag().pooled() if hasattr(self, "class_stats_") else None
        refuse_tiny_spreads_seen(X, batch, seen)  # judged with all data seen, not the batch alone
        return self._absorb(batch, classes)

    def _allow_nan(self) -> bool:
        return check_choice(self.missing, ("error", "marginalize"), name="missing") != "error"

    def _family(self) -> type[Family]:
        """The density family of ``covariance_type`` (checked)."""
        check_choice(self.covariance_type, COVARIANCE_TYPES, name="covariance_type")
        return family_for(self.covariance_type)

    def _stats_kind(self) -> str:
        return self._family().stats_kind

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
        family = self._family()
        cov_stats = stats if stats.kind == family.stats_kind else stats.to_diag()
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
            densities = family.student(location, scale, df, labels)
            self._densities = DensityEvaluator(densities, log_prior)
            return
        reference = pooled.mean
        densities = family.from_parameters(
            np.where(seen[:, None], self.means_, reference),
            self._covariances_for_scoring(seen, k),
            reference,
            labels,
        )
        self._densities = DensityEvaluator(densities, log_prior)

    def _epsilon(self, pooled: GaussianStats) -> float:
        """var_smoothing times the largest variance of all data seen."""
        return variance_floor(
            float(np.max(pooled.variance)), check_var_smoothing(self.var_smoothing)
        )

    def _covariances_for_scoring(self, seen: np.ndarray, k: int) -> np.ndarray:
        """Covariances with unseen classes replaced by a harmless placeholder."""
        cov = self.covariances_
        placeholder = self._family().placeholder(self.n_features_in_)
        if seen.all() or placeholder is None:
            return cov
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
        var = self._family().variances_of(self.covariances_, seen)
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
    def _check_X(self, X: Any) -> np.ndarray:
        """X validated; NaN and infinity are found by the evaluation itself."""
        check_is_fitted(self, "class_stats_")
        X = validate_data(
            self, X, reset=False, dtype=(np.float64, np.float32), ensure_all_finite=False
        )
        if self._allow_nan():
            check_finite(np.nan_to_num(X, nan=0.0, posinf=np.inf, neginf=-np.inf))
        return X

    def _evaluate(
        self, X: np.ndarray, evaluation: Callable[[DensityEvaluator, np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """``evaluation(densities, X)``, marginalising missing features row group by group."""
        if not self._allow_nan():
            return evaluation(self._densities, X)
        missing = np.isnan(X)
        incomplete = missing.any(axis=1)
        if not incomplete.any():
            return evaluation(self._densities, X)
        from ._missing import evaluate_with_missing

        return evaluate_with_missing(self._densities, X, missing, incomplete, evaluation)

    def predict_joint_log_proba(self, X: Any) -> np.ndarray:
        """log p(x, c) = log prior_c + log N(x | mu_c, Sigma_c), shape (n, k).

        Classes never seen in training get -inf.
        """
        X = self._with_dask(X, "predict_joint_log_proba")
        return X if not isinstance(X, np.ndarray) else self._evaluate(X, DensityEvaluator.joint)

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
        return (
            X
            if not isinstance(X, np.ndarray)
            else self._evaluate(X, DensityEvaluator.log_posterior)
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """p(c | x), shape (n, k); each row sums to 1. Computed in row chunks in place."""
        X = self._with_dask(X, "predict_proba")
        return X if not isinstance(X, np.ndarray) else self._evaluate(X, DensityEvaluator.posterior)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        X = self._with_dask(X, "predict")
        if not isinstance(X, np.ndarray):
            return X
        return labels_of_codes(self.classes_, self._evaluate(X, DensityEvaluator.best))

    def _with_dask(self, X: Any, method: str) -> Any:
        if _is_dask(X):
            check_is_fitted(self, "class_stats_")
            from .dask_backend import predict_blocks

            return predict_blocks(self, X, method)
        return self._check_X(X)

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
        joint = self._evaluate(X, DensityEvaluator.joint)
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
        cov = self._family().n_covariance_parameters(k, d)
        priors = (k - 1) if self.priors is None else 0
        return priors + k * d + cov

    def aic(self, X: Any, y: Any) -> float:
        """Akaike information criterion ``2 p - 2 LL`` of labelled data."""
        return 2.0 * self.n_parameters - 2.0 * self.loglik(X, y)

    def bic(self, X: Any, y: Any) -> float:
        """Bayesian information criterion ``p log(N) - 2 LL`` (N rows)."""
        n = np.asarray(X).shape[0] if not hasattr(X, "shape") else X.shape[0]
        return self.n_parameters * float(np.log(n)) - 2.0 * self.loglik(X, y)

    def summary(self, X: Any = None, y: Any = None, *, level: float = 0.95) -> Any:
        """Fit statistics, estimates with SEs and intervals, and tests (a ``Summary``)."""
        from .summary import summarize

        return summarize(self, X, y, level=level)

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
        merged = LabelledStats(self.classes_, mine).merge(LabelledStats(other.classes_, theirs))
        new = type(self)(**self.get_params())
        if names_a is not None or names_b is not None:
            new.feature_names_in_ = names_a if names_a is not None else names_b
        return new._absorb(merged.stats, merged.classes)

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


def _classes_and_codes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted classes of ``y`` and each row's code; missing and bad labels refused.

    Missing labels (None, NaN, pandas' NA) are looked for among the distinct
    labels only; the pass over every row that names the first one runs when
    there is one.
    """
    try:
        classes, codes = labels_and_codes(y)
    except TypeError:  # labels that cannot be sorted: a missing one, or mixed types
        check_labels_present(y)
        _check_targets(y)  # scikit-learn explains labels that cannot be sorted
        raise
    if classes.dtype.kind in "fO" and has_missing_label(classes):
        check_labels_present(y)
    _check_targets(y, classes)  # on the distinct labels found once
    return classes, codes


def _check_targets(y: np.ndarray, distinct: np.ndarray | None = None) -> None:
    """scikit-learn's check that ``y`` holds class labels, made on its distinct labels.

    Integers and strings are labels by nature; for the rest the distinct labels
    decide (a float label that is not an integer is continuous): scikit-learn's
    check would sort every row.
    """
    if y.dtype.kind in "iubUS":
        return
    if distinct is None:
        try:
            distinct = unique_labels(y)
        except TypeError:  # labels that cannot be sorted: scikit-learn says why
            distinct = y
    check_classification_targets(distinct)


def _is_dask(X: Any) -> bool:
    return type(X).__module__.startswith("dask.")


__all__ = ["GaussianClassifier"]
