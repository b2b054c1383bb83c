"""Figures that explain a Gaussian classifier: data, class models, decisions, likelihood.

Every function builds a :class:`matplotlib.figure.Figure` directly (no
pyplot, no global state, works without a display), returns it, and writes a
PNG when ``path`` is given. Each axes gets axis labels, a title and a legend.

The figures follow the worked example of the project (two colours of
skittles rated on "aromatic lift" and "elegance"):

* :func:`plot_labelled`: the labelled data, coloured by class;
* :func:`plot_unlabelled`: the new points to classify;
* :func:`plot_class_densities`: each class's Gaussian as density contours;
* :func:`plot_decision`: the new points coloured by predicted class, over
  the decision regions and boundary;
* :func:`plot_loglik_profile`: the log-likelihood of 1-D data against the
  mean and against the variance, with the MLE at the maximum;
* :func:`plot_qq`: normal Q-Q plots per class and feature.

A class whose label is a colour name (``"purple"``, ``"yellow"``) is drawn in
that colour; other classes use matplotlib's default palette. Markers have a
dark edge so that light colours stay visible on white.

Examples
--------
>>> import numpy as np
>>> X = np.array([[-1.0, -1.2], [-0.8, -1.0], [1.0, 1.1], [0.9, 1.3]])
>>> fig = plot_labelled(X, ["purple", "purple", "yellow", "yellow"],
...                     feature_names=["aromatic lift", "elegance"])
>>> fig.axes[0].get_xlabel(), fig.axes[0].get_legend() is not None
('aromatic lift', True)
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import as_float_array

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .classifier import GaussianClassifier

__all__ = [
    "plot_class_densities",
    "plot_decision",
    "plot_labelled",
    "plot_loglik_profile",
    "plot_qq",
    "plot_unlabelled",
]

#: Edge colour of every marker: keeps yellow points visible on white.
EDGE = "0.15"
#: Most axes :func:`plot_qq` draws in one figure.
MAX_QQ_AXES = 64
_SIGMAS = (1, 2, 3)


# ---------------------------------------------------------------------- helpers
def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    """Write the figure as PNG (atomically) when a path is given; return it."""
    if path is not None:
        from .persist import atomic_write

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        atomic_write(path, buffer.getvalue(), what="the figure", error=OSError)
    return fig


def _matrix(X: Any, name: str) -> tuple[np.ndarray, list[str] | None]:
    """X as a 2-D float array, and its column names when it is a DataFrame."""
    columns = getattr(X, "columns", None)
    names = [str(c) for c in columns] if columns is not None else None
    return as_float_array(X, name=name), names


def _feature_names(
    given: Sequence[str] | None, *candidates: Sequence[str] | None, d: int
) -> list[str]:
    for names in (given, *candidates):
        if names is not None:
            names = [str(n) for n in names]
            if len(names) != d:
                raise ValueError(
                    f"feature_names has {len(names)} names but the data has {d} features; "
                    "pass one name per column"
                )
            return names
    return [f"feature {j}" for j in range(d)]


def _pair(features: Sequence[int], d: int) -> tuple[int, int]:
    if d < 2:
        raise ValueError(
            "this figure needs at least 2 features; for one feature use plot_loglik_profile "
            "or plot_qq"
        )
    try:
        i, j = (int(f) for f in features)
    except (TypeError, ValueError):
        raise ValueError(f"features must be two column indices, got {features!r}") from None
    if not (0 <= i < d and 0 <= j < d) or i == j:
        raise ValueError(
            f"features must be two different column indices in [0, {d}), got {features!r}"
        )
    return i, j


def _labels_array(y: Any, n: int) -> np.ndarray:
    labels = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"y must hold one label per row of X ({n}), got shape {labels.shape}")
    return labels


def _class_colors(classes: Sequence[Any], colors: Any = None) -> list[Any]:
    """A colour per class: the user's, the label itself when it names a colour, or C0, C1..."""
    from matplotlib import colors as mcolors

    out = []
    for index, label in enumerate(classes):
        if isinstance(colors, Mapping) and label in colors:
            out.append(colors[label])
        elif colors is not None and not isinstance(colors, (Mapping, str)):
            out.append(list(colors)[index % len(colors)])
        elif isinstance(label, str) and label.lower() in mcolors.CSS4_COLORS:
            out.append(label.lower())
        else:
            out.append(f"C{index % 10}")
    return out


def _line_color(color: Any) -> tuple[float, float, float]:
    """The colour for lines: light colours (yellow) are darkened to stay visible."""
    from matplotlib import colors as mcolors

    r, g, b = mcolors.to_rgb(color)
    luminance = 0.299 * r + 0.587 * g + 0.114 * b
    factor = 0.6 if luminance > 0.6 else 1.0
    return (r * factor, g * factor, b * factor)


def _limits(*arrays: np.ndarray, pad: float = 0.08) -> tuple[float, float]:
    values = np.concatenate([np.ravel(a) for a in arrays if a is not None and a.size])
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo if hi > lo else max(1.0, abs(lo))
    return lo - pad * span, hi + pad * span


def _scatter_classes(
    ax: Axes,
    X: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[Any],
    colors: Sequence[Any],
    i: int,
    j: int,
    *,
    prefix: str = "",
    size: float = 28.0,
    alpha: float = 0.85,
    marker: str = "o",
) -> None:
    for label, color in zip(classes, colors, strict=True):
        rows = labels == label
        if not rows.any():
            continue
        ax.scatter(
            X[rows, i],
            X[rows, j],
            s=size,
            color=color,
            edgecolors=EDGE,
            linewidths=0.6,
            alpha=alpha,
            marker=marker,
            label=f"{prefix}{label} (n={int(rows.sum())})",
        )


def _fitted(model: Any) -> GaussianClassifier:
    from sklearn.utils.validation import check_is_fitted

    from .classifier import GaussianClassifier

    if not isinstance(model, GaussianClassifier):
        raise TypeError(f"model must be a fitted GaussianClassifier, not {type(model).__name__}")
    check_is_fitted(model, "class_stats_")
    return model


def _marginal(model: GaussianClassifier, c: int, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (2,) and covariance (2, 2) of class ``c`` on features ``i`` and ``j``."""
    mean = model.means_[c, [i, j]]
    cov = model.covariances_
    kind = model.covariance_type
    if kind == "full":
        block = cov[c][np.ix_([i, j], [i, j])]
    elif kind == "tied":
        block = cov[np.ix_([i, j], [i, j])]
    elif kind == "diag":
        block = np.diag(cov[c, [i, j]])
    else:  # spherical
        block = float(cov[c]) * np.eye(2)
    return mean, block


def _variances(model: GaussianClassifier) -> np.ndarray:
    """Per-class, per-feature variances (k, d) of any covariance type."""
    cov, k, d = model.covariances_, len(model.classes_), model.n_features_in_
    kind = model.covariance_type
    if kind == "full":
        return np.diagonal(cov, axis1=1, axis2=2).copy()
    if kind == "tied":
        return np.broadcast_to(np.diagonal(cov), (k, d)).copy()
    if kind == "diag":
        return cov.copy()
    return np.repeat(cov[:, None], d, axis=1)


# ---------------------------------------------------------------------- data
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


# ---------------------------------------------------------------------- models
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


def _grid_through(lo: float, hi: float, points: int, best: float) -> np.ndarray:
    """An even grid on [lo, hi] that passes exactly through ``best``.

    Grid points within a quarter step of ``best`` are dropped, so that no
    neighbour one rounding error away can tie with it at the maximum.
    """
    grid = np.linspace(lo, hi, points)
    step = (hi - lo) / (points - 1)
    return np.union1d(grid[np.abs(grid - best) > 0.25 * step], [best])


# ---------------------------------------------------------------------- likelihood
def plot_loglik_profile(
    x: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    name: str = "x",
    n_points: int = 201,
) -> Figure:
    """The log-likelihood of 1-D data against the mean and against the variance.

    Left: ``LL(mu, s2_hat)`` over ``mu`` (the variance held at its MLE);
    right: ``LL(mu_hat, s2)`` over ``s2`` (the mean held at its MLE). The
    MLE from :func:`gaussmle.fit` (``mu_hat`` = the sample mean, ``s2_hat``
    = the mean squared deviation, divisor N) is marked with a vertical line
    at the maximum of each curve. The curves are computed with
    :meth:`Gaussian.loglik`; the MLE is always one of the grid points.

    Parameters
    ----------
    x : array-like, shape (n,) or (n, 1)
        One feature; needs some spread.
    path : path-like, optional
        Also write the figure as a PNG there.
    name : str, default "x"
        Name of the variable, for the title.
    n_points : int, default 201
        Grid points per curve.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes. Each curve has gid ``"loglik"``, each MLE line gid ``"mle"``.

    Examples
    --------
    >>> fig = plot_loglik_profile([1.0, 2.0, 4.0, 5.0])
    >>> [line.get_xdata()[0] for ax in fig.axes for line in ax.get_lines()
    ...  if line.get_gid() == "mle"]
    [3.0, 2.5]
    """
    from .estimate import fit
    from .gaussian import Gaussian

    values = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"x must be one feature, shape (n,) or (n, 1); got shape {values.shape}")
    data = values.reshape(-1, 1)
    mle = fit(data)
    n = data.shape[0]
    mu_hat = float(mle.mean[0])
    s2_hat = float(mle.covariance[0])
    points = max(int(n_points), 11)

    se = float(np.sqrt(s2_hat / n))
    mus = _grid_through(mu_hat - 4.0 * se, mu_hat + 4.0 * se, points, mu_hat)
    rel = 4.0 * float(np.sqrt(2.0 / n))
    s2s = _grid_through(s2_hat * max(0.2, 1.0 - rel), s2_hat * (1.0 + rel), points, s2_hat)
    ll_mu = np.array([Gaussian([m], [s2_hat], "diag", n=n).loglik(data) for m in mus])
    ll_s2 = np.array([Gaussian([mu_hat], [s], "diag", n=n).loglik(data) for s in s2s])

    fig = _figure(11.0, 4.5)
    left, right = fig.subplots(1, 2)
    panels = [
        (left, mus, ll_mu, mu_hat, "μ", "μ̂", "μ (mean)", "σ²", f"μ̂ = x̄ = {mu_hat:.6g}"),
        (
            right,
            s2s,
            ll_s2,
            s2_hat,
            "σ²",
            "σ̂²",
            "σ² (variance)",
            "μ",
            f"σ̂² = (1/N) Σ (x − x̄)² = {s2_hat:.6g}",
        ),
    ]
    for ax, grid, ll, best, symbol, hat, xlabel, fixed, text in panels:
        ax.plot(grid, ll, color="C0", linewidth=2.0, label="log-likelihood", gid="loglik")
        top = float(ll[np.searchsorted(grid, best)])
        ax.axvline(best, color="C3", linestyle="--", linewidth=1.5, label=f"MLE {hat}", gid="mle")
        ax.plot([best], [top], "o", color="C3", markeredgecolor=EDGE)
        ax.annotate(
            f"maximum at {text}",
            xy=(best, top),
            xytext=(0.5, 0.12),
            textcoords="axes fraction",
            ha="center",
            fontsize="small",
            arrowprops={"arrowstyle": "->", "color": "0.3"},
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.7"},
        )
        ax.set_xlabel(xlabel)
        ax.set_ylabel("log-likelihood")
        ax.set_title(f"LL as a function of {symbol} ({fixed} at its MLE)", fontsize="medium")
        ax.legend(loc="best", fontsize="small")
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"Gaussian log-likelihood of {name} (N = {n}) near its maximum")
    return _finish(fig, path)


def plot_qq(
    model: GaussianClassifier | None,
    X: Any,
    y: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    feature_names: Sequence[str] | None = None,
    features: Sequence[int] | None = None,
) -> Figure:
    """Normal Q-Q plots of each class and feature, standardised by the class model.

    Each panel plots the sorted ``(x - mu_c) / sigma_c`` of one class and
    feature against standard normal quantiles (plotting positions
    ``(i - 0.5) / n``); points on the line ``y = x`` mean the Gaussian
    model fits. Rows are classes, columns are features.

    Parameters
    ----------
    model : GaussianClassifier or None
        Fitted model whose means and variances standardise the data; None
        fits a ``"diag"`` GaussianClassifier to ``X, y``.
    X : array-like, shape (n, d)
    y : array-like, shape (n,)
    features : sequence of int, optional
        Columns to show (default all, at most 64 panels in total).
    path : path-like, optional
        Also write the figure as a PNG there.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per (class, feature).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 2))
    >>> fig = plot_qq(None, X, ["a", "b"] * 20)
    >>> len(fig.axes), fig.axes[0].get_title()
    (4, 'a: feature 0')
    """
    from scipy import stats as sps

    from .classifier import GaussianClassifier, encode_labels

    X_arr, columns = _matrix(X, "X")
    labels = _labels_array(y, X_arr.shape[0])
    if model is None:
        model = GaussianClassifier().fit(X_arr, labels)
    model = _fitted(model)
    d = model.n_features_in_
    if X_arr.shape[1] != d:
        raise ValueError(f"X has {X_arr.shape[1]} features, but the model has {d}")
    cols = list(range(d)) if features is None else [int(f) for f in features]
    if not cols or any(not 0 <= f < d for f in cols):
        raise ValueError(f"features must be column indices in [0, {d}), got {features!r}")
    names = _feature_names(feature_names, columns, getattr(model, "feature_names_in_", None), d=d)
    codes = encode_labels(labels, model.classes_)
    present = [c for c in range(len(model.classes_)) if (codes == c).sum() > 0]
    if len(present) * len(cols) > MAX_QQ_AXES:
        raise ValueError(
            f"{len(present)} classes x {len(cols)} features would need "
            f"{len(present) * len(cols)} panels (at most {MAX_QQ_AXES}); pass features= to "
            "choose a few columns"
        )
    palette = _class_colors(list(model.classes_))
    variances = _variances(model)
    fig = _figure(2.8 * len(cols) + 0.5, 2.6 * len(present) + 0.5)
    axes = np.atleast_2d(fig.subplots(len(present), len(cols), squeeze=False))
    for row, c in enumerate(present):
        for col, f in enumerate(cols):
            ax = axes[row, col]
            z = np.sort((X_arr[codes == c, f] - model.means_[c, f]) / np.sqrt(variances[c, f]))
            q = sps.norm.ppf((np.arange(1, z.size + 1) - 0.5) / z.size)
            ax.scatter(
                q,
                z,
                s=12,
                color=palette[c],
                edgecolors=EDGE,
                linewidths=0.4,
                label=f"data (n={z.size})",
            )
            lim = float(max(np.abs(q).max(initial=1.0), np.abs(z).max(initial=1.0))) * 1.05
            ax.plot([-lim, lim], [-lim, lim], color="0.3", linewidth=1.0, label="y = x (Gaussian)")
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_xlabel("normal quantile", fontsize="small")
            ax.set_ylabel("standardised value", fontsize="small")
            ax.set_title(f"{model.classes_[c]}: {names[f]}", fontsize="medium")
            ax.legend(loc="upper left", fontsize="x-small")
            ax.grid(True, alpha=0.3)
    fig.suptitle("Normal Q-Q plots per class and feature")
    return _finish(fig, path)
