"""Sequence-to-sequence (encoder-decoder) recognition: teacher-forcing loss and generation.

Model-agnostic pure functions over a *decoder step*: a callable ``step(prefix, rows)`` that takes
token prefixes ``(N, L)`` (long, the start token first) of the images ``rows`` ``(N,)`` (indices
into the batch the encoder read) and returns next-token logits ``(N, V)`` for the last position.
It recomputes the whole prefix at each step (no key/value cache): a word is a few tokens, and the
decoding then never depends on which other prefixes share the batch. An HF TrOCR
(:mod:`textrec_model.models.trocr`) and any other autoregressive decoder give such a callable;
generation reads it as a :class:`StepDecoder` (with its batch size and special tokens).

Shapes: ``B`` images, ``L`` tokens, ``V`` vocabulary. Labels ``(B, L)`` are token ids ending with
the end token, padded with :data:`IGNORE_INDEX` (-100), which the loss ignores.

A reading's confidence is the product of the probabilities of its chosen tokens, the end token
included (:attr:`Hypothesis.confidence`): the probability the decoder gives the whole reading,
comparable to the CTC decoders' path probability. Probabilities are the softmax over the allowed
tokens (``banned`` ones, e.g. padding, removed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from textrec_data.bounds import Bound, check_bounds

#: Label value the loss ignores (padding), as in ``torch.nn.CrossEntropyLoss`` and HF models.
IGNORE_INDEX = -100

#: Next-token logits ``(N, V)`` of prefixes ``(N, L)`` of the images ``rows`` ``(N,)``.
DecoderStep = Callable[[Tensor, Tensor], Tensor]

GENERATION_BOUNDS = {
    "max_tokens": Bound(1, 4096),
    "beam_width": Bound(1, 1000),
    "length_penalty": Bound(0.0, 10.0, integer=False),
}


@dataclass(frozen=True)
class SpecialTokens:
    """The decoder's ``start`` (first input token), ``end`` (stops a reading) and ``pad`` (fills
    decoder inputs after a label's end) ids."""

    start: int
    end: int
    pad: int

    def __post_init__(self) -> None:
        if min(self.start, self.end, self.pad) < 0:
            raise ValueError(f"special token ids must be >= 0, got {self}")


@dataclass(frozen=True)
class GenerationConfig:
    """How readings are generated, saved with every run that generates.

    ``max_tokens``: most tokens generated per reading, the end token included (a reading that
    reaches it without an end token is kept, marked ``ended=False``); ``beam_width`` 1 is greedy;
    ``length_penalty``: beam hypotheses are ranked by ``sum log p / tokens ** length_penalty``
    (0: total probability, which favours short readings; 1: mean log-probability per token)."""

    max_tokens: int = 32
    beam_width: int = 1
    length_penalty: float = 1.0

    def __post_init__(self) -> None:
        check_bounds(self, GENERATION_BOUNDS)


@dataclass(frozen=True)
class Hypothesis:
    """One reading: ``tokens`` generated (start and end excluded), the log-probability of each
    chosen token (``log_probs``, the end token last when ``ended``) and whether an end token
    closed it (False: cut by ``max_tokens``)."""

    tokens: tuple[int, ...]
    log_probs: tuple[float, ...]
    ended: bool

    @property
    def confidence(self) -> float:
        """Product of the chosen tokens' probabilities (end token included)."""
        return math.exp(sum(self.log_probs))

    def score(self, length_penalty: float) -> float:
        """Beam ranking: ``sum log p / len(log_probs) ** length_penalty``."""
        return sum(self.log_probs) / max(len(self.log_probs), 1) ** length_penalty


def pad_labels(sequences: Sequence[Sequence[int]]) -> Tensor:
    """Token-id lists (each ending with the end token) as labels ``(B, max L)`` long, padded with
    :data:`IGNORE_INDEX`."""
    longest = max((len(s) for s in sequences), default=0)
    labels = torch.full((len(sequences), longest), IGNORE_INDEX, dtype=torch.long)
    for i, sequence in enumerate(sequences):
        labels[i, : len(sequence)] = torch.as_tensor(list(sequence), dtype=torch.long)
    return labels


def decoder_inputs(labels: Tensor, special: SpecialTokens) -> Tensor:
    """Teacher-forcing decoder inputs ``(B, L)``: labels ``(B, L)`` shifted right one place
    behind the start token, ignored positions as padding."""
    inputs = labels.new_full(labels.shape, special.pad)
    inputs[:, 0] = special.start
    inputs[:, 1:] = labels[:, :-1]
    return inputs.masked_fill(inputs == IGNORE_INDEX, special.pad)


def sequence_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Scalar: mean cross-entropy over the non-ignored label tokens of the batch, in float32.

    Args:
        logits: ``(B, L, V)`` the decoder's scores for each label position (any float dtype).
        labels: ``(B, L)`` long, :data:`IGNORE_INDEX` where padded.
    """
    if logits.shape[:2] != labels.shape:
        raise ValueError(f"logits {tuple(logits.shape)} do not fit labels {tuple(labels.shape)}")
    flat = logits.float().reshape(-1, logits.shape[-1])
    return F.cross_entropy(flat, labels.reshape(-1), ignore_index=IGNORE_INDEX)


def sequence_log_probs(logits: Tensor, labels: Tensor) -> Tensor:
    """Per-sample ``log P(label)`` ``(B,)``: the sum of the label tokens' log-probabilities under
    teacher forcing (``logits`` ``(B, L, V)``, ``labels`` ``(B, L)``; ignored positions add 0)."""
    log_probs = logits.float().log_softmax(-1)
    kept = labels != IGNORE_INDEX
    chosen = log_probs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (chosen * kept).sum(-1)


@dataclass(frozen=True)
class StepDecoder:
    """What generation reads: the decoder ``step`` over ``batch_size`` images, its ``special``
    tokens, the ``banned`` ids it never generates (e.g. padding) and the ``device`` of the
    prefixes it is given."""

    step: DecoderStep
    batch_size: int
    special: SpecialTokens
    banned: Sequence[int] = ()
    device: torch.device | str = "cpu"

    def next_log_probs(self, prefix: Tensor, rows: Tensor) -> Tensor:
        """Log-softmax ``(N, V)`` in float32 of the step's logits for ``prefix`` ``(N, L)`` of
        the images ``rows`` ``(N,)``, the banned ids removed."""
        logits = self.step(prefix, rows).float()
        if len(self.banned):
            banned = torch.as_tensor(list(self.banned), dtype=torch.long, device=logits.device)
            logits = logits.index_fill(-1, banned, float("-inf"))
        return logits.log_softmax(-1)


def greedy_decode(decoder: StepDecoder, max_tokens: int) -> list[Hypothesis]:
    """The most probable token at each step, for each image, until the end token or
    ``max_tokens`` tokens. Finished readings leave the batch the step sees."""
    batch_size, special, device = decoder.batch_size, decoder.special, decoder.device
    prefix = torch.full((batch_size, 1), special.start, dtype=torch.long, device=device)
    alive = torch.arange(batch_size, device=device)
    tokens: list[list[int]] = [[] for _ in range(batch_size)]
    log_probs: list[list[float]] = [[] for _ in range(batch_size)]
    ended = [False] * batch_size
    for _ in range(max_tokens):
        if not len(alive):
            break
        best_log_prob, best = decoder.next_log_probs(prefix, alive).max(-1)
        chosen = zip(alive.tolist(), best.tolist(), best_log_prob.tolist(), strict=True)
        for row, token, log_prob in chosen:
            log_probs[row].append(log_prob)
            if token == special.end:
                ended[row] = True
            else:
                tokens[row].append(token)
        going = best != special.end
        prefix = torch.cat([prefix[going], best[going, None].to(prefix.device)], dim=1)
        alive = alive[going.to(alive.device)]
    return [
        Hypothesis(tuple(t), tuple(lp), e)
        for t, lp, e in zip(tokens, log_probs, ended, strict=True)
    ]


def beam_decode(decoder: StepDecoder, config: GenerationConfig) -> list[Hypothesis]:
    """Beam search: each image keeps its ``config.beam_width`` best open prefixes; the readings
    the end token closes among a step's best ``2 * beam_width`` candidates are kept aside. An
    image stops when no open prefix can still beat its best closed reading (log-probabilities
    only fall, so the bound is exact), or at ``config.max_tokens`` (open prefixes then compete
    too, ``ended=False``). The reading with the best :meth:`Hypothesis.score` wins."""
    width, penalty = config.beam_width, config.length_penalty
    batch_size, start_token = decoder.batch_size, decoder.special.start
    beams: list[list[Hypothesis]] = [[Hypothesis((), (), False)] for _ in range(batch_size)]
    finished: list[list[Hypothesis]] = [[] for _ in range(batch_size)]
    for _ in range(config.max_tokens):
        live = [(b, h) for b in range(batch_size) for h in beams[b]]
        if not live:
            break
        prefix = torch.tensor([[start_token, *h.tokens] for _, h in live], device=decoder.device)
        rows = torch.tensor([b for b, _ in live], device=decoder.device)
        log_probs = decoder.next_log_probs(prefix, rows).cpu()
        totals = log_probs + torch.tensor([sum(h.log_probs) for _, h in live])[:, None]
        start = 0
        for b in range(batch_size):
            span = slice(start, start + len(beams[b]))
            start = span.stop
            parents = [h for _, h in live[span]]
            candidates = _expand(parents, log_probs[span], totals[span], width, decoder.special.end)
            finished[b].extend(h for h in candidates if h.ended)
            beams[b] = [h for h in candidates if not h.ended]
            if finished[b] and beams[b]:
                best_closed = max(h.score(penalty) for h in finished[b])
                best_open = max(_best_possible(h, penalty, config.max_tokens) for h in beams[b])
                beams[b] = [] if best_closed >= best_open else beams[b]
    return [max(done + beams[b], key=lambda h: h.score(penalty)) for b, done in enumerate(finished)]


def _best_possible(prefix: Hypothesis, length_penalty: float, max_tokens: int) -> float:
    """Highest score any reading that extends ``prefix`` can reach: its log-probability sum only
    falls, and with a length penalty the longest reading divides it most."""
    total = sum(prefix.log_probs)
    return total / max_tokens**length_penalty if length_penalty > 0 else total


def _expand(
    live: list[Hypothesis], log_probs: Tensor, totals: Tensor, width: int, end: int
) -> list[Hypothesis]:
    """One image's next candidates from its ``live`` prefixes' next-token ``log_probs``
    ``(k, V)`` and running totals ``(k, V)``: of the best ``2 * width``, the first ``width``
    open prefixes and every reading ``end`` closes (``ended=True``)."""
    vocab = log_probs.shape[1]
    candidates = torch.topk(totals.flatten(), min(2 * width, totals.numel()))
    kept: list[Hypothesis] = []
    open_prefixes = 0
    for total, flat in zip(*candidates, strict=True):
        if total.item() == float("-inf") or open_prefixes == width:
            break
        parent, token = divmod(int(flat), vocab)
        hypothesis = live[parent]
        chosen = hypothesis.log_probs + (float(log_probs[parent, token]),)
        if token == end:
            kept.append(Hypothesis(hypothesis.tokens, chosen, True))
        else:
            kept.append(Hypothesis((*hypothesis.tokens, token), chosen, False))
            open_prefixes += 1
    return kept


def generate(decoder: StepDecoder, config: GenerationConfig) -> list[Hypothesis]:
    """Greedy (``beam_width`` 1) or beam readings of the decoder's images, as ``config`` says."""
    if config.beam_width == 1:
        return greedy_decode(decoder, config.max_tokens)
    return beam_decode(decoder, config)
