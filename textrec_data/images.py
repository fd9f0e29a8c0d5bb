"""Decoding the images a source refers to: scene images, and cropped words kept as they came."""

from __future__ import annotations

import ctypes
import functools
import io

import cv2
import numpy as np
from PIL import Image

from textrec_data.storage import as_path

#: Encoded images stored as they are (PNG, JPEG): every reader of the manifest decodes them.
KEPT_ENCODINGS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_IGNORE_EXIF = cv2.IMREAD_IGNORE_ORIENTATION


#: glibc's mallopt parameters (malloc.h) and the values set by :func:`keep_freed_memory`.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest: 2**25 on 64-bit
_TRIM_THRESHOLD = 128 * 1024 * 1024


@functools.cache
def keep_freed_memory() -> bool:
    """Ask glibc's malloc (once per process) to reuse freed memory of up to 32 MB blocks instead
    of unmapping it: by default every decoded scene image (a 1280x720 one: 2.7 MB) is a fresh
    mmap whose pages fault in one by one, which made a JPEG decode 2.6x slower (measured: 8.2 vs
    3.1 ms, mostly kernel time). False where the C library has no ``mallopt`` (not glibc)."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:  # pragma: no cover - musl, macOS
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )


def single_threaded_opencv() -> None:
    """Keep OpenCV single-threaded in this process and the processes it forks: its thread pool
    gains nothing on word crops, and a process forked while that pool holds a lock (a manifest
    pool worker, a DataLoader worker) deadlocks in its first OpenCV call. Called by the command
    line's entry point, before the manifest stage forks its pool, in every engine task and in
    every training stream (0.3 us a call)."""
    cv2.setNumThreads(1)


def _read(image: bytes | str) -> bytes | None:
    """An image's bytes (given, or read from its path); None when unreadable or empty."""
    try:
        data = image if isinstance(image, bytes) else as_path(image).read_bytes()
    except OSError:
        return None
    return data or None


def _imdecode(data: bytes, flags: int) -> np.ndarray | None:
    """OpenCV's decode; None also for images over its size limit (2**30 pixels: decompression
    bombs), on which it raises."""
    try:
        return cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error:
        return None


def _decode_color(data: bytes) -> np.ndarray | None:
    """BGR uint8 (H, W, 3) pixels of encoded bytes, by OpenCV or else Pillow (e.g. some GIFs)."""
    decoded = _imdecode(data, cv2.IMREAD_COLOR | _IGNORE_EXIF)
    if decoded is not None:
        return decoded
    try:
        with Image.open(io.BytesIO(data)) as pil:
            return cv2.cvtColor(np.asarray(pil.convert("RGB")), cv2.COLOR_RGB2BGR)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def decode_image(image: bytes | str) -> np.ndarray | None:
    """Decode an encoded image (its bytes, or its file's path) to BGR uint8 (H, W, 3), or None
    when it cannot be decoded."""
    data = _read(image)
    return None if data is None else _decode_color(data)


def decode_cropped(image: bytes | str) -> tuple[np.ndarray, bytes | None] | None:
    """A cropped word's pixels and the bytes to store as they are (None: re-encode the pixels),
    or None when it cannot be decoded.

    PNG or JPEG bytes that OpenCV decodes are kept; their pixels are then only measured, so they
    are decoded in grayscale (a quarter less work than colour, the same check that they decode).
    Other encodings come back in colour (BGR) to be re-encoded."""
    data = _read(image)
    if data is None:
        return None
    if data.startswith(KEPT_ENCODINGS):
        gray = _imdecode(data, cv2.IMREAD_GRAYSCALE | _IGNORE_EXIF)
        if gray is not None:
            return gray, data
    color = _decode_color(data)
    return None if color is None else (color, None)
