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

from ..io import DataError
from ._app import COVARIANCE_CHOICES, json_option, parse_features, say
from ._format import (
    decimals,
    fmt_fixed,
    json_text,
    render_table,
    side_by_side,
    wrap,
)
from ._models import class_estimates, estimates_table

#: Probability below which a prediction is called a close call.
CLOSE_CALL = 0.9

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
    if as_json:
        say(
            json_text(_payload(story, model, per_class, checks, optimiser, predicted, proba, files))
        )
        return
    say(_story_text(story, model, per_class, checks, optimiser, predicted, proba, files, out))


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
    from ..estimate import fit
    from ..gaussian import Gaussian

    kind = covariance if covariance in ("diag", "full", "spherical") else "full"
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


# ---------------------------------------------------------------------- output
def _story_text(
    story: dict[str, Any],
    model: Any,
    per_class: list[dict[str, Any]],
    checks: list[dict[str, Any]],
    optimiser: dict[str, float],
    predicted: np.ndarray,
    proba: np.ndarray,
    files: list[tuple[str, str]],
    out: str,
) -> str:
    items, new, title = story["items"], story["new"], story["class_title"]
    names = story["names"]
    X, y = story["X"], story["y"]
    n_new = story["X_new"].shape[0]
    lines: list[str] = []
    heading = (
        "gaussmle demo: which colour is this skittle?"
        if story["name"] == "skittles"
        else f"gaussmle demo: which species is this {story['item']}? ({story['name']})"
    )
    lines += [heading, "=" * len(heading), ""]

    # 1. the data
    lines.append("1. The data")
    if story["name"] == "skittles":
        text = (
            f"{X.shape[0]} skittles of known colour were each rated on two traits, "
            f"'{names[0]}' and '{names[1]}'. {n_new} more arrived without their wrappers: "
            "the mystery skittles. Which colour is each of them?"
        )
    else:
        text = (
            f"{story['description']} We keep {X.shape[0]} {items} to learn from and hide "
            f"the species of the other {n_new} (a stratified 20%): they are our mystery "
            f"{items}."
        )
    lines += [wrap(text), ""]
    means = np.stack([X[y == c].mean(axis=0) for c in model.classes_])
    rows = [[items, *[f"{int(np.sum(y == c)):,}" for c in model.classes_]]]
    places = [decimals(means[:, j], 4) for j in range(len(names))]
    if None not in places and max(places) - min(places) <= 1:  # similar scales: align them
        places = [min(places)] * len(names)
    for j, name in enumerate(names):
        rows.append([f"mean {name}", *[fmt_fixed(v, places[j]) for v in means[:, j]]])
    header = [title, *[str(c) for c in model.classes_]]
    lines.append(render_table(header, rows, align="l" + "r" * len(model.classes_), indent=4))
    lines.append("")

    # 2. the fit
    lines.append(
        f"2. One Gaussian per {title}, by maximum likelihood (covariance {model.covariance_type})"
    )
    text = (
        "Maximising the log-likelihood gives the sample mean and the variance with divisor "
        "N. SE is the standard error from the Fisher information; the 95% intervals are "
        "exact for Gaussian data (t for means, chi-square for variances). The classifier "
        f"adds epsilon = {model.epsilon_:.2g} to every variance, far below any SE."
    )
    lines += [wrap(text), ""]
    lines.append(_indent(estimates_table(per_class, class_title=title), 2))
    lines.append("")

    # 3. the derivation
    lines.append("3. Checking the derivation")
    text = (
        "At the maximum the gradient of the log-likelihood (the score) is zero, and moving "
        "any parameter away lowers the log-likelihood"
        + (
            ": shifting every mean by one SE costs exactly 1/2 per feature."
            if checks and checks[0]["covariance_type"] != "full"
            else " (checked here for one full-covariance Gaussian per class)."
        )
    )
    lines += [wrap(text), ""]
    rows = [
        [
            str(c["class"]),
            f"{c['score_mean_max']:.1e}",
            f"{c['score_covariance_max']:.1e}",
            f"{c['loglik']:.2f}",
            f"{c['loglik_mean_plus_se']:.2f}",
            f"{c['loglik_variance_times_1_1']:.2f}",
        ]
        for c in checks
    ]
    lines.append(
        render_table(
            [
                title,
                "max |dLL/dmu|",
                "max |dLL/dsigma2|",
                "LL at the MLE",
                "mean + 1 SE",
                "variance x 1.1",
            ],
            rows,
            align="lrrrrr",
            indent=4,
        )
    )
    worst = max(optimiser["mean_in_se"], optimiser["variance_in_se"])
    text = (
        "A numerical optimiser (scipy's L-BFGS-B on the negative log-likelihood, started "
        f"from the first {story['item']} with unit variances) lands on the same means and "
        f"variances, within {worst:.1g} standard errors."
    )
    lines += ["", wrap(text), ""]

    # 4. the new points
    lines.append(f"4. The {new}")
    lines += _prediction_lines(story, model, predicted, proba)
    lines.append("")

    # 5. files
    lines.append(f"5. Files written to {out}{os.sep}")
    width = max(len(os.path.basename(p)) for p, _ in files)
    lines += [f"    {os.path.basename(p).ljust(width)}  {what}" for p, what in files]
    lines.append("")
    data_path, new_path, model_path = (p for p, _ in files[:3])
    lines.append("Try next:")
    lines.append(f"    gaussmle describe {model_path}")
    id_opt = "--proba --id id"
    lines.append(f"    gaussmle predict {model_path} {new_path} {id_opt}")
    if story["y_new"] is not None:
        lines.append(f"    gaussmle evaluate {model_path} {new_path} --target {story['target']}")
    lines.append(f"    gaussmle select {data_path} --target {story['target']}")
    lines.append("    and docs/tutorial.md for the derivation, step by step.")
    return "\n".join(lines)


def _indent(text: str, spaces: int) -> str:
    return "\n".join((" " * spaces + line) if line else line for line in text.split("\n"))


def _prediction_lines(
    story: dict[str, Any], model: Any, predicted: np.ndarray, proba: np.ndarray
) -> list[str]:
    title = story["class_title"]
    X_new, y_new = story["X_new"], story["y_new"]
    best = proba.max(axis=1)
    lines: list[str] = []
    if y_new is None:
        text = (
            f"Each mystery {story['item']} gets the {title} with the highest posterior "
            "probability, prior times likelihood, normalised. '?' marks a close call "
            f"(probability below {CLOSE_CALL})."
        )
        lines += [wrap(text), ""]
        cells = []
        for k in range(X_new.shape[0]):
            ratings = "(" + ", ".join(f"{v:5.2f}" for v in X_new[k]) + ")"
            mark = "?" if best[k] < CLOSE_CALL else ""
            cells.append([k + 1, ratings, str(predicted[k]), f"{best[k]:.3f}{mark}"])
        half = (len(cells) + 1) // 2
        header = ["#", "ratings", title, "p"]
        blocks = [
            render_table(header, cells[:half], align="rlll", indent=4),
            render_table(header, cells[half:], align="rlll", indent=0),
        ]
        lines.append(side_by_side(blocks, gap=5) if cells[half:] else blocks[0])
        counts = ", ".join(f"{int(np.sum(predicted == c))} {c}" for c in model.classes_)
        close = [str(k + 1) for k in np.flatnonzero(best < CLOSE_CALL)]
        verdict = f"Verdict: {counts}."
        if close:
            verdict += (
                f" {len(close)} {'is a close call' if len(close) == 1 else 'are close calls'}"
                f" (#{', #'.join(close)}): they sit near the boundary in decision.png."
            )
        else:
            verdict += " None is a close call."
        lines += ["", wrap(verdict)]
        return lines
    correct = predicted == y_new
    text = (
        f"Each held-out {story['item']} gets the {title} with the highest posterior "
        f"probability. {int(correct.sum())} of {len(y_new)} are right: accuracy "
        f"{correct.mean():.1%}."
    )
    lines += [wrap(text), ""]
    labels = [str(c) for c in model.classes_]
    rows = []
    for c in model.classes_:
        rows.append(
            [str(c), *[int(np.sum((y_new == c) & (predicted == p))) for p in model.classes_]]
        )
    lines.append(render_table(["true \\ predicted", *labels], rows, indent=4))
    wrong = np.flatnonzero(~correct)
    if wrong.size:
        lines += ["", wrap(f"The {'one' if wrong.size == 1 else wrong.size} it got wrong:")]
        rows = [
            [
                int(k + 1),
                *[float(v) for v in X_new[k]],
                str(y_new[k]),
                str(predicted[k]),
                float(best[k]),
            ]
            for k in wrong
        ]
        lines.append(render_table(["#", *story["names"], "true", "predicted", "p"], rows, indent=4))
    return lines


def _payload(
    story: dict[str, Any],
    model: Any,
    per_class: list[dict[str, Any]],
    checks: list[dict[str, Any]],
    optimiser: dict[str, float],
    predicted: np.ndarray,
    proba: np.ndarray,
    files: list[tuple[str, str]],
) -> dict[str, Any]:
    classes = model.classes_.tolist()
    predictions = []
    for k in range(proba.shape[0]):
        entry: dict[str, Any] = {
            "id": k + 1,
            "features": story["X_new"][k].tolist(),
            "predicted": predicted[k],
            "probability": float(proba[k].max()),
            "proba": dict(zip(classes, proba[k].tolist(), strict=True)),
        }
        if story["y_new"] is not None:
            entry["true"] = story["y_new"][k]
        predictions.append(entry)
    payload: dict[str, Any] = {
        "dataset": story["name"],
        "covariance_type": model.covariance_type,
        "features": story["names"],
        "rows": int(story["X"].shape[0]),
        "epsilon": float(model.epsilon_),
        "classes": per_class,
        "derivation": {"per_class": checks, "optimiser_distance_in_se": optimiser},
        "predictions": predictions,
        "files": [path for path, _ in files],
    }
    if story["y_new"] is not None:
        payload["accuracy"] = float(np.mean(predicted == story["y_new"]))
    return payload
