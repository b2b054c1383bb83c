"""Compiled (numba) kernels for prediction; used only through :mod:`gaussmle.kernels._kernels`.

Each thread takes a contiguous range of 64-row blocks, and every class is
evaluated on each block (diag directly, full by forward substitution; tied
in :mod:`gaussmle.kernels._numba_linear`); the block is then normalised by
log-sum-exp or reduced to the best class (:mod:`gaussmle.kernels._numba_softmax`).
Full blocks, and diag blocks with many classes, are transposed so that the
rows become SIMD lanes; diag blocks with few classes are evaluated row by
row (SIMD along the features, no transpose).
Defined at module level so numba can cache the compiled code on disk
(``cache=True``): only the first run on a machine pays for compilation.
"""

import numba
import numpy as np

from ._modes import BEST, JOINT
from ._numba_softmax import finish_block, normalise_block, normalise_space

#: Rows per block in the prediction kernels. A compile-time constant: the inner
#: loops then have a fixed trip count and compile to straight SIMD code (a short
#: last block is padded; the padding rows' results are never written out).
ROWS = 64

jit = numba.njit(cache=True, fastmath=False, nogil=True)


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True, inline="always")
def diag_distances(XT, mu, p, acc):  # pragma: no cover - compiled
    """acc[r] = sum_j (XT[j, r] - mu[j])^2 * p[j] for the ROWS columns of XT."""
    d = XT.shape[0]
    acc[:] = 0.0
    j = 0
    while j + 4 <= d:  # four features per pass over acc: a quarter of the stores
        x0 = XT[j]
        x1 = XT[j + 1]
        x2 = XT[j + 2]
        x3 = XT[j + 3]
        m0 = mu[j]
        m1 = mu[j + 1]
        m2 = mu[j + 2]
        m3 = mu[j + 3]
        p0 = p[j]
        p1 = p[j + 1]
        p2 = p[j + 2]
        p3 = p[j + 3]
        for r in range(ROWS):
            e0 = x0[r] - m0
            e1 = x1[r] - m1
            e2 = x2[r] - m2
            e3 = x3[r] - m3
            acc[r] += (e0 * e0 * p0 + e1 * e1 * p1) + (e2 * e2 * p2 + e3 * e3 * p3)
        j += 4
    while j < d:
        xj = XT[j]
        mj = mu[j]
        pj = p[j]
        for r in range(ROWS):
            dev = xj[r] - mj
            acc[r] += dev * dev * pj
        j += 1


@numba.njit(cache=True, nogil=True, inline="always")
def transpose_block(X, start, m, XT):  # pragma: no cover - compiled
    """XT[:, :m] = X[start : start + m].T (as float64): rows become SIMD lanes."""
    d = X.shape[1]
    for r in range(m):
        for j in range(d):
            XT[j, r] = X[start + r, j]


# Sums of non-negative terms may be reassociated (SIMD) and use fused multiply-add:
# the error bound of such a sum is the same as in sequential order. No other
# fast-math liberties: infinities and NaN keep their meaning. Inlined (numba IR)
# into diag_rows and diag_best, which carry the same flags and do no other sums:
# called instead, diag_best ran slower once loaded from numba's cache (docs/kernels.md).
@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True, inline="always")
def diag_block(X, start, m, means, precision, const, XT, acc, J):  # pragma: no cover
    """Joint log densities of rows [start, start + m) into J[:m] (diag, direct).

    The block is transposed into XT so the innermost loop runs over rows
    (SIMD without horizontal sums).
    """
    transpose_block(X, start, m, XT)
    for c in range(means.shape[0]):
        diag_distances(XT, means[c], precision[c], acc)
        for r in range(m):
            J[r, c] = const[c] - 0.5 * acc[r]


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True, inline="always")
def row_distance(x, mu, p):  # pragma: no cover - compiled
    """sum_j (x_j - mu_j)^2 * p_j for one row (SIMD along the features)."""
    s = 0.0
    for j in range(x.shape[0]):
        e = x[j] - mu[j]
        s += e * e * p[j]
    return s


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True, inline="always")
def pair_distances(x0, x1, mu, p):  # pragma: no cover - compiled
    """:func:`row_distance` of two rows in one loop (mu and p loaded once for both)."""
    s0 = 0.0
    s1 = 0.0
    for j in range(x0.shape[0]):
        m = mu[j]
        q = p[j]
        e0 = x0[j] - m
        e1 = x1[j] - m
        s0 += e0 * e0 * q
        s1 += e1 * e1 * q
    return s0, s1


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True, inline="always")
def diag_block_by_rows(X, start, m, means, precision, const, J):  # pragma: no cover
    """Joint log densities of rows [start, start + m) into J[:m], two rows at a time.

    For few classes this beats :func:`diag_block`: no transpose, and each
    row is read once from memory and then from cache for every class.
    """
    r = 0
    while r + 2 <= m:
        x0 = X[start + r]
        x1 = X[start + r + 1]
        for c in range(means.shape[0]):
            s0, s1 = pair_distances(x0, x1, means[c], precision[c])
            J[r, c] = const[c] - 0.5 * s0
            J[r + 1, c] = const[c] - 0.5 * s1
        r += 2
    if r < m:
        x = X[start + r]
        for c in range(means.shape[0]):
            J[r, c] = const[c] - 0.5 * row_distance(x, means[c], precision[c])


@jit
def block_range(n, block, parts, t):  # pragma: no cover - compiled
    """The blocks [first, last) that part t of ``parts`` handles."""
    n_blocks = (n + block - 1) // block
    per = (n_blocks + parts - 1) // parts
    return t * per, min(n_blocks, (t + 1) * per)


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True, inline="always")
def diag_rows_part(
    X, means, precision, const, mode, out, by_rows, parts, t
):  # pragma: no cover - compiled
    """Part t of ``parts`` of :func:`diag_rows` (inlined into both launches)."""
    n, d = X.shape
    k = means.shape[0]
    block = ROWS
    XT = np.zeros((d, block))
    acc = np.empty(block)
    tops, shifted, expd, bits = normalise_space(block, k)
    first, last = block_range(n, block, parts, t)
    for b in range(first, last):
        start = b * block
        m = min(n, start + block) - start
        J = out[start : start + m]
        if by_rows:
            diag_block_by_rows(X, start, m, means, precision, const, J)
        else:
            diag_block(X, start, m, means, precision, const, XT, acc, J)
        if mode != JOINT:
            normalise_block(J, mode, tops, shifted, expd, bits)


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True, parallel=True)
def diag_rows(X, means, precision, const, mode, out, by_rows, parts):  # pragma: no cover - compiled
    """Direct diag log densities per row, optionally normalised in the same pass.

    out[i, c] = const[c] - 0.5 * sum_j (x_ij - mu_cj)^2 * p_cj (mode JOINT),
    or the log posterior / posterior of the row. A row whose densities all
    underflow is left as NaN for the caller. Each of ``parts`` threads owns a
    contiguous range of 64-row blocks and its own work space. ``by_rows``
    evaluates each block row by row instead of transposed (faster for few classes).
    """
    for t in numba.prange(parts):
        diag_rows_part(X, means, precision, const, mode, out, by_rows, parts, t)


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True)
def diag_rows_serial(X, means, precision, const, mode, out, by_rows):  # pragma: no cover - compiled
    """:func:`diag_rows` as one part on the calling thread (no parallel launch)."""
    diag_rows_part(X, means, precision, const, mode, out, by_rows, 1, 0)


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True, inline="always")
def diag_best_part(
    X, means, precision, const, best, by_rows, parts, t
):  # pragma: no cover - compiled
    """Part t of ``parts`` of :func:`diag_best` (inlined into both launches)."""
    n, d = X.shape
    k = means.shape[0]
    block = ROWS
    XT = np.zeros((d, block))
    acc = np.empty(block)
    top = np.empty(block)
    arg = np.empty(block, dtype=np.intp)
    J = np.empty((block, k))
    out = np.empty((0, k))
    first, last = block_range(n, block, parts, t)
    for b in range(first, last):
        start = b * block
        m = min(n, start + block) - start
        if by_rows:
            diag_block_by_rows(X, start, m, means, precision, const, J)
            # BEST needs no output table or normalising work space
            finish_block(J, m, start, BEST, out, best, top, top, top, arg)
            continue
        transpose_block(X, start, m, XT)
        top[:] = -np.inf
        arg[:] = -1
        for c in range(k):
            diag_distances(XT, means[c], precision[c], acc)
            cc = const[c]
            for r in range(ROWS):
                v = cc - 0.5 * acc[r]
                better = v > top[r]
                top[r] = v if better else top[r]
                arg[r] = c if better else arg[r]
        for r in range(m):
            best[start + r] = arg[r]


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True, parallel=True)
def diag_best(X, means, precision, const, best, by_rows, parts):  # pragma: no cover - compiled
    """Index of the largest joint log density per row (-1 where all underflow).

    The best class so far is kept per row as the classes go by (no table of
    densities, no second pass); ties go to the first class, as in argmax.
    ``by_rows`` evaluates the block row by row instead (into a table of
    densities, reduced by :func:`finish_block`, the argmax every kernel shares).
    """
    for t in numba.prange(parts):
        diag_best_part(X, means, precision, const, best, by_rows, parts, t)


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True)
def diag_best_serial(X, means, precision, const, best, by_rows):  # pragma: no cover - compiled
    """:func:`diag_best` as one part on the calling thread (no parallel launch)."""
    diag_best_part(X, means, precision, const, best, by_rows, 1, 0)


# Forward substitution may contract a - l * z into one fused multiply-add (one
# rounding instead of two); the products of each step are applied in a fixed
# order of our choosing: the error bound of the solve is unchanged. No
# reassociation. Inlined (numba IR) into full_rows, which carries the same
# flags: as a separate call the contraction was lost and the kernel slower.
@numba.njit(cache=True, fastmath={"contract"}, nogil=True, inline="always")
def whitened_norms(XT, mu, L, Z, acc):  # pragma: no cover - compiled
    """acc[r] = |z_r|^2 where L z_r = x_r - mu, for the ROWS columns of XT.

    Forward substitution, vectorised across the rows of the block. Rows j and
    j + 1 of Z are solved together and the earlier rows are applied four at a
    time: each load of an earlier row then serves eight multiply-adds and each
    partial result is stored once per four, so the loop is bound by arithmetic
    rather than by stores (faster than one row at a time; docs/kernels.md).
    """
    d = XT.shape[0]
    acc[:] = 0.0
    j = 0
    while j + 2 <= d:
        za = Z[j]
        zb = Z[j + 1]
        xa = XT[j]
        xb = XT[j + 1]
        ma = mu[j]
        mb = mu[j + 1]
        for r in range(ROWS):
            za[r] = xa[r] - ma
            zb[r] = xb[r] - mb
        i = 0
        while i + 4 <= j:
            a0, a1, a2, a3 = L[j, i], L[j, i + 1], L[j, i + 2], L[j, i + 3]
            b0, b1, b2, b3 = L[j + 1, i], L[j + 1, i + 1], L[j + 1, i + 2], L[j + 1, i + 3]
            z0, z1, z2, z3 = Z[i], Z[i + 1], Z[i + 2], Z[i + 3]
            for r in range(ROWS):
                y0, y1, y2, y3 = z0[r], z1[r], z2[r], z3[r]
                za[r] = za[r] - a0 * y0 - a1 * y1 - a2 * y2 - a3 * y3
                zb[r] = zb[r] - b0 * y0 - b1 * y1 - b2 * y2 - b3 * y3
            i += 4
        while i < j:
            a0 = L[j, i]
            b0 = L[j + 1, i]
            z0 = Z[i]
            for r in range(ROWS):
                za[r] = za[r] - a0 * z0[r]
                zb[r] = zb[r] - b0 * z0[r]
            i += 1
        inv_a = 1.0 / L[j, j]  # a multiply per entry, as BLAS trsm kernels do
        inv_b = 1.0 / L[j + 1, j + 1]
        b_a = L[j + 1, j]
        for r in range(ROWS):
            ya = za[r] * inv_a
            yb = (zb[r] - b_a * ya) * inv_b
            za[r] = ya
            zb[r] = yb
            acc[r] += ya * ya + yb * yb
        j += 2
    if j < d:  # an odd last row, alone
        za = Z[j]
        xa = XT[j]
        ma = mu[j]
        for r in range(ROWS):
            za[r] = xa[r] - ma
        for i in range(j):
            a0 = L[j, i]
            z0 = Z[i]
            for r in range(ROWS):
                za[r] = za[r] - a0 * z0[r]
        inv_a = 1.0 / L[j, j]
        for r in range(ROWS):
            ya = za[r] * inv_a
            za[r] = ya
            acc[r] += ya * ya


@numba.njit(cache=True, fastmath={"contract"}, nogil=True, inline="always")
def full_rows_part(
    X, means, factors, const, mode, out, best, parts, t
):  # pragma: no cover - compiled
    """Part t of ``parts`` of :func:`full_rows` (inlined into both launches)."""
    n, d = X.shape
    k = means.shape[0]
    block = ROWS
    Z = np.empty((d, block))
    XT = np.zeros((d, block))
    acc = np.empty(block)
    J = np.empty((block, k))
    tops, shifted, expd, bits = normalise_space(block, k)
    first, last = block_range(n, block, parts, t)
    for b in range(first, last):
        start = b * block
        m = min(n, start + block) - start
        transpose_block(X, start, m, XT)
        for c in range(k):
            whitened_norms(XT, means[c], factors[c], Z, acc)
            for r in range(m):
                J[r, c] = const[c] - 0.5 * acc[r]
        finish_block(J, m, start, mode, out, best, tops, shifted, expd, bits)


@numba.njit(cache=True, fastmath={"contract"}, nogil=True, parallel=True)
def full_rows(X, means, factors, const, mode, out, best, parts):  # pragma: no cover - compiled
    """Full-covariance log densities: whitening by forward substitution per block.

    For a block of rows and each class c, the deviations D = x - mu_c are
    whitened by solving L_c Z = D (:func:`whitened_norms`), then
    out[i, c] = const[c] - 0.5 * |z_i|^2, optionally normalised per row (modes
    1 and 2). Mode 3 writes only the index of the largest entry of each row to
    ``best`` (-1 where none is finite) and leaves ``out`` alone.
    """
    for t in numba.prange(parts):
        full_rows_part(X, means, factors, const, mode, out, best, parts, t)


@numba.njit(cache=True, fastmath={"contract"}, nogil=True)
def full_rows_serial(X, means, factors, const, mode, out, best):  # pragma: no cover - compiled
    """:func:`full_rows` as one part on the calling thread (no parallel launch)."""
    full_rows_part(X, means, factors, const, mode, out, best, 1, 0)
