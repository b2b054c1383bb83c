"""Model selection: parameter counts, information criteria, recommendations, robustness."""

import json
import math

import numpy as np
import pytest
from sklearn.datasets import load_iris

from gaussmle import GaussianClassifier
from gaussmle.selection import SelectionResult, select

TYPES = ("diag", "full", "tied", "spherical")


def expected_parameters(covariance_type, k, d):
    cov = {
        "diag": k * d,
        "spherical": k,
        "full": k * d * (d + 1) // 2,
        "tied": d * (d + 1) // 2,
    }[covariance_type]
    return (k - 1) + k * d + cov


@pytest.fixture(scope="module")
def iris_result():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return X, names, select(X, names)


@pytest.fixture(scope="module")
def tied_data():
    """Three classes sharing one strongly correlated covariance."""
    rng = np.random.default_rng(11)
    d, k, n = 4, 3, 300
    corr = 0.9 * np.ones((d, d)) + 0.1 * np.eye(d)
    scales = np.array([1.0, 2.0, 0.5, 3.0])
    cov = corr * np.outer(scales, scales)
    means = np.array([[0.0, 0.0, 0.0, 0.0], [1.5, -1.0, 0.5, 2.0], [-1.0, 2.0, -0.5, 0.0]])
    X = np.vstack([rng.multivariate_normal(means[c], cov, size=n) for c in range(k)])
    y = np.repeat(np.arange(k), n)
    return X, y


@pytest.fixture(scope="module")
def diag_data():
    """Independent features whose variances differ between classes."""
    rng = np.random.default_rng(12)
    d, k, n = 5, 3, 300
    means = rng.normal(0.0, 2.0, (k, d))
    sds = rng.uniform(0.3, 3.0, (k, d))
    X = np.vstack([rng.normal(means[c], sds[c], (n, d)) for c in range(k)])
    y = np.repeat(["a", "b", "c"], n)
    return X, y


def test_parameter_counts_follow_the_formulas(iris_result):
    X, _, result = iris_result
    k, d = 3, X.shape[1]
    assert [row["covariance_type"] for row in result.rows] == list(TYPES)
    for row in result.rows:
        assert row["n_parameters"] == expected_parameters(row["covariance_type"], k, d)
    # by hand for iris (k=3, d=4): 2 + 12 + {12, 30, 10, 3}
    assert [row["n_parameters"] for row in result.rows] == [26, 44, 24, 17]


@pytest.mark.parametrize("k,d", [(2, 1), (3, 2), (4, 5)])
def test_parameter_counts_other_shapes(k, d):
    rng = np.random.default_rng(k * 10 + d)
    X = rng.normal(size=(12 * k, d)) + np.repeat(np.arange(k), 12)[:, None]
    y = np.repeat(np.arange(k), 12)
    result = select(X, y, cv=3)
    for row in result.rows:
        assert row["error"] is None
        assert row["n_parameters"] == expected_parameters(row["covariance_type"], k, d)


def test_aic_bic_formulas(iris_result):
    X, y, result = iris_result
    n = X.shape[0]
    for row in result.rows:
        model = GaussianClassifier(covariance_type=row["covariance_type"]).fit(X, y)
        loglik, p = model.loglik(X, y), row["n_parameters"]
        assert row["loglik"] == pytest.approx(loglik, rel=1e-12)
        assert row["aic"] == pytest.approx(2 * p - 2 * loglik, rel=1e-12)
        assert row["bic"] == pytest.approx(p * math.log(n) - 2 * loglik, rel=1e-12)
        assert row["aic"] == pytest.approx(model.aic(X, y), rel=1e-12)
        assert row["bic"] == pytest.approx(model.bic(X, y), rel=1e-12)


def test_tied_data_recommends_tied_or_full(tied_data):
    X, y = tied_data
    result = select(X, y)
    assert result.recommended in ("tied", "full")
    bics = {row["covariance_type"]: row["bic"] for row in result.rows}
    assert min(bics, key=bics.get) == "tied"
    # the correlation makes the diagonal models far worse
    assert bics["diag"] - bics["tied"] > 500
    assert result.reason


def test_independent_features_favour_diag(diag_data):
    X, y = diag_data
    result = select(X, y)
    bics = {row["covariance_type"]: row["bic"] for row in result.rows}
    assert min(bics, key=bics.get) == "diag"
    assert result.recommended in ("diag", "full")


def test_iris_table(iris_result):
    _, _, result = iris_result
    assert result.recommended in TYPES
    assert result.cv_folds == 5 and result.notes == []
    best = result.row(result.recommended)
    assert best["cv_log_loss"] == min(row["cv_log_loss"] for row in result.rows)
    assert best["cv_accuracy"] > 0.9
    for row in result.rows:
        assert 0.0 < row["cv_log_loss"] < 1.0
        assert 0.85 < row["cv_accuracy"] <= 1.0
    table = result.to_table()
    lines = table.splitlines()
    assert "CV log loss" in lines[0] and "BIC" in lines[0]
    marked = [line for line in lines[1:5] if line.startswith("*")]
    assert len(marked) == 1 and result.recommended in marked[0]
    # aligned: the four data rows and the header have the same length
    assert len({len(line) for line in lines[:5]}) == 1
    assert f"recommended: {result.recommended}" in table
    assert str(result) == table


def test_to_dict_is_json(iris_result):
    _, _, result = iris_result
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["recommended"] == result.recommended
    assert [row["covariance_type"] for row in data["rows"]] == list(TYPES)
    assert set(data["rows"][0]) >= {
        "covariance_type",
        "loglik",
        "n_parameters",
        "aic",
        "bic",
        "cv_log_loss",
        "cv_accuracy",
    }


def test_recommendation_is_lowest_cv_log_loss_ties_by_bic():
    rows = [
        {"covariance_type": t, "bic": b, "cv_log_loss": c, "error": None}
        for t, b, c in [("diag", 10.0, 0.3), ("full", 20.0, 0.2), ("tied", 5.0, 0.2)]
    ]
    from gaussmle.selection import _recommend

    name, reason = _recommend(rows, 5)
    assert name == "tied" and "BIC" in reason
    rows[1]["cv_log_loss"] = 0.1
    name, reason = _recommend(rows, 5)
    assert name == "full" and "lowest cross-validated log loss" in reason


def test_small_class_reduces_folds():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(4, 1, (3, 2))])
    y = np.array([0] * 30 + [1] * 3)
    result = select(X, y, cv=5)
    assert result.cv_folds == 3
    assert len(result.notes) == 1 and "3 folds" in result.notes[0]
    assert all(row["cv_log_loss"] is not None for row in result.rows)
    assert "note:" in result.to_table()


def test_single_member_class_still_works():
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (20, 2)), rng.normal(4, 1, (20, 2)), [[10.0, 10.0]]])
    y = np.array(["a"] * 20 + ["b"] * 20 + ["c"])
    result = select(X, y)
    assert result.cv_folds == 2
    assert "single member" in result.notes[0]
    for row in result.rows:
        assert np.isfinite(row["cv_log_loss"]) and row["cv_log_loss"] < 1.0
    assert result.recommended in TYPES


def test_every_class_single_falls_back_to_bic():
    X = np.array([[0.0, 1.0], [2.0, 0.5], [5.0, 5.0]])
    result = select(X, ["a", "b", "c"])
    assert result.cv_folds == 0
    assert all(row["cv_log_loss"] is None for row in result.rows)
    bics = {row["covariance_type"]: row["bic"] for row in result.rows}
    assert result.recommended == min(bics, key=bics.get)
    assert "BIC" in result.reason
    json.dumps(result.to_dict(), allow_nan=False)


def test_failing_type_reported_not_raised():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = np.repeat([0, 1], 20)
    X[y == 0, 2] = 1.5  # constant within class 0: singular without smoothing
    result = select(X, y, var_smoothing=0.0)
    errors = {row["covariance_type"]: row["error"] for row in result.rows}
    assert "zero variance" in errors["diag"]
    assert "zero variance" in errors["full"]
    assert errors["tied"] is None and errors["spherical"] is None
    assert result.row("diag")["bic"] is None
    assert result.recommended in ("tied", "spherical")
    table = result.to_table()
    assert "diag failed:" in table and "full failed:" in table
    json.dumps(result.to_dict(), allow_nan=False)


def test_all_types_failing():
    X = np.array([[0.0], [0.0], [1.0], [1.0]])
    result = select(X, [0, 0, 1, 1], covariance_types=("diag",), cv=2, var_smoothing=0.0)
    assert result.recommended is None
    assert "no recommendation" in result.to_table()


def test_dataframe_input_and_subset_of_types(iris_result):
    pd = pytest.importorskip("pandas")
    X, y, full = iris_result
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    result = select(frame, pd.Series(y), covariance_types=["tied", "diag"])
    assert [row["covariance_type"] for row in result.rows] == ["tied", "diag"]
    assert result.row("tied")["loglik"] == pytest.approx(full.row("tied")["loglik"])


def test_folds_are_reproducible(diag_data):
    X, y = diag_data
    a = select(X, y, covariance_types=("diag",), random_state=1)
    b = select(X, y, covariance_types=("diag",), random_state=1)
    assert a.rows == b.rows


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"covariance_types": ("diag", "banana")}, "unknown covariance type"),
        ({"covariance_types": ()}, "empty"),
        ({"covariance_types": ("diag", "diag")}, "repeats"),
        ({"cv": 1}, "cv must be"),
    ],
)
def test_bad_arguments(kwargs, message):
    X = np.arange(20.0).reshape(10, 2)
    y = np.repeat([0, 1], 5)
    with pytest.raises(ValueError, match=message):
        select(X, y, **kwargs)


def test_single_class_and_length_mismatch():
    X = np.arange(20.0).reshape(10, 2)
    with pytest.raises(ValueError, match="single class"):
        select(X, np.zeros(10))
    with pytest.raises(ValueError, match="rows but y has"):
        select(X, np.zeros(9))


def test_row_lookup():
    result = SelectionResult(rows=[], recommended=None, reason="")
    with pytest.raises(KeyError, match="not evaluated"):
        result.row("diag")
