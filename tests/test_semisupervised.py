"""Semi-supervised GaussianClassifier (issue 13 item 1): EM over labelled and unlabelled rows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import gaussmle
from gaussmle import GaussianClassifier

TYPES = ["diag", "full", "tied", "spherical"]
DOC = Path(__file__).resolve().parents[1] / "docs" / "semi-supervised.md"


def generated(covariance_type: str, seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping classes in 4-D drawn from the model of ``covariance_type``."""
    rs = np.random.RandomState(seed)
    d = 4
    y = rs.randint(0, 2, n)
    shift = np.array([2.0, -1.0, 1.0, 0.0]) if covariance_type == "tied" else np.ones(d)
    Z = rs.randn(n, d)
    lower = np.eye(d) + 0.8 * np.tri(d, k=-1)
    if covariance_type == "full":
        X = np.einsum("nij,nj->ni", np.array([np.eye(d), lower])[y], Z)
    elif covariance_type == "tied":
        X = Z @ lower.T
    elif covariance_type == "diag":
        X = Z * np.array([[0.5, 1.0, 2.0, 1.0], [1.5, 0.7, 1.0, 0.5]])[y]
    else:
        X = Z * np.array([0.7, 1.4])[y][:, None]
    return X + shift * y[:, None], y


def few_labels(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A mask of about ``fraction`` of the rows, with at least one row of each class."""
    mask = np.random.RandomState(seed).rand(y.size) < fraction
    for c in np.unique(y):
        mask[np.flatnonzero(y == c)[0]] = True
    return mask


def assert_same_model(a: GaussianClassifier, b: GaussianClassifier, X: np.ndarray) -> None:
    np.testing.assert_array_equal(a.classes_, b.classes_)
    for name in ("class_count_", "class_prior_", "means_", "covariances_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.epsilon_ == b.epsilon_
    np.testing.assert_array_equal(a.class_stats_.m2, b.class_stats_.m2)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("covariance_type", TYPES)
def test_unlabelled_rows_improve_held_out_accuracy(covariance_type):
    """2% labelled, overlapping classes: EM with unlabelled rows beats the labelled rows alone."""
    X, y = generated(covariance_type, 0, 1000)
    X_test, y_test = generated(covariance_type, 1, 2000)
    labelled = few_labels(y, 0.02, 11)
    assert labelled.sum() <= 0.03 * y.size
    alone = GaussianClassifier(covariance_type=covariance_type).fit(X[labelled], y[labelled])
    semi = GaussianClassifier(covariance_type=covariance_type, unlabelled=-1)
    semi.fit(X, np.where(labelled, y, -1))
    assert semi.converged_
    gain = semi.score(X_test, y_test) - alone.score(X_test, y_test)
    assert gain > 0.04, (alone.score(X_test, y_test), semi.score(X_test, y_test))
    supervised = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    assert semi.score(X_test, y_test) > supervised.score(X_test, y_test) - 0.05


@pytest.mark.parametrize("covariance_type", TYPES)
def test_without_unlabelled_rows_nothing_changes(covariance_type):
    X, y = generated(covariance_type, 2, 200)
    plain = GaussianClassifier(covariance_type=covariance_type).fit(X, y)
    semi = GaussianClassifier(covariance_type=covariance_type, unlabelled=-1).fit(X, y)
    assert_same_model(semi, plain, X)
    assert semi.n_iter_ == plain.n_iter_ == 1


@pytest.mark.parametrize("covariance_type", TYPES)
def test_unlabelled_weight_zero_is_the_labelled_fit(covariance_type):
    X, y = generated(covariance_type, 3, 300)
    labelled = few_labels(y, 0.1, 3)
    w = np.random.RandomState(4).uniform(0.5, 2.0, y.size)
    alone = GaussianClassifier(covariance_type=covariance_type)
    alone.fit(X[labelled], y[labelled], sample_weight=w[labelled])
    semi = GaussianClassifier(covariance_type=covariance_type, unlabelled=-1, unlabelled_weight=0)
    semi.fit(X, np.where(labelled, y, -1), sample_weight=w)
    assert_same_model(semi, alone, X)


@pytest.mark.parametrize("covariance_type", ["diag", "full"])
def test_one_iteration_is_the_em_update_by_hand(covariance_type):
    """max_iter=1: responsibilities from the labelled-only fit, then weighted MLE (numpy)."""
    X, y = generated(covariance_type, 5, 300)
    labelled = few_labels(y, 0.1, 5)
    lam = 0.5
    alone = GaussianClassifier(covariance_type=covariance_type).fit(X[labelled], y[labelled])
    R = np.zeros((y.size, 2))
    R[labelled, y[labelled]] = 1.0
    R[~labelled] = lam * alone.predict_proba(X[~labelled])
    semi = GaussianClassifier(
        covariance_type=covariance_type, unlabelled=-1, unlabelled_weight=lam, max_iter=1
    )
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=1"):
        semi.fit(X, np.where(labelled, y, -1))
    counts = R.sum(axis=0)
    means = (R.T @ X) / counts[:, None]
    np.testing.assert_allclose(semi.class_count_, counts, rtol=1e-12)
    np.testing.assert_allclose(semi.class_prior_, counts / counts.sum(), rtol=1e-12)
    np.testing.assert_allclose(semi.means_, means, rtol=1e-11, atol=1e-12)
    for c in range(2):
        D = X - means[c]
        scatter = (R[:, c, None] * D).T @ D / counts[c]
        expected = np.diag(scatter) if covariance_type == "diag" else scatter
        np.testing.assert_allclose(
            semi.covariances_[c] - semi.epsilon_ * (1 if covariance_type == "diag" else np.eye(4)),
            expected,
            rtol=1e-10,
            atol=1e-12,
        )


@pytest.mark.parametrize("covariance_type", TYPES)
def test_log_likelihood_never_decreases(covariance_type):
    X, y = generated(covariance_type, 6, 400)
    ys = np.where(few_labels(y, 0.03, 6), y, -1)
    bounds = []
    for n in range(1, 7):
        clf = GaussianClassifier(covariance_type=covariance_type, unlabelled=-1, max_iter=n, tol=0)
        with pytest.warns(ConvergenceWarning):
            clf.fit(X, ys)
        assert clf.n_iter_ == n and not clf.converged_
        bounds.append(clf.lower_bound_)
    assert np.all(np.diff(bounds) >= -1e-9), bounds


def test_integer_weights_equal_repeated_rows():
    X, y = generated("full", 7, 120)
    ys = np.where(few_labels(y, 0.1, 7), y, -1)
    w = np.random.RandomState(7).randint(1, 4, y.size)
    clf = GaussianClassifier(covariance_type="full", unlabelled=-1, tol=1e-10)
    a = clone(clf).fit(X, ys, sample_weight=w)
    b = clone(clf).fit(np.repeat(X, w, axis=0), np.repeat(ys, w))
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.covariances_, b.covariances_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.class_prior_, b.class_prior_, rtol=1e-9)


def test_text_labels_with_a_string_sentinel_and_offset_data():
    X, y = generated("diag", 8, 300)
    labelled = few_labels(y, 0.05, 8)
    names = np.array(["cat", "dog"])[y]
    a = GaussianClassifier(unlabelled="?").fit(X, np.where(labelled, names, "?"))
    b = GaussianClassifier(unlabelled=-1).fit(X, np.where(labelled, y, -1))
    assert a.classes_.tolist() == ["cat", "dog"]
    np.testing.assert_array_equal(a.means_, b.means_)
    far = GaussianClassifier(unlabelled="?").fit(X + 1e9, np.where(labelled, names, "?"))
    np.testing.assert_allclose(far.means_ - 1e9, a.means_, atol=1e-6)
    np.testing.assert_allclose(far.covariances_, a.covariances_, rtol=1e-6)


@pytest.mark.parametrize("missing", [None, float("nan")], ids=["None", "NaN"])
def test_missing_label_sentinel(missing):
    pd = pytest.importorskip("pandas")
    X, y = generated("diag", 9, 200)
    labelled = few_labels(y, 0.05, 9)
    texts = np.where(labelled, np.array(["a", "b"])[y], None).astype(object)
    texts[~labelled] = missing
    with pytest.raises(ValueError, match=r"unlabelled=gaussmle\.MISSING_LABEL"):
        GaussianClassifier().fit(X, texts)
    clf = GaussianClassifier(unlabelled=gaussmle.MISSING_LABEL)
    expected = GaussianClassifier(unlabelled="?").fit(X, np.where(labelled, texts, "?"))
    for labels in (texts, pd.Series(texts), pd.Series(texts, dtype="string")):
        np.testing.assert_array_equal(clone(clf).fit(X, labels).means_, expected.means_)
    floats = np.where(labelled, y, np.nan)
    fitted = clone(clf).fit(X, floats)
    assert fitted.classes_.tolist() == [0.0, 1.0]
    assert clone(clf).get_params()["unlabelled"] is gaussmle.MISSING_LABEL
    assert repr(clf) == "GaussianClassifier(unlabelled=MISSING_LABEL)"


def test_refusals():
    X, y = generated("diag", 10, 50)
    ys = np.where(few_labels(y, 0.2, 10), y, -1)
    clf = GaussianClassifier(unlabelled=-1)
    with pytest.raises(ValueError, match="partial_fit does not support unlabelled rows"):
        clone(clf).partial_fit(X, ys, classes=[0, 1])
    with pytest.raises(ValueError, match="fit_batches does not support unlabelled rows"):
        clone(clf).fit_batches([(X, ys)])
    with pytest.raises(ValueError, match="every label is the unlabelled sentinel"):
        clone(clf).fit(X, np.full(y.size, -1))
    for bad in (-1.0, np.inf, "1"):
        with pytest.raises(ValueError, match="unlabelled_weight must be"):
            GaussianClassifier(unlabelled=-1, unlabelled_weight=bad).fit(X, ys)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        GaussianClassifier(unlabelled=-1, max_iter=0).fit(X, ys)
    with pytest.raises(ValueError, match="tol must be a number >= 0"):
        GaussianClassifier(unlabelled=-1, tol=-1).fit(X, ys)
    bad_X = X.copy()
    bad_X[np.flatnonzero(ys == -1)[0], 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        clone(clf).fit(bad_X, ys)


def test_guide_runs_and_prints_what_it_shows():
    """docs/semi-supervised.md: each python block runs; the text block after it is its output."""
    text = DOC.read_text()
    fences = re.findall(r"^```(\w*)\n(.*?)^```\s*$", text, re.M | re.S)
    namespace: dict = {}
    shown = 0
    for i, (lang, body) in enumerate(fences):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(body, str(DOC), "exec"), namespace)
        if i + 1 < len(fences) and fences[i + 1][0] == "text":
            assert out.getvalue() == fences[i + 1][1]
            shown += 1
    assert shown >= 1


def test_pandas_and_list_labels():
    pd = pytest.importorskip("pandas")
    X, y = generated("diag", 12, 200)
    ys = np.where(few_labels(y, 0.05, 12), y, -1)
    expected = GaussianClassifier(unlabelled=-1).fit(X, ys)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    from_pandas = GaussianClassifier(unlabelled=-1).fit(frame, pd.Series(ys))
    assert from_pandas.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    gaps = [None if v == -1 else int(v) for v in ys]
    from_list = GaussianClassifier(unlabelled=gaussmle.MISSING_LABEL).fit(X, gaps)
    assert from_list.classes_.tolist() == [0, 1] and from_list.classes_.dtype.kind == "i"
    for model in (from_pandas, from_list):
        np.testing.assert_array_equal(model.means_, expected.means_)
        np.testing.assert_array_equal(model.covariances_, expected.covariances_)


def test_guide_ten_split_figures():
    """docs/semi-supervised.md states the figures with ten splits in its text: the block
    with range(10) in place of range(5) prints them."""
    text = DOC.read_text()
    stated = re.search(
        r"With ten splits instead of five: diag (\d\.\d+) to (\d\.\d+), "
        r"tied (\d\.\d+) to (\d\.\d+)",
        text.replace("\n", " "),
    )
    assert stated is not None
    body = re.findall(r"^```python\n(.*?)^```\s*$", text, re.M | re.S)[0]
    assert body.count("for seed in range(5):") == 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(body.replace("range(5)", "range(10)"), str(DOC), "exec"), {})
    rows = {line.split()[0]: line.split()[1:3] for line in out.getvalue().splitlines()[1:]}
    assert [rows["diag"], rows["tied"]] == [list(stated.groups()[:2]), list(stated.groups()[2:])]
