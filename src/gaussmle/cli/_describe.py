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
from ._use import MODEL_FEATURES_HELP, quoted


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
        "var_smoothing": float(model.var_smoothing),
        "epsilon": float(model.epsilon_),
        "features": feature_names(model),
        "n_classes": len(model.classes_),
        "n_parameters": int(model.n_parameters),
        "rows": float(np.sum(model.class_count_)),
        "level": level,
        "classes": class_estimates(model, level),
    }


def _data_report(
    model: Any, data: str, target: str, features: list[str] | None, drop_missing: bool
) -> dict[str, Any]:
    from ..diagnostics import normality_tests, warnings_for
    from ..io import read_xy
    from ._app import align_labels

    names = model_features(model, data, features, exclude=[target])
    batch = read_xy(data, names, target, drop_missing=drop_missing)
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
    tests = normality_tests(batch.X, y, feature_names=feature_names(model))
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


def _describe_text(model: Any, report: dict[str, Any], level: float) -> str:
    k, d = report["n_classes"], len(report["features"])
    lines = [
        f"{report['model']}: one Gaussian per class, covariance {report['covariance_type']}, "
        f"{k} classes, {d} features,",
        f"fitted on {fmt_count(report['rows'])} rows; {report['n_parameters']} free parameters.",
        f"var_smoothing {report['var_smoothing']:g} adds epsilon = {report['epsilon']:.3g} to "
        "every variance."
        + (f" Estimator: {report['estimator']}." if report["estimator"] != "mle" else ""),
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
    from ._format import estimate_rows
    from ._train import _loglik_at_mle

    names = [f"x{j}" for j in range(gaussian.n_features)]
    if as_json:
        part = estimate_rows(gaussian, level)
        say(
            json_text(
                {
                    "model": path,
                    "kind": "Gaussian",
                    "covariance_type": gaussian.covariance_type,
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
    say(
        f"{path}: one Gaussian (covariance {gaussian.covariance_type}) of "
        f"{gaussian.n_features} features, estimated from {fmt_count(gaussian.n)} rows."
    )
    say(gaussian_table(gaussian, names, level))
    say(f"\nLog-likelihood at the MLE: {fmt_num(_loglik_at_mle(gaussian), 6)}.")
