"""`textrec predict`: recognize word crops, or the words of scene images given their quads."""

from __future__ import annotations

import click

from pipelines.common import user_errors
from pipelines.inference_options import batch_size_option, runtime_options, shipped_model_option
from textrec_data.errors import InputError
from textrec_model.models import PRETRAINED
from textrec_model.predict import (
    check_records_out,
    format_record,
    load_crop_files,
    load_scene_words,
    predict_records,
    write_records,
)
from textrec_model.recognizer import (
    DECODERS,
    ROTATIONS,
    DecodeConfig,
    Recognizer,
    read_lexicon,
)


@click.command("predict")
@click.argument("crops", nargs=-1, type=click.Path())
@click.option(
    "--checkpoint", type=click.Path(),
    help="best.pt / last.pt of `textrec train`, or a pretrained name "
    f"({', '.join(PRETRAINED)}) [the model textrec ships].",
)  # fmt: skip
@click.option("--onnx", type=click.Path(), help="Or a `textrec export --format onnx` file.")
@shipped_model_option
@click.option("--images", type=click.Path(), help="Scene images (with --gt): recognize each quad.")
@click.option("--gt", type=click.Path(), help="ICDAR 2015 gt_<image>.txt files giving the quads.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write .csv or .jsonl, not stdout.")
@batch_size_option
@click.option("--decoder", type=click.Choice(DECODERS), default="greedy", show_default=True)
@click.option("--beam-width", default=10, show_default=True)
@click.option(
    "--rotate", type=click.Choice(ROTATIONS), default="none", show_default=True,
    help="vertical: a crop taller than wide is also read turned 90 degrees each way; "
    "the most confident reading wins.",
)  # fmt: skip
@click.option("--lexicon", type=click.Path(), help="Word list: answer with lexicon words only.")
@runtime_options
@user_errors
def command(
    crops, checkpoint, onnx, shipped, images, gt, out, batch_size, decoder, beam_width, rotate,
    lexicon, runtime, threads,
):  # fmt: skip
    """Recognize word-crop images (CROPS...), or with --images/--gt the words of scene images,
    cropped by their quads exactly as `textrec manifest` does. GT lines may omit the
    transcription (8 coordinates: a detector's output); `###` and unusable lines are skipped
    and counted on stderr.

    Prints `file<TAB>text<TAB>confidence` per word, or writes --out (.csv or .jsonl).
    """
    if bool(crops) == bool(images or gt) or bool(images) != bool(gt):
        raise InputError("CROPS, --images, --gt: give word-crop images, or --images and --gt")
    inputs = [("CROPS", c) for c in crops] + [
        ("--checkpoint", checkpoint), ("--onnx", onnx), ("--lexicon", lexicon),
        ("--images", images), ("--gt", gt),
    ]  # fmt: skip
    if out:
        check_records_out(out, inputs)  # before the work; again under a lock when writing
    recognizer = Recognizer.load(checkpoint, onnx, batch_size, runtime, threads, shipped)
    decode = DecodeConfig(decoder, beam_width, read_lexicon(lexicon) if lexicon else None, rotate)
    if crops:
        sources, images_in = load_crop_files(crops)
    else:
        sources, images_in, skipped = load_scene_words(images, gt, recognizer.spec.channels)
        if skipped:
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items()))
            click.echo(f"skipped {sum(skipped.values())} GT lines: {reasons}", err=True)
    records = predict_records(recognizer, sources, images_in, decode)
    if out:
        write_records(records, out, inputs)
        click.echo(f"wrote {len(records)} predictions to {out}", err=True)
        return
    for record in records:
        click.echo(format_record(record))
