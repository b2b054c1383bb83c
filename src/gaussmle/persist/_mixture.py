"""Model files of Gaussian mixtures: ``"model": "GaussianMixture"``.

The document holds the hyperparameters, the fitted parameters in
scikit-learn's shapes (``weights``, ``means``, ``covariances``), what the fit
reported (``converged``, ``n_iter``, ``lower_bound``, ``lower_bounds`` and
``n_batches_seen``, the batches behind the model, which sets ``partial_fit``'s next
step size, and ``data_statistics``, the pooled count, mean and m2 per feature of
every row seen, against which ``partial_fit`` judges a batch's spread; both
optional on reading, for files made before them) and the
per-component responsibility-weighted sufficient statistics of the last
M-step (``statistics``: count, mean, m2 and ``mean_lo`` as for a classifier;
``null`` when the model never ran an M-step)::

    {"format": "gaussmle-model", "format_version": 1, "model": "GaussianMixture",
     "hyperparameters": {"n_components": 2, "covariance_type": "full", ...},
     "n_features": 2, "feature_names": null,
     "statistics": {"kind": "full", "per_component": [{"count": ..., "mean": [...],
                    "m2": [[...]]}, ...]},
     "parameters": {"weights": [...], "means": [...], "covariances": [...]},
     "fit": {"converged": true, "n_iter": 7, "lower_bound": -2.1, "lower_bounds": [...],
             "n_batches_seen": 1, "data_statistics": {"count": 200.0, "mean": [...],
                                                      "m2": [...]}}}

The parameters are the model (the statistics may differ from them where a
component was re-seeded after the last M-step): loading sets them as they
are written, so a loaded mixture predicts bit for bit what the saved one did.
Loading validates everything: shapes, finiteness, weights in [0, 1] summing
to one, positive (definite) covariances, non-negative counts and positive
semi-definite scatter matrices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import COVARIANCE_TYPES
from ..covariance import structure_for
from ..mixture import INIT_PARAMS, GaussianMixture, _Params
from ..stats import GaussianStats
from ._checks import _array, _check_keys, _floats_in, _is_int, _number
from ._format import _Invalid

MIXTURE_KEYS = (
    "format",
    "format_version",
    "gaussmle_version",
    "model",
    "hyperparameters",
    "n_features",
    "feature_names",
    "statistics",
    "parameters",
    "fit",
)
_HYPER = (
    "n_components",
    "covariance_type",
    "tol",
    "reg_covar",
    "max_iter",
    "n_init",
    "init_params",
    "warm_start",
    "random_state",
    "verbose",
)
#: partial_fit's step-size schedule: written always, optional on reading (files made
#: before it existed take the defaults).
_SCHEDULE = ("learning_decay", "learning_offset")
#: What NaN means (``missing``): written always, optional on reading (older files: "error").
_MISSING = ("missing",)
#: How far the weights may sum from one (they are normalised by one division).
_WEIGHT_SUM_TOL = 1e-9
_PSD_RTOL = 1e-9


def _floats(a: Any) -> Any:
    return np.asarray(a, dtype=np.float64).tolist()


def mixture_to_dict(model: GaussianMixture, header: dict[str, Any]) -> dict[str, Any]:
    """The document of a fitted mixture (``header`` holds format, versions and model name).

    Examples
    --------
    >>> gm = GaussianMixture(1, covariance_type="diag").fit([[0.0], [2.0]])
    >>> doc = mixture_to_dict(gm, {"model": "GaussianMixture"})
    >>> doc["parameters"]["weights"], doc["statistics"]["per_component"][0]["m2"]
    ([1.0], [2.0])
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, "weights_")
    params = model.get_params()
    hyper = {key: params[key] for key in _HYPER}
    hyper.update({key: float(params[key]) for key in _SCHEDULE})
    hyper.update({key: str(params[key]) for key in _MISSING})
    state = params["random_state"]
    hyper["random_state"] = int(state) if _is_int(state) else None
    hyper["tol"], hyper["reg_covar"] = float(hyper["tol"]), float(hyper["reg_covar"])
    names = getattr(model, "feature_names_in_", None)
    stats = model.component_stats_
    doc = dict(header)
    doc.update(
        {
            "hyperparameters": hyper,
            "n_features": int(model.n_features_in_),
            "feature_names": None if names is None else [str(n) for n in names],
            "statistics": None if stats is None else _stats_to_json(stats),
            "parameters": {
                "weights": _floats(model.weights_),
                "means": _floats(model.means_),
                "covariances": _floats(model.covariances_),
            },
            "fit": {
                "converged": bool(model.converged_),
                "n_iter": int(model.n_iter_),
                "lower_bound": float(model.lower_bound_)
                if np.isfinite(model.lower_bound_)
                else None,
                "lower_bounds": [float(v) for v in model.lower_bounds_],
                "n_batches_seen": int(getattr(model, "n_batches_seen_", 1)),
            },
        }
    )
    data = getattr(model, "data_stats_", None)
    if data is not None:
        doc["fit"]["data_statistics"] = _data_stats_to_json(data)
    return doc


def _data_stats_to_json(data: GaussianStats) -> dict[str, Any]:
    """The pooled statistics of the rows seen: count, mean, m2 (and mean_lo when not zero)."""
    entry = {"count": float(data.count), "mean": _floats(data.mean), "m2": _floats(data.m2)}
    if data.mean_lo is not None and np.any(data.mean_lo):
        entry["mean_lo"] = _floats(data.mean_lo)
    return entry


def _read_data_stats(value: Any, d: int) -> GaussianStats:
    """``fit.data_statistics``: the pooled (diag) statistics of the rows behind the model."""
    at = "fit.data_statistics"
    entry = _check_keys(value, ("count", "mean", "m2"), at, optional=("mean_lo",))
    count = _number(entry["count"], f"{at}.count", minimum=0.0)
    if not count > 0:
        raise _Invalid(f"{at}.count is 0, so the statistics hold no data")
    mean = _array(entry["mean"], (d,), f"{at}.mean")
    m2 = _array(entry["m2"], (d,), f"{at}.m2")
    _check_second_moment(m2, "diag", f"{at}.m2")
    lo = entry.get("mean_lo")
    lo = None if lo is None else _array(lo, (d,), f"{at}.mean_lo")
    return GaussianStats(np.float64(count), mean, m2, "diag", None, lo)


def _stats_to_json(stats: GaussianStats) -> dict[str, Any]:
    entries = []
    for i in range(len(stats)):
        entry = {
            "count": float(stats.count[i]),
            "mean": _floats(stats.mean[i]),
            "m2": _floats(stats.m2[i]),
        }
        if stats.mean_lo is not None and np.any(stats.mean_lo[i]):
            entry["mean_lo"] = _floats(stats.mean_lo[i])
        entries.append(entry)
    return {"kind": stats.kind, "per_component": entries}


def read_mixture(doc: dict[str, Any]) -> GaussianMixture:
    """A fitted GaussianMixture from a validated document (raises ``_Invalid``)."""
    _check_keys(doc, MIXTURE_KEYS, "")
    hyper = _read_hyperparameters(doc["hyperparameters"])
    k, cov_type = hyper["n_components"], hyper["covariance_type"]
    d = doc["n_features"]
    if not _is_int(d) or d < 1:
        raise _Invalid(f"n_features is {d!r}, but it must be a positive integer")
    names = doc["feature_names"]
    if names is not None and (
        not isinstance(names, list) or len(names) != d or not all(isinstance(n, str) for n in names)
    ):
        raise _Invalid(f"feature_names must be null or {d} strings")
    params = _read_parameters(doc["parameters"], k, d, cov_type)
    stats = None
    if doc["statistics"] is not None:
        stats = _read_statistics(doc["statistics"], k, d, structure_for(cov_type).stats_kind)
    fit = _check_keys(
        doc["fit"],
        ("converged", "n_iter", "lower_bound", "lower_bounds"),
        "fit",
        optional=("n_batches_seen", "data_statistics"),
    )
    if not isinstance(fit["converged"], bool):
        raise _Invalid("fit.converged must be true or false")
    if not _is_int(fit["n_iter"]) or fit["n_iter"] < 0:
        raise _Invalid("fit.n_iter must be an integer >= 0")
    batches = fit.get("n_batches_seen", 1)  # files from before it: the fit, one batch
    if not _is_int(batches) or batches < 1:
        raise _Invalid("fit.n_batches_seen must be an integer >= 1")
    bound = fit["lower_bound"]
    bound = -np.inf if bound is None else _number(bound, "fit.lower_bound")
    history = _floats_in(fit["lower_bounds"], "fit.lower_bounds")
    model = GaussianMixture(**hyper)
    model.n_features_in_ = int(d)
    if names is not None:
        model.feature_names_in_ = np.asarray(names, dtype=object)
    model._set_params(_Params(*params, stats))
    model.converged_ = fit["converged"]
    model.n_iter_ = int(fit["n_iter"])
    model.lower_bound_ = float(bound)
    model.lower_bounds_ = history
    model.n_batches_seen_ = int(batches)
    if "data_statistics" in fit:  # files from before it: partial_fit judges from its batch on
        model.data_stats_ = _read_data_stats(fit["data_statistics"], d)
    return model


def _read_hyperparameters(value: Any) -> dict[str, Any]:
    hyper = _check_keys(value, _HYPER, "hyperparameters", optional=_SCHEDULE + _MISSING)
    if hyper.get("missing", "error") not in ("error", "marginalize"):
        raise _Invalid("hyperparameters.missing must be 'error' or 'marginalize'")
    if hyper["covariance_type"] not in COVARIANCE_TYPES:
        raise _Invalid(
            f"hyperparameters.covariance_type is {hyper['covariance_type']!r}, but it must be "
            f"one of {', '.join(map(repr, COVARIANCE_TYPES))}"
        )
    if hyper["init_params"] not in INIT_PARAMS:
        raise _Invalid(f"hyperparameters.init_params is {hyper['init_params']!r}, not a known one")
    for key, low in (("n_components", 1), ("max_iter", 0), ("n_init", 1), ("verbose", 0)):
        if not _is_int(hyper[key]) or hyper[key] < low:
            raise _Invalid(f"hyperparameters.{key} must be an integer >= {low}")
    for key in ("tol", "reg_covar"):
        _number(hyper[key], f"hyperparameters.{key}", minimum=0.0)
    if not isinstance(hyper["warm_start"], bool):
        raise _Invalid("hyperparameters.warm_start must be true or false")
    if "learning_offset" in hyper:
        _number(hyper["learning_offset"], "hyperparameters.learning_offset", minimum=0.0)
    if "learning_decay" in hyper:
        decay = _number(hyper["learning_decay"], "hyperparameters.learning_decay", minimum=0.0)
        if not 0.5 < decay <= 1.0:
            raise _Invalid("hyperparameters.learning_decay must be in (0.5, 1]")
    state = hyper["random_state"]
    if state is not None and not _is_int(state):
        raise _Invalid("hyperparameters.random_state must be null or an integer")
    return dict(hyper)


def _read_parameters(
    value: Any, k: int, d: int, cov_type: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    params = _check_keys(value, ("weights", "means", "covariances"), "parameters")
    weights = _array(params["weights"], (k,), "parameters.weights")
    if (weights < 0).any() or (weights > 1).any():
        raise _Invalid("parameters.weights must lie in [0, 1]")
    if abs(float(weights.sum()) - 1.0) > _WEIGHT_SUM_TOL:
        raise _Invalid(f"parameters.weights sum to {weights.sum()!r}, not 1")
    means = _array(params["means"], (k, d), "parameters.means")
    structure = structure_for(cov_type)
    cov = _array(params["covariances"], structure.parameter_shape(k, d), "parameters.covariances")
    problem = structure.invalid_covariances(cov)
    if problem is not None:
        raise _Invalid(f"parameters.covariances {problem}")
    return weights, means, cov


def _read_statistics(value: Any, k: int, d: int, kind: str) -> GaussianStats:
    stats = _check_keys(value, ("kind", "per_component"), "statistics")
    if stats["kind"] != kind:
        raise _Invalid(f"statistics.kind is {stats['kind']!r}, but this model keeps {kind!r}")
    entries = stats["per_component"]
    if not isinstance(entries, list) or len(entries) != k:
        raise _Invalid(f"statistics.per_component must hold {k} entries, one per component")
    m2_shape = (d,) if kind == "diag" else (d, d)
    counts, means, m2s, los = [], [], [], []
    for i, entry in enumerate(entries):
        at = f"statistics.per_component[{i}]"
        _check_keys(entry, ("count", "mean", "m2"), at, optional=("mean_lo",))
        counts.append(_number(entry["count"], f"{at}.count", minimum=0.0))
        means.append(_array(entry["mean"], (d,), f"{at}.mean"))
        m2 = _array(entry["m2"], m2_shape, f"{at}.m2")
        _check_second_moment(m2, kind, f"{at}.m2")
        m2s.append(m2)
        lo = entry.get("mean_lo")
        los.append(np.zeros(d) if lo is None else _array(lo, (d,), f"{at}.mean_lo"))
    if not sum(counts) > 0:
        raise _Invalid("every component count is zero, so the statistics hold no data")
    return GaussianStats(
        np.array(counts), np.array(means), np.array(m2s), kind, None, np.array(los)
    )


def _check_second_moment(m2: np.ndarray, kind: str, at: str) -> None:
    """Sums of squares are non-negative; a scatter matrix is symmetric and PSD."""
    if kind == "diag":
        if (m2 < 0).any():
            raise _Invalid(f"{at} has a negative sum of squares")
        return
    scale = float(np.abs(np.diagonal(m2)).max(initial=0.0))
    if not np.allclose(m2, m2.T, rtol=0.0, atol=_PSD_RTOL * scale):
        raise _Invalid(f"{at} is not symmetric")
    if scale > 0 and np.linalg.eigvalsh(0.5 * (m2 + m2.T))[0] < -_PSD_RTOL * scale * len(m2):
        raise _Invalid(f"{at} is not positive semi-definite, so it is not a scatter matrix")
