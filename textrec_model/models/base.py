"""The contract every recognition model keeps, whatever its architecture.

- ``forward(images)``: float images ``(B, C, H, W)`` in [-1, 1] -> logits ``(B, T, num_classes)``,
  class 0 the CTC blank;
- ``input_spec``: channels, height, time stride and offset, width limits
  (:class:`~textrec_data.preprocess.InputSpec`), which preprocessing reads;
- ``output_lengths(widths)``: valid time steps per sample of a padded batch;
- ``model_args()``: the full hyper-parameters, JSON-able, stored in every checkpoint so that a
  checkpoint rebuilds exactly the model that wrote it (see :mod:`textrec_model.models`).

Also the two kinds of registry entry: a :class:`Preset` (a ``--model`` name) and a
:class:`PretrainedEntry` (a published recognizer, declared beside its architecture).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from textrec_data.preprocess import InputSpec


class RecognitionModel(nn.Module):
    """Base class: subclasses set ``arch`` and ``config_class``, build their layers from a
    frozen config dataclass and implement ``forward`` and ``input_spec``. ``backbone_prefix``
    names the convolutional feature extractor (what ``--freeze backbone`` freezes) and
    ``classifier_prefix`` the output layer (whose rows follow the charset; a tuple of prefixes
    when several layers have a row per class). ``head_kind`` says what the outputs are
    (:data:`textrec_model.predictor.HEADS`): ``ctc`` logits, or ``seq2seq`` encoder states that
    a decoder of the model reads token by token."""

    arch: ClassVar[str]
    head_kind: ClassVar[str] = "ctc"
    config_class: ClassVar[type]
    backbone_prefix: ClassVar[str] = "features"
    classifier_prefix: ClassVar[str | tuple[str, ...]] = "classifier"

    def __init__(self, num_classes: int, config) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2 (blank + one character), got {num_classes}")
        self.num_classes = num_classes
        self.config = config

    @property
    def input_spec(self) -> InputSpec:  # pragma: no cover - every model overrides it
        raise NotImplementedError

    def output_lengths(self, widths: Tensor) -> Tensor:
        """Time steps ``(B,)`` covered by each sample's unpadded width ``(B,)``."""
        spec = self.input_spec
        steps = torch.div(widths, spec.time_stride, rounding_mode="floor") + spec.time_offset
        return steps.clamp(min=0).long()

    def model_args(self) -> dict:
        """JSON-able hyper-parameters: ``{"arch", "num_classes", "config"}``."""
        return {"arch": self.arch, "num_classes": self.num_classes, "config": asdict(self.config)}

    def check_input(self, images: Tensor) -> None:
        """Raise ValueError unless ``images`` is ``(B, channels, height, W >= min_width)``."""
        spec = self.input_spec
        if images.dim() != 4:
            raise ValueError(f"expected images (B, C, H, W), got shape {tuple(images.shape)}")
        _, c, h, w = images.shape
        if c != spec.channels or h != spec.height or w < spec.min_width:
            raise ValueError(
                f"expected images (B, {spec.channels}, {spec.height}, W>={spec.min_width}), "
                f"got {tuple(images.shape)}"
            )


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@dataclass(frozen=True)
class Preset:
    """A ``--model`` name: architecture ``arch`` with ``config``; ``summary`` is its line in
    ``textrec train --help`` and ``textrec models``."""

    arch: str
    config: object
    summary: str


@dataclass(frozen=True)
class PretrainedEntry:
    """A recognizer another project publishes, by ``name`` (what ``--init``, ``--checkpoint``
    and ``textrec export`` take): the ``arch`` and ``config`` its weights fit, with
    ``num_classes`` outputs (blank + characters); its weight ``file``, relative to the folder
    of the installed Python package ``package`` (never downloaded; ``install`` says how to get
    it); ``loader``, ``"module:function"`` called with the entry and the file's path and
    returning a :class:`~textrec_model.pretrained.Pretrained` (imported only when the weights
    are loaded); ``preprocessing`` (what its authors feed it) and ``licence``, for people."""

    name: str
    arch: str
    config: object
    num_classes: int
    package: str
    file: str
    install: str
    loader: str
    preprocessing: str
    licence: str

    def model_args(self) -> dict:
        """The model its weights fit, as :meth:`RecognitionModel.model_args` gives it."""
        return {"arch": self.arch, "num_classes": self.num_classes, "config": asdict(self.config)}
