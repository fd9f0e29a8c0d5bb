"""Backgrounds of word mode: patches of photos from a folder (or of generated backgrounds), and
scene images with their text erased (ICDAR GT regions inpainted) to serve as such a folder."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from textrec_data.atomic import atomic_dir
from textrec_data.bounds import Bound, check_value
from textrec_data.errors import InputError
from textrec_data.images import decode_image
from textrec_data.outputs import claim_output, mark_output_dir, output_lock
from textrec_data.sources.files import decode_lines, index_images
from textrec_data.sources.icdar15 import gt_stem, list_gt_files
from textrec_data.synth.background import background

#: Backgrounds per unit of work: the words of one unit are drawn on patches of these.
BACKDROPS_PER_UNIT = 8
_GENERATED_SIZE = (240, 320)  # (height, width) of a generated background


def photo_files(folder: str | Path) -> tuple[str, ...]:
    """The image files of ``folder`` (sorted); InputError when it is missing or has none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: --backgrounds directory not found")
    files = tuple(str(p) for p in index_images(folder).values())
    if not files:
        raise InputError(f"{folder}: --backgrounds has no image files")
    return files


def unit_backdrops(rng: np.random.Generator, files: tuple[str, ...]) -> list[np.ndarray]:
    """What the words of one unit of work are drawn on, float32 RGB: up to
    :data:`BACKDROPS_PER_UNIT` of the photo ``files`` drawn at random and decoded (files that
    cannot be decoded are left out), or without files as many generated backgrounds."""
    if not files:
        return [background(rng, *_GENERATED_SIZE) for _ in range(BACKDROPS_PER_UNIT)]
    chosen = rng.choice(len(files), min(BACKDROPS_PER_UNIT, len(files)), replace=False)
    decoded = (decode_image(files[int(i)]) for i in sorted(chosen))
    photos = [
        cv2.cvtColor(d, cv2.COLOR_BGR2RGB).astype(np.float32) for d in decoded if d is not None
    ]
    return photos or [background(rng, *_GENERATED_SIZE)]


def photo_patch(rng: np.random.Generator, photo: np.ndarray, h: int, w: int) -> np.ndarray:
    """A random region of ``photo`` at a random scale (0.5-2x), resized to (h, w), maybe
    mirrored; float32 RGB."""
    ph, pw = photo.shape[:2]
    scale = min(rng.uniform(0.5, 2.0), ph / h, pw / w)
    rh, rw = max(1, round(h * scale)), max(1, round(w * scale))
    y, x = int(rng.integers(0, ph - rh + 1)), int(rng.integers(0, pw - rw + 1))
    patch = cv2.resize(photo[y : y + rh, x : x + rw], (w, h), interpolation=cv2.INTER_AREA)
    return patch[:, ::-1].copy() if rng.random() < 0.5 else patch


def _gt_polygons(gt_path: Path) -> list[np.ndarray]:
    """Every quad of an ICDAR GT file, legible or ``###`` (lines that do not parse skipped)."""
    polygons = []
    for line in decode_lines(gt_path.read_bytes()):
        try:
            values = [float(v) for v in line.text.split(",", 8)[:8]]
        except ValueError:
            continue
        if len(values) == 8 and np.isfinite(values).all():
            polygons.append(np.array(values, np.float32).reshape(4, 2))
    return polygons


def erase_text(image: np.ndarray, polygons: list[np.ndarray]) -> np.ndarray:
    """``image`` with every polygon (grown by a few pixels) inpainted from its surroundings."""
    mask = np.zeros(image.shape[:2], np.uint8)
    for polygon in polygons:
        cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 255)
    mask = cv2.dilate(mask, np.ones((7, 7), np.uint8))
    return cv2.inpaint(image, mask, 5, cv2.INPAINT_TELEA)


def write_backgrounds(images: str, gt: str, out: str, max_side: int = 960) -> int:
    """Write ``out/<stem>.jpg`` for every image of ``images`` with a GT file in ``gt``: its text
    regions erased, scaled to at most ``max_side`` pixels. Returns the number written. ``out``
    is claimed as every output folder is (:func:`~textrec_data.outputs.claim_output`): apart
    from the inputs, and replaced only when it holds an earlier ``textrec backgrounds``."""
    check_value("--max-side", max_side, Bound(16, 65536))
    if not Path(gt).is_dir():
        raise InputError(f"{gt}: --gt directory not found")
    found = index_images(Path(images)) if Path(images).is_dir() else {}
    pairs = [(found[gt_stem(g)], g) for g in list_gt_files(Path(gt)) if gt_stem(g) in found]
    if not pairs:
        raise InputError(f"{images}: no image with a GT file in {gt}")
    out_dir = Path(os.path.abspath(out))
    names = _OutputNames()
    with output_lock(out_dir):
        claim_output(out_dir, "backgrounds", names, [("--images", images), ("--gt", gt)])
        with atomic_dir(out_dir) as tmp:
            for image_path, gt_path in pairs:
                image = decode_image(str(image_path))
                if image is None:
                    continue
                clean = erase_text(image, _gt_polygons(gt_path))
                f = min(1.0, max_side / max(clean.shape[:2]))
                clean = cv2.resize(clean, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
                params = [cv2.IMWRITE_JPEG_QUALITY, 92]
                cv2.imwrite(str(tmp / f"{image_path.stem}.jpg"), clean, params)
            mark_output_dir(tmp, "backgrounds")
    return len(pairs)


class _OutputNames:
    """The names ``textrec backgrounds`` writes: ``<stem>.jpg``."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.endswith(".jpg") and not name.startswith(".")
