"""GaussianClassifier.fit with string labels against the same fit with integer labels.

The same X and classes three ways: integer labels 0..k-1, numpy ``<U`` strings and
an object array of the same strings (what a DataFrame column gives). The three fits
are timed interleaved (one of each per round), so a change in the machine's load hits
all three alike; the ratios to the integer-label fit are the figures to read. Each
string fit is checked against the integer fit (largest difference of the means).
Run::

    python benchmarks/labels.py --n 1000000 --d 32 --k 10 --out docs/labels_bench.txt
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args()

    import sklearn

    import gaussmle
    from gaussmle import GaussianClassifier

    rng = np.random.default_rng(0)
    codes = rng.integers(0, args.k, args.n)
    X = rng.standard_normal((args.n, args.d)) + codes[:, None]
    names = np.array([f"class {c:02d}" for c in range(args.k)])
    labels = {"int": codes, "<U": names[codes], "object": names[codes].astype(object)}
    models = {what: GaussianClassifier().fit(X, y) for what, y in labels.items()}  # warm up
    times: dict[str, list[float]] = {what: [] for what in labels}
    load_before = os.getloadavg()[0]
    for _ in range(args.repeats):
        for what, y in labels.items():
            start = time.perf_counter()
            models[what].fit(X, y)
            times[what].append(time.perf_counter() - start)
    load_after = os.getloadavg()[0]
    medians = {what: float(np.median(t)) for what, t in times.items()}
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["python", "benchmarks/labels.py", *sys.argv[1:]])
    lines = [
        f"# gaussmle {gaussmle.__version__} label-encoding benchmark, {now}",
        f"# {platform.machine()}, {os.cpu_count()} logical cores, python "
        f"{platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}",
        f"# n={args.n}, d={args.d}, k={args.k}, medians of {args.repeats} interleaved rounds; "
        f"load average {load_before:.1f} at the start, {load_after:.1f} at the end",
        f"# command: {command}",
        "labels    fit ms  x int labels  means: max diff",
    ]
    for what in labels:
        diff = float(np.max(np.abs(models[what].means_ - models["int"].means_)))
        ratio = medians[what] / medians["int"]
        lines.append(f"{what:<8} {medians[what] * 1e3:7.1f}  {ratio:12.2f}  {diff:15.1e}")
    report = "\n".join(lines) + "\n"
    print(report, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
