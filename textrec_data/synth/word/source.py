"""Word mode: synthetic word crops straight into a manifest, through the manifest stage's
sources seam (its process pool, accounting and writer).

Units of work are runs of word indices; word K is rendered from ``default_rng([seed, K])`` on the
backgrounds its unit prepared (photos decoded, or backgrounds generated, from
``default_rng([seed, 1, first index])``) in the fonts its unit drew (``default_rng([seed, 2,
first index])``), so a dataset is a pure function of its :class:`WordConfig`, font set, corpus
and photos.
"""

from __future__ import annotations

import string
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

from textrec_data.build import ManifestConfig, build_manifest
from textrec_data.charset import Charset, apply_case
from textrec_data.errors import InputError
from textrec_data.records import CroppedWord, Origin, Record
from textrec_data.sources.base import Plan
from textrec_data.synth.fonts import load_font_set
from textrec_data.synth.transcriptions import CHARSET
from textrec_data.synth.word.config import WordConfig
from textrec_data.synth.word.corpus import load_corpus
from textrec_data.synth.word.photos import photo_files, unit_backdrops
from textrec_data.synth.word.render import WordAssets, render_word

#: The ``gt_path`` of every synthetic word's row: it names the rows synthetic.
SOURCE_PATH = "synth:words"
#: What a word mode transcription may hold (without --charset): the scene charset and the marks
#: of generated URLs, e-mails, phone numbers and edge punctuation.
WORD_CHARSET = frozenset(CHARSET + "/@()+#*;?")
#: Faces drawn for a unit of work (its words use these unless none covers a word).
FONTS_PER_UNIT = 24


@dataclass(frozen=True)
class SynthWordsSource:
    """The words of ``config`` drawn from ``assets``, in units of ``config.chunk`` words."""

    config: WordConfig
    assets: WordAssets
    name: ClassVar[str] = "synth-words"
    command: ClassVar[str] = "synth"  # the marker of its output folder

    @property
    def inputs(self) -> list[tuple[str, str | None]]:
        """The files it reads, by option: --out may not be, contain or lie inside one."""
        c = self.config
        return [
            *(("--fonts", f) for f in c.fonts),
            ("--corpus", c.corpus),
            ("--backgrounds", c.backgrounds),
        ]

    def plan(self) -> Plan:
        """Runs of word indices, and the dataset's description for report.json."""
        chunk, words = self.config.chunk, self.config.words
        units = [(s, min(s + chunk, words)) for s in range(0, words, chunk)]
        return Plan(units, {"synth": describe(self.config, self.assets)})

    def read(self, unit: tuple[int, int]) -> list[Record]:
        """The words ``unit[0]`` .. ``unit[1] - 1``, each a crop encoded as BMP bytes."""
        start, stop = unit
        seed = self.config.seed
        backdrops = unit_backdrops(np.random.default_rng([seed, 1, start]), self.assets.photos)
        fonts = self.assets.fonts.palette(np.random.default_rng([seed, 2, start]), FONTS_PER_UNIT)
        records: list[Record] = []
        for k in range(start, stop):
            rng = np.random.default_rng([seed, k])
            crop, text = render_word(rng, self.config, self.assets, backdrops, fonts)
            ok, data = cv2.imencode(".bmp", crop)
            if not ok:  # pragma: no cover - OpenCV does not fail on a non-empty uint8 image
                raise RuntimeError(f"BMP encoding failed for synthetic word {k}")
            origin = Origin(SOURCE_PATH, k + 1, text)
            label = text if self.config.labels else None
            records.append(CroppedWord(origin, f"word_{k + 1}", data.tobytes(), label))
        return records


def describe(config: WordConfig, assets: WordAssets) -> dict:
    """The config, the fonts by family, and corpus and background sizes (for report.json)."""
    fonts = {faces[0].family: [Path(f.path).name for f in faces] for faces in assets.fonts.families}
    corpus = assets.corpus
    return {
        "config": asdict(config),
        "font_families": len(fonts),
        "font_files": sum(map(len, fonts.values())),
        "fonts": fonts,
        "corpus_words": len(corpus.words) if corpus else None,
        "corpus_words_dropped": corpus.dropped if corpus else None,
        "background_photos": len(assets.photos),
    }


def allowed_characters(case: str, charset: str | None) -> frozenset[str]:
    """Characters a transcription may hold: :data:`WORD_CHARSET`, or with a charset file those
    whose label (after the case policy) is in it, among printable ASCII and the scene charset."""
    if charset is None:
        return WORD_CHARSET
    try:
        chars = set(Charset.load(charset).chars)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    candidates = set(string.printable.strip()) | set(CHARSET)
    return frozenset(c for c in candidates if set(apply_case(c, case)) <= chars)


def word_assets(config: WordConfig, allowed: frozenset[str]) -> WordAssets:
    """Resolve the config's fonts, corpus and photos (InputError when one is unusable)."""
    if config.corpus is not None and config.text != "scene":
        raise InputError(f"{config.corpus}: --corpus needs --text scene")
    corpus = None
    if config.corpus is not None:
        corpus = load_corpus(config.corpus, allowed, config.text_config.corpus_power)
    photos = photo_files(config.backgrounds) if config.backgrounds else ()
    return WordAssets(load_font_set(config.fonts), corpus, photos, allowed)


def write_synth_words(config: WordConfig, manifest: ManifestConfig, progress: bool = True) -> dict:
    """Render ``config.words`` words into the manifest ``manifest.out`` (the manifest stage's
    outputs: manifest.parquet, rejects, vocab, report.json with a ``synth`` section)."""
    config.validate()
    allowed = allowed_characters(manifest.case, manifest.charset)
    source = SynthWordsSource(config, word_assets(config, allowed))
    return build_manifest(manifest, progress, source=source)
