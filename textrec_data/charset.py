"""Vocabulary: an ordered character set with CTC ids (BLANK = 0, characters from 1)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from textrec_data.storage import as_path

BLANK = 0
CASE_POLICIES = ("keep", "upper", "lower")


def normalize_text(text: str) -> str:
    """NFC-normalize a transcription (the form every label and charset uses)."""
    return unicodedata.normalize("NFC", text)


def apply_case(text: str, case: str) -> str:
    """Fold ``text`` by the case policy ``keep`` | ``upper`` | ``lower`` (result is NFC)."""
    if case not in CASE_POLICIES:
        raise ValueError(f"unknown case policy {case!r}; expected one of {CASE_POLICIES}")
    if case == "upper":
        text = text.upper()
    elif case == "lower":
        text = text.lower()
    return normalize_text(text)


@dataclass(frozen=True)
class Charset:
    """Ordered characters; id ``i + 1`` is ``chars[i]`` and id 0 is the CTC blank."""

    chars: tuple[str, ...]
    case: str = "keep"
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bad = next((c for c in self.chars if not isinstance(c, str) or len(c) != 1), None)
        if bad is not None or not isinstance(self.chars, list | tuple):
            shown = repr(bad)[:40] if bad is not None else type(self.chars).__name__
            raise ValueError(f"charset entries must be single characters (found {shown})")
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("charset has duplicate characters")
        if self.case not in CASE_POLICIES:
            raise ValueError(f"case {str(self.case)[:40]!r}: expected one of {CASE_POLICIES}")
        object.__setattr__(self, "chars", tuple(self.chars))
        object.__setattr__(self, "_index", {c: i + 1 for i, c in enumerate(self.chars)})

    @property
    def num_classes(self) -> int:
        """Model output size: characters plus the blank."""
        return len(self.chars) + 1

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` that the charset lacks, in order of first appearance."""
        return list(dict.fromkeys(c for c in text if c not in self._index))

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``; raises ``KeyError`` naming characters outside the charset."""
        missing = self.missing(text)
        if missing:
            raise KeyError(f"characters not in charset: {''.join(missing)!r}")
        return [self._index[c] for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        """Characters of ``ids`` (no CTC collapsing; blanks are skipped)."""
        return "".join(self.chars[i - 1] for i in ids if i != BLANK)

    def to_dict(self) -> dict:
        return {"charset": list(self.chars), "case": self.case}

    @classmethod
    def from_dict(cls, data: dict) -> Charset:
        if not isinstance(data, dict) or not isinstance(data.get("charset"), list):
            raise ValueError("not a textrec vocabulary: expected {'charset': [...], 'case': ...}")
        return cls(tuple(data["charset"]), data.get("case", "keep"))

    def save(self, path: str | Path) -> None:
        """Write ``{"charset": [...], "case": ...}`` as UTF-8 JSON."""
        as_path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Charset:
        """Read a vocab.json; raises ``ValueError`` when the file is not one."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: cannot read vocabulary ({exc})") from exc
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc


def build_charset(labels: Iterable[str], case: str = "keep") -> Charset:
    """Sorted set of the characters used by ``labels``."""
    chars: set[str] = set()
    for label in labels:
        chars.update(label)
    return Charset(tuple(sorted(chars)), case)


def charset_difference(a: Sequence[str], b: Sequence[str]) -> tuple[list[str], list[str]]:
    """Characters only in ``a`` and only in ``b`` (for 'charsets differ' messages)."""
    sa, sb = set(a), set(b)
    return sorted(sa - sb), sorted(sb - sa)
