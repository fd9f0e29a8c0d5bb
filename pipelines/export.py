"""`textrec export`: a checkpoint's or pretrained model as ONNX (float32, or int8 calibrated on
a manifest split), TorchScript (dynamic batch and width) or an inference-only checkpoint."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from textrec_data.errors import InputError
from textrec_model.export import EXPORT_FORMATS, export_model
from textrec_model.models import PRETRAINED
from textrec_model.quantize import INT8_FORMATS, Int8Config, export_int8


@click.command("export")
@click.option(
    "--checkpoint", required=True, type=click.Path(),
    help=f"best.pt / last.pt of `textrec train`, or a pretrained name ({', '.join(PRETRAINED)}).",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="onnx", show_default=True
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output file.")
@click.option(
    "--int8", is_flag=True, help="onnx: int8 weights and activations (needs --calibration)."
)
@click.option(
    "--calibration", metavar="MANIFEST[:SPLIT]",
    help="--int8: calibrate on crops of this manifest split [train]. Never a test split.",
)  # fmt: skip
@click.option("--calibration-crops", default=256, show_default=True, help="--int8: crops read.")
@click.option(
    "--int8-format", type=click.Choice(INT8_FORMATS), default="qdq", show_default=True,
    help="--int8: QuantizeLinear/DequantizeLinear pairs, or QLinear* operators.",
)  # fmt: skip
@user_errors
def command(checkpoint, fmt, out, int8, calibration, calibration_crops, int8_format) -> None:
    """Write the model with its charset and input spec. onnx / torchscript: input images
    (B, C, H, W) in [-1, 1] as the model's spec says, output logits (B, T, classes); `textrec
    predict --onnx FILE` and `textrec eval --onnx FILE` run ONNX (int8 too). weights: an
    inference-only checkpoint (float16 weights, no optimizer or RNG state) for --checkpoint and
    --init."""
    if int8 != bool(calibration) or (int8 and fmt != "onnx"):
        raise InputError("--int8, --calibration: give both, with --format onnx")
    if int8:
        config = Int8Config(calibration, calibration_crops, int8_format)
        meta = export_int8(checkpoint, out, config)
    else:
        meta = export_model(checkpoint, out, fmt)
    kind = f"{fmt}{' int8' if int8 else ''}"
    click.echo(
        f"wrote {out} ({kind}, {meta['model_name']}, {len(meta['charset']['charset'])} characters)"
    )
