"""Synthetic word crops for `benchmarks/bench_scale.py`, rendered through the sources seam, and
one parts build of them (run as its own process: ``python -m benchmarks.scale_words WORDS ENGINE
WORKERS OUT`` prints the report as JSON). Imports no torch: Dask's worker processes import this
module too."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np

from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.records import CroppedWord, Origin
from textrec_data.sources import Plan

LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def render_word(index: int) -> tuple[str, bytes]:
    """A deterministic word and a PNG crop of it: one dark bar per character on a noisy light
    background, 32 px high (cheap stand-ins for rendered text)."""
    rng = np.random.default_rng(index)
    word = "".join(rng.choice(list(LETTERS), rng.integers(3, 10)))
    crop = np.full((32, 14 * len(word) + 8, 3), rng.integers(170, 250), np.uint8)
    for i, ch in enumerate(word):
        top = 4 + LETTERS.index(ch) % 12
        crop[top:28, 6 + 14 * i : 14 + 14 * i] = rng.integers(0, 80)
    crop = cv2.subtract(crop, rng.integers(0, 30, crop.shape, dtype=np.uint8))
    return word, cv2.imencode(".png", crop)[1].tobytes()


@dataclass(frozen=True)
class WordsSource:
    """``words`` synthetic cropped words, ``per_unit`` to a unit of work."""

    words: int
    per_unit: int = 100
    name: ClassVar[str] = "bench-words"

    def plan(self) -> Plan:
        starts = range(0, self.words, self.per_unit)
        return Plan([(s, min(self.per_unit, self.words - s)) for s in starts])

    def read(self, unit: tuple[int, int]) -> list[CroppedWord]:
        start, count = unit
        records = []
        for i in range(start, start + count):
            word, png = render_word(i)
            records.append(CroppedWord(Origin("bench", i + 1, word), f"w{i}", png, word))
        return records


def build(words: int, engine: str, workers: int, out: str) -> dict:
    """Run in a fresh process: build the parts manifest of ``words`` words; its report."""
    config = ManifestConfig(
        "synthetic", "synthetic", out, workers=workers, overwrite=True, engine=engine,
        rows_per_part=max(1000, words // 20),
    )  # fmt: skip
    return build_manifest(config, progress=False, source=WordsSource(words))


if __name__ == "__main__":
    words, engine, workers, out = sys.argv[1:5]
    print(json.dumps(build(int(words), engine, int(workers), out)))
