"""Loading: JSON text to a validated GaussianClassifier or Gaussian.

``_parse`` turns text into Python objects (refusing NaN, infinity and duplicate keys);
``_build`` checks the header and dispatches to ``_read_classifier`` or ``_read_gaussian``,
which validate every field (hyperparameters, prior, classes, statistics, the derived
parameters against the statistics) and turn internal errors into one-sentence
:class:`ModelFileError` messages.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import numpy as np

from .._validation import COVARIANCE_TYPES
from ..classifier import GaussianClassifier
from ..covariance import structure_for
from ..gaussian import GAUSSIAN_TYPES, Gaussian
from ..stats import GaussianStats
from ._checks import _array, _check_keys, _floats_in, _get, _is_int, _is_number, _json_type, _number
from ._format import (
    _CLASS_DTYPES,
    _CLASSIFIER_KEYS,
    _ESTIMATORS,
    _FLOAT_DTYPES,
    _GAUSSIAN_KEYS,
    _GAUSSIAN_OPTIONAL,
    _INT_DTYPES,
    _MODELS,
    _PARAM_RTOL,
    _PSD_RTOL,
    FORMAT,
    FORMAT_VERSION,
    ModelFileError,
    _Invalid,
    _Newer,
)

#: Model files larger than this are refused before they are read (a full model
#: of 1,000 features and 20 classes takes about 1 GB); the environment variable
#: GAUSSMLE_MAX_MODEL_BYTES raises (or lowers) the limit.
MAX_MODEL_BYTES = 1 << 30
_LIMIT_VARIABLE = "GAUSSMLE_MAX_MODEL_BYTES"
#: Texts longer than this have their header checked before any array is parsed.
_HEADER_CHECK_BYTES = 1 << 20
_HEADER_BYTES = 1 << 16
_FORMAT_FIELD = re.compile(r'"format"\s*:\s*"([^"\\]*)"')
_VERSION_FIELD = re.compile(r'"format_version"\s*:\s*(-?[0-9]+)\b')


def _size_limit(where: str, noun: str) -> int:
    """The largest model file read, in bytes (``GAUSSMLE_MAX_MODEL_BYTES`` or the default)."""
    text = os.environ.get(_LIMIT_VARIABLE)
    if text is None or not text.strip():
        return MAX_MODEL_BYTES
    try:
        limit = int(text.strip().replace("_", ""))
    except ValueError:
        limit = -1
    if limit < 1:
        raise ModelFileError(
            f"cannot read {where}: {_LIMIT_VARIABLE} is {text!r}, but it must be a whole number "
            "of bytes such as 4000000000"
        )
    return limit


def _too_large(where: str, size: int, limit: int) -> ModelFileError:
    return ModelFileError(
        f"cannot read {where}: it is {size:,} bytes, larger than the limit of {limit:,} bytes "
        f"for model files (no model gaussmle writes for real data reaches it); if it is "
        f"one, set the environment variable {_LIMIT_VARIABLE} to a larger number of bytes"
    )


def _read_limited(name: str, where: str) -> bytes:
    """The bytes of a model file, refused before reading when above the size limit."""
    limit = _size_limit(where, "model file")
    with open(name, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise _too_large(where, size, limit)
        raw = handle.read(limit + 1)
    if len(raw) > limit:  # a device or pipe, whose size stat does not tell
        raise _too_large(where, len(raw), limit)
    return raw


def _check_header(text: str) -> None:
    """Check the format fields at the start of a long text before any array is parsed."""
    head = text[:_HEADER_BYTES]
    if not head.lstrip().startswith("{"):
        raise _Invalid("it does not hold a JSON object")
    fmt = _FORMAT_FIELD.search(head)
    if fmt is None:
        raise _Invalid("it has no 'format' key, so it is not a gaussmle model file")
    if fmt.group(1) != FORMAT:
        raise _Invalid(f"its format is {fmt.group(1)!r}, not {FORMAT!r}")
    version = _VERSION_FIELD.search(head)
    if version is not None and int(version.group(1)) > FORMAT_VERSION:
        raise _Newer(version.group(1))


def _parse(raw: str | bytes, where: str, noun: str) -> Any:
    """JSON text to Python objects; refuses NaN/Infinity and duplicate keys.

    A long text has its header (format, format_version) checked first, so that
    a large file of another kind is refused without parsing its arrays.
    """
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = bytes(raw).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _error(where, noun, "it is not UTF-8 text (a binary file?)") from exc
    if not isinstance(raw, str):
        raise TypeError(f"loads takes str or bytes, not {type(raw).__name__}")
    if not raw.strip():
        raise _error(where, noun, "it is empty")
    if len(raw) > _HEADER_CHECK_BYTES:
        try:
            _check_header(raw)
        except _Invalid as exc:
            raise _error(where, noun, str(exc)) from None
        except _Newer as exc:
            raise _newer_error(where, str(exc)) from None
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


#: The largest count (sum of weights) a file may hold: float64 holds every whole
#: number up to 2^53 exactly, and no data set has more rows.
MAX_COUNT = 2.0**53


def _build(data: Any, where: str, noun: str) -> GaussianClassifier | Gaussian:
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return _read_document(data)
    except _Invalid as exc:
        raise _error(where, noun, str(exc)) from None
    except np.linalg.LinAlgError as exc:
        reason = f"its statistics cannot be factorised ({exc}): are some values absurdly large?"
        raise _error(where, noun, reason) from None
    except _Newer as exc:
        raise _newer_error(where, str(exc)) from None


def _newer_error(where: str, version: str) -> ModelFileError:
    return ModelFileError(
        f"{where} cannot be read: it was written by a newer gaussmle (format {version}, this "
        f"gaussmle reads format {FORMAT_VERSION}); upgrade gaussmle"
    )


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
            f"model is {model!r}, but this gaussmle reads 'GaussianClassifier', 'Gaussian' or "
            "'GaussianMixture'"
        )
    if model == "GaussianMixture":
        from ._mixture import read_mixture

        return read_mixture(doc)
    if model == "Gaussian":
        _check_keys(doc, _GAUSSIAN_KEYS, "", optional=_GAUSSIAN_OPTIONAL)
        return _read_gaussian(doc)
    _check_keys(doc, _CLASSIFIER_KEYS, "")
    return _read_classifier(doc)


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


def _read_bayes(hyper: dict[str, Any]) -> dict[str, Any]:
    """estimator, prior and predictive (optional keys; MLE when absent)."""
    from ..prior import ConjugatePrior

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
    wanted = structure_for(covariance_type).stats_kind
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
        count = _count(entry["count"], f"{at}.count")
        mean = _array(entry["mean"], (d,), f"{at}.mean")
        m2 = _array(entry["m2"], m2_shape, f"{at}.m2")
        if not np.isfinite(np.sum(m2 if kind == "diag" else np.diagonal(m2))):
            raise _Invalid(
                f"{at}.m2 is too large: its sums of squares add up to more than float64 holds"
            )
        if feature_counts and len(feature_counts) == i + 1 and (fc > count * (1 + 1e-12)).any():
            raise _Invalid(f"{at}.feature_count has a count above the class count {count!r}")
        if kind == "diag" and (m2 < 0).any():
            raise _Invalid(f"{at}.m2 has a negative sum of squares")
        if kind == "full":
            _check_scatter(m2, f"{at}.m2")
        counts.append(count)
        means.append(mean)
        m2s.append(m2)
    if sum(counts) <= 0:
        raise _Invalid("every class count is zero, so the model has seen no data")
    for i, (count, m2) in enumerate(zip(counts, m2s, strict=True)):
        if count == 0 and (m2 != 0).any():
            raise _Invalid(
                f"statistics.per_class[{i}].count is 0, but its m2 is not: a class without "
                "data has no spread"
            )
    if sum(counts) > MAX_COUNT:
        raise _Invalid(f"the class counts add up to more than 2^53 ({int(MAX_COUNT)})")
    total = sum(float(np.sum(m if kind == "diag" else np.diagonal(m))) for m in m2s)
    if not np.isfinite(total):
        raise _Invalid("statistics.per_class m2 are too large: together they overflow float64")
    if feature_counts and len(feature_counts) != len(counts):
        raise _Invalid("statistics.per_class has feature_count for some classes but not all")
    fc_all = np.array(feature_counts) if feature_counts else None
    if mean_los and len(mean_los) != len(counts):
        raise _Invalid("statistics.per_class has mean_lo for some classes but not all")
    lo_all = np.array(mean_los) if mean_los else None
    return GaussianStats(np.array(counts), np.array(means), np.array(m2s), kind, fc_all, lo_all)


def _count(value: Any, at: str) -> float:
    """A class count: a finite sum of weights from 0 to 2^53."""
    count = _number(value, at)
    if count < 0:
        raise _Invalid(f"{at} is {count!r}, but a count (sum of weights) cannot be negative")
    if count > MAX_COUNT:
        raise _Invalid(
            f"{at} is {count!r}, but a count (sum of weights) cannot exceed 2^53 "
            f"({int(MAX_COUNT)}), the largest whole number float64 holds exactly"
        )
    return count


def _check_scatter(m2: np.ndarray, at: str) -> None:
    """A scatter matrix is symmetric and positive semi-definite (within rounding)."""
    scale = float(np.abs(np.diagonal(m2)).max(initial=0.0))
    if not np.allclose(m2, m2.T, rtol=0.0, atol=_PSD_RTOL * scale):
        raise _Invalid(f"{at} is not symmetric")
    if (np.diagonal(m2) < 0).any():
        raise _Invalid(f"{at} has a negative sum of squares on its diagonal")
    if scale > 0:
        try:
            lowest = float(np.linalg.eigvalsh(0.5 * m2 + 0.5 * m2.T)[0])
        except np.linalg.LinAlgError:
            raise _Invalid(
                f"{at} cannot be factorised (its eigenvalues do not converge): are some "
                "values absurdly large?"
            ) from None
        if lowest < -_PSD_RTOL * scale * m2.shape[0]:
            raise _Invalid(
                f"{at} is not positive semi-definite (eigenvalue {lowest:.3g}), so it is not "
                "a scatter matrix"
            )


def _check_parameters(value: Any, model: GaussianClassifier, k: int, d: int) -> None:
    params = _check_keys(value, ("class_prior", "means", "covariances", "epsilon"), "parameters")
    structure = structure_for(model.covariance_type)
    cov_shape = structure.parameter_shape(k, d)
    saved = {
        "class_prior": _array(params["class_prior"], (k,), "parameters.class_prior"),
        "means": _array(params["means"], (k, d), "parameters.means"),
        "covariances": _array(params["covariances"], cov_shape, "parameters.covariances"),
        "epsilon": _array(params["epsilon"], (), "parameters.epsilon"),
    }
    seen = model.class_count_ > 0
    cov = saved["covariances"]
    variances = structure.variances_of(cov, seen)
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
    structure = structure_for(cov_type)
    cov = _array(params["covariance"], structure.single_shape(d), "parameters.covariance")
    if not (structure.single_variance(cov, d) > 0).all():
        raise _Invalid("parameters.covariance has a variance that is not positive")
    if not np.array_equal(cov, cov.T):  # finite values: vectors and scalars are symmetric
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
