"""The model file format's constants and the errors raised while reading or writing one.

``FORMAT`` and ``FORMAT_VERSION`` head every file; the tuples name the keys and dtypes a
document may hold and the tolerances the checks allow. :class:`ModelFileError` is the
public error; ``_Invalid`` and ``_Newer`` are internal and become a :class:`ModelFileError`
with the file's name in :mod:`gaussmle.persist._read`.
"""

from __future__ import annotations

#: The value of the ``format`` key of every gaussmle model file.
FORMAT = "gaussmle-model"
#: The newest file format this version writes and reads.
FORMAT_VERSION = 1
_MODELS = ("GaussianClassifier", "Gaussian", "GaussianMixture")
_HEADER_KEYS = ("format", "format_version", "gaussmle_version", "model")
_CLASSIFIER_KEYS = _HEADER_KEYS + (
    "hyperparameters",
    "n_features",
    "feature_names",
    "classes",
    "class_dtype",
    "statistics",
    "parameters",
)
_GAUSSIAN_KEYS = _HEADER_KEYS + ("n_features", "parameters")
_GAUSSIAN_OPTIONAL = ("feature_names", "estimator")
_ESTIMATORS = ("mle", "map")
_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_FLOAT_DTYPES = ("float16", "float32", "float64")
_CLASS_DTYPES = ("bool", "str", "object") + _INT_DTYPES + _FLOAT_DTYPES
#: Relative tolerance for the symmetry and positive semi-definiteness of m2.
_PSD_RTOL = 1e-9
#: Relative tolerance for the derived parameters against the statistics.
_PARAM_RTOL = 1e-9


class ModelFileError(ValueError):
    """A model file, text or dictionary that cannot be read, or a model that cannot be written.

    The message is one sentence that names the file, says what is wrong and
    what to do.

    Examples
    --------
    >>> try:
    ...     loads('{"format": "gaussmle-model"')
    ... except ModelFileError as exc:
    ...     print(exc)
    the text is not a valid gaussmle model: it is truncated or not JSON
    (line 1, column 28); re-save the model
    """


class _Invalid(Exception):
    """Internal: why a model document is invalid (completed into a ModelFileError)."""


class _Newer(Exception):
    """Internal: the document has a newer format version than this gaussmle reads."""
