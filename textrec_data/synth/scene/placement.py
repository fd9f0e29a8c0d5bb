"""Place a word in a scene: its size, a rotated and mildly perspective quad in a free spot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from textrec_data.synth.canvas import word_canvas
from textrec_data.synth.compositing import composite, warp_points
from textrec_data.synth.fonts import height_per_px
from textrec_data.synth.scene.config import SynthConfig

_ATTEMPTS = 24  # random spots tried per word
_SHRINK_EVERY = 8  # attempts after which the text is made smaller (a crowded scene)


def font_size(rng: np.random.Generator, path: str, config: SynthConfig, placeholder: bool) -> int:
    """A font size for a text height log-uniform in the config's range (7-14 px: placeholder)."""
    if placeholder:
        height = rng.uniform(7.0, 14.0)
    else:
        height = math.exp(
            rng.uniform(math.log(config.min_text_height), math.log(config.max_text_height))
        )
    return max(5, round(height / height_per_px(path)))


def random_quad(
    rng: np.random.Generator,
    box: np.ndarray,
    box_height: float,
    config: SynthConfig,
    img_w: int,
    img_h: int,
) -> np.ndarray:
    """``box`` rotated (often only slightly), centred on a random point of the image and its
    corners jittered by up to ``config.perspective`` of the box height; float32 (4, 2)."""
    theta = math.radians(rng.uniform(-1.0, 1.0) * config.max_rotation_deg)
    if rng.random() < 0.4:
        theta *= 0.2
    rot = np.array(
        [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]], np.float32
    )
    centre = np.array([rng.uniform(0, img_w), rng.uniform(0, img_h)], np.float32)
    jitter = rng.uniform(-1, 1, (4, 2)).astype(np.float32) * config.perspective * box_height
    return (box - box.mean(axis=0)) @ rot.T + centre + jitter


def _inside(quad: np.ndarray, img_w: int, img_h: int) -> bool:
    """Whether ``quad`` keeps a pixel clear of the image border (two on the right and bottom)."""
    return not (quad.min() < 1 or (quad[:, 0] > img_w - 2).any() or (quad[:, 1] > img_h - 2).any())


def _free_region(occupied: np.ndarray, region: np.ndarray, box_height: float) -> np.ndarray | None:
    """The mask of the polygon ``region`` if it and a margin around it (30% of the box height,
    at least 3 px) are free in ``occupied``; None otherwise."""
    corners = np.round(region).astype(np.int32)
    candidate = np.zeros_like(occupied)
    cv2.fillConvexPoly(candidate, corners, 1)
    cv2.polylines(candidate, [corners], True, 1, 2 * max(3, round(0.3 * box_height)) + 1)
    if (candidate & occupied).any():
        return None
    region_mask = np.zeros_like(occupied)
    cv2.fillConvexPoly(region_mask, corners, 1)
    return region_mask


def place_word(
    rng: np.random.Generator,
    scene: np.ndarray,
    occupied: np.ndarray,
    text: str,
    fonts: Sequence[Path],
    config: SynthConfig,
    placeholder: bool,
) -> np.ndarray | None:
    """Draw one word into ``scene`` and mark it in ``occupied`` (in place); its quad (float64
    (4, 2), clockwise from the word's top-left), or None if it found no free spot."""
    img_h, img_w = scene.shape[:2]
    path = str(fonts[int(rng.integers(len(fonts)))])
    size = font_size(rng, path, config, placeholder)
    plate = not placeholder and rng.random() < config.plate_rate
    for attempt in range(_ATTEMPTS):
        if attempt and attempt % _SHRINK_EVERY == 0:
            size = max(5, round(size * 0.8))
            if not placeholder and size * height_per_px(path) < config.min_text_height * 0.9:
                return None
        canvas = word_canvas(rng, text, path, size, plate, placeholder)
        if canvas is None:
            return None
        box = canvas.box
        bw, bh = float(box[1, 0] - box[0, 0]), float(box[3, 1] - box[0, 1])
        if bw > img_w * 0.92:
            size = max(5, round(size * img_w * 0.85 / bw))
            continue
        quad = random_quad(rng, box, bh, config, img_w, img_h)
        if not _inside(quad, img_w, img_h):
            continue
        homography = cv2.getPerspectiveTransform(box, quad.astype(np.float32))
        region = warp_points(homography, canvas.plate) if canvas.plate is not None else quad
        region_mask = _free_region(occupied, region, bh)
        if region_mask is None:
            continue
        composite(rng, scene, canvas, homography, region_mask, config.min_contrast, placeholder)
        occupied |= region_mask
        return quad.astype(np.float64)
    return None
