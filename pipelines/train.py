"""`textrec train`: stream manifests into a CRNN-CTC trainer (CPU or CUDA, AMP, DDP, resume)."""

from __future__ import annotations

import os
import sys
from dataclasses import fields

import click
from click.core import ParameterSource

from pipelines.common import user_errors
from pipelines.distill_options import distill_options
from textrec_model.config import config_with_recipe
from textrec_model.models import DEFAULT_MODEL, PRESETS, PRETRAINED
from textrec_model.train import TrainConfig, TrainingInterrupted, train

_default = {field.name: field.default for field in fields(TrainConfig)}.__getitem__


@click.command("train")
@click.option("--config", "recipe", metavar="FILE", help="TOML recipe; options given win.")
@click.option(
    "--manifest", "manifests", multiple=True, type=click.Path(),
    help="manifest.parquet or manifest directory, local or URL (repeat to mix several; their "
    "charsets must agree). The same one given k times is seen k times per epoch in training, "
    "once in validation.",
)  # fmt: skip
@click.option("--out", type=click.Path(file_okay=False), help="Output directory.")
@click.option(
    "--model", type=click.Choice(sorted(PRESETS)), default=None,
    help=f"Architecture preset [{DEFAULT_MODEL}]: "
    + "; ".join(f"{name}: {preset.summary}" for name, preset in PRESETS.items())
    + " (`textrec models` lists them).",
)  # fmt: skip
@click.option(
    "--init",
    default=None,
    help="Start from these weights (own optimizer and schedule): a textrec checkpoint of any "
    f"charset, or a pretrained name ({', '.join(PRETRAINED)}). The architecture is the "
    "source's; with --model another architecture, the source's layers that fit it (e.g. "
    "--model ppocr-seq2seq --init ppocr:v4: the encoder; the decoder starts fresh).",
)
@click.option(
    "--freeze",
    default=None,
    metavar="backbone[:STEPS]",
    help="Freeze the convolutional backbone for STEPS steps (throughout without :STEPS).",
)
@distill_options
@click.option("--max-steps", type=int, default=None, help="Optimizer steps (overrides --epochs).")
@click.option("--epochs", type=float, default=None, help="Passes over the train split [10].")
@click.option("--batch-size", default=_default("batch_size"), show_default=True)
@click.option("--lr", default=_default("lr"), show_default=True, help="Peak AdamW learning rate.")
@click.option("--warmup-steps", default=_default("warmup_steps"), show_default=True)
@click.option("--height", type=int, default=None, help="Input height [the model's].")
@click.option("--max-width", default=_default("max_width"), show_default=True)
@click.option("--eval-every", default=_default("eval_every"), show_default=True, help="Steps.")
@click.option(
    "--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True
)
@click.option("--amp/--no-amp", default=True, show_default=True, help="Mixed precision on CUDA.")
@click.option("--augment/--no-augment", default=True, show_default=True)
@click.option(
    "--crop-augment/--no-crop-augment",
    default=False,
    show_default=True,
    help="With --augment: re-cut crops as loose boxes of turned words or slightly off the word.",
)
@click.option("--workers", default=_default("workers"), show_default=True, help="Loader workers.")
@click.option("--seed", default=_default("seed"), show_default=True)
@click.option("--resume", is_flag=True, help="Continue from OUT/last.pt on the same schedule.")
@click.option("--overwrite", is_flag=True, help="Replace the run in OUT (its files only).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
@click.pass_context
def command(ctx: click.Context, recipe: str | None, quiet: bool, **options) -> None:
    """Train a CRNN-CTC recognizer; writes OUT/last.pt, best.pt, metrics.jsonl, curves.png.

    Runs under `torchrun --nproc_per_node N textrec train ...` for multi-GPU (or multi-process
    CPU) data parallel training.
    """
    given = {k for k in options if ctx.get_parameter_source(k) is not ParameterSource.DEFAULT}
    config = config_with_recipe(options, given, recipe)
    try:
        metrics = train(config, progress=not quiet)
    except TrainingInterrupted as exc:
        click.echo(str(exc), err=True)
        sys.exit(130)
    if not metrics or os.environ.get("RANK", "0") != "0":
        return
    click.echo(
        f"final: word accuracy {metrics['word_accuracy']:.4f} (case-insensitive "
        f"{metrics['word_accuracy_ci']:.4f}, alnum {metrics['word_accuracy_alnum']:.4f}), "
        f"CER {metrics['cer']:.4f} on {metrics['n']} val words; "
        f"best {metrics['best_word_accuracy']:.4f}"
    )
    click.echo(f"checkpoints: {config.out}/best.pt, {config.out}/last.pt")
