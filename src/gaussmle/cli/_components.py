"""``gaussmle cluster --components auto``: choose the number of components, then fit it.

The selection runs :func:`gaussmle.select_components` for k = 1 .. ``--max-components``
(BIC, ICL and, with ``--bootstrap B``, the bootstrap likelihood-ratio tests), prints
the table and the reason, and hands the chosen fit back to ``cluster`` to save and
report. Kept apart from ``_cluster.py`` so that command changes by a few lines.
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np
from click.core import ParameterSource

from ..io import DataError
from ._app import Progress, say

#: The value of ``--components`` that asks for a choice.
AUTO = "auto"


class ComponentsType(click.ParamType):
    """``--components``: an integer of at least 1, or ``auto``."""

    name = "K|auto"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | str:
        """An int >= 1, or ``"auto"``; anything else is a usage error."""
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif str(value).strip().lower() == AUTO:
            return AUTO
        else:
            try:
                number = int(str(value))
            except ValueError:
                self.fail(f"{value!r} is neither a whole number nor 'auto'", param, ctx)
        if number < 1:
            self.fail(f"{number} is not a number of components (at least 1)", param, ctx)
        return number


def check_auto_options(components: int | str, bootstrap: int) -> None:
    """Refuse ``--bootstrap``, ``--max-components`` or ``--criterion`` without ``auto``."""
    if components == AUTO:
        return
    ctx = click.get_current_context(silent=True)
    given = {"bootstrap": bool(bootstrap)}
    if ctx is not None:
        for name in ("max_components", "criterion"):
            given[name] = ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
    for name, is_given in given.items():
        if is_given:
            flag = "--" + name.replace("_", "-")
            raise DataError(
                f"{flag} is for choosing the number of components, so it needs --components "
                "auto; leave it out or ask for --components auto"
            )


def fit_auto(
    X: np.ndarray,
    *,
    covariance: str,
    max_components: int,
    bootstrap: int,
    settings: dict[str, Any],
    criterion: str,
    as_json: bool,
    progress: bool = False,
) -> tuple[Any, list[str], Any]:
    """Choose k by ``criterion`` among 1 .. ``max_components`` (at most one per row).

    Returns the chosen fitted mixture, the notes of its fit, and the
    :class:`~gaussmle.mixture_selection.ComponentSelection`. Prints the
    table unless ``as_json``.
    """
    from ..mixture_selection import select_components

    top = min(max_components, X.shape[0])
    with Progress("choosing k", progress) as bar:

        def report(done: int, planned: int) -> None:
            bar.label = f"choosing k: fit {done} of at most {planned},"
            bar.update(done / planned, X.shape[0])

        result = select_components(
            X,
            range(1, top + 1),
            (covariance,),
            criterion=criterion,
            bootstrap=bootstrap,
            progress=report,
            **settings,
        )
    if result.best_model is None:
        raise DataError(
            f"no number of components could be fitted ({result.reason}); check the data"
        )
    if not as_json:
        capped = f" (capped at the {X.shape[0]} rows)" if top < max_components else ""
        say(f"Chose the number of components among 1 to {top}{capped} by {criterion.upper()}:")
        say(result.to_table())
        say()
    chosen = f"k={result.best_n_components} {result.best_covariance_type}: "
    notes = [n[len(chosen) :] for n in result.notes if n.startswith(chosen)]
    return result.best_model, notes, result
