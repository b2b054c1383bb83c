"""``gaussmle describe``: what a saved model learned, with standard errors and intervals.

The text is the model's :class:`~gaussmle.summary.Summary` (``model.summary().as_text()``),
so the command line and the Python API say the same thing; ``--json`` prints the numbers.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import click
import numpy as np

from .._estimates import class_estimates, feature_names
from .._text import json_text
from ..io import DataError
from ._app import (
    drop_missing_option,
    features_option,
    json_option,
    model_features,
    parse_features,
    say,
)
from ._use import MODEL_FEATURES_HELP, missing_mode, quoted


@click.command("describe", short_help="What a model learned, with SEs and intervals.")
@click.argument("model_path", metavar="MODEL.json")
@click.option("--data", default=None, help="Labelled data to check the model against.")
@click.option("--target", default=None, metavar="COL", help="The label column of --data.")
@features_option(MODEL_FEATURES_HELP)
@click.option(
    "--level",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of the intervals.",
)
@drop_missing_option()
@json_option()
def describe_command(
    model_path: str,
    data: str | None,
    target: str | None,
    features: str | None,
    level: float,
    drop_missing: bool,
    as_json: bool,
) -> None:
    """Show what a saved model learned, with standard errors and intervals.

    Per class and feature: the mean and the variance with their standard
    errors (from the Fisher information) and exact intervals (t for means,
    chi-square for variances). With --data and --target it also gives the
    log-likelihood, AIC and BIC on that data and tests every class and
    feature for normality (the data are read into memory for this).

    \b
    Examples:
      gaussmle describe skittles.json
      gaussmle describe skittles.json --data skittles.csv --target colour
    """
    from ..gaussian import Gaussian
    from ..persist import load
    from ..summary import summarize

    if (data is None) != (target is None):
        raise DataError("give --data and --target together")
    model = load(model_path)
    if isinstance(model, Gaussian):
        _describe_gaussian(model, model_path, level, as_json)
        return
    from ..mixture import GaussianMixture

    if isinstance(model, GaussianMixture):
        from ._mixtures import describe_mixture

        describe_mixture(model, model_path, as_json)
        return
    batch = None
    if data is not None and target is not None:
        batch = _read_labelled(model, data, target, parse_features(features), drop_missing)
    if as_json:
        report = _model_report(model, model_path, level)
        if batch is not None:
            report["data"] = _data_report(model, data, batch)
        say(json_text(report))
        return
    if batch is None:
        say(summarize(model, level=level, name=model_path).as_text())
        return
    summary = summarize(
        model, batch.X, batch.y, level=level, name=model_path, data_name=quoted(data),
        dropped=batch.n_dropped,
    )  # fmt: skip
    say(summary.as_text())


def _model_report(model: Any, path: str, level: float) -> dict[str, Any]:
    from ..summary import missing_values

    return {
        "model": path,
        "covariance_type": model.covariance_type,
        "estimator": str(getattr(model, "estimator", "mle")),
        "prior": _prior_report(model),
        "predictive": bool(getattr(model, "predictive", False)),
        "missing": str(getattr(model, "missing", "error")),
        "missing_values": missing_values(model),
        "var_smoothing": float(model.var_smoothing),
        "epsilon": float(model.epsilon_),
        "features": feature_names(model),
        "n_classes": len(model.classes_),
        "n_parameters": int(model.n_parameters),
        "rows": float(np.sum(model.class_count_)),
        "level": level,
        "classes": class_estimates(model, level),
    }


def _prior_report(model: Any) -> dict[str, Any] | None:
    """The conjugate prior in use (None for a plain MLE model), defaults filled in as text."""
    if getattr(model, "estimator", "mle") != "map" and not getattr(model, "predictive", False):
        return None
    from ..prior import coerce_prior

    p = coerce_prior(model.prior)

    def values(v: Any, default: str) -> Any:
        return default if v is None else np.atleast_1d(np.asarray(v, dtype=float)).tolist()

    return {
        "mean": values(p.mean, "the mean of all the data"),
        "mean_strength": float(p.mean_strength),
        "variance": values(p.variance, "the variance of all the data"),
        "variance_strength": float(p.variance_strength),
    }


class _Labelled(NamedTuple):
    """Rows read for describe: X, labels aligned to the model's classes, rows dropped."""

    X: np.ndarray
    y: np.ndarray
    n_dropped: int


def _read_labelled(
    model: Any, data: str, target: str, features: list[str] | None, drop_missing: bool
) -> _Labelled:
    from ..io import read_xy
    from ._app import align_labels

    names = model_features(model, data, features, exclude=[target])
    batch = read_xy(data, names, target, drop_missing=drop_missing, missing=missing_mode(model))
    if batch.n_rows == 0:
        raise DataError(f"{quoted(data)} has no rows; check the data")
    y = align_labels(batch.y, model.classes_)
    unknown = ~np.isin(y, model.classes_)
    if unknown.any():
        extra = sorted({str(v) for v in y[unknown]})[:5]
        raise DataError(
            f"{quoted(data)} has labels the model has never seen ({', '.join(extra)}); "
            "describe needs data of the model's classes"
        )
    return _Labelled(batch.X, y, batch.n_dropped)


def _data_report(model: Any, data: str, batch: _Labelled) -> dict[str, Any]:
    from ..summary import data_checks

    checks = data_checks(model, batch.X, batch.y)
    return {"data": data, "rows": checks.pop("rows"), "dropped": batch.n_dropped, **checks}


def _describe_gaussian(gaussian: Any, path: str, level: float, as_json: bool) -> None:
    from .._text import estimate_rows
    from ..summary import summarize

    if not as_json:
        say(summarize(gaussian, level=level, name=path).as_text())
        return
    saved = getattr(gaussian, "feature_names_in_", None)  # kept by gaussmle estimate -o
    names = (
        [f"x{j}" for j in range(gaussian.n_features)] if saved is None else list(map(str, saved))
    )
    part = estimate_rows(gaussian, level)
    say(
        json_text(
            {
                "model": path,
                "kind": "Gaussian",
                "covariance_type": gaussian.covariance_type,
                "estimator": getattr(gaussian, "estimator", None),
                "n": gaussian.n,
                "level": level,
                "features": [
                    {"feature": name, **{key: part[key][j] for key in part}}
                    for j, name in enumerate(names)
                ],
                "covariance": np.asarray(gaussian.covariance).tolist(),
            }
        )
    )
