"""Per-class estimates for the commands; they live in :mod:`gaussmle._estimates`."""

from .._estimates import (
    ESTIMATE_HEADER,
    class_estimates,
    class_gaussians,
    classes_table,
    correlation_table,
    estimates_table,
    feature_names,
    gaussian_table,
)

__all__ = [
    "ESTIMATE_HEADER",
    "class_estimates",
    "class_gaussians",
    "classes_table",
    "correlation_table",
    "estimates_table",
    "feature_names",
    "gaussian_table",
]
