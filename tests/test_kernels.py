"""The compiled kernels agree with the numpy reference path."""

import numpy as np
import pytest

from gaussmle import GaussianClassifier, GaussianStats
from gaussmle.kernels import _kernels

# Deselected (and said so) in the run with GAUSSMLE_NO_NUMBA=1; the fixtures
# numpy_only and layout are in conftest.py.
pytestmark = pytest.mark.compiled


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
def test_predictions_match_numpy(numpy_only, layout, covariance_type, d):
    rng = np.random.default_rng(2)
    scale = np.resize([1, 1e-3, 10, 1, 1, 1], d)
    X = rng.normal(size=(5000, d)) * scale + 50.0
    X[:, d // 2] += 0.3 * X[:, 0]  # correlated features for full and tied
    y = rng.integers(0, 5, 5000)
    X[y == 2] += 0.5
    # far rows: one whose squares overflow, one whose rounding bound sends its block
    # (tied) the exact way
    probe = np.vstack([X[:1000], [[1e160] * d], [[50.0] * d], [[3e7] * d], X[1000:1100]])
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
    from gaussmle.kernels._numba_softmax import EXP_FLOOR, exp_nonpositive

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


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied"])
def test_nan_and_infinity_are_reported_by_row(layout, covariance_type):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 3))
    y = rng.integers(0, 3, 500)
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    bad = X.copy()
    bad[130, 2] = np.nan
    methods = [model.predict, model.predict_proba, model.predict_log_proba]
    for method in [*methods, model.predict_joint_log_proba]:
        with pytest.raises(ValueError, match="NaN at row 130, column 2"):
            method(bad)
    bad[130, 2] = -np.inf
    for method in [*methods, model.predict_joint_log_proba]:
        with pytest.raises(ValueError, match=r"infinity \(inf\) at row 130, column 2"):
            method(bad)


def test_tied_guard_hands_unsafe_blocks_to_the_exact_path():
    """A 64-row block whose rounding bound fails is not scored by the linear form.

    The kernel returns its rows as NaN (best: -2), exactly where the numpy
    path's bound, computed on the same rows, fails; the classifier then
    evaluates them by whitening, as the numpy path does.
    """
    from gaussmle.densities._gaussian import ABS_TOL, EPS, SAFETY

    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 3000)
    X = rng.multivariate_normal([0, 0, 0], np.eye(3) + 0.5, 3000) + y[:, None]
    model = GaussianClassifier(covariance_type="tied").fit(X, y)
    dens = model._densities
    tied = dens.family
    probe = X[:256].copy()
    probe[64 + 10] = [3e4, -1e4, 2e4]  # the second block: far enough to fail the bound
    probe[192 + 5, 1] = np.nan  # the fourth block: not finite
    guard = (*tied.lin_guard, ABS_TOL)
    bias = tied.lin_b + dens.log_weight
    proba = _kernels.linear_rows(probe, tied.reference, tied.lin_W, bias, guard, _kernels.POSTERIOR)
    best = _kernels.linear_rows(probe, tied.reference, tied.lin_W, bias, guard, _kernels.BEST)
    for block in range(4):
        rows = slice(64 * block, 64 * block + 64)
        zmax = np.abs(probe[rows] - dens.reference).max(axis=0)
        bound = SAFETY * EPS * (zmax @ np.abs(tied.lin_W) + np.abs(tied.lin_b))
        unsafe = not np.all(bound <= ABS_TOL)
        assert unsafe == (block in (1, 3))
        assert np.isnan(proba[rows]).all() == unsafe
        assert np.all(best[rows] == -2) == unsafe
        assert np.isfinite(proba[rows]).all() == (not unsafe)
    # the classifier evaluates the far block exactly as the numpy path does
    far = probe[64:128]
    want = np.exp(dens._log_posterior_chunk(far))
    np.testing.assert_array_equal(model.predict_proba(far), want)
    np.testing.assert_array_equal(model.predict(far), model.classes_[want.argmax(axis=1)])


@pytest.mark.parametrize("seed", range(8))
def test_random_shapes_match_numpy(numpy_only, layout, seed):
    """Any number of classes and features (unrolled loops' remainders), any type."""
    rng = np.random.default_rng(100 + seed)
    k, d = int(rng.integers(1, 13)), int(rng.integers(1, 41))
    covariance_type = ["diag", "spherical", "full", "tied"][seed % 4]
    X = rng.normal(size=(400, d)) * rng.uniform(0.01, 10, d) + rng.normal(0, 100, d)
    y = np.arange(400) % k
    X[y == 0] += rng.normal(0, 1, d)
    probe = X[rng.integers(0, 400, 300)] + rng.normal(0, 1, (300, d))
    methods = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    compiled = {name: getattr(model, name)(probe) for name in methods}
    numpy_only()
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    assert np.array_equal(compiled["predict"], model.predict(probe))
    np.testing.assert_allclose(compiled["predict_proba"], model.predict_proba(probe), atol=1e-12)
    for name in ("predict_log_proba", "predict_joint_log_proba"):
        want = getattr(model, name)(probe)
        np.testing.assert_allclose(compiled[name], want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied"])
def test_ties_go_to_the_first_class_as_in_argmax(numpy_only, layout, covariance_type):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 4))
    twins = np.vstack([X, X, X + 5.0])  # classes "a" and "b" are the same Gaussian
    y = np.repeat(["a", "b", "c"], 300)
    probe = rng.normal(size=(500, 4))
    compiled = GaussianClassifier(covariance_type=covariance_type).fit(twins, y).predict(probe)
    assert set(compiled) <= {"a", "c"} and "a" in set(compiled)
    numpy_only()
    reference = GaussianClassifier(covariance_type=covariance_type).fit(twins, y).predict(probe)
    assert np.array_equal(compiled, reference)
