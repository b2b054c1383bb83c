"""Compiled (numba) M-step kernels of the mixture; used only through :mod:`gaussmle.mixture`.

One chunk of rows ``Z`` (already shifted by a reference point, float64) and
its responsibilities ``R`` (n, k, sample weights folded in) give the
per-component weighted (count, mean, m2) of all components in two passes over
the chunk, with no matrix product (so no ``R.T @ X`` in BLAS, whose small-matrix
kernel is pathologically slow on this machine for that shape):

- pass 1: per component, the weight sum and the weighted sum of the rows;
- pass 2: the weighted squared deviations from that mean (diag: per feature;
  full: the lower triangle of the scatter matrix, mirrored at the end) and the
  weighted sum of the deviations, the corrected two-pass term that removes the
  rounding of the first-pass mean to first order (as the numpy path does).

Rows whose responsibility for a component is exactly 0 (an underflowed
posterior) are skipped for it. The numpy path
(:func:`gaussmle.mixture.weighted_moments_numpy`) is the reference the tests
compare against. Defined at module level so numba caches the compiled code.
"""

import numba
import numpy as np

jit = numba.njit(cache=True, fastmath=False, nogil=True)


@jit
def _weighted_means(Z, R):  # pragma: no cover - compiled
    """Pass 1: per-component weight sums (k,) and weighted means (k, d)."""
    n, d = Z.shape
    k = R.shape[1]
    count = np.zeros(k)
    total = np.zeros((k, d))
    for i in range(n):
        z = Z[i]
        for c in range(k):
            r = R[i, c]
            if r != 0.0:
                count[c] += r
                acc = total[c]
                for j in range(d):
                    acc[j] += r * z[j]
    for c in range(k):
        if count[c] > 0.0:
            for j in range(d):
                total[c, j] /= count[c]
    return count, total


@jit
def weighted_diag(Z, R):  # pragma: no cover - compiled
    """Per-component (count, mean, per-feature m2) of the rows of Z weighted by R."""
    n, d = Z.shape
    k = R.shape[1]
    count, mean = _weighted_means(Z, R)
    m2 = np.zeros((k, d))
    resid = np.zeros((k, d))
    for i in range(n):
        z = Z[i]
        for c in range(k):
            r = R[i, c]
            if r != 0.0:
                mu = mean[c]
                sq = m2[c]
                rs = resid[c]
                for j in range(d):
                    dev = z[j] - mu[j]
                    rs[j] += r * dev
                    sq[j] += r * dev * dev
    for c in range(k):
        if count[c] > 0.0:
            for j in range(d):
                m2[c, j] = max(m2[c, j] - resid[c, j] * resid[c, j] / count[c], 0.0)
                mean[c, j] += resid[c, j] / count[c]
    return count, mean, m2


@jit
def weighted_full(Z, R):  # pragma: no cover - compiled
    """Per-component (count, mean, scatter matrix) of the rows of Z weighted by R."""
    n, d = Z.shape
    k = R.shape[1]
    count, mean = _weighted_means(Z, R)
    m2 = np.zeros((k, d, d))
    resid = np.zeros((k, d))
    dev = np.empty(d)
    for i in range(n):
        z = Z[i]
        for c in range(k):
            r = R[i, c]
            if r != 0.0:
                mu = mean[c]
                rs = resid[c]
                for j in range(d):
                    dev[j] = z[j] - mu[j]
                    rs[j] += r * dev[j]
                s = m2[c]
                for a in range(d):
                    ra = r * dev[a]
                    row = s[a]
                    for b in range(a + 1):
                        row[b] += ra * dev[b]
    for c in range(k):
        if count[c] > 0.0:
            for a in range(d):
                for b in range(a + 1):
                    v = m2[c, a, b] - resid[c, a] * resid[c, b] / count[c]
                    m2[c, a, b] = v
                    m2[c, b, a] = v
            for j in range(d):
                mean[c, j] += resid[c, j] / count[c]
    return count, mean, m2
