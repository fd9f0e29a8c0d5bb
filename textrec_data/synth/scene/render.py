"""One synthetic scene: a background, a few non-overlapping words, camera-like degradations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from textrec_data.synth.background import background
from textrec_data.synth.effects import camera_effects
from textrec_data.synth.scene.config import SynthConfig
from textrec_data.synth.scene.placement import place_word
from textrec_data.synth.transcriptions import PLACEHOLDER, random_word


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
