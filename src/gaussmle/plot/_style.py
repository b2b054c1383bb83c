"""Shared helpers of the figures: styling, figure files, argument checks and class marginals.

``_figure`` makes a pyplot-free figure and ``_finish`` writes it as a PNG (atomically);
the colour helpers give each class its colour (its label, when that names a colour) and
``EDGE`` the dark marker edge; the argument helpers check data, labels, feature names
and feature pairs; ``_fitted``, ``_marginal`` and ``_variances`` read a fitted classifier.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import as_float_array
from ..covariance import structure_for

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..classifier import GaussianClassifier

#: Edge colour of every marker: keeps yellow points visible on white.
EDGE = "0.15"


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    """Write the figure as PNG (atomically) when a path is given; return it."""
    if path is not None:
        from ..persist import atomic_write

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

    from ..classifier import GaussianClassifier

    if not isinstance(model, GaussianClassifier):
        raise TypeError(f"model must be a fitted GaussianClassifier, not {type(model).__name__}")
    check_is_fitted(model, "class_stats_")
    return model


def _marginal(model: GaussianClassifier, c: int, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (2,) and covariance (2, 2) of class ``c`` on features ``i`` and ``j``."""
    mean = model.means_[c, [i, j]]
    structure = structure_for(model.covariance_type)
    component = structure.component(model.covariances_, c)
    return mean, structure.single_marginal(component, [i, j])


def _variances(model: GaussianClassifier) -> np.ndarray:
    """Per-class, per-feature variances (k, d) of any covariance type."""
    cov, k, d = model.covariances_, len(model.classes_), model.n_features_in_
    variances = structure_for(model.covariance_type).variances(np.asarray(cov))  # (k|1, d|1)
    return np.broadcast_to(variances, (k, d)).copy()
