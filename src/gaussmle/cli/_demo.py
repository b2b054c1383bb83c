"""``gaussmle demo``: the worked example, told step by step, with pictures.

The default tells the story of the skittles: 200 rated skittles of two
colours, one Gaussian per colour fitted by maximum likelihood, a numerical
check of the derivation, and 50 mystery skittles classified. With
``--dataset iris`` or ``penguins`` a seeded 20% of the rows is held out and
plays the part of the mystery skittles, so the accuracy can be measured.
"""

from __future__ import annotations

import os
from typing import Any

import click
import numpy as np

from .._estimates import class_estimates
from .._text import json_text
from ..io import DataError
from ._app import COVARIANCE_CHOICES, json_option, parse_features, say
from ._demo_output import DemoResults, payload, story_text

DATASETS = ("skittles", "iris", "penguins")


@click.command("demo", short_help="The worked example: fit, check the derivation, classify.")
@click.option(
    "--dataset",
    type=click.Choice(DATASETS),
    default="skittles",
    show_default=True,
    help="skittles: the worked example with mystery skittles; iris or penguins: real "
    "data with 20% held out as the new points.",
)
@click.option(
    "--out",
    default="demo-output",
    show_default=True,
    metavar="DIR",
    help="Folder for the pictures, the data (CSV) and the model.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the data.")
@click.option(
    "--covariance",
    type=click.Choice(COVARIANCE_CHOICES),
    default="diag",
    show_default=True,
    help="Covariance type of the class Gaussians.",
)
@click.option(
    "--features",
    default=None,
    metavar="A,B",
    help="The two features drawn in the 2-D pictures (default: the first two).",
)
@click.option("--no-plots", is_flag=True, help="Skip the pictures (faster).")
@json_option()
def demo_command(
    dataset: str,
    out: str,
    seed: int,
    covariance: str,
    features: str | None,
    no_plots: bool,
    as_json: bool,
) -> None:
    """Walk through the worked example: fit, check the derivation, classify, draw.

    Prints each step with aligned tables and writes pictures (labelled.png,
    mystery.png, densities.png, decision.png, loglik.png), the data as CSV
    and the fitted model into DIR.

    \b
    Examples:
      gaussmle demo
      gaussmle demo --out docs/img
      gaussmle demo --dataset iris --covariance full
      gaussmle demo --dataset penguins --features bill_length_mm,flipper_length_mm
    """
    from ..classifier import GaussianClassifier

    story = _load(dataset, seed)
    pair = _pair(parse_features(features), story["names"])
    model = GaussianClassifier(covariance_type=covariance).fit(story["X"], story["y"])
    model.feature_names_in_ = np.asarray(story["names"], dtype=object)
    quiet = _unnamed(model)
    per_class = class_estimates(model)
    checks = _derivation_checks(story["X"], story["y"], model.classes_, covariance)
    optimiser = _optimiser_check(story["X"], story["y"], model.classes_)
    proba = quiet.predict_proba(story["X_new"])
    predicted = quiet.predict(story["X_new"])
    files = _write_files(out, story, model, quiet, pair, no_plots)
    from ._mixtures import demo_mixture

    mixture = demo_mixture(story["X"], story["y"], len(model.classes_))
    results = DemoResults(
        story, model, per_class, checks, optimiser, predicted, proba, files, mixture
    )
    say(json_text(payload(results)) if as_json else story_text(results, out))


# ---------------------------------------------------------------------- data
def _load(dataset: str, seed: int) -> dict[str, Any]:
    from ..datasets import load_dataset, make_skittles

    if dataset == "skittles":
        ds = make_skittles(random_state=seed)
        return {
            "name": "skittles",
            "X": ds.X,
            "y": ds.y,
            "X_new": ds.X_new,
            "y_new": None,
            "names": list(ds.feature_names),
            "target": ds.target_name,
            "item": "skittle",
            "items": "skittles",
            "new": "mystery skittles",
            "class_title": "colour",
        }
    from sklearn.model_selection import train_test_split

    ds = load_dataset(dataset)
    X, X_new, y, y_new = train_test_split(
        ds.X, ds.y, test_size=0.2, stratify=ds.y, random_state=seed
    )
    return {
        "name": dataset,
        "X": X,
        "y": y,
        "X_new": X_new,
        "y_new": y_new,
        "names": list(ds.feature_names),
        "target": ds.target_name,
        "item": "flower" if dataset == "iris" else "penguin",
        "items": "flowers" if dataset == "iris" else "penguins",
        "new": "held-out " + ("flowers" if dataset == "iris" else "penguins"),
        "class_title": "species",
        "description": ds.description,
    }


def _pair(requested: list[str] | None, names: list[str]) -> tuple[int, int]:
    if requested is None:
        return (0, 1)
    missing = [r for r in requested if r not in names]
    if missing or len(requested) != 2:
        raise DataError(f"--features must name two of the data's features: {', '.join(names)}")
    i, j = (names.index(r) for r in requested)
    if i == j:
        raise DataError("--features must name two different features")
    return i, j


def _unnamed(model: Any) -> Any:
    from ._app import unnamed

    return unnamed(model)


# ---------------------------------------------------------------------- derivation
def _derivation_checks(
    X: np.ndarray, y: np.ndarray, classes: np.ndarray, covariance: str
) -> list[dict[str, Any]]:
    """Per class: the score at the MLE, the log-likelihood there and after small nudges."""
    from ..covariance import structure_for
    from ..estimate import fit
    from ..gaussian import Gaussian

    kind = structure_for(covariance).gaussian_type  # one class's Gaussian (tied: full)
    out = []
    for c in classes:
        rows = X[y == c]
        g = fit(rows, kind)
        score = g.score(rows)
        se_mean = g.standard_errors()["mean"]
        ll = g.loglik(rows)
        shifted = Gaussian(g.mean + se_mean, g.covariance, kind, n=g.n).loglik(rows)
        wider = Gaussian(g.mean, g.covariance * 1.1, kind, n=g.n).loglik(rows)
        out.append(
            {
                "class": c.item() if isinstance(c, np.generic) else c,
                "n": int(rows.shape[0]),
                "covariance_type": kind,
                "score_mean_max": float(np.max(np.abs(score["mean"]))),
                "score_covariance_max": float(np.max(np.abs(score["covariance"]))),
                "loglik": ll,
                "loglik_mean_plus_se": shifted,
                "loglik_variance_times_1_1": wider,
            }
        )
    return out


def _optimiser_check(X: np.ndarray, y: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """How far scipy's numerical optimum lies from the closed-form MLE, in standard errors.

    Per class, L-BFGS-B minimises the negative log-likelihood over the means
    and the log-variances, starting from the first row and unit variances.
    """
    from scipy.optimize import minimize

    worst_mean = worst_var = 0.0
    for c in classes:
        rows = X[y == c]
        n, d = rows.shape

        def nll(params: np.ndarray, rows: np.ndarray = rows, n: int = n, d: int = d):
            mu, log_s2 = params[:d], params[d:]
            s2 = np.exp(log_s2)
            dev = rows - mu
            ss = np.einsum("ij,ij->j", dev, dev)
            value = 0.5 * float(np.sum(n * np.log(2 * np.pi) + n * log_s2 + ss / s2))
            grad = np.concatenate([-dev.sum(axis=0) / s2, 0.5 * (n - ss / s2)])
            return value, grad

        start = np.concatenate([rows[0], np.zeros(d)])
        result = minimize(
            nll,
            start,
            jac=True,
            method="L-BFGS-B",
            options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000},
        )
        mu_hat, s2_hat = rows.mean(axis=0), rows.var(axis=0)
        se_mu, se_s2 = np.sqrt(s2_hat / n), s2_hat * np.sqrt(2.0 / n)
        mu, s2 = result.x[:d], np.exp(result.x[d:])
        worst_mean = max(worst_mean, float(np.max(np.abs(mu - mu_hat) / se_mu)))
        worst_var = max(worst_var, float(np.max(np.abs(s2 - s2_hat) / se_s2)))
    return {"mean_in_se": worst_mean, "variance_in_se": worst_var}


# ---------------------------------------------------------------------- files
def _write_files(
    out: str,
    story: dict[str, Any],
    model: Any,
    quiet: Any,
    pair: tuple[int, int],
    no_plots: bool,
) -> list[tuple[str, str]]:
    """Write the data, the model and the pictures; return (path, what) pairs."""
    from ..io import write_table
    from ..persist import save

    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the folder '{out}': {exc.strerror or exc}; choose another --out"
        ) from None
    names, item, items = story["names"], story["item"], story["items"]
    files: list[tuple[str, str]] = []
    new_name = "mystery.csv" if story["name"] == "skittles" else f"{story['name']}-new.csv"
    data_path = os.path.join(out, f"{story['name']}.csv")
    new_path = os.path.join(out, new_name)
    model_path = os.path.join(out, "model.json")
    columns = {n: story["X"][:, j] for j, n in enumerate(names)}
    columns[story["target"]] = story["y"]
    write_table(data_path, columns)
    new_columns: dict[str, Any] = {"id": np.arange(1, story["X_new"].shape[0] + 1)}
    new_columns.update({n: story["X_new"][:, j] for j, n in enumerate(names)})
    if story["y_new"] is not None:
        new_columns[story["target"]] = story["y_new"]
    write_table(new_path, new_columns)
    save(model, model_path)
    files += [
        (data_path, f"the {story['X'].shape[0]} labelled {items} (CSV)"),
        (new_path, f"the {story['X_new'].shape[0]} {story['new']} (CSV, with an id column)"),
        (model_path, "the fitted model (JSON, with its sufficient statistics)"),
    ]
    if no_plots:
        return files
    from ..plot import (
        plot_class_densities,
        plot_decision,
        plot_labelled,
        plot_loglik_profile,
        plot_unlabelled,
    )

    first_class = model.classes_[0]
    i = pair[0]
    path = os.path.join(out, "labelled.png")
    plot_labelled(story["X"], story["y"], names, path, features=pair)
    files.append((path, f"the labelled {items}, one colour per class"))
    path = os.path.join(out, "mystery.png")
    plot_unlabelled(story["X_new"], names, path, features=pair)
    files.append((path, f"the {story['new']}, before we guess"))
    path = os.path.join(out, "densities.png")
    plot_class_densities(quiet, story["X"], story["y"], pair, path, feature_names=names)
    files.append((path, "each class's Gaussian: contours at 1, 2 and 3 standard deviations"))
    path = os.path.join(out, "decision.png")
    plot_decision(quiet, story["X_new"], pair, story["X"], story["y"], path, feature_names=names)
    files.append((path, f"the decision boundary and the {story['new']} as classified"))
    path = os.path.join(out, "loglik.png")
    rows = story["X"][story["y"] == first_class, i]
    plot_loglik_profile(rows, path, name=f"'{names[i]}' of the {first_class} {items}")
    files.append((path, f"log-likelihood of {first_class} '{names[i]}' around its maximum"))
    del item
    return files
