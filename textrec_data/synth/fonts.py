"""Fonts for synthetic text: discovery, charset coverage and cached metrics (both modes), and
font sets (word mode's ``--fonts``, the scene mode's too): every TTF/OTF file of some folders,
grouped by family, with the characters each one covers (scan verdicts cached as JSON), and a
per-word choice among the faces that can draw the word."""

from __future__ import annotations

import functools
import json
import os
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ImageFont

from textrec_data.atomic import atomic_file
from textrec_data.errors import InputError
from textrec_data.synth.transcriptions import CHARSET

# Fallback, symbol, math and display fonts, and hairline weights whose strokes vanish at 16 px.
FONT_EXCLUDE = tuple(
    "lastresort display math symbol cmex cmsy stixsiz nonuni extralight thin hairline".split()
)
_SYSTEM_FONTS = Path("/usr/share/fonts/truetype")
FONT_SUFFIXES = (".ttf", ".otf")
#: Characters a face must cover to be used at all; others are checked per word.
REQUIRED = frozenset(string.ascii_letters + string.digits)
# The characters whose coverage is recorded: printable ASCII, Latin-1 and Latin Extended-A.
_RECORDED = frozenset(map(chr, range(0x20, 0x180)))
# Families whose letters are not letters: keys drawn around them, URW's Zapf Dingbats clone.
_FAMILY_EXCLUDE = ("keyboard", "dingbat", "d050000l")
_RETRIES = 12  # random faces tried for a word before falling back to a scan
#: What :func:`read_face` decides: bump when its rules change, so cached verdicts are re-made.
_CACHE_VERSION = 1


@functools.lru_cache(maxsize=4096)
def read_cmap(path: Path) -> tuple[dict[int, str], str] | None:
    """(character map, best family name) of the font at ``path``; None when it cannot be read
    or is not an OpenType font. Glyphs get numbered names, so the map loads without the glyph
    name table (half the time of a font's scan). Cached: the scene mode's fonts are read twice."""
    from fontTools.ttLib import TTFont  # a matplotlib dependency

    try:
        with TTFont(path, lazy=True) as font:
            font.setGlyphOrder([f"g{i}" for i in range(font["maxp"].numGlyphs)])
            return font.getBestCmap() or {}, font["name"].getBestFamilyName() or path.stem
    except Exception:  # unreadable or not an OpenType font: not usable
        return None


def _covers_charset(path: Path) -> bool:
    """Whether the font at ``path`` maps every character of :data:`CHARSET` to a glyph."""
    found = read_cmap(path)
    return found is not None and all(ord(c) in found[0] for c in CHARSET)


def _candidate_fonts() -> list[Path]:
    """Matplotlib's bundled ``.ttf`` files, then the system's, each group sorted by path."""
    import matplotlib

    candidates = sorted((Path(matplotlib.get_data_path()) / "fonts" / "ttf").glob("*.ttf"))
    if _SYSTEM_FONTS.is_dir():
        candidates += sorted(p for p in _SYSTEM_FONTS.rglob("*") if p.suffix.lower() == ".ttf")
    return candidates


@functools.lru_cache(maxsize=1)
def _usable_fonts() -> tuple[Path, ...]:
    chosen: dict[str, Path] = {}  # by file name: a system copy of a matplotlib font is skipped
    for path in _candidate_fonts():
        name = path.name.lower()
        if name in chosen or any(word in name for word in FONT_EXCLUDE):
            continue
        if _covers_charset(path):
            chosen[name] = path
    return tuple(sorted(chosen.values(), key=str))


def font_paths() -> list[Path]:
    """TrueType fonts that can render every character of :data:`CHARSET`, sorted by path.

    Matplotlib's bundled fonts (DejaVu Sans/Serif/Mono, STIX General) plus any in
    ``/usr/share/fonts/truetype`` (a file name already taken from matplotlib is skipped). Symbol,
    math, display and fallback fonts are excluded, as is any font whose character map lacks a
    character of the charset.
    """
    return list(_usable_fonts())


@functools.lru_cache(maxsize=1024)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The font at ``path`` in ``size`` pixels (cached)."""
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=2048)
def line_box(path: str, size: int) -> tuple[int, int]:
    """(top, bottom) of the ascender-to-descender line box relative to the baseline."""
    _, top, _, bottom = load_font(path, size).getbbox("Hdgj", anchor="ls")
    return top, bottom


@functools.lru_cache(maxsize=2048)
def height_per_px(path: str) -> float:
    """Line box height per pixel of font size."""
    top, bottom = line_box(path, 100)
    return (bottom - top) / 100.0


@dataclass(frozen=True)
class FontFace:
    """One font file: its path, family name and the recorded characters it maps to glyphs."""

    path: str
    family: str
    chars: frozenset[str]


def read_face(path: Path) -> FontFace | None:
    """The face at ``path``, or None when it cannot be read, lacks (or draws nothing for) a
    character of :data:`REQUIRED` or is of an excluded family."""
    found = read_cmap(path)
    if found is None:
        return None
    cmap, family = found
    chars = frozenset(chr(c) for c in cmap if chr(c) in _RECORDED)
    if not REQUIRED <= chars or any(word in family.lower() for word in _FAMILY_EXCLUDE):
        return None
    return FontFace(str(path), family, chars) if _draws(path, REQUIRED) else None


def _draws(path: Path, chars: frozenset[str]) -> bool:
    """Whether every one of ``chars`` has ink in the font (some map characters to empty
    glyphs)."""
    try:
        font = ImageFont.truetype(str(path), 24)
    except OSError:
        return False
    for ch in sorted(chars):
        left, top, right, bottom = font.getbbox(ch)
        if right <= left or bottom <= top:
            return False
    return True


def cache_file() -> Path:
    """Where font scans are cached: ``$XDG_CACHE_HOME/textrec/fonts.json`` (default
    ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "textrec" / "fonts.json"


def _load_cache(path: Path) -> dict:
    """The cached verdicts by font path; empty when missing, unreadable or of another version."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        return {}
    fonts = data.get("fonts")
    return fonts if isinstance(fonts, dict) else {}


def _cached_face(path: Path, entry: object, stamp: list[int]) -> FontFace | None | bool:
    """The face a cache entry records for ``path`` (None: not usable), or False when the entry
    is missing, malformed or for another size or modification time of the file."""
    if not isinstance(entry, dict) or entry.get("stamp") != stamp:
        return False
    face = entry.get("face")
    if face is None:
        return None
    if not (isinstance(face, list) and len(face) == 2 and all(isinstance(v, str) for v in face)):
        return False
    return FontFace(str(path), face[0], frozenset(face[1]))


def read_faces(paths: Sequence[Path]) -> list[FontFace]:
    """:func:`read_face` of every path, through a JSON cache of the verdicts keyed by absolute
    path, size and modification time (reading 917 font files took 7.2 s; a cached scan only
    stats them). A cache that cannot be read or written is ignored."""
    where = cache_file()
    cache = _load_cache(where)
    faces, changed = [], False
    for path in paths:
        key, stat = str(path.resolve()), path.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        face = _cached_face(path, cache.get(key), stamp)
        if face is False:
            face = read_face(path)
            recorded = None if face is None else [face.family, "".join(sorted(face.chars))]
            cache[key], changed = {"stamp": stamp, "face": recorded}, True
        if face is not None:
            faces.append(face)
    if changed:
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(where) as tmp:
                tmp.write_text(json.dumps({"version": _CACHE_VERSION, "fonts": cache}) + "\n")
        except OSError:  # a read-only home: scan again next time
            pass
    return faces


def font_files(folder: Path) -> list[Path]:
    """TTF/OTF files under ``folder`` (recursively), sorted by path, without the excluded kinds
    (symbol, math, display, hairline...)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in FONT_SUFFIXES
        and p.is_file()
        and not any(word in p.name.lower() for word in FONT_EXCLUDE)
    )


@dataclass(frozen=True)
class FontSet:
    """Faces grouped by family (families sorted by name, faces by path)."""

    families: tuple[tuple[FontFace, ...], ...]

    def pick(self, rng: np.random.Generator, text: str) -> FontFace | None:
        """A face that covers ``text``: a random family, then a random face of it (so large
        families do not dominate); None when no face covers it."""
        needed = set(text)
        for _ in range(_RETRIES):
            faces = self.families[int(rng.integers(len(self.families)))]
            face = faces[int(rng.integers(len(faces)))]
            if needed <= face.chars:
                return face
        covering = [f for faces in self.families for f in faces if needed <= f.chars]
        return covering[int(rng.integers(len(covering)))] if covering else None

    def palette(self, rng: np.random.Generator, n: int) -> FontSet:
        """``n`` faces drawn as :meth:`pick` draws them (a random family, then a face of it):
        the fonts of one unit of work, so that a worker loads a few fonts, not every one."""
        faces = []
        for _ in range(n):
            family = self.families[int(rng.integers(len(self.families)))]
            faces.append(family[int(rng.integers(len(family)))])
        return group_faces(list(dict.fromkeys(faces)))


def group_faces(faces: Sequence[FontFace]) -> FontSet:
    """:class:`FontSet` of ``faces`` by family name."""
    by_family: dict[str, list[FontFace]] = {}
    for face in sorted(faces, key=lambda f: f.path):
        by_family.setdefault(face.family, []).append(face)
    return FontSet(tuple(tuple(by_family[name]) for name in sorted(by_family)))


@functools.lru_cache(maxsize=8)
def load_font_set(folders: tuple[str, ...]) -> FontSet:
    """The usable faces of ``folders``; no folders: the scene mode's fonts (:func:`font_paths`).
    Raises :class:`InputError` for a missing folder or one without a usable font."""
    if not folders:
        return group_faces(read_faces(font_paths()))
    faces = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise InputError(f"{folder}: --fonts directory not found")
        found = read_faces(font_files(folder))
        if not found:
            raise InputError(f"{folder}: no TTF/OTF font covering A-Z, a-z and 0-9")
        faces += found
    return group_faces(faces)


def scene_fonts(folders: tuple[str, ...]) -> list[Path]:
    """The scene mode's fonts: :func:`font_paths`, or the faces of ``folders`` that cover the
    whole scene charset (a scene word may hold any of its characters)."""
    if not folders:
        return font_paths()
    faces = (face for faces in load_font_set(folders).families for face in faces)
    usable = sorted(Path(face.path) for face in faces if set(CHARSET) <= face.chars)
    if not usable:
        raise InputError(f"{', '.join(folders)}: no font covers the scene charset {CHARSET!r}")
    return usable
