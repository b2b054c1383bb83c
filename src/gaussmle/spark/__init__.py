"""Exact Gaussian classifiers on Spark DataFrames.

:func:`fit` summarises each partition's Arrow batches into per-class
sufficient statistics (the project's :class:`~gaussmle.stats.GaussianStats`,
float64, two-pass, merged with the exact pairwise update) and merges the
partitions on the driver in a pairwise tree; rows are never collected, and
the statistics travel as plain float arrays. The result is a normal
:class:`~gaussmle.GaussianClassifier`, equal to the in-memory fit.
:func:`predict` adds MLlib's ``prediction`` column (and ``probability``)
lazily, with the model broadcast once as its JSON model file text;
:func:`label_counts` scores a classifier on labelled rows from
per-partition confusion counts (what ``gaussmle evaluate --engine spark``
prints); :func:`fit_mixture` fits a :class:`~gaussmle.GaussianMixture`
with the estimator's own EM over a :class:`SparkRows` source, one Spark job
per iteration.

pyspark (``pip install gaussmle[spark]``) is imported only inside the
functions. See docs/spark.md for a guide and the comparison with MLlib's
``NaiveBayes(modelType="gaussian")``.

Examples
--------
>>> from gaussmle.spark import fit, predict
>>> callable(fit) and callable(predict)
True
"""

from ._evaluate import LabelCounts, label_counts
from ._fit import class_stats, fit
from ._mixture import SparkRows, fit_mixture
from ._predict import predict

__all__ = [
    "LabelCounts",
    "SparkRows",
    "class_stats",
    "fit",
    "fit_mixture",
    "label_counts",
    "predict",
]
