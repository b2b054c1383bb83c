"""Commands that make classifiers: ``fit`` and ``merge`` (and the shared Bayes options)."""

from __future__ import annotations

import re
import time
from typing import Any

import click
import numpy as np

from .._text import fmt_count, json_text, render_table
from ..io import DataError
from ._app import (
    COVARIANCE_CHOICES,
    batch_rows_option,
    check_output_path,
    drop_missing_option,
    features_option,
    json_option,
    load_classifier,
    na_values_option,
    no_progress_option,
    parse_features,
    parse_na_values,
    say,
    scheduler_option,
    tell,
)
from ._spark import check_engine, engine_options, fit_on_spark
from ._stream import ReadSummary, stream_class_stats

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
@na_values_option()
@no_progress_option()
@scheduler_option()
@engine_options
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
    na_values: str | None,
    no_progress: bool,
    scheduler: str | None,
    engine: str,
    master: str,
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
      gaussmle fit 'table.parquet' --target label --engine spark --master 'local[2]' -o m.json
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
    if check_engine(engine, scheduler=scheduler, drop_missing=drop_missing):
        model = fit_on_spark(data, target, names, params, master)
        _check_classes(model.classes_, target, data)
        summary = ReadSummary(rows=int(round(float(np.sum(model.class_count_)))))
    elif scheduler is not None:
        model, summary = _fit_on_dask(data, target, names, params, scheduler, drop_missing)
    else:
        names = _check_target(data, target, names)
        from ..covariance import structure_for

        kind = structure_for(covariance).stats_kind
        if kind == "full":
            _warn_model_size(covariance, len(names))
        classes, stats, summary = stream_class_stats(
            data,
            names,
            target,
            kind,
            batch_rows=batch_rows,
            drop_missing=drop_missing,
            progress=not no_progress,
            keep_missing=missing == "marginalize",
            na_values=parse_na_values(na_values),
        )
        if summary.rows == 0:
            why = " (every row had a missing value)" if summary.dropped else ""
            raise DataError(f"{_quoted(data)} has no rows to fit{why}; check the data")
        _check_classes(classes, target, data)
        model = GaussianClassifier.from_stats(stats, classes, feature_names=names, **params)
    save(model, output)
    summary.seconds = time.perf_counter() - start
    _report_fit(model, data, output, summary, as_json)


#: Bytes a full-covariance class takes in a model file: its scatter matrix and its
#: covariance, d^2 numbers each, of about 25 characters in JSON.
_BYTES_PER_SQUARE = 2 * 25
#: A full fit warns when one class's part of the model file exceeds this.
_WARN_CLASS_BYTES = 100_000_000


def _warn_model_size(covariance: str, d: int) -> None:
    """Warn before a full (or tied) fit whose model will be huge: d^2 numbers per class.

    Examples
    --------
    >>> _warn_model_size("full", 10)  # small: nothing to say
    """
    per_class = _BYTES_PER_SQUARE * d * d
    if per_class < _WARN_CLASS_BYTES:
        return
    tell(
        f"warning: a {covariance} covariance of {d:,} features keeps {d * d:,} numbers per "
        f"class: the model file will be about {per_class / 1e6:,.0f} MB per class, and the "
        f"fit needs memory and time of the same order; consider --covariance diag, which "
        f"keeps {d:,} per class"
    )


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
    from ..dask_backend import read_parquet_xy
    from ._app import dask_client

    if drop_missing:
        raise DataError("--drop-missing is not available with --scheduler; clean the data first")
    model = GaussianClassifier(**params)
    with dask_client(scheduler):
        X, y, names = read_parquet_xy(data, names, target)
        try:
            model.fit(X, y)
        except ValueError as exc:
            located = _locate_bad_value(str(exc), data, names)
            if located is None:
                raise
            raise DataError(located) from None
    _check_classes(model.classes_, target, data)
    model.feature_names_in_ = np.asarray(names, dtype=object)
    return model, ReadSummary(rows=int(round(float(np.sum(model.class_count_)))))


_BAD_VALUE = re.compile(r"X contains (NaN|infinity \(inf\)) at row (\d+), column (\d+)")


def _locate_bad_value(message: str, data: str, names: list[str]) -> str | None:
    """A worker's "X contains NaN at row i" as the file, row and column of the value.

    The rows of the Dask fit are those of the Parquet files in reading order
    (:func:`gaussmle.dask_backend.read_parquet_xy`), so a row number falls in
    one file; None when the message is not about one value or the files cannot
    be listed.

    Examples
    --------
    >>> _locate_bad_value("something else", "x.parquet", ["a"]) is None
    True
    """
    match = _BAD_VALUE.search(message)
    if match is None:
        return None
    what, row, column = match.group(1), int(match.group(2)), int(match.group(3))
    try:
        import pyarrow.parquet as pq
        from fsspec.core import get_fs_token_paths

        _, _, paths = get_fs_token_paths(data, mode="rb")
        counts = [pq.ParquetFile(path).metadata.num_rows for path in paths]
    except Exception:  # noqa: BLE001 - the plain message is still right
        return None
    for path, count in zip(paths, counts, strict=True):
        if row < count:
            if what == "NaN":
                value, fix = (
                    "a missing value (NaN)",
                    "remove or impute it, or fit with --missing marginalize",
                )
            else:
                value, fix = "an infinite value", "remove or fix that row"
            return (
                f"column '{names[column]}' has {value} at row {row + 1} (1-based data row) of "
                f"'{path}'; {fix}"
            )
        row -= count
    return None


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
