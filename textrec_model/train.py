"""The training stage: one readable function over a frozen :class:`TrainConfig`.

nanoGPT-style: AMP and DDP are switches that do nothing on a single CPU process. The data is a
:class:`~textrec_data.stream.ManifestStream`; checkpoints hold everything needed to resume the
exact same run (model, optimizer, scheduler, scaler, step, RNG states, stream position).
"""

from __future__ import annotations

import json
import math
import random
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.atomic import atomic_file, remove_stale_temps
from textrec_data.stream import Batch, ManifestStream, StreamConfig, steps_per_epoch
from textrec_model.checkpoint import load_checkpoint, save_checkpoint
from textrec_model.crnn import CRNN, build_model
from textrec_model.ctc import ctc_loss, greedy_decode
from textrec_model.curves import plot_curves, read_metrics
from textrec_model.distributed import (
    DistInfo,
    broadcast_flag,
    cleanup_distributed,
    gather_objects,
    setup_distributed,
)
from textrec_model.evaluate import compute_metrics


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. a non-finite loss); the message says why and where."""


class TrainingInterrupted(RuntimeError):
    """SIGTERM/SIGINT stopped training after a whole step; last.pt holds that step."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved in every checkpoint)."""

    manifests: tuple[str, ...]
    out: str
    model: str = "crnn-small"
    max_steps: int | None = None
    epochs: float | None = None
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    warmup_steps: int = 200
    grad_clip: float = 5.0
    height: int = 32
    max_width: int = 256
    eval_every: int = 500
    log_every: int = 20
    device: str = "auto"
    amp: bool = True
    workers: int = 1
    seed: int = 0
    resume: bool = False
    augment: bool = True
    pool_size: int = 2048
    train_split: str = "train"
    val_split: str = "val"

    def stream_config(self, train: bool) -> StreamConfig:
        return StreamConfig(
            height=self.height,
            max_width=self.max_width,
            batch_size=self.batch_size if train else 2 * self.batch_size,
            pool_size=self.pool_size,
            shuffle=train,
            augment=train and self.augment,
            seed=self.seed,
        )


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda: no CUDA device is available (use --device cpu)")
    return torch.device(name)


def amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    """bf16 where the GPU supports it, fp16 otherwise; None (no autocast) on CPU or when off."""
    if not enabled or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def lr_lambda(total_steps: int, warmup_steps: int):
    """Linear warm-up then cosine decay to 1% of the peak learning rate."""
    warmup = max(1, min(warmup_steps, total_steps // 10))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def batch_loss(
    model, batch: Batch, device: torch.device, dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean CTC loss (per-sample loss / label length) and the logits (B, T, C) of a batch."""
    images = batch.images.to(device, non_blocking=True)
    autocast = torch.autocast(device.type, dtype=dtype) if dtype else nullcontext()
    with autocast:
        logits = model(images)
    lengths = CRNN.output_lengths(batch.widths).clamp(max=logits.shape[1])
    losses = ctc_loss(
        logits,
        batch.targets.to(device, non_blocking=True),
        lengths.to(device),
        batch.target_lengths.to(device),
    )
    return (losses / batch.target_lengths.to(device).clamp(min=1)).mean(), logits


def rng_state() -> dict:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _split_stream(
    config: TrainConfig, train: bool, charset: Charset, dist_info: DistInfo, **kwargs
) -> ManifestStream:
    """This rank's stream over the train split (augmented) or the val split (plain).

    A manifest given several times (to weight it in training) is validated once."""
    split = config.train_split if train else config.val_split
    manifests = config.manifests if train else tuple(dict.fromkeys(config.manifests))
    return ManifestStream(
        manifests,
        split,
        config.stream_config(train=train),
        charset,
        dist_info.rank,
        dist_info.world_size,
        **kwargs,
    )


@torch.inference_mode()
def validate(
    model, config: TrainConfig, charset: Charset, device, dtype, dist_info: DistInfo
) -> dict:
    """Val loss, word accuracy (exact, case-insensitive, alphanumeric), CER over the val split."""
    was_training = model.training
    model.eval()
    stream = _split_stream(config, False, charset, dist_info, epochs=1)
    predictions, labels, loss_sum, skipped = [], [], 0.0, 0
    # the loader's own generator: iterating must not draw from the global RNG (exact resume)
    generator = torch.Generator().manual_seed(config.seed)
    for batch in DataLoader(stream, batch_size=None, num_workers=0, generator=generator):
        skipped += sum(batch.skipped.values())
        if not batch.labels:
            continue
        loss, logits = batch_loss(model, batch, device, dtype)
        loss_sum += float(loss) * len(batch.labels)
        ids, _ = greedy_decode(logits.float(), CRNN.output_lengths(batch.widths))
        predictions.extend(charset.decode(seq) for seq in ids)
        labels.extend(batch.labels)
    model.train(was_training)
    parts = gather_objects((predictions, labels, loss_sum, skipped), dist_info)
    predictions = [p for part in parts for p in part[0]]
    labels = [label for part in parts for label in part[1]]
    metrics = asdict(compute_metrics(predictions, labels))
    metrics["val_loss"] = sum(p[2] for p in parts) / max(1, len(labels))
    metrics["val_skipped"] = sum(p[3] for p in parts)
    return metrics


@contextmanager
def _stop_on_signal() -> Iterator[dict]:
    """While active, SIGTERM/SIGINT set a flag: the loop finishes its step, writes last.pt and
    exits. The previous handlers come back afterwards."""
    flag = {"stop": False, "signal": None}

    def handler(signum, _frame):
        flag["stop"], flag["signal"] = True, signal.Signals(signum).name

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread (e.g. called from a test runner thread)
            pass
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def train(config: TrainConfig, progress: bool = True) -> dict:
    """Train a CRNN on the manifests' train split; return the final metrics.

    Writes OUT/last.pt, OUT/best.pt, OUT/metrics.jsonl, OUT/curves.png and OUT/config.json (rank 0
    only). With ``config.resume`` it continues from OUT/last.pt on the same schedule.
    """
    device = resolve_device(config.device)
    dist_info = setup_distributed(device.type)
    if dist_info.enabled and device.type == "cuda":
        device = torch.device("cuda", dist_info.local_rank)
    try:
        with _stop_on_signal() as flag:
            return _train(config, device, dist_info, progress, flag)
    finally:
        cleanup_distributed()


def _train(
    config: TrainConfig, device: torch.device, dist_info: DistInfo, progress: bool, flag: dict
) -> dict:
    out = Path(config.out)
    probe = ManifestStream(config.manifests, config.train_split, config.stream_config(True))
    charset, train_rows = probe.charset, probe.split_rows
    if train_rows == 0:
        raise InputError(f"{config.manifests[0]}: no rows in split {config.train_split!r}")
    per_epoch = steps_per_epoch(train_rows, config.batch_size, dist_info.world_size)
    if config.max_steps:
        total_steps = config.max_steps
    else:
        total_steps = max(1, math.ceil((config.epochs or 10) * per_epoch))
    dtype = amp_dtype(device, config.amp)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    np.random.seed(config.seed)
    model = build_model(config.model, charset.num_classes).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_lambda(total_steps, config.warmup_steps)
    )
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    step, best_accuracy = 0, -1.0
    if config.resume:
        step, best_accuracy = _resume(
            out / "last.pt", config, charset, model, optimizer, scheduler, scaler
        )
    if dist_info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(out)  # a checkpoint write cut short by a kill
        if config.resume:
            _truncate_metrics(out / "metrics.jsonl", step)
        (out / "config.json").write_text(json.dumps(asdict(config), indent=1) + "\n")
    ddp_model = (
        DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        if dist_info.enabled
        else model
    )
    stream = _split_stream(config, True, charset, dist_info, epochs=None, skip_batches=step)
    loader = DataLoader(
        stream,
        batch_size=None,
        num_workers=config.workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if config.workers else None,
        generator=torch.Generator().manual_seed(config.seed),
    )
    manifest_meta = [info.metadata for info in probe.infos]

    def checkpoint(name: str, metrics: dict | None = None) -> None:
        save_checkpoint(
            {
                "model_name": config.model,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "step": step,
                "epoch": step / per_epoch,
                "best_accuracy": best_accuracy,
                "rng": rng_state(),
                "config": asdict(config),
                "charset": charset.to_dict(),
                "manifests": manifest_meta,
                "metrics": metrics,
                "stream": {"batches_consumed": step, "workers": config.workers},
            },
            out / name,
        )

    ddp_model.train()
    bar = tqdm(
        total=total_steps,
        initial=step,
        desc="train",
        unit="step",
        disable=not (progress and dist_info.is_main),
    )
    window_loss, window_samples, window_start = 0.0, 0, time.perf_counter()
    skipped_total: dict[str, int] = {}
    metrics: dict = {}
    for batch in loader:
        if step >= total_steps:
            break
        for reason, count in batch.skipped.items():
            skipped_total[reason] = skipped_total.get(reason, 0) + count
        if batch.labels:
            loss, _ = batch_loss(ddp_model, batch, device, dtype)
        else:  # every row of the batch was skipped: a zero step keeps DDP ranks in lock-step
            loss = sum(p.sum() for p in ddp_model.parameters()) * 0.0
        if not torch.isfinite(loss):
            raise TrainingError(
                f"non-finite CTC loss ({float(loss)}) at step {step + 1} on labels "
                f"{batch.labels[:8]}...; lower --lr or check the data (never zeroed silently)"
            )
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        step += 1
        window_loss += float(loss.detach()) * len(batch.labels)
        window_samples += len(batch.labels)
        bar.update(1)
        if step % config.log_every == 0 or step == total_steps:
            elapsed = time.perf_counter() - window_start
            record = {
                "kind": "train",
                "step": step,
                "epoch": round(step / per_epoch, 4),
                "lr": scheduler.get_last_lr()[0],
                "train_loss": window_loss / max(1, window_samples),
                "samples_per_s": window_samples * dist_info.world_size / max(elapsed, 1e-9),
                "skipped": dict(skipped_total),
            }
            bar.set_postfix(
                loss=f"{record['train_loss']:.3f}", sps=f"{record['samples_per_s']:.0f}"
            )
            if dist_info.is_main:
                _append_metrics(out, record)
            window_loss, window_samples, window_start = 0.0, 0, time.perf_counter()
        stop = broadcast_flag(flag["stop"], dist_info)
        if step % config.eval_every == 0 or step == total_steps or stop:
            metrics = validate(model, config, charset, device, dtype, dist_info)
            metrics.update(kind="val", step=step, epoch=round(step / per_epoch, 4))
            if dist_info.is_main:
                _append_metrics(out, metrics)
                plot_curves(read_metrics(out / "metrics.jsonl"), out / "curves.png")
                if metrics["word_accuracy"] > best_accuracy:
                    best_accuracy = metrics["word_accuracy"]
                    checkpoint("best.pt", metrics)
                checkpoint("last.pt", metrics)
            if dist_info.is_main and progress:
                bar.write(_format_metrics(metrics))
        if stop:
            raise TrainingInterrupted(
                f"stopped by {flag['signal']} at step {step}; {out}/last.pt written"
            )
    bar.close()
    metrics["best_word_accuracy"] = best_accuracy
    metrics["skipped"] = skipped_total
    return metrics


def _format_metrics(m: dict) -> str:
    return (
        f"step {m['step']}: val loss {m['val_loss']:.4f}  word acc {m['word_accuracy']:.4f}  "
        f"(ci {m['word_accuracy_ci']:.4f}, alnum {m['word_accuracy_alnum']:.4f})  "
        f"CER {m['cer']:.4f}  n={m['n']}"
    )


def _append_metrics(out: Path, record: dict) -> None:
    with open(out / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps(record) + "\n")


def _resume(path: Path, config: TrainConfig, charset: Charset, model, optimizer, scheduler, scaler):
    state = load_checkpoint(path)
    saved = Charset.from_dict(state["charset"])
    if saved.chars != charset.chars:
        raise InputError(
            f"{path}: checkpoint charset differs from the manifest's "
            f"({len(saved.chars)} vs {len(charset.chars)} characters); cannot resume"
        )
    if state["model_name"] != config.model:
        raise InputError(
            f"{path}: checkpoint is a {state['model_name']}, not --model {config.model}"
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    return state["step"], state.get("best_accuracy", -1.0)


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metrics logged after the checkpoint a run resumes from (they will be redone)."""
    records = [r for r in read_metrics(path) if r["step"] <= step]
    if path.exists():
        with atomic_file(path) as tmp:
            tmp.write_text("".join(json.dumps(r) + "\n" for r in records))
