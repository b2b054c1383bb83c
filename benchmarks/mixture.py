"""One EM iteration of gaussmle's GaussianMixture against scikit-learn's, side by side.

For each covariance type, from the same initial parameters on the same data:

- gaussmle: one fused pass (E-step by the class-density evaluator, responsibilities
  folded into the per-component statistics chunk by chunk) plus the M-step;
- scikit-learn: its ``_e_step`` + ``_m_step`` (the n x k responsibilities, its M-step
  products as written: ``resp.T @ X``);
- scikit-learn "fast": the same with its M-step means and diagonal second moments
  written as ``(X.T @ resp).T`` (fair to a BLAS without the small-matrix trap of
  OpenBLAS 0.3.31 SkylakeX, see DESIGN.md section 9);
- one streaming pass over X (``np.add.reduce(X, axis=0)``, one thread: the M-step
  kernels run on one thread).

Prints medians of ``--repeats`` runs, the ratios, the largest relative difference
between gaussmle's and scikit-learn's parameters after the iteration (they start from
the same parameters, so they must agree), and the peak of numpy's allocations
during one iteration (tracemalloc; X itself excluded). Run::

    python benchmarks/mixture.py --n 1000000 --d 32 --k 10 --out docs/mixture_bench.txt
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

TYPES = ("diag", "spherical", "tied", "full")


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def peak_bytes(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def initial(X: np.ndarray, k: int, covariance_type: str) -> dict[str, Any]:
    var = X.var(axis=0)
    prec = {
        "full": np.array([np.diag(1.0 / var)] * k),
        "tied": np.diag(1.0 / var),
        "diag": np.tile(1.0 / var, (k, 1)),
        "spherical": np.full(k, 1.0 / var.mean()),
    }[covariance_type]
    rows = np.linspace(0, X.shape[0] - 1, k).astype(int)
    return {
        "weights_init": np.full(k, 1.0 / k),
        "means_init": X[rows].copy(),
        "precisions_init": prec,
        "covariance_type": covariance_type,
    }


def ours_iteration(X: np.ndarray, k: int, init: dict[str, Any]) -> Callable[[], Any]:
    """One gaussmle EM iteration from ``init`` (the state is rebuilt each call)."""
    from gaussmle import GaussianMixture, mixture
    from gaussmle.stats import GaussianStats

    model = GaussianMixture(k, max_iter=1, tol=0.0, **init)
    data = GaussianStats.from_data(X, None, mixture.STATS_KIND[init["covariance_type"]])
    ctx = mixture._Fit(X, None, data, model, mixture._Log())
    start = ctx.initial(model._checked_inits(X.shape[1]), np.random.RandomState(0))

    def step() -> Any:
        return ctx.absolute(ctx.iterate(start, -np.inf)[1])

    return step


def sklearn_iteration(
    X: np.ndarray, k: int, init: dict[str, Any], fast: bool
) -> tuple[Callable[[], Any], Any]:
    """One scikit-learn EM iteration from ``init`` (its own e-step and m-step)."""
    import warnings

    from sklearn.mixture import GaussianMixture
    from sklearn.mixture import _gaussian_mixture as gm

    model = GaussianMixture(k, max_iter=1, tol=0.0, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X[: 10 * k])  # validates the parameters and sets up the attributes
    model._initialize(X, None)
    state = (model.weights_, model.means_, model.precisions_cholesky_)

    def step() -> Any:
        model.weights_, model.means_, model.precisions_cholesky_ = state
        original = gm._estimate_gaussian_parameters
        if fast:
            gm._estimate_gaussian_parameters = _fast_parameters
        try:
            _, log_resp = model._e_step(X)
            model._m_step(X, log_resp)
        finally:
            gm._estimate_gaussian_parameters = original
        return model

    return step, model


def _fast_parameters(X, resp, reg_covar, covariance_type, xp=None):
    """scikit-learn's M-step with ``resp.T @ X`` written as ``(X.T @ resp).T``."""
    from sklearn.mixture import _gaussian_mixture as gm

    nk = resp.sum(axis=0) + 10 * np.finfo(resp.dtype).eps
    means = (X.T @ resp).T / nk[:, None]
    if covariance_type in ("diag", "spherical"):
        avg_X2 = ((X * X).T @ resp).T / nk[:, None]
        cov = avg_X2 - means**2 + reg_covar
        return nk, means, cov if covariance_type == "diag" else cov.mean(axis=1)
    estimate = {
        "full": gm._estimate_gaussian_covariances_full,
        "tied": gm._estimate_gaussian_covariances_tied,
    }[covariance_type]
    return nk, means, estimate(resp, X, nk, means, reg_covar)


def relative_difference(ours: Any, theirs: Any) -> float:
    worst = 0.0
    for name in ("weights", "means", "covariances"):
        a = np.asarray(getattr(ours, name))
        b = np.asarray(getattr(theirs, name + "_"))
        worst = max(worst, float(np.abs(a - b).max() / np.abs(b).max()))
    return worst


def blas_info() -> str:
    from threadpoolctl import threadpool_info

    parts = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
        f"{i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return "; ".join(parts) or "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--no-sklearn-slow", action="store_true", help="skip sklearn as written")
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)

    import sklearn

    import gaussmle
    from gaussmle.kernels import _kernels

    rng = np.random.default_rng(0)
    n, d, k = args.n, args.d, args.k
    centres = rng.normal(0.0, 3.0, (k, d))
    X = centres[rng.integers(0, k, n)] + rng.normal(size=(n, d))
    lines = [
        f"# gaussmle {gaussmle.__version__} mixture benchmark, "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"# {platform.processor() or platform.machine()}, python {sys.version.split()[0]}, "
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"numba kernels: {_kernels.available()}",
        f"# BLAS: {blas_info()}",
        f"# n={n}, d={d}, k={k}, float64, medians of {args.repeats}; command: "
        f"python benchmarks/mixture.py {' '.join(argv if argv is not None else sys.argv[1:])}",
    ]
    for line in lines:
        print(line, flush=True)
    stream = median_time(lambda: np.add.reduce(X, axis=0), max(5, args.repeats))
    header = (
        f"{'type':10} {'gaussmle s':>10} {'x pass':>7} {'sklearn s':>10} {'ratio':>6} "
        f"{'skl fast s':>10} {'ratio':>6} {'max rel diff':>12} {'peak MiB':>9} {'skl MiB':>8}"
    )
    print(f"# one streaming pass over X: {stream * 1e3:.1f} ms", flush=True)
    print(header, flush=True)
    rows = [f"# one streaming pass over X: {stream * 1e3:.1f} ms", header]
    for covariance_type in args.types.split(","):
        init = initial(X, k, covariance_type)
        ours = ours_iteration(X, k, init)
        ours()  # compile / load the kernels
        t_ours = median_time(ours, args.repeats)
        peak = peak_bytes(ours) / 2**20
        fast, fast_model = sklearn_iteration(X, k, init, fast=True)
        t_fast = median_time(fast, args.repeats)
        diff = relative_difference(ours(), fast())
        if args.no_sklearn_slow:
            t_slow, skl_peak = float("nan"), float("nan")
        else:
            slow, _ = sklearn_iteration(X, k, init, fast=False)
            t_slow = median_time(slow, max(1, args.repeats - 2))
            skl_peak = peak_bytes(slow) / 2**20
        row = (
            f"{covariance_type:10} {t_ours:10.3f} {t_ours / stream:7.1f} {t_slow:10.3f} "
            f"{t_slow / t_ours:6.1f} {t_fast:10.3f} {t_fast / t_ours:6.1f} {diff:12.2e} "
            f"{peak:9.1f} {skl_peak:8.1f}"
        )
        print(row, flush=True)
        rows.append(row)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(lines + rows) + "\n")


if __name__ == "__main__":
    main()
