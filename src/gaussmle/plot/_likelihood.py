"""Figures of the fit itself: log-likelihood profiles and normal Q-Q plots.

:func:`plot_loglik_profile` draws the log-likelihood of 1-D data against the mean and the
variance with the MLE at the maximum (``_grid_through`` makes grids through it);
:func:`plot_qq` draws a normal Q-Q plot per class and feature, at most ``MAX_QQ_AXES``.
"""

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
    _fitted,
    _labels_array,
    _matrix,
    _variances,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..classifier import GaussianClassifier

#: Most axes :func:`plot_qq` draws in one figure.
MAX_QQ_AXES = 64


def _grid_through(lo: float, hi: float, points: int, best: float) -> np.ndarray:
    """An even grid on [lo, hi] that passes exactly through ``best``.

    Grid points within a quarter step of ``best`` are dropped, so that no
    neighbour one rounding error away can tie with it at the maximum.
    """
    grid = np.linspace(lo, hi, points)
    step = (hi - lo) / (points - 1)
    return np.union1d(grid[np.abs(grid - best) > 0.25 * step], [best])


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
    from ..estimate import fit
    from ..gaussian import Gaussian

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

    from .._labels import encode_labels
    from ..classifier import GaussianClassifier

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
