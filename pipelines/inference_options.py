"""Options every command that reads crops with a model shares (`eval`, `predict`, `label`)."""

from __future__ import annotations

import click

from textrec_model.predictor import DEFAULT_BATCH_SIZE
from textrec_model.recognizer import DEFAULT_RUNTIME, RUNTIMES, SHIPPED


def batch_size_option(command):
    """``--batch-size``: crops per batch, as the Predictor caps it."""
    return click.option(
        "--batch-size", default=DEFAULT_BATCH_SIZE, show_default=True,
        help="Most crops per batch (fewer where inputs are large: at most 262,144 input values).",
    )(command)  # fmt: skip


def runtime_options(command):
    """``--runtime`` and ``--threads``, as `eval` and `predict` take them."""
    command = click.option(
        "--threads", default=0, show_default=True,
        help="Intra-op threads of the runtime (0: its default, one per core).",
    )(command)  # fmt: skip
    return click.option(
        "--runtime", type=click.Choice(RUNTIMES), default=DEFAULT_RUNTIME, show_default=True,
        help="What runs --checkpoint or the shipped model: ONNX Runtime (exported once into "
        "$XDG_CACHE_HOME/textrec/onnx) or PyTorch. Same texts; onnx is faster on a CPU.",
    )(command)  # fmt: skip


def shipped_model_option(command):
    """``--model``: which shipped model reads when no --checkpoint / --onnx is given."""
    return click.option(
        "--model", "shipped", type=click.Choice(tuple(SHIPPED)), default="default",
        show_default=True,
        help="The shipped model read without --checkpoint / --onnx: default (the most accurate) "
        "or fast (PP-OCRv6 tiny based, about 4.7x the crops/s).",
    )(command)  # fmt: skip
