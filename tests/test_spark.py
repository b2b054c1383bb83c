"""gaussmle.spark: fit and predict on Spark DataFrames, against the in-memory classifier
and MLlib's gaussian NaiveBayes. One local SparkSession serves the whole module."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyspark")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from spark_support import spark_session  # noqa: E402

from gaussmle import GaussianClassifier, GaussianMixture  # noqa: E402
from gaussmle import spark as gs  # noqa: E402
from gaussmle.persist import load  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.xdist_group("spark"),
]

FEATURES = ["x0", "x1", "x2"]
SIZES = (1, 37, 250, 112)  # uneven partitions, one of a single row
OFFSET = 1e9


@pytest.fixture(scope="module")
def spark():
    return spark_session()


def make_data(seed: int = 0, n: int = sum(SIZES)) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.choice(np.array(["ant", "bee", "cow"]), n)
    shift = (y == "bee")[:, None] * 1.5 + (y == "cow")[:, None] * np.array([0.0, -2.0, 3.0])
    X = rng.normal(size=(n, 3)) @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.5], [0, 0, 2.0]])
    X = X + shift + OFFSET
    return {"id": np.arange(n), "x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2], "y": y,
            "w": rng.uniform(0.1, 3.0, n)}  # fmt: skip


def frame(spark, data: dict[str, np.ndarray], sizes=SIZES):
    """A DataFrame whose partitions hold exactly ``sizes`` rows (in order)."""
    table = pa.table(data)
    schema = spark.createDataFrame(table.slice(0, 0)).schema
    rows = list(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
    bounds = np.cumsum((0, *sizes))
    blocks = [rows[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    rdd = spark.sparkContext.parallelize(range(len(blocks)), len(blocks))
    return spark.createDataFrame(rdd.flatMap(lambda i: blocks[i]), schema)


def matrix(data: dict[str, np.ndarray]) -> np.ndarray:
    return np.column_stack([data[f] for f in FEATURES])


@pytest.fixture(scope="module")
def data():
    return make_data()


@pytest.fixture(scope="module")
def df(spark, data):
    df = frame(spark, data).cache()
    assert df.rdd.getNumPartitions() == len(SIZES)
    return df


def rel_close(a, b, rtol=1e-10):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)) <= rtol


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied", "spherical"])
def test_fit_equals_in_memory_at_offset(df, data, covariance_type):
    ours = gs.fit(df, FEATURES, "y", covariance_type=covariance_type)
    ref = GaussianClassifier(covariance_type=covariance_type).fit(matrix(data), data["y"])
    assert ours.classes_.tolist() == ref.classes_.tolist() == ["ant", "bee", "cow"]
    assert ours.class_stats_.allclose(ref.class_stats_, rtol=1e-10)
    assert rel_close(ours.covariances_, ref.covariances_)
    assert rel_close(ours.means_, ref.means_)
    assert np.array_equal(ours.class_count_, ref.class_count_)
    assert ours.feature_names_in_.tolist() == FEATURES
    # the variances are those of the stored values (about 1, 0.3**2 + 1, ...), not rounding
    variances = np.diagonal(np.atleast_2d(ours.class_stats_.covariance[0]))
    assert np.all((variances > 0.5) & (variances < 6.0))


def test_weights_missing_values_and_integer_labels(spark):
    data = make_data(seed=1, n=300)
    data["y"] = (data["x0"] - OFFSET > 0.5).astype(np.int64)
    x1 = data["x1"].copy()
    x1[[3, 50, 299]] = np.nan
    data["x1"] = x1
    w = data["w"].copy()
    w[100:103] = 0.0  # a partition of zero weights
    data["w"] = w
    df = frame(spark, data, sizes=(100, 3, 197))
    ours = gs.fit(df, FEATURES, "y", sample_weight="w", missing="marginalize")
    ref = GaussianClassifier(missing="marginalize").fit(matrix(data), data["y"], data["w"])
    assert ours.classes_.tolist() == [0, 1]
    assert ours.class_stats_.allclose(ref.class_stats_, rtol=1e-10)
    assert rel_close(ours.covariances_, ref.covariances_)


def test_predict_equals_in_memory(spark, df, data):
    model = gs.fit(df, FEATURES, "y", covariance_type="full")
    X = matrix(data)
    ref = GaussianClassifier(covariance_type="full").fit(X, data["y"])
    out = gs.predict(model, df, proba=True).orderBy("id").toArrow()
    assert out.column_names[-2:] == ["prediction", "probability"]
    assert out.column("prediction").to_pylist() == ref.predict(X).tolist()
    proba = np.array(out.column("probability").to_pylist())
    np.testing.assert_allclose(proba, ref.predict_proba(X), rtol=1e-9, atol=1e-12)
    labels = gs.predict(model, df.limit(5), FEATURES).select("prediction").collect()
    assert len(labels) == 5


def _plan(frame) -> str:
    return frame._jdf.queryExecution().executedPlan().toString()


def _analyzed(frame) -> str:
    """The plan as written, before the optimiser (which folds a local table's rows)."""
    return frame._jdf.queryExecution().analyzed().toString()


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize("covariance_type", ["diag", "spherical", "tied"])
def test_labels_in_the_jvm_equal_in_memory(df, data, covariance_type):
    """Labels of diag, spherical and tied models never leave the JVM (no Python in the plan)
    and equal the in-memory predict on uneven partitions at an offset of 1e9."""
    model = gs.fit(df, FEATURES, "y", covariance_type=covariance_type)
    X = matrix(data)
    out = gs.predict(model, df)
    assert out.columns == [*df.columns, "prediction"]
    assert "Python" not in _plan(out) and "Arrow" not in _plan(out)
    labels = out.orderBy("id").select("prediction").toArrow().column(0).to_pylist()
    expected = model.predict(X)
    assert labels == expected.tolist()
    assert len(set(labels)) == 3  # all classes predicted: the comparison is not trivial
    # the Arrow UDF still serves probabilities, with the same labels
    arrow = gs.predict(model, df, proba=True)
    assert "Arrow" in _plan(arrow) or "Python" in _plan(arrow)
    assert arrow.orderBy("id").select("prediction").toArrow().column(0).to_pylist() == labels


def test_labels_in_the_jvm_ties_unseen_classes_and_bad_values(spark):
    """Equal scores go to the first class (argmax); NaN, null and infinity are errors with
    the fit's messages, unless the model marginalises (diag: the feature drops out)."""
    X = np.array([[0.0, 1.0], [2.0, 3.0], [0.0, 1.0], [2.0, 3.0], [9.0, 9.0], [10.0, 8.0]])
    y = np.array(["b", "b", "a", "a", "c", "c"])  # a and b identical: every row a tie
    frame_ = spark.createDataFrame(pa.table({"u": X[:, 0], "v": X[:, 1]})).coalesce(2)
    model = GaussianClassifier().fit(X, y)
    got = gs.predict(model, frame_, ["u", "v"]).toArrow().column("prediction").to_pylist()
    assert got == model.predict(X).tolist() == ["a", "a", "a", "a", "c", "c"]
    for bad, what in ((float("nan"), "NaN .or null."), (None, "NaN .or null."),
                      (float("inf"), "infinity .inf.")):  # fmt: skip
        table = pa.table({"u": [1.0, 2.0, 3.0], "v": pa.array([1.0, bad, 2.0], pa.float64())})
        broken = gs.predict(model, spark.createDataFrame(table), ["u", "v"])
        with pytest.raises(Exception, match=f"X contains {what} in column 'v'"):
            broken.collect()
    marginal = GaussianClassifier(missing="marginalize").fit(X, y)
    rows = np.array([[np.nan, 8.5], [1.0, np.nan], [9.5, 9.0], [np.nan, np.nan]])
    table = pa.table({"u": rows[:, 0], "v": pa.array([8.5, None, 9.0, None], pa.float64())})
    out = gs.predict(marginal, spark.createDataFrame(table), ["u", "v"])
    assert "Python" not in _plan(out)
    assert out.toArrow().column("prediction").to_pylist() == marginal.predict(rows).tolist()
    table = pa.table({"u": [1.0, float("inf")], "v": [float("nan"), 2.0]})
    with pytest.raises(Exception, match="X contains infinity .inf. in column 'u'"):
        gs.predict(marginal, spark.createDataFrame(table), ["u", "v"]).collect()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([1.0, float("nan"), float("inf")], "NaN .or null. in column 'v'"),
        ([1.0, -float("inf"), float("nan")], "infinity .inf. in column 'v'"),
        ([None, float("inf"), 1.0], "NaN .or null. in column 'u'"),
        ([1.0, 2.0, -float("inf")], "infinity .inf. in column 'w'"),
    ],
)
def test_labels_in_the_jvm_name_the_first_bad_feature_of_a_row(spark, row, message):
    """A row with several bad features gets the message of its first one (by column),
    as naive Bayes and as a linear model (tied); marginalising, that of its first
    infinity. The check is plain SQL: no higher-order function (Spark runs those outside
    its generated code, which made every row slower) in the plan, nor for a vector."""
    from pyspark.ml.feature import VectorAssembler

    X = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 1.0], [9.0, 9.0, 8.0], [10.0, 8.0, 9.0]])
    y = ["a", "a", "c", "c"]
    table = pa.table({name: pa.array([row[j]], pa.float64()) for j, name in enumerate("uvw")})
    frame_ = spark.createDataFrame(table)
    good = spark.createDataFrame(pa.table({name: X[:, j] for j, name in enumerate("uvw")}))
    for covariance_type in ("diag", "tied"):
        model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
        assert "lambdafunction" not in _analyzed(gs.predict(model, good, ["u", "v", "w"]))
        with pytest.raises(Exception, match=f"X contains {message}"):
            gs.predict(model, frame_, ["u", "v", "w"]).collect()
    first = "uvw"[next(j for j, v in enumerate(row) if v is not None and np.isinf(v))]
    marginal = GaussianClassifier(missing="marginalize").fit(X, y)
    with pytest.raises(Exception, match=f"X contains infinity .inf. in column '{first}'"):
        gs.predict(marginal, frame_, ["u", "v", "w"]).collect()
    assembler = VectorAssembler(inputCols=["u", "v", "w"], outputCol="x", handleInvalid="keep")
    diag = GaussianClassifier().fit(X, y)  # reads the vector as it is
    vector = gs.predict(diag, assembler.transform(good), "x")
    assert "lambdafunction" not in _analyzed(vector)
    with pytest.raises(Exception, match="vector column 'x' holds NaN or infinity"):
        gs.predict(diag, assembler.transform(frame_), "x").collect()


def _assembled(df):
    from pyspark.ml.feature import VectorAssembler

    return VectorAssembler(inputCols=FEATURES, outputCol="features").transform(df)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize("covariance_type", ["diag", "tied", "full"])
def test_a_vector_column_is_read_like_its_columns(df, data, covariance_type):
    """MLlib's assembled vector column (what NaiveBayes reads) in place of the columns: the
    same fit (names from the vector's metadata), labels and probabilities; a naive Bayes
    model reads the vector as it is (no Python, no conversion of the vector in the plan)."""
    assembled = _assembled(df)
    ours = gs.fit(assembled, "features", "y", covariance_type=covariance_type)
    ref = gs.fit(df, FEATURES, "y", covariance_type=covariance_type)
    assert ours.feature_names_in_.tolist() == FEATURES
    assert ours.class_stats_.allclose(ref.class_stats_, rtol=1e-12)
    out = gs.predict(ours, assembled, "features")
    assert out.columns == [*assembled.columns, "prediction"]
    labels = out.orderBy("id").select("prediction").toArrow().column(0).to_pylist()
    assert labels == ref.predict(matrix(data)).tolist()
    plan = _plan(out)
    assert "Python" not in plan and "Arrow" not in plan or covariance_type == "full"
    if covariance_type == "diag":
        assert "vector_to_array" not in plan and "VectorAssembler" not in plan
    proba = gs.predict(ours, assembled, "features", proba=True).orderBy("id").toArrow()
    p = np.array(proba.column("probability").to_pylist())
    np.testing.assert_allclose(p, ref.predict_proba(matrix(data)), rtol=1e-9, atol=1e-12)
    counts = gs.label_counts(ours, assembled, "features", "y")
    truth = np.asarray(data["y"])
    for i, label in enumerate(counts.labels):  # rows of each true label per predicted class
        predicted = np.asarray(labels)[truth == label]
        expected = [np.sum(predicted == c) for c in ours.classes_]
        assert counts.predicted[i].tolist() == expected


def test_a_vector_column_with_bad_rows_or_no_metadata(spark):
    """NaN and infinity in a vector are errors; a vector without MLlib's metadata gets
    positional names; a row of the wrong length, or metadata of another length, is an error
    (a naive Bayes model reads a vector as it is only where the metadata vouches for it)."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.linalg import Vectors

    X = np.array([[0.0, 1.0], [2.0, 3.0], [9.0, 9.0], [10.0, 8.0]])
    y = ["a", "a", "c", "c"]
    rows = [(Vectors.dense(x.tolist()), v) for x, v in zip(X, y, strict=True)]
    frame_ = spark.createDataFrame(rows, ["v", "y"])
    model = gs.fit(frame_, "v", "y")
    assert model.feature_names_in_.tolist() == ["v[0]", "v[1]"]
    assert gs.predict(model, frame_, "v").toArrow().column("prediction").to_pylist() == y

    def assembled(u: list[float], w: list[float]):
        table = pa.table({"u": u, "w": w, "y": ["a"] * len(u)})
        assembler = VectorAssembler(inputCols=["u", "w"], outputCol="v", handleInvalid="keep")
        return assembler.transform(spark.createDataFrame(table))

    for bad in (float("nan"), float("inf"), -float("inf")):
        broken = spark.createDataFrame([(Vectors.dense([1.0, bad]), "a")], ["v", "y"])
        with pytest.raises(Exception, match="X contains .* in column 'v.1.'"):
            gs.predict(model, broken, "v").collect()  # no metadata: the values are read
        with pytest.raises(Exception, match="vector column 'v' holds NaN or infinity"):
            gs.predict(model, assembled([1.0], [bad]), "v").collect()  # read as it is
        with pytest.raises(ValueError, match="X contains .* in column 'v.1.'"):
            gs.fit(broken.union(frame_), "v", "y")
    short = frame_.union(spark.createDataFrame([(Vectors.dense([1.0]), "a")], ["v", "y"]))
    with pytest.raises(Exception, match="does not hold 2 values"):
        gs.fit(short, "v", "y", covariance_type="full")
    three = spark.createDataFrame([(Vectors.dense([1.0, 2.0, 3.0]), "a")], ["v", "y"])
    longer = frame_.union(three)
    for fitted in (model, gs.fit(frame_, "v", "y", covariance_type="tied")):
        for rows_ in (short, longer):
            with pytest.raises(Exception, match="vector column 'v' does not hold 2 values"):
                gs.predict(fitted, rows_, "v").collect()
    one = VectorAssembler(inputCols=["u"], outputCol="v").transform(
        spark.createDataFrame(pa.table({"u": [1.0]}))
    )
    with pytest.raises(ValueError, match="holds 1 values per row .its metadata says."):
        gs.predict(model, one, "v")


def test_labels_in_the_jvm_reuse_the_jvm_model_and_refuse_huge_values(spark):
    """The JVM model is built once per model (a refit builds a new one); finite values whose
    squares overflow float64 (every class scores -inf) are an error, not a guess."""
    from gaussmle.spark import _mllib_models

    X = np.array([[0.0, 1.0], [2.0, 3.0], [9.0, 9.0], [10.0, 8.0]])
    frame_ = spark.createDataFrame(pa.table({"u": X[:, 0], "v": X[:, 1]}))
    model = GaussianClassifier().fit(X, ["a", "a", "c", "c"])
    _mllib_models._JVM_OBJECTS.clear()
    gs.predict(model, frame_, ["u", "v"])
    built = dict(_mllib_models._JVM_OBJECTS)
    gs.predict(model, frame_, ["u", "v"])
    assert _mllib_models._JVM_OBJECTS == built and len(built) == 1
    model.fit(X + 1.0, ["a", "a", "c", "c"])
    gs.predict(model, frame_, ["u", "v"])
    assert len(_mllib_models._JVM_OBJECTS) == 2
    huge = spark.createDataFrame(pa.table({"u": [1e200], "v": [1.0]}))
    with pytest.raises(Exception, match="too large for float64 squares"):
        gs.predict(model, huge, ["u", "v"]).collect()


def test_rows_that_no_class_scores_are_errors_with_their_reason(spark):
    """A row that no class scores (NaN, infinite or overflowing values) gets naive Bayes's
    sentinel class, never a real one, also when the first class can never win (a prior of
    zero); its message says which, also when a vector is read as it is."""
    from pyspark.ml.feature import VectorAssembler

    X = np.array([[0.0, 1.0], [2.0, 3.0], [5.0, 5.0], [6.0, 4.0], [9.0, 9.0], [10.0, 8.0]])
    y = ["a", "a", "b", "b", "c", "c"]
    rows = np.array([[1.0, 2.0], [5.5, 4.5], [9.5, 8.5], [-3.0, 0.0], [40.0, 40.0]])
    for priors in (None, [0.0, 0.5, 0.5]):
        model = GaussianClassifier(priors=priors).fit(X, y)
        table = pa.table({"u": rows[:, 0], "w": rows[:, 1]})
        frame_ = VectorAssembler(inputCols=["u", "w"], outputCol="v").transform(
            spark.createDataFrame(table)
        )
        for features in (["u", "w"], "v"):  # the columns; the vector, read as it is
            out = gs.predict(model, frame_, features).toArrow().column("prediction")
            assert out.to_pylist() == model.predict(rows).tolist()
        assert model.predict(rows)[0] == ("a" if priors is None else "b")
        huge = VectorAssembler(inputCols=["u", "w"], outputCol="v").transform(
            spark.createDataFrame(pa.table({"u": [1.0, 1e200], "w": [1.0, 1.0]}))
        )
        for features in (["u", "w"], "v"):
            with pytest.raises(Exception, match="too large for float64 squares"):
                gs.predict(model, huge, features).collect()
        nan = spark.createDataFrame(pa.table({"u": [1.0, float("nan")], "w": [1.0, 1.0]}))
        with pytest.raises(Exception, match="X contains NaN .or null. in column 'u'"):
            gs.predict(model, nan, ["u", "w"]).collect()


def test_errors_say_what_is_wrong(spark, df):
    with pytest.raises(ValueError, match="column 'nope' not found in the DataFrame"):
        gs.fit(df, ["x0", "nope"], "y")
    with pytest.raises(ValueError, match="non-numeric values .column 'y' is string"):
        gs.fit(df, ["x0", "y"], "x1")
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        gs.fit(df, FEATURES, "y", covariance_type="bogus")
    with pytest.raises(ValueError, match="is empty .0 samples."):
        gs.fit(df.limit(0), FEATURES, "y")
    with pytest.raises(ValueError, match="sample_weight is all zero"):
        gs.fit(df.withColumn("zero", df["x0"] * 0), FEATURES, "y", sample_weight="zero")


def test_nan_and_null_label_are_reported(spark):
    data = make_data(seed=2, n=40)
    x2 = data["x2"].copy()
    x2[7] = np.nan
    data["x2"] = x2
    df = frame(spark, data, sizes=(20, 20))
    with pytest.raises(ValueError, match="X contains NaN .or null. in column 'x2'"):
        gs.fit(df, FEATURES, "y")
    labels = pa.array(["a", None, "b"])
    bad = spark.createDataFrame(pa.table({"x": [1.0, 2.0, 3.0], "y": labels}))
    with pytest.raises(ValueError, match="label column 'y' contains null"):
        gs.fit(bad, ["x"], "y")
    nan_label = spark.createDataFrame(pa.table({"x": [1.0, 2.0, 3.0], "y": [0.0, np.nan, 1.0]}))
    with pytest.raises(ValueError, match="label column 'y' contains null .or NaN."):
        gs.fit(nan_label, ["x"], "y")


# ---------------------------------------------------------------------- mixtures
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("covariance_type", "weighted"), [("full", False), ("diag", True)])
def test_fit_mixture_equals_in_memory_at_offset(df, data, covariance_type, weighted):
    """One Spark job per EM pass, merged exactly: GaussianMixture.fit's answer from the same
    start, on uneven partitions (one of a single row) at an offset of 1e9."""
    X = matrix(data)
    w = data["w"] if weighted else None
    start = GaussianMixture(3, covariance_type=covariance_type, random_state=0, max_iter=1)
    start.fit(X, sample_weight=w)
    params = dict(covariance_type=covariance_type, max_iter=3, tol=1e-12,
                  weights_init=start.weights_, means_init=start.means_,
                  precisions_init=start.precisions_)  # fmt: skip
    ours = gs.fit_mixture(df, FEATURES, 3, sample_weight="w" if weighted else None, **params)
    ref = GaussianMixture(3, **params).fit(X, sample_weight=w)
    assert ours.n_iter_ == ref.n_iter_ == 3
    assert ours.feature_names_in_.tolist() == FEATURES
    assert rel_close(ours.means_, ref.means_)
    assert rel_close(ours.weights_, ref.weights_)
    assert rel_close(ours.covariances_, ref.covariances_)
    assert rel_close(ours.lower_bound_, ref.lower_bound_)
    # far from the origin the covariances are those of the data (about 1 to 4), not rounding
    variances = ours.covariances_.reshape(3, -1)[:, :: 4 if covariance_type == "full" else 1]
    assert np.all((variances > 0.1) & (variances < 10.0))


def test_fit_mixture_errors(spark, df):
    with pytest.raises(ValueError, match="column 'nope' not found in the DataFrame"):
        gs.fit_mixture(df, ["x0", "nope"], 2)
    with pytest.raises(ValueError, match="non-numeric values .column 'y' is string"):
        gs.fit_mixture(df, ["x0", "y"], 2)
    with pytest.raises(ValueError, match="is empty .0 samples."):
        gs.fit_mixture(df.limit(0), FEATURES, 2)
    bad = spark.createDataFrame(pa.table({"x": [1.0, float("nan"), 3.0]}))
    with pytest.raises(ValueError, match="X contains NaN .or null. in column 'x'"):
        gs.fit_mixture(bad, ["x"], 2)
    # a feature varying by 1e-160, within a partition or only between two constant ones
    for t in ([0.0, 1e-160, 0.0, 1e-160], [0.0, 0.0, 1e-160, 1e-160]):
        tiny = frame(spark, {"x": np.arange(4.0), "t": np.array(t)}, sizes=(2, 2))
        with pytest.raises(ValueError, match="feature 1 of X varies by only about 1e-160"):
            gs.fit_mixture(tiny, ["x", "t"], 2)


# ---------------------------------------------------------------------- the guide
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "spark.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.M | re.S)


def _matches(expected: str, actual: str) -> bool:
    """Line by line; ``...`` in an expected line stands for any text."""
    want, got = expected.rstrip().splitlines(), actual.rstrip().splitlines()
    pattern = [re.escape(line).replace(re.escape("..."), ".*") for line in want]
    return len(want) == len(got) and all(
        re.fullmatch(p, line) for p, line in zip(pattern, got, strict=True)
    )


def test_the_guide_runs_and_prints_what_it_shows(spark, tmp_path, monkeypatch):
    """docs/spark.md runs and prints what it shows, and its claims next to MLlib hold: a
    variance of MLlib's NaiveBayes and of its GaussianMixture off by more than half at an
    offset of 1e8, ours equal to the in-memory fits (MLlib's own figures are not checked:
    they are rounding noise, which differs between pyspark versions)."""
    from click.testing import CliRunner

    from gaussmle.cli import cli

    blocks = [(m.group(1), m.group(2)) for m in _FENCE.finditer(GUIDE.read_text())]
    namespace: dict = {}
    printed = None
    ran = 0
    for lang, body in blocks:
        if lang == "python":
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(body, str(GUIDE), "exec"), namespace)  # noqa: S102
            printed = buffer.getvalue()
            ran += 1
        elif lang == "text":
            assert printed is not None and _matches(body, printed), printed
            printed = None
        elif lang == "console":
            monkeypatch.chdir(tmp_path)
            data = make_data(seed=4, n=200)
            pq.write_table(pa.table({k: data[k] for k in ("x0", "x1", "x2", "y")}),
                           "table.parquet")  # fmt: skip
            pq.write_table(pa.table({k: data[k] for k in FEATURES}), "new.parquet")
            for line in body.splitlines():
                args = shlex.split(line.removeprefix("$ "))[1:]
                args = [a.replace("label", "y") if a == "label" else a for a in args]
                result = CliRunner().invoke(cli, args)
                assert result.exit_code == 0, (line, result.output)
            assert (tmp_path / "predictions.csv").read_text().count("\n") == 201
            assert load(tmp_path / "mixture.json").n_components == 3
            ran += 1
    assert ran == 7
    # NaiveBayes next to ours
    x, y, model = namespace["x"], namespace["y"], namespace["model"]
    exact = np.array([np.var(x[y == c] - 1e8) for c in (0, 1)])
    mllib_var = namespace["mllib"].sigma.toArray().ravel()
    assert np.max(np.abs(mllib_var - exact) / exact) > 0.5  # negative or far off
    assert rel_close(model.class_stats_.variance.ravel(), exact, rtol=1e-9)
    in_memory = namespace["in_memory"].class_stats_
    assert model.class_stats_.allclose(in_memory, rtol=1e-10)
    assert namespace["ours_acc"] > 0.65
    # fit_mixture next to MLlib's GaussianMixture at an offset of 1e8 (the truth: variances 1)
    mixture, reference = namespace["mixture"], namespace["reference"]
    assert namespace["same"] is True
    assert rel_close(mixture.covariances_, reference.covariances_)
    assert rel_close(mixture.means_, reference.means_)
    ours_var = mixture.covariances_.diagonal(axis1=1, axis2=2)
    assert np.all((ours_var > 0.7) & (ours_var < 1.4))
    mllib_mixture = namespace["mllib_mixture"].gaussiansDF.collect()
    mllib_mixture_var = np.array([np.diag(g.cov.toArray()) for g in mllib_mixture])
    assert np.max(np.abs(mllib_mixture_var - 1.0)) > 0.5  # negative or far off
