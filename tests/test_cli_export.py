"""``gaussmle export``: a saved model as an ONNX file that onnxruntime runs like gaussmle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from cli_support import assert_bad_input, run  # noqa: E402

from gaussmle import GaussianClassifier  # noqa: E402
from gaussmle.cli._app import unnamed  # noqa: E402
from gaussmle.datasets import make_skittles  # noqa: E402
from gaussmle.io import write_table  # noqa: E402
from gaussmle.persist import load, save  # noqa: E402

SCRIPT = Path(sys.executable).with_name("gaussmle")


@pytest.fixture(scope="module")
def skittles(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    ds = make_skittles(random_state=4)
    data = root / "skittles.csv"
    write_table(data, ds.to_columns())
    return {"root": root, "ds": ds, "data": data}


def _fit(skittles, covariance: str) -> Path:
    model = skittles["root"] / f"{covariance}.json"
    if not model.exists():
        run("fit", skittles["data"], "--target", "colour", "--covariance", covariance, "-o", model)
    return model


@pytest.mark.parametrize("covariance", ["diag", "spherical", "full", "tied"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_exported_file_runs_like_the_saved_model(skittles, tmp_path, covariance, dtype):
    model_path = _fit(skittles, covariance)
    out = tmp_path / "model.onnx"
    result = run("export", model_path, "--format", "onnx", "-o", out, "--dtype", dtype)
    assert f"to {out}: ONNX, {dtype}, {out.stat().st_size:,} bytes" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    model = unnamed(load(model_path))  # plain arrays in, as the graph takes them
    X = np.vstack([skittles["ds"].X, skittles["ds"].X_new])
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].name == "X"
    label, proba, joint = session.run(None, {"X": X.astype(dtype)})
    X_seen = X.astype(dtype).astype(np.float64)
    assert label.tolist() == model.predict(X_seen).tolist()
    tol = 1e-10 if dtype == "float64" else 1e-5
    assert np.abs(proba - model.predict_proba(X_seen)).max() <= tol
    expected = model.predict_joint_log_proba(X_seen)
    assert np.abs(joint - expected).max() <= tol * np.abs(expected).max()
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["feature_names"]) == ["aromatic lift", "elegance"]
    assert json.loads(meta["classes"]) == ["purple", "yellow"]


def test_a_saved_student_t_model_exports_exactly(skittles, tmp_path):
    model_path = tmp_path / "t.json"
    run("fit", skittles["data"], "--target", "colour", "--predictive", "-o", model_path)
    out = tmp_path / "t.onnx"
    run("export", model_path, "-o", out)
    model = unnamed(load(model_path))
    assert model.predictive
    X = skittles["ds"].X_new
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    label, proba, joint = session.run(None, {"X": X})
    assert label.tolist() == model.predict(X).tolist()
    assert np.abs(proba - model.predict_proba(X)).max() <= 1e-10
    assert np.abs(joint - model.predict_joint_log_proba(X)).max() <= 1e-10


def test_default_format_and_dtype_and_replacing_a_file(skittles, tmp_path):
    out = tmp_path / "model.onnx"
    out.write_bytes(b"an older file")
    run("export", _fit(skittles, "diag"), "-o", out)
    proto = onnx.load(str(out))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_help_has_examples():
    text = run("export", "--help").output
    assert "Examples:" in text and "--dtype [float32|float64]" in text
    assert "  export " in run("--help").output


def test_refused_models_are_one_line_errors_and_leave_the_output_alone(skittles, tmp_path):
    ds = skittles["ds"]
    out = tmp_path / "model.onnx"
    out.write_bytes(b"keep me")
    cases = [
        (GaussianClassifier(predictive=True, missing="marginalize"), "predictive=True"),
        (GaussianClassifier("full", missing="marginalize"), "missing='marginalize'"),
    ]
    for clf, fragment in cases:
        path = tmp_path / "refused.json"
        save(clf.fit(ds.X, ds.y), path)
        assert_bad_input(run("export", path, "-o", out, ok=False), fragment)
        assert out.read_bytes() == b"keep me"


def test_bad_arguments_are_one_line_errors(skittles, tmp_path):
    model = _fit(skittles, "diag")
    assert_bad_input(run("export", model, "-o", "-", ok=False), "binary", "-o MODEL.onnx")
    assert_bad_input(
        run("export", tmp_path / "none.json", "-o", tmp_path / "m.onnx", ok=False), "none.json"
    )
    assert_bad_input(
        run("export", model, "-o", tmp_path / "no" / "m.onnx", ok=False), "does not exist"
    )
    assert_bad_input(run("export", model, "--format", "pmml", "-o", "m.onnx", ok=False), "pmml")
    assert_bad_input(run("export", model, "--dtype", "float16", "-o", "m.onnx", ok=False), "16")
    assert list(tmp_path.iterdir()) == []


def test_without_the_onnx_package_says_what_to_install(skittles, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    result = run("export", _fit(skittles, "diag"), "-o", tmp_path / "m.onnx", ok=False)
    assert_bad_input(result, "pip install 'gaussmle[onnx]'")
    assert list(tmp_path.iterdir()) == []


def test_console_script_exit_code_and_one_line(tmp_path):
    if not SCRIPT.exists():
        pytest.skip("the gaussmle console script is not installed next to this python")
    bad = subprocess.run(
        [SCRIPT, "export", tmp_path / "none.json", "-o", tmp_path / "x.onnx"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ") and len(bad.stderr.splitlines()) == 1
    assert "none.json" in bad.stderr and "Traceback" not in bad.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("covariance", ["full", "spherical"])
def test_a_mixture_file_exports_and_runs_like_the_saved_mixture(skittles, tmp_path, covariance):
    model_path = tmp_path / "mixture.json"
    run(
        "cluster", skittles["data"], "-k", 2, "--features", "aromatic lift,elegance",
        "--covariance", covariance, "-o", model_path,
    )  # fmt: skip
    out = tmp_path / "mixture.onnx"
    result = run("export", model_path, "--format", "onnx", "-o", out)
    assert f"{covariance} model (2 components, 2 features) to {out}: ONNX" in result.output
    model = unnamed(load(model_path))
    X = np.vstack([skittles["ds"].X, skittles["ds"].X_new])
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    label, resp, logp = session.run(None, {"X": X})
    assert label.tolist() == model.predict(X).tolist()
    assert np.abs(resp - model.predict_proba(X)).max() <= 1e-10
    expected = model.score_samples(X)
    assert logp.shape == expected.shape
    assert np.abs(logp - expected).max() <= 1e-10 * np.abs(expected).max()
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["feature_names"]) == ["aromatic lift", "elegance"]
    assert json.loads(meta["classes"]) == [0, 1]


def test_a_single_gaussian_file_is_refused(skittles, tmp_path):
    model_path = tmp_path / "one.json"
    run("estimate", skittles["data"], "--features", "aromatic lift,elegance", "-o", model_path)
    out = tmp_path / "one.onnx"
    assert_bad_input(run("export", model_path, "-o", out, ok=False), "single Gaussian")
    assert not out.exists()
