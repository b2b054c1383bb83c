"""ONNX export: the graph run by onnxruntime agrees with gaussmle on labels, probabilities
and joint log-likelihoods, for every covariance type, in float32 and float64, far from
the origin too; what cannot be exported is refused with a message."""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from gaussmle import GaussianClassifier, to_onnx  # noqa: E402
from gaussmle.onnx_export import (  # noqa: E402
    IR_VERSION,
    OPSET,
    build_graph,
    graph_parameters,
)
from gaussmle.onnx_export import mixture_parameters as gaussmle_mixture_parameters  # noqa: E402

COVARIANCE_TYPES = ["diag", "spherical", "full", "tied"]
#: Largest allowed difference in probabilities, and relative difference in joint
#: log-likelihoods (relative to max(1, |J|)), per graph dtype.
TOLERANCE = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-5)}
ROOT = Path(__file__).resolve().parents[1]


def _data(
    k: int, n: int = 240, d: int = 5, offset: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping correlated classes (so probabilities are far from 0 and 1)."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % k
    centres = rng.normal(0.0, 0.3, size=(k, d))
    centres[:, 0] += 1.5 * np.arange(k)  # neighbouring classes 1.5 apart
    mix = np.eye(d) + 0.3 * rng.uniform(0.5, 1.5) * np.tri(d, k=-1)
    scales = rng.uniform(0.5, 2.0, size=d)
    X = centres[codes] + (rng.normal(size=(n, d)) @ mix) * scales + offset
    return X, codes


def _labels(codes: np.ndarray, kind: str) -> np.ndarray:
    names = {
        "int": np.array([3, 7, 11, -2]),
        "str": np.array(["setosa", "versicolor", "virginica", "ünïcode"]),
    }[kind]
    return names[codes]


def _session(proto: Any) -> Any:
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def _run(proto: Any, X: np.ndarray) -> dict[str, np.ndarray]:
    names = [o.name for o in proto.graph.output]
    return dict(zip(names, _session(proto).run(None, {"X": X}), strict=True))


def _differences(clf: GaussianClassifier, out: dict[str, np.ndarray], X: np.ndarray):
    """Largest |probability difference| and relative joint log-likelihood difference."""
    X64 = X.astype(np.float64)
    proba = clf.predict_proba(X64)
    joint = clf.predict_joint_log_proba(X64)
    assert out["probabilities"].shape == proba.shape
    assert out["log_likelihood"].shape == joint.shape
    assert np.array_equal(np.isfinite(out["log_likelihood"]), np.isfinite(joint))
    finite = np.isfinite(joint)
    rel = np.abs(out["log_likelihood"][finite] - joint[finite]) / np.maximum(
        1.0, np.abs(joint[finite])
    )
    return float(np.abs(out["probabilities"] - proba).max()), float(rel.max())


def _assert_parity(clf: GaussianClassifier, X: np.ndarray, dtype: str) -> None:
    Xt = X.astype(dtype)
    out = _run(to_onnx(clf, dtype=dtype), Xt)
    assert out["probabilities"].dtype == np.dtype(dtype)
    assert out["log_likelihood"].dtype == np.dtype(dtype)
    expected = clf.predict(Xt.astype(np.float64))
    assert out["label"].tolist() == expected.tolist()
    dp, dj = _differences(clf, out, Xt)
    p_tol, j_tol = TOLERANCE[dtype]
    assert dp <= p_tol, (dp, p_tol)
    assert dj <= j_tol, (dj, j_tol)


# ---------------------------------------------------------------------- parity
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("labels", ["int", "str"])
@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("covariance", COVARIANCE_TYPES)
def test_graph_matches_gaussmle(covariance, k, labels, dtype):
    X, codes = _data(k, seed=k)
    clf = GaussianClassifier(covariance).fit(X, _labels(codes, labels))
    proba = clf.predict_proba(X)
    assert np.mean(proba.max(axis=1) < 0.9) > 0.1  # the classes really overlap
    _assert_parity(clf, X, dtype)


@pytest.mark.parametrize("covariance", COVARIANCE_TYPES)
def test_float32_keeps_its_accuracy_at_an_offset_of_1e4(covariance):
    X, codes = _data(3, offset=1e4, seed=5)
    clf = GaussianClassifier(covariance).fit(X, _labels(codes, "str"))
    _assert_parity(clf, X, "float32")
    _assert_parity(clf, X, "float64")


def test_without_centring_float32_would_lose_accuracy_at_an_offset():
    """The same graph with the reference point at 0 (as skl2onnx does) misses the 1e-5."""
    X, codes = _data(2, d=4, offset=1e4, seed=2)
    clf = GaussianClassifier("diag").fit(X, codes)
    X32 = X.astype(np.float32)
    centred = graph_parameters(clf, "float32")
    uncentred = dataclasses.replace(
        centred,
        reference=np.zeros_like(centred.reference),
        shifted_means=clf.means_.astype(np.float32).astype(np.float64),
    )
    losses = []
    for params in (centred, uncentred):
        graph = build_graph(params, "float32")
        proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", OPSET)])
        proto.ir_version = IR_VERSION
        losses.append(_differences(clf, _run(proto, X32), X32)[0])
    assert losses[0] < 1e-5 < losses[1], losses


def test_binary_probabilities_are_the_two_class_posterior():
    """Binary problems: softmax over two joint log-likelihoods, i.e. the logistic of their
    difference (skl2onnx's binary LDA gets this wrong)."""
    X, codes = _data(2, seed=9)
    clf = GaussianClassifier("tied").fit(X, codes)
    out = _run(to_onnx(clf), X)
    J = clf.predict_joint_log_proba(X)
    logistic = 1.0 / (1.0 + np.exp(J[:, 0] - J[:, 1]))
    np.testing.assert_allclose(out["probabilities"][:, 1], logistic, rtol=0, atol=1e-12)


def test_unseen_class_and_zero_prior_never_win():
    X, codes = _data(3, seed=4)
    # class 9 is declared but never seen
    seen = GaussianClassifier("full").partial_fit(X, codes, classes=[0, 1, 2, 9])
    # class 2 has prior 0
    zero = GaussianClassifier("diag", priors=[0.5, 0.5, 0.0]).fit(X, codes)
    for clf, never in ((seen, 3), (zero, 2)):
        for dtype in ("float64", "float32"):
            out = _run(to_onnx(clf, dtype=dtype), X.astype(dtype))
            assert np.all(out["log_likelihood"][:, never] == -np.inf)
            assert np.all(out["probabilities"][:, never] == 0.0)
            assert never not in out["label"].tolist() and len(set(out["label"].tolist())) > 1
            _assert_parity(clf, X, dtype)


@pytest.mark.parametrize("covariance", COVARIANCE_TYPES)
def test_far_points_go_to_the_nearest_class_without_nan(covariance):
    """Squared distances that overflow the dtype: one-hot at the nearest class, as gaussmle."""
    rng = np.random.default_rng(7)
    codes = np.arange(90) % 3
    X = rng.normal(size=(90, 3)) * [1.0, 0.01, 3.0] + np.outer(codes, [1.0, 0.0, 0.0])
    clf = GaussianClassifier(covariance).fit(X, codes)
    for dtype, far in (("float64", 1e200), ("float32", 1e30)):
        Z = np.array([[0.1, 0, 0], [far, 0, 0], [-far, far, 1], [0, -far, 0], [0.5, 0, 3]])
        Z = Z.astype(dtype)
        out = _run(to_onnx(clf, dtype=dtype), Z)
        proba = out["probabilities"]
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)
        assert np.all(proba[1:4].max(axis=1) == 1.0)  # wholly one class
        assert np.all(out["log_likelihood"][1:4] == -np.inf)
        expected = clf.predict_proba(Z.astype(np.float64))
        decided = expected.max(axis=1) == 1.0  # gaussmle, too, has a winner (tied included:
        # its far points are ranked by the linear discriminant, issue 17 item 4)
        assert decided.tolist() == [False, True, True, True, False]
        compare = decided | np.isin(np.arange(5), [0, 4])
        np.testing.assert_allclose(proba[compare], expected[compare], rtol=0, atol=1e-5)
        assert out["label"][compare].tolist() == clf.predict(Z[compare]).tolist()


@pytest.mark.parametrize("covariance", COVARIANCE_TYPES)
def test_far_points_that_do_not_overflow_agree_with_gaussmle(covariance):
    """Far enough that the joint's class differences drown in its rounding, not overflowing.

    gaussmle ranks tied rows there by the linear discriminant (issue 17 item 4);
    the graph must give the same labels and (one-hot) probabilities, in float32 from
    about 1e8 on.
    """
    rng = np.random.default_rng(7)
    codes = np.arange(90) % 3
    X = rng.normal(size=(90, 3)) * [1.0, 0.01, 3.0] + np.outer(codes, [1.0, 0.0, 0.0])
    clf = GaussianClassifier(covariance).fit(X, codes)
    directions = rng.normal(size=(20, 3))
    for dtype, scales in (("float64", [1e15, 1e17, 1e100]), ("float32", [1e8, 1e15, 1e19])):
        Z = np.concatenate([directions * s for s in scales]).astype(dtype)
        out = _run(to_onnx(clf, dtype=dtype), Z)
        expected = clf.predict_proba(Z.astype(np.float64))
        assert out["label"].tolist() == clf.predict(Z.astype(np.float64)).tolist()
        np.testing.assert_allclose(out["probabilities"], expected, rtol=0, atol=1e-5)


def test_rows_with_nan_or_infinity_give_nan_not_a_confident_answer():
    X, codes = _data(2, seed=3)
    clf = GaussianClassifier("full").fit(X, codes)
    Z = np.vstack([X[:2], [[np.nan] + [0.0] * 4], [[0.0, np.inf, 0.0, 0.0, 0.0]]])
    for dtype in ("float64", "float32"):
        out = _run(to_onnx(clf, dtype=dtype), Z.astype(dtype))
        assert np.isnan(out["probabilities"][2:]).all()
        assert np.isnan(out["log_likelihood"][2:]).all()
        assert np.isfinite(out["probabilities"][:2]).all()


@pytest.mark.parametrize("covariance", ["diag", "spherical"])
def test_marginalising_models_integrate_missing_features_out(covariance):
    X, codes = _data(3, seed=11)
    rng = np.random.default_rng(11)
    gappy = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    clf = GaussianClassifier(covariance, missing="marginalize").fit(gappy, codes)
    Z = gappy[:60].copy()
    Z[0] = np.nan  # nothing observed: the priors alone
    Z[1, :-1] = np.nan
    assert 20 < np.isnan(Z).any(axis=1).sum() < 60  # complete rows too
    for dtype in ("float64", "float32"):
        _assert_parity(clf, Z, dtype)
    out = _run(to_onnx(clf), Z)
    np.testing.assert_allclose(out["probabilities"][0], clf.class_prior_, rtol=1e-12)
    Z[2, 0] = np.inf  # infinity is not missing
    assert np.isnan(_run(to_onnx(clf), Z)["probabilities"][2]).all()


@pytest.mark.parametrize("covariance", COVARIANCE_TYPES)
def test_student_t_predictive_densities(covariance):
    """predictive=True: small classes, so the t tails matter; points out in them too."""
    X, codes = _data(3, n=30, d=4, offset=50.0, seed=12)
    clf = GaussianClassifier(covariance, predictive=True).fit(X, _labels(codes, "str"))
    Z = np.vstack([X, 50.0 + 3.0 * (X[:10] - 50.0), X[:3] + 40.0])
    for dtype in ("float64", "float32"):
        _assert_parity(clf, Z, dtype)
    # t densities fall polynomially: far out (1e200), the weighted far-point rule of gaussmle
    far = np.array([[1e200, 0.0, 0.0, 0.0], [0.0, -1e200, 1e200, 0.0]])
    out = _run(to_onnx(clf), far)
    np.testing.assert_array_equal(out["probabilities"], clf.predict_proba(far))
    assert out["label"].tolist() == clf.predict(far).tolist()


def test_log1p_in_the_graph_keeps_tiny_arguments():
    """The Student t kernel needs log1p, which ONNX lacks; the graph's stays accurate."""
    from onnx import helper, numpy_helper

    from gaussmle.onnx_export._graph import _log1p_nodes

    x = np.array([0.0, 1e-30, 1e-17, 3e-9, 1e-4, 0.5, 1.0, 7.0, 1e10, 1e300])
    for dtype in (np.float64, np.float32):
        elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        graph = helper.make_graph(
            _log1p_nodes("x", "y"),
            "log1p",
            [helper.make_tensor_value_info("x", elem, [None])],
            [helper.make_tensor_value_info("y", elem, [None])],
            [
                numpy_helper.from_array(np.array(1.0, dtype), "one"),
                numpy_helper.from_array(np.array(0.0, dtype), "zero"),
            ],
        )
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        proto.ir_version = IR_VERSION
        values = x[x < np.finfo(dtype).max].astype(dtype)
        (y,) = _session(proto).run(None, {"x": values})
        want = np.log1p(values.astype(np.float64))
        ok = np.isfinite(want)
        rel = np.abs(y[ok] - want[ok]) / np.maximum(np.abs(want[ok]), np.finfo(dtype).tiny)
        assert rel.max() < 8 * np.finfo(dtype).eps, (dtype, rel)


def test_one_class_one_feature_and_an_empty_batch():
    X = np.random.default_rng(1).normal(size=(20, 1))
    for covariance in COVARIANCE_TYPES:
        clf = GaussianClassifier(covariance).fit(X, np.full(20, "only"))
        out = _run(to_onnx(clf), X)
        assert out["label"].tolist() == ["only"] * 20
        assert np.all(out["probabilities"] == 1.0)
        np.testing.assert_allclose(
            out["log_likelihood"], clf.predict_joint_log_proba(X), rtol=1e-13
        )
        empty = _run(to_onnx(clf, dtype="float32"), np.empty((0, 1), np.float32))
        assert [a.shape for a in empty.values()] == [(0,), (0, 1), (0, 1)]


def test_variance_smoothing_is_part_of_the_graph():
    """A feature constant within each class: its variance is epsilon_ alone."""
    X, codes = _data(2, seed=6)
    X[:, 0] = 3.0 * codes
    for covariance in COVARIANCE_TYPES:
        clf = GaussianClassifier(covariance, var_smoothing=1e-3).fit(X, codes)
        assert clf.epsilon_ > 0
        X_new = X + 0.01
        _assert_parity(clf, X_new, "float64")


def test_float_and_bool_labels():
    X, codes = _data(2, seed=8)
    for labels in (codes * 2.0 + 1.0, codes.astype(bool)):
        clf = GaussianClassifier().fit(X, labels)
        out = _run(to_onnx(clf), X)
        assert out["label"].dtype == labels.dtype
        assert out["label"].tolist() == clf.predict(X).tolist()
        meta = {p.key: p.value for p in to_onnx(clf).metadata_props}
        assert json.loads(meta["classes"]) == np.unique(labels).tolist()


def test_model_is_valid_and_carries_metadata(tmp_path):
    pd = pytest.importorskip("pandas")
    X, codes = _data(3, d=3, seed=1)
    frame = pd.DataFrame(X, columns=["length", "width", "depth"])
    clf = GaussianClassifier("full").fit(frame, _labels(codes, "str"))
    path = tmp_path / "model.onnx"
    proto = to_onnx(clf, dtype="float32", path=path)
    assert path.read_bytes() == proto.SerializeToString()
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no temporary file left
    again = onnx.load(str(path))
    onnx.checker.check_model(again, full_check=True)
    meta = {p.key: p.value for p in again.metadata_props}
    assert meta["feature_names"] == '["length", "width", "depth"]'
    assert meta["classes"] == '["setosa", "versicolor", "virginica"]'
    assert meta["covariance_type"] == "full" and meta["dtype"] == "float32"
    assert again.ir_version == IR_VERSION
    assert [i.name for i in again.graph.input] == ["X"]
    ops = {n.op_type for n in again.graph.node}
    assert "ZipMap" not in ops and not any(n.domain for n in again.graph.node)


def test_refusals_name_the_option_and_what_to_do():
    X, codes = _data(2, seed=3)
    cases = [
        (GaussianClassifier(predictive=True, missing="marginalize").fit(X, codes), {}, "both"),
        (GaussianClassifier("full", missing="marginalize").fit(X, codes), {}, "'marginalize'"),
        (GaussianClassifier("tied", missing="marginalize").fit(X, codes), {}, "set_params("),
        (GaussianClassifier().fit(X, codes), {"dtype": "float16"}, "dtype must be"),
        (GaussianClassifier().fit(X, codes), {"dtype": "bogus"}, "dtype must be"),
        (GaussianClassifier("full"), {}, "not fitted"),
        ("a string", {}, "not str"),
    ]
    for model, kwargs, fragment in cases:
        with pytest.raises(ValueError, match=re.escape(fragment)):
            to_onnx(model, **kwargs)


def test_write_failure_is_one_sentence_and_leaves_nothing(tmp_path):
    X, codes = _data(2, seed=3)
    clf = GaussianClassifier().fit(X, codes)
    with pytest.raises(ValueError, match="cannot write the ONNX model"):
        to_onnx(clf, path=tmp_path / "missing-folder" / "m.onnx")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- the serving guide
def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_serving_guide_snippet_runs(tmp_path, monkeypatch):
    blocks = _python_blocks((ROOT / "docs" / "serving.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, "docs/serving.md", "exec"), namespace)  # noqa: S102
    assert (tmp_path / "model.onnx").exists()
    assert "probabilities" in namespace


# ---------------------------------------------------------------------- mixtures
def _mixture(covariance: str, offset: float = 0.0, k: int = 3, seed: int = 0):
    from gaussmle import GaussianMixture

    X, _ = _data(k, n=180, d=4, offset=offset, seed=seed)
    gm = GaussianMixture(k, covariance_type=covariance, random_state=seed, max_iter=20)
    with warnings.catch_warnings():  # a fit stopped early is still a fitted model
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gm.fit(X), X


def _assert_mixture_parity(gm: Any, X: np.ndarray, dtype: str) -> None:
    Xt = X.astype(dtype)
    X64 = Xt.astype(np.float64)
    proto = to_onnx(gm, dtype=dtype)
    out = _run(proto, Xt)
    resp, logp = gm.predict_proba(X64), gm.score_samples(X64)
    assert out["probabilities"].dtype == np.dtype(dtype) == out["log_likelihood"].dtype
    assert out["probabilities"].shape == resp.shape and out["log_likelihood"].shape == logp.shape
    assert out["label"].dtype == np.int64
    p_tol, j_tol = TOLERANCE[dtype]
    dp = float(np.abs(out["probabilities"] - resp).max())
    dl = float((np.abs(out["log_likelihood"] - logp) / np.maximum(1.0, np.abs(logp))).max())
    assert dp <= p_tol, (dp, p_tol)
    assert dl <= j_tol, (dl, j_tol)
    # labels: the mixture's own, except where two components are tied within the tolerance
    clear = np.sort(resp, axis=1)[:, -1] - np.sort(resp, axis=1)[:, -2] > 2 * p_tol
    assert clear.mean() > 0.9
    assert out["label"][clear].tolist() == gm.predict(X64)[clear].tolist()
    if dtype == "float64":
        assert out["label"].tolist() == gm.predict(X64).tolist()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("covariance", COVARIANCE_TYPES)
def test_mixture_graph_matches_gaussmle(covariance, dtype):
    gm, X = _mixture(covariance)
    _assert_mixture_parity(gm, X, dtype)


@pytest.mark.parametrize("covariance", COVARIANCE_TYPES)
def test_mixture_float32_keeps_its_accuracy_at_an_offset_of_1e4(covariance):
    gm, X = _mixture(covariance, offset=1e4, seed=1)
    _assert_mixture_parity(gm, X, "float32")


def test_mixture_log_likelihood_is_the_log_sum_exp_of_the_joint():
    """The graph's per-row log p(x) is the log-sum-exp of the classifier-style joint."""
    from scipy.special import logsumexp

    gm, X = _mixture("full", k=2)
    params = gaussmle_mixture_parameters(gm)
    classifier_style = onnx.helper.make_model(
        build_graph(params, "float64"), opset_imports=[onnx.helper.make_opsetid("", OPSET)]
    )
    classifier_style.ir_version = IR_VERSION
    joint = _run(classifier_style, X)["log_likelihood"]
    per_row = _run(to_onnx(gm), X)["log_likelihood"]
    assert joint.shape == (X.shape[0], 2) and per_row.shape == (X.shape[0],)
    np.testing.assert_allclose(per_row, logsumexp(joint, axis=1), rtol=1e-13)
    np.testing.assert_allclose(joint - per_row[:, None], np.log(gm.predict_proba(X)), atol=1e-10)


def test_mixture_zero_weight_component_never_wins_and_far_rows_give_no_nan():
    from gaussmle import GaussianMixture

    X, _ = _data(2, n=120, d=3, seed=5)
    gm = GaussianMixture(
        3,
        covariance_type="diag",
        weights_init=[0.5, 0.5, 0.0],
        max_iter=0,
        random_state=0,
        means_init=[X[:60].mean(0), X[60:].mean(0), X[0]],
        precisions_init=np.ones((3, 3)),
    ).fit(X)
    assert gm.weights_[2] == 0.0
    far = np.vstack([X[:5], np.full((1, 3), 1e200)])
    out = _run(to_onnx(gm), far)
    assert not np.isnan(out["probabilities"]).any()
    assert (out["probabilities"][:, 2] == 0.0).all() and 2 not in out["label"].tolist()
    assert out["log_likelihood"][-1] == -np.inf
    np.testing.assert_allclose(out["log_likelihood"][:5], gm.score_samples(X[:5]), rtol=1e-12)


@pytest.mark.parametrize("covariance", ["diag", "spherical"])
def test_marginalising_mixture_integrates_missing_features_out(covariance):
    """A mixture fitted with missing="marginalize": NaN features drop out in the graph as in
    gaussmle (was: NaN outputs); a row with nothing observed gets the mixture weights."""
    from gaussmle import GaussianMixture

    X, _ = _data(3, n=180, d=4, seed=13)
    gappy = np.where(np.random.default_rng(13).random(X.shape) < 0.2, np.nan, X)
    gappy[np.isnan(gappy).all(axis=1), 0] = 0.0
    gm = GaussianMixture(3, covariance_type=covariance, missing="marginalize", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(gappy)
    Z = gappy[:60].copy()
    Z[1, :-1] = np.nan
    assert 20 < np.isnan(Z).any(axis=1).sum() < 60  # complete rows too
    for dtype in ("float64", "float32"):
        _assert_mixture_parity(gm, Z, dtype)
    Z[0] = np.nan  # nothing observed: the weights alone (gaussmle refuses such a row)
    out = _run(to_onnx(gm), Z)
    np.testing.assert_allclose(out["probabilities"][0], gm.weights_, rtol=1e-12)
    assert np.isfinite(out["log_likelihood"]).all() and np.isfinite(out["probabilities"]).all()


@pytest.mark.parametrize("covariance", ["full", "tied"])
def test_marginalising_full_mixture_is_refused_with_what_to_do(covariance):
    from gaussmle import GaussianMixture

    X, _ = _data(2, n=80, d=3, seed=14)
    gappy = np.where(np.random.default_rng(14).random(X.shape) < 0.1, np.nan, X)
    gappy[np.isnan(gappy).all(axis=1), 0] = 0.0
    gm = GaussianMixture(2, covariance_type=covariance, missing="marginalize", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(gappy)
    message = (
        f"to_onnx cannot export a '{covariance}' model with missing='marginalize': the "
        "marginal of each missing-value pattern needs its own Cholesky factor"
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        to_onnx(gm)
    np.testing.assert_array_equal(  # what the message says to do: the same on complete rows
        _run(to_onnx(clone_params(gm, missing="error")), X)["label"], gm.predict(X)
    )


def clone_params(model, **params):
    """A copy of a fitted model with other parameters (what set_params on a copy does)."""
    import copy

    return copy.deepcopy(model).set_params(**params)


def test_mixture_metadata_lists_components_and_features(tmp_path):
    gm, _ = _mixture("tied")
    proto = to_onnx(gm, dtype="float32", path=tmp_path / "mixture.onnx")
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["classes"]) == [0, 1, 2]
    assert json.loads(meta["feature_names"]) == ["x0", "x1", "x2", "x3"]
    assert "GaussianMixture" in proto.doc_string
    assert [
        d.dim_param or d.dim_value for d in proto.graph.output[2].type.tensor_type.shape.dim
    ] == ["n"]


def test_mixture_refusals():
    from gaussmle import GaussianMixture

    with pytest.raises(ValueError, match="dtype must be"):
        to_onnx(_mixture("diag")[0], dtype="float16")
    with pytest.raises(ValueError, match="not fitted"):
        to_onnx(GaussianMixture(2))
    with pytest.raises(ValueError, match="GaussianClassifier or GaussianMixture, not str"):
        to_onnx("a string")
