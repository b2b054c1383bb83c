"""Which path runs: the compiled kernels, or the numpy reference with GAUSSMLE_NO_NUMBA=1.

``make test`` runs the suite twice; in the main run this asserts that fit and
every kind of prediction go through the compiled kernels, so a broken numba
import cannot pass silently as a run of the numpy path.
"""

import os

import numpy as np

from gaussmle import GaussianClassifier

NO_NUMBA = bool(os.environ.get("GAUSSMLE_NO_NUMBA"))


def _fit_and_predict_every_family() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    y = np.arange(600) % 3
    for covariance_type in ("diag", "full", "tied"):
        model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
        model.predict(X)
        model.predict_proba(X)


def test_the_compiled_kernels_run_unless_switched_off(kernels_available, kernel_calls):
    _fit_and_predict_every_family()
    if NO_NUMBA:
        assert not kernels_available
        assert kernel_calls == {"stats": 0, "predict": 0, "linear": 0}
    else:
        assert kernels_available, "numba cannot be imported: the compiled kernels are off"
        assert kernel_calls["stats"] >= 3  # one fit per family
        assert kernel_calls["predict"] >= 4  # diag and full: predict and predict_proba
        assert kernel_calls["linear"] >= 2  # tied: predict and predict_proba
