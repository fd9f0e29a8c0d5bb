"""Summaries of a manifest for people: counts, charset frequencies, percentiles, a contact sheet."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from textrec_data.manifest import read_manifest_info

PERCENTILES = (0, 5, 25, 50, 75, 95, 100)


def manifest_stats(path: str | Path) -> dict:
    """Counts by split and reject reason, character frequencies, label/crop percentiles."""
    info = read_manifest_info(path)
    table = info.read_columns(["split", "label", "crop_h", "crop_w"]).to_pandas()
    lengths = table["label"].str.len()

    def pct(series: pd.Series) -> dict:
        if series.empty:
            return {}
        return {f"p{p}": float(np.percentile(series, p)) for p in PERCENTILES}

    chars: Counter[str] = Counter()
    for label in table["label"]:
        chars.update(label)
    counts = info.metadata.get("counts", {})
    return {
        "manifest": str(info.path),
        "rows": info.num_rows,
        "row_groups": len(info.row_group_rows),
        "splits": {str(k): int(v) for k, v in table["split"].value_counts().sort_index().items()},
        "rejects": counts.get("reasons", {}),
        "gt_lines": counts.get("gt_lines"),
        "case": info.charset.case,
        "charset": "".join(info.charset.chars),
        "char_frequencies": dict(chars.most_common()),
        "label_length": pct(lengths),
        "crop_height": pct(table["crop_h"]),
        "crop_width": pct(table["crop_w"]),
    }


def sample_rows(path: str | Path, n: int, seed: int = 0) -> list[tuple[str, bytes]]:
    """``n`` random (label, PNG crop) pairs, reading one row group at a time."""
    info = read_manifest_info(path)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(info.num_rows, size=min(n, info.num_rows), replace=False))
    picked: list[tuple[str, bytes]] = []
    start = 0
    for group, size in enumerate(info.row_group_rows):
        local = chosen[(chosen >= start) & (chosen < start + size)] - start
        if len(local):
            part = info.read_group(group, ["label", "crop"]).take(local)
            picked.extend(zip(part["label"].to_pylist(), part["crop"].to_pylist(), strict=True))
        start += size
    return picked


def contact_sheet(
    samples: list[tuple[str, bytes]], columns: int = 4, cell: tuple[int, int] = (256, 72)
) -> Image.Image:
    """A grid of crops (height-normalised to fit the cell) with their labels underneath."""
    font_path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    font = ImageFont.truetype(str(font_path), 14)
    cell_w, cell_h = cell
    rows = max(1, -(-len(samples) // columns))
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, png) in enumerate(samples):
        x, y = (i % columns) * cell_w, (i // columns) * cell_h
        crop = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)
        h, w = crop.shape[:2]
        scale = min((cell_h - 24) / h, (cell_w - 8) / w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        sheet.paste(Image.fromarray(cv2.resize(crop, size)), (x + 4, y + 2))
        draw.text((x + 4, y + cell_h - 20), label, fill="black", font=font)
    return sheet
