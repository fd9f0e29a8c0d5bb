"""The ICDAR 2015 table of docs/RESULTS.md: every recognizer on the same official crops, one run.

Rows: PP-OCRv4 rec zero-shot (RapidOCR 1.4.4's ONNX model through its own pipeline: an optional
dependency of this benchmark only), and any number of textrec models (checkpoints, or pretrained
names such as ``easyocr:english_g2`` for zero-shot). A textrec row is scored by
:func:`textrec_model.scoring.score`, exactly as ``textrec eval`` and training validation score;
PP-OCRv4's texts by :func:`textrec_model.metrics.compute_metrics` on the same labels (exact,
case-insensitive, alphanumeric). Figures are on all words and on an optional subset (e.g.
IC15-1811); speed is timed with one thread on decoded crops (crops/s per thread, median of
``--rounds``). ``--rotate`` (repeatable) scores each textrec
model once per setting (``textrec eval --rotate``); PP-OCRv4 through RapidOCR reads crops as given.

    python -m benchmarks.ic15_table --manifest out/ic15_test_crops/manifest.parquet \\
        --model easyocr:english_g2 --model out/ft/best.pt --out benchmarks/results/ic15_table.json

PP-OCRv4 needs ``pip install --no-deps rapidocr-onnxruntime==1.4.4 pyclipper shapely pyyaml six``
(``--no-deps``: its ``opencv-python`` would clash with textrec's ``opencv-python-headless``).
"""

from __future__ import annotations

import argparse
import json
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import machine, median
from textrec_data.preprocess import decode_crop
from textrec_model.metrics import compute_metrics
from textrec_model.predictor import ROTATIONS, DecodeConfig
from textrec_model.recognizer import Recognizer
from textrec_model.scoring import SplitRow, score, split_rows


def ppocr_reader():
    """PP-OCRv4 rec through RapidOCR's own recognition pipeline: BGR crops in, texts out."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def read(crops: list[np.ndarray]) -> list[str]:
        texts = []
        for crop in crops:
            result, _ = engine(crop, use_det=False, use_cls=False, use_rec=True)
            texts.append(result[0][0] if result else "")
        return texts

    return read


def textrec_recognizer(source: str) -> Recognizer:
    """A textrec model (checkpoint, ONNX or pretrained name) on one thread."""
    if source.endswith(".onnx"):
        return Recognizer.from_onnx(source, threads=1)
    return Recognizer.from_checkpoint(source)


def timed(read, crops: list, rounds: int) -> tuple[list, float]:
    """What ``read(crops)`` returns, and the median over ``rounds`` of crops it reads per
    second."""
    speeds, out = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        out = read(crops)
        speeds.append(len(crops) / (time.perf_counter() - start))
    return out, round(median(speeds), 1)


def table_row(name: str, texts: list[str], rows: list[SplitRow], subset: list[bool], speed):
    """Metrics of ``texts`` on all words and the subset, and the speed."""
    labels = [row.label for row in rows]
    picked = [i for i, keep in enumerate(subset) if keep]
    return {
        "name": name,
        "all": compute_metrics(texts, labels).__dict__,
        "subset": compute_metrics([texts[i] for i in picked], [labels[i] for i in picked]).__dict__,
        "crops_per_s_per_thread": speed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True, help="manifest of the test crops")
    parser.add_argument("--split", default="test")
    parser.add_argument("--model", action="append", default=[], help="textrec model (repeat)")
    parser.add_argument(
        "--label", action="append", default=[], help="each --model's name in the table (repeat)"
    )
    parser.add_argument("--subset", help="file of image ids (one per line), e.g. IC15-1811")
    parser.add_argument("--no-ppocr", action="store_true", help="skip PP-OCRv4")
    parser.add_argument(
        "--rotate", action="append", choices=ROTATIONS, help="textrec models' --rotate (repeat)"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/ic15_table.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    words = list(split_rows([args.manifest], args.split))
    crops = [decode_crop(w.crop, channels=3)[:, :, ::-1].copy() for w in words]  # BGR
    keep = set(Path(args.subset).read_text().split()) if args.subset else None
    subset = [keep is None or w.image_id in keep for w in words]
    rows = []
    if not args.no_ppocr:
        texts, speed = timed(ppocr_reader(), crops, args.rounds)
        row = table_row("PP-OCRv4 rec", texts, words, subset, speed)
        rows.append({**row, "label": "PP-OCRv4 rec (RapidOCR 1.4.4, ONNX Runtime), zero-shot"})
    rgb = [crop[:, :, ::-1] for crop in crops]
    for k, model in enumerate(args.model):
        label = args.label[k] if k < len(args.label) else model
        recognizer = textrec_recognizer(model)
        for rotate in args.rotate or ["none"]:
            decode = DecodeConfig(rotate=rotate)
            texts = [p.text for p in score(recognizer, words, decode).predictions]
            _, speed = timed(partial(recognizer.predict, decode=decode), rgb, args.rounds)
            name = model if rotate == "none" else f"{model} --rotate {rotate}"
            rows.append({**table_row(name, texts, words, subset, speed), "label": label})
    for row in rows:
        a, s = row["all"], row["subset"]
        print(
            f"{row['name']:<40} n={a['n']} ci {a['word_accuracy_ci']:.4f} alnum "
            f"{a['word_accuracy_alnum']:.4f} | subset n={s['n']} alnum "
            f"{s['word_accuracy_alnum']:.4f} | {row['crops_per_s_per_thread']} crops/s/thread"
        )
    result = {"manifest": args.manifest, "subset": args.subset, "rows": rows, **machine()}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
