"""`make bench-scale`: the manifest stage past one process pool, and streaming a large directory.

1. A manifest of ``--words`` small synthetic word crops (rendered by the in-benchmark
   :class:`WordsSource`, through the sources seam, 100 words a unit) built as parts with the Dask
   engine and with the local engine, 1 and 2 workers: rows/s (wall clock of the whole build,
   cluster start included), Dask 2 vs 1 worker, and Dask vs local at 2 workers.
2. Streaming that directory end to end (a full pass of the train split, DataLoader with 2
   workers, in a fresh process): samples/s and peak RSS, against a directory of 1/10 the rows.
3. The local engine as a user runs it: the whole `textrec manifest` command (start-up, planning,
   work, merge), wall clock, 2 workers vs 1, on BENCH_IMAGES/BENCH_GT (IC15 train) or the
   synthetic default set.

    python -m benchmarks.bench_scale --words 1000000   # the full-size run (README)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader

from benchmarks.common import WORK, dataset_dirs, median, peak_rss_mib, write_result
from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.records import CroppedWord, Origin
from textrec_data.sources import Plan
from textrec_data.stream import ManifestStream, StreamConfig

LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
SCALE = WORK / "scale"


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
    """Build the parts manifest of ``words`` words; the report with its wall-clock seconds."""
    config = ManifestConfig(
        "synthetic", "synthetic", out, workers=workers, overwrite=True, engine=engine,
        rows_per_part=max(1000, words // 20),
    )  # fmt: skip
    start = time.perf_counter()
    report = build_manifest(config, progress=False, source=WordsSource(words))
    report["wall_seconds"] = time.perf_counter() - start
    return report


def stream_pass(manifest: str) -> dict:
    """Run in a fresh process: one full pass over the train split; samples/s and peak RSS."""
    torch.set_num_threads(1)
    stream = ManifestStream(
        [manifest], "train", StreamConfig(batch_size=64, augment=True), epochs=1
    )
    start, rows = time.perf_counter(), 0
    for batch in DataLoader(stream, batch_size=None, num_workers=2):
        rows += len(batch.labels)
    return {"rows": rows, "samples_per_s": rows / (time.perf_counter() - start), **peak_rss_mib()}


def measured_stream(manifest: str) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench_scale", "--stream", manifest]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cli_seconds(workers: int, out: str) -> float:
    """Wall clock of the whole `textrec manifest` command, as a user runs it."""
    images, gt = dataset_dirs()
    cmd = [sys.executable, "-m", "pipelines.cli", "manifest", "--images", str(images)]
    cmd += ["--gt", str(gt), "--out", out, "--workers", str(workers), "--overwrite", "--quiet"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def engine_builds(words: int, rounds: int) -> dict:
    rates: dict[str, list[float]] = {}
    for _ in range(rounds):
        for engine in ("dask", "local"):
            for workers in (1, 2):
                report = build(words, engine, workers, str(SCALE / f"{engine}_w{workers}"))
                rate = report["kept"] / report["wall_seconds"]
                rates.setdefault(f"{engine}_w{workers}", []).append(rate)
    med = {k: median(v) for k, v in rates.items()}
    return {
        "rows_per_s": rates,
        "parts": report["parts"],
        "dask_2_vs_1": med["dask_w2"] / med["dask_w1"],
        "dask_2_vs_1_target": ">= 1.7",
        "local_vs_dask_at_2": med["local_w2"] / med["dask_w2"],
        "local_vs_dask_at_2_target": "<= 1.2 (Dask at most 1.2x slower)",
    }


def streaming(words: int) -> dict:
    small = build(words // 10, "local", 2, str(SCALE / "small"))
    passes = {
        "small": {"words": small["kept"], **measured_stream(str(SCALE / "small"))},
        "large": {"words": words, **measured_stream(str(SCALE / "dask_w2"))},
    }
    return {
        **passes,
        "rss_large_vs_small": passes["large"]["rss_mib"] / passes["small"]["rss_mib"],
        "rss_target": "<= 1.2",
    }


def cli_wall_clock(rounds: int) -> dict:
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(rounds):
        for workers in (1, 2):
            times[workers].append(cli_seconds(workers, str(SCALE / f"cli_w{workers}")))
    return {
        "dataset": str(dataset_dirs()[1]),
        "seconds_workers1": times[1],
        "seconds_workers2": times[2],
        "ratio_median": median(times[1]) / median(times[2]),
        "target": ">= 1.7",
    }


def main(words: int = 100_000, rounds: int = 1, cli_rounds: int = 3) -> dict:
    shutil.rmtree(SCALE, ignore_errors=True)
    result = {
        "benchmark": "manifest stage on Dask vs local (parts), streaming a directory, CLI wall",
        "words": words,
        "builds": engine_builds(words, rounds),
        "streaming": streaming(words),
        "cli_local_engine": cli_wall_clock(cli_rounds),
    }
    path = write_result("scale", result)
    b, s, c = result["builds"], result["streaming"], result["cli_local_engine"]
    print(
        f"scale ({words} words): Dask 2 vs 1 worker {b['dask_2_vs_1']:.2f}x, local/Dask at 2 "
        f"workers {b['local_vs_dask_at_2']:.2f}x; stream {s['large']['samples_per_s']:.0f} "
        f"samples/s, RSS {s['rss_large_vs_small']:.2f}x of 1/10 the rows; CLI 2 vs 1 worker "
        f"{c['ratio_median']:.2f}x  -> {path}"
    )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cli-rounds", type=int, default=3)
    parser.add_argument("--stream", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream:
        print(json.dumps(stream_pass(args.stream)))
    else:
        main(args.words, args.rounds, args.cli_rounds)
