"""The compiled kernels agree with the numpy reference path."""

import numpy as np
import pytest

from gaussmle import GaussianClassifier, GaussianStats, _kernels

pytestmark = pytest.mark.skipif(not _kernels.available(), reason="numba not installed")


@pytest.fixture
def numpy_only(monkeypatch):
    """Run the body with the compiled kernels switched off."""

    def use_numpy():
        monkeypatch.setattr(_kernels, "available", lambda: False)

    return use_numpy


@pytest.mark.parametrize("kind", ["diag", "full"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_group_statistics_match_numpy(numpy_only, dtype, weighted, kind):
    rng = np.random.default_rng(0)
    n, d, k = 20_000, 5, 7
    y = rng.integers(0, k - 1, n)  # the last group stays empty
    X = (rng.normal(0.0, 1.0, (n, d)) * rng.uniform(0.01, 10, d) + 1e4).astype(dtype)
    w = rng.uniform(0.0, 2.0, n) if weighted else None
    compiled = GaussianStats.from_groups(X, y, k, w, kind=kind)
    numpy_only()
    reference = GaussianStats.from_groups(X, y, k, w, kind=kind)
    assert float(compiled.count[-1]) == 0.0
    np.testing.assert_allclose(compiled.count, reference.count, rtol=1e-12)
    np.testing.assert_allclose(compiled.mean, reference.mean, rtol=1e-13)
    scale = np.abs(reference.m2).max()
    np.testing.assert_allclose(compiled.m2, reference.m2, rtol=1e-10, atol=1e-12 * scale)
    if kind == "full":
        assert np.array_equal(compiled.m2, np.swapaxes(compiled.m2, 1, 2))


def test_large_offset_through_the_kernel():
    rng = np.random.default_rng(1)
    X = 1e9 + 1e-3 * rng.standard_normal((50_000, 2))
    s = GaussianStats.from_groups(X, np.zeros(50_000, dtype=int), 1)
    np.testing.assert_allclose(s.variance[0], (X - 1e9).var(axis=0), rtol=1e-9)


# d = 1, 6 and 9 reach every branch of the unrolled loops: a single feature, pairs
# of rows with earlier rows taken four at a time and one at a time, an odd last row.
@pytest.mark.parametrize("d", [1, 6, 9])
@pytest.mark.parametrize("covariance_type", ["diag", "spherical", "full", "tied"])
def test_predictions_match_numpy(numpy_only, covariance_type, d):
    rng = np.random.default_rng(2)
    scale = np.resize([1, 1e-3, 10, 1, 1, 1], d)
    X = rng.normal(size=(5000, d)) * scale + 50.0
    X[:, d // 2] += 0.3 * X[:, 0]  # correlated features for full and tied
    y = rng.integers(0, 5, 5000)
    X[y == 2] += 0.5
    probe = np.vstack([X[:1000], [[1e160] * d], [[50.0] * d]])
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    compiled = {
        "joint": model.predict_joint_log_proba(probe),
        "log": model.predict_log_proba(probe),
        "proba": model.predict_proba(probe),
        "label": model.predict(probe),
    }
    numpy_only()
    reference = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    np.testing.assert_allclose(
        compiled["joint"], reference.predict_joint_log_proba(probe), rtol=1e-12
    )
    np.testing.assert_allclose(compiled["proba"], reference.predict_proba(probe), atol=1e-12)
    np.testing.assert_allclose(np.exp(compiled["log"]), compiled["proba"], atol=1e-15)
    assert np.array_equal(compiled["label"], reference.predict(probe))
    assert np.isfinite(compiled["proba"]).all()


def test_vectorised_exp_matches_numpy():
    from gaussmle._kernels_numba import EXP_FLOOR, exp_nonpositive

    rng = np.random.default_rng(3)
    grid = -np.linspace(0.0, 745.5, 1_000_001)
    x = np.concatenate([grid, -rng.exponential(3.0, 100_000), -rng.uniform(0, 1e-300, 10)])
    x = np.concatenate([x, [-np.inf, np.nan, -0.0, EXP_FLOOR, np.nextafter(EXP_FLOOR, 0)]])
    out = np.empty_like(x)
    exp_nonpositive(x, out, np.empty(x.shape, dtype=np.int64), x.shape[0])
    want = np.exp(x)
    kept = x >= EXP_FLOOR
    np.testing.assert_allclose(out[kept], want[kept], rtol=4e-16, atol=0)
    flushed = x < EXP_FLOOR  # exp below 3.31e-308: returned as 0
    assert np.all(out[flushed] == 0.0) and np.all(want[flushed] < 3.31e-308)
    assert np.isnan(out[-4]) and out[-3] == 1.0
