"""The ``gaussmle`` command line.

Run ``gaussmle --help`` for the commands and ``gaussmle COMMAND --help`` for
each one's options and examples. Problems with the input end the command
with one line on standard error that starts with ``error:`` and exit code 2.

Examples
--------
>>> from click.testing import CliRunner
>>> result = CliRunner().invoke(cli, ["--version"])
>>> result.exit_code, result.output.startswith("gaussmle, version")
(0, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from .. import __version__
from ._app import GaussmleGroup
from ._cluster import cluster_command
from ._demo import demo_command
from ._describe import describe_command
from ._estimate import estimate_command
from ._exit import run_console_command
from ._export import export_command
from ._inference import report_command, test_command
from ._more import plot_command, select_command
from ._train import fit_command, merge_command
from ._use import evaluate_command, predict_command

__all__ = ["cli", "console_main", "main"]

_EPILOG = """\b
Start here:
  gaussmle demo                          the worked example, with pictures
  gaussmle fit data.csv --target label -o model.json
  gaussmle predict model.json new.csv --proba
  gaussmle export model.json -o model.onnx
DATA is a CSV, Parquet or .npy file, a glob of them, or - for CSV on
standard input. Set GAUSSMLE_DEBUG=1 to see tracebacks."""


@click.group(
    "gaussmle",
    cls=GaussmleGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=_EPILOG,
)
@click.version_option(__version__, "--version", prog_name="gaussmle")
def cli() -> None:
    """Maximum likelihood Gaussians and generative Gaussian classifiers.

    Fit one Gaussian per class to labelled data of any size, see the
    estimates with their standard errors, and classify new points with
    calibrated probabilities.
    """


for _command in (
    demo_command,
    fit_command,
    cluster_command,
    predict_command,
    evaluate_command,
    describe_command,
    test_command,
    report_command,
    estimate_command,
    merge_command,
    select_command,
    plot_command,
    export_command,
):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``gaussmle`` command line; it ends with ``sys.exit(code)``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).
    """
    cli.main(args=None if argv is None else list(argv), prog_name="gaussmle")


def console_main() -> None:
    """Entry point of the ``gaussmle`` console script: :func:`main`, then the process ends.

    Python's shutdown runs as usual (threads joined, ``atexit`` handlers run),
    then the process ends with the command's exit code without the native
    libraries' teardown, where a thread pool can abort a finished command
    (see :mod:`gaussmle.cli._exit`).
    """
    run_console_command(main)
