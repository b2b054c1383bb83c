"""CSV column types: one decision per column for the whole input, whatever the batch size.

Labels are text unless every label of the whole input is a number; features are
numbers in one documented syntax or a clear error; only an empty target cell is
missing unless ``--na-values`` says otherwise (issue 17, items 1 and 2).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import run

from gaussmle.io import DataError, read_xy


def one_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def write(path, header: str, rows: list[str]) -> str:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return str(path)


def fit_model(path: str, batch_rows: int, tmp_path, *extra: str) -> dict:
    out = tmp_path / f"m{batch_rows}.json"
    run(
        "fit",
        path,
        "--target",
        "label",
        "-o",
        out,
        "--batch-rows",
        batch_rows,
        "--no-progress",
        *extra,
    )
    return json.loads(out.read_text())


def labelled_rows(labels: list[str]) -> list[str]:
    rng = np.random.default_rng(0)
    return [f"{rng.normal() + i % 3:.6f},{lab}" for i, lab in enumerate(labels)]


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        (["true", "false"] * 60 + ["maybe"] * 3, ["false", "maybe", "true"]),
        (["1", "2"] * 60 + ["2.5"] * 3, [1.0, 2.0, 2.5]),
        (["1", "2"] * 60 + ["x"] * 3, ["1", "2", "x"]),
        (["1", "2"] * 60, [1, 2]),
    ],
)
def test_label_type_is_one_decision_whatever_the_batch_size(tmp_path, labels, classes):
    path = write(tmp_path / "late.csv", "x,label", labelled_rows(labels))
    models = [fit_model(path, rows, tmp_path) for rows in (7, 50, 100_000)]
    for model in models:
        assert model["classes"] == classes
        assert _same_model(model, models[-1])


def _same_model(a: dict, b: dict) -> bool:
    if a["classes"] != b["classes"]:
        return False
    for ca, cb in zip(a["statistics"]["per_class"], b["statistics"]["per_class"], strict=True):
        if ca["count"] != cb["count"]:
            return False
        if not np.allclose(ca["mean"], cb["mean"], rtol=1e-12, atol=0):
            return False
        if not np.allclose(ca["m2"], cb["m2"], rtol=1e-9, atol=0):
            return False
    return True


def test_read_xy_labels_decided_over_the_whole_input(tmp_path):
    path = write(tmp_path / "t.csv", "x,label", labelled_rows(["3", "4", "4", "7"]))
    assert read_xy(path, target="label", batch_rows=2).y.tolist() == [3, 4, 4, 7]
    path = write(tmp_path / "u.csv", "x,label", labelled_rows(["3", "4", "4", "b"]))
    assert read_xy(path, target="label", batch_rows=2).y.tolist() == ["3", "4", "4", "b"]


def test_feature_column_turning_to_text_late_is_a_clear_error(tmp_path):
    rows = labelled_rows(["a", "b"] * 40)
    rows[70] = "oops,a"
    path = write(tmp_path / "late.csv", "x,label", rows)
    for batch_rows in (10, 100_000):
        line = one_error(
            run(
                "fit",
                path,
                "--target",
                "label",
                "-o",
                tmp_path / "m.json",
                "--batch-rows",
                batch_rows,
                "--no-progress",
                ok=False,
            )
        )
        assert "'x'" in line and "'oops'" in line and "row 71" in line, line


@pytest.mark.parametrize("label", ["NA", "null", "NaN", "N/A"])
def test_na_and_null_labels_are_classes(tmp_path, label):
    path = write(tmp_path / "na.csv", "x,label", labelled_rows(["west", label] * 10))
    assert fit_model(path, 7, tmp_path)["classes"] == sorted(["west", label])


def test_na_values_option_marks_target_values_missing(tmp_path):
    path = write(tmp_path / "na.csv", "x,label", labelled_rows(["a", "b", "NA"] * 10))
    line = one_error(
        run(
            "fit",
            path,
            "--target",
            "label",
            "-o",
            tmp_path / "m.json",
            "--na-values",
            "NA",
            ok=False,
        )
    )
    assert "missing value at row 3" in line, line
    model = fit_model(path, 7, tmp_path, "--na-values", "NA", "--drop-missing")
    assert model["classes"] == ["a", "b"]


def test_empty_label_cell_is_missing(tmp_path):
    path = write(tmp_path / "e.csv", "x,label", ["1,a", "2,", "3,b"])
    with pytest.raises(DataError, match="target column 'label' has a missing value at row 2"):
        read_xy(path, target="label")


@pytest.mark.parametrize("value", ["0x10", "1_000", "1,000", "1 000", "$5"])
def test_feature_number_syntax_is_one_documented_rule(tmp_path, value):
    path = write(tmp_path / "f.csv", "x,label", ["1,a", f'"{value}",b', "3,a"])
    with pytest.raises(DataError, match=r"column 'x' .* is not numeric .*row 2"):
        read_xy(path, target="label")


@pytest.mark.parametrize(
    ("value", "number"), [("1e3", 1000.0), ("-2.5", -2.5), (".5", 0.5), ("+7", 7.0)]
)
def test_feature_number_syntax_accepts_decimal_numbers(tmp_path, value, number):
    path = write(tmp_path / "f.csv", "x,label", ["1,a", f"{value},b"])
    assert read_xy(path, target="label").X[:, 0].tolist() == [1.0, number]


def test_evaluate_reads_na_labels_as_labels_unless_told(tmp_path):
    path = write(tmp_path / "na.csv", "x,label", labelled_rows(["a", "NA"] * 10))
    model = tmp_path / "m.json"
    run("fit", path, "--target", "label", "-o", model)
    report = json.loads(run("evaluate", model, path, "--target", "label", "--json").output)
    assert report["rows"] == 20 and report["classes"] == ["NA", "a"]
    line = one_error(
        run("evaluate", model, path, "--target", "label", "--na-values", "NA", ok=False)
    )
    assert "missing value at row 2" in line, line


def test_evaluate_with_an_unseen_text_label_among_numbers(tmp_path):
    train = write(tmp_path / "t.csv", "x,label", labelled_rows(["1", "2"] * 10))
    model = tmp_path / "m.json"
    run("fit", train, "--target", "label", "-o", model)
    test = write(tmp_path / "u.csv", "x,label", labelled_rows(["1", "2"] * 10 + ["maybe"]))
    report = json.loads(run("evaluate", model, test, "--target", "label", "--json").output)
    assert report["unseen_labels"] == ["maybe"]
    per_class = {row["class"]: row["rows"] for row in report["per_class"]}
    assert per_class == {1: 10, 2: 10, "maybe": 1}


def test_boolean_feature_then_a_number_names_both_kinds(tmp_path):
    # more than one piece of text (64 KiB at least), so that the types are fixed first
    rows = [f"{'true' if i % 2 else 'false'},a" for i in range(20_000)] + ["2.5,b"]
    path = write(tmp_path / "b.csv", "flag,label", rows)
    with pytest.raises(DataError, match=r"holds true/false values, then '2.5' at row 20001"):
        read_xy(path, target="label", batch_rows=1000)
