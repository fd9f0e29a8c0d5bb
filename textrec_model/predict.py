"""`textrec predict`'s work: word crops from files or from scene images + quads, recognized,
as records (file, line_no, quad, text, confidence) written to stdout, CSV or JSON Lines."""

from __future__ import annotations

import csv
import json
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from textrec_data.atomic import atomic_file
from textrec_data.errors import InputError
from textrec_data.inputs import check_utf8
from textrec_data.outputs import check_apart, output_lock
from textrec_data.preprocess import decode_crop
from textrec_data.rows import WordRules, process
from textrec_data.sources.icdar15 import Icdar15Source
from textrec_model.recognizer import DecodeConfig, Recognizer

FIELDS = ("file", "line_no", "quad", "text", "confidence")


def on_white(image: Image.Image) -> Image.Image:
    """A crop with transparency composited on white (transparent pixels are black underneath:
    black text on a transparent crop would read as nothing); others as they are."""
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return image.copy()
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def load_crop_files(paths: tuple[str, ...]) -> tuple[list[dict], list[Image.Image]]:
    """Sources (file, no line, no quad) and images of word-crop files. A file that is not an
    image, or one whose header claims more pixels than Pillow's decompression-bomb limit, is
    refused by name."""
    check_utf8(paths)
    crops = []
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as image:
                    image.load()
                    crops.append(on_white(image))
        except (OSError, ValueError, Image.DecompressionBombError, Warning) as exc:
            raise InputError(f"{path}: cannot read image ({exc})") from exc
    return [{"file": p, "line_no": None, "quad": None} for p in paths], crops


def scene_word_crops(images: str, gt: str) -> Iterator[tuple[list[dict], list[dict]]]:
    """Per GT file of an ICDAR 2015 scene dataset: the word rows (as in the manifest:
    ``image_id``, ``line_no``, ``quad``, ``text``, ``crop`` PNG...) and the rejected lines, cropped
    exactly as the manifest stage does. For recognizing the words of scene images with known
    quads: lines of 8 coordinates without a transcription count as words (text ``""``)."""
    source = Icdar15Source(images, gt, require_text=False)
    rules = WordRules(split="test")
    for unit in source.plan().units:
        result = process(source.read(unit), rules, source.name)
        yield result.rows, result.rejects


def load_scene_words(
    images: str, gt: str, channels: int = 1
) -> tuple[list[dict], list[np.ndarray], Counter]:
    """Sources, crops (cut exactly as `textrec manifest` does; grey, or RGB with ``channels``
    3) and skipped GT lines by reason of the words of scene images whose quads a GT folder
    gives."""
    sources, crops, skipped = [], [], Counter()
    for rows, rejects in scene_word_crops(images, gt):
        skipped.update(r["reason"] for r in rejects)
        for row in rows:
            sources.append(
                {"file": row["image_path"], "line_no": row["line_no"], "quad": row["quad"]}
            )
            crops.append(decode_crop(row["crop"], channels))
    return sources, crops, skipped


def predict_records(
    recognizer: Recognizer, sources: list[dict], crops: list, decode: DecodeConfig
) -> list[dict]:
    """One record per crop: its source fields plus ``text`` and ``confidence``."""
    predictions = recognizer.predict(crops, decode)
    return [
        {**s, "text": p.text, "confidence": round(p.confidence, 4)}
        for s, p in zip(sources, predictions, strict=True)
    ]


def format_record(record: dict) -> str:
    """``file[:line]<TAB>text<TAB>confidence``: the stdout form of a record, one line whatever
    the names hold (backslash, tab, CR and LF written as ``\\``, ``\t``, ``\r``, ``\n``)."""
    where = record["file"] if record["line_no"] is None else f"{record['file']}:{record['line_no']}"
    return f"{tsv_field(where)}\t{tsv_field(record['text'])}\t{record['confidence']:.4f}"


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\r": "\\r", "\n": "\\n"})


def tsv_field(text: str) -> str:
    """``text`` as one field of a tab-separated line (the escapes of PostgreSQL's text format)."""
    return text.translate(_TSV_ESCAPES)


def check_records_out(out: str, inputs: list[tuple[str, str | None]]) -> None:
    """Refuse an --out that is or lies inside one of the ``inputs`` (option, path), or an
    existing file that is not a predictions file of textrec (nor empty)."""
    check_apart(out, inputs)
    path = Path(out)
    if path.is_file() and path.stat().st_size and not _is_predictions(path):
        raise InputError(
            f"{out}: --out exists and is not a predictions file of textrec; textrec never "
            "replaces what it did not make: choose another --out"
        )


def _is_predictions(path: Path) -> bool:
    """True when the file starts as :func:`write_records` writes: the CSV header or a JSON
    record of :data:`FIELDS`."""
    with open(path, "rb") as handle:
        first = handle.readline(4096).decode("utf-8", "replace").strip()
    if first == ",".join(FIELDS):
        return True
    try:
        return tuple(json.loads(first)) == FIELDS
    except (ValueError, TypeError):
        return False


def write_records(records: list[dict], out: str, inputs: list[tuple[str, str | None]]) -> None:
    """CSV (``.csv``) or JSON Lines (anything else) of the prediction records, atomically,
    after :func:`check_records_out` (under a lock against other writers)."""
    path = Path(out)
    with output_lock(path), atomic_file(path) as tmp:
        check_records_out(out, inputs)
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            if path.suffix.lower() == ".csv":
                writer = csv.DictWriter(handle, fieldnames=FIELDS)
                writer.writeheader()
                for r in records:
                    writer.writerow({**r, "quad": " ".join(map(str, r["quad"] or []))})
            else:
                for r in records:
                    handle.write(json.dumps(r, ensure_ascii=False) + "\n")
