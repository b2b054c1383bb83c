"""``gaussmle cluster --stream``: batch EM over files bigger than memory.

The files are a :class:`gaussmle.mixture_sources.FileRows` source: every EM
iteration reads them once, batch by batch, and folds each batch into exact
per-component statistics, so memory is bounded by a batch (``--batch-rows``)
and the start's sample, whatever the size of the files. The passes: one for
the pooled statistics, one for the start (a uniform sample of at most
``INIT_SAMPLE_ROWS`` rows; all rows, in order, on smaller files, which makes
the result the in-memory ``cluster``'s), one per EM iteration, and one after
the fit for the report (rows per component and BIC). Each pass shows a progress
bar when standard error is a terminal, and each EM iteration ends with one line
on standard error (unless ``--no-progress``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..io import DataError
from ..mixture_sources import FileRows, PassResult
from ..stats import GaussianStats
from ._progress import Progress, tell

#: Without --stream, files larger than this many bytes are clustered in streaming mode.
STREAM_ABOVE_BYTES = 1 << 30


class ProgressRows(FileRows):
    """:class:`FileRows` that shows a bar per pass and a line per EM iteration."""

    def __init__(self, *args: Any, progress: bool, components: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.progress = progress
        self.components = components
        self.weight = 1.0
        self.passes = 0

    def _watched(self, label: str) -> Progress:
        bar = Progress(label, self.progress)
        rows = [0]

        def update(batch: Any) -> None:
            rows[0] += batch.n_rows + batch.n_dropped
            bar.update(batch.fraction_done, rows[0])

        self.watch = update
        return bar

    def pooled_stats(self, kind: str) -> GaussianStats:
        start = time.perf_counter()
        with self._watched("reading"):
            stats = super().pooled_stats(kind)
        self.weight = float(stats.count)
        least = max(2, self.components)
        if self.n_rows < least:
            raise DataError(
                f"'{self.data}' has {self.n_rows} rows, and a mixture of {self.components} "
                f"components needs at least {least}; use fewer components or more rows"
            )
        self._line(f"read {self.n_rows:,} rows", start)
        return stats

    def sample(
        self, n_rows: int, rng: np.random.RandomState
    ) -> tuple[np.ndarray, np.ndarray | None]:
        start = time.perf_counter()
        if self.n_rows <= n_rows:
            what = f"the start from all {self.n_rows:,} rows"
        else:
            what = f"the start from {n_rows:,} rows drawn at random"
        with self._watched("sampling"):
            out = super().sample(n_rows, rng)
        self._line(what, start)
        return out

    def em_pass(self, densities: Any, kind: str, reference: np.ndarray, n_worst: int) -> PassResult:
        start = time.perf_counter()
        self.passes += 1
        with self._watched(f"EM pass {self.passes}"):
            result = super().em_pass(densities, kind, reference, n_worst)
        per_row = result[1] / self.weight
        self._line(f"EM pass {self.passes}: log-likelihood {per_row:.10g} per row", start)
        return result

    def _line(self, text: str, start: float) -> None:
        if self.progress:
            tell(f"{text} ({time.perf_counter() - start:.1f} s)")


def summarise(model: Any, source: FileRows, progress: bool) -> tuple[np.ndarray, float, int]:
    """One more pass: rows per component, total log-likelihood and rows, under ``model``."""
    from ._app import unnamed

    quiet = unnamed(model)
    k = len(model.weights_)
    sizes = np.zeros(k, dtype=np.int64)
    total, rows = 0.0, 0
    with Progress("summarising", progress) as bar:
        for X, _ in source.batches():
            if X.shape[0]:
                sizes += np.bincount(quiet.predict(X), minlength=k)
                total += float(quiet.score_samples(X).sum())
                rows += X.shape[0]
            bar.update(None, rows)
    return sizes, total, rows


def should_stream(data: str, stream: bool) -> bool:
    """``--stream``, or files larger than ``STREAM_ABOVE_BYTES`` (never standard input)."""
    from ..io import source_size_bytes

    if stream:
        return True
    size = source_size_bytes(data)
    return size is not None and size > STREAM_ABOVE_BYTES
