"""Row sources: EM over data read one pass per iteration (files, Dask, Spark, batches).

:meth:`GaussianMixture.fit_source <gaussmle.GaussianMixture.fit_source>` runs
batch EM over any object with the :class:`RowSource` methods; it never holds
the rows. Each EM iteration is one call of :meth:`RowSource.em_pass`: the
source applies the in-memory pass (:func:`gaussmle.mixture.batch_em_pass`: the
E-step and the responsibility-weighted statistics, fused per chunk) to each of
its batches and merges the batches' statistics exactly
(:meth:`GaussianStats.merge`, in order), so the fit equals the in-memory fit
whatever the batches. Sources here:

- :class:`BatchSource`: the base of sources that can read their batches again
  in order (a subclass gives :meth:`BatchSource.batches` and ``n_features``);
  it implements the protocol on top of them, with memory bounded by a batch;
- :class:`ArrayRows`: a NumPy array cut into batches (for tests and examples);
- :class:`gaussmle.dask_backend._mixture_rows.DaskRows`: a Dask collection
  (built by ``GaussianMixture.fit``), one map-reduce per pass;
- :class:`FileRows`: CSV, Parquet or ``.npy`` files read in row batches, one
  pass over the files per iteration (``gaussmle cluster --stream``).

Examples
--------
>>> import numpy as np
>>> from gaussmle import GaussianMixture
>>> X = np.array([[0.0], [0.2], [0.4], [10.0], [10.2], [10.4]])
>>> rows = ArrayRows(X, batch_rows=[2, 1, 3])
>>> gm = GaussianMixture(2, covariance_type="diag", random_state=0).fit_source(rows)
>>> ref = GaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
>>> bool(np.allclose(gm.means_, ref.means_, rtol=1e-12, atol=0))
True
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ._spread import batch_spread, check_spread, merge_batch_spreads, spread_of_batches
from ._validation import as_float_array, check_sample_weight
from .mixture import batch_em_pass
from .stats import GaussianStats

#: What a pass returns: statistics (batch ``(k,)``), the (weighted) sum of log p(x),
#: the ``n_worst`` smallest log p(x) (ascending) and their global row numbers.
PassResult = tuple[GaussianStats, float, np.ndarray, np.ndarray]


@runtime_checkable
class RowSource(Protocol):
    """Rows that can be read in full once per EM iteration.

    ``n_rows`` may be known only after the first :meth:`pooled_stats` (a
    file's rows are counted while it is read); ``fit_source`` asks for it
    after that pass. Row numbers are 0-based positions in the source's order.
    """

    @property
    def n_features(self) -> int:
        """Columns of every row."""
        ...

    @property
    def n_rows(self) -> int:
        """Rows of the source (after :meth:`pooled_stats`)."""
        ...

    def pooled_stats(self, kind: str) -> GaussianStats:
        """Statistics (``kind`` "diag" or "full") of all rows, weighted: one pass."""
        ...

    def em_pass(self, densities: Any, kind: str, reference: np.ndarray, n_worst: int) -> PassResult:
        """:func:`gaussmle.mixture.batch_em_pass` on every batch, merged exactly: one pass."""
        ...

    def sample(
        self, n_rows: int, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows (and weights) to start from: all when there are at most ``n_rows``.

        Otherwise ``n_rows`` distinct rows drawn uniformly with ``rng``
        (``rng.choice(n, n_rows, replace=False)``), in their order in the source.
        """
        ...

    def row(self, index: int) -> np.ndarray:
        """Row ``index`` (re-seeding an empty component asks for a few)."""
        ...


def merge_worst(
    logp: np.ndarray, rows: np.ndarray, more_logp: np.ndarray, more_rows: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` smallest log p(x) of two lists (ascending, stable) with their rows.

    Examples
    --------
    >>> lp, rows = merge_worst(np.array([-3.0, -1.0]), np.array([7, 2]),
    ...                        np.array([-2.0]), np.array([9]), 2)
    >>> lp.tolist(), rows.tolist()
    ([-3.0, -2.0], [7, 9])
    """
    logp = np.concatenate([logp, more_logp])
    rows = np.concatenate([rows, more_rows])
    order = np.argsort(logp, kind="stable")[:n]
    return logp[order], rows[order]


class BatchSource(ABC):
    """A :class:`RowSource` over batches that can be read again, in the same order.

    A subclass gives ``n_features`` and :meth:`batches`; the passes, the
    sample and single rows are read from those batches here, holding one batch
    (plus the sample) at a time. The rows met as the worst explained in the
    last pass are kept, so re-seeding at them reads nothing more.
    """

    def __init__(self) -> None:
        self._n_rows: int | None = None
        self._worst_values: dict[int, np.ndarray] = {}

    @property
    @abstractmethod
    def n_features(self) -> int:
        """Columns of every row."""

    @abstractmethod
    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """The rows (and their weights, or None) batch by batch, in order: one full read."""

    @property
    def n_rows(self) -> int:
        """Rows counted by the first pass (read then, if no pass has been made)."""
        if self._n_rows is None:
            self._n_rows = sum(X.shape[0] for X, _ in self.batches())
        return self._n_rows

    def _numbered(self) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
        """The non-empty batches with the global row number of their first row."""
        start = 0
        for X, w in self.batches():
            n = X.shape[0]
            if n:
                yield start, X, w
            start += n
        self._n_rows = start

    def pooled_stats(self, kind: str) -> GaussianStats:
        """Statistics of all rows, batch by batch, merged exactly.

        A feature whose values differ (within a batch or between batches) by
        too little for float64 squares is refused, as by the in-memory fit.
        """
        total = GaussianStats.empty(self.n_features, kind)
        spreads = None
        for _, X, w in self._numbered():
            part = GaussianStats.from_data(X, w, kind)
            diag = part.to_diag()
            spreads = merge_batch_spreads(spreads, batch_spread(X, diag.mean, diag.variance))
            total = total.merge(part)
        if spreads is not None:
            check_spread(spread_of_batches(spreads), total.to_diag().variance)
        return total

    def em_pass(self, densities: Any, kind: str, reference: np.ndarray, n_worst: int) -> PassResult:
        """The in-memory pass on every batch, merged exactly in order."""
        k = int(np.shape(densities.means)[0])
        total = GaussianStats.empty(self.n_features, kind, (k,))
        loglik = 0.0
        worst = np.empty(0)
        rows = np.empty(0, dtype=np.intp)
        values: dict[int, np.ndarray] = {}
        for start, X, w in self._numbered():
            stats, part, logp, where = batch_em_pass(X, w, densities, kind, reference, n_worst)
            total = total.merge(stats)
            loglik += part
            if n_worst:
                worst, rows = merge_worst(worst, rows, logp, where + start, n_worst)
                values.update({start + int(i): np.array(X[i], dtype=np.float64) for i in where})
                values = {int(r): values[int(r)] for r in rows}
        self._worst_values = values
        return total, loglik, worst, rows

    def sample(
        self, n_rows: int, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """All rows when there are at most ``n_rows``, else a uniform sample (one read)."""
        n = self.n_rows
        take = None if n <= n_rows else np.sort(rng.choice(n, size=n_rows, replace=False))
        parts: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        weighted = False
        for start, X, w in self._numbered():
            pick = (
                slice(None)
                if take is None
                else take[np.searchsorted(take, start) : np.searchsorted(take, start + len(X))]
                - start
            )
            parts.append(np.asarray(X[pick], dtype=np.float64))
            weighted = weighted or w is not None
            weights.append(np.ones(len(parts[-1])) if w is None else np.asarray(w[pick]))
        Xs = np.concatenate(parts) if parts else np.empty((0, self.n_features))
        return Xs, (np.concatenate(weights) if weighted else None)

    def row(self, index: int) -> np.ndarray:
        """Row ``index``: one of the last pass's worst rows, or read again."""
        if index in self._worst_values:
            return self._worst_values[index]
        for start, X, _ in self._numbered():
            if start <= index < start + X.shape[0]:
                return np.array(X[index - start], dtype=np.float64)
        raise IndexError(f"row {index} is beyond the {self.n_rows} rows of the source")


class ArrayRows(BatchSource):
    """An in-memory array (and weights) read in batches: a :class:`RowSource` for tests.

    ``batch_rows`` is the rows of every batch (the last may be shorter) or
    the list of batch sizes (they must add up to the rows of ``X``).

    Examples
    --------
    >>> rows = ArrayRows(np.arange(10.0).reshape(5, 2), batch_rows=[3, 0, 2])
    >>> [X.shape[0] for X, _ in rows.batches()], rows.n_rows, rows.row(4).tolist()
    ([3, 0, 2], 5, [8.0, 9.0])
    """

    def __init__(
        self, X: Any, sample_weight: Any = None, *, batch_rows: int | Sequence[int] = 65536
    ) -> None:
        super().__init__()
        X = as_float_array(X, allow_1d=False)
        self.X = X
        self.w = check_sample_weight(sample_weight, X.shape[0])
        n = X.shape[0]
        if isinstance(batch_rows, int | np.integer):
            if batch_rows < 1:
                raise ValueError(f"batch_rows must be at least 1; got {batch_rows}")
            sizes = [min(int(batch_rows), n - s) for s in range(0, n, int(batch_rows))]
        else:
            sizes = [int(s) for s in batch_rows]
            if any(s < 0 for s in sizes) or sum(sizes) != n:
                raise ValueError(
                    f"batch_rows sizes must be >= 0 and add up to the {n} rows of X; got {sizes}"
                )
        self.bounds = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).tolist()

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for a, b in zip(self.bounds[:-1], self.bounds[1:], strict=True):
            yield self.X[a:b], None if self.w is None else self.w[a:b]


class FileRows(BatchSource):
    """The feature columns of CSV, Parquet or ``.npy`` files, read in batches on every pass.

    The files are read with :func:`gaussmle.io.iter_xy` (the reader of the
    rest of the package and the CLI) in batches of at most ``batch_rows`` rows,
    once per pass, so memory is bounded by a batch whatever the size of the
    files. ``features`` are the columns (every column by default);
    ``drop_missing`` drops rows with a missing value (the same rows on every
    pass, counted in ``n_dropped``), otherwise a missing value is an error.
    Standard input cannot be read again and is refused. ``watch``, when set,
    is called with every :class:`gaussmle.io.XYBatch` read (for progress bars).

    Examples
    --------
    >>> import os, tempfile
    >>> from gaussmle.io import write_table
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> write_table(path, {"a": [0.0, 0.2, 0.4, 10.0, 10.2, 10.4], "b": [1.0] * 6})
    >>> rows = FileRows(path, ["a"], batch_rows=4)
    >>> [X.shape[0] for X, _ in rows.batches()], rows.n_features, rows.row(3).tolist()
    ([4, 2], 1, [10.0])
    """

    def __init__(
        self,
        data: Any,
        features: Sequence[str] | None = None,
        *,
        batch_rows: int = 65536,
        drop_missing: bool = False,
    ) -> None:
        from .io import source_size_bytes, table_columns

        super().__init__()
        if source_size_bytes(data) is None:
            raise ValueError(
                "standard input can be read only once and EM reads its rows once per "
                "iteration; save the data to a file first"
            )
        self.data = data
        self.features = list(features) if features else table_columns(data)
        self.batch_rows = int(batch_rows)
        self.drop_missing = bool(drop_missing)
        self.n_dropped = 0
        self.watch: Callable[[Any], None] | None = None

    @property
    def n_features(self) -> int:
        return len(self.features)

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        from .io import iter_xy

        dropped = 0
        for batch in iter_xy(
            self.data,
            self.features,
            None,
            batch_rows=self.batch_rows,
            drop_missing=self.drop_missing,
        ):
            dropped += batch.n_dropped
            if self.watch is not None:
                self.watch(batch)
            yield batch.X, None
        self.n_dropped = dropped


__all__ = ["ArrayRows", "BatchSource", "FileRows", "PassResult", "RowSource", "merge_worst"]
