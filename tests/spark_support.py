"""The one local SparkSession the Spark test modules share (started once per process).

Spark's start-up is most of the Spark tests' time, so the session is tuned for
tiny data: the JVM compiles with C1 only and a serial collector (a quicker
start; long jobs do not happen here), no adaptive query plans and no
whole-stage code generation (each would compile code for a job of a few
hundred rows). Both modules carry ``xdist_group("spark")`` so that, with
``pytest -n 2`` (``--dist loadgroup`` in pyproject.toml), one worker runs them
all on one JVM.
"""

from __future__ import annotations

import os
import sys

SPARK_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    # several Arrow batches per partition, even for small test data
    "spark.sql.execution.arrow.maxRecordsPerBatch": "64",
}


def spark_session():
    """The shared local session (``getOrCreate``: the CLI's ``session()`` finds it active)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("gaussmle-tests")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
