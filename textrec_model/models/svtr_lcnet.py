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

from textrec_model.models.base import PretrainedEntry
from textrec_model.models.ppocr_mobile import (
    TIME_STRIDE,
    EncoderBlock,
    PPOCRMobileConfig,
    PPOCRMobileRec,
    SqueezeExcite,
)

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
class SVTRLCNetConfig(PPOCRMobileConfig):
    """Architecture of an :class:`SVTRLCNet` (defaults: PP-OCRv4 rec's): ``blocks`` as in
    :data:`PPOCR_V4_BLOCKS` (their strides must take ``height`` to 3), after a ``stem`` of that
    many channels; the shared fields (:class:`PPOCRMobileConfig`) size the SVTR neck and the
    input (``paddle_geometry`` set for ``ppocr:v4``)."""

    blocks: tuple = PPOCR_V4_BLOCKS
    stem: int = 16

    def __post_init__(self) -> None:
        # accept lists (a config read back from JSON) but store tuples: hashable, comparable
        blocks = tuple(
            (int(out), int(k), (int(stride[0]), int(stride[1])), bool(se))
            for out, k, stride, se in self.blocks
        )
        object.__setattr__(self, "blocks", blocks)
        block_sizes = [v for out, k, stride, _ in blocks for v in (out, k, *stride)]
        self.check((self.stem, *block_sizes), 2, [sh for _, _, (sh, _), _ in blocks])
        stride = 2 * math.prod(sw for _, _, (_, sw), _ in blocks) * 2  # stem, blocks, pool
        if stride != TIME_STRIDE:
            raise ValueError(f"blocks must halve the width exactly once, got stride {stride}")


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


class SVTRLCNet(PPOCRMobileRec):
    """PPLCNetV3 features -> SVTR neck -> class logits (class 0 is the blank)."""

    arch = "svtr-lcnet"
    config_class = SVTRLCNetConfig
    block_class = SeparableBlock

    def make_stem(self, config: SVTRLCNetConfig) -> tuple[list[nn.Module], int]:
        """A 3x3 stride-2 convolution and batch norm."""
        stem = nn.Conv2d(config.in_channels, config.stem, 3, 2, 1, bias=False)
        return [stem, nn.BatchNorm2d(config.stem)], config.stem

    def make_neck(self, channels: int, config: SVTRLCNetConfig) -> nn.Module:
        return SVTRNeck(channels, config)


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
