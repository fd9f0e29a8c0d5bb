"""The ICDAR 2015 table of docs/RESULTS.md: every recognizer on the same official crops, one run.

Rows: PP-OCRv4 rec zero-shot (RapidOCR 1.4.4's ONNX model through its own pipeline: an optional
dependency of this benchmark only), and any number of textrec models (checkpoints, or pretrained
names such as ``easyocr:english_g2`` for zero-shot). Every row is scored by
:func:`textrec_model.metrics.compute_metrics` on the same labels (exact, case-insensitive,
alphanumeric), on all words and on an optional subset (e.g. IC15-1811), and timed with one
thread (crops/s per thread, median of ``--rounds``). ``--rotate`` (repeatable) scores each textrec
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
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from benchmarks.common import machine, median
from textrec_data.preprocess import decode_crop
from textrec_model.metrics import compute_metrics
from textrec_model.recognizer import ROTATIONS, DecodeConfig, Recognizer


def read_test_words(manifest: str, split: str) -> pd.DataFrame:
    """image_id, label and crop bytes of one split of a manifest."""
    frame = pd.read_parquet(manifest, columns=["image_id", "label", "split", "crop"])
    return frame[frame["split"] == split].reset_index(drop=True)


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


def textrec_reader(source: str, rotate: str = "none"):
    """A textrec Recognizer (checkpoint, ONNX or pretrained name) as crops in, texts out; crops
    taller than wide also read turned with ``rotate`` ``vertical``."""
    recognizer = (
        Recognizer.from_onnx(source, threads=1)
        if source.endswith(".onnx")
        else Recognizer.from_checkpoint(source)
    )

    def read(crops: list[np.ndarray]) -> list[str]:
        rgb = [crop[:, :, ::-1] for crop in crops]
        return [p.text for p in recognizer.predict(rgb, DecodeConfig(rotate=rotate))]

    return read


def score(name: str, read, crops: list, labels: list[str], subset: list[bool], rounds: int):
    """Metrics on all words and the subset, and crops/s on one thread (median of rounds)."""
    speeds, texts = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        texts = read(crops)
        speeds.append(len(crops) / (time.perf_counter() - start))
    picked = [i for i, keep in enumerate(subset) if keep]
    return {
        "name": name,
        "all": compute_metrics(texts, labels).__dict__,
        "subset": compute_metrics([texts[i] for i in picked], [labels[i] for i in picked]).__dict__,
        "crops_per_s_per_thread": round(median(speeds), 1),
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
    words = read_test_words(args.manifest, args.split)
    crops = [decode_crop(c, channels=3)[:, :, ::-1].copy() for c in words["crop"]]  # BGR
    labels = list(words["label"])
    keep = set(Path(args.subset).read_text().split()) if args.subset else set(words["image_id"])
    subset = [i in keep for i in words["image_id"]]
    rows = []
    if not args.no_ppocr:
        row = score("PP-OCRv4 rec", ppocr_reader(), crops, labels, subset, args.rounds)
        rows.append({**row, "label": "PP-OCRv4 rec (RapidOCR 1.4.4, ONNX Runtime), zero-shot"})
    for k, model in enumerate(args.model):
        label = args.label[k] if k < len(args.label) else model
        for rotate in args.rotate or ["none"]:
            read = textrec_reader(model, rotate)
            name = model if rotate == "none" else f"{model} --rotate {rotate}"
            rows.append({**score(name, read, crops, labels, subset, args.rounds), "label": label})
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
