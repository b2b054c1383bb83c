"""docs/scaling.md, the Dask sections (5 and 6): every Python block and command runs as
written, in a temporary folder, and prints what the guide shows (issue 13 item 6)."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from test_tutorial import blocks, console_steps, matches

from gaussmle.cli import cli

pytest.importorskip("dask.array")
pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "scaling.md"
#: The address in section 6's commands; a test has no cluster there, so it runs them on
#: the synchronous scheduler (the same code path on the client; only the address differs).
REMOTE = "tcp://10.0.0.5:8786"


def section(title: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(title)
    return text[start : text.index("\n## ", start + 1)]


def write_parts(folder: Path, n_files: int, seed: int, label: bool) -> np.ndarray:
    """Parquet files folder/part-{i}.parquet of two classes at an offset (with a label)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_files):
        y = rng.integers(0, 2, 40 + 7 * i)
        X = 1e3 + rng.normal(0.0, 1.0, (y.size, 3)) + 3.0 * y[:, None]
        columns = {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}
        if label:
            columns["label"] = np.where(y == 1, "yes", "no")
        pq.write_table(pa.table(columns), folder / f"part-{i}.parquet")
        rows.append(X)
    return np.vstack(rows)


def invoke(command: str) -> str:
    words = shlex.split(command)
    assert words[0] == "gaussmle", command
    result = CliRunner().invoke(cli, words[1:])
    assert result.exit_code == 0, f"$ {command}\n{result.output}"
    return result.output


def test_section_5_python_block_runs_and_prints_what_it_shows(monkeypatch, tmp_path):
    """The block starts a two-process LocalCluster (as a script would: __name__ is
    "__main__") and prints the accuracy the guide shows."""
    monkeypatch.chdir(tmp_path)
    found = blocks(section("## 5. Dask arrays and DataFrames"))
    python = [i for i, (lang, _) in enumerate(found) if lang == "python"]
    assert len(python) == 1
    index = python[0]
    assert found[index + 1][0] == "text", "the python block shows its output"
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        exec(
            compile(found[index][1], f"{GUIDE.name}[dask block]", "exec"), {"__name__": "__main__"}
        )
    assert matches(found[index + 1][1].splitlines(), captured.getvalue().splitlines()), (
        captured.getvalue()
    )


def test_section_5_mixture_commands_run_and_match_the_in_memory_ones(monkeypatch, tmp_path):
    """The commands named in section 5's text (cluster, predict, evaluate with --scheduler
    local) run, and predict and evaluate print what they print without --scheduler."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAUSSMLE_DEBUG", "")
    write_parts(tmp_path / "data", 3, seed=1, label=False)
    commands = re.findall(r"`(gaussmle [^`]*--scheduler local)`", section("## 5. Dask"))
    assert [shlex.split(c)[1] for c in commands] == ["cluster", "predict", "evaluate"]
    for command in commands:
        output = invoke(command)
        if shlex.split(command)[1] == "cluster":
            assert Path("mix.json").exists()
            continue
        in_memory = invoke(command.replace(" --scheduler local", ""))
        if shlex.split(command)[1] == "predict":
            assert output == in_memory
        else:  # the same table of figures
            assert output.splitlines()[1:] == in_memory.splitlines()[1:], (output, in_memory)


def test_section_6_commands_run(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAUSSMLE_DEBUG", "")
    write_parts(tmp_path / "data", 3, seed=2, label=True)
    write_parts(tmp_path / "test", 2, seed=3, label=True)
    new = write_parts(tmp_path / "new", 2, seed=4, label=False)
    found = blocks(section("## 6. The command line on a cluster"))
    steps = [step for lang, body in found if lang == "console" for step in console_steps(body)]
    assert [shlex.split(c)[1] for c, _ in steps] == ["fit", "evaluate", "predict"]
    outputs = {}
    for command, expected in steps:
        assert not expected  # the guide shows no output for these
        outputs[shlex.split(command)[1]] = invoke(command.replace(REMOTE, "synchronous"))
    assert Path("model.json").exists()
    assert "accuracy" in outputs["evaluate"].lower()
    lines = Path("predictions.csv").read_text().splitlines()
    assert lines[0] == "predicted" and len(lines) == 1 + len(new)
