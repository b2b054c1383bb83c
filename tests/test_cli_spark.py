"""The command line's --engine spark on fit and predict, in-process with one shared session."""

from __future__ import annotations

import csv
import io
import os
import sys

import numpy as np
import pytest

pytest.importorskip("pyspark")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from cli_support import run  # noqa: E402

from gaussmle.datasets import make_skittles  # noqa: E402
from gaussmle.io import write_table  # noqa: E402
from gaussmle.persist import load  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")


@pytest.fixture(scope="module")
def spark():
    """The shared local session: the CLI's session() finds it active and uses it."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


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
