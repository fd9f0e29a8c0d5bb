"""Summaries of a manifest for people: counts, charset frequencies, percentiles, a contact sheet."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from textrec_data.atomic import atomic_file
from textrec_data.bounds import MAX_SEED, Bound, check_value
from textrec_data.errors import InputError
from textrec_data.manifest import read_manifest_info
from textrec_data.outputs import check_apart, output_lock
from textrec_data.preprocess import decode_crop

PERCENTILES = (0, 5, 25, 50, 75, 95, 100)
#: The PNG text key that marks a contact sheet as textrec's (one that may be replaced).
SHEET_TAG = "textrec"


def manifest_stats(path: str | Path) -> dict:
    """Counts by split (and of them, unlabeled rows) and reject reason, character frequencies,
    label/crop percentiles (labels: of the labelled rows)."""
    info = read_manifest_info(path)
    table = info.read_columns(["split", "label", "crop_h", "crop_w"]).to_pandas()
    unlabeled = table["label"].isna()
    lengths = table["label"][~unlabeled].str.len()

    def pct(series: pd.Series) -> dict:
        if series.empty:
            return {}
        return {f"p{p}": float(np.percentile(series, p)) for p in PERCENTILES}

    chars: Counter[str] = Counter()
    for label in table["label"][~unlabeled]:
        chars.update(label)
    counts = info.metadata.get("counts", {})
    return {
        "manifest": str(info.path),
        "rows": info.num_rows,
        "row_groups": len(info.row_group_rows),
        "splits": {str(k): int(v) for k, v in table["split"].value_counts().sort_index().items()},
        "unlabeled": {
            str(k): int(v) for k, v in table["split"][unlabeled].value_counts().sort_index().items()
        },
        "rejects": counts.get("reasons", {}),
        "gt_lines": counts.get("gt_lines"),
        "case": info.charset.case,
        "charset": "".join(info.charset.chars),
        "char_frequencies": dict(chars.most_common()),
        "label_length": pct(lengths),
        "crop_height": pct(table["crop_h"]),
        "crop_width": pct(table["crop_w"]),
    }


def sample_rows(path: str | Path, n: int, seed: int = 0) -> list[tuple[str, str | None, bytes]]:
    """``n`` random (row id ``image_id:line_no``, label (None: unlabeled), PNG crop) rows,
    reading one row group at a time."""
    check_sample(n, seed)
    info = read_manifest_info(path)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(info.num_rows, size=min(n, info.num_rows), replace=False))
    picked: list[tuple[str, str | None, bytes]] = []
    start = 0
    columns = ["image_id", "line_no", "label", "crop"]
    for group, size in enumerate(info.row_group_rows):
        local = chosen[(chosen >= start) & (chosen < start + size)] - start
        if len(local):
            part = info.read_group(group, columns).take(local).to_pydict()
            for image_id, line_no, label, crop in zip(*part.values(), strict=True):
                picked.append((f"{image_id}:{line_no}", label, crop))
        start += size
    return picked


def check_sample(n: int, seed: int) -> None:
    """Refuse a sample size or seed that :func:`sample_rows` cannot use."""
    check_value("--n", n, Bound(1, 10000))
    check_value("--seed", seed, Bound(0, MAX_SEED))


def write_contact_sheet(manifest: str | Path, sheet: str | Path, n: int, seed: int) -> list[str]:
    """Write a contact sheet of ``n`` random crops of ``manifest`` to the PNG file ``sheet``
    (atomically; an existing file is replaced only if it is a textrec contact sheet). Returns
    the row ids whose crop does not decode: they are left off the sheet."""
    sheet = Path(sheet)
    if sheet.suffix.lower() != ".png":
        raise InputError(f"{sheet}: --sheet must name a .png file")
    with output_lock(sheet):
        check_apart(sheet, [("MANIFEST", manifest)], "--sheet")
        if sheet.exists() and not _is_sheet(sheet):
            raise InputError(
                f"{sheet}: --sheet exists and is not a textrec contact sheet; textrec never "
                "replaces what it did not make: choose another --sheet"
            )
        image, unreadable = contact_sheet(sample_rows(manifest, n, seed))
        tag = PngInfo()
        tag.add_text(SHEET_TAG, "contact sheet")
        with atomic_file(sheet) as tmp:
            image.save(tmp, format="PNG", pnginfo=tag)
    return unreadable


def _is_sheet(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            return SHEET_TAG in getattr(image, "text", {})
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


def contact_sheet(
    samples: list[tuple[str, str | None, bytes]],
    columns: int = 4,
    cell: tuple[int, int] = (256, 72),
) -> tuple[Image.Image, list[str]]:
    """A grid of crops (height-normalised to fit the cell) with their labels underneath, and the
    ids of the samples whose crop does not decode (left out)."""
    font_path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    font = ImageFont.truetype(str(font_path), 14)
    cell_w, cell_h = cell
    crops = [(row, label, decode_crop(png, channels=3)) for row, label, png in samples]
    unreadable = [row for row, _, crop in crops if crop is None]
    readable = [(label, crop) for _, label, crop in crops if crop is not None]
    rows = max(1, -(-len(readable) // columns))
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, crop) in enumerate(readable):
        x, y = (i % columns) * cell_w, (i // columns) * cell_h
        h, w = crop.shape[:2]
        scale = min((cell_h - 24) / h, (cell_w - 8) / w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        sheet.paste(Image.fromarray(cv2.resize(crop, size)), (x + 4, y + 2))
        caption = "(unlabeled)" if label is None else label
        draw.text((x + 4, y + cell_h - 20), caption, fill="black", font=font)
    return sheet, unreadable
