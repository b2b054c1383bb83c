"""Side-by-side speed of gaussmle and scikit-learn, reported as ratios.

Same process, same data, medians of repeats. Every time is also given as a
multiple of one streaming pass over X (``np.add.reduce(X.ravel())``), the
memory-bandwidth floor of anything that reads X once.

    python benchmarks/run.py            # n=1e6, d=32 (about 3 minutes)
    python benchmarks/run.py --quick    # n=1e5, a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
from sklearn.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from sklearn.naive_bayes import GaussianNB
from threadpoolctl import threadpool_info

from gaussmle import GaussianClassifier
from gaussmle.kernels import _kernels

#: Seconds to wait before timing: OpenBLAS keeps its threads spinning for about
#: 0.1 s after a threaded call, and they would share the cores with what comes next.
SETTLE_S = 0.3


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls (after a pause and one warm-up call)."""
    time.sleep(SETTLE_S)
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_median_times(
    fn_a: Callable[[], object], fn_b: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median wall times of two calls timed alternately (a, b, a, b, ...).

    Alternating keeps a slow spell of a shared machine from landing on one side
    of a comparison only.
    """
    fn_a()
    fn_b()
    times_a, times_b = [], []
    for _ in range(repeats):
        for fn, times in ((fn_a, times_a), (fn_b, times_b)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)


def make_data(n: int, d: int, k: int, dtype=np.float64, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 2.0, (k, d))
    y = rng.integers(0, k, n)
    X = (centres[y] + rng.standard_normal((n, d))).astype(dtype)
    return X, y


def row(name: str, ours: float, theirs: float | None, floor: float) -> str:
    if theirs is None:
        return f"{name:<44} {ours * 1e3:9.1f} ms {'':>12} {'':>9} {ours / floor:8.1f}x"
    return (
        f"{name:<44} {ours * 1e3:9.1f} ms {theirs * 1e3:9.1f} ms "
        f"{theirs / ours:8.1f}x {ours / floor:8.1f}x"
    )


def call(model: object, method: str, X: np.ndarray, y: np.ndarray) -> object:
    """``model.fit(X, y)``, or ``model.<method>(X)`` for a prediction method."""
    if method == "fit":
        return model.fit(X, y)  # type: ignore[attr-defined]
    return getattr(model, method)(X)


def side_by_side(
    kind: str,
    ours: object,
    theirs: tuple[object, str],
    X: np.ndarray,
    y: np.ndarray,
    floor: float,
    reps: int,
    fit_reps: int,
    predict_reps: int,
) -> None:
    """Print fit, predict and predict_proba of ours against ``theirs`` (estimator, short name).

    scikit-learn's fit is repeated ``fit_reps`` times and its predictions
    ``predict_reps`` times (some take many seconds); ours ``reps`` times.
    """
    k = len(np.unique(y))
    their_model, versus = theirs
    for method in ("fit", "predict", "predict_proba"):
        t_ours = median_time(lambda: call(ours, method, X, y), reps)  # noqa: B023
        their_reps = fit_reps if method == "fit" else predict_reps
        t_sk = median_time(lambda: call(their_model, method, X, y), their_reps)  # noqa: B023
        print(row(f"{kind} {method} k={k} vs {versus}", t_ours, t_sk, floor))


def header() -> str:
    return (
        f"{'benchmark':<44} {'gaussmle':>12} {'sklearn':>12} {'speed-up':>9} {'vs pass':>9}\n"
        + "-" * 90
    )


def peak_memory(fn: Callable[[], object]) -> float:
    """Peak bytes allocated by numpy during ``fn`` (tracemalloc sees numpy buffers)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="n=1e5, fewer repeats")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory peaks")
    args = parser.parse_args()
    n, d, reps = args.n, args.d, args.repeats
    if args.quick:
        n, reps = 100_000, 3
    slow_reps = max(1, reps // 2)

    print(f"gaussmle benchmarks: n={n:,}, d={d}, medians of {reps} repeats")
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            print(
                f"BLAS: {info['internal_api']} {info.get('version')} "
                f"({info.get('architecture')}), {info['num_threads']} threads"
            )
    if _kernels.available():
        print(
            f"compiled kernels: numba, {_kernels.n_threads()} threads over row ranges "
            "(fit; diag, spherical and tied predict for k <= 128; full predict); "
            "BLAS threads for the rest"
        )
    else:
        print("compiled kernels: off (numpy + BLAS threads)")

    X, _ = make_data(n, d, 2)
    floor = median_time(lambda: np.add.reduce(X.ravel()), reps * 2)
    print(f"one streaming pass over X (float64): {floor * 1e3:.1f} ms\n")
    print(header())

    for k in (2, 10, 100):
        X, y = make_data(n, d, k)
        theirs = (GaussianNB(), "GaussianNB")
        side_by_side("diag", GaussianClassifier(), theirs, X, y, floor, reps, slow_reps, 1)

    for k in (2, 10):
        X, y = make_data(n, d, k)
        X32 = X.astype(np.float32)
        ours = GaussianClassifier()
        for method in ("fit", "predict", "predict_proba"):
            t64, t32 = paired_median_times(
                lambda: call(ours, method, X, y),  # noqa: B023
                lambda: call(ours, method, X32, y),  # noqa: B023
                2 * reps,
            )
            print(row(f"diag {method} k={k} float32 (vs float64)", t32, t64, floor))

    k = 10
    X, y = make_data(n, d, k)

    for kind, theirs, versus in (
        ("full", QuadraticDiscriminantAnalysis(), "QDA"),
        ("tied", LinearDiscriminantAnalysis(), "LDA"),
    ):
        ours = GaussianClassifier(covariance_type=kind)
        side_by_side(kind, ours, (theirs, versus), X, y, floor, reps, slow_reps, slow_reps)

    if not args.no_memory:
        k = 100
        X, y = make_data(n, d, k)
        ours, sk = GaussianClassifier().fit(X, y), GaussianNB().fit(X, y)
        out_mib = n * k * 8 / 2**20
        ours_peak = peak_memory(lambda: ours.predict_proba(X)) / 2**20  # noqa: B023
        sk_peak = peak_memory(lambda: sk.predict_proba(X)) / 2**20  # noqa: B023
        print(
            f"\npredict_proba peak memory, n={n:,} d={d} k={k} (output {out_mib:.0f} MiB):\n"
            f"  gaussmle output + {ours_peak - out_mib:.0f} MiB;"
            f"  scikit-learn output + {sk_peak - out_mib:.0f} MiB ({sk_peak / out_mib:.1f}x output)"
        )


if __name__ == "__main__":
    main()
