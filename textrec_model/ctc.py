"""CTC loss wrapper and decoding (greedy best path, prefix beam search, lexicon) with blank id 0.

Shapes: ``B`` batch, ``T`` time steps, ``C`` classes (blank + characters), ``L`` label length.
Logits are always batch-first ``(B, T, C)`` as the CRNN emits them; ``lengths`` ``(B,)`` are the
valid (unpadded) time steps of each sample, e.g. ``CRNN.output_lengths(widths)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from torch import Tensor

from textrec_data.charset import BLANK, Charset, apply_case

NEG_INF = float("-inf")


def min_ctc_lengths(targets: Tensor, target_lengths: Tensor) -> Tensor:
    """``textrec_data.stream.min_ctc_length`` of every sample ``(B,)`` of concatenated
    ``targets`` ``(sum L,)``.

    ``input_lengths >= min_ctc_lengths(targets, target_lengths)`` is the feasibility mask.
    """
    target_lengths = target_lengths.long()
    sample = torch.repeat_interleave(
        torch.arange(len(target_lengths), device=target_lengths.device), target_lengths
    )
    sample = sample.to(targets.device)
    repeat = (targets[1:] == targets[:-1]) & (sample[1:] == sample[:-1])
    repeats = torch.zeros(len(target_lengths), dtype=torch.long, device=targets.device)
    repeats.scatter_add_(0, sample[1:], repeat.long())
    return target_lengths.to(targets.device) + repeats


def ctc_loss(
    logits: Tensor, targets: Tensor, input_lengths: Tensor, target_lengths: Tensor
) -> Tensor:
    """Per-sample CTC negative log-likelihood ``(B,)``, computed in float32.

    Args:
        logits: ``(B, T, C)`` raw scores (any float dtype; cast to float32, so AMP is safe).
        targets: ``(sum L,)`` long, the labels of the batch concatenated (no blanks).
        input_lengths: ``(B,)`` valid time steps of each sample (``<= T``).
        target_lengths: ``(B,)`` label lengths.

    ``zero_infinity`` is off: a sample whose ``input_lengths`` is below its
    ``textrec_data.stream.min_ctc_length`` gets ``inf`` loss (and NaN gradients). The caller must
    pass only feasible samples (see :func:`min_ctc_lengths`) and count the ones it drops.
    """
    log_probs = logits.float().log_softmax(-1).transpose(0, 1)  # (T, B, C)
    return F.ctc_loss(
        log_probs,
        targets.long(),
        input_lengths.long(),
        target_lengths.long(),
        blank=BLANK,
        reduction="none",
        zero_infinity=False,
    )


def ctc_loss_mean(
    logits: Tensor, targets: Tensor, input_lengths: Tensor, target_lengths: Tensor
) -> Tensor:
    """Scalar: mean over the batch of per-sample loss / label length (PyTorch's ``'mean'``)."""
    losses = ctc_loss(logits, targets, input_lengths, target_lengths)
    return (losses / target_lengths.to(losses.device).clamp(min=1)).mean()


def _check_lengths(logits: Tensor, lengths: Tensor) -> list[int]:
    if logits.dim() != 3:
        raise ValueError(f"expected logits (B, T, C), got shape {tuple(logits.shape)}")
    steps = [int(n) for n in lengths.reshape(-1).tolist()]
    if len(steps) != logits.shape[0]:
        raise ValueError(f"lengths has {len(steps)} entries for a batch of {logits.shape[0]}")
    if any(n < 0 or n > logits.shape[1] for n in steps):
        raise ValueError(f"lengths must lie in [0, T={logits.shape[1]}], got {steps}")
    return steps


def collapse(path: Sequence[int]) -> list[int]:
    """CTC collapse of a path: merge adjacent repeats, then drop blanks."""
    out: list[int] = []
    prev = BLANK
    for i in path:
        if i != prev and i != BLANK:
            out.append(i)
        prev = i
    return out


def greedy_decode(logits: Tensor, lengths: Tensor) -> tuple[list[list[int]], list[float]]:
    """Best-path decoding of ``logits`` ``(B, T, C)`` over the first ``lengths[b]`` steps.

    Returns the collapsed ids per sample and a confidence per sample: the probability of the
    best path, i.e. the product over the valid steps of the per-step maximum probability
    (1.0 for a zero-length sample). It is a lower bound on the probability of the labelling.
    """
    steps = _check_lengths(logits, lengths)
    best_logp, best = logits.detach().float().log_softmax(-1).max(-1)  # (B, T) each
    best_logp, best = best_logp.cpu(), best.cpu()
    ids: list[list[int]] = []
    confidences: list[float] = []
    for b, n in enumerate(steps):
        ids.append(collapse(best[b, :n].tolist()))
        confidences.append(math.exp(float(best_logp[b, :n].sum())))
    return ids, confidences


def _prefix_beam(
    log_probs: np.ndarray, beam_width: int, min_logp: float
) -> tuple[list[int], float]:
    """Prefix beam search on ``(T, C)`` log-probabilities -> (ids, log P(labelling)).

    Each beam keeps log P(paths ending in blank) and log P(paths ending in its last id). Per
    step, a beam either stays (blank, or its last id repeated without a blank between) or is
    extended by one id (after a blank when the id equals its last one). Extensions of distinct
    beams are distinct prefixes, so they only merge with a beam that stays on the same prefix.
    """
    num_classes = log_probs.shape[1]
    prefixes: list[tuple[int, ...]] = [()]
    p_b, p_nb = np.zeros(1), np.full(1, NEG_INF)
    for row in log_probs:
        blank_lp = float(row[BLANK])
        row = np.where(row >= min_logp, row, NEG_INF)  # ids that may be emitted (a copy)
        row[BLANK] = NEG_INF
        total = np.logaddexp(p_b, p_nb)
        last = np.array([p[-1] if p else BLANK for p in prefixes])
        has_last = last != BLANK
        stay_b = total + blank_lp
        stay_nb = np.where(has_last, p_nb + row[last], NEG_INF)
        ext = total[:, None] + row[None, :]  # (K, C)
        rows = np.flatnonzero(has_last)
        ext[rows, last[rows]] = p_b[rows] + row[last[rows]]
        index = {p: k for k, p in enumerate(prefixes)}
        for j, prefix in enumerate(prefixes):
            parent = index.get(prefix[:-1]) if prefix else None
            if parent is not None:
                stay_nb[j] = np.logaddexp(stay_nb[j], ext[parent, prefix[-1]])
                ext[parent, prefix[-1]] = NEG_INF
        scores = np.concatenate([np.logaddexp(stay_b, stay_nb), ext.ravel()])
        order = np.argsort(-scores, kind="stable")[:beam_width]
        order = [i for i in order.tolist() if scores[i] > NEG_INF] or order[:1].tolist()
        new_prefixes, new_b, new_nb = [], [], []
        for i in order:
            if i < len(prefixes):
                new_prefixes.append(prefixes[i])
                new_b.append(stay_b[i])
                new_nb.append(stay_nb[i])
            else:
                k, c = divmod(i - len(prefixes), num_classes)
                new_prefixes.append(prefixes[k] + (c,))
                new_b.append(NEG_INF)
                new_nb.append(ext[k, c])
        prefixes, p_b, p_nb = new_prefixes, np.array(new_b), np.array(new_nb)
    return list(prefixes[0]), float(np.logaddexp(p_b[0], p_nb[0]))


def beam_decode(
    logits: Tensor, lengths: Tensor, beam_width: int = 10, min_logp: float = -12.0
) -> tuple[list[list[int]], list[float]]:
    """CTC prefix beam search over ``logits`` ``(B, T, C)``, first ``lengths[b]`` steps each.

    Returns ids per sample and confidence = the beam's estimate of P(labelling) (a sum over the
    paths it kept that collapse to the labelling). Characters with log-probability below
    ``min_logp`` at a step are not expanded there (the blank always is).

    ``beam_width=1`` is defined as :func:`greedy_decode` (best path): an exact width-1 prefix
    search sums the mass of ``"a"+blank`` and ``"a"+"a"``, so it can keep a prefix that no single
    best step chose, and would then disagree with greedy; best path is the useful meaning of
    "no beam". With a width at least the number of distinct labellings the search is exact.
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    if beam_width == 1:
        return greedy_decode(logits, lengths)
    steps = _check_lengths(logits, lengths)
    log_probs = logits.detach().float().log_softmax(-1).cpu().numpy()
    ids: list[list[int]] = []
    confidences: list[float] = []
    for b, n in enumerate(steps):
        seq, score = _prefix_beam(log_probs[b, :n], beam_width, min_logp)
        ids.append(seq)
        confidences.append(math.exp(score))
    return ids, confidences


@dataclass(frozen=True)
class Lexicon:
    """Lexicon words in label space (charset case policy), deduplicated, encodable, non-empty,
    with their ids. Build it once with :meth:`build` and decode any number of batches."""

    words: list[str]
    ids: list[list[int]]

    @classmethod
    def build(cls, lexicon: Sequence[str], charset: Charset) -> Lexicon:
        """Raises ``ValueError`` when no word of ``lexicon`` can be encoded."""
        encoded: dict[str, list[int]] = {}
        for raw in lexicon:
            word = apply_case(raw, charset.case)
            if word and word not in encoded and not charset.missing(word):
                encoded[word] = charset.encode(word)
        if not encoded:
            raise ValueError("lexicon has no word that the charset can encode")
        return cls(list(encoded), list(encoded.values()))


def lexicon_decode(
    logits: Tensor,
    lengths: Tensor,
    lexicon: Lexicon | Sequence[str],
    charset: Charset,
    top_k: int = 50,
) -> tuple[list[str], list[float]]:
    """The lexicon word with the highest CTC log-likelihood for each sample of ``(B, T, C)``,
    and its probability ``P(word | logits)`` as the confidence.

    Words are put in label space with the charset's case policy (the returned strings are in
    that form); words that are empty or use characters outside ``charset`` are skipped. When
    more than ``top_k`` words remain, each sample's candidates are the ``top_k`` nearest by
    Levenshtein distance to its greedy string, then rescored by CTC likelihood. Words that
    cannot fit in a sample's steps score ``-inf``; ties go to the earlier lexicon word.
    ``lexicon`` is a word list or a :class:`Lexicon` built once for many batches.
    """
    steps = _check_lengths(logits, lengths)
    if not isinstance(lexicon, Lexicon):
        lexicon = Lexicon.build(lexicon, charset)
    words, encoded = lexicon.words, lexicon.ids
    log_probs = logits.detach().float().log_softmax(-1).cpu()  # (B, T, C)
    if len(words) > top_k:
        greedy_ids, _ = greedy_decode(logits, lengths)
        queries = [charset.decode(ids) for ids in greedy_ids]
        dist = process.cdist(queries, words, scorer=Levenshtein.distance, dtype=np.int32)
        candidates = np.argsort(dist, axis=1, kind="stable")[:, :top_k].tolist()
    else:
        candidates = [list(range(len(words)))] * len(steps)
    out: list[str] = []
    confidences: list[float] = []
    for b, n in enumerate(steps):
        cand = sorted(candidates[b])
        if n == 0:  # no step can emit a non-empty word: all score -inf
            out.append(words[cand[0]])
            confidences.append(0.0)
            continue
        k = len(cand)
        lp = log_probs[b, :n].unsqueeze(1).expand(n, k, log_probs.shape[-1])  # (n, K, C)
        targets = torch.tensor([i for c in cand for i in encoded[c]], dtype=torch.long)
        target_lengths = torch.tensor([len(encoded[c]) for c in cand], dtype=torch.long)
        nll = F.ctc_loss(
            lp,
            targets,
            torch.full((k,), n, dtype=torch.long),
            target_lengths,
            blank=BLANK,
            reduction="none",
            zero_infinity=False,
        )
        best = int(torch.argmin(nll))
        out.append(words[cand[best]])
        confidences.append(math.exp(-float(nll[best])))
    return out, confidences
