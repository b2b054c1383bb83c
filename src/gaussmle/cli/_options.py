"""Options the commands share (features, batches, missing values, Dask) and their parsing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from .._validation import COVARIANCE_TYPES
from ..gaussian import GAUSSIAN_TYPES

#: The covariance choices of the commands: the library's own lists, not copies.
COVARIANCE_CHOICES = COVARIANCE_TYPES
GAUSSIAN_CHOICES = GAUSSIAN_TYPES


# ---------------------------------------------------------------------- options
def features_option(help_text: str | None = None) -> Callable[[Any], Any]:
    """``--features A,B,...``: comma-separated column names."""
    return click.option(
        "--features",
        metavar="A,B,...",
        default=None,
        help=help_text
        or "Feature columns, comma-separated (default: every column except the target).",
    )


def batch_rows_option() -> Callable[[Any], Any]:
    """``--batch-rows N``: rows read per batch."""
    from ..io import DEFAULT_BATCH_ROWS

    return click.option(
        "--batch-rows",
        type=click.IntRange(min=1),
        default=DEFAULT_BATCH_ROWS,
        show_default=True,
        metavar="N",
        help="Rows read at a time; memory use grows with it.",
    )


def no_progress_option() -> Callable[[Any], Any]:
    """``--no-progress``."""
    return click.option(
        "--no-progress",
        is_flag=True,
        help="No progress bar (it is only shown when standard error is a terminal).",
    )


def json_option() -> Callable[[Any], Any]:
    """``--json``: machine-readable output."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")


def drop_missing_option() -> Callable[[Any], Any]:
    """``--drop-missing``."""
    return click.option(
        "--drop-missing",
        is_flag=True,
        help="Drop rows with a missing value (and say how many) instead of stopping.",
    )


def na_values_option() -> Callable[[Any], Any]:
    """``--na-values A,B,...``: target values that mean a missing label."""
    return click.option(
        "--na-values",
        metavar="A,B,...",
        default=None,
        help="Target values that mean a missing label, comma-separated (default: only an "
        "empty cell; NA or null are labels like any other).",
    )


def parse_na_values(text: str | None) -> tuple[str, ...]:
    """Split ``--na-values`` text on commas.

    Examples
    --------
    >>> parse_na_values("NA,null")
    ('NA', 'null')
    >>> parse_na_values(None)
    ()
    """
    return () if text is None else tuple(text.split(","))


#: Seconds a command with --scheduler waits for a lost scheduler or for workers.
DEFAULT_DASK_TIMEOUT = 60.0


_DASK_TIMEOUT_KEY = "gaussmle.dask_timeout"


#: Loggers of Dask and the libraries under it, silenced while a command runs on Dask.
_DASK_LOGGERS = ("distributed", "tornado", "asyncio", "bokeh")


def scheduler_option() -> Callable[[Any], Any]:
    """``--scheduler``: run on Dask; with ``--timeout SECONDS`` to give up on a lost cluster."""
    scheduler = click.option(
        "--scheduler",
        metavar="ADDRESS|local",
        default=None,
        help="Run on Dask: 'local' starts a cluster on this machine, or give a scheduler "
        "address (tcp://host:8786). DATA must then be Parquet files (a glob is fine).",
    )
    timeout = click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_DASK_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        expose_value=False,
        callback=_remember_timeout,
        help="With --scheduler: stop with an error when the scheduler has not answered, or "
        "the cluster has had no workers, for this long.",
    )

    def apply(func: Any) -> Any:
        return scheduler(timeout(func))

    return apply


def _remember_timeout(ctx: click.Context, param: click.Parameter, value: float) -> float:
    ctx.meta[_DASK_TIMEOUT_KEY] = value
    return value


@contextlib.contextmanager
def dask_client(scheduler: str) -> Iterator[Any]:
    """:func:`gaussmle.dask_backend.client_for` for a command: Dask's logs silenced, and a
    lost scheduler or a cluster without workers an error after ``--timeout`` seconds."""
    import distributed  # noqa: F401 - configures its loggers, which are then silenced

    from ..dask_backend import client_for

    _silence_loggers(_DASK_LOGGERS)
    ctx = click.get_current_context(silent=True)
    give_up = DEFAULT_DASK_TIMEOUT if ctx is None else ctx.meta.get(_DASK_TIMEOUT_KEY)
    with client_for(scheduler, give_up=give_up or DEFAULT_DASK_TIMEOUT) as client:
        yield client


def _silence_loggers(prefixes: Sequence[str]) -> None:
    """Silence the loggers named by ``prefixes`` and their children (the one error line is
    the command's own)."""
    import logging

    quiet = logging.CRITICAL + 10
    for name in list(logging.root.manager.loggerDict):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            logging.getLogger(name).setLevel(quiet)
    for prefix in prefixes:
        logging.getLogger(prefix).setLevel(quiet)


def parse_features(text: str | None) -> list[str] | None:
    """Split ``--features`` text on commas.

    Examples
    --------
    >>> parse_features("aromatic lift, elegance")
    ['aromatic lift', 'elegance']
    >>> parse_features(None) is None
    True
    """
    if text is None:
        return None
    names = [part.strip() for part in text.split(",")]
    names = [n for n in names if n]
    if not names:
        raise click.BadParameter("name at least one column", param_hint="--features")
    return names
