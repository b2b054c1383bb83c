"""The helpers every command shares, re-exported from the modules that hold them.

``_errors`` (messages and exit codes), ``_group`` (the command group), ``_progress``
(progress bars, say/tell), ``_options`` (shared options, --scheduler/--timeout),
``_paths`` (output paths), ``_loading`` (models and their feature columns) and ``_align``
(label alignment). Commands import from here.

Every problem with the user's input (a :class:`~gaussmle.io.DataError`, a
:class:`~gaussmle.persist.ModelFileError`, any other ``ValueError`` or an
``OSError``) becomes one line on standard error that starts with
``error:``, and exit code 2. Anything else is a bug: one line that says so,
exit code 1, and the traceback when ``GAUSSMLE_DEBUG=1`` is set.
"""

from __future__ import annotations

from ._align import (
    align_labels,
)
from ._errors import (
    DEBUG_ENV,
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    _debug,
    _os_message,
    error_message,
    one_line,
)
from ._group import (
    GaussmleGroup,
    _silence_stdout,
)
from ._loading import (
    _listing,
    _where,
    load_classifier,
    model_features,
    unnamed,
)
from ._options import (
    _DASK_LOGGERS,
    _DASK_TIMEOUT_KEY,
    COVARIANCE_CHOICES,
    DEFAULT_DASK_TIMEOUT,
    GAUSSIAN_CHOICES,
    _remember_timeout,
    _silence_loggers,
    batch_rows_option,
    dask_client,
    drop_missing_option,
    features_option,
    json_option,
    na_values_option,
    no_progress_option,
    parse_features,
    parse_na_values,
    scheduler_option,
)
from ._paths import (
    check_output_path,
)
from ._progress import (
    _ACTIVE_PROGRESS,
    Progress,
    _close_progress_line,
    _isatty,
    say,
    tell,
)

__all__ = [
    "COVARIANCE_CHOICES",
    "DEBUG_ENV",
    "DEFAULT_DASK_TIMEOUT",
    "EXIT_BAD_INPUT",
    "EXIT_INTERNAL",
    "GAUSSIAN_CHOICES",
    "GaussmleGroup",
    "Progress",
    "_ACTIVE_PROGRESS",
    "_DASK_LOGGERS",
    "_DASK_TIMEOUT_KEY",
    "_close_progress_line",
    "_debug",
    "_isatty",
    "_listing",
    "_os_message",
    "_remember_timeout",
    "_silence_loggers",
    "_silence_stdout",
    "_where",
    "align_labels",
    "batch_rows_option",
    "check_output_path",
    "dask_client",
    "drop_missing_option",
    "error_message",
    "features_option",
    "json_option",
    "load_classifier",
    "model_features",
    "na_values_option",
    "no_progress_option",
    "one_line",
    "parse_features",
    "parse_na_values",
    "say",
    "scheduler_option",
    "tell",
    "unnamed",
]
