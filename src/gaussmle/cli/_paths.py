"""Output paths, checked before any long work starts."""

from __future__ import annotations

import os

from ..io import DataError


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
    if path == "":
        raise DataError("the output path is empty; give a file name such as 'model.json'")
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
