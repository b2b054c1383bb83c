"""How the console script ends: Python's shutdown, then no native teardown.

When a Python process ends, the interpreter first joins its threads and runs
the ``atexit`` handlers (Spark and Dask stop their clusters there, temporary
files are removed), then frees its modules, and finally the C library's
``exit`` runs the static destructors of the native libraries loaded. That last
step is where a native thread pool still holding a worker can end the process
with ``terminate called without an active exception`` (SIGABRT, exit code
-6) after the command had finished and printed its result: pyarrow's pools do
this now and then on a busy machine (apache/arrow#34314), and a test of the
console script saw it once in CI on a one-line error whose exit code should
have been 2.

The console script therefore registers one ``atexit`` handler before it runs the
command. Handlers run last-registered-first, so every handler the command
registers runs before it; it then flushes standard output and error and ends
the process with :func:`os._exit` and the command's exit code. What is skipped
is only the freeing of modules and the native destructors: nothing the command
wrote is lost (model files are written, flushed and renamed before the command
returns; see :mod:`gaussmle._atomic`).

:func:`gaussmle.cli.main` (for callers in Python) does not do this: ending a
process is the console script's business.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable

from ._errors import EXIT_INTERNAL


class _ExitCode:
    """The exit code the command asked for (``None`` until it asked)."""

    code: int | None = None


def exit_status(code: object) -> int:
    """The process exit status that ``sys.exit(code)`` would give.

    Examples
    --------
    >>> exit_status(None), exit_status(2), exit_status("message")
    (0, 2, 1)
    """
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return EXIT_INTERNAL


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken pipe: nothing more can be written there


def _end_process(recorded: _ExitCode) -> None:
    """The last ``atexit`` handler: flush, then end without native teardown."""
    _flush_standard_streams()
    os._exit(EXIT_INTERNAL if recorded.code is None else recorded.code)


def run_console_command(command: Callable[[], object]) -> None:
    """Run ``command`` (which ends with ``sys.exit``) as the console script.

    The exit code is recorded and the process ends through :func:`_end_process`
    once Python's own shutdown (threads joined, ``atexit`` handlers run) is
    done; see the module docstring for why.

    Parameters
    ----------
    command : callable
        Runs the command line; in standalone mode click ends it with
        ``sys.exit(code)``.
    """
    recorded = _ExitCode()
    atexit.register(_end_process, recorded)
    try:
        command()
    except SystemExit as stop:
        recorded.code = exit_status(stop.code)
        raise
    recorded.code = 0
