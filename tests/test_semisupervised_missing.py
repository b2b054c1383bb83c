"""Semi-supervised EM with missing values in labelled rows, full and tied (issue 13).

A labelled row with gaps is a row whose responsibility is one-hot on its class:
its missing coordinates are filled with their conditional expectation under
its class and the conditional covariance is added to the scatter.
"""

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning
from test_mixture_missing import classes_data, knock_out, labelled_mask, marginal_joint

from gaussmle import GaussianClassifier


def parameters(counts, means, scatters, covariance_type, var_smoothing):
    """Priors and covariances from per-class counts, means and scatter matrices, with
    epsilon = var_smoothing * the largest variance of the pooled data."""
    total = counts.sum()
    grand = counts @ means / total
    pooled = (np.einsum("cii->i", scatters) + counts @ (means - grand) ** 2) / total
    eps = var_smoothing * pooled.max()
    d = means.shape[1]
    if covariance_type == "tied":
        covs = np.repeat((scatters.sum(axis=0) / total + eps * np.eye(d))[None], len(counts), 0)
    else:
        covs = scatters / counts[:, None, None] + eps * np.eye(d)
    return counts / total, covs


def direct_semi_em(X, ys, covariance_type, n_iter, lam, var_smoothing=1e-9):
    """Semi-supervised EM with missing values, row by row with textbook formulas.

    Start: per class, the available-case means and variances of its labelled
    rows, no correlation. Each iteration: every row's joint log density is that
    of its observed coordinates; a labelled row's responsibility is one-hot on
    its class, an unlabelled row's is ``lam`` times its posterior; the missing
    coordinates are filled with their conditional expectation under each class
    and the conditional covariance is added to the scatter. Returns the priors,
    means, covariances and the mean log-likelihood at the last E-step.
    """
    n, d = X.shape
    labelled = ys >= 0
    k = ys.max() + 1
    counts = np.array([(ys == c).sum() for c in range(k)], dtype=float)
    means = np.array([np.nanmean(X[ys == c], axis=0) for c in range(k)])
    scatters = np.array([counts[c] * np.diag(np.nanvar(X[ys == c], axis=0)) for c in range(k)])
    priors, covs = parameters(counts, means, scatters, covariance_type, var_smoothing)
    bound = np.nan
    for _ in range(n_iter):
        joint = np.array([marginal_joint(x, means, covs, np.log(priors)) for x in X])
        R = np.zeros((n, k))
        R[labelled, ys[labelled]] = 1.0
        logp = logsumexp(joint[~labelled], axis=1)
        R[~labelled] = lam * np.exp(joint[~labelled] - logp[:, None])
        bound = (joint[labelled, ys[labelled]].sum() + lam * logp.sum()) / (
            labelled.sum() + lam * (~labelled).sum()
        )
        new_means, scatters = np.empty_like(means), np.empty((k, d, d))
        for c in range(k):
            completed, extra = X.copy(), np.zeros((n, d, d))
            S = covs[c]
            for i in range(n):
                o = ~np.isnan(X[i])
                m = ~o
                if m.any():
                    gain = S[np.ix_(m, o)] @ np.linalg.inv(S[np.ix_(o, o)])
                    completed[i, m] = means[c, m] + gain @ (X[i, o] - means[c, o])
                    extra[i][np.ix_(m, m)] = S[np.ix_(m, m)] - gain @ S[np.ix_(o, m)]
            r = R[:, c]
            new_means[c] = r @ completed / r.sum()
            dev = completed - new_means[c]
            scatters[c] = np.einsum("n,ni,nj->ij", r, dev, dev) + np.einsum("n,nij->ij", r, extra)
        counts, means = R.sum(axis=0), new_means
        priors, covs = parameters(counts, means, scatters, covariance_type, var_smoothing)
    return priors, means, covs, bound


def gappy_classes(n, seed, labelled_fraction=0.15):
    """Two correlated classes in d=4, 20% of the values missing in every row (labelled ones
    too), the labels of the others -1."""
    X, y, means, covs = classes_data(n, seed)
    ys = np.where(labelled_mask(y, labelled_fraction, seed), y, -1)
    return knock_out(X, 0.2, seed=seed + 1), ys, y, means, covs


def fit(X, ys, covariance_type, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianClassifier(
            covariance_type=covariance_type, unlabelled=-1, missing="marginalize", **kw
        ).fit(X, ys)


@pytest.fixture(params=["patterns", "rows"])
def grouping(request, monkeypatch):
    """One factorisation per missingness pattern, or every row's system batched."""
    from gaussmle import _mixture_missing

    threshold = 0 if request.param == "patterns" else 10**9
    monkeypatch.setattr(_mixture_missing, "GROUPED_MIN_ROWS", threshold)
    return request.param


@pytest.mark.parametrize("n_iter", [1, 2, 10])
@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_equals_the_direct_implementation(covariance_type, n_iter, grouping):
    X, ys, *_ = gappy_classes(90, seed=40)
    labelled = ys >= 0
    assert np.isnan(X[labelled]).any(axis=1).sum() >= 5  # labelled rows with gaps
    clf = fit(X, ys, covariance_type, unlabelled_weight=0.7, max_iter=n_iter, tol=0.0)
    priors, means, covs, bound = direct_semi_em(X, ys, covariance_type, n_iter, 0.7)
    expected_covs = covs[0] if covariance_type == "tied" else covs
    assert clf.n_iter_ == n_iter
    assert np.max(np.abs(clf.class_prior_ - priors)) < 1e-10
    assert np.max(np.abs(clf.means_ - means)) < 1e-10
    assert np.max(np.abs(clf.covariances_ - expected_covs)) < 1e-10
    assert abs(clf.lower_bound_ - bound) < 1e-10


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_only_labelled_rows_is_the_em_for_a_supervised_fit_with_gaps(covariance_type):
    """Without unlabelled rows (or with unlabelled_weight=0) the EM still fills in the
    labelled rows' gaps: the same as the direct EM with lam = 0."""
    X, ys, *_ = gappy_classes(90, seed=41)
    clf = fit(X, ys, covariance_type, unlabelled_weight=0.0, max_iter=3, tol=0.0)
    priors, means, covs, _ = direct_semi_em(X, ys, covariance_type, 3, 0.0)
    assert np.max(np.abs(clf.means_ - means)) < 1e-10
    expected_covs = covs[0] if covariance_type == "tied" else covs
    assert np.max(np.abs(clf.covariances_ - expected_covs)) < 1e-10
    assert clf.n_iter_ == 3
    only = fit(X[ys >= 0], ys[ys >= 0], covariance_type, max_iter=3, tol=0.0)
    assert np.max(np.abs(only.means_ - means)) < 1e-10


def test_integer_weights_equal_repeated_rows():
    X, ys, *_ = gappy_classes(60, seed=45)
    w = np.random.default_rng(45).integers(1, 4, X.shape[0])
    weighted = GaussianClassifier(
        covariance_type="full", unlabelled=-1, missing="marginalize", max_iter=5, tol=0.0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted.fit(X, ys, sample_weight=w)
    repeated = fit(np.repeat(X, w, axis=0), np.repeat(ys, w), "full", max_iter=5, tol=0.0)
    for name in ("class_count_", "means_", "covariances_"):
        a, b = getattr(weighted, name), getattr(repeated, name)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
    assert weighted.lower_bound_ == pytest.approx(repeated.lower_bound_, rel=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_lower_bound_never_decreases(covariance_type):
    X, ys, *_ = gappy_classes(200, seed=42, labelled_fraction=0.1)
    bounds = [
        fit(X, ys, covariance_type, max_iter=n, tol=0.0, var_smoothing=0.0).lower_bound_
        for n in range(1, 8)
    ]
    assert np.all(np.diff(bounds) >= -1e-9 * np.abs(bounds[1:])), bounds
    assert bounds[-1] > bounds[0]


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_without_missing_values_it_is_the_existing_fit(covariance_type):
    X, y, _, _ = classes_data(150, seed=43)
    ys = np.where(labelled_mask(y, 0.1, 43), y, -1)
    plain = fit(X, ys, covariance_type)
    plain_default = GaussianClassifier(covariance_type=covariance_type, unlabelled=-1).fit(X, ys)
    for name in ("class_count_", "class_prior_", "means_", "covariances_"):
        a, b = getattr(plain, name), getattr(plain_default, name)
        assert np.max(np.abs(a - b)) <= 1e-12, name
    assert plain.n_iter_ == plain_default.n_iter_
    assert abs(plain.lower_bound_ - plain_default.lower_bound_) <= 1e-12


def parameter_errors(seed, covariance_type):
    """Errors of the class means and covariances: all rows (labelled gaps filled by the EM)
    and with the incomplete labelled rows dropped."""
    X, ys, y, means, covs = gappy_classes(300, seed, labelled_fraction=0.5)
    if covariance_type == "tied":  # redrawn with class 0's covariance for both classes
        covs = covs[:1]
        draws = np.random.default_rng(seed + 2).standard_normal(X.shape)
        X = np.where(np.isnan(X), np.nan, means[y] + draws @ np.linalg.cholesky(covs[0]).T)
    keep = (ys < 0) | ~np.isnan(X).any(axis=1)
    out = []
    for rows in (slice(None), keep):
        clf = fit(X[rows], ys[rows], covariance_type, max_iter=300)
        model_covs = clf.covariances_ if covariance_type == "full" else clf.covariances_[None]
        out.append(
            (
                float(np.linalg.norm(clf.means_ - means, axis=1).mean()),
                float(np.linalg.norm(model_covs - covs, axis=(1, 2)).mean()),
            )
        )
    return out


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_more_accurate_than_dropping_the_incomplete_labelled_rows(covariance_type):
    errors = np.array([parameter_errors(seed, covariance_type) for seed in range(4)])
    marg, drop = errors[:, 0], errors[:, 1]  # (seed, [mean error, covariance error])
    # the parameter error (means plus covariances): smaller on every seed, by 15% on average
    assert np.all(marg.sum(axis=1) < drop.sum(axis=1)), errors
    assert marg.sum(axis=1).mean() < 0.85 * drop.sum(axis=1).mean(), errors
    assert marg[:, 0].mean() < drop[:, 0].mean(), errors  # the means alone: smaller on average


def test_refusals_for_incomplete_labelled_rows():
    X, ys, *_ = gappy_classes(60, seed=44)
    first = int(np.flatnonzero(ys >= 0)[0])
    X[first] = np.nan
    with pytest.raises(ValueError, match=f"^labelled row {first} of X has no observed value"):
        fit(X, ys, "full")
    X[first] = 0.0
    X[first, 1] = np.nan
    with pytest.raises(ValueError, match="predictive=True cannot fill in the missing values of"):
        fit(X, ys, "tied", predictive=True)
    lonely = ys.copy()
    lonely[ys == 1] = -1
    row = int(np.flatnonzero(ys == 1)[0])
    lonely[row] = 1
    X[row] = [1.0, 2.0, np.nan, 0.5]  # class 1's only labelled row misses feature 2
    with pytest.raises(ValueError, match="^class 1 has no observed value of feature 2 in its"):
        fit(X, lonely, "full")


def test_diag_available_case_labelled_rows_reach_the_exact_em_fixed_point():
    """Why diag keeps the available-case statistics for labelled rows: the exact EM (their
    gaps filled with the class mean, the class variance added) converges to the same fit."""
    X, ys, *_ = gappy_classes(90, seed=40)
    n, d = X.shape
    miss, labelled = np.isnan(X), ys >= 0
    k = 2
    means = np.array([np.nanmean(X[ys == c], axis=0) for c in range(k)])
    var = np.array([np.nanvar(X[ys == c], axis=0) for c in range(k)])
    priors = np.array([(ys == c).mean() for c in range(k)]) / labelled.mean()
    for _ in range(300):  # the exact EM for diagonal Gaussians, vectorised
        dev = np.where(miss[:, None], 0.0, X[:, None] - means)  # (n, k, d)
        seen = ~miss[:, None]
        joint = np.log(priors) - 0.5 * (
            (dev**2 / var).sum(axis=2) + (seen * np.log(2 * np.pi * var)).sum(axis=2)
        )
        R = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))
        R[labelled] = np.eye(k)[ys[labelled]]
        counts = R.sum(axis=0)
        completed = np.where(miss[:, None], means, X[:, None])  # (n, k, d)
        new_means = np.einsum("nc,ncd->cd", R, completed) / counts[:, None]
        scatter = np.einsum("nc,ncd->cd", R, (completed - new_means) ** 2)
        scatter += np.einsum("nc,nd,cd->cd", R, miss, var)
        total = counts.sum()
        grand = counts @ new_means / total
        eps = 1e-9 * ((scatter.sum(axis=0) + counts @ (new_means - grand) ** 2) / total).max()
        means, var, priors = new_means, scatter / counts[:, None] + eps, counts / total
    clf = fit(X, ys, "diag", max_iter=300, tol=0.0)
    assert np.max(np.abs(clf.means_ - means)) < 1e-9
    assert np.max(np.abs(clf.covariances_ - var)) < 1e-8
    assert np.max(np.abs(clf.class_prior_ - priors)) < 1e-9
