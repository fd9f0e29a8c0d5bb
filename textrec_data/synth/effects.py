"""Camera and scene degradations on a float32 RGB image in [0, 255]: the scene mode's camera
(:func:`camera_effects`, also word mode's ``--render classic``), and word mode's (``--render
scene``): uneven lighting, occlusion, defocus or motion blur, downscale-then-upscale, noise, JPEG
artefacts."""

from __future__ import annotations

import math

import cv2
import numpy as np

from textrec_data.synth.background import smooth_noise
from textrec_data.synth.colours import random_colour


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


def uneven_light(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """A brightness ramp at a random angle times a smooth shading, up to +-40%."""
    h, w = img.shape[:2]
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (
        np.cos(angle) * np.linspace(-1, 1, w)[None, :]
        + np.sin(angle) * np.linspace(-1, 1, h)[:, None]
    )
    shading = smooth_noise(rng, h, w, 3) - 0.5
    gain = 1.0 + rng.uniform(0.0, 0.3) * ramp + rng.uniform(0.0, 0.3) * shading
    return img * gain[..., None].astype(np.float32)


def occlude(rng: np.random.Generator, img: np.ndarray, quad: np.ndarray) -> None:
    """In place: a thin bar (pole, wire, branch) across the word, at most 12% of its height."""
    height = float(np.linalg.norm(quad[3] - quad[0]))
    t = rng.uniform(0.1, 0.9)
    top = quad[0] + t * (quad[1] - quad[0])
    bottom = quad[3] + t * (quad[2] - quad[3]) + rng.uniform(-0.5, 0.5, 2) * height
    thick = max(1, round(rng.uniform(0.04, 0.12) * height))
    p1 = tuple(int(v) for v in top - (bottom - top))
    p2 = tuple(int(v) for v in bottom + (bottom - top))
    cv2.line(img, p1, p2, tuple(float(c) for c in random_colour(rng)), thick, cv2.LINE_AA)


def _motion_kernel(rng: np.random.Generator, longest: int) -> np.ndarray:
    length = int(rng.integers(2, max(3, longest + 1)))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
    kernel = cv2.warpAffine(kernel, turn, (length, length))
    return kernel / max(float(kernel.sum()), 1e-6)


def blur(rng: np.random.Generator, img: np.ndarray, text_h: float) -> np.ndarray:
    """Defocus (Gaussian) or motion blur (a short line at a random angle), both at most what
    leaves letters ``text_h`` pixels high legible."""
    if rng.random() < 0.6:
        return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, min(1.5, 0.3 + 0.05 * text_h)))
    return cv2.filter2D(img, -1, _motion_kernel(rng, min(7, round(0.2 * text_h))))


def down_up(rng: np.random.Generator, img: np.ndarray, text_h: float) -> np.ndarray:
    """Scaled down (text to no less than 9 pixels high, at most by 0.3) and back up: the
    softness of a low-resolution camera."""
    h, w = img.shape[:2]
    f = rng.uniform(min(0.9, max(0.3, 9.0 / text_h)), 0.9)
    small = cv2.resize(
        img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` (uint8 RGB) encoded as JPEG at ``quality`` and decoded again."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV does not fail on a non-empty uint8 image
        raise RuntimeError("JPEG encoding failed")
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def degrade(rng: np.random.Generator, img: np.ndarray, text_h: float) -> np.ndarray:
    """Lighting, blur, resolution loss, sensor noise and JPEG, each often but not always and
    scaled to the text height ``text_h`` (pixels); the patch as uint8 RGB."""
    if rng.random() < 0.5:
        img = uneven_light(rng, img)
    r = rng.random()
    if r < 0.35:
        img = blur(rng, img, text_h)
    elif r < 0.65:
        img = down_up(rng, img, text_h)
    if rng.random() < 0.7:
        img = img + rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(1, 8)
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    return jpeg(out, int(rng.integers(20, 90))) if rng.random() < 0.6 else out
