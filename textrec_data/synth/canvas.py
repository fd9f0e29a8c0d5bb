"""One word drawn upright on its own canvas: text, outline and plate masks and the text box.

The text box is tight horizontally (ink extent plus a small pad) and spans the font's ascender to
descender line vertically (extended by any ink beyond it), so a rectified crop shows lower case
letters at their true height relative to capitals (``o`` vs ``O``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from textrec_data.synth.fonts import line_box, load_font
from textrec_data.synth.letters import PLAIN, LetterStyle, arc, bend, draw_letters, letters_bbox

# Coverage above which a canvas pixel counts as ink when measuring the text box.
_INK = 0.12


@dataclass
class WordCanvas:
    """A word's layers, coloured later against the scene it is pasted into."""

    text_mask: np.ndarray  # float32 (ch, cw) in [0, 1]
    ink_mask: np.ndarray  # text plus outline
    plate_mask: np.ndarray | None
    box: np.ndarray  # (4, 2) text box corners in canvas pixels, clockwise from top-left
    plate: np.ndarray | None  # (4, 2) plate corners
    outline: bool
    shadow: tuple[int, int] | None


def _corners(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """The rectangle's corners clockwise from top-left, float32 (4, 2)."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def _text_box(
    ink_mask: np.ndarray, baseline: int, line_top: int, line_bottom: int
) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1): the ink's extent widened to the font's line box, padded; None if no
    pixel has ink."""
    cols = np.flatnonzero(ink_mask.max(axis=0) > _INK)
    rows = np.flatnonzero(ink_mask.max(axis=1) > _INK)
    if len(cols) == 0:
        return None
    x0, x1 = float(cols[0]), float(cols[-1] + 1)
    y0 = float(min(rows[0], baseline + line_top))
    y1 = float(max(rows[-1] + 1, baseline + line_bottom))
    pad = max(1.0, 0.05 * (y1 - y0))
    return x0 - pad, y0 - pad, x1 + pad, y1 + pad


def _plate(
    rng: np.random.Generator, canvas_size: tuple[int, int], rect: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(mask, corners) of a sign plate with random rounded corners on ``rect`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = rect
    img = Image.new("L", canvas_size, 0)
    radius = int(rng.uniform(0, 0.5) * min(x1 - x0, y1 - y0))
    ImageDraw.Draw(img).rounded_rectangle(rect, radius, fill=255)
    return np.asarray(img, np.float32) / 255.0, _corners(*rect)


def _decoration(
    rng: np.random.Generator, size: int, placeholder: bool
) -> tuple[int, tuple[int, int] | None]:
    """(outline stroke width or 0, drop shadow offset or None): at most one of them, each for
    about 15% of legible words and never for a placeholder."""
    if placeholder:
        return 0, None
    if rng.random() < 0.15:
        return max(2, round(size * 0.07)), None
    if rng.random() < 0.15:
        d = 1 + round(size * 0.04)
        return 0, (d, d)
    return 0, None


def word_canvas(
    rng: np.random.Generator,
    text: str,
    path: str,
    size: int,
    plate: bool,
    placeholder: bool,
    style: LetterStyle = PLAIN,
) -> WordCanvas | None:
    """``text`` in the font at ``path`` and ``size`` and letter ``style``, maybe outlined,
    shadowed or on a plate (never for a placeholder); None if nothing of it is visible."""
    font = load_font(path, size)
    stroke, shadow = _decoration(rng, size, placeholder)
    line_top, line_bottom = line_box(path, size)
    left, top, right, bottom = letters_bbox(text, font, style, stroke)
    top, bottom = min(top, line_top), max(bottom, line_bottom)
    line_h = bottom - top
    pm_x = round(line_h * rng.uniform(0.3, 0.9)) if plate else 0
    pm_y = round(line_h * rng.uniform(0.15, 0.5)) if plate else 0
    margin = 4 + stroke + (shadow[0] if shadow else 0)
    lift = style.bend * size  # the arc's height: the canvas grows by it above and below
    mx, my = margin + pm_x, margin + pm_y + round(abs(lift))
    canvas_size = (right - left + 2 * mx, bottom - top + 2 * my)
    origin = (mx - left, my - top)

    text_mask = draw_letters(canvas_size, origin, text, font, style)
    ink_mask = draw_letters(canvas_size, origin, text, font, style, stroke) if stroke else text_mask
    if lift:
        offsets = arc(canvas_size[0], lift)
        text_mask, ink_mask = bend(text_mask, offsets), bend(ink_mask, offsets)
        line_top, line_bottom = line_top - round(max(lift, 0)), line_bottom - round(min(lift, 0))
    text_box = _text_box(ink_mask, origin[1], line_top, line_bottom)
    if text_box is None:
        return None
    x0, y0, x1, y1 = text_box
    plate_mask = plate_box = None
    if plate:
        plate_rect = (x0 - pm_x, y0 - pm_y, x1 + pm_x, y1 + pm_y)
        plate_mask, plate_box = _plate(rng, canvas_size, plate_rect)
    box = _corners(x0, y0, x1, y1)
    return WordCanvas(text_mask, ink_mask, plate_mask, box, plate_box, stroke > 0, shadow)
