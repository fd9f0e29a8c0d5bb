"""Where textrec's ``ppocr:v4`` reading lost points against RapidOCR: PP-OCRv4's ONNX file
(rapidocr_onnxruntime 1.4.4) run by ONNX Runtime (one thread) on the official IC15 test crops,
with each of three preprocessing/decoding choices taken textrec's old way or PaddleOCR's:

- ``resize``: width ``round(48 w / h)``, at least 16 (textrec) or PaddleOCR's ceil/int rule;
- ``pad``: to the next 16 columns, at least 320 (textrec), or to exactly ``max(width, 320)``;
- ``steps``: CTC decoded over the crop's own ``width // 8`` steps (textrec) or over every step
  of the padded input (PaddleOCR).

    python -m benchmarks.ppocr_v4_gap --manifest M --out benchmarks/results/ppocr_v4_gap.json
"""

from __future__ import annotations

import argparse
import json
import math
from itertools import product
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from benchmarks.common import machine
from textrec_data.preprocess import decode_crop
from textrec_model.metrics import compute_metrics
from textrec_model.models import PRETRAINED
from textrec_model.pretrained import weight_file


def widths(h: int, w: int, resize: str, pad: str) -> tuple[int, int]:
    """(resized, padded) width of an ``h`` x ``w`` crop at height 48."""
    ratio = w / float(h)
    box = int(48 * max(320 / 48, ratio))
    resized = min(math.ceil(48 * ratio), box) if resize == "paddle" else max(round(48 * ratio), 16)
    padded = max(resized, 320) if pad == "paddle" else max(-(-resized // 16) * 16, 320)
    return resized, padded


def greedy(probs: np.ndarray, steps: int, chars: list[str]) -> str:
    """Best path over the first ``steps`` steps, repeats merged, blanks dropped."""
    ids = probs[:steps].argmax(-1)
    keep = np.ones(len(ids), bool)
    keep[1:] = ids[1:] != ids[:-1]
    return "".join(chars[i] for i in ids[keep & (ids != 0)])


def main() -> None:
    import onnx
    import onnxruntime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--out", default="benchmarks/results/ppocr_v4_gap.json")
    args = parser.parse_args()
    path = str(weight_file(PRETRAINED["ppocr:v4"]))
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    chars = ["", *meta["character"].split("\n"), " "]
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    frame = pd.read_parquet(args.manifest, columns=["label", "split", "crop"])
    frame = frame[frame["split"] == "test"]
    crops = [decode_crop(c, channels=3)[:, :, ::-1] for c in frame["crop"]]  # BGR
    rows = []
    for resize, pad in product(("textrec", "paddle"), repeat=2):
        outputs = []
        for crop in crops:
            resized, padded = widths(crop.shape[0], crop.shape[1], resize, pad)
            image = cv2.resize(crop, (resized, 48)).astype(np.float32).transpose(2, 0, 1)
            batch = np.zeros((1, 3, 48, padded), np.float32)
            batch[0, :, :, :resized] = image / 127.5 - 1
            outputs.append((session.run(None, {"x": batch})[0][0], resized))
        for steps in ("textrec", "paddle"):
            texts = [greedy(p, w // 8 if steps == "textrec" else len(p), chars) for p, w in outputs]
            accuracy = compute_metrics(texts, list(frame["label"])).word_accuracy_alnum
            rows.append({"resize": resize, "pad": pad, "steps": steps, "alnum": accuracy})
            print(rows[-1])
    Path(args.out).write_text(json.dumps({"rows": rows, **machine()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
