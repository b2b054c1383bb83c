"""Side-by-side speed of gaussmle and scikit-learn, reported as ratios.

Same process, same data, medians of repeats. Every time is also given as a
multiple of one streaming pass over X on as many threads as the compiled
kernels use (each thread sums its own range of rows), the memory-bandwidth
floor of anything that reads X once. Each row also says how far gaussmle's
answer is from scikit-learn's, computed in the same run.

    python benchmarks/run.py                              # n=1e6, d=32 (minutes)
    python benchmarks/run.py --output docs/benchmarks.md  # what `make bench` runs
    python benchmarks/run.py --quick                      # n=1e5, a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from sklearn.naive_bayes import GaussianNB
from threadpoolctl import threadpool_info

import gaussmle
from gaussmle import GaussianClassifier
from gaussmle.kernels import _kernels

#: Every line printed, kept for the Markdown file of ``--output``.
LINES: list[str] = []
#: The load average (1, 5, 15 minutes) when the run started.
LOAD = os.getloadavg()


def emit(line: str = "") -> None:
    """Print a line of the report and keep it for the Markdown file."""
    print(line, flush=True)
    LINES.extend(line.split("\n"))


#: Seconds to wait before timing: OpenBLAS keeps its threads spinning for about
#: 0.1 s after a threaded call, and they would share the cores with what comes next.
SETTLE_S = 0.3


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``repeats`` calls (after a pause and one warm-up call)."""
    return timed(fn, repeats)[0]


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls (after a pause and one warm-up call), and
    what the last call returned."""
    time.sleep(SETTLE_S)
    result = fn()
    times = []
    for _ in range(repeats):
        del result  # let the previous output go before the next one is made
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def streaming_pass(X: np.ndarray, threads: int) -> Callable[[], float]:
    """One pass over X on ``threads`` threads, each summing its own range of rows
    (numpy releases the GIL in the sum): the floor for kernels on that many threads."""
    ranges = np.array_split(np.arange(X.shape[0]), threads)
    slices = [slice(int(r[0]), int(r[-1]) + 1) for r in ranges if r.size]
    pool = ThreadPoolExecutor(len(slices))

    def run() -> float:
        return float(sum(pool.map(lambda rows: np.add.reduce(X[rows].ravel()), slices)))

    return run


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


def row(name: str, ours: float, theirs: float | None, floor: float, check: str = "") -> str:
    if theirs is None:
        return f"{name:<44} {ours * 1e3:9.1f} ms {'':>12} {'':>9} {ours / floor:8.1f}x  {check}"
    return (
        f"{name:<44} {ours * 1e3:9.1f} ms {theirs * 1e3:9.1f} ms "
        f"{theirs / ours:8.1f}x {ours / floor:8.1f}x  {check}"
    )


def their_means(model: object) -> np.ndarray:
    """Class means of a fitted scikit-learn model (GaussianNB: theta_)."""
    means = getattr(model, "theta_", None)
    return np.asarray(model.means_ if means is None else means)  # type: ignore[attr-defined]


def difference(method: str, ours: object, theirs: object) -> str:
    """How far our output is from scikit-learn's: the largest difference of the class
    means (fit), the number of labels that differ (predict), the largest difference
    of a probability (predict_proba)."""
    if method == "fit":
        gap = np.abs(ours.means_ - their_means(theirs)).max()  # type: ignore[attr-defined]
        return f"means: max diff {gap:.1e}"
    if method == "predict":
        differ = int(np.count_nonzero(np.asarray(ours) != np.asarray(theirs)))
        return f"labels: {differ:,} of {len(ours):,} differ"  # type: ignore[arg-type]
    return f"proba: max diff {np.abs(np.asarray(ours) - np.asarray(theirs)).max():.1e}"


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
        t_ours, got = timed(lambda: call(ours, method, X, y), reps)  # noqa: B023
        their_reps = fit_reps if method == "fit" else predict_reps
        t_sk, want = timed(lambda: call(their_model, method, X, y), their_reps)  # noqa: B023
        check = difference(method, got, want)
        del got, want
        emit(row(f"{kind} {method} k={k} vs {versus}", t_ours, t_sk, floor, check))


def header() -> str:
    return (
        f"{'benchmark':<44} {'gaussmle':>12} {'sklearn':>12} {'speed-up':>9} {'vs pass':>9}"
        "  same answer?\n" + "-" * 122
    )


def cpu_name() -> str:
    """The CPU's model name (Linux), else what the platform says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_markdown(path: str, command: str) -> None:
    """The report as Markdown, written atomically (a temporary file, then a rename)."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            "# Benchmarks",
            "",
            "Written by `make bench` (do not edit by hand): gaussmle and scikit-learn side by",
            "side in one process on the same data, medians of repeats. *speed-up* is",
            "scikit-learn's time over gaussmle's (for the float32 rows: the float64 time over",
            "the float32 time, so 1.0x or more means float32 is not slower); *vs pass* is",
            "gaussmle's time over one streaming pass over X on the kernels' threads; the last",
            "column compares the two answers, computed in the same run.",
            "",
            f"- date: {now}",
            f"- command: `{command}`",
            f"- CPU: {cpu_name()}, {os.cpu_count()} logical cores; load average "
            f"{LOAD[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end",
            f"- Python {platform.python_version()}, numpy {np.__version__}, "
            f"scikit-learn {sklearn_version()}, gaussmle {gaussmle.__version__}",
            "",
            "```text",
            *LINES,
            "```",
            "",
        ]
    )
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".benchmarks.", suffix=".tmp", dir=folder)
    mask = os.umask(0)
    os.umask(mask)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o666 & ~mask)  # as for any new file (mkstemp makes it private)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


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
    parser.add_argument("--output", help="also write the report as Markdown to this file")
    args = parser.parse_args()
    n, d, reps = args.n, args.d, args.repeats
    if args.quick:
        n, reps = 100_000, 3
    slow_reps = max(1, reps // 2)

    emit(f"gaussmle benchmarks: n={n:,}, d={d}, medians of {reps} repeats")
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            emit(
                f"BLAS: {info['internal_api']} {info.get('version')} "
                f"({info.get('architecture')}), {info['num_threads']} threads"
            )
    threads = 1
    if _kernels.available():
        threads = _kernels.n_threads()
        emit(
            f"compiled kernels: numba, {threads} threads over row ranges "
            "(fit; diag, spherical and tied predict for k <= 128; full predict); "
            "BLAS threads for the rest"
        )
    else:
        emit("compiled kernels: off (numpy + BLAS threads)")

    X, _ = make_data(n, d, 2)
    one = median_time(lambda: np.add.reduce(X.ravel()), reps * 2)
    floor = median_time(streaming_pass(X, threads), reps * 2)
    emit(
        f"one streaming pass over X (float64): {floor * 1e3:.1f} ms on {threads} threads "
        f"({one * 1e3:.1f} ms on one)\n"
    )
    emit(header())

    for k in (2, 10, 100):
        X, y = make_data(n, d, k)
        theirs = (GaussianNB(), "GaussianNB")
        side_by_side("diag", GaussianClassifier(), theirs, X, y, floor, reps, slow_reps, 1)

    k = 10
    X, y = make_data(n, d, k)
    t_int = median_time(lambda: GaussianClassifier().fit(X, y), reps)
    names = np.array([f"class {c:02d}" for c in range(k)])
    for what, labels in (("<U", names[y]), ("object", names[y].astype(object))):
        ours = GaussianClassifier()
        theirs = GaussianNB()
        t_ours, got = timed(lambda: ours.fit(X, labels), reps)  # noqa: B023
        t_sk, want = timed(lambda: theirs.fit(X, labels), slow_reps)  # noqa: B023
        check = f"{difference('fit', got, want)}; {t_ours / t_int:.1f}x fit with int labels"
        emit(row(f"diag fit k={k} {what} labels vs GaussianNB", t_ours, t_sk, floor, check))

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
            verdict = "float32 not slower" if t32 <= t64 else "float32 SLOWER"
            emit(row(f"diag {method} k={k} float32 (vs float64)", t32, t64, floor, verdict))

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
        emit(
            f"\npredict_proba peak memory, n={n:,} d={d} k={k} (output {out_mib:.0f} MiB):\n"
            f"  gaussmle output + {ours_peak - out_mib:.0f} MiB;"
            f"  scikit-learn output + {sk_peak - out_mib:.0f} MiB ({sk_peak / out_mib:.1f}x output)"
        )
    if args.output:
        command = " ".join(["python", "benchmarks/run.py", *sys.argv[1:]])
        write_markdown(args.output, command)
        print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
