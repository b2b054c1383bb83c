"""Error messages and exit codes: every failure of a command as one line.

Every problem with the user's input (a :class:`~gaussmle.io.DataError`, a
:class:`~gaussmle.persist.ModelFileError`, any other ``ValueError`` or an
``OSError``) becomes one line on standard error that starts with
``error:``, and exit code 2. Anything else is a bug: one line that says so,
exit code 1, and the traceback when ``GAUSSMLE_DEBUG=1`` is set.
"""

from __future__ import annotations

import os

import click

from ..io import DataError

#: Exit code for bad input (the same as click's usage errors).
EXIT_BAD_INPUT = 2


#: Exit code for internal errors.
EXIT_INTERNAL = 1


#: Environment variable that turns on tracebacks.
DEBUG_ENV = "GAUSSMLE_DEBUG"


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
