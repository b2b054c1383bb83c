"""Per-call cost of the compiled kernels on small inputs: numba's threads against one.

Each compiled entry point is called on one batch (default 10,000 x 32, 10
classes), medians of 31 calls, with numba's default threads and with
``numba.set_num_threads(1)``. Below ``PARALLEL_MIN_ROWS`` the front end runs the
serial twins, so both columns should agree; before, a parallel launch with one
range of rows woke numba's thread team on every call. The cost shows under
load, which ``--concurrent 2`` mimics (that many copies of this script at once,
each calling the kernels, as Spark tasks or Dask workers in processes do).

    python benchmarks/small_batches.py                  # one process
    python benchmarks/small_batches.py --concurrent 2   # two processes at once
    python benchmarks/small_batches.py --rows 1000000   # the threaded path (5 calls)
    python benchmarks/small_batches.py --pool 2 --rows 30000  # 8 blocks on 2 threads
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np


def entry_points(n: int, d: int, k: int) -> dict[str, Callable[[], object]]:
    """The compiled entry points, each bound to one batch of data."""
    from gaussmle import GaussianStats
    from gaussmle.kernels import _kernels as K

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    codes = rng.integers(0, k, n)
    means = rng.normal(size=(k, d))
    prec, const = np.ones((k, d)), np.zeros(k)
    factors = np.broadcast_to(np.eye(d), (k, d, d)).copy()
    W, bias = rng.normal(size=(d, k)), np.zeros(k)
    guard = (np.abs(W), np.zeros(k), 1e300)
    return {
        "from_groups diag": lambda: GaussianStats.from_groups(X, codes, k),
        "from_groups full": lambda: GaussianStats.from_groups(X, codes, k, kind="full"),
        "diag_rows": lambda: K.diag_rows(X, means, prec, const, K.POSTERIOR),
        "diag_best": lambda: K.diag_best(X, means, prec, const),
        "full_rows": lambda: K.full_rows(X, means, factors, const, K.POSTERIOR),
        "linear_rows": lambda: K.linear_rows(X, np.zeros(d), W, bias, guard, K.POSTERIOR),
    }


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def measure(n: int, d: int, k: int) -> None:
    """Print one line per entry point: default threads, then one thread."""
    import numba

    calls = entry_points(n, d, k)
    for fn in calls.values():
        fn()  # compile or load from numba's cache
    try:  # asked before get_num_threads, which starts the threading layer itself
        layer = numba.threading_layer()
    except ValueError:
        layer = "not started (no parallel launch)"
    default = numba.get_num_threads()
    repeats = 31 if n < 100_000 else 5
    print(f"pid {os.getpid()}: n={n:,}, d={d}, k={k}, numba threads {default}, layer {layer}")
    for name, fn in calls.items():
        numba.set_num_threads(default)
        many = median_ms(fn, repeats)
        numba.set_num_threads(1)
        one = median_ms(fn, repeats)
        print(f"  {name:17s} {default} threads {many:8.3f} ms   1 thread {one:8.3f} ms")
    numba.set_num_threads(default)


def pooled_blocks(n: int, d: int, k: int, workers: int) -> None:
    """8 blocks' statistics on ``workers`` threads (Dask's threaded scheduler does this),
    with numba's default threads per block and with one."""
    from concurrent.futures import ThreadPoolExecutor

    import numba

    from gaussmle import GaussianStats

    rng = np.random.default_rng(0)
    blocks = [(rng.normal(size=(n, d)), rng.integers(0, k, n)) for _ in range(8)]
    default = numba.get_num_threads()
    for threads in (default, 1):

        def block(i: int, threads: int = threads) -> object:
            numba.set_num_threads(threads)  # numba's setting is per thread
            return GaussianStats.from_groups(*blocks[i], k)

        def run() -> None:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(block, range(8)))

        run()
        ms = median_ms(run, 7)
        print(f"8 blocks of {n:,} rows on {workers} threads, numba threads {threads}: {ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--concurrent", type=int, default=1, help="copies run at once")
    parser.add_argument("--pool", type=int, default=0, help="threads computing 8 blocks")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    if args.pool:
        pooled_blocks(args.rows, args.features, args.classes, args.pool)
        return
    if args.concurrent <= 1:
        measure(args.rows, args.features, args.classes)
        return
    one = [sys.executable, __file__, "--rows", str(args.rows), "--features", str(args.features)]
    one += ["--classes", str(args.classes)]
    copies = [
        subprocess.Popen(one, stdout=subprocess.PIPE, text=True) for _ in range(args.concurrent)
    ]
    for copy in copies:
        out, _ = copy.communicate()
        print("".join(out.splitlines(keepends=True)[1:]), end="")


if __name__ == "__main__":
    main()
