"""The threaded paths of the compiled kernels agree with the numpy reference path.

The kernels split the rows into one contiguous range per thread from 262,144
rows; each range gets its own statistics (merged afterwards) or writes its own
rows of the output. Here the split is forced on small data (``split_rows``),
including more ranges than blocks (empty ranges), and once taken on its own
at the threshold. Below the threshold each kernel's serial twin runs (no
parallel launch at all): it must give what the threaded launch gives.
"""

import numpy as np
import pytest

from gaussmle import GaussianClassifier, GaussianStats

pytestmark = pytest.mark.compiled

METHODS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")


def _compare(compiled: dict, model: GaussianClassifier, X: np.ndarray) -> None:
    assert np.array_equal(compiled["predict"], model.predict(X))
    np.testing.assert_allclose(compiled["predict_proba"], model.predict_proba(X), atol=1e-12)
    for name in ("predict_log_proba", "predict_joint_log_proba"):
        want = getattr(model, name)(X)
        np.testing.assert_allclose(compiled[name], want, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("parts", [2, 3, 7])
@pytest.mark.parametrize("n", [5, 5000])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["diag", "full"])
def test_threaded_fit_statistics_match_numpy(split_rows, numpy_only, kind, weighted, n, parts):
    rng = np.random.default_rng(10)
    d, k = 4, 5
    y = rng.integers(0, k - 1, n)  # the last group stays empty
    X = rng.normal(0.0, 1.0, (n, d)) * rng.uniform(0.01, 10, d) + 1e4
    w = rng.uniform(0.0, 2.0, n) if weighted else None
    split_rows(parts)
    compiled = GaussianStats.from_groups(X, y, k, w, kind=kind)
    numpy_only()
    reference = GaussianStats.from_groups(X, y, k, w, kind=kind)
    np.testing.assert_allclose(compiled.count, reference.count, rtol=1e-12)
    np.testing.assert_allclose(compiled.mean, reference.mean, rtol=1e-13)
    scale = np.abs(reference.m2).max()
    np.testing.assert_allclose(compiled.m2, reference.m2, rtol=1e-10, atol=1e-12 * scale)


@pytest.mark.parametrize("parts", [2, 3, 7])
@pytest.mark.parametrize("covariance_type", ["diag", "spherical", "full", "tied"])
def test_threaded_predictions_match_numpy(split_rows, numpy_only, layout, covariance_type, parts):
    rng = np.random.default_rng(11)
    d = 6
    X = rng.normal(size=(3000, d)) * np.resize([1, 1e-3, 10], d) + 50.0
    X[:, 3] += 0.3 * X[:, 0]  # correlated features for full and tied
    y = rng.integers(0, 4, 3000)
    X[y == 2] += 0.5
    # rows far away in the middle and at the end: a block whose squares overflow
    # and one whose tied rounding bound sends it the exact way, in different threads
    probe = np.vstack([X[:1500], [[1e160] * d], X[1500:2900], [[3e7] * d], X[2900:]])
    split_rows(parts)
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    compiled = {name: getattr(model, name)(probe) for name in METHODS}
    tiny = {name: getattr(model, name)(probe[:70]) for name in METHODS}  # 2 blocks
    numpy_only()
    model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    _compare(compiled, model, probe)
    _compare(tiny, model, probe[:70])


def test_rows_are_split_from_the_threshold(
    numpy_only, parts_used, kernel_threads, parallel_min_rows
):
    """No forcing: at the threshold the kernels split the rows on their own."""
    rng = np.random.default_rng(12)
    n = parallel_min_rows
    X = rng.normal(size=(n, 3))
    y = rng.integers(0, 3, n)
    X[y == 1] += 1.0
    families = ("diag", "full", "tied")
    compiled = {}
    for covariance_type in families:
        model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
        compiled[covariance_type] = (model.predict(X), model.predict_proba(X))
    assert set(parts_used) == {min(2, kernel_threads)}
    assert len(parts_used) == 3 * len(families)  # per family: fit, predict, predict_proba
    numpy_only()
    for covariance_type in families:
        model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
        labels, proba = compiled[covariance_type]
        assert np.array_equal(labels, model.predict(X))
        np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-12)
    assert len(parts_used) == 3 * len(families)  # the numpy path never asks


def _everything(X: np.ndarray, y: np.ndarray, probe: np.ndarray) -> dict:
    """Statistics (diag and full) and every prediction of every family."""
    out = {}
    for kind in ("diag", "full"):
        stats = GaussianStats.from_groups(X, y, 3, kind=kind)
        out[kind] = (stats.count, stats.mean, stats.m2)
    for covariance_type in ("diag", "spherical", "full", "tied"):
        model = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
        for name in METHODS:
            out[covariance_type, name] = getattr(model, name)(probe)
    return out


def _small_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(13)
    X = rng.normal(size=(3000, 5)) * [1, 1e-3, 10, 1, 1] + 50.0
    X[:, 3] += 0.3 * X[:, 0]
    y = rng.integers(0, 3, 3000)
    X[y == 1] += 0.5
    probe = np.vstack([X[:500], [[1e160] * 5], [[3e7] * 5]])  # overflow, tied's exact way
    return X, y, probe


def test_small_inputs_make_no_parallel_launch(threaded_launches, split_rows, layout):
    """Fit and predict on small data run the serial twins; forcing a split launches."""
    X, y, probe = _small_problem()
    _everything(X, y, probe)
    assert threaded_launches == []
    split_rows(2)  # the spy sees threaded launches when there are some
    _everything(X, y, probe)
    assert set(threaded_launches) == {
        "group_stats",
        "group_scatter",
        "diag_rows",
        "diag_best",
        "full_rows",
        "linear_rows",
    }


def test_serial_twins_equal_the_threaded_launch(request, numpy_only):
    """Bit for bit: the serial twin against the threaded launch with one range of rows,
    and both against the numpy reference path."""
    X, y, probe = _small_problem()
    serial = _everything(X, y, probe)
    request.getfixturevalue("always_threaded")
    threaded = _everything(X, y, probe)
    assert serial.keys() == threaded.keys()
    for key, value in serial.items():
        pairs = (
            zip(value, threaded[key], strict=True)
            if key in ("diag", "full")
            else [(value, threaded[key])]
        )
        for a, b in pairs:
            assert np.array_equal(a, b, equal_nan=True), key
    numpy_only()
    reference = _everything(X, y, probe)
    for kind in ("diag", "full"):
        for a, b in zip(serial[kind], reference[kind], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * np.abs(b).max())
    for covariance_type in ("diag", "spherical", "full", "tied"):
        _compare(
            {n: serial[covariance_type, n] for n in METHODS}, _fitted(X, y, covariance_type), probe
        )


def _fitted(X: np.ndarray, y: np.ndarray, covariance_type: str) -> GaussianClassifier:
    return GaussianClassifier(covariance_type=covariance_type).fit(X, y)
