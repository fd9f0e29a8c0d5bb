"""PPOCRSeq2Seq: PP-OCRv4's encoder with a small character-level transformer decoder.

A compact TrOCR-style encoder-decoder this CPU can train, over textrec's :class:`Charset`:

- encoder: the ``features`` (PPLCNetV3) and ``neck`` (SVTR) of
  :class:`~textrec_model.models.svtr_lcnet.SVTRLCNet`, under the same names, so ``--init ppocr:v4``
  (or any svtr-lcnet checkpoint) loads them and leaves the decoder fresh. ``(B, 3, 48, W)`` ->
  ``(B, W // 8, dims)``, projected to ``width`` (``project``) plus sinusoidal positions;
- decoder: ``layers`` pre-norm transformer decoder layers (``decoder``) over token embeddings
  (``embed``) plus learned positions (``positions``), then ``classifier``.

Tokens: 0 is padding (the CTC blank's slot), 1..N the charset's characters (``charset.encode``
ids), N+1 the start and N+2 the end token: ``num_classes`` (blank + characters, as for a CTC
model) + 2 in all. ``forward(images)`` is the encoder (what the Predictor runs);
``forward(images, inputs)`` the teacher-forcing logits ``(B, L, V)``; decoding is
:mod:`textrec_model.seq2seq`'s generation over :meth:`PPOCRSeq2Seq.decode_step`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor, nn

from textrec_data.bounds import Bound, check_bounds
from textrec_data.charset import Charset
from textrec_data.preprocess import InputSpec
from textrec_model.models.base import RecognitionModel
from textrec_model.models.svtr_lcnet import SVTRLCNet, SVTRLCNetConfig
from textrec_model.seq2seq import DecoderStep, GenerationConfig, SpecialTokens

DECODER_BOUNDS = {
    "width": Bound(8, 4096),
    "layers": Bound(1, 64),
    "heads": Bound(1, 64),
    "ffn": Bound(8, 65536),
    "dropout": Bound(0.0, 0.9, integer=False),
    "max_tokens": Bound(2, 1024),
}


@dataclass(frozen=True)
class PPOCRSeq2SeqConfig:
    """``encoder``: the :class:`SVTRLCNetConfig` of the encoder (PP-OCRv4's by default);
    ``width``, ``layers``, ``heads``, ``ffn`` (feed-forward width) and ``dropout`` size the
    decoder; ``max_tokens``: its positions, the start token included, so the longest label is
    ``max_tokens - 1`` characters and the generation cap (the end token included)."""

    encoder: SVTRLCNetConfig = field(default_factory=SVTRLCNetConfig)
    width: int = 256
    layers: int = 2
    heads: int = 4
    ffn: int = 1024
    dropout: float = 0.1
    max_tokens: int = 32

    def __post_init__(self) -> None:
        if isinstance(self.encoder, dict):  # a config read back from JSON
            object.__setattr__(self, "encoder", SVTRLCNetConfig(**self.encoder))
        check_bounds(self, DECODER_BOUNDS)
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not a multiple of heads {self.heads}")


def sinusoids(length: int, width: int) -> Tensor:
    """Sinusoidal positions ``(length, width)`` (Vaswani et al.)."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rates = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(1e4) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * rates)
    table[:, 1::2] = torch.cos(position * rates[: width // 2])
    return table


class PPOCRSeq2Seq(RecognitionModel):
    """PP-OCRv4 encoder -> memory ``(B, T, width)``; transformer decoder -> token logits."""

    arch = "ppocr-seq2seq"
    head_kind: ClassVar[str] = "seq2seq"
    config_class = PPOCRSeq2SeqConfig
    classifier_prefix: ClassVar[tuple[str, ...]] = ("classifier", "embed")  # rows by token

    def __init__(self, num_classes: int, config: PPOCRSeq2SeqConfig) -> None:
        super().__init__(num_classes, config)
        encoder = SVTRLCNet(num_classes, config.encoder)
        self.features, self.neck = encoder.features, encoder.neck
        width = config.width
        self.project = nn.Linear(config.encoder.dims, width)
        self.embed = nn.Embedding(self.vocab_size, width)
        self.positions = nn.Parameter(torch.randn(config.max_tokens, width) * 0.02)
        layer = nn.TransformerDecoderLayer(
            width, config.heads, config.ffn, config.dropout, batch_first=True, norm_first=True
        )
        self.decoder = nn.TransformerDecoder(layer, config.layers)
        self.norm = nn.LayerNorm(width)
        self.classifier = nn.Linear(width, self.vocab_size)
        self._spec = encoder.input_spec

    @property
    def vocab_size(self) -> int:
        """Padding, the characters, start and end."""
        return self.num_classes + 2

    @property
    def special(self) -> SpecialTokens:
        return SpecialTokens(start=self.num_classes, end=self.num_classes + 1, pad=0)

    @property
    def banned(self) -> tuple[int, ...]:
        """Never generated: padding and the start token."""
        return (0, self.num_classes)

    @property
    def generation(self) -> GenerationConfig:
        """Generation defaults: greedy, up to the decoder's positions."""
        return GenerationConfig(max_tokens=self.config.max_tokens)

    def label_tokens(self, labels: Sequence[str], charset: Charset) -> list[list[int] | None]:
        """Token ids of each label (the charset's ids, the end token last); None for an empty
        label, one outside the charset, or one longer than :attr:`max_label_length`."""
        return [
            [*charset.encode(label), self.special.end]
            if label and not charset.missing(label) and len(label) <= self.max_label_length
            else None
            for label in labels
        ]

    def text(self, tokens: Sequence[int], charset: Charset) -> str:
        """The characters of generated tokens."""
        return charset.decode(tokens)

    @property
    def max_label_length(self) -> int:
        """Longest label (characters) the decoder can be trained on and can write."""
        return self.config.max_tokens - 1

    @property
    def input_spec(self) -> InputSpec:
        return self._spec

    def memory_mask(self, steps: Tensor | None, length: int) -> Tensor | None:
        """Key padding mask ``(B, length)`` (True: a padded step) from valid ``steps`` ``(B,)``."""
        if steps is None:
            return None
        return torch.arange(length, device=steps.device)[None, :] >= steps[:, None]

    def forward(
        self, images: Tensor, inputs: Tensor | None = None, widths: Tensor | None = None
    ) -> Tensor:
        """Encoder states ``(B, W // 8, width)`` of float images ``(B, 3, 48, W)``; with decoder
        ``inputs`` ``(B, L)`` (start token first), their teacher-forcing logits ``(B, L, V)``,
        the padded steps of each sample's unpadded ``widths`` ``(B,)`` masked."""
        self.check_input(images)
        states = self.neck(self.features(images))[:, : images.shape[-1] // 8]
        memory = self.project(states) + sinusoids(states.shape[1], self.config.width).to(states)
        if inputs is None:
            return memory
        steps = None if widths is None else self.output_lengths(widths).to(memory.device)
        return self.decode(memory, inputs, self.memory_mask(steps, memory.shape[1]))

    def decode(self, memory: Tensor, inputs: Tensor, mask: Tensor | None) -> Tensor:
        """Logits ``(N, L, V)`` of decoder ``inputs`` ``(N, L)`` over ``memory`` ``(N, T, D)``
        (``mask`` ``(N, T)``: True where padded)."""
        length = inputs.shape[1]
        if length > self.config.max_tokens:
            raise ValueError(f"{length} decoder inputs, at most {self.config.max_tokens}")
        x = self.embed(inputs) * math.sqrt(self.config.width) + self.positions[:length]
        causal = nn.Transformer.generate_square_subsequent_mask(length, device=x.device)
        x = self.decoder(
            x, memory, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=mask
        )
        return self.classifier(self.norm(x))

    def decode_step(self, memory: Tensor, steps: Tensor) -> DecoderStep:
        """The :mod:`~textrec_model.seq2seq` step over ``memory`` ``(B, T, D)`` whose samples
        have ``steps`` ``(B,)`` valid steps: prefixes ``(N, L)`` of rows ``(N,)`` -> ``(N, V)``."""
        mask = self.memory_mask(steps.to(memory.device), memory.shape[1])

        def step(prefix: Tensor, rows: Tensor) -> Tensor:
            return self.decode(memory[rows], prefix, mask[rows])[:, -1]

        return step
