"""docs/tutorial.md cannot rot: its commands and Python snippets are run and their output checked.

The ```console blocks hold commands (``$ gaussmle ...``) followed by the
output they print; the ```python blocks are executed in one shared namespace,
and a ```text block right after a python block is the output it prints. All
run in order, in a temporary folder. In shown output a line ``...`` stands
for lines left out; timings such as ``(0.1 s)`` and numbers below 1e-10
(rounding noise) are not compared.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from gaussmle.cli import cli

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIAL = DOCS / "tutorial.md"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.M | re.S)
_TIMING = re.compile(r"\(\d+(?:\.\d+)? s\)")
_TINY = re.compile(r"-?\d+(?:\.\d+)?e-(?:1\d|[2-9]\d|\d{3})")


def blocks(text: str) -> list[tuple[str, str]]:
    """The fenced blocks of a markdown text as (language, body) pairs, in order."""
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(text)]


def console_steps(body: str) -> list[tuple[str, list[str]]]:
    """Split a console block into (command, expected output lines) steps."""
    steps: list[tuple[str, list[str]]] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            raise AssertionError(f"console block line is not a command: {line!r}")
        command = line[2:]
        while command.endswith("\\"):
            i += 1
            command = command[:-1] + " " + lines[i].strip()
        i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        steps.append((command, output))
    return steps


def normalise(line: str) -> str:
    """A line as compared: no trailing spaces, no timings, tiny numbers as ~0."""
    return _TINY.sub("~0", _TIMING.sub("(T s)", line.rstrip()))


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[0]:
        lines = lines[1:]
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether the actual lines show the expected ones, ``...`` standing for any lines.

    Examples
    --------
    >>> matches(["a", "...", "c"], ["a", "b", "b", "c"]), matches(["a", "c"], ["a", "b", "c"])
    (True, False)
    """
    want = _trim([normalise(x) for x in expected])
    have = _trim([normalise(x) for x in actual])
    if "..." not in want:
        return want == have
    segments: list[list[str]] = [[]]
    for line in want:
        if line == "...":
            segments.append([])
        else:
            segments[-1].append(line)
    anchored_start, anchored_end = want[0] != "...", want[-1] != "..."
    segments = [seg for seg in segments if seg]
    return _place(segments, have, 0, anchored_start, anchored_end)


def _place(
    segments: list[list[str]], have: list[str], position: int, at_start: bool, at_end: bool
) -> bool:
    """Place the segments in order from ``position`` (backtracking over the choices)."""
    if not segments:
        return not at_end or position == len(have)
    segment, rest = segments[0], segments[1:]
    starts = [position] if at_start else range(position, len(have) - len(segment) + 1)
    for start in starts:
        if have[start : start + len(segment)] != segment:
            continue
        end = start + len(segment)
        if not rest and at_end and end != len(have):
            continue
        if _place(rest, have, end, False, at_end):
            return True
    return False


def test_matches_handles_gaps_timings_and_rounding_noise():
    assert matches(["Read 3 rows (0.1 s)."], ["Read 3 rows (12.5 s)."])
    assert matches(["score 3.1e-14"], ["score 8.9e-15"])
    assert not matches(["score 3.1e-04"], ["score 8.9e-05"])
    assert matches(["head", "...", "tail"], ["head", "x", "y", "tail"])
    assert not matches(["head", "...", "tail"], ["head", "x", "tail", "more"])
    assert matches(["...", "middle", "..."], ["a", "middle", "b"])


def test_tutorial_images_exist():
    text = TUTORIAL.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images, "the tutorial shows no pictures"
    for image in images:
        path = DOCS / image
        assert path.is_file(), f"{image} is referenced by the tutorial but missing"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tutorial_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GAUSSMLE_DEBUG", "")
    found = blocks(TUTORIAL.read_text(encoding="utf-8"))
    assert any(lang == "console" for lang, _ in found)
    assert any(lang == "python" for lang, _ in found)
    namespace: dict[str, object] = {"__name__": "tutorial"}
    n_commands = 0
    for index, (lang, body) in enumerate(found):
        if lang == "console":
            for command, expected in console_steps(body):
                words = shlex.split(command)
                assert words[0] == "gaussmle", f"only gaussmle commands are run: {command}"
                result = CliRunner().invoke(cli, words[1:])
                wants_error = any(line.startswith("error: ") for line in expected)
                code = 2 if wants_error else 0
                assert result.exit_code == code, (
                    f"$ {command}\nexit code {result.exit_code}, expected {code}\n{result.output}"
                )
                actual = result.output.splitlines()
                assert matches(expected, actual), (
                    f"$ {command}\n--- the tutorial shows:\n"
                    + "\n".join(expected)
                    + "\n--- the command printed:\n"
                    + result.output
                )
                n_commands += 1
        elif lang == "python":
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                exec(compile(body, f"{TUTORIAL.name}[block {index}]", "exec"), namespace)
            following = found[index + 1] if index + 1 < len(found) else ("", "")
            if following[0] == "text":
                expected = following[1].splitlines()
                assert matches(expected, captured.getvalue().splitlines()), (
                    f"python block {index} printed:\n{captured.getvalue()}\n"
                    "--- the tutorial shows:\n" + following[1]
                )
    assert n_commands >= 10


def _statements_with_values(source: str, filename: str) -> dict[str, object]:
    """Run ``source`` statement by statement; the value of each expression statement,
    keyed by its source line (comment included)."""
    lines = source.splitlines()
    namespace: dict[str, object] = {"__name__": "readme"}
    values: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr):
            code = compile(ast.Expression(node.value), filename, "eval")
            values[lines[node.lineno - 1]] = eval(code, namespace)
        else:
            exec(compile(ast.Module([node], []), filename, "exec"), namespace)
    return values


def _value_of(values: dict[str, object], call: str) -> tuple[str, object]:
    """The one README line that calls ``call``, and the value it gave."""
    found = [(line, value) for line, value in values.items() if call in line]
    assert len(found) == 1, f"the README should call {call} once: {list(values)}"
    return found[0]


def test_readme_python_example_does_what_its_comments_say(tmp_path, monkeypatch):
    import json

    import numpy as np

    import gaussmle

    monkeypatch.chdir(tmp_path)
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    python = [body for lang, body in blocks(readme) if lang == "python"]
    assert len(python) == 1, "the README should have one Python example"
    values = _statements_with_values(python[0], "README.md")
    line, labels = _value_of(values, "model.predict(")
    shown = re.search(r"# array\((\[.*?\])", line)
    assert shown, line
    assert list(labels) == ast.literal_eval(shown.group(1))
    _, proba = _value_of(values, "model.predict_proba(")
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    _, errors = _value_of(values, ".standard_errors()")
    assert set(errors) == {"mean", "covariance"}
    _, score = _value_of(values, ".score(")
    gradient = np.concatenate([np.ravel(part) for part in score.values()])
    assert np.abs(gradient).max() < 1e-9  # zero at the MLE, up to rounding
    document = json.loads((tmp_path / "skittles.json").read_text(encoding="utf-8"))
    assert {"format", "format_version", "gaussmle_version"} <= set(document)
    model = gaussmle.load(tmp_path / "skittles.json")
    assert list(model.predict(gaussmle.datasets.make_skittles().X_new[:3])) == list(labels)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "$ gaussmle a \\\n  --b c\nout\n$ gaussmle d\n",
            [("gaussmle a  --b c", ["out"]), ("gaussmle d", [])],
        )
    ],
)
def test_console_steps_join_continuation_lines(text, expected):
    assert console_steps(text) == expected
