"""gaussmle.spark next to MLlib's NaiveBayes(modelType="gaussian"), side by side.

Both read the same cached data on a local Spark (``local[2]`` by default): gaussmle from
the numeric columns, MLlib from the assembled vector column (cached too, so the
assembling is not timed; the rows marked * give MLlib the same input as gaussmle, the
feature columns, assembled inside the timed call). ``fit`` is timed to the fitted model
on the driver; predict is ``predict(...)`` / MLlib's ``transform(...)`` followed by a
count of the rows whose prediction is not null (a plain count would let Spark skip
MLlib's prediction column), after one untimed call of each (Spark generates and compiles
the code of a new plan). Medians of ``--repeats`` runs; the ratio is gaussmle's time
over MLlib's (below 1: gaussmle is faster).

    python benchmarks/spark.py                    # n=1e6, d=32, k=10 (minutes)
    python benchmarks/spark.py --n 100000         # a smaller run
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def make_frame(spark: Any, n: int, d: int, k: int) -> Any:
    """n rows, d features, k classes (label = id mod k), generated and cached on Spark."""
    from pyspark.sql import functions as F

    label = (F.col("id") % k).cast("double")
    columns = [(F.randn(seed=j) + label * (0.1 + 0.01 * j)).alias(f"x{j}") for j in range(d)]
    df = spark.range(n).select(*columns, label.alias("label")).cache()
    df.count()
    return df


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.ml.classification import NaiveBayes
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from gaussmle import spark as gs

    spark = (
        SparkSession.builder.master(args.master)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    features = [f"x{j}" for j in range(args.d)]
    df = make_frame(spark, args.n, args.d, args.k)
    assembled = VectorAssembler(inputCols=features, outputCol="features").transform(df)
    assembled = assembled.select("features", "label").cache()
    assembled.count()
    load = os.getloadavg()[0]
    parts = df.rdd.getNumPartitions()
    print(f"n={args.n:,} d={args.d} k={args.k} master={args.master} partitions={parts}")
    print(f"repeats={args.repeats} load average {load:.1f} (a shared 2-core machine)")

    gs.fit(df.limit(1000), features, "label")  # warm the Python workers (imports, kernels)
    fit_ours, model = timed(lambda: gs.fit(df, features, "label"), args.repeats)
    nb = NaiveBayes(modelType="gaussian")
    fit_mllib, mllib = timed(lambda: nb.fit(assembled), args.repeats)

    assembler = VectorAssembler(inputCols=features, outputCol="features")
    fit_cols, _ = timed(lambda: nb.fit(assembler.transform(df)), args.repeats)

    def count_ours() -> int:
        return gs.predict(model, df).where(F.col("prediction").isNotNull()).count()

    def count_mllib() -> int:
        return mllib.transform(assembled).where(F.col("prediction").isNotNull()).count()

    def count_mllib_cols() -> int:  # MLlib given the same input as gaussmle: the columns
        out = mllib.transform(assembler.transform(df))
        return out.where(F.col("prediction").isNotNull()).count()

    # warm both: Spark's generated code, the JVM's compiler
    count_ours(), count_mllib(), count_mllib_cols()
    pred_ours, rows_ours = timed(count_ours, args.repeats)
    pred_mllib, rows_mllib = timed(count_mllib, args.repeats)
    pred_cols, _ = timed(count_mllib_cols, args.repeats)
    assert rows_ours == rows_mllib == args.n
    labels = gs.predict(model, df.limit(20_000)).select(*features, "prediction").toArrow()
    X = np.column_stack([labels.column(f).to_numpy() for f in features])
    same = np.array_equal(labels.column("prediction").to_numpy(), model.predict(X))
    print(f"predict on Spark equals the in-memory labels (20,000 rows): {same}")
    print(f"{'':10} {'gaussmle':>10} {'MLlib':>10} {'ratio':>7}")
    rows = (
        ("fit", fit_ours, fit_mllib),
        ("predict", pred_ours, pred_mllib),
        ("fit *", fit_ours, fit_cols),
        ("predict *", pred_ours, pred_cols),
    )
    for name, ours, theirs in rows:
        print(f"{name:10} {ours:9.2f}s {theirs:9.2f}s {ours / theirs:7.2f}")
    print("* MLlib given the same input as gaussmle (the feature columns, assembled in the call);")
    print("  the rows above give MLlib a cached, already assembled vector column")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    spark.stop()


if __name__ == "__main__":
    main()
