"""Sequence-to-sequence decoding (textrec_model.seq2seq) over a tiny torch decoder."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import Tensor, nn

from textrec_data.errors import InputError
from textrec_model.seq2seq import (
    IGNORE_INDEX,
    GenerationConfig,
    SpecialTokens,
    StepDecoder,
    beam_decode,
    decoder_inputs,
    generate,
    greedy_decode,
    pad_labels,
    sequence_log_probs,
    sequence_loss,
)

START, END, PAD = 0, 1, 2
SPECIAL = SpecialTokens(start=START, end=END, pad=PAD)
VOCAB = 8  # 3..7 are characters


class TinyDecoder(nn.Module):
    """A one-layer causal transformer decoder reading a learned two-vector memory per image."""

    def __init__(self, images: int = 4, dim: int = 16, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.dim = dim
        self.images = nn.Embedding(images, 2 * dim)
        self.tokens = nn.Embedding(VOCAB, dim)
        self.positions = nn.Embedding(16, dim)
        self.layer = nn.TransformerDecoderLayer(dim, 2, 32, dropout=0.0, batch_first=True)
        self.out = nn.Linear(dim, VOCAB)

    def memory(self, image_ids: Tensor) -> Tensor:
        """``(B, 2, dim)`` for image ids ``(B,)``."""
        return self.images(image_ids).view(-1, 2, self.dim)

    def forward(self, inputs: Tensor, memory: Tensor) -> Tensor:
        """Logits ``(B, L, VOCAB)`` of decoder inputs ``(B, L)``."""
        length = inputs.shape[1]
        x = self.tokens(inputs) + self.positions(torch.arange(length))
        mask = nn.Transformer.generate_square_subsequent_mask(length)
        return self.out(self.layer(x, memory, tgt_mask=mask, tgt_is_causal=True))

    def step(self, memory: Tensor):
        return lambda prefix, rows: self(prefix, memory[rows])[:, -1]


def teacher_forced(decoder: TinyDecoder, memory: Tensor, labels: Tensor) -> Tensor:
    return decoder(decoder_inputs(labels, SPECIAL), memory)


def test_labels_are_padded_with_the_ignore_index_and_shifted_behind_start():
    labels = pad_labels([[3, 4, END], [5, END]])
    assert labels.tolist() == [[3, 4, END], [5, END, IGNORE_INDEX]]
    assert decoder_inputs(labels, SPECIAL).tolist() == [[START, 3, 4], [START, 5, END]]


def test_loss_ignores_padding_and_averages_the_label_tokens():
    torch.manual_seed(0)
    labels = pad_labels([[3, 4, 5, END], [6, END]])
    logits = torch.randn(2, 4, VOCAB, requires_grad=True)
    loss = sequence_loss(logits, labels)
    kept = [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]
    manual = -sum(logits[b, t].log_softmax(-1)[labels[b, t]] for b, t in kept) / len(kept)
    assert loss.item() == pytest.approx(manual.item(), rel=1e-6)
    loss.backward()
    assert logits.grad[1, 2:].abs().sum() == 0  # padded positions get no gradient
    changed = logits.detach().clone()
    changed[1, 2:] = 100.0
    assert sequence_loss(changed, labels).item() == pytest.approx(loss.item(), rel=1e-6)


def test_greedy_confidence_is_the_teacher_forced_probability_of_the_reading():
    decoder = TinyDecoder().eval()
    memory = decoder.memory(torch.arange(4))
    with torch.no_grad():
        readings = greedy_decode(StepDecoder(decoder.step(memory), 4, SPECIAL), max_tokens=6)
        labels = pad_labels([[*r.tokens, END] if r.ended else r.tokens for r in readings])
        expected = sequence_log_probs(teacher_forced(decoder, memory, labels), labels)
    for reading, log_prob in zip(readings, expected.tolist(), strict=True):
        assert len(reading.log_probs) == len(reading.tokens) + reading.ended
        assert reading.confidence == pytest.approx(math.exp(log_prob), rel=1e-4)


def test_a_reading_does_not_depend_on_its_batch():
    decoder = TinyDecoder(seed=3).eval()
    memory = decoder.memory(torch.arange(4))
    with torch.no_grad():
        together = greedy_decode(StepDecoder(decoder.step(memory), 4, SPECIAL), max_tokens=6)
        alone = [
            greedy_decode(StepDecoder(decoder.step(memory[i : i + 1]), 1, SPECIAL), 6)[0]
            for i in range(4)
        ]
    assert [r.tokens for r in together] == [r.tokens for r in alone]


def test_the_length_cap_stops_a_reading_that_never_ends():
    decoder = TinyDecoder().eval()
    memory = decoder.memory(torch.arange(3))
    config = GenerationConfig(max_tokens=5, beam_width=2)
    with torch.no_grad():
        for readings in (
            greedy_decode(StepDecoder(decoder.step(memory), 3, SPECIAL, banned=[END, PAD]), 5),
            beam_decode(StepDecoder(decoder.step(memory), 3, SPECIAL, banned=[END, PAD]), config),
        ):
            assert all(len(r.tokens) == 5 and not r.ended for r in readings)
            assert all(END not in r.tokens and PAD not in r.tokens for r in readings)


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_a_wide_beam_finds_the_best_reading_of_all(length_penalty):
    """Every reading of up to 3 tokens (7 allowed tokens a step: 259 readings) scored by teacher
    forcing; a beam wider than their number returns the best one under the same ranking."""
    decoder = TinyDecoder(seed=2).eval()
    memory = decoder.memory(torch.arange(4))
    allowed = [START, 3, 4, 5, 6, 7]  # and END; PAD banned
    readings = [[*body, END] for n in range(3) for body in itertools.product(allowed, repeat=n)] + [
        list(body) for body in itertools.product(allowed, repeat=3)
    ]
    labels = pad_labels(readings)
    config = GenerationConfig(max_tokens=3, beam_width=100, length_penalty=length_penalty)
    with torch.no_grad():
        found = beam_decode(StepDecoder(decoder.step(memory), 4, SPECIAL, banned=[PAD]), config)
        for image, reading in enumerate(found):
            image_memory = memory[image].expand(len(readings), -1, -1)
            logits = teacher_forced(decoder, image_memory, labels)
            logits[..., PAD] = float("-inf")
            totals = sequence_log_probs(logits, labels)
            scores = totals / torch.tensor([len(r) for r in readings]) ** length_penalty
            best = int(scores.argmax())
            got = [*reading.tokens, END] if reading.ended else list(reading.tokens)
            assert got == readings[best]
            assert sum(reading.log_probs) == pytest.approx(totals[best].item(), abs=1e-4)


def test_training_with_the_loss_teaches_the_decoder_to_read_every_label():
    decoder = TinyDecoder(seed=4)
    words = [[3, 4, 5, END], [6, END], [7, 7, 3, 4, 6, END], [5, 3, END]]
    labels, images = pad_labels(words), torch.arange(4)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=0.03)
    losses = []
    for _ in range(100):
        loss = sequence_loss(teacher_forced(decoder, decoder.memory(images), labels), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10
    decoder.eval()
    with torch.no_grad():
        memory = decoder.memory(images)
        for config in (GenerationConfig(max_tokens=10), GenerationConfig(10, beam_width=3)):
            readings = generate(StepDecoder(decoder.step(memory), 4, SPECIAL, banned=[PAD]), config)
            assert [list(r.tokens) + [END] for r in readings] == words
            assert all(r.ended and r.confidence > 0.5 for r in readings)


def test_generation_settings_are_checked():
    with pytest.raises(InputError, match="--max-tokens"):
        GenerationConfig(max_tokens=0)
    with pytest.raises(InputError, match="--beam-width"):
        GenerationConfig(beam_width=0)
