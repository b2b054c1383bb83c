"""Running a guide in docs/ as written: its commands and Python blocks, their output as shown.

One runner for every guide test (the tutorial's own test parses with the same
:func:`test_tutorial.blocks`, :func:`~test_tutorial.console_steps` and
:func:`~test_tutorial.matches`). The caller chooses the working folder
(``monkeypatch.chdir``) and asserts how many commands and outputs it expects.
"""

from __future__ import annotations

import contextlib
import io
import shlex
from pathlib import Path

from click.testing import CliRunner
from test_tutorial import blocks, console_steps, matches

from gaussmle.cli import cli


def run_guide(guide: Path, *, every_block_shows_output: bool = False) -> tuple[int, int]:
    """Run ``guide``'s ``console`` commands and ``python`` blocks in order, in one namespace.

    A command must exit 0, or 2 where the guide shows an ``error:`` line, and
    print what the guide shows; a python block followed by a ``text`` block
    must print that text (with ``every_block_shows_output``, every python block
    must be followed by one). Returns (commands run, outputs compared).
    """
    found = blocks(guide.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": "guide"}
    n_commands = n_outputs = 0
    for index, (lang, body) in enumerate(found):
        if lang == "console":
            for command, expected in console_steps(body):
                words = shlex.split(command)
                assert words[0] == "gaussmle", command
                result = CliRunner().invoke(cli, words[1:])
                code = 2 if any(line.startswith("error: ") for line in expected) else 0
                assert result.exit_code == code, f"$ {command}\n{result.output}"
                assert matches(expected, result.output.splitlines()), (
                    f"$ {command}\n--- the guide shows:\n" + "\n".join(expected)
                    + "\n--- the command printed:\n" + result.output
                )  # fmt: skip
                n_commands += 1
        elif lang == "python":
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                exec(compile(body, f"{guide.name}[block {index}]", "exec"), namespace)
            following = found[index + 1] if index + 1 < len(found) else ("", "")
            if every_block_shows_output:
                assert following[0] == "text", f"python block {index} shows no output"
            if following[0] == "text":
                assert matches(following[1].splitlines(), captured.getvalue().splitlines()), (
                    f"python block {index} printed:\n{captured.getvalue()}\n"
                    "--- the guide shows:\n" + following[1]
                )
                n_outputs += 1
    return n_commands, n_outputs
