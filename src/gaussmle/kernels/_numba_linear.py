"""Compiled (numba) kernel for tied covariances; used only through :mod:`gaussmle.kernels._kernels`.

The classes are ranked, and normalised to posteriors, by the linear
discriminant z @ W + b (z = x - ref), guarded per block of 64 rows by its
rounding bound; blocks that fail it are handed back to the exact numpy path.
Defined at module level so numba can cache the compiled code on disk
(``cache=True``).
"""

import numba
import numpy as np

from ._modes import BEST
from ._numba_predict import ROWS, block_range
from ._numba_softmax import finish_block, normalise_space


# A dot product may be summed in any order (SIMD partial sums): the rounding bound
# the tied guard checks, SAFETY * EPS * (max|z| @ |W| + |b|), is the one the numpy
# path also relies on with BLAS. A separate function, so that linear_rows keeps
# its own flags (no reassociation elsewhere).
@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True)
def pair_dots(z0, z1, w):  # pragma: no cover - compiled
    """(z0 @ w, z1 @ w) in one loop over the features."""
    s0 = 0.0
    s1 = 0.0
    for j in range(w.shape[0]):
        wj = w[j]
        s0 += z0[j] * wj
        s1 += z1[j] * wj
    return s0, s1


@numba.njit(cache=True, fastmath={"reassoc", "contract"}, nogil=True)
def linear_scores(ZB, m, WT, bias, J):  # pragma: no cover - compiled
    """J[r, c] = ZB[r] @ WT[c] + bias[c] for the first m rows, two rows at a time."""
    k = WT.shape[0]
    r = 0
    while r + 2 <= m:
        for c in range(k):
            s0, s1 = pair_dots(ZB[r], ZB[r + 1], WT[c])
            J[r, c] = bias[c] + s0
            J[r + 1, c] = bias[c] + s1
        r += 2
    if r < m:
        for c in range(k):
            s0, _ = pair_dots(ZB[r], ZB[r], WT[c])
            J[r, c] = bias[c] + s0


@numba.njit(cache=True, nogil=True, inline="always")
def shifted_rows(X, start, m, ref, ZB, zmax, poison):  # pragma: no cover - compiled
    """ZB[:m] = X[start : start + m] - ref, with the largest |z| per feature in zmax.

    ``poison`` becomes NaN where a feature holds NaN or infinity (or |z| values
    whose sum overflows: the block then takes the exact path, which is right
    anyway). The maxima are taken four rows at a time: a quarter of the loads
    and stores of zmax.
    """
    d = X.shape[1]
    for r in range(m):
        x = X[start + r]
        z = ZB[r]
        for j in range(d):
            z[j] = x[j] - ref[j]
    r = 0
    while r + 4 <= m:
        z0 = ZB[r]
        z1 = ZB[r + 1]
        z2 = ZB[r + 2]
        z3 = ZB[r + 3]
        for j in range(d):
            a0 = abs(z0[j])
            a1 = abs(z1[j])
            a2 = abs(z2[j])
            a3 = abs(z3[j])
            top = max(max(a0, a1), max(a2, a3))
            zmax[j] = top if top > zmax[j] else zmax[j]
            poison[j] += ((a0 + a1) + (a2 + a3)) * 0.0
        r += 4
    while r < m:
        z0 = ZB[r]
        for j in range(d):
            a0 = abs(z0[j])
            zmax[j] = a0 if a0 > zmax[j] else zmax[j]
            poison[j] += a0 * 0.0
        r += 1


@numba.njit(cache=True, fastmath={"contract"}, nogil=True, inline="always")
def linear_rows_part(
    X, ref, W, bias, guard_W, guard_b, tol, mode, out, best, parts, t
):  # pragma: no cover - compiled
    """Part t of ``parts`` of :func:`linear_rows` (inlined into both launches)."""
    n, d = X.shape
    k = W.shape[1]
    block = ROWS
    ZB = np.zeros((block, d))
    WT = np.ascontiguousarray(W.T)
    zmax = np.empty(d)
    poison = np.empty(d)
    J = np.empty((block, k))
    tops, shifted, expd, bits = normalise_space(block, k)
    first, last = block_range(n, block, parts, t)
    for b in range(first, last):
        start = b * block
        m = min(n, start + block) - start
        zmax[:] = 0.0
        poison[:] = 0.0
        shifted_rows(X, start, m, ref, ZB, zmax, poison)
        for j in range(d):
            if poison[j] != 0.0:
                zmax[j] = np.inf
        safe = True
        for c in range(k):
            bound = guard_b[c]
            for j in range(d):
                bound += zmax[j] * guard_W[j, c]
            if not bound <= tol:
                safe = False
        if not safe:
            for r in range(m):
                if mode == BEST:
                    best[start + r] = -2
                else:
                    for c in range(k):
                        out[start + r, c] = np.nan
            continue
        linear_scores(ZB, m, WT, bias, J)
        finish_block(J, m, start, mode, out, best, tops, shifted, expd, bits)


@numba.njit(cache=True, fastmath={"contract"}, nogil=True, parallel=True)
def linear_rows(
    X, ref, W, bias, guard_W, guard_b, tol, mode, out, best, parts
):  # pragma: no cover - compiled
    """Tied covariances: class scores z @ W + bias per row (z = x - ref), normalised.

    The scores differ from the joint log densities by a term shared by all
    classes, so they rank the classes and normalise to the posteriors (modes
    LOG_POSTERIOR and POSTERIOR; BEST writes the index of the best class to ``best``). Each
    block of rows is guarded: where guard_b[c] + max|z| @ guard_W[:, c] (the
    rounding bound of the products) exceeds ``tol`` for some class, the
    block is not evaluated: its rows come back as NaN (best -2) for the
    caller's exact path. A row with NaN or infinity ends up there too.
    The block's rows are not transposed: each score is a dot product along
    the features, two rows at a time (faster than transposed blocks for
    nearly every shape measured; docs/kernels.md).
    """
    for t in numba.prange(parts):
        linear_rows_part(X, ref, W, bias, guard_W, guard_b, tol, mode, out, best, parts, t)


@numba.njit(cache=True, fastmath={"contract"}, nogil=True)
def linear_rows_serial(
    X, ref, W, bias, guard_W, guard_b, tol, mode, out, best
):  # pragma: no cover - compiled
    """:func:`linear_rows` as one part on the calling thread (no parallel launch)."""
    linear_rows_part(X, ref, W, bias, guard_W, guard_b, tol, mode, out, best, 1, 0)
