"""The ``estimate`` command: a plain Gaussian of unlabelled columns, with SEs."""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from .._estimates import correlation_table, gaussian_table
from .._text import fmt_num, json_text, wrap
from ..covariance import structure_for
from ..io import DataError
from ._app import (
    GAUSSIAN_CHOICES,
    batch_rows_option,
    check_output_path,
    drop_missing_option,
    features_option,
    json_option,
    no_progress_option,
    parse_features,
    say,
)
from ._stream import stream_stats
from ._train import (
    _quoted,
    _where,
    bayes_options,
    prior_from_options,
)


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
    kind = structure_for(covariance).stats_kind
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
        from .._text import estimate_rows

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
    structure = structure_for(covariance)
    if structure.one_variance:
        say("  (spherical: one variance shared by all features)")
    if not structure.independent_features and len(names) > 1:  # full
        say("\nCorrelations:")
        say(correlation_table(gaussian.covariance, names))
    if estimator == "map":
        from ..summary import prior_text  # one wording of the prior, shared with describe

        say("\n" + wrap(prior_text(prior), width=90, indent=0))
    at = "the MLE" if estimator == "mle" else "the MAP estimate"
    say(
        f"\nLog-likelihood at {at}: {fmt_num(loglik, 6)} ({gaussian.n_parameters} free "
        "parameters). SE: standard error; intervals at "
        f"{level:.0%}."
    )
    if output is not None:
        say(f"Saved the Gaussian to {output}.")


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
    if not structure_for(gaussian.covariance_type).independent_features:  # full
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
    if not structure_for(gaussian.covariance_type).independent_features:  # full
        logdet = float(np.linalg.slogdet(gaussian.covariance)[1])
    else:
        logdet = float(np.sum(np.log(gaussian.variance)))
    return float(-0.5 * n * (d * np.log(2.0 * np.pi) + logdet + d))
