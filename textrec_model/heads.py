"""What a model's outputs mean: how a batch of them is decoded into text and how a label is scored
against them (the val loss), one :class:`Head` per kind of recognition head (:data:`HEADS`).

- :class:`CTCHead`: logits ``(B, T, C)``, class 0 the blank: greedy, prefix beam or lexicon
  decoding; the loss is CTC's.
- :class:`Seq2SeqHead`: an encoder-decoder's encoder states ``(B, T, D)``, read token by token
  by the model's decoder (:mod:`textrec_model.seq2seq` generation, an end token and a length
  cap); the loss is teacher forcing's.

The :class:`~textrec_model.predictor.Predictor` runs the model and hands each batch's outputs
and valid steps to the head of the model's ``head_kind`` (:func:`head_for`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, Protocol

import torch

from textrec_data.bounds import Bound, check_choice, check_value
from textrec_data.charset import Charset, apply_case
from textrec_data.errors import InputError
from textrec_data.stream import min_ctc_length
from textrec_model.ctc import Lexicon, beam_decode, ctc_loss, greedy_decode, lexicon_decode
from textrec_model.seq2seq import (
    GenerationConfig,
    StepDecoder,
    decoder_inputs,
    generate,
    pad_labels,
    sequence_log_probs,
)

DECODERS = ("greedy", "beam")
#: ``--rotate``: read each crop as given (``none``), or also read a crop taller than wide turned
#: a quarter turn each way and keep the most confident of the three readings (``vertical``:
#: words running down or up a sign, which loose axis-aligned boxes such as the official ICDAR
#: 2015 crops leave standing on end).
ROTATIONS = ("none", "vertical")
#: Beam widths the CLI and the API take.
BEAM_WIDTH = Bound(1, 1000)


@dataclass(frozen=True)
class Prediction:
    """One recognized word: ``text`` and ``confidence`` (probability of the decoded path or
    labelling, in [0, 1])."""

    text: str
    confidence: float


@dataclass(frozen=True)
class DecodeConfig:
    """How crops become text: logits by ``greedy`` or ``beam`` decoding (CTC prefix beam of
    ``beam_width``); with a ``lexicon``, the lexicon word that best explains the logits; which
    turns of a crop are read (``rotate``, one of :data:`ROTATIONS`)."""

    decoder: str = "greedy"
    beam_width: int = 10
    lexicon: tuple[str, ...] | None = None
    rotate: str = "none"

    def __post_init__(self) -> None:
        check_choice("--decoder", self.decoder, DECODERS)
        check_value("--beam-width", self.beam_width, BEAM_WIDTH)
        check_choice("--rotate", self.rotate, ROTATIONS)


class Head(Protocol):
    """What a model's outputs mean: how they are decoded into text, and how a label is scored
    against them (the val loss). ``outputs`` is what the predictor's runner returns for a
    batch; ``steps`` ``(B,)`` the valid steps of each sample."""

    kind: ClassVar[str]

    @classmethod
    def for_model(cls, model: torch.nn.Module) -> Head:
        """The head that reads ``model``'s outputs."""

    def prepare(self, decode: DecodeConfig, charset: Charset) -> object:
        """What :meth:`decode` needs built once per call of :meth:`Predictor.predict`."""

    def decode(
        self, outputs: torch.Tensor, steps: torch.Tensor, charset: Charset, decode: DecodeConfig,
        prepared: object,
    ) -> list[Prediction]:  # fmt: skip
        """Text and confidence per sample."""

    def losses(
        self, outputs: torch.Tensor, steps: torch.Tensor, labels: Sequence[str], charset: Charset
    ) -> list[float | None]:
        """Per-sample loss per label character; None where the label cannot be scored."""


class CTCHead:
    """Logits ``(B, T, C)`` with class 0 the CTC blank: greedy or prefix-beam decoding, or the
    lexicon word of highest CTC likelihood; the loss is CTC's negative log-likelihood."""

    kind: ClassVar[str] = "ctc"

    @classmethod
    def for_model(cls, model: torch.nn.Module) -> CTCHead:
        return cls()

    def prepare(self, decode: DecodeConfig, charset: Charset) -> Lexicon | None:
        """The lexicon in label space (InputError when no word of it can be spelt)."""
        if not decode.lexicon:
            return None
        try:
            return Lexicon.build(decode.lexicon, charset)
        except ValueError as exc:
            raise InputError(f"--lexicon: {exc}") from exc

    def decode(
        self, outputs: torch.Tensor, steps: torch.Tensor, charset: Charset, decode: DecodeConfig,
        prepared: Lexicon | None,
    ) -> list[Prediction]:  # fmt: skip
        """With a lexicon the answer is a lexicon word, whatever ``decode.decoder`` says."""
        if prepared is not None:
            texts, confidences = lexicon_decode(outputs, steps, prepared, charset)
        else:
            if decode.decoder == "beam":
                ids, confidences = beam_decode(outputs, steps, decode.beam_width)
            else:
                ids, confidences = greedy_decode(outputs, steps)
            texts = [charset.decode(seq) for seq in ids]
        return [Prediction(t, float(c)) for t, c in zip(texts, confidences, strict=True)]

    def losses(
        self, outputs: torch.Tensor, steps: torch.Tensor, labels: Sequence[str], charset: Charset
    ) -> list[float | None]:
        """CTC loss / label length of each label (in the charset's case) over its sample's
        steps; None for an empty label, one outside the charset, or one needing more steps."""
        ids = [None] * len(labels)
        for b, label in enumerate(labels):
            label = apply_case(label, charset.case)
            if label and not charset.missing(label):
                encoded = charset.encode(label)
                if min_ctc_length(encoded) <= int(steps[b]):
                    ids[b] = encoded
        scored = [b for b, i in enumerate(ids) if i is not None]
        out: list[float | None] = [None] * len(labels)
        if not scored:
            return out
        targets = torch.tensor([c for b in scored for c in ids[b]], dtype=torch.long)
        lengths = torch.tensor([len(ids[b]) for b in scored], dtype=torch.long)
        losses = ctc_loss(outputs[scored], targets, steps[scored], lengths) / lengths
        for b, value in zip(scored, losses.tolist(), strict=True):
            out[b] = value
        return out


class Seq2SeqHead:
    """Encoder states ``(B, T, D)`` of a sequence-to-sequence model (``decode``,
    ``decode_step``, ``memory_mask``, ``special``, ``banned``, ``generation``, ``label_tokens``,
    ``text``: :class:`~textrec_model.models.ppocr_seq2seq.PPOCRSeq2Seq` over the charset,
    :class:`~textrec_model.models.trocr.TrOCR` over its tokenizer): greedy or beam generation
    up to the end token or the model's length cap, confidence the reading's probability; the
    loss is teacher forcing's ``-log P(label + end)`` per token. Lexicon decoding is refused."""

    kind: ClassVar[str] = "seq2seq"

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model

    @classmethod
    def for_model(cls, model: torch.nn.Module) -> Seq2SeqHead:
        return cls(model)

    def prepare(self, decode: DecodeConfig, charset: Charset) -> GenerationConfig:
        """The model's generation settings, greedy or a beam of ``decode.beam_width``."""
        if decode.lexicon:
            raise InputError(
                "--lexicon: lexicon decoding is for CTC models; this model is "
                "sequence-to-sequence (read without --lexicon)"
            )
        beam = decode.beam_width if decode.decoder == "beam" else 1
        return replace(self.model.generation, beam_width=beam)

    @torch.inference_mode()
    def decode(
        self, outputs: torch.Tensor, steps: torch.Tensor, charset: Charset, decode: DecodeConfig,
        prepared: GenerationConfig,
    ) -> list[Prediction]:  # fmt: skip
        """Readings of encoder states ``outputs`` ``(B, T, D)`` with ``steps`` ``(B,)``."""
        model = self.model
        device = next(model.parameters()).device
        memory = outputs.to(device)
        step = model.decode_step(memory, steps)
        found = generate(
            StepDecoder(step, len(memory), model.special, model.banned, device), prepared
        )
        return [Prediction(model.text(h.tokens, charset), h.confidence) for h in found]

    @torch.inference_mode()
    def losses(
        self, outputs: torch.Tensor, steps: torch.Tensor, labels: Sequence[str], charset: Charset
    ) -> list[float | None]:
        """``-log P(label)`` per label token (end token included); None for a label the model
        cannot write (``label_tokens``)."""
        model = self.model
        ids = model.label_tokens([apply_case(label, charset.case) for label in labels], charset)
        scored = [b for b, i in enumerate(ids) if i is not None]
        out: list[float | None] = [None] * len(labels)
        if not scored:
            return out
        device = next(model.parameters()).device
        targets = pad_labels([ids[b] for b in scored]).to(device)
        memory = outputs[scored].to(device)
        mask = model.memory_mask(steps[scored].to(device), memory.shape[1])
        logits = model.decode(memory, decoder_inputs(targets, model.special), mask)
        lengths = torch.tensor([len(ids[b]) for b in scored], device=device)
        for b, value in zip(scored, (-sequence_log_probs(logits, targets) / lengths).tolist(),
                            strict=True):  # fmt: skip
            out[b] = value
        return out


#: Head kinds by name (a model's ``head_kind``); a model's outputs are decoded by one of them.
HEADS: dict[str, type] = {CTCHead.kind: CTCHead, Seq2SeqHead.kind: Seq2SeqHead}


def head_for(model: torch.nn.Module) -> Head:
    """The head of ``model``'s kind (``head_kind``, CTC unless the model says otherwise)."""
    return HEADS[getattr(model, "head_kind", CTCHead.kind)].for_model(model)
