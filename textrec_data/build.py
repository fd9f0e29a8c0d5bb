"""The manifest stage: a source's records (ICDAR 2015 by default) -> manifest.parquet,
rejects.parquet, vocab, report.

Work is parallel over the source's units (each scene image decoded once, in a worker); the main
process writes row groups as results arrive, so memory does not grow with the dataset. All outputs
are written into a hidden temporary directory that replaces ``out`` only when everything succeeded.
A manifest written as a directory of parts (``--rows-per-part``, another engine, or an
object-storage ``out``) is built by :mod:`textrec_data.sharded` from the same :func:`process`.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing as mp
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from textrec_data.accounting import Tally, build_report, final_charset, manifest_metadata
from textrec_data.atomic import atomic_dir
from textrec_data.charset import CASE_POLICIES, Charset, apply_case
from textrec_data.errors import InputError
from textrec_data.geometry import (
    crop_quad,
    is_degenerate,
    make_upright,
    overlaps_image,
    quad_points,
    repair_quad,
)
from textrec_data.manifest import (
    MANIFEST_SCHEMA,
    REJECTS_SCHEMA,
    ROW_GROUP_SIZE,
    TableWriter,
)
from textrec_data.records import CroppedWord, Origin, Record, Reject, SceneWord
from textrec_data.sources import DEFAULT_FORMAT, SOURCES, Plan, Source
from textrec_data.sources.icdar15 import Icdar15Source
from textrec_data.storage import as_path, is_url

SPLIT_MODES = ("auto", "train", "val", "test")


@dataclass(frozen=True)
class ManifestConfig:
    """Options of the manifest stage (saved in the manifest's metadata and report.json)."""

    images: str
    gt: str
    out: str
    split: str = "auto"
    val_fraction: float = 0.1
    seed: int = 0
    case: str = "keep"
    charset: str | None = None
    workers: int = 0  # 0: all cores
    overwrite: bool = False
    row_group_size: int = ROW_GROUP_SIZE
    engine: str = "local"  # local | dask (textrec_data.engines)
    rows_per_part: int | None = None  # None: one file (local engine), else about N rows a part
    address: str | None = None  # the engine's cluster (dask: tcp://host:8786)


@dataclass(frozen=True)
class WordRules:
    """How words become rows: label case policy, the --charset filter, and the split."""

    case: str = "keep"
    charset: Charset | None = None
    split: str = "auto"
    seed: int = 0
    val_fraction: float = 0.1

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
    """The manifest rows and rejects of one unit of work, and how many records it read."""

    rows: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    records: int = 0


def assign_split(image_id: str, seed: int, val_fraction: float) -> str:
    """'val' for a stable ``val_fraction`` of image ids (hash of id and seed), else 'train'."""
    digest = hashlib.sha1(f"{seed}:{image_id}".encode()).digest()
    return "val" if int.from_bytes(digest[:8], "big") / 2**64 < val_fraction else "train"


def decode_image(image: bytes | str) -> np.ndarray | None:
    """Decode an encoded image (its bytes, or its file's path) to BGR uint8 (H, W, 3), or None
    when it cannot be decoded."""
    try:
        data = (
            np.frombuffer(image, np.uint8)
            if isinstance(image, bytes)
            else np.frombuffer(as_path(image).read_bytes(), np.uint8)
        )
    except OSError:
        return None
    if data.size == 0:
        return None
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if decoded is None:  # formats OpenCV lacks (e.g. some GIFs): try Pillow
        try:
            with Image.open(io.BytesIO(image) if isinstance(image, bytes) else image) as pil:
                decoded = cv2.cvtColor(np.asarray(pil.convert("RGB")), cv2.COLOR_RGB2BGR)
        except (OSError, ValueError, Image.DecompressionBombError):
            return None
    return decoded


def process(records: Iterable[Record], rules: WordRules = WordRules()) -> UnitResult:
    """Rows and rejects of one unit's records, in order. A scene image is decoded once for the
    run of words on it and every word is cut by its quad; a cropped word is decoded itself."""
    result = UnitResult()
    scene: tuple[str | None, np.ndarray | None] = (None, None)
    for record in records:
        result.records += 1
        if isinstance(record, Reject):
            outcome: dict | str = record.reason
        elif record.image is None:
            outcome = "missing_image"
        elif isinstance(record, CroppedWord):
            outcome = _word_row(record, decode_image(record.image), rules)
        else:
            if record.image != scene[0]:
                scene = (record.image, decode_image(record.image))
            outcome = _word_row(record, scene[1], rules)
        if isinstance(outcome, str):
            result.rejects.append(_reject_row(record.origin, outcome))
        else:
            result.rows.append(outcome)
    return result


def _reject_row(origin: Origin, reason: str) -> dict:
    return {"gt_path": origin.path, "line_no": origin.line_no, "raw": origin.raw, "reason": reason}


def _word_row(
    word: SceneWord | CroppedWord, image: np.ndarray | None, rules: WordRules
) -> dict | str:
    """The manifest row of a word given its decoded scene image (a cropped word: its decoded
    crop), or the reason it is rejected."""
    if image is None:
        return "unreadable_image"
    label = rules.label(word.text)
    if label is None:
        return "out_of_charset"
    cut = _cut(word, image, label)
    if isinstance(cut, str):
        return cut
    quad, crop = cut
    ok, png = cv2.imencode(".png", crop)
    if not ok:  # pragma: no cover - OpenCV cannot fail to encode a non-empty uint8 image
        raise RuntimeError(f"PNG encoding failed for {word.origin.path}:{word.origin.line_no}")
    return {
        "image_id": word.image_id,
        "image_path": word.image if isinstance(word.image, str) else None,
        "gt_path": word.origin.path,
        "line_no": word.origin.line_no,
        "quad": [float(v) for v in quad],
        "text": word.text,
        "label": label,
        "split": rules.split_of(word.image_id),
        "crop": png.tobytes(),
        "crop_h": int(crop.shape[0]),
        "crop_w": int(crop.shape[1]),
    }


def _cut(
    word: SceneWord | CroppedWord, image: np.ndarray, label: str
) -> tuple[tuple[float, ...], np.ndarray] | str:
    """The word's quad and upright crop (a cropped word: the whole image), or a reject reason."""
    if isinstance(word, CroppedWord):
        height, width = image.shape[:2]
        return (0.0, 0.0, width, 0.0, width, height, 0.0, height), image
    points = repair_quad(quad_points(word.quad))
    if is_degenerate(points):
        return "degenerate_quad"
    if not overlaps_image(points, image.shape[1], image.shape[0]):
        return "outside_image"
    return word.quad, make_upright(crop_quad(image, points), label or None)


def validate_config(config: ManifestConfig) -> Charset | None:
    """Check options and the output path; return the given charset, if any."""
    if config.split not in SPLIT_MODES:
        raise InputError(f"--split {config.split!r}: expected one of {SPLIT_MODES}")
    if config.case not in CASE_POLICIES:
        raise InputError(f"--case {config.case!r}: expected one of {CASE_POLICIES}")
    if not 0.0 <= config.val_fraction < 1.0:
        raise InputError(f"--val-fraction {config.val_fraction}: expected 0 <= f < 1")
    out = as_path(config.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: --out exists and is a file, not a directory")
    if out.is_dir() and any(out.iterdir()) and not config.overwrite:
        raise InputError(f"{out}: output directory exists and is not empty (pass --overwrite)")
    if config.charset is None:
        return None
    try:
        return Charset.load(config.charset)
    except ValueError as exc:
        raise InputError(str(exc)) from exc


_WORKER: tuple[Source, WordRules] | None = None


def _init_worker(source: Source, rules: WordRules) -> None:
    global _WORKER
    _WORKER = (source, rules)


def _run_unit(unit: object) -> UnitResult:
    source, rules = _WORKER
    return process(source.read(unit), rules)


def build_manifest(
    config: ManifestConfig, progress: bool = True, source: Source | None = None
) -> dict:
    """Run the manifest stage on ``source`` (default: ICDAR 2015 from ``config.images`` and
    ``config.gt``); return the report (also written to ``out/report.json``)."""
    given_charset = validate_config(config)
    if source is None:
        source = SOURCES[DEFAULT_FORMAT](config.images, config.gt)
    plan = source.plan()
    rules = WordRules(config.case, given_charset, config.split, config.seed, config.val_fraction)
    if config.engine != "local" or config.rows_per_part or is_url(config.out):
        from textrec_data.sharded import build_parts

        return build_parts(config, source, plan, rules, progress)
    start = time.perf_counter()
    with atomic_dir(as_path(config.out)) as tmp:
        report = _write_outputs(config, source, plan, rules, tmp, progress)
        report["seconds"] = round(time.perf_counter() - start, 3)
        report["rows_per_second"] = round(report["kept"] / max(report["seconds"], 1e-9), 1)
        (tmp / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return report


def _write_outputs(
    config: ManifestConfig, source: Source, plan: Plan, rules: WordRules, tmp: Path, progress: bool
) -> dict:
    rows_out = TableWriter(tmp / "manifest.parquet", MANIFEST_SCHEMA, config.row_group_size)
    rejects_out = TableWriter(tmp / "rejects.parquet", REJECTS_SCHEMA, 64 * 1024)
    tally = Tally()
    workers = config.workers or os.cpu_count() or 1
    bar = tqdm(total=len(plan.units), desc="manifest", unit="img", disable=not progress)
    try:
        with _unit_results(source, plan.units, rules, workers) as results:
            for result in results:
                rows_out.write(result.rows)
                rejects_out.write(result.rejects)
                tally.add(result)
                bar.update(1)
                bar.set_postfix(kept=tally.kept, rejected=tally.rejected)
    except BaseException:
        rows_out.abort()
        rejects_out.abort()
        raise
    finally:
        bar.close()
    charset = final_charset(rules.charset, tally, config.case)
    metadata = manifest_metadata(config, len(plan.units), charset, tally)
    rows_out.close(metadata)
    rejects_out.close(metadata)
    charset.save(tmp / "vocab.json")
    return build_report(metadata, tally, plan.notes)


@contextmanager
def _unit_results(
    source: Source, units: list, rules: WordRules, workers: int
) -> Iterator[Iterator[UnitResult]]:
    """UnitResults in unit order, computed in-process (1 worker) or by a process pool."""
    if workers <= 1:
        yield (process(source.read(u), rules) for u in units)
        return
    # Forking is safe here: textrec_data keeps OpenCV single-threaded (see textrec_data/__init__)
    # and the workers never touch torch. "spawn" would re-import the caller's main module.
    pool = mp.get_context().Pool(workers, _init_worker, (source, rules))
    try:
        yield pool.imap(_run_unit, units, chunksize=2)
    finally:
        pool.terminate()
        pool.join()


def scene_word_crops(images: str, gt: str) -> Iterator[tuple[list[dict], list[dict]]]:
    """Per GT file of an ICDAR 2015 scene dataset: the word rows (as in the manifest:
    ``image_id``, ``line_no``, ``quad``, ``text``, ``crop`` PNG...) and the rejected lines, cropped
    exactly as the manifest stage does. For recognizing the words of scene images with known
    quads: lines of 8 coordinates without a transcription count as words (text ``""``)."""
    source = Icdar15Source(images, gt, require_text=False)
    rules = WordRules(split="test")
    for unit in source.plan().units:
        result = process(source.read(unit), rules)
        yield result.rows, result.rejects
