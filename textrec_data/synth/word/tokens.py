"""What scene text holds: dictionary or corpus words in varied case and with punctuation at
their edges, and generated tokens (numbers, prices, dates, times, phone numbers, URLs, e-mail
fragments). :class:`TextConfig` sets the mix, the case and the length distribution."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from textrec_data.errors import InputError
from textrec_data.synth.transcriptions import WORDS, number_token, pick
from textrec_data.synth.word.corpus import Corpus

CASES = ("as_written", "lower", "upper", "title")
_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_TLDS = ("com", "net", "org", "co.uk", "com.sg", "de", "info", "io")
_PREFIX = "(\"'#*"
_SUFFIX = ".,:;!?)'\"*"
_ATTEMPTS = 200  # words drawn before giving up on the length and character limits


@dataclass(frozen=True)
class TextConfig:
    """The text of word mode: ``generated_rate`` of tokens come from the generators, the rest
    from the corpus (or the built-in word list); ``case_weights`` are the odds of
    :data:`CASES` for words; ``edge_punctuation_rate`` of words get a leading or trailing mark;
    lengths are drawn within ``min_length``..``max_length``."""

    generated_rate: float = 0.3
    case_weights: tuple[float, ...] = (0.4, 0.2, 0.25, 0.15)
    edge_punctuation_rate: float = 0.08
    min_length: int = 1
    max_length: int = 20
    corpus_power: float = 0.5

    def validate(self) -> None:
        """Raise :class:`InputError` naming an impossible setting."""
        weights = self.case_weights
        if len(weights) != len(CASES) or min(weights) < 0 or sum(weights) <= 0:
            raise InputError(
                f"--case-weights {','.join(map(str, weights))}: expected {len(CASES)} numbers "
                f">= 0 ({', '.join(CASES)}) whose sum is more than 0"
            )
        for name in ("generated_rate", "edge_punctuation_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 1 <= self.min_length <= self.max_length:
            raise InputError(f"need 1 <= min length <= max length, got {self.min_length}..")
        if self.corpus_power < 0:
            raise InputError(f"corpus_power must be >= 0, got {self.corpus_power}")


def _pick_case(rng: np.random.Generator, weights: tuple[float, ...]) -> str:
    """One of :data:`CASES` with odds ``weights``."""
    r = rng.random() * sum(weights)
    for case, weight in zip(CASES, weights, strict=True):
        if r < weight:
            return case
        r -= weight
    return CASES[-1]


def _in_case(rng: np.random.Generator, word: str, weights: tuple[float, ...]) -> str:
    case = _pick_case(rng, weights)
    if case == "lower":
        return word.lower()
    if case == "upper":
        return word.upper()
    return word.title() if case == "title" else word


def _date(rng: np.random.Generator) -> str:
    day, month, year = (
        int(rng.integers(1, 29)),
        int(rng.integers(1, 13)),
        int(rng.integers(1950, 2031)),
    )
    forms = (
        f"{day:02d}/{month:02d}/{year}",
        f"{year}-{month:02d}-{day:02d}",
        f"{day}.{month}.{year % 100:02d}",
        f"{day}/{month}",
        f"{day}{_MONTHS[month - 1]}",
        str(year),
    )
    return pick(rng, forms)


def _time(rng: np.random.Generator) -> str:
    hour, minute = int(rng.integers(1, 13)), int(rng.choice([0, 15, 30, 45, rng.integers(0, 60)]))
    forms = (f"{hour}am", f"{hour}pm", f"{hour}:{minute:02d}pm", f"{hour}.{minute:02d}", "24h")
    return pick(rng, forms)


def _phone(rng: np.random.Generator) -> str:
    def digits(n: int) -> str:
        return "".join(str(d) for d in rng.integers(0, 10, n))

    forms = (
        f"{digits(4)}-{digits(4)}",
        f"({digits(3)})",
        f"+{int(rng.integers(1, 100))}",
        f"{digits(3)}-{digits(3)}-{digits(4)}",
        f"1-800-{digits(3)}-{digits(4)}",
        f"{digits(3)}.{digits(4)}",
    )
    return pick(rng, forms)


def _url(rng: np.random.Generator, name: Callable[[], str]) -> str:
    host = f"{name()}.{pick(rng, _TLDS)}"
    forms = (f"www.{host}", host, f"http://{host}", f"{host}/{name()}", f"www.{name()}{name()}.com")
    return pick(rng, forms)


def _email(rng: np.random.Generator, name: Callable[[], str]) -> str:
    forms = (f"{name()}@{name()}.com", f"@{name()}", f"info@{name()}.{pick(rng, _TLDS)}")
    return pick(rng, forms)


def _generated(rng: np.random.Generator, name: Callable[[], str]) -> str:
    """A number, price, code (:func:`number_token`), date, time, phone number, URL or e-mail."""
    r = rng.random()
    if r < 0.4:
        return number_token(rng)
    if r < 0.55:
        return _date(rng)
    if r < 0.65:
        return _time(rng)
    if r < 0.8:
        return _phone(rng)
    return _url(rng, name) if r < 0.92 else _email(rng, name)


def _with_edge_mark(rng: np.random.Generator, word: str) -> str:
    if rng.random() < 0.25:
        return pick(rng, _PREFIX) + word
    return word + pick(rng, _SUFFIX)


def scene_word(
    rng: np.random.Generator, config: TextConfig, corpus: Corpus | None, allowed: frozenset[str]
) -> str:
    """One transcription made of ``allowed`` characters within the configured lengths."""

    def draw() -> str:
        return corpus.sample(rng) if corpus is not None else pick(rng, WORDS)

    def name() -> str:  # a lower-case letters-only word for host and user names
        for _ in range(8):
            word = draw().lower()
            if word.isascii() and word.isalpha() and len(word) <= 10:
                return word
        return pick(rng, WORDS).lower()

    for _ in range(_ATTEMPTS):
        if rng.random() < config.generated_rate:
            word = _generated(rng, name)
        else:
            word = _in_case(rng, draw(), config.case_weights)
        if rng.random() < config.edge_punctuation_rate:
            word = _with_edge_mark(rng, word)
        if config.min_length <= len(word) <= config.max_length and set(word) <= allowed:
            return word
    raise InputError("no word fits the length limits and the characters that can be drawn")
