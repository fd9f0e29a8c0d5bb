"""A small ICDAR 2015-style dataset, and helpers to compare manifests, for the parallel-build
tests (local parts, Dask, object storage)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from textrec_data.manifest import read_manifest_info

QUADS = ("10,10,50,10,50,30,10,30", "60,40,140,40,140,80,60,80", "20,90,90,90,90,110,20,110")


def write_dataset(root: Path, scenes, images: int = 24) -> tuple[Path, Path]:
    """``images`` scenes of 3 words (and a ``###``) each, one without an image file."""
    rng = np.random.default_rng(0)
    image_dir, gt_dir = root / "images", root / "gt"
    for i in range(images):
        image = scenes.image()
        image[5:30, 5:55] = rng.integers(0, 255, (25, 50, 3), dtype=np.uint8)
        lines = [f"{q},w{i}{k}" for k, q in enumerate(QUADS)] + [f"{QUADS[0]},###"]
        scenes.write(image_dir, gt_dir, f"img_{i}", lines, None if i == 5 else image)
    return image_dir, gt_dir


def manifest_rows(path: str | Path) -> pa.Table:
    """All rows of a manifest (file or directory), in order, ``split`` as plain strings."""
    info = read_manifest_info(path)
    table = pa.concat_tables(info.read_group(k) for k in range(len(info.groups)))
    split = table.column("split").cast(pa.string())
    return table.set_column(table.schema.get_field_index("split"), "split", split)
