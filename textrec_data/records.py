"""What a source yields: words to cut from scene images, already cropped words, and rejects.

Every record carries its :class:`Origin` (source file, line or record number, raw text), so that
each one read ends up either as a manifest row or as a row of ``rejects.parquet`` with a reason
from :data:`REJECT_REASONS`, the one list of reasons shared by every format.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The closed set of reasons a record can be rejected for, by its source or by the manifest stage.
REJECT_REASONS: dict[str, str] = {
    "placeholder": "transcription is ### (or any all-# string): illegible word",
    "blank_line": "the line is empty or only whitespace",
    "encoding": "the line (or whole file) is not valid UTF-8",
    "malformed": "the line or record lacks the format's fields (IC15: fewer than 8 coordinates "
    "+ text; an unclosed quote; an LMDB sample without its label)",
    "bad_coordinates": "a coordinate is not a finite number, or the quad spans over 4 times "
    "the image's size",
    "empty_label": "the transcription is empty or only whitespace",
    "degenerate_quad": "the quad has (near) zero area or a side shorter than 1 pixel",
    "outside_image": "the quad does not overlap the image",
    "missing_image": "the image the record refers to does not exist (IC15: none matches; "
    "an LMDB sample without its image)",
    "unreadable_image": "the image (file or bytes) exists but cannot be decoded",
    "out_of_charset": "the label has characters outside the given --charset",
    "illegible": "marked illegible (COCO-Text legibility, TextOCR's '.')",
    "language": "the word's language is not English (COCO-Text)",
    "text_class": "the word's class is not machine printed or handwritten (COCO-Text 'others')",
}


@dataclass(frozen=True)
class Origin:
    """Where a record was read: the source file, its 1-based line (or record) number there, and
    the line or record as read (kept verbatim in the rejects file)."""

    path: str
    line_no: int
    raw: str


@dataclass(frozen=True)
class SceneWord:
    """A word to cut from scene image ``image`` (a path; None when no such image exists) by its
    ``quad`` = (x1, y1, ..., x4, y4). ``image_id`` names the scene (and decides its split)."""

    origin: Origin
    image_id: str
    image: str | None
    quad: tuple[float, ...]
    text: str


@dataclass(frozen=True)
class CroppedWord:
    """An already cropped word: ``image`` is the encoded crop's bytes or its file's path (None
    when no such file exists). ``image_id`` names the crop (and decides its split)."""

    origin: Origin
    image_id: str
    image: bytes | str | None
    text: str


@dataclass(frozen=True)
class Reject:
    """A record that cannot become a word, with a reason from :data:`REJECT_REASONS`."""

    origin: Origin
    reason: str

    def __post_init__(self) -> None:
        if self.reason not in REJECT_REASONS:
            raise ValueError(f"unknown reject reason {self.reason!r}: add it to REJECT_REASONS")


Record = SceneWord | CroppedWord | Reject
