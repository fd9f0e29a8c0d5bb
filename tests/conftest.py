"""Shared helpers for the data-stage tests: tiny synthetic ICDAR scenes written to a directory."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="session")
def _cache_in_a_temp_folder(tmp_path_factory):
    """Font scans are cached under $XDG_CACHE_HOME: the tests' cache goes to a temp folder (their
    subprocesses inherit it), never to the home of whoever runs them."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """The tests' tensors are small: one intra-op thread computes them as fast as two, and on a
    busy machine several times faster (a parallel op waits for every thread it started). Test
    subprocesses inherit it through OMP_NUM_THREADS; a test comparing runs across processes
    passes its own thread count on (test_reliability)."""
    import torch

    before = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    yield
    torch.set_num_threads(before[0])
    if before[1] is None:
        os.environ.pop("OMP_NUM_THREADS", None)
    else:
        os.environ["OMP_NUM_THREADS"] = before[1]


class Scenes:
    """A 200x120 white scene holding one 80x40 word patch with four grey quadrants.

    The quadrant levels (top-left, top-right, bottom-left, bottom-right) make any flip or rotation
    of a crop visible, so a test can prove a crop came out upright.
    """

    W, H = 200, 120
    PATCH = (60, 40, 140, 40, 140, 80, 60, 80)  # clockwise from the word's top-left
    LEVELS = (0, 80, 160, 240)

    @classmethod
    def patch(cls) -> np.ndarray:
        patch = np.zeros((40, 80, 3), np.uint8)
        tl, tr, bl, br = cls.LEVELS
        patch[:20, :40], patch[:20, 40:], patch[20:, :40], patch[20:, 40:] = tl, tr, bl, br
        return patch

    @classmethod
    def image(cls) -> np.ndarray:
        image = np.full((cls.H, cls.W, 3), 255, np.uint8)
        image[40:80, 60:140] = cls.patch()
        return image

    @classmethod
    def rotated(cls, angle: float) -> tuple[np.ndarray, tuple[float, ...]]:
        """The scene rotated by ``angle`` degrees about its centre, and the patch's moved quad."""
        matrix = cv2.getRotationMatrix2D((cls.W / 2, cls.H / 2), angle, 1.0)
        image = cv2.warpAffine(cls.image(), matrix, (cls.W, cls.H), borderValue=(255, 255, 255))
        corners = np.asarray(cls.PATCH, np.float64).reshape(4, 2)
        moved = np.c_[corners, np.ones(4)] @ matrix.T
        return image, tuple(float(v) for v in moved.ravel())

    @staticmethod
    def quadrant_means(crop: np.ndarray) -> tuple[float, float, float, float]:
        """Mean grey of the inner part of each quadrant (TL, TR, BL, BR), away from edges."""
        crop = cv2.resize(crop, (80, 40), interpolation=cv2.INTER_AREA).astype(np.float64)
        rows, cols = (slice(5, 15), slice(25, 35)), (slice(8, 32), slice(48, 72))
        return tuple(float(crop[r, c].mean()) for r in rows for c in cols)

    @staticmethod
    def write(
        images: Path,
        gt: Path,
        stem: str,
        lines: list[str | bytes] | bytes | None,
        image: np.ndarray | bytes | None = None,
        ext: str = ".png",
        newline: bytes = b"\n",
        bom: bool = False,
    ) -> int:
        """Write ``images/<stem><ext>`` and ``gt/gt_<stem>.txt``; return the GT line count.

        ``image`` None writes no image, bytes are written as they are (a corrupt file).
        ``lines`` are joined with ``newline`` and end with one; raw ``bytes`` are written as is.
        """
        images.mkdir(parents=True, exist_ok=True)
        gt.mkdir(parents=True, exist_ok=True)
        if isinstance(image, bytes):
            (images / f"{stem}{ext}").write_bytes(image)
        elif image is not None:
            ok, data = cv2.imencode(ext.lower(), image)
            assert ok
            (images / f"{stem}{ext}").write_bytes(data.tobytes())
        if lines is None:
            return 0
        if isinstance(lines, bytes):
            (gt / f"gt_{stem}.txt").write_bytes(lines)
            return -1
        encoded = [ln if isinstance(ln, bytes) else ln.encode("utf-8") for ln in lines]
        data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(ln + newline for ln in encoded)
        (gt / f"gt_{stem}.txt").write_bytes(data)
        return len(lines)


@pytest.fixture(scope="session")
def scenes() -> type[Scenes]:
    return Scenes


@pytest.fixture(scope="session")
def shared_run(tmp_path_factory):
    """The suite's one trained model and its manifests (tests/shared_run.py), trained once."""
    from shared_run import build_shared_run

    return build_shared_run(tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="session")
def world(tmp_path_factory, scenes, shared_run):
    """The misuse suite's inputs and outputs (tests/misuse.py), built once."""
    from misuse import build_world

    return build_world(tmp_path_factory.mktemp("world"), scenes, shared_run)
