"""Progress bars on standard error, and printing to standard output and error."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

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


def say(text: str = "") -> None:
    """Print to standard output."""
    click.echo(text)


def tell(text: str) -> None:
    """Print a note to standard error."""
    click.echo(text, err=True)
