"""A text corpus for synthetic words: a file of words with counts, or of plain text lines.

A line ``word<TAB>count`` gives a word and its frequency; any other line is text, split on white
space into words that each count once (so a word's frequency is how often it occurs). Words are
drawn with probability proportional to ``count ** power``: 1 follows the corpus, 0 is uniform,
0.5 (the default) keeps common words common without letting ``the`` fill the dataset.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textrec_data.charset import normalize_text
from textrec_data.errors import InputError
from textrec_data.sources.files import decode_lines


@dataclass(frozen=True)
class Corpus:
    """Words (most frequent first) and their cumulative sampling weights."""

    words: tuple[str, ...]
    cumulative: np.ndarray  # float64, increasing, last value = total weight
    dropped: int = 0  # distinct words left out (characters no font or charset can take)

    def sample(self, rng: np.random.Generator) -> str:
        """One word, drawn by weight."""
        target = rng.random() * self.cumulative[-1]
        return self.words[int(np.searchsorted(self.cumulative, target, side="right"))]


def _count_line(counts: Counter[str], text: str, path: Path, line_no: int) -> None:
    """Add one corpus line's words to ``counts``."""
    word, tab, count = text.partition("\t")
    if tab and word.strip() and not word.strip().count(" "):
        try:
            counts[word.strip()] += float(count)
        except ValueError:
            raise InputError(f"{path}: line {line_no}: count {count!r} is not a number") from None
        return
    counts.update(text.split())


def count_words(path: Path) -> Counter[str]:
    """Word frequencies of the corpus file at ``path`` (NFC); InputError when unreadable, not
    UTF-8 or without words."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read --corpus file ({exc.strerror})") from exc
    counts: Counter[str] = Counter()
    for line in decode_lines(data):
        if not line.decoded:
            raise InputError(f"{path}: line {line.line_no} is not valid UTF-8")
        _count_line(counts, normalize_text(line.text), path, line.line_no)
    return counts


def make_corpus(counts: Counter[str], allowed: Iterable[str], power: float) -> Corpus | None:
    """The words of ``counts`` made only of ``allowed`` characters, weighted by
    ``count ** power``; None when none is left."""
    allowed = frozenset(allowed)
    kept = sorted(((w, c) for w, c in counts.items() if c > 0 and set(w) <= allowed), key=_rank)
    if not kept:
        return None
    weights = np.array([c for _, c in kept], np.float64) ** power
    return Corpus(tuple(w for w, _ in kept), np.cumsum(weights), len(counts) - len(kept))


def _rank(item: tuple[str, float]) -> tuple[float, str]:
    return -item[1], item[0]


def load_corpus(path: str | Path, allowed: Iterable[str], power: float = 0.5) -> Corpus:
    """The corpus at ``path`` restricted to ``allowed`` characters (see :func:`make_corpus`)."""
    corpus = make_corpus(count_words(Path(path)), allowed, power)
    if corpus is None:
        raise InputError(f"{path}: --corpus has no word made of characters that can be drawn")
    return corpus
