"""Helpers for sources read from files: image folders and text files of one record per line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textrec_data.charset import normalize_text
from textrec_data.errors import InputError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: A file without a BOM is read as UTF-16 when at least 1 byte in this many is NUL (ASCII text
#: in UTF-16 has 1 in 2); fewer NULs are stray bytes in a UTF-8 file, each rejecting its line.
_UTF16_NUL_SHARE = 8


@dataclass(frozen=True)
class GtFolderSource:
    """A format that reads one folder, ``gt``, and takes no ``images`` (``--images``): the base
    of its :class:`~textrec_data.sources.base.Source`, which sets ``name`` (its format name) and
    ``holding`` (what the folder holds, for messages)."""

    images: str | None
    gt: str
    name: ClassVar[str]
    holding: ClassVar[str]

    def gt_folder(self) -> Path:
        """``gt``; an InputError when ``images`` is given or ``gt`` is not a directory."""
        if self.images is not None:
            raise InputError(f"{self.images}: --images is not used with --format {self.name}")
        folder = Path(self.gt)
        if not folder.is_dir():
            raise InputError(f"{folder}: --gt directory of {self.holding} not found")
        return folder


@dataclass(frozen=True)
class TextLine:
    """One line of a text file: its 1-based number and text. ``decoded`` False: the line is not
    valid UTF-8 (``text`` then shows it with backslash escapes) and is to be rejected."""

    line_no: int
    text: str
    decoded: bool


def decode_lines(data: bytes) -> list[TextLine]:
    """A text file's lines, in order: LF, CRLF or lone CR endings; a final line ending is no line.

    A UTF-8 BOM is removed. Every line of a UTF-16/32 file (a BOM, or NUL bytes as common as
    UTF-16 makes them), and any line that is not valid UTF-8 or holds a NUL byte, comes back
    with ``decoded`` False: nothing is decoded with characters dropped or replaced, and a bad
    byte costs its own line only.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith(_UTF16_32_BOMS) or data.count(0) * _UTF16_NUL_SHARE >= len(data) > 0:
        return [TextLine(i, raw, False) for i, raw in enumerate(_foreign_lines(data), 1)]
    lines = []
    for i, raw in enumerate(data.splitlines(), start=1):
        try:
            if b"\x00" in raw:
                raise UnicodeDecodeError("utf-8", raw, raw.index(0), raw.index(0) + 1, "NUL")
            lines.append(TextLine(i, raw.decode("utf-8"), True))
        except UnicodeDecodeError:
            lines.append(TextLine(i, raw.decode("utf-8", "backslashreplace"), False))
    return lines


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
        return [raw.decode("utf-8", "backslashreplace") for raw in data.splitlines()]
    return [line.decode("utf-8") for line in text.encode("utf-8").splitlines()]


def index_images(images_dir: Path) -> dict[str, Path]:
    """Map image stem -> path for every image file (any common extension, any letter case)."""
    found: dict[str, Path] = {}
    for path in sorted(images_dir.iterdir()):
        if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
            found.setdefault(path.stem, path)
    return found


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers numerically."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name))


_ESCAPED = re.compile(r'\\([\\"])')


def unquote(field: str) -> str | None:
    """A transcription as ICDAR word lists write it: ``"text"`` with ``\\"`` for a quote and
    ``\\\\`` for a backslash inside (``"\\"SCAN\\""`` is ``"SCAN"``), or the field verbatim
    when it does not start with a quote. None when a quoted field is not closed."""
    if not field.startswith('"'):
        return field
    field = field.rstrip(" ")
    if len(field) < 2 or not field.endswith('"'):
        return None
    return _ESCAPED.sub(r"\1", field[1:-1])


def quote(text: str) -> str:
    """``text`` as a quoted ICDAR transcription that :func:`unquote` reads back."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def text_reason(text: str) -> str | None:
    """Why a transcription (NFC) cannot be a label: ``placeholder`` (``###``, any all-``#``
    text), ``empty_label`` (empty or whitespace); None when it can."""
    stripped = text.strip()
    if not stripped:
        return "empty_label"
    return "placeholder" if set(stripped) == {"#"} else None


def transcription(field: str) -> tuple[str, str | None]:
    """The NFC text of a quoted or bare transcription field and why it cannot be a label (None
    when it can): ``malformed`` for an unclosed quote, else see :func:`text_reason`."""
    text = unquote(field)
    if text is None:
        return field, "malformed"
    text = normalize_text(text)
    return text, text_reason(text)
