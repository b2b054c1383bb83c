"""Figures of a fitted classifier: class density contours and decision regions.

:func:`plot_class_densities` draws each class's Gaussian as contours at ``_SIGMAS``
standard deviations over the labelled data; :func:`plot_decision` colours new points by
predicted class over the decision regions and boundary.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import (
    EDGE,
    _class_colors,
    _feature_names,
    _figure,
    _finish,
    _fitted,
    _labels_array,
    _limits,
    _line_color,
    _marginal,
    _matrix,
    _pair,
    _scatter_classes,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..classifier import GaussianClassifier

_SIGMAS = (1, 2, 3)


def plot_class_densities(
    model: GaussianClassifier,
    X: Any,
    y: Any = None,
    features: Sequence[int] = (0, 1),
    path: str | os.PathLike[str] | None = None,
    *,
    feature_names: Sequence[str] | None = None,
    colors: Any = None,
    resolution: int = 200,
) -> Figure:
    """Each class's fitted Gaussian as filled density contours over the data.

    The contours are drawn at 1, 2 and 3 standard deviations (Mahalanobis
    distance) of each class's 2-D marginal on ``features``: the means
    ``model.means_[:, features]`` and the 2 x 2 block of each covariance
    (``covariances_`` of shape (k, d, d) full, (d, d) tied, (k, d) diag,
    (k,) spherical). With more than two features this is the marginal
    density, the other features integrated out.

    Parameters
    ----------
    model : GaussianClassifier
        Fitted.
    X : array-like, shape (n, d)
        Data to show under the contours.
    y : array-like, shape (n,), optional
        Its labels; without them the points are grey.
    features : (int, int), default (0, 1)
    path : path-like, optional
        Also write the figure as a PNG there.

    Returns
    -------
    matplotlib.figure.Figure
        One axes.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmle import GaussianClassifier
    >>> X = np.array([[0.0, 0.2], [0.4, 0.0], [0.1, 0.5], [3.0, 3.1], [3.5, 2.8], [2.9, 3.6]])
    >>> y = ["purple"] * 3 + ["yellow"] * 3
    >>> fig = plot_class_densities(GaussianClassifier().fit(X, y), X, y)
    >>> fig.axes[0].get_title()
    "Class models fitted by maximum likelihood (covariance_type='diag')"
    """
    model = _fitted(model)
    X, columns = _matrix(X, "X")
    d = model.n_features_in_
    if X.shape[1] != d:
        raise ValueError(f"X has {X.shape[1]} features, but the model has {d}")
    i, j = _pair(features, d)
    model_names = getattr(model, "feature_names_in_", None)
    names = _feature_names(feature_names, columns, model_names, d=d)
    classes = list(model.classes_)
    palette = _class_colors(classes, colors)
    fig = _figure(6.5, 5.5)
    ax = fig.add_subplot()
    if y is None:
        ax.scatter(
            X[:, i],
            X[:, j],
            s=20,
            color="0.6",
            edgecolors=EDGE,
            linewidths=0.4,
            label=f"data (n={X.shape[0]})",
        )
    else:
        labels = _labels_array(y, X.shape[0])
        _scatter_classes(ax, X, labels, classes, palette, i, j, size=18, alpha=0.7)

    seen = model.class_count_ > 0
    marginals = [_marginal(model, c, i, j) for c in range(len(classes))]
    means = np.array([mean for mean, _ in marginals])
    # show the data and each seen class out to a little beyond its 3-sd contour
    reach = np.concatenate(
        [
            [mean - 3.2 * np.sqrt(np.diag(cov)), mean + 3.2 * np.sqrt(np.diag(cov))]
            for (mean, cov), ok in zip(marginals, seen, strict=True)
            if ok
        ]
    )
    x_lo, x_hi = _limits(X[:, i], reach[:, 0], pad=0.03)
    y_lo, y_hi = _limits(X[:, j], reach[:, 1], pad=0.03)
    gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, resolution), np.linspace(y_lo, y_hi, resolution))
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)

    from matplotlib import colors as mcolors
    from matplotlib.lines import Line2D

    for c, color in enumerate(palette):
        if not seen[c]:
            continue
        mean, cov = marginals[c]
        factor = np.linalg.cholesky(cov)
        z = np.linalg.solve(factor, (points - mean).T)
        maha = np.einsum("ij,ij->j", z, z).reshape(gx.shape)
        # density is monotone in the Mahalanobis distance: contour the distance itself
        levels = [0.0] + [float(s) ** 2 for s in _SIGMAS]
        rgb = mcolors.to_rgb(color)
        fills = [(*rgb, a) for a in (0.40, 0.25, 0.12)]
        ax.contourf(gx, gy, maha, levels=levels, colors=fills)
        ax.contour(gx, gy, maha, levels=levels[1:], colors=[_line_color(color)], linewidths=1.0)
    ax.scatter(
        means[seen, 0],
        means[seen, 1],
        marker="X",
        s=90,
        color="white",
        edgecolors="black",
        linewidths=1.2,
        label="class means",
        zorder=5,
    )
    handles, texts = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.3", linewidth=1.0))
    texts.append("density contours: 1, 2, 3 sd")
    ax.legend(handles, texts, loc="best", fontsize="small")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel(names[i])
    ax.set_ylabel(names[j])
    title = f"Class models fitted by maximum likelihood (covariance_type={model.covariance_type!r})"
    if d > 2:
        title += f"\n2-D marginal densities of {names[i]!r} and {names[j]!r}"
    ax.set_title(title, fontsize="medium")
    ax.grid(True, alpha=0.3)
    return _finish(fig, path)


def plot_decision(
    model: GaussianClassifier,
    X_new: Any,
    features: Sequence[int] = (0, 1),
    X: Any = None,
    y: Any = None,
    path: str | os.PathLike[str] | None = None,
    *,
    feature_names: Sequence[str] | None = None,
    colors: Any = None,
    resolution: int = 200,
) -> Figure:
    """New points coloured by predicted class, over the decision regions and boundary.

    The regions are the model's predictions on a grid over ``features``. With
    two features that is the whole model; with more, the other features are
    fixed at their overall mean (the mean of all training data), and the
    title says so.

    Parameters
    ----------
    model : GaussianClassifier
        Fitted.
    X_new : array-like, shape (m, d)
        Points to classify and show.
    features : (int, int), default (0, 1)
    X, y : array-like, optional
        Training data, drawn faintly for context.
    path : path-like, optional
        Also write the figure as a PNG there.

    Returns
    -------
    matplotlib.figure.Figure
        One axes.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmle import GaussianClassifier
    >>> X = np.array([[0.0, 0.2], [0.4, 0.0], [0.1, 0.5], [3.0, 3.1], [3.5, 2.8], [2.9, 3.6]])
    >>> clf = GaussianClassifier().fit(X, ["purple"] * 3 + ["yellow"] * 3)
    >>> fig = plot_decision(clf, np.array([[0.5, 0.5], [2.5, 3.0]]))
    >>> sorted(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    ['decision boundary', 'predicted purple (n=1)', 'predicted yellow (n=1)']
    """
    model = _fitted(model)
    X_in = X_new
    X_new, columns = _matrix(X_new, "X_new")
    d = model.n_features_in_
    if X_new.shape[1] != d:
        raise ValueError(f"X_new has {X_new.shape[1]} features, but the model has {d}")
    i, j = _pair(features, d)
    model_names = getattr(model, "feature_names_in_", None)
    names = _feature_names(feature_names, columns, model_names, d=d)
    classes = list(model.classes_)
    palette = _class_colors(classes, colors)
    X_train = None
    if X is not None:
        X_train, _ = _matrix(X, "X")
        if X_train.shape[1] != d:
            raise ValueError(f"X has {X_train.shape[1]} features, but the model has {d}")

    x_lo, x_hi = _limits(X_new[:, i], None if X_train is None else X_train[:, i])
    y_lo, y_hi = _limits(X_new[:, j], None if X_train is None else X_train[:, j])
    gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, resolution), np.linspace(y_lo, y_hi, resolution))
    grid = np.tile(model.class_stats_.pooled().mean, (gx.size, 1))
    grid[:, i] = gx.ravel()
    grid[:, j] = gy.ravel()
    with warnings.catch_warnings():
        # the grid is a plain array even when the model was fitted on a DataFrame
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        joint = model.predict_joint_log_proba(grid)
        predicted = np.asarray(model.predict(X_in))
    seen = model.class_count_ > 0
    joint[:, ~seen] = -np.inf
    region = joint.argmax(axis=1).reshape(gx.shape)

    from matplotlib import colors as mcolors
    from matplotlib.lines import Line2D

    rgba = np.array([mcolors.to_rgba(c, alpha=0.22) for c in palette])
    ax_fig = _figure(6.5, 5.5)
    ax = ax_fig.add_subplot()
    ax.imshow(
        rgba[region],
        origin="lower",
        extent=(x_lo, x_hi, y_lo, y_hi),
        aspect="auto",
        interpolation="nearest",
    )
    boundary = False
    if seen.sum() >= 2:
        for c in np.flatnonzero(seen):
            others = np.delete(joint, c, axis=1).max(axis=1)
            margin = (joint[:, c] - others).reshape(gx.shape)
            if margin.min() < 0 < margin.max():
                ax.contour(gx, gy, margin, levels=[0.0], colors="black", linewidths=1.5)
                boundary = True
    if X_train is not None and y is not None:
        labels = _labels_array(y, X_train.shape[0])
        _scatter_classes(
            ax, X_train, labels, classes, palette, i, j, prefix="training: ", size=10, alpha=0.35
        )
    elif X_train is not None:
        ax.scatter(
            X_train[:, i],
            X_train[:, j],
            s=10,
            color="0.6",
            alpha=0.4,
            label=f"training data (n={X_train.shape[0]})",
        )
    _scatter_classes(
        ax, X_new, predicted, classes, palette, i, j, prefix="predicted ", size=55, alpha=1.0
    )
    handles, texts = ax.get_legend_handles_labels()
    if boundary:
        handles.append(Line2D([], [], color="black", linewidth=1.5))
        texts.append("decision boundary")
    ax.legend(handles, texts, loc="best", fontsize="small")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel(names[i])
    ax.set_ylabel(names[j])
    title = f"Predicted classes and decision regions (covariance_type={model.covariance_type!r})"
    if d > 2:
        title += "\nother features fixed at their overall mean"
    ax.set_title(title, fontsize="medium")
    return _finish(ax_fig, path)
