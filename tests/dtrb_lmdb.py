"""Write LMDBs exactly as deep-text-recognition-benchmark's ``create_lmdb_dataset.py`` does, for
the tests (its own script needs ``fire`` and is not ours to ship).

Its behaviour, reproduced: read ``gtFile`` lines ``imagePath<TAB>label`` (text mode, so CRLF
reads as LF; the newline stripped, nothing else); skip an image that does not
exist, and one whose bytes OpenCV cannot decode as grayscale or that has no pixels (it only
prints a message); number the written samples from 1 with no gaps; store the raw file bytes
under ``image-%09d`` and the UTF-8 label under ``label-%09d``; commit every 1000 samples; finally
put ``num-samples`` = the count written, as ASCII digits.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import lmdb
import numpy as np


def _valid(image: bytes) -> bool:
    decoded = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_GRAYSCALE)
    return decoded is not None and decoded.shape[0] * decoded.shape[1] > 0


def create_dtrb_lmdb(input_path: Path, gt_file: Path, output_path: Path) -> int:
    """Write the LMDB ``output_path`` from ``gt_file``; return the number of samples written."""
    os.makedirs(output_path, exist_ok=True)
    env = lmdb.open(str(output_path), map_size=1 << 30)
    cache: dict[bytes, bytes] = {}
    count = 1
    with open(gt_file, encoding="utf-8") as data:
        lines = data.readlines()
    for line in lines:
        image_path, label = line.strip("\n").split("\t")
        full = input_path / image_path
        if not full.exists():
            continue
        image = full.read_bytes()
        if not _valid(image):
            continue
        cache[b"image-%09d" % count] = image
        cache[b"label-%09d" % count] = label.encode()
        if count % 1000 == 0:
            _write(env, cache)
            cache = {}
        count += 1
    cache[b"num-samples"] = str(count - 1).encode()
    _write(env, cache)
    env.close()
    return count - 1


def _write(env: lmdb.Environment, cache: dict[bytes, bytes]) -> None:
    with env.begin(write=True) as txn:
        for key, value in cache.items():
            txn.put(key, value)
