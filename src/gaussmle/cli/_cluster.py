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


def load_predictor(path: str) -> Any:
    """A classifier or a mixture from a model file (refusing a single Gaussian's file)."""
    from ..classifier import GaussianClassifier
    from ..mixture import GaussianMixture
    from ..persist import load

    model = load(path)
    if not isinstance(model, GaussianClassifier | GaussianMixture):
        raise DataError(
            f"'{path}' holds a single Gaussian (from gaussmle estimate), not a classifier or a "
            "mixture; make one with gaussmle fit or gaussmle cluster"
        )
    return model


def check_mixture_options(model: Any, *, explain: bool, ood: float | None) -> None:
    """Refuse the predict options that only classifiers have, for a mixture."""
    from ..mixture import GaussianMixture

    if not isinstance(model, GaussianMixture):
        return
    for given, option in ((explain, "--explain"), (ood is not None, "--ood-threshold")):
        if given:
            raise DataError(
                f"{option} is for classifiers; this model file holds a Gaussian mixture "
                "(leave the option out)"
            )


def evaluate_mixture(
    model: Any,
    model_path: str,
    data: str,
    names: list[str],
    target: str | None,
    *,
    batch_rows: int,
    drop_missing: bool,
    progress: bool,
    as_json: bool,
    missing: str = "error",
    scheduler: str | None = None,
) -> None:
    """Log-likelihood and BIC of a mixture on DATA (streamed, or block by block on Dask with
    ``scheduler``), and the ARI against a target."""
    from sklearn.metrics import adjusted_rand_score

    from ._app import unnamed

    if target is not None and target in names:
        raise DataError(f"target column '{target}' is also a feature of the model")
    quiet = unnamed(model)
    start = time.perf_counter()
    total, rows, dropped = 0.0, 0, 0
    truth: list[np.ndarray] = []
    found: list[np.ndarray] = []
    if scheduler is not None:
        if drop_missing:
            raise DataError("--drop-missing is not available with --scheduler")
        batches = _dask_scored_batches(quiet, data, names, target, scheduler)
    else:
        batches = _scored_batches(
            quiet, data, names, target, batch_rows, drop_missing, missing, progress
        )
    for logp, y, predicted, n_dropped in batches:
        dropped += n_dropped
        total += float(logp.sum())
        rows += logp.shape[0]
        if target is not None and logp.shape[0]:
            truth.append(np.asarray(y).astype(str))
            found.append(predicted)
    if rows == 0:
        raise DataError(f"'{data}' has no rows to evaluate; check the data")
    report: dict[str, Any] = {
        "model": model_path,
        "data": data,
        "rows": rows,
        "dropped": dropped,
        "log_likelihood": total,
        "log_likelihood_per_row": total / rows,
        "bic": -2.0 * total + model._n_parameters() * float(np.log(rows)),
        "aic": -2.0 * total + 2.0 * model._n_parameters(),
    }
    if target is not None:
        ari = adjusted_rand_score(np.concatenate(truth), np.concatenate(found))
        report["adjusted_rand_index"] = float(ari)
    report["seconds"] = time.perf_counter() - start
    if as_json:
        say(json_text(report))
        return
    say(f"Evaluated the {len(model.weights_)}-component mixture on {rows:,} rows of {data}.")
    lines = [
        ["log-likelihood", report["log_likelihood"]],
        ["per row", report["log_likelihood_per_row"]],
        ["BIC", report["bic"]],
        ["AIC", report["aic"]],
    ]
    if target is not None:
        lines.append([f"adjusted Rand index vs '{target}'", report["adjusted_rand_index"]])
    say(render_table(["measure", "value"], [[a, f"{b:.6g}"] for a, b in lines], align="lr"))


def _scored_batches(
    model: Any,
    data: str,
    names: list[str],
    target: str | None,
    batch_rows: int,
    drop_missing: bool,
    missing: str,
    progress: bool,
) -> Any:
    """Per batch of DATA (bounded memory, a progress bar): log p(x) of its rows, their true
    labels and components (None without a target), and the rows dropped."""
    from ..io import iter_xy

    seen = 0
    with Progress("evaluating", progress) as bar:
        for batch in iter_xy(
            data, names, target, batch_rows=batch_rows, drop_missing=drop_missing,
            missing=missing,
        ):  # fmt: skip
            if batch.n_rows:
                components = model.predict(batch.X) if target is not None else None
                yield model.score_samples(batch.X), batch.y, components, batch.n_dropped
            else:
                yield np.empty(0), None, None, batch.n_dropped
            seen += batch.n_rows + batch.n_dropped
            bar.update(batch.fraction_done, seen)


def _dask_scored_batches(
    model: Any, data: str, names: list[str], target: str | None, scheduler: str
) -> Any:
    """The mixture's scores of DATA (Parquet) on Dask: lazy per block, computed in row order."""
    import dask

    from ..dask_backend import read_parquet_xy
    from ._app import dask_client

    with dask_client(scheduler):
        X, y, _ = read_parquet_xy(data, names, target)
        logp = model.score_samples(X).to_delayed().ravel()
        nothing = [None] * len(logp)
        labels = y.to_delayed().ravel() if y is not None else nothing
        components = model.predict(X).to_delayed().ravel() if y is not None else nothing
        for parts in zip(logp, labels, components, strict=True):
            lp, yb, cb = dask.compute(*parts)
            yield lp, yb, cb, 0


def mixture_report(model: Any, path: str) -> dict[str, Any]:
    """What a saved mixture holds, as plain data."""
    names = [str(n) for n in getattr(model, "feature_names_in_", [])] or [
        f"x{j}" for j in range(model.n_features_in_)
    ]
    cov = np.asarray(model.covariances_)
    k = len(model.weights_)
    from ..covariance import structure_for

    variances = np.broadcast_to(
        structure_for(model.covariance_type).variances(cov), (k, len(names))
    )
    stats = model.component_stats_
    return {
        "model": path,
        "covariance_type": model.covariance_type,
        "features": names,
        "n_components": k,
        "n_parameters": int(model._n_parameters()),
        "converged": bool(model.converged_),
        "iterations": int(model.n_iter_),
        "log_likelihood_per_row": float(model.lower_bound_),
        "components": [
            {
                "component": c,
                "weight": float(model.weights_[c]),
                "weighted_rows": None if stats is None else float(stats.count[c]),
                "mean": model.means_[c].tolist(),
                "variance": variances[c].tolist(),
            }
            for c in range(k)
        ],
    }


def describe_mixture(model: Any, path: str, as_json: bool) -> None:
    """``gaussmle describe`` for a mixture file: fit report and the components."""
    report = mixture_report(model, path)
    if as_json:
        say(json_text(report))
        return
    state = "converged" if report["converged"] else "did not converge"
    say(
        f"{path}: a mixture of {report['n_components']} Gaussians (covariance "
        f"{report['covariance_type']}, {report['n_parameters']} parameters); EM {state} after "
        f"{report['iterations']} iterations, log-likelihood {report['log_likelihood_per_row']:.6g} "
        "per row."
    )
    rows = []
    for comp in report["components"]:
        for j, name in enumerate(report["features"]):
            first = j == 0
            rows.append(
                [
                    comp["component"] if first else "",
                    f"{comp['weight']:.4f}" if first else "",
                    name,
                    f"{comp['mean'][j]:.6g}",
                    f"{comp['variance'][j]:.6g}",
                ]
            )
    say(render_table(["component", "weight", "feature", "mean", "variance"], rows, align="lrlrr"))


def demo_mixture(X: np.ndarray, y: np.ndarray, n_components: int) -> dict[str, Any]:
    """The demo's EM step: a mixture fitted to the rows with their labels hidden.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> out = demo_mixture(X, np.array(list("aaabbb")), 2)
    >>> out["adjusted_rand_index"], out["converged"]
    (1.0, True)
    """
    from sklearn.metrics import adjusted_rand_score

    from ..mixture import GaussianMixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a note-worthy fit is reported by its numbers
        model = GaussianMixture(n_components, covariance_type="full", random_state=0).fit(X)
    labels = model.predict(X)
    return {
        "n_components": int(n_components),
        "covariance_type": "full",
        "converged": bool(model.converged_),
        "iterations": int(model.n_iter_),
        "lower_bounds": [float(v) for v in model.lower_bounds_],
        "weights": model.weights_.tolist(),
        "means": model.means_.tolist(),
        "adjusted_rand_index": float(adjusted_rand_score(np.asarray(y).astype(str), labels)),
    }


def demo_mixture_lines(summary: dict[str, Any], items: str, title: str) -> list[str]:
    """The demo's EM step as text lines (heading included)."""
    from .._text import wrap

    bounds = summary["lower_bounds"]
    text = (
        f"Hide every {title} and fit a mixture of {summary['n_components']} Gaussians by EM "
        "(gaussmle cluster): the E-step gives each point its responsibilities, the M-step "
        "is the maximum likelihood fit above with those as weights. From a k-means start "
        f"the log-likelihood per row went {bounds[0]:.4f} -> {bounds[-1]:.4f} in "
        f"{summary['iterations']} iterations; the components match the true {title} with an "
        f"adjusted Rand index of {summary['adjusted_rand_index']:.2f} (1 is a perfect match)."
    )
    return [f"5. Without the labels: EM on the {items}", wrap(text), ""]
