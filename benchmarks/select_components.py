"""Choosing the number of components: gaussmle.select_components against scikit-learn's idiom.

scikit-learn has no selection function; its documented way (the "Gaussian Mixture
Model Selection" example) is a loop that fits ``GaussianMixture(k)`` for each k and
compares ``.bic(X)``. This script times that loop against
``gaussmle.select_components`` on the same data (well-separated blobs, the true k in
the middle of the range), same settings (k-means start, ``random_state=0``,
``tol=1e-3``, ``max_iter=100``), and prints per covariance type:

- the medians of ``--repeats`` runs and their ratio (scikit-learn / gaussmle);
- the EM iterations each side ran in all (the two k-means starts differ, so the
  iteration counts can differ: the time per iteration is printed too);
- the k each chose, and the largest relative difference of their BICs.

Run::

    python benchmarks/select_components.py --n 20000 --d 8 --k-max 6 --out docs/select_bench.txt
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

TYPES = ("diag", "spherical", "tied", "full")


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def blobs(n: int, d: int, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 6.0, (k, d))
    labels = rng.integers(0, k, n)
    return centres[labels] + rng.normal(0.0, 1.0, (n, d))


def sklearn_loop(X: np.ndarray, ks: range, kind: str) -> tuple[list[float], int]:
    from sklearn.mixture import GaussianMixture

    bics, iterations = [], 0
    for k in ks:
        gm = GaussianMixture(k, covariance_type=kind, random_state=0).fit(X)
        bics.append(float(gm.bic(X)))
        iterations += int(gm.n_iter_)
    return bics, iterations


def gaussmle_select(X: np.ndarray, ks: range, kind: str) -> tuple[list[float], int]:
    from gaussmle import select_components

    result = select_components(X, ks, (kind,), random_state=0)
    return [row["bic"] for row in result.rows], sum(row["n_iter"] for row in result.rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--k-max", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--out", default=None, help="Also write the report there.")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_info

    ks = range(1, args.k_max + 1)
    true_k = max(1, (args.k_max + 1) // 2)
    X = blobs(args.n, args.d, true_k)
    blas = ", ".join(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )
    lines = [
        f"select_components vs scikit-learn's loop over k, {datetime.date.today()}",
        f"command: python benchmarks/select_components.py {' '.join(sys.argv[1:])}",
        f"n={args.n} d={args.d} k=1..{args.k_max} (true k={true_k}), repeats={args.repeats}",
        f"CPU: {platform.processor() or platform.machine()}; BLAS: {blas}; "
        f"python {sys.version.split()[0]}",
        "",
        f"{'type':<10} {'gaussmle s':>10} {'sklearn s':>10} {'ratio':>6} {'iters g/s':>10} "
        f"{'s/iter ratio':>12} {'k g/s':>6} {'max rel BIC diff':>16}",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gaussmle_select(X[:200], range(1, 3), "diag")  # compile the kernels first
        for kind in args.types.split(","):
            t_g, (bic_g, it_g) = median_time(
                lambda kind=kind: gaussmle_select(X, ks, kind), args.repeats
            )
            t_s, (bic_s, it_s) = median_time(
                lambda kind=kind: sklearn_loop(X, ks, kind), args.repeats
            )
            k_g = ks[int(np.argmin(bic_g))]
            k_s = ks[int(np.argmin(bic_s))]
            diff = float(np.max(np.abs(np.subtract(bic_g, bic_s)) / np.abs(bic_s)))
            per_iter = (t_s / it_s) / (t_g / it_g)
            lines.append(
                f"{kind:<10} {t_g:>10.3f} {t_s:>10.3f} {t_s / t_g:>6.2f} {f'{it_g}/{it_s}':>10} "
                f"{per_iter:>12.2f} {f'{k_g}/{k_s}':>6} {diff:>16.2e}"
            )
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
