"""Box's M, Hotelling and MANOVA: gaussmle against statsmodels and pingouin, as ratios.

Same process, same data, medians of paired repeats. Each side starts from the
rows in memory: gaussmle fits the per-class statistics once (the model a user
already has) and tests from them; statsmodels computes each class's covariance
with ``np.cov`` and runs ``test_cov_oneway`` / ``test_mvmean_2indep``;
pingouin takes a DataFrame. The answers are checked to agree in the same run.
"From the model" times the test alone on a fitted model, which is all a saved
model needs.

    python benchmarks/inference.py            # n=1e6, d=32, k=4
    python benchmarks/inference.py --quick    # n=1e5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import paired_median_times  # noqa: E402

from gaussmle import GaussianClassifier  # noqa: E402
from gaussmle.inference import box_m, hotelling, manova  # noqa: E402


def data(n: int, d: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.normal(size=(n, d)) * (1.0 + 0.1 * y[:, None]) + 1e3
    return X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1e5 instead of 1e6")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, d, k = (100_000 if args.quick else 1_000_000), 32, 4
    X, y = data(n, d, k)
    import statsmodels.stats.multivariate as smm

    groups = [X[y == c] for c in range(k)]

    def ours_box() -> float:
        return box_m(GaussianClassifier("full").fit(X, y)).statistic

    def theirs_box() -> float:
        covs = [np.cov(g, rowvar=False) for g in groups]
        return smm.test_cov_oneway(covs, [len(g) for g in groups]).statistic_chi2

    assert np.isclose(ours_box(), theirs_box(), rtol=1e-6)
    t_ours, t_theirs = paired_median_times(ours_box, theirs_box, args.repeats)
    print(f"n={n:,} d={d} k={k}, medians of {args.repeats} paired repeats")
    print(f"Box's M from the rows: gaussmle {t_ours * 1e3:.1f} ms, statsmodels (np.cov + "
          f"test_cov_oneway) {t_theirs * 1e3:.1f} ms, ratio {t_ours / t_theirs:.2f}")  # fmt: skip

    model = GaussianClassifier("full").fit(X, y)

    def ours_hot() -> float:
        return hotelling(X[y == 0], X[y == 1]).t2

    def theirs_hot() -> float:
        return smm.test_mvmean_2indep(X[y == 0], X[y == 1]).t2

    assert np.isclose(ours_hot(), theirs_hot(), rtol=1e-6)
    t_ours, t_theirs = paired_median_times(ours_hot, theirs_hot, args.repeats)
    print(f"Hotelling two-sample from the rows: gaussmle {t_ours * 1e3:.1f} ms, statsmodels "
          f"{t_theirs * 1e3:.1f} ms, ratio {t_ours / t_theirs:.2f}")  # fmt: skip
    t_box, t_man = paired_median_times(lambda: box_m(model), lambda: manova(model), args.repeats)
    print(f"From the fitted model (no pass over the rows): Box's M {t_box * 1e3:.2f} ms, "
          f"MANOVA {t_man * 1e3:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
