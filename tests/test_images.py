"""Decoding scene images: freed decode buffers are reused, not faulted in afresh."""

from __future__ import annotations

import platform
import resource

import cv2
import numpy as np
import pytest

from textrec_data.images import decode_image, keep_freed_memory


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt"
)
def test_scene_decodes_reuse_freed_memory():
    rng = np.random.default_rng(0)
    scene = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)  # 2.7 MB decoded
    jpeg = cv2.imencode(".jpg", scene)[1].tobytes()
    assert keep_freed_memory()
    decode_image(jpeg)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        assert decode_image(jpeg).shape == (720, 1280, 3)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
    # glibc's default maps every such buffer afresh: ~660 page faults (one a 4 KiB page) a decode
    assert faults < 100
