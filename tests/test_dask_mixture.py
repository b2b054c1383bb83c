"""GaussianMixture on Dask: one map-reduce per EM iteration, equal to the in-memory fit."""

import json
import warnings

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from dask.callbacks import Callback
from dask_support import in_process_client
from sklearn.exceptions import ConvergenceWarning

import gaussmle.mixture
from gaussmle import GaussianMixture

TYPES = ["full", "diag", "tied", "spherical"]
OFFSET = 1e9
# uneven, with a one-row and an empty block
CHUNKS = (17, 1, 40, 0, 3, 59)
N = sum(CHUNKS)


def make_data(offset=OFFSET, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, (60, 2))
    b = rng.normal(0.0, 0.5, (N - 60, 2)) + [4.0, 1.0]
    X = np.vstack([a, b])[rng.permutation(N)]
    return offset + X


def user_start(covariance_type):
    """A start given by the user: weights, means (at the offset) and precisions."""
    means = OFFSET + np.array([[0.5, 0.5], [3.0, 0.0]])
    precisions = {
        "full": np.array([np.eye(2), 2.0 * np.eye(2)]),
        "tied": np.eye(2),
        "diag": np.array([[1.0, 1.0], [2.0, 2.0]]),
        "spherical": np.array([1.0, 2.0]),
    }[covariance_type]
    return {"weights_init": [0.4, 0.6], "means_init": means, "precisions_init": precisions}


class Computes(Callback):
    """Counts the graphs computed (each dask.compute is one)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


def fit_both(X, max_iter, sample_weight=None, **params):
    """The in-memory and the Dask fit, with the same parameters (a fixed number of iterations)."""
    models = []
    weights = [sample_weight, None if sample_weight is None else da.from_array(sample_weight, 20)]
    for data, w in zip([X, da.from_array(X, chunks=(CHUNKS, 2))], weights, strict=True):
        model = GaussianMixture(2, tol=0.0, max_iter=max_iter, random_state=0, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never converges
            models.append(model.fit(data, sample_weight=w))
    return models


def assert_same(a, b):
    np.testing.assert_allclose(b.lower_bounds_, a.lower_bounds_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(b.weights_, a.weights_, rtol=0, atol=1e-10)
    # the means relative to the offset, so the tolerance says something at 1e9
    np.testing.assert_allclose(b.means_ - OFFSET, a.means_ - OFFSET, rtol=0, atol=1e-6)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-10, atol=0)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-10, atol=0)
    assert b.n_iter_ == a.n_iter_


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.mark.parametrize("covariance_type", TYPES)
def test_every_iteration_equals_the_in_memory_fit_from_the_users_start(covariance_type):
    X = make_data()
    start = user_start(covariance_type)
    for max_iter in (1, 3):
        a, b = fit_both(X, max_iter, covariance_type=covariance_type, **start)
        assert_same(a, b)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_kmeans_start_on_small_data_is_the_in_memory_start(covariance_type):
    # at most INIT_SAMPLE_ROWS rows: the start is computed on all of them, in order
    X = make_data()
    a, b = fit_both(X, 3, covariance_type=covariance_type)
    assert_same(a, b)


def test_weighted_fit_equals_the_in_memory_fit():
    X = make_data()
    w = np.random.default_rng(1).uniform(0.0, 3.0, N)
    w[:5] = 0.0
    a, b = fit_both(X, 3, sample_weight=w, covariance_type="full", **user_start("full"))
    assert_same(a, b)


def test_each_iteration_is_one_computation_of_the_graph():
    X = da.from_array(make_data(), chunks=(CHUNKS, 2))
    counter = Computes()
    model = GaussianMixture(2, tol=0.0, max_iter=4, **user_start("diag"), covariance_type="diag")
    with counter, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    # the pooled statistics, then one map-reduce per EM iteration
    assert counter.count == 1 + 4


def test_the_start_is_computed_on_a_sample_of_a_large_collection(monkeypatch):
    monkeypatch.setattr(gaussmle.mixture, "INIT_SAMPLE_ROWS", 40)
    X = make_data()
    # another start (k-means on 40 sampled rows), the same optimum when run to convergence
    params = {"covariance_type": "full", "random_state": 0, "tol": 1e-12, "max_iter": 500}
    gm = GaussianMixture(2, **params).fit(da.from_array(X, chunks=(CHUNKS, 2)))
    ref = GaussianMixture(2, **params).fit(X)
    assert gm.converged_
    order = np.argsort(gm.means_[:, 0])
    ref_order = np.argsort(ref.means_[:, 0])
    np.testing.assert_allclose(gm.means_[order] - OFFSET, ref.means_[ref_order] - OFFSET, atol=1e-6)


def test_predict_is_lazy_and_equals_in_memory():
    X = make_data()
    a, b = fit_both(X, 3, covariance_type="full")
    Xd = da.from_array(X, chunks=(CHUNKS, 2))
    counter = Computes()
    with counter:
        labels = b.predict(Xd)
        proba = b.predict_proba(Xd)
        logp = b.score_samples(Xd)
    assert counter.count == 0
    assert isinstance(labels, da.Array) and labels.chunks == (CHUNKS,)
    assert proba.chunks == (CHUNKS, (2,))
    np.testing.assert_array_equal(labels.compute(), a.predict(X))
    np.testing.assert_allclose(proba.compute(), a.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(logp.compute(), a.score_samples(X), rtol=1e-12)
    assert b.score(Xd) == pytest.approx(a.score(X), rel=1e-12)


def test_dataframe_fit_keeps_the_column_names_and_predicts_lazily():
    X = make_data(offset=0.0)
    frame = pd.DataFrame(X, columns=["u", "v"])
    ddf = dd.from_pandas(frame, npartitions=3)
    gm = GaussianMixture(2, covariance_type="diag", random_state=0).fit(ddf)
    ref = GaussianMixture(2, covariance_type="diag", random_state=0).fit(frame)
    assert gm.feature_names_in_.tolist() == ["u", "v"]
    np.testing.assert_allclose(gm.means_, ref.means_, rtol=1e-10)
    out = gm.predict(ddf)
    assert isinstance(out, da.Array)
    np.testing.assert_array_equal(out.compute(), ref.predict(frame))
    with pytest.raises(ValueError, match="feature names"):
        gm.predict(dd.from_pandas(frame.rename(columns={"v": "w"}), npartitions=2))


def test_nan_in_a_block_is_reported_by_global_row():
    X = make_data(offset=0.0)
    X[60, 1] = np.nan
    with pytest.raises(ValueError, match="row 60, column 1"):
        GaussianMixture(2).fit(da.from_array(X, chunks=(CHUNKS, 2)))


def test_fewer_rows_than_components_is_refused():
    X = da.from_array(np.array([[0.0], [1.0]]), chunks=1)
    with pytest.raises(ValueError, match="n_components=3 is more than the 2 rows"):
        GaussianMixture(3).fit(X)


def test_on_an_in_process_cluster():
    X = make_data()
    a, _ = fit_both(X, 2, covariance_type="tied", **user_start("tied"))
    with (
        in_process_client(),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GaussianMixture(
            2, covariance_type="tied", tol=0.0, max_iter=2, **user_start("tied")
        )
        b = model.fit(da.from_array(X, chunks=(CHUNKS, 2)))
        assert_same(a, b)
        np.testing.assert_array_equal(b.predict(da.from_array(X, 50)).compute(), a.predict(X))


# ---------------------------------------------------------------------------- the CLI
def test_cli_cluster_on_dask_equals_the_in_memory_cluster(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from gaussmle.cli import cli
    from gaussmle.io import write_table
    from gaussmle.persist import load

    X = make_data()
    columns = {"a": X[:, 0], "b": X[:, 1]}
    for k, rows in enumerate([slice(0, 50), slice(50, 51), slice(51, N)]):
        pq.write_table(
            pa.table({n: v[rows] for n, v in columns.items()}), tmp_path / f"p{k}.parquet"
        )
    write_table(tmp_path / "all.csv", columns)
    common = ["--components", "2", "--covariance", "diag", "--json", "-o"]

    def cluster(data, out, *more):
        result = CliRunner().invoke(cli, ["cluster", str(data), *common, str(out), *more])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    on_dask = cluster(tmp_path / "p*.parquet", tmp_path / "dask.json", "--scheduler", "synchronous")
    in_memory = cluster(tmp_path / "all.csv", tmp_path / "memory.json")
    a, b = load(tmp_path / "memory.json"), load(tmp_path / "dask.json")
    assert list(b.feature_names_in_) == ["a", "b"]
    assert b.n_iter_ == a.n_iter_
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-12)
    np.testing.assert_allclose(b.covariances_, a.covariances_, rtol=1e-10)
    assert on_dask["rows"] == N
    assert [c["rows"] for c in on_dask["components"]] == [
        c["rows"] for c in in_memory["components"]
    ]
    assert on_dask["bic"] == pytest.approx(in_memory["bic"], rel=1e-12)


def test_cli_cluster_on_dask_refuses_drop_missing_in_one_line(tmp_path):
    from click.testing import CliRunner

    from gaussmle.cli import cli

    args = ["cluster", str(tmp_path / "x.parquet"), "-k", "2", "--drop-missing"]
    result = CliRunner().invoke(cli, [*args, "--scheduler", "synchronous", "-o", "m.json"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --drop-missing is not available with --scheduler")
    assert len(result.stderr.splitlines()) == 1


def test_on_the_threaded_scheduler():
    # blocks run in threads, each block's pass in threads of its own: the same numbers
    X = make_data()
    a, _ = fit_both(X, 2, covariance_type="full", **user_start("full"))
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GaussianMixture(2, tol=0.0, max_iter=2, **user_start("full"))
        b = model.fit(da.from_array(X, chunks=(CHUNKS, 2)))
    assert_same(a, b)
