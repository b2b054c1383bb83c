"""Versioned JSON model files: save, load and validate, never pickle.

A model file is one JSON object, readable by people and by programs in any
language::

    {
      "format": "gaussmle-model",
      "format_version": 1,
      "gaussmle_version": "0.1.0",
      "model": "GaussianClassifier",
      "hyperparameters": {"covariance_type": "diag", "priors": null, "var_smoothing": 1e-09},
      "n_features": 2,
      "feature_names": ["aromatic lift", "elegance"],
      "classes": ["purple", "yellow"],
      "class_dtype": "str",
      "statistics": {"kind": "diag", "per_class": [
          {"class": "purple", "count": 100.0, "mean": [...], "m2": [...]}, ...]},
      "parameters": {"class_prior": [...], "means": [...], "covariances": [...],
                     "epsilon": ...}
    }

``statistics`` holds the per-class sufficient statistics (sum of weights,
mean, and the sums of squared deviations ``m2``: per feature for kind
``"diag"``, the scatter matrix for kind ``"full"``), and where needed
``feature_count`` (per-feature weights, for data with missing values) and
``mean_lo`` (the low-order part of each mean, which keeps later merges exact
far from the origin; readers may ignore it). They are the model: a
loaded classifier is rebuilt from them with
:meth:`GaussianClassifier.from_stats`, so it predicts bit for bit what the
saved one did and can go on learning with ``partial_fit`` or be merged with
a model trained elsewhere. ``parameters`` repeats the derived quantities
(class priors, means, covariances in scikit-learn's shapes, the variance
floor ``epsilon``) for readers that do not want to derive them; on loading
they must agree with the statistics.

Floats are written with Python's shortest round-trip representation, so
every number reads back exactly. NaN and infinity are never written.
Loading checks the whole file and refuses anything else with a
:class:`ModelFileError` of one sentence. Files are written to a temporary
file in the same folder, flushed to disk and renamed over the target, so a
crash never leaves a half-written model behind.

A plain :class:`~gaussmle.Gaussian` (from :func:`gaussmle.fit`) is saved as
``"model": "Gaussian"`` with its mean, covariance and sample size, and
optionally ``"feature_names"`` (pass ``feature_names=`` to :func:`save`) and
``"estimator"`` (``"mle"`` or ``"map"``; pass ``estimator=``). A Gaussian
loaded from such a file carries them as the attributes ``feature_names_in_``
(an array of str, as a classifier has) and ``estimator``, and saving it again
keeps them.

The package's modules: ``_format`` (the format's constants and
:class:`ModelFileError`), ``_api`` (the public functions), ``_write`` (models to
documents and text, and :func:`atomic_write`), ``_read`` (parsing and validating
documents) and ``_checks`` (the small JSON validators that reading uses).

Examples
--------
>>> import numpy as np
>>> from gaussmle import GaussianClassifier
>>> clf = GaussianClassifier().fit([[0.0], [1.0], [5.0], [7.0]], ["a", "a", "b", "b"])
>>> text = dumps(clf)
>>> again = loads(text)
>>> again.classes_.tolist(), again.means_.ravel().tolist()
(['a', 'b'], [0.5, 6.0])
>>> bool(np.array_equal(again.predict_proba([[3.0]]), clf.predict_proba([[3.0]])))
True
"""

from __future__ import annotations

# The tests patch os.replace, os.fsync and json.dumps through these names
# (gaussmle.persist.os, gaussmle.persist.json), as when this package was one module.
import json  # noqa: F401
import os  # noqa: F401

from ._api import dumps, from_dict, load, loads, save, to_dict
from ._format import FORMAT, FORMAT_VERSION, ModelFileError
from ._read import MAX_MODEL_BYTES
from ._write import atomic_write as atomic_write

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_MODEL_BYTES",
    "ModelFileError",
    "dumps",
    "from_dict",
    "load",
    "loads",
    "save",
    "to_dict",
]

# The public class is shown as gaussmle.persist.ModelFileError (in tracebacks and reprs),
# where users import it from.
ModelFileError.__module__ = __name__
