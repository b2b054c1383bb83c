"""Figures of the data alone: labelled points by class, and the new points to classify."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import (
    EDGE,
    _class_colors,
    _feature_names,
    _figure,
    _finish,
    _labels_array,
    _matrix,
    _pair,
    _scatter_classes,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def plot_labelled(
    X: Any,
    y: Any,
    feature_names: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    colors: Any = None,
    *,
    features: Sequence[int] = (0, 1),
) -> Figure:
    """Scatter plot of labelled data, one colour per class.

    Parameters
    ----------
    X : array-like or DataFrame, shape (n, d), d >= 2
    y : array-like, shape (n,)
        Class labels; a label that names a colour (``"purple"``) is drawn in it.
    feature_names : sequence of str, optional
        Axis labels; by default the DataFrame columns or ``"feature j"``.
    path : path-like, optional
        Also write the figure as a PNG there.
    colors : dict or sequence, optional
        Colour per class label (dict) or per class in sorted order (sequence).
    features : (int, int), default (0, 1)
        The two columns to plot.

    Returns
    -------
    matplotlib.figure.Figure
        One axes.

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_labelled(np.eye(2), ["a", "b"])
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['a (n=1)', 'b (n=1)']
    """
    X, columns = _matrix(X, "X")
    labels = _labels_array(y, X.shape[0])
    i, j = _pair(features, X.shape[1])
    names = _feature_names(feature_names, columns, d=X.shape[1])
    classes = list(np.unique(labels))
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    _scatter_classes(ax, X, labels, classes, _class_colors(classes, colors), i, j)
    ax.set_xlabel(names[i])
    ax.set_ylabel(names[j])
    ax.set_title(f"Labelled data: {X.shape[0]} points in {len(classes)} classes")
    ax.legend(title="class", loc="best")
    ax.grid(True, alpha=0.3)
    return _finish(fig, path)


def plot_unlabelled(
    X_new: Any,
    feature_names: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    features: Sequence[int] = (0, 1),
) -> Figure:
    """Scatter plot of new, unlabelled points (grey, marked "?").

    Examples
    --------
    >>> import numpy as np
    >>> fig = plot_unlabelled(np.array([[0.0, 1.0], [1.0, 0.5]]), ["lift", "elegance"])
    >>> fig.axes[0].get_ylabel()
    'elegance'
    """
    X_new, columns = _matrix(X_new, "X_new")
    i, j = _pair(features, X_new.shape[1])
    names = _feature_names(feature_names, columns, d=X_new.shape[1])
    fig = _figure(6.0, 5.0)
    ax = fig.add_subplot()
    ax.scatter(
        X_new[:, i],
        X_new[:, j],
        s=110,
        color="0.55",
        marker="$?$",
        linewidths=0.3,
        edgecolors=EDGE,
        label=f"unlabelled (n={X_new.shape[0]})",
    )
    ax.set_xlabel(names[i])
    ax.set_ylabel(names[j])
    ax.set_title(f"New data: {X_new.shape[0]} points of unknown class")
    ax.legend(loc="best")
    ax.grid(True, alpha=0.3)
    return _finish(fig, path)
