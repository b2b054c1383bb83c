"""Streaming work behind the commands: statistics per class, plain statistics, evaluation.

Data are read in row batches (:func:`gaussmle.io.iter_xy`); each batch is
turned into sufficient statistics and merged exactly, so memory is bounded
by the batch size, whatever the size of the input.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..io import DataError, label_values
from ..labelled import LabelledStats, stats_of_batches
from ..stats import GaussianStats
from ._app import Progress, align_labels


@dataclass
class ReadSummary:
    """What a streaming pass read (``incomplete``: rows kept with a missing value)."""

    rows: int = 0
    dropped: int = 0
    seconds: float = 0.0
    incomplete: int = 0


def stream_class_stats(
    data: str,
    features: list[str],
    target: str,
    kind: str,
    *,
    batch_rows: int,
    drop_missing: bool,
    progress: bool,
    keep_missing: bool = False,
    na_values: tuple[str, ...] = (),
) -> tuple[np.ndarray, GaussianStats, ReadSummary]:
    """Per-class statistics of labelled data, in one streaming pass (:class:`LabelledStats`).

    With ``keep_missing`` missing feature values are kept as NaN and the
    statistics are available-case (``kind="diag"`` only: a ``"full"``
    pass stops with a :class:`~gaussmle.io.DataError` at the first gap).
    """
    from ..io import iter_xy

    start = time.perf_counter()
    summary = ReadSummary()
    batches = iter_xy(
        data,
        features,
        target,
        batch_rows=batch_rows,
        drop_missing=drop_missing,
        missing="keep" if keep_missing else "error",
        na_values=na_values,
    )

    untyped = [False]  # CSV text labels: numbers only if every label is one

    def counted() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        with Progress("fitting", progress) as bar:
            for batch in batches:
                if keep_missing:
                    gaps = np.isnan(batch.X)
                    if gaps.any():
                        if kind == "full":
                            raise _incomplete_full(data, features, batch.rows, gaps)
                        summary.incomplete += int(gaps.any(axis=1).sum())
                untyped[0] = untyped[0] or batch.y_untyped
                yield batch.X, batch.y
                summary.rows += batch.n_rows
                summary.dropped += batch.n_dropped
                bar.update(batch.fraction_done, summary.rows + summary.dropped)

    total = stats_of_batches(counted(), kind=kind, missing=keep_missing)
    if total is not None and untyped[0]:
        total = total.relabelled(label_values(np.asarray(total.classes, dtype=object)))
    summary.seconds = time.perf_counter() - start
    if total is None:
        total = LabelledStats.empty(len(features), kind)
    return total.classes, total.stats, summary


def _incomplete_full(
    data: str, features: list[str], rows: np.ndarray, gaps: np.ndarray
) -> DataError:
    i, j = (int(v) for v in np.argwhere(gaps)[0])
    where = "standard input" if data == "-" else f"'{data}'"
    return DataError(
        f"column '{features[j]}' has a missing value at row {int(rows[i]) + 1} (1-based data "
        f"row) of {where}, and a full or tied covariance cannot be fitted to incomplete rows "
        "(available-case statistics are per feature); use --covariance diag or spherical, or "
        "fit on complete rows (without --missing marginalize, with --drop-missing)"
    )


def stream_stats(
    data: str,
    features: list[str] | None,
    kind: str,
    *,
    batch_rows: int,
    drop_missing: bool,
    progress: bool,
) -> tuple[GaussianStats | None, ReadSummary]:
    """Statistics of all rows of unlabelled data (one group), in one streaming pass."""
    from ..io import iter_xy

    start = time.perf_counter()
    total: GaussianStats | None = None
    summary = ReadSummary()
    with Progress("estimating", progress) as bar:
        for batch in iter_xy(
            data, features, None, batch_rows=batch_rows, drop_missing=drop_missing
        ):
            if batch.n_rows:
                part = GaussianStats.from_data(batch.X, kind=kind)
                total = part if total is None else total.merge(part)
            summary.rows += batch.n_rows
            summary.dropped += batch.n_dropped
            bar.update(batch.fraction_done, summary.rows + summary.dropped)
    summary.seconds = time.perf_counter() - start
    return total, summary


#: Classes (with unseen labels) up to which the confusion matrix is dense in --json
#: and printed as text; beyond, --json holds it as sparse (true, predicted, count) entries.
DENSE_CONFUSION_CLASSES = 50


@dataclass
class Evaluation:
    """Accuracy, log loss and confusion counts, accumulated batch by batch.

    Labels the model has never seen count as errors, and their probability
    is taken as 0 (clipped, as scikit-learn's ``log_loss`` does, at the
    machine epsilon). The confusion counts are kept sparse (only the pairs
    that occur), so memory grows with the pairs seen, not with classes^2.

    Examples
    --------
    >>> ev = Evaluation(np.array(["a", "b"]))
    >>> ev.add(np.array(["a", "b", "c"]), np.array(["a", "a", "b"]),
    ...        np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]))
    >>> ev.n, ev.correct, ev.labels
    (3, 1, ['a', 'b', 'c'])
    >>> ev.to_dict()["confusion_matrix"]["entries"]
    [[0, 0, 1], [1, 0, 1], [2, 1, 1]]
    """

    classes: np.ndarray
    n: int = 0
    correct: int = 0
    loss_sum: float = 0.0
    extra: list[Any] = field(default_factory=list)
    pairs: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def labels(self) -> list[Any]:
        """Row labels of the confusion matrix: the model's classes, then unseen labels."""
        return [_plain(c) for c in self.classes] + list(self.extra)

    def add(self, y: np.ndarray, predicted: np.ndarray, proba: np.ndarray) -> None:
        """Add a batch of true labels, predicted labels and class probabilities."""
        if len(y) == 0:
            return
        k = len(self.classes)
        y = align_labels(np.asarray(y), self.classes)
        true_idx = self._true_index(y)
        pred_idx = np.searchsorted(self.classes, predicted)
        rows = true_idx.shape[0]
        width = k + 1
        pair_codes, counts = np.unique(
            true_idx.astype(np.int64) * width + pred_idx, return_counts=True
        )
        for code, count in zip(pair_codes.tolist(), counts.tolist(), strict=True):
            key = (code // width, code % width)
            self.pairs[key] = self.pairs.get(key, 0) + count
        known = true_idx < k
        p_true = np.zeros(rows)
        p_true[known] = proba[np.arange(rows)[known], true_idx[known]]
        eps = np.finfo(np.float64).eps
        self.loss_sum += float(-np.log(np.clip(p_true, eps, 1.0)).sum())
        self.correct += int(np.sum(known & (true_idx == pred_idx)))
        self.n += rows

    def add_counts(self, y: Any, predicted: np.ndarray, neg_log: np.ndarray) -> None:
        """Add rows summarised per distinct true label (:class:`gaussmle.spark.LabelCounts`).

        ``predicted[i, j]`` rows of label ``y[i]`` were predicted as class j, and
        ``neg_log[i, j]`` is the sum over them of ``-log(clip(p_j, eps, 1))``. Labels
        the model has never seen join the confusion matrix in the order of ``y``.

        Examples
        --------
        >>> ev = Evaluation(np.array(["a", "b"]))
        >>> counts, neg_log = np.array([[1, 2], [0, 1]]), np.array([[3.0, 0.5], [1.0, 2.0]])
        >>> ev.add_counts(["b", "c"], counts, neg_log)
        >>> ev.n, ev.correct, ev.labels, round(ev.loss_sum, 4)
        (4, 2, ['a', 'b', 'c'], 36.5437)
        """
        predicted = np.asarray(predicted, dtype=np.int64)
        if predicted.size == 0:
            return
        k = len(self.classes)
        true_idx = self._true_index(align_labels(np.asarray(y), self.classes))
        unseen_loss = -float(np.log(np.finfo(np.float64).eps))
        for i, t in enumerate(true_idx.tolist()):
            for j in np.flatnonzero(predicted[i]).tolist():
                self.pairs[(t, j)] = self.pairs.get((t, j), 0) + int(predicted[i, j])
            rows = int(predicted[i].sum())
            known = t < k
            self.loss_sum += float(neg_log[i, t]) if known else rows * unseen_loss
            self.correct += int(predicted[i, t]) if known else 0
            self.n += rows

    def _true_index(self, y: np.ndarray) -> np.ndarray:
        k = len(self.classes)
        try:
            idx = np.searchsorted(self.classes, y)
        except TypeError:
            idx = np.full(len(y), k)
        idx = np.clip(idx, 0, max(k - 1, 0))
        try:
            known = np.asarray(self.classes[idx] == y, dtype=bool)
        except (TypeError, ValueError):
            known = np.zeros(len(y), dtype=bool)
        if known.all():
            return idx
        out = idx.astype(np.intp, copy=True)
        index = {_plain(c): i for i, c in enumerate(self.classes)}
        index.update({label: k + i for i, label in enumerate(self.extra)})
        for i in np.flatnonzero(~known):
            label = _plain(y[i])
            if label not in index:
                index[label] = k + len(self.extra)
                self.extra.append(label)
            out[i] = index[label]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The results as plain data.

        The confusion matrix is dense (``counts``) up to DENSE_CONFUSION_CLASSES
        labels; it always has the sparse ``entries``: [true, predicted, count]
        index triples into ``true_labels`` and ``predicted_labels``.
        """
        if self.n == 0:
            raise DataError("there are no rows to evaluate; check the data")
        k = len(self.classes)
        labels = self.labels
        rows = np.zeros(len(labels), dtype=np.int64)
        predicted = np.zeros(len(labels), dtype=np.int64)
        correct = np.zeros(len(labels), dtype=np.int64)
        entries = sorted([i, j, c] for (i, j), c in self.pairs.items())
        for i, j, count in entries:
            rows[i] += count
            predicted[j] += count
            if i == j:
                correct[i] += count
        per_class = [
            {
                "class": label,
                "rows": int(rows[i]),
                "correct": int(correct[i]),
                "recall": int(correct[i]) / int(rows[i]) if rows[i] else None,
                "precision": int(correct[i]) / int(predicted[i])
                if i < k and predicted[i]
                else None,
                "in_model": i < k,
            }
            for i, label in enumerate(labels)
        ]
        matrix: dict[str, Any] = {
            "true_labels": labels,
            "predicted_labels": [_plain(c) for c in self.classes],
            "entries": entries,
        }
        if len(labels) <= DENSE_CONFUSION_CLASSES:
            dense = np.zeros((len(labels), k), dtype=np.int64)
            for i, j, count in entries:
                dense[i, j] = count
            matrix["counts"] = dense.tolist()
        return {
            "rows": self.n,
            "correct": self.correct,
            "accuracy": self.correct / self.n,
            "log_loss": self.loss_sum / self.n,
            "classes": [_plain(c) for c in self.classes],
            "unseen_labels": list(self.extra),
            "confusion_matrix": matrix,
            "per_class": per_class,
        }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
