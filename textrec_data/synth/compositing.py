"""Colour a word's canvas against the background under it and paste it warped into the scene."""

from __future__ import annotations

import cv2
import numpy as np

from textrec_data.synth.canvas import WordCanvas
from textrec_data.synth.colours import black_or_white, contrasting, luma, random_colour, with_luma


def warp_points(homography: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """``pts`` (N, 2) mapped through the 3x3 ``homography``, float64 (N, 2)."""
    points = pts.reshape(-1, 1, 2).astype(np.float64)
    return cv2.perspectiveTransform(points, homography).reshape(-1, 2)


def _over(rgb: np.ndarray, alpha: np.ndarray, colour: np.ndarray, mask: np.ndarray) -> None:
    """Premultiplied 'over': paint ``colour`` with coverage ``mask`` onto (rgb, alpha)."""
    m = mask[..., None]
    rgb *= 1.0 - m
    rgb += colour * m
    alpha *= 1.0 - mask
    alpha += mask


def _fallback_plate(canvas: WordCanvas) -> np.ndarray:
    """A rectangular plate mask 3 pixels around the text box (still inside the canvas margin,
    so within the free area around the word's quad)."""
    plate_mask = np.zeros_like(canvas.text_mask)
    grow = 3
    x0, y0 = np.floor(canvas.box[0]).astype(int) - grow
    x1, y1 = np.ceil(canvas.box[2]).astype(int) + grow
    plate_mask[max(y0, 0) : y1, max(x0, 0) : x1] = 1.0
    return plate_mask


def _legible_text_colour(
    rng: np.random.Generator,
    rgb: np.ndarray,
    alpha: np.ndarray,
    canvas: WordCanvas,
    lo: float,
    hi: float,
    min_contrast: float,
) -> np.ndarray:
    """The colour of a legible word. Paints its plate first if it has one, or needs one because
    no colour contrasts enough with the background grey levels ``lo``..``hi`` under it."""
    plate_mask = canvas.plate_mask
    if plate_mask is None:
        text_colour = contrasting(rng, lo, hi, min_contrast)
        if text_colour is not None:
            return text_colour
        plate_mask = _fallback_plate(canvas)
    plate_colour = random_colour(rng)
    plate_luma = float(luma(plate_colour))
    _over(rgb, alpha, plate_colour, plate_mask)
    text_colour = contrasting(rng, plate_luma, plate_luma, min_contrast + 20)
    return text_colour if text_colour is not None else black_or_white(0.5 * (lo + hi))


def _illegible_text(
    rng: np.random.Generator, text_mask: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray]:
    """(colour, mask) of a placeholder word: faint (low contrast) or blurred."""
    mean = 0.5 * (lo + hi)
    if rng.random() < 0.5:
        delta = rng.uniform(10, 25) * (1 if mean < 128 else -1)
        return with_luma(random_colour(rng), mean + delta), text_mask
    text_colour = contrasting(rng, lo, hi, 40.0)
    if text_colour is None:
        text_colour = with_luma(random_colour(rng), 255.0 - mean)
    return text_colour, cv2.GaussianBlur(text_mask, (0, 0), float(rng.uniform(1.2, 2.5)))


def _paint_text(
    rng: np.random.Generator,
    rgb: np.ndarray,
    alpha: np.ndarray,
    canvas: WordCanvas,
    text_colour: np.ndarray,
    text_mask: np.ndarray,
) -> None:
    """Paint the word's outline or drop shadow, if any, then its text."""
    if canvas.outline:  # the outline carries the contrast to the background, the fill to it
        outline_luma = float(luma(text_colour))
        _over(rgb, alpha, text_colour, canvas.ink_mask)
        fill = contrasting(rng, outline_luma, outline_luma, 90.0)
        text_colour = fill if fill is not None else black_or_white(outline_luma)
    elif canvas.shadow is not None and float(luma(text_colour)) > 127:  # dark drop shadow
        dx, dy = canvas.shadow
        shadow = np.zeros_like(text_mask)
        shadow[dy:, dx:] = text_mask[:-dy, :-dx]
        _over(rgb, alpha, with_luma(text_colour, 25.0), shadow * 0.7)
    _over(rgb, alpha, text_colour, text_mask)


def _paste_warped(
    scene: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, homography: np.ndarray
) -> None:
    """Warp the premultiplied layers (rgb, alpha) by ``homography`` and paste them 'over' the
    scene, in place, touching only the bounding box of the warped canvas."""
    img_h, img_w = scene.shape[:2]
    ch, cw = alpha.shape
    corners = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    warped = warp_points(homography, corners)
    rx0, ry0 = np.maximum(np.floor(warped.min(axis=0)).astype(int), 0)
    rx1 = min(int(np.ceil(warped[:, 0].max())), img_w)
    ry1 = min(int(np.ceil(warped[:, 1].max())), img_h)
    if rx1 <= rx0 or ry1 <= ry0:
        return
    shift = np.array([[1, 0, -rx0], [0, 1, -ry0], [0, 0, 1]], np.float64)
    out = cv2.warpPerspective(
        np.dstack([rgb, alpha]),
        shift @ homography,
        (rx1 - rx0, ry1 - ry0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    roi = scene[ry0:ry1, rx0:rx1]
    roi *= 1.0 - out[..., 3:4]
    roi += out[..., :3]


def composite(
    rng: np.random.Generator,
    scene: np.ndarray,
    canvas: WordCanvas,
    homography: np.ndarray,
    region_mask: np.ndarray,
    min_contrast: float,
    placeholder: bool,
) -> None:
    """Colour the word's layers against the background under ``region_mask`` (a legible word
    ``min_contrast`` grey levels away from it) and paste them, warped by ``homography``, into
    ``scene`` (in place)."""
    grey = luma(scene[region_mask.astype(bool)])
    lo, hi = (float(v) for v in np.percentile(grey, [3, 97]))
    ch, cw = canvas.text_mask.shape
    rgb = np.zeros((ch, cw, 3), np.float32)
    alpha = np.zeros((ch, cw), np.float32)
    if placeholder:
        text_colour, text_mask = _illegible_text(rng, canvas.text_mask, lo, hi)
    else:
        text_colour = _legible_text_colour(rng, rgb, alpha, canvas, lo, hi, min_contrast)
        text_mask = canvas.text_mask
    _paint_text(rng, rgb, alpha, canvas, text_colour, text_mask)
    _paste_warped(scene, rgb, alpha, homography)
