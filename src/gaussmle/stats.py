"""Sufficient statistics of Gaussians: (weight, mean, M2), exactly mergeable.

A :class:`GaussianStats` holds, for one group or for a batch of groups (one per
class), the sum of weights ``count``, the weighted ``mean`` and ``m2``: the
weighted sums of squared deviations from the mean (``kind="diag"``) or the
scatter matrix (``kind="full"``). Every way of producing a model in gaussmle
(fit, partial_fit, streaming files, Dask, merging saved models) goes through
:meth:`GaussianStats.merge`, the weighted pairwise update of Chan, Golub and
LeVeque, so the result does not depend on how the data was split.

Numerics: everything accumulates in float64 whatever the input dtype. Within a
chunk the statistics are computed in two passes on data shifted by a reference
row (so values far from the origin lose nothing): the mean of the chunk, then
the squared deviations from it (the numpy path also adds the corrected
two-pass term; the compiled kernel needs not, see :mod:`gaussmle.kernels._numba_stats`).
Between chunks only means and deviations are combined. The raw-moment form
E[x^2] - E[x]^2 is never used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._moments import (
    chunk_group_moments,
    chunk_moments,
    fill_reference_gaps,
    group_reference_rows,
    merge_elementwise,
    merge_moments,
    missing_chunk_moments,
    safe,
    two_sum,
)
from ._validation import (
    STATS_KINDS,
    as_float_array,
    check_choice,
    check_finite_result,
    check_sample_weight,
)
from .kernels import _kernels

#: Bytes of float64 work space per chunk; keeps the working set in cache.
CHUNK_BYTES = 1 << 22


def default_chunk_rows(n_features: int) -> int:
    """Rows per chunk so that a float64 chunk takes about 4 MiB.

    Examples
    --------
    >>> default_chunk_rows(32)
    16384
    """
    return max(256, CHUNK_BYTES // (8 * max(1, n_features)))


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class GaussianStats:
    """Sufficient statistics of a Gaussian, for one group or a batch of groups.

    Parameters
    ----------
    count : ndarray, shape batch_shape
        Sum of sample weights (float64).
    mean : ndarray, shape batch_shape + (d,)
        Weighted mean.
    m2 : ndarray, shape batch_shape + (d,) or batch_shape + (d, d)
        Weighted sum of squared deviations from the mean (``"diag"``) or the
        weighted scatter matrix (``"full"``).
    kind : {"diag", "full"}
        Which second moment is kept.
    feature_count : ndarray, shape batch_shape + (d,), optional
        Sum of weights per feature, for ``"diag"`` statistics of data with
        missing values (available-case statistics: each feature's mean and M2
        use the rows where that feature is observed; valid when values are
        missing at random). None when every feature saw every row.
    mean_lo : ndarray, shape batch_shape + (d,), optional
        What rounding left over from ``mean``: the mean is ``mean + mean_lo``
        (a double-double number). It keeps merges of statistics far from the
        origin exact; ``mean`` alone is the float64 mean. None means zeros.

    Instances are immutable: the arrays are read-only copies.

    Examples
    --------
    >>> import numpy as np
    >>> a = GaussianStats.from_data([[1.0], [2.0]])
    >>> b = GaussianStats.from_data([[3.0], [4.0]])
    >>> ab = a + b
    >>> float(ab.count), ab.mean.tolist(), ab.m2.tolist()
    (4.0, [2.5], [5.0])
    """

    count: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    kind: str = "diag"
    feature_count: np.ndarray | None = None
    mean_lo: np.ndarray | None = None

    def __post_init__(self) -> None:
        check_choice(self.kind, STATS_KINDS, name="kind")
        count, mean, m2 = _readonly(self.count), _readonly(self.mean), _readonly(self.m2)
        if mean.ndim < 1:
            raise ValueError("mean must have at least one dimension (the features)")
        d = mean.shape[-1]
        expected_m2 = count.shape + ((d,) if self.kind == "diag" else (d, d))
        if mean.shape != count.shape + (d,) or m2.shape != expected_m2:
            raise ValueError(
                f"inconsistent shapes: count {count.shape}, mean {mean.shape}, m2 {m2.shape} "
                f"for kind {self.kind!r}"
            )
        object.__setattr__(self, "count", count)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "m2", m2)
        if self.feature_count is not None:
            if self.kind != "diag":
                raise ValueError("per-feature counts (missing values) need kind='diag'")
            fc = _readonly(self.feature_count)
            if fc.shape != mean.shape:
                raise ValueError(f"feature_count has shape {fc.shape}, expected {mean.shape}")
            object.__setattr__(self, "feature_count", fc)
        if self.mean_lo is not None:
            lo = _readonly(self.mean_lo)
            if lo.shape != mean.shape:
                raise ValueError(f"mean_lo has shape {lo.shape}, expected {mean.shape}")
            object.__setattr__(self, "mean_lo", lo)

    @property
    def lo(self) -> np.ndarray:
        """``mean_lo``, or zeros when it is not kept."""
        return np.zeros_like(self.mean) if self.mean_lo is None else self.mean_lo

    # ------------------------------------------------------------------ constructors
    @classmethod
    def empty(
        cls, n_features: int, kind: str = "diag", batch_shape: tuple[int, ...] = ()
    ) -> GaussianStats:
        """Statistics of no data: the identity of :meth:`merge`.

        Examples
        --------
        >>> s = GaussianStats.from_data([[1.0, 2.0], [3.0, 5.0]])
        >>> (s + GaussianStats.empty(2)).m2.tolist() == s.m2.tolist()
        True
        """
        check_choice(kind, STATS_KINDS, name="kind")
        d = int(n_features)
        m2_shape = (d,) if kind == "diag" else (d, d)
        return cls(
            np.zeros(batch_shape),
            np.zeros(batch_shape + (d,)),
            np.zeros(batch_shape + m2_shape),
            kind,
        )

    @classmethod
    @np.errstate(invalid="ignore", over="ignore")  # non-finite input: reported below
    def from_data(
        cls,
        X: Any,
        sample_weight: Any = None,
        kind: str = "diag",
        *,
        chunk_rows: int | None = None,
        missing: str = "error",
    ) -> GaussianStats:
        """Statistics of the rows of ``X`` (one group).

        ``X`` is read in row chunks of ``chunk_rows``; each chunk is summarised
        in float64 by a shifted two-pass computation, and chunks are merged
        exactly. A 1-D ``X`` is one feature. ``missing="ignore"`` (diag only)
        treats NaN as missing and keeps available-case statistics per feature.

        Examples
        --------
        >>> x = np.array([1e9 + 0.001, 1e9 - 0.001])  # stored as 1e9 +- 0.00100004673...
        >>> s = GaussianStats.from_data(x)
        >>> float(s.m2[0] / s.count)  # the variance of the stored values, despite the offset
        1.0000934622667046e-06
        >>> float(s.m2[0] / s.count) == float(((x[0] - x[1]) / 2) ** 2)
        True
        >>> float(np.mean(x**2) - np.mean(x) ** 2)  # the raw-moment form: all digits lost
        0.0
        """
        check_choice(kind, STATS_KINDS, name="kind")
        if _check_missing(missing, kind):
            group = np.zeros(np.shape(X)[0], dtype=np.intp)
            return cls.from_groups(
                X, group, 1, sample_weight, kind, chunk_rows=chunk_rows, missing=missing
            )[0]
        X = as_float_array(X, finite=False)
        w = check_sample_weight(sample_weight, X.shape[0])
        rows = chunk_rows or default_chunk_rows(X.shape[1])
        # Chunks are summarised and merged in coordinates shifted by one reference
        # row, so the merged means never carry the rounding of a large offset.
        ref = X[0].astype(np.float64)
        total = cls.empty(X.shape[1], kind)
        for start in range(0, X.shape[0], rows):
            stop = start + rows
            c, mean, m2 = chunk_moments(
                X[start:stop], None if w is None else w[start:stop], kind, ref
            )
            if c > 0:
                total = total.merge(cls(np.float64(c), mean, m2, kind))
        check_finite_result((total.mean, total.m2), X)
        return total.shifted(ref)

    @classmethod
    @np.errstate(invalid="ignore", over="ignore")  # non-finite input: reported below
    def from_groups(
        cls,
        X: Any,
        groups: Any,
        n_groups: int,
        sample_weight: Any = None,
        kind: str = "diag",
        *,
        chunk_rows: int | None = None,
        missing: str = "error",
    ) -> GaussianStats:
        """Statistics per group, as a batch of shape ``(n_groups,)``.

        ``groups`` holds integer codes in ``[0, n_groups)``, one per row.
        Groups with no rows get count 0 (the empty statistics).
        ``missing="ignore"`` (diag only): NaN marks a missing value, and the
        result carries per-feature counts.

        Examples
        --------
        >>> s = GaussianStats.from_groups([[0.0], [2.0], [10.0]], [0, 0, 1], 2)
        >>> s.count.tolist(), s.mean[:, 0].tolist(), s.m2[:, 0].tolist()
        ([2.0, 1.0], [1.0, 10.0], [2.0, 0.0])
        """
        check_choice(kind, STATS_KINDS, name="kind")
        X = as_float_array(X, finite=False)
        codes = np.asarray(groups)
        if codes.shape != (X.shape[0],):
            raise ValueError(
                f"groups has shape {codes.shape} but X has {X.shape[0]} rows; pass one "
                "group code per row"
            )
        if codes.size and (codes.min() < 0 or codes.max() >= n_groups):
            raise ValueError(f"group codes must lie in [0, {n_groups})")
        codes = codes.astype(np.intp, copy=False)
        w = check_sample_weight(sample_weight, X.shape[0])
        ref = group_reference_rows(X, codes, n_groups)
        if _check_missing(missing, kind):
            return _stats_with_missing(X, codes, w, n_groups, ref, chunk_rows)
        if chunk_rows is None and _kernels.available():
            counts, means, m2s = _kernels.group_stats(X, codes, w, ref, kind)
            total = cls.empty(X.shape[1], kind, (n_groups,))
            for part in zip(counts, means, m2s, strict=True):
                total = total.merge(cls(*part, kind))
            check_finite_result((total.mean, total.m2), X)
            return total.shifted(ref)
        rows = chunk_rows or default_chunk_rows(X.shape[1])
        total = cls.empty(X.shape[1], kind, (n_groups,))
        for start in range(0, X.shape[0], rows):
            stop = start + rows
            part = chunk_group_moments(
                X[start:stop],
                codes[start:stop],
                None if w is None else w[start:stop],
                n_groups,
                kind,
                ref,
            )
            total = total.merge(cls(*part, kind))
        check_finite_result((total.mean, total.m2), X)
        return total.shifted(ref)

    @classmethod
    def stack(cls, items: Iterable[GaussianStats]) -> GaussianStats:
        """Stack single-group statistics into a batch of shape ``(len(items),)``.

        Examples
        --------
        >>> a = GaussianStats.from_data([[1.0], [3.0]])
        >>> GaussianStats.stack([a, a]).count.tolist()
        [2.0, 2.0]
        """
        items = list(items)
        if not items:
            raise ValueError("stack needs at least one GaussianStats")
        kinds = {s.kind for s in items}
        if len(kinds) != 1:
            raise ValueError(f"cannot stack statistics of different kinds {sorted(kinds)}")
        counts = [s.feature_count for s in items]
        return cls(
            np.stack([s.count for s in items]),
            np.stack([s.mean for s in items]),
            np.stack([s.m2 for s in items]),
            items[0].kind,
            None if all(c is None for c in counts) else np.stack([s.n_per_feature for s in items]),
            np.stack([s.lo for s in items]),
        )

    # ------------------------------------------------------------------ properties
    @property
    def n_features(self) -> int:
        """Number of features ``d``."""
        return int(self.mean.shape[-1])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of groups (``()`` for one group)."""
        return tuple(self.count.shape)

    def __len__(self) -> int:
        if not self.batch_shape:
            raise TypeError("statistics of a single group have no len()")
        return self.batch_shape[0]

    def __getitem__(self, index: Any) -> GaussianStats:
        """Select groups of a batch, e.g. ``stats[2]`` for the third class."""
        if not self.batch_shape:
            raise TypeError("statistics of a single group cannot be indexed")
        fc = None if self.feature_count is None else self.feature_count[index]
        lo = None if self.mean_lo is None else self.mean_lo[index]
        return GaussianStats(self.count[index], self.mean[index], self.m2[index], self.kind, fc, lo)

    @property
    def variance(self) -> np.ndarray:
        """Per-feature MLE variance ``m2 / count`` (divisor N), shape batch + (d,).

        Groups with count 0 give variance 0.
        """
        if self.kind == "diag":
            return self.m2 / safe(self.n_per_feature)
        return np.diagonal(self.m2, axis1=-2, axis2=-1) / safe(self.count)[..., None]

    @property
    def n_per_feature(self) -> np.ndarray:
        """Sum of weights behind each feature's statistics, shape batch + (d,)."""
        if self.feature_count is not None:
            return self.feature_count
        return np.broadcast_to(self.count[..., None], self.mean.shape)

    @property
    def covariance(self) -> np.ndarray:
        """MLE covariance ``m2 / count``: (d,) per group for diag, (d, d) for full."""
        if self.kind == "diag":
            return self.variance
        return self.m2 / safe(self.count)[..., None, None]

    def to_diag(self) -> GaussianStats:
        """The same statistics keeping only the per-feature second moments.

        Examples
        --------
        >>> s = GaussianStats.from_data([[0.0, 1.0], [2.0, 5.0]], kind="full")
        >>> s.to_diag().m2.tolist()
        [2.0, 8.0]
        """
        if self.kind == "diag":
            return self
        m2 = np.diagonal(self.m2, axis1=-2, axis2=-1)
        return GaussianStats(self.count, self.mean, m2, "diag", None, self.mean_lo)

    # ------------------------------------------------------------------ merging
    def merge(self, other: GaussianStats) -> GaussianStats:
        """Statistics of the union of both data sets (weighted Chan et al. update).

        With ``n = na + nb`` and ``delta = mean_b - mean_a``:
        ``mean = mean_a + delta * nb / n`` and
        ``m2 = m2_a + m2_b + delta**2 * na * nb / n`` (outer product for full).
        Merging with empty statistics returns the other operand exactly.

        Examples
        --------
        >>> a = GaussianStats.from_data([[0.0], [2.0]])
        >>> b = GaussianStats.from_data([[4.0]])
        >>> a.merge(b).mean.tolist()
        [2.0]
        """
        if not isinstance(other, GaussianStats):
            raise TypeError(f"can only merge GaussianStats, not {type(other).__name__}")
        if other.kind != self.kind:
            raise ValueError(
                f"cannot merge {self.kind!r} statistics with {other.kind!r} statistics; "
                "convert with to_diag() first"
            )
        if other.n_features != self.n_features or other.batch_shape != self.batch_shape:
            raise ValueError(
                f"cannot merge statistics of shape {self.batch_shape}x{self.n_features} "
                f"with {other.batch_shape}x{other.n_features}; the features must match"
            )
        if self.feature_count is not None or other.feature_count is not None:
            fc, mean, lo, m2 = merge_elementwise(
                self.n_per_feature, self.mean, self.lo, self.m2,
                other.n_per_feature, other.mean, other.lo, other.m2,
            )  # fmt: skip
            return GaussianStats(self.count + other.count, mean, m2, self.kind, fc, lo)
        count, mean, lo, m2 = merge_moments(
            self.count, self.mean, self.lo, self.m2,
            other.count, other.mean, other.lo, other.m2, self.kind,
        )  # fmt: skip
        return GaussianStats(count, mean, m2, self.kind, None, lo)

    __add__ = merge

    def pooled(self) -> GaussianStats:
        """Merge all groups of a batch into one (the statistics of all the data).

        Uses the exact multi-way form: the mean is the weighted mean of group
        means; ``m2`` adds each group's ``count * (mean_g - mean)**2`` to the
        sum of the group ``m2``.

        Examples
        --------
        >>> s = GaussianStats.from_groups([[0.0], [2.0], [10.0]], [0, 0, 1], 2)
        >>> p = s.pooled()
        >>> float(p.count), p.mean.tolist(), p.m2.tolist()
        (3.0, [4.0], [56.0])
        """
        if not self.batch_shape:
            return self
        d = self.n_features
        weight = self.n_per_feature.reshape(-1, d)  # per feature: counts may differ
        mean = self.mean.reshape(weight.shape)
        lo = self.lo.reshape(weight.shape)
        m2 = self.m2.reshape(weight.shape[:1] + self.m2.shape[len(self.batch_shape) :])
        if float(self.count.sum()) == 0:
            return GaussianStats.empty(d, self.kind)
        # means relative to the best-supported group's, in double-double: exact far out
        base = np.argmax(weight, axis=0)
        cols = np.arange(d)
        rel = (mean - mean[base, cols]) + (lo - lo[base, cols])
        total_f = weight.sum(axis=0)
        centre_rel = (weight * rel).sum(axis=0) / safe(total_f)
        dev = rel - centre_rel
        if self.kind == "diag":
            between = (weight * dev * dev).sum(axis=0)
        else:
            between = (dev * weight[:, :1]).T @ dev
        centre, err = two_sum(mean[base, cols], centre_rel)
        centre, err = two_sum(centre, lo[base, cols] + err)
        fc = total_f if self.feature_count is not None else None
        return GaussianStats(
            np.float64(self.count.sum()),
            centre,
            m2.sum(axis=0) + between,
            self.kind,
            fc,
            err,
        )

    def shifted(self, offset: np.ndarray) -> GaussianStats:
        """The same statistics with ``offset`` added to the mean of every non-empty group.

        The sum is kept exactly (double-double), so statistics computed on data
        shifted towards the origin come back without losing digits.

        Examples
        --------
        >>> s = GaussianStats.from_data([[0.5], [1.5]]).shifted(np.array([1e9]))
        >>> s.mean.tolist(), s.m2.tolist()
        ([1000000001.0], [0.5])
        """
        seen = self.n_per_feature > 0 if self.kind == "diag" else (self.count > 0)[..., None]
        total, err = two_sum(np.broadcast_to(offset, self.mean.shape), self.mean)
        total, err = two_sum(total, self.lo + err)
        mean = np.where(seen, total, self.mean)
        lo = np.where(seen, err, self.lo)
        return GaussianStats(self.count, mean, self.m2, self.kind, self.feature_count, lo)

    def regroup(self, where: Any, n_groups: int) -> GaussianStats:
        """This batch's groups placed at positions ``where`` among ``n_groups`` groups.

        The other groups are empty. Every field (per-feature counts, the
        low-order part of the means) travels along.

        Examples
        --------
        >>> s = GaussianStats.from_groups([[0.0], [2.0]], [0, 1], 2)
        >>> s.regroup([2, 0], 3).count.tolist()
        [1.0, 0.0, 1.0]
        """
        where = np.asarray(where)
        k, d = int(n_groups), self.n_features

        def place(values: np.ndarray, tail: tuple[int, ...]) -> np.ndarray:
            out = np.zeros((k,) + tail)
            out[where] = values
            return out

        fc = None if self.feature_count is None else place(self.feature_count, (d,))
        lo = None if self.mean_lo is None else place(self.mean_lo, (d,))
        return GaussianStats(
            place(self.count, ()),
            place(self.mean, (d,)),
            place(self.m2, self.m2.shape[1:]),
            self.kind,
            fc,
            lo,
        )

    def allclose(self, other: GaussianStats, rtol: float = 1e-10, atol: float = 0.0) -> bool:
        """True when both hold the same statistics within tolerance (for tests)."""
        return (
            self.kind == other.kind
            and self.batch_shape == other.batch_shape
            and np.allclose(self.count, other.count, rtol=rtol, atol=atol)
            and np.allclose(self.mean, other.mean, rtol=rtol, atol=atol)
            and np.allclose(self.m2, other.m2, rtol=rtol, atol=atol)
            and np.allclose(self.n_per_feature, other.n_per_feature, rtol=rtol, atol=atol)
        )

    def __repr__(self) -> str:
        shape = f"batch={self.batch_shape}, " if self.batch_shape else ""
        count = self.count.tolist()
        return f"GaussianStats({shape}kind={self.kind!r}, d={self.n_features}, count={count})"


def _check_missing(missing: str, kind: str) -> bool:
    """True when NaN means "missing" (available-case statistics)."""
    check_choice(missing, ("error", "ignore"), name="missing")
    if missing == "ignore" and kind != "diag":
        raise ValueError(
            "missing values can only be skipped for diag statistics (per feature); for a "
            "full covariance drop the incomplete rows first"
        )
    return missing == "ignore"


def _stats_with_missing(
    X: np.ndarray,
    codes: np.ndarray,
    w: np.ndarray | None,
    n_groups: int,
    ref: np.ndarray,
    chunk_rows: int | None,
) -> GaussianStats:
    """Available-case diag statistics per group: NaN entries carry zero weight."""
    if np.isinf(X).any():
        i, j = np.argwhere(np.isinf(X))[0]
        raise ValueError(f"X contains infinity (inf) at row {i}, column {j}; remove it first")
    ref = fill_reference_gaps(X, ref)  # a reference row may itself have gaps
    d = X.shape[1]
    rows = chunk_rows or default_chunk_rows(d)
    empty = GaussianStats.empty(d, "diag", (n_groups,))
    total = GaussianStats(empty.count, empty.mean, empty.m2, "diag", np.zeros((n_groups, d)))
    for start in range(0, X.shape[0], rows):
        g = codes[start : start + rows]
        wb = np.ones(g.shape[0]) if w is None else w[start : start + rows]
        parts = missing_chunk_moments(X[start : start + rows], g, wb, n_groups, ref)
        total = total.merge(GaussianStats(*parts[:3], "diag", parts[3]))
    return total.shifted(ref)
