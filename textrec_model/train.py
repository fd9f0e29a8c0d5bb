"""The training stage over a frozen :class:`TrainConfig`, in torchvision-reference pieces.

:func:`setup_run` builds everything once (data, model, optimizer, schedule; resumes from
``last.pt``), :func:`train_step` does one optimizer step, :func:`log_window` writes a train record,
:func:`validate_and_save` scores the val split and writes checkpoints, and :func:`train` is the
loop that calls them. nanoGPT-style, AMP and DDP are switches that do nothing on one CPU process.
The run's state is :class:`textrec_model.run.Run`, its checkpoint schema
:class:`textrec_model.checkpoint.Checkpoint`; validation is :func:`textrec_model.scoring.score`,
the scoring of ``textrec eval``.
"""

from __future__ import annotations

import math
import random
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from textrec_data.charset import Charset
from textrec_data.errors import InputError
from textrec_data.outputs import output_lock
from textrec_data.stream import Batch, ManifestStream, StreamConfig, steps_per_epoch
from textrec_model.config import TrainConfig
from textrec_model.ctc import ctc_loss_mean
from textrec_model.curves import append_metrics, plot_curves, read_metrics
from textrec_model.distill import Distiller, make_distiller
from textrec_model.distributed import (
    DistInfo,
    broadcast_flag,
    cleanup_distributed,
    gather_objects,
    setup_distributed,
)
from textrec_model.models import DEFAULT_MODEL, RecognitionModel, build_model
from textrec_model.predictor import Predictor, read_width
from textrec_model.run import Run
from textrec_model.run_dir import check_run_dir, manifest_digests, prepare_run_dir, resume_run
from textrec_model.runtime import (
    amp_dtype,
    leave_stop_signals_to_the_main_process,
    resolve_device,
    stop_on_signal,
)
from textrec_model.scoring import score, split_rows
from textrec_model.seq2seq import decoder_inputs, pad_labels, sequence_loss
from textrec_model.transfer import init_model, parse_freeze, set_frozen


class TrainingError(InputError):
    """Training cannot go on because of its options or data (e.g. a non-finite loss): the
    message names the option and where it happened."""


class TrainingInterrupted(RuntimeError):
    """SIGTERM/SIGINT stopped training after a whole step; last.pt holds that step."""


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
    model: torch.nn.Module,
    batch: Batch,
    device: torch.device,
    dtype,
    head: RecognitionModel,
    charset: Charset,
    distiller: Distiller | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The mean loss of a batch by ``head``'s kind (``model`` is it, or its DDP wrapper), and
    the distillation KL (None without ``distiller``): CTC (per-sample loss / label length, over
    the labelled rows) over the valid steps of the logits ``(B, T, C)`` (with ``read_padding``,
    the steps of the crop padded to ``pad_to``, as it is read), plus ``distiller``'s term over
    the same steps of every row; or teacher forcing (cross-entropy per label token, end token
    included; a label the model cannot write, e.g. one its tokenizer cannot spell, is left
    out: ``train_step`` counts it as ``not_writable``)."""
    images = batch.images.to(device, non_blocking=True)
    autocast = torch.autocast(device.type, dtype=dtype) if dtype else nullcontext()
    if head.head_kind == "seq2seq":
        tokens = head.label_tokens(batch.labels, charset)
        kept = [b for b, ids in enumerate(tokens) if ids is not None]
        if not kept:
            return sum(p.sum() for p in model.parameters()) * 0.0, None
        labels = pad_labels([tokens[b] for b in kept]).to(device)
        with autocast:
            logits = model(images[kept], decoder_inputs(labels, head.special), batch.widths[kept])
        return sequence_loss(logits, labels), None
    with autocast:
        logits = model(images)
    widths = torch.tensor([read_width(int(w), head.input_spec) for w in batch.widths])
    lengths = head.output_lengths(widths).clamp(max=logits.shape[1]).to(device)
    labelled = batch.labelled
    loss = logits.sum() * 0.0  # a batch of unlabeled rows only: the KL term alone
    if labelled:
        rows = slice(None) if len(labelled) == len(batch.labels) else labelled
        loss = ctc_loss_mean(
            logits[rows],
            batch.targets.to(device, non_blocking=True),
            lengths[rows],
            batch.target_lengths.to(device),
        )
    if distiller is None:
        return loss, None
    term, kl = distiller.term(logits, images, lengths, dtype)
    return loss + term, kl


def train_stream(run: Run, **kwargs) -> ManifestStream:
    """This rank's stream over the train split, augmented."""
    return ManifestStream(
        run.config.manifests,
        run.config.train_split,
        run.config.stream_config(run.model),
        run.charset,
        run.dist_info.rank,
        run.dist_info.world_size,
        **kwargs,
    )


def validate(run: Run) -> dict:
    """The val split scored as ``textrec eval`` scores it (:func:`textrec_model.scoring.score`,
    the model read in float32 as a :class:`Predictor`): each rank reads its share of the rows,
    the figures are of all of them. A manifest given several times is validated once.

    Returns :meth:`~textrec_model.scoring.Metrics.figures` with ``loss`` and ``loss_n`` named
    ``val_loss`` and ``val_loss_n``."""
    model, info = run.model, run.dist_info
    was_training = model.training
    predictor = Predictor.from_model(model, run.charset, run.config.max_width, run.device)
    manifests = tuple(dict.fromkeys(run.config.manifests))
    rows = split_rows(manifests, run.config.val_split, shard=info.rank, shards=info.world_size)
    try:
        model.eval()
        metrics = score(predictor, rows, combine=lambda results: gather_objects(results, info))
    finally:
        model.train(was_training)
    figures = metrics.figures()
    figures["val_loss"], figures["val_loss_n"] = figures.pop("loss"), figures.pop("loss_n")
    return figures


def _total_steps(config: TrainConfig, per_epoch: int) -> int:
    if config.max_steps is not None:
        return config.max_steps
    return max(1, math.ceil((10 if config.epochs is None else config.epochs) * per_epoch))


def setup_run(config: TrainConfig, device: torch.device, dist_info: DistInfo) -> Run:
    """Read the manifests, build model/optimizer/schedule, resume from last.pt if asked, and
    prepare OUT (rank 0)."""
    freeze = parse_freeze(config.freeze)
    check_run_dir(config)
    out = Path(config.out)
    probe = ManifestStream(config.manifests, config.train_split, StreamConfig())
    for split in (config.train_split, config.val_split):
        unlabeled = 0 if config.teacher and split == config.train_split else 1  # distilled
        rows = sum(i.split_count(split) - unlabeled * i.unlabeled_count(split) for i in probe.infos)
        if rows == 0:
            raise InputError(
                f"{config.manifests[0]}: no rows in split {split!r} with a label (training needs "
                f"labelled {config.train_split!r} (with --teacher, any) and "
                f"{config.val_split!r} rows among its manifests)"
            )
    per_epoch = steps_per_epoch(probe.split_rows, config.batch_size, dist_info.world_size)
    total_steps = _total_steps(config, per_epoch)
    dtype = amp_dtype(device, config.amp)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    np.random.seed(config.seed)
    init_report = None
    if config.init:
        model, init_report = init_model(config.init, probe.charset, config.model)
    else:
        model = build_model(config.model or DEFAULT_MODEL, probe.charset.num_classes)
    model = model.to(device)
    config.check_input_spec(model.input_spec)
    distiller = None
    if config.teacher:
        distiller = make_distiller(
            config.teacher, probe.charset, model, config.distill_weight, config.distill_temperature
        )
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    ddp_model = (
        DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        if dist_info.enabled
        else model
    )
    run = Run(
        config=config,
        out=out,
        device=device,
        dtype=dtype,
        dist_info=dist_info,
        charset=probe.charset,
        model=model,
        ddp_model=ddp_model,
        optimizer=optimizer,
        scheduler=torch.optim.lr_scheduler.LambdaLR(
            optimizer, lr_lambda(total_steps, config.warmup_steps)
        ),
        scaler=torch.amp.GradScaler(device.type, enabled=dtype == torch.float16),
        per_epoch=per_epoch,
        total_steps=total_steps,
        manifest_meta=[info.metadata for info in probe.infos],
        init_report=init_report,
        freeze=freeze,
        manifest_digests=manifest_digests(config.manifests),
        distiller=distiller,
    )
    if config.resume:
        resume_run(run)
    if dist_info.is_main:
        prepare_run_dir(run)
    return run


def train_step(run: Run, batch: Batch) -> float:
    """One optimizer step on ``batch``; returns its loss. A non-finite loss is an error."""
    for reason, count in batch.skipped.items():
        run.skipped[reason] = run.skipped.get(reason, 0) + count
    if run.model.head_kind == "seq2seq":  # labels the model cannot write, e.g. untokenizable
        left_out = sum(t is None for t in run.model.label_tokens(batch.labels, run.charset))
        if left_out:
            run.skipped["not_writable"] = run.skipped.get("not_writable", 0) + left_out
    part, steps = run.freeze
    if part is not None:
        set_frozen(run.model, steps == 0 or run.step < steps)
    if batch.labels:
        loss, kl = batch_loss(
            run.ddp_model, batch, run.device, run.dtype, run.model, run.charset, run.distiller
        )
        if kl is not None:
            run.kl_sum += float(kl) * len(batch.labels)
    else:  # every row of the batch was skipped: a zero step keeps DDP ranks in lock-step
        loss = sum(p.sum() for p in run.ddp_model.parameters()) * 0.0
    if not torch.isfinite(loss):
        raise TrainingError(
            f"--lr {run.config.lr}: non-finite {run.model.head_kind} loss ({loss.item()}) at "
            f"step {run.step + 1} on "
            f"labels {batch.labels[:8]}...; lower --lr or check the data (never zeroed)"
        )
    run.optimizer.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.unscale_(run.optimizer)
    torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.config.grad_clip)
    run.scaler.step(run.optimizer)
    run.scaler.update()
    run.scheduler.step()
    run.step += 1
    return float(loss.detach())


def log_window(run: Run, loss_sum: float, samples: int, seconds: float) -> dict:
    """The train record of the last ``log_every`` steps, appended to metrics.jsonl (rank 0)."""
    record = {
        "kind": "train",
        "step": run.step,
        "epoch": round(run.step / run.per_epoch, 4),
        "lr": run.scheduler.get_last_lr()[0],
        "train_loss": loss_sum / max(1, samples),
        "samples_per_s": samples * run.dist_info.world_size / max(seconds, 1e-9),
        "skipped": dict(run.skipped),
    }
    if run.distiller is not None:  # train_loss holds its weighted term; this is the plain KL
        record["distill_kl"] = run.kl_sum / max(1, samples)
        run.kl_sum = 0.0
    if run.dist_info.is_main:
        append_metrics(run.out, record)
    return record


def validate_and_save(run: Run) -> dict:
    """Score the val split; rank 0 logs it, redraws curves.png, writes best.pt (when better)
    and last.pt."""
    metrics = validate(run)
    if metrics["val_loss_n"] == 0:
        raise InputError(
            f"{run.config.manifests[0]}: no val word can be emitted ({metrics['n']} val words: "
            f"each outside the charset, empty, or longer than its crop can emit at --max-width "
            f"{run.config.max_width})"
        )
    metrics.update(kind="val", step=run.step, epoch=round(run.step / run.per_epoch, 4))
    if run.dist_info.is_main:
        append_metrics(run.out, metrics)
        plot_curves(read_metrics(run.out / "metrics.jsonl"), run.out / "curves.png")
        if metrics["word_accuracy"] > run.best_accuracy:
            run.best_accuracy = metrics["word_accuracy"]
            run.checkpoint(metrics).save(run.out / "best.pt")
        run.checkpoint(metrics).save(run.out / "last.pt")
    return metrics


def train(config: TrainConfig, progress: bool = True) -> dict:
    """Train on the manifests' train split; return the final val metrics.

    Writes OUT/last.pt, OUT/best.pt, OUT/metrics.jsonl, OUT/curves.png and OUT/config.json (rank 0
    only). With ``config.resume`` it continues from OUT/last.pt on the same schedule.
    """
    device = resolve_device(config.device)
    dist_info = setup_distributed(device.type)
    if dist_info.enabled and device.type == "cuda":
        device = torch.device("cuda", dist_info.local_rank)
    try:
        lock = output_lock(config.out) if dist_info.is_main else nullcontext()
        with lock, stop_on_signal() as flag:
            run = setup_run(config, device, dist_info)
            if run.init_report is not None and dist_info.is_main:
                tqdm.write(run.init_report.line(), file=sys.stderr)
            return _loop(run, progress, flag)
    finally:
        cleanup_distributed()


def _loop(run: Run, progress: bool, flag: dict) -> dict:
    config, dist_info = run.config, run.dist_info
    stream = train_stream(run, epochs=None, skip_batches=run.step)
    loader = DataLoader(
        stream,
        batch_size=None,
        num_workers=config.workers,
        pin_memory=run.device.type == "cuda",
        prefetch_factor=4 if config.workers else None,
        generator=torch.Generator().manual_seed(config.seed),
        worker_init_fn=leave_stop_signals_to_the_main_process,
    )
    run.ddp_model.train()
    show = progress and dist_info.is_main
    bar = tqdm(total=run.total_steps, initial=run.step, desc="train", unit="step", disable=not show)
    loss_sum, samples, started = 0.0, 0, time.perf_counter()
    metrics: dict = {}
    for batch in loader:
        if run.step >= run.total_steps:
            break
        loss_sum += train_step(run, batch) * len(batch.labels)
        samples += len(batch.labels)
        bar.update(1)
        if run.step % config.log_every == 0 or run.step == run.total_steps:
            record = log_window(run, loss_sum, samples, time.perf_counter() - started)
            bar.set_postfix(
                loss=f"{record['train_loss']:.3f}", sps=f"{record['samples_per_s']:.0f}"
            )
            loss_sum, samples, started = 0.0, 0, time.perf_counter()
        stop = broadcast_flag(flag["stop"], dist_info)
        if run.step % config.eval_every == 0 or run.step == run.total_steps or stop:
            metrics = validate_and_save(run)
            if show:
                bar.write(_format_metrics(metrics))
        if stop:
            raise TrainingInterrupted(
                f"stopped by {flag['signal']} at step {run.step}; {run.out}/last.pt written"
            )
    bar.close()
    metrics["best_word_accuracy"] = run.best_accuracy
    metrics["skipped"] = run.skipped
    return metrics


def _format_metrics(m: dict) -> str:
    return (
        f"step {m['step']}: val loss {m['val_loss']:.4f}  word acc {m['word_accuracy']:.4f}  "
        f"(ci {m['word_accuracy_ci']:.4f}, alnum {m['word_accuracy_alnum']:.4f})  "
        f"CER {m['cer']:.4f}  n={m['n']}"
    )
