"""A unit's records -> manifest rows and rejects: the one per-unit work of the manifest stage,
whichever build runs it (the single file of :mod:`textrec_data.build`, the parts of
:mod:`textrec_data.sharded`, on any engine), and of ``textrec predict``'s scene words.

Crops cut from a scene are stored as PNG. An already cropped word whose bytes are PNG or JPEG and
decode with OpenCV is stored as it came (no re-encoding: faster, no size growth for JPEG, the
same pixels for every reader); other encodings are re-encoded to PNG.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np
import pyarrow as pa

from textrec_data.charset import Charset, apply_case
from textrec_data.geometry import (
    crop_quad,
    is_degenerate,
    make_upright,
    overlaps_image,
    quad_points,
    repair_quad,
)
from textrec_data.images import decode_cropped, decode_image, keep_freed_memory
from textrec_data.inputs import check_utf8
from textrec_data.manifest import MANIFEST_SCHEMA
from textrec_data.records import CroppedWord, Origin, Record, Reject, SceneWord
from textrec_data.sources import DEFAULT_FORMAT

#: A quad wider or taller than this many times the image's longer side is a coordinate error
#: (e.g. 1e30), not a word: its crop would not fit in memory.
MAX_QUAD_EXTENT = 4


@dataclass(frozen=True)
class WordRules:
    """How words become rows: label case policy, the --charset filter, the split, and what
    becomes of a word without transcription (``unlabeled``: ``reject`` as ``placeholder``, or
    ``keep`` as a row whose ``text`` and ``label`` are null)."""

    case: str = "keep"
    charset: Charset | None = None
    split: str = "auto"
    seed: int = 0
    val_fraction: float = 0.1
    unlabeled: str = "reject"

    def label(self, text: str) -> str | None:
        """The label of ``text`` under the case policy; None when outside the charset."""
        label = apply_case(text, self.case)
        return None if self.charset is not None and self.charset.missing(label) else label

    def split_of(self, image_id: str) -> str:
        """The split of the words of ``image_id``: whole images go to one split."""
        if self.split != "auto":
            return self.split
        return assign_split(image_id, self.seed, self.val_fraction)


@dataclass
class UnitResult:
    """The manifest rows and rejects of one unit of work, and how many records it read. Rows go
    between processes as one Arrow table (:func:`packed`): cheaper to send and to write."""

    rows: list[dict] | pa.Table = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    records: int = 0


def packed(result: UnitResult) -> UnitResult:
    """``result`` with its rows as one Arrow table of the manifest schema."""
    table = pa.Table.from_pylist(result.rows, schema=MANIFEST_SCHEMA)
    return UnitResult(table, result.rejects, result.records)


def assign_split(image_id: str, seed: int, val_fraction: float) -> str:
    """'val' for a stable ``val_fraction`` of image ids (hash of id and seed), else 'train'."""
    digest = hashlib.sha1(f"{seed}:{image_id}".encode()).digest()
    return "val" if int.from_bytes(digest[:8], "big") / 2**64 < val_fraction else "train"


def process(
    records: Iterable[Record], rules: WordRules = WordRules(), source: str = DEFAULT_FORMAT
) -> UnitResult:
    """Rows and rejects of one unit's records, in order; rows name their ``source`` format. A
    scene image is decoded once for the run of words on it and every word is cut by its quad; a
    cropped word is decoded itself."""
    keep_freed_memory()
    result = UnitResult()
    scene: tuple[str | None, np.ndarray | None] = (None, None)
    for record in records:
        result.records += 1
        check_utf8(_names(record))
        if isinstance(record, Reject):
            outcome: dict | str = record.reason
        elif record.text is None and rules.unlabeled != "keep":
            outcome = "placeholder"  # a word without transcription (default: rejected)
        elif record.image is None:
            outcome = "missing_image"
        elif isinstance(record, CroppedWord):
            decoded = decode_cropped(record.image)
            outcome = _word_row(record, *(decoded or (None, None)), rules)
        else:
            if record.image != scene[0]:
                scene = (record.image, decode_image(record.image))
            outcome = _word_row(record, scene[1], None, rules)
        if isinstance(outcome, str):
            result.rejects.append(_reject_row(record.origin, outcome))
        else:
            outcome["source"] = source
            result.rows.append(outcome)
    return result


def _names(record: Record) -> list[str]:
    """The file names and ids a record brings into the manifest's text columns."""
    values = (record.origin.path, getattr(record, "image_id", ""), getattr(record, "image", ""))
    return [value for value in values if isinstance(value, str)]


def _reject_row(origin: Origin, reason: str) -> dict:
    return {"gt_path": origin.path, "line_no": origin.line_no, "raw": origin.raw, "reason": reason}


def _word_row(
    word: SceneWord | CroppedWord, image: np.ndarray | None, encoded: bytes | None, rules: WordRules
) -> dict | str:
    """The manifest row of a word given its decoded scene image (a cropped word: its decoded
    crop, and its bytes when they are stored as they are), or the reason it is rejected."""
    if image is None:
        return "unreadable_image"
    label = None if word.text is None else rules.label(word.text)
    if label is None and word.text is not None:
        return "out_of_charset"
    cut = _cut(word, image, label)
    if isinstance(cut, str):
        return cut
    quad, crop = cut
    if encoded is None:
        ok, png = cv2.imencode(".png", crop)
        if not ok:  # pragma: no cover - OpenCV cannot fail to encode a non-empty uint8 image
            raise RuntimeError(f"PNG encoding failed for {word.origin.path}:{word.origin.line_no}")
        encoded = png.tobytes()
    return {
        "image_id": word.image_id,
        "image_path": word.image if isinstance(word.image, str) else None,
        "gt_path": word.origin.path,
        "line_no": word.origin.line_no,
        "quad": None if quad is None else [float(v) for v in quad],
        "text": word.text,
        "label": label,
        "split": rules.split_of(word.image_id),
        "crop": encoded,
        "crop_h": int(crop.shape[0]),
        "crop_w": int(crop.shape[1]),
    }


def _cut(
    word: SceneWord | CroppedWord, image: np.ndarray, label: str | None
) -> tuple[tuple[float, ...] | None, np.ndarray] | str:
    """The word's quad and upright crop (a cropped word: no quad, the whole image), or a reject
    reason."""
    if isinstance(word, CroppedWord):
        return None, image
    points = quad_points(word.quad)
    extent = MAX_QUAD_EXTENT * max(image.shape[:2])
    if not np.isfinite(points).all() or np.ptp(points, axis=0).max() > extent:
        return "bad_coordinates"
    points = repair_quad(points)
    if is_degenerate(points):
        return "degenerate_quad"
    if not overlaps_image(points, image.shape[1], image.shape[0]):
        return "outside_image"
    return word.quad, make_upright(crop_quad(image, points), label or None)
