"""Recognition metrics: pure functions of (prediction, label) pairs.

Protocols (numbers from different protocols are not comparable; report them side by side):
- exact: ``prediction == label``;
- case-insensitive: equal after ``str.lower()``;
- alphanumeric: equal after :func:`alnum_fold` (lowercase, only 0-9 and a-z).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")


def alnum_fold(text: str) -> str:
    """Lowercase ``text`` (NFC) and keep only ``0-9a-z``: the alphanumeric protocol exactly as
    deep-text-recognition-benchmark scores it (so "CAFÉ" folds to "caf")."""
    return "".join(c for c in unicodedata.normalize("NFC", text).lower() if c in ALNUM)


@dataclass(frozen=True)
class WordMetrics:
    """Metrics over ``n`` (prediction, label) pairs; every field is 0 when ``n == 0``.

    - ``word_accuracy``: exact match rate; ``word_accuracy_ci``: after ``lower()``;
      ``word_accuracy_alnum``: after :func:`alnum_fold` (a label that folds to "" is matched
      only by a prediction that folds to "" too).
    - ``cer``: total Levenshtein distance / total label characters (exact strings; can exceed 1
      through insertions). When the labels hold no character at all: 0.0 if every prediction is
      empty too, else 1.0.
    - ``ned``: mean of ``1 - dist / max(len(pred), len(label))`` per pair, i.e. 1-NED (higher is
      better); a pair of two empty strings scores 1.0.
    """

    n: int
    word_accuracy: float
    word_accuracy_ci: float
    word_accuracy_alnum: float
    cer: float
    ned: float


def _similarity(prediction: str, label: str, dist: int) -> float:
    longest = max(len(prediction), len(label))
    return 1.0 if longest == 0 else 1.0 - dist / longest


def character_error_rate(total_distance: int, total_label_chars: int) -> float:
    """CER from summed edit distance and label length (see :class:`WordMetrics` for 0 chars)."""
    if total_label_chars == 0:
        return 0.0 if total_distance == 0 else 1.0
    return total_distance / total_label_chars


def compute_metrics(predictions: Sequence[str], labels: Sequence[str]) -> WordMetrics:
    """:class:`WordMetrics` of ``predictions`` against ``labels`` (same length, paired)."""
    if len(predictions) != len(labels):
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} labels")
    n = len(labels)
    if n == 0:
        return WordMetrics(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    exact = ci = alnum = 0
    total_distance = total_chars = 0
    similarity = 0.0
    for prediction, label in zip(predictions, labels, strict=True):
        exact += prediction == label
        ci += prediction.lower() == label.lower()
        alnum += alnum_fold(prediction) == alnum_fold(label)
        dist = Levenshtein.distance(prediction, label)
        total_distance += dist
        total_chars += len(label)
        similarity += _similarity(prediction, label, dist)
    return WordMetrics(
        n=n,
        word_accuracy=exact / n,
        word_accuracy_ci=ci / n,
        word_accuracy_alnum=alnum / n,
        cer=character_error_rate(total_distance, total_chars),
        ned=similarity / n,
    )


def is_alphanumeric_word(label: str) -> bool:
    """True for labels made only of ASCII letters and digits (the 'alphanumeric subset': 1922
    of IC15's 2077 test words)."""
    return bool(label) and all(c in ALNUM for c in label.lower())


def char_confusions(pairs: list[tuple[str, str]], top: int = 20) -> list[dict]:
    """Most frequent character edits ``label char -> predicted char`` over (prediction, label)
    pairs; ``""`` on one side is an insertion or deletion."""
    counts: Counter = Counter()
    for prediction, label in pairs:
        for op, i, j in Levenshtein.editops(label, prediction):
            source = label[i] if op != "insert" else ""
            target = prediction[j] if op != "delete" else ""
            counts[(source, target)] += 1
    return [{"label": s, "prediction": t, "count": n} for (s, t), n in counts.most_common(top)]
