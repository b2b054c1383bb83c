"""What ``gaussmle demo`` prints: the skittles story as text, or the same as JSON.

The numbers come from :mod:`gaussmle.cli._demo`, which computes them; this
module only lays them out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._estimates import estimates_table
from .._text import (
    decimals,
    fmt_fixed,
    render_table,
    side_by_side,
    wrap,
)
from ..covariance import structure_for

#: Probability below which a prediction is called a close call.
CLOSE_CALL = 0.9


@dataclass(frozen=True)
class DemoResults:
    """What the demo computed: the story's data, the model and its checks."""

    story: dict[str, Any]
    model: Any
    per_class: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    optimiser: dict[str, float]
    predicted: np.ndarray
    proba: np.ndarray
    files: list[tuple[str, str]]
    mixture: dict[str, Any] | None = None  # the EM step (labels hidden), if it ran


def story_text(results: DemoResults, out: str) -> str:
    """The demo's story as text: the data, the estimates, the checks, the verdict."""
    story, model, per_class = results.story, results.model, results.per_class
    checks, optimiser, files = results.checks, results.optimiser, results.files
    predicted, proba = results.predicted, results.proba
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
            if checks and structure_for(checks[0]["covariance_type"]).independent_features
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

    # 5. EM without the labels
    if results.mixture is not None:
        from ._mixtures import demo_mixture_lines

        lines += demo_mixture_lines(results.mixture, items, title)

    # 6. files
    step = 6 if results.mixture is not None else 5
    lines.append(f"{step}. Files written to {out}{os.sep}")
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


def payload(results: DemoResults) -> dict[str, Any]:
    """The same results as one JSON-ready dict."""
    story, model, per_class = results.story, results.model, results.per_class
    checks, optimiser, files = results.checks, results.optimiser, results.files
    predicted, proba = results.predicted, results.proba
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
    if results.mixture is not None:
        payload["mixture"] = results.mixture
    return payload
