"""The arithmetic behind :class:`gaussmle.stats.GaussianStats`, on plain arrays.

Two-pass moments of a chunk (shifted by a reference row, float64, with the
corrected two-pass term), per group by sorting rows into contiguous blocks,
available-case moments for data with missing values, and the exact pairwise
(Chan et al.) merge, with means carried as double-double sums so that merging
statistics far from the origin loses nothing. No E[x^2] - E[x]^2 anywhere.
"""

from __future__ import annotations

import warnings

import numpy as np


def safe(count: np.ndarray) -> np.ndarray:
    """Counts with zeros replaced by one, to divide without warnings."""
    return np.where(count > 0, count, 1.0)


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knuth's error-free sum: ``a + b == s + err`` exactly, ``s`` the rounded sum.

    Examples
    --------
    >>> s, err = two_sum(np.array(1e9), np.array(1e-9))
    >>> float(s), float(err)
    (1000000000.0, 1e-09)
    >>> from fractions import Fraction
    >>> Fraction(float(s)) + Fraction(float(err)) == Fraction(1e9) + Fraction(1e-9)
    True
    """
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    return s, err


def _merge_means(
    ma: np.ndarray,
    la: np.ndarray,
    mb: np.ndarray,
    lb: np.ndarray,
    frac_b: np.ndarray,
    a_empty: np.ndarray,
    b_empty: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """delta and the merged double-double mean (mean, lo); an empty side gives way exactly."""
    delta = (mb - ma) + (lb - la)
    mean, err = two_sum(ma, delta * frac_b)
    mean, lo = two_sum(mean, la + err)  # renormalise: mean is the rounded total
    mean = np.where(a_empty, mb, np.where(b_empty, ma, mean))
    lo = np.where(a_empty, lb, np.where(b_empty, la, lo))
    return delta, mean, lo


def merge_moments(
    na: np.ndarray,
    ma: np.ndarray,
    la: np.ndarray,
    m2a: np.ndarray,
    nb: np.ndarray,
    mb: np.ndarray,
    lb: np.ndarray,
    m2b: np.ndarray,
    kind: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The weighted pairwise (Chan et al.) update on arrays with a batch shape.

    Means are carried as unevaluated sums ``m + l`` (``l`` the rounding left
    over from ``m``), so the difference of two means far from the origin keeps
    its digits: ``delta = (mb - ma) + (lb - la)``. Returns ``(n, mean, lo, m2)``.
    Where one side has count 0 the other side is returned exactly.

    Examples
    --------
    >>> z = np.array([0.0])
    >>> n, m, lo, m2 = merge_moments(
    ...     np.array(1.0), np.array([0.0]), z, np.array([0.0]),
    ...     np.array(1.0), np.array([2.0]), z, np.array([0.0]), "diag")
    >>> float(n), m.tolist(), m2.tolist()
    (2.0, [1.0], [2.0])
    """
    n = na + nb
    frac_b = (nb / safe(n))[..., None]
    a_empty, b_empty = na == 0, nb == 0
    delta, mean, lo = _merge_means(ma, la, mb, lb, frac_b, a_empty[..., None], b_empty[..., None])
    weight = na[..., None] * frac_b  # na * nb / n
    if kind == "diag":
        m2 = m2a + m2b + delta * delta * weight
        m2_shape_extra: tuple[None, ...] = (None,)
    else:
        m2 = m2a + m2b + (delta[..., :, None] * delta[..., None, :]) * weight[..., None]
        m2_shape_extra = (None, None)
    m2 = np.where(
        a_empty[(...,) + m2_shape_extra],
        m2b,
        np.where(b_empty[(...,) + m2_shape_extra], m2a, m2),
    )
    return n, mean, lo, m2


def chunk_moments(
    X: np.ndarray, w: np.ndarray | None, kind: str, ref: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Two-pass (count, mean, m2) of one chunk in float64, shifted by ``ref``."""
    Z = np.subtract(X, ref, dtype=np.float64)
    return centred_moments(Z, w, kind)


def group_reference_rows(X: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """One row of each group (zeros for groups without rows), float64 (k, d).

    Any row of the group will do; searching a growing prefix of the rows
    finds one for every group without a pass over all of them. Only when some
    group is not in the first rows are the groups counted (once), so that a
    group absent from ``codes`` does not make the search read every row.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> group_reference_rows(X, np.array([1, 1, 0]), 3).tolist()
    [[5.0, 6.0], [3.0, 4.0], [0.0, 0.0]]
    """
    position = np.full(n_groups, -1, dtype=np.intp)
    present = None
    head = 1024
    while True:
        part = codes[:head]
        position[part] = np.arange(part.shape[0])
        found = position >= 0
        if found.all() or head >= codes.shape[0]:
            break
        if present is None:
            present = np.bincount(codes, minlength=n_groups) > 0
        if found[present].all():
            break
        head *= 8
    ref = np.zeros((n_groups, X.shape[1]))
    ref[found] = X[position[found]]
    return ref


def centred_moments(
    Z: np.ndarray, w: np.ndarray | None, kind: str
) -> tuple[float, np.ndarray, np.ndarray]:
    """Count, mean and M2 of the rows of float64 ``Z`` (overwritten in place).

    The corrected two-pass form: M2 = sum w d^2 - (sum w d)^2 / W with d the
    deviations from the first-pass mean, which removes the rounding error of
    that mean to first order.
    """
    count = float(Z.shape[0]) if w is None else float(np.add.reduce(w))
    if count == 0:
        return 0.0, np.zeros(Z.shape[1]), None  # type: ignore[return-value]
    mean = (np.add.reduce(Z, axis=0) if w is None else w @ Z) / count
    Z -= mean
    resid = np.add.reduce(Z, axis=0) if w is None else w @ Z
    if kind == "diag":
        wZ = Z if w is None else Z * w[:, None]
        m2 = np.einsum("ij,ij->j", wZ, Z) - resid * resid / count
    else:
        wZ = Z if w is None else Z * w[:, None]
        m2 = wZ.T @ Z - np.outer(resid, resid) / count
        m2 = 0.5 * (m2 + m2.T)
    mean = mean + resid / count
    return count, mean, m2


def chunk_group_moments(
    X: np.ndarray,
    codes: np.ndarray,
    w: np.ndarray | None,
    n_groups: int,
    kind: str,
    ref: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-group two-pass (count, mean, m2) of one chunk, shifted by each group's ``ref`` row.

    Rows are sorted by group (a stable radix sort for small integer codes) so
    each group is one contiguous block.
    """
    d = X.shape[1]
    order = np.argsort(codes, kind="stable")
    rows_per_group = np.bincount(codes, minlength=n_groups)
    bounds = np.concatenate(([0], np.cumsum(rows_per_group)))
    Xs = X[order]
    ws = None if w is None else w[order]
    count = np.zeros(n_groups)
    mean = np.zeros((n_groups, d))
    m2 = np.zeros((n_groups, d) if kind == "diag" else (n_groups, d, d))
    for g in np.flatnonzero(rows_per_group):
        Z = np.subtract(Xs[bounds[g] : bounds[g + 1]], ref[g], dtype=np.float64)
        wb = None if ws is None else ws[bounds[g] : bounds[g + 1]]
        c, mz, s = centred_moments(Z, wb, kind)
        if c > 0:
            count[g], mean[g], m2[g] = c, mz, s
    return count, mean, m2


def merge_elementwise(
    na: np.ndarray,
    ma: np.ndarray,
    la: np.ndarray,
    m2a: np.ndarray,
    nb: np.ndarray,
    mb: np.ndarray,
    lb: np.ndarray,
    m2b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The Chan update feature by feature, each with its own count: (n, mean, lo, m2)."""
    n = na + nb
    frac_b = nb / safe(n)
    a_empty, b_empty = na == 0, nb == 0
    delta, mean, lo = _merge_means(ma, la, mb, lb, frac_b, a_empty, b_empty)
    m2 = m2a + m2b + delta * delta * (na * frac_b)
    m2 = np.where(a_empty, m2b, np.where(b_empty, m2a, m2))
    return n, mean, lo, m2


@np.errstate(invalid="ignore", over="ignore")
def missing_chunk_moments(
    block: np.ndarray, g: np.ndarray, wb: np.ndarray, n_groups: int, ref: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Available-case (count, mean, m2, feature_count) per group of one chunk.

    NaN entries carry zero weight for their feature; two passes, shifted by ``ref``.
    """
    count = np.bincount(g, weights=wb, minlength=n_groups)
    observed = ~np.isnan(block)
    Wf = wb[:, None] * observed
    Z = np.where(observed, block - ref[g], 0.0)
    fc = group_sum(Wf, g, n_groups)
    mean = group_sum(Wf * Z, g, n_groups) / safe(fc)
    D = np.where(observed, Z - mean[g], 0.0)
    resid = group_sum(Wf * D, g, n_groups)
    m2 = group_sum(Wf * D * D, g, n_groups) - resid * resid / safe(fc)
    mean = mean + resid / safe(fc)
    return count, mean, np.maximum(m2, 0.0), fc


def fill_reference_gaps(X: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Reference rows with NaN entries filled by a column mean of the first rows."""
    with warnings.catch_warnings():  # a column with nothing observed yet: NaN, then 0
        warnings.simplefilter("ignore", RuntimeWarning)
        head_mean = np.nanmean(X[:1024], axis=0)
    return np.where(np.isnan(ref), np.nan_to_num(head_mean), ref)


def group_sum(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Row sums of ``values`` per group code, shape (n_groups, d)."""
    out = np.zeros((n_groups, values.shape[1]))
    np.add.at(out, codes, values)
    return out
