"""The criteria of :func:`gaussmle.select_components` against the number of components."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ._style import EDGE, _figure, _finish

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..mixture_selection import ComponentSelection

#: Line style of each criterion (colour: the covariance type).
_STYLES = {"bic": ("BIC", "-", "o"), "icl": ("ICL", "--", "s")}


def plot_components(
    result: ComponentSelection,
    ax: Axes | None = None,
    path: str | os.PathLike[str] | None = None,
) -> Axes:
    """BIC and ICL against the number of components, one colour per covariance type.

    Both criteria are lower-is-better (scikit-learn's sign; mclust plots their
    negatives). The chosen fit is ringed, and a vertical line marks its k.

    Parameters
    ----------
    result : ComponentSelection
        From :func:`gaussmle.select_components`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when ``None``.
    path : path-like, optional
        Also write the figure as a PNG there.

    Returns
    -------
    matplotlib.axes.Axes
        The lines have gids ``"bic-<type>"`` and ``"icl-<type>"``; the chosen
        point ``"chosen"``.

    Examples
    --------
    >>> from gaussmle.mixture_selection import ComponentSelection
    >>> rows = [{"n_components": k, "covariance_type": "full", "bic": b, "icl": b + e,
    ...          "n_parameters": 5 * k, "error": None}
    ...         for k, b, e in [(1, 9.0, 0.0), (2, 7.0, 1.0)]]
    >>> r = ComponentSelection(rows, "bic", 2, "full", None, "lowest BIC")
    >>> ax = plot_components(r)
    >>> sorted(line.get_gid() for line in ax.get_lines() if line.get_gid())
    ['bic-full', 'chosen', 'icl-full']
    """
    fig = None
    if ax is None:
        fig = _figure(8.5, 4.5)
        ax = fig.subplots()
    types = list(dict.fromkeys(row["covariance_type"] for row in result.rows))
    for index, kind in enumerate(types):
        ok = [r for r in result.rows if r["covariance_type"] == kind and r["error"] is None]
        ks = [r["n_components"] for r in ok]
        for key, (name, style, marker) in _STYLES.items():
            ax.plot(
                ks,
                [r[key] for r in ok],
                linestyle=style,
                marker=marker,
                color=f"C{index}",
                markeredgecolor=EDGE,
                label=f"{name}, {kind}",
                gid=f"{key}-{kind}",
            )
    if result.best_n_components is not None:
        best = result.row(result.best_n_components, result.best_covariance_type)
        ax.axvline(best["n_components"], color="0.5", linestyle=":", linewidth=1.2)
        ax.plot(
            [best["n_components"]],
            [best[result.criterion]],
            "o",
            markersize=14,
            markerfacecolor="none",
            markeredgecolor="C3",
            markeredgewidth=2.0,
            label=f"chosen: k = {best['n_components']} ({result.criterion.upper()})",
            gid="chosen",
        )
    ax.set_xlabel("number of components k")
    ax.set_ylabel("criterion (lower is better)")
    ax.set_title("How many components: BIC and ICL against k", fontsize="medium")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.grid(True, alpha=0.3)
    if fig is not None:
        _finish(fig, path)
    elif path is not None:
        _finish(ax.figure, path)
    return ax
