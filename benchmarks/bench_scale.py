"""`make bench-scale`: the manifest stage past one process pool, and streaming a large directory.

1. A manifest of ``--words`` small synthetic word crops (rendered by `benchmarks.scale_words`
   through the sources seam, 100 words a unit) built as parts with the Dask
   engine and with the local engine, 1 and 2 workers, each build in a fresh process: rows/s
   (wall clock of the whole build, imports and cluster start included), Dask 2 vs 1 worker, and
   Dask vs local at 2 workers; also the CPU seconds of the process tree, which do not depend on
   what else the machine runs (the load average is recorded with every figure).
2. Streaming that directory end to end (a full pass of the train split, DataLoader with 2
   workers, in a fresh process): samples/s and peak RSS, against a directory of 1/10 the rows.
3. The local engine as a user runs it: the whole `textrec manifest` command (start-up, planning,
   work, merge), wall clock, 2 workers vs 1, on BENCH_IMAGES/BENCH_GT (IC15 train) or the
   synthetic default set.

    python -m benchmarks.bench_scale --words 1000000   # the full-size run (docs/RESULTS.md)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time

import torch
from torch.utils.data import DataLoader

from benchmarks.common import WORK, dataset_dirs, median, peak_rss_mib, write_result
from textrec_data.stream import ManifestStream, StreamConfig

SCALE = WORK / "scale"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str]) -> dict:
    """Run ``cmd``; its wall-clock and process-tree CPU seconds, and the load average around it."""
    load, cpu, start = os.getloadavg()[0], children_cpu(), time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return {
        "wall_s": time.perf_counter() - start,
        "cpu_s": children_cpu() - cpu,
        "load_avg_1min": [load, os.getloadavg()[0]],
        "stdout": out.stdout,
    }


def measured_build(words: int, engine: str, workers: int, out: str) -> dict:
    args = [str(words), engine, str(workers), out]
    run = timed([sys.executable, "-m", "benchmarks.scale_words", *args])
    report = json.loads(run.pop("stdout").strip().splitlines()[-1])
    return {**run, "rows": report["kept"], "parts": report["parts"]}


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


def cli_run(workers: int, out: str) -> dict:
    """The whole `textrec manifest` command, as a user runs it."""
    images, gt = dataset_dirs()
    cmd = [sys.executable, "-m", "pipelines.cli", "manifest", "--images", str(images)]
    cmd += ["--gt", str(gt), "--out", out, "--workers", str(workers), "--overwrite", "--quiet"]
    run = timed(cmd)
    del run["stdout"]
    return run


def ratio(runs: dict, a: str, b: str, key: str) -> float:
    """median(a) / median(b) of ``key`` over the rounds."""
    return median([r[key] for r in runs[a]]) / median([r[key] for r in runs[b]])


def engine_builds(words: int, rounds: int) -> dict:
    runs: dict[str, list[dict]] = {}
    for _ in range(rounds):
        for engine in ("dask", "local"):
            for workers in (1, 2):
                name = f"{engine}_w{workers}"
                build_run = measured_build(words, engine, workers, str(SCALE / name))
                runs.setdefault(name, []).append(build_run)
    return {
        "runs": runs,
        "rows_per_s": {k: [r["rows"] / r["wall_s"] for r in v] for k, v in runs.items()},
        "dask_2_vs_1": ratio(runs, "dask_w1", "dask_w2", "wall_s"),
        "dask_2_vs_1_target": ">= 1.7",
        "local_vs_dask_at_2": ratio(runs, "dask_w2", "local_w2", "wall_s"),
        "local_vs_dask_at_2_target": "<= 1.2 (Dask at most 1.2x slower)",
        "cpu_dask_vs_local_at_2": ratio(runs, "dask_w2", "local_w2", "cpu_s"),
        "cpu_2_vs_1_workers_dask": ratio(runs, "dask_w2", "dask_w1", "cpu_s"),
    }


def streaming(words: int) -> dict:
    small = measured_build(words // 10, "local", 2, str(SCALE / "small"))
    passes = {
        "small": {"words": small["rows"], **measured_stream(str(SCALE / "small"))},
        "large": {"words": words, **measured_stream(str(SCALE / "dask_w2"))},
    }
    return {
        **passes,
        "rss_large_vs_small": passes["large"]["rss_mib"] / passes["small"]["rss_mib"],
        "rss_target": "<= 1.2",
    }


def cli_wall_clock(rounds: int) -> dict:
    runs: dict[str, list[dict]] = {"w1": [], "w2": []}
    for _ in range(rounds):
        for workers in (1, 2):
            runs[f"w{workers}"].append(cli_run(workers, str(SCALE / f"cli_w{workers}")))
    return {
        "dataset": str(dataset_dirs()[1]),
        "runs": runs,
        "ratio_median": ratio(runs, "w1", "w2", "wall_s"),
        "target": ">= 1.7",
        "cpu_2_vs_1_workers": ratio(runs, "w2", "w1", "cpu_s"),
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
