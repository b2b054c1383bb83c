"""Labelled statistics: sorted class labels with one :class:`GaussianStats` group each.

:class:`LabelledStats` is the one place where per-class statistics are
aligned under a union of labels and merged: the classifier's ``merge``, the
Dask tree reduction and the streaming fit of the command line all use it.
Every merge goes through :meth:`GaussianStats.merge`, the exact pairwise
update, so any split of the data into batches gives the same statistics.

Examples
--------
>>> a = LabelledStats.from_batch(np.array([[0.0], [1.0]]), np.array(["b", "a"]))
>>> b = LabelledStats.from_batch(np.array([[3.0], [5.0]]), np.array(["b", "c"]))
>>> both = a.merge(b)
>>> both.classes.tolist(), both.stats.count.tolist(), both.stats.mean.ravel().tolist()
(['a', 'b', 'c'], [1.0, 2.0, 1.0], [1.0, 1.5, 5.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np

from ._labels import labels_and_codes
from ._spread import batch_spread, check_spread, merge_batch_spreads, spread_of_batches
from .stats import GaussianStats


def _type_group(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | float | np.integer | np.floating):
        return "number"
    return "text"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _kinds(classes: np.ndarray) -> set[str]:
    """The kinds of label (bool, number, text) among ``classes``."""
    if classes.dtype.kind == "b":
        return {"bool"}
    if classes.dtype.kind in "iuf":
        return {"number"}
    if classes.dtype.kind in "US":
        return {"text"}
    return {_type_group(v) for v in classes}


def union_classes(*classes: np.ndarray) -> np.ndarray:
    """The sorted union of label arrays; a ValueError if they cannot be sorted together.

    Examples
    --------
    >>> union_classes(np.array([3, 1]), np.array([2, 3])).tolist()
    [1, 2, 3]
    """
    if len(classes) > 1 and all(np.array_equal(c, classes[0]) for c in classes[1:]):
        return classes[0]
    try:
        return reduce(np.union1d, classes)
    except TypeError as exc:
        raise ValueError(
            "y holds labels that cannot be sorted together (mixed types such as numbers "
            "and strings); use one type of label"
        ) from exc


def positions(classes: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Where each of the sorted ``classes`` sits in the sorted ``target`` (a superset).

    Examples
    --------
    >>> positions(np.array(["b", "d"]), np.array(["a", "b", "c", "d"])).tolist()
    [1, 3]
    """
    return np.searchsorted(target, classes)


@dataclass(frozen=True)
class LabelledStats:
    """Sorted class labels and their statistics (a batch of shape ``(k,)``).

    Parameters
    ----------
    classes : ndarray (k,)
        Sorted, distinct labels.
    stats : GaussianStats
        One group per label, in the order of ``classes``.
    """

    classes: np.ndarray
    stats: GaussianStats

    def __post_init__(self) -> None:
        if self.stats.batch_shape != (len(self.classes),):
            raise ValueError(
                f"{len(self.classes)} classes need statistics of batch shape "
                f"({len(self.classes)},); got {self.stats.batch_shape}"
            )

    @classmethod
    def empty(cls, n_features: int, kind: str = "diag") -> LabelledStats:
        """No classes yet: the identity of :meth:`merge`."""
        return cls(np.array([]), GaussianStats.empty(n_features, kind, (0,)))

    @classmethod
    def from_batch(
        cls,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        kind: str = "diag",
        missing: bool = False,
    ) -> LabelledStats:
        """Statistics of one batch of rows per label found in it.

        With ``missing`` a NaN in ``X`` marks a missing value (available-case
        statistics per feature, ``kind="diag"`` only).

        Examples
        --------
        >>> s = LabelledStats.from_batch([[0.0], [2.0], [7.0]], ["x", "x", "y"])
        >>> s.classes.tolist(), s.stats.mean.ravel().tolist()
        (['x', 'y'], [1.0, 7.0])
        """
        X = np.asarray(X)
        y = np.asarray(y).reshape(-1)
        try:
            classes, codes = labels_and_codes(y)
        except TypeError as exc:
            raise ValueError(
                "y holds labels that cannot be sorted together (missing values or mixed "
                "types such as numbers and strings); use one type of label"
            ) from exc
        skip = "ignore" if missing and np.isnan(X).any() else "error"
        stats = GaussianStats.from_groups(
            X, codes, len(classes), sample_weight, kind=kind, missing=skip
        )
        return cls(classes, stats)

    def align(self, target: np.ndarray) -> LabelledStats:
        """The same statistics under the sorted labels ``target`` (a superset; others empty).

        Examples
        --------
        >>> s = LabelledStats.from_batch([[1.0]], ["b"]).align(np.array(["a", "b"]))
        >>> s.stats.count.tolist()
        [0.0, 1.0]
        """
        if len(target) == len(self.classes) and np.array_equal(target, self.classes):
            return self
        where = positions(self.classes, target)
        return LabelledStats(np.asarray(target), self.stats.regroup(where, len(target)))

    def merge(self, other: LabelledStats) -> LabelledStats:
        """Both sets of statistics under the union of their labels, merged exactly.

        Labels of different kinds (numbers or booleans in one, text in the
        other, as a reader that typed two batches differently gives) are
        compared as text.
        """
        if len(other.classes) == 0:
            return self
        if len(self.classes) == 0:
            return other
        mine, theirs = self, other
        if len(_kinds(mine.classes) | _kinds(theirs.classes)) > 1:
            mine, theirs = mine.as_text(), theirs.as_text()
        target = union_classes(mine.classes, theirs.classes)
        return LabelledStats(target, mine.align(target).stats.merge(theirs.align(target).stats))

    def as_text(self) -> LabelledStats:
        """The labels as text (``str`` of each); labels with the same text are merged.

        Examples
        --------
        >>> s = LabelledStats.from_batch([[1.0], [3.0]], [1, 2]).as_text()
        >>> s.classes.tolist()
        ['1', '2']
        """
        return self.relabelled(np.array([str(_plain(v)) for v in self.classes], dtype=str))

    def relabelled(self, labels: Any) -> LabelledStats:
        """New labels, one per class in order; classes given equal labels are merged.

        Examples
        --------
        >>> s = LabelledStats.from_batch([[1.0], [3.0], [5.0]], ["1", "01", "2"])
        >>> t = s.relabelled([1, 1, 2])
        >>> t.classes.tolist(), t.stats.count.tolist(), t.stats.mean.ravel().tolist()
        ([1, 2], [2.0, 1.0], [2.0, 5.0])
        """
        labels = np.asarray(labels)
        unique, where = np.unique(labels, return_inverse=True)
        if len(unique) == len(labels):
            return LabelledStats(unique, self.stats[np.argsort(labels, kind="stable")])
        out = GaussianStats.empty(self.stats.n_features, self.stats.kind, (len(unique),))
        for i in range(len(labels)):
            out = out.merge(self.stats[i : i + 1].regroup([where[i]], len(unique)))
        return LabelledStats(unique, out)


def stats_of_batches(
    batches: Any, *, kind: str = "diag", missing: bool = False
) -> LabelledStats | None:
    """:class:`LabelledStats` of an iterable of ``(X, y)`` or ``(X, y, sample_weight)``.

    One pass; classes are discovered as they come. None when there is no
    row. A feature whose values differ but whose variance over all batches
    is too small for float64 squares is refused (a ValueError).

    Examples
    --------
    >>> parts = [([[0.0], [1.0]], ["a", "b"]), ([[2.0]], ["a"], [3.0])]
    >>> s = stats_of_batches(parts)
    >>> s.classes.tolist(), s.stats.count.tolist(), s.stats.mean.ravel().tolist()
    (['a', 'b'], [4.0, 1.0], [1.5, 1.0])
    """
    total: LabelledStats | None = None
    spreads = None
    for batch in batches:
        X, y, *rest = batch
        if len(y) == 0:
            continue
        part = LabelledStats.from_batch(X, y, rest[0] if rest else None, kind=kind, missing=missing)
        pooled = part.stats.to_diag().pooled()
        found = batch_spread(np.asarray(X), pooled.mean, pooled.variance)
        spreads = merge_batch_spreads(spreads, found)
        total = part if total is None else total.merge(part)
    if total is not None:  # judged on all batches: a feature may vary only between them
        check_spread(spread_of_batches(spreads), total.stats.to_diag().pooled().variance)
    return total
