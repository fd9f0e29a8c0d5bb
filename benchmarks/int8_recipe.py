"""Which nodes ``textrec export --int8`` quantizes, and how: int8 recipes
(:class:`~textrec_model.quantize.Int8Recipe`) of one checkpoint, each calibrated on crops of
a training split and scored on a validation split of the same manifest (alphanumeric word
accuracy, and how many readings agree with float32), then float32 and chosen recipes timed on
one ONNX Runtime thread, interleaved pass by pass: median crops per CPU-second of the process
(CPU time, not wall time: on a shared machine a process waits for a core, and the wait is not
the model's).

    python -m benchmarks.int8_recipe --checkpoint C.pt --manifest TRAIN_MANIFEST \\
        --name v6s [--test TEST_MANIFEST] [--recipes default,all_ops,...] [--timed default]

Select a recipe on the val split; ``--test`` scores float32 and the default recipe on the
test split of TEST_MANIFEST (report it, never choose on it). Results are added under ``name``
in benchmarks/results/int8_recipe.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.common import RESULTS, machine
from textrec_data.preprocess import decode_crop
from textrec_model.export import export_model
from textrec_model.predictor import Predictor
from textrec_model.quantize import Int8Config, Int8Recipe, calibration_crops, quantize_onnx
from textrec_model.scoring import score, split_rows

#: The recipes compared (``default`` is what ``export --int8`` does).
RECIPES = {
    "all_ops": Int8Recipe(ops=(), scope="", depthwise=True),
    "conv_matmul": Int8Recipe(ops=("Conv", "MatMul", "Gemm"), scope="", depthwise=True),
    "backbone_conv": Int8Recipe(depthwise=True),
    "default": Int8Recipe(),
    "default_8bit_weights": Int8Recipe(reduce_range=False),
    "default_moving_average": Int8Recipe(moving_average=True),
}
TIMED_CROPS = 96
TIMED_PASSES = 5


def accuracy(path: Path, rows: list, reference: list[str] | None = None) -> dict:
    """Alphanumeric and exact word accuracy of an ONNX export on ``rows`` (one thread), and the
    share of readings equal to ``reference``'s."""
    metrics = score(Predictor.from_onnx(path, threads=1), rows)
    texts = [p.text for p in metrics.predictions]
    out = {
        "word_accuracy_alnum": round(metrics.words.word_accuracy_alnum, 4),
        "word_accuracy": round(metrics.words.word_accuracy, 4),
        "texts": texts,
    }
    if reference is not None:
        same = sum(a == b for a, b in zip(texts, reference, strict=True))
        out["agree_with_fp32"] = round(same / len(rows), 4)
    return out


def crops_per_s(paths: dict[str, Path], rows: list) -> dict[str, float]:
    """Median crops per CPU-second of each export on one thread over TIMED_CROPS rows, taking
    turns."""
    readers = {name: Predictor.from_onnx(path, threads=1) for name, path in paths.items()}
    first = next(iter(readers.values()))
    step = max(1, len(rows) // TIMED_CROPS)
    crops = [decode_crop(r.crop, first.spec.channels) for r in rows[::step][:TIMED_CROPS]]
    seconds: dict[str, list[float]] = {name: [] for name in readers}
    for k in range(TIMED_PASSES):
        names = list(readers)[k % len(readers) :] + list(readers)[: k % len(readers)]
        for name in names:
            began = time.process_time()
            readers[name].predict(crops)
            seconds[name].append(time.process_time() - began)
    return {name: round(len(crops) / statistics.median(s), 2) for name, s in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--manifest", required=True, help="train split calibrates, val scores")
    parser.add_argument("--name", required=True)
    parser.add_argument("--test", help="a manifest whose test split scores the default")
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--timed", default="default", help="recipes timed against float32")
    args = parser.parse_args()
    val = list(split_rows([args.manifest], "val"))
    result: dict = {"checkpoint": str(args.checkpoint), "val_n": len(val), "recipes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export_model(args.checkpoint, fp32, "onnx")
        channels = Predictor.from_onnx(fp32).spec.channels
        crops = calibration_crops(Int8Config(args.manifest), channels)
        base = accuracy(fp32, val)
        result["fp32_val"] = {k: v for k, v in base.items() if k != "texts"}
        files = {"fp32": fp32}
        for name in args.recipes.split(","):
            files[name] = Path(tmp) / f"{name}.onnx"
            quantize_onnx(fp32, files[name], crops, "qdq", RECIPES[name])
            found = accuracy(files[name], val, base["texts"])
            result["recipes"][name] = {
                "recipe": asdict(RECIPES[name]),
                "val": {k: v for k, v in found.items() if k != "texts"},
            }
            print(name, result["recipes"][name]["val"], flush=True)
        timed = ["fp32", *args.timed.split(",")]
        result["crops_per_s_one_thread"] = crops_per_s({n: files[n] for n in timed}, val)
        if args.test:
            test = list(split_rows([args.test], "test"))
            fp32_test = accuracy(fp32, test)
            int8_test = accuracy(files["default"], test, fp32_test["texts"])
            result["test"] = {
                "n": len(test),
                "fp32": {k: v for k, v in fp32_test.items() if k != "texts"},
                "default": {k: v for k, v in int8_test.items() if k != "texts"},
            }
    path = RESULTS / "int8_recipe.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored = {**stored, "machine": machine(), args.name: result}
    path.write_text(json.dumps(stored, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
