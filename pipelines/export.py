"""`textrec export`: a checkpoint's or pretrained model as ONNX, TorchScript (dynamic batch and
width) or an inference-only checkpoint."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_model.export import EXPORT_FORMATS, export_model
from textrec_model.models import PRETRAINED


@click.command("export")
@click.option(
    "--checkpoint", required=True, type=click.Path(),
    help=f"best.pt / last.pt of `textrec train`, or a pretrained name ({', '.join(PRETRAINED)}).",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="onnx", show_default=True
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output file.")
@user_errors
def command(checkpoint: str, fmt: str, out: str) -> None:
    """Write the model with its charset and input spec. onnx / torchscript: input images
    (B, C, H, W) in [-1, 1] as the model's spec says, output logits (B, T, classes); `textrec
    predict --onnx FILE` and `textrec eval --onnx FILE` run ONNX. weights: an inference-only
    checkpoint (float16 weights, no optimizer or RNG state) for --checkpoint and --init."""
    meta = export_model(checkpoint, out, fmt)
    click.echo(
        f"wrote {out} ({fmt}, {meta['model_name']}, {len(meta['charset']['charset'])} characters)"
    )
