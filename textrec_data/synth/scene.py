"""One synthetic scene: a background, a few non-overlapping words, camera-like degradations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from textrec_data.synth.background import background, smooth_noise
from textrec_data.synth.config import SynthConfig
from textrec_data.synth.placement import place_word
from textrec_data.synth.words import PLACEHOLDER, random_word


def camera_effects(rng: np.random.Generator, scene: np.ndarray) -> np.ndarray:
    """Uneven lighting, slight blur and sensor noise; the scene as RGB uint8."""
    h, w = scene.shape[:2]
    if rng.random() < 0.5:
        light = 1.0 - float(rng.uniform(0.05, 0.25)) * smooth_noise(rng, h, w, 2)
        scene *= light[..., None]
    if rng.random() < 0.3:
        scene = cv2.GaussianBlur(scene, (0, 0), float(rng.uniform(0.3, 0.7)))
    sigma = float(rng.uniform(1.0, 5.0))
    scene += rng.standard_normal((h, w, 1), dtype=np.float32) * sigma  # sensor grain
    return np.clip(scene + 0.5, 0, 255).astype(np.uint8)


def render_scene(
    rng: np.random.Generator, config: SynthConfig, fonts: Sequence[Path]
) -> tuple[np.ndarray, list[tuple[list[float], str]]]:
    """One scene: RGB uint8 (H, W, 3) and its words as (quad x1,y1..x4,y4 clockwise from the
    word's own top-left corner, transcription); illegible words have transcription ``###``."""
    if not fonts:
        raise ValueError("render_scene needs at least one font (see font_paths())")
    h, w = config.height, config.width
    scene = background(rng, h, w)
    occupied = np.zeros((h, w), np.uint8)
    words: list[tuple[list[float], str]] = []
    for _ in range(int(rng.integers(config.min_words, config.max_words + 1))):
        text = random_word(rng)
        placeholder = bool(rng.random() < config.placeholder_rate)
        quad = place_word(rng, scene, occupied, text, fonts, config, placeholder)
        if quad is not None:
            words.append(
                ([float(v) for v in quad.reshape(-1)], PLACEHOLDER if placeholder else text)
            )
    return camera_effects(rng, scene), words
