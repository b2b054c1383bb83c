"""The command line's --engine spark on fit, predict and evaluate, in-process with the one
shared session (tests/spark_support.py)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

pytest.importorskip("pyspark")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from cli_support import assert_bad_input, csv_with_gaps, run  # noqa: E402
from spark_support import spark_session  # noqa: E402

from gaussmle.datasets import make_skittles  # noqa: E402
from gaussmle.io import write_table  # noqa: E402
from gaussmle.persist import load  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.xdist_group("spark"),
]


@pytest.fixture(scope="module")
def spark():
    """The shared local session: the CLI's session() finds it active and uses it."""
    return spark_session()


@pytest.fixture(scope="module")
def files(tmp_path_factory, spark):
    root = tmp_path_factory.mktemp("cli_spark")
    ds = make_skittles(random_state=5)
    write_table(root / "skittles.csv", ds.to_columns())
    mystery = {"id": np.arange(1, 51), **ds.new_columns()}
    pq.write_table(pa.table({k: np.asarray(v) for k, v in mystery.items()}), root / "m.parquet")
    return root


def test_fit_on_spark_equals_the_local_fit(files):
    data = files / "skittles.csv"
    for engine in ("local", "spark"):
        args = ["--covariance", "full", "-o", files / f"{engine}.json"]
        run("fit", data, "--target", "colour", "--engine", engine, "--master", "local[2]", *args)
    local, spark = load(files / "local.json"), load(files / "spark.json")
    assert spark.classes_.tolist() == local.classes_.tolist()
    assert spark.feature_names_in_.tolist() == local.feature_names_in_.tolist()
    assert spark.class_stats_.allclose(local.class_stats_, rtol=1e-10)


def test_predict_on_spark_equals_the_local_predict(files):
    if not (files / "spark.json").exists():
        run("fit", files / "skittles.csv", "--target", "colour", "--engine", "spark",
            "--covariance", "full", "-o", files / "spark.json")  # fmt: skip
    outputs = {}
    for engine in ("local", "spark"):
        out = run("predict", files / "spark.json", files / "m.parquet", "--proba",
                  "--id", "id", "--engine", engine)  # fmt: skip
        outputs[engine] = list(csv.reader(io.StringIO(out.stdout)))
    local, spark = outputs["local"], outputs["spark"]
    assert spark[0] == local[0] and local[0][:2] == ["id", "predicted"]
    assert [r[:2] for r in spark] == [r[:2] for r in local]
    p_local = np.array([r[2:] for r in local[1:]], dtype=float)
    p_spark = np.array([r[2:] for r in spark[1:]], dtype=float)
    np.testing.assert_allclose(p_spark, p_local, rtol=1e-9, atol=1e-12)
    assert len(spark) == 51


def test_spark_errors_are_one_line(files):
    data = files / "skittles.csv"
    result = run("fit", data, "--target", "nope", "--engine", "spark", "-o", files / "x.json",
                 ok=False)  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: target column 'nope' not found")
    result = run("fit", data, "--target", "colour", "--engine", "spark", "--scheduler", "local",
                 "-o", files / "x.json", ok=False)  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --scheduler is not available with --engine spark"


# ---------------------------------------------------------------------- evaluate
@pytest.fixture(scope="module")
def scored(files):
    """A model fitted in memory, and labelled data with labels it has never seen: 'teal'
    first occurs before 'mauve' (sorting them would swap them in the confusion matrix)."""
    ds = make_skittles(random_state=6)
    columns = ds.to_columns()
    colour = np.asarray(columns["colour"], dtype=object)
    colour[[20, 90]] = "teal"
    colour[[150, 31]] = "mauve"
    write_table(files / "eval.csv", {**columns, "colour": colour})
    run("fit", files / "skittles.csv", "--target", "colour", "--covariance", "full",
        "-o", files / "local_full.json")  # fmt: skip
    return files / "local_full.json", files / "eval.csv"


def _evaluate(model, data, engine, *more):
    return run("evaluate", model, data, "--target", "colour", "--engine", engine,
               "--master", "local[2]", *more).stdout  # fmt: skip


def test_evaluate_on_spark_prints_what_the_local_evaluate_prints(spark, scored):
    model, data = scored
    spark.conf.set("spark.sql.files.maxPartitionBytes", "2048")  # several partitions
    try:
        assert spark.read.csv(str(data), header=True).rdd.getNumPartitions() > 2
        text = {engine: _evaluate(model, data, engine) for engine in ("local", "spark")}
        reports = {engine: json.loads(_evaluate(model, data, engine, "--json"))
                   for engine in ("local", "spark")}  # fmt: skip
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert text["spark"] == text["local"]
    assert "note: labels the model has never seen (teal, mauve) count as errors." in text["spark"]
    local, ours = reports["local"], reports["spark"]
    assert ours["unseen_labels"] == local["unseen_labels"] == ["teal", "mauve"]
    assert ours["rows"] == local["rows"] == 200
    assert ours["log_loss"] == pytest.approx(local["log_loss"], rel=1e-12)
    for key in ("seconds", "log_loss"):
        del local[key], ours[key]
    assert ours == local


def test_evaluate_on_spark_with_gaps(spark, files, scored):
    X = make_skittles(random_state=7).to_columns()
    y = np.asarray(X.pop("colour"))
    X = np.column_stack(list(X.values()))
    X[[3, 40], [0, 1]] = np.nan
    data = csv_with_gaps(files / "gaps.csv", X, y)
    fitted = files / "marginal.json"
    run("fit", files / "skittles.csv", "--target", "colour", "--missing", "marginalize",
        "-o", fitted)  # fmt: skip
    assert _evaluate(fitted, data, "spark") == _evaluate(fitted, data, "local")
    result = run("evaluate", scored[0], data, "--target", "colour",
                 "--engine", "spark", ok=False)  # fmt: skip
    assert_bad_input(result, "X contains NaN (or null) in column 'aromatic lift'")


def test_evaluate_on_spark_refuses_what_it_cannot_do(files, scored):
    model, data = scored
    result = run("evaluate", model, data, "--target", "colour", "--engine", "spark",
                 "--drop-missing", ok=False)  # fmt: skip
    assert_bad_input(result, "--drop-missing is not available with --engine spark")
    result = run("evaluate", model, data, "--target", "nope", "--engine", "spark", ok=False)
    assert_bad_input(result, "target column 'nope' not found in")


# ---------------------------------------------------------------------- cluster
def test_cluster_on_spark_equals_the_local_cluster(spark, files):
    data = files / "skittles.csv"
    reports = {}
    for engine in ("local", "spark"):
        out = run("cluster", data, "-k", "3", "--features", "aromatic lift,elegance", "--json",
                  "--max-iter", "8", "--engine", engine, "--master", "local[2]",
                  "-o", files / f"mix_{engine}.json")  # fmt: skip
        reports[engine] = json.loads(out.stdout)
    local, ours = load(files / "mix_local.json"), load(files / "mix_spark.json")
    assert ours.feature_names_in_.tolist() == ["aromatic lift", "elegance"]
    assert ours.n_iter_ == local.n_iter_
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(local, name), rtol=1e-10)
    a, b = reports["spark"], reports["local"]
    assert a["bic"] == pytest.approx(b["bic"], rel=1e-10)
    for key in ("seconds", "bic", "log_likelihood_per_row", "components", "model"):
        del a[key], b[key]
    assert a == b
    # and the mixture predicts its components on Spark as it does in memory
    outputs = {}
    for engine in ("local", "spark"):
        out = run("predict", files / "mix_spark.json", files / "m.parquet", "--proba",
                  "--id", "id", "--engine", engine)  # fmt: skip
        outputs[engine] = list(csv.reader(io.StringIO(out.stdout)))
    assert outputs["spark"][0] == outputs["local"][0] == ["id", "predicted", *PROBA]
    assert [r[:2] for r in outputs["spark"]] == [r[:2] for r in outputs["local"]]
    p_local = np.array([r[2:] for r in outputs["local"][1:]], dtype=float)
    p_spark = np.array([r[2:] for r in outputs["spark"][1:]], dtype=float)
    np.testing.assert_allclose(p_spark, p_local, rtol=1e-9, atol=1e-12)


PROBA = ["proba_0", "proba_1", "proba_2"]


def test_cluster_on_spark_refuses_what_it_cannot_do(files):
    data = files / "skittles.csv"
    result = run("cluster", data, "-k", "auto", "--engine", "spark", "-o", files / "m.json",
                 ok=False)  # fmt: skip
    assert_bad_input(result, "--components auto is not available with --engine spark")
    result = run("cluster", data, "-k", "2", "--engine", "spark", "--stream",
                 "-o", files / "m.json", ok=False)  # fmt: skip
    assert_bad_input(result, "--stream is not available with --engine spark")
    result = run("cluster", data, "-k", "2", "--engine", "spark", "--missing", "marginalize",
                 "-o", files / "m.json", ok=False)  # fmt: skip
    assert_bad_input(result, "--missing marginalize is not available with --engine spark")
    result = run("cluster", data, "-k", "2", "--engine", "spark", "-o", files / "m.json",
                 ok=False)  # the colour column is text  # fmt: skip
    assert_bad_input(result, "non-numeric values (column 'colour' is string)")
