"""``images``: a folder of word crops without ground truth (e.g. cut by a detector's boxes).

Every image file under ``--gt`` (sub-folders included, in natural order of the relative path)
is one record: a cropped word without transcription, so it becomes an unlabeled row (``text``
and ``label`` null) with ``--unlabeled keep``, or is unreadable (``unreadable_image``). Files
that are not images are no records; the plan notes how many were passed over. Its rows name
the folder in ``gt_path`` and the file's place in that order in ``line_no``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textrec_data.errors import InputError
from textrec_data.records import CroppedWord, Origin, Record
from textrec_data.sources.base import Plan
from textrec_data.sources.files import IMAGE_EXTENSIONS, GtFolderSource, natural_key
from textrec_data.sources.wordlists import crop_id

#: Image files per unit of work.
CHUNK_FILES = 256


@dataclass(frozen=True)
class ImageChunk:
    """A unit of work: consecutive image files (paths relative to ``folder``), the first one's
    1-based number in the folder's order."""

    folder: str
    first: int
    names: tuple[str, ...]


def list_crops(folder: Path) -> tuple[list[str], int]:
    """The image files under ``folder`` (relative POSIX paths, natural order) and how many other
    files there are."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    names = [
        p.relative_to(folder).as_posix() for p in files if p.suffix.lower() in IMAGE_EXTENSIONS
    ]
    return sorted(names, key=natural_key), len(files) - len(names)


@dataclass(frozen=True)
class ImageFolderSource(GtFolderSource):
    """The crops in folder ``gt`` (``images`` must be None: the crops are the GT's folder)."""

    name: ClassVar[str] = "images"
    holding: ClassVar[str] = "crops"

    def plan(self) -> Plan:
        """The folder's image files in chunks; an InputError when there is none."""
        folder = self.gt_folder()
        names, others = list_crops(folder)
        if not names:
            raise InputError(f"{folder}: no image files ({', '.join(IMAGE_EXTENSIONS)})")
        resolved = str(folder.resolve())
        chunks = [
            ImageChunk(resolved, i + 1, tuple(names[i : i + CHUNK_FILES]))
            for i in range(0, len(names), CHUNK_FILES)
        ]
        return Plan(chunks, {"other_files": others}, files=len(names))

    def read(self, unit: ImageChunk) -> list[Record]:
        """One unlabeled cropped word per image file."""
        folder = Path(unit.folder)
        return [
            CroppedWord(
                Origin(unit.folder, unit.first + k, name), crop_id(name), str(folder / name), None
            )
            for k, name in enumerate(unit.names)
        ]
