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
* :func:`plot_qq`: normal Q-Q plots per class and feature;
* :func:`plot_components`: BIC and ICL of mixtures against the number of
  components (from :func:`gaussmle.select_components`).

A class whose label is a colour name (``"purple"``, ``"yellow"``) is drawn in
that colour; other classes use matplotlib's default palette. Markers have a
dark edge so that light colours stay visible on white.

matplotlib is imported inside the functions, so ``import gaussmle`` does not pay
for it. The package's modules: ``_data`` (the data figures), ``_models`` (density
contours and decision regions), ``_likelihood`` (log-likelihood profiles and Q-Q
plots) and ``_style`` (styling, figure files and argument helpers shared by all).

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

from ._data import plot_labelled, plot_unlabelled
from ._likelihood import MAX_QQ_AXES as MAX_QQ_AXES
from ._likelihood import plot_loglik_profile, plot_qq
from ._models import plot_class_densities, plot_decision
from ._selection import plot_components
from ._style import EDGE as EDGE
from ._style import _marginal as _marginal

__all__ = [
    "plot_class_densities",
    "plot_components",
    "plot_decision",
    "plot_labelled",
    "plot_loglik_profile",
    "plot_qq",
    "plot_unlabelled",
]
