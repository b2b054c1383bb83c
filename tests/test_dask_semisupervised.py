"""Semi-supervised GaussianClassifier on Dask (issue 13 item 4): one map-reduce of exact
weighted statistics per EM iteration, equal to the in-memory fit at every iteration."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("distributed")


from dask_support import in_process_client  # noqa: E402

import gaussmle  # noqa: E402
from gaussmle import GaussianClassifier  # noqa: E402

TYPES = ["diag", "full", "tied", "spherical"]
OFFSET = 1e9
CHUNKS = (17, 1, 40, 0, 3, 59)  # uneven, with a one-row and an empty block
N = sum(CHUNKS)


def make_data(offset=OFFSET, seed=0):
    """Two overlapping classes in 2-D at ``offset``; about 15% of the rows labelled (-1: not)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, N)
    scales, centres = np.array([[1.0, 0.6], [0.5, 1.2]]), np.array([[0.0, 0.0], [2.0, 1.0]])
    X = rng.normal(size=(N, 2)) * scales[y] + centres[y]
    labelled = rng.random(N) < 0.15
    labelled[[np.flatnonzero(y == c)[0] for c in (0, 1)]] = True
    return offset + X, np.where(labelled, y, -1)


def on_dask(X, y, w=None):
    chunks = (CHUNKS, 2)
    Xd, yd = da.from_array(X, chunks=chunks), da.from_array(y, chunks=(CHUNKS,))
    return Xd, yd, None if w is None else da.from_array(w, chunks=20)


def fit_both(X, y, max_iter, w=None, **params):
    """The in-memory and the Dask fit after exactly ``max_iter`` iterations (tol=0)."""
    models = []
    for data in ((X, y, w), on_dask(X, y, w)):
        model = GaussianClassifier(unlabelled=-1, tol=0.0, max_iter=max_iter, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never converges
            models.append(model.fit(data[0], data[1], sample_weight=data[2]))
    return models


def assert_same(a, b):
    np.testing.assert_array_equal(b.classes_, a.classes_)
    assert b.classes_.dtype == a.classes_.dtype
    np.testing.assert_allclose(b.lower_bound_, a.lower_bound_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.class_prior_, a.class_prior_, rtol=0, atol=1e-10)
    # the means relative to the offset, so the tolerance says something at 1e9
    np.testing.assert_allclose(b.means_ - OFFSET, a.means_ - OFFSET, rtol=0, atol=1e-6)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-10, atol=0)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-10, atol=0)
    assert (b.n_iter_, b.converged_) == (a.n_iter_, a.converged_)


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.mark.parametrize("covariance_type", TYPES)
def test_every_iteration_equals_the_in_memory_fit(covariance_type):
    X, y = make_data()
    for max_iter in (1, 2, 5):
        a, b = fit_both(X, y, max_iter, covariance_type=covariance_type)
        assert a.n_iter_ == max_iter
        assert_same(a, b)


def test_weighted_fit_and_unlabelled_weight_equal_the_in_memory_fit():
    X, y = make_data(seed=1)
    w = np.random.default_rng(2).uniform(0.0, 3.0, N)
    w[:5] = 0.0
    a, b = fit_both(X, y, 3, w=w, covariance_type="full", unlabelled_weight=0.3)
    assert_same(a, b)


def test_converged_fit_equals_the_in_memory_fit():
    X, y = make_data(offset=0.0, seed=3)
    a = GaussianClassifier(unlabelled=-1, tol=1e-6).fit(X, y)
    b = GaussianClassifier(unlabelled=-1, tol=1e-6).fit(*on_dask(X, y)[:2])
    assert a.converged_ and a.n_iter_ > 2
    assert_same(a, b)
    # the EM moved the model away from the labelled-only fit
    alone = GaussianClassifier().fit(X[y >= 0], y[y >= 0])
    assert np.abs(alone.means_ - b.means_).max() > 1e-3


def test_each_iteration_is_one_computation_of_the_graph():
    class Computes(dask.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.count = 0

        def _start(self, dsk):
            self.count += 1

    X, y = make_data(seed=4)
    counter = Computes()
    with counter, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        GaussianClassifier(unlabelled=-1, tol=0.0, max_iter=4).fit(*on_dask(X, y)[:2])
    # the split of labelled and unlabelled rows, then one map-reduce per EM iteration
    assert counter.count == 1 + 4


def test_text_labels_missing_label_sentinel_and_a_dataframe():
    X, y = make_data(offset=0.0, seed=5)
    names = np.array(["cat", "dog"], dtype=object)[np.maximum(y, 0)]
    names[y < 0] = None
    want = GaussianClassifier(unlabelled=gaussmle.MISSING_LABEL).fit(X, names)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b"]), npartitions=3)
    labels = dd.from_pandas(pd.Series(names), npartitions=3)
    got = GaussianClassifier(unlabelled=gaussmle.MISSING_LABEL).fit(frame, labels)
    assert got.feature_names_in_.tolist() == ["a", "b"]
    assert got.classes_.tolist() == ["cat", "dog"]
    np.testing.assert_allclose(got.means_, want.means_, rtol=1e-12)
    np.testing.assert_allclose(got.covariances_, want.covariances_, rtol=1e-10)
    # integers with None: integer classes, as in memory
    gaps = np.array([None if v < 0 else int(v) for v in y], dtype=object)
    got = GaussianClassifier(unlabelled=gaussmle.MISSING_LABEL).fit(
        da.from_array(X, chunks=50), da.from_array(gaps, chunks=50)
    )
    assert got.classes_.dtype.kind == "i" and got.classes_.tolist() == [0, 1]


def test_without_unlabelled_rows_or_weight_zero_it_is_the_supervised_fit():
    X, y = make_data(offset=0.0, seed=6)
    labelled = y >= 0
    want = GaussianClassifier().fit(X[labelled], y[labelled])
    for Xd, yd, weight in (
        (*on_dask(X, y)[:2], 0.0),
        (da.from_array(X[labelled], chunks=7), da.from_array(y[labelled], chunks=7), 1.0),
    ):
        got = GaussianClassifier(unlabelled=-1, unlabelled_weight=weight).fit(Xd, yd)
        np.testing.assert_allclose(got.means_, want.means_, rtol=1e-12)
        np.testing.assert_allclose(got.covariances_, want.covariances_, rtol=1e-12)
        assert (got.n_iter_, got.converged_) == (1, True)


def test_refusals():
    X, y = make_data(offset=0.0, seed=7)
    Xd, yd, _ = on_dask(X, y)
    with pytest.raises(ValueError, match="every label is the unlabelled sentinel -1"):
        GaussianClassifier(unlabelled=-1).fit(Xd, da.full(N, -1, chunks=50))
    with pytest.raises(ValueError, match="not supported on Dask collections"):
        GaussianClassifier(unlabelled=-1, missing="marginalize").fit(Xd, yd)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        GaussianClassifier(unlabelled=-1, max_iter=0).fit(Xd, yd)
    bad = X.copy()
    bad[60, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN at row 60, column 1"):
        GaussianClassifier(unlabelled=-1).fit(da.from_array(bad, chunks=25), yd)
    with pytest.raises(ConvergenceWarning, match="did not converge in max_iter=1"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            GaussianClassifier(unlabelled=-1, max_iter=1, tol=0.0).fit(Xd, yd)


def test_on_an_in_process_cluster_predict_stays_lazy():
    X, y = make_data(seed=8)
    with (
        in_process_client(),
        dask.config.set(scheduler=None),
    ):
        a, b = fit_both(X, y, 3, covariance_type="diag")
        lazy = b.predict_proba(on_dask(X, y)[0])
        assert isinstance(lazy, da.Array)
        np.testing.assert_allclose(lazy.compute(), a.predict_proba(X), rtol=0, atol=1e-10)
    assert_same(a, b)


def test_the_tiny_spread_rule_looks_at_the_labelled_rows_as_in_memory():
    X, y = make_data(offset=0.0, seed=9)
    labelled = y >= 0
    X[labelled, 0] = 1.0  # constant over the labelled rows: smoothed, EM runs
    a, b = fit_both(X, y, 2)
    assert_same(a, b)
    X[labelled, 0] = 0.0
    X[np.flatnonzero(labelled)[::2], 0] = 1e-160  # too little to square
    with pytest.raises(ValueError, match="feature 0 of X varies by only about") as in_memory:
        GaussianClassifier(unlabelled=-1).fit(X, y)
    with pytest.raises(ValueError, match="feature 0 of X varies by only about") as on_dask_:
        GaussianClassifier(unlabelled=-1).fit(*on_dask(X, y)[:2])
    assert str(on_dask_.value) == str(in_memory.value)
