"""``--engine spark``: the helpers behind ``fit``, ``predict``, ``evaluate`` and ``cluster``.

DATA (Parquet, or CSV with a header) is read by Spark; :func:`gaussmle.spark.fit`
summarises it into per-class statistics and :func:`gaussmle.spark.predict` classifies it.
pyspark is imported only here, when ``--engine spark`` is given.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import click
import numpy as np

from ..io import DataError

#: Rows per block of predictions handed to the CSV writer.
PREDICTION_BLOCK_ROWS = 65_536


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine`` and ``--master``: run on Spark instead of in this process."""
    func = click.option(
        "--master",
        metavar="URL",
        default="local[*]",
        show_default=True,
        help="With --engine spark: the Spark master (local[2], spark://host:7077, ...).",
    )(func)
    return click.option(
        "--engine",
        type=click.Choice(("local", "spark")),
        default="local",
        show_default=True,
        help="spark: read DATA (Parquet, or CSV with a header) and compute on Spark.",
    )(func)


def check_engine(engine: str, **unsupported: Any) -> bool:
    """True for ``--engine spark``; refuses options that Spark does not support.

    Examples
    --------
    >>> check_engine("local", scheduler="tcp://x")
    False
    >>> check_engine("spark", scheduler="tcp://x")
    Traceback (most recent call last):
    ...
    gaussmle.io.DataError: --scheduler is not available with --engine spark
    """
    if engine != "spark":
        return False
    given = [name for name, value in unsupported.items() if value not in (None, False)]
    if given:
        options = ", ".join("--" + name.replace("_", "-") for name in given)
        raise DataError(f"{options} is not available with --engine spark")
    return True


def session(master: str) -> Any:
    """The active SparkSession, or a new one on ``master`` (quiet, no web UI)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(master).appName("gaussmle")
    builder = builder.config("spark.ui.enabled", "false")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def read_table(spark: Any, data: str) -> Any:
    """DATA as a Spark DataFrame: Parquet by its extension (or a folder), otherwise CSV.

    A local path is made absolute (Spark resolves relative paths from its own
    working folder); a path Spark cannot read is a one-sentence DataError.
    """
    from pyspark.errors import AnalysisException

    local = "://" not in data
    path = os.path.abspath(data) if local else data
    if local and not any(ch in data for ch in "*?[") and not os.path.exists(path):
        raise DataError(f"file '{data}' not found; check the path")
    lower = data.lower().rstrip("/")
    try:
        if lower.endswith((".parquet", ".pq")) or (local and os.path.isdir(path)):
            return spark.read.parquet(path)
        if lower.endswith((".csv", ".csv.gz", ".txt")):
            return spark.read.csv(path, header=True, inferSchema=True)
    except AnalysisException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"Spark cannot read '{data}' ({first}); check the path") from exc
    raise DataError(
        f"--engine spark reads Parquet or CSV files; '{data}' is neither (name it .parquet or .csv)"
    )


def fit_on_spark(
    data: str, target: str, names: list[str] | None, params: dict[str, Any], master: str
) -> Any:
    """A classifier fitted on Spark with every command-line parameter (via its statistics)."""
    from ..classifier import GaussianClassifier
    from ..spark import class_stats

    df = read_table(session(master), data)
    _check_target(df, target, data)
    features = names if names is not None else [c for c in df.columns if c != target]
    from ..covariance import structure_for

    kind = structure_for(params["covariance_type"]).stats_kind
    classes, stats, features = class_stats(df, features, target, kind, missing=params["missing"])
    return GaussianClassifier.from_stats(stats, classes, feature_names=features, **params)


def _check_target(df: Any, target: str, data: str) -> None:
    if target not in df.columns:
        raise DataError(
            f"target column '{target}' not found in '{data}'; available columns: "
            + ", ".join(df.columns)
        )


def spark_label_counts(model: Any, data: str, names: list[str], target: str, master: str) -> Any:
    """Per true label, the predictions per class and ``-log p`` sums, computed on Spark.

    :func:`gaussmle.spark.label_counts`: a few numbers per label and partition
    reach this process, never the rows; :meth:`Evaluation.add_counts` turns
    them into the in-memory evaluation's figures.
    """
    from ..spark import label_counts

    df = read_table(session(master), data)
    _check_target(df, target, data)
    return label_counts(model, df, names, target)


def spark_rows(data: str, features: list[str] | None, master: str) -> tuple[Any, list[str]]:
    """DATA's feature columns on Spark as a mixture's row source, and their names.

    The columns are persisted on Spark for the passes (``release()`` them).
    """
    from ..spark import SparkRows
    from ..spark._columns import check_columns, check_numeric

    df = read_table(session(master), data)
    names = features if features is not None else list(df.columns)
    check_columns(df, names)
    check_numeric(df, names)
    return SparkRows(df, names), names


def quiet_fit_source(model: Any) -> Callable[[Any], Any]:
    """``model.fit_source`` with pyspark's own warnings (about pandas versions) ignored."""

    def fit(source: Any) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"pyspark(\.|$)")
            return model.fit_source(source)

    return fit


def spark_predictions(
    model: Any, data: str, names: list[str], id_column: str | None, proba: bool, master: str
) -> Iterator[dict[str, Any]]:
    """Predictions computed on Spark, yielded in blocks of columns in row order."""
    from ..spark import predict

    df = read_table(session(master), data)
    keep = [id_column] if id_column is not None else []
    out = predict(model, df, names, proba=proba)
    out = out.select(*[f"`{c}`" for c in keep], "prediction", *(["probability"] if proba else []))
    block: list[Any] = []
    for row in out.toLocalIterator():
        block.append(row)
        if len(block) == PREDICTION_BLOCK_ROWS:
            yield _columns(block, model, id_column, proba, np)
            block = []
    if block:
        yield _columns(block, model, id_column, proba, np)


def _columns(rows: list[Any], model: Any, id_column: str | None, proba: bool, np: Any) -> dict:
    from ..spark._predict import output_labels

    columns: dict[str, Any] = {}
    if id_column is not None:
        columns[id_column] = np.array([r[0] for r in rows], dtype=object)
    at = 1 if id_column is not None else 0
    columns["predicted"] = np.array([r[at] for r in rows])
    if proba:
        p = np.array([r[at + 1] for r in rows], dtype=np.float64)
        for j, c in enumerate(output_labels(model)):
            columns[f"proba_{c}"] = p[:, j]
    return columns


def spark_feature_names(model: Any, features: list[str] | None) -> list[str]:
    """The columns to predict from: ``--features``, else the model's feature names."""
    if features is not None:
        return features
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise DataError("the model has no feature names; pass --features to say which columns")
    return [str(n) for n in names]
