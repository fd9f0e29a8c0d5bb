"""Write a synthetic dataset in the ICDAR 2015 layout: JPEG scenes and their GT files.

``OUT/images/img_K.jpg`` and ``OUT/gt/gt_img_K.txt`` (UTF-8 with BOM, CRLF), one
``x1,y1,x2,y2,x3,y3,x4,y4,transcription`` line per word with integer coordinates; illegible
words (tiny, blurred or low contrast) are written as ``###``. ``OUT/synth.json`` records the
config and the font files used.
"""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from textrec_data.atomic import atomic_file
from textrec_data.errors import InputError
from textrec_data.outputs import claim_output, mark_output_dir, output_lock
from textrec_data.synth.fonts import scene_fonts
from textrec_data.synth.scene.config import SynthConfig
from textrec_data.synth.scene.render import render_scene
from textrec_data.synth.transcriptions import PLACEHOLDER

_DEFAULT_CONFIG = SynthConfig()  # the embedded dataset


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`write_synth_dataset` wrote."""

    images: int
    words: int
    placeholders: int
    out_dir: str


def _gt_line(quad: Sequence[float], text: str) -> str:
    """``x1,...,y4,text`` with rounded coordinates and the text in NFC."""
    return ",".join(str(round(v)) for v in quad) + "," + unicodedata.normalize("NFC", text)


def _gt_bytes(words: Sequence[tuple[Sequence[float], str]]) -> bytes:
    """A GT file as IC15 writes it: UTF-8 with a BOM, every line ending in CRLF."""
    text = "".join(_gt_line(quad, word) + "\r\n" for quad, word in words)
    return ("\ufeff" + text).encode("utf-8")


def _jpeg_bytes(image: np.ndarray, quality: int, k: int) -> bytes:
    """The RGB ``image`` (scene ``k``) encoded as JPEG."""
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise RuntimeError(f"could not encode image {k} as JPEG")
    return jpg.tobytes()


_OUTPUTS = ("images", "gt", "synth.json")


def _empty_dataset_dirs(out: Path, overwrite: bool, fonts: tuple[str, ...]) -> tuple[Path, Path]:
    """(images, gt) folders under ``out``, created empty, and the marker of textrec synth. A
    dataset of textrec synth (its marker) is refused unless ``overwrite``, which removes the two
    folders first; any other content of ``out`` is refused (see ``claim_output``)."""
    images_dir, gt_dir = out / "images", out / "gt"
    if claim_output(out, "synth", _OUTPUTS, [("--fonts", f) for f in fonts]) and not overwrite:
        raise InputError(f"{out}: already holds a dataset; pass --overwrite to replace it")
    for folder in (images_dir, gt_dir):
        if folder.is_dir():
            shutil.rmtree(folder)
    images_dir.mkdir(parents=True, exist_ok=True)
    gt_dir.mkdir(parents=True, exist_ok=True)
    mark_output_dir(out, "synth")
    return images_dir, gt_dir


def write_synth_dataset(
    out_dir: str | Path,
    config: SynthConfig = _DEFAULT_CONFIG,
    progress: bool = True,
    overwrite: bool = False,
) -> SynthSummary:
    """Write out_dir/images/img_K.jpg and out_dir/gt/gt_img_K.txt (K = 1..images), ``out_dir``
    locked against other writers.

    GT files are UTF-8 with a BOM and CRLF line endings, as the real IC15 ground truth. A folder
    that already holds ``images/`` or ``gt/`` entries is refused (stale scenes would mix into the
    dataset) unless ``overwrite``, which removes those two folders first.
    """
    with output_lock(out_dir):
        config.validate()
        fonts = scene_fonts(config.fonts)
        if not fonts:
            raise RuntimeError("no usable TrueType fonts found (is matplotlib installed?)")
        out = Path(out_dir)
        images_dir, gt_dir = _empty_dataset_dirs(out, overwrite, config.fonts)
        n_words = n_placeholders = 0
        for k in tqdm(range(1, config.images + 1), desc="synth", unit="img", disable=not progress):
            image, words = render_scene(np.random.default_rng([config.seed, k]), config, fonts)
            (images_dir / f"img_{k}.jpg").write_bytes(_jpeg_bytes(image, config.jpeg_quality, k))
            (gt_dir / f"gt_img_{k}.txt").write_bytes(_gt_bytes(words))
            n_words += len(words)
            n_placeholders += sum(word == PLACEHOLDER for _, word in words)
        record = {"config": asdict(config), "fonts": [str(p) for p in fonts]}
        with atomic_file(out / "synth.json") as tmp:
            tmp.write_text(json.dumps(record, indent=1) + "\n")
        return SynthSummary(config.images, n_words, n_placeholders, str(out))
