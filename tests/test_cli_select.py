"""``gaussmle merge``, ``gaussmle select`` and ``gaussmle plot``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import FEATURES, assert_bad_input, run

from gaussmle.io import write_table
from gaussmle.persist import load


def test_merge_equals_fit_on_all_rows(files, tmp_path):
    ds = files["ds"]
    halves = []
    for k, rows in enumerate((slice(0, 90), slice(90, None))):
        path = tmp_path / f"half-{k}.csv"
        write_table(
            path, {**{n: ds.X[rows, j] for j, n in enumerate(FEATURES)}, "colour": ds.y[rows]}
        )
        model_path = tmp_path / f"half-{k}.json"
        run("fit", path, "--target", "colour", "-o", model_path)
        halves.append(model_path)
    result = run("merge", *halves, "-o", tmp_path / "merged.json")
    assert "Merged 2 models" in result.stdout
    merged = load(tmp_path / "merged.json")
    np.testing.assert_allclose(merged.means_, load(files["model"]).means_, rtol=1e-12)
    np.testing.assert_allclose(merged.covariances_, load(files["model"]).covariances_, rtol=1e-12)
    assert_bad_input(run("merge", halves[0], "-o", tmp_path / "x.json", ok=False), "at least two")


def test_select_table_and_json(files):
    text = run(
        "select",
        files["data"],
        "--target",
        "colour",
        "--covariance-types",
        "diag,spherical",
        "--cv",
        "3",
    ).stdout
    assert "recommended:" in text and "3-fold" in text
    payload = json.loads(run("select", files["data"], "--target", "colour", "--json").stdout)
    assert payload["recommended"] in ("diag", "full", "tied", "spherical")
    assert len(payload["rows"]) == 4


@pytest.mark.parametrize("kind", ["densities", "decision", "qq"])
def test_plot_writes_png(files, tmp_path, kind):
    out = tmp_path / f"{kind}.png"
    run("plot", files["model"], files["data"], "--target", "colour", "--kind", kind, "-o", out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
