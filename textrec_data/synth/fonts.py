"""Fonts for synthetic words: discovery, charset coverage and cached metrics."""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import ImageFont

from textrec_data.synth.words import CHARSET

# Fallback, symbol, math and display fonts, and hairline weights whose strokes vanish at 16 px.
FONT_EXCLUDE = tuple(
    "lastresort display math symbol cmex cmsy stixsiz nonuni extralight thin hairline".split()
)
_SYSTEM_FONTS = Path("/usr/share/fonts/truetype")


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
