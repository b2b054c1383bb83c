"""Compiled (numba) kernels for the statistics of fit; used only through :mod:`._kernels`.

Per group: two passes over each block of rows (the block mean of the rows
shifted by a reference row, then the squared deviations from it), in float64,
and the Chan et al. update between blocks; one contiguous range of rows per
thread. Each threaded kernel has a ``_serial`` twin that runs on the calling
thread without a parallel launch (for small inputs). Defined at module level
so numba can cache the compiled code on disk (``cache=True``): only the first
run on a machine pays for compilation.
"""

import numba
import numpy as np

#: Rows per block inside the compiled diag fit kernel (block stays in L2 cache).
BLOCK_ROWS = 2048

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
def group_stats_serial(X, codes, w, ref):  # pragma: no cover - compiled
    """:func:`group_stats` with one part, on the calling thread (no parallel launch)."""
    k, d = ref.shape
    counts = np.zeros((1, k))
    means = np.zeros((1, k, d))
    m2s = np.zeros((1, k, d))
    range_stats(X, codes, w, ref, 0, X.shape[0], counts[0], means[0], m2s[0])
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


#: Values (float64) of one block of deviations in the full kernel: 512 KiB, so the
#: block stays in L2 cache while every pair of features is summed over it.
SCATTER_BLOCK_VALUES = 1 << 16

# Sums over the rows of a class may be taken in any order (SIMD partial sums):
# their error bound is that of a sequential sum, as for BLAS in the numpy path.
sjit = numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True)


@jit
def group_slots(codes, b0, b1, bounds, slot):  # pragma: no cover - compiled
    """Rows [b0, b1) grouped, in order: row i goes to column slot[i - b0].

    Group g's rows take the columns bounds[g]:bounds[g + 1] (a counting sort).
    """
    k = bounds.shape[0] - 1
    bounds[:] = 0
    for i in range(b0, b1):
        bounds[codes[i] + 1] += 1
    for g in range(k):
        bounds[g + 1] += bounds[g]
    for i in range(b0, b1):
        g = codes[i]
        slot[i - b0] = bounds[g]
        bounds[g] += 1
    for g in range(k, 0, -1):
        bounds[g] = bounds[g - 1]
    bounds[0] = 0


@jit
def shifted_columns(X, codes, w, ref, b0, b1, slot, DT, ws):  # pragma: no cover - compiled
    """DT[:, slot[i - b0]] = X[i] - ref[codes[i]] for rows [b0, b1), and their weights.

    The rows are read in order (the hardware prefetcher follows), the columns
    written where their group's columns are.
    """
    d = X.shape[1]
    weighted = w.shape[0] > 0
    for i in range(b0, b1):
        t = slot[i - b0]
        x = X[i]
        r = ref[codes[i]]
        for j in range(d):
            DT[j, t] = x[j] - r[j]
        if weighted:
            ws[t] = w[i]


@sjit
def centre_columns(DT, ws, s, e, weighted, mean):  # pragma: no cover - compiled
    """Centre columns [s, e) of DT on their (weighted) mean, into mean; their weight.

    The loops run over views indexed from 0 (see :func:`tile_sums`).
    """
    m = e - s
    wseg = ws[s:e]
    total = float(m)
    if weighted:
        total = 0.0
        for t in range(m):
            total += wseg[t]
    if not total > 0.0:
        return total
    for j in range(DT.shape[0]):
        row = DT[j, s:e]
        acc = 0.0
        if weighted:
            for t in range(m):
                acc += wseg[t] * row[t]
        else:
            for t in range(m):
                acc += row[t]
        mu = acc / total
        mean[j] = mu
        for t in range(m):
            row[t] -= mu
    return total


@jit
def weigh_columns(DT, ws, s, e, DW):  # pragma: no cover - compiled
    """DW[:, s:e] = ws[s:e] * DT[:, s:e] (loops over views indexed from 0)."""
    wseg = ws[s:e]
    for j in range(DT.shape[0]):
        src = DT[j, s:e]
        dst = DW[j, s:e]
        for t in range(e - s):
            dst[t] = wseg[t] * src[t]


@sjit
def tile_sums(A, B, a, b, s, e, S):  # pragma: no cover - compiled
    """S[a:a+4, b:b+4] = A[a:a+4, s:e] @ B[b:b+4, s:e].T (16 sums, 8 loads per step)."""
    # views of columns [s, e), indexed from 0: a loop from 0 is known not to need
    # negative-index handling, which would keep it from being vectorised (4x slower)
    a0 = A[a, s:e]
    a1 = A[a + 1, s:e]
    a2 = A[a + 2, s:e]
    a3 = A[a + 3, s:e]
    b0 = B[b, s:e]
    b1 = B[b + 1, s:e]
    b2 = B[b + 2, s:e]
    b3 = B[b + 3, s:e]
    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = 0.0
    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = 0.0
    for t in range(e - s):
        x0 = a0[t]
        x1 = a1[t]
        x2 = a2[t]
        x3 = a3[t]
        y0 = b0[t]
        y1 = b1[t]
        y2 = b2[t]
        y3 = b3[t]
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
        s20 += x2 * y0
        s21 += x2 * y1
        s22 += x2 * y2
        s23 += x2 * y3
        s30 += x3 * y0
        s31 += x3 * y1
        s32 += x3 * y2
        s33 += x3 * y3
    S[a, b] = s00
    S[a, b + 1] = s01
    S[a, b + 2] = s02
    S[a, b + 3] = s03
    S[a + 1, b] = s10
    S[a + 1, b + 1] = s11
    S[a + 1, b + 2] = s12
    S[a + 1, b + 3] = s13
    S[a + 2, b] = s20
    S[a + 2, b + 1] = s21
    S[a + 2, b + 2] = s22
    S[a + 2, b + 3] = s23
    S[a + 3, b] = s30
    S[a + 3, b + 1] = s31
    S[a + 3, b + 2] = s32
    S[a + 3, b + 3] = s33


@sjit
def lower_products(A, B, s, e, S):  # pragma: no cover - compiled
    """S[a, b] = A[a, s:e] @ B[b, s:e] for b <= a, mirrored into the upper triangle."""
    d = A.shape[0]
    a = 0
    while a + 4 <= d:
        for b in range(0, a + 1, 4):
            tile_sums(A, B, a, b, s, e, S)
        a += 4
    for i in range(a, d):
        ai = A[i, s:e]
        for b in range(i + 1):
            bb = B[b, s:e]
            acc = 0.0
            for t in range(e - s):
                acc += ai[t] * bb[t]
            S[i, b] = acc
    for i in range(d):
        for b in range(i):
            S[b, i] = S[i, b]


@jit
def range_scatter(X, codes, w, ref, start, stop, count, mean, m2):  # pragma: no cover
    """Full statistics (scatter matrices) per group of rows [start, stop), by blocks.

    Each block's rows are grouped (a counting sort) and shifted by their
    group's reference row into the columns of DT; then, per group, two passes
    over its columns: the mean, then the products of the deviations from it,
    summed over the group's columns for every pair of features, 4 x 4 pairs
    at a time. The block is merged into the running statistics by the Chan
    update.
    """
    k, d = mean.shape
    weighted = w.shape[0] > 0
    rows = max(64, min(2048, SCATTER_BLOCK_VALUES // max(d, 1)))
    DT = np.empty((d, rows + 8))  # + 8: rows of DT not a power of two apart (cache sets)
    DW = np.empty((d, rows + 8) if weighted else (0, 0))
    ws = np.empty(rows)
    bounds = np.zeros(k + 1, dtype=np.intp)
    slot = np.empty(rows, dtype=np.intp)
    bmean = np.empty(d)
    S = np.empty((d, d))
    for b0 in range(start, stop, rows):
        b1 = min(b0 + rows, stop)
        group_slots(codes, b0, b1, bounds, slot)
        shifted_columns(X, codes, w, ref, b0, b1, slot, DT, ws)
        for g in range(k):
            s = bounds[g]
            e = bounds[g + 1]
            if e == s:
                continue
            total = centre_columns(DT, ws, s, e, weighted, bmean)
            if not total > 0.0:
                continue
            if weighted:
                weigh_columns(DT, ws, s, e, DW)
                lower_products(DW, DT, s, e, S)
            else:
                lower_products(DT, DT, s, e, S)
            count[g] = merge_scatter_into(count[g], mean[g], m2[g], total, bmean, S)


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


@jit
def group_scatter_serial(X, codes, w, ref):  # pragma: no cover - compiled
    """:func:`group_scatter` with one part, on the calling thread (no parallel launch)."""
    k, d = ref.shape
    counts = np.zeros((1, k))
    means = np.zeros((1, k, d))
    m2s = np.zeros((1, k, d, d))
    range_scatter(X, codes, w, ref, 0, X.shape[0], counts[0], means[0], m2s[0])
    return counts, means, m2s
