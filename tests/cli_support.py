"""Helpers the command-line tests share: running a command, checking a one-line error,
writing CSV with gaps."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from gaussmle.cli import cli

FEATURES = ["aromatic lift", "elegance"]


SCRIPT = Path(sys.executable).with_name("gaussmle")


def run(*args: str, input: str | bytes | None = None, ok: bool = True):
    """Invoke the command line in-process; by default require success."""
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input)
    if ok and result.exit_code != 0:
        raise AssertionError(
            f"gaussmle {' '.join(map(str, args))} failed with {result.exit_code}:\n"
            f"{result.output}\n{result.exception!r}"
        )
    return result


def assert_bad_input(result, *fragments: str) -> str:
    """Exit code 2, one line on stderr starting 'error: ', nothing on stdout."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def csv_with_gaps(
    path: Path, X: np.ndarray, y: np.ndarray | None = None, ids: bool = False
) -> Path:
    """Write X (NaN as an empty cell), the labels and optionally an id column as CSV."""
    header = (["id"] if ids else []) + FEATURES + (["colour"] if y is not None else [])
    lines = [",".join(f'"{h}"' if " " in h else h for h in header)]
    for i, row in enumerate(X):
        cells = ([str(i + 1)] if ids else []) + ["" if np.isnan(v) else repr(float(v)) for v in row]
        lines.append(",".join(cells + ([str(y[i])] if y is not None else [])))
    path.write_text("\n".join(lines) + "\n")
    return path
