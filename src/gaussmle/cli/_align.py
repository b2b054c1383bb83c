"""Labels read from a file, aligned with the type of a model's classes."""

from __future__ import annotations

import numpy as np


def align_labels(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Labels read from a file, converted to the type of the model's classes where possible.

    CSV readers turn the label ``1`` into an integer; a model trained with
    text labels ``"1"`` should still recognise it.

    Examples
    --------
    >>> align_labels(np.array([1, 2]), np.array(["1", "2"])).tolist()
    ['1', '2']
    >>> align_labels(np.array([1.0, 2.0]), np.array([1, 2])).dtype.kind
    'i'
    >>> align_labels(np.array(["1", "maybe"]), np.array([1, 2])).tolist()
    [1, 'maybe']
    """
    y = np.asarray(y)
    kind = classes.dtype.kind
    if kind in "UO" and y.dtype.kind in "iub":
        return y.astype(str)
    if kind in "iu" and y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        return y.astype(np.int64)
    if kind == "f" and y.dtype.kind in "iu":
        return y.astype(np.float64)
    if kind in "iuf" and y.dtype.kind in "UO":
        from ..io import label_values

        values = label_values(y)
        if values.dtype.kind in "iuf":
            return align_labels(values, classes)
        # some labels are numbers and some text (an unseen label): convert those that are
        distinct, where = np.unique(y.astype(str), return_inverse=True)
        each = [label_values(np.array([v])) for v in distinct.tolist()]
        mixed = np.empty(len(distinct), dtype=object)
        mixed[:] = [v[0].item() if v.dtype.kind in "iuf" else str(v[0]) for v in each]
        return mixed[where.ravel()]
    return y
