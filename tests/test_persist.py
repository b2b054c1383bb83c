"""Model files: exact round trips, continued learning, validation and atomic writes."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import gaussmle
from gaussmle import GaussianClassifier, persist
from gaussmle.persist import ModelFileError, dumps, from_dict, load, loads, save, to_dict
from gaussmle.prior import ConjugatePrior

COVARIANCE_TYPES = ["diag", "full", "tied", "spherical"]


def _data(n: int = 90, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % 3
    A = rng.normal(size=(d, d))
    X = rng.normal(size=(n, d)) @ A + 2.0 * codes[:, None] + 1e3
    return X, codes


def _labels(codes: np.ndarray, kind: str) -> Any:
    if kind == "str":
        return np.array(["purple", "yellow", "green"])[codes]
    if kind == "int":
        return codes * 7 - 3
    raise AssertionError(kind)


# ---------------------------------------------------------------------- round trips
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("label_kind", ["str", "int"])
@pytest.mark.parametrize("frame", [False, True], ids=["ndarray", "dataframe"])
def test_round_trip_is_bit_identical(
    tmp_path: Path, covariance_type: str, label_kind: str, frame: bool
) -> None:
    X, codes = _data()
    y = _labels(codes, label_kind)
    names = ["aromatic lift", "elegance", "sweetness"]
    if frame:
        pd = pytest.importorskip("pandas")
        X_fit: Any = pd.DataFrame(X, columns=names)
    else:
        X_fit = X
    clf = GaussianClassifier(covariance_type=covariance_type).fit(X_fit, y)
    path = save(clf, tmp_path / "m.json")
    again = load(path)
    assert isinstance(again, GaussianClassifier)
    assert again.get_params() == clf.get_params()
    assert again.classes_.dtype == clf.classes_.dtype
    assert again.classes_.tolist() == clf.classes_.tolist()
    X_test = X_fit.iloc[:40] if frame else X[:40]
    assert np.array_equal(again.predict_proba(X_test), clf.predict_proba(X_test))
    assert np.array_equal(again.predict(X_test), clf.predict(X_test))
    for attr in ("class_count_", "class_prior_", "means_", "covariances_"):
        assert np.array_equal(getattr(again, attr), getattr(clf, attr)), attr
    assert again.epsilon_ == clf.epsilon_
    if frame:
        assert list(again.feature_names_in_) == names
    else:
        assert not hasattr(again, "feature_names_in_")
    # saving the loaded model writes the same file again
    assert dumps(again) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "y",
    [
        np.array([True, False, True, False, True, False]),
        np.array([1.0, 2.0, 1.0, 2.0, 1.0, 2.0]),
        np.array([1, 2, 1, 2, 1, 2], dtype=np.int32),
        np.array([1, 2, 1, 2, 1, 2], dtype=np.uint8),
        np.array([-1.0, 3.0, -1.0, 3.0, -1.0, 3.0], dtype=np.float32),
        np.array(["a", "bb", "a", "bb", "a", "bb"], dtype=object),
    ],
    ids=["bool", "float64", "int32", "uint8", "float32", "object"],
)
def test_label_types_are_kept(y: np.ndarray) -> None:
    X = np.array([[0.0], [5.0], [1.0], [6.0], [2.0], [8.0]])
    clf = GaussianClassifier().fit(X, y)
    doc = json.loads(dumps(clf))
    assert doc["class_dtype"] == (clf.classes_.dtype.name if y.dtype != object else "object")
    again = loads(dumps(clf))
    assert again.classes_.dtype == clf.classes_.dtype
    assert again.classes_.tolist() == clf.classes_.tolist()
    assert [type(v) for v in again.classes_.tolist()] == [type(v) for v in clf.classes_.tolist()]
    assert np.array_equal(again.predict(X), clf.predict(X))


def test_pandas_labels_and_priors_round_trip() -> None:
    pd = pytest.importorskip("pandas")
    X, codes = _data()
    y = pd.Series(_labels(codes, "str"))
    clf = GaussianClassifier(priors=[0.2, 0.3, 0.5], var_smoothing=1e-3).fit(X, y)
    again = loads(dumps(clf))
    assert again.priors == [0.2, 0.3, 0.5]
    assert again.var_smoothing == 1e-3
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert again.predict(X[:5]).tolist() == clf.predict(X[:5]).tolist()


def test_document_is_plain_json_with_exact_floats() -> None:
    X, codes = _data()
    X[0, 0] = 0.1 + 0.2  # a float whose short decimal is not 0.3
    clf = GaussianClassifier(covariance_type="full").fit(X, _labels(codes, "str"))
    text = dumps(clf)
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    assert doc["format"] == "gaussmle-model"
    assert doc["format_version"] == persist.FORMAT_VERSION == 1
    assert doc["gaussmle_version"] == gaussmle.__version__
    assert doc["model"] == "GaussianClassifier"
    assert doc["n_features"] == 3
    assert doc["statistics"]["kind"] == "full"
    per_class = doc["statistics"]["per_class"]
    assert [c["class"] for c in per_class] == doc["classes"] == ["green", "purple", "yellow"]
    assert np.array_equal(np.array([c["m2"] for c in per_class]), clf.class_stats_.m2)
    assert np.array_equal(np.array([c["mean"] for c in per_class]), clf.class_stats_.mean)
    params = doc["parameters"]
    assert np.array_equal(np.array(params["covariances"]), clf.covariances_)
    assert np.array_equal(np.array(params["means"]), clf.means_)
    assert params["epsilon"] == clf.epsilon_
    assert to_dict(clf) == doc


def test_model_with_an_unseen_class_round_trips() -> None:
    X = np.array([[0.0], [1.0], [5.0], [7.0]])
    clf = GaussianClassifier().partial_fit(X, [0, 0, 1, 1], classes=[0, 1, 2])
    again = loads(dumps(clf))
    assert again.class_count_.tolist() == [2.0, 2.0, 0.0]
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    again.partial_fit([[20.0], [22.0]], [2, 2])
    assert again.predict([[21.0]]).tolist() == [2]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_loaded_model_continues_partial_fit(tmp_path: Path, covariance_type: str) -> None:
    pd = pytest.importorskip("pandas")
    X, codes = _data(n=120)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    y = _labels(codes, "str")
    first, second = slice(0, 70), slice(70, None)
    classes = np.unique(y)

    streamed = GaussianClassifier(covariance_type=covariance_type)
    streamed.partial_fit(frame.iloc[first], y[first], classes=classes)
    save(streamed, tmp_path / "m.json")
    streamed.partial_fit(frame.iloc[second], y[second])

    resumed = load(tmp_path / "m.json").partial_fit(frame.iloc[second], y[second])
    # the same sequence of merges: bit for bit the same model
    assert np.array_equal(resumed.predict_proba(frame), streamed.predict_proba(frame))
    # and the model fitted on all the data at once, up to rounding
    full = GaussianClassifier(covariance_type=covariance_type).fit(frame, y)
    assert resumed.class_stats_.allclose(full.class_stats_, rtol=1e-10)
    assert np.allclose(resumed.covariances_, full.covariances_, rtol=1e-10, atol=0)
    assert np.allclose(resumed.predict_proba(frame), full.predict_proba(frame), atol=1e-12)
    assert list(resumed.feature_names_in_) == ["a", "b", "c"]


def test_loaded_models_merge() -> None:
    X, codes = _data(n=60)
    y = _labels(codes, "int")
    a = loads(dumps(GaussianClassifier().fit(X[:30], y[:30])))
    b = loads(dumps(GaussianClassifier().fit(X[30:], y[30:])))
    both = a.merge(b)
    full = GaussianClassifier().fit(X, y)
    assert both.class_stats_.allclose(full.class_stats_)


def test_unicode_feature_names(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"élégance": [0.0, 1.0, 4.0, 6.0], "größe": [1.0, 0.0, 3.0, 5.0]})
    clf = GaussianClassifier().fit(frame, ["a", "a", "b", "b"])
    path = save(clf, tmp_path / "m.json")
    assert "élégance" in path.read_text(encoding="utf-8")
    assert list(load(path).feature_names_in_) == ["élégance", "größe"]


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical"])
def test_gaussian_round_trip(tmp_path: Path, covariance_type: str) -> None:
    X, _ = _data()
    g = gaussmle.fit(X, covariance_type=covariance_type)
    again = load(save(g, tmp_path / "g.json"))
    assert isinstance(again, gaussmle.Gaussian)
    assert again.covariance_type == covariance_type
    assert again.n == g.n == 90.0
    assert np.array_equal(again.logpdf(X), g.logpdf(X))
    assert np.array_equal(again.standard_errors()["mean"], g.standard_errors()["mean"])


def test_gaussian_without_sample_size() -> None:
    g = gaussmle.Gaussian(np.zeros(2), np.ones(2), "diag")
    doc = to_dict(g)
    assert doc["parameters"]["n"] is None
    assert np.isnan(from_dict(doc).n)


def test_save_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        save(GaussianClassifier(), tmp_path / "m.json")
    with pytest.raises(TypeError, match="cannot save a dict"):
        save({}, tmp_path / "m.json")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- validation
@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    X, codes = _data()
    clf = GaussianClassifier(covariance_type="full").fit(X, _labels(codes, "str"))
    return save(clf, tmp_path / "m.json")


@pytest.fixture
def diag_file(tmp_path: Path) -> Path:
    X, codes = _data()
    clf = GaussianClassifier(covariance_type="diag").fit(X, _labels(codes, "int"))
    return save(clf, tmp_path / "d.json")


def _edit(path: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _refused(path: Path, fragment: str) -> str:
    with pytest.raises(ModelFileError) as info:
        load(path)
    message = str(info.value)
    assert fragment in message, message
    assert message.startswith(repr(str(path))), message
    assert "\n" not in message and ". " not in message, message  # one sentence
    return message


def test_good_files_load(good_file: Path, diag_file: Path) -> None:
    assert load(good_file).covariance_type == "full"
    assert load(diag_file).covariance_type == "diag"


def test_truncated_file(good_file: Path) -> None:
    text = good_file.read_text(encoding="utf-8")
    good_file.write_text(text[: len(text) // 2], encoding="utf-8")
    message = _refused(good_file, "is not a valid gaussmle model file: it is truncated or not JSON")
    assert "(line " in message and ", column " in message
    assert message.endswith("; re-save the model")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "it is empty"),
        (b"   \n", "it is empty"),
        (b"hello", "it is truncated or not JSON (line 1, column 1)"),
        (b'{"format": "gaussmle-model",\n  "format_version": 1,\n  x}', "(line 3, column 3)"),
        (b"\x80\x81\xff\x00", "it is not UTF-8 text"),
        (b"[1, 2]", "it holds a JSON array, not an object"),
        (b'"text"', "it holds a JSON string, not an object"),
    ],
)
def test_not_a_model_file(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content)
    _refused(path, fragment)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot read .*: the file does not exist"):
        load(tmp_path / "nope.json")
    with pytest.raises(ModelFileError, match="it is a folder"):
        load(tmp_path)


def test_wrong_format(good_file: Path) -> None:
    _edit(good_file, lambda d: d.update(format="sklearn-model"))
    _refused(good_file, "its format is 'sklearn-model', not 'gaussmle-model'")
    _edit(good_file, lambda d: d.pop("format"))
    _refused(good_file, "it has no 'format' key")


def test_newer_format_version(good_file: Path) -> None:
    _edit(good_file, lambda d: d.update(format_version=2))
    message = _refused(good_file, "was written by a newer gaussmle (format 2")
    assert message.endswith("; upgrade gaussmle")


@pytest.mark.parametrize("version", [0, "1", 1.0, True, None])
def test_bad_format_version(good_file: Path, version: Any) -> None:
    _edit(good_file, lambda d: d.update(format_version=version))
    _refused(good_file, "format_version is")


def _set(*keys: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        for key in keys[:-1]:
            doc = doc[key]
        doc[keys[-1]] = value

    return change


def _delete(*keys: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        for key in keys[:-1]:
            doc = doc[key]
        del doc[keys[-1]]

    return change


PC = ("statistics", "per_class")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (_set("model", value="KMeans"), "model is 'KMeans'"),
        (_delete("model"), "the key 'model' is missing"),
        (_delete("gaussmle_version"), "the key 'gaussmle_version' is missing"),
        (_set("gaussmle_version", value=1), "gaussmle_version must be a string"),
        (_delete("statistics"), "the key 'statistics' is missing"),
        (_delete(*PC, 1, "m2"), "the key 'statistics.per_class[1].m2' is missing"),
        (_delete("parameters", "epsilon"), "the key 'parameters.epsilon' is missing"),
        (_set("extra", value=1), "it has an unknown key 'extra'"),
        (_set("hyperparameters", "alpha", value=1), "'hyperparameters' has an unknown key"),
        (_set("hyperparameters", value=[]), "hyperparameters must be an object"),
        (_set("hyperparameters", "covariance_type", value="ful"), "covariance_type is 'ful'"),
        (_set("hyperparameters", "var_smoothing", value=-1.0), "cannot be below 0.0"),
        (_set("hyperparameters", "var_smoothing", value="1e-9"), "must be a number"),
        (_set("hyperparameters", "priors", value=[0.5, 0.5]), "has shape (2,)"),
        (_set("hyperparameters", "priors", value=[0.5, 0.6, 0.1]), "sums to 1.2, not 1"),
        (_set("hyperparameters", "priors", value=[1.5, -0.6, 0.1]), "priors has a negative"),
        (_set("n_features", value=2), "has shape (3,), but it must have shape (2,)"),
        (_set("n_features", value=0), "n_features is 0, but it must be a positive integer"),
        (_set("feature_names", value=["a", "b"]), "feature_names has 2 names"),
        (_set("feature_names", value=[1, 2, 3]), "feature_names must be null or an array"),
        (_set(*PC, 0, "mean", value=[1.0, 2.0]), "per_class[0].mean has shape (2,)"),
        (_set(*PC, 0, "m2", value=[[1.0, 0.0], [0.0, 1.0]]), "per_class[0].m2 has shape (2, 2)"),
        (_set(*PC, 0, "m2", value=[[1.0, 0.0, 0.0], [0.0, 1.0]]), "per_class[0].m2 has"),
        (_set(*PC, 0, "mean", value=[1.0, "2", 3.0]), "per_class[0].mean must hold only"),
        (_set(*PC, 0, "mean", value=[1.0, True, 3.0]), "per_class[0].mean must hold only"),
        (_set(*PC, value={}), "statistics.per_class has no entries"),
        (_set(*PC, 0, "count", value=-3.0), "per_class[0].count is -3.0, but a count"),
        (_set(*PC, 0, "count", value=None), "per_class[0].count must be a number"),
        (_set(*PC, 0, "class", value="red"), "per_class[0].class is 'red'"),
        (_set("statistics", "kind", value="diag"), "a 'full' model keeps 'full' statistics"),
        (_set("statistics", "kind", value="tril"), "statistics.kind is 'tril'"),
        (_set("parameters", "means", value=[[0.0]]), "parameters.means has shape (1, 1)"),
        (_set("parameters", "epsilon", value=1.0), "parameters.epsilon disagrees"),
        (_set("parameters", "class_prior", value=[0.2, 0.3, 0.5]), "class_prior disagrees"),
        (_set("classes", value=["a", "a", "b"]), "classes are not unique: 'a' appears twice"),
        (_set("classes", value=["yellow", "purple", "green"]), "not in sorted order"),
        (_set("classes", value=[]), "classes must be a non-empty array"),
        (_set("classes", value=[1, 2, 3]), "not of class_dtype 'str'"),
        (_set("class_dtype", value="complex128"), "class_dtype is 'complex128'"),
    ],
)
def test_refused_edits(
    good_file: Path, change: Callable[[dict[str, Any]], Any], fragment: str
) -> None:
    _edit(good_file, change)
    message = _refused(good_file, fragment)
    assert "is not a valid gaussmle model file: " in message
    assert message.endswith("; re-save the model")


def test_non_finite_values_are_refused(good_file: Path) -> None:
    _edit(good_file, _set(*PC, 0, "count", value=float("nan")))  # json writes the token NaN
    _refused(good_file, "it contains NaN, and model files hold only finite numbers")
    text = good_file.read_text(encoding="utf-8").replace("NaN", "-Infinity")
    good_file.write_text(text, encoding="utf-8")
    _refused(good_file, "it contains -Infinity")
    good_file.write_text(text.replace("-Infinity", "1e999"), encoding="utf-8")
    _refused(good_file, "per_class[0].count is not finite")


def test_non_finite_in_arrays_is_refused(good_file: Path) -> None:
    def huge(doc: dict[str, Any]) -> None:
        doc["statistics"]["per_class"][1]["mean"][2] = 10**400

    _edit(good_file, huge)
    _refused(good_file, "per_class[1].mean contains a value that is not finite")


def test_scatter_not_symmetric(good_file: Path) -> None:
    def skew(doc: dict[str, Any]) -> None:
        doc["statistics"]["per_class"][0]["m2"][0][1] += 1.0

    _edit(good_file, skew)
    _refused(good_file, "per_class[0].m2 is not symmetric")


def test_scatter_not_positive_semidefinite(good_file: Path) -> None:
    def indefinite(doc: dict[str, Any]) -> None:
        doc["statistics"]["per_class"][2]["m2"] = [[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0, 0, 1.0]]

    _edit(good_file, indefinite)
    _refused(good_file, "per_class[2].m2 is not positive semi-definite")


def test_scatter_with_negative_diagonal(good_file: Path) -> None:
    _edit(good_file, _set(*PC, 0, "m2", value=[[-1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]))
    _refused(good_file, "per_class[0].m2 has a negative sum of squares")


def test_diag_statistics_checks(diag_file: Path) -> None:
    _edit(diag_file, _set(*PC, 1, "m2", value=[1.0, -2.0, 3.0]))
    _refused(diag_file, "per_class[1].m2 has a negative sum of squares")


def test_kind_does_not_fit_covariance_type(diag_file: Path) -> None:
    _edit(diag_file, _set("statistics", "kind", value="full"))
    _refused(diag_file, "statistics.kind is 'full', but a 'diag' model keeps 'diag' statistics")


def test_variances_not_positive(diag_file: Path) -> None:
    def zero(doc: dict[str, Any]) -> None:
        doc["parameters"]["covariances"][1][0] = 0.0

    _edit(diag_file, zero)
    _refused(diag_file, "parameters.covariances has a variance that is not positive")


def test_zero_variance_without_smoothing(diag_file: Path) -> None:
    def constant(doc: dict[str, Any]) -> None:
        doc["hyperparameters"]["var_smoothing"] = 0.0
        doc["statistics"]["per_class"][0]["m2"][0] = 0.0

    _edit(diag_file, constant)
    _refused(diag_file, "its statistics do not define a usable model (some class has a zero")


def test_int_class_labels_are_checked(diag_file: Path) -> None:
    _edit(diag_file, _set("classes", value=[-3, 4.5, 11]))
    _refused(diag_file, "not of class_dtype 'int64'")
    _edit(diag_file, _set("classes", value=[-3, 4, 2**70]))
    _refused(diag_file, "out of the range of int64")
    _edit(diag_file, _set("classes", value=[-3, 4, 11]))
    _edit(diag_file, _set(*PC, 1, "class", value=4.0))
    _refused(diag_file, "per_class[1].class is 4.0, but classes[1] is 4")


def test_all_counts_zero(diag_file: Path) -> None:
    def empty(doc: dict[str, Any]) -> None:
        for entry in doc["statistics"]["per_class"]:
            entry["count"] = 0.0

    _edit(diag_file, empty)
    _refused(diag_file, "every class count is zero")


def test_duplicate_keys(good_file: Path) -> None:
    text = good_file.read_text(encoding="utf-8")
    good_file.write_text(text.replace('"n_features": 3,', '"n_features": 3, "n_features": 4,'))
    _refused(good_file, "the key 'n_features' appears twice in one object")


def test_gaussian_file_checks(tmp_path: Path) -> None:
    X, _ = _data()
    path = save(gaussmle.fit(X, covariance_type="full"), tmp_path / "g.json")

    def asymmetric(doc: dict[str, Any]) -> None:
        doc["parameters"]["covariance"][0][1] += 0.5

    _edit(path, asymmetric)
    _refused(path, "parameters.covariance is not symmetric")
    path = save(gaussmle.fit(X), tmp_path / "g.json")
    _edit(path, _set("parameters", "covariance", value=[1.0, 0.0, 2.0]))
    _refused(path, "parameters.covariance has a variance that is not positive")
    path = save(gaussmle.fit(X), tmp_path / "g.json")
    _edit(path, _set("parameters", "n", value=-1))
    _refused(path, "parameters.n is -1.0")
    path = save(gaussmle.fit(X), tmp_path / "g.json")
    _edit(path, _set("parameters", "covariance_type", value="tied"))
    _refused(path, "parameters.covariance_type is 'tied'")
    path = save(gaussmle.fit(X), tmp_path / "g.json")
    _edit(path, _set("classes", value=[0]))
    _refused(path, "it has an unknown key 'classes'")


@pytest.mark.parametrize("covariance_type", ["diag", "full", "spherical"])
def test_gaussian_keeps_feature_names_and_estimator(tmp_path: Path, covariance_type: str) -> None:
    X, _ = _data()
    names = ["aromatic lift", "elegance", "sweetness"]
    g = gaussmle.fit(X, covariance_type, estimator="map")
    path = save(g, tmp_path / "g.json", feature_names=names, estimator="map")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["feature_names"] == names and doc["estimator"] == "map"
    again = load(path)
    assert isinstance(again, gaussmle.Gaussian)
    assert again.feature_names_in_.tolist() == names and again.estimator == "map"
    assert np.array_equal(again.logpdf(X), g.logpdf(X))
    # saving the loaded Gaussian again keeps them
    assert dumps(again) == path.read_text(encoding="utf-8")
    # an explicit argument wins over the attributes
    assert to_dict(again, feature_names=["a", "b", "c"])["feature_names"] == ["a", "b", "c"]


def test_gaussian_without_names_has_no_extra_keys() -> None:
    X, _ = _data()
    doc = to_dict(gaussmle.fit(X))
    assert "feature_names" not in doc and "estimator" not in doc
    g = from_dict(doc)
    assert not hasattr(g, "feature_names_in_") and not hasattr(g, "estimator")
    doc["feature_names"] = None  # null is allowed, as for a classifier
    assert not hasattr(from_dict(doc), "feature_names_in_")


def test_gaussian_names_are_checked_when_saving(tmp_path: Path) -> None:
    X, _ = _data()
    g = gaussmle.fit(X)
    with pytest.raises(ValueError, match="feature_names has 2 names, but the Gaussian has 3"):
        save(g, tmp_path / "g.json", feature_names=["a", "b"])
    with pytest.raises(ValueError, match="estimator must be 'mle' or 'map'"):
        save(g, tmp_path / "g.json", estimator="mode")
    clf = GaussianClassifier().fit(X, _labels(np.arange(90) % 3, "str"))
    with pytest.raises(ValueError, match="feature_names and estimator are for saving a Gaussian"):
        save(clf, tmp_path / "c.json", feature_names=["a", "b", "c"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (_set("feature_names", value=["a", "b"]), "feature_names has 2 names, but n_features is 3"),
        (_set("feature_names", value=["a", 2, "c"]), "feature_names must be null or an array"),
        (_set("feature_names", value="abc"), "feature_names must be null or an array"),
        (_set("estimator", value="mode"), "estimator is 'mode', but it must be 'mle' or 'map'"),
        (_set("estimator", value=1), "estimator is 1"),
    ],
)
def test_gaussian_names_and_estimator_are_validated(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], fragment: str
) -> None:
    X, _ = _data()
    path = save(gaussmle.fit(X), tmp_path / "g.json", feature_names=["a", "b", "c"])
    _edit(path, change)
    _refused(path, fragment)


def test_from_dict_and_loads_name_their_source() -> None:
    doc = to_dict(GaussianClassifier().fit([[0.0], [1.0], [4.0], [6.0]], [0, 0, 1, 1]))
    doc["statistics"]["per_class"][0]["count"] = -1.0
    with pytest.raises(ModelFileError, match=r"^the dictionary is not a valid gaussmle model: "):
        from_dict(doc)
    with pytest.raises(ModelFileError, match=r"^the text is not a valid gaussmle model: "):
        loads(json.dumps(doc))
    with pytest.raises(ModelFileError, match="it holds a JSON null"):
        from_dict(None)


# ---------------------------------------------------------------------- atomic writes
def _save_over(tmp_path: Path) -> tuple[Path, bytes, GaussianClassifier]:
    X, codes = _data()
    old = save(GaussianClassifier().fit(X, codes), tmp_path / "m.json")
    new_model = GaussianClassifier(covariance_type="full").fit(X, codes)
    return old, old.read_bytes(), new_model


@pytest.mark.parametrize("victim", ["replace", "fsync"])
def test_failed_write_leaves_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, victim: str
) -> None:
    path, before, new_model = _save_over(tmp_path)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(persist.os, victim, broken)
    with pytest.raises(ModelFileError, match="cannot write the model to .*No space left"):
        save(new_model, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_interrupted_write_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, before, new_model = _save_over(tmp_path)

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(persist.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(new_model, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_failed_serialisation_leaves_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, before, new_model = _save_over(tmp_path)

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(persist.json, "dumps", broken)
    with pytest.raises(RuntimeError, match="boom"):
        save(new_model, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_successful_overwrite_replaces_and_keeps_permissions(tmp_path: Path) -> None:
    path, before, new_model = _save_over(tmp_path)
    os.chmod(path, 0o640)
    save(new_model, path)
    assert path.read_bytes() != before
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert load(path).covariance_type == "full"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_unwritable_paths(tmp_path: Path) -> None:
    X, codes = _data()
    clf = GaussianClassifier().fit(X, codes)
    with pytest.raises(ModelFileError, match="the folder .* does not exist; create it first"):
        save(clf, tmp_path / "missing" / "m.json")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ModelFileError, match="it is a folder; pass a file name"):
        save(clf, tmp_path / "folder")
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a read-only folder stops nobody when the tests run as root (CI does), so the
    # rename is refused instead: the message, the old file kept, no temporary file
    path = tmp_path / "m.json"
    path.write_text("old")

    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ModelFileError) as err:
        save(gaussmle.fit([[0.0], [1.0]]), path)
    assert str(err.value) == (
        f"cannot write the model to {str(path)!r}: permission denied; choose a folder you "
        "can write to"
    )
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    with pytest.raises(ModelFileError, match="'.*plain' is not a folder"):
        save(gaussmle.fit([[0.0], [1.0]]), tmp_path / "plain" / "m.json")


@pytest.mark.parametrize(
    "params",
    [
        {"estimator": "map"},
        {"covariance_type": "full", "predictive": True, "prior": {"mean_strength": 2.0}},
        {
            "covariance_type": "spherical",
            "estimator": "map",
            "prior": ConjugatePrior(mean=[0.0, 1.0, 2.0], variance=[1.0, 2.0, 3.0]),
        },
    ],
)
def test_bayesian_models_round_trip(params):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 3))
    y = np.arange(60) % 3
    model = GaussianClassifier(**params).fit(X, y)
    loaded = loads(dumps(model))
    assert loaded.estimator == model.estimator and loaded.predictive == model.predictive
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_bad_prior_in_file_is_refused():
    model = GaussianClassifier(estimator="map", prior={"mean_strength": 2.0}).fit(
        [[0.0], [1.0], [5.0], [6.0]], [0, 0, 1, 1]
    )
    doc = to_dict(model)
    doc["hyperparameters"]["prior"]["mean_strength"] = -1.0
    with pytest.raises(ModelFileError, match="prior is not valid"):
        from_dict(doc)
