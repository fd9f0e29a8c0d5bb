"""Letter styles of word mode: character spacing, stroke weight and a curved baseline.

:data:`PLAIN` draws a word exactly as the scene mode always has (one ``ImageDraw.text`` call);
other styles place letters one by one and bend the drawn masks along an arc.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont


@dataclass(frozen=True)
class LetterStyle:
    """``spacing`` between letters and ``bend`` (the arc's height at the middle of the word,
    negative: downwards) as fractions of the font size; ``weight``: pixels of extra stroke in
    the text colour (bolder)."""

    spacing: float = 0.0
    weight: int = 0
    bend: float = 0.0


PLAIN = LetterStyle()


def _offsets(text: str, font: ImageFont.FreeTypeFont, spacing_px: float) -> list[float]:
    """Each letter's x offset from the word's origin."""
    return [font.getlength(text[:i]) + i * spacing_px for i in range(len(text))]


def letters_bbox(
    text: str, font: ImageFont.FreeTypeFont, style: LetterStyle, stroke: int
) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the drawn word relative to its baseline origin."""
    width = stroke + style.weight
    if not style.spacing:
        return font.getbbox(text, anchor="ls", stroke_width=width)
    boxes = []
    for x, ch in zip(_offsets(text, font, style.spacing * font.size), text, strict=True):
        left, top, right, bottom = font.getbbox(ch, anchor="ls", stroke_width=width)
        boxes.append((left + x, top, right + x, bottom))
    left = min(b[0] for b in boxes)
    right = max(b[2] for b in boxes)
    return int(left), min(b[1] for b in boxes), int(np.ceil(right)), max(b[3] for b in boxes)


def draw_letters(
    canvas_size: tuple[int, int],
    origin: tuple[int, int],
    text: str,
    font: ImageFont.FreeTypeFont,
    style: LetterStyle,
    stroke: int = 0,
) -> np.ndarray:
    """Coverage of ``text`` (plus a ``stroke``-pixel outline) drawn at its baseline ``origin``."""
    img = Image.new("L", canvas_size, 0)
    draw = ImageDraw.Draw(img)
    width = stroke + style.weight
    options = {"stroke_width": width, "stroke_fill": 255} if width else {}
    if not style.spacing:
        draw.text(origin, text, font=font, fill=255, anchor="ls", **options)
    else:
        offsets = _offsets(text, font, style.spacing * font.size)
        for x, ch in zip(offsets, text, strict=True):
            draw.text((origin[0] + x, origin[1]), ch, font=font, fill=255, anchor="ls", **options)
    return np.asarray(img, np.float32) / 255.0


def arc(width: int, height_px: float) -> np.ndarray:
    """Vertical offset of each column for an arc ``height_px`` high at the middle, 0 at both
    ends (float32 (width,))."""
    t = np.linspace(-1.0, 1.0, width, dtype=np.float32)
    return height_px * (1.0 - t * t)


def bend(mask: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``mask`` with column x moved up by ``offsets[x]`` pixels (down when negative)."""
    h, w = mask.shape
    map_x = np.broadcast_to(np.arange(w, dtype=np.float32), (h, w))
    map_y = np.arange(h, dtype=np.float32)[:, None] + offsets[None, :]
    return cv2.remap(mask, np.ascontiguousarray(map_x), map_y, cv2.INTER_LINEAR)
