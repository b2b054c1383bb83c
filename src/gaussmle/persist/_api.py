"""The public functions: models to documents, text and files, and back.

:func:`to_dict`, :func:`dumps` and :func:`save` serialise a fitted model through
:mod:`gaussmle.persist._write`; :func:`from_dict`, :func:`loads` and :func:`load` parse and
validate through :mod:`gaussmle.persist._read`. Each is re-exported by
:mod:`gaussmle.persist`, where users import it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..classifier import GaussianClassifier
from ..gaussian import Gaussian
from ..mixture import GaussianMixture
from ._format import ModelFileError
from ._mixture import mixture_to_dict
from ._read import _build, _parse, _read_limited
from ._write import (
    _check_finite_document,
    _classifier_to_dict,
    _format_json,
    _gaussian_to_dict,
    _header,
    atomic_write,
)


def to_dict(
    model: GaussianClassifier | Gaussian,
    *,
    feature_names: Any = None,
    estimator: str | None = None,
) -> dict[str, Any]:
    """The model file document of a fitted model, as plain Python objects.

    Parameters
    ----------
    model : GaussianClassifier or Gaussian
        A fitted classifier, or a Gaussian such as :func:`gaussmle.fit` returns.
    feature_names : sequence of str, optional
        For a Gaussian only: the names of its features (default: its
        ``feature_names_in_`` attribute, if it has one). A classifier keeps
        its own ``feature_names_in_``.
    estimator : {"mle", "map"}, optional
        For a Gaussian only: how it was estimated (default: its ``estimator``
        attribute, if it has one; otherwise not recorded).

    Returns
    -------
    dict
        JSON-ready: only dicts, lists, str, int, float (all finite), bool and None.

    Examples
    --------
    >>> import gaussmle
    >>> d = to_dict(gaussmle.fit([[1.0], [2.0], [6.0]]))
    >>> d["format"], d["model"], d["parameters"]["mean"]
    ('gaussmle-model', 'Gaussian', [3.0])
    >>> to_dict(gaussmle.fit([[1.0], [2.0], [6.0]]), feature_names=["height"])["feature_names"]
    ['height']
    """
    if isinstance(model, GaussianClassifier):
        if feature_names is not None or estimator is not None:
            raise ValueError(
                "feature_names and estimator are for saving a Gaussian; a GaussianClassifier "
                "saves its own feature_names_in_ and estimator"
            )
        return _classifier_to_dict(model)
    if isinstance(model, Gaussian):
        return _gaussian_to_dict(model, feature_names, estimator)
    if isinstance(model, GaussianMixture):
        return mixture_to_dict(model, _header("GaussianMixture"))
    raise TypeError(
        f"cannot save a {type(model).__name__}; gaussmle saves a GaussianClassifier or a Gaussian"
    )


def from_dict(data: Any) -> GaussianClassifier | Gaussian:
    """Rebuild a model from a document made by :func:`to_dict` (or read from JSON).

    Everything is validated; a bad document raises :class:`ModelFileError`.

    Examples
    --------
    >>> import gaussmle
    >>> g = from_dict(to_dict(gaussmle.fit([[1.0], [2.0], [6.0]])))
    >>> g.mean.tolist(), g.n
    ([3.0], 3.0)
    """
    return _build(data, "the dictionary", "model")


def dumps(
    model: GaussianClassifier | Gaussian,
    *,
    feature_names: Any = None,
    estimator: str | None = None,
) -> str:
    """The model file text of a fitted model (JSON, full float precision).

    ``feature_names`` and ``estimator`` are for a Gaussian, as in :func:`to_dict`.

    Examples
    --------
    >>> import gaussmle
    >>> print(dumps(gaussmle.fit([[0.0], [2.0]])).splitlines()[1])
      "format": "gaussmle-model",
    """
    doc = to_dict(model, feature_names=feature_names, estimator=estimator)
    return _format_json(_check_finite_document(doc)) + "\n"


def loads(text: str | bytes) -> GaussianClassifier | Gaussian:
    """Read a model from model file text, validating everything.

    Examples
    --------
    >>> import gaussmle
    >>> loads(dumps(gaussmle.fit([[0.0], [2.0]]))).covariance.tolist()
    [1.0]
    """
    return _build(_parse(text, "the text", "model"), "the text", "model")


def save(
    model: GaussianClassifier | Gaussian,
    path: str | os.PathLike[str],
    *,
    feature_names: Any = None,
    estimator: str | None = None,
) -> Path:
    """Write a fitted model to a JSON model file, atomically.

    The text goes to a temporary file in the same folder, which is flushed,
    synced to disk and renamed over ``path``; if anything fails the
    temporary file is removed and an existing file at ``path`` is left as it
    was.

    Parameters
    ----------
    model : GaussianClassifier or Gaussian
    path : str or path-like
        Where to write, e.g. ``"model.json"``.
    feature_names : sequence of str, optional
        For a Gaussian only: the names of its features, kept in the file.
    estimator : {"mle", "map"}, optional
        For a Gaussian only: how it was estimated, kept in the file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ModelFileError
        When the file cannot be written (missing folder, no permission, ...).

    Examples
    --------
    >>> import tempfile, pathlib, gaussmle
    >>> folder = tempfile.mkdtemp()
    >>> p = save(gaussmle.fit([[0.0], [2.0]]), pathlib.Path(folder) / "m.json")
    >>> load(p).mean.tolist()
    [1.0]
    >>> p = save(gaussmle.fit([[0.0], [2.0]]), pathlib.Path(folder) / "h.json",
    ...          feature_names=["height"])
    >>> load(p).feature_names_in_.tolist()
    ['height']
    """
    data = dumps(model, feature_names=feature_names, estimator=estimator).encode("utf-8")
    return atomic_write(path, data, what="the model")


def load(path: str | os.PathLike[str]) -> GaussianClassifier | Gaussian:
    """Read a model file written by :func:`save`, validating everything.

    Returns a fitted :class:`GaussianClassifier` (or a :class:`Gaussian`,
    for files of ``"model": "Gaussian"``). A classifier keeps its sufficient
    statistics, so it can be updated with ``partial_fit`` or merged.

    Files larger than ``MAX_MODEL_BYTES`` (1 GiB) are refused before they are
    read; set the environment variable ``GAUSSMLE_MAX_MODEL_BYTES`` to a
    number of bytes to change the limit. The header (format and version) of a
    long file is checked before its arrays are parsed.

    Raises
    ------
    ModelFileError
        When the file cannot be read, is too large or is not a valid model
        file; the message says why in one sentence.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from gaussmle import GaussianClassifier
    >>> clf = GaussianClassifier().fit([[0.0], [1.0], [5.0], [7.0]], [0, 0, 1, 1])
    >>> p = save(clf, pathlib.Path(tempfile.mkdtemp()) / "clf.json")
    >>> load(p).predict([[0.2], [6.0]]).tolist()
    [0, 1]
    """
    name = os.fspath(path)
    where = repr(str(name))
    try:
        raw = _read_limited(name, where)
    except FileNotFoundError as exc:
        raise ModelFileError(f"cannot read {where}: the file does not exist") from exc
    except IsADirectoryError as exc:
        raise ModelFileError(f"cannot read {where}: it is a folder, not a model file") from exc
    except PermissionError as exc:
        raise ModelFileError(f"cannot read {where}: permission denied") from exc
    except OSError as exc:
        raise ModelFileError(f"cannot read {where}: {exc.strerror or exc}") from exc
    return _build(_parse(raw, where, "model file"), where, "model file")
