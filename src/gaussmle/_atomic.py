"""The package's one atomic file writer: a temporary file, fsync, rename.

Every file gaussmle writes (models, tables, figures, text) goes through
:func:`atomic_open`, so a failure, Ctrl-C, ``kill`` (SIGTERM) or a closed
terminal (SIGHUP) never leaves a half-written file or a temporary file behind.

- A symbolic link is written through: its target is replaced atomically (the
  temporary file lives in the target's folder), and the link stays a link.
- A device file or a FIFO (``/dev/null``, ``/proc/self/fd/1``, a named pipe)
  is written directly, as a shell redirection would: a device cannot be
  replaced, so no atomicity is possible there.
- A socket, a folder or an empty path is refused.

Errors are :class:`OSError` whose ``strerror`` is a short reason; callers turn
them into their own one-sentence messages. This module imports nothing from
gaussmle, so any layer may use it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from typing import IO

#: Signals that remove the temporary file before the process ends (SIGINT
#: arrives as KeyboardInterrupt and is handled like any other exception).
_CLEANUP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class _Terminated(BaseException):
    """Raised inside a write by SIGTERM or SIGHUP, so that the temporary file is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated(signum)


@contextlib.contextmanager
def _signals_clean_up() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into an exception for the duration of a write.

    Afterwards the previous handlers are restored and a caught signal is sent
    again, so the process ends as the signal says (exit status 128 + signal).
    Signals that are ignored (``nohup``) stay ignored; outside the main thread
    nothing changes (Python handles signals there only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in _CLEANUP_SIGNALS:
        old = signal.getsignal(signum)
        if old is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    except _Terminated as exc:
        for signum, old in previous.items():
            signal.signal(signum, old)
        previous = {}
        os.kill(os.getpid(), exc.signum)
        raise
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _destination(path: str) -> tuple[str, bool]:
    """Where to write ``path``, and whether atomically (False for devices and FIFOs)."""
    if path == "":
        raise OSError(errno.EINVAL, "the path is empty; give a file name")
    try:
        info = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        info = None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory, not a file")
        if stat.S_ISSOCK(info.st_mode):
            raise OSError(errno.EINVAL, "it is a socket; choose a regular file")
        if not stat.S_ISREG(info.st_mode):
            return path, False
    if os.path.islink(path):
        return os.path.realpath(path), True
    return path, True


def _new_file_mode(path: str) -> int:
    """The permissions of the file being replaced, or those a new file gets (umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _sync_folder(folder: str) -> None:
    """Make the rename durable (POSIX); silently skipped where folders cannot be opened."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open ``path`` for writing bytes; the file appears there only when the block succeeds.

    On any failure (an exception, KeyboardInterrupt, SIGTERM, SIGHUP) the
    temporary file is removed and ``path`` is left as it was. Symbolic links
    are written through; devices and FIFOs are written directly.

    Raises
    ------
    OSError
        With a short reason in ``strerror`` (the path is empty, a folder, a
        socket; or what the system said).

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> real, link = os.path.join(folder, "real.txt"), os.path.join(folder, "link.txt")
    >>> with open(real, "w") as f:
    ...     _ = f.write("old")
    >>> os.symlink("real.txt", link)
    >>> with atomic_open(link) as f:
    ...     _ = f.write(b"new")
    >>> open(real).read(), os.path.islink(link), sorted(os.listdir(folder))
    ('new', True, ['link.txt', 'real.txt'])
    """
    target, atomic = _destination(os.fspath(path))
    if not atomic:
        with open(target, "wb") as handle:
            yield handle
        return
    folder = os.path.dirname(os.path.abspath(target))
    with _signals_clean_up():
        fd, tmp = tempfile.mkstemp(
            prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=folder
        )
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, _new_file_mode(target))
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    _sync_folder(folder)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` with :func:`atomic_open`.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.bin")
    >>> atomic_write_bytes(path, b"hello")
    >>> open(path, "rb").read()
    b'hello'
    """
    with atomic_open(path) as handle:
        handle.write(data)
