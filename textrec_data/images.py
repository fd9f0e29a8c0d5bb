"""Decoding the images a source refers to: scene images, and cropped words kept as they came."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from textrec_data.storage import as_path

#: Encoded images stored as they are (PNG, JPEG): every reader of the manifest decodes them.
KEPT_ENCODINGS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_DECODE_FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION


def decode_image(image: bytes | str) -> np.ndarray | None:
    """Decode an encoded image (its bytes, or its file's path) to BGR uint8 (H, W, 3), or None
    when it cannot be decoded."""
    decoded = decode_keeping_bytes(image)
    return None if decoded is None else decoded[0]


def decode_keeping_bytes(image: bytes | str) -> tuple[np.ndarray, bytes | None] | None:
    """Decode an encoded image (bytes or path) to BGR uint8 (H, W, 3), with its bytes when they
    can be stored as they are (PNG or JPEG that OpenCV decodes; else None); None when it cannot
    be decoded."""
    try:
        data = image if isinstance(image, bytes) else as_path(image).read_bytes()
    except OSError:
        return None
    if not data:
        return None
    try:  # OpenCV raises on images over its size limit (2**30 pixels): decompression bombs
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), _DECODE_FLAGS)
    except cv2.error:
        return None
    if decoded is not None:
        return decoded, data if data.startswith(KEPT_ENCODINGS) else None
    try:  # formats OpenCV lacks (e.g. some GIFs): try Pillow
        with Image.open(io.BytesIO(data)) as pil:
            return cv2.cvtColor(np.asarray(pil.convert("RGB")), cv2.COLOR_RGB2BGR), None
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
