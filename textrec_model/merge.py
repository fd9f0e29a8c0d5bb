"""Weight-space interpolation of two checkpoints of one architecture (WiSE-FT, Wortsman et al.
2022): ``(1 - alpha) * base + alpha * tuned``, which keeps much of what a pretrained ``base``
reads elsewhere while holding most of what fine-tuning gained.

The base may be a pretrained name or a checkpoint of another charset: it is mapped to the tuned
checkpoint's charset first, as ``train --init`` maps it (:func:`textrec_model.transfer.init_model`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torch import Tensor

from textrec_data.bounds import Bound, check_value
from textrec_data.errors import InputError
from textrec_model.checkpoint import Checkpoint
from textrec_model.export import claim_export
from textrec_model.transfer import init_model

#: ``alpha`` 0 is the base, 1 the tuned checkpoint.
ALPHA = Bound(0.0, 1.0, integer=False)


def interpolate(
    base: dict[str, Tensor], tuned: dict[str, Tensor], alpha: float
) -> dict[str, Tensor]:
    """``(1 - alpha) * base + alpha * tuned`` for every floating-point tensor (in float32), the
    tuned tensor for the others (batch norm's ``num_batches_tracked``); both state dicts must
    have the same keys and shapes."""
    merged = {}
    for key, value in tuned.items():
        if value.is_floating_point():
            start = base[key].float()
            merged[key] = torch.lerp(start, value.float(), alpha).to(value.dtype)
        else:
            merged[key] = value
    return merged


def merge_checkpoints(base: str, tuned: str | Path, alpha: float) -> Checkpoint:
    """The tuned checkpoint with weights interpolated towards ``base`` (a pretrained name or a
    checkpoint; mapped to the tuned charset) as an inference-only checkpoint
    (:meth:`Checkpoint.inference_only`); ``init`` records the merge. :class:`InputError` when the
    two are not the same architecture and size."""
    check_value("--alpha", alpha, ALPHA)
    tuned_checkpoint = Checkpoint.load(tuned)
    base_model, _ = init_model(base, tuned_checkpoint.charset)
    base_args, tuned_args = base_model.model_args(), tuned_checkpoint.model_args
    if base_args["arch"] != tuned_args["arch"] or base_args["config"] != tuned_args["config"]:
        raise InputError(
            f"--base {base}: a {base_args['arch']} that does not match {tuned} "
            f"({tuned_args['arch']}); both must be the same architecture and size"
        )
    weights = interpolate(base_model.state_dict(), tuned_checkpoint.model, alpha)
    merge = {"base": str(base), "tuned": str(tuned), "alpha": alpha}
    merged = replace(
        tuned_checkpoint,
        model=weights,
        metrics=None,
        best_accuracy=-1.0,
        init={**(tuned_checkpoint.init or {}), "merge": merge},
    )
    return merged.inference_only()


def write_merge(base: str, tuned: str | Path, alpha: float, out: str | Path) -> Checkpoint:
    """:func:`merge_checkpoints` written to ``out`` (atomically; an earlier export may be
    replaced, nothing else, and never an input)."""
    with claim_export(tuned, out, "--tuned", (("--base", base),)):
        merged = merge_checkpoints(base, tuned, alpha)
        merged.save(out)
    return merged
