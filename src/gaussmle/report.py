"""One self-contained HTML page per model: summary, tests and pictures, for screens and paper.

The page has inline CSS, every picture embedded as a PNG data URI (made by
:mod:`gaussmle.plot`), no JavaScript and no link to anything outside it, so
it opens offline, can be mailed as one file, reads on a phone (viewport meta
and a fluid layout; wide tables scroll sideways) and prints cleanly
(``@media print``). With data it shows the class densities, the decision
regions, normal Q-Q plots and, for a model of one or two features, the
log-likelihood curves of each class and feature.

Examples
--------
>>> import numpy as np
>>> from gaussmle import GaussianClassifier
>>> X = np.array([[0.0, 0.2], [0.4, 0.0], [0.1, 0.5], [3.0, 3.1], [3.5, 2.8], [2.9, 3.6]])
>>> page = build_report(GaussianClassifier().fit(X, [0, 0, 0, 1, 1, 1]))
>>> page.startswith("<!DOCTYPE html>"), "<script" in page, "http://" in page
(True, False, False)
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .gaussian import Gaussian
from .mixture import GaussianMixture
from .summary import for_plain_arrays, summarize

__all__ = ["Picture", "build_report", "pictures", "write_report"]

#: At most this many classes get log-likelihood curves (each class and feature is one figure).
MAX_PROFILE_CLASSES = 4

_CSS = """
:root { color-scheme: light; --ink: #1d1f24; --soft: #5b606b; --rule: #d9dce3; --band: #f4f5f8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 64rem; padding: 1rem; color: var(--ink);
       font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 0.25rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 0.5rem; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.05rem; margin: 1.25rem 0 0.4rem; }
p { margin: 0.3rem 0; }
.gm-meta, .gm-note { color: var(--soft); font-size: 0.9rem; }
.gm-scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid var(--rule); white-space: nowrap; }
th { text-align: left; background: var(--band); }
td.gm-right, th.gm-right { text-align: right; }
figure { margin: 1rem 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--soft); font-size: 0.9rem; margin-top: 0.3rem; }
@media (max-width: 40rem) {
  body { padding: 0.6rem; font-size: 15px; }
  table { font-size: 0.8rem; }
  th, td { padding: 0.15rem 0.4rem; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .gm-scroll { overflow: visible; }
  table { font-size: 8pt; }
  th, td { white-space: normal; }
  h2, h3 { break-after: avoid; }
  figure, section.gm-table { break-inside: avoid; }
  figure img { border: none; max-height: 24cm; }
}
"""


@dataclass(frozen=True)
class Picture:
    """One embedded figure: a caption and its PNG bytes."""

    caption: str
    png: bytes

    def html(self) -> str:
        """An ``<figure>`` with the PNG as a data URI and the caption as alt text."""
        width, height = _png_size(self.png)
        data = base64.b64encode(self.png).decode("ascii")
        alt = html.escape(self.caption, quote=True)
        return (
            f'<figure><img src="data:image/png;base64,{data}" width="{width}" '
            f'height="{height}" alt="{alt}"><figcaption>{html.escape(self.caption)}'
            "</figcaption></figure>"
        )


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _png(figure: Any, dpi: int = 96) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _draw(caption: str, make: Callable[[], Any]) -> Picture:
    return Picture(caption, _png(make()))


def pictures(model: Any, X: Any = None, y: Any = None) -> list[Picture]:
    """The report's pictures of a fitted model and its data (none without data).

    A classifier with two or more features: class densities over the data and
    decision regions (features 0 and 1); every model: normal Q-Q plots; one
    or two features: the log-likelihood curves of each class and feature.

    Examples
    --------
    >>> import gaussmle
    >>> X = np.array([[0.0, 1.0], [1.0, 3.0], [3.0, 2.0], [4.0, 0.0]])
    >>> [p.caption for p in pictures(gaussmle.fit(X), X)][:2]
    ['Normal Q-Q plots of each feature', 'Log-likelihood of x0 (all rows) around the MLE']
    """
    if X is None:
        return []
    from .plot import plot_class_densities, plot_decision, plot_loglik_profile, plot_qq

    X = np.asarray(X, dtype=np.float64)
    X = X[~np.isnan(X).any(axis=1)] if np.isnan(X).any() else X
    d = X.shape[1]
    if isinstance(model, GaussianMixture):
        return _mixture_pictures(model, X)
    if isinstance(model, Gaussian):
        groups = [("all rows", X)]
        out = [
            _draw("Normal Q-Q plots of each feature", lambda: plot_qq(None, X, ["all"] * len(X)))
        ]
    else:
        y = np.asarray(y)
        groups = [(str(c), X[y == c]) for c in model.classes_ if np.sum(y == c) > 1]
        out = []
        if d >= 2:
            out.append(
                _draw(
                    "Class densities (1, 2, 3 sd) over the data",
                    lambda: plot_class_densities(model, X, y),
                )
            )
            out.append(
                _draw(
                    "Decision regions and each row's predicted class",
                    lambda: plot_decision(model, X, X=X, y=y),
                )
            )
        out.append(_draw("Normal Q-Q plots per class and feature", lambda: plot_qq(model, X, y)))
    if d <= 2:
        names = _names(model, d)
        for label, part in groups[:MAX_PROFILE_CLASSES]:
            for j in range(d):
                caption = f"Log-likelihood of {names[j]} ({label}) around the MLE"
                out.append(
                    _draw(
                        caption,
                        lambda p=part, j=j, n=names[j]: plot_loglik_profile(p[:, j], name=n),
                    )
                )
    return out


def _mixture_pictures(model: GaussianMixture, X: np.ndarray) -> list[Picture]:
    """A mixture's picture: the rows (features 0 and 1) coloured by their likeliest component."""
    if X.shape[1] < 2:
        return []
    from .plot import plot_labelled

    components = np.array([f"component {c}" for c in for_plain_arrays(model, X).predict(X)])
    names = _names(model, X.shape[1])
    return [
        _draw(
            "The rows coloured by their most probable component",
            lambda: plot_labelled(X, components, names),
        )
    ]


def _names(model: Any, d: int) -> list[str]:
    saved = getattr(model, "feature_names_in_", None)
    return [f"x{j}" for j in range(d)] if saved is None else [str(n) for n in saved]


def build_report(model: Any, X: Any = None, y: Any = None, *, title: str | None = None) -> str:
    """The HTML page of a fitted model (and its data, for the pictures and normality tests).

    Parameters
    ----------
    model : GaussianClassifier, Gaussian or GaussianMixture
    X, y : array-like, optional
        Data (labelled, for a classifier); for a mixture the summary's
        log-likelihood is then computed on X, and the picture shows its rows
        coloured by their most probable component.
    title : str, optional
        The page's heading (default: the model's class name).

    Returns
    -------
    str
        A complete HTML document.

    Examples
    --------
    >>> import gaussmle
    >>> X = np.array([[0.0], [1.0], [3.0], [4.0]])
    >>> page = build_report(gaussmle.fit(X), X, title="four rows")
    >>> page.count("<img"), "<h1>four rows</h1>" in page
    (2, True)
    """
    summary = summarize(model, X, y, name=title)
    heading = html.escape(title or type(model).__name__)
    figures = pictures(model, X, y)
    body = [summary.as_html(heading=1)]
    body.append("<h2>Pictures</h2>")
    if figures:
        body += [p.html() for p in figures]
    else:
        body.append('<p class="gm-note">Give the data to see the class densities, the decision '
                    "regions, Q-Q plots and log-likelihood curves.</p>")  # fmt: skip
    from . import __version__

    body.append(f'<p class="gm-meta">Made by gaussmle {html.escape(__version__)}.</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{heading}: gaussmle report</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def write_report(
    path: str | os.PathLike[str], model: Any, X: Any = None, y: Any = None, **options: Any
) -> None:
    """Write :func:`build_report` to ``path`` atomically (temporary file, then rename).

    Examples
    --------
    >>> import os, tempfile
    >>> import gaussmle
    >>> path = os.path.join(tempfile.mkdtemp(), "g.html")
    >>> write_report(path, gaussmle.fit([[0.0], [1.0], [3.0]]))
    >>> open(path, encoding="utf-8").read(15)
    '<!DOCTYPE html>'
    """
    from .io import atomic_write_text

    atomic_write_text(path, build_report(model, X, y, **options))
