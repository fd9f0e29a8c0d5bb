"""How benchmarks and users cut words out of scenes, beyond the tight rectified quad.

- a *jittered* quad: each corner moved by a little of the word's height, so crops are cut
  slightly off the word (a letter's edge clipped, a sliver of background added);
- a *loose box*: the axis-aligned box around a (rotated, slanted) quad with some background
  margin, as the official ICDAR 2015 word crops are cut;
- :func:`loose_view`: the same for a crop alone (the training stream has no scene): the crop
  rotated by a small angle and cut by the axis-aligned box around it, with margins.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def jitter_quad(rng: np.random.Generator, points: np.ndarray, amount: float) -> np.ndarray:
    """``points`` (4, 2) with every coordinate moved by up to ``amount`` x the quad's height."""
    height = float(np.linalg.norm(points[3] - points[0]))
    return points + rng.uniform(-amount, amount, (4, 2)).astype(np.float32) * height


def loose_box(
    rng: np.random.Generator, points: np.ndarray, margin: float, shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the axis-aligned box around ``points`` grown on each side by up to
    ``margin`` x the quad's height, inside an image of ``shape`` (at least 1 pixel wide)."""
    height = float(np.linalg.norm(points[3] - points[0]))
    grow = rng.uniform(0.0, margin, 4) * height
    x0 = max(0, math.floor(points[:, 0].min() - grow[0]))
    y0 = max(0, math.floor(points[:, 1].min() - grow[1]))
    x1 = min(shape[1], math.ceil(points[:, 0].max() + grow[2]))
    y1 = min(shape[0], math.ceil(points[:, 1].max() + grow[3]))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def loose_view(
    rng: np.random.Generator, image: np.ndarray, max_angle: float, margin: float, jitter: float
) -> np.ndarray:
    """A word crop seen as a loose box: rotated by up to ``max_angle`` degrees, cut by its
    axis-aligned box grown by up to ``margin`` and moved by up to ``jitter`` (both x the crop's
    height) on each side. Pixels beyond the crop repeat its border."""
    h, w = image.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-max_angle, max_angle)), 1)
    turned = corners @ matrix[:, :2].T + matrix[:, 2]
    grow = (rng.uniform(0.0, margin, 4) + rng.uniform(-jitter, jitter, 4)) * h
    x0, y0 = turned.min(axis=0) - grow[:2]
    x1, y1 = turned.max(axis=0) + grow[2:]
    matrix[:, 2] -= (x0, y0)
    size = (max(4, round(x1 - x0)), max(4, round(y1 - y0)))
    return cv2.warpAffine(
        image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
