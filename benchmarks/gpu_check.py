"""Checks that need a CUDA machine (run by ``benchmarks/gpu_check.sh``), written to
benchmarks/results/gpu_check.json:

- ``amp``: training steps of crnn-small and svtr-lcnet under autocast in bf16 and in fp16 (with
  the gradient scaler), through the trainer's own ``setup_run`` / ``train_step`` (which refuses a
  non-finite loss); the loss, the val loss and every weight must stay finite;
- ``ddp``: ``textrec train`` under torchrun on every GPU (NCCL, as ``distributed.py`` chooses on
  CUDA); the checkpoint must record a world size of one process per GPU (needs 2 GPUs or more);
- ``throughput``: training samples/s of each model, the whole ``textrec train`` path (loader
  workers included, AMP as ``runtime.amp_dtype`` picks it), and of the GPU step alone (one
  batch repeated);
- ``parity``: the Recognizer of the trained checkpoint on CUDA reads the val crops as on the CPU
  (``textrec eval`` runs on the CPU): the same texts.

Without a CUDA device it prints one line and exits 2; a failed check makes the exit status 1.
``python -m benchmarks.gpu_check [--steps N] [--words N] [--work DIR]``
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import torch

from benchmarks.common import ROOT, machine, median, write_result
from benchmarks.scale_words import WordsSource
from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.manifest import read_manifest_info
from textrec_data.preprocess import decode_crop
from textrec_data.stream import Batch, ManifestStream, StreamConfig
from textrec_model.checkpoint import load_checkpoint
from textrec_model.distributed import DistInfo
from textrec_model.recognizer import Recognizer
from textrec_model.train import TrainConfig, TrainingError, setup_run, train, train_step, validate

MODELS = ("crnn-small", "svtr-lcnet")
BATCH_SIZE = 128
LOADER_WORKERS = 4
AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
NO_CUDA = "gpu_check: no CUDA device was found (torch.cuda.is_available() is False); nothing run"


def cuda_devices() -> int:
    """How many CUDA devices there are; exit 2 with one line when there is none."""
    if not torch.cuda.is_available():
        print(NO_CUDA, file=sys.stderr)
        raise SystemExit(2)
    return torch.cuda.device_count()


def make_manifest(work: Path, words: int) -> Path:
    """A manifest of ``words`` synthetic words (train and val splits)."""
    out = work / "manifest"
    config = ManifestConfig("synthetic", "synthetic", str(out), overwrite=True)
    build_manifest(config, progress=False, source=WordsSource(words))
    return out


def _config(manifest: Path, out: Path, model: str, steps: int, **kw) -> TrainConfig:
    return TrainConfig(
        manifests=(str(manifest),), out=str(out), model=model, max_steps=steps,
        eval_every=steps, log_every=max(1, steps // 4), warmup_steps=max(1, steps // 10),
        batch_size=BATCH_SIZE, device="cuda", workers=LOADER_WORKERS, overwrite=True, **kw,
    )  # fmt: skip


def _batches(run) -> Iterator[Batch]:
    """The run's train split as unaugmented batches of its batch size, in manifest order."""
    config = run.config
    stream = StreamConfig(
        spec=run.model.input_spec, max_width=config.max_width, batch_size=config.batch_size,
        shuffle=False, augment=False,
    )  # fmt: skip
    return iter(ManifestStream(config.manifests, config.train_split, stream, run.charset))


def _finite_weights(model: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def amp_check(manifest: Path, work: Path, model: str, name: str, steps: int) -> dict:
    """``steps`` training steps of ``model`` under autocast in dtype ``name``, then validation."""
    config = _config(manifest, work / f"amp-{model}-{name}", model, steps)
    run = setup_run(config, torch.device("cuda"), DistInfo())
    run.dtype = AMP_DTYPES[name]  # the dtype under test, whatever amp_dtype would pick
    run.scaler = torch.amp.GradScaler("cuda", enabled=run.dtype == torch.float16)
    losses: list[float] = []
    try:
        for batch in islice(_batches(run), steps):
            losses.append(train_step(run, batch))
        val_loss = float(validate(run)["val_loss"])
    except TrainingError as exc:
        return {"model": model, "dtype": name, "ok": False, "error": str(exc), "losses": losses}
    finite = all(math.isfinite(v) for v in [*losses, val_loss]) and _finite_weights(run.model)
    return {
        "model": model, "dtype": name, "ok": finite and len(losses) == steps, "steps": len(losses),
        "first_loss": losses[0], "last_loss": losses[-1], "val_loss": val_loss,
        "grad_scale": run.scaler.get_scale() if run.scaler.is_enabled() else None,
    }  # fmt: skip


def _train_windows(out: Path) -> list[float]:
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [r["samples_per_s"] for r in records if r["kind"] == "train"]


def step_rate(manifest: Path, work: Path, model: str, steps: int) -> float:
    """Samples/s of the GPU step alone: one batch, ``steps`` times (after 5 warm-up steps)."""
    run = setup_run(
        _config(manifest, work / f"step-{model}", model, steps), torch.device("cuda"), DistInfo()
    )
    batch = next(_batches(run))
    for _ in range(5):
        train_step(run, batch)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        train_step(run, batch)
    torch.cuda.synchronize()
    return len(batch.labels) * steps / (time.perf_counter() - start)


def throughput(manifest: Path, work: Path, model: str, steps: int) -> dict:
    """``textrec train`` samples/s (median of the log windows after the first) and the step's."""
    out = work / f"train-{model}"
    metrics = train(_config(manifest, out, model, steps), progress=False)
    windows = _train_windows(out)
    return {
        "model": model, "steps": steps, "batch_size": BATCH_SIZE, "loader_workers": LOADER_WORKERS,
        "train_samples_per_s": round(median(windows[1:] or windows), 1),
        "step_samples_per_s": round(step_rate(manifest, work, model, steps), 1),
        "val_word_accuracy": metrics["word_accuracy"], "ok": math.isfinite(metrics["val_loss"]),
    }  # fmt: skip


def ddp_check(manifest: Path, work: Path, gpus: int, steps: int) -> dict:
    """``textrec train`` on every GPU under torchrun; its checkpoint must say ``gpus`` ranks."""
    if gpus < 2:
        return {"gpus": gpus, "ok": None, "skipped": "one GPU: DDP needs two or more"}
    out = work / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={gpus}",
        "-m", "pipelines.cli", "train", "--manifest", str(manifest), "--out", str(out),
        "--model", "crnn-small", "--device", "cuda", "--max-steps", str(steps),
        "--eval-every", str(steps), "--log-every", str(max(1, steps // 4)),
        "--batch-size", str(BATCH_SIZE), "--workers", "2", "--quiet", "--overwrite",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return {
            "gpus": gpus,
            "ok": False,
            "returncode": done.returncode,
            "log": done.stderr[-2000:],
        }
    state = load_checkpoint(out / "last.pt")
    # checkpoint version 2 keeps the stream position at the top level, version 3 under "resume"
    stream = state.get("stream") or (state.get("resume") or {}).get("stream", {})
    windows = _train_windows(out)
    return {
        "gpus": gpus, "backend": "nccl", "stream": stream, "ok": stream.get("world_size") == gpus,
        "train_samples_per_s": round(median(windows[1:] or windows), 1),
    }  # fmt: skip


def parity(manifest: Path, work: Path, model: str, limit: int = 512) -> dict:
    """The trained ``model``'s readings of up to ``limit`` val crops, on CUDA and on the CPU."""
    checkpoint = work / f"train-{model}" / "last.pt"
    info = read_manifest_info(manifest)
    rows = info.read_columns(["crop", "split"]).to_pydict()
    crops_bytes = [c for c, s in zip(rows["crop"], rows["split"], strict=True) if s == "val"]
    readings = {}
    for device in ("cpu", "cuda"):
        recognizer = Recognizer.from_checkpoint(checkpoint, device)
        crops = [decode_crop(c, recognizer.spec.channels) for c in crops_bytes[:limit]]
        readings[device] = recognizer.predict(crops)
    pairs = list(zip(readings["cpu"], readings["cuda"], strict=True))
    differing = [(a.text, b.text) for a, b in pairs if a.text != b.text]
    return {
        "model": model, "crops": len(pairs), "ok": not differing, "differing": len(differing),
        "examples": differing[:5],
        "max_confidence_diff": max((abs(a.confidence - b.confidence) for a, b in pairs), default=0),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="Training steps of each check.")
    parser.add_argument("--words", type=int, default=20000, help="Words in the manifest.")
    parser.add_argument("--work", type=Path, default=None, help="Scratch folder [a temp one].")
    args = parser.parse_args(argv)
    gpus = cuda_devices()
    with tempfile.TemporaryDirectory(prefix="textrec-gpu-") as scratch:
        work = args.work or Path(scratch)
        manifest = make_manifest(work, args.words)
        amp = [
            amp_check(manifest, work, m, n, min(args.steps, 50)) for m in MODELS for n in AMP_DTYPES
        ]
        speed = [throughput(manifest, work, m, args.steps) for m in MODELS]
        result = {
            "gpus": [torch.cuda.get_device_name(i) for i in range(gpus)],
            "cuda": torch.version.cuda,
            "bf16_supported": torch.cuda.is_bf16_supported(),
            "amp": amp,
            "throughput": speed,
            "parity": [parity(manifest, work, m) for m in MODELS],
            "ddp": ddp_check(manifest, work, gpus, args.steps),
        }
    checks = [*result["amp"], *result["throughput"], *result["parity"], result["ddp"]]
    result["ok"] = all(c["ok"] is not False for c in checks)
    write_result("gpu_check", result)
    print(json.dumps({"machine": machine(), **result}, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
