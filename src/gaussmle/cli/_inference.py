"""``gaussmle test`` and ``gaussmle report``: the tests of a saved model, and its HTML page."""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from .._text import json_text
from ..io import DataError
from ._app import (
    align_labels,
    check_output_path,
    drop_missing_option,
    features_option,
    json_option,
    model_features,
    parse_features,
    say,
)
from ._use import MODEL_FEATURES_HELP, missing_mode, quoted


def _read_data(
    model: Any, data: str, target: str | None, features: str | None, drop_missing: bool
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Rows of DATA for the model's features, and the labels (for a classifier)."""
    from ..gaussian import Gaussian
    from ..io import read_xy
    from ..mixture import GaussianMixture

    is_gaussian = isinstance(model, Gaussian | GaussianMixture)  # no labels
    if not is_gaussian and target is None:
        raise DataError("the per-class tests need the labels: give --target with --data")
    if is_gaussian and target is not None:
        what = "a mixture" if isinstance(model, GaussianMixture) else "a single Gaussian"
        raise DataError(f"{what} has no classes; leave out --target")
    exclude = [] if target is None else [target]
    names = _feature_columns(model, data, parse_features(features), exclude)
    missing = "error" if is_gaussian else missing_mode(model)
    batch = read_xy(data, names, target, drop_missing=drop_missing, missing=missing)
    if batch.n_rows == 0:
        raise DataError(f"{quoted(data)} has no rows; check the data")
    y = None if target is None else align_labels(batch.y, model.classes_)
    return batch.X, y, batch.n_dropped


def _feature_columns(
    model: Any, data: str, features: list[str] | None, exclude: list[str]
) -> list[str] | None:
    if hasattr(model, "n_features_in_"):
        return model_features(model, data, features, exclude=exclude)
    saved = getattr(model, "feature_names_in_", None)
    if features is not None:
        return features
    return None if saved is None else [str(n) for n in saved]


@click.command("test", short_help="Hypothesis tests of a model: Box's M, MANOVA, structure.")
@click.argument("model_path", metavar="MODEL.json")
@click.option("--data", default=None, help="Data for the normality tests (Mardia, Henze-Zirkler).")
@click.option("--target", default=None, metavar="COL", help="The label column of --data.")
@features_option(MODEL_FEATURES_HELP)
@drop_missing_option()
@json_option()
def test_command(
    model_path: str,
    data: str | None,
    target: str | None,
    features: str | None,
    drop_missing: bool,
    as_json: bool,
) -> None:
    """Test what a saved model assumes, from its sufficient statistics.

    For a classifier: Box's M (do the classes share one covariance: is LDA
    enough?), one-way MANOVA and, for two classes, Hotelling's T^2 (do the
    class means differ?), which need a full or tied model; and the
    likelihood-ratio tests of the covariance structure (spherical < diag <
    full per class and pooled, tied < full), which need no data. With --data
    (and --target for a classifier) each class is also tested for
    multivariate normality (Mardia, Henze-Zirkler).

    \b
    Examples:
      gaussmle test qda.json
      gaussmle test qda.json --data skittles.csv --target colour --json
    """
    from ..inference import model_tests
    from ..mixture import GaussianMixture
    from ..persist import load
    from ..summary import block_text, table_of_tests

    model = load(model_path)
    if isinstance(model, GaussianMixture):
        raise DataError(
            f"'{model_path}' holds a Gaussian mixture; its tests are not built yet (they need "
            "class statistics): use gaussmle describe or gaussmle report for a mixture"
        )
    X = y = None
    if data is not None:
        X, y, _ = _read_data(model, data, target, features, drop_missing)
    elif target is not None:
        raise DataError("--target needs --data")
    rows = model_tests(model, X, y)
    if as_json:
        say(json_text({"model": model_path, "data": data, "tests": [r.to_dict() for r in rows]}))
        return
    on_data = "" if X is None else f"; normality on {X.shape[0]:,} rows of {quoted(data)}"
    say(f"{model_path}: tests from the model's sufficient statistics{on_data}")
    say(block_text(table_of_tests(rows, title="")))


@click.command("report", short_help="One HTML page: summary, tests and pictures of a model.")
@click.argument("model_path", metavar="MODEL.json")
@click.argument("data", metavar="[DATA]", required=False)
@click.option("--target", default=None, metavar="COL", help="The label column of DATA.")
@features_option(MODEL_FEATURES_HELP)
@drop_missing_option()
@click.option("-o", "--output", required=True, metavar="PAGE.html", help="Where to write the page.")
def report_command(
    model_path: str,
    data: str | None,
    target: str | None,
    features: str | None,
    drop_missing: bool,
    output: str,
) -> None:
    """Write one self-contained HTML page about a saved model.

    The page holds the summary (fit statistics, estimates with standard
    errors and intervals), the tests, and with DATA (and --target for a
    classifier) the pictures: class densities, decision regions, Q-Q plots
    and, for one or two features, log-likelihood curves. It needs no network
    and no JavaScript, reads on a phone and prints.

    \b
    Examples:
      gaussmle report skittles.json skittles.csv --target colour -o skittles.html
      gaussmle report skittles.json -o skittles.html
    """
    from ..persist import load
    from ..report import write_report

    check_output_path(output)
    model = load(model_path)
    X = y = None
    if data is not None:
        X, y, _ = _read_data(model, data, target, features, drop_missing)
    elif target is not None:
        raise DataError("--target needs DATA")
    write_report(output, model, X, y, title=model_path)
    say(f"Wrote the report on {model_path} to {output}.")
