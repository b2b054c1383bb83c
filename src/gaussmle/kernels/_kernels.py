"""Optional compiled kernels (numba) for the hot loops: fit and predict.

Fit: per-class statistics (diag and full). Predict: diag/spherical and full
log densities, the tied linear discriminant, their log-sum-exp
normalisation and the best class of each row.

numba is an optional accelerator (``pip install gaussmle[fast]``). Without it,
or with ``GAUSSMLE_NO_NUMBA=1`` in the environment, every caller falls back to
the numpy path, which stays the reference the tests compare against.

The kernels keep the numerics of the numpy path: per-group statistics are
two-pass within a block of rows (shifted by a reference row, accumulated in
float64) and blocks are merged with the Chan et al. update; the diag log
density is evaluated directly as
``sum_j (x_j - mu_j)^2 / var_j`` (no expanded square), so it is exact even
where variances are tiny; full densities whiten by forward substitution; the
tied linear discriminant is used only where its rounding bound passes the same
guard as in the numpy path (other rows are handed back).

Threads: from :data:`PARALLEL_MIN_ROWS` rows, rows are split into one
contiguous range per thread (numba's ``prange``); each range gets its own
statistics, merged afterwards. Below it each kernel's ``_serial`` twin runs on
the calling thread: a parallel launch with one range still wakes numba's
thread team, whose waiting threads compete with other processes and threads
(small batches of a streaming fit, Dask blocks, Spark tasks; figures in
``docs/kernels.md``). BLAS is not involved, so there is no oversubscription.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

# the modes of the prediction kernels, named for the callers of this front end
from ._modes import BEST as BEST
from ._modes import JOINT as JOINT
from ._modes import LOG_POSTERIOR as LOG_POSTERIOR
from ._modes import POSTERIOR as POSTERIOR


@cache
def available() -> bool:
    """True when numba can be used (installed and not disabled).

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    if os.environ.get("GAUSSMLE_NO_NUMBA"):
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


#: Up to this many features the d x d algebra of a fit runs with BLAS on one thread.
SMALL_ALGEBRA_FEATURES = 256


@cache
def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries (scanned once, it is not free)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> Any:
    """A context in which BLAS runs on one thread (cheap to enter and leave).

    After a call on several threads, OpenBLAS keeps its threads spinning for
    a while, and a compiled kernel that runs meanwhile shares the cores with
    them (figures in ``docs/kernels.md``). The small matrices of a fit
    (Cholesky factors, triangular solves) gain nothing from threads, so they
    run on one and leave no spinning threads behind.

    Examples
    --------
    >>> with one_blas_thread():
    ...     _ = np.linalg.cholesky(np.eye(3))
    """
    return _blas_controller().limit(limits=1, user_api="blas")


def n_threads() -> int:
    """Threads the compiled kernels use (numba's setting, at most the cores)."""
    import numba

    return int(numba.get_num_threads())


def _compiled_stats() -> Any:
    """The fit kernels' module (compiled or loaded from numba's cache on first use)."""
    from . import _numba_stats

    return _numba_stats


def _compiled() -> Any:
    """The prediction kernels' module (compiled or loaded from numba's cache on first use)."""
    from . import _numba_predict

    return _numba_predict


def _compiled_linear() -> Any:
    """The tied kernel's module (compiled or loaded from numba's cache on first use)."""
    from . import _numba_linear

    return _numba_linear


def group_stats(
    X: np.ndarray, codes: np.ndarray, w: np.ndarray | None, ref: np.ndarray, kind: str = "diag"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Statistics per group, one partial result per thread, shifted by ``ref``.

    ``kind="diag"`` keeps per-feature sums of squares, ``"full"`` scatter
    matrices. Returns ``(counts, means, m2s)`` with a leading axis of parts;
    the caller merges the parts (exactly, with the Chan update).
    """
    kernels = _compiled_stats()
    diag = kind == "diag"
    threaded = kernels.group_stats if diag else kernels.group_scatter
    serial = kernels.group_stats_serial if diag else kernels.group_scatter_serial
    weights = np.empty(0) if w is None else np.ascontiguousarray(w, dtype=np.float64)
    args = (
        np.ascontiguousarray(X),
        np.ascontiguousarray(codes, dtype=np.intp),
        weights,
        np.ascontiguousarray(ref, dtype=np.float64),
    )
    return _launch(threaded, serial, args, X.shape[0])


#: Below this many rows a kernel runs on one thread: waiting for a second thread
#: costs more than it saves (figures in ``docs/kernels.md``).
PARALLEL_MIN_ROWS = 1 << 18


def _parts(n_rows: int) -> int:
    """Threads for a row-parallel kernel: one contiguous range of rows each."""
    if n_rows < PARALLEL_MIN_ROWS:
        return 1
    return max(1, min(n_threads(), n_rows // (PARALLEL_MIN_ROWS // 2)))


def _launch(
    threaded: Callable[..., Any], serial: Callable[..., Any], args: tuple, n_rows: int
) -> Any:
    """``serial(*args)`` for one range of rows, else ``threaded(*args, parts)``.

    Every row-parallel kernel has a serial twin taking the same arguments
    but ``parts``: a parallel launch costs even with one range (numba's
    threads wake and wait), so small inputs never make one.
    """
    parts = _parts(n_rows)
    if parts == 1:
        return serial(*args)
    return threaded(*args, parts)


def _rows_kernel(
    kernels: tuple[Any, Any],
    X: np.ndarray,
    means: np.ndarray,
    params: np.ndarray,
    const: np.ndarray,
    mode: int,
    extra: Any,
) -> np.ndarray:
    """Run a compiled prediction kernel (threaded, serial) into a new (n, k) array.

    ``extra`` is the kernel's own argument after ``out`` (diag: the layout;
    full: the unused array of best classes).
    """
    out = np.empty((X.shape[0], means.shape[0]))
    args = (*_contiguous(X, means, params, const), mode, out, extra)
    _launch(*kernels, args, X.shape[0])
    return out


def diag_by_rows(n_classes: int, n_features: int) -> bool:
    """Whether the diag kernels go row by row (True) or transpose blocks of rows.

    Row by row (two rows at a time), each class costs a horizontal sum per
    row; transposed, each block of rows costs a transpose but the classes then
    run across rows in SIMD lanes. Row by row wins for few classes and enough
    features; the boundary below was measured (``docs/kernels.md``).

    Examples
    --------
    >>> diag_by_rows(2, 32), diag_by_rows(10, 32), diag_by_rows(2, 2)
    (True, False, False)
    """
    return n_features >= 8 and n_classes <= min(12, max(4, n_features // 5))


def diag_rows(
    X: np.ndarray,
    means: np.ndarray,
    precision: np.ndarray,
    const: np.ndarray,
    mode: int,
    by_rows: bool | None = None,
) -> np.ndarray:
    """Direct diag log densities plus ``const`` for every row and class, (n, k).

    ``mode`` is :data:`JOINT`, :data:`LOG_POSTERIOR` or :data:`POSTERIOR`
    (normalised by log-sum-exp in the same pass). ``by_rows`` picks the
    layout (default: :func:`diag_by_rows`).
    """
    if by_rows is None:
        by_rows = diag_by_rows(*means.shape)
    compiled = _compiled()
    kernels = (compiled.diag_rows, compiled.diag_rows_serial)
    return _rows_kernel(kernels, X, means, precision, const, mode, by_rows)


def full_rows(
    X: np.ndarray, means: np.ndarray, factors: np.ndarray, const: np.ndarray, mode: int
) -> np.ndarray:
    """Full-covariance log densities plus ``const`` (n, k), by triangular solves."""
    no_best = np.empty(0, dtype=np.intp)
    compiled = _compiled()
    kernels = (compiled.full_rows, compiled.full_rows_serial)
    return _rows_kernel(kernels, X, means, factors, const, mode, no_best)


def _contiguous(
    X: np.ndarray, means: np.ndarray, params: np.ndarray, const: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The kernels' array arguments, C-contiguous (const as float64)."""
    return (
        np.ascontiguousarray(X),
        np.ascontiguousarray(means),
        np.ascontiguousarray(params),
        np.ascontiguousarray(const, dtype=np.float64),
    )


def diag_best(
    X: np.ndarray,
    means: np.ndarray,
    precision: np.ndarray,
    const: np.ndarray,
    by_rows: bool | None = None,
) -> np.ndarray:
    """Index of the most probable class per row (diag, direct); -1 where all underflow."""
    if by_rows is None:
        by_rows = diag_by_rows(*means.shape)
    best = np.empty(X.shape[0], dtype=np.intp)
    args = _contiguous(X, means, precision, const)
    kernels = _compiled()
    _launch(kernels.diag_best, kernels.diag_best_serial, (*args, best, by_rows), X.shape[0])
    return best


def full_best(
    X: np.ndarray, means: np.ndarray, factors: np.ndarray, const: np.ndarray
) -> np.ndarray:
    """Index of the most probable class per row (full covariances); -1 where all underflow."""
    best = np.empty(X.shape[0], dtype=np.intp)
    args = _contiguous(X, means, factors, const)
    no_output = np.empty((0, means.shape[0]))
    kernels = _compiled()
    _launch(kernels.full_rows, kernels.full_rows_serial, (*args, BEST, no_output, best), X.shape[0])
    return best


def linear_rows(
    X: np.ndarray,
    ref: np.ndarray,
    W: np.ndarray,
    bias: np.ndarray,
    guard: tuple[np.ndarray, np.ndarray, float],
    mode: int,
) -> np.ndarray:
    """Tied covariances: posteriors, log posteriors or the best class, by ``mode``.

    ``guard`` is ``(guard_W, guard_b, tol)``, the rounding bound of the class
    scores; rows of a block that fails it come back as NaN (best: -2), as do
    rows with NaN or infinity. Returns (n, k) floats, or (n,) indices for BEST.
    """
    n, k = X.shape[0], W.shape[1]
    guard_W, guard_b, tol = guard
    out = np.empty((0 if mode == BEST else n, k))
    best = np.empty(n if mode == BEST else 0, dtype=np.intp)
    kernels = _compiled_linear()
    args = (
        np.ascontiguousarray(X),
        np.ascontiguousarray(ref, dtype=np.float64),
        np.ascontiguousarray(W, dtype=np.float64),
        np.ascontiguousarray(bias, dtype=np.float64),
        np.ascontiguousarray(guard_W, dtype=np.float64),
        np.ascontiguousarray(guard_b, dtype=np.float64),
        float(tol),
        mode,
        out,
        best,
    )
    _launch(kernels.linear_rows, kernels.linear_rows_serial, args, n)
    return best if mode == BEST else out
