"""gaussmle: maximum likelihood Gaussians and generative Gaussian classifiers.

The core (``fit``, ``Gaussian``, ``GaussianStats``) loads at once; the
classifier and everything built on it (which bring scikit-learn, matplotlib
and friends) load on first use, so ``import gaussmle`` stays fast.

Examples
--------
>>> import gaussmle
>>> g = gaussmle.fit([[1.0], [2.0], [3.0]])
>>> g.mean.tolist(), g.covariance.round(4).tolist()
([2.0], [0.6667])
"""

from importlib import import_module
from typing import Any

from .estimate import fit, gaussian_from_stats
from .gaussian import Gaussian
from .stats import GaussianStats

__version__ = "0.1.0"

#: Public names loaded lazily, and the module each comes from.
_LAZY = {
    "GaussianClassifier": "classifier",
    "GaussianMixture": "mixture",
    "DegenerateComponentWarning": "mixture",
    "MISSING_LABEL": "semisupervised",
    "Explanation": "diagnostics",
    "NormalityTest": "diagnostics",
    "explain": "diagnostics",
    "normality_tests": "diagnostics",
    "ood_score": "diagnostics",
    "ood_threshold": "diagnostics",
    "warnings_for": "diagnostics",
    "ModelFileError": "persist",
    "dumps": "persist",
    "from_dict": "persist",
    "load": "persist",
    "loads": "persist",
    "save": "persist",
    "to_dict": "persist",
    "SelectionResult": "selection",
    "select": "selection",
    "to_onnx": "onnx_export",
    "ComponentSelection": "mixture_selection",
    "select_components": "mixture_selection",
}
_LAZY_MODULES = ("plot", "datasets", "io", "inference", "summary")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _LAZY_MODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'gaussmle' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_LAZY_MODULES))


__all__ = [
    "Gaussian",
    "GaussianStats",
    "__version__",
    "fit",
    "gaussian_from_stats",
    *_LAZY,
    *_LAZY_MODULES,
]
