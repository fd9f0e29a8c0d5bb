"""Photo-like scene backgrounds: gradients, noise texture, walls, blobs, panels and poles."""

from __future__ import annotations

import math

import cv2
import numpy as np

from textrec_data.synth.colours import random_colour


def smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Blurred value noise in about [0, 1] with ``cells`` cells across the width."""
    gw = max(2, cells)
    gh = max(2, round(cells * h / w))
    small = rng.random((gh, gw), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Perlin-like fractal noise, zero-centred, roughly in [-1, 1]."""
    cells = int(rng.integers(3, 8))
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for _ in range(4):
        out += amp * (smooth_noise(rng, h, w, cells) - 0.5)
        total += amp * 0.5
        amp *= 0.5
        cells *= 2
    return out / total


def _blend(
    img: np.ndarray, mask: np.ndarray, colour: np.ndarray, alpha: float, pts: np.ndarray
) -> None:
    """In place: ``img = img * (1 - alpha*mask) + colour * alpha*mask`` inside the bounding
    box of ``pts`` (the shape drawn into ``mask``) plus a few pixels."""
    h, w = mask.shape
    x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int) - 3, 0)
    x1 = min(int(np.ceil(pts[:, 0].max())) + 4, w)
    y1 = min(int(np.ceil(pts[:, 1].max())) + 4, h)
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0:y1, x0:x1, None] * alpha
    roi = img[y0:y1, x0:x1]
    roi += (colour - roi) * m


def _everywhere(img: np.ndarray) -> np.ndarray:
    """Corner points spanning the whole image, for :func:`_blend`."""
    h, w = img.shape[:2]
    return np.array([[0, 0], [w, h]], np.float32)


def _textured_gradient(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A two-colour linear gradient at a random angle with fractal texture, float32 RGB."""
    c1, c2 = random_colour(rng), random_colour(rng)
    angle = rng.random() * 2 * math.pi
    ramp_x = np.linspace(0, 1, w, dtype=np.float32) * math.cos(angle)
    ramp_y = np.linspace(0, 1, h, dtype=np.float32) * math.sin(angle) * h / w
    t = ramp_y[:, None] + ramp_x[None, :]
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    tint = (1.0 + 0.3 * (rng.random(3) - 0.5)) * rng.uniform(8, 45)
    t_tex = _texture(rng, h, w)
    return c1 + (c2 - c1) * t[..., None] + t_tex[..., None] * tint.astype(np.float32)


def _add_brick_wall(rng: np.random.Generator, img: np.ndarray) -> None:
    """A brick or tile pattern of thin lines, in place."""
    h, w = img.shape[:2]
    step = int(rng.integers(7, 20))
    thick = 1
    lines = np.zeros((h, w), np.float32)
    for row, y in enumerate(range(int(rng.integers(0, step)), h, step)):
        cv2.line(lines, (0, y), (w, y), 1.0, thick)
        for x in range((row % 2) * step, w, 2 * step):
            cv2.line(lines, (x, y), (x, min(h, y + step)), 1.0, thick)
    _blend(img, lines, random_colour(rng), float(rng.uniform(0.2, 0.6)), _everywhere(img))


def _add_soft_blob(rng: np.random.Generator, img: np.ndarray) -> None:
    """A blurred ellipse (foliage, sky, light), drawn at half size, in place."""
    h, w = img.shape[:2]
    small = np.zeros((h // 2, w // 2), np.float32)
    centre = (int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2)))
    axes = (int(rng.integers(5, w // 4)), int(rng.integers(5, h // 4)))
    cv2.ellipse(small, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    small = cv2.GaussianBlur(small, (0, 0), float(rng.uniform(1.5, 8)))
    mask = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    _blend(img, mask, random_colour(rng), float(rng.uniform(0.3, 0.9)), _everywhere(img))


def _add_panel(rng: np.random.Generator, img: np.ndarray) -> None:
    """A near-upright rectangle (wall, window, shop front, sign), maybe framed, in place."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    rw, rh = rng.uniform(15, w * 0.7), rng.uniform(10, h * 0.6)
    box = cv2.boxPoints(((cx, cy), (rw, rh), float(rng.normal(0, 4))))
    cv2.fillConvexPoly(mask, np.round(box).astype(np.int32), 1.0, cv2.LINE_AA)
    _blend(img, mask, random_colour(rng), float(rng.uniform(0.6, 1.0)), box)
    if rng.random() < 0.4:
        thick = int(rng.integers(1, 4))
        frame = np.zeros((h, w), np.float32)
        cv2.polylines(frame, [np.round(box).astype(np.int32)], True, 1.0, thick, cv2.LINE_AA)
        _blend(img, frame, random_colour(rng), 1.0, np.vstack([box - thick, box + thick]))


def _add_pole(rng: np.random.Generator, img: np.ndarray) -> None:
    """A straight line across the image (pole, cable, edge), in place."""
    h, w = img.shape[:2]
    mask = np.zeros((h, w), np.float32)
    ends = rng.uniform(0, 1, (2, 2)) * (w, h)
    thick = int(rng.integers(1, 7))
    p1, p2 = (tuple(int(v) for v in e) for e in ends)
    cv2.line(mask, p1, p2, 1.0, thick, cv2.LINE_AA)
    pts = np.vstack([ends - thick, ends + thick]).astype(np.float32)
    _blend(img, mask, random_colour(rng), float(rng.uniform(0.5, 1.0)), pts)


def background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A photo-like textured scene background, float32 RGB in [0, 255].

    Drawn at half resolution and scaled up: four times cheaper, and the slightly soft result
    looks like an out-of-focus background behind sharp text.
    """
    img = _textured_gradient(rng, (height + 1) // 2, (width + 1) // 2)
    if rng.random() < 0.3:
        _add_brick_wall(rng, img)
    for _ in range(int(rng.integers(0, 5))):
        _add_soft_blob(rng, img)
    for _ in range(int(rng.integers(0, 6))):
        _add_panel(rng, img)
    for _ in range(int(rng.integers(0, 4))):
        _add_pole(rng, img)
    np.clip(img, 0, 255, out=img)
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
