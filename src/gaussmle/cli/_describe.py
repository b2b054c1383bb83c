"""``gaussmle describe``: what a saved model learned, with standard errors and intervals."""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from ..io import DataError
from ._app import (
    drop_missing_option,
    features_option,
    json_option,
    model_features,
    parse_features,
    say,
    unnamed,
)
from ._format import fmt_count, fmt_num, json_text, render_table, wrap
from ._models import (
    class_estimates,
    classes_table,
    correlation_table,
    estimates_table,
    feature_names,
    gaussian_table,
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

    if (data is None) != (target is None):
        raise DataError("give --data and --target together")
    model = load(model_path)
    if isinstance(model, Gaussian):
        _describe_gaussian(model, model_path, level, as_json)
        return
    from ..mixture import GaussianMixture

    if isinstance(model, GaussianMixture):
        from ._cluster import describe_mixture

        describe_mixture(model, model_path, as_json)
        return
    report = _model_report(model, model_path, level)
    if data is not None and target is not None:
        report["data"] = _data_report(model, data, target, parse_features(features), drop_missing)
    if as_json:
        say(json_text(report))
        return
    say(_describe_text(model, report, level))


def _model_report(model: Any, path: str, level: float) -> dict[str, Any]:
    return {
        "model": path,
        "covariance_type": model.covariance_type,
        "estimator": str(getattr(model, "estimator", "mle")),
        "prior": _prior_report(model),
        "predictive": bool(getattr(model, "predictive", False)),
        "missing": str(getattr(model, "missing", "error")),
        "missing_values": _missing_values(model),
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


def _missing_values(model: Any) -> float:
    """Feature values missing from the training data (weighted), from the statistics."""
    stats = model.class_stats_
    if stats.feature_count is None:
        return 0.0
    return float(np.sum(stats.count[:, None] - stats.feature_count))


def _settings_text(model: Any, report: dict[str, Any]) -> list[str]:
    """Lines on the estimator, the prior, the densities and missing values."""
    from ._estimate import prior_text

    lines = []
    if report["estimator"] == "mle" and not report["predictive"]:
        lines.append(
            f"Estimator: mle; var_smoothing {report['var_smoothing']:g} adds epsilon = "
            f"{report['epsilon']:.3g} to every variance."
        )
    else:
        implied = " (implied by the predictive densities)" if report["estimator"] != "map" else ""
        lines.append(f"Estimator: map{implied}, under a conjugate prior (no var_smoothing).")
        lines.append(prior_text(model.prior))
    if report["predictive"]:
        lines.append(
            "Prediction: posterior predictive densities (Student t), wider than the plug-in "
            "Gaussians for classes with few rows."
        )
    if report["missing"] == "marginalize":
        gaps = report["missing_values"]
        seen = f"; {fmt_count(gaps)} training values were missing" if gaps else ""
        lines.append(
            f"Missing values: marginalised when predicting{seen} (each feature was fitted from "
            "the rows where it is observed)."
        )
    else:
        lines.append("Missing values: an error (fitted with --missing error).")
    return lines


def _data_report(
    model: Any, data: str, target: str, features: list[str] | None, drop_missing: bool
) -> dict[str, Any]:
    from ..diagnostics import warnings_for
    from ..io import read_xy
    from ._app import align_labels

    names = model_features(model, data, features, exclude=[target])
    batch = read_xy(data, names, target, drop_missing=drop_missing, missing=missing_mode(model))
    if batch.n_rows == 0:
        raise DataError(f"{quoted(data)} has no rows; check the data")
    quiet = unnamed(model)
    y = align_labels(batch.y, model.classes_)
    unknown = ~np.isin(y, model.classes_)
    if unknown.any():
        extra = sorted({str(v) for v in y[unknown]})[:5]
        raise DataError(
            f"{quoted(data)} has labels the model has never seen ({', '.join(extra)}); "
            "describe needs data of the model's classes"
        )
    from ..diagnostics import ood_threshold

    loglik = float(quiet.loglik(batch.X, y))
    tests = _normality(batch.X, y, feature_names(model))
    threshold = float(ood_threshold(quiet, batch.X, quantile=0.001))
    return {
        "data": data,
        "rows": batch.n_rows,
        "dropped": batch.n_dropped,
        "loglik": loglik,
        "aic": float(quiet.aic(batch.X, y)),
        "bic": float(quiet.bic(batch.X, y)),
        "ood_threshold": threshold,
        "normality": [t.to_dict() for t in tests],
        "warnings": warnings_for(tests),
    }


def _normality(X: np.ndarray, y: np.ndarray, names: list[str]) -> list[Any]:
    """Normality tests per class and feature, each feature on the rows where it is observed."""
    from ..diagnostics import normality_tests

    gaps = np.isnan(X)
    if not gaps.any():
        return normality_tests(X, y, feature_names=names)
    order = {label: i for i, label in enumerate(np.unique(y).tolist())}
    tests = []
    for j, name in enumerate(names):
        seen = ~gaps[:, j]
        tests += normality_tests(X[seen, j : j + 1], y[seen], feature_names=[name])
    position = {name: j for j, name in enumerate(names)}
    return sorted(tests, key=lambda t: (order[t.class_label], position[t.feature]))


def _describe_text(model: Any, report: dict[str, Any], level: float) -> str:
    k, d = report["n_classes"], len(report["features"])
    lines = [
        f"{report['model']}: one Gaussian per class, covariance {report['covariance_type']}, "
        f"{k} classes, {d} features,",
        f"fitted on {fmt_count(report['rows'])} rows; {report['n_parameters']} free parameters.",
        *[wrap(line, indent=0) for line in _settings_text(model, report)],
        "",
        "Classes",
        classes_table(model),
        "",
        f"Estimates (SE: standard error; {level:.0%} intervals: t for means, chi-square for "
        "variances)",
        estimates_table(report["classes"]),
    ]
    if model.covariance_type == "tied":
        lines.append(
            "  (tied: one covariance matrix shared by all classes, estimated from all rows)"
        )
    if model.covariance_type == "spherical":
        lines.append("  (spherical: one variance per class, shared by its features)")
    if model.covariance_type in ("full", "tied") and d > 1:
        names = report["features"]
        if model.covariance_type == "tied":
            lines += [
                "",
                "Correlations (all classes)",
                correlation_table(model.covariances_, names),
            ]
        else:
            for c, cov in zip(model.classes_, model.covariances_, strict=True):
                lines += ["", f"Correlations within class {c}", correlation_table(cov, names)]
    data = report.get("data")
    if data is not None:
        lines += ["", _data_text(data)]
    return "\n".join(lines)


def _data_text(data: dict[str, Any]) -> str:
    dropped = f" ({data['dropped']:,} dropped with missing values)" if data["dropped"] else ""
    lines = [
        f"On {data['rows']:,} rows of {quoted(data['data'])}{dropped}:",
        f"  log-likelihood {fmt_num(data['loglik'], 6)}, AIC {fmt_num(data['aic'], 6)}, "
        f"BIC {fmt_num(data['bic'], 6)}",
        f"  0.1% of these rows have an ood_score below {data['ood_threshold']:.4g}: a "
        "threshold for predict --ood-threshold",
        "",
        "Normality per class and feature (Shapiro-Wilk up to 5000 rows, else D'Agostino-Pearson)",
    ]
    rows = []
    previous = object()
    for t in data["normality"]:
        shown = "" if t["class_label"] == previous else str(t["class_label"])
        previous = t["class_label"]
        verdict = (
            "far from Gaussian"
            if t["far_from_gaussian"]
            else ("not tested" if t["test"] is None else "ok")
        )
        p = t["p_value"]
        rows.append(
            [
                shown,
                t["feature"],
                t["n"],
                "-" if p != p else (f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"),
                t["skewness"],
                t["excess_kurtosis"],
                verdict,
            ]
        )
    lines.append(
        render_table(
            ["class", "feature", "rows", "p-value", "skewness", "excess kurtosis", "verdict"],
            rows,
            align="llrrrrl",
        )
    )
    if data["warnings"]:
        lines.append("")
        lines += [wrap(f"warning: {w}", indent=2) for w in data["warnings"]]
    return "\n".join(lines)


def _describe_gaussian(gaussian: Any, path: str, level: float, as_json: bool) -> None:
    from ._estimate import _loglik_at_mle
    from ._format import estimate_rows

    saved = getattr(gaussian, "feature_names_in_", None)  # kept by gaussmle estimate -o
    names = (
        [f"x{j}" for j in range(gaussian.n_features)] if saved is None else list(map(str, saved))
    )
    estimator = getattr(gaussian, "estimator", None)
    if as_json:
        part = estimate_rows(gaussian, level)
        say(
            json_text(
                {
                    "model": path,
                    "kind": "Gaussian",
                    "covariance_type": gaussian.covariance_type,
                    "estimator": estimator,
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
        return
    how = " by MAP" if estimator == "map" else ""
    say(
        f"{path}: one Gaussian (covariance {gaussian.covariance_type}) of "
        f"{gaussian.n_features} features, estimated{how} from {fmt_count(gaussian.n)} rows."
    )
    say(gaussian_table(gaussian, names, level))
    if estimator == "map":
        say("\n(A MAP estimate: its log-likelihood needs the data; see gaussmle estimate.)")
    else:
        say(f"\nLog-likelihood at the MLE: {fmt_num(_loglik_at_mle(gaussian), 6)}.")
