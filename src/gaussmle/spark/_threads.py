"""One thread per Spark task: Spark's parallelism is its tasks, one per core.

The in-memory code spreads a large call over the cores (numba's threads, BLAS
threads, the mixture's chunk threads). In a Spark task the other cores are
busy with other tasks, and every Arrow batch is a small call, so those threads
only wait for each other: measured on a loaded 2-core machine, the per-class
statistics of a 10,000 x 32 batch took 36 ms with numba's default threads and
0.3 ms on one (``numba.set_num_threads(1)``). Each executor function runs
inside :func:`one_thread_per_task`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: The mixture's chunk threads (read by :func:`gaussmle.mixture.em_pass` on each pass).
MIXTURE_THREADS = "GAUSSMLE_MIXTURE_THREADS"


@contextmanager
def one_thread_per_task() -> Iterator[None]:
    """Compiled kernels, BLAS and the mixture's chunks on one thread, then as before.

    Examples
    --------
    >>> with one_thread_per_task():
    ...     os.environ[MIXTURE_THREADS]
    '1'
    """
    from ..kernels import _kernels

    previous = os.environ.get(MIXTURE_THREADS)
    os.environ[MIXTURE_THREADS] = "1"
    numba = None
    if _kernels.available():
        import numba

        threads = numba.get_num_threads()
        numba.set_num_threads(1)
    try:
        with _kernels.one_blas_thread():
            yield
    finally:
        if numba is not None:
            numba.set_num_threads(threads)
        if previous is None:
            del os.environ[MIXTURE_THREADS]
        else:
            os.environ[MIXTURE_THREADS] = previous


def in_one_thread(fn: Callable[[Iterator[Any]], Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """``fn`` (an executor's batches-in, batches-out function) run in :func:`one_thread_per_task`.

    Examples
    --------
    >>> list(in_one_thread(lambda batches: (os.environ[MIXTURE_THREADS] for _ in batches))([0]))
    ['1']
    """

    @functools.wraps(fn)
    def run(batches: Iterator[Any]) -> Iterator[Any]:
        with one_thread_per_task():
            yield from fn(batches)

    return run
