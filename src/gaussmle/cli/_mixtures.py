"""Mixture model files in the commands other than ``cluster``: predict, evaluate, describe, demo.

``gaussmle cluster`` (``_cluster.py``) makes the files; this module loads them
(:func:`load_predictor` also takes classifiers), refuses the classifier-only options,
evaluates a mixture on data (in memory, in batches or on Dask), describes it and
draws the demo's EM step.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from .._text import json_text, render_table
from ..io import DataError
from ._app import (
    Progress,
    say,
)


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
