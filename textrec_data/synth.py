"""Synthetic ICDAR 2015-format scene text: the embedded default dataset.

Every scene is a textured, photo-like background (gradients, blurred-noise texture, wall panels,
soft blobs, poles) with a few non-overlapping words. Each word is rendered upright with PIL on its
own canvas (optionally on a sign plate, with an outline or a drop shadow), warped into the scene
with a rotation and a mild perspective (``cv2.warpPerspective``), and annotated with the warped
corners of its text box: clockwise from the word's own top-left corner, like IC15.

The text box is tight horizontally (ink extent plus a small pad) and spans the font's ascender to
descender line vertically (extended by any ink beyond it), so a rectified crop shows lower case
letters at their true height relative to capitals (``o`` vs ``O``).

Output layout (as IC15): ``OUT/images/img_K.jpg`` (JPEG quality 90) and ``OUT/gt/gt_img_K.txt``
(UTF-8 with BOM, CRLF), one ``x1,y1,x2,y2,x3,y3,x4,y4,transcription`` line per word, integer
coordinates; illegible words (tiny, blurred or low contrast) are written as ``###``.

Image K is drawn from ``np.random.default_rng([seed, K])``, so any image can be regenerated alone
and the same config gives byte-identical GT files and identical images (for the same fonts and
library versions).
"""

from __future__ import annotations

import colorsys
import functools
import math
import shutil
import string
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from textrec_data.errors import InputError

__all__ = [
    "ACCENTED",
    "CHARSET",
    "PLACEHOLDER",
    "PUNCTUATION",
    "WORDS",
    "SynthConfig",
    "SynthSummary",
    "font_paths",
    "render_scene",
    "write_synth_dataset",
]

PLACEHOLDER = "###"
#: Punctuation and accented letters a generated transcription may contain besides [A-Za-z0-9].
PUNCTUATION = ",.'\"-:$%&!"
ACCENTED = "éÉüÜöÖßñïÏ"
#: Every character a transcription (other than ``###``) can contain.
CHARSET = string.ascii_letters + string.digits + PUNCTUATION + ACCENTED

_WORD_LIST = """
    the and for you with open closed free new all now only here this that way out in to of on
    at by no yes stop go more best good great big small hot cold fresh daily today day night
    time home city world life love water food coffee tea bread pizza burger sushi noodle bar pub
    grill kitchen house garden park center centre market mall store shop sale price off deal
    offer special menu order pay cash card credit bank atm post office mail police fire hospital
    clinic doctor dental pharmacy health beauty salon hair nails spa fitness gym sport sports
    games music video photo print copy books book news hotel hostel inn motel rooms room taxi bus
    train metro station airport terminal gate platform exit entrance enter push pull left right
    up down floor level lift stairs toilet toilets ladies gents men women kids baby family school
    college church museum library cinema theatre theater bridge street road avenue lane drive
    square plaza tower court north south east west main high king queen royal grand central
    public private parking car cars wash service repair auto tyres tires petrol gas oil fuel
    diesel electric energy phone mobile online wifi internet digital tech global group company
    supply express fast quick easy smart super mega mini max plus pro one two three four five ten
    first last next welcome thank thanks please sorry hello danger warning caution notice keep
    clear entry staff slow zone limit speed works hours late early morning evening lunch dinner
    breakfast brunch bakery butcher fish meat fruit grocery deli wine beer liquor drinks juice
    milk ice cream cake donut candy sweet chicken rice soup salad steak seafood noodles dumpling
    tacos kebab fries bagel sandwich espresso latte mocha fashion shoes bags jewelry watches gold
    silver diamond optical glasses flowers florist gifts toys pets hardware tools paint furniture
    lighting decor design studio gallery art dance yoga karaoke club lounge cafe bistro diner
    buffet outlet factory warehouse depot tickets ticket booking travel tours exchange money loans
    insurance law legal dentist vet laundry dry cleaning tailor barber mart supermarket bakehouse
    river lake hill valley garage office tea shop apple orange lemon mango berry honey sugar salt
    pepper spice garlic onion tomato potato burger hotdog waffle crepe pancake bubble boba green
    red blue black white yellow pink purple brown grey golden happy lucky sunny star moon sun sky
    cloud rain snow wind ocean sea beach island harbour port dock ferry boat ship
    London Paris Tokyo Berlin Madrid Rome Sydney Dublin Boston Austin Denver Seattle Chicago
    Toronto Singapore Osaka Kyoto Seoul Lisbon Vienna Prague Oslo Zurich Oxford Baker Victoria
    Regent Camden Soho Brighton Kent Chelsea Hampton Lincoln Jackson Franklin Madison Monroe
    Zentra Novex Lumina Kaori Veltro Orbix Quanta Marlo Pixelo Sunvale Redwood Bluefin Greenleaf
    Northway Silverline Goldstar Starline Citymart Megabyte Topaz Zapp Yumi Koda Tivoli Verona
    Milano Sakura Hanami Alpha Omega Delta Nova Apex Vertex Nimbus Zenith Atlas Titan Orion Vega
    Lyra Polaris Vortex Fusion Nexus Matrix Pulse Spark Bolt Swift Echo Vivid Oasis Harbor Summit
    Crown Eagle Falcon Tiger Panda Koala Dragon Phoenix Lotus Jade Ruby Amber Coral Pearl
    iMark eZone McBurger FreshCo QuikStop TechHub CityBank MaxiMart BigBox SunCafe GoTaxi KwikFix
    NetPoint PayZo FoodLand MegaMall XPRESS YUMMI ZOOMA KIXX JAVVA QBIC VYNL WOKZ FIXIT
    jazz jam jeans jobs join joy just july june jumbo jet jungle juice jelly jacket journal
    major enjoy project object subject Jack James Jordan Jupiter Java Jasmine Joe Jenny
    quiz quality quiet quarter quick quote equal request question aqua boutique antique unique
    liquid squash squid Quincy Quebec Qatar quest conquer frequent banquet
    zoo zero zip fizz buzz cozy crazy amazing frozen lazy size prize zebra blaze maze breeze
    extra exit fax box fix mix six next text luxury oxygen relax index flex vortex taxi maxi
    view vivid seven eleven avenue valley vision voice velvet wave wow window wallet
"""
#: Common English, street/shop and brand-like words (letters only; case variants are generated).
WORDS: tuple[str, ...] = tuple(dict.fromkeys(_WORD_LIST.split()))

_ACCENTED_WORDS: tuple[str, ...] = tuple(
    """
    café Café CAFÉ Straße über Über ÜBER naïve NAÏVE Naïve señor niño España piñata jalapeño
    mañana Müller Zürich Köln schön Öl ÖL König Grüße Fuß Größe Weiß résumé fiancé entrée
    cliché Renée André éclair soirée frappé purée Chloé Björn Göteborg Düsseldorf München
    Brötchen Löwe Höhe Süß Blümchen Straßen Fußball Müsli Gemüse Glück ÖFFNUNG KÖNIG MÜLLER
    ZÜRICH GRÜN BRÖTCHEN ÉCOLE ÉTÉ CAFÉS ÜBERALL HEINÉ Loïc Anaïs Héloïse MAÏS LOÏC ñ peñas
    año Muñoz HÉROÏNE CAÏD AÏOLI Aïoli ÉGOÏSTE ÉLITE ÉCLAIR ÉTOILE MAÏSON NOÏSE ÖKO Öko
    BÖRSE SCHÖN Österreich ÖFFNEN FÜR TÜR MÜNCHEN GLÜCK maïs caïd égoïste Moïse haïku groß
    heiß Gruß Spaß niña baño sueño otoño
    """.split()
)
_APOSTROPHE_WORDS: tuple[str, ...] = tuple(
    """
    DON'T don't Don't CAN'T can't IT'S it's It's JOE'S Joe's O'NEIL O'Neil LET'S Let's WE'RE
    YOU'RE I'M WON'T ISN'T Mary's Tom's KID'S world's MEN'S Men's WOMEN'S Women's McDonald's
    Macy's Lowe's TONY'S Rosie's '90s rock'n'roll O'CLOCK ma'am
    """.split()
)
_SYMBOL_WORDS: tuple[str, ...] = tuple(
    """
    & B&Q AT&T R&B M&S K&D H&Co Fish&Chips CHECK-IN DRIVE-THRU 24-HOUR e-mail WI-FI Wi-Fi
    self-service T-shirt X-RAY CO-OP - SALE! OPEN! NEW! Wow! WOW! HOT! GO! YES! STOP! FREE!
    Hi! Enjoy! Jump! Quiz! St. Dr. Inc. No. Ltd. Co. Ave. Rd. etc. Mr. P.O. U.S. A.M. p.m.
    NOTE: Tel: Fax: Open: Hours: Info: WiFi: EXIT: Price: Menu: TIME: Daily:
    """.split()
)
_WORDS_WITH: dict[str, tuple[str, ...]] = {
    c: tuple(w for w in _ACCENTED_WORDS + _APOSTROPHE_WORDS + _SYMBOL_WORDS if c in w)
    for c in ACCENTED + PUNCTUATION
}
# Letters for codes such as A12: no I or O (too close to 1 and 0 without context).
_CODE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


@dataclass(frozen=True)
class SynthConfig:
    """What to generate; every field has a default (the embedded dataset is the defaults)."""

    images: int = 400  # number of scene images
    seed: int = 0
    width: int = 640
    height: int = 480
    min_words: int = 4
    max_words: int = 9
    placeholder_rate: float = 0.08  # share of words written as ### (drawn tiny/blurred/faint)
    max_rotation_deg: float = 15.0
    min_text_height: float = 16.0  # text box height in pixels (legible words)
    max_text_height: float = 60.0
    perspective: float = 0.08  # corner jitter as a fraction of the text height
    plate_rate: float = 0.3  # share of words drawn on a coloured sign plate
    min_contrast: float = 70.0  # grey-level difference between text and the background under it
    jpeg_quality: int = 90

    def validate(self) -> None:
        """Raise :class:`InputError` (a ``ValueError``) naming an impossible setting."""
        if self.images < 0:
            raise InputError(f"images must be >= 0, got {self.images}")
        if self.width < 64 or self.height < 64:
            raise InputError(f"image size must be at least 64x64, got {self.width}x{self.height}")
        if not 1 <= self.min_words <= self.max_words:
            raise InputError(
                f"need 1 <= min_words <= max_words, got {self.min_words}..{self.max_words}"
            )
        if not 0.0 <= self.placeholder_rate <= 1.0:
            raise InputError(f"placeholder_rate must be in [0, 1], got {self.placeholder_rate}")
        if not 0.0 <= self.max_rotation_deg <= 45.0:
            raise InputError(f"max_rotation_deg must be in [0, 45], got {self.max_rotation_deg}")
        if not 4.0 <= self.min_text_height <= self.max_text_height:
            raise InputError("need 4 <= min_text_height <= max_text_height")
        if not 1 <= self.jpeg_quality <= 100:
            raise InputError(f"jpeg_quality must be in [1, 100], got {self.jpeg_quality}")


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`write_synth_dataset` wrote."""

    images: int
    words: int
    placeholders: int
    out_dir: str


# --------------------------------------------------------------------------------------- fonts

# Fallback, symbol, math and display fonts, and hairline weights whose strokes vanish at 16 px.
_FONT_EXCLUDE = tuple(
    "lastresort display math symbol cmex cmsy stixsiz nonuni extralight thin hairline".split()
)


def _covers_charset(path: Path) -> bool:
    from fontTools.ttLib import TTFont  # a matplotlib dependency

    try:
        with TTFont(path, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except Exception:  # unreadable or not a TrueType font: not usable
        return False
    return all(ord(c) in cmap for c in CHARSET)


@functools.lru_cache(maxsize=1)
def _font_paths() -> tuple[Path, ...]:
    import matplotlib

    candidates = sorted((Path(matplotlib.get_data_path()) / "fonts" / "ttf").glob("*.ttf"))
    system = Path("/usr/share/fonts/truetype")
    if system.is_dir():
        candidates += sorted(p for p in system.rglob("*") if p.suffix.lower() == ".ttf")
    chosen: dict[str, Path] = {}  # by file name: a system copy of a matplotlib font is skipped
    for path in candidates:
        name = path.name.lower()
        if name in chosen or any(word in name for word in _FONT_EXCLUDE):
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
    return list(_font_paths())


@functools.lru_cache(maxsize=1024)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=256)
def _line_box(path: str, size: int) -> tuple[int, int]:
    """(top, bottom) of the ascender-to-descender line box relative to the baseline."""
    _, top, _, bottom = _font(path, size).getbbox("Hdgj", anchor="ls")
    return top, bottom


@functools.lru_cache(maxsize=256)
def _height_per_px(path: str) -> float:
    top, bottom = _line_box(path, 100)
    return (bottom - top) / 100.0


# ---------------------------------------------------------------------------------------- words


def _case_variant(rng: np.random.Generator, word: str) -> str:
    r = rng.random()
    if word.islower():
        variant = word.upper() if r < 0.4 else word.title() if r < 0.7 else word
    else:
        variant = word if r < 0.5 else word.upper() if r < 0.9 else word.lower()
    return variant if all(c in CHARSET for c in variant) else word


def _number_token(rng: np.random.Generator, kind: int | None = None) -> str:
    """A number, price, percentage, time, code or phone-like token."""
    if kind is None:
        kind = int(rng.integers(0, 9))
    if kind == 0:
        return str(int(rng.integers(0, 10)))
    if kind == 1:
        return str(int(rng.integers(10, 1000)))
    if kind == 2:
        return f"{int(rng.integers(1000, 100000)):,}"
    if kind == 3:
        cents = rng.choice(["99", "95", "50", "00", f"{int(rng.integers(0, 100)):02d}"])
        return f"${int(rng.integers(1, 1000)):,}.{cents}"
    if kind == 4:
        return f"${int(rng.integers(1, 10000)):,}"
    if kind == 5:
        sign = "-" if rng.random() < 0.3 else ""
        return f"{sign}{int(rng.choice([5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 75, 80]))}%"
    if kind == 6:
        minute = int(rng.choice([0, 15, 30, 45, int(rng.integers(0, 60))]))
        return f"{int(rng.integers(0, 24))}:{minute:02d}"
    if kind == 7:
        letters = "".join(rng.choice(list(_CODE_LETTERS), size=int(rng.integers(1, 3))))
        digits = str(int(rng.integers(1, 1000)))
        sep = "-" if rng.random() < 0.25 else ""
        return f"{letters}{sep}{digits}" if rng.random() < 0.7 else f"{digits}{letters}"
    return f"{int(rng.integers(100, 1000))}-{int(rng.integers(0, 10000)):04d}"


def _with_char(rng: np.random.Generator, char: str) -> str:
    """A word containing ``char`` (an accented letter or a punctuation mark)."""
    if char == '"':
        return f'"{_case_variant(rng, WORDS[int(rng.integers(len(WORDS)))])}"'
    if char == ",":
        if rng.random() < 0.5:
            return f"{int(rng.integers(1000, 100000)):,}"
        return _case_variant(rng, WORDS[int(rng.integers(len(WORDS)))]) + ","
    if char in "$%":
        return _number_token(rng, 3 if char == "$" else 5)
    words = _WORDS_WITH[char]
    return words[int(rng.integers(len(words)))]


def _random_word(rng: np.random.Generator) -> str:
    """One transcription: 1-12 characters of :data:`CHARSET`, mostly 3-9.

    Words with accented letters and punctuation are drawn by character (each such character
    equally often), so every character of the charset is well represented even in a small set.
    """
    while True:
        r = rng.random()
        if r < 0.58:
            word = _case_variant(rng, WORDS[int(rng.integers(len(WORDS)))])
        elif r < 0.72:
            word = _number_token(rng)
        elif r < 0.85:
            word = _with_char(rng, ACCENTED[int(rng.integers(len(ACCENTED)))])
        else:
            word = _with_char(rng, PUNCTUATION[int(rng.integers(len(PUNCTUATION)))])
        if 1 <= len(word) <= 12:
            return word


# ------------------------------------------------------------------------------------- colours

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ _LUMA


def _random_colour(rng: np.random.Generator, sat: float = 0.7) -> np.ndarray:
    h, s, v = rng.random(), rng.random() * sat, 0.15 + 0.8 * rng.random()
    return np.array(colorsys.hsv_to_rgb(h, s, v), np.float32) * 255.0


def _with_luma(colour: np.ndarray, target: float) -> np.ndarray:
    """Move ``colour`` towards black or white until its grey level is ``target``."""
    current = float(_luma(colour))
    if target <= current:
        return colour * (target / max(current, 1e-3))
    return colour + (255.0 - colour) * ((target - current) / max(255.0 - current, 1e-3))


def _contrasting(
    rng: np.random.Generator, lo: float, hi: float, contrast: float
) -> np.ndarray | None:
    """A colour whose grey level is at least ``contrast`` below ``lo`` or above ``hi``."""
    ranges = []
    if lo - contrast >= 0:
        ranges.append((0.0, lo - contrast))
    if hi + contrast <= 255:
        ranges.append((hi + contrast, 255.0))
    if not ranges:
        return None
    a, b = ranges[int(rng.integers(len(ranges)))]
    return _with_luma(_random_colour(rng), a + (b - a) * rng.random())


# ---------------------------------------------------------------------------------- background


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Blurred value noise in about [0, 1] with ``cells`` cells across the width."""
    gw = max(2, cells)
    gh = max(2, round(cells * h / w))
    small = rng.random((gh, gw), dtype=np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Perlin-like fractal noise, zero-centred, roughly in [-1, 1]."""
    cells = int(rng.integers(3, 8))
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for _ in range(4):
        out += amp * (_smooth_noise(rng, h, w, cells) - 0.5)
        total += amp * 0.5
        amp *= 0.5
        cells *= 2
    return out / total


def _blend(
    img: np.ndarray, mask: np.ndarray, colour: np.ndarray, alpha: float, pts: np.ndarray
) -> None:
    """In place: ``img = img * (1 - alpha*mask) + colour * alpha*mask`` inside the bounding
    box of ``pts`` (the shape drawn into ``mask``) plus a few pixels."""
    h, w = mask.shape
    x0, y0 = np.maximum(np.floor(pts.min(axis=0)).astype(int) - 3, 0)
    x1 = min(int(np.ceil(pts[:, 0].max())) + 4, w)
    y1 = min(int(np.ceil(pts[:, 1].max())) + 4, h)
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0:y1, x0:x1, None] * alpha
    roi = img[y0:y1, x0:x1]
    roi += (colour - roi) * m


def _background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A photo-like textured scene background, float32 RGB in [0, 255].

    Drawn at half resolution and scaled up: four times cheaper, and the slightly soft result
    looks like an out-of-focus background behind sharp text.
    """
    h, w = (height + 1) // 2, (width + 1) // 2
    c1, c2 = _random_colour(rng), _random_colour(rng)
    angle = rng.random() * 2 * math.pi
    ramp_x = np.linspace(0, 1, w, dtype=np.float32) * math.cos(angle)
    ramp_y = np.linspace(0, 1, h, dtype=np.float32) * math.sin(angle) * h / w
    t = ramp_y[:, None] + ramp_x[None, :]
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    tint = (1.0 + 0.3 * (rng.random(3) - 0.5)) * rng.uniform(8, 45)
    t_tex = _texture(rng, h, w)
    img = c1 + (c2 - c1) * t[..., None] + t_tex[..., None] * tint.astype(np.float32)
    everywhere = np.array([[0, 0], [w, h]], np.float32)

    if rng.random() < 0.3:  # brick / tile wall
        step = int(rng.integers(7, 20))
        thick = 1
        lines = np.zeros((h, w), np.float32)
        for row, y in enumerate(range(int(rng.integers(0, step)), h, step)):
            cv2.line(lines, (0, y), (w, y), 1.0, thick)
            for x in range((row % 2) * step, w, 2 * step):
                cv2.line(lines, (x, y), (x, min(h, y + step)), 1.0, thick)
        _blend(img, lines, _random_colour(rng), float(rng.uniform(0.2, 0.6)), everywhere)

    for _ in range(int(rng.integers(0, 5))):  # soft blobs (foliage, sky, light), at 1/2 size
        small = np.zeros((h // 2, w // 2), np.float32)
        centre = (int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2)))
        axes = (int(rng.integers(5, w // 4)), int(rng.integers(5, h // 4)))
        cv2.ellipse(small, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        small = cv2.GaussianBlur(small, (0, 0), float(rng.uniform(1.5, 8)))
        mask = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        _blend(img, mask, _random_colour(rng), float(rng.uniform(0.3, 0.9)), everywhere)

    for _ in range(int(rng.integers(0, 6))):  # panels: walls, windows, shop fronts, signs
        mask = np.zeros((h, w), np.float32)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rw, rh = rng.uniform(15, w * 0.7), rng.uniform(10, h * 0.6)
        box = cv2.boxPoints(((cx, cy), (rw, rh), float(rng.normal(0, 4))))
        cv2.fillConvexPoly(mask, np.round(box).astype(np.int32), 1.0, cv2.LINE_AA)
        _blend(img, mask, _random_colour(rng), float(rng.uniform(0.6, 1.0)), box)
        if rng.random() < 0.4:  # a frame around the panel
            thick = int(rng.integers(1, 4))
            frame = np.zeros((h, w), np.float32)
            cv2.polylines(frame, [np.round(box).astype(np.int32)], True, 1.0, thick, cv2.LINE_AA)
            _blend(img, frame, _random_colour(rng), 1.0, np.vstack([box - thick, box + thick]))

    for _ in range(int(rng.integers(0, 4))):  # poles, cables, edges
        mask = np.zeros((h, w), np.float32)
        ends = rng.uniform(0, 1, (2, 2)) * (w, h)
        thick = int(rng.integers(1, 7))
        p1, p2 = (tuple(int(v) for v in e) for e in ends)
        cv2.line(mask, p1, p2, 1.0, thick, cv2.LINE_AA)
        pts = np.vstack([ends - thick, ends + thick]).astype(np.float32)
        _blend(img, mask, _random_colour(rng), float(rng.uniform(0.5, 1.0)), pts)
    np.clip(img, 0, 255, out=img)
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)


# ---------------------------------------------------------------------------------- words in scene


@dataclass
class _WordCanvas:
    text_mask: np.ndarray  # float32 (ch, cw) in [0, 1]
    ink_mask: np.ndarray  # text plus outline
    plate_mask: np.ndarray | None
    box: np.ndarray  # (4, 2) text box corners in canvas pixels, clockwise from top-left
    plate: np.ndarray | None  # (4, 2) plate corners
    outline: bool
    shadow: tuple[int, int] | None


def _word_canvas(
    rng: np.random.Generator, text: str, path: str, size: int, plate: bool, placeholder: bool
) -> _WordCanvas | None:
    font = _font(path, size)
    outline = not placeholder and rng.random() < 0.15
    stroke = max(2, round(size * 0.07)) if outline else 0
    shadow = None
    if not placeholder and not outline and rng.random() < 0.15:
        d = 1 + round(size * 0.04)
        shadow = (d, d)
    line_top, line_bottom = _line_box(path, size)
    left, top, right, bottom = font.getbbox(text, anchor="ls", stroke_width=stroke)
    top, bottom = min(top, line_top), max(bottom, line_bottom)
    line_h = bottom - top
    pm_x = round(line_h * rng.uniform(0.3, 0.9)) if plate else 0
    pm_y = round(line_h * rng.uniform(0.15, 0.5)) if plate else 0
    margin = 4 + stroke + (shadow[0] if shadow else 0)
    mx, my = margin + pm_x, margin + pm_y
    cw, ch = right - left + 2 * mx, bottom - top + 2 * my
    origin = (mx - left, my - top)

    text_img = Image.new("L", (cw, ch), 0)
    ImageDraw.Draw(text_img).text(origin, text, font=font, fill=255, anchor="ls")
    text_mask = np.asarray(text_img, np.float32) / 255.0
    if outline:
        ink_img = Image.new("L", (cw, ch), 0)
        ImageDraw.Draw(ink_img).text(
            origin, text, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255
        )
        ink_mask = np.asarray(ink_img, np.float32) / 255.0
    else:
        ink_mask = text_mask
    cols = np.flatnonzero(ink_mask.max(axis=0) > 0.12)
    rows = np.flatnonzero(ink_mask.max(axis=1) > 0.12)
    if len(cols) == 0:
        return None
    x0, x1 = float(cols[0]), float(cols[-1] + 1)
    y0 = float(min(rows[0], origin[1] + line_top))
    y1 = float(max(rows[-1] + 1, origin[1] + line_bottom))
    pad = max(1.0, 0.05 * (y1 - y0))
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)

    plate_mask = plate_box = None
    if plate:
        px0, py0, px1, py1 = x0 - pm_x, y0 - pm_y, x1 + pm_x, y1 + pm_y
        plate_img = Image.new("L", (cw, ch), 0)
        radius = int(rng.uniform(0, 0.5) * min(px1 - px0, py1 - py0))
        ImageDraw.Draw(plate_img).rounded_rectangle((px0, py0, px1, py1), radius, fill=255)
        plate_mask = np.asarray(plate_img, np.float32) / 255.0
        plate_box = np.array([[px0, py0], [px1, py0], [px1, py1], [px0, py1]], np.float32)
    return _WordCanvas(text_mask, ink_mask, plate_mask, box, plate_box, outline, shadow)


def _over(rgb: np.ndarray, alpha: np.ndarray, colour: np.ndarray, mask: np.ndarray) -> None:
    """Premultiplied 'over': paint ``colour`` with coverage ``mask`` onto (rgb, alpha)."""
    m = mask[..., None]
    rgb *= 1.0 - m
    rgb += colour * m
    alpha *= 1.0 - mask
    alpha += mask


def _apply(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)


def _place_word(
    rng: np.random.Generator,
    scene: np.ndarray,
    occupied: np.ndarray,
    text: str,
    fonts: Sequence[Path],
    config: SynthConfig,
    placeholder: bool,
) -> np.ndarray | None:
    """Draw one word into ``scene`` (in place); its quad, or None if it found no free spot."""
    img_h, img_w = scene.shape[:2]
    path = str(fonts[int(rng.integers(len(fonts)))])
    if placeholder:
        height = rng.uniform(7.0, 14.0)
    else:
        height = math.exp(
            rng.uniform(math.log(config.min_text_height), math.log(config.max_text_height))
        )
    size = max(5, round(height / _height_per_px(path)))
    plate = not placeholder and rng.random() < config.plate_rate
    for attempt in range(24):
        if attempt and attempt % 8 == 0:  # crowded scene: try smaller text
            size = max(5, round(size * 0.8))
            if not placeholder and size * _height_per_px(path) < config.min_text_height * 0.9:
                return None
        canvas = _word_canvas(rng, text, path, size, plate, placeholder)
        if canvas is None:
            return None
        box = canvas.box
        bw, bh = float(box[1, 0] - box[0, 0]), float(box[3, 1] - box[0, 1])
        if bw > img_w * 0.92:
            size = max(5, round(size * img_w * 0.85 / bw))
            continue
        theta = math.radians(rng.uniform(-1.0, 1.0) * config.max_rotation_deg)
        if rng.random() < 0.4:
            theta *= 0.2
        rot = np.array(
            [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]], np.float32
        )
        centre = np.array([rng.uniform(0, img_w), rng.uniform(0, img_h)], np.float32)
        jitter = rng.uniform(-1, 1, (4, 2)).astype(np.float32) * config.perspective * bh
        quad = (box - box.mean(axis=0)) @ rot.T + centre + jitter
        if quad.min() < 1 or (quad[:, 0] > img_w - 2).any() or (quad[:, 1] > img_h - 2).any():
            continue
        homography = cv2.getPerspectiveTransform(box, quad.astype(np.float32))
        region = _apply(homography, canvas.plate) if canvas.plate is not None else quad
        region_i = np.round(region).astype(np.int32)
        candidate = np.zeros_like(occupied)
        cv2.fillConvexPoly(candidate, region_i, 1)
        cv2.polylines(candidate, [region_i], True, 1, 2 * max(3, round(0.3 * bh)) + 1)
        if (candidate & occupied).any():
            continue
        region_mask = np.zeros_like(occupied)
        cv2.fillConvexPoly(region_mask, region_i, 1)
        _composite(rng, scene, canvas, homography, region_mask, config, placeholder)
        occupied |= region_mask
        return quad.astype(np.float64)
    return None


def _composite(
    rng: np.random.Generator,
    scene: np.ndarray,
    canvas: _WordCanvas,
    homography: np.ndarray,
    region_mask: np.ndarray,
    config: SynthConfig,
    placeholder: bool,
) -> None:
    """Colour the word's layers against the background under it and paste them warped."""
    grey = _luma(scene[region_mask.astype(bool)])
    lo, hi = (float(v) for v in np.percentile(grey, [3, 97]))
    ch, cw = canvas.text_mask.shape
    rgb = np.zeros((ch, cw, 3), np.float32)
    alpha = np.zeros((ch, cw), np.float32)
    plate_mask = canvas.plate_mask
    if plate_mask is None and not placeholder:
        text_colour = _contrasting(rng, lo, hi, config.min_contrast)
        if text_colour is None:  # background too busy for any colour: add a plate after all
            plate_mask = np.zeros_like(canvas.text_mask)
            grow = 3  # inside the canvas margin, so still within the free area around the quad
            x0, y0 = np.floor(canvas.box[0]).astype(int) - grow
            x1, y1 = np.ceil(canvas.box[2]).astype(int) + grow
            plate_mask[max(y0, 0) : y1, max(x0, 0) : x1] = 1.0
    if plate_mask is not None:
        plate_colour = _random_colour(rng)
        plate_luma = float(_luma(plate_colour))
        _over(rgb, alpha, plate_colour, plate_mask)
        text_colour = _contrasting(rng, plate_luma, plate_luma, config.min_contrast + 20)
    text_mask = canvas.text_mask
    if placeholder:
        mean = 0.5 * (lo + hi)
        if rng.random() < 0.5:  # faint: low contrast
            delta = rng.uniform(10, 25) * (1 if mean < 128 else -1)
            text_colour = _with_luma(_random_colour(rng), mean + delta)
        else:  # blurred
            text_colour = _contrasting(rng, lo, hi, 40.0)
            if text_colour is None:
                text_colour = _with_luma(_random_colour(rng), 255.0 - mean)
            text_mask = cv2.GaussianBlur(text_mask, (0, 0), float(rng.uniform(1.2, 2.5)))
    if text_colour is None:  # cannot happen with the ranges above; black or white then
        text_colour = np.full(3, 0.0 if 0.5 * (lo + hi) > 127 else 255.0, np.float32)
    if canvas.outline:  # the outline carries the contrast to the background, the fill to it
        outline_colour = text_colour
        outline_luma = float(_luma(outline_colour))
        _over(rgb, alpha, outline_colour, canvas.ink_mask)
        text_colour = _contrasting(rng, outline_luma, outline_luma, 90.0)
        if text_colour is None:
            text_colour = np.full(3, 0.0 if outline_luma > 127 else 255.0, np.float32)
    elif canvas.shadow is not None and float(_luma(text_colour)) > 127:  # dark drop shadow
        dx, dy = canvas.shadow
        shadow = np.zeros_like(text_mask)
        shadow[dy:, dx:] = text_mask[:-dy, :-dx]
        _over(rgb, alpha, _with_luma(text_colour, 25.0), shadow * 0.7)
    _over(rgb, alpha, text_colour, text_mask)

    img_h, img_w = scene.shape[:2]
    corners = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    warped = _apply(homography, corners)
    rx0, ry0 = np.maximum(np.floor(warped.min(axis=0)).astype(int), 0)
    rx1 = min(int(np.ceil(warped[:, 0].max())), img_w)
    ry1 = min(int(np.ceil(warped[:, 1].max())), img_h)
    if rx1 <= rx0 or ry1 <= ry0:
        return
    shift = np.array([[1, 0, -rx0], [0, 1, -ry0], [0, 0, 1]], np.float64)
    layers = np.dstack([rgb, alpha])
    out = cv2.warpPerspective(
        layers,
        shift @ homography,
        (rx1 - rx0, ry1 - ry0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    roi = scene[ry0:ry1, rx0:rx1]
    roi *= 1.0 - out[..., 3:4]
    roi += out[..., :3]


def _finish(rng: np.random.Generator, scene: np.ndarray) -> np.ndarray:
    """Camera-ish degradations: uneven lighting, slight blur, sensor noise."""
    h, w = scene.shape[:2]
    if rng.random() < 0.5:
        light = 1.0 - float(rng.uniform(0.05, 0.25)) * _smooth_noise(rng, h, w, 2)
        scene *= light[..., None]
    if rng.random() < 0.3:
        scene = cv2.GaussianBlur(scene, (0, 0), float(rng.uniform(0.3, 0.7)))
    sigma = float(rng.uniform(1.0, 5.0))
    scene += rng.standard_normal((h, w, 1), dtype=np.float32) * sigma  # sensor grain
    return np.clip(scene + 0.5, 0, 255).astype(np.uint8)


def render_scene(
    rng: np.random.Generator, config: SynthConfig, fonts: Sequence[Path]
) -> tuple[np.ndarray, list[tuple[list[float], str]]]:
    """One scene: RGB uint8 (H, W, 3) and its words as (quad x1,y1..x4,y4 clockwise from the
    word's own top-left corner, transcription); illegible words have transcription ``###``."""
    if not fonts:
        raise ValueError("render_scene needs at least one font (see font_paths())")
    h, w = config.height, config.width
    scene = _background(rng, h, w)
    occupied = np.zeros((h, w), np.uint8)
    words: list[tuple[list[float], str]] = []
    for _ in range(int(rng.integers(config.min_words, config.max_words + 1))):
        text = _random_word(rng)
        placeholder = bool(rng.random() < config.placeholder_rate)
        quad = _place_word(rng, scene, occupied, text, fonts, config, placeholder)
        if quad is not None:
            words.append(
                ([float(v) for v in quad.reshape(-1)], PLACEHOLDER if placeholder else text)
            )
    return _finish(rng, scene), words


def _gt_line(quad: Sequence[float], text: str) -> str:
    return ",".join(str(round(v)) for v in quad) + "," + unicodedata.normalize("NFC", text)


def write_synth_dataset(
    out_dir: str | Path,
    config: SynthConfig = SynthConfig(),
    progress: bool = True,
    overwrite: bool = False,
) -> SynthSummary:
    """Writes out_dir/images/img_K.jpg and out_dir/gt/gt_img_K.txt (K = 1..images).

    GT files are UTF-8 with a BOM and CRLF line endings, as the real IC15 ground truth. A folder
    that already holds ``images/`` or ``gt/`` entries is refused (stale scenes would mix into the
    dataset) unless ``overwrite``, which removes those two folders first.
    """
    config.validate()
    fonts = font_paths()
    if not fonts:
        raise RuntimeError("no usable TrueType fonts found (is matplotlib installed?)")
    out = Path(out_dir)
    images_dir, gt_dir = out / "images", out / "gt"
    existing = [d for d in (images_dir, gt_dir) if d.is_dir() and any(d.iterdir())]
    if existing and not overwrite:
        raise InputError(f"{out}: already holds a dataset; pass --overwrite to replace it")
    for folder in existing:
        shutil.rmtree(folder)
    images_dir.mkdir(parents=True, exist_ok=True)
    gt_dir.mkdir(parents=True, exist_ok=True)
    n_words = n_placeholders = 0
    params = [cv2.IMWRITE_JPEG_QUALITY, config.jpeg_quality]
    for k in tqdm(range(1, config.images + 1), desc="synth", unit="img", disable=not progress):
        rng = np.random.default_rng([config.seed, k])
        image, words = render_scene(rng, config, fonts)
        ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
        if not ok:
            raise RuntimeError(f"could not encode image {k} as JPEG")
        (images_dir / f"img_{k}.jpg").write_bytes(jpg.tobytes())
        text = "".join(_gt_line(quad, word) + "\r\n" for quad, word in words)
        (gt_dir / f"gt_img_{k}.txt").write_bytes(("\ufeff" + text).encode("utf-8"))
        n_words += len(words)
        n_placeholders += sum(word == PLACEHOLDER for _, word in words)
    return SynthSummary(config.images, n_words, n_placeholders, str(out))
