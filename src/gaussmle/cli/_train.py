"""Commands that make models: ``fit``, ``estimate`` and ``merge``."""

from __future__ import annotations

import time
from typing import Any

import click
import numpy as np

from ..io import DataError
from ._app import (
    COVARIANCE_CHOICES,
    GAUSSIAN_CHOICES,
    batch_rows_option,
    check_output_path,
    drop_missing_option,
    features_option,
    json_option,
    load_classifier,
    no_progress_option,
    parse_features,
    say,
    scheduler_option,
)
from ._format import fmt_count, fmt_num, json_text, render_table, wrap
from ._models import correlation_table, gaussian_table
from ._stream import ReadSummary, stream_class_stats, stream_stats

COVARIANCE_HELP = (
    "diag: independent features (Gaussian naive Bayes); full: a covariance matrix per class "
    "(QDA); tied: one matrix shared by all classes (LDA); spherical: one variance per class."
)


ESTIMATOR_HELP = (
    "mle: maximum likelihood; map: the maximum a posteriori estimate under a conjugate prior "
    "(by default weak and centred on all the data), which needs no --var-smoothing."
)
MISSING_HELP = (
    "error: a missing feature value (an empty cell, NaN) stops the command (or its row is "
    "dropped with --drop-missing); marginalize: keep the row, fit each feature from the rows "
    "where it is observed (diag and spherical only) and save a model that predicts rows with "
    "gaps by integrating the missing values out."
)


def bayes_options(func: Any) -> Any:
    """``--estimator``, ``--prior-strength`` and ``--prior-variance-strength``."""
    func = click.option(
        "--prior-variance-strength",
        type=click.FloatRange(min=0.0, min_open=True),
        default=None,
        metavar="N",
        help="How many observations the prior guess of the variances (the variance of all "
        "the data) is worth (default 1).",
    )(func)
    func = click.option(
        "--prior-strength",
        type=click.FloatRange(min=0.0, min_open=True),
        default=None,
        metavar="N",
        help="How many observations the prior guess of the means (the mean of all the data) "
        "is worth (default 0.01).",
    )(func)
    return click.option(
        "--estimator",
        type=click.Choice(("mle", "map")),
        default="mle",
        show_default=True,
        help=ESTIMATOR_HELP,
    )(func)


def prior_from_options(
    estimator: str,
    prior_strength: float | None,
    prior_variance_strength: float | None,
    predictive: bool = False,
) -> dict[str, float] | None:
    """The prior of --prior-strength and --prior-variance-strength (None: the default).

    Examples
    --------
    >>> prior_from_options("map", 5.0, None)
    {'mean_strength': 5.0, 'variance_strength': 1.0}
    >>> prior_from_options("mle", None, None) is None
    True
    """
    if prior_strength is None and prior_variance_strength is None:
        return None
    if estimator != "map" and not predictive:
        raise DataError(
            "--prior-strength and --prior-variance-strength set the prior of --estimator map "
            "(or --predictive); add --estimator map"
        )
    from ..prior import ConjugatePrior

    default = ConjugatePrior()
    return {
        "mean_strength": float(default.mean_strength if prior_strength is None else prior_strength),
        "variance_strength": float(
            default.variance_strength
            if prior_variance_strength is None
            else prior_variance_strength
        ),
    }


def _where(data: str) -> str:
    return "standard input" if data == "-" else data


def _quoted(data: str) -> str:
    return "standard input" if data == "-" else f"'{data}'"


def _check_target(data: str, target: str, features: list[str] | None) -> list[str]:
    """The feature columns, after checking that the target column exists."""
    from ..io import table_columns

    columns = table_columns(data)
    if target not in columns:
        shown = ", ".join(columns)
        raise DataError(
            f"target column '{target}' not found in {_quoted(data)}; available columns: {shown}"
        )
    if features is None:
        features = [c for c in columns if c != target]
        if not features:
            raise DataError(
                f"{_quoted(data)} has no columns besides the target '{target}'; add feature columns"
            )
    return features


def _classes_rows(model: Any) -> list[list[Any]]:
    total = float(np.sum(model.class_count_))
    return [
        [str(c.item() if isinstance(c, np.generic) else c), fmt_count(n), f"{n / total:.1%}"]
        for c, n in zip(model.classes_, model.class_count_, strict=True)
    ]


@click.command("fit", short_help="Fit one Gaussian per class to labelled data.")
@click.argument("data")
@click.option("--target", required=True, metavar="COL", help="The column holding the labels.")
@features_option()
@click.option(
    "--covariance",
    type=click.Choice(COVARIANCE_CHOICES),
    default="diag",
    show_default=True,
    help=COVARIANCE_HELP,
)
@click.option(
    "--var-smoothing",
    type=click.FloatRange(min=0.0),
    default=1e-9,
    show_default=True,
    help="Adds this share of the largest feature variance to every variance (MLE only).",
)
@bayes_options
@click.option(
    "--predictive",
    is_flag=True,
    help="Classify with the posterior predictive densities (Student t), which widen for "
    "classes with few rows; the reported estimates are then the MAP.",
)
@click.option(
    "--missing",
    type=click.Choice(("error", "marginalize")),
    default="error",
    show_default=True,
    help=MISSING_HELP,
)
@batch_rows_option()
@drop_missing_option()
@no_progress_option()
@scheduler_option()
@json_option()
@click.option(
    "-o", "--output", required=True, metavar="MODEL.json", help="Where to write the model."
)
def fit_command(
    data: str,
    target: str,
    features: str | None,
    covariance: str,
    var_smoothing: float,
    estimator: str,
    prior_strength: float | None,
    prior_variance_strength: float | None,
    predictive: bool,
    missing: str,
    batch_rows: int,
    drop_missing: bool,
    no_progress: bool,
    scheduler: str | None,
    as_json: bool,
    output: str,
) -> None:
    """Fit one Gaussian per class to labelled DATA and save the model.

    DATA is a CSV, Parquet or .npy file, a glob of them, or - for CSV on
    standard input. It is read in batches of rows, each batch turned into
    per-class statistics and merged exactly, so DATA may be bigger than
    memory and the model is the same as fitting all rows at once.

    With --missing marginalize, rows with missing feature values are kept:
    each feature is estimated from the rows where it is observed (valid
    when values are missing at random), and the saved model predicts rows
    with gaps by integrating the missing values out. --drop-missing then
    drops only rows without a label.

    \b
    Examples:
      gaussmle fit skittles.csv --target colour -o skittles.json
      gaussmle fit skittles.csv --target colour --covariance full -o full.json
      gaussmle fit skittles.csv --target colour --estimator map --prior-strength 5 -o map.json
      gaussmle fit gaps.csv --target colour --missing marginalize -o gaps.json
      gaussmle fit 'parts/*.parquet' --target label --features a,b,c -o model.json
      cat skittles.csv | gaussmle fit - --target colour -o skittles.json
    """
    from ..classifier import GaussianClassifier
    from ..persist import save

    check_output_path(output)
    names = parse_features(features)
    params: dict[str, Any] = {
        "covariance_type": covariance,
        "var_smoothing": var_smoothing,
        "estimator": estimator,
        "prior": prior_from_options(estimator, prior_strength, prior_variance_strength, predictive),
        "predictive": predictive,
        "missing": missing,
    }
    start = time.perf_counter()
    if scheduler is not None:
        model, summary = _fit_on_dask(data, target, names, params, scheduler, drop_missing)
    else:
        names = _check_target(data, target, names)
        kind = "full" if covariance in ("full", "tied") else "diag"
        classes, stats, summary = stream_class_stats(
            data,
            names,
            target,
            kind,
            batch_rows=batch_rows,
            drop_missing=drop_missing,
            progress=not no_progress,
            keep_missing=missing == "marginalize",
        )
        if summary.rows == 0:
            why = " (every row had a missing value)" if summary.dropped else ""
            raise DataError(f"{_quoted(data)} has no rows to fit{why}; check the data")
        _check_classes(classes, target, data)
        model = GaussianClassifier.from_stats(stats, classes, feature_names=names, **params)
    save(model, output)
    summary.seconds = time.perf_counter() - start
    _report_fit(model, data, output, summary, as_json)


def _check_classes(classes: np.ndarray, target: str, data: str) -> None:
    if len(classes) < 2:
        only = f" ('{classes[0]}')" if len(classes) else ""
        raise DataError(
            f"the target column '{target}' of {_quoted(data)} has only one class{only}; a "
            "classifier needs at least two classes (use gaussmle estimate to fit one Gaussian)"
        )


def _fit_on_dask(
    data: str,
    target: str,
    names: list[str] | None,
    params: dict[str, Any],
    scheduler: str,
    drop_missing: bool,
) -> tuple[Any, ReadSummary]:
    from ..classifier import GaussianClassifier
    from ..dask_backend import client_for, read_parquet_xy

    if drop_missing:
        raise DataError("--drop-missing is not available with --scheduler; clean the data first")
    model = GaussianClassifier(**params)
    with client_for(scheduler):
        X, y, names = read_parquet_xy(data, names, target)
        model.fit(X, y)
    _check_classes(model.classes_, target, data)
    model.feature_names_in_ = np.asarray(names, dtype=object)
    return model, ReadSummary(rows=int(round(float(np.sum(model.class_count_)))))


def _report_fit(model: Any, data: str, output: str, summary: ReadSummary, as_json: bool) -> None:
    names = [str(n) for n in model.feature_names_in_]
    if as_json:
        say(
            json_text(
                {
                    "model": output,
                    "data": data,
                    "rows": summary.rows,
                    "dropped": summary.dropped,
                    "features": names,
                    "covariance_type": model.covariance_type,
                    "var_smoothing": model.var_smoothing,
                    "estimator": model.estimator,
                    "prior": model.prior,
                    "predictive": bool(model.predictive),
                    "missing": model.missing,
                    "incomplete_rows": summary.incomplete,
                    "classes": [
                        {"class": c, "count": n, "prior": p}
                        for c, n, p in zip(
                            model.classes_.tolist(),
                            model.class_count_.tolist(),
                            model.class_prior_.tolist(),
                            strict=True,
                        )
                    ],
                    "seconds": summary.seconds,
                }
            )
        )
        return
    dropped = f", dropped {summary.dropped:,} with missing values" if summary.dropped else ""
    if summary.incomplete:
        dropped += f", kept {summary.incomplete:,} with missing values"
    say(
        f"Read {summary.rows:,} rows of {len(names)} features from {_where(data)}{dropped} "
        f"({summary.seconds:.1f} s)."
    )
    how = f"covariance {model.covariance_type}"
    if model.estimator == "map":
        how += ", MAP estimates"
    if model.predictive:
        how += ", predictive densities"
    if model.missing == "marginalize":
        how += ", missing values marginalised"
    say(f"Fitted one Gaussian per class ({how}) for {len(model.classes_)} classes:")
    say(render_table(["class", "rows", "share"], _classes_rows(model), align="lrr"))
    say(f"Saved the model to {output}.")


@click.command("estimate", short_help="Gaussian MLE of unlabelled columns, with SEs.")
@click.argument("data")
@features_option("Columns to estimate, comma-separated (default: all columns).")
@click.option(
    "--covariance",
    type=click.Choice(GAUSSIAN_CHOICES),
    default="diag",
    show_default=True,
    help="diag: a variance per feature; full: the covariance matrix; spherical: one variance.",
)
@click.option(
    "--level",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of the intervals.",
)
@bayes_options
@batch_rows_option()
@drop_missing_option()
@no_progress_option()
@json_option()
@click.option(
    "-o", "--output", default=None, metavar="GAUSSIAN.json", help="Also save the Gaussian."
)
def estimate_command(
    data: str,
    features: str | None,
    covariance: str,
    level: float,
    estimator: str,
    prior_strength: float | None,
    prior_variance_strength: float | None,
    batch_rows: int,
    drop_missing: bool,
    no_progress: bool,
    as_json: bool,
    output: str | None,
) -> None:
    """Maximum likelihood Gaussian of the columns of DATA (no labels).

    The estimates are the sample mean and the variance with divisor N, with
    standard errors from the Fisher information and exact intervals (t for
    means, chi-square for variances). DATA is streamed in batches. With
    --estimator map they are the posterior mode under a conjugate prior
    instead. The saved Gaussian (-o) keeps the column names.

    \b
    Examples:
      gaussmle estimate skittles.csv --features "aromatic lift,elegance"
      gaussmle estimate measurements.parquet --covariance full --json
      gaussmle estimate few.csv --estimator map --prior-variance-strength 5
    """
    from ..io import table_columns
    from ..persist import save

    check_output_path(output)
    prior = prior_from_options(estimator, prior_strength, prior_variance_strength)
    names = parse_features(features)
    if names is None:
        names = table_columns(data)
    kind = "full" if covariance == "full" else "diag"
    stats, summary = stream_stats(
        data,
        names,
        kind,
        batch_rows=batch_rows,
        drop_missing=drop_missing,
        progress=not no_progress,
    )
    if stats is None:
        raise DataError(f"{_quoted(data)} has no rows to estimate from; check the data")
    gaussian = _gaussian_of(stats, covariance, estimator, prior)
    if output is not None:
        save(gaussian, output, feature_names=names, estimator=estimator)
    loglik = _loglik_at_mle(gaussian) if estimator == "mle" else _loglik(stats, gaussian)
    if as_json:
        from ._format import estimate_rows

        part = estimate_rows(gaussian, level)
        payload = {
            "data": data,
            "rows": summary.rows,
            "dropped": summary.dropped,
            "covariance_type": covariance,
            "estimator": estimator,
            "prior": prior,
            "level": level,
            "features": [
                {"feature": name, **{key: part[key][j] for key in part}}
                for j, name in enumerate(names)
            ],
            "covariance": np.asarray(gaussian.covariance).tolist(),
            "loglik": loglik,
            "n_parameters": gaussian.n_parameters,
            "model": output,
        }
        say(json_text(payload))
        return
    dropped = f", {summary.dropped:,} dropped with missing values" if summary.dropped else ""
    title = "Maximum likelihood" if estimator == "mle" else "Maximum a posteriori"
    say(
        f"{title} Gaussian of {summary.rows:,} rows of {_where(data)}{dropped} "
        f"(covariance {covariance}):"
    )
    say(gaussian_table(gaussian, names, level))
    if covariance == "spherical":
        say("  (spherical: one variance shared by all features)")
    if covariance == "full" and len(names) > 1:
        say("\nCorrelations:")
        say(correlation_table(gaussian.covariance, names))
    if estimator == "map":
        say("\n" + wrap(prior_text(prior), width=90, indent=0))
    at = "the MLE" if estimator == "mle" else "the MAP estimate"
    say(
        f"\nLog-likelihood at {at}: {fmt_num(loglik, 6)} ({gaussian.n_parameters} free "
        "parameters). SE: standard error; intervals at "
        f"{level:.0%}."
    )
    if output is not None:
        say(f"Saved the Gaussian to {output}.")


def prior_text(prior: Any) -> str:
    """One sentence on the conjugate prior (None: the default one).

    Examples
    --------
    >>> print(prior_text(None))
    Prior: the means are centred on the mean of all the data, worth 0.01 observations; the variances on the variance of all the data, worth 1 observation.
    """  # noqa: E501
    from ..prior import coerce_prior

    p = coerce_prior(prior)

    def worth(n: float) -> str:
        return f"worth {n:g} observation{'' if n == 1 else 's'}"

    where_mean = "the mean of all the data" if p.mean is None else f"{_short(p.mean)} (given)"
    where_var = (
        "the variance of all the data" if p.variance is None else f"{_short(p.variance)} (given)"
    )
    return (
        f"Prior: the means are centred on {where_mean}, {worth(p.mean_strength)}; the "
        f"variances on {where_var}, {worth(p.variance_strength)}."
    )


def _short(values: Any) -> str:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    return "[" + ", ".join(f"{v:.4g}" for v in arr[:6]) + (", ...]" if arr.size > 6 else "]")


def _gaussian_of(stats: Any, covariance: str, estimator: str, prior: Any) -> Any:
    """The MLE (or MAP) Gaussian of single-group statistics."""
    from ..estimate import gaussian_from_stats
    from ..gaussian import Gaussian
    from ..prior import map_estimate

    if estimator == "mle":
        return gaussian_from_stats(stats, covariance)
    mean, cov = map_estimate(stats, covariance, prior)
    return Gaussian(mean, cov, covariance, n=float(stats.count))


def _loglik(stats: Any, gaussian: Any) -> float:
    """The log-likelihood of the data behind ``stats`` at any Gaussian.

    ``-N/2 (d log(2 pi) + log det(Sigma)) - 1/2 tr(Sigma^-1 (S + N delta delta^T))``
    with ``S`` the scatter of the data and ``delta`` its mean minus the Gaussian's.
    """
    n, d = float(stats.count), gaussian.n_features
    delta = np.asarray(stats.mean) - gaussian.mean
    if gaussian.covariance_type == "full":
        cov = np.asarray(gaussian.covariance)
        scatter = np.asarray(stats.m2) + n * np.outer(delta, delta)
        logdet = float(np.linalg.slogdet(cov)[1])
        quad = float(np.trace(np.linalg.solve(cov, scatter)))
    else:
        var = gaussian.variance
        m2 = np.asarray(stats.to_diag().m2)
        logdet = float(np.sum(np.log(var)))
        quad = float(np.sum((m2 + n * delta * delta) / var))
    return float(-0.5 * n * (d * np.log(2.0 * np.pi) + logdet) - 0.5 * quad)


def _loglik_at_mle(gaussian: Any) -> float:
    """The log-likelihood at the MLE, from the estimates alone.

    At the MLE the Mahalanobis terms add up to ``N d``, so
    ``LL = -N/2 (d log(2 pi) + log det(Sigma) + d)``.
    """
    n, d = gaussian.n, gaussian.n_features
    if gaussian.covariance_type == "full":
        logdet = float(np.linalg.slogdet(gaussian.covariance)[1])
    else:
        logdet = float(np.sum(np.log(gaussian.variance)))
    return float(-0.5 * n * (d * np.log(2.0 * np.pi) + logdet + d))


@click.command("merge", short_help="Merge models trained on different data.")
@click.argument("models", nargs=-1, required=True, metavar="MODEL.json...")
@click.option("-o", "--output", required=True, metavar="OUT.json", help="Where to write it.")
@json_option()
def merge_command(models: tuple[str, ...], output: str, as_json: bool) -> None:
    """Merge models trained on different data into the model of all their data.

    The models keep their sufficient statistics, so the result is exactly
    the model that fitting all the data at once would give (classes are
    united; the covariance type and smoothing come from the first model).

    \b
    Examples:
      gaussmle merge monday.json tuesday.json -o week.json
      gaussmle merge shard-*.json -o all.json
    """
    from ..persist import save

    if len(models) < 2:
        raise DataError("give at least two model files to merge")
    check_output_path(output)
    loaded = [load_classifier(path) for path in models]
    merged = loaded[0]
    for path, model in zip(models[1:], loaded[1:], strict=True):
        try:
            merged = merged.merge(model)
        except ValueError as exc:
            raise DataError(f"cannot merge '{path}': {exc}") from None
    save(merged, output)
    if as_json:
        say(
            json_text(
                {
                    "model": output,
                    "inputs": list(models),
                    "classes": [
                        {"class": c, "count": n}
                        for c, n in zip(
                            merged.classes_.tolist(), merged.class_count_.tolist(), strict=True
                        )
                    ],
                }
            )
        )
        return
    say(f"Merged {len(models)} models into {output}:")
    say(render_table(["class", "rows", "share"], _classes_rows(merged), align="lrr"))
