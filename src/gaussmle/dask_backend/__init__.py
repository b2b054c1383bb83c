"""Fitting and predicting on Dask arrays and DataFrames, on one machine or a cluster.

Every block of rows is summarised by per-class sufficient statistics
(:meth:`GaussianStats.from_groups`, float64 accumulation); the statistics of
all blocks are merged by a tree reduction of :meth:`GaussianStats.merge`, the
exact pairwise update, so the fitted model equals the in-memory fit whatever
the chunking. Only the small statistics travel to the client, never a block
of data. Prediction maps the fitted model over the row blocks and stays lazy.

Each block's statistics travel with a reference row per class (a row of that
class in the block) and describe the rows *minus* that reference, so their
means are small numbers; two blocks are merged in the coordinates of one
reference, and the reference is added back once, on the client. Without this,
every block mean near an offset of 1e9 would be rounded to about 1e-7 before
the merge, which costs about 1e-5 in a variance of 1e-6.

Dask DataFrames are turned into arrays through their delayed partitions, with
the partition lengths computed on those same partitions
(``to_dask_array(lengths=True)`` computes the lengths on a separately
optimised graph, and after Dask fuses the partitions of a column projection
of ``read_parquet`` the two disagree).

Dask is imported only inside the functions of this module, so ``import
gaussmle`` does not pay for it; the classifier and :func:`gaussmle.fit` import
this module only when they are handed a Dask collection.

The package's modules: ``_fit`` (:func:`stats_from_dask` and
:func:`class_stats_from_dask`), ``_predict`` (:func:`predict_blocks`), ``_cluster``
(:func:`client_for` and :func:`read_parquet_xy`), ``_convert`` (collections to Dask
arrays of known chunk lengths), ``_blocks`` (per-block statistics and their tree
merge), ``_mixture`` (one map-reduce per EM pass of ``GaussianMixture.fit``, given
the estimator's per-block function, and lazy evaluation of a fitted mixture) and
``_semisupervised`` (the split of labelled from unlabelled rows and one map-reduce per
EM pass of the semi-supervised classifier, given the estimator's per-block functions).

Examples
--------
>>> import numpy as np
>>> import dask.array as da
>>> from gaussmle import GaussianClassifier
>>> X = da.from_array(np.array([[0.0], [1.0], [5.0], [7.0], [0.5], [6.0]]), chunks=2)
>>> y = da.from_array(np.array(["a", "a", "b", "b", "a", "b"]), chunks=2)
>>> clf = GaussianClassifier().fit(X, y)
>>> clf.classes_.tolist(), clf.means_.ravel().tolist()
(['a', 'b'], [0.5, 6.0])
>>> clf.predict(da.from_array(np.array([[0.2], [6.5]]))).compute().tolist()
['a', 'b']
"""

from __future__ import annotations

from ._blocks import SPLIT_EVERY as SPLIT_EVERY
from ._cluster import ClusterLost, client_for, read_parquet_xy
from ._fit import class_stats_from_dask, stats_from_dask
from ._predict import PREDICT_METHODS as PREDICT_METHODS
from ._predict import predict_blocks

__all__ = [
    "ClusterLost",
    "client_for",
    "class_stats_from_dask",
    "predict_blocks",
    "read_parquet_xy",
    "stats_from_dask",
]
