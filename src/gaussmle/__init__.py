"""gaussmle: maximum likelihood Gaussians and generative Gaussian classifiers.

Examples
--------
>>> import gaussmle
>>> g = gaussmle.fit([[1.0], [2.0], [3.0]])
>>> g.mean.tolist(), g.covariance.round(4).tolist()
([2.0], [0.6667])
"""

from .classifier import GaussianClassifier
from .estimate import fit, gaussian_from_stats
from .gaussian import Gaussian
from .stats import GaussianStats

__version__ = "0.1.0"

__all__ = [
    "Gaussian",
    "GaussianClassifier",
    "GaussianStats",
    "__version__",
    "fit",
    "gaussian_from_stats",
]
