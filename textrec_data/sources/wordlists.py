"""Lists of already cropped words: one ``image, transcription`` per line of a text file.

- ``wordcrops``: ICDAR 2015 Task 4.3 (and ICDAR 2013 Task 3) lists, ``word_1.png, "text"``: the
  image path, a comma, optional spaces, then the transcription in double quotes with ``\\"`` for
  a quote inside it (``"\\"SCAN\\""`` reads ``"SCAN"``); commas in the text are text. A bare,
  unquoted transcription is taken verbatim.
- ``tsv``: ``path<TAB>text`` label files (deep-text-recognition-benchmark's ``gt.txt``,
  PaddleOCR's ``rec_gt_*.txt``); everything after the first tab is the text, verbatim.

Files may start with a UTF-8 BOM and use CRLF or LF. Image paths are relative to ``--images``
(default: the list's folder). The list is read once and split into chunks of lines, the units
of work; every line becomes a word or a reject. :func:`write_wordcrops` writes a Task 4.3 list
(``textrec convert --to wordcrops``) that :class:`WordCropsSource` reads back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import ClassVar

from textrec_data.charset import normalize_text
from textrec_data.errors import InputError
from textrec_data.records import CroppedWord, Origin, Record, Reject
from textrec_data.sources.base import Plan
from textrec_data.sources.files import TextLine, decode_lines, quote, text_reason, transcription

#: Lines per unit of work.
CHUNK_LINES = 512
#: The names :func:`write_wordcrops` writes, as a regular expression.
WORDCROP_FILES = r"gt\.txt|word_\d+\.(png|jpg)"


def parse_wordcrop_line(line: str) -> tuple[str, str, str | None]:
    """(image path, text, reject reason or None) of one Task 4.3 line ``word_1.png, "text"``."""
    path, comma, field = line.partition(",")
    if not comma or not path.strip():
        return path, "", "malformed"
    text, reason = transcription(field.lstrip(" "))
    return path.strip(), text, reason


def parse_tsv_line(line: str) -> tuple[str, str, str | None]:
    """(image path, text, reject reason or None) of one ``path<TAB>text`` line."""
    path, tab, field = line.partition("\t")
    if not tab or not path.strip():
        return path, "", "malformed"
    text = normalize_text(field)
    return path.strip(), text, text_reason(text)


@dataclass(frozen=True)
class ListChunk:
    """A unit of work: consecutive lines of one list file."""

    list_path: str
    lines: tuple[TextLine, ...]


@dataclass(frozen=True)
class WordCropsSource:
    """A word list file ``gt`` of crops under ``images`` (None: the list's folder)."""

    images: str | None
    gt: str
    name: ClassVar[str] = "wordcrops"

    @staticmethod
    def parse(line: str) -> tuple[str, str, str | None]:
        """(image path, text, reject reason or None) of one line."""
        return parse_wordcrop_line(line)

    def plan(self) -> Plan:
        """Read and split the list; check that it and the image folder exist."""
        path = Path(self.gt)
        if not path.is_file():
            raise InputError(f"{path}: --gt word list file not found")
        images = Path(self.images) if self.images is not None else path.parent
        if not images.is_dir():
            raise InputError(f"{images}: --images directory not found")
        lines = decode_lines(path.read_bytes())
        list_path = str(path.resolve())
        chunks = [
            ListChunk(list_path, tuple(lines[i : i + CHUNK_LINES]))
            for i in range(0, len(lines), CHUNK_LINES)
        ]
        return Plan(chunks, {"images_dir": str(images.resolve())}, files=1)

    def read(self, unit: ListChunk) -> list[Record]:
        """One record per line; the image exists or the word's image is None."""
        images = Path(self.images) if self.images is not None else Path(unit.list_path).parent
        return [self._record(unit.list_path, line, images) for line in unit.lines]

    def _record(self, list_path: str, line: TextLine, images: Path) -> Record:
        origin = Origin(list_path, line.line_no, line.text)
        if not line.decoded:
            return Reject(origin, "encoding")
        if not line.text.strip():
            return Reject(origin, "blank_line")
        name, text, reason = self.parse(line.text)
        if reason not in (None, "placeholder"):
            return Reject(origin, reason)
        label = None if reason == "placeholder" else text  # ``###``: a crop without label
        return CroppedWord(origin, crop_id(name), existing_file(images / name), label)


def crop_id(name: str) -> str:
    """A crop's image id: its path in the list without the extension (``test/word_1``)."""
    path = PurePosixPath(name.replace("\\", "/"))
    return path.with_suffix("").as_posix() if path.name else name


def existing_file(path: Path) -> str | None:
    """``path`` as a string when it is an existing file, else None."""
    try:
        return str(path) if path.is_file() else None
    except (OSError, ValueError):  # a name too long, or with a NUL byte
        return None


@dataclass(frozen=True)
class TsvSource(WordCropsSource):
    """A ``path<TAB>text`` label file ``gt`` of crops under ``images`` (None: its folder)."""

    name: ClassVar[str] = "tsv"

    @staticmethod
    def parse(line: str) -> tuple[str, str, str | None]:
        """(image path, text, reject reason or None) of one line."""
        return parse_tsv_line(line)


def image_extension(image: bytes) -> str:
    """File extension of encoded image bytes: ``jpg`` for JPEG, else ``png``."""
    return "jpg" if image.startswith(b"\xff\xd8\xff") else "png"


def write_wordcrops(out: Path, samples: Iterable[tuple[str, bytes]]) -> int:
    """Write ``(label, image bytes)`` samples as ``word_<n>.png`` (``.jpg`` for JPEG bytes) files
    and a Task 4.3 ``gt.txt`` (UTF-8 BOM, CRLF, ``word_1.png, "label"`` quoted as ICDAR quotes)
    in folder ``out``; return how many. ValueError for a label with a line break."""
    count = 0
    with open(out / "gt.txt", "wb") as gt:
        gt.write(b"\xef\xbb\xbf")
        for count, (label, image) in enumerate(samples, start=1):
            if "\n" in label or "\r" in label:
                raise ValueError(f"row {count}: a label with a line break cannot go in a list")
            name = f"word_{count}.{image_extension(image)}"
            (out / name).write_bytes(image)
            gt.write(f"{name}, {quote(label)}\r\n".encode())
    return count
