"""CTC loss wrapper and decoders: feasibility, greedy, prefix beam search, lexicon."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from textrec_data.charset import BLANK, Charset
from textrec_data.stream import min_ctc_length
from textrec_model.ctc import (
    beam_decode,
    collapse,
    ctc_loss,
    ctc_loss_mean,
    greedy_decode,
    lexicon_decode,
    min_ctc_lengths,
)
from textrec_model.models.crnn import CRNN, CRNNConfig


def one_hot_logits(paths: list[list[int]], num_classes: int, peak: float = 10.0) -> torch.Tensor:
    """(B, T, C) logits whose argmax at each step is the given path (paths padded to one T)."""
    logits = torch.zeros(len(paths), max(map(len, paths)), num_classes)
    for b, path in enumerate(paths):
        for t, c in enumerate(path):
            logits[b, t, c] = peak
    return logits


@pytest.mark.parametrize(
    ("ids", "expected"),
    [([], 0), ([3], 1), ([1, 2, 3], 3), ([1, 1], 3), ([1, 1, 1], 5), ([1, 2, 1], 3),
     ([8, 5, 12, 12, 15], 6), ([1, 1, 2, 2], 6)],
)  # fmt: skip
def test_min_ctc_length(ids: list[int], expected: int) -> None:
    assert min_ctc_length(ids) == expected


def test_min_ctc_lengths_matches_scalar_and_ignores_sample_boundaries() -> None:
    labels = [[1, 1], [1, 2], [2, 2, 2], [3], [3, 4]]  # [1,2] then [2,...]: not a repeat
    targets = torch.tensor([i for label in labels for i in label])
    lengths = torch.tensor([len(label) for label in labels])
    assert min_ctc_lengths(targets, lengths).tolist() == [min_ctc_length(x) for x in labels]


def test_loss_finite_when_feasible_and_inf_when_not() -> None:
    torch.manual_seed(0)
    logits = torch.randn(3, 4, 5)
    targets = torch.tensor([1, 1, 2, 2, 3, 1, 2])  # [1, 1, 2] needs 4, [2, 3] 2, [1, 2] 2
    target_lengths = torch.tensor([3, 2, 2])
    loss = ctc_loss(logits, targets, torch.tensor([4, 2, 2]), target_lengths)
    assert loss.shape == (3,)
    assert torch.isfinite(loss).all() and (loss > 0).all()
    short = ctc_loss(logits, targets, torch.tensor([3, 2, 1]), target_lengths)
    assert math.isinf(short[0]) and math.isinf(short[2]) and math.isfinite(short[1])


def test_loss_is_float32_and_matches_pytorch_for_low_precision_logits() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 5).bfloat16()
    targets, target_lengths = torch.tensor([1, 2, 3, 4]), torch.tensor([2, 2])
    input_lengths = torch.tensor([6, 5])
    loss = ctc_loss(logits, targets, input_lengths, target_lengths)
    assert loss.dtype == torch.float32
    log_probs = logits.float().log_softmax(-1).transpose(0, 1)
    expected = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="none")
    torch.testing.assert_close(loss, expected)
    mean = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="mean")
    torch.testing.assert_close(ctc_loss_mean(logits, targets, input_lengths, target_lengths), mean)


def test_collapse() -> None:
    assert collapse([1, 1, 0, 1, 2, 2, 0, 0, 3]) == [1, 1, 2, 3]
    assert collapse([0, 0]) == [] and collapse([]) == []


def test_greedy_decode_repeats_blanks_and_padding() -> None:
    paths = [
        [1, 1, BLANK, 1, 2, 2, BLANK, 3],  # "a a" split by blank -> [1, 1, 2, 3]
        [2, 2, 2, BLANK, 3, 3, 1, 1],  # only 4 valid steps -> [2]
        [BLANK] * 8,
    ]
    logits = one_hot_logits(paths, num_classes=4)
    ids, confidences = greedy_decode(logits, torch.tensor([8, 4, 8]))
    assert ids == [[1, 1, 2, 3], [2], []]
    step_p = torch.softmax(torch.tensor([10.0, 0, 0, 0]), 0)[0].item()
    assert confidences == pytest.approx([step_p**8, step_p**4, step_p**8])


def test_greedy_decode_zero_length_and_bad_lengths() -> None:
    logits = one_hot_logits([[1, 2]], num_classes=3)
    assert greedy_decode(logits, torch.tensor([0])) == ([[]], [1.0])
    with pytest.raises(ValueError, match="lengths"):
        greedy_decode(logits, torch.tensor([3]))


def test_beam_width_one_equals_greedy_on_random_logits() -> None:
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        logits = 3 * torch.randn(4, 12, 4, generator=generator)
        lengths = torch.randint(0, 13, (4,), generator=generator)
        assert beam_decode(logits, lengths, beam_width=1) == greedy_decode(logits, lengths)


def test_beam_prefers_most_probable_labelling_over_best_path() -> None:
    # Two steps, P(blank) = 0.6 and P(a) = 0.4 at each: the best path is blank-blank (0.36,
    # labelling ""), but P("a") = aa + a- + -a = 0.16 + 0.24 + 0.24 = 0.64.
    logits = torch.tensor([[0.6, 0.4], [0.6, 0.4]]).log().unsqueeze(0)
    lengths = torch.tensor([2])
    greedy_ids, greedy_conf = greedy_decode(logits, lengths)
    beam_ids, beam_conf = beam_decode(logits, lengths, beam_width=2)
    assert greedy_ids == [[]] and greedy_conf == pytest.approx([0.36])
    assert beam_ids == [[1]] and beam_conf == pytest.approx([0.64])


def test_beam_keeps_repeated_characters_split_by_blank() -> None:
    logits = one_hot_logits([[1, 1, BLANK, 1, 2, BLANK]], num_classes=3)
    assert beam_decode(logits, torch.tensor([6]), beam_width=5)[0] == [[1, 1, 2]]


def test_wide_beam_is_exact_against_brute_force() -> None:
    # Two characters and T = 5: 63 labellings of length <= 5, so width 64 keeps them all and
    # the beam's result must be the argmax of P(labelling) computed by the CTC forward pass.
    generator = torch.Generator().manual_seed(1)
    labellings = [list(p) for n in range(6) for p in itertools.product([1, 2], repeat=n)]
    for _ in range(10):
        logits = 2 * torch.randn(1, 5, 3, generator=generator)
        probs = [_labelling_prob(logits, label) for label in labellings]
        best = max(range(len(labellings)), key=probs.__getitem__)
        ids, conf = beam_decode(logits, torch.tensor([5]), beam_width=64, min_logp=-math.inf)
        assert ids == [labellings[best]]
        assert conf[0] == pytest.approx(probs[best], rel=1e-5)


def _reference_prefix_beam(log_probs: torch.Tensor, beam_width: int) -> tuple[list[int], float]:
    """Textbook prefix beam search, one prefix at a time (slow, plain Python)."""

    def add(a: float, b: float) -> float:
        if a == -math.inf or b == -math.inf:
            return max(a, b)
        return max(a, b) + math.log1p(math.exp(-abs(a - b)))

    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, -math.inf]}
    for row in log_probs.tolist():
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (p_b, p_nb) in beams.items():
            total = add(p_b, p_nb)
            stay = nxt.setdefault(prefix, [-math.inf, -math.inf])
            stay[0] = add(stay[0], total + row[BLANK])
            for c in range(1, len(row)):
                ext = nxt.setdefault(prefix + (c,), [-math.inf, -math.inf])
                if prefix and c == prefix[-1]:
                    stay[1] = add(stay[1], p_nb + row[c])
                    ext[1] = add(ext[1], p_b + row[c])
                else:
                    ext[1] = add(ext[1], total + row[c])
        ranked = sorted(nxt.items(), key=lambda kv: add(*kv[1]), reverse=True)
        beams = dict(ranked[:beam_width])
    prefix, scores = next(iter(beams.items()))
    return list(prefix), math.exp(add(*scores))


@pytest.mark.parametrize("beam_width", [2, 3, 5, 16])
def test_beam_matches_reference_implementation(beam_width: int) -> None:
    generator = torch.Generator().manual_seed(beam_width)
    for _ in range(20):
        logits = 2 * torch.randn(1, 10, 4, generator=generator)
        expected_ids, expected_conf = _reference_prefix_beam(logits[0].log_softmax(-1), beam_width)
        ids, conf = beam_decode(logits, torch.tensor([10]), beam_width, min_logp=-math.inf)
        assert ids == [expected_ids]
        assert conf[0] == pytest.approx(expected_conf, rel=1e-6)


def _labelling_prob(logits: torch.Tensor, label: list[int]) -> float:
    loss = ctc_loss(
        logits, torch.tensor(label, dtype=torch.long), torch.tensor([5]), torch.tensor([len(label)])
    )
    return math.exp(-float(loss[0]))


CHARSET = Charset(tuple("ACDGORT"), case="upper")


def _word_logits(words: list[str], steps: int, noise: float = 0.5) -> torch.Tensor:
    """Logits spelling each word one char per step, blank between, plus noise."""
    generator = torch.Generator().manual_seed(0)
    paths = []
    for word in words:
        path = [i for c in CHARSET.encode(word) for i in (c, BLANK)]
        paths.append(path + [BLANK] * (steps - len(path)))
    logits = one_hot_logits(paths, CHARSET.num_classes, peak=4.0)
    return logits + noise * torch.randn(logits.shape, generator=generator)


def test_lexicon_decode_picks_the_word() -> None:
    logits = _word_logits(["CAT", "DOG", "COT"], steps=8)
    # lowercase words are folded to the charset's upper case; 'cät' and 'dog!' are not encodable
    lexicon = ["car", "cat", "cät", "dog!", "dog", "cot", "door"]
    assert lexicon_decode(logits, torch.tensor([8, 8, 8]), lexicon, CHARSET)[0] == [
        "CAT",
        "DOG",
        "COT",
    ]


def test_lexicon_decode_prefilters_big_lexicons() -> None:
    logits = _word_logits(["GATOR"], steps=12)
    lexicon = ["".join(p) for p in itertools.product("ACDGORT", repeat=3)] + ["GATOR", "GATO"]
    assert len(lexicon) > 300
    assert lexicon_decode(logits, torch.tensor([12]), lexicon, CHARSET, top_k=5)[0] == ["GATOR"]


def test_lexicon_decode_skips_infeasible_words_and_rejects_empty_lexicon() -> None:
    logits = _word_logits(["DO"], steps=4)
    # 'DOOR' needs 5 steps (the repeated O), so with 4 it scores -inf
    assert lexicon_decode(logits, torch.tensor([4]), ["DOOR", "TO"], CHARSET)[0] == ["TO"]
    with pytest.raises(ValueError, match="no word"):
        lexicon_decode(logits, torch.tensor([4]), ["xyz", ""], CHARSET)


def test_one_optimizer_step_lowers_the_loss() -> None:
    torch.manual_seed(0)
    config = CRNNConfig(channels=(8, 8, 16, 16, 16, 16, 16), batch_norm=(True,) * 7, lstm_hidden=16)
    model = CRNN(5, config).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    images = torch.randn(4, 1, 32, 40)
    targets = torch.tensor([1, 2, 3, 3, 4, 1, 2, 2, 1, 4])
    target_lengths = torch.tensor([2, 3, 3, 2])
    input_lengths = model.output_lengths(torch.tensor([40, 40, 36, 32]))

    def loss() -> torch.Tensor:
        return ctc_loss_mean(model(images), targets, input_lengths, target_lengths)

    before = loss()
    assert (input_lengths >= min_ctc_lengths(targets, target_lengths)).all()
    optimizer.zero_grad()
    before.backward()
    optimizer.step()
    with torch.no_grad():
        after = loss()
    assert torch.isfinite(before) and after < before
