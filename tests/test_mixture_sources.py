"""GaussianMixture.fit_source: EM over a row source, one pass per iteration, equal to fit(X)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import gaussmle.mixture
from gaussmle import GaussianMixture
from gaussmle.mixture_sources import ArrayRows, BatchSource, RowSource

TYPES = ["full", "diag", "tied", "spherical"]
OFFSET = 1e9
# uneven, with a one-row and two empty batches
SIZES = (17, 1, 40, 0, 3, 59, 0)
N = sum(SIZES)


def make_data(offset=OFFSET, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, (60, 2))
    b = rng.normal(0.0, 0.5, (N - 60, 2)) + [4.0, 1.0]
    return offset + np.vstack([a, b])[rng.permutation(N)]


class Batches(BatchSource):
    """The simplest source: a list of (X, w) batches, counting how often it is read."""

    def __init__(self, X, w=None, sizes=SIZES):
        super().__init__()
        edges = np.concatenate([[0], np.cumsum(sizes)])
        self.parts = [
            (X[a:b], None if w is None else w[a:b])
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
        self.reads = 0

    @property
    def n_features(self):
        return self.parts[0][0].shape[1]

    def batches(self):
        self.reads += 1
        yield from self.parts


def fit_both(X, source, max_iter, sample_weight=None, **params):
    models = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never converges
        for how in ("fit", "fit_source"):
            model = GaussianMixture(2, tol=0.0, max_iter=max_iter, random_state=0, **params)
            if how == "fit":
                models.append(model.fit(X, sample_weight=sample_weight))
            else:
                models.append(model.fit_source(source))
    return models


def assert_same(a, b):
    np.testing.assert_allclose(b.lower_bounds_, a.lower_bounds_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.means_ - OFFSET, a.means_ - OFFSET, rtol=0, atol=1e-6)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-10, atol=0)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-10, atol=0)
    np.testing.assert_allclose(
        b.component_stats_.m2, a.component_stats_.m2, rtol=1e-10, atol=1e-10 * N
    )
    assert b.n_iter_ == a.n_iter_


@pytest.mark.parametrize("covariance_type", TYPES)
def test_uneven_batches_at_an_offset_equal_the_in_memory_fit(covariance_type):
    X = make_data()
    a, b = fit_both(X, Batches(X), 4, covariance_type=covariance_type)
    assert_same(a, b)
    # not a trivial fit: both components (60 rows each) found
    assert a.weights_.min() > 0.4


def test_weighted_batches_equal_the_weighted_in_memory_fit():
    X = make_data()
    w = np.random.default_rng(1).uniform(0.0, 3.0, N)
    w[:5] = 0.0
    a, b = fit_both(X, Batches(X, w), 3, sample_weight=w, covariance_type="full")
    assert_same(a, b)


def test_one_read_for_the_statistics_one_for_the_start_and_one_per_iteration():
    X = make_data()
    source = Batches(X)
    _, b = fit_both(X, source, 5, covariance_type="diag")
    assert b.n_iter_ == 5
    assert source.reads == 1 + 1 + 5


def test_a_large_source_starts_from_a_sample_of_its_rows(monkeypatch):
    monkeypatch.setattr(gaussmle.mixture, "INIT_SAMPLE_ROWS", 40)
    X = make_data()
    params = {"covariance_type": "full", "random_state": 0, "tol": 1e-12, "max_iter": 500}
    gm = GaussianMixture(2, **params).fit_source(Batches(X))
    ref = GaussianMixture(2, **params).fit(X)
    assert gm.converged_
    order, ref_order = np.argsort(gm.means_[:, 0]), np.argsort(ref.means_[:, 0])
    np.testing.assert_allclose(gm.means_[order] - OFFSET, ref.means_[ref_order] - OFFSET, atol=1e-6)


def test_the_sample_is_uniform_distinct_rows_in_order():
    X = np.arange(200.0).reshape(100, 2)
    Xs, ws = Batches(X, sizes=(30, 0, 70)).sample(10, np.random.RandomState(0))
    expected = np.sort(np.random.RandomState(0).choice(100, size=10, replace=False))
    np.testing.assert_array_equal(Xs, X[expected])
    assert ws is None


def test_an_empty_component_is_reseeded_at_a_worst_row_without_another_read():
    # three points, one far away; a start with a component far from every row empties it
    X = np.array([[0.0], [0.1], [0.2], [0.15], [50.0]])
    start = {"weights_init": [0.5, 0.5], "means_init": [[0.1], [1e6]],
             "precisions_init": [[1.0], [1.0]]}  # fmt: skip
    source = Batches(X, sizes=(2, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm = GaussianMixture(2, covariance_type="diag", max_iter=1, **start).fit_source(source)
        ref = GaussianMixture(2, covariance_type="diag", max_iter=1, **start).fit(X)
    assert any("re-seeded" in str(w.message) for w in caught)
    np.testing.assert_allclose(gm.means_, ref.means_, rtol=1e-12)
    assert 50.0 in gm.means_.ravel()
    assert source.reads == 1 + 1  # the pooled statistics and the one EM pass


def test_array_rows_is_a_row_source_and_refuses_bad_batch_sizes():
    X = make_data(offset=0.0)
    assert isinstance(ArrayRows(X), RowSource)
    with pytest.raises(ValueError, match="add up to the 120 rows"):
        ArrayRows(X, batch_rows=[10, 20])
    with pytest.raises(ValueError, match="NaN"):
        ArrayRows(np.array([[0.0], [np.nan]]))


def test_fewer_rows_than_components_is_refused():
    with pytest.raises(ValueError, match="n_components=3 is more than the 2 rows"):
        GaussianMixture(3).fit_source(ArrayRows(np.array([[0.0], [1.0]])))


def test_warm_start_refuses_another_number_of_features():
    X = make_data(offset=0.0)
    gm = GaussianMixture(2, warm_start=True, random_state=0).fit_source(ArrayRows(X))
    with pytest.raises(ValueError, match="the source has 1 features, but this mixture"):
        gm.fit_source(ArrayRows(X[:, :1]))


def _tiny_spread_rows(d: int) -> ArrayRows:
    """Rows of ``d`` features whose feature 0 varies by only 1e-160 (refused by every fit)."""
    X = make_data(offset=0.0)[:, :1].repeat(d, axis=1)
    X[:, 0] = np.where(np.arange(X.shape[0]) % 2, 1e-160, 0.0)
    return ArrayRows(X)


class _NoRows(BatchSource):
    """A source of 3 features without a row."""

    n_features = 3

    def batches(self):
        return iter(())


def test_a_refused_source_leaves_a_fitted_model_as_it_was():
    X = make_data(offset=0.0)
    gm = GaussianMixture(2, random_state=0).fit(X)
    before = (gm.predict_proba(X), gm.means_.copy(), gm.n_iter_, gm.lower_bound_)
    refused = (
        (_tiny_spread_rows(3), "feature 0 of X varies by only about 1e-160"),
        (_NoRows(), "X has 0 rows"),
    )
    for source, message in refused:
        with pytest.raises(ValueError, match=message):
            gm.fit_source(source)
        assert gm.n_features_in_ == 2
        np.testing.assert_array_equal(gm.predict_proba(X), before[0])
        np.testing.assert_array_equal(gm.means_, before[1])
        assert (gm.n_iter_, gm.lower_bound_) == before[2:]


def test_a_refused_source_leaves_an_unfitted_model_unfitted():
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    for source in (_tiny_spread_rows(3), _NoRows()):
        gm = GaussianMixture(2, random_state=0)
        with pytest.raises(ValueError):
            gm.fit_source(source)
        with pytest.raises(NotFittedError):
            check_is_fitted(gm)
        assert not hasattr(gm, "n_features_in_")
