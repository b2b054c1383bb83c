"""How fit and predict time grow with the number of rows n and of classes k.

Prints two Markdown tables (for the README): time as n grows from 1e5 to 1e7
(k = 10), and as k grows from 2 to 1000 (n = 2e5), d = 32, float64, diag
covariances, with the cost per million rows so a linear cost shows as a
constant column.

    python benchmarks/scaling.py            # up to n = 1e7 (2.6 GB of data)
    python benchmarks/scaling.py --max-n 1e6
"""

from __future__ import annotations

import argparse

from run import make_data, median_time  # benchmarks/run.py, beside this file

from gaussmle import GaussianClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-n", type=float, default=1e7)
    parser.add_argument("--d", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    d = args.d

    print(f"### Time as n grows (k = 10, d = {d}, diag)\n")
    print("| n | fit | predict | fit per 1e6 rows | predict per 1e6 rows |")
    print("|---:|---:|---:|---:|---:|")
    for n in (100_000, 1_000_000, 10_000_000):
        if n > args.max_n:
            break
        X, y = make_data(n, d, 10)
        model = GaussianClassifier()
        t_fit = median_time(lambda: model.fit(X, y), args.repeats)  # noqa: B023
        t_pred = median_time(lambda: model.predict(X), args.repeats)  # noqa: B023
        per = 1e6 / n
        print(
            f"| {n:,} | {t_fit * 1e3:.1f} ms | {t_pred * 1e3:.1f} ms | "
            f"{t_fit * per * 1e3:.1f} ms | {t_pred * per * 1e3:.1f} ms |"
        )
        del X, y

    n = 200_000
    print(f"\n### Time as k grows (n = {n:,}, d = {d}, diag)\n")
    print("| k | fit | predict | predict_proba |")
    print("|---:|---:|---:|---:|")
    for k in (2, 10, 100, 1000):
        X, y = make_data(n, d, k)
        model = GaussianClassifier()
        t_fit = median_time(lambda: model.fit(X, y), args.repeats)  # noqa: B023
        t_pred = median_time(lambda: model.predict(X), args.repeats)  # noqa: B023
        t_proba = median_time(lambda: model.predict_proba(X), args.repeats)  # noqa: B023
        print(f"| {k} | {t_fit * 1e3:.1f} ms | {t_pred * 1e3:.1f} ms | {t_proba * 1e3:.1f} ms |")


if __name__ == "__main__":
    main()
