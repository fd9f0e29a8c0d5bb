"""Batched inference words/s: textrec's Recognizer (PyTorch, ONNX Runtime) vs the seed's eager loop.

All read the same word crops (decoded once, in memory) on the same CPU, alternated in one run.
The seed loop is its own: resize every crop to 32x128, batches of 32 under ``no_grad``, softmax
+ argmax + a Python collapse. textrec: aspect-preserving width buckets, batch 256 capped at
``recognizer.MAX_BATCH_VALUES`` input values,
``inference_mode``, vectorised greedy decoding. Weights are random: speed does not depend on them.
Measured for the CPU default model (crnn-small) and for the seed-sized model (crnn), so the gain of
the pipeline and the gain of the smaller model can be told apart.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch

from benchmarks.common import WORK, dataset_dirs, median, write_result
from benchmarks.seed_baseline import CRNN_CTC_Model, CTCTokenizer, seed_predict
from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.manifest import read_manifest_info
from textrec_data.preprocess import decode_crop
from textrec_model.checkpoint import save_checkpoint
from textrec_model.export import export_model
from textrec_model.models import build_model
from textrec_model.recognizer import Recognizer

WORDS = 512


def random_checkpoint(model_name: str, charset: dict, path: Path) -> Path:
    """A textrec checkpoint of a freshly initialised model (inference speed only)."""
    torch.manual_seed(0)
    model = build_model(model_name, len(charset["charset"]) + 1)
    config = {"max_width": 256}
    save_checkpoint(
        {"model_name": model_name, "model_args": model.model_args(), "model": model.state_dict(),
         "charset": charset, "config": config, "step": 0},
        path,
    )  # fmt: skip
    return path


def words_per_s(run, grays: list[np.ndarray]) -> float:
    start = time.perf_counter()
    run(grays)
    return len(grays) / (time.perf_counter() - start)


def main(rounds: int = 3) -> dict:
    images, gt = dataset_dirs()
    manifest_dir = WORK / "inference_manifest"
    shutil.rmtree(manifest_dir, ignore_errors=True)
    build_manifest(ManifestConfig(str(images), str(gt), str(manifest_dir)), progress=False)
    manifest = manifest_dir / "manifest.parquet"
    info = read_manifest_info(manifest)
    crops = pq.read_table(manifest, columns=["crop"]).column("crop").to_pylist()[:WORDS]
    grays = [decode_crop(c) for c in crops]
    charset = info.charset.to_dict()

    tokenizer = CTCTokenizer(info.charset.chars)
    seed_model = CRNN_CTC_Model(tokenizer.vocab_size).eval()
    runners = {"seed_eager": lambda g: seed_predict(seed_model, tokenizer, g)}
    for name in ("crnn-small", "crnn"):
        ckpt = random_checkpoint(name, charset, WORK / f"inference_{name}.pt")
        torch_rec = Recognizer.from_checkpoint(ckpt)
        onnx_path = WORK / f"inference_{name}.onnx"
        export_model(ckpt, onnx_path, "onnx")
        onnx_rec = Recognizer.from_onnx(onnx_path)
        runners[f"textrec_torch_{name}"] = torch_rec.predict
        runners[f"textrec_onnx_{name}"] = onnx_rec.predict
    for run in runners.values():  # warm-up (allocators, oneDNN primitive caches)
        run(grays[:64])
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            rates[name].append(words_per_s(run, grays))
    seed = median(rates["seed_eager"])
    ratios = {name: median(r) / seed for name, r in rates.items() if name != "seed_eager"}
    result = {
        "benchmark": "inference words/s: textrec predict vs seed eager loop, same crops",
        "dataset": str(gt),
        "words": len(grays),
        "rounds": rounds,
        "torch_threads": torch.get_num_threads(),
        "words_per_s": rates,
        "ratio_vs_seed_median": ratios,
        "target": ">= 2",
    }
    path = write_result("inference", result)
    summary = ", ".join(f"{k} {v:.1f}x" for k, v in ratios.items())
    print(f"inference: seed {seed:.0f} words/s; {summary}  -> {path}")
    return result


if __name__ == "__main__":
    main()
