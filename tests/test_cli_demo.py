"""``gaussmle demo``."""

from __future__ import annotations

import json

import pytest
from cli_support import assert_bad_input, run


def test_demo_tells_the_story_and_writes_pictures(tmp_path):
    out = tmp_path / "demo"
    text = run("demo", "--out", out).stdout
    for step in (
        "1. The data",
        "2. One Gaussian per colour",
        "3. Checking the derivation",
        "4. The mystery skittles",
        "5. Without the labels: EM on the skittles",
        "6. Files written",
    ):
        assert step in text
    for name in ("labelled.png", "mystery.png", "densities.png", "decision.png", "loglik.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    model = out / "model.json"
    predictions = run("predict", model, out / "mystery.csv", "--id", "id").stdout
    assert predictions.count("\n") == 51


def test_demo_json_and_real_data(tmp_path):
    payload = json.loads(run("demo", "--out", tmp_path / "a", "--no-plots", "--json").stdout)
    for check in payload["derivation"]["per_class"]:
        assert check["score_mean_max"] < 1e-9 and check["score_covariance_max"] < 1e-9
        assert check["loglik_mean_plus_se"] == pytest.approx(check["loglik"] - 1.0)
        assert check["loglik_variance_times_1_1"] < check["loglik"]
    assert payload["derivation"]["optimiser_distance_in_se"]["mean_in_se"] < 1e-4
    assert len(payload["predictions"]) == 50
    text = run(
        "demo", "--dataset", "iris", "--covariance", "full", "--out", tmp_path / "b", "--no-plots"
    ).stdout
    assert "accuracy" in text and "held-out flowers" in text
    assert_bad_input(
        run("demo", "--features", "elegance", "--out", tmp_path / "c", ok=False), "--features"
    )
