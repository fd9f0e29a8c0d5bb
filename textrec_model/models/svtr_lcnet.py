"""SVTR-LCNet: PP-OCRv4's mobile recognizer (PaddleOCR, Apache-2.0) as deployed.

PaddleOCR trains PPLCNetV3 with re-parameterisable multi-branch convolutions and exports each
as one convolution; this module is that deployed form (what ``ch_PP-OCRv4_rec_infer.onnx``
computes), so its weights load one to one (:mod:`textrec_model.pretrained.ppocr_v4`, and
:data:`PPOCR_V4` at the end) and it trains as is.

- backbone (``features``): a 3x3 stride-2 stem, then depthwise-separable blocks (depthwise conv,
  optional squeeze-excitation, pointwise conv); after every convolution a learnable scalar
  affine, hard-swish, another scalar affine. Strides halve the height three more times and the
  width once: ``(B, 3, 48, W)`` -> ``(B, 480, 3, W / 4)``, then a ``(3, 2)`` average pool gives
  ``(B, 480, 1, W / 8)``;
- neck (``neck``): SVTR's encoder, two convolutions down to ``dims`` channels, ``depth``
  pre-norm transformer blocks with global self-attention over the ``W / 8`` steps, a
  convolution back, concatenated with the pooled backbone output, fused by two convolutions;
- ``classifier``: a linear layer per step, class 0 the CTC blank.

The input spec asks for batches padded with mid-grey (0) to at least ``pad_to`` columns, as
PaddleOCR's own pipeline pads every crop to at least 320 (the attention sees that padding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textrec_data.preprocess import InputSpec
from textrec_model.models.base import PretrainedEntry, RecognitionModel

TIME_STRIDE = 8  # stem (2), one width-2 block stride, the (3, 2) average pool

#: PP-OCRv4 rec's blocks: (output channels, depthwise kernel, stride (h, w), squeeze-excitation).
PPOCR_V4_BLOCKS: tuple[tuple[int, int, tuple[int, int], bool], ...] = (
    (32, 3, (1, 1), False),
    (64, 3, (1, 1), False),
    (64, 3, (1, 1), False),
    (128, 3, (2, 1), False),
    (128, 3, (1, 1), False),
    (240, 3, (1, 2), False),
    (240, 5, (1, 1), False),
    (240, 5, (1, 1), False),
    (240, 5, (1, 1), False),
    (240, 5, (1, 1), False),
    (480, 5, (2, 1), True),
    (480, 5, (1, 1), True),
    (480, 5, (2, 1), False),
    (480, 5, (1, 1), False),
)


@dataclass(frozen=True)
class SVTRLCNetConfig:
    """Architecture of an :class:`SVTRLCNet` (defaults: PP-OCRv4 rec's). ``blocks`` as in
    :data:`PPOCR_V4_BLOCKS` (their strides must take ``height`` to 3); ``dims``, ``depth``,
    ``heads`` and ``mlp_hidden`` size the SVTR neck; ``pad_to`` is the narrowest batch the
    input spec asks for (preprocessing pads narrower ones); ``paddle_geometry``: crops are read
    as PaddleOCR reads them (the input spec's ``width_rule`` ``paddle`` and ``read_padding``),
    set for the published weights (``ppocr:v4``)."""

    blocks: tuple = PPOCR_V4_BLOCKS
    stem: int = 16
    dims: int = 120
    depth: int = 2
    heads: int = 8
    mlp_hidden: int = 240
    in_channels: int = 3
    height: int = 48
    pad_to: int = 320
    paddle_geometry: bool = False

    def __post_init__(self) -> None:
        # accept lists (a config read back from JSON) but store tuples: hashable, comparable
        blocks = tuple(
            (int(out), int(k), (int(stride[0]), int(stride[1])), bool(se))
            for out, k, stride, se in self.blocks
        )
        object.__setattr__(self, "blocks", blocks)
        sizes = (self.stem, self.dims, self.depth, self.heads, self.mlp_hidden, self.in_channels)
        block_sizes = [v for out, k, stride, _ in blocks for v in (out, k, *stride)]
        if min(*sizes, *block_sizes, 1) < 1 or self.pad_to < 0:
            raise ValueError("sizes, kernels and strides must be >= 1, pad_to >= 0")
        height = self.height // 2
        for _, _, (sh, _), _ in blocks:
            height //= sh
        if not blocks or height != 3:
            raise ValueError(f"blocks must take height {self.height} to 3, got {height}")
        stride = 2 * math.prod(sw for _, _, (_, sw), _ in blocks) * 2  # stem, blocks, pool
        if stride != TIME_STRIDE:
            raise ValueError(f"blocks must halve the width exactly once, got stride {stride}")
        if self.dims % self.heads:
            raise ValueError(f"dims {self.dims} must be a multiple of heads {self.heads}")
        if self.pad_to % TIME_STRIDE:
            raise ValueError(f"pad_to must be a multiple of {TIME_STRIDE}, got {self.pad_to}")


class ScalarAffine(nn.Module):
    """``x * scale + bias`` with one learnable scalar each (PPLCNetV3's LearnableAffineBlock)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale + self.bias


class ConvAct(nn.Module):
    """Convolution (bias), scalar affine, hard-swish, scalar affine: ``(B, C, H, W)`` in/out."""

    def __init__(self, cin: int, cout: int, kernel: int, stride, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups)
        self.affine = ScalarAffine()
        self.act_affine = ScalarAffine()

    def forward(self, x: Tensor) -> Tensor:
        return self.act_affine(F.hardswish(self.affine(self.conv(x))))


class SqueezeExcite(nn.Module):
    """Channel gates from the global average: ``x * hardsigmoid(W2 relu(W1 mean(x)))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // 4, 1)
        self.expand = nn.Conv2d(channels // 4, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        gate = self.expand(F.relu(self.reduce(F.adaptive_avg_pool2d(x, 1))))
        return x * F.hardsigmoid(gate)


class SeparableBlock(nn.Module):
    """Depthwise ``kernel`` conv (stride), optional squeeze-excitation, pointwise conv."""

    def __init__(self, cin: int, cout: int, kernel: int, stride, se: bool) -> None:
        super().__init__()
        self.depthwise = ConvAct(cin, cin, kernel, stride, groups=cin)
        self.se = SqueezeExcite(cin) if se else nn.Identity()
        self.pointwise = ConvAct(cin, cout, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.se(self.depthwise(x)))


def conv_bn_swish(cin: int, cout: int, kernel: tuple[int, int]) -> nn.Sequential:
    """Convolution (no bias, 'same' padding), batch norm, swish."""
    padding = (kernel[0] // 2, kernel[1] // 2)
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, 1, padding, bias=False), nn.BatchNorm2d(cout), nn.SiLU()
    )


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


class SVTRNeck(nn.Module):
    """SVTR encoder with its shortcut: ``(B, C, 1, T)`` -> ``(B, T, dims)``."""

    def __init__(self, channels: int, config: SVTRLCNetConfig) -> None:
        super().__init__()
        dims = config.dims
        self.reduce = conv_bn_swish(channels, channels // 8, (1, 3))
        self.embed = conv_bn_swish(channels // 8, dims, (1, 1))
        self.blocks = nn.ModuleList(
            EncoderBlock(dims, config.heads, config.mlp_hidden) for _ in range(config.depth)
        )
        self.norm = nn.LayerNorm(dims, eps=1e-6)
        self.expand = conv_bn_swish(dims, channels, (1, 1))
        self.fuse = conv_bn_swish(2 * channels, channels // 8, (1, 3))
        self.out = conv_bn_swish(channels // 8, dims, (1, 1))

    def forward(self, feats: Tensor) -> Tensor:
        x = self.embed(self.reduce(feats))  # (B, dims, 1, T)
        seq = x.flatten(2).transpose(1, 2)  # (B, T, dims)
        for block in self.blocks:
            seq = block(seq)
        x = self.norm(seq).transpose(1, 2).unsqueeze(2)  # (B, dims, 1, T)
        x = self.fuse(torch.cat([feats, self.expand(x)], dim=1))
        return self.out(x).squeeze(2).transpose(1, 2)


def ppocr_input_spec(config) -> InputSpec:
    """The input of a PaddleOCR mobile recognizer of ``config`` (its ``in_channels``,
    ``height``, ``pad_to``, ``paddle_geometry``): PaddleOCR's resize and zero padding, a step
    per 8 columns."""
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


class SVTRLCNet(RecognitionModel):
    """PPLCNetV3 features -> SVTR neck -> class logits (class 0 is the blank)."""

    arch = "svtr-lcnet"
    config_class = SVTRLCNetConfig

    def __init__(self, num_classes: int, config: SVTRLCNetConfig) -> None:
        super().__init__(num_classes, config)
        layers: list[nn.Module] = [
            nn.Conv2d(config.in_channels, config.stem, 3, 2, 1, bias=False),
            nn.BatchNorm2d(config.stem),
        ]
        channels = config.stem
        for out, kernel, stride, se in config.blocks:
            layers.append(SeparableBlock(channels, out, kernel, stride, se))
            channels = out
        layers.append(nn.AvgPool2d((3, 2), (3, 2)))
        self.features = nn.Sequential(*layers)
        self.neck = SVTRNeck(channels, config)
        self.classifier = nn.Linear(config.dims, num_classes)

    @property
    def input_spec(self) -> InputSpec:
        return ppocr_input_spec(self.config)

    def forward(self, images: Tensor) -> Tensor:
        """Logits ``(B, W // 8, num_classes)`` for float images ``(B, 3, 48, W)`` (RGB)."""
        self.check_input(images)
        logits = self.classifier(self.neck(self.features(images)))
        return logits[:, : images.shape[-1] // TIME_STRIDE]  # odd widths give one step more


#: PP-OCRv4's mobile recognizer, its weights the constants of RapidOCR's ONNX file
#: (:mod:`textrec_model.pretrained.ppocr_v4`).
PPOCR_V4 = PretrainedEntry(
    name="ppocr:v4",
    arch=SVTRLCNet.arch,
    config=SVTRLCNetConfig(),
    num_classes=6625,  # blank + the file's 6623 characters + the space PaddleOCR adds
    package="rapidocr_onnxruntime",
    file="models/ch_PP-OCRv4_rec_infer.onnx",
    install="pip install --no-deps rapidocr-onnxruntime==1.4.4",
    loader="textrec_model.pretrained.ppocr_v4:load_ppocr_v4",
    preprocessing="PaddleOCR's: RGB, height 48, batches padded to 320 columns "
    "(the input spec reproduces it)",
    licence="Apache-2.0 (PaddleOCR, https://github.com/PaddlePaddle/PaddleOCR; RapidOCR)",
)
