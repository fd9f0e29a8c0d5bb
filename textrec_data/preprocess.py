"""Preprocessing shared by training, evaluation, inference and export: crop -> model input.

A model says what it takes in an :class:`InputSpec` (channels, height, time stride, width
limits); every path from a crop to a model input goes through :func:`resized_width` and
:func:`scale_crop` here, so a crop is seen the same way in training, ``textrec eval``,
:class:`~textrec_model.recognizer.Recognizer` and an exported model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

_INTERPOLATION = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR}

#: How a crop's resized width is rounded (:func:`resized_width`).
WIDTH_RULES = ("round", "paddle")
#: Narrowest width a crop is resized to (a sliver of a crop would give one or two time steps).
MIN_CROP_WIDTH = 16


@dataclass(frozen=True)
class InputSpec:
    """What a model takes: ``channels`` (1 grayscale, 3 RGB) x ``height`` x width pixels in
    [-1, 1]. Width ``W`` gives ``W // time_stride + time_offset`` output steps; ``min_width`` is
    the narrowest input it accepts, ``fixed_width`` (None: any width) the only one. ``resize``
    (``area`` | ``linear``: OpenCV interpolation) and ``pad`` (``zero``: mid-grey, ``edge``:
    the last column repeated) are how the model was trained to see crops; a batch narrower than
    ``pad_to`` columns is padded to it (0: to its widest crop only). ``read_padding``: a
    reading decodes every step of the padded input, not only the crop's own ``steps(width)``
    (PaddleOCR trains CTC over crops padded to 320 columns, and its models put a word's last
    character past the crop's last whole step). ``width_rule``: ``round`` scales a crop to the
    nearest width; ``paddle`` as PaddleOCR's ``resize_norm_img`` does (:func:`resized_width`;
    a crop read alone is then padded to exactly ``max(width, pad_to)`` columns)."""

    channels: int = 1
    height: int = 32
    time_stride: int = 4
    time_offset: int = 0
    min_width: int = 4
    fixed_width: int | None = None
    resize: str = "area"
    pad: str = "zero"
    pad_to: int = 0
    read_padding: bool = False
    width_rule: str = "round"

    def __post_init__(self) -> None:
        sizes = (self.height, self.time_stride, self.min_width, self.fixed_width or 1)
        if self.channels not in (1, 3) or min(sizes) < 1 or self.pad_to < 0:
            raise ValueError(f"unusable input spec {self}")
        if self.resize not in _INTERPOLATION or self.pad not in ("zero", "edge"):
            raise ValueError(f"resize must be one of {sorted(_INTERPOLATION)}, pad zero|edge")
        if self.width_rule not in WIDTH_RULES:
            raise ValueError(f"width_rule must be one of {WIDTH_RULES}")

    def steps(self, width: int) -> int:
        """Output time steps for an input ``width`` (0 when too narrow)."""
        return max(0, width // self.time_stride + self.time_offset)

    def width_for_steps(self, steps: int) -> int:
        """Narrowest input width that gives at least ``steps`` time steps."""
        return max(self.min_width, (steps - self.time_offset) * self.time_stride)


def resized_width(crop_h: int, crop_w: int, spec: InputSpec, max_width: int) -> int:
    """Input width of a ``crop_h`` x ``crop_w`` crop scaled to ``spec.height`` with its aspect
    ratio kept, clamped to ``[max(MIN_CROP_WIDTH, spec.min_width), max_width]`` (or to
    ``spec.fixed_width``). With ``spec.width_rule`` ``paddle``, PaddleOCR's rounding, in its
    float arithmetic: ``ceil(height * w / h)`` up to ``pad_to``, ``int(height * w / h)`` past
    it, at least 1 (a crop narrower than ``min_width`` is read inside its padding)."""
    if spec.fixed_width is not None:
        return spec.fixed_width
    if spec.width_rule == "paddle":
        ratio = crop_w / float(max(crop_h, 1))
        box = int(spec.height * max(spec.pad_to / spec.height, ratio))
        return int(min(max(min(math.ceil(spec.height * ratio), box), 1), max_width))
    width = round(crop_w * spec.height / max(crop_h, 1))
    return int(min(max(width, MIN_CROP_WIDTH, spec.min_width), max_width))


def decode_crop(data: bytes, channels: int = 1) -> np.ndarray | None:
    """Encoded image bytes (a manifest crop) as uint8 ``(h, w)`` grayscale (``channels=1``) or
    ``(h, w, 3)`` RGB; None when the bytes do not decode (or are over OpenCV's size limit). EXIF
    orientation is ignored, as by the manifest stage (a JPEG crop kept as it came has the pixels
    the stage measured). Grey is the luma of the decoded colour pixels, the same ITU-R 601
    weights as :func:`rgb_to_gray` (an image given to :func:`to_model_channels` comes out
    identical), never the decoder's own grey conversion (libpng's applies a PNG's gAMA chunk:
    tens of levels away on the official ICDAR 2015 crops)."""
    flag = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag) if data else None
    except cv2.error:
        return None
    if image is None:
        return None
    image = _on_white(data, image)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if channels == 1 else cv2.COLOR_BGR2RGB)


_PNG = b"\x89PNG\r\n\x1a\n"


def _on_white(data: bytes, image: np.ndarray) -> np.ndarray:
    """``image`` (BGR, as decoded without alpha) composited on white when ``data`` is a PNG with
    an alpha channel: transparent pixels decode black, so black text on a transparent crop
    would read as nothing."""
    if not (data.startswith(_PNG) and len(data) > 25 and data[25] in (4, 6)):  # IHDR colour type
        return image
    raw = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if raw is None or raw.ndim != 3 or raw.shape[2] != 4:
        return image
    raw = to_uint8(raw).astype(np.float32)
    alpha = raw[..., 3:] / 255.0
    return np.round(raw[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def rgb_to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` as grey ``(H, W)``: 0.299 R + 0.587 G + 0.114 B (ITU-R 601),
    the one conversion a crop takes on its way to a grayscale model."""
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)


def to_uint8(array: np.ndarray) -> np.ndarray:
    """An image array of another depth as uint8, scaled (never clipped to white): booleans to
    0/255; 16-bit data (uint16, or other integers above 255: 16-bit PNG and TIFF) from
    0..65535; floats from 0..1 when none is above 1, else taken as 0..255."""
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    values = np.nan_to_num(array.astype(np.float64))
    peak = values.max() if values.size else 0.0
    sixteen = array.dtype.kind == "u" and array.dtype.itemsize == 2
    if sixteen or (array.dtype.kind in "iu" and peak > 255):
        values = values * (255 / 65535)
    elif array.dtype.kind == "f" and peak <= 1.0:
        values = values * 255
    return np.clip(values.round(), 0, 255).astype(np.uint8)


def to_model_channels(image: np.ndarray | Image.Image, channels: int = 1) -> np.ndarray:
    """A word crop as uint8 ``(H, W)`` (``channels=1``, by :func:`rgb_to_gray`) or ``(H, W, 3)``
    RGB: PIL images of any mode, or arrays ``(H, W)``, ``(H, W, 3)`` (RGB) or ``(H, W, 4)``
    (RGBA). Images of another depth than 8 bits are scaled by :func:`to_uint8`."""
    if isinstance(image, Image.Image) and image.mode.startswith(("I", "F")):
        image = np.asarray(image)  # 16/32-bit integer or float pixels: scaled below
    if isinstance(image, Image.Image):
        array = np.asarray(image.convert("L" if image.mode in ("1", "L") else "RGB"))
    else:
        array = np.asarray(image)
        if array.ndim not in (2, 3) or array.shape[0] < 1 or array.shape[1] < 1:
            raise ValueError(f"expected an image (H, W) or (H, W, 3|4), got shape {array.shape}")
        if array.ndim == 3 and array.shape[2] not in (3, 4):
            raise ValueError(f"expected an image (H, W) or (H, W, 3|4), got shape {array.shape}")
        if array.dtype != np.uint8:
            array = to_uint8(array)
        array = array[:, :, :3] if array.ndim == 3 else array
    array = np.ascontiguousarray(array)
    if channels == 1:
        return array if array.ndim == 2 else rgb_to_gray(array)
    return array if array.ndim == 3 else cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)


def scale_crop(image: np.ndarray, width: int, spec: InputSpec) -> np.ndarray:
    """Resize a uint8 crop ``(h, w)`` or ``(h, w, 3)`` to ``(spec.height, width)`` and scale it
    to [-1, 1]: one sample's model input, float32 ``(channels, height, width)``."""
    image = cv2.resize(image, (width, spec.height), interpolation=_INTERPOLATION[spec.resize])
    scaled = image.astype(np.float32) / 127.5 - 1.0
    return scaled[None] if scaled.ndim == 2 else scaled.transpose(2, 0, 1)


def pad_batch(images: list[np.ndarray], spec: InputSpec, columns: int = 0) -> np.ndarray:
    """Stack ``(C, H, w_i)`` inputs into ``(B, C, H, max(max w_i, spec.pad_to, columns))``,
    padded on the right as ``spec.pad`` says (zero: mid-grey; edge: the last column repeated)."""
    max_w = max((image.shape[2] for image in images), default=spec.min_width)
    max_w = max(max_w, spec.pad_to, columns)
    batch = np.zeros((len(images), spec.channels, spec.height, max_w), np.float32)
    for i, image in enumerate(images):
        width = image.shape[2]
        batch[i, :, :, :width] = image
        if spec.pad == "edge" and width < max_w:
            batch[i, :, :, width:] = image[:, :, width - 1 : width]
    return batch
