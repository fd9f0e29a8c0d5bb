"""Word mode words/s: `textrec synth --words N --workers 2`, wall clock and CPU time, with the
default assets and (where present) with make fonts' fonts, make corpus' corpus and a background
folder; and scene mode's path (scenes, then the manifest stage) for the same number of words.

    python -m benchmarks.bench_synth [N] [--fonts fonts] [--corpus FILE] [--backgrounds DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import WORK, write_result

TEXTREC = [sys.executable, "-m", "pipelines.cli"]


def _timed(*commands: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of running ``commands`` one after the other."""
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for command in commands:
        subprocess.run([*TEXTREC, *command], check=True)
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return round(wall, 2), round(cpu, 2)


def _row(words: int, wall: float, cpu: float) -> dict:
    return {
        "words": words,
        "seconds": wall,
        "cpu_seconds": cpu,
        "words_per_s": round(words / wall, 1),
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser()
    p.add_argument("words", nargs="?", type=int, default=20_000)
    p.add_argument("--fonts", default="fonts")
    p.add_argument("--corpus", default="out/corpus/en.tsv")
    p.add_argument("--backgrounds", default=None)
    a = p.parse_args(argv)
    out = WORK / "synth_words"
    base = ["synth", "--words", str(a.words), "--out", str(out), "--workers", "2", "--overwrite"]
    rows = {"default": _row(a.words, *_timed([*base, "--quiet"]))}
    extras = []
    if Path(a.fonts).is_dir():
        extras += ["--fonts", a.fonts]
    if Path(a.corpus).is_file():
        extras += ["--corpus", a.corpus]
    if a.backgrounds and Path(a.backgrounds).is_dir():
        extras += ["--backgrounds", a.backgrounds]
    if extras:
        rows["extras"] = {**_row(a.words, *_timed([*base, "--quiet", *extras])), "options": extras}
    scenes = WORK / "synth_scenes"
    shutil.rmtree(scenes, ignore_errors=True)
    images = str(math.ceil(a.words / 5.96))  # legible words per default scene
    scene_mode = [
        ["synth", "--out", str(scenes), "--images", images, "--quiet"],
        ["manifest", "--images", str(scenes / "images"), "--gt", str(scenes / "gt"), "--out",
         str(scenes / "manifest"), "--workers", "2", "--overwrite", "--quiet"],
    ]  # fmt: skip
    wall, cpu = _timed(*scene_mode)
    kept = json.loads((scenes / "manifest" / "report.json").read_text())["kept"]
    rows["scenes_then_manifest"] = _row(kept, wall, cpu)
    result = {
        "benchmark": "textrec synth --words N --workers 2: words/s (wall clock)",
        "cpus": os.cpu_count(),
        "load_average_after": os.getloadavg(),
        "rows": rows,
        "target": ">= 400 words/s",
    }
    path = write_result("synth_words", result)
    print({k: v["words_per_s"] for k, v in rows.items()}, "->", path)
    return result


if __name__ == "__main__":
    main()
