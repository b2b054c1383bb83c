"""ONNX export: largest differences from gaussmle, file sizes, and onnxruntime's speed.

For each covariance type a model with d features and k classes is exported in
float32 and float64 and run by onnxruntime on the same rows as gaussmle:

- the largest |difference| of the probabilities and the largest relative
  difference of the joint log-likelihoods (relative to max(1, |J|)), at the
  origin and at an offset of 1e4 (float32 graphs are centred first);
- how many labels agree;
- the size of the exported file;
- onnxruntime's time for all three outputs against gaussmle's predict_proba
  on the same rows, as a ratio (medians of repeats, same process).

Rows marked "t" are Student t predictive models (``predictive=True``), fitted
on 40 rows per class so that the t tails matter (accuracy only).

    python benchmarks/onnx_export.py            # d=32, k=10, n=100,000 timed
    python benchmarks/onnx_export.py --quick    # n=10,000 timed
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import onnxruntime as ort

from gaussmle import GaussianClassifier, to_onnx

COVARIANCE_TYPES = ("diag", "spherical", "full", "tied")


def make_data(n: int, d: int, k: int, offset: float, seed: int = 0):
    """Overlapping correlated classes, shifted by ``offset``."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % k
    centres = rng.normal(0.0, 1.0, size=(k, d))
    mix = np.eye(d) + 0.3 * np.tri(d, k=-1) / np.sqrt(d)
    scales = rng.uniform(0.5, 2.0, size=d)
    return centres[codes] + (rng.normal(size=(n, d)) @ mix) * scales + offset, codes


def differences(clf: GaussianClassifier, session, X: np.ndarray) -> tuple[float, float, float]:
    """(max |dP|, max relative |dJ|, share of labels equal) on X (already in the dtype)."""
    label, proba, joint = session.run(None, {"X": X})
    X64 = X.astype(np.float64)
    want_p = clf.predict_proba(X64)
    want_j = clf.predict_joint_log_proba(X64)
    rel = np.abs(joint - want_j) / np.maximum(1.0, np.abs(want_j))
    return (
        float(np.abs(proba - want_p).max()),
        float(rel.max()),
        float(np.mean(label == clf.predict(X64))),
    )


def median_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="time 10,000 rows, not 100,000")
    parser.add_argument("-d", type=int, default=32)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n_time = 10_000 if args.quick else 100_000
    d, k = args.d, args.k
    print(f"ONNX export, d={d}, k={k}; accuracy on 5,000 rows, time on {n_time:,} rows")
    print(f"onnxruntime {ort.__version__}, {os.cpu_count()} CPUs")
    header = (
        f"{'covariance':10} {'dtype':7} {'offset':>6} {'max|dP|':>9} {'max rel|dJ|':>11} "
        f"{'labels':>7} {'bytes':>9} {'ort/gaussmle':>12}"
    )
    print(header)
    for covariance, predictive in [(c, p) for p in (False, True) for c in COVARIANCE_TYPES]:
        for offset in (0.0, 1e4):
            X, codes = make_data(20_000 if not predictive else 40 * k, d, k, offset)
            clf = GaussianClassifier(covariance, predictive=predictive).fit(X, codes)
            name = covariance + (" t" if predictive else "")
            X_test, _ = make_data(max(5_000, n_time), d, k, offset, seed=1)
            for dtype in ("float32", "float64"):
                proto = to_onnx(clf, dtype=dtype)
                raw = proto.SerializeToString()
                session = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
                Xt = X_test.astype(dtype)
                dp, dj, agree = differences(clf, session, Xt[:5_000])
                ratio = ""
                if offset == 0.0 and not predictive:
                    rows = Xt[:n_time]
                    t_ort = median_time(
                        lambda s=session, r=rows: s.run(None, {"X": r}), args.repeats
                    )
                    t_gm = median_time(lambda c=clf, r=rows: c.predict_proba(r), args.repeats)
                    ratio = f"{t_ort / t_gm:.2f}"
                print(
                    f"{name:10} {dtype:7} {offset:6g} {dp:9.2e} {dj:11.2e} "
                    f"{agree:7.2%} {len(raw):9,} {ratio:>12}"
                )


if __name__ == "__main__":
    main()
