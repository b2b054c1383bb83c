"""``gaussmle cluster``: fit a Gaussian mixture to unlabelled data by EM."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import click
import numpy as np

from .._text import json_text, render_table
from ..io import DataError
from ._app import (
    COVARIANCE_CHOICES,
    Progress,
    batch_rows_option,
    check_output_path,
    drop_missing_option,
    features_option,
    json_option,
    no_progress_option,
    parse_features,
    say,
    scheduler_option,
    tell,
)
from ._components import AUTO, ComponentsType, check_auto_options, fit_auto
from ._spark import check_engine, engine_options

COVARIANCE_HELP = (
    "full: a covariance matrix per component; tied: one matrix shared by all; diag: "
    "independent features; spherical: one variance per component."
)


MISSING_HELP = (
    "error: a missing value (an empty cell, NaN) stops the command (or its row is dropped "
    "with --drop-missing); marginalize: keep the row, fit by the exact EM for missing values "
    "and save a model that predicts rows with gaps by integrating the missing values out "
    "(--drop-missing then drops only rows with every feature missing)."
)


def read_features(
    data: str,
    names: list[str],
    *,
    batch_rows: int,
    drop_missing: bool,
    progress: bool,
    keep_missing: bool = False,
) -> tuple[np.ndarray, int]:
    """All rows of the feature columns, read batch by batch; (X, rows dropped).

    ``keep_missing``: rows with missing values are kept (NaN); a row with every
    feature missing is an error, or dropped with ``drop_missing``.
    """
    from ..io import iter_xy

    how = {"missing": "keep"} if keep_missing else {"drop_missing": drop_missing}
    parts: list[np.ndarray] = []
    rows = dropped = 0
    with Progress("reading", progress) as bar:
        for batch in iter_xy(data, names, None, batch_rows=batch_rows, **how):
            if batch.X.shape[0]:
                parts.append(batch.X)
            rows += batch.X.shape[0]
            dropped += batch.n_dropped
            bar.update(batch.fraction_done, rows + dropped)
    if keep_missing and parts:
        parts, empty = _without_empty_rows(parts, data, drop=drop_missing, seen=dropped)
        dropped += empty
    if not parts:
        why = " (every row had a missing value)" if dropped else ""
        raise DataError(f"'{data}' has no rows to cluster{why}; check the data")
    return np.concatenate(parts), dropped


def _without_empty_rows(
    parts: list[np.ndarray], data: str, *, drop: bool, seen: int
) -> tuple[list[np.ndarray], int]:
    """The batches without rows whose every feature is missing (an error unless ``drop``)."""
    kept, removed, offset = [], 0, 0
    for X in parts:
        empty = np.isnan(X).all(axis=1)
        if empty.any() and not drop:
            row = offset + int(np.argmax(empty)) + 1
            raise DataError(
                f"data row {row} of '{data}' has every feature missing; pass --drop-missing "
                "to drop such rows"
            )
        offset += X.shape[0]
        removed += int(empty.sum())
        if not empty.all():
            kept.append(X[~empty])
    return kept, removed


@click.command("cluster", short_help="Fit a Gaussian mixture to unlabelled data (EM).")
@click.argument("data")
@click.option(
    "--components",
    "-k",
    required=True,
    type=ComponentsType(),
    metavar="K|auto",
    help="Number of mixture components, or auto: chosen by BIC (see --criterion).",
)
@click.option("--max-components", type=click.IntRange(min=1), default=10, show_default=True,
              help="With --components auto: try 1 to this many.")  # fmt: skip
@click.option("--criterion", type=click.Choice(("bic", "icl")), default="bic", show_default=True,
              help="With --components auto: what the choice minimises.")  # fmt: skip
@click.option("--bootstrap", type=click.IntRange(min=0), default=0, show_default=True,
              metavar="B", help="With --components auto: bootstrap likelihood-ratio tests "
              "of k against k+1 with B replicates (2B fits per k).")  # fmt: skip
@features_option("Feature columns, comma-separated (default: every column).")
@click.option(
    "--covariance",
    type=click.Choice(COVARIANCE_CHOICES),
    default="full",
    show_default=True,
    help=COVARIANCE_HELP,
)
@click.option(
    "--init",
    type=click.Choice(("kmeans", "k-means++", "random", "random_from_data")),
    default="kmeans",
    show_default=True,
    help="How the components start (kmeans: scikit-learn's KMeans).",
)
@click.option("--n-init", type=click.IntRange(min=1), default=1, show_default=True,
              help="Starts; the one with the best log-likelihood is kept.")  # fmt: skip
@click.option("--max-iter", type=click.IntRange(min=1), default=100, show_default=True,
              help="Most EM iterations per start.")  # fmt: skip
@click.option("--tol", type=click.FloatRange(min=0.0), default=1e-3, show_default=True,
              help="Stop when the mean log-likelihood per row changes by less.")  # fmt: skip
@click.option("--reg-covar", type=click.FloatRange(min=0.0), default=1e-6, show_default=True,
              help="Added to every variance (as scikit-learn's reg_covar).")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the start.")
@click.option("--missing", type=click.Choice(("error", "marginalize")), default="error",
              show_default=True, help=MISSING_HELP)  # fmt: skip
@batch_rows_option()
@drop_missing_option()
@no_progress_option()
@json_option()
@scheduler_option()
@engine_options
@click.option(
    "--stream",
    is_flag=True,
    help="Keep no rows in memory: read DATA (files, not standard input) once per EM "
    "iteration in batches of --batch-rows, with a line per iteration on standard error; "
    "the start is computed on at most 10,000 rows drawn at random (all rows of smaller "
    "files). Automatic for files over 1 GiB (with a number of components, without --scheduler).",
)
@click.option(
    "-o", "--output", required=True, metavar="MODEL.json", help="Where to write the model."
)
def cluster_command(
    data: str,
    components: int | str,
    max_components: int,
    criterion: str,
    bootstrap: int,
    features: str | None,
    covariance: str,
    init: str,
    n_init: int,
    max_iter: int,
    tol: float,
    reg_covar: float,
    seed: int,
    missing: str,
    batch_rows: int,
    drop_missing: bool,
    no_progress: bool,
    as_json: bool,
    scheduler: str | None,
    stream: bool,
    engine: str,
    master: str,
    output: str,
) -> None:
    """Fit a mixture of K Gaussians to unlabelled DATA by EM and save the model.

    DATA is a CSV, Parquet or .npy file, a glob of them, or - for CSV on
    standard input. It is read batch by batch (with a progress bar) and the
    feature columns are kept in memory, since EM passes over the rows once
    per iteration; each pass folds the responsibilities of a chunk of rows
    into exact per-component statistics, so no rows-by-components matrix is
    kept. Components that collapse or lose all their weight are repaired and
    a note on standard error says what was done. With --scheduler the rows stay
    on Dask (DATA: Parquet files): each EM iteration is one map-reduce of the
    partitions' statistics, and the start is computed on a sample of rows.
    With --stream (automatic for files over 1 GiB) no rows are kept: the files
    are read once per EM iteration, so memory is bounded by --batch-rows.
    With --engine spark, Spark reads DATA (Parquet, or CSV with a header) and
    each EM iteration is one Spark job that merges the partitions' statistics.

    With --components auto, mixtures of 1 to --max-components components
    are fitted and the one with the lowest BIC (or ICL) is kept; the table
    of criteria and the reason are printed first.

    \b
    Examples:
      gaussmle cluster skittles.csv --components 2 --features sweetness,chewiness -o mix.json
      gaussmle cluster data.parquet -k 10 --covariance diag --n-init 3 -o mix.json
      gaussmle cluster data.csv --components auto --max-components 6 -o mix.json
      gaussmle cluster big.csv -k 3 --covariance diag --stream -o mix.json
      gaussmle cluster gaps.csv -k 3 --missing marginalize -o mix.json
      gaussmle cluster table.parquet -k 3 --engine spark --master 'local[2]' -o mix.json
    """
    from ..dask_backend import read_parquet_xy
    from ..io import table_columns
    from ..mixture import GaussianMixture
    from ..persist import save
    from ._app import dask_client
    from ._cluster_stream import should_stream

    check_output_path(output)
    check_auto_options(components, bootstrap)
    settings = {"tol": tol, "reg_covar": reg_covar, "max_iter": max_iter, "n_init": n_init,
                "init_params": init, "random_state": seed}  # fmt: skip
    start = time.perf_counter()
    marginalize = missing == "marginalize"
    if check_engine(engine, scheduler=scheduler, stream=stream, drop_missing=drop_missing):
        if marginalize:
            raise DataError(
                "--missing marginalize is not available with --engine spark yet; drop the "
                "rows with missing values first"
            )
        if components == AUTO:
            raise DataError("--components auto is not available with --engine spark; give K")
        _cluster_on_spark(
            GaussianMixture(components, covariance_type=covariance, **settings),
            data, parse_features(features), output, start, as_json, master,
        )  # fmt: skip
        return
    if stream and (scheduler is not None or components == AUTO):
        what = "--scheduler" if scheduler is not None else "--components auto"
        raise DataError(f"--stream is not available with {what}; leave one of them out")
    if marginalize:
        _check_missing_options(components, scheduler)
        settings["missing"] = missing
    if marginalize and stream:
        raise DataError(
            "--stream is not available with --missing marginalize yet; leave one of them out"
        )
    if scheduler is not None:
        if components == AUTO:
            raise DataError(
                "--components auto is not available with --scheduler; give the number of components"
            )
        if drop_missing:
            raise DataError(
                "--drop-missing is not available with --scheduler; clean the data first"
            )
        model = GaussianMixture(components, covariance_type=covariance, **settings)
        with dask_client(scheduler):
            X, _, names = read_parquet_xy(data, parse_features(features), None)
            _check_enough_rows(X.shape[0], components, data)
            notes = _fit_noting(model, X, data, names)
            model.feature_names_in_ = np.asarray(names, dtype=object)
            save(model, output)
            seconds = time.perf_counter() - start
            _print_report(model, _numbers_of(model, X), data, output, 0, seconds, notes, as_json)
        return
    names = parse_features(features) or table_columns(data)
    if components != AUTO and not marginalize and should_stream(data, stream):
        model = GaussianMixture(components, covariance_type=covariance, **settings)
        _cluster_streaming(model, data, names, output, start, as_json, batch_rows=batch_rows,
                           drop_missing=drop_missing, progress=not no_progress)  # fmt: skip
        return
    X, dropped = read_features(
        data,
        names,
        batch_rows=batch_rows,
        drop_missing=drop_missing,
        progress=not no_progress,
        keep_missing=marginalize,
    )
    extra: dict[str, Any] = {}
    if components == AUTO:
        model, notes, selection = fit_auto(
            X, covariance=covariance, max_components=max_components, bootstrap=bootstrap,
            settings=settings, criterion=criterion, as_json=as_json, progress=not no_progress,
        )  # fmt: skip
        extra["selection"] = selection.to_dict()
    else:
        _check_enough_rows(X.shape[0], components, data)
        model = GaussianMixture(components, covariance_type=covariance, **settings)
        notes = _fit_noting(model, X, data, names)
    model.feature_names_in_ = np.asarray(names, dtype=object)
    save(model, output)
    seconds = time.perf_counter() - start
    numbers = _numbers_of(model, X)
    _print_report(model, numbers, data, output, dropped, seconds, notes, as_json, extra)


def _check_missing_options(components: int | str, scheduler: str | None) -> None:
    """--missing marginalize works with a number of components and data in memory."""
    if components == AUTO:
        raise DataError(
            "--components auto is not available with --missing marginalize yet; give the "
            "number of components"
        )
    if scheduler is not None:
        raise DataError(
            "--missing marginalize is not available with --scheduler yet; drop the rows "
            "with missing values first"
        )


def _check_enough_rows(rows: int, components: int, data: str) -> None:
    if rows < components:
        raise DataError(
            f"'{data}' has {rows} rows, fewer than the {components} components; use "
            "fewer components"
        )


def _cluster_streaming(
    model: Any,
    data: str,
    names: list[str],
    output: str,
    start: float,
    as_json: bool,
    *,
    batch_rows: int,
    drop_missing: bool,
    progress: bool,
) -> None:
    """``cluster --stream``: EM with one pass over the files per iteration, then the report."""
    from ..persist import save
    from ._cluster_stream import ProgressRows, summarise

    source = ProgressRows(
        data,
        names,
        batch_rows=batch_rows,
        drop_missing=drop_missing,
        progress=progress,
        components=model.n_components,
    )
    notes = _fit_noting(model, source, data, names, fit=model.fit_source)
    model.feature_names_in_ = np.asarray(names, dtype=object)
    save(model, output)
    sizes, loglik, rows = summarise(model, source, progress)
    bic = -2.0 * loglik + model._n_parameters() * float(np.log(rows))
    numbers = _Numbers(rows, len(names), sizes, bic)
    seconds = time.perf_counter() - start
    _print_report(model, numbers, data, output, source.n_dropped, seconds, notes, as_json)


def _cluster_on_spark(
    model: Any,
    data: str,
    features: list[str] | None,
    output: str,
    start: float,
    as_json: bool,
    master: str,
) -> None:
    """``cluster --engine spark``: one Spark job per EM pass, one more for the report."""
    from ..persist import save
    from ..spark._mixture import score_rows
    from ._spark import quiet_fit_source, spark_rows

    source, names = spark_rows(data, features, master)
    try:
        notes = _fit_noting(model, source, data, names, fit=quiet_fit_source(model))
        model.feature_names_in_ = np.asarray(names, dtype=object)
        sizes, loglik, rows = score_rows(model, source)
    finally:
        source.release()
    save(model, output)
    bic = -2.0 * loglik + model._n_parameters() * float(np.log(rows))
    seconds = time.perf_counter() - start
    _print_report(model, _Numbers(rows, len(names), sizes, bic), data, output, 0, seconds,
                  notes, as_json)  # fmt: skip


def _fit_noting(model: Any, X: Any, data: str, names: list[str], fit: Any = None) -> list[str]:
    """Fit ``model`` to X (with ``fit``: ``model.fit``); its warnings, as notes (a bad
    value located in DATA)."""
    from ._train import _locate_bad_value

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            (fit or model.fit)(X)
        except ValueError as exc:
            located = _locate_bad_value(str(exc), data, names)
            if located is None:
                raise
            raise DataError(located) from None
    return [str(w.message) for w in caught]


@dataclass(frozen=True)
class _Numbers:
    """What the report says about the data under the fitted model."""

    rows: int
    n_features: int
    sizes: np.ndarray  # rows per component (most probable)
    bic: float
    incomplete: int = 0  # rows kept with missing values (--missing marginalize)


def _numbers_of(model: Any, X: np.ndarray) -> _Numbers:
    """What the report says about the rows ``X`` in memory under the fitted ``model``."""
    from ._app import unnamed

    quiet = unnamed(model)  # X here is a plain array: no feature-name warnings
    sizes = np.bincount(np.asarray(quiet.predict(X)), minlength=len(model.weights_))
    incomplete = int(np.isnan(X).any(axis=1).sum())
    return _Numbers(int(X.shape[0]), int(X.shape[1]), sizes, float(quiet.bic(X)), incomplete)


def _print_report(
    model: Any,
    numbers: _Numbers,
    data: str,
    output: str,
    dropped: int,
    seconds: float,
    notes: list[str],
    as_json: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    sizes, bic = numbers.sizes, numbers.bic
    loglik = float(model.lower_bound_)
    if as_json:
        say(
            json_text(
                {
                    "model": output,
                    "data": data,
                    "rows": numbers.rows,
                    "dropped": dropped,
                    "features": [str(n) for n in model.feature_names_in_],
                    "covariance_type": model.covariance_type,
                    "components": [
                        {"component": c, "weight": float(w), "rows": int(n), "mean": m.tolist()}
                        for c, (w, n, m) in enumerate(
                            zip(model.weights_, sizes, model.means_, strict=True)
                        )
                    ],
                    "converged": bool(model.converged_),
                    "iterations": int(model.n_iter_),
                    "log_likelihood_per_row": loglik,
                    "bic": bic,
                    "notes": notes,
                    "seconds": seconds,
                }
                | (extra or {})
            )
        )
        return
    for note in notes:
        tell(f"note: {note}")
    gone = f", dropped {dropped:,} with missing values" if dropped else ""
    if numbers.incomplete:  # --missing marginalize
        gone += f", kept {numbers.incomplete:,} with missing values (marginalised)"
    say(
        f"Read {numbers.rows:,} rows of {numbers.n_features} features from {data}{gone} "
        f"({seconds:.1f} s)."
    )
    state = "converged" if model.converged_ else "stopped without converging"
    say(
        f"EM {state} after {model.n_iter_} iterations (covariance {model.covariance_type}): "
        f"log-likelihood {loglik:.6g} per row, BIC {bic:.6g}."
    )
    names = [str(n) for n in model.feature_names_in_]
    rows = [
        [c, round(float(w), 4), int(n)] + [float(f"{v:.4g}") for v in m]
        for c, (w, n, m) in enumerate(zip(model.weights_, sizes, model.means_, strict=True))
    ]
    say(render_table(["component", "weight", "rows"] + [f"mean {n}" for n in names], rows))
    say(f"Saved the model to {output}.")
