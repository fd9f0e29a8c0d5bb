"""COCO-style JSON word annotations of scene images: COCO-Text v2 and TextOCR.

Both hold ``imgs`` (id -> ``file_name``, ...) and ``anns`` (id -> ``image_id``,
``utf8_string``, a polygon, ``bbox`` = x, y, w, h). Every annotation becomes a word cut from its
image, or a reject:

- ``cocotext`` (``cocotext.v2.json``): ``legibility`` other than ``legible`` is ``illegible``,
  ``language`` other than ``english`` is ``language``, ``class`` other than ``machine printed``
  or ``handwritten`` is ``text_class``; the polygon is ``mask``.
- ``textocr`` (``TextOCR_0.1_train.json``): the text ``.`` marks an illegible word
  (``illegible``); the polygon is ``points``.

Four-point polygons are quads as in ICDAR 2015 (their order gives the reading direction); other
polygons are cut by their minimum-area rectangle; no polygon: the bbox. An annotation whose image
is not listed is ``missing_image``. Image files are looked up as ``--images``/``file_name``,
then by the file name alone. Words of one image are one unit of work (the image is decoded once).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from textrec_data.charset import normalize_text
from textrec_data.errors import InputError
from textrec_data.geometry import polygon_quad
from textrec_data.records import Origin, Record, Reject, SceneWord
from textrec_data.sources.base import Plan
from textrec_data.sources.files import text_reason

#: COCO-Text classes that are words to read.
KEPT_CLASSES = ("machine printed", "handwritten")


def load_json(path: Path) -> dict:
    """A JSON file's top-level object (InputError, one line, when it is not valid JSON)."""
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: a JSON {type(data).__name__}, not an annotation object")
    return data


def bbox_quad(bbox: Any) -> tuple[float, ...] | None:
    """The quad of a COCO ``bbox`` (x, y, width, height), or None when it is not one."""
    try:
        x, y, w, h = (float(v) for v in bbox)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        return None
    return (x, y, x + w, y, x + w, y + h, x, y + h)


@dataclass(frozen=True)
class JsonImage:
    """A unit of work: one image (``file_name`` None: not listed in ``imgs``) and its
    annotations as (1-based position in ``anns``, annotation)."""

    json_path: str
    image_id: str
    file_name: str | None
    anns: tuple[tuple[int, Any], ...]


@dataclass(frozen=True)
class CocoTextSource:
    """A COCO-Text v2 JSON file ``gt`` of scene images under ``images``."""

    images: str | None
    gt: str
    name: ClassVar[str] = "cocotext"
    polygon_key: ClassVar[str] = "mask"

    @staticmethod
    def judge(ann: dict) -> str | None:
        """Why the annotation is not a word to read, before its text is looked at (or None)."""
        if ann.get("legibility") != "legible":
            return "illegible"
        if ann.get("language") != "english":
            return "language"
        return None if ann.get("class") in KEPT_CLASSES else "text_class"

    def plan(self) -> Plan:
        """Load the JSON; one unit per image with annotations, in ``imgs`` order."""
        path = Path(self.gt)
        if self.images is None or not Path(self.images).is_dir():
            raise InputError(f"{self.images}: --format {self.name} needs --images, a directory")
        data = load_json(path)
        imgs, anns = data.get("imgs"), data.get("anns")
        if not isinstance(imgs, dict) or not isinstance(anns, dict):
            raise InputError(f"{path}: no 'imgs' and 'anns' objects: not {self.name} JSON")
        by_image: dict[str | None, list[tuple[int, Any]]] = {}
        for position, ann in enumerate(anns.values(), start=1):
            key = str(ann.get("image_id")) if isinstance(ann, dict) else None
            by_image.setdefault(key if key in imgs else None, []).append((position, ann))
        json_path = str(path.resolve())
        units = []
        for key, info in imgs.items():
            if key in by_image:
                name = _file_name(info)
                stem = PurePosixPath(name).stem if name else key
                units.append(JsonImage(json_path, stem, name, tuple(by_image[key])))
        if None in by_image:
            units.append(JsonImage(json_path, "", None, tuple(by_image[None])))
        unused = sum(key not in by_image for key in imgs)
        notes = {"images_listed": len(imgs), "images_without_annotations": unused}
        return Plan(units, notes, files=1)

    def read(self, unit: JsonImage) -> list[Record]:
        """One record per annotation of the unit's image."""
        image = self._image_path(unit.file_name)
        return [self._record(unit, image, position, ann) for position, ann in unit.anns]

    def _image_path(self, file_name: str | None) -> str | None:
        if file_name is None:
            return None
        for candidate in (Path(self.images) / file_name, Path(self.images) / Path(file_name).name):
            if candidate.is_file():
                return str(candidate)
        return None

    def _record(self, unit: JsonImage, image: str | None, position: int, ann: Any) -> Record:
        raw = json.dumps(ann, ensure_ascii=False, separators=(",", ":"))
        origin = Origin(unit.json_path, position, raw)
        if not isinstance(ann, dict):
            return Reject(origin, "malformed")
        if unit.file_name is None:
            return Reject(origin, "missing_image")
        reason = self.judge(ann)
        text = ann.get("utf8_string")
        if reason is None and not isinstance(text, str):
            reason = "malformed"
        if reason is not None:
            return Reject(origin, reason)
        text = normalize_text(text)
        quad = polygon_quad(ann.get(self.polygon_key) or ()) or bbox_quad(ann.get("bbox"))
        reason = text_reason(text) or (None if quad else "bad_coordinates")
        if reason is not None:
            return Reject(origin, reason)
        return SceneWord(origin, unit.image_id, image, quad, text)


@dataclass(frozen=True)
class TextOcrSource(CocoTextSource):
    """A TextOCR JSON file ``gt`` of scene images under ``images``."""

    name: ClassVar[str] = "textocr"
    polygon_key: ClassVar[str] = "points"

    @staticmethod
    def judge(ann: dict) -> str | None:
        """``illegible`` for TextOCR's ``.`` transcription."""
        return "illegible" if ann.get("utf8_string") == "." else None


def _file_name(info: Any) -> str | None:
    name = info.get("file_name") if isinstance(info, dict) else None
    return name if isinstance(name, str) and name else None
