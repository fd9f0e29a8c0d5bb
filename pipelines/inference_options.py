"""Options every command that reads crops with a model shares (`eval`, `predict`)."""

from __future__ import annotations

import click

from textrec_model.recognizer import DEFAULT_RUNTIME, RUNTIMES


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
