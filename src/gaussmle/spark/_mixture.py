"""A :class:`~gaussmle.GaussianMixture` fitted on a Spark DataFrame: one Spark job per EM pass.

:class:`SparkRows` is a :class:`gaussmle.mixture_sources.RowSource`: the
estimator's own EM loop (:meth:`GaussianMixture.fit_source`) asks it for one
pass per iteration, and each pass is one Spark job. Every partition runs the
in-memory pass (:func:`gaussmle.mixture.batch_em_pass`: the E-step and the
responsibility-weighted statistics, fused per chunk) on its Arrow batches,
merges them exactly (:meth:`GaussianStats.merge`, in order) and sends the
driver one row of plain float arrays; the driver merges the partitions in
partition order. Rows are never collected (only the start, on at most
``INIT_SAMPLE_ROWS`` rows, reads a sample, and a few rows are read to
re-seed an empty component).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._spread import check_spread, merge_batch_spreads, spread_of_batches
from .._validation import check_sample_weight
from ..mixture import GaussianMixture
from ..stats import GaussianStats
from ._columns import check_columns, check_numeric, feature_input, quoted
from ._summary import features_of, nan_message
from ._threads import in_one_thread

#: Columns of a partition's result row besides the statistics.
_ROW_FIELDS = (
    "partition",
    "rows",
    "loglik",
    "worst",
    "worst_rows",
    "worst_values",
    "sizes",
    "error",
)


def stats_fields(stats: GaussianStats | None) -> dict[str, Any]:
    """The statistics as plain lists (``count``, ``mean``, ``mean_lo``, ``m2``), or Nones.

    Examples
    --------
    >>> s = GaussianStats.from_data([[1.0], [3.0]])
    >>> stats_fields(s)["m2"], stats_fields(None)["count"]
    ([2.0], None)
    """
    if stats is None:
        return dict.fromkeys(("count", "mean", "mean_lo", "m2"))
    return {
        "count": np.ravel(stats.count).tolist(),
        "mean": stats.mean.ravel().tolist(),
        "mean_lo": stats.lo.ravel().tolist(),
        "m2": stats.m2.ravel().tolist(),
    }


def stats_of_fields(row: dict[str, Any], kind: str, d: int) -> GaussianStats:
    """The statistics of :func:`stats_fields`, batch ``(k,)`` (``k`` from the counts).

    Examples
    --------
    >>> s = GaussianStats.from_groups(np.array([[1.0], [3.0], [7.0]]), np.array([0, 0, 1]), 2)
    >>> t = stats_of_fields(stats_fields(s), "diag", 1)
    >>> t.count.tolist(), t.m2.ravel().tolist()
    ([2.0, 1.0], [2.0, 0.0])
    """
    count = np.asarray(row["count"], dtype=np.float64)
    k = count.shape[0]
    m2_shape = (k, d, d) if kind == "full" else (k, d)
    return GaussianStats(
        count,
        np.asarray(row["mean"], dtype=np.float64).reshape(k, d),
        np.asarray(row["m2"], dtype=np.float64).reshape(m2_shape),
        kind,
        None,
        np.asarray(row["mean_lo"], dtype=np.float64).reshape(k, d),
    )


def batch_arrays(
    batch: Any, features: list[str], weighted: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """A batch's features (float64, checked finite) and weights (checked, or None).

    A batch whose weights are all zero is fine (the rows count for nothing);
    the whole DataFrame's are checked on the driver.

    Examples
    --------
    >>> import pyarrow as pa
    >>> b = pa.RecordBatch.from_pydict({"f0": [1.0, 2.0], "w": [0.0, 0.0]})
    >>> X, w = batch_arrays(b, ["a"], True)
    >>> X.tolist(), w.tolist()
    ([[1.0], [2.0]], [0.0, 0.0])
    """
    d = len(features)
    X = features_of(batch, d)
    message = nan_message(X, features)
    if message is not None:
        raise ValueError(message)
    if not weighted:
        return X, None
    w = batch.column(d).to_numpy(zero_copy_only=False).astype(np.float64)
    if np.any(w != 0):
        w = check_sample_weight(w, batch.num_rows)
    elif not np.all(np.isfinite(w)):
        raise ValueError("sample_weight contains NaN or infinity; pass finite weights")
    return X, w


def _partition_id() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    return context.partitionId() if context is not None else 0


def _result_batch(fields: dict[str, Any]) -> Any:
    """One partition's result row as an Arrow batch (the schema of :func:`_result_schema`)."""
    import pyarrow as pa

    floats, longs = pa.list_(pa.float64()), pa.list_(pa.int64())
    types = {
        "partition": pa.int64(),
        "rows": pa.int64(),
        "loglik": pa.float64(),
        "worst": floats,
        "worst_rows": longs,
        "worst_values": floats,
        "sizes": longs,
        "error": pa.string(),
        "count": floats,
        "mean": floats,
        "mean_lo": floats,
        "m2": floats,
        "spread": floats,
    }
    return pa.RecordBatch.from_arrays(
        [pa.array([fields.get(name)], type=t) for name, t in types.items()], names=list(types)
    )


def _result_schema() -> Any:
    from pyspark.sql.types import ArrayType, DoubleType, LongType, StringType, StructField
    from pyspark.sql.types import StructType as Struct

    floats, longs = ArrayType(DoubleType()), ArrayType(LongType())
    types = [LongType(), LongType(), DoubleType(), floats, longs, floats, longs, StringType()]
    fields = [StructField(n, t) for n, t in zip(_ROW_FIELDS, types, strict=True)]
    fields += [StructField(n, floats) for n in ("count", "mean", "mean_lo", "m2", "spread")]
    return Struct(fields)


def _pooled_partition(features: list[str], kind: str, weighted: bool) -> Any:
    """Per partition: its rows, the statistics of all of them (one group) and what its
    batches tell about each feature's spread (:func:`gaussmle._spread.batch_spread`)."""

    def pooled(batches: Iterator[Any]) -> Iterator[Any]:
        from gaussmle._spread import batch_spread, merge_batch_spreads

        partition = _partition_id()
        total: GaussianStats | None = None
        spreads = None
        rows = 0
        try:
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                X, w = batch_arrays(batch, features, weighted)
                part = GaussianStats.from_data(X, w, kind)
                diag = part.to_diag()
                spreads = merge_batch_spreads(spreads, batch_spread(X, diag.mean, diag.variance))
                total = part if total is None else total.merge(part)
                rows += batch.num_rows
        except ValueError as exc:
            yield _result_batch({"partition": partition, "error": str(exc)})
            return
        if total is not None:
            total = GaussianStats.stack([total])
        spread = None if spreads is None else spreads.ravel().tolist()
        fields = {"partition": partition, "rows": rows, "spread": spread, **stats_fields(total)}
        yield _result_batch(fields)

    return in_one_thread(pooled)


def _em_partition(
    features: list[str],
    weighted: bool,
    densities: Any,
    kind: str,
    reference: np.ndarray,
    n_worst: int,
) -> Any:
    """Per partition: the in-memory EM pass on each batch, merged in order."""

    def em(batches: Iterator[Any]) -> Iterator[Any]:
        from gaussmle.mixture import batch_em_pass
        from gaussmle.mixture_sources import merge_worst

        partition = _partition_id()
        total: GaussianStats | None = None
        loglik = 0.0
        worst, where = np.empty(0), np.empty(0, dtype=np.int64)
        values: dict[int, np.ndarray] = {}
        start = 0
        try:
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                X, w = batch_arrays(batch, features, weighted)
                stats, part, logp, rows = batch_em_pass(X, w, densities, kind, reference, n_worst)
                total = stats if total is None else total.merge(stats)
                loglik += part
                if n_worst:
                    worst, where = merge_worst(worst, where, logp, rows + start, n_worst)
                    values.update({start + int(i): X[i].copy() for i in rows})
                    values = {int(r): values[int(r)] for r in where}
                start += batch.num_rows
        except ValueError as exc:
            yield _result_batch({"partition": partition, "error": str(exc)})
            return
        yield _result_batch(
            {
                "partition": partition,
                "rows": start,
                "loglik": loglik,
                "worst": worst.tolist(),
                "worst_rows": [int(r) for r in where],
                "worst_values": np.concatenate(
                    [values[int(r)] for r in where] or [np.empty(0)]
                ).tolist(),
                **stats_fields(total),
            }
        )

    return in_one_thread(em)


def _pick_partition(features: list[str], weighted: bool, picks: dict[int, np.ndarray]) -> Any:
    """Per partition: the rows (and weights) at the given positions within it."""
    d = len(features)

    def pick(batches: Iterator[Any]) -> Iterator[Any]:
        partition = _partition_id()
        wanted = picks.get(partition)
        if wanted is not None and len(wanted) == 0:
            return
        parts, weights, start = [], [], 0
        try:
            for batch in batches:
                n = batch.num_rows
                if n == 0:
                    continue
                X, w = batch_arrays(batch, features, weighted)
                if wanted is None:
                    local = slice(None)
                else:
                    local = wanted[
                        np.searchsorted(wanted, start) : np.searchsorted(wanted, start + n)
                    ]
                    local = local - start
                parts.append(X[local])
                weights.append(np.ones(len(parts[-1])) if w is None else w[local])
                start += n
        except ValueError as exc:
            yield _result_batch({"partition": partition, "error": str(exc)})
            return
        X = np.concatenate(parts) if parts else np.empty((0, d))
        w = np.concatenate(weights) if weights else np.empty(0)
        # the rows travel in "worst_values" and their weights in "worst" (one schema for all)
        yield _result_batch(
            {
                "partition": partition,
                "rows": int(X.shape[0]),
                "worst_values": X.ravel().tolist(),
                "worst": w.tolist(),
            }
        )

    return in_one_thread(pick)


def _score_partition(features: list[str], text: Any) -> Any:
    """Per partition: rows per most probable component and the sum of log p(x)."""

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        from gaussmle.spark._predict import model_from_text

        partition = _partition_id()
        model = model_from_text(text)
        k = len(model.weights_)
        sizes = np.zeros(k, dtype=np.int64)
        loglik, rows = 0.0, 0
        try:
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                X, _ = batch_arrays(batch, features, False)
                sizes += np.bincount(model.predict(X), minlength=k)
                loglik += float(model.score_samples(X).sum())
                rows += batch.num_rows
        except ValueError as exc:
            yield _result_batch({"partition": partition, "error": str(exc)})
            return
        yield _result_batch(
            {"partition": partition, "rows": rows, "loglik": loglik, "sizes": sizes.tolist()}
        )

    return in_one_thread(score)


class SparkRows:
    """Numeric columns of a Spark DataFrame as a mixture's row source (one job per pass).

    The columns are cast to double and the frame persisted for the passes
    (:meth:`release` unpersists it). Rows are numbered partition by
    partition in the order Spark holds them; the first pass counts the rows
    of every partition.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
    features : str or sequence of str
        The numeric feature columns, or one MLlib vector column.
    sample_weight : str, optional
        A numeric column of non-negative weights.
    """

    def __init__(self, df: Any, features: Any, sample_weight: str | None = None) -> None:
        from pyspark.sql import functions as F

        inputs = feature_input(df, features)
        self.features = inputs.names
        self.weighted = sample_weight is not None
        columns = [F.expr(c).alias(f"f{j}") for j, c in enumerate(inputs.columns)]
        if sample_weight is not None:
            columns.append(F.col(quoted(sample_weight)).cast("double").alias("w"))
        self.df = inputs.frame.select(*columns).persist()
        self._sizes: np.ndarray | None = None
        self._worst_values: dict[int, np.ndarray] = {}

    def release(self) -> None:
        """Unpersist the cached columns."""
        self.df.unpersist()

    @property
    def n_features(self) -> int:
        return len(self.features)

    @property
    def n_rows(self) -> int:
        if self._sizes is None:
            self.pooled_stats("diag")
        assert self._sizes is not None
        return int(self._sizes.sum())

    def _offsets(self) -> np.ndarray:
        if self._sizes is None:
            self.pooled_stats("diag")
        assert self._sizes is not None
        return np.concatenate([[0], np.cumsum(self._sizes)]).astype(np.int64)

    def _job(self, fn: Any) -> list[dict[str, Any]]:
        """Run ``fn`` on every partition; its rows in partition order (errors raised)."""
        rows = [r.asDict() for r in self.df.mapInArrow(fn, _result_schema()).collect()]
        rows.sort(key=lambda r: r["partition"])
        for row in rows:
            if row["error"] is not None:
                raise ValueError(row["error"])
        return rows

    def pooled_stats(self, kind: str) -> GaussianStats:
        """Statistics of all rows (one job); counts the rows of every partition.

        A feature whose values differ (within a batch, or between batches and
        partitions) by too little for float64 squares is refused, as in memory.
        """
        rows = self._job(_pooled_partition(self.features, kind, self.weighted))
        sizes = np.zeros(self.df.rdd.getNumPartitions(), dtype=np.int64)
        total = GaussianStats.empty(self.n_features, kind)
        spreads = None
        for row in rows:
            sizes[row["partition"]] = row["rows"]
            if row["count"] is not None:
                total = total.merge(stats_of_fields(row, kind, self.n_features)[0])
            if row["spread"] is not None:
                part = np.asarray(row["spread"], dtype=np.float64).reshape(3, self.n_features)
                spreads = merge_batch_spreads(spreads, part)
        self._sizes = sizes
        if sizes.sum() == 0:
            raise ValueError("X is empty (0 samples); pass at least one row of data")
        if spreads is not None:  # as in memory: a feature varying too little is refused
            check_spread(spread_of_batches(spreads), total.to_diag().variance)
        if float(total.count) <= 0:
            raise ValueError(
                "sample_weight is all zero; at least one sample needs a positive weight"
            )
        return total

    def em_pass(
        self, densities: Any, kind: str, reference: np.ndarray, n_worst: int
    ) -> tuple[GaussianStats, float, np.ndarray, np.ndarray]:
        """The in-memory pass on every batch of every partition, merged exactly (one job)."""
        offsets = self._offsets()
        fn = _em_partition(self.features, self.weighted, densities, kind, reference, n_worst)
        k = int(np.shape(densities.means)[0])
        d = self.n_features
        total = GaussianStats.empty(d, kind, (k,))
        loglik = 0.0
        worst, where = np.empty(0), np.empty(0, dtype=np.int64)
        values: dict[int, np.ndarray] = {}
        from ..mixture_sources import merge_worst

        for row in self._job(fn):
            if row["count"] is None:  # an empty partition
                continue
            total = total.merge(stats_of_fields(row, kind, d))
            loglik += row["loglik"]
            if n_worst:
                rows = np.asarray(row["worst_rows"], dtype=np.int64) + offsets[row["partition"]]
                found = np.asarray(row["worst_values"], dtype=np.float64).reshape(-1, d)
                worst, where = merge_worst(worst, where, np.asarray(row["worst"]), rows, n_worst)
                values.update({int(r): found[i] for i, r in enumerate(rows)})
                values = {int(r): values[int(r)] for r in where}
        self._worst_values = values
        return total, loglik, worst, where

    def _pick(self, picks: dict[int, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
        fn = _pick_partition(self.features, self.weighted, picks or {})
        parts, weights = [], []
        for row in self._job(fn):
            parts.append(
                np.asarray(row["worst_values"], dtype=np.float64).reshape(-1, self.n_features)
            )
            weights.append(np.asarray(row["worst"], dtype=np.float64))
        X = np.concatenate(parts) if parts else np.empty((0, self.n_features))
        return X, (np.concatenate(weights) if weights else np.empty(0))

    def _local(self, indices: np.ndarray) -> dict[int, np.ndarray]:
        """Global row numbers (sorted) as positions within each partition."""
        offsets = self._offsets()
        part = np.searchsorted(offsets, indices, side="right") - 1
        return {int(p): indices[part == p] - offsets[p] for p in range(len(offsets) - 1)}

    def sample(
        self, n_rows: int, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """All rows when there are at most ``n_rows``, else a uniform sample (one job)."""
        n = self.n_rows
        if n <= n_rows:
            X, w = self._pick(None)
        else:
            take = np.sort(rng.choice(n, size=n_rows, replace=False))
            X, w = self._pick(self._local(take))
        return X, (w if self.weighted else None)

    def row(self, index: int) -> np.ndarray:
        """Row ``index``: one of the last pass's worst rows, or read (one job)."""
        if index in self._worst_values:
            return self._worst_values[index]
        if not 0 <= index < self.n_rows:
            raise IndexError(f"row {index} is beyond the {self.n_rows} rows of the source")
        X, _ = self._pick(self._local(np.array([index], dtype=np.int64)))
        return X[0]


def score_rows(model: Any, rows: SparkRows) -> tuple[np.ndarray, float, int]:
    """Rows per most probable component, total log p(x) and rows, under ``model`` (one job).

    The model travels as its model file text, broadcast once.
    """
    from ._predict import broadcast_model

    sizes = np.zeros(len(model.weights_), dtype=np.int64)
    loglik, n = 0.0, 0
    for row in rows._job(_score_partition(rows.features, broadcast_model(rows.df, model))):
        sizes += np.asarray(row["sizes"], dtype=np.int64)
        loglik += row["loglik"]
        n += row["rows"]
    return sizes, loglik, n


def fit_mixture(
    df: Any,
    features: Any,
    n_components: int,
    covariance_type: str = "full",
    *,
    sample_weight: str | None = None,
    **params: Any,
) -> GaussianMixture:
    """Fit a :class:`~gaussmle.GaussianMixture` to a Spark DataFrame: one Spark job per EM pass.

    The estimator's own EM (:meth:`GaussianMixture.fit_source`) runs on the
    driver over a :class:`SparkRows` source: each iteration is one Spark job
    in which every partition runs the in-memory pass on its Arrow batches and
    sends its per-component statistics (plain float arrays), merged exactly on
    the driver. The result equals ``GaussianMixture.fit`` on the same rows
    (from the same start) whatever the partitioning, at any offset.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
    features : str or sequence of str
        Numeric feature columns (they become ``feature_names_in_``; no nulls), or
        one MLlib vector column (the names are its metadata's).
    n_components : int
    covariance_type : {"full", "diag", "spherical", "tied"}
    sample_weight : str, optional
        A numeric column of non-negative weights.
    **params
        Any other :class:`~gaussmle.GaussianMixture` parameter (``max_iter``,
        ``tol``, ``random_state``, ``means_init``...).

    Returns
    -------
    GaussianMixture
        A normal fitted mixture (NumPy attributes).

    Raises
    ------
    ValueError
        For a missing or non-numeric column, NaN or null in a feature, bad
        weights, or an empty DataFrame.

    Examples
    --------
    Spark is needed (docs/spark.md). Per partition the statistics travel as
    plain lists:

    >>> stats_fields(GaussianStats.from_data([[1.0, 2.0]]))["mean"]
    [1.0, 2.0]
    """
    extra = [sample_weight] if sample_weight is not None else []
    check_columns(df, extra)
    check_numeric(df, extra, what="sample_weight")
    model = GaussianMixture(n_components, covariance_type=covariance_type, **params)
    rows = SparkRows(df, features, sample_weight)
    names = rows.features
    try:
        model.fit_source(rows)
    finally:
        rows.release()
    model.feature_names_in_ = np.asarray(names, dtype=object)
    return model
