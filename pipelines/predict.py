"""`textrec predict`: recognize word crops, or the words of scene images given their quads."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import click
from PIL import Image

from pipelines.common import user_errors
from textrec_data.build import scene_word_crops
from textrec_data.errors import InputError
from textrec_data.atomic import atomic_file
from textrec_data.stream import decode_crop
from textrec_model.recognizer import DECODERS, DecodeConfig, Recognizer, read_lexicon

FIELDS = ("file", "line_no", "quad", "text", "confidence")


def _load_crop(path: str):
    try:
        with Image.open(path) as image:
            return image.convert("L")
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read image ({exc})") from exc


def write_records(records: list[dict], out: str) -> None:
    """CSV (``.csv``) or JSON Lines (anything else) of the prediction records, atomically."""
    path = Path(out)
    with atomic_file(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            if path.suffix.lower() == ".csv":
                writer = csv.DictWriter(handle, fieldnames=FIELDS)
                writer.writeheader()
                for r in records:
                    writer.writerow({**r, "quad": " ".join(map(str, r["quad"] or []))})
            else:
                for r in records:
                    handle.write(json.dumps(r, ensure_ascii=False) + "\n")


@click.command("predict")
@click.argument("crops", nargs=-1, type=click.Path())
@click.option("--checkpoint", type=click.Path(), help="best.pt / last.pt of `textrec train`.")
@click.option("--onnx", type=click.Path(), help="Or a `textrec export --format onnx` file.")
@click.option("--images", type=click.Path(), help="Scene images (with --gt): recognize each quad.")
@click.option("--gt", type=click.Path(), help="ICDAR 2015 gt_<image>.txt files giving the quads.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write .csv or .jsonl, not stdout.")
@click.option("--batch-size", default=256, show_default=True)
@click.option("--decoder", type=click.Choice(DECODERS), default="greedy", show_default=True)
@click.option("--beam-width", default=10, show_default=True)
@click.option("--lexicon", type=click.Path(), help="Word list: answer with lexicon words only.")
@user_errors
def command(
    crops: tuple[str, ...],
    checkpoint: str | None,
    onnx: str | None,
    images: str | None,
    gt: str | None,
    out: str | None,
    batch_size: int,
    decoder: str,
    beam_width: int,
    lexicon: str | None,
) -> None:
    """Recognize word-crop images (CROPS...), or with --images/--gt the words of scene images,
    cropped by their quads exactly as `textrec manifest` does. GT lines may omit the
    transcription (8 coordinates: a detector's output); `###` and unusable lines are skipped
    and counted on stderr.

    Prints `file<TAB>text<TAB>confidence` per word, or writes --out (.csv or .jsonl).
    """
    if (checkpoint is None) == (onnx is None):
        raise InputError("give exactly one of --checkpoint or --onnx")
    if bool(crops) == bool(images or gt) or bool(images) != bool(gt):
        raise InputError("give either word-crop images, or both --images and --gt")
    recognizer = (
        Recognizer.from_onnx(onnx, batch_size)
        if onnx
        else Recognizer.from_checkpoint(checkpoint, batch_size=batch_size)
    )
    decode = DecodeConfig(decoder, beam_width, read_lexicon(lexicon) if lexicon else None)
    if crops:
        sources = [{"file": c, "line_no": None, "quad": None} for c in crops]
        grays = [_load_crop(c) for c in crops]
    else:
        sources, grays = [], []
        skipped: Counter[str] = Counter()
        for rows, rejects in scene_word_crops(images, gt):
            skipped.update(r["reason"] for r in rejects)
            for row in rows:
                sources.append(
                    {"file": row["image_path"], "line_no": row["line_no"], "quad": row["quad"]}
                )
                grays.append(decode_crop(row["crop"]))
        if skipped:
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items()))
            click.echo(f"skipped {sum(skipped.values())} GT lines: {reasons}", err=True)
    predictions = recognizer.predict(grays, decode)
    records = [
        {**s, "text": p.text, "confidence": round(p.confidence, 4)}
        for s, p in zip(sources, predictions, strict=True)
    ]
    if out:
        write_records(records, out)
        click.echo(f"wrote {len(records)} predictions to {out}", err=True)
        return
    for r in records:
        where = r["file"] if r["line_no"] is None else f"{r['file']}:{r['line_no']}"
        click.echo(f"{where}\t{r['text']}\t{r['confidence']:.4f}")
