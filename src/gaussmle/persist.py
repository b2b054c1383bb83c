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

import contextlib
import json
import numbers
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import COVARIANCE_TYPES
from .classifier import GaussianClassifier
from .gaussian import GAUSSIAN_TYPES, Gaussian
from .stats import GaussianStats

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "dumps",
    "from_dict",
    "load",
    "loads",
    "save",
    "to_dict",
]

#: The value of the ``format`` key of every gaussmle model file.
FORMAT = "gaussmle-model"
#: The newest file format this version writes and reads.
FORMAT_VERSION = 1

_MODELS = ("GaussianClassifier", "Gaussian")
_HEADER_KEYS = ("format", "format_version", "gaussmle_version", "model")
_CLASSIFIER_KEYS = _HEADER_KEYS + (
    "hyperparameters",
    "n_features",
    "feature_names",
    "classes",
    "class_dtype",
    "statistics",
    "parameters",
)
_GAUSSIAN_KEYS = _HEADER_KEYS + ("n_features", "parameters")
_GAUSSIAN_OPTIONAL = ("feature_names", "estimator")
_ESTIMATORS = ("mle", "map")
_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_FLOAT_DTYPES = ("float16", "float32", "float64")
_CLASS_DTYPES = ("bool", "str", "object") + _INT_DTYPES + _FLOAT_DTYPES
#: Relative tolerance for the symmetry and positive semi-definiteness of m2.
_PSD_RTOL = 1e-9
#: Relative tolerance for the derived parameters against the statistics.
_PARAM_RTOL = 1e-9


class ModelFileError(ValueError):
    """A model file, text or dictionary that cannot be read, or a model that cannot be written.

    The message is one sentence that names the file, says what is wrong and
    what to do.

    Examples
    --------
    >>> try:
    ...     loads('{"format": "gaussmle-model"')
    ... except ModelFileError as exc:
    ...     print(exc)
    the text is not a valid gaussmle model: it is truncated or not JSON
    (line 1, column 28); re-save the model
    """


class _Invalid(Exception):
    """Internal: why a model document is invalid (completed into a ModelFileError)."""


class _Newer(Exception):
    """Internal: the document has a newer format version than this gaussmle reads."""


# ---------------------------------------------------------------------- public API
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

    Raises
    ------
    ModelFileError
        When the file cannot be read or is not a valid model file; the
        message says why in one sentence.

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
        raw = Path(name).read_bytes()
    except FileNotFoundError as exc:
        raise ModelFileError(f"cannot read {where}: the file does not exist") from exc
    except IsADirectoryError as exc:
        raise ModelFileError(f"cannot read {where}: it is a folder, not a model file") from exc
    except PermissionError as exc:
        raise ModelFileError(f"cannot read {where}: permission denied") from exc
    except OSError as exc:
        raise ModelFileError(f"cannot read {where}: {exc.strerror or exc}") from exc
    return _build(_parse(raw, where, "model file"), where, "model file")


# ---------------------------------------------------------------------- writing
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
    folder = target.parent
    tmp = folder / f".{target.name}.{uuid.uuid4().hex[:12]}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    except OSError as exc:
        raise error(f"cannot write {what} to {where}: {_why(exc, folder)}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):  # keep the permissions of a file we replace
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise error(f"cannot write {what} to {where}: {_why(exc, folder)}") from exc
        raise
    _sync_folder(folder)
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


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); silently skipped where folders cannot be opened."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
        from . import __version__  # lazily: the package imports this module

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
    priors = None if model.priors is None else _floats(np.ravel(model.priors))
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


# ---------------------------------------------------------------------- reading
def _parse(raw: str | bytes, where: str, noun: str) -> Any:
    """JSON text to Python objects; refuses NaN/Infinity and duplicate keys."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _error(where, noun, "it is not UTF-8 text (a binary file?)") from exc
    if not isinstance(raw, str):
        raise TypeError(f"loads takes str or bytes, not {type(raw).__name__}")
    if not raw.strip():
        raise _error(where, noun, "it is empty")
    try:
        return json.loads(raw, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        where_in = f"line {exc.lineno}, column {exc.colno}"
        raise _error(where, noun, f"it is truncated or not JSON ({where_in})") from exc
    except _Invalid as exc:
        raise _error(where, noun, str(exc)) from exc
    except RecursionError as exc:
        raise _error(where, noun, "it is nested too deeply") from exc


def _refuse_constant(name: str) -> Any:
    raise _Invalid(f"it contains {name}, and model files hold only finite numbers")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Invalid(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _error(where: str, noun: str, reason: str) -> ModelFileError:
    return ModelFileError(f"{where} is not a valid gaussmle {noun}: {reason}; re-save the model")


def _build(data: Any, where: str, noun: str) -> GaussianClassifier | Gaussian:
    try:
        return _read_document(data)
    except _Invalid as exc:
        raise _error(where, noun, str(exc)) from None
    except _Newer as exc:
        raise ModelFileError(
            f"{where} cannot be read: it was written by a newer gaussmle (format {exc}, this "
            f"gaussmle reads format {FORMAT_VERSION}); upgrade gaussmle"
        ) from None


def _read_document(doc: Any) -> GaussianClassifier | Gaussian:
    if not isinstance(doc, dict):
        raise _Invalid(f"it holds a JSON {_json_type(doc)}, not an object")
    if "format" not in doc:
        raise _Invalid("it has no 'format' key, so it is not a gaussmle model file")
    if doc["format"] != FORMAT:
        raise _Invalid(f"its format is {doc['format']!r}, not {FORMAT!r}")
    version = _get(doc, "format_version")
    if not _is_int(version) or version < 1:
        raise _Invalid(f"format_version is {version!r}, but it must be a positive integer")
    if version > FORMAT_VERSION:
        raise _Newer(str(version))
    if not isinstance(_get(doc, "gaussmle_version"), str):
        raise _Invalid("gaussmle_version must be a string")
    model = _get(doc, "model")
    if model not in _MODELS:
        raise _Invalid(
            f"model is {model!r}, but this gaussmle reads 'GaussianClassifier' or 'Gaussian'"
        )
    if model == "Gaussian":
        _check_keys(doc, _GAUSSIAN_KEYS, "", optional=_GAUSSIAN_OPTIONAL)
        return _read_gaussian(doc)
    _check_keys(doc, _CLASSIFIER_KEYS, "")
    return _read_classifier(doc)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, numbers.Number):
        return "number"
    return type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _name(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _get(obj: dict[str, Any], key: str, at: str = "") -> Any:
    if key not in obj:
        raise _Invalid(f"the key {_name(at, key)!r} is missing")
    return obj[key]


def _check_keys(
    obj: Any, keys: tuple[str, ...], at: str, optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``obj`` must be an object with exactly ``keys``, plus any of ``optional``."""
    if not isinstance(obj, dict):
        raise _Invalid(f"{at} must be an object, not a JSON {_json_type(obj)}")
    for key in keys:
        _get(obj, key, at)
    extra = [k for k in obj if k not in keys and k not in optional]
    if extra:
        place = f"{at!r} has" if at else "it has"
        raise _Invalid(f"{place} an unknown key {extra[0]!r}")
    return obj


def _number(value: Any, at: str, *, minimum: float | None = None) -> float:
    if not _is_number(value):
        raise _Invalid(f"{at} must be a number, not a JSON {_json_type(value)}")
    try:
        out = float(value)
    except OverflowError:
        out = float("inf")
    if not np.isfinite(out):
        raise _Invalid(f"{at} is not finite")
    if minimum is not None and out < minimum:
        raise _Invalid(f"{at} is {out!r}, but it cannot be below {minimum!r}")
    return out


def _array(value: Any, shape: tuple[int, ...], at: str) -> np.ndarray:
    """A finite float64 array of exactly ``shape`` from nested lists of numbers."""
    if not shape:
        return np.array(_number(value, at))
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise _Invalid(f"{at} must be an array of shape {shape}, not a JSON {_json_type(value)}")
    try:
        obj = np.array(value, dtype=object)
    except ValueError:
        obj = None
    if obj is None or obj.shape != shape:
        got = "a ragged array" if obj is None else f"shape {obj.shape}"
        raise _Invalid(f"{at} has {got}, but it must have shape {shape}")
    types = set(map(type, obj.ravel().tolist()))
    if not all(issubclass(t, numbers.Real) and not issubclass(t, bool) for t in types):
        raise _Invalid(f"{at} must hold only numbers")
    try:
        out = obj.astype(np.float64)
    except OverflowError:
        raise _Invalid(f"{at} contains a value that is not finite") from None
    if not np.isfinite(out).all():
        raise _Invalid(f"{at} contains a value that is not finite")
    return out


def _read_classifier(doc: dict[str, Any]) -> GaussianClassifier:
    hyper = _check_keys(
        doc["hyperparameters"],
        ("covariance_type", "priors", "var_smoothing"),
        "hyperparameters",
        optional=("estimator", "prior", "predictive", "missing"),
    )
    bayes = _read_bayes(hyper)
    cov_type = hyper["covariance_type"]
    if cov_type not in COVARIANCE_TYPES:
        options = ", ".join(repr(c) for c in COVARIANCE_TYPES)
        raise _Invalid(
            f"hyperparameters.covariance_type is {cov_type!r}, but it must be one of {options}"
        )
    var_smoothing = _number(hyper["var_smoothing"], "hyperparameters.var_smoothing", minimum=0.0)
    d = doc["n_features"]
    if not _is_int(d) or d < 1:
        raise _Invalid(f"n_features is {d!r}, but it must be a positive integer")
    d = int(d)
    names = _read_feature_names(doc["feature_names"], d)
    classes, labels = _read_classes(doc["classes"], doc["class_dtype"])
    k = len(labels)
    priors = hyper["priors"]
    if priors is not None:
        priors = _array(priors, (k,), "hyperparameters.priors")
        if (priors < 0).any():
            raise _Invalid("hyperparameters.priors has a negative value")
        if not np.isclose(priors.sum(), 1.0, rtol=0, atol=1e-8):
            raise _Invalid(f"hyperparameters.priors sums to {priors.sum():.10g}, not 1")
        priors = priors.tolist()
    stats = _read_statistics(doc["statistics"], labels, d, cov_type)
    try:
        model = GaussianClassifier.from_stats(
            stats,
            classes,
            names,
            covariance_type=cov_type,
            priors=priors,
            var_smoothing=var_smoothing,
            **bayes,
        )
    except ValueError as exc:
        reason = str(exc).split(";")[0]
        raise _Invalid(f"its statistics do not define a usable model ({reason})") from None
    _check_parameters(doc["parameters"], model, k, d)
    return model


def _prior_to_json(prior: Any) -> dict[str, Any] | None:
    """The conjugate prior as JSON (None for the default prior)."""
    if prior is None:
        return None
    from .prior import coerce_prior

    p = coerce_prior(prior)
    return {
        "mean": None if p.mean is None else _floats(np.asarray(p.mean, dtype=np.float64)),
        "mean_strength": float(p.mean_strength),
        "variance": None if p.variance is None else _floats(np.asarray(p.variance, float)),
        "variance_strength": float(p.variance_strength),
    }


def _read_bayes(hyper: dict[str, Any]) -> dict[str, Any]:
    """estimator, prior and predictive (optional keys; MLE when absent)."""
    from .prior import ConjugatePrior

    estimator = hyper.get("estimator", "mle")
    if estimator not in ("mle", "map"):
        raise _Invalid(f"hyperparameters.estimator is {estimator!r}, but it must be 'mle' or 'map'")
    predictive = hyper.get("predictive", False)
    if not isinstance(predictive, bool):
        raise _Invalid("hyperparameters.predictive must be true or false")
    prior = hyper.get("prior")
    if prior is not None:
        fields = _check_keys(
            prior,
            ("mean", "mean_strength", "variance", "variance_strength"),
            "hyperparameters.prior",
        )
        try:
            prior = ConjugatePrior(
                mean=None if fields["mean"] is None else _floats_in(fields["mean"], "prior.mean"),
                mean_strength=_number(fields["mean_strength"], "prior.mean_strength"),
                variance=None
                if fields["variance"] is None
                else _floats_in(fields["variance"], "prior.variance"),
                variance_strength=_number(fields["variance_strength"], "prior.variance_strength"),
            )
        except ValueError as exc:
            raise _Invalid(f"hyperparameters.prior is not valid ({exc})") from None
    missing = hyper.get("missing", "error")
    if missing not in ("error", "marginalize"):
        raise _Invalid(
            f"hyperparameters.missing is {missing!r}, but it must be 'error' or 'marginalize'"
        )
    return {"estimator": estimator, "prior": prior, "predictive": predictive, "missing": missing}


def _floats_in(value: Any, at: str) -> list[float]:
    if not isinstance(value, list) or not all(_is_number(v) for v in value):
        raise _Invalid(f"{at} must be null or an array of numbers")
    out = np.asarray(value, dtype=np.float64)
    if not np.isfinite(out).all():
        raise _Invalid(f"{at} contains a value that is not finite")
    return out.tolist()


def _read_feature_names(value: Any, d: int) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid("feature_names must be null or an array of strings")
    if len(value) != d:
        raise _Invalid(f"feature_names has {len(value)} names, but n_features is {d}")
    return list(value)


def _read_classes(values: Any, dtype_name: Any) -> tuple[np.ndarray, list[Any]]:
    if dtype_name not in _CLASS_DTYPES:
        raise _Invalid(
            f"class_dtype is {dtype_name!r}, but it must be one of {', '.join(_CLASS_DTYPES)}"
        )
    if not isinstance(values, list) or not values:
        raise _Invalid("classes must be a non-empty array of labels")
    if dtype_name == "bool":
        fits = all(isinstance(v, bool) for v in values)
    elif dtype_name in _INT_DTYPES:
        fits = all(_is_int(v) for v in values)
    elif dtype_name in _FLOAT_DTYPES:
        fits = all(_is_number(v) and np.isfinite(float(v)) for v in values)
    elif dtype_name == "str":
        fits = all(isinstance(v, str) for v in values)
    else:
        fits = all(
            isinstance(v, (str, bool, int)) or (isinstance(v, float) and np.isfinite(v))
            for v in values
        )
    if not fits:
        raise _Invalid(f"classes holds a label that is not of class_dtype {dtype_name!r}")
    try:
        classes = np.array(values, dtype=str if dtype_name == "str" else np.dtype(dtype_name))
    except (OverflowError, ValueError):
        raise _Invalid(f"classes holds a label out of the range of {dtype_name}") from None
    if dtype_name in _INT_DTYPES and classes.tolist() != values:
        raise _Invalid(f"classes holds a label out of the range of {dtype_name}")
    try:
        uniq, counts = np.unique(classes, return_counts=True)
    except TypeError:
        raise _Invalid("classes mixes labels of types that cannot be sorted") from None
    if (counts > 1).any():
        raise _Invalid(f"classes are not unique: {uniq[counts > 1][0].item()!r} appears twice")
    if not np.array_equal(uniq, classes):
        raise _Invalid("classes are not in sorted order, as a fitted model keeps them")
    return classes, values


def _read_statistics(value: Any, labels: list[Any], d: int, covariance_type: str) -> GaussianStats:
    stats = _check_keys(value, ("kind", "per_class"), "statistics")
    kind = stats["kind"]
    wanted = "full" if covariance_type in ("full", "tied") else "diag"
    if kind not in ("diag", "full"):
        raise _Invalid(f"statistics.kind is {kind!r}, but it must be 'diag' or 'full'")
    if kind != wanted:
        raise _Invalid(
            f"statistics.kind is {kind!r}, but a {covariance_type!r} model keeps {wanted!r} "
            "statistics"
        )
    per_class = stats["per_class"]
    if not isinstance(per_class, list) or len(per_class) != len(labels):
        got = len(per_class) if isinstance(per_class, list) else "no"
        raise _Invalid(
            f"statistics.per_class has {got} entries, but there are {len(labels)} classes"
        )
    m2_shape = (d,) if kind == "diag" else (d, d)
    counts, means, m2s, feature_counts, mean_los = [], [], [], [], []
    for i, (entry, label) in enumerate(zip(per_class, labels, strict=True)):
        at = f"statistics.per_class[{i}]"
        _check_keys(
            entry, ("class", "count", "mean", "m2"), at, optional=("feature_count", "mean_lo")
        )
        if "mean_lo" in entry:
            mean_los.append(_array(entry["mean_lo"], (d,), f"{at}.mean_lo"))
        if "feature_count" in entry:
            if kind != "diag":
                raise _Invalid(f"{at}.feature_count is only allowed with diag statistics")
            fc = _array(entry["feature_count"], (d,), f"{at}.feature_count")
            if (fc < 0).any():
                raise _Invalid(f"{at}.feature_count has a negative count")
            feature_counts.append(fc)
        if type(entry["class"]) is not type(label) or entry["class"] != label:
            raise _Invalid(f"{at}.class is {entry['class']!r}, but classes[{i}] is {label!r}")
        count = _number(entry["count"], f"{at}.count")
        if count < 0:
            raise _Invalid(
                f"{at}.count is {count!r}, but a count (sum of weights) cannot be negative"
            )
        mean = _array(entry["mean"], (d,), f"{at}.mean")
        m2 = _array(entry["m2"], m2_shape, f"{at}.m2")
        if kind == "diag" and (m2 < 0).any():
            raise _Invalid(f"{at}.m2 has a negative sum of squares")
        if kind == "full":
            _check_scatter(m2, f"{at}.m2")
        counts.append(count)
        means.append(mean)
        m2s.append(m2)
    if sum(counts) <= 0:
        raise _Invalid("every class count is zero, so the model has seen no data")
    if feature_counts and len(feature_counts) != len(counts):
        raise _Invalid("statistics.per_class has feature_count for some classes but not all")
    fc_all = np.array(feature_counts) if feature_counts else None
    if mean_los and len(mean_los) != len(counts):
        raise _Invalid("statistics.per_class has mean_lo for some classes but not all")
    lo_all = np.array(mean_los) if mean_los else None
    return GaussianStats(np.array(counts), np.array(means), np.array(m2s), kind, fc_all, lo_all)


def _check_scatter(m2: np.ndarray, at: str) -> None:
    """A scatter matrix is symmetric and positive semi-definite (within rounding)."""
    scale = float(np.abs(np.diagonal(m2)).max(initial=0.0))
    if not np.allclose(m2, m2.T, rtol=0.0, atol=_PSD_RTOL * scale):
        raise _Invalid(f"{at} is not symmetric")
    if (np.diagonal(m2) < 0).any():
        raise _Invalid(f"{at} has a negative sum of squares on its diagonal")
    if scale > 0:
        lowest = float(np.linalg.eigvalsh(0.5 * (m2 + m2.T))[0])
        if lowest < -_PSD_RTOL * scale * m2.shape[0]:
            raise _Invalid(
                f"{at} is not positive semi-definite (eigenvalue {lowest:.3g}), so it is not "
                "a scatter matrix"
            )


def _check_parameters(value: Any, model: GaussianClassifier, k: int, d: int) -> None:
    params = _check_keys(value, ("class_prior", "means", "covariances", "epsilon"), "parameters")
    cov_shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[
        model.covariance_type
    ]
    saved = {
        "class_prior": _array(params["class_prior"], (k,), "parameters.class_prior"),
        "means": _array(params["means"], (k, d), "parameters.means"),
        "covariances": _array(params["covariances"], cov_shape, "parameters.covariances"),
        "epsilon": _array(params["epsilon"], (), "parameters.epsilon"),
    }
    seen = model.class_count_ > 0
    cov = saved["covariances"]
    if model.covariance_type == "tied":
        variances = np.diagonal(cov)
    elif model.covariance_type == "full":
        variances = np.diagonal(cov, axis1=1, axis2=2)[seen]
    else:
        variances = cov[seen]
    if not (variances > 0).all():
        raise _Invalid("parameters.covariances has a variance that is not positive")
    derived = {
        "class_prior": model.class_prior_,
        "means": model.means_,
        "covariances": model.covariances_,
        "epsilon": np.float64(model.epsilon_),
    }
    for key, expected in derived.items():
        if not np.allclose(saved[key], expected, rtol=_PARAM_RTOL, atol=0.0):
            raise _Invalid(f"parameters.{key} disagrees with the {key} derived from the statistics")


def _read_gaussian(doc: dict[str, Any]) -> Gaussian:
    d = doc["n_features"]
    if not _is_int(d) or d < 1:
        raise _Invalid(f"n_features is {d!r}, but it must be a positive integer")
    d = int(d)
    params = _check_keys(
        doc["parameters"], ("covariance_type", "mean", "covariance", "n"), "parameters"
    )
    cov_type = params["covariance_type"]
    if cov_type not in GAUSSIAN_TYPES:
        options = ", ".join(repr(c) for c in GAUSSIAN_TYPES)
        raise _Invalid(
            f"parameters.covariance_type is {cov_type!r}, but it must be one of {options}"
        )
    mean = _array(params["mean"], (d,), "parameters.mean")
    shape = {"diag": (d,), "full": (d, d), "spherical": ()}[cov_type]
    cov = _array(params["covariance"], shape, "parameters.covariance")
    variances = np.diagonal(cov) if cov_type == "full" else np.atleast_1d(cov)
    if not (variances > 0).all():
        raise _Invalid("parameters.covariance has a variance that is not positive")
    if cov_type == "full" and not np.allclose(cov, cov.T, rtol=0.0, atol=0.0):
        raise _Invalid("parameters.covariance is not symmetric")
    n = params["n"]
    n = float("nan") if n is None else _number(n, "parameters.n")
    if n <= 0:
        raise _Invalid(f"parameters.n is {n!r}, but the sample size must be positive or null")
    names = _read_feature_names(doc.get("feature_names"), d)
    estimator = doc.get("estimator")
    if estimator is not None and estimator not in _ESTIMATORS:
        raise _Invalid(f"estimator is {estimator!r}, but it must be 'mle' or 'map'")
    try:
        gaussian = Gaussian(mean, cov, cov_type, n=n)
    except ValueError as exc:
        reason = str(exc).split(";")[0]
        raise _Invalid(f"its parameters do not define a Gaussian ({reason})") from None
    # Gaussian is a frozen dataclass: the file's extras are attached as plain attributes
    if names is not None:
        object.__setattr__(gaussian, "feature_names_in_", np.asarray(names, dtype=object))
    if estimator is not None:
        object.__setattr__(gaussian, "estimator", estimator)
    return gaussian
