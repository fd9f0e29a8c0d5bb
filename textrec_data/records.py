"""What a source yields: words to cut from scene images, already cropped words, and rejects.

Every record carries its :class:`Origin` (source file, line or record number, raw text), so that
each one read ends up either as a manifest row or as a row of ``rejects.parquet`` with a reason
from :data:`REJECT_REASONS`, the one list of reasons shared by every format.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The closed set of reasons a record can be rejected for, by its source or by the manifest stage.
REJECT_REASONS: dict[str, str] = {
    "placeholder": "transcription is `###` (or any all-`#` string): illegible word, rejected "
    "unless `--unlabeled keep` keeps it as an unlabeled row",
    "blank_line": "the line is empty or only whitespace",
    "encoding": "the line (or the whole file, e.g. UTF-16; an LMDB label) is not valid UTF-8",
    "malformed": "the line or record lacks its fields: IC15 fewer than 8 commas, IC13 fewer than "
    "4 numbers and a text, a list line without its comma/tab, an unclosed quote, an LMDB sample "
    "without `label-%09d`, a JSON annotation that is not an object or has no `utf8_string`",
    "bad_coordinates": "a coordinate is not a finite number, a polygon has under 3 points, or "
    "the quad spans over 4 times the image's size",
    "empty_label": "the transcription is empty or only whitespace (`textrec label`: the "
    "teacher read nothing in the crop)",
    "degenerate_quad": "the quad has (near) zero area or a side shorter than 1 pixel",
    "outside_image": "the quad does not overlap the image",
    "missing_image": "no image file matches (the GT file; the listed crop; the JSON's image), or "
    "an LMDB sample has no `image-%09d`",
    "unreadable_image": "the image file (or LMDB bytes) exists but cannot be decoded (empty, "
    "corrupt, or a decompression bomb over OpenCV's and Pillow's pixel limits)",
    "out_of_charset": "the label has characters outside the given `--charset`",
    "illegible": "marked illegible by the format (COCO-Text `legibility`, TextOCR `.`)",
    "language": "COCO-Text `language` is not `english`",
    "text_class": "COCO-Text `class` is `others` (neither machine printed nor handwritten)",
    "low_confidence": "`textrec label`: the teacher read the crop with a confidence below "
    "`--min-confidence`",
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
    ``quad`` = (x1, y1, ..., x4, y4). ``image_id`` names the scene (and decides its split).
    ``text`` None: the word has no transcription (ICDAR's ``###``): an unlabeled word."""

    origin: Origin
    image_id: str
    image: str | None
    quad: tuple[float, ...]
    text: str | None


@dataclass(frozen=True)
class CroppedWord:
    """An already cropped word: ``image`` is the encoded crop's bytes or its file's path (None
    when no such file exists). ``image_id`` names the crop (and decides its split). ``text``
    None: no transcription (``###`` in a list, a crop of a folder without GT)."""

    origin: Origin
    image_id: str
    image: bytes | str | None
    text: str | None


@dataclass(frozen=True)
class Reject:
    """A record that cannot become a word, with a reason from :data:`REJECT_REASONS`."""

    origin: Origin
    reason: str

    def __post_init__(self) -> None:
        if self.reason not in REJECT_REASONS:
            raise ValueError(f"unknown reject reason {self.reason!r}: add it to REJECT_REASONS")


Record = SceneWord | CroppedWord | Reject
