"""Shared benchmark plumbing: the default dataset, result files, medians."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / "out" / "bench"


def dataset_dirs() -> tuple[Path, Path]:
    """(images, gt) from BENCH_IMAGES / BENCH_GT, else the synthetic set (generated if needed)."""
    if os.environ.get("BENCH_IMAGES") and os.environ.get("BENCH_GT"):
        return Path(os.environ["BENCH_IMAGES"]), Path(os.environ["BENCH_GT"])
    synth = WORK / "synth"
    if not (synth / "gt").is_dir():
        subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "synth", "--out", str(synth)], check=True
        )
    return synth / "images", synth / "gt"


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def peak_rss_mib() -> dict:
    """Peak RSS (MiB) of this process and of its largest finished child (e.g. a pool worker)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"rss_main_mib": own, "rss_worker_mib": kids, "rss_mib": own + kids}


def run_measured(module: str, *args: str) -> dict:
    """Run ``python -m module --rss ARGS`` in a fresh process; its last stdout line is JSON."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--rss", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=1) + "\n")
    return path


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value
