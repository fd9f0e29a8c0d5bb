"""Quad geometry: orientation, validity, repair and perspective cropping.

Quads are ``(x1, y1, x2, y2, x3, y3, x4, y4)`` in image pixels (y down), listed clockwise from the
word's own top-left corner, so point order carries the reading direction.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

#: A crop taller than this many times its width (and of more than one character) is vertical.
VERTICAL_ASPECT = 1.5


def quad_points(quad: Sequence[float]) -> np.ndarray:
    """(4, 2) float32 points of a flat 8-value quad."""
    return np.asarray(quad, dtype=np.float32).reshape(4, 2)


def signed_area(points: np.ndarray) -> float:
    """Shoelace area of (4, 2) points; positive when clockwise on screen (y down)."""
    x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def _segments_cross(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> bool:
    def orient(p, q, r):
        return np.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    return orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0


def is_self_intersecting(points: np.ndarray) -> bool:
    """True when opposite edges of the quad cross (a 'bow tie')."""
    p = points
    return _segments_cross(p[0], p[1], p[2], p[3]) or _segments_cross(p[1], p[2], p[3], p[0])


def repair_quad(points: np.ndarray) -> np.ndarray:
    """Return a clockwise, simple quad, keeping the first point (the word's top-left).

    Valid quads are returned unchanged. Counter-clockwise ones are reversed around the first
    point; self-intersecting ones are re-ordered clockwise by angle around the centroid,
    starting from the given first point.
    """
    if is_self_intersecting(points):
        center = points.mean(axis=0)
        angles = np.arctan2(points[:, 1] - center[1], points[:, 0] - center[0])
        order = list(np.argsort(angles))  # increasing angle = clockwise on screen (y down)
        start = order.index(0)
        points = points[order[start:] + order[:start]]
    if signed_area(points) < 0:
        points = points[[0, 3, 2, 1]]
    return points


def crop_size(points: np.ndarray) -> tuple[int, int]:
    """(width, height) of the rectified crop: the longer of each pair of opposite sides."""
    p = points.astype(np.float64)
    width = max(np.linalg.norm(p[1] - p[0]), np.linalg.norm(p[2] - p[3]))
    height = max(np.linalg.norm(p[3] - p[0]), np.linalg.norm(p[2] - p[1]))
    return int(round(width)), int(round(height))


def is_degenerate(points: np.ndarray) -> bool:
    """True when the quad has under one square pixel of area or a side under one pixel."""
    width, height = crop_size(points)
    return abs(signed_area(points)) < 1.0 or width < 1 or height < 1


def overlaps_image(points: np.ndarray, width: int, height: int) -> bool:
    """True when the quad's bounding box meets the image rectangle."""
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return bool(x1 > 0 and y1 > 0 and x0 < width and y0 < height)


def crop_quad(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Rectify the quad ``points`` (4, 2) of ``image`` (H, W, C) to an upright crop (h, w, C).

    The first point maps to the crop's top-left and the second to its top-right, so rotated and
    skewed words come out upright. Parts outside the image replicate the border pixels.
    """
    width, height = crop_size(points)
    width, height = max(width, 1), max(height, 1)
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    matrix = cv2.getPerspectiveTransform(points.astype(np.float32), target)
    return cv2.warpPerspective(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def make_upright(crop: np.ndarray, text: str | None) -> np.ndarray:
    """Rotate a vertical crop (much taller than wide, >1 character) to read left to right.
    ``text`` None (not known yet, e.g. at prediction time) counts as several characters."""
    h, w = crop.shape[:2]
    if (text is None or len(text) > 1) and h > VERTICAL_ASPECT * w:
        return cv2.rotate(crop, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return crop


def polygon_quad(values: Sequence[float]) -> tuple[float, ...] | None:
    """An 8-value quad for a polygon ``x1, y1, ..., xn, yn``: four points as they are (their
    order carries the reading direction, as in ICDAR quads); three or more than four: their
    minimum-area rectangle, clockwise from the corner nearest the first point. None unless the
    values are 3+ finite points."""
    try:
        points = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if points.ndim != 1 or points.size % 2 or points.size < 6 or not np.isfinite(points).all():
        return None
    points = points.reshape(-1, 2)
    if len(points) != 4:
        rect = cv2.boxPoints(cv2.minAreaRect(points.astype(np.float32))).astype(np.float64)
        if not np.isfinite(rect).all():  # OpenCV's NaN for subnormal coordinates: the bounding box
            (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
            rect = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        center = rect.mean(axis=0)
        rect = rect[np.argsort(np.arctan2(rect[:, 1] - center[1], rect[:, 0] - center[0]))]
        start = int(np.argmin(np.linalg.norm(rect - points[0], axis=1)))
        points = np.roll(rect, -start, axis=0)
    return tuple(float(v) for v in points.ravel()) if np.isfinite(points).all() else None
