"""The shipped model in PyTorch (float32), ONNX Runtime (float32) and ONNX Runtime int8, one
thread each, on the official IC15 test crops: alphanumeric word accuracy and crops/s.

The variants read the split in chunks of CHUNK rows, taking turns chunk by chunk (the order
rotating), so that load from other processes on a shared machine falls on all of them alike:
compare the speeds as ratios within one run. Each variant reads every crop once; accuracy is
scored as ``textrec eval`` scores (:func:`textrec_model.scoring.score`).

Usage: python -m benchmarks.bench_runtime TEST_MANIFEST INT8_ONNX
(the int8 file from ``textrec export --int8 --calibration TRAIN_MANIFEST``).
"""

from __future__ import annotations

import sys
import time

import torch

from benchmarks.common import write_result
from textrec_model.metrics import compute_metrics, is_alphanumeric_word
from textrec_model.recognizer import Recognizer
from textrec_model.scoring import score, split_rows

CHUNK = 128


def main(test_manifest: str, int8_onnx: str) -> dict:
    torch.set_num_threads(1)
    variants = {
        "torch_fp32": Recognizer.pretrained(runtime="torch", threads=1),
        "onnx_fp32": Recognizer.pretrained(runtime="onnx", threads=1),
        "onnx_int8": Recognizer.from_onnx(int8_onnx, threads=1),
    }
    rows = list(split_rows([test_manifest], "test"))
    seconds = dict.fromkeys(variants, 0.0)
    texts: dict[str, list[str]] = {name: [] for name in variants}
    for k, start in enumerate(range(0, len(rows), CHUNK)):
        chunk = rows[start : start + CHUNK]
        names = list(variants)
        for name in names[k % 3 :] + names[: k % 3]:
            began = time.perf_counter()
            metrics = score(variants[name], chunk)
            seconds[name] += time.perf_counter() - began
            texts[name] += [p.text for p in metrics.predictions]
    labels = [row.label for row in rows]
    alnum = [i for i, label in enumerate(labels) if is_alphanumeric_word(label)]
    results = {}
    for name in variants:
        words = compute_metrics([texts[name][i] for i in alnum], [labels[i] for i in alnum])
        results[name] = {
            "alnum_n": len(alnum),
            "word_accuracy_alnum": words.word_accuracy_alnum,
            "crops_per_s_one_thread": round(len(rows) / seconds[name], 2),
            "speed_vs_torch": round(seconds["torch_fp32"] / seconds[name], 3),
        }
    return {"crops": len(rows), "chunk": CHUNK, "variants": results}


if __name__ == "__main__":
    result = main(sys.argv[1], sys.argv[2])
    write_result("inference_runtime", result)
    print(result)
