"""LMDB import and export speed against the bare loop DTRB reads an LMDB with, and peak RSS.

The benchmark writes its own DTRB-style LMDB of N JPEG word crops (as MJSynth is distributed),
then, each in a fresh subprocess:

- ``bare``: deep-text-recognition-benchmark's read loop, ``txn.get`` of ``label-%09d`` and
  ``image-%09d`` and ``cv2.imdecode`` of every sample (one process: it is a Dataset's
  ``__getitem__``), rows/s;
- ``import``: ``textrec manifest --format lmdb --workers 2`` (every sample decoded, checked,
  accounted for, written to Parquet with its bytes kept), run through the CLI as users run it,
  rows/s (its report's build time) and peak RSS;
- ``export``: ``textrec convert --to lmdb`` of that manifest, through the CLI, rows/s and peak
  RSS.

Import / bare should be >= 0.8; peak RSS of import and export should not grow from 10k to 100k
words (each holds a bounded number of row groups). Peak RSS is the process's own high-water mark
(``VmHWM``, which starts afresh at exec; ``getrusage`` would report the benchmark parent's RSS
inherited through fork); the LMDB pages a process maps count in it too. Each step also reports
its CPU time per row (user + system, workers included): on a machine shared with other jobs
wall-clock rates move with the load, CPU time does not, and ``2 * bare CPU / import CPU`` is the
ratio of rows/s on two free cores (the bare loop uses one).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import cv2
import lmdb
import numpy as np

from benchmarks.common import WORK, median, run_measured, write_result
from pipelines.cli import main as cli

SIZES = (10_000, 100_000)
ROUNDS = 3
DISTINCT_CROPS = 2000


def write_bench_lmdb(path: Path, count: int) -> None:
    """A DTRB-style LMDB of ``count`` JPEG crops (100x32, a rendered word; 2000 distinct)."""
    rng = np.random.default_rng(0)
    crops, words = [], []
    for i in range(DISTINCT_CROPS):
        word = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), 1 + i % 9))
        image = np.full((32, 100, 3), rng.integers(120, 256, 3), np.uint8)
        cv2.putText(image, word, (2, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 20, 20), 2)
        crops.append(cv2.imencode(".jpg", image)[1].tobytes())
        words.append(word.encode())
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    env = lmdb.open(str(path), map_size=1 << 34)
    with env.begin(write=True) as txn:
        for i in range(1, count + 1):
            txn.put(b"image-%09d" % i, crops[i % DISTINCT_CROPS])
            txn.put(b"label-%09d" % i, words[i % DISTINCT_CROPS])
        txn.put(b"num-samples", str(count).encode())
    env.close()


def bare(path: str) -> dict:
    """DTRB's loop over every sample: label decode, image decode."""
    start = time.perf_counter()
    env = lmdb.open(path, readonly=True, lock=False, readahead=False, meminit=False)
    with env.begin(write=False) as txn:
        count = int(txn.get(b"num-samples"))
        for i in range(1, count + 1):
            txn.get(b"label-%09d" % i).decode("utf-8")
            data = np.frombuffer(txn.get(b"image-%09d" % i), np.uint8)
            cv2.imdecode(data, cv2.IMREAD_COLOR)
    return {"rows": count, "rows_per_s": count / (time.perf_counter() - start)}


def import_lmdb(path: str, out: str) -> dict:
    """``textrec manifest --format lmdb``: rows/s over its build time."""
    args = ["manifest", "--format", "lmdb", "--gt", path, "--out", out, "--workers", "2"]
    cli([*args, "--overwrite", "--quiet"], standalone_mode=False)
    report = json.loads((Path(out) / "report.json").read_text())
    if not report["accounting_ok"]:
        raise RuntimeError(report["accounting"])
    return {"rows": report["kept"], "rows_per_s": report["kept"] / report["seconds"]}


def export_lmdb(manifest: str, out: str) -> dict:
    """``textrec convert --to lmdb``: rows/s."""
    start = time.perf_counter()
    cli(["convert", manifest, "--to", "lmdb", "--out", out, "--overwrite"], standalone_mode=False)
    env = lmdb.open(out, readonly=True, lock=False)
    with env.begin() as txn:
        rows = int(txn.get(b"num-samples"))
    env.close()
    return {"rows": rows, "rows_per_s": rows / (time.perf_counter() - start)}


STEPS = {"bare": bare, "import": import_lmdb, "export": export_lmdb}


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    usages = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(u.ru_utime + u.ru_stime for u in usages)


def peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measured(step: str, *args: str) -> dict:
    """Run one step in this process (``--rss``): its figures, CPU time per row and peak RSS."""
    start = cpu_seconds()
    figures = STEPS[step](*args)
    cpu_us = (cpu_seconds() - start) / figures["rows"] * 1e6
    return {**figures, "cpu_us_per_row": cpu_us, "rss_main_mib": peak_rss_mib()}


def main() -> dict:
    runs: dict[str, dict] = {}
    for n in SIZES:
        db, manifest = WORK / f"lmdb_{n}", WORK / f"lmdb_manifest_{n}"
        write_bench_lmdb(db, n)
        steps = {"bare": (str(db),), "import": (str(db), str(manifest))}
        steps["export"] = (str(manifest / "manifest.parquet"), str(WORK / f"lmdb_export_{n}"))
        rounds = ROUNDS if n == SIZES[-1] else 1
        runs[str(n)] = {
            step: [run_measured("benchmarks.bench_lmdb", step, *args) for _ in range(rounds)]
            for step, args in steps.items()
        }
    big = runs[str(SIZES[-1])]
    rate = {step: median([r["rows_per_s"] for r in big[step]]) for step in STEPS}
    cpu = {step: median([r["cpu_us_per_row"] for r in big[step]]) for step in STEPS}
    rss = {
        step: [median([r["rss_main_mib"] for r in runs[str(n)][step]]) for n in SIZES]
        for step in ("import", "export")
    }
    result = {
        "benchmark": "LMDB import/export rows/s vs DTRB's bare lmdb+OpenCV loop; peak RSS",
        "sizes": list(SIZES),
        "runs": runs,
        "rows_per_s_median_100k": rate,
        "import_vs_bare": rate["import"] / rate["bare"],
        "cpu_us_per_row_median_100k": cpu,
        "import_vs_bare_two_free_cores": 2 * cpu["bare"] / cpu["import"],
        "rss_main_mib": rss,
        "rss_growth": {step: b / a - 1 for step, (a, b) in rss.items()},
        "target": "import/bare >= 0.8; peak RSS flat (<= +20%) from 10k to 100k words",
        "load_average_at_end": os.getloadavg(),
    }
    path = write_result("lmdb", result)
    print(
        f"lmdb {SIZES[-1]} words: bare {rate['bare']:.0f} rows/s, import {rate['import']:.0f} "
        f"({result['import_vs_bare']:.2f}x; by CPU time on 2 cores "
        f"{result['import_vs_bare_two_free_cores']:.2f}x), export {rate['export']:.0f}; RSS import "
        f"{rss['import'][0]:.0f} -> {rss['import'][1]:.0f} MiB, export {rss['export'][0]:.0f} "
        f"-> {rss['export'][1]:.0f} MiB  -> {path}"
    )
    return result


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--rss":
        print(json.dumps(measured(*sys.argv[2:])))
    else:
        main()
