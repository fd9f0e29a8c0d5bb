"""Write small textrec manifests directly (no scenes): for stream and training tests."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pyarrow.parquet as pq

from textrec_data.manifest import FORMAT_VERSION, MANIFEST_SCHEMA, METADATA_KEY, TableWriter

CHARS = "abcdefghij"


def word_crop(label: str, rng: np.random.Generator) -> np.ndarray:
    """A (20, 12*len) BGR crop where character k is a bar of height 2+k: learnable shapes."""
    crop = np.full((20, 12 * len(label), 3), 230, np.uint8)
    for i, ch in enumerate(label):
        k = CHARS.index(ch)
        crop[18 - 2 - k : 18, 12 * i + 3 : 12 * i + 9] = 20
    noise = rng.integers(0, 15, crop.shape, dtype=np.uint8)
    return cv2.subtract(crop, noise)


def write_manifest(
    path: Path,
    rows: int,
    seed: int = 0,
    val_every: int = 5,
    row_group_size: int = 16,
    chars: str = CHARS,
    labels: list[str] | None = None,
) -> Path:
    """A manifest of ``rows`` words (every ``val_every``-th image in val, 2 words per image)."""
    rng = np.random.default_rng(seed)
    writer = TableWriter(path, MANIFEST_SCHEMA, row_group_size)
    splits: Counter[str] = Counter()
    batch = []
    for i in range(rows):
        label = labels[i] if labels else "".join(rng.choice(list(CHARS), rng.integers(1, 6)))
        crop = word_crop(label, rng)
        split = "val" if (i // 2) % val_every == val_every - 1 else "train"
        splits[split] += 1
        batch.append(
            {
                "image_id": f"img_{i // 2}",
                "image_path": f"/nowhere/img_{i // 2}.jpg",
                "gt_path": f"/nowhere/gt_img_{i // 2}.txt",
                "line_no": i % 2 + 1,
                "quad": [0, 0, 10, 0, 10, 10, 0, 10],
                "text": label,
                "label": label,
                "split": split,
                "crop": cv2.imencode(".png", crop)[1].tobytes(),
                "crop_h": crop.shape[0],
                "crop_w": crop.shape[1],
            }
        )
    writer.write(batch)
    writer.close(
        {
            "format_version": FORMAT_VERSION,
            "charset": sorted(set(chars)),
            "case": "keep",
            "counts": {"splits": dict(splits), "kept": rows},
        }
    )
    return path


def mixed_manifest(tmp_path: Path, rows: int = 48, every: int = 3) -> tuple[Path, dict[str, int]]:
    """A manifest (format 3) whose every ``every``-th row has no label, and its unlabeled
    rows by split."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    labelled = write_manifest(tmp_path / "labelled.parquet", rows)
    metadata = json.loads(pq.ParquetFile(labelled).metadata.metadata[METADATA_KEY])
    records = pq.read_table(labelled).to_pylist()
    unlabeled: dict[str, int] = {}
    for i, row in enumerate(records):
        row["source"] = "icdar15"
        if i % every == 0:
            row["label"] = row["text"] = None
            unlabeled[row["split"]] = unlabeled.get(row["split"], 0) + 1
    metadata["counts"]["unlabeled"] = unlabeled
    metadata["format_version"] = FORMAT_VERSION
    path = tmp_path / "mixed.parquet"
    writer = TableWriter(path, MANIFEST_SCHEMA, 16)
    writer.write(records)
    writer.close(metadata)
    return path, unlabeled
