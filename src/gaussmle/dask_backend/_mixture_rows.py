"""A Dask array (and its weights) as a mixture's row source: one map-reduce per EM pass.

:class:`DaskRows` is the :class:`gaussmle.mixture_sources.RowSource` that
:meth:`GaussianMixture.fit <gaussmle.GaussianMixture.fit>` builds for a Dask
collection. It knows nothing of the mixture: the estimator hands it
``batch_pass``, the in-memory pass over one batch of rows
(:func:`gaussmle.mixture.batch_em_pass`), which every row block runs under
:func:`~gaussmle.dask_backend._mixture.em_pass_dask`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..stats import GaussianStats
from ._fit import stats_from_dask
from ._mixture import BlockResult, em_pass_dask, sample_rows

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.array as da

#: ``batch_pass(X, w, densities, kind, reference, n_worst)``: one batch's statistics,
#: sum of log p(x), and its ``n_worst`` smallest log p(x) with their rows in the batch.
BatchPass = Callable[..., BlockResult]


@dataclass(frozen=True)
class DaskRows:
    """The rows of a 2-D Dask array ``X`` (weights ``w``, or None) as a row source.

    Examples
    --------
    >>> import dask.array as da
    >>> def batch_pass(X, w, densities, kind, reference, n_worst):
    ...     logp = -X[:, 0]
    ...     stats = GaussianStats.from_data(X, w, kind)
    ...     return stats, float(logp.sum()), logp[:n_worst], np.arange(len(X))[:n_worst]
    >>> rows = DaskRows(da.from_array(np.array([[1.0], [2.0], [3.0]]), chunks=2), None,
    ...                 batch_pass)
    >>> rows.n_rows, rows.n_features, float(rows.pooled_stats("diag").mean[0])
    (3, 1, 2.0)
    >>> stats, loglik, worst, where = rows.em_pass(None, "diag", np.zeros(1), 1)
    >>> loglik, where.tolist(), rows.row(2).tolist()
    (-6.0, [2], [3.0])
    """

    X: da.Array
    w: da.Array | None
    batch_pass: BatchPass

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    def pooled_stats(self, kind: str) -> GaussianStats:
        """Statistics of all rows (one map-reduce); a tiny spread is refused as in memory."""
        return stats_from_dask(self.X, self.w, kind, refuse_tiny_spread=True)

    def em_pass(
        self, densities: Any, kind: str, reference: np.ndarray, n_worst: int
    ) -> BlockResult:
        """``batch_pass`` on every row block, merged exactly by a tree reduction."""
        block = partial(
            self.batch_pass,
            densities=densities,
            kind=kind,
            reference=reference,
            n_worst=n_worst,
        )
        return em_pass_dask(self.X, self.w, block, n_worst)

    def sample(
        self, n_rows: int, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """All rows when there are at most ``n_rows``, else ``n_rows`` drawn by ``rng``."""
        return sample_rows(self.X, self.w, n_rows, rng)

    def row(self, index: int) -> np.ndarray:
        """Row ``index``, computed (only re-seeding asks, for a few rows)."""
        return np.asarray(self.X[index].compute(), dtype=np.float64)
