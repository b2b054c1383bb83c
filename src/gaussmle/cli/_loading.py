"""Loading a model for a command, and the feature columns it needs from the data."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from ..io import DataError


def load_classifier(path: str) -> Any:
    """Load a classifier model file (refusing a single Gaussian's or a mixture's file)."""
    from ..classifier import GaussianClassifier
    from ..gaussian import Gaussian
    from ..persist import load

    model = load(path)
    if not isinstance(model, GaussianClassifier):
        what = (
            "a single Gaussian (from gaussmle estimate)"
            if isinstance(model, Gaussian)
            else "a Gaussian mixture (from gaussmle cluster)"
        )
        raise DataError(
            f"'{path}' holds {what}, not a classifier; this command needs one made with "
            "gaussmle fit"
        )
    return model


def unnamed(model: Any) -> Any:
    """A shallow copy of a fitted model without ``feature_names_in_``.

    The command line checks the feature names itself and hands the model
    plain arrays; without the names scikit-learn does not warn about them.
    """
    if not hasattr(model, "feature_names_in_"):
        return model
    quiet = copy.copy(model)
    del quiet.feature_names_in_
    return quiet


def model_features(
    model: Any, data: str, features: list[str] | None, exclude: Iterable[str] = ()
) -> list[str]:
    """The data columns that feed the model's features, in the model's order.

    ``features`` (from ``--features``) wins; otherwise the model's feature
    names; a model without names takes the numeric columns of the data
    (except ``exclude``), which must be as many as its features.
    """
    from ..io import iter_batches, table_columns

    d = int(model.n_features_in_)
    names = getattr(model, "feature_names_in_", None)
    if features is not None:
        if len(features) != d:
            raise DataError(
                f"--features names {len(features)} columns but the model has {d} features; "
                "name one column per model feature"
            )
        return features
    columns = table_columns(data)
    if names is not None:
        names = [str(n) for n in names]
        missing = [n for n in names if n not in columns]
        if missing:
            shown = ", ".join(f"'{n}'" for n in missing[:12])
            what = "column" if len(missing) == 1 else "columns"
            raise DataError(
                f"the model's features do not match the data: it was fitted on "
                f"{_listing(names)}, but {_where(data)} has no {what} {shown} (its columns: "
                f"{_listing(columns)}); pass --features to say which columns to use"
            )
        return names
    excluded = set(exclude)
    candidates = [c for c in columns if c not in excluded]
    if data != "-":
        first = next(iter_batches(data, columns=candidates, batch_rows=256), {})
        candidates = [c for c in candidates if c in first and first[c].dtype.kind in "fiub"]
    if len(candidates) != d:
        raise DataError(
            f"the model's features do not match the data: the model has {d} features but "
            f"{_where(data)} has {len(candidates)} numeric columns ({_listing(candidates)}); "
            "pass --features to say which columns to use"
        )
    return candidates


def _where(data: str) -> str:
    return "standard input" if data == "-" else f"'{data}'"


def _listing(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(str(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in all)"
    return shown or "(none)"
