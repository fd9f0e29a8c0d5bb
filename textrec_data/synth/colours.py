"""Colours for synthetic scenes: random colours, grey levels and contrast to a background."""

from __future__ import annotations

import colorsys

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def luma(rgb: np.ndarray) -> np.ndarray:
    """Grey level (ITU-R BT.601) of RGB values in [0, 255], over the last axis."""
    return rgb @ _LUMA


def random_colour(rng: np.random.Generator, sat: float = 0.7) -> np.ndarray:
    """An RGB float32 colour in [0, 255] with saturation below ``sat``, neither black nor white."""
    h, s, v = rng.random(), rng.random() * sat, 0.15 + 0.8 * rng.random()
    return np.array(colorsys.hsv_to_rgb(h, s, v), np.float32) * 255.0


def with_luma(colour: np.ndarray, target: float) -> np.ndarray:
    """Move ``colour`` towards black or white until its grey level is ``target``."""
    current = float(luma(colour))
    if target <= current:
        return colour * (target / max(current, 1e-3))
    return colour + (255.0 - colour) * ((target - current) / max(255.0 - current, 1e-3))


def black_or_white(against: float) -> np.ndarray:
    """Black on a grey level above 127, else white (RGB float32)."""
    return np.full(3, 0.0 if against > 127 else 255.0, np.float32)


def contrasting(
    rng: np.random.Generator, lo: float, hi: float, contrast: float
) -> np.ndarray | None:
    """A colour whose grey level is at least ``contrast`` below ``lo`` or above ``hi``."""
    ranges = []
    if lo - contrast >= 0:
        ranges.append((0.0, lo - contrast))
    if hi + contrast <= 255:
        ranges.append((hi + contrast, 255.0))
    if not ranges:
        return None
    a, b = ranges[int(rng.integers(len(ranges)))]
    return with_luma(random_colour(rng), a + (b - a) * rng.random())
