"""ICDAR 2015: images ``<stem>.*`` with GT files ``gt_<stem>.txt`` of lines
``x1,y1,x2,y2,x3,y3,x4,y4,transcription``.

Everything after the 8th comma is the transcription, verbatim: commas, quotes and apostrophes are
part of it. Files may start with a UTF-8 BOM and use CRLF or LF line endings. Every line read
becomes either a :class:`GTWord` or a :class:`GTReject` with a reason from ``REJECT_REASONS``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textrec_data.charset import normalize_text
from textrec_data.errors import InputError
from textrec_data.records import Origin, Record, Reject, SceneWord
from textrec_data.sources.base import Plan
from textrec_data.sources.files import decode_lines, index_images, natural_key
from textrec_data.storage import as_path

_GT_NAME = re.compile(r"^gt_(?P<stem>.+)\.txt$", re.IGNORECASE)


@dataclass(frozen=True)
class GTWord:
    """A parsed GT line: ``quad`` = (x1, y1, ..., x4, y4), ``text`` verbatim (NFC); None for
    an illegible word (``###``: a word without transcription)."""

    line_no: int
    raw: str
    quad: tuple[float, ...]
    text: str | None


@dataclass(frozen=True)
class GTReject:
    """A GT line that cannot become a word, with a reason from ``REJECT_REASONS``."""

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
    just 8 coordinates, and empty transcriptions, as words with text ``""``. An illegible word
    (``###``) is a word with text None: the manifest stage rejects it as ``placeholder`` or
    keeps it unlabeled (``--unlabeled``)."""
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
        return GTWord(line_no, line, quad, None)
    if not text.strip() and require_text:
        return GTReject(line_no, line, "empty_label")
    return GTWord(line_no, line, quad, text)


def parse_gt_bytes(data: bytes, require_text: bool = True) -> list[GTWord | GTReject]:
    """Parse a whole GT file's bytes; one result per line, in order (1-based line numbers).

    Lines that are not valid UTF-8 are rejected with reason ``encoding`` (see
    :func:`~textrec_data.sources.files.decode_lines`). ``require_text``: see
    :func:`parse_gt_line`.
    """
    return [
        parse_gt_line(line.text, line.line_no, require_text)
        if line.decoded
        else GTReject(line.line_no, line.text, "encoding")
        for line in decode_lines(data)
    ]


def gt_stem(gt_path: Path) -> str | None:
    """Image stem that ``gt_<stem>.txt`` belongs to, or None for other file names."""
    match = _GT_NAME.match(gt_path.name)
    return match.group("stem") if match else None


def list_gt_files(gt_dir: Path) -> list[Path]:
    """GT files ``gt_*.txt`` (any case) in natural order (img_2 before img_10)."""
    files = [p for p in gt_dir.iterdir() if p.is_file() and gt_stem(p) is not None]
    return sorted(files, key=lambda p: natural_key(p.name))


@dataclass(frozen=True)
class GTFile:
    """A unit of work: one GT file and the image it belongs to (``image_path`` None when
    missing)."""

    image_id: str
    image_path: str | None
    gt_path: str


@dataclass(frozen=True)
class Icdar15Source:
    """The folders ``images`` and ``gt``; one unit per GT file. ``require_text=False``: lines
    without a transcription are words too (see :func:`parse_gt_line`)."""

    images: str | None
    gt: str
    require_text: bool = True
    name: ClassVar[str] = "icdar15"

    def plan(self) -> Plan:
        """GT files paired with their images; notes the images without a GT file and vice versa."""
        if self.images is None:
            raise InputError(f"{self.gt}: --format {self.name} needs --images (the scene images)")
        images_dir, gt_dir = as_path(self.images), as_path(self.gt)
        for option, path in (("--images", images_dir), ("--gt", gt_dir)):
            if not path.is_dir():
                raise InputError(f"{path}: {option} directory not found")
        gt_files = list_gt_files(gt_dir)
        if not gt_files:
            raise InputError(f"{gt_dir}: no GT files named gt_<image>.txt")
        images = index_images(images_dir)
        units = []
        for gt_path in gt_files:
            stem = gt_stem(gt_path)
            image = images.get(stem)
            image_path = str(image.resolve()) if image else None
            units.append(GTFile(stem, image_path, str(gt_path.resolve())))
        with_gt = {u.image_id for u in units}
        without_gt = sorted(s for s in images if s not in with_gt)
        notes = {
            "images_without_gt": len(without_gt),
            "images_without_gt_ids": without_gt[:100],
            "gt_without_image": sum(u.image_path is None for u in units),
        }
        return Plan(units, notes)

    def parse(self, data: bytes) -> list[GTWord | GTReject]:
        """One parsed line per line of a GT file's bytes."""
        return parse_gt_bytes(data, self.require_text)

    def read(self, unit: GTFile) -> list[Record]:
        """One record per line of the unit's GT file."""
        try:
            data = as_path(unit.gt_path).read_bytes()
        except OSError as exc:
            raise InputError(f"{unit.gt_path}: cannot read GT file ({exc.strerror})") from exc
        return [_record(unit, item) for item in self.parse(data)]


def _record(unit: GTFile, item: GTWord | GTReject) -> Record:
    origin = Origin(unit.gt_path, item.line_no, item.raw)
    if isinstance(item, GTReject):
        return Reject(origin, item.reason)
    return SceneWord(origin, unit.image_id, unit.image_path, item.quad, item.text)
