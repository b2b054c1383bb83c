"""Compiled (numba) kernels for the statistics of fit; used only through :mod:`gaussmle._kernels`.

Per group: two passes over each block of rows (the block mean of the rows
shifted by a reference row, then the squared deviations from it), in float64,
and the Chan et al. update between blocks; one contiguous range of rows per
thread. Defined at module level so numba can cache the compiled code on disk
(``cache=True``): only the first run on a machine pays for compilation.
"""

import numba
import numpy as np

from ._kernels import BLOCK_ROWS

jit = numba.njit(cache=True, fastmath=False, nogil=True)
pjit = numba.njit(cache=True, fastmath=False, nogil=True, parallel=True)


@jit
def merge_into(n, mean, m2, nb, mb, m2b):  # pragma: no cover - compiled
    """Chan update of one group's running (n, mean, m2) with a block's."""
    if nb == 0.0:
        return n
    if n == 0.0:
        for j in range(mean.shape[0]):
            mean[j] = mb[j]
            m2[j] = m2b[j]
        return nb
    tot = n + nb
    frac = nb / tot
    weight = n * frac
    for j in range(mean.shape[0]):
        delta = mb[j] - mean[j]
        mean[j] += delta * frac
        m2[j] += m2b[j] + delta * delta * weight
    return tot


@jit
def block_means(X, codes, w, ref, b0, b1, bsum, bw, bmean):  # pragma: no cover
    """Pass 1 over rows [b0, b1): per-group weights and means of the shifted rows."""
    k, d = bsum.shape
    unweighted = w.shape[0] == 0
    bsum[:] = 0.0
    bw[:] = 0.0
    for i in range(b0, b1):
        g = codes[i]
        wi = 1.0 if unweighted else w[i]
        bw[g] += wi
        acc = bsum[g]
        r = ref[g]
        x = X[i]  # row views keep the loops simple and vectorisable
        for j in range(d):
            acc[j] += wi * (x[j] - r[j])
    for g in range(k):
        if bw[g] > 0.0:
            for j in range(d):
                bmean[g, j] = bsum[g, j] / bw[g]


@jit
def range_stats(X, codes, w, ref, start, stop, count, mean, m2):  # pragma: no cover
    """Diag statistics per group of rows [start, stop), block by block.

    Two passes per block: the block mean of the shifted rows, then the squared
    deviations from it. The mean is computed in float64 from rows already
    shifted by a reference row, so its rounding (about eps times the spread)
    changes M2 by a relative 1e-30: the corrected two-pass term is not needed
    here (the numpy path keeps it) and leaving it out saves a third of the work.
    """
    k, d = mean.shape
    unweighted = w.shape[0] == 0
    bsum = np.zeros((k, d))
    bmean = np.zeros((k, d))
    bm2 = np.zeros((k, d))
    bw = np.zeros(k)
    for b0 in range(start, stop, BLOCK_ROWS):
        b1 = min(b0 + BLOCK_ROWS, stop)
        bm2[:] = 0.0
        block_means(X, codes, w, ref, b0, b1, bsum, bw, bmean)
        # pass 2: squared deviations from the block mean
        for i in range(b0, b1):
            g = codes[i]
            wi = 1.0 if unweighted else w[i]
            mu = bmean[g]
            r = ref[g]
            sq = bm2[g]
            x = X[i]
            for j in range(d):
                dev = (x[j] - r[j]) - mu[j]
                sq[j] += wi * dev * dev
        for g in range(k):
            if bw[g] > 0.0:
                count[g] = merge_into(count[g], mean[g], m2[g], bw[g], bmean[g], bm2[g])


@pjit
def group_stats(X, codes, w, ref, n_parts):  # pragma: no cover - compiled
    """Per-part, per-group (count, mean, m2) in coordinates shifted by ref."""
    n = X.shape[0]
    k, d = ref.shape
    counts = np.zeros((n_parts, k))
    means = np.zeros((n_parts, k, d))
    m2s = np.zeros((n_parts, k, d))
    step = (n + n_parts - 1) // n_parts
    for p in numba.prange(n_parts):
        start = p * step
        stop = min(n, start + step)
        if start < stop:
            range_stats(X, codes, w, ref, start, stop, counts[p], means[p], m2s[p])
    return counts, means, m2s


@jit
def merge_scatter_into(n, mean, m2, nb, mb, m2b):  # pragma: no cover - compiled
    """Chan update of one group's running (n, mean, scatter) with a block's."""
    if nb == 0.0:
        return n
    d = mean.shape[0]
    if n == 0.0:
        for i in range(d):
            mean[i] = mb[i]
            for j in range(d):
                m2[i, j] = m2b[i, j]
        return nb
    tot = n + nb
    frac = nb / tot
    weight = n * frac
    delta = mb - mean
    for i in range(d):
        for j in range(d):
            m2[i, j] += m2b[i, j] + delta[i] * delta[j] * weight
    for i in range(d):
        mean[i] += delta[i] * frac
    return tot


@jit
def range_scatter(X, codes, w, ref, start, stop, count, mean, m2):  # pragma: no cover
    """Full statistics (scatter matrices) per group of rows [start, stop), by blocks.

    Two passes per block as in :func:`range_stats`; the second accumulates the
    lower triangle of sum w dev dev^T, mirrored at the end of the block.
    """
    k, d = mean.shape
    unweighted = w.shape[0] == 0
    bsum = np.zeros((k, d))
    bmean = np.zeros((k, d))
    bm2 = np.zeros((k, d, d))
    bw = np.zeros(k)
    dev = np.empty(d)
    for b0 in range(start, stop, BLOCK_ROWS):
        b1 = min(b0 + BLOCK_ROWS, stop)
        bm2[:] = 0.0
        block_means(X, codes, w, ref, b0, b1, bsum, bw, bmean)
        for i in range(b0, b1):
            g = codes[i]
            wi = 1.0 if unweighted else w[i]
            mu = bmean[g]
            r = ref[g]
            x = X[i]
            for j in range(d):
                dev[j] = (x[j] - r[j]) - mu[j]
            S = bm2[g]
            for a in range(d):
                wa = wi * dev[a]
                row = S[a]
                for j in range(a + 1):
                    row[j] += wa * dev[j]
        for g in range(k):
            if bw[g] > 0.0:
                S = bm2[g]
                for a in range(d):
                    for j in range(a):
                        S[j, a] = S[a, j]
                count[g] = merge_scatter_into(count[g], mean[g], m2[g], bw[g], bmean[g], S)


@pjit
def group_scatter(X, codes, w, ref, n_parts):  # pragma: no cover - compiled
    """Per-part, per-group (count, mean, scatter) in coordinates shifted by ref."""
    n = X.shape[0]
    k, d = ref.shape
    counts = np.zeros((n_parts, k))
    means = np.zeros((n_parts, k, d))
    m2s = np.zeros((n_parts, k, d, d))
    step = (n + n_parts - 1) // n_parts
    for p in numba.prange(n_parts):
        start = p * step
        stop = min(n, start + step)
        if start < stop:
            range_scatter(X, codes, w, ref, start, stop, counts[p], means[p], m2s[p])
    return counts, means, m2s
