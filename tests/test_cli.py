"""The ``gaussmle`` command line in general: help, one-line errors with exit code 2,
progress, and the guide run as written.

Most tests run the commands in-process with click's CliRunner; a handful run
the real console script as a subprocess to check the exit code, the
one-line message on standard error and the absence of a traceback. The shared
helpers are in ``cli_support.py``, the shared data in ``conftest.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import SCRIPT, assert_bad_input, run

import gaussmle
from gaussmle.cli._app import Progress, error_message
from gaussmle.io import write_table


def test_version_and_help_list_every_command():
    assert run("--version").output.strip() == f"gaussmle, version {gaussmle.__version__}"
    text = run("--help").output
    for name in (
        "demo",
        "fit",
        "predict",
        "evaluate",
        "describe",
        "estimate",
        "merge",
        "select",
        "plot",
    ):
        assert f"  {name} " in text
        assert "Examples:" in run(name, "--help").output


def test_bad_input_is_one_line_with_exit_code_2(files, tmp_path):
    data, model, mystery = files["data"], files["model"], files["mystery"]
    out = tmp_path / "m.json"
    gaps = tmp_path / "gaps.csv"
    gaps.write_text("aromatic lift,elegance,colour\n1,2,purple\n,3,yellow\n")
    one = tmp_path / "one.csv"
    one.write_text("a,label\n1,x\n2,x\n3,x\n")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"format": "gaussmle-model", "classes": [')
    other = tmp_path / "other.csv"
    write_table(other, {"a": [1.0], "b": [2.0]})
    cases = [
        (
            ["fit", tmp_path / "missing.csv", "--target", "colour", "-o", out],
            ["missing.csv", "not found"],
        ),
        (
            ["fit", data, "--target", "color", "-o", out],
            ["'color' not found", "aromatic lift, elegance, colour"],
        ),
        (
            ["fit", data, "--target", "colour", "--features", "elegance,bogus", "-o", out],
            ["'bogus' not found", "available columns"],
        ),
        (
            ["fit", data, "--target", "elegance", "--features", "colour", "-o", out],
            ["'colour'", "not numeric"],
        ),
        (
            ["fit", gaps, "--target", "colour", "-o", out],
            ["missing value at row 2", "--drop-missing"],
        ),
        (["fit", one, "--target", "label", "-o", out], ["only one class", "'x'"]),
        (["predict", model, other], ["do not match", "aromatic lift", "a, b"]),
        (["predict", corrupt, mystery], ["corrupt.json"]),
        (
            ["predict", model, mystery, "-o", tmp_path / "no" / "such" / "p.csv"],
            ["cannot write", "does not exist"],
        ),
        (["fit", data, "--target", "colour", "-o", tmp_path / "no" / "m.json"], ["cannot write"]),
        (["predict", data, mystery], ["skittles.csv"]),
        (["fit", data, "-o", out], ["Missing option '--target'", "gaussmle fit --help"]),
        (["describe", model, "--data", data], ["--data and --target together"]),
    ]
    for args, fragments in cases:
        assert_bad_input(run(*args, ok=False), *fragments)


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed")
def test_console_script_errors_have_no_traceback(files, tmp_path):
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("not json at all")
    nan = tmp_path / "nan.csv"
    nan.write_text("aromatic lift,elegance,colour\n1,nan,purple\n2,3,yellow\n")
    cases = [
        ["fit", str(tmp_path / "nope.csv"), "--target", "colour", "-o", str(tmp_path / "m.json")],
        ["predict", str(corrupt), str(files["mystery"])],
        ["fit", str(nan), "--target", "colour", "-o", str(tmp_path / "m.json")],
        ["fit", str(files["data"]), "--target", "colour", "-o", str(tmp_path / "x" / "m.json")],
    ]
    env = {**os.environ, "GAUSSMLE_DEBUG": ""}
    for args in cases:
        proc = subprocess.run(
            [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
        assert "Traceback" not in proc.stderr


# A native library whose teardown aborts the process once Python is done: the C
# library's exit handlers run abort(), as a thread pool's destructor does when a
# worker is still alive ("terminate called without an active exception").
_ABORT_AT_NATIVE_TEARDOWN = """
import ctypes, sys
libc = ctypes.CDLL(None)
assert libc.__cxa_atexit(ctypes.cast(libc.abort, ctypes.c_void_p), None, None) == 0
from gaussmle import cli
sys.argv = ["gaussmle", *sys.argv[2:]]
getattr(cli, {entry!r})()
"""


def test_console_script_keeps_its_exit_code_when_native_teardown_aborts(tmp_path):
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="console_scripts")}
    assert scripts["gaussmle"] == "gaussmle.cli:console_main"
    missing = ["fit", str(tmp_path / "nope.csv"), "--target", "c", "-o", str(tmp_path / "m.json")]
    env = {**os.environ, "GAUSSMLE_DEBUG": ""}

    def exit_code(entry, args):
        code = _ABORT_AT_NATIVE_TEARDOWN.format(entry=entry)
        proc = subprocess.run(
            [sys.executable, "-c", code, "x", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        return proc.returncode, proc.stdout, proc.stderr

    # the plain entry point dies in the teardown (the failure this guards against) ...
    assert exit_code("main", ["--version"])[0] == -signal.SIGABRT
    # ... the console script ends with its own code, its output complete
    code, out, _ = exit_code("console_main", ["--version"])
    assert (code, out.strip()) == (0, f"gaussmle, version {gaussmle.__version__}")
    code, out, err = exit_code("console_main", missing)
    assert code == 2 and out == "" and err.startswith("error: file "), err


def test_internal_errors_exit_1_with_a_hint(files, monkeypatch):
    import gaussmle.cli._train as train

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(train, "stream_class_stats", broken)
    args = ["fit", str(files["data"]), "--target", "colour", "-o", str(files["root"] / "x.json")]
    result = run(*args, ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("internal error (RuntimeError: boom)")
    assert "GAUSSMLE_DEBUG=1" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setenv("GAUSSMLE_DEBUG", "1")
    assert "Traceback" in run(*args, ok=False).stderr


def test_error_messages_are_single_lines():
    assert error_message(ValueError("two\nlines")) == ("error: two lines", 2)
    assert error_message(PermissionError(13, "Permission denied", "/x"))[1] == 2
    assert error_message(KeyError("k"))[1] == 1


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    import gaussmle.cli._progress as app

    with Progress("fitting") as bar:
        bar.update(0.5, 10)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(app, "_isatty", lambda stream: True)
    with Progress("fitting") as bar:
        bar.update(0.5, 1234)
    err = capsys.readouterr().err
    assert "fitting [" in err and "50%" in err and "1,234 rows" in err
    with Progress("fitting", enabled=False) as bar:
        bar.update(0.5, 10)
    assert capsys.readouterr().err == ""


GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide-bayes-missing.md"


def test_guide_bayes_missing_runs_as_written(tmp_path, monkeypatch):
    """docs/guide-bayes-missing.md, run as tests/test_tutorial.py runs the tutorial."""
    from guide_support import run_guide

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAUSSMLE_DEBUG", "")
    n_commands, n_outputs = run_guide(GUIDE)
    assert n_commands >= 8 and n_outputs >= 5
