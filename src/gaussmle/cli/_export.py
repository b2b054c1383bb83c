"""``gaussmle export``: a saved classifier or mixture as an ONNX model, for serving."""

from __future__ import annotations

import os

import click

from ..io import DataError
from ._app import check_output_path, say
from ._mixtures import load_predictor

#: The formats ``export`` writes.
EXPORT_FORMATS = ("onnx",)


@click.command("export", short_help="Export a model for serving (ONNX).")
@click.argument("model_path", metavar="MODEL.json")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="onnx",
    show_default=True,
    help="The format to write (ONNX, run by onnxruntime and most serving stacks).",
)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float64"]),
    default="float64",
    show_default=True,
    help="The type of the graph's input and arithmetic; float32 graphs are centred on "
    "the training mean first, so they stay accurate far from the origin.",
)
@click.option("-o", "--output", required=True, metavar="MODEL.onnx", help="Where to write it.")
def export_command(model_path: str, fmt: str, dtype: str, output: str) -> None:
    """Export the classifier or mixture in MODEL.json (from gaussmle fit or cluster).

    The ONNX model has one input, X (rows of features in the model's
    order, which the model's metadata lists), and three outputs: label,
    probabilities (one column per class, in sorted class order) and
    log_likelihood (the joint log-likelihood per class). For a mixture:
    label is the component, probabilities the responsibilities and
    log_likelihood the log-likelihood of each row. See docs/serving.md for
    running it with onnxruntime.

    \b
    Examples:
      gaussmle export model.json --format onnx -o model.onnx
      gaussmle export model.json -o model32.onnx --dtype float32
    """
    from ..onnx_export import require_onnx, to_onnx

    if output == "-":
        raise DataError("an ONNX model is binary: write it to a file with -o MODEL.onnx")
    check_output_path(output)
    model = load_predictor(model_path)
    try:
        require_onnx()
    except ImportError as exc:
        raise DataError(str(exc)) from None
    to_onnx(model, dtype=dtype, path=output)
    size = os.path.getsize(output)
    groups = (
        f"{len(model.classes_)} classes"
        if hasattr(model, "classes_")
        else f"{len(model.weights_)} components"
    )
    say(
        f"Exported the {model.covariance_type} model ({groups}, "
        f"{model.n_features_in_} features) to {output}: {fmt.upper()}, {dtype}, {size:,} bytes."
    )
