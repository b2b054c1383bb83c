"""Dask backend: the fit equals the in-memory fit whatever the chunking, on any scheduler."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")

from dask_support import in_process_client  # noqa: E402

import gaussmle  # noqa: E402
from gaussmle import GaussianClassifier, GaussianStats  # noqa: E402
from gaussmle.dask_backend import (  # noqa: E402
    client_for,
    predict_blocks,
    read_parquet_xy,
    stats_from_dask,
)

TYPES = ["diag", "full", "tied", "spherical"]
N = 240
# one block; even; uneven with a one-row and an empty block; class-sorted data cut so
# that whole blocks miss classes
CHUNKINGS = {
    "one": (N,),
    "even": (60,) * 4,
    "uneven": (1, 37, 0, 101, 3, 98),
    "tiny": (7,) * 34 + (2,),
}


@pytest.fixture(scope="module")
def client():
    """An in-process cluster (no worker processes); its HTTP endpoints on loopback only."""
    with (
        in_process_client() as c,
    ):
        yield c


def make_data(n=N, d=3, k=3, seed=0, offset=0.0, spread=1.0, sort=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    if sort:
        y = np.sort(y)
    centres = rng.normal(0, 3, (k, d))
    scales = rng.uniform(0.5, 2.0, (k, d))
    X = offset + spread * (centres[y] + scales[y] * rng.normal(size=(n, d)))
    return X, y


def assert_same_model(got, want, rtol=1e-10):
    """Every fitted attribute equal within rtol of the attribute's scale."""
    np.testing.assert_array_equal(got.classes_, want.classes_)
    assert got.classes_.dtype == want.classes_.dtype
    assert got.n_features_in_ == want.n_features_in_
    for name in ("class_count_", "class_prior_", "means_", "covariances_", "epsilon_"):
        a, b = np.asarray(getattr(got, name)), np.asarray(getattr(want, name))
        assert a.shape == b.shape, name
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=name)
    s, t = got.class_stats_, want.class_stats_
    assert s.kind == t.kind
    np.testing.assert_allclose(s.m2, t.m2, rtol=rtol, atol=rtol * float(np.max(np.abs(t.m2))))


# ---------------------------------------------------------------------------- classifier fit
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("covariance_type", TYPES)
def test_fit_equals_in_memory_fit(client, covariance_type, chunking):
    X, y = make_data(sort=chunking == "tiny")
    rows = CHUNKINGS[chunking]
    Xd = da.from_array(X, chunks=(rows, 2))  # two column blocks: rechunked internally
    yd = da.from_array(y, chunks=(rows,))
    got = GaussianClassifier(covariance_type=covariance_type).fit(Xd, yd)
    want = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    assert_same_model(got, want)
    assert isinstance(got.means_, np.ndarray)
    assert not hasattr(got, "feature_names_in_")


def test_blocks_missing_classes_sorted_labels(client):
    """Each block holds one or two of four classes; the merge unites the labels."""
    X, y = make_data(k=4, sort=True)
    got = GaussianClassifier(covariance_type="full").fit(
        da.from_array(X, chunks=30), da.from_array(y, chunks=30)
    )
    assert_same_model(got, GaussianClassifier(covariance_type="full").fit(X, y))
    assert got.classes_.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_weights(client, covariance_type):
    X, y = make_data(seed=1)
    rng = np.random.default_rng(2)
    w = rng.uniform(0, 3, N)
    w[rng.random(N) < 0.2] = 0.0
    w[40:80] = 0.0  # a whole block of zero weight
    Xd, yd = da.from_array(X, chunks=40), da.from_array(y, chunks=40)
    want = GaussianClassifier(covariance_type=covariance_type).fit(X, y, sample_weight=w)
    for weights in (da.from_array(w, chunks=70), w):  # other chunks; in memory
        got = GaussianClassifier(covariance_type=covariance_type).fit(Xd, yd, sample_weight=weights)
        assert_same_model(got, want)


def test_bad_weights(client):
    X, y = make_data()
    Xd, yd = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    w = np.ones(N)
    w[77] = -1.0
    with pytest.raises(ValueError, match="negative.*row 77"):
        GaussianClassifier().fit(Xd, yd, sample_weight=da.from_array(w, chunks=50))
    with pytest.raises(ValueError, match="all zero"):
        GaussianClassifier().fit(Xd, yd, sample_weight=da.zeros(N, chunks=50))
    with pytest.raises(ValueError, match="sample_weight has shape"):
        GaussianClassifier().fit(Xd, yd, sample_weight=np.ones(N - 1))


def test_string_labels_and_prediction(client):
    X, y = make_data(seed=3)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    Xd, yd = da.from_array(X, chunks=(50, 3)), da.from_array(names, chunks=50)
    got = GaussianClassifier().fit(Xd, yd)
    want = GaussianClassifier().fit(X, names)
    assert_same_model(got, want)
    pred = got.predict(Xd)
    assert isinstance(pred, da.Array) and pred.dtype == want.classes_.dtype
    np.testing.assert_array_equal(pred.compute(), want.predict(X))


@pytest.mark.parametrize("covariance_type", TYPES)
def test_lazy_predictions_equal_numpy(client, covariance_type):
    X, y = make_data(seed=4)
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    Xnew = make_data(n=150, seed=5)[0] * 1.5
    Xd = da.from_array(Xnew, chunks=((1, 0, 49, 100), (2, 1)))
    for method in ("predict_proba", "predict_log_proba", "predict_joint_log_proba"):
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array)
        assert lazy.shape == (150, 3) and lazy.dtype == np.float64
        np.testing.assert_allclose(
            lazy.compute(), getattr(model, method)(Xnew), rtol=1e-12, atol=1e-12
        )
    labels = model.predict(Xd)
    assert labels.shape == (150,) and labels.chunks == ((1, 0, 49, 100),)
    np.testing.assert_array_equal(labels.compute(), model.predict(Xnew))


def test_large_offset(client):
    """Offset 1e9, spread 1e-3: the merge of shifted statistics loses nothing."""
    X, y = make_data(offset=1e9, spread=1e-3, seed=6)
    got = GaussianClassifier(var_smoothing=0.0).fit(
        da.from_array(X, chunks=17), da.from_array(y, chunks=17)
    )
    want = GaussianClassifier(var_smoothing=0.0).fit(X, y)
    assert_same_model(got, want, rtol=1e-6)
    # against the exact variance of the stored values (X - 1e9 is exact)
    truth = np.array([np.var(X[y == c] - 1e9, axis=0) for c in range(3)])
    np.testing.assert_allclose(got.covariances_, truth, rtol=1e-6)
    assert np.all(got.covariances_ > 0)


def test_float32_input(client):
    X, y = make_data(seed=7)
    X32 = X.astype(np.float32)
    got = GaussianClassifier().fit(da.from_array(X32, chunks=45), da.from_array(y, chunks=45))
    assert_same_model(got, GaussianClassifier().fit(X32, y))


def test_unknown_chunk_sizes(client):
    X, y = make_data(seed=8)
    Xd, yd = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    keep = da.from_array(X[:, 0] > -1.0, chunks=50)
    sub_X, sub_y = Xd[keep], yd[keep]
    assert np.isnan(sub_X.shape[0])
    got = GaussianClassifier().fit(sub_X, sub_y)
    mask = X[:, 0] > -1.0
    assert_same_model(got, GaussianClassifier().fit(X[mask], y[mask]))
    assert np.isnan(sub_X.shape[0])  # the caller's array is left alone


def test_nan_and_inf_are_located(client):
    X, y = make_data()
    X[123, 1] = np.nan
    with pytest.raises(ValueError, match="NaN at row 123, column 1"):
        GaussianClassifier().fit(da.from_array(X, chunks=50), da.from_array(y, chunks=50))
    X[123, 1] = 0.0
    model = GaussianClassifier().fit(X, y)
    X[201, 2] = np.inf
    lazy = model.predict_proba(da.from_array(X, chunks=50))  # lazy: nothing raised yet
    with pytest.raises(ValueError, match=r"infinity \(inf\) at row 201, column 2"):
        lazy.compute()
    with pytest.raises(ValueError, match="NaN at row 5"):
        yf = y.astype(float)
        yf[5] = np.nan
        GaussianClassifier().fit(da.from_array(X[:100], chunks=50), da.from_array(yf[:100]))


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_missing_values_marginalized_like_in_memory(client, chunking):
    """NaN marks a missing value: per-feature statistics equal the in-memory ones.

    Far from the origin, with whole blocks where a class has a feature never observed.
    """
    X, y = make_data(offset=1e9, spread=1e-3, seed=21, sort=chunking == "tiny")
    rng = np.random.default_rng(22)
    X[rng.random(X.shape) < 0.2] = np.nan
    X[:60, 1] = np.nan  # the first blocks never see feature 1
    rows = CHUNKINGS[chunking]
    got = GaussianClassifier(missing="marginalize", var_smoothing=0.0).fit(
        da.from_array(X, chunks=(rows, 3)), da.from_array(y, chunks=(rows,))
    )
    want = GaussianClassifier(missing="marginalize", var_smoothing=0.0).fit(X, y)
    np.testing.assert_array_equal(got.class_stats_.feature_count, want.class_stats_.feature_count)
    assert_same_model(got, want, rtol=1e-6)
    truth = np.array([np.nanvar(X[y == c] - 1e9, axis=0) for c in range(3)])
    np.testing.assert_allclose(got.covariances_, truth, rtol=1e-6)
    # the gaps are marginalised block by block as in memory (same model: at this offset
    # the two fits differ by 1e-7 relative, which moves the posteriors by 1e-4)
    lazy = got.predict_proba(da.from_array(X, chunks=50)).compute()
    np.testing.assert_allclose(lazy, got.predict_proba(X), atol=1e-12)


def test_missing_values_errors(client):
    X, y = make_data(seed=23)
    X[17, 0] = np.nan
    X[150, 2] = -np.inf
    Xd, yd = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    with pytest.raises(ValueError, match=r"infinity \(inf\) at row 150, column 2"):
        GaussianClassifier(missing="marginalize").fit(Xd, yd)
    X[150, 2] = 0.0
    Xd = da.from_array(X, chunks=50)
    with pytest.raises(ValueError, match="only be skipped for diag"):
        GaussianClassifier(covariance_type="full", missing="marginalize").fit(Xd, yd)


def test_input_errors(client):
    X, y = make_data()
    Xd, yd = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    with pytest.raises(ValueError, match="2D"):
        GaussianClassifier().fit(Xd[:, 0], yd)
    with pytest.raises(ValueError, match="y has shape"):
        GaussianClassifier().fit(Xd, yd[:-1])
    with pytest.raises(ValueError, match="non-numeric"):
        GaussianClassifier().fit(da.from_array(X.astype(str), chunks=50), yd)
    with pytest.raises(ValueError, match="continuous"):
        GaussianClassifier().fit(Xd, da.from_array(X[:, 0], chunks=50))
    model = GaussianClassifier().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(Xd[:, :2])


# ---------------------------------------------------------------------------- partial_fit
def test_partial_fit_sequence(client):
    X, y = make_data(n=300, seed=9)
    cuts = [(0, 90), (90, 91), (91, 300)]
    model = GaussianClassifier(covariance_type="tied")
    for i, (a, b) in enumerate(cuts):
        Xb = da.from_array(X[a:b], chunks=40)
        yb = da.from_array(y[a:b], chunks=40)
        model.partial_fit(Xb, yb, classes=[0, 1, 2] if i == 0 else None)
    assert_same_model(model, GaussianClassifier(covariance_type="tied").fit(X, y))
    # dask and numpy batches mix freely
    mixed = GaussianClassifier().partial_fit(
        da.from_array(X[:150], chunks=60), da.from_array(y[:150], chunks=60), classes=[0, 1, 2]
    )
    mixed.partial_fit(X[150:], y[150:])
    assert_same_model(mixed, GaussianClassifier().fit(X, y))


def test_partial_fit_errors(client):
    X, y = make_data()
    Xd, yd = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    model = GaussianClassifier().partial_fit(Xd[:100], yd[:100], classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"not among the classes.*: \[7\]"):
        model.partial_fit(Xd[100:], da.where(yd[100:] == 2, 7, yd[100:]))
    with pytest.raises(ValueError, match="differs from the classes"):
        model.partial_fit(Xd, yd, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(Xd[:, :2], yd)


# ---------------------------------------------------------------------------- DataFrames
def make_frame(seed=10):
    X, y = make_data(seed=seed)
    df = pd.DataFrame(X, columns=["bill", "flipper", "mass"])
    labels = pd.Series(np.array(["Adelie", "Chinstrap", "Gentoo"])[y], name="species")
    return df, labels


def test_dask_dataframe_input_with_feature_names(client):
    df, labels = make_frame()
    frame = dd.from_pandas(df.assign(species=labels), npartitions=4)
    want = GaussianClassifier(covariance_type="full").fit(df, labels)
    got = GaussianClassifier(covariance_type="full").fit(
        frame[["bill", "flipper", "mass"]], frame["species"]
    )
    assert_same_model(got, want)
    assert got.feature_names_in_.tolist() == ["bill", "flipper", "mass"]
    # labels from a separately partitioned frame are aligned by position
    other = dd.from_pandas(labels, npartitions=3)
    assert_same_model(
        GaussianClassifier(covariance_type="full").fit(frame[["bill", "flipper", "mass"]], other),
        want,
    )
    # a one-column DataFrame as y
    got1 = GaussianClassifier(covariance_type="full").fit(
        frame[["bill", "flipper", "mass"]], frame[["species"]]
    )
    assert_same_model(got1, want)
    # predictions on a DataFrame (names checked) or on an array (the columns counted):
    # no warnings, lazy arrays out
    expected_proba, expected_labels = want.predict_proba(df), want.predict(df)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        proba = got.predict_proba(frame[["bill", "flipper", "mass"]]).compute()
        labels = got.predict(frame[["bill", "flipper", "mass"]]).compute()
        from_array = got.predict(da.from_array(df.to_numpy(), chunks=70)).compute()
    assert [str(w.message) for w in caught] == []
    np.testing.assert_allclose(proba, expected_proba, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(from_array, expected_labels)
    with pytest.raises(ValueError, match="feature names"):
        got.predict(frame[["flipper", "bill", "mass"]])
    with pytest.raises(ValueError, match="X has 2 features"):
        got.predict(da.from_array(df.to_numpy()[:, :2]))


def test_dataframe_non_numeric_and_nullable(client):
    df, labels = make_frame()
    bad = dd.from_pandas(df.assign(island="Dream"), npartitions=2)
    with pytest.raises(ValueError, match="island"):
        GaussianClassifier().fit(bad, dd.from_pandas(labels, npartitions=2))
    nullable = df.astype({"mass": "Float64"})
    nullable.loc[17, "mass"] = pd.NA
    with pytest.raises(ValueError, match="NaN at row 17, column 2"):
        GaussianClassifier().fit(
            dd.from_pandas(nullable, npartitions=3), dd.from_pandas(labels, npartitions=3)
        )


# ---------------------------------------------------------------------------- Parquet
def write_parquet(tmp_path, n_files=12, seed=11):
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_files):
        n = int(rng.integers(5, 40))
        X, y = make_data(n=n, d=4, seed=seed + i)
        df = pd.DataFrame(X, columns=[f"f{j}" for j in range(4)])
        df["label"] = np.array(["a", "b", "c"])[y]
        df.to_parquet(tmp_path / f"part-{i:03d}.parquet")
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def test_read_parquet_xy(client, tmp_path):
    """Many small files: Dask fuses the partitions of a column projection, X and y still align."""
    whole = write_parquet(tmp_path)
    X, y, names = read_parquet_xy(str(tmp_path / "part-*.parquet"), ["f2", "f0", "f1"], "label")
    assert names == ["f2", "f0", "f1"]
    assert X.shape == (len(whole), 3) and not np.isnan(sum(X.chunks[0]))
    got = GaussianClassifier().fit(X, y)
    want = GaussianClassifier().fit(whole[names].to_numpy(), whole["label"].to_numpy())
    assert_same_model(got, want)
    X_all, none, all_names = read_parquet_xy(str(tmp_path / "*.parquet"), target="label")
    assert none is None or none.shape == (len(whole),)
    assert all_names == ["f0", "f1", "f2", "f3"] and X_all.shape == (len(whole), 4)
    X_unlabelled, y_none, _ = read_parquet_xy(str(tmp_path), ["f0"])
    assert y_none is None and X_unlabelled.shape == (len(whole), 1)


def test_read_parquet_xy_errors(tmp_path):
    write_parquet(tmp_path, n_files=2)
    with pytest.raises(ValueError, match=r"'height' not found.*f0.*label"):
        read_parquet_xy(str(tmp_path / "*.parquet"), ["f0", "height"], "label")
    with pytest.raises(ValueError, match="no Parquet files match"):
        read_parquet_xy(str(tmp_path / "nothing-*.parquet"), ["f0"], "label")
    with pytest.raises(ValueError, match="not numeric"):
        read_parquet_xy(str(tmp_path / "*.parquet"), ["f0", "label"], None)


# ---------------------------------------------------------------------------- plain MLE
@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical"])
def test_gaussmle_fit_on_dask_array(client, covariance_type):
    X, _ = make_data(seed=12)
    w = np.random.default_rng(13).uniform(0.1, 2.0, N)
    Xd = da.from_array(X, chunks=((100, 1, 139), (1, 2)))
    for weights in (None, da.from_array(w, chunks=80)):
        got = gaussmle.fit(Xd, covariance_type, weights)
        want = gaussmle.fit(X, covariance_type, None if weights is None else w)
        np.testing.assert_allclose(got.mean, want.mean, rtol=1e-12)
        np.testing.assert_allclose(got.covariance, want.covariance, rtol=1e-10)


def test_stats_from_dask(client):
    X, _ = make_data(offset=1e9, spread=1e-3, seed=14)
    s = stats_from_dask(da.from_array(X, chunks=23), kind="full")
    want = GaussianStats.from_data(X, kind="full")
    assert s.allclose(want, rtol=1e-6)
    assert not s.mean.flags.writeable
    one = stats_from_dask(da.from_array(X[:, 0], chunks=50))  # 1-D: one feature
    assert one.n_features == 1 and float(one.count) == N
    frame = dd.from_pandas(pd.DataFrame(X[:, :2], columns=["p", "q"]), npartitions=3)
    assert stats_from_dask(frame).allclose(GaussianStats.from_data(X[:, :2]), rtol=1e-6)
    with pytest.raises(ValueError, match="empty"):
        stats_from_dask(da.zeros((0, 2), chunks=1))


# ---------------------------------------------------------------------------- schedulers
def test_process_cluster_fit_equals_in_memory():
    """Two worker processes on loopback: statistics travel between processes."""
    X, y = make_data(n=400, d=4, seed=15)
    names = np.array(["x", "yy", "zzz"])[y]
    want = GaussianClassifier(covariance_type="full").fit(X, names)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            timeout="30s",
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as proc_client,
    ):
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with dask.config.set(scheduler=proc_client):
            Xd = da.from_array(X, chunks=(53, 4))
            got = GaussianClassifier(covariance_type="full").fit(Xd, da.from_array(names, 53))
            proba = got.predict_proba(Xd).compute()
            labels = got.predict(Xd).compute()
        workers = proc_client.scheduler_info()["workers"]
        assert len(workers) == 2
    assert_same_model(got, want)
    np.testing.assert_allclose(proba, want.predict_proba(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(labels, want.predict(X))


def test_client_for():
    X, y = make_data(seed=16)
    want = GaussianClassifier().fit(X, y)
    for scheduler in (None, "synchronous", "local"):
        with client_for(scheduler) as c:
            assert (c is None) == (scheduler != "local")
            got = GaussianClassifier().fit(da.from_array(X, chunks=70), da.from_array(y, 70))
            assert_same_model(got, want)
    with pytest.raises(ValueError, match="scheduler must be"):
        with client_for("  "):
            pass
    with pytest.raises(ConnectionError, match="could not connect"):
        with client_for("tcp://127.0.0.1:1", timeout="1s"):
            pass


def test_predict_blocks_checks_method(client):
    model = GaussianClassifier().fit(*make_data())
    with pytest.raises(ValueError, match="method"):
        predict_blocks(model, da.ones((4, 3)), "decision_function")


def test_import_gaussmle_does_not_import_dask():
    code = "import sys, gaussmle; print(any(m.split('.')[0] == 'dask' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
