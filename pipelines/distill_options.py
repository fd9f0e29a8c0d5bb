"""The frame-distillation options of `textrec train` (``--teacher``, its weight and
temperature); `textrec label` distills through pseudo-labels instead."""

from __future__ import annotations

import click

from textrec_model.models import PRETRAINED


def distill_options(command):
    """``--teacher``, ``--distill-weight`` and ``--distill-temperature``, as `train` takes them."""
    command = click.option(
        "--distill-temperature", type=float, default=1.0, show_default=True,
        help="T: both distributions softened by T; the term is scaled by T^2.",
    )(command)  # fmt: skip
    command = click.option(
        "--distill-weight", type=float, default=1.0, show_default=True,
        help="W: loss = CTC(labelled rows) + W * T^2 * KL(teacher || student) per valid frame.",
    )(command)  # fmt: skip
    return click.option(
        "--teacher", default=None, metavar="SOURCE",
        help="Frame distillation from this frozen teacher: a textrec checkpoint or a pretrained "
        f"name ({', '.join(PRETRAINED)}), its output rows mapped to the manifests' charset. It "
        "must read the student's input (same input spec; CTC both); unlabeled rows then train "
        "through the KL term alone. Other pairs: `textrec label`.",
    )(command)  # fmt: skip
