"""One synthetic word crop: text, font, letters, pose, background, colours, degradations, cut.

Everything is drawn from the generator it is given, so word K of a dataset is a pure function of
(seed, K), the font set, the corpus and the photos of its unit of work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from textrec_data.cropstyle import jitter_quad, loose_box
from textrec_data.errors import InputError
from textrec_data.geometry import crop_quad
from textrec_data.synth.canvas import WordCanvas, word_canvas
from textrec_data.synth.compositing import composite, warp_points
from textrec_data.synth.effects import camera_effects, degrade, jpeg, occlude
from textrec_data.synth.fonts import FontSet
from textrec_data.synth.letters import PLAIN, LetterStyle
from textrec_data.synth.scene.placement import font_size, random_quad
from textrec_data.synth.transcriptions import random_word
from textrec_data.synth.word.config import WordConfig
from textrec_data.synth.word.corpus import Corpus
from textrec_data.synth.word.photos import photo_patch
from textrec_data.synth.word.tokens import scene_word

_ATTEMPTS = 50  # texts tried before giving up (no face covers them, or nothing was drawn)
_RENDER_SIZES = (10, 13, 16, 20, 25, 31, 39, 48, 60)  # font sizes (pixels) of render=scene


@dataclass(frozen=True)
class WordAssets:
    """What every word of a dataset draws from, resolved once: the fonts, the corpus, the
    background photos and the characters a transcription may hold."""

    fonts: FontSet
    corpus: Corpus | None
    photos: tuple[str, ...]
    allowed: frozenset[str]


def _text(rng: np.random.Generator, config: WordConfig, assets: WordAssets) -> str:
    if config.text == "scene":
        return scene_word(rng, config.text_config, assets.corpus, assets.allowed)
    for _ in range(200):
        word = random_word(rng)
        if set(word) <= assets.allowed:
            return word
    raise InputError("the charset allows none of the classic words")


def _letter_style(rng: np.random.Generator, size: int) -> LetterStyle:
    """Spacing for 30% of words, a heavier stroke for 15%, a curved baseline for 15%."""
    spacing = float(rng.uniform(-0.04, 0.3)) if rng.random() < 0.3 else 0.0
    weight = max(1, round(size * rng.uniform(0.02, 0.06))) if rng.random() < 0.15 else 0
    bend = float(rng.uniform(-0.5, 0.5)) if rng.random() < 0.15 else 0.0
    return LetterStyle(spacing, weight, bend)


def _render_size(size: int) -> int:
    """The smallest of the sizes :data:`_RENDER_SIZES` at or above ``size`` (the largest if
    none): a worker then loads each font in a few sizes, not in every one."""
    return next((s for s in _RENDER_SIZES if s >= size), _RENDER_SIZES[-1])


def _drawn_word(
    rng: np.random.Generator, config: WordConfig, assets: WordAssets, fonts: FontSet
) -> tuple[str, WordCanvas, float]:
    """A text, its canvas in a face that covers it (from ``fonts``, else from all fonts), and
    the scale from the canvas to the text size drawn."""
    looks = config.scene_like()
    for _ in range(_ATTEMPTS):
        text = _text(rng, config, assets)
        face = fonts.pick(rng, text) or assets.fonts.pick(rng, text)
        if face is None:
            continue
        size = font_size(rng, face.path, looks, False)
        drawn = size
        style = PLAIN
        if config.render == "scene":
            drawn = _render_size(size)
            style = _letter_style(rng, drawn)
        plate = bool(rng.random() < looks.plate_rate)
        canvas = word_canvas(rng, text, face.path, drawn, plate, False, style)
        if canvas is not None:
            return text, canvas, size / drawn
    raise InputError("no font can draw the words drawn (check --fonts and --corpus)")


def _cut(
    rng: np.random.Generator, image: np.ndarray, quad: np.ndarray, config: WordConfig
) -> np.ndarray:
    """The crop of the word at ``quad``: a loose box or a (jittered) rectified quad."""
    mixed = config.crops == "mixed"
    if config.crops == "loose" or (mixed and rng.random() < config.loose_rate):
        x0, y0, x1, y1 = loose_box(rng, quad, 0.3, image.shape)
        return image[y0:y1, x0:x1]
    if config.render == "scene":
        return crop_quad(image, jitter_quad(rng, quad, 0.05))
    return crop_quad(image, np.round(quad))


def render_word(
    rng: np.random.Generator,
    config: WordConfig,
    assets: WordAssets,
    backdrops: list[np.ndarray],
    fonts: FontSet,
) -> tuple[np.ndarray, str]:
    """One word crop (BGR uint8) and its transcription, in one of ``fonts`` (the unit's
    palette) on a patch of one of ``backdrops`` (float32 RGB photos or generated backgrounds)."""
    looks = config.scene_like()
    text, canvas, scale = _drawn_word(rng, config, assets, fonts)
    box_h = float(canvas.box[3, 1] - canvas.box[0, 1]) * scale
    quad = random_quad(rng, canvas.box * scale, box_h, looks, 0, 0).astype(np.float32)
    margin = 4 + 0.4 * box_h  # room for loose boxes (up to 0.3 x the height) and jitter
    quad -= quad.min(axis=0) - margin
    w, h = (math.ceil(v + margin) for v in quad.max(axis=0))
    homography = cv2.getPerspectiveTransform(canvas.box, quad)
    patch = photo_patch(rng, backdrops[int(rng.integers(len(backdrops)))], h, w)
    region = warp_points(homography, canvas.plate) if canvas.plate is not None else quad
    region_mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(region_mask, np.round(region).astype(np.int32), 1)
    scene = config.render == "scene"
    contrast = float(rng.uniform(looks.min_contrast, 90.0)) if scene else looks.min_contrast
    composite(rng, patch, canvas, homography, region_mask, contrast, False)
    if scene:
        if rng.random() < 0.08:
            occlude(rng, patch, quad)
        image = degrade(rng, patch, float(np.linalg.norm(quad[3] - quad[0])))
    else:
        image = jpeg(camera_effects(rng, patch), looks.jpeg_quality)
    return cv2.cvtColor(_cut(rng, image, quad, config), cv2.COLOR_RGB2BGR), text
