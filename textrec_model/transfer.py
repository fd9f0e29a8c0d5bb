"""Start a model from another model's weights (``textrec train --init``) and freeze parts of it.

A source is a textrec checkpoint (any charset) or a named pretrained recognizer
(:mod:`textrec_model.pretrained`, e.g. ``easyocr:english_g2``). Every layer is copied; of the
output layer (the model's ``classifier_prefix``), the rows of characters the source and the new
charset share are copied (and the blank's), characters new to the charset keep their fresh
initialisation, and the source's other characters are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from textrec_data.charset import BLANK, Charset
from textrec_data.errors import InputError
from textrec_model.checkpoint import load_checkpoint
from textrec_model.models import PRESETS, RecognitionModel, build_model, model_from_args
from textrec_model.models.trocr import TrOCR, hf_dir, load_hf_dir


@dataclass(frozen=True)
class InitReport:
    """How the output layer was mapped: characters ``mapped`` (in both charsets), ``new`` (only
    in the new one: fresh rows), ``dropped`` (only in the source); ``copied``: the tensors
    taken by a model of another architecture (None: same architecture, every layer)."""

    source: str
    arch: str
    mapped: int
    new: tuple[str, ...]
    dropped: tuple[str, ...]
    copied: int | None = None

    def line(self) -> str:
        """One line for the user."""
        if self.copied is not None:
            return (
                f"init from {self.source} ({self.arch}): {self.copied} tensors of the same name "
                "and shape copied; the other layers start fresh"
            )
        new = "".join(self.new)
        return (
            f"init from {self.source} ({self.arch}): {self.mapped} characters mapped, "
            f"{len(self.new)} new {new!r}, {len(self.dropped)} dropped"
        )


def is_named_source(source: str) -> bool:
    """True for ``name:variant`` pretrained names (not a checkpoint path)."""
    return ":" in source and not Path(source).exists()


def load_source(source: str) -> tuple[dict, dict[str, Tensor], Charset]:
    """``(model_args, state_dict, charset)`` of a checkpoint path or a pretrained name."""
    if is_named_source(source):
        from textrec_model.pretrained import load_pretrained

        try:
            pretrained = load_pretrained(source)
        except (ValueError, ImportError) as exc:
            raise InputError(f"--init {source}: {exc}") from exc
        model = pretrained.model
        return model.model_args(), model.state_dict(), pretrained.charset
    state = load_checkpoint(source)
    return state["model_args"], state["model"], Charset.from_dict(state["charset"])


def map_rows(source: Charset, target: Charset) -> dict[int, int]:
    """Class id in ``target`` -> class id in ``source`` for the blank and shared characters."""
    ids = {BLANK: BLANK}
    for i, char in enumerate(target.chars, start=1):
        if char in source.chars:
            ids[i] = source.chars.index(char) + 1
    return ids


def init_model(
    source: str, charset: Charset, preset: str | None = None
) -> tuple[RecognitionModel, InitReport]:
    """A model of ``source``'s architecture (or of ``preset``) with ``charset.num_classes``
    outputs, its weights copied from ``source`` (output rows mapped by character). A preset of
    another architecture takes the source's tensors of the same name and shape outside its
    output layers (an encoder: ``ppocr-seq2seq`` from ``ppocr:v4``); the rest stays fresh."""
    folder = hf_dir(source)
    if folder is not None:  # a Hugging Face TrOCR folder: its own tokenizer, no charset
        model = load_hf_dir(folder)
        return model, InitReport(source, model.arch, 0, (), (), len(model.state_dict()))
    args, weights, source_charset = load_source(source)
    if args["arch"] == TrOCR.arch:  # a textrec TrOCR checkpoint: every weight as it is
        return TrOCR.from_args(args, weights), InitReport(
            source, TrOCR.arch, 0, (), (), len(weights)
        )
    if preset is not None and PRESETS[preset].arch != args["arch"]:
        model = build_model(preset, charset.num_classes)
        copied = _copy_fitting(model, weights)
        if not copied:
            raise InputError(
                f"--init {source}: no weight of a {args['arch']} fits --model {preset}"
            )
        return model, InitReport(source, args["arch"], 0, (), (), copied)
    model = model_from_args({**args, "num_classes": charset.num_classes})
    if preset is not None and model.config != PRESETS[preset].config:
        raise InputError(
            f"--model {preset}, --init {source}: the source is a {args['arch']} of another "
            "size; give one (with --init alone, the source's architecture)"
        )
    own = model.state_dict()
    rows = map_rows(source_charset, charset)
    # rows after the characters: a seq2seq model's start and end tokens
    extra = getattr(model, "vocab_size", model.num_classes) - model.num_classes
    rows |= {charset.num_classes + k: len(source_charset.chars) + 1 + k for k in range(extra)}
    target_rows = torch.tensor(list(rows))
    source_rows = torch.tensor(list(rows.values()))
    for key, value in weights.items():
        if key not in own:
            raise InputError(f"--init {source}: weight {key!r} does not fit a {args['arch']}")
        if key.startswith(model.classifier_prefix):
            own[key][target_rows] = value[source_rows].to(own[key].dtype)
        elif own[key].shape != value.shape:
            raise InputError(f"--init {source}: weight {key!r} has another shape")
        else:
            own[key] = value
    model.load_state_dict(own)
    report = InitReport(
        source=source,
        arch=args["arch"],
        mapped=len(rows) - 1 - extra,
        new=tuple(c for c in charset.chars if c not in source_charset.chars),
        dropped=tuple(c for c in source_charset.chars if c not in charset.chars),
    )
    return model, report


def _copy_fitting(model: RecognitionModel, weights: dict[str, Tensor]) -> int:
    """Copy into ``model`` the ``weights`` of its names and shapes, output layers excepted;
    returns how many tensors were copied."""
    own = model.state_dict()
    fitting = {
        key: value
        for key, value in weights.items()
        if key in own
        and own[key].shape == value.shape
        and not key.startswith(model.classifier_prefix)
    }
    model.load_state_dict({**own, **fitting})
    return len(fitting)


FREEZABLE = ("backbone",)


def parse_freeze(spec: str | None) -> tuple[str | None, int]:
    """``--freeze PART[:STEPS]`` -> (part, steps); steps 0 means throughout training."""
    if not spec:
        return None, 0
    part, _, steps = spec.partition(":")
    if part not in FREEZABLE or (steps and not steps.isdigit()):
        raise InputError(f"--freeze {spec!r}: expected one of {FREEZABLE}, optionally :STEPS")
    return part, int(steps or 0)


def set_frozen(model: RecognitionModel, frozen: bool) -> None:
    """Freeze (no gradients, BatchNorm statistics fixed) or unfreeze the model's backbone."""
    backbone = model.get_submodule(model.backbone_prefix)
    for parameter in backbone.parameters():
        parameter.requires_grad_(not frozen)
    backbone.train(not frozen and model.training)
