"""What gaussmle says about fitted models: per-class estimates with their uncertainty."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._text import estimate_cells, estimate_rows, fmt_count, render_table
from .covariance import structure_for
from .gaussian import Gaussian

ESTIMATE_HEADER = ["mean", "SE", "95% interval", "variance", "SE", "95% interval"]


def feature_names(model: Any) -> list[str]:
    """The model's feature names, or ``x0, x1, ...``."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return [f"x{j}" for j in range(int(model.n_features_in_))]
    return [str(n) for n in names]


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def class_gaussians(model: Any) -> list[tuple[Gaussian | None, Gaussian | None]]:
    """Per class, the Gaussians whose standard errors describe its means and its variances.

    They carry the model's own parameters (``means_``, ``covariances_``,
    which include the small ``epsilon_`` added to every variance). The
    mean's uncertainty uses the class's rows; for ``"tied"`` models the
    shared covariance is estimated from all rows, so its uncertainty uses
    them all. None for a class without training data.
    """
    structure = structure_for(model.covariance_type)
    counts = np.asarray(model.class_count_, dtype=float)
    total = float(counts.sum())
    out: list[tuple[Gaussian | None, Gaussian | None]] = []
    for c in range(len(model.classes_)):
        if counts[c] <= 0:
            out.append((None, None))
            continue
        mean = model.means_[c]
        cov = structure.component(model.covariances_, c)
        for_mean = Gaussian(mean, cov, structure.gaussian_type, n=counts[c])
        # a shared covariance is estimated from all rows
        for_var = (
            for_mean
            if structure.per_component
            else Gaussian(mean, cov, structure.gaussian_type, n=total)
        )
        out.append((for_mean, for_var))
    return out


def class_estimates(model: Any, level: float = 0.95) -> list[dict[str, Any]]:
    """Per class: count, prior and, per feature, the estimates with SEs and intervals."""
    names = feature_names(model)
    result = []
    for c, (for_mean, for_var) in enumerate(class_gaussians(model)):
        entry: dict[str, Any] = {
            "class": _label(model.classes_[c]),
            "count": float(model.class_count_[c]),
            "prior": float(model.class_prior_[c]),
            "features": [],
        }
        if for_mean is not None and for_var is not None:
            mean_part = estimate_rows(for_mean, level)
            var_part = estimate_rows(for_var, level)
            observed = _observed_counts(model, c)
            if observed is not None:
                mean_part, var_part = _available_case_rows(model, c, observed, level)
            for j, name in enumerate(names):
                entry["features"].append(
                    {
                        "feature": name,
                        "mean": mean_part["mean"][j],
                        "mean_se": mean_part["mean_se"][j],
                        "mean_ci": mean_part["mean_ci"][j],
                        "variance": var_part["variance"][j],
                        "variance_se": var_part["variance_se"][j],
                        "variance_ci": var_part["variance_ci"][j],
                    }
                )
                if observed is not None:
                    entry["features"][-1]["observed"] = float(observed[j])
            if not structure_for(model.covariance_type).independent_features:  # full, tied
                entry["covariance"] = np.asarray(for_var.covariance).tolist()
        result.append(entry)
    return result


def _observed_counts(model: Any, c: int) -> np.ndarray | None:
    """Class ``c``'s weight behind each feature, when the training data had gaps."""
    stats = getattr(model, "class_stats_", None)
    if stats is None or stats.feature_count is None:
        return None
    counts = np.asarray(stats.feature_count[c], dtype=float)
    return None if np.all(counts == stats.count[c]) else counts


def _available_case_rows(
    model: Any, c: int, observed: np.ndarray, level: float
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Estimate rows of a diag or spherical class fitted to data with gaps.

    Each feature's mean (and, for diag, its variance) was estimated from the
    rows where that feature is observed, so its standard error uses that
    count; a spherical class's one variance uses all its observed values.
    """
    mean, cov = model.means_[c], np.asarray(model.covariances_[c], dtype=float)
    var = np.broadcast_to(cov, mean.shape)
    per_feature = [
        estimate_rows(Gaussian(mean[j : j + 1], var[j : j + 1], "diag", n=observed[j]), level)
        for j in range(mean.shape[0])
    ]
    mean_part = {key: [row[key][0] for row in per_feature] for key in per_feature[0]}
    if structure_for(model.covariance_type).one_variance:
        shared = Gaussian(mean, cov, "spherical", n=float(observed.mean()))
        return mean_part, estimate_rows(shared, level)
    return mean_part, mean_part


def estimates_table(per_class: list[dict[str, Any]], class_title: str = "class") -> str:
    """The per-class, per-feature estimates as an aligned table."""
    flat = [(entry["class"], f) for entry in per_class for f in entry["features"]]
    if not flat:
        return "  (no class has training data)"
    cells = estimate_cells([f for _, f in flat])
    rows = []
    previous = object()
    for (label, f), c in zip(flat, cells, strict=True):
        shown = "" if label == previous else str(label)
        previous = label
        rows.append([shown, f["feature"], *c])
    return render_table([class_title, "feature", *ESTIMATE_HEADER], rows, align="llrrrrrr")


def gaussian_table(gaussian: Gaussian, names: list[str], level: float = 0.95) -> str:
    """Estimates of one Gaussian, one row per feature."""
    part = estimate_rows(gaussian, level)
    features = [{key: part[key][j] for key in part} for j in range(gaussian.n_features)]
    cells = estimate_cells(features)
    rows = [[name, *c] for name, c in zip(names, cells, strict=True)]
    return render_table(["feature", *ESTIMATE_HEADER], rows, align="lrrrrrr")


def correlation_table(covariance: np.ndarray, names: list[str]) -> str:
    """The correlation matrix of a covariance matrix, as a table."""
    cov = np.asarray(covariance, dtype=float)
    sd = np.sqrt(np.diagonal(cov))
    corr = cov / np.outer(sd, sd)
    rows = [[name, *[float(v) for v in corr[i]]] for i, name in enumerate(names)]
    return render_table(["", *names], rows)


def classes_table(model: Any, class_title: str = "class") -> str:
    """Class, rows and prior of every class."""
    rows = [
        [str(_label(c)), fmt_count(n), float(p)]
        for c, n, p in zip(model.classes_, model.class_count_, model.class_prior_, strict=True)
    ]
    return render_table([class_title, "rows", "prior"], rows, align="lrr")
