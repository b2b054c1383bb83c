"""The command group, its error handling and the helpers every command shares.

Every problem with the user's input (a :class:`~gaussmle.io.DataError`, a
:class:`~gaussmle.persist.ModelFileError`, any other ``ValueError`` or an
``OSError``) becomes one line on standard error that starts with
``error:``, and exit code 2. Anything else is a bug: one line that says so,
exit code 1, and the traceback when ``GAUSSMLE_DEBUG=1`` is set.
"""

from __future__ import annotations

import copy
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
import numpy as np

from ..io import DataError

#: Exit code for bad input (the same as click's usage errors).
EXIT_BAD_INPUT = 2
#: Exit code for internal errors.
EXIT_INTERNAL = 1
#: Environment variable that turns on tracebacks.
DEBUG_ENV = "GAUSSMLE_DEBUG"

COVARIANCE_CHOICES = ("diag", "full", "tied", "spherical")
GAUSSIAN_CHOICES = ("diag", "full", "spherical")


# ---------------------------------------------------------------------- errors
def one_line(text: str) -> str:
    """Collapse a message onto one line.

    Examples
    --------
    >>> one_line("first\\n  second ")
    'first second'
    """
    return " ".join(str(text).split())


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is not None:
        return f"{reason}: '{exc.filename}'"
    return reason


def error_message(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for an exception that ends a command.

    Examples
    --------
    >>> error_message(ValueError("column 'x' not found"))
    ("error: column 'x' not found", 2)
    >>> error_message(FileNotFoundError(2, "No such file or directory", "m.json"))
    ("error: No such file or directory: 'm.json'", 2)
    >>> error_message(ZeroDivisionError("division by zero"))[1]
    1
    """
    if isinstance(exc, click.UsageError):
        hint = f"; see '{exc.ctx.command_path} --help'" if exc.ctx is not None else ""
        return f"error: {one_line(exc.format_message()).rstrip('.')}{hint}", EXIT_BAD_INPUT
    if isinstance(exc, click.ClickException):
        return f"error: {one_line(exc.format_message())}", exc.exit_code
    if isinstance(exc, OSError) and not isinstance(exc, DataError):
        return f"error: {one_line(_os_message(exc))}", EXIT_BAD_INPUT
    if isinstance(exc, ValueError):
        text = one_line(str(exc)) or type(exc).__name__
        return f"error: {text}", EXIT_BAD_INPUT
    if isinstance(exc, MemoryError):
        return (
            "error: out of memory; read the data in smaller batches with --batch-rows",
            EXIT_INTERNAL,
        )
    detail = one_line(str(exc))
    what = type(exc).__name__ + (f": {detail}" if detail else "")
    return (
        f"internal error ({what}); this is a bug in gaussmle: rerun with {DEBUG_ENV}=1 to "
        "see the traceback, and please report it",
        EXIT_INTERNAL,
    )


class GaussmleGroup(click.Group):
    """A click group that reports every failure as one line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Commands in the order they were added (the order of a first session)."""
        return list(self.commands)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; in standalone mode exit with 0, 1, 2 or 130."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except (KeyboardInterrupt, click.Abort):
            click.echo("\ninterrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # the reader of our output went away (e.g. `| head`): stop quietly
            _silence_stdout()
            sys.exit(EXIT_INTERNAL)
        except Exception as exc:  # noqa: BLE001 - every failure ends here, on purpose
            message, code = error_message(exc)
            if _debug() and not isinstance(exc, click.ClickException):
                traceback.print_exc()
            _close_progress_line()
            click.echo(message, err=True)
            sys.exit(code)
        sys.exit(result if isinstance(result, int) else 0)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


# ---------------------------------------------------------------------- progress
_ACTIVE_PROGRESS: list[Progress] = []


def _close_progress_line() -> None:
    for progress in list(_ACTIVE_PROGRESS):
        progress.close()


class Progress:
    """A one-line progress bar on standard error, only when it is a terminal.

    Use as a context manager; call :meth:`update` with the fraction done
    (``XYBatch.fraction_done``, None when unknown) and the rows read so far.
    """

    def __init__(self, label: str, enabled: bool = True, width: int = 30) -> None:
        stream = sys.stderr
        self.enabled = bool(enabled) and _isatty(stream)
        self.label = label
        self.width = width
        self.start = time.perf_counter()
        self._last = 0.0
        self._shown = False

    def __enter__(self) -> Progress:
        if self.enabled:
            _ACTIVE_PROGRESS.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, fraction: float | None, rows: int) -> None:
        """Redraw the bar (at most 10 times a second)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.1:
            return
        self._last = now
        elapsed = now - self.start
        if fraction is None:
            bar = f"{rows:,} rows"
        else:
            fraction = min(max(float(fraction), 0.0), 1.0)
            filled = int(round(fraction * self.width))
            bar = f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%}  {rows:,} rows"
        click.echo(f"\r{self.label} {bar}  {elapsed:.0f} s\x1b[K", err=True, nl=False)
        self._shown = True

    def close(self) -> None:
        """Erase the bar."""
        if self in _ACTIVE_PROGRESS:
            _ACTIVE_PROGRESS.remove(self)
        if self._shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self._shown = False


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


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


def scheduler_option() -> Callable[[Any], Any]:
    """``--scheduler``: run on Dask."""
    return click.option(
        "--scheduler",
        metavar="ADDRESS|local",
        default=None,
        help="Run on Dask: 'local' starts a cluster on this machine, or give a scheduler "
        "address (tcp://host:8786). DATA must then be Parquet files (a glob is fine).",
    )


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


# ---------------------------------------------------------------------- files
def check_output_path(path: str | None) -> None:
    """Refuse an output path that cannot be written, before any long work starts.

    Examples
    --------
    >>> check_output_path("/no/such/folder/model.json")
    Traceback (most recent call last):
    ...
    gaussmle.io.DataError: cannot write '/no/such/folder/model.json': the folder '/no/such/folder' does not exist; create it or choose another path
    """  # noqa: E501
    if path is None or path == "-":
        return
    if os.path.isdir(path):
        raise DataError(f"cannot write '{path}': it is a directory; choose a file path")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DataError(
            f"cannot write '{path}': the folder '{folder}' does not exist; create it or "
            "choose another path"
        )
    if not os.access(folder, os.W_OK):
        raise DataError(f"cannot write '{path}': permission denied; choose a writable path")


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


def align_labels(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Labels read from a file, converted to the type of the model's classes where possible.

    CSV readers turn the label ``1`` into an integer; a model trained with
    text labels ``"1"`` should still recognise it.

    Examples
    --------
    >>> align_labels(np.array([1, 2]), np.array(["1", "2"])).tolist()
    ['1', '2']
    >>> align_labels(np.array([1.0, 2.0]), np.array([1, 2])).dtype.kind
    'i'
    """
    y = np.asarray(y)
    kind = classes.dtype.kind
    if kind in "UO" and y.dtype.kind in "iub":
        return y.astype(str)
    if kind in "iu" and y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        return y.astype(np.int64)
    if kind == "f" and y.dtype.kind in "iu":
        return y.astype(np.float64)
    if kind in "iuf" and y.dtype.kind in "UO":
        try:
            return y.astype(classes.dtype)
        except (TypeError, ValueError):
            return y
    return y


def say(text: str = "") -> None:
    """Print to standard output."""
    click.echo(text)


def tell(text: str) -> None:
    """Print a note to standard error."""
    click.echo(text, err=True)
