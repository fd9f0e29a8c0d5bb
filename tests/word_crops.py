"""Word-crop image files for the list-format tests (wordcrops, tsv, LMDB, compatibility)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def crop_image(seed: int, height: int = 16, width: int = 40) -> np.ndarray:
    """A random colour word-sized image (distinct per seed)."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def write_crops(folder: Path, names: list[str]) -> None:
    """PNG (or JPEG for .jpg names) crops, each with its own pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        ext = ".jpg" if name.endswith(".jpg") else ".png"
        (folder / name).write_bytes(cv2.imencode(ext, crop_image(i))[1].tobytes())
