"""The command group: runs a command and reports every failure as one line and an exit code."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from ._errors import EXIT_INTERNAL, _debug, error_message
from ._progress import _close_progress_line


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
