"""GaussianMixture(missing="marginalize"): exact EM with missing coordinates (issue 13 item 3)."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from gaussmle import GaussianMixture
from gaussmle.covariance import structure_for

TYPES = ["full", "tied", "diag", "spherical"]


def quiet_fit(model, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, **kw)


@pytest.fixture(params=["patterns", "rows"])
def grouping(request, monkeypatch):
    """Full covariances: one factorisation per missingness pattern, or every row batched."""
    from gaussmle import _mixture_missing

    threshold = 0 if request.param == "patterns" else 10**9
    monkeypatch.setattr(_mixture_missing, "GROUPED_MIN_ROWS", threshold)
    return request.param


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


def knock_out(X, fraction, seed):
    """X with ``fraction`` of its entries NaN at random (missing completely at random),
    never a whole row."""
    rng = np.random.default_rng(seed)
    gaps = rng.random(X.shape) < fraction
    gaps[gaps.all(axis=1), 0] = False
    out = X.astype(np.float64, copy=True)
    out[gaps] = np.nan
    return out


def two_blobs(n=60, seed=0):
    """Two correlated, overlapping blobs in d=3."""
    rng = np.random.default_rng(seed)
    cov_a = np.array([[1.0, 0.6, 0.2], [0.6, 1.5, -0.3], [0.2, -0.3, 0.8]])
    cov_b = np.array([[0.7, -0.2, 0.1], [-0.2, 0.5, 0.25], [0.1, 0.25, 1.2]])
    half = n // 2
    return np.vstack(
        [
            rng.multivariate_normal([0.0, 0.0, 0.0], cov_a, half),
            rng.multivariate_normal([2.5, 1.5, -1.0], cov_b, n - half),
        ]
    )


# ---------------------------------------------------------------------- the direct EM
def direct_em(X, weights, means, covs, n_iter, diag, reg_covar):
    """EM for a Gaussian mixture with missing values, row by row with textbook formulas.

    ``covs`` are (k, d, d) matrices (diagonal ones for ``diag``). Returns the
    weights, means, covariances ((k, d) variances for ``diag``) after ``n_iter``
    iterations and the observed-data mean log-likelihood at each E-step.
    """
    n, d = X.shape
    k = len(weights)
    weights, means, covs = np.array(weights), np.array(means), np.array(covs)
    bounds = []
    for _ in range(n_iter):
        # E-step: the marginal Gaussian of the observed coordinates
        logjoint = np.empty((n, k))
        for i in range(n):
            o = ~np.isnan(X[i])
            for c in range(k):
                S = covs[c][np.ix_(o, o)]
                dev = X[i, o] - means[c, o]
                logjoint[i, c] = (
                    np.log(weights[c])
                    - 0.5 * o.sum() * np.log(2 * np.pi)
                    - 0.5 * np.log(np.linalg.det(S))
                    - 0.5 * dev @ np.linalg.inv(S) @ dev
                )
        logp = logsumexp(logjoint, axis=1)
        bounds.append(logp.mean())
        R = np.exp(logjoint - logp[:, None])
        # M-step: conditional means of the missing block, conditional covariance added
        new_means, new_covs = np.empty_like(means), np.empty_like(covs)
        for c in range(k):
            completed = np.empty((n, d))
            extra = np.zeros((n, d, d))
            for i in range(n):
                o = ~np.isnan(X[i])
                m = ~o
                S = covs[c]
                completed[i] = X[i]
                if m.any():
                    gain = S[np.ix_(m, o)] @ np.linalg.inv(S[np.ix_(o, o)])
                    completed[i, m] = means[c, m] + gain @ (X[i, o] - means[c, o])
                    extra[i][np.ix_(m, m)] = S[np.ix_(m, m)] - gain @ S[np.ix_(o, m)]
            r = R[:, c]
            new_means[c] = r @ completed / r.sum()
            dev = completed - new_means[c]
            scatter = sum(r[i] * (np.outer(dev[i], dev[i]) + extra[i]) for i in range(n))
            cov = scatter / r.sum() + reg_covar * np.eye(d)
            new_covs[c] = np.diag(np.diag(cov)) if diag else cov
        weights, means, covs = R.sum(axis=0) / n, new_means, new_covs
    out = np.array([np.diag(c) for c in covs]) if diag else covs
    return weights, means, out, bounds


@pytest.mark.parametrize("n_iter", [1, 2, 10])
@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_equals_the_direct_implementation(covariance_type, n_iter, path, grouping):
    X = knock_out(two_blobs(), 0.2, seed=1)
    assert 0.15 < np.isnan(X).mean() < 0.25
    diag = covariance_type == "diag"
    weights = np.array([0.4, 0.6])
    means = np.array([[0.5, 0.0, 0.2], [2.0, 1.0, -0.5]])
    covs = np.array([np.eye(3) * [1.0, 2.0, 1.5], np.eye(3) * [0.8, 0.6, 1.1]])
    if not diag:
        covs[0, 0, 1] = covs[0, 1, 0] = 0.4
        covs[1, 1, 2] = covs[1, 2, 1] = -0.2
    precisions = np.array([1.0 / np.diag(c) for c in covs]) if diag else np.linalg.inv(covs)
    gm = quiet_fit(
        GaussianMixture(
            2,
            covariance_type=covariance_type,
            missing="marginalize",
            weights_init=weights,
            means_init=means,
            precisions_init=precisions,
            max_iter=n_iter,
            tol=0.0,
            reg_covar=1e-6,
        ),
        X,
    )
    w, mu, cov, bounds = direct_em(X, weights, means, covs, n_iter, diag, 1e-6)
    assert gm.n_iter_ == n_iter
    assert np.max(np.abs(gm.weights_ - w)) < 1e-10
    assert np.max(np.abs(gm.means_ - mu)) < 1e-10
    assert np.max(np.abs(gm.covariances_ - cov)) < 1e-10
    assert np.max(np.abs(np.array(gm.lower_bounds_) - bounds)) < 1e-10


@pytest.mark.parametrize("covariance_type", TYPES)
def test_lower_bound_never_decreases(covariance_type, grouping):
    X = knock_out(two_blobs(n=200, seed=3), 0.25, seed=4)
    gm = quiet_fit(
        GaussianMixture(
            3,
            covariance_type=covariance_type,
            missing="marginalize",
            max_iter=25,
            tol=0.0,
            reg_covar=0.0,
            random_state=0,
        ),
        X,
    )
    bounds = np.array(gm.lower_bounds_)
    assert len(bounds) == 25
    assert np.all(np.diff(bounds) >= -1e-9 * np.abs(bounds[1:]))
    assert bounds[-1] > bounds[0]  # it did move


@pytest.mark.parametrize("covariance_type", TYPES)
def test_without_missing_values_it_is_the_default_fit(covariance_type, path):
    X = two_blobs(n=150, seed=5)
    kw = dict(covariance_type=covariance_type, random_state=0, max_iter=20)
    plain = quiet_fit(GaussianMixture(2, **kw), X)
    marg = quiet_fit(GaussianMixture(2, missing="marginalize", **kw), X)
    for name in ("weights_", "means_", "covariances_"):
        assert np.max(np.abs(getattr(marg, name) - getattr(plain, name))) <= 1e-12, name
    assert marg.lower_bounds_ == pytest.approx(plain.lower_bounds_, rel=0, abs=1e-12)
    assert np.array_equal(marg.predict(X), plain.predict(X))


def test_the_missing_pass_on_complete_rows_is_the_usual_pass(path, grouping):
    """The incomplete-row machinery itself, fed rows that miss nothing, gives em_pass's result."""
    from gaussmle import mixture
    from gaussmle._mixture_missing import Components, Patterns, missing_pass

    X = two_blobs(n=80, seed=6)
    ref = X.mean(axis=0)
    for covariance_type in TYPES:
        gm = quiet_fit(GaussianMixture(2, covariance_type=covariance_type, max_iter=2), X)
        dens = mixture._densities_of(
            mixture._Params(gm.weights_, gm.means_ - ref, gm.covariances_, None),
            covariance_type,
        )
        kind = structure_for(covariance_type).stats_kind
        usual, loglik, _ = mixture.em_pass(X, None, dens, kind, ref, 1000)
        # every row "incomplete" with an empty missing block: one pattern, all observed
        nothing = np.zeros(X.shape, dtype=bool)
        patterns = Patterns([np.arange(X.shape[0])], [np.ones(3, dtype=bool)])
        comp = Components.of(dens.means, gm.covariances_, dens.log_weight, kind)
        part = missing_pass(
            X, ref, nothing, None, patterns, comp, kind, 1000, 0,
            mixture.weighted_moments, mixture.normalise_rows,
        )  # fmt: skip
        assert part.loglik == pytest.approx(loglik, rel=1e-13)
        assert part.stats.allclose(usual, rtol=1e-12, atol=1e-12), covariance_type
        assert Patterns.of(nothing).rows == []


# ---------------------------------------------------------------------- accuracy
def mixture_data(n, seed):
    """Three overlapping, correlated components in d=4 (weights 0.5, 0.3, 0.2)."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0, 0.0, 0.0], [4.0, 3.0, 0.0, 2.0], [0.0, 4.0, 4.0, -2.0]])
    base = np.array([[1.0, 0.7, 0.5, 0.3], [0.7, 1.0, 0.6, 0.4],
                     [0.5, 0.6, 1.0, 0.5], [0.3, 0.4, 0.5, 1.0]])  # fmt: skip
    covs = [base, 0.6 * base + 0.2 * np.eye(4), np.diag([1.2, 0.5, 0.8, 1.0]) @ base]
    covs[2] = 0.5 * (covs[2] + covs[2].T) + 0.5 * np.eye(4)
    z = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    X = np.empty((n, 4))
    for c in range(3):
        X[z == c] = rng.multivariate_normal(means[c], covs[c], int((z == c).sum()))
    return X, means, np.array(covs)


def matched_error(gm, means, covs):
    """Mean and covariance errors after matching components to the truth by their means."""
    from itertools import permutations

    best = min(permutations(range(3)), key=lambda p: np.abs(gm.means_[list(p)] - means).sum())
    p = list(best)
    return (
        float(np.sqrt(((gm.means_[p] - means) ** 2).sum(axis=1)).mean()),
        float(np.mean([np.linalg.norm(gm.covariances_[q] - covs[c]) for c, q in enumerate(p)])),
    )


def marginalize_or_drop(seed, n=300, fraction=0.2):
    """Errors and held-out log-likelihood of the fit to all rows (NaN marginalised)
    and of the fit to the complete rows only, on the same data."""
    X, means, covs = mixture_data(n, seed)
    gappy = knock_out(X, fraction, seed=100 + seed)
    complete = gappy[~np.isnan(gappy).any(axis=1)]
    test, _, _ = mixture_data(2000, 1000 + seed)
    kw = dict(covariance_type="full", n_init=2, random_state=seed, max_iter=300)
    out = {}
    for name, model, data in (
        ("marginalize", GaussianMixture(3, missing="marginalize", **kw), gappy),
        ("drop", GaussianMixture(3, **kw), complete),
    ):
        fitted = quiet_fit(model, data)
        out[name] = (*matched_error(fitted, means, covs), fitted.score(test))
    return out, complete.shape[0] / n


def test_more_accurate_than_dropping_incomplete_rows():
    results = [marginalize_or_drop(seed) for seed in range(4)]
    assert all(kept < 0.5 for _, kept in results)  # 0.8**4 = 41% of the rows are complete
    marg = np.array([r["marginalize"] for r, _ in results])
    drop = np.array([r["drop"] for r, _ in results])
    # held-out log-likelihood per row: better on every seed, with margin
    assert np.all(marg[:, 2] > drop[:, 2] + 0.03)
    # parameter errors (means: mean distance; covariances: mean Frobenius norm), over seeds
    assert marg[:, 0].mean() < 0.85 * drop[:, 0].mean()
    assert marg[:, 1].mean() < 0.9 * drop[:, 1].mean()


# ---------------------------------------------------------------------- far from the origin
@pytest.mark.parametrize("offset", [1e6, 1e9])
@pytest.mark.parametrize("covariance_type", TYPES)
def test_far_from_the_origin_fits_like_at_the_origin(covariance_type, offset, grouping):
    base = two_blobs(n=200, seed=7) * 1e-3
    grid = 2.0**-20  # values exact both at 0 and at the offset: the data sets are the same
    base = knock_out(np.round(base / grid) * grid, 0.2, seed=8)
    far = base + offset
    assert np.array_equal(far - offset, base, equal_nan=True)
    means = np.round(np.array([[0.0, 0.0, 0.0], [2.5e-3, 1.5e-3, -1e-3]]) / grid) * grid
    precisions = {  # the start is given whole: no k-means (random) in the comparison
        "full": np.array([np.eye(3), np.eye(3)]) * 1e6,
        "tied": np.eye(3) * 1e6,
        "diag": np.ones((2, 3)) * 1e6,
        "spherical": np.ones(2) * 1e6,
    }[covariance_type]
    kw = dict(
        covariance_type=covariance_type,
        missing="marginalize",
        reg_covar=1e-14,
        tol=0.0,
        max_iter=30,
        weights_init=[0.5, 0.5],
        precisions_init=precisions,
    )
    near = quiet_fit(GaussianMixture(2, means_init=means, **kw), base)
    away = quiet_fit(GaussianMixture(2, means_init=means + offset, **kw), far)
    assert rel(away.covariances_, near.covariances_) < 1e-6
    assert rel(away.weights_, near.weights_) < 1e-9
    assert np.max(np.abs(away.means_ - offset - near.means_)) <= 0.6 * np.spacing(offset)
    # the float64 means_ are rounded to half an ulp of the offset (1.2e-10 at 1e6, 6e-8 at
    # 1e9) against a spread of 1e-3: the predictions can agree only that far
    slack = 1e3 * np.spacing(offset) / 1e-3
    probe = far[:20]
    assert np.abs(away.predict_proba(probe) - near.predict_proba(base[:20])).max() < slack


# ---------------------------------------------------------------------- prediction
@pytest.mark.parametrize("covariance_type", TYPES)
def test_prediction_marginalises_missing_coordinates(covariance_type):
    X = knock_out(two_blobs(n=120, seed=9), 0.2, seed=10)
    gm = quiet_fit(
        GaussianMixture(2, covariance_type=covariance_type, missing="marginalize", random_state=0),
        X,
    )
    rows = np.array([[0.1, np.nan, 0.3], [np.nan, np.nan, -0.8], [2.0, 1.0, np.nan], [1, 1, 1.0]])
    as_matrices = {
        "full": lambda cov: cov,
        "tied": lambda cov: np.array([cov] * 2),
        "diag": lambda cov: np.array([np.diag(v) for v in cov]),
        "spherical": lambda cov: np.array([v * np.eye(3) for v in cov]),
    }[covariance_type]
    full = as_matrices(gm.covariances_)
    # by hand: log pi_c + log N(x_o | mu_o, S_oo)
    joint = np.empty((len(rows), 2))
    for i, x in enumerate(rows):
        o = ~np.isnan(x)
        for c in range(2):
            S = full[c][np.ix_(o, o)]
            dev = x[o] - gm.means_[c, o]
            joint[i, c] = (
                np.log(gm.weights_[c])
                - 0.5 * (o.sum() * np.log(2 * np.pi) + np.log(np.linalg.det(S)))
                - 0.5 * dev @ np.linalg.solve(S, dev)
            )
    logp = logsumexp(joint, axis=1)
    assert np.allclose(gm.score_samples(rows), logp, rtol=1e-12, atol=1e-12)
    assert np.allclose(gm.predict_proba(rows), np.exp(joint - logp[:, None]), atol=1e-12)
    assert np.array_equal(gm.predict(rows), joint.argmax(axis=1))
    assert gm.score(rows) == pytest.approx(logp.mean(), rel=1e-12)


def test_the_default_still_refuses_nan():
    X = knock_out(two_blobs(n=60), 0.2, seed=11)
    with pytest.raises(ValueError, match="X contains NaN at row"):
        GaussianMixture(2).fit(X)
    gm = quiet_fit(GaussianMixture(2, random_state=0), two_blobs(n=60))
    with pytest.raises(ValueError, match="X contains NaN"):
        gm.predict(X)
    assert not gm.__sklearn_tags__().input_tags.allow_nan
    assert GaussianMixture(missing="marginalize").__sklearn_tags__().input_tags.allow_nan


def test_refusals():
    X = knock_out(two_blobs(n=60), 0.2, seed=12)
    bad = X.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match=r"^row 5 of X has no observed value .*drop such rows"):
        GaussianMixture(2, missing="marginalize").fit(bad)
    inf = X.copy()
    inf[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"X contains infinity \(inf\) at row 3, column 1"):
        GaussianMixture(2, missing="marginalize").fit(inf)
    with pytest.raises(ValueError, match="missing must be one of"):
        GaussianMixture(2, missing="impute").fit(X)
    gm = GaussianMixture(2, missing="marginalize", random_state=0)
    with pytest.raises(ValueError, match="partial_fit does not support missing values yet"):
        gm.partial_fit(X)
    quiet_fit(gm, X)
    with pytest.raises(ValueError, match="infinity"):
        gm.predict(inf)


def test_dask_input_is_refused_clearly():
    da = pytest.importorskip("dask.array")
    X = da.from_array(knock_out(two_blobs(n=60), 0.2, seed=13), chunks=20)
    with pytest.raises(ValueError, match="not supported for Dask collections yet"):
        GaussianMixture(2, missing="marginalize").fit(X)


def test_sample_weights_equal_repeated_rows(path):
    X = knock_out(two_blobs(n=40, seed=14), 0.2, seed=15)
    w = np.random.default_rng(16).integers(0, 3, X.shape[0])
    start = dict(
        weights_init=[0.5, 0.5],
        means_init=[[0.0, 0.0, 0.0], [2.0, 1.0, -1.0]],
        precisions_init=np.array([np.eye(3)] * 2),
    )
    kw = dict(covariance_type="full", missing="marginalize", tol=0.0, max_iter=5, **start)
    weighted = quiet_fit(GaussianMixture(2, **kw), X, sample_weight=w)
    repeated = quiet_fit(GaussianMixture(2, **kw), np.repeat(X, w, axis=0))
    assert np.allclose(weighted.means_, repeated.means_, rtol=1e-10, atol=1e-12)
    assert np.allclose(weighted.covariances_, repeated.covariances_, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- semi-supervised
def labelled_mask(y, fraction, seed):
    """About ``fraction`` of the rows, at least two of each class."""
    mask = np.random.default_rng([seed, 7]).random(y.size) < fraction  # its own stream
    for c in np.unique(y):
        mask[np.flatnonzero(y == c)[:2]] = True
    return mask


def classes_data(n, seed):
    """Two overlapping, correlated classes in d=4 (the first two of ``mixture_data``)."""
    X, means, covs = mixture_data(2 * n, seed)
    rng = np.random.default_rng(seed + 500)
    y = (rng.random(n) < 0.4).astype(int)
    X = np.array(
        [rng.multivariate_normal(means[c], covs[c]) for c in y]
    )  # one draw per row, class y
    return X, y, means[:2], covs[:2]


def marginal_joint(x, means, covs, log_prior):
    """log prior_c + log N(x_o | mu_o, S_oo) for one row, by the textbook formula."""
    o = ~np.isnan(x)
    out = np.empty(len(means))
    for c in range(len(means)):
        S = covs[c][np.ix_(o, o)]
        dev = x[o] - means[c, o]
        out[c] = (
            log_prior[c]
            - 0.5 * (o.sum() * np.log(2 * np.pi) + np.log(np.linalg.det(S)))
            - 0.5 * dev @ np.linalg.inv(S) @ dev
        )
    return out


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_semi_supervised_iteration_is_the_em_update_by_hand(covariance_type):
    """max_iter=1 from the labelled-only fit: marginal posteriors of the unlabelled rows,
    conditional expectations of their missing values, conditional covariances added."""
    from gaussmle import GaussianClassifier

    X, y, _, _ = classes_data(120, seed=20)
    labelled = labelled_mask(y, 0.15, 20)
    gappy = X.copy()
    gappy[~labelled] = knock_out(X[~labelled], 0.2, seed=21)
    lam = 0.7
    alone = GaussianClassifier(covariance_type=covariance_type).fit(X[labelled], y[labelled])
    diag = covariance_type == "diag"
    covs = np.array([np.diag(v) for v in alone.covariances_]) if diag else alone.covariances_
    n, d = X.shape
    R = np.zeros((n, 2))
    R[labelled, y[labelled]] = 1.0
    completed = np.repeat(gappy[None], 2, axis=0)  # (class, row, feature)
    extra = np.zeros((2, n, d, d))
    for i in np.flatnonzero(~labelled):
        joint = marginal_joint(gappy[i], alone.means_, covs, np.log(alone.class_prior_))
        R[i] = lam * np.exp(joint - logsumexp(joint))
        o = ~np.isnan(gappy[i])
        m = ~o
        for c in range(2):
            S = covs[c]
            gain = S[np.ix_(m, o)] @ np.linalg.inv(S[np.ix_(o, o)])
            completed[c, i, m] = alone.means_[c, m] + gain @ (gappy[i, o] - alone.means_[c, o])
            extra[c, i][np.ix_(m, m)] = S[np.ix_(m, m)] - gain @ S[np.ix_(o, m)]
    semi = GaussianClassifier(
        covariance_type=covariance_type,
        unlabelled=-1,
        unlabelled_weight=lam,
        max_iter=1,
        missing="marginalize",
    )
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=1"):
        semi.fit(gappy, np.where(labelled, y, -1))
    counts = R.sum(axis=0)
    np.testing.assert_allclose(semi.class_count_, counts, rtol=1e-12)
    for c in range(2):
        r = R[:, c]
        mean = r @ completed[c] / counts[c]
        dev = completed[c] - mean
        scatter = np.einsum("n,ni,nj->ij", r, dev, dev) + np.einsum("n,nij->ij", r, extra[c])
        cov = scatter / counts[c]
        expected = np.diag(cov) if diag else cov
        eps = semi.epsilon_ * (1 if diag else np.eye(d))
        np.testing.assert_allclose(semi.means_[c], mean, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(semi.covariances_[c] - eps, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_semi_supervised_log_likelihood_never_decreases(covariance_type):
    from gaussmle import GaussianClassifier

    X, y, _, _ = classes_data(200, seed=22)
    labelled = labelled_mask(y, 0.05, 22)
    gappy = knock_out(X, 0.2, seed=23)
    if covariance_type in ("full", "tied"):  # labelled rows: the supervised fit's rules
        gappy[labelled] = X[labelled]
    bounds = []
    for n in range(1, 7):
        clf = GaussianClassifier(
            covariance_type=covariance_type, unlabelled=-1, max_iter=n, tol=0,
            missing="marginalize", var_smoothing=0.0,
        )  # fmt: skip
        with pytest.warns(ConvergenceWarning):
            clf.fit(gappy, np.where(labelled, y, -1))
        bounds.append(clf.lower_bound_)
    assert np.all(np.diff(bounds) >= -1e-9 * np.abs(bounds[1:])), bounds
    assert bounds[-1] > bounds[0]


@pytest.mark.parametrize("covariance_type", TYPES)
def test_semi_supervised_without_missing_values_is_the_default_fit(covariance_type):
    from gaussmle import GaussianClassifier

    X, y, _, _ = classes_data(150, seed=24)
    ys = np.where(labelled_mask(y, 0.1, 24), y, -1)
    kw = dict(covariance_type=covariance_type, unlabelled=-1)
    plain = GaussianClassifier(**kw).fit(X, ys)
    marg = GaussianClassifier(missing="marginalize", **kw).fit(X, ys)
    for name in ("class_count_", "means_", "covariances_"):
        assert np.max(np.abs(getattr(marg, name) - getattr(plain, name))) <= 1e-12, name
    assert marg.n_iter_ == plain.n_iter_
    assert marg.lower_bound_ == pytest.approx(plain.lower_bound_, rel=0, abs=1e-12)


def two_classes(n, seed, covariance_type):
    """Two overlapping classes in d=4 (shares 0.6, 0.4) drawn from a diag or a full model."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    means = np.array([[0.0, 0.0, 0.0, 0.0], [2.25, 1.5, -1.5, 0.75]])
    if covariance_type == "diag":
        covs = np.array([np.diag([1.0, 0.5, 1.5, 1.0]), np.diag([0.7, 1.2, 1.0, 0.6])])
    else:
        base = np.array([[1.0, 0.7, 0.5, 0.3], [0.7, 1.0, 0.6, 0.4],
                         [0.5, 0.6, 1.0, 0.5], [0.3, 0.4, 0.5, 1.0]])  # fmt: skip
        scale = np.diag([0.8, 1.2, 1.0, 0.6])
        covs = np.array([base, scale @ base @ scale])
    factors = np.linalg.cholesky(covs)
    X = means[y] + np.einsum("nij,nj->ni", factors[y], rng.standard_normal((n, 4)))
    return X, y, means


def semi_marginalize_or_drop(seed, covariance_type, labelled_fraction, n=400):
    """Held-out accuracy and mean error of the semi-supervised fit to all rows (NaN
    marginalised) and of the semi-supervised fit to the complete rows only."""
    from gaussmle import GaussianClassifier

    X, y, means = two_classes(n, seed, covariance_type)
    labelled = labelled_mask(y, labelled_fraction, seed)
    gappy = knock_out(X, 0.2, seed=200 + seed)
    if covariance_type == "full":  # labelled rows: the supervised fit's rules
        gappy[labelled] = X[labelled]
    ys = np.where(labelled, y, -1)
    test_X, test_y, _ = two_classes(2000, 2000 + seed, covariance_type)
    kw = dict(covariance_type=covariance_type, unlabelled=-1, max_iter=200)
    keep = ~np.isnan(gappy).any(axis=1)
    out = {}
    for name, model, rows in (
        ("marginalize", GaussianClassifier(missing="marginalize", **kw), slice(None)),
        ("drop", GaussianClassifier(**kw), keep),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted = model.fit(gappy[rows], ys[rows])
        error = float(np.sqrt(((fitted.means_ - means) ** 2).sum(axis=1)).mean())
        out[name] = (float((fitted.predict(test_X) == test_y).mean()), error)
    return out


@pytest.mark.parametrize(("covariance_type", "labelled_fraction"), [("diag", 0.03), ("full", 0.08)])
def test_semi_supervised_more_accurate_than_dropping_incomplete_rows(
    covariance_type, labelled_fraction
):
    results = [semi_marginalize_or_drop(s, covariance_type, labelled_fraction) for s in range(4)]
    marg = np.array([r["marginalize"] for r in results])
    drop = np.array([r["drop"] for r in results])
    # the error of the class means: smaller on every seed, and by 15% on average
    assert np.all(marg[:, 1] < drop[:, 1])
    assert marg[:, 1].mean() < 0.85 * drop[:, 1].mean()
    # held-out accuracy (near the Bayes rate for both here): no worse
    assert marg[:, 0].mean() >= drop[:, 0].mean() - 0.005


def test_semi_supervised_refusals():
    from gaussmle import GaussianClassifier

    X, y, _, _ = classes_data(60, seed=25)
    labelled = labelled_mask(y, 0.2, 25)
    ys = np.where(labelled, y, -1)
    gappy = X.copy()
    row = int(np.flatnonzero(~labelled)[3])
    gappy[row] = np.nan
    clf = GaussianClassifier(unlabelled=-1, missing="marginalize")
    with pytest.raises(ValueError, match=f"^unlabelled row {row} of X has no observed value"):
        clf.fit(gappy, ys)
    gappy[row] = X[row]
    gappy[row, 1] = np.nan
    with pytest.raises(ValueError, match="predictive=True cannot fill in the missing values"):
        GaussianClassifier(unlabelled=-1, missing="marginalize", predictive=True).fit(gappy, ys)
    gappy[row, 1] = np.inf
    with pytest.raises(ValueError, match=r"infinity \(inf\) at row"):
        clf.fit(gappy, ys)
    gappy[row, 1] = X[row, 1]
    first = int(np.flatnonzero(labelled)[0])
    gappy[first, 0] = np.nan
    for covariance_type in TYPES:  # an incomplete labelled row: fine (full and tied: the EM
        # fills in its gaps, tests/test_semisupervised_missing.py)
        GaussianClassifier(
            unlabelled=-1, missing="marginalize", covariance_type=covariance_type
        ).fit(gappy, ys)


# ---------------------------------------------------------------------- files
def test_a_saved_model_keeps_marginalising(tmp_path):
    import json

    from gaussmle.persist import load, save

    X = knock_out(two_blobs(n=80, seed=26), 0.2, seed=27)
    gm = quiet_fit(GaussianMixture(2, missing="marginalize", random_state=0), X)
    path = tmp_path / "gm.json"
    save(gm, path)
    doc = json.loads(path.read_text())
    assert doc["hyperparameters"]["missing"] == "marginalize"
    back = load(path)
    assert back.missing == "marginalize"
    np.testing.assert_array_equal(back.predict_proba(X), gm.predict_proba(X))
    # a file without the key (written before it existed) reads as the default
    del doc["hyperparameters"]["missing"]
    path.write_text(json.dumps(doc))
    assert load(path).missing == "error"
    doc["hyperparameters"]["missing"] = "impute"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="hyperparameters.missing must be 'error' or"):
        load(path)


# ---------------------------------------------------------------------- the guide
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "mixtures-missing.md"


def test_guide_runs_as_written(tmp_path, monkeypatch):
    """docs/mixtures-missing.md: its snippets and commands run and print what it shows
    (the accuracy figures included); a command shown with an error exits with code 2."""
    from guide_support import run_guide

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAUSSMLE_DEBUG", "")
    n_commands, n_outputs = run_guide(GUIDE)
    assert n_commands == 3 and n_outputs == 2
    assert load_model_missing(tmp_path / "gaps.json") == "marginalize"


def load_model_missing(path):
    from gaussmle.persist import load

    return load(path).missing


# ---------------------------------------------------------------------- the command line
def test_cluster_command_with_missing_values(tmp_path):
    import json

    from cli_support import assert_bad_input, csv_with_gaps, run

    rng = np.random.default_rng(28)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(5, 1, (60, 2))])
    X[rng.random(X.shape) < 0.2] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 1.0
    data = csv_with_gaps(tmp_path / "gaps.csv", X)
    out = tmp_path / "m.json"
    result = run("cluster", data, "-k", "2", "--missing", "marginalize", "--no-progress",
                 "-o", out)  # fmt: skip
    incomplete = int(np.isnan(X).any(axis=1).sum())
    assert f"Read 120 rows of 2 features from {data}, kept {incomplete} with missing" in (
        result.output
    )
    model = json.loads(out.read_text())
    assert model["hyperparameters"]["missing"] == "marginalize"
    same = quiet_fit(GaussianMixture(2, missing="marginalize", random_state=0), X)
    np.testing.assert_allclose(
        np.sort(np.array(model["parameters"]["means"])[:, 0]), np.sort(same.means_[:, 0]),
        rtol=1e-9,
    )  # fmt: skip
    # a row with every feature missing: named, or dropped with --drop-missing
    X[4] = np.nan
    csv_with_gaps(data, X)
    assert_bad_input(
        run("cluster", data, "-k", "2", "--missing", "marginalize", "-o", out, ok=False),
        "data row 5 of", "has every feature missing", "--drop-missing",
    )  # fmt: skip
    result = run("cluster", data, "-k", "2", "--missing", "marginalize", "--drop-missing",
                 "--no-progress", "-o", out)  # fmt: skip
    assert "Read 119 rows of 2 features" in result.output and "dropped 1 with" in result.output
    assert_bad_input(
        run("cluster", data, "-k", "auto", "--missing", "marginalize", "-o", out, ok=False),
        "--components auto is not available with --missing marginalize",
    )
    assert_bad_input(
        run("cluster", data, "-k", "2", "--missing", "marginalize", "--scheduler",
            "synchronous", "-o", out, ok=False),
        "--missing marginalize is not available with --scheduler",
    )  # fmt: skip


def test_every_row_incomplete(grouping):
    """No complete row at all (the usual pass gets no rows): still the direct EM."""
    X = two_blobs(n=40, seed=29)
    X[np.arange(40), np.arange(40) % 3] = np.nan
    assert np.isnan(X).any(axis=1).all()
    weights, means = np.array([0.5, 0.5]), np.array([[0.0, 0.0, 0.0], [2.5, 1.5, -1.0]])
    covs = np.array([np.eye(3), np.eye(3)])
    gm = quiet_fit(
        GaussianMixture(2, missing="marginalize", weights_init=weights, means_init=means,
                        precisions_init=covs, max_iter=3, tol=0.0, reg_covar=0.0),
        X,
    )  # fmt: skip
    w, mu, cov, _ = direct_em(X, weights, means, covs, 3, False, 0.0)
    assert np.max(np.abs(gm.means_ - mu)) < 1e-10
    assert np.max(np.abs(gm.covariances_ - cov)) < 1e-10
    assert np.max(np.abs(gm.weights_ - w)) < 1e-10


def test_evaluate_command_scores_rows_with_gaps(tmp_path):
    """evaluate reads a marginalising mixture's data with gaps kept (it refused the first
    missing value before) and reports the log-likelihood of what is observed."""
    import json

    import pandas as pd
    from cli_support import csv_with_gaps, run

    from gaussmle.persist import load

    rng = np.random.default_rng(30)
    X = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(5, 1, (50, 2))])
    X[rng.random(X.shape) < 0.2] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 1.0
    data = csv_with_gaps(tmp_path / "gaps.csv", X)
    out = tmp_path / "m.json"
    run("cluster", data, "-k", "2", "--missing", "marginalize", "--no-progress", "-o", out)
    report = json.loads(run("evaluate", out, data, "--json").stdout)
    model = load(out)
    assert report["rows"] == 100 and report["dropped"] == 0
    frame = pd.DataFrame(X, columns=model.feature_names_in_)
    assert report["log_likelihood"] == pytest.approx(model.score_samples(frame).sum(), rel=1e-12)
