"""ICDAR 2015 ground truth: ``x1,y1,x2,y2,x3,y3,x4,y4,transcription`` per line.

Everything after the 8th comma is the transcription, verbatim: commas, quotes and apostrophes are
part of it. Files may start with a UTF-8 BOM and use CRLF or LF line endings. Every line read
becomes either a :class:`GTWord` or a :class:`GTReject` with a reason from :data:`REJECT_REASONS`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from textrec_data.charset import normalize_text

#: The closed set of reasons a GT line can be rejected for (manifest stage included).
REJECT_REASONS: dict[str, str] = {
    "placeholder": "transcription is ### (or any all-# string): illegible word",
    "blank_line": "the line is empty or only whitespace",
    "encoding": "the line (or whole file) is not valid UTF-8",
    "malformed": "fewer than 8 commas: not 8 coordinates and a transcription",
    "bad_coordinates": "a coordinate is not a finite number",
    "empty_label": "the transcription is empty or only whitespace",
    "degenerate_quad": "the quad has (near) zero area or a side shorter than 1 pixel",
    "outside_image": "the quad does not overlap the image",
    "missing_image": "no image file matches the GT file",
    "unreadable_image": "the image file exists but cannot be decoded",
    "out_of_charset": "the label has characters outside the given --charset",
}

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
_GT_NAME = re.compile(r"^gt_(?P<stem>.+)\.txt$", re.IGNORECASE)
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class GTWord:
    """A parsed GT line: ``quad`` = (x1, y1, ..., x4, y4), ``text`` verbatim (NFC)."""

    line_no: int
    raw: str
    quad: tuple[float, ...]
    text: str


@dataclass(frozen=True)
class GTReject:
    """A GT line that cannot become a word, with a reason from :data:`REJECT_REASONS`."""

    line_no: int
    raw: str
    reason: str


def is_placeholder(text: str) -> bool:
    """True for ``###`` and any other all-``#`` transcription (IC15's 'do not care')."""
    stripped = text.strip()
    return bool(stripped) and set(stripped) == {"#"}


def parse_gt_line(line: str, line_no: int, require_text: bool = True) -> GTWord | GTReject:
    """Parse one decoded GT line (without its line ending).

    ``require_text=False`` (quads to recognize, e.g. a detector's output) also takes lines of
    just 8 coordinates, and empty transcriptions, as words with text ``""``."""
    if not line.strip():
        return GTReject(line_no, line, "blank_line")
    parts = line.split(",", 8)
    if len(parts) == 8 and not require_text:
        parts.append("")
    if len(parts) < 9:
        return GTReject(line_no, line, "malformed")
    try:
        quad = tuple(float(p) for p in parts[:8])
    except ValueError:
        return GTReject(line_no, line, "bad_coordinates")
    if not all(math.isfinite(v) for v in quad):
        return GTReject(line_no, line, "bad_coordinates")
    text = normalize_text(parts[8])
    if is_placeholder(text):
        return GTReject(line_no, line, "placeholder")
    if not text.strip() and require_text:
        return GTReject(line_no, line, "empty_label")
    return GTWord(line_no, line, quad, text)


def split_lines(data: bytes) -> list[bytes]:
    """Lines of a file's bytes: LF, CRLF or lone CR endings; a final line ending is not a line."""
    return data.splitlines()


def parse_gt_bytes(data: bytes, require_text: bool = True) -> list[GTWord | GTReject]:
    """Parse a whole GT file's bytes; one result per line, in order (1-based line numbers).

    A UTF-8 BOM is removed. UTF-16/32 files and files with NUL bytes are rejected line by line
    with reason ``encoding``, as is any line that is not valid UTF-8: nothing is decoded with
    characters dropped or replaced. ``require_text``: see :func:`parse_gt_line`.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith(_UTF16_32_BOMS) or b"\x00" in data:
        return [GTReject(i, raw, "encoding") for i, raw in enumerate(_foreign_lines(data), 1)]
    results: list[GTWord | GTReject] = []
    for i, raw in enumerate(split_lines(data), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            results.append(GTReject(i, raw.decode("utf-8", "backslashreplace"), "encoding"))
            continue
        results.append(parse_gt_line(line, i, require_text))
    return results


def _foreign_lines(data: bytes) -> list[str]:
    """Lines of a UTF-16 file (or other NUL-bearing bytes) for the rejects' ``raw`` column.

    Lines are counted after decoding, so UTF-16-LE's NUL after the last newline is no extra line.
    """
    codec = "utf-16" if data.startswith(_UTF16_32_BOMS) else None
    if codec is None and len(data) % 2 == 0:
        codec = "utf-16-le" if data[1::2].count(0) > data[0::2].count(0) else "utf-16-be"
    try:
        text = data.decode(codec) if codec else None
    except UnicodeDecodeError:
        text = None
    if text is None:
        return [raw.decode("utf-8", "backslashreplace") for raw in split_lines(data)]
    return [line.decode("utf-8") for line in split_lines(text.encode("utf-8"))]


def gt_stem(gt_path: Path) -> str | None:
    """Image stem that ``gt_<stem>.txt`` belongs to, or None for other file names."""
    match = _GT_NAME.match(gt_path.name)
    return match.group("stem") if match else None


def index_images(images_dir: Path) -> dict[str, Path]:
    """Map image stem -> path for every image file (any common extension, any letter case)."""
    found: dict[str, Path] = {}
    for path in sorted(images_dir.iterdir()):
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            found.setdefault(path.stem, path)
    return found


def list_gt_files(gt_dir: Path) -> list[Path]:
    """GT files ``gt_*.txt`` (any case) in natural order (img_2 before img_10)."""
    files = [p for p in gt_dir.iterdir() if p.is_file() and gt_stem(p) is not None]
    return sorted(files, key=lambda p: natural_key(p.name))


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers numerically."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name))
