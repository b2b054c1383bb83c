"""The Python API: each bad argument gets a ValueError naming the real problem,
with values printed plainly and long class lists cut (issue 17 item 12; issue 11)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gaussmle import GaussianClassifier
from gaussmle._labels import encode_labels
from gaussmle._validation import plain, shown_labels

X = np.array([[0.0], [1.0], [4.0], [5.0], [9.0], [10.0]])


def _no_numpy_reprs(message: str) -> None:
    assert not re.search(r"np\.(str_|int64|float64|bool)\(", message), message


@pytest.mark.parametrize(
    "y",
    [
        np.array(["a", "a", None, "b", "b", "b"], dtype=object),
        ["a", "a", "b", None, "b", "b"],
        np.array([0.0, 0.0, 1.0, np.nan, 1.0, 1.0]),
    ],
)
def test_missing_labels_are_named(y):
    with pytest.raises(ValueError, match=r"y has a missing label .* at index [23]") as info:
        GaussianClassifier().fit(X, y)
    assert "unlabelled" in str(info.value)


def test_pandas_string_labels_with_na_are_named():
    pd = pytest.importorskip("pandas")
    y = pd.Series(["a", "a", "b", pd.NA, "b", "b"], dtype="string")
    with pytest.raises(ValueError, match=r"y has a missing label \(<NA>\) at index 3"):
        GaussianClassifier().fit(X, y)
    with pytest.raises(ValueError, match=r"y has a missing label"):
        GaussianClassifier().fit(X, np.array(y, dtype=object))


def test_priors_as_a_mapping_from_class_to_prior():
    y = np.array(["a", "a", "b", "b", "c", "c"])
    by_dict = GaussianClassifier(priors={"c": 0.5, "a": 0.2, "b": 0.3}).fit(X, y)
    by_list = GaussianClassifier(priors=[0.2, 0.3, 0.5]).fit(X, y)
    assert by_dict.class_prior_.tolist() == [0.2, 0.3, 0.5]
    np.testing.assert_array_equal(by_dict.predict_proba(X), by_list.predict_proba(X))
    with pytest.raises(ValueError, match=r"priors has no prior for the class 'c'"):
        GaussianClassifier(priors={"a": 0.5, "b": 0.5}).fit(X, y)
    with pytest.raises(ValueError, match=r"priors names 'z', which is not a class"):
        GaussianClassifier(priors={"a": 0.2, "b": 0.3, "c": 0.4, "z": 0.1}).fit(X, y)


@pytest.mark.parametrize("value", [-1, -1e-9, float("nan"), float("inf"), "1e-9"])
def test_var_smoothing_must_be_a_finite_non_negative_number(value):
    with pytest.raises(ValueError, match=r"var_smoothing must be a finite number >= 0") as info:
        GaussianClassifier(var_smoothing=value).fit(X, [0, 0, 1, 1, 1, 1])
    assert "var_smoothing is 0" not in str(info.value)


def test_huge_sample_weights_name_the_weights():
    w = np.full(len(X), 1e307)
    with pytest.raises(ValueError, match=r"sample_weight sums to .* more than 2\^53") as info:
        GaussianClassifier().fit(X, [0, 0, 1, 1, 1, 1], sample_weight=w)
    assert "too large to square" not in str(info.value)


def test_values_print_plainly_and_long_class_lists_are_cut():
    assert plain(np.str_("x")) == "'x'" and plain(np.int64(0)) == "0"
    assert plain(np.float64(2.5)) == "2.5" and plain(np.bool_(True)) == "True"
    assert shown_labels(np.arange(42)) == "[0, 1, 2, ..., 41] (42 classes)"
    assert shown_labels(np.array(["a", "b"])) == "['a', 'b']"
    with pytest.raises(ValueError) as info:
        encode_labels(np.array([5, 99]), np.arange(42))
    message = str(info.value)
    _no_numpy_reprs(message)
    assert "[0, 1, 2, ..., 41] (42 classes)" in message and "[99]" in message


def test_unknown_string_label_prints_plainly():
    clf = GaussianClassifier().fit(X, ["a", "a", "b", "b", "b", "b"])
    with pytest.raises(ValueError) as info:
        clf.partial_fit(X[:2], np.array(["a", "zz"]))
    message = str(info.value)
    _no_numpy_reprs(message)
    assert "['zz']" in message and "['a', 'b']" in message


def test_partial_fit_class_mismatch_prints_plainly():
    clf = GaussianClassifier().partial_fit(X, [0, 0, 1, 1, 1, 1], classes=[0, 1])
    with pytest.raises(ValueError) as info:
        clf.partial_fit(X, [0, 0, 1, 1, 1, 1], classes=[0, 1, 2])
    _no_numpy_reprs(str(info.value))
    assert "[0, 1, 2]" in str(info.value)
