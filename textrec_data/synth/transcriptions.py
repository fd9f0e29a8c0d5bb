"""Transcriptions of synthetic words: the charset, the word lists and the word sampler."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from importlib import resources

import numpy as np

#: The transcription of an illegible word.
PLACEHOLDER = "###"
#: Punctuation and accented letters a generated transcription may contain besides [A-Za-z0-9].
PUNCTUATION = ",.'\"-:$%&!"
ACCENTED = "éÉüÜöÖßñïÏ"
#: Every character a transcription (other than ``###``) can contain.
CHARSET = string.ascii_letters + string.digits + PUNCTUATION + ACCENTED

_LIST_HEADER = re.compile(r"^\[(\w+)\]$", re.MULTILINE)
# Letters for codes such as A12: no I or O (too close to 1 and 0 without context).
_CODE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def load_word_lists() -> dict[str, tuple[str, ...]]:
    """The word lists of the package's ``word_lists.txt`` by name, each in file order.

    A line ``[name]`` starts a list; its words follow, separated by white space. The text before
    the first list is a comment.
    """
    text = resources.files(__package__).joinpath("word_lists.txt").read_text(encoding="utf-8")
    parts = _LIST_HEADER.split(text)
    return {name: tuple(body.split()) for name, body in zip(parts[1::2], parts[2::2], strict=True)}


_LISTS = load_word_lists()
#: Common English, street/shop and brand-like words (letters only; case variants are generated).
WORDS: tuple[str, ...] = _LISTS["common"]
# For each accented letter and punctuation mark, the listed words that contain it.
_WORDS_WITH: dict[str, tuple[str, ...]] = {
    c: tuple(w for w in _LISTS["accented"] + _LISTS["apostrophe"] + _LISTS["symbol"] if c in w)
    for c in ACCENTED + PUNCTUATION
}


def pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    """One of ``items``, uniformly."""
    return items[int(rng.integers(len(items)))]


def _case_variant(rng: np.random.Generator, word: str) -> str:
    """``word`` as written, upper case, title case or lower case (only within the charset)."""
    r = rng.random()
    if word.islower():
        variant = word.upper() if r < 0.4 else word.title() if r < 0.7 else word
    else:
        variant = word if r < 0.5 else word.upper() if r < 0.9 else word.lower()
    return variant if all(c in CHARSET for c in variant) else word


def _common_word(rng: np.random.Generator) -> str:
    """A word of :data:`WORDS` in a random case."""
    return _case_variant(rng, pick(rng, WORDS))


def _digit(rng: np.random.Generator) -> str:
    return str(int(rng.integers(0, 10)))


def _count(rng: np.random.Generator) -> str:
    return str(int(rng.integers(10, 1000)))


def _large_number(rng: np.random.Generator) -> str:
    """1,000 to 99,999 with a thousands separator."""
    return f"{int(rng.integers(1000, 100000)):,}"


def _price(rng: np.random.Generator) -> str:
    cents = rng.choice(["99", "95", "50", "00", f"{int(rng.integers(0, 100)):02d}"])
    return f"${int(rng.integers(1, 1000)):,}.{cents}"


def _whole_price(rng: np.random.Generator) -> str:
    return f"${int(rng.integers(1, 10000)):,}"


def _percentage(rng: np.random.Generator) -> str:
    sign = "-" if rng.random() < 0.3 else ""
    return f"{sign}{int(rng.choice([5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 75, 80]))}%"


def _clock_time(rng: np.random.Generator) -> str:
    minute = int(rng.choice([0, 15, 30, 45, int(rng.integers(0, 60))]))
    return f"{int(rng.integers(0, 24))}:{minute:02d}"


def _code(rng: np.random.Generator) -> str:
    """Letters and digits such as A12, B-7 or 12C."""
    letters = "".join(rng.choice(list(_CODE_LETTERS), size=int(rng.integers(1, 3))))
    digits = str(int(rng.integers(1, 1000)))
    sep = "-" if rng.random() < 0.25 else ""
    return f"{letters}{sep}{digits}" if rng.random() < 0.7 else f"{digits}{letters}"


def _phone_number(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(100, 1000))}-{int(rng.integers(0, 10000)):04d}"


_NUMBER_TOKENS = (
    _digit,
    _count,
    _large_number,
    _price,
    _whole_price,
    _percentage,
    _clock_time,
    _code,
    _phone_number,
)


def number_token(rng: np.random.Generator) -> str:
    """A number, price, percentage, time, code or phone-like token."""
    return _NUMBER_TOKENS[int(rng.integers(0, len(_NUMBER_TOKENS)))](rng)


def _with_char(rng: np.random.Generator, char: str) -> str:
    """A word containing ``char`` (an accented letter or a punctuation mark)."""
    if char == '"':
        return f'"{_common_word(rng)}"'
    if char == ",":
        return _large_number(rng) if rng.random() < 0.5 else _common_word(rng) + ","
    if char == "$":
        return _price(rng)
    if char == "%":
        return _percentage(rng)
    return pick(rng, _WORDS_WITH[char])


def random_word(rng: np.random.Generator) -> str:
    """One transcription: 1-12 characters of :data:`CHARSET`, mostly 3-9.

    Words with accented letters and punctuation are drawn by character (each such character
    equally often), so every character of the charset is well represented even in a small set.
    """
    while True:
        r = rng.random()
        if r < 0.58:
            word = _common_word(rng)
        elif r < 0.72:
            word = number_token(rng)
        elif r < 0.85:
            word = _with_char(rng, pick(rng, ACCENTED))
        else:
            word = _with_char(rng, pick(rng, PUNCTUATION))
        if 1 <= len(word) <= 12:
            return word
