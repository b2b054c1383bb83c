"""Commands that apply a saved model to data: ``predict`` and ``evaluate``."""

from __future__ import annotations

import time
from typing import Any

import click
import numpy as np

from .._text import json_text, render_table, wrap
from .._validation import rows_for_output
from ..io import DataError
from ._app import (
    Progress,
    batch_rows_option,
    check_output_path,
    drop_missing_option,
    features_option,
    json_option,
    model_features,
    na_values_option,
    no_progress_option,
    parse_features,
    parse_na_values,
    say,
    scheduler_option,
    tell,
    unnamed,
)
from ._spark import (
    check_engine,
    engine_options,
    spark_feature_names,
    spark_label_counts,
    spark_predictions,
)
from ._stream import Evaluation

MODEL_FEATURES_HELP = (
    "Data columns to use as the model's features, comma-separated, in the model's order "
    "(default: the model's feature names)."
)


def quoted(data: str) -> str:
    return "standard input" if data == "-" else f"'{data}'"


def output_labels(model: Any) -> Any:
    """A classifier's classes, or a mixture's component numbers 0, 1, ..."""
    classes = getattr(model, "classes_", None)
    return classes if classes is not None else range(len(model.weights_))


def missing_mode(model: Any) -> str:
    """How to read feature values for a model: ``"keep"`` gaps when it marginalises them.

    Examples
    --------
    >>> from gaussmle import GaussianClassifier
    >>> missing_mode(GaussianClassifier(missing="marginalize")), missing_mode(GaussianClassifier())
    ('keep', 'error')
    """
    return "keep" if getattr(model, "missing", "error") == "marginalize" else "error"


# ---------------------------------------------------------------------- predict
@click.command("predict", short_help="Classify new rows (CSV out, batch by batch).")
@click.argument("model_path", metavar="MODEL.json")
@click.argument("data")
@click.option("--proba", is_flag=True, help="Add a proba_<class> column per class.")
@click.option("--id", "id_column", metavar="COL", default=None, help="Copy this column first.")
@features_option(MODEL_FEATURES_HELP)
@click.option(
    "--explain",
    is_flag=True,
    help="Add an 'explanation' column: each feature's share of the log-odds between the "
    "two most probable classes (diag and spherical models).",
)
@click.option(
    "--ood-threshold",
    type=float,
    default=None,
    metavar="X",
    help="Add 'ood_score' (the best class's log density) and 'out_of_distribution' "
    "(ood_score < X) columns.",
)
@batch_rows_option()
@drop_missing_option()
@no_progress_option()
@scheduler_option()
@engine_options
@click.option(
    "-o",
    "--output",
    default=None,
    metavar="OUT.csv",
    help="Where to write the predictions (default: standard output).",
)
def predict_command(
    model_path: str,
    data: str,
    proba: bool,
    id_column: str | None,
    features: str | None,
    explain: bool,
    ood_threshold: float | None,
    batch_rows: int,
    drop_missing: bool,
    no_progress: bool,
    scheduler: str | None,
    engine: str,
    master: str,
    output: str | None,
) -> None:
    """Predict the class of every row of DATA with a saved model, as CSV.

    The columns are the --id column (if asked), 'predicted', and with
    --proba one 'proba_<class>' column per class. DATA is read and the
    predictions written batch by batch, so memory stays bounded. A model
    fitted with --missing marginalize also classifies rows with missing
    feature values, from the features they have.

    \b
    Examples:
      gaussmle predict skittles.json mystery.csv
      gaussmle predict skittles.json mystery.csv --proba --id id -o predictions.csv
      gaussmle predict skittles.json mystery.csv --explain --ood-threshold -8
    """
    from ..io import TableWriter, iter_xy
    from ._mixtures import check_mixture_options, load_predictor

    model = load_predictor(model_path)
    check_mixture_options(model, explain=explain, ood=ood_threshold)
    check_output_path(output)
    keep = [id_column] if id_column else []
    on_spark = check_engine(
        engine,
        scheduler=scheduler,
        explain=explain,
        ood_threshold=ood_threshold,
        drop_missing=drop_missing,
    )
    if on_spark:
        names = spark_feature_names(model, parse_features(features))
    else:
        names = model_features(model, data, parse_features(features), exclude=keep)
    if id_column is not None and id_column in names:
        raise DataError(f"--id column '{id_column}' is also a feature of the model; pick another")
    from ..densities import family_for

    if explain and not family_for(model.covariance_type).independent_features:
        raise DataError(
            f"--explain needs a diag or spherical model; this one is {model.covariance_type!r}, "
            "whose correlated features do not split the log-odds per feature"
        )
    quiet = unnamed(model)
    header = _predict_header(model, id_column, proba, explain, ood_threshold)
    start = time.perf_counter()
    rows = dropped = 0
    with TableWriter(output, names=header) as writer:
        if on_spark:
            for part in spark_predictions(quiet, data, names, id_column, proba, master):
                writer.write(part)
                rows += len(part["predicted"])
        elif scheduler is not None:
            if explain or ood_threshold is not None or drop_missing:
                raise DataError(
                    "--explain, --ood-threshold and --drop-missing are not available with "
                    "--scheduler"
                )
            for part in _dask_predictions(quiet, data, names, id_column, proba, scheduler):
                writer.write(part)
                rows += len(part["predicted"])
        else:
            batches = iter_xy(
                data,
                names,
                None,
                keep,
                # many classes: a batch's output (rows x columns, as text) is what fills memory
                batch_rows=rows_for_output(len(header), 48 if proba else 16, batch_rows),
                drop_missing=drop_missing,
                missing=missing_mode(model),
            )
            with Progress("predicting", not no_progress) as bar:
                for batch in batches:
                    dropped += batch.n_dropped
                    if batch.n_rows == 0:
                        continue
                    if explain:
                        _check_explainable(batch, data)
                    ids = batch.kept[id_column] if id_column else None
                    writer.write(
                        _prediction_columns(
                            quiet, batch.X, names, id_column, ids, proba, explain, ood_threshold
                        )
                    )
                    rows += batch.n_rows
                    bar.update(batch.fraction_done, rows + dropped)
    seconds = time.perf_counter() - start
    note = f"; dropped {dropped:,} rows with missing values" if dropped else ""
    if output is not None and output != "-":
        say(f"Wrote {rows:,} predictions to {output}{note} ({seconds:.1f} s).")
    elif note:
        tell(f"note{note}")


def _check_explainable(batch: Any, data: str) -> None:
    """--explain splits the log-odds over every feature: rows with gaps cannot be split."""
    gaps = np.isnan(batch.X).any(axis=1)
    if gaps.any():
        row = int(batch.rows[int(np.argmax(gaps))]) + 1
        raise DataError(
            f"--explain needs every feature, but row {row} (1-based data row) of {quoted(data)} "
            "has a missing value (the model marginalises it when predicting); leave out "
            "--explain for data with gaps"
        )


def _predict_header(
    model: Any, id_column: str | None, proba: bool, explain: bool, ood: float | None
) -> list[str]:
    header = ([id_column] if id_column else []) + ["predicted"]
    if proba:
        header += [f"proba_{c}" for c in output_labels(model)]
    if ood is not None:
        header += ["ood_score", "out_of_distribution"]
    if explain:
        header += ["explanation"]
    return header


def _prediction_columns(
    model: Any,
    X: np.ndarray,
    names: list[str],
    id_column: str | None,
    ids: np.ndarray | None,
    proba: bool,
    explain: bool,
    ood_threshold: float | None,
) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    if id_column is not None:
        columns[id_column] = ids
    columns["predicted"] = model.predict(X)
    if proba:
        p = model.predict_proba(X)
        for j, c in enumerate(output_labels(model)):
            columns[f"proba_{c}"] = p[:, j]
    if ood_threshold is not None:
        from ..diagnostics import ood_score

        scores = ood_score(model, X)
        columns["ood_score"] = scores
        columns["out_of_distribution"] = scores < ood_threshold
    if explain:
        from ..diagnostics import explain as explain_rows

        e = explain_rows(model, X, feature_names=names)
        columns["explanation"] = np.array([e.to_text(i) for i in range(len(e))], dtype=object)
    return columns


def _dask_predictions(
    model: Any, data: str, names: list[str], id_column: str | None, proba: bool, scheduler: str
) -> Any:
    """Predictions of a classifier or a mixture computed on Dask, block by block in row order."""
    import dask

    from ..dask_backend import read_parquet_xy
    from ._app import dask_client

    with dask_client(scheduler):
        X, ids, _ = read_parquet_xy(data, names, id_column)
        pred = model.predict(X).to_delayed().ravel()
        prob = model.predict_proba(X).to_delayed().ravel() if proba else [None] * len(pred)
        idv = ids.to_delayed().ravel() if ids is not None else [None] * len(pred)
        for p, pr, i in zip(pred, prob, idv, strict=True):
            p, pr, i = dask.compute(p, pr, i)
            columns: dict[str, Any] = {}
            if id_column is not None:
                columns[id_column] = i
            columns["predicted"] = p
            if proba:
                for j, c in enumerate(output_labels(model)):
                    columns[f"proba_{c}"] = pr[:, j]
            yield columns


# ---------------------------------------------------------------------- evaluate
@click.command("evaluate", short_help="Accuracy, log loss and confusion matrix on data.")
@click.argument("model_path", metavar="MODEL.json")
@click.argument("data")
@click.option(
    "--target",
    default=None,
    metavar="COL",
    help="The column of true labels (required for a classifier; for a mixture, adds the "
    "adjusted Rand index of its components against these labels).",
)
@features_option(MODEL_FEATURES_HELP)
@batch_rows_option()
@drop_missing_option()
@na_values_option()
@no_progress_option()
@scheduler_option()
@engine_options
@json_option()
def evaluate_command(
    model_path: str,
    data: str,
    target: str | None,
    features: str | None,
    batch_rows: int,
    drop_missing: bool,
    na_values: str | None,
    no_progress: bool,
    scheduler: str | None,
    engine: str,
    master: str,
    as_json: bool,
) -> None:
    """Score a saved model on labelled DATA: accuracy, log loss, confusion matrix.

    DATA is streamed in batches. Labels the model has never seen count as
    errors (and as probability 0, clipped at the machine epsilon, in the
    log loss). A model fitted with --missing marginalize also scores rows
    with missing feature values. With --engine spark, Spark reads DATA and
    each partition sends only its confusion counts and log-loss sums.

    \b
    Examples:
      gaussmle evaluate skittles.json test.csv --target colour
      gaussmle evaluate skittles.json test.csv --target colour --json
      gaussmle evaluate skittles.json test.parquet --target colour --engine spark
    """
    from ..io import iter_xy
    from ..mixture import GaussianMixture
    from ._mixtures import evaluate_mixture, load_predictor

    model = load_predictor(model_path)
    on_spark = check_engine(
        engine, scheduler=scheduler, drop_missing=drop_missing, na_values=na_values
    )
    if isinstance(model, GaussianMixture):
        if on_spark:
            raise DataError("--engine spark evaluates classifiers; leave it out for a mixture")
        names = model_features(model, data, parse_features(features), exclude=[target or ""])
        evaluate_mixture(
            model, model_path, data, names, target,
            batch_rows=batch_rows, drop_missing=drop_missing, progress=not no_progress,
            as_json=as_json, missing=missing_mode(model), scheduler=scheduler,
        )  # fmt: skip
        return
    if target is None:
        raise click.UsageError("Missing option '--target'.")
    if on_spark:
        names = spark_feature_names(model, parse_features(features))
    else:
        names = model_features(model, data, parse_features(features), exclude=[target])
    if target in names:
        raise DataError(f"target column '{target}' is also a feature of the model")
    quiet = unnamed(model)
    result = Evaluation(model.classes_)
    dropped = 0
    start = time.perf_counter()
    if on_spark:
        counts = spark_label_counts(quiet, data, names, target, master)
        result.add_counts(counts.labels, counts.predicted, counts.neg_log)
    elif scheduler is not None:
        if drop_missing:
            raise DataError("--drop-missing is not available with --scheduler")
        for y, pred, proba in _dask_evaluation(quiet, data, names, target, scheduler):
            result.add(y, pred, proba)
    else:
        batches = iter_xy(
            data,
            names,
            target,
            batch_rows=rows_for_output(len(model.classes_), 24, batch_rows),
            drop_missing=drop_missing,
            missing=missing_mode(model),
            na_values=parse_na_values(na_values),
        )
        with Progress("evaluating", not no_progress) as bar:
            for batch in batches:
                dropped += batch.n_dropped
                if batch.n_rows:
                    # one pass over the densities: the prediction is the most probable class
                    proba = quiet.predict_proba(batch.X)
                    result.add(batch.y, quiet.classes_[np.argmax(proba, axis=1)], proba)
                bar.update(batch.fraction_done, result.n + dropped)
    report = result.to_dict()
    report.update(model=model_path, data=data, dropped=dropped, seconds=time.perf_counter() - start)
    if as_json:
        say(json_text(report))
        return
    say(_evaluation_text(report))


def _dask_evaluation(model: Any, data: str, names: list[str], target: str, scheduler: str):
    import dask

    from ..dask_backend import read_parquet_xy
    from ._app import dask_client

    with dask_client(scheduler):
        X, y, _ = read_parquet_xy(data, names, target)
        pred = model.predict(X).to_delayed().ravel()
        prob = model.predict_proba(X).to_delayed().ravel()
        for yb, p, pr in zip(y.to_delayed().ravel(), pred, prob, strict=True):
            yield dask.compute(yb, p, pr)


def _evaluation_text(report: dict[str, Any]) -> str:
    lines = []
    dropped = f" ({report['dropped']:,} dropped with missing values)" if report["dropped"] else ""
    lines.append(
        f"Evaluated {report['model']} on {report['rows']:,} rows of "
        f"{quoted(report['data'])}{dropped}."
    )
    lines.append("")
    lines.append(
        f"  accuracy  {report['accuracy']:.4f}  ({report['correct']:,} of {report['rows']:,} "
        "correct)"
    )
    lines.append(f"  log loss  {report['log_loss']:.4f}  (mean of -log p(true class))")
    cm = report["confusion_matrix"]
    if "counts" in cm:
        lines += _confusion_lines(report)
    else:
        lines += [
            "",
            wrap(
                f"The confusion matrix of {len(cm['true_labels']):,} labels is too large to "
                "print; --json gives it (as sparse [true, predicted, count] entries), with "
                "recall and precision per class."
            ),
        ]
    if report["unseen_labels"]:
        unseen = report["unseen_labels"]
        shown = ", ".join(str(v) for v in unseen[:8])
        shown += f", ... ({len(unseen):,} in all)" if len(unseen) > 8 else ""
        lines += ["", wrap(f"note: labels the model has never seen ({shown}) count as errors.")]
    return "\n".join(lines)


def _confusion_lines(report: dict[str, Any]) -> list[str]:
    """The confusion matrix and the per-class table, as text lines."""
    lines: list[str] = []
    cm = report["confusion_matrix"]
    counts = np.asarray(cm["counts"], dtype=np.int64)
    predicted = [str(c) for c in cm["predicted_labels"]]
    rows = []
    for label, row in zip(cm["true_labels"], counts, strict=True):
        rows.append([str(label), *[int(v) for v in row], int(row.sum())])
    rows.append(["total", *[int(v) for v in counts.sum(axis=0)], int(counts.sum())])
    lines += ["", "Confusion matrix (rows: true class, columns: predicted class)"]
    lines.append(render_table(["true \\ predicted", *predicted, "total"], rows))
    lines += ["", "Per class"]
    per = [
        [
            str(r["class"]) + ("" if r["in_model"] else " (not in the model)"),
            r["rows"],
            r["correct"],
            r["recall"],
            r["precision"],
        ]
        for r in report["per_class"]
    ]
    lines.append(
        render_table(["class", "rows", "correct", "recall", "precision"], per, align="lrrrr")
    )
    return lines
