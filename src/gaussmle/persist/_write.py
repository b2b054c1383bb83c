"""Serialising: fitted models to JSON documents, the file text, and atomic file writes.

``_classifier_to_dict`` and ``_gaussian_to_dict`` build the documents (header, labels,
statistics, derived parameters, the conjugate prior); ``_format_json`` lays out the text
and ``_check_finite_document`` refuses NaN and infinity; :func:`atomic_write` writes bytes
with the package's one atomic writer (:mod:`gaussmle._atomic`), so a failure never leaves a
half-written file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes
from ..classifier import GaussianClassifier
from ..gaussian import Gaussian
from ._format import _ESTIMATORS, _FLOAT_DTYPES, _INT_DTYPES, FORMAT, FORMAT_VERSION, ModelFileError


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    what: str = "the model",
    error: type[Exception] = ModelFileError,
) -> Path:
    """Write ``data`` to ``path`` through a synced temporary file and a rename.

    On failure the temporary file is removed, ``path`` is untouched and
    ``error`` is raised with one sentence (``what`` names the content).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = atomic_write(pathlib.Path(tempfile.mkdtemp()) / "x.txt", b"hello")
    >>> p.read_bytes()
    b'hello'
    """
    target = Path(os.fspath(path))
    where = repr(str(os.fspath(path)))
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        folder = Path(os.path.abspath(os.path.realpath(target))).parent
        raise error(f"cannot write {what} to {where}: {_why(exc, folder)}") from exc
    return target


def _why(exc: OSError, folder: Path) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"the folder {str(folder)!r} does not exist; create it first"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder; pass a file name such as 'model.json'"
    if isinstance(exc, NotADirectoryError):
        return f"{str(folder)!r} is not a folder"
    if isinstance(exc, PermissionError):
        return "permission denied; choose a folder you can write to"
    return f"{exc.strerror or exc}"


def _format_json(value: Any, level: int = 0) -> str:
    """JSON with one key per line but flat lists of numbers on one line."""
    pad = "  " * (level + 1)
    end = "  " * level
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{pad}{json.dumps(key, ensure_ascii=False)}: {_format_json(item, level + 1)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list) and any(isinstance(item, (list, dict)) for item in value):
        items = [pad + _format_json(item, level + 1) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _check_finite_document(doc: Any) -> Any:
    """Refuse to write a document holding NaN or infinity (never written)."""
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, float) and not np.isfinite(item):
            raise ModelFileError(
                "cannot save the model: it holds NaN or infinity, which a model file never "
                "holds; refit it on finite data"
            )
    return doc


def _floats(a: Any) -> Any:
    """A numpy array (or scalar) as nested lists of Python floats."""
    return np.asarray(a, dtype=np.float64).tolist()


def _gaussmle_version() -> str:
    try:
        from .. import __version__  # lazily: the package imports this module

        return str(__version__)
    except ImportError:  # pragma: no cover - only while the package is half imported
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("gaussmle")
        except PackageNotFoundError:
            return "unknown"


def _header(model_name: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "gaussmle_version": _gaussmle_version(),
        "model": model_name,
    }


def _classifier_to_dict(model: GaussianClassifier) -> dict[str, Any]:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "class_stats_")
    stats = model.class_stats_
    classes, class_dtype = _labels_to_json(model.classes_)
    names = getattr(model, "feature_names_in_", None)
    priors = None if model.priors is None else _floats(np.ravel(model.class_prior_))
    per_class = [
        {
            "class": label,
            "count": float(stats.count[i]),
            "mean": _floats(stats.mean[i]),
            "m2": _floats(stats.m2[i]),
        }
        for i, label in enumerate(classes)
    ]
    if stats.feature_count is not None:  # available-case statistics (missing values)
        for entry, fc in zip(per_class, stats.feature_count, strict=True):
            entry["feature_count"] = _floats(fc)
    if stats.mean_lo is not None and np.any(stats.mean_lo):  # the means' low-order parts
        for entry, lo in zip(per_class, stats.mean_lo, strict=True):
            entry["mean_lo"] = _floats(lo)
    doc = _header("GaussianClassifier")
    doc.update(
        {
            "hyperparameters": {
                "covariance_type": str(model.covariance_type),
                "priors": priors,
                "var_smoothing": float(model.var_smoothing),
                "estimator": str(model.estimator),
                "prior": _prior_to_json(model.prior),
                "predictive": bool(model.predictive),
                "missing": str(model.missing),
            },
            "n_features": int(model.n_features_in_),
            "feature_names": None if names is None else [str(n) for n in names],
            "classes": classes,
            "class_dtype": class_dtype,
            "statistics": {"kind": stats.kind, "per_class": per_class},
            "parameters": {
                "class_prior": _floats(model.class_prior_),
                "means": _floats(model.means_),
                "covariances": _floats(model.covariances_),
                "epsilon": float(model.epsilon_),
            },
        }
    )
    return doc


def _prior_to_json(prior: Any) -> dict[str, Any] | None:
    """The conjugate prior as JSON (None for the default prior)."""
    if prior is None:
        return None
    from ..prior import coerce_prior

    p = coerce_prior(prior)
    return {
        "mean": None if p.mean is None else _floats(np.asarray(p.mean, dtype=np.float64)),
        "mean_strength": float(p.mean_strength),
        "variance": None if p.variance is None else _floats(np.asarray(p.variance, float)),
        "variance_strength": float(p.variance_strength),
    }


def _gaussian_to_dict(
    model: Gaussian, feature_names: Any = None, estimator: str | None = None
) -> dict[str, Any]:
    n = float(model.n)
    d = int(model.n_features)
    if feature_names is None:
        feature_names = getattr(model, "feature_names_in_", None)
    if estimator is None:
        estimator = getattr(model, "estimator", None)
    doc = _header("Gaussian")
    doc.update(
        {
            "n_features": d,
            "parameters": {
                "covariance_type": model.covariance_type,
                "mean": _floats(model.mean),
                "covariance": _floats(model.covariance),
                "n": n if np.isfinite(n) else None,
            },
        }
    )
    if feature_names is not None:
        if isinstance(feature_names, str):
            feature_names = [feature_names]
        names = [str(name) for name in feature_names]
        if len(names) != d:
            raise ValueError(
                f"feature_names has {len(names)} names, but the Gaussian has {d} features; "
                "give one name per feature"
            )
        doc["feature_names"] = names
    if estimator is not None:
        if estimator not in _ESTIMATORS:
            raise ValueError(f"estimator must be 'mle' or 'map', not {estimator!r}")
        doc["estimator"] = str(estimator)
    return doc


def _labels_to_json(classes: np.ndarray) -> tuple[list[Any], str]:
    """Class labels as JSON values, and the name of their numpy dtype."""
    classes = np.asarray(classes)
    kind = classes.dtype.kind
    if kind == "b":
        return [bool(v) for v in classes], "bool"
    if kind in "iu" and classes.dtype.name in _INT_DTYPES:
        return [int(v) for v in classes], classes.dtype.name
    if kind == "f" and classes.dtype.name in _FLOAT_DTYPES:
        values = [float(v) for v in classes]
        if not np.isfinite(values).all():
            raise ModelFileError("cannot save the model: a class label is NaN or infinity")
        return values, classes.dtype.name
    if kind == "U":
        return [str(v) for v in classes], "str"
    if kind == "O":
        values = [v.item() if isinstance(v, np.generic) else v for v in classes]
        for v in values:
            ok = isinstance(v, (str, bool, int)) or (isinstance(v, float) and np.isfinite(v))
            if not ok:
                raise ModelFileError(
                    f"cannot save the model: the class label {v!r} is not a string, integer, "
                    "finite float or bool"
                )
        return values, "object"
    raise ModelFileError(
        f"cannot save the model: class labels of dtype {classes.dtype} cannot be written; use "
        "string, integer, float or bool labels"
    )
