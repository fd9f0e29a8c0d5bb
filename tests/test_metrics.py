"""Recognition metrics on hand-computed cases (distances worked out in the comments)."""

from __future__ import annotations

import pytest

from textrec_model.metrics import WordMetrics, alnum_fold, compute_metrics


def metrics(prediction: str, label: str) -> WordMetrics:
    return compute_metrics([prediction], [label])


def test_alnum_fold() -> None:
    assert alnum_fold("Hello, World!") == "helloworld"
    assert alnum_fold("A-1 #2") == "a12"
    # the paper protocol keeps ASCII letters and digits only
    assert alnum_fold("Café") == "caf"
    assert alnum_fold("cafe\u0301") == "caf"  # NFD input is composed first, then folded
    assert alnum_fold("STRAßE") == "strae"
    assert alnum_fold("!!") == ""


def test_exact_match() -> None:
    assert compute_metrics(["HELLO", "WORLD"], ["HELLO", "WORLD"]) == WordMetrics(
        n=2, word_accuracy=1.0, word_accuracy_ci=1.0, word_accuracy_alnum=1.0, cer=0.0, ned=1.0
    )


def test_case_insensitive() -> None:
    # "Hello" vs "HELLO": e/l/l/o substituted -> dist 4; cer 4/5; 1-NED 1 - 4/5
    m = metrics("Hello", "HELLO")
    assert (m.word_accuracy, m.word_accuracy_ci, m.word_accuracy_alnum) == (0.0, 1.0, 1.0)
    assert m.cer == pytest.approx(0.8)
    assert m.ned == pytest.approx(0.2)


def test_alnum_protocol_ignores_punctuation() -> None:
    # "hello" vs "Hello!": h->H substitution + insert "!" -> dist 2; cer 2/6; 1-NED 1 - 2/6
    m = metrics("hello", "Hello!")
    assert (m.word_accuracy, m.word_accuracy_ci, m.word_accuracy_alnum) == (0.0, 0.0, 1.0)
    assert m.cer == pytest.approx(2 / 6)
    assert m.ned == pytest.approx(2 / 3)


def test_label_folding_to_empty_needs_prediction_folding_to_empty() -> None:
    assert metrics("", "!!").word_accuracy_alnum == 1.0
    assert metrics("?", "!!").word_accuracy_alnum == 1.0
    assert metrics("a", "!!").word_accuracy_alnum == 0.0


def test_empty_prediction() -> None:
    # "" vs "CAT": 3 insertions -> cer 3/3; 1-NED 1 - 3/3
    assert metrics("", "CAT") == WordMetrics(1, 0.0, 0.0, 0.0, cer=1.0, ned=0.0)


def test_empty_label() -> None:
    # no label characters: cer 1.0 when something was predicted, 0.0 when nothing was
    assert metrics("AB", "") == WordMetrics(1, 0.0, 0.0, 0.0, cer=1.0, ned=0.0)
    assert metrics("", "") == WordMetrics(1, 1.0, 1.0, 1.0, cer=0.0, ned=1.0)


def test_unicode() -> None:
    # "cafe" vs "café": one substitution -> cer 1/4; 1-NED 1 - 1/4; alnum: "cafe" vs "caf"
    m = metrics("cafe", "café")
    assert (m.word_accuracy, m.word_accuracy_ci, m.word_accuracy_alnum) == (0.0, 0.0, 0.0)
    assert m.cer == pytest.approx(0.25)
    assert m.ned == pytest.approx(0.75)
    # lower() keeps ß: "STRAßE" matches "Straße" case-insensitively, "STRASSE" does not
    assert metrics("STRAßE", "Straße").word_accuracy_ci == 1.0
    # "STRASSE" vs "Straße": t,r,a -> T,R,A (3), ß -> S (1), insert S (1), e -> E (1): dist 6
    m = metrics("STRASSE", "Straße")
    assert m.word_accuracy_ci == 0.0
    assert m.cer == pytest.approx(6 / 6)
    assert m.ned == pytest.approx(1 - 6 / 7)


def test_batch_aggregates() -> None:
    # dists 0, 1 (G->T), 4 (case) over 3 + 3 + 5 = 11 label chars -> cer 5/11
    # 1-NED: (1 + (1 - 1/3) + (1 - 4/5)) / 3
    m = compute_metrics(["CAT", "DOG", "Hello"], ["CAT", "DOT", "HELLO"])
    assert m.n == 3
    assert m.word_accuracy == pytest.approx(1 / 3)
    assert m.word_accuracy_ci == pytest.approx(2 / 3)
    assert m.word_accuracy_alnum == pytest.approx(2 / 3)
    assert m.cer == pytest.approx(5 / 11)
    assert m.ned == pytest.approx((1 + 2 / 3 + 1 / 5) / 3)


def test_no_samples_and_mismatched_lengths() -> None:
    assert compute_metrics([], []) == WordMetrics(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="2 predictions for 1 labels"):
        compute_metrics(["a", "b"], ["a"])
