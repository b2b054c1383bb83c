"""Label encoding: hashing gives what sorting every row (np.unique) gives."""

import numpy as np
import pytest

from gaussmle import GaussianClassifier, _labels
from gaussmle._labels import encode_labels, labels_and_codes, unique_labels

WORDS = ["pear", "apple", "", "fig", "apple pie", "Zebra", "é", "fig\u00a0", "b" * 40]


def _label_arrays():
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(WORDS), 500)
    words = np.array(WORDS)[picks]
    return {
        "unicode": words,
        "object": words.astype(object),
        "bytes": np.array([w.encode("utf-8") for w in words]),
        "object-bytes": np.array([w.encode("utf-8") for w in words], dtype=object),
        "object-ints": rng.integers(-3, 3, 500).astype(object),
        "floats": rng.integers(0, 4, 500) / 2.0,
        "one-label": np.array(["only"] * 7),
        "big-endian": words.astype(">U40"),
    }


@pytest.mark.parametrize("name", list(_label_arrays()))
def test_hashing_matches_sorting_every_row(name):
    y = _label_arrays()[name]
    classes, codes = labels_and_codes(y)
    want_classes, want_codes = np.unique(y, return_inverse=True)
    assert classes.dtype == want_classes.dtype
    assert classes.tolist() == want_classes.tolist()
    assert codes.tolist() == want_codes.ravel().tolist()
    assert unique_labels(y).tolist() == want_classes.tolist()
    assert encode_labels(y, want_classes).tolist() == want_codes.ravel().tolist()


@pytest.mark.parametrize("dtype", ["<U2", "S3", "<U5"])  # words of 8, 1 and 4 bytes
def test_a_hash_collision_is_caught(monkeypatch, dtype):
    # every row hashes to one value: only the comparison of rows can tell them apart
    monkeypatch.setattr(_labels, "_row_hash", lambda words: np.zeros(len(words), np.uint64))
    y = np.array(["ab", "cb", "ab", "b", "cb"], dtype=dtype)
    assert _labels._hash_fixed_width(y) is None
    classes, codes = labels_and_codes(y)
    assert classes.tolist() == y[[0, 3, 1]].tolist() and codes.tolist() == [0, 2, 0, 1, 2]


def test_without_pandas_arrow_encodes_object_strings(monkeypatch):
    monkeypatch.setattr(_labels, "_pandas", lambda: None)  # as if pandas were not installed
    y = _label_arrays()["object"]
    uniques, codes = _labels._factorize(y)
    assert uniques.dtype == object and np.array_equal(uniques[codes], y)
    classes, codes = labels_and_codes(y)
    assert classes.tolist() == sorted(set(WORDS)) and np.array_equal(classes[codes], y)
    ints = _label_arrays()["object-ints"]  # not strings: np.unique keeps the dtype
    assert _labels._factorize(ints) is None
    assert labels_and_codes(ints)[0].dtype == object


@pytest.mark.parametrize("with_pandas", [True, False])
def test_hash_codes_number_by_first_appearance(monkeypatch, with_pandas):
    if not with_pandas:  # np.unique sorts the hashes; the codes are renumbered
        monkeypatch.setattr(_labels, "_pandas", lambda: None)
    h = np.array([9, 3, 9, 7, 3, 1], dtype=np.uint64)
    assert _labels._hash_codes(h).tolist() == [0, 1, 0, 2, 1, 3]
    y = np.array(["zz", "b", "zz", "a", "b", "yy"])
    uniques, codes = _labels._hash_fixed_width(y)
    assert uniques.tolist() == ["zz", "b", "a", "yy"] and codes.tolist() == [0, 1, 0, 2, 1, 3]


def test_missing_values_take_the_sorting_path():
    y = np.array(["a", np.nan, "b"], dtype=object)
    assert _labels._factorize(y) is None


@pytest.mark.parametrize("name", ["unicode", "object"])
def test_unseen_labels_are_an_error(name):
    y = _label_arrays()[name]
    X = np.arange(2.0 * len(y)).reshape(-1, 2)
    model = GaussianClassifier().fit(X, y)
    assert model.classes_.tolist() == sorted(set(WORDS))
    later = np.concatenate([y[:5], np.array(["kiwi"], dtype=y.dtype)])
    with pytest.raises(ValueError, match=r"y contains labels not among the classes .*\['kiwi'\]"):
        model.partial_fit(X[:6], later)
    assert model.score(X[:10], y[:10]) >= 0.0
