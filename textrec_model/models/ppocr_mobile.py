"""What PaddleOCR's mobile recognizers share: PP-OCRv4's :mod:`~textrec_model.models.svtr_lcnet`
and PP-OCRv6's :mod:`~textrec_model.models.lcnetv4`.

- :class:`PPOCRMobileConfig`: the sizes both configs hold (neck, input, padding) and their
  checks; each architecture's config adds its backbone's fields;
- :class:`PPOCRMobileRec`: ``features`` (a stem, then one block per entry of ``config.blocks``,
  then a ``(3, 2)`` average pool: ``(B, 3, 48, W)`` -> ``(B, C, 1, W / 8)``) -> ``neck``
  (``(B, T, dims)``) -> ``classifier`` (a linear layer per step, class 0 the CTC blank), read
  through :func:`ppocr_input_spec`;
- the squeeze-excitation gate and the pre-norm transformer block both necks are made of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor, nn

from textrec_data.preprocess import InputSpec
from textrec_model.models.base import RecognitionModel

TIME_STRIDE = 8  # columns per output step: the backbone's width strides and the (3, 2) pool


@dataclass(frozen=True)
class PPOCRMobileConfig:
    """The fields every PaddleOCR mobile recognizer's config holds: ``dims`` (the neck's width,
    what the classifier reads), ``depth``, ``heads`` and ``mlp_hidden`` (its transformer
    blocks), ``in_channels`` and ``height`` of the input; ``pad_to`` is the narrowest batch the
    input spec asks for (preprocessing pads narrower ones); ``paddle_geometry``: crops are read
    as PaddleOCR reads them (the input spec's ``width_rule`` ``paddle`` and ``read_padding``),
    set for the published weights."""

    dims: int = 120
    depth: int = 2
    heads: int = 8
    mlp_hidden: int = 240
    in_channels: int = 3
    height: int = 48
    pad_to: int = 320
    paddle_geometry: bool = False

    def check(self, sizes: Sequence[int], stem_stride: int, height_strides: Sequence[int]) -> None:
        """Raise ValueError unless the shared sizes and the architecture's own ``sizes``
        (channels, kernels and strides) are >= 1, the stem's ``stem_stride`` and the blocks'
        ``height_strides`` (one a block) take ``height`` to 3, ``dims`` splits into ``heads``
        and ``pad_to`` into whole steps."""
        shared = (self.dims, self.depth, self.heads, self.mlp_hidden, self.in_channels)
        if min(*shared, *sizes, 1) < 1 or self.pad_to < 0:
            raise ValueError("sizes, kernels and strides must be >= 1, pad_to >= 0")
        height = self.height // stem_stride
        for stride in height_strides:
            height //= stride
        if not height_strides or height != 3:
            raise ValueError(f"blocks must take height {self.height} to 3, got {height}")
        if self.dims % self.heads:
            raise ValueError(f"dims {self.dims} must be a multiple of heads {self.heads}")
        if self.pad_to % TIME_STRIDE:
            raise ValueError(f"pad_to must be a multiple of {TIME_STRIDE}, got {self.pad_to}")


def ppocr_input_spec(config: PPOCRMobileConfig) -> InputSpec:
    """The input of a PaddleOCR mobile recognizer of ``config``: PaddleOCR's resize and zero
    padding to at least ``pad_to`` columns, a step per 8 columns."""
    return InputSpec(
        channels=config.in_channels,
        height=config.height,
        time_stride=TIME_STRIDE,
        min_width=TIME_STRIDE,
        resize="linear",  # PaddleOCR's cv2.resize default
        pad="zero",
        pad_to=config.pad_to,
        read_padding=config.paddle_geometry,
        width_rule="paddle" if config.paddle_geometry else "round",
    )


class SqueezeExcite(nn.Module):
    """Channel gates from the global average: ``x * hardsigmoid(W2 relu(W1 mean(x)))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // 4, 1)
        self.expand = nn.Conv2d(channels // 4, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        gate = self.expand(F.relu(self.reduce(x.mean((2, 3), keepdim=True))))
        return x * F.hardsigmoid(gate)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: ``x + attn(ln(x))``, then ``x + mlp(ln(x))``; ``(B, T, D)``."""

    def __init__(self, dims: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dims, eps=1e-5)
        self.qkv = nn.Linear(dims, 3 * dims)
        self.proj = nn.Linear(dims, dims)
        self.norm2 = nn.LayerNorm(dims, eps=1e-5)
        self.fc1 = nn.Linear(dims, hidden)
        self.fc2 = nn.Linear(hidden, dims)

    def forward(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, T, d / heads)
        attended = F.scaled_dot_product_attention(q, k, v)
        x = x + self.proj(attended.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.silu(self.fc1(self.norm2(x))))


class PPOCRMobileRec(RecognitionModel):
    """Backbone features -> neck -> class logits (class 0 the blank). Subclasses set ``arch``,
    ``config_class`` and ``block_class``, built as ``block_class(cin, *entry)`` for each
    entry of ``config.blocks`` (its output channels first), and implement :meth:`make_stem` and
    :meth:`make_neck`."""

    block_class: ClassVar[type[nn.Module]]

    def __init__(self, num_classes: int, config: PPOCRMobileConfig) -> None:
        super().__init__(num_classes, config)
        layers, channels = self.make_stem(config)
        for entry in config.blocks:
            layers.append(self.block_class(channels, *entry))
            channels = entry[0]
        layers.append(nn.AvgPool2d((3, 2), (3, 2)))
        self.features = nn.Sequential(*layers)
        self.neck = self.make_neck(channels, config)
        self.classifier = nn.Linear(config.dims, num_classes)

    def make_stem(self, config: PPOCRMobileConfig) -> tuple[list[nn.Module], int]:
        """The layers before the first block, and their output channels."""
        raise NotImplementedError  # pragma: no cover - every architecture has its stem

    def make_neck(self, channels: int, config: PPOCRMobileConfig) -> nn.Module:
        """The neck over the pooled features: ``(B, channels, 1, T)`` -> ``(B, T, dims)``."""
        raise NotImplementedError  # pragma: no cover - every architecture has its neck

    @property
    def input_spec(self) -> InputSpec:
        return ppocr_input_spec(self.config)

    def forward(self, images: Tensor) -> Tensor:
        """Logits ``(B, W // 8, num_classes)`` for float images ``(B, 3, 48, W)`` (RGB)."""
        self.check_input(images)
        logits = self.classifier(self.neck(self.features(images)))
        return logits[:, : images.shape[-1] // TIME_STRIDE]  # odd widths give one step more
