"""Commands that look closer: ``plot`` and ``select``."""

from __future__ import annotations

import click
import numpy as np

from .._estimates import feature_names
from .._text import json_text
from ..io import DataError
from ._app import (
    COVARIANCE_CHOICES,
    check_output_path,
    drop_missing_option,
    features_option,
    json_option,
    load_classifier,
    model_features,
    parse_features,
    say,
    unnamed,
)

#: Most points a figure draws; larger data are subsampled (seeded).
MAX_PLOT_POINTS = 20_000

PLOT_KINDS = ("densities", "decision", "qq", "labelled")


@click.command("plot", short_help="Draw a model and data as a PNG.")
@click.argument("model_path", metavar="MODEL.json")
@click.argument("data")
@click.option("--target", default=None, metavar="COL", help="The label column of DATA.")
@features_option(
    "Which model features to draw, comma-separated: two for densities and decision "
    "(default: the first two), any for qq (default: all)."
)
@click.option(
    "--kind",
    type=click.Choice(PLOT_KINDS),
    default="densities",
    show_default=True,
    help="densities: each class's Gaussian over the data; decision: the data coloured by "
    "predicted class over the decision regions; qq: normal Q-Q plots per class and feature; "
    "labelled: the data coloured by label.",
)
@drop_missing_option()
@click.option("-o", "--output", required=True, metavar="FIG.png", help="Where to write the PNG.")
def plot_command(
    model_path: str,
    data: str,
    target: str | None,
    features: str | None,
    kind: str,
    drop_missing: bool,
    output: str,
) -> None:
    """Draw a saved model and DATA as a PNG figure.

    At most 20,000 rows (a seeded random subset of larger data) are drawn.

    \b
    Examples:
      gaussmle plot skittles.json skittles.csv --target colour -o densities.png
      gaussmle plot skittles.json mystery.csv --kind decision -o decision.png
      gaussmle plot iris.json iris.csv --target species --kind qq -o qq.png
    """
    from ..io import read_xy
    from ..plot import plot_class_densities, plot_decision, plot_labelled, plot_qq

    model = load_classifier(model_path)
    check_output_path(output)
    if kind in ("qq", "labelled") and target is None:
        raise DataError(f"--kind {kind} needs the labels: give --target")
    names = feature_names(model)
    columns = model_features(model, data, None, exclude=[target] if target else [])
    chosen = _chosen(parse_features(features), names, kind)
    batch = read_xy(data, columns, target, drop_missing=drop_missing)
    if batch.n_rows == 0:
        raise DataError(f"'{data}' has no rows to draw; check the data")
    X, y = batch.X, batch.y
    if X.shape[0] > MAX_PLOT_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(X.shape[0], MAX_PLOT_POINTS, replace=False))
        X, y = X[keep], None if y is None else y[keep]
    quiet = unnamed(model)
    if kind == "densities":
        plot_class_densities(quiet, X, y, features=chosen, path=output, feature_names=names)
    elif kind == "decision":
        plot_decision(quiet, X, features=chosen, path=output, feature_names=names)
    elif kind == "labelled":
        plot_labelled(X, y, feature_names=names, path=output, features=chosen)
    else:
        plot_qq(quiet, X, y, path=output, feature_names=names, features=chosen)
    say(f"Wrote {output} ({kind}, {X.shape[0]:,} points).")


def _chosen(requested: list[str] | None, names: list[str], kind: str) -> tuple[int, ...] | None:
    if requested is None:
        if kind == "qq":
            return None
        if len(names) < 2:
            raise DataError(f"--kind {kind} needs a model of at least two features; try --kind qq")
        return (0, 1)
    missing = [r for r in requested if r not in names]
    if missing:
        raise DataError(
            f"--features names {', '.join(repr(m) for m in missing)}, which the model does not "
            f"have; its features are: {', '.join(names)}"
        )
    index = tuple(names.index(r) for r in requested)
    if kind != "qq" and len(index) != 2:
        raise DataError(f"--kind {kind} draws two features; --features must name exactly two")
    return index


@click.command("select", short_help="Compare covariance types and recommend one.")
@click.argument("data")
@click.option("--target", required=True, metavar="COL", help="The column holding the labels.")
@features_option()
@click.option(
    "--covariance-types",
    default=",".join(COVARIANCE_CHOICES),
    show_default=True,
    metavar="T1,T2,...",
    help="Covariance types to compare.",
)
@click.option(
    "--cv", type=click.IntRange(min=2), default=5, show_default=True, help="Cross-validation folds."
)
@click.option(
    "--var-smoothing",
    type=click.FloatRange(min=0.0),
    default=1e-9,
    show_default=True,
    help="As for gaussmle fit.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the folds.")
@drop_missing_option()
@json_option()
def select_command(
    data: str,
    target: str,
    features: str | None,
    covariance_types: str,
    cv: int,
    var_smoothing: float,
    seed: int,
    drop_missing: bool,
    as_json: bool,
) -> None:
    """Compare covariance types on labelled DATA and recommend one.

    Each type is fitted to all rows (log-likelihood, AIC, BIC) and scored by
    stratified cross-validation (held-out log loss and accuracy); the
    recommendation has the lowest cross-validated log loss. DATA is read
    into memory.

    \b
    Examples:
      gaussmle select skittles.csv --target colour
      gaussmle select iris.csv --target species --covariance-types diag,full --cv 10
    """
    from ..io import read_xy
    from ..selection import select

    types = [t.strip() for t in covariance_types.split(",") if t.strip()]
    bad = [t for t in types if t not in COVARIANCE_CHOICES]
    if bad or not types:
        raise DataError(
            f"unknown covariance type {', '.join(repr(b) for b in bad) or '(none)'}; choose "
            f"from {', '.join(COVARIANCE_CHOICES)}"
        )
    from ._train import _check_target

    names = _check_target(data, target, parse_features(features))
    batch = read_xy(data, names, target, drop_missing=drop_missing)
    if batch.n_rows == 0:
        raise DataError(f"'{data}' has no rows; check the data")
    if len(np.unique(batch.y)) < 2:
        raise DataError(
            f"the target column '{target}' has only one class; model selection needs at least two"
        )
    result = select(batch.X, batch.y, types, cv=cv, var_smoothing=var_smoothing, random_state=seed)
    if as_json:
        payload = result.to_dict()
        payload.update(data=data, n_rows=batch.n_rows, dropped=batch.n_dropped, features=names)
        say(json_text(payload))
        return
    dropped = f", {batch.n_dropped:,} dropped with missing values" if batch.n_dropped else ""
    say(
        f"Compared {len(types)} covariance types on {batch.n_rows:,} rows of {len(names)} "
        f"features{dropped} ({result.cv_folds}-fold cross-validation):"
    )
    say(result.to_table())
